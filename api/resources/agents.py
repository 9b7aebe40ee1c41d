"""/api/cert/agent-token: the holder mints, inspects and revokes the agent's token (api/delegation.py)."""

from __future__ import annotations

import falcon

from .. import delegation
from .common import Resource, bearer_token, read_fields


def _credential(resource: Resource, req: falcon.Request, fields: dict | None = None) -> delegation.Credential:
    raw = bearer_token(req) or (fields or {}).get("token")
    return delegation.resolve(resource._ctx, raw)


class AgentTokenResource(Resource):
    def on_get(self, req, resp):
        self.limit(req, "token_status")
        resp.media = delegation.status(self._ctx, _credential(self, req))

    def on_post(self, req, resp):
        self.limit(req, "redeem")
        fields = read_fields(req)
        resp.media = delegation.mint(self._ctx, _credential(self, req, fields), user_agent=req.user_agent)
        resp.status = falcon.HTTP_201

    def on_delete(self, req, resp):
        self.limit(req, "redeem")
        resp.media = delegation.revoke(self._ctx, _credential(self, req), user_agent=req.user_agent)
