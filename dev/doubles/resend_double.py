"""A local double of Resend's `POST /emails`, with a human-readable mailbox. Nothing is ever sent.

Contract (Resend's wire format, so the registry's plain `requests.post(RESEND_API_BASE + "/emails", ...)` works):

- `POST /emails`: `Authorization: Bearer re_...` (401 `missing_api_key` / `invalid_api_key`), a `User-Agent` (403
  `error code: 1010` otherwise, as Resend's edge answers), a JSON body with `from`, `to` (string or array, at most
  50), `subject`, and `text` and/or `html` (422 `validation_error` otherwise); optional `cc`, `bcc`, `reply_to`,
  `headers`, `tags`, `scheduled_at`. `Idempotency-Key` (1-256 chars, else 400 `invalid_idempotency_key`): same key
  and payload return the first `{"id"}` without storing a second message; a different payload gives 409
  `invalid_idempotent_request`. Success is 200 `{"id": "<uuid>"}`. Errors are `{"statusCode", "name", "message"}`.
- `GET /emails/{id}`: the stored email, as Resend's retrieve endpoint shapes it.
- `/_control/` (JSON, for tests): `GET messages`, `POST fail {"count": n, "status": 500|429|422}` (the next n sends
  fail that way; 429 carries `retry-after: 1`), `POST reset`.
- Mailbox for people: `GET /` (newest first), `GET /messages/{id}` (text part escaped, HTML part in a sandboxed
  `srcdoc` iframe), `GET /messages/{id}/html` (served under `Content-Security-Policy: sandbox`).

In-process access: `create_app()` returns a Falcon app whose `.double` is the `ResendDouble` holding the state.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import threading
import uuid
from typing import Any

import falcon

from .pages import send_page

MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_NAMED_ADDRESS = re.compile(r"^[^<>]*<([^@\s<>]+@[^@\s<>]+)>$")
_URL = re.compile(r"https?://[^\s<>\"']+")
_FAILURES = {
    422: ("validation_error", "Forced failure from the local Resend double."),
    429: (
        "rate_limit_exceeded",
        "Too many requests. You can only make 2 requests per second. See rate limit "
        "response headers for more information. Or contact support to increase rate limit.",
    ),
    500: ("application_error", "An unexpected error occurred, please try again later."),
}


class ResendError(Exception):
    def __init__(self, status: int, name: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.name, self.message, self.headers = status, name, message, headers or {}


def _valid_address(value: Any) -> bool:
    return isinstance(value, str) and bool(_ADDRESS.match(value.strip()) or _NAMED_ADDRESS.match(value.strip()))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ResendDouble:
    """Stored messages, idempotency keys and forced failures; `self.app` serves them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()
        self.app = _build_app(self)

    def reset(self) -> None:
        with self._lock:
            self._messages: list[dict[str, Any]] = []
            self._idempotency: dict[str, tuple[str, str]] = {}  # key -> (payload fingerprint, id)
            self._fail_count = 0
            self._fail_status = 500

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Stored messages, oldest first (copies)."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def get(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((dict(m) for m in self._messages if m["id"] == message_id), None)

    def fail_next(self, count: int, status: int = 500) -> None:
        if status not in _FAILURES:
            raise ValueError(f"status must be one of {sorted(_FAILURES)}")
        with self._lock:
            self._fail_count, self._fail_status = max(0, int(count)), status

    def send(self, payload: Any, *, idempotency_key: str | None) -> str:
        """Validate and store one email; return its id. Raises ResendError as the API would answer."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 256:
            raise ResendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
        with self._lock:
            if self._fail_count:
                self._fail_count -= 1
                name, message = _FAILURES[self._fail_status]
                headers = {"retry-after": "1"} if self._fail_status == 429 else {}
                raise ResendError(self._fail_status, name, message, headers)
        message = self._validate(payload)
        fingerprint = json.dumps(payload, sort_keys=True)
        with self._lock:
            if idempotency_key is not None:
                saved = self._idempotency.get(idempotency_key)
                if saved is not None:
                    if saved[0] != fingerprint:
                        raise ResendError(
                            409,
                            "invalid_idempotent_request",
                            "Same idempotency key used with a different request payload.",
                        )
                    return saved[1]
            message.update(id=str(uuid.uuid4()), idempotency_key=idempotency_key, created_at=_now())
            self._messages.append(message)
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (fingerprint, message["id"])
            return message["id"]

    @staticmethod
    def _validate(payload: Any) -> dict[str, Any]:
        def invalid(message: str) -> ResendError:
            return ResendError(422, "validation_error", message)

        if not isinstance(payload, dict):
            raise invalid("The request body must be a JSON object.")
        for field in ("from", "to", "subject"):
            if payload.get(field) in (None, "", []):
                raise invalid(f"Missing `{field}` field.")
        if not _valid_address(payload["from"]):
            raise invalid(
                "Invalid `from` field. The email address needs to follow the `email@example.com` or "
                "`Name <email@example.com>` format."
            )
        recipients = {}
        for field in ("to", "cc", "bcc", "reply_to"):
            value = payload.get(field)
            if value in (None, "", []):
                recipients[field] = []
                continue
            addresses = [value] if isinstance(value, str) else value
            if not isinstance(addresses, list) or not all(_valid_address(a) for a in addresses):
                raise invalid(
                    f"Invalid `{field}` field. The email address needs to follow the "
                    "`email@example.com` or `Name <email@example.com>` format."
                )
            if len(addresses) > MAX_RECIPIENTS:
                raise invalid(f"Invalid `{field}` field. You can only send to up to {MAX_RECIPIENTS} recipients.")
            recipients[field] = list(addresses)
        if not isinstance(payload["subject"], str):
            raise invalid("Invalid `subject` field.")
        for field in ("text", "html"):
            if payload.get(field) is not None and not isinstance(payload[field], str):
                raise invalid(f"Invalid `{field}` field.")
        if not payload.get("text") and not payload.get("html"):
            raise invalid("Missing `html` or `text` field.")
        headers = payload.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise invalid("Invalid `headers` field.")
        return {
            "from": payload["from"],
            "to": recipients["to"],
            "cc": recipients["cc"],
            "bcc": recipients["bcc"],
            "reply_to": recipients["reply_to"],
            "subject": payload["subject"],
            "text": payload.get("text"),
            "html": payload.get("html"),
            "headers": headers,
            "tags": payload.get("tags") or [],
        }


# ---------------------------------------------------------------------------------------------------------------
# HTTP layer


class _DoubleApp(falcon.App):
    """A falcon.App that can carry `.double` (falcon.App itself has __slots__)."""


def _authenticate(req: falcon.Request) -> None:
    auth = req.get_header("Authorization") or ""
    scheme, _, key = auth.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ResendError(
            401,
            "missing_api_key",
            "Missing API key in the authorization header. Include the "
            "following header Authorization: Bearer YOUR_API_KEY in the request.",
        )
    if not key.strip().startswith("re_"):
        raise ResendError(401, "invalid_api_key", "API key is invalid")


class _Emails:
    def __init__(self, double: ResendDouble):
        self.double = double

    def on_post(self, req, resp):
        if not req.user_agent:
            # Resend's edge (Cloudflare) answers this one in plain text, not JSON.
            resp.status = 403
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = "error code: 1010"
            return
        _authenticate(req)
        try:
            payload = json.loads(req.bounded_stream.read() or b"null")
        except ValueError:
            raise ResendError(422, "validation_error", "The request body is not valid JSON.") from None
        message_id = self.double.send(payload, idempotency_key=req.get_header("Idempotency-Key"))
        resp.media = {"id": message_id}
        resp.set_header("ratelimit-limit", "2")
        resp.set_header("ratelimit-remaining", "1")
        resp.set_header("ratelimit-reset", "1")

    def on_get_item(self, req, resp, message_id):
        _authenticate(req)
        message = self.double.get(message_id)
        if message is None:
            raise ResendError(404, "not_found", "Email not found")
        resp.media = {
            "object": "email",
            "id": message["id"],
            "to": message["to"],
            "from": message["from"],
            "created_at": message["created_at"],
            "subject": message["subject"],
            "html": message["html"],
            "text": message["text"],
            "bcc": message["bcc"] or None,
            "cc": message["cc"] or None,
            "reply_to": message["reply_to"] or None,
            "last_event": "delivered",
        }


class _Control:
    def __init__(self, double: ResendDouble):
        self.double = double

    def on_get_messages(self, req, resp):
        resp.media = self.double.messages

    def on_post_fail(self, req, resp):
        body = req.get_media(default_when_empty={}) or {}
        try:
            self.double.fail_next(int(body.get("count", 1)), int(body.get("status", 500)))
        except (TypeError, ValueError) as exc:
            raise ResendError(422, "validation_error", str(exc)) from None
        resp.media = {"count": body.get("count", 1), "status": body.get("status", 500)}

    def on_post_reset(self, req, resp):
        self.double.reset()
        resp.media = {"reset": True}


# -- mailbox -----------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: Georgia, "Times New Roman", serif; background: #f6f4ef; color: #1d1d1b; margin: 0; }
main { max-width: 52rem; margin: 2rem auto; background: #fff; border: 1px solid #b9b4a8; padding: 1.5rem 2rem; }
.banner { border: 2px solid #7a4b00; background: #fff4dc; color: #4a2e00; padding: .6rem .8rem; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem; border-bottom: 1px solid #ddd; }
td, dd { overflow-wrap: anywhere; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #faf9f6; border: 1px solid #ddd; padding: 1rem; }
iframe { width: 100%; height: 32rem; border: 1px solid #b9b4a8; background: #fff; }
a:focus-visible { outline: 3px solid #7a4b00; outline-offset: 2px; }
""".strip()
# The srcdoc iframe inherits this policy, and emails style themselves inline, hence 'unsafe-inline' for styles
# (harmless here: every value on these pages is escaped, and the iframe runs no script).
_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The message's own HTML: no scripts, no same-origin, no network; links may open in a new tab.
_HTML_PART_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _addresses(values: list[str]) -> str:
    return ", ".join(values)


def _linkify(text: str) -> str:
    """Escape plain text, turning http(s) URLs into links so a reader can follow the email's links."""
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        out.append(_e(text[last : match.start()]))
        out.append(f'<a href="{_e(url)}" rel="noreferrer">{_e(url)}</a>')
        last = match.start() + len(url)
    out.append(_e(text[last:]))
    return "".join(out)


def _send_page(resp: falcon.Response, title: str, body: str, status: int = 200) -> None:
    send_page(
        resp,
        status=status,
        title=title,
        body=body,
        banner="Test mode — local mailbox; nothing was sent",
        style=_STYLE,
        csp=_PAGE_CSP,
    )


class _Mailbox:
    def __init__(self, double: ResendDouble):
        self.double = double

    def on_get(self, req, resp):
        root = req.root_path
        rows = []
        for m in reversed(self.double.messages):
            rows.append(
                f'<tr><td><time datetime="{_e(m["created_at"])}">{_e(m["created_at"])}</time></td>'
                f"<td>{_e(_addresses(m['to']))}</td>"
                f'<td><a href="{_e(root)}/messages/{_e(m["id"])}">{_e(m["subject"]) or "(no subject)"}'
                f"</a></td></tr>"
            )
        if rows:
            table = (
                '<table>\n<caption>Messages, newest first</caption>\n<thead><tr><th scope="col">Time (UTC)'
                '</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>\n<tbody>\n'
                + "\n".join(rows)
                + "\n</tbody>\n</table>"
            )
        else:
            table = "<p>No messages yet.</p>"
        _send_page(resp, "Local mailbox", f"<h1>Local mailbox</h1>\n{table}")

    def _message(self, message_id: str) -> dict[str, Any]:
        message = self.double.get(message_id)
        if message is None:
            raise falcon.HTTPNotFound()
        return message

    def on_get_message(self, req, resp, message_id):
        m = self._message(message_id)
        root = _e(req.root_path)
        parts = []
        if m["text"]:
            parts.append(f"<h2>Text part</h2>\n<pre>{_linkify(m['text'])}</pre>")
        if m["html"]:
            srcdoc = '<base target="_blank">' + m["html"]
            parts.append(
                f'<h2>HTML part</h2>\n<p><a href="{root}/messages/{_e(m["id"])}/html">Open the HTML part '
                f'on its own</a></p>\n<iframe title="HTML part of the message" sandbox="allow-popups '
                f'allow-popups-to-escape-sandbox" srcdoc="{_e(srcdoc)}"></iframe>'
            )
        optional = "".join(
            f"<dt>{label}</dt><dd>{_e(_addresses(m[key]))}</dd>\n"
            for label, key in (("Cc", "cc"), ("Bcc", "bcc"), ("Reply-To", "reply_to"))
            if m[key]
        )
        body = (
            f'<p><a href="{root}/">All messages</a></p>\n<h1>{_e(m["subject"])}</h1>\n<dl>\n'
            f"<dt>From</dt><dd>{_e(m['from'])}</dd>\n<dt>To</dt><dd>{_e(_addresses(m['to']))}</dd>\n{optional}"
            f"<dt>Date</dt><dd>{_e(m['created_at'])}</dd>\n<dt>Id</dt><dd>{_e(m['id'])}</dd>\n</dl>\n"
            + "\n".join(parts)
        )
        _send_page(resp, f"{m['subject']} — local mailbox", body)

    def on_get_html(self, req, resp, message_id):
        m = self._message(message_id)
        if not m["html"]:
            raise falcon.HTTPNotFound()
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", _HTML_PART_CSP)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")
        resp.text = m["html"]


def _handle_resend_error(req, resp, ex: ResendError, params):
    resp.status = ex.status
    resp.media = {"statusCode": ex.status, "name": ex.name, "message": ex.message}
    for name, value in ex.headers.items():
        resp.set_header(name, value)


def _handle_http_error(req, resp, ex: falcon.HTTPError, params):
    resp.status = ex.status
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)
    if req.path.startswith(("/emails", "/_control/")):
        name = {404: "not_found", 405: "method_not_allowed"}.get(ex.status_code, "application_error")
        resp.media = {"statusCode": ex.status_code, "name": name, "message": ex.description or ex.title}
    else:
        _send_page(resp, ex.title, f"<h1>{_e(ex.title)}</h1>", status=ex.status_code)


def _build_app(double: ResendDouble) -> _DoubleApp:
    app = _DoubleApp()
    app.resp_options.xml_error_serialization = False
    emails = _Emails(double)
    app.add_route("/emails", emails)
    app.add_route("/emails/{message_id}", emails, suffix="item")
    control = _Control(double)
    app.add_route("/_control/messages", control, suffix="messages")
    app.add_route("/_control/fail", control, suffix="fail")
    app.add_route("/_control/reset", control, suffix="reset")
    mailbox = _Mailbox(double)
    app.add_route("/", mailbox)
    app.add_route("/messages/{message_id}", mailbox, suffix="message")
    app.add_route("/messages/{message_id}/html", mailbox, suffix="html")
    app.add_error_handler(falcon.HTTPError, _handle_http_error)
    app.add_error_handler(ResendError, _handle_resend_error)
    app.double = double
    return app


def create_app() -> falcon.App:
    """The Resend double as a WSGI app; `app.double` is its `ResendDouble` (messages, failures, reset)."""
    return ResendDouble().app
