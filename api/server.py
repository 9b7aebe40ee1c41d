"""The HTTP server: waitress, with limits that survive connection floods, and its own errors in the API's shape.

Waitress answers some requests before the application sees them (a body over its limit, oversized headers, a
malformed request line). `create_server()` makes those answers the registry's JSON error too, so every 413 is
`{"error": "body_too_large", ...}` whatever refused the body.

Limits (`SERVER_LIMITS`, overridable on `serve`):
- `max_request_body_size` equals the API's own body limit (64 KB), so waitress refuses a larger body as soon as
  its Content-Length (or its chunks) passes the limit, without buffering it.
- `connection_limit` 1000 with `asyncore_use_poll` (select() cannot watch more than 1024 sockets), and
  `channel_timeout` 20 s checked every 2 s: idle or half-sent connections are dropped after 20 s, and it takes
  a thousand of them at once to hold new clients off, instead of 100 sockets for 120 s (waitress' defaults).
A production deployment still puts a reverse proxy in front (README, "Deploying"): it buffers slow clients and
bounds connections per address, which one process cannot do alone.
"""

from __future__ import annotations

import json

from waitress.channel import HTTPChannel
from waitress.server import create_server as create_waitress_server
from waitress.task import ErrorTask

from .resources.common import MAX_BODY_BYTES

SERVER_LIMITS = {
    "max_request_body_size": MAX_BODY_BYTES,
    "max_request_header_size": 64 * 1024,
    "connection_limit": 1000,
    "asyncore_use_poll": True,
    "channel_timeout": 20,
    "cleanup_interval": 2,
    "backlog": 2048,
}

# waitress' own refusals, in the registry's error codes.
_CODES = {
    400: ("bad_request", "The request could not be read."),
    413: ("body_too_large", f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."),
    431: ("headers_too_large", "The request headers are too large."),
    501: ("not_implemented", "The request uses a transfer encoding the registry does not support."),
}


class JsonErrorTask(ErrorTask):
    def execute(self):
        status_code = self.request.error.code
        code, message = _CODES.get(status_code, ("internal_error", "The registry could not complete the request."))
        body = json.dumps({"error": code, "message": message}).encode()
        self.status = f"{status_code} {self.request.error.reason}"
        self.response_headers.extend(
            [
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def create_server(app, *, host: str, port: int, threads: int, **overrides):
    """A waitress server (not yet running: call `.run()`) with the registry's limits and JSON errors."""
    server = create_waitress_server(app, host=host, port=port, threads=threads, **{**SERVER_LIMITS, **overrides})
    # Several listening sockets (a host name with IPv4 and IPv6 addresses) give a MultiSocketServer.
    listeners = [s for s in getattr(server, "map", {}).values() if hasattr(s, "channel_class")] or [server]
    for listener in listeners:
        listener.channel_class = JsonErrorChannel
    return server
