"""/api/cert/redeem-token, /api/cert/lock-agent-edits, /api/cert/private, /api/cert/lookup, /api/registry/search.

HTTP only: read the request, rate-limit, call `api.certificates`, shape the answer. User text goes out verbatim as
JSON data; the site inserts it with textContent.
"""

from __future__ import annotations

import falcon

from .. import certificates
from ..context import Context
from ..ratelimit import RateLimiter
from .common import bearer_token, client_address, read_fields


class Redeem:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_post(self, req, resp):
        self._limiter.check("redeem", client_address(req))
        redeemed = certificates.redeem(self._ctx, read_fields(req), user_agent=req.user_agent)
        resp.status = falcon.HTTP_201 if redeemed.created else falcon.HTTP_200
        resp.media = redeemed.answer(self._ctx)


class LockAgentEdits:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_post(self, req, resp):
        self._limiter.check("redeem", client_address(req))
        fields = read_fields(req)
        resp.media = certificates.set_agent_lock(self._ctx, fields.get("token") or bearer_token(req),
                                                 fields.get("locked"), user_agent=req.user_agent)


class PrivateRecord:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_get(self, req, resp):
        self._limiter.check("token_status", client_address(req))
        resp.media = certificates.private_record(self._ctx, bearer_token(req))


class Lookup:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_get(self, req, resp):
        self._limiter.check("lookup", client_address(req))
        found = certificates.lookup(self._ctx, req.get_param("id"))
        resp.media = found.record
        resp.set_header("Cache-Control", f"public, max-age={found.max_age}")


class Search:
    def __init__(self, ctx: Context, limiter: RateLimiter):
        self._ctx = ctx
        self._limiter = limiter

    def on_get(self, req, resp):
        self._limiter.check("search", client_address(req))
        resp.media = certificates.search(self._ctx, req.get_param("q"), req.get_param("limit"),
                                         req.get_param("cursor"))
        resp.set_header("Cache-Control", "public, max-age=30")
