"""The one error shape, and the one table from error codes to HTTP statuses.

Every error the API returns is JSON: `{"error": "<code>", "message": "<sentence>"}`, plus `"field"` for a
field that failed validation. The domain raises `RegistryError(code, message)`; this module alone decides
the HTTP status for each code (`STATUS_BY_CODE`). Falcon's own errors (unknown route, wrong method, bad JSON,
too large) are rewritten into the same shape, and an unexpected exception becomes a bare 500 with no detail.
"""

from __future__ import annotations

import logging

import falcon
import peewee

log = logging.getLogger("ghostshell.errors")

STATUS_BY_CODE = {
    # request shape
    "bad_request": 400,
    "malformed_body": 400,
    "invalid_field": 400,
    "invalid_email": 400,
    "missing_session_id": 400,
    "invalid_signature": 400,
    "missing_id": 400,
    "invalid_cursor": 400,
    "invalid_replace_link": 400,
    "invalid_idempotency_key": 400,
    "unauthorized": 401,
    # The token is the credential: none, or one that cannot be a token, is a 401 (RFC 6750); an unknown one is 404.
    "missing_token": 401,
    "invalid_token": 401,
    # authority: what the presented credential may not do (api/delegation.py)
    "holder_token_required": 403,
    "edit_source_not_permitted": 403,
    "agent_token_revoked": 403,
    "agent_edits_locked": 403,
    "not_found": 404,
    "unknown_session": 404,
    "unknown_token": 404,
    "method_not_allowed": 405,
    "not_paid": 409,
    "not_issued": 409,
    "token_already_used": 409,
    "correction_window_closed": 409,
    "submission_cap_reached": 409,
    "conflict": 409,
    "recovery_email_deleted": 409,
    "replace_link_used": 409,
    "idempotency_key_reused": 409,
    "not_locked": 409,
    "amendment_available": 409,
    "claim_window_closed": 410,
    "checkout_not_completed": 410,
    "revoked": 410,
    "replace_link_expired": 410,
    "body_too_large": 413,
    "headers_too_large": 431,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "internal_error": 500,
    "not_implemented": 501,
    "payment_provider_error": 502,
    "database_unavailable": 503,
    "signing_unavailable": 503,
}

_CODE_BY_FALCON_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class RegistryError(Exception):
    """A rule of the registry refused the request. `code` is stable and documented in docs/api.md."""

    def __init__(self, code: str, message: str, *, field: str | None = None, headers: dict | None = None):
        if code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]

    def body(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


def invalid_field(field: str, message: str) -> RegistryError:
    return RegistryError("invalid_field", message, field=field)


def _render(resp: falcon.Response, status: int, body: dict, headers: dict | None = None) -> None:
    resp.status = status
    resp.media = body
    resp.content_type = falcon.MEDIA_JSON
    for name, value in (headers or {}).items():
        resp.set_header(name, value)
    resp.set_header("Cache-Control", "no-store")


def handle_registry_error(req, resp, error: RegistryError, params) -> None:
    _render(resp, error.status, error.body(), error.headers)


def handle_http_error(req, resp, error: falcon.HTTPError, params) -> None:
    status = error.status_code
    code = _CODE_BY_FALCON_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    if isinstance(error, (falcon.MediaMalformedError, falcon.MediaNotFoundError)):
        code = "malformed_body"
    message = error.description or error.title or "The request could not be processed."
    if status == 404:
        message = "No such resource."
    headers = dict(error.headers or {})
    _render(resp, status, {"error": code, "message": message}, headers)


def handle_unexpected(req, resp, error: Exception, params) -> None:
    if isinstance(error, falcon.HTTPError):
        return handle_http_error(req, resp, error, params)
    # Path only: query strings may carry a token.
    log.exception("unhandled error on %s %s", req.method, req.path)
    _render(resp, 500, {"error": "internal_error", "message": "The registry could not complete the request."})


def handle_database_down(req, resp, error: peewee.PeeweeException, params) -> None:
    log.error("database unavailable on %s %s: %s", req.method, req.path, type(error).__name__)
    _render(
        resp,
        503,
        {"error": "database_unavailable", "message": "The registry's database is not answering."},
        {"Retry-After": "5"},
    )


def install(app: falcon.App) -> None:
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler((peewee.OperationalError, peewee.InterfaceError), handle_database_down)
    app.add_error_handler(RegistryError, handle_registry_error)
