"""/api/cert/redeem-token, /api/cert/lock-agent-edits, /api/cert/private, /api/cert/lookup, /api/registry/search.

HTTP only: read the request, rate-limit, call `api.certificates`, shape the answer. User text goes out verbatim as
JSON data; the site inserts it with textContent.
"""

from __future__ import annotations

import falcon

from .. import certificates, idempotency, search
from ..public_cache import not_modified
from .common import Resource, bearer_token, read_fields, submitted_token


def _send(resp, answer: idempotency.Answer) -> None:
    resp.status = falcon.code_to_http_status(answer.status)
    resp.media = answer.body
    if answer.replayed:
        resp.set_header("Idempotent-Replayed", "true")


class Redeem(Resource):
    def on_post(self, req, resp):
        self.limit(req, "redeem")
        fields = read_fields(req)
        fields["token"] = submitted_token(req, fields)
        request = idempotency.scope(
            self._ctx, "redeem", req.get_header(idempotency.HEADER), fields.get("token"), fields
        )
        answer = idempotency.replay(self._ctx, request)
        if answer is None:
            redeemed = certificates.redeem(self._ctx, fields, user_agent=req.user_agent)
            answer = idempotency.remember(
                self._ctx, request, idempotency.Answer(201 if redeemed.created else 200, redeemed.answer(self._ctx))
            )
        _send(resp, answer)


class LockAgentEdits(Resource):
    def on_post(self, req, resp):
        self.limit(req, "redeem")
        fields = read_fields(req)
        token = submitted_token(req, fields)
        request = idempotency.scope(self._ctx, "lock", req.get_header(idempotency.HEADER), token, fields)
        answer = idempotency.replay(self._ctx, request)
        if answer is None:
            body = certificates.set_agent_lock(self._ctx, token, fields.get("locked"), user_agent=req.user_agent)
            answer = idempotency.remember(self._ctx, request, idempotency.Answer(200, body))
        _send(resp, answer)


class PrivateRecord(Resource):
    def on_get(self, req, resp):
        self.limit(req, "token_status")
        resp.media = certificates.private_record(self._ctx, bearer_token(req), req.get_param("session_id"))


class Lookup(Resource):
    def on_get(self, req, resp):
        self.limit(req, "lookup")
        found = certificates.lookup(self._ctx, req.get_param("id"), req.get_param("version"))
        send_public(req, resp, found.view.body, found.view.etag, found.max_age)


class Search(Resource):
    def on_get(self, req, resp):
        self.limit(req, "search")
        page = search.search_page(self._ctx, req.get_param("q"), req.get_param("limit"), req.get_param("cursor"))
        send_public(req, resp, page.body, page.etag, 30)


def send_public(req, resp, body: bytes, tag: str, max_age: int) -> None:
    """A public read: cacheable for `max_age` seconds, with an ETag; 304 without a body when the client has it."""
    resp.set_header("Cache-Control", f"public, max-age={max_age}")
    resp.set_header("ETag", tag)
    if not_modified(req.get_header("If-None-Match"), tag):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = falcon.MEDIA_JSON
    resp.data = body
