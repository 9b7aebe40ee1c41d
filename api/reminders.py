"""Reminders for paid tokens not used yet: `python -m api ops remind`, run from cron every few minutes.

A paid token that has not issued a certificate gets one reminder FIRST_REMINDER_AFTER_DAYS after payment and a
last one LAST_REMINDER_BEFORE_CLOSE_DAYS before its claim window closes (api/rules.py). When the first was missed
(the job did not run) and the last is already due, only the last is sent. Never after redemption, a replaced token,
or the claim window's close; never to a purged address.

Safe to run repeatedly and on several hosts at once: each purchase is handled in its own write transaction with
the purchase row locked (redemption takes the same lock, so a reminder can never follow a redemption), and each
reminder has an outbox idempotency key per purchase and reminder (`claim-reminder/<ref>/first|last`), unique in
the database, so it exists at most once whatever runs concurrently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import peewee

from . import rules
from .context import Context
from .db import for_update, write_transaction
from .mail import messages
from .mail.outbox import queue
from .models import OutboxMessage, Purchase
from .purchases import link_token, recovery_email
from .states import PurchaseStatus


@dataclasses.dataclass
class ReminderRun:
    first: int = 0
    last: int = 0

    def as_dict(self) -> dict:
        return {"first_reminders": self.first, "last_reminders": self.last}


def reminder_key(purchase: Purchase, which: str) -> str:
    return f"claim-reminder/{purchase.ref}/{which}"


def _remindable(query, now: dt.datetime):
    """Paid, unused, never replaced, address kept, first reminder due and claim window still open."""
    window = dt.timedelta(days=rules.CLAIM_WINDOW_DAYS)
    return query.where(
        Purchase.status == PurchaseStatus.PAID,
        Purchase.certificate.is_null(),
        Purchase.token_rotated_at.is_null(),
        Purchase.email_purged_at.is_null(),
        Purchase.paid_at <= now - dt.timedelta(days=rules.FIRST_REMINDER_AFTER_DAYS),
        Purchase.paid_at > now - window,
    )


def due_reminder(purchase: Purchase, now: dt.datetime) -> str | None:
    if now >= rules.last_reminder_at(purchase.paid_at):
        return "last"
    if now >= rules.first_reminder_at(purchase.paid_at):
        return "first"
    return None


def send_reminders(ctx: Context) -> ReminderRun:
    run = ReminderRun()
    now = ctx.clock()
    candidates = [p.id for p in _remindable(Purchase.select(Purchase.id), now).order_by(Purchase.paid_at)]
    for purchase_id in candidates:
        which = _remind_one(ctx, purchase_id)
        if which == "first":
            run.first += 1
        elif which == "last":
            run.last += 1
    return run


def _remind_one(ctx: Context, purchase_id: int) -> str | None:
    with write_transaction(ctx.db):
        now = ctx.clock()
        purchase = for_update(_remindable(Purchase.select().where(Purchase.id == purchase_id), now)).first()
        if purchase is None:  # redeemed, replaced or purged since the candidates were read
            return None
        which = due_reminder(purchase, now)
        if which is None:
            return None
        key = reminder_key(purchase, which)
        if OutboxMessage.select().where(OutboxMessage.idempotency_key == key).exists():
            return None
        message = messages.claim_reminder(
            ctx.config.base_url, link_token(ctx, purchase), rules.claim_deadline(purchase.paid_at), last=which == "last"
        )
        try:
            with ctx.db.atomic():
                queue(
                    ctx.keyring,
                    kind="claim_reminder",
                    to=recovery_email(ctx, purchase),
                    message=message,
                    idempotency_key=key,
                    now=now,
                    purchase=purchase,
                )
        except peewee.IntegrityError:  # another host queued it first
            return None
    return which
