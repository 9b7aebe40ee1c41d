"""/api/health, /api/config, /api/openapi.json."""

from __future__ import annotations

import falcon
import peewee

from .. import rules
from ..context import Context
from ..errors import RegistryError
from ..openapi import build_document


class Health:
    def __init__(self, ctx: Context):
        self._ctx = ctx

    def on_get(self, req, resp):
        try:
            self._ctx.db.execute_sql("SELECT 1")
        except peewee.DatabaseError:
            raise RegistryError("database_unavailable", "The database is not answering.")
        resp.media = {"status": "ok"}


class ClientConfig:
    """What the site needs to know about this deployment (no secrets)."""

    def __init__(self, ctx: Context):
        self._ctx = ctx

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
    def __init__(self, app: falcon.App):
        self._app = app

    def on_get(self, req, resp):
        resp.media = build_document()
        resp.set_header("Cache-Control", "no-cache")
