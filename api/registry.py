"""The running registry, as one object (after Datasette's `Datasette(...)`).

    registry = Registry(Config.from_env(), site=Path("output"))
    registry.start()          # migrate (SQLite) or check the schema; start the background mail sender
    waitress.serve(registry)  # a Registry is a WSGI app
    registry.close()

A `Registry` owns the collaborators (`Context`: configuration, database, keys, Stripe, clock), the Falcon API
(`registry.api`, from `create_app`), the outbox sender and its background thread, and, when asked, the built site
(`site=`) and, in test mode (`config.local_doubles`), the local Stripe and Resend doubles mounted on the same
origin. The site server and the doubles live in the development package `dev/`, which the installed wheel does
not contain; they are imported only when wanted.

`python -m api serve`, the WSGI entry point `api.wsgi:app` (and `waitress-serve --call api.app:create_app`'s
successor, `--call api.wsgi:create`) and the tests all build the registry this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import falcon

from .app import create_app
from .config import RESEND_DOUBLE_PREFIX, STRIPE_DOUBLE_PREFIX, Config
from .context import Context
from .mail.outbox import BackgroundSender, OutboxSender, ResendTransport
from .migrations import migrate, pending
from .ratelimit import RateLimiter

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class NotReady(RuntimeError):
    """The registry cannot start as configured; the message says what to do."""


class Registry:
    def __init__(
        self,
        config: Config | None = None,
        *,
        context: Context | None = None,
        site: Path | str | None = None,
        limiter: RateLimiter | None = None,
        mail_interval: float = 2.0,
    ):
        self.context = context or Context.build(config or Config.from_env())
        self.config = self.context.config
        self.site = Path(site).resolve() if site is not None else None
        # The record page with share previews answers from the site being served, when there is one.
        self.api: falcon.App = create_app(
            context=self.context, limiter=limiter, site_dir=str(self.site) if self.site else None
        )
        if self.site is not None:
            from dev.static_site import add_static_site  # development package: not in the wheel

            add_static_site(self.api, self.site)
        self.app: WSGIApp = self._mount_doubles(self.api) if self.config.local_doubles else self.api
        transport = ResendTransport(
            self.config.resend_api_key, self.config.resend_from_email, self.config.resend_api_base
        )
        self.outbox = OutboxSender(self.context.db, self.context.keyring, transport, self.context.clock)
        self._background = BackgroundSender(self.outbox, interval=mail_interval)
        self._started = False

    @property
    def serves_local_mailbox(self) -> bool:
        return self.config.local_doubles and self.config.resend_api_base == self.config.base_url + RESEND_DOUBLE_PREFIX

    def _mount_doubles(self, app: WSGIApp) -> WSGIApp:
        try:
            from dev.doubles import resend_double, stripe_double
            from dev.doubles.dispatch import PrefixDispatcher
        except ImportError as exc:  # an installed wheel: test mode needs the source checkout
            raise NotReady(
                "Test mode (no STRIPE_SECRET_KEY) needs the local doubles of the development package `dev/`, "
                "which an installed wheel does not contain: run from a source checkout, or set the Stripe and "
                "Resend settings."
            ) from exc
        base = self.config.base_url
        stripe_app = stripe_double.create_app(
            webhook_url=base + "/api/stripe/webhook",
            webhook_secret=self.config.stripe_webhook_secret,
            public_base=base + STRIPE_DOUBLE_PREFIX,
        )
        mounts: dict[str, WSGIApp] = {STRIPE_DOUBLE_PREFIX: stripe_app}
        if self.serves_local_mailbox:
            mounts[RESEND_DOUBLE_PREFIX] = resend_double.create_app()
        return PrefixDispatcher(app, mounts)

    def prepare_database(self) -> None:
        """SQLite is migrated on start (the local run); PostgreSQL must be migrated first, deliberately. The
        signing key must be usable (registered, or registrable) before any request needs it."""
        from .signing import SigningKeyError

        db = self.context.db
        with db.connection_context():
            if self.config.is_sqlite:
                migrate(db)
            elif pending(db):
                raise NotReady("The database needs migrating: run `python -m api migrate` first.")
            try:
                self.context.signing_keys.current()
            except SigningKeyError as exc:
                raise NotReady(str(exc)) from exc

    def start(self) -> Registry:
        """Check the database and start sending queued email in the background."""
        if not self._started:
            self.prepare_database()
            self._background.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self._background.stop()
            self._started = False
        if not self.context.db.is_closed():
            self.context.db.close()

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)
