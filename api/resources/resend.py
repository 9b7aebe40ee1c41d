"""/api/cert/resend and /api/cert/resend/confirm: have the private link emailed again, or replace it.

Every well-formed resend request gets the same 202 answer (api/resend.py); rate limits count per client and per
address (a keyed hash of the address, never the address itself).
"""

from __future__ import annotations

import falcon

from .. import resend, validation
from .common import Resource, read_fields


class Resend(Resource):
    def on_post(self, req, resp):
        self.limit(req, "resend")
        fields = read_fields(req)
        email = resend.require_email(fields.get("email"))
        new_link = validation.clean_boolean("new_link", fields.get("new_link"))
        self._limiter.check("resend_address", resend.address_key(self._ctx, email))
        resend.request_resend(self._ctx, email, new_link=bool(new_link))
        resp.status = falcon.HTTP_202
        resp.media = resend.accepted_answer()

    def on_post_confirm(self, req, resp):
        self.limit(req, "resend")
        resp.media = resend.confirm_replacement(self._ctx, read_fields(req).get("code"))
