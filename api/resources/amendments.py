"""/api/cert/amendment: the holder buys a paid amendment of a locked record (POST, a Stripe Checkout Session) and
reads its state (GET, optionally with the `session_id` Stripe sent the browser back with). Authenticated by the
purchase token, as the private record is; the domain rules are in api/amendments.py."""

from __future__ import annotations

import falcon

from .. import amendments
from .common import Resource, bearer_token, read_fields, submitted_token


class Amendment(Resource):
    def on_get(self, req, resp):
        self.limit(req, "token_status")
        _, cert = amendments.holder_record(self._ctx, bearer_token(req))
        resp.media = amendments.status(self._ctx, cert, req.get_param("session_id"))

    def on_post(self, req, resp):
        self.limit(req, "checkout")
        fields = read_fields(req)
        purchase, cert = amendments.holder_record(self._ctx, submitted_token(req, fields))
        resp.status = falcon.HTTP_201
        resp.media = amendments.start_checkout(self._ctx, purchase, cert)
