"""The collaborators every domain function receives: configuration, database, keys (secret and signing), Stripe,
clock, randomness, and the process's caches of public views and search pages.

`Context.build(config, ...)` makes the real ones; tests pass their own clock, random source or Stripe client
(pointed at the local Stripe double over loopback HTTP) instead of monkeypatching. The context owns the database:
making one binds the models to its `db` (Peewee models need a database; there is no module-level one).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from typing import overload

import peewee
from stripe import StripeClient

from .config import Config
from .crypto import Keyring
from .db import open_database
from .models import bind_models
from .payments import StripeGateway, make_stripe_client
from .public_cache import MAX_PAGES, PublicViews, View
from .signing import SigningKeys, did_web


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclasses.dataclass
class Context:
    config: Config
    db: peewee.Database
    keyring: Keyring
    stripe: StripeGateway
    clock: Callable[[], dt.datetime] = utcnow
    random_bytes: Callable[[int], bytes] = os.urandom
    public_views: PublicViews[View] = dataclasses.field(default_factory=PublicViews)  # api/public_cache.py
    search_pages: PublicViews = dataclasses.field(default_factory=lambda: PublicViews(max_entries=MAX_PAGES))
    signing_keys: SigningKeys = None  # type: ignore[assignment]  # made from config, db and clock when not given

    def __post_init__(self) -> None:
        bind_models(self.db)
        if self.signing_keys is None:
            self.signing_keys = SigningKeys(self.db, self.config.signing_key, did_web(self.config.base_url), self.clock)
        from .transparency import KeyChangeLog  # imported here: api.transparency imports this module

        if not any(isinstance(hook, KeyChangeLog) for hook in self.signing_keys.on_change):
            self.signing_keys.on_change.append(KeyChangeLog(self.signing_keys))

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        db: peewee.Database | None = None,
        stripe_client: StripeClient | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        random_bytes: Callable[[int], bytes] | None = None,
    ) -> Context:
        random_bytes = random_bytes or os.urandom
        client = stripe_client or make_stripe_client(config.stripe_secret_key, config.stripe_api_base)
        return cls(
            config=config,
            db=db or open_database(config.database_url),
            keyring=Keyring(config.secret_key, config.email_enc_key, random_bytes=random_bytes),
            stripe=StripeGateway(
                client,
                base_url=config.base_url,
                price_id=config.stripe_price_id,
                amendment_price_id=config.amendment_price_id,
            ),
            clock=clock or utcnow,
            random_bytes=random_bytes,
        )

    def url(self, path: str) -> str:
        return self.config.base_url + path


@overload
def iso(moment: dt.datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: dt.datetime | None) -> str | None: ...
def iso(moment: dt.datetime | None) -> str | None:
    """UTC timestamps leave the registry as `YYYY-MM-DDTHH:MM:SSZ`."""
    if moment is None:
        return None
    return moment.replace(microsecond=0).isoformat() + "Z"
