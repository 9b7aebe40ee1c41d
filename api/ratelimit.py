"""Per-client rate limits on the public routes, with the `limits` library (moving window).

Buckets and their limits live in `Config.rate_limits` (`GHOSTSHELL_RATE_LIMIT_<BUCKET>=30/minute`). The
store is in-process by default; `GHOSTSHELL_RATE_LIMIT_STORAGE=redis://127.0.0.1:6379` shares the counts
between several instances. `GHOSTSHELL_RATE_LIMIT=off` disables every limit (load tests).
The client is `req.remote_addr`: behind a proxy, run `serve --trusted-proxy` so waitress rewrites it.

When the shared store fails (refused, timed out after STORAGE_TIMEOUT_SECONDS, any storage error), the limits
keep applying, counted in this process alone: the failure is logged once, requests are never refused for it,
the store is tried again every RETRY_SECONDS, and `/api/health` says `"rate_limits": "fallback"` until it answers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse

from limits import parse, storage, strategies
from limits.errors import StorageError

from .errors import RegistryError

log = logging.getLogger("ghostshell.ratelimit")

STORAGE_TIMEOUT_SECONDS = 0.5
RETRY_SECONDS = 5.0


def _storage(uri: str):
    """The `limits` storage for a URI. Redis gets short timeouts, and `?prefix=NAME` keeps this deployment's keys
    apart from others' on a shared server."""
    options: dict = {}
    if uri.startswith(("redis", "rediss")):
        options = {"socket_timeout": STORAGE_TIMEOUT_SECONDS, "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS}
        parts = urllib.parse.urlsplit(uri)
        query = urllib.parse.parse_qs(parts.query)
        if "prefix" in query:
            options["key_prefix"] = query.pop("prefix")[-1]
            uri = parts._replace(query=urllib.parse.urlencode(query, doseq=True)).geturl()
    return storage.storage_from_string(uri, wrap_exceptions=True, **options)


class RateLimiter:
    def __init__(self, limits_by_bucket: dict[str, str], storage_uri: str = "memory://", enabled: bool = True):
        self._enabled = enabled
        self._items = {bucket: parse(spec) for bucket, spec in limits_by_bucket.items()}
        self._shared = not storage_uri.startswith("memory://")
        self._limiter = strategies.MovingWindowRateLimiter(_storage(storage_uri))
        self._fallback = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._lock = threading.Lock()
        self._failed_at: float | None = None  # when the shared store last failed; None while it answers

    @property
    def state(self) -> str:
        """`ok`, `fallback` (the shared store failed; counting in-process) or `off`."""
        if not self._enabled:
            return "off"
        return "ok" if self._failed_at is None else "fallback"

    def _use_shared(self) -> bool:
        failed_at = self._failed_at
        return failed_at is None or time.monotonic() - failed_at >= RETRY_SECONDS

    def _store_failed(self, error: Exception) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
        if first:
            log.warning(
                "rate-limit storage unavailable (%s); counting in this process until it answers",
                type(getattr(error, "storage_error", None) or error).__name__,
            )

    def _store_answered(self) -> None:
        if self._failed_at is not None:
            with self._lock:
                self._failed_at = None
            log.warning("rate-limit storage answers again; shared counting resumed")

    def _hit(self, item, bucket: str, key: str) -> tuple[bool, float]:
        """One hit in the shared store, or in-process while it is failing. Returns (allowed, reset time)."""
        if self._shared and self._use_shared():
            try:
                allowed = self._limiter.hit(item, "ghostshell", bucket, key)
                reset_at = 0.0 if allowed else self._limiter.get_window_stats(item, "ghostshell", bucket, key)[0]
                self._store_answered()
                return allowed, reset_at
            except StorageError as error:
                self._store_failed(error)
        limiter = self._fallback if self._shared else self._limiter
        allowed = limiter.hit(item, "ghostshell", bucket, key)
        return allowed, 0.0 if allowed else limiter.get_window_stats(item, "ghostshell", bucket, key)[0]

    def check(self, bucket: str, client: str | None) -> None:
        """Count one request; raise a 429 `RegistryError` with Retry-After when over the limit."""
        if not self._enabled:
            return
        allowed, reset_at = self._hit(self._items[bucket], bucket, client or "unknown")
        if allowed:
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RegistryError(
            "rate_limited",
            "Too many requests from this address. Try again shortly.",
            headers={"Retry-After": str(retry_after)},
        )

    def reset(self) -> None:
        self._limiter.storage.reset()
        self._fallback.storage.reset()
