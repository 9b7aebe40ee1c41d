"""Shared fixtures for the unit suite.

- `db`: a real database, migrated with `api.migrations`: a fresh SQLite file per test, or the PostgreSQL server
  named by `TEST_DATABASE_URL`, emptied before each test (`postgres_reset.py`: the schema is built once and
  rebuilt after a test that changed it). CI runs the suite once for each.
- `stripe_double`: the local Stripe double on a real waitress server on loopback; the official SDK talks to it.
  Webhook delivery is off: tests sign their own events with `stripe.WebhookSignature.generate_signature_header`.
- `resend_double`: the local Resend double on loopback; `deliver_mail()` runs the real outbox sender against it.
- `clock`: a settable clock injected into the app; `fixed_clock`: the same clock pinned to `support.FIXED_NOW`
  (certificate tests: `pytestmark = pytest.mark.usefixtures("fixed_clock")`).
- `client`: `falcon.testing.TestClient` on a `Registry` built on the test's context, as `serve` and the WSGI entry
  point build it; `make_client(**config_changes)`: one on a changed configuration.
- `sender`, `deliver_mail`: that registry's outbox sender, and the messages it delivered to the Resend double.
- `paid_token`: a paid, unused token; `issued`: a certificate issued through the domain, `(token, Certificate)`.
- `built_site`: the static site built once for the session (`build.build`); tests that change files in their build
  make their own.
Helpers that are not fixtures (a valid submission, HTTP shortcuts, signed events) are in `support.py`.
"""

from __future__ import annotations

import base64
import datetime as dt
import os

import falcon.testing
import pytest

from api.config import Config
from api.context import Context
from api.db import is_sqlite, open_database
from api.migrations import migrate
from api.models import Purchase, bind_models
from api.registry import Registry
from dev.serving import ServedApp

from . import postgres_reset
from .support import BASE_URL, FIXED_NOW, OPS_SECRET, WEBHOOK_SECRET, agent_token_for, submission


class Clock:
    """Starts at the real time (Stripe checks `expires_at` against it) and moves only when told."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def database_url(tmp_path):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/registry.db"


@pytest.fixture
def db(database_url):
    database = open_database(database_url)
    if is_sqlite(database):
        migrate(database)
    else:
        postgres_reset.prepare(database, database_url)
    bind_models(database)
    yield database
    if not database.is_closed():
        database.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fixed_clock(clock):
    clock.now = FIXED_NOW
    return clock


@pytest.fixture(scope="session")
def stripe_double_server():
    from dev.doubles import stripe_double

    app = stripe_double.create_app(
        webhook_url=None, webhook_secret=WEBHOOK_SECRET, public_base="http://stripe.test", deliver=False
    )
    with ServedApp(app) as server:
        server.double = app.double
        yield server


@pytest.fixture
def stripe_double(stripe_double_server):
    stripe_double_server.double.reset()
    return stripe_double_server.double


@pytest.fixture(scope="session")
def resend_double_server():
    from dev.doubles import resend_double

    app = resend_double.create_app()
    with ServedApp(app) as server:
        server.double = app.double
        yield server


@pytest.fixture
def resend_double(resend_double_server):
    resend_double_server.double.reset()
    return resend_double_server.double


@pytest.fixture
def config(database_url, stripe_double_server, resend_double_server):
    return Config(
        env="development",
        database_url=database_url,
        base_url=BASE_URL,
        secret_key=b"unit-test-secret-key-0123456789-abcdefghij",
        email_enc_key=base64.b64decode(base64.b64encode(bytes(range(32)))),
        signing_key=bytes(range(32, 64)),
        stripe_secret_key="sk_test_unit",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe_double_server.url,
        resend_api_key="re_unit_test",
        resend_from_email="GhostShell Registry <registry@registry.test>",
        resend_api_base=resend_double_server.url,
        ops_secret=OPS_SECRET,
        rate_limit_enabled=False,
    )


@pytest.fixture
def ctx(config, db, clock):
    return Context.build(config, db=db, clock=clock)


@pytest.fixture
def make_client(ctx):
    def make(**config_changes):
        context = ctx
        if config_changes:
            context = Context.build(ctx.config.replace(**config_changes), db=ctx.db, clock=ctx.clock)
        return falcon.testing.TestClient(Registry(context=context).app)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def sender(ctx):
    return Registry(context=ctx).outbox


@pytest.fixture
def deliver_mail(sender, resend_double):
    """Send every due message through the real transport to the Resend double; return what it received."""

    def deliver():
        sender.send_due()
        return resend_double.messages

    return deliver


@pytest.fixture
def paid_token(ctx):
    """A paid, unused token (made through the test-checkout path, which shares the paid transition)."""
    from api import purchases

    def make(email: str = "holder@example.com") -> str:
        return purchases.test_checkout(ctx, email)

    return make


@pytest.fixture
def issued(ctx, paid_token):
    """Issue a certificate through the domain: returns (holder token, Certificate). `edit_source="agent"` issues it
    with an agent token the holder minted, as the agent."""
    from api import certificates

    def make(email: str = "holder@example.com", **changes):
        token = paid_token(email)
        presented = agent_token_for(ctx, token) if changes.get("edit_source") == "agent" else token
        result = certificates.redeem(ctx, submission(presented, **changes))
        return token, result.certificate

    return make


@pytest.fixture
def checkout(client, stripe_double):
    """Start a checkout; return (purchase, session as Stripe holds it)."""

    def start(email: str = "buyer@example.com"):
        result = client.simulate_post("/api/cert/checkout", json={"recovery_email": email})
        assert result.status_code == 200
        session_id = result.json["session_id"]
        return Purchase.get(Purchase.stripe_session_id == session_id), stripe_double.get_session(session_id)

    return start


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The site as `python build.py` builds it, once per session: read it, never change it."""
    import build

    return build.build(tmp_path_factory.mktemp("built-site") / "output")
