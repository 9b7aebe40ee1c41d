"""/api/cert/token-status: what a purchase token can do now (new / edit / locked)."""

from __future__ import annotations

from .. import certificates, purchases, rules
from ..context import Context
from ..ratelimit import RateLimiter
from .common import bearer_token, client_address


class TokenStatus:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_get(self, req, resp):
        self._limiter.check("token_status", client_address(req))
        purchase = purchases.resolve_token(self._ctx, bearer_token(req) or req.get_param("token"))
        if purchase.certificate_id is None:
            purchases.require_claimable(self._ctx, purchase)
            claim = purchases.claim_status(self._ctx, purchase)
            resp.media = {
                "mode": "new",
                "locked": False,
                "claim_deadline": claim["claim_deadline"],
                "claim_days_left": claim["claim_days_left"],
                "max_submissions": rules.MAX_SUBMISSIONS,
                "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
                "message": f"Token valid: {claim['claim_days_left']} day(s) left to submit the initial details.",
            }
            return
        resp.media = certificates.token_status(self._ctx, purchase)
