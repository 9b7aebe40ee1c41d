"""The rate limiter on its own: counts per bucket and client, and a shared Redis store for several instances."""

from __future__ import annotations

import socket
import uuid

import pytest

from api.errors import RegistryError
from api.ratelimit import RateLimiter

REDIS = "redis://127.0.0.1:6379"


def redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_buckets_and_clients_are_counted_separately():
    limiter = RateLimiter({"lookup": "2/minute", "search": "1/minute"})
    limiter.check("lookup", "a")
    limiter.check("lookup", "a")
    limiter.check("search", "a")
    limiter.check("lookup", "b")
    with pytest.raises(RegistryError) as refused:
        limiter.check("lookup", "a")
    assert refused.value.code == "rate_limited" and int(refused.value.headers["Retry-After"]) >= 1


@pytest.mark.skipif(not redis_available(), reason="no Redis server at 127.0.0.1:6379")
def test_instances_sharing_redis_share_the_count():
    client = f"client-{uuid.uuid4()}"
    first = RateLimiter({"lookup": "3/minute"}, REDIS)
    second = RateLimiter({"lookup": "3/minute"}, REDIS)
    first.check("lookup", client)
    second.check("lookup", client)
    first.check("lookup", client)
    with pytest.raises(RegistryError):
        second.check("lookup", client)  # the fourth request, whichever instance receives it
    separate = RateLimiter({"lookup": "3/minute"})
    separate.check("lookup", client)  # an in-process store knows nothing of the others
