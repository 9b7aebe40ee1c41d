"""/api/cert/token-status: what a purchase token can do now (new / edit / locked)."""

from __future__ import annotations

from .. import certificates
from .common import Resource, bearer_token


class TokenStatus(Resource):
    def on_get(self, req, resp):
        self.limit(req, "token_status")
        resp.media = certificates.token_status(self._ctx, bearer_token(req) or req.get_param("token"))
