"""`PrefixDispatcher`: one WSGI app that routes by path prefix, so the doubles share the registry's origin.

`PrefixDispatcher(registry_app, {"/_stripe": stripe_app, "/_mail": mail_app})` sends `/_stripe/v1/...` to the
Stripe double with `SCRIPT_NAME` extended by `/_stripe` and `PATH_INFO` = `/v1/...` (the usual WSGI mounting
convention, so the mounted app sees its own paths and `req.root_path` is the prefix). A prefix matches only whole
path segments (`/_stripe` matches `/_stripe` and `/_stripe/...`, never `/_stripex`); the longest prefix wins;
everything else goes to the default app unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class PrefixDispatcher:
    def __init__(self, default_app: WSGIApp, mounts: Mapping[str, WSGIApp]):
        self.default_app = default_app
        normalised = []
        for prefix, app in mounts.items():
            prefix = prefix.rstrip("/")
            if not prefix.startswith("/"):
                raise ValueError(f"mount prefixes must start with '/' and not be the root: {prefix!r}")
            normalised.append((prefix, app))
        self.mounts = sorted(normalised, key=lambda mount: len(mount[0]), reverse=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :]
                return app(environ, start_response)
        return self.default_app(environ, start_response)


def not_found_app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """A default app for serving the doubles alone."""
    body = b"Not found. The local doubles live under /_stripe and /_mail.\n"
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
