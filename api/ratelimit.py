"""Per-client rate limits on the public routes, with the `limits` library (moving window).

Buckets and their limits live in `Config.rate_limits` (`GHOSTSHELL_RATE_LIMIT_<BUCKET>=30/minute`). The
store is in-process by default; `GHOSTSHELL_RATE_LIMIT_STORAGE=redis://127.0.0.1:6379` shares the counts
between several instances. `GHOSTSHELL_RATE_LIMIT=off` disables every limit (load tests).
The client is `req.remote_addr`: behind a proxy, run `serve --trusted-proxy` so waitress rewrites it.
"""

from __future__ import annotations

import math
import time

from limits import parse, storage, strategies

from .errors import RegistryError


class RateLimiter:
    def __init__(self, limits_by_bucket: dict[str, str], storage_uri: str = "memory://", enabled: bool = True):
        self._enabled = enabled
        self._items = {bucket: parse(spec) for bucket, spec in limits_by_bucket.items()}
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def check(self, bucket: str, client: str | None) -> None:
        """Count one request; raise a 429 `RegistryError` with Retry-After when over the limit."""
        if not self._enabled:
            return
        item = self._items[bucket]
        key = client or "unknown"
        if self._limiter.hit(item, "ghostshell", bucket, key):
            return
        reset_at = self._limiter.get_window_stats(item, "ghostshell", bucket, key).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RegistryError(
            "rate_limited",
            "Too many requests from this address. Try again shortly.",
            headers={"Retry-After": str(retry_after)},
        )

    def reset(self) -> None:
        self._limiter.storage.reset()
