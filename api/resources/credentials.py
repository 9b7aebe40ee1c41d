"""/.well-known/did.json, /api/cert/credential, /api/cert/status/{purpose}, /api/cert/verify, /api/cert/badge.svg,
/api/cert/qr.svg: the registry's keys, its signed credentials and their status, and images of a record.

HTTP only; the rules live in `api.signing`, `api.credentials` and `api.badges`. Everything here is public data:
cacheable, and readable by verifiers on other origins (CORS `*`).
"""

from __future__ import annotations

import json

from .. import badges, credentials, signing, transparency
from .common import Resource

PUBLIC_DATA_MAX_AGE = 300
SVG = "image/svg+xml; charset=utf-8"


def public(resp, max_age: int) -> None:
    resp.set_header("Access-Control-Allow-Origin", "*")
    resp.set_header("Cache-Control", f"public, max-age={max_age}")


class DidDocument(Resource):
    def on_get(self, req, resp):
        keys = self._ctx.signing_keys
        document = signing.did_document(keys.did, keys.published())
        transparency.add_log_service(document, self._ctx.config.base_url, keys.published())
        resp.text = json.dumps(document, indent=2)
        resp.content_type = "application/did+json"
        public(resp, PUBLIC_DATA_MAX_AGE)


class Credential(Resource):
    def on_get(self, req, resp):
        self.limit(req, "lookup")
        stored = credentials.stored_credential(self._ctx, req.get_param("id"), req.get_param("version"))
        resp.media = stored.document
        # A past version never changes (until a revocation withdraws it); the latest changes with corrections.
        public(resp, 3600 if req.get_param("version") and stored.version != stored.latest else 60)
        if req.get_param_as_bool("download"):
            name = f"{stored.document['credentialSubject'].get('public_id', 'credential')}-v{stored.version}.json"
            resp.downloadable_as = name


class StatusList(Resource):
    def on_get(self, req, resp, purpose):
        self.limit(req, "lookup")
        document, _ = credentials.status_list_credential(self._ctx, purpose)
        resp.media = document
        public(resp, 60)


class Verify(Resource):
    def on_get(self, req, resp):
        self.limit(req, "lookup")
        resp.media = credentials.verify(self._ctx, req.get_param("id"), req.get_param("version"))
        public(resp, 60)


class Badge(Resource):
    def on_get(self, req, resp):
        self.limit(req, "badge")
        image = credentials.record_image(self._ctx, req.get_param("id"))
        resp.text = badges.badge_svg(image.public_id, image.status)
        resp.content_type = SVG
        public(resp, PUBLIC_DATA_MAX_AGE)


class QrCode(Resource):
    def on_get(self, req, resp):
        self.limit(req, "badge")
        image = credentials.record_image(self._ctx, req.get_param("id"))
        resp.text = badges.qr_svg(image.public_url)
        resp.content_type = SVG
        public(resp, 86400)  # the public URL of a record never changes
