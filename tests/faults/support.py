"""Helpers of the fault suite that are not fixtures (the fixtures are in conftest.py): where the repository is, the
webhook secret the doubles sign with, the PostgreSQL URL and whether it answers, a free port, polling."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_fault_suite_0123456789abcdef"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_available() -> bool:
    if not PG_URL.startswith("postgres"):
        return False
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


def wait_until(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
