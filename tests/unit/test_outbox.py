"""The outbox: real sends to the Resend double, retries with backoff, permanent failures, held messages."""

from __future__ import annotations

import logging

from api.db import is_sqlite
from api.mail import messages
from api.mail.outbox import MAX_ATTEMPTS, OutboxSender, ResendTransport, next_due, queue, read_payload
from api.models import OutboxMessage


def queue_one(ctx, kind="private_link", to="holder@example.com", key="k/1"):
    message = messages.private_link(ctx.config.base_url, "GSTK-" + "A" * 24)
    with ctx.db.atomic():
        return queue(ctx.keyring, kind=kind, to=to, message=message, idempotency_key=key, now=ctx.clock())


def test_a_queued_message_is_sent_once_with_its_idempotency_key(ctx, deliver_mail):
    queued = queue_one(ctx)
    received = deliver_mail()
    assert len(received) == 1
    email = received[0]
    assert email["to"] == ["holder@example.com"]
    assert email["subject"] == "Your GhostShell purchase token"
    assert email["idempotency_key"] == "k/1"
    assert "/p/#GSTK-" in email["text"] and "/p/#GSTK-" in email["html"]
    assert "GhostShell Registry" in email["text"] and "transactional message" in email["text"]
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "sent" and row.attempts == 1 and row.provider_id
    assert row.payload_enc is None  # address and token are not kept after sending
    assert deliver_mail() == received  # nothing sent twice


def test_transient_failures_are_retried_with_backoff_and_nothing_is_lost(ctx, deliver_mail, resend_double, clock):
    queued = queue_one(ctx)
    resend_double.fail_next(2, status=500)
    assert deliver_mail() == []
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "queued" and row.attempts == 1 and "500" in row.last_error
    assert row.next_attempt_at > clock.now
    assert deliver_mail() == []  # not due yet
    clock.advance(seconds=30)
    assert deliver_mail() == []
    assert OutboxMessage.get_by_id(queued.id).attempts == 2
    clock.advance(minutes=5)
    assert len(deliver_mail()) == 1
    assert OutboxMessage.get_by_id(queued.id).status == "sent"


def test_rate_limit_is_retried_after_retry_after(ctx, deliver_mail, resend_double, clock):
    limited = queue_one(ctx)
    resend_double.fail_next(1, status=429)
    assert deliver_mail() == []
    row = OutboxMessage.get_by_id(limited.id)
    assert row.status == "queued" and "429" in row.last_error
    clock.advance(minutes=1)
    assert len(deliver_mail()) == 1


def test_a_permanent_rejection_fails_at_once_and_is_not_retried(ctx, deliver_mail, resend_double, clock):
    rejected = queue_one(ctx)
    resend_double.fail_next(1, status=422)
    deliver_mail()
    row = OutboxMessage.get_by_id(rejected.id)
    assert row.status == "failed" and row.attempts == 1 and "422" in row.last_error
    clock.advance(hours=2)
    assert deliver_mail() == []
    assert OutboxMessage.get_by_id(rejected.id).attempts == 1


def test_gives_up_after_max_attempts(ctx, sender, resend_double, clock):
    queued = queue_one(ctx)
    resend_double.fail_next(MAX_ATTEMPTS + 2, status=500)
    for _ in range(MAX_ATTEMPTS + 1):
        sender.send_due()
        clock.advance(hours=2)
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert read_payload(ctx.keyring, row)["to"] == "holder@example.com"  # still recoverable by support


def test_without_a_resend_key_messages_are_held_and_readable(ctx, caplog):
    queued = queue_one(ctx)
    sender = OutboxSender(ctx.db, ctx.keyring, ResendTransport(None, "a@x.test", "http://127.0.0.1:9"), ctx.clock)
    with caplog.at_level(logging.INFO):
        sender.send_due()
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "held"
    payload = read_payload(ctx.keyring, row)
    assert payload["to"] == "holder@example.com" and "/p/#GSTK-" in payload["text"]
    assert "holder@example.com" not in caplog.text and "GSTK-" not in caplog.text
    assert f"outbox show {row.id}" in caplog.text


def test_messages_are_calm_and_complete():
    base = "https://registry.test"
    for message in (
        messages.private_link(base, "GSTK-" + "B" * 24),
        messages.abandoned_reminder(base),
        messages.certificate_issued(base, "GSTK-" + "B" * 24, "GS-BC-H-26-1"),
        messages.token_rotated(base, "GSTK-" + "B" * 24, "GS-BC-H-26-1"),
        messages.amendment_paid(base, "GS-BC-H-26-1", 2),
    ):
        for part in (message.subject, message.text, message.html):
            assert "!" not in part.replace("<!--", "")
        assert "support@ghostshell.host" in message.text and "support@ghostshell.host" in message.html
    reminder = messages.abandoned_reminder(base)
    assert f"{base}/issue/" in reminder.text and "GSTK" not in reminder.text
    issued = messages.certificate_issued(base, "GSTK-" + "B" * 24, "GS-BC-H-26-1")
    assert "GS-BC-H-26-1" in issued.text and f"{base}/r/GS-BC-H-26-1" in issued.html
    link = messages.private_link(base, "GSTK-" + "B" * 24)
    assert "7 days" in link.text and "24 hours" in link.text and "5 submissions" in link.text
    assert "AGENT INSTRUCTIONS" in link.text and "AGENT INSTRUCTIONS" in link.html


def test_the_sender_claims_the_next_message_from_its_index_without_sorting_the_queue(ctx, clock):
    """The claim runs once per message sent, inside a write transaction: it must not read every queued message."""
    for n in range(5):
        queue_one(ctx, key=f"k/{n}")
    query = next_due(clock.now).limit(1)
    sql, params = query.sql()
    db = ctx.db
    if is_sqlite(db):
        plan = "\n".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "USING INDEX outbox_message_status_next_attempt_at_id" in plan and "TEMP B-TREE" not in plan, plan
    else:
        with db.atomic():  # a handful of rows: show whether the index can serve rows and order (as test_search)
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                db.execute_sql(f"SET LOCAL {setting} = off")
            plan = "\n".join(row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall())
        assert "Index Scan using outbox_message_status_next_attempt_at_id" in plan and "Sort" not in plan, plan
    assert query.first().idempotency_key == "k/0"
