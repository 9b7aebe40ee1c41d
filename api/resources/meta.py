"""/api/health, /api/config, /api/openapi.json."""

from __future__ import annotations

import datetime as dt

from .. import rules
from ..openapi import build_document
from .common import Resource

# How long a successful database probe stands for this process's health answers.
HEALTH_PROBE_INTERVAL = dt.timedelta(seconds=1)


class Health(Resource):
    """A database that does not answer is a 503 `database_unavailable`, through the handler in api/errors.py.
    The database is asked at most once per HEALTH_PROBE_INTERVAL: probes from load balancers and monitors do not
    each cost a query, and a database that stops answering is reported within that interval. A failed probe is
    not remembered: the next request asks again. `rate_limits` is the limiter's storage state: `ok`, `fallback`
    (shared store unreachable, counting in-process) or `off`."""

    _probed_until: dt.datetime | None = None

    def on_get(self, req, resp):
        now = self._ctx.clock()
        if self._probed_until is None or not now < self._probed_until:
            self._ctx.db.execute_sql("SELECT 1")
            self._probed_until = now + HEALTH_PROBE_INTERVAL
        resp.media = {"status": "ok", "rate_limits": self._limiter.state}


class ClientConfig(Resource):
    """What the site needs to know about this deployment (no secrets)."""

    def on_get(self, req, resp):
        resp.media = {
            "test_checkout": self._ctx.config.test_checkout,
            "test_mode": self._ctx.config.local_doubles,
            "price_display": rules.PRICE_DISPLAY,
            "claim_window_days": rules.CLAIM_WINDOW_DAYS,
            "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
            "max_submissions": rules.MAX_SUBMISSIONS,
        }
        resp.set_header("Cache-Control", "no-cache")


class OpenApi:
    """The document is fixed for a release: built once."""

    def __init__(self):
        self._document = build_document()

    def on_get(self, req, resp):
        resp.media = self._document
        resp.set_header("Cache-Control", "no-cache")
