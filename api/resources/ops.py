"""/api/ops/email-summary: for the maintainer's daily health check. Never public."""

from __future__ import annotations

from .. import ops
from ..crypto import constant_time_equals
from ..errors import RegistryError
from .common import Resource, bearer_token


class EmailSummary(Resource):
    def on_get(self, req, resp):
        secret = self._ctx.config.ops_secret
        if not secret:
            raise RegistryError("not_found", "No such resource.")
        if not constant_time_equals(bearer_token(req), secret):
            raise RegistryError(
                "unauthorized", "The ops secret is required as a Bearer token.", headers={"WWW-Authenticate": "Bearer"}
            )
        resp.media = ops.email_summary(self._ctx)
