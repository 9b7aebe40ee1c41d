"""Reminders for paid tokens not used yet (`python -m api ops remind`): the right times on a fixed clock, each at
most once, never after redemption or a replaced token, and exactly once when several hosts run it at the same time.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import pytest

from api import certificates, reminders, resend, rules
from api.models import OutboxMessage, Purchase
from api.states import PurchaseStatus

from .support import FIXED_NOW, submission

DAY = dt.timedelta(days=1)

pytestmark = pytest.mark.usefixtures("fixed_clock")


def reminder_keys() -> list[str]:
    query = OutboxMessage.select().where(OutboxMessage.kind == "claim_reminder").order_by(OutboxMessage.id)
    return [m.idempotency_key for m in query]


def run(ctx) -> tuple[int, int]:
    result = reminders.send_reminders(ctx)
    return result.first, result.last


def test_first_after_three_days_last_the_day_before_close_each_once(ctx, paid_token, clock, deliver_mail):
    token = paid_token("waiting@example.com")
    ref = Purchase.get().ref
    clock.now = FIXED_NOW + 3 * DAY - dt.timedelta(seconds=1)
    assert run(ctx) == (0, 0)
    clock.now = FIXED_NOW + 3 * DAY
    assert run(ctx) == (1, 0)
    assert run(ctx) == (0, 0)  # idempotent: a second pass (cron every few minutes) sends nothing
    clock.now = FIXED_NOW + 5 * DAY
    assert run(ctx) == (0, 0)
    clock.now = FIXED_NOW + 6 * DAY  # claim window closes at 7 days: the last reminder is due the day before
    assert run(ctx) == (0, 1)
    assert run(ctx) == (0, 0)
    clock.now = FIXED_NOW + 7 * DAY + dt.timedelta(seconds=1)
    assert run(ctx) == (0, 0)
    assert reminder_keys() == [f"claim-reminder/{ref}/first", f"claim-reminder/{ref}/last"]

    sent = [m for m in deliver_mail() if m["subject"].startswith("GhostShell token")]
    assert [m["subject"] for m in sent] == [
        "GhostShell token not used yet",
        "GhostShell token: claim window closes tomorrow",
    ]
    assert all(m["to"] == ["waiting@example.com"] for m in sent)
    deadline = rules.claim_deadline(FIXED_NOW).strftime("%d %B %Y, %H:%M UTC")
    for message in sent:
        assert f"/p/#{token}" in message["text"] and deadline in message["text"]
        assert "!" not in message["text"]


def test_a_missed_first_reminder_is_not_sent_late_once_the_last_is_due(ctx, paid_token, clock):
    paid_token()
    clock.now = FIXED_NOW + 6 * DAY + dt.timedelta(hours=2)
    assert run(ctx) == (0, 1)
    clock.now += dt.timedelta(minutes=5)
    assert run(ctx) == (0, 0)
    assert [key.rsplit("/", 1)[1] for key in reminder_keys()] == ["last"]


def test_never_after_redemption(ctx, paid_token, clock):
    redeemed_early = paid_token("early@example.com")
    redeemed_between = paid_token("between@example.com")
    clock.now = FIXED_NOW + DAY
    certificates.redeem(ctx, submission(redeemed_early))
    clock.now = FIXED_NOW + 3 * DAY
    assert run(ctx) == (1, 0)  # only the token not yet used
    clock.now = FIXED_NOW + 4 * DAY
    certificates.redeem(ctx, submission(redeemed_between, agent_name="Second"))
    clock.now = FIXED_NOW + 6 * DAY
    assert run(ctx) == (0, 0)
    early, between = Purchase.select().order_by(Purchase.id)
    assert reminder_keys() == [f"claim-reminder/{between.ref}/first"]
    assert early.certificate_id is not None and between.certificate_id is not None


def test_never_after_the_token_was_replaced(ctx, paid_token, clock):
    paid_token("replaced@example.com")
    purchase = Purchase.get()
    clock.now = FIXED_NOW + 2 * DAY
    code = resend._replace_url(ctx, purchase, clock.now).split("#replace=", 1)[1]
    assert resend.confirm_replacement(ctx, code)["status"] == "replaced"
    clock.now = FIXED_NOW + 3 * DAY
    assert run(ctx) == (0, 0)
    clock.now = FIXED_NOW + 6 * DAY
    assert run(ctx) == (0, 0)


def test_unpaid_checkouts_get_no_claim_reminder(ctx, clock):
    from api import purchases
    from api.crypto import new_token

    with ctx.db.atomic():
        purchases._new_purchase(ctx, "never.paid@example.com", new_token(), status=PurchaseStatus.PENDING)
        purchases._new_purchase(ctx, "walked.away@example.com", new_token(), status=PurchaseStatus.ABANDONED)
    clock.now = FIXED_NOW + 3 * DAY
    assert run(ctx) == (0, 0)


def test_several_hosts_at_once_send_each_reminder_once(ctx, paid_token, clock):
    for index in range(6):
        paid_token(f"holder{index}@example.com")
    clock.now = FIXED_NOW + 3 * DAY
    start = threading.Barrier(4)
    totals: list = []

    def host() -> None:
        ctx.db.connect(reuse_if_open=True)
        try:
            start.wait(timeout=30)
            totals.append(run(ctx))
        except Exception as exc:  # reported by the assertion below
            totals.append(repr(exc))
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=host) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(t, tuple) for t in totals), totals
    assert sum(first for first, _ in totals) == 6
    assert len(reminder_keys()) == len(set(reminder_keys())) == 6


def test_ops_remind_command_prints_its_counts(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "GHOSTSHELL_SECRET_KEY": "x" * 40,
        "EMAIL_ENC_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    }
    migrated = subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    done = subprocess.run([sys.executable, "-m", "api", "ops", "remind"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"first_reminders": 0, "last_reminders": 0}'
