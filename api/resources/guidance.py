"""/llms.txt, /robots.txt, /api/agent/instructions, /api/catalogue: what an agent reads first; and
/api/cert/agent-card-extension, what it carries afterwards (api/guidance.py).

The first four depend only on the release and BASE_URL, so caches may keep them for an hour.
"""

from __future__ import annotations

import falcon

from .. import guidance
from ..context import Context
from .common import Resource

_CACHE = "public, max-age=3600"


class _Fixed:
    def __init__(self, ctx: Context):
        self._ctx = ctx


class Instructions(_Fixed):
    def on_get(self, req, resp):
        resp.media = guidance.instructions(self._ctx.config.base_url)
        resp.set_header("Cache-Control", _CACHE)


class Catalogue(_Fixed):
    def on_get(self, req, resp):
        resp.media = guidance.catalogue_document()
        resp.set_header("Cache-Control", _CACHE)


class LlmsTxt(_Fixed):
    def on_get(self, req, resp):
        resp.content_type = "text/markdown; charset=utf-8"
        resp.text = guidance.llms_txt(self._ctx.config.base_url)
        resp.set_header("Cache-Control", _CACHE)


class RobotsTxt(_Fixed):
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = guidance.robots_txt()
        resp.set_header("Cache-Control", _CACHE)


class AgentCardExtension(Resource):
    def on_get(self, req, resp):
        self.limit(req, "lookup")
        resp.media = guidance.card_extension(self._ctx, req.get_param("id"))
        resp.set_header("Cache-Control", "public, max-age=300")
