"""Request helpers shared by the resources: body reading, bearer tokens, client address, body size limit."""

from __future__ import annotations

import falcon

from ..context import Context
from ..errors import RegistryError
from ..ratelimit import RateLimiter

MAX_BODY_BYTES = 64 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Resource:
    """A resource with the registry's collaborators; `limit()` counts the request against a rate-limit bucket."""

    def __init__(self, ctx: Context, limiter: RateLimiter | None = None):
        self._ctx = ctx
        self._limiter = limiter

    def limit(self, req: falcon.Request, bucket: str) -> None:
        assert self._limiter is not None, "a resource that limits requests is made with a limiter"
        self._limiter.check(bucket, client_address(req))


def is_form(req: falcon.Request) -> bool:
    return (req.content_type or "").split(";")[0].strip().lower() in FORM_TYPES


def read_fields(req: falcon.Request) -> dict:
    """The request body as a flat dict, from JSON or a form. Repeated form fields keep their last value."""
    if not req.content_length and not req.content_type:
        return {}
    content_type = (req.content_type or "").split(";")[0].strip().lower()
    if content_type not in ("application/json", *FORM_TYPES) and not content_type.endswith("+json"):
        raise RegistryError("bad_request", "Send the body as JSON or as a form.")
    try:
        media = req.get_media(default_when_empty={})
    except (falcon.MediaMalformedError, RecursionError):  # RecursionError: JSON nested about 1,000 deep
        raise RegistryError("malformed_body", "The request body is not valid JSON.") from None
    if not isinstance(media, dict):
        raise RegistryError("malformed_body", "The request body must be a JSON object.")
    return {key: (value[-1] if isinstance(value, list) and is_form(req) else value) for key, value in media.items()}


def bearer_token(req: falcon.Request) -> str | None:
    header = req.get_header("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def submitted_token(req: falcon.Request, fields: dict):
    """The token of a write: the body's, or the bearer when the body has none (absent or empty counts as not sent;
    any other value is the body's, right or wrong)."""
    token = fields.get("token")
    return bearer_token(req) if token in (None, "") else token


def client_address(req: falcon.Request) -> str:
    return req.remote_addr or "unknown"


class BodyLimitMiddleware:
    """Bodies over 64 KB get 413 before any resource reads them."""

    def process_request(self, req, resp):
        if req.content_length and req.content_length > MAX_BODY_BYTES:
            raise RegistryError("body_too_large", "The request body is larger than 64 KB.")


class SecurityHeadersMiddleware:
    """API answers (and the JSON under /.well-known/) are data, never documents to render or cache by accident."""

    def process_response(self, req, resp, resource, req_succeeded):
        if not req.path.startswith(("/api/", "/.well-known/")) or getattr(resp.context, "site_page", False):
            return  # a site page (the record page with its own head) carries the site's headers
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")
        resp.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        if resp.get_header("Cache-Control") is None:
            resp.set_header("Cache-Control", "no-store")
