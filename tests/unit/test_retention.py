"""Retention (`python -m api ops purge [--days 90]`): no email address or message body older than the window is left
in any table; what remains keeps every guarantee (the token still opens the record, records unchanged); flows that
need the address say it was deleted."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from api import certificates, purchases, reminders, retention
from api.crypto import new_token
from api.errors import RegistryError
from api.models import Certificate, OutboxMessage, Purchase
from api.states import PurchaseStatus

from .support import FIXED_NOW, bearer, submission

DAY = dt.timedelta(days=1)

pytestmark = pytest.mark.usefixtures("fixed_clock")


def every_value(db) -> list[str]:
    """Every value of every row of every table, as text."""
    values = []
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"'):
            values.extend(str(value) for value in row if value is not None)
    return values


def secrets_of(purchase: Purchase) -> set[str]:
    found = {purchase.email_enc, purchase.email_hash, purchase.link_token_enc}
    for message in OutboxMessage.select().where(OutboxMessage.purchase == purchase):
        found |= {message.payload_enc, message.to_hash}
    return {value for value in found if value}


@pytest.fixture
def lifecycle(ctx, paid_token, clock, deliver_mail):
    """At FIXED_NOW: an issued certificate, a paid token never used, a checkout abandoned; 30 days later, another
    issued certificate. Some mail is sent, some still queued."""
    issued_token = paid_token("issued@example.com")
    certificates.redeem(ctx, submission(issued_token))
    paid_token("unused@example.com")
    with ctx.db.atomic():
        abandoned = purchases._new_purchase(ctx, "abandoned@example.com", new_token(), status=PurchaseStatus.PENDING)
    purchases._abandon(ctx, abandoned)
    deliver_mail()  # sent: bodies cleared at once, addresses' hashes remain until the purge
    clock.now = FIXED_NOW + 30 * DAY
    recent_token = paid_token("recent@example.com")
    certificates.redeem(ctx, submission(recent_token, agent_name="Recent"))
    return {"issued": issued_token, "recent": recent_token}


def by_email(ctx, email: str) -> Purchase:
    return Purchase.get(Purchase.email_hash == ctx.keyring.email_hash(email))


def test_purge_leaves_nothing_older_than_the_window_in_any_table(ctx, db, lifecycle, clock):
    issued, unused = by_email(ctx, "issued@example.com"), by_email(ctx, "unused@example.com")
    abandoned, recent = by_email(ctx, "abandoned@example.com"), by_email(ctx, "recent@example.com")
    old_secrets = secrets_of(issued) | secrets_of(abandoned)
    OutboxMessage.update(status="held").where(OutboxMessage.purchase == abandoned).execute()  # a body never sent
    recent_secrets = secrets_of(recent)
    assert old_secrets and recent_secrets

    clock.now = FIXED_NOW + 90 * DAY
    run = retention.purge(ctx, 90)
    assert (run.purchases, run.messages) == (
        2,
        len(OutboxMessage.select().where(OutboxMessage.created_at <= FIXED_NOW)),
    )
    stored = set(every_value(db))
    assert not old_secrets & stored
    assert recent_secrets <= stored  # the scan sees what is still inside the window
    assert not {"issued@example.com", "abandoned@example.com", "unused@example.com"} & stored
    for message in OutboxMessage.select().where(OutboxMessage.created_at <= clock.now - 90 * DAY):
        assert message.payload_enc is None and message.to_hash == ""
        assert message.status in ("sent", "failed")
    held = OutboxMessage.get(OutboxMessage.purchase == abandoned)
    assert (held.status, held.last_error) == ("failed", retention.PURGED_MESSAGE_ERROR)

    # The unused token's address is kept until its claim window has been closed for 90 days.
    assert secrets_of(unused) & stored
    clock.now = FIXED_NOW + 97 * DAY - dt.timedelta(seconds=1)
    assert retention.purge(ctx, 90).purchases == 0
    clock.now += dt.timedelta(seconds=1)
    unused_secrets = secrets_of(unused)
    assert retention.purge(ctx, 90).purchases == 1
    assert not unused_secrets & set(every_value(db))

    # Idempotent.
    assert retention.purge(ctx, 90) == retention.PurgeRun(purchases=0, messages=0, idempotent_answers=0)


def test_what_remains_keeps_every_guarantee_and_says_what_was_lost(client, ctx, lifecycle, clock):
    cert = Certificate.get(Certificate.agent_name == "Joule")
    before = (cert.record_hash, cert.public_fingerprint)
    clock.now = FIXED_NOW + 91 * DAY
    retention.purge(ctx)

    private = client.simulate_get("/api/cert/private", headers=bearer(lifecycle["issued"]))
    assert private.status_code == 200 and private.json["state"] == "issued"
    assert private.json["recovery_email_deleted_at"] == (FIXED_NOW + 91 * DAY).isoformat() + "Z"
    recent = client.simulate_get("/api/cert/private", headers=bearer(lifecycle["recent"]))
    assert "recovery_email_deleted_at" not in recent.json
    after = Certificate.get_by_id(cert.id)
    assert (after.record_hash, after.public_fingerprint) == before
    assert client.simulate_get("/api/cert/lookup", params={"id": cert.public_id}).json["agent_name"] == "Joule"

    with pytest.raises(RegistryError) as refused:
        purchases.rotate_token(ctx, cert.public_id)
    assert refused.value.code == "recovery_email_deleted"
    assert "retention policy" in refused.value.message
    assert client.simulate_get("/api/cert/private", headers=bearer(lifecycle["issued"])).status_code == 200

    count = OutboxMessage.select().count()
    assert client.simulate_post("/api/cert/resend", json={"email": "issued@example.com"}).status_code == 202
    assert OutboxMessage.select().count() == count  # the address is no longer known


def test_purged_unused_tokens_get_no_reminder(ctx, paid_token, clock):
    paid_token("short@example.com")
    clock.now = FIXED_NOW + 3 * DAY
    assert retention.purge(ctx, 1).purchases == 0  # a 1-day window cannot reach a token whose claim window is open
    Purchase.update(email_purged_at=clock.now, email_enc="", email_hash="").execute()
    assert reminders.send_reminders(ctx).first == 0


def test_ops_purge_command(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "GHOSTSHELL_SECRET_KEY": "x" * 40,
        "EMAIL_ENC_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    }
    assert subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, capture_output=True).returncode == 0
    done = subprocess.run([sys.executable, "-m", "api", "ops", "purge"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        '{"days": 90, "purchases_purged": 0, "messages_purged": 0, "idempotent_answers_purged": 0}'
    )
    refused = subprocess.run(
        [sys.executable, "-m", "api", "ops", "purge", "--days", "0"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "--days" in refused.stderr


def test_purge_deletes_stored_idempotent_answers_after_their_keep(client, ctx, paid_token, clock):
    from api import rules
    from api.models import IdempotentRequest

    token = paid_token()
    certificates.redeem(ctx, submission(token))

    def lock(key: str, locked: bool):
        return client.simulate_post(
            "/api/cert/lock-agent-edits", json={"token": token, "locked": locked}, headers={"Idempotency-Key": key}
        )

    assert lock("older", True).status_code == 200
    clock.now = FIXED_NOW + dt.timedelta(hours=2)
    assert lock("newer", False).status_code == 200
    assert IdempotentRequest.select().count() == 2

    clock.now = FIXED_NOW + dt.timedelta(hours=rules.IDEMPOTENCY_KEEP_HOURS)
    assert retention.purge(ctx, 90).idempotent_answers == 1  # the older answer is 24 hours old, the other is not
    assert IdempotentRequest.select().count() == 1
    # The purged key is new again: with another body it is a new request, not a 409.
    again = lock("older", False)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    reused = lock("newer", True)  # still inside its 24 hours
    assert reused.status_code == 409 and reused.json["error"] == "idempotency_key_reused"
