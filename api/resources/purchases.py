"""/api/cert/checkout, /api/cert/test-checkout, /api/cert/handoff-token."""

from __future__ import annotations

import falcon

from .. import links, purchases
from ..errors import RegistryError
from .common import Resource, is_form, read_fields

HANDOFF_COOKIE = "gs_handoff"
HANDOFF_COOKIE_PATH = "/api/cert/handoff-token"
HANDOFF_COOKIE_SECONDS = 2 * 24 * 3600

# A browser without JavaScript posts the issue page's form itself. A refusal then comes back as that page with
# its message (shown by the page's CSS for the fragment's target), never as raw JSON.
FORM_ERROR_PAGES = {"invalid_email": "/issue/#email-invalid"}
FORM_ERROR_DEFAULT = "/issue/#checkout-failed"


class Checkout(Resource):
    def on_post(self, req, resp):
        try:
            self._start(req, resp)
        except RegistryError as error:
            if not is_form(req):
                raise
            raise falcon.HTTPSeeOther(FORM_ERROR_PAGES.get(error.code, FORM_ERROR_DEFAULT)) from None

    def _start(self, req, resp):
        self.limit(req, "checkout")
        fields = read_fields(req)
        started = purchases.start_checkout(self._ctx, fields.get("recovery_email"))
        resp.set_cookie(
            HANDOFF_COOKIE,
            started.binding,
            max_age=HANDOFF_COOKIE_SECONDS,
            path=HANDOFF_COOKIE_PATH,
            secure=self._ctx.config.base_url.startswith("https://"),
            http_only=True,
            same_site="Lax",
        )
        if is_form(req):
            raise falcon.HTTPSeeOther(started.checkout_url)
        resp.media = {"checkout_url": started.checkout_url, "session_id": started.session_id}


class TestCheckout(Resource):
    """Registered only when GHOSTSHELL_TEST_CHECKOUT=1 (and never in production: the config refuses it)."""

    def on_post(self, req, resp):
        self.limit(req, "checkout")
        fields = read_fields(req)
        token = purchases.test_checkout(self._ctx, fields.get("recovery_email"))
        base = self._ctx.config.base_url
        answer = {
            "token": token,
            "private_url": links.private_url(base, token),
            "register_url": links.register_url(base, token, "human"),
        }
        if is_form(req):
            raise falcon.HTTPSeeOther(answer["register_url"])
        resp.status = falcon.HTTP_201
        resp.media = answer


class Handoff(Resource):
    def on_get(self, req, resp):
        self.limit(req, "handoff")
        answer = purchases.handoff(self._ctx, req.get_param("session_id"), req.cookies.get(HANDOFF_COOKIE))
        if answer is None:
            resp.status = falcon.HTTP_202
            resp.media = {
                "status": "emailed",
                "message": "Payment is confirmed. The private link was emailed to the recovery address.",
            }
            return
        resp.media = answer
