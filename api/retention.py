"""Retention: `python -m api ops purge [--days 90]`, run daily from cron.

The recovery email address of a purchase (its sealed copy `email_enc`, its keyed hash `email_hash`) and the sealed
copy of its token kept for resending are deleted `days` after:
- the certificate was issued, for a purchase that issued one;
- its claim window closed, for a paid token never used;
- the checkout started, for a checkout never paid (pending, abandoned, failed).
Every outbox message older than `days` loses its sealed body and address (`payload_enc`, `to_hash`); one still
waiting to be sent is marked failed, since it can no longer be sent. Stored answers to Idempotency-Key requests are
deleted once older than `rules.IDEMPOTENCY_KEEP_HOURS`, whatever `days` is.

What remains keeps every guarantee: tokens stay as keyed hashes (the private link keeps working), records and their
hashes are permanent, the audit trail and the payment references stay. What is lost is said where it matters: the
registry cannot email that holder again (`recovery_email_deleted` for support's token rotation; the private page
says the address was deleted; a resend request for the address finds nothing).

Idempotent and safe on several hosts: each pass is one transaction of conditional updates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from . import rules
from .context import Context
from .models import Certificate, IdempotentRequest, OutboxMessage, Purchase
from .states import OutboxStatus, PurchaseStatus

PURGED_MESSAGE_ERROR = "deleted under the retention policy before it was sent"


@dataclasses.dataclass(frozen=True)
class PurgeRun:
    purchases: int
    messages: int
    idempotent_answers: int = 0

    def as_dict(self) -> dict:
        return {
            "purchases_purged": self.purchases,
            "messages_purged": self.messages,
            "idempotent_answers_purged": self.idempotent_answers,
        }


def purge(ctx: Context, days: int = rules.RETENTION_DAYS) -> PurgeRun:
    if not isinstance(days, int) or days < 1:
        raise ValueError("days must be a whole number of at least 1")
    now = ctx.clock()
    cutoff = now - dt.timedelta(days=days)
    issued_before = Certificate.select(Certificate.id).where(Certificate.issued_at <= cutoff)
    expired = (
        (Purchase.certificate.in_(issued_before))
        | (
            Purchase.certificate.is_null()
            & (Purchase.status == PurchaseStatus.PAID)
            & (Purchase.paid_at <= cutoff - dt.timedelta(days=rules.CLAIM_WINDOW_DAYS))
        )
        | ((Purchase.status != PurchaseStatus.PAID) & (Purchase.created_at <= cutoff))
    )
    with ctx.db.atomic():
        purchases = (
            Purchase.update(
                email_enc="",
                email_hash="",
                link_token_enc=None,
                token_enc=None,
                handoff_token_enc=None,
                email_purged_at=now,
            )
            .where(Purchase.email_purged_at.is_null(), expired)
            .execute()
        )
        old = OutboxMessage.created_at <= cutoff
        OutboxMessage.update(status=OutboxStatus.FAILED, last_error=PURGED_MESSAGE_ERROR).where(
            old, OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.HELD))
        ).execute()
        messages = (
            OutboxMessage.update(payload_enc=None, to_hash="")
            .where(old, (OutboxMessage.payload_enc.is_null(False)) | (OutboxMessage.to_hash != ""))
            .execute()
        )
        answers_before = now - dt.timedelta(hours=rules.IDEMPOTENCY_KEEP_HOURS)
        answers = IdempotentRequest.delete().where(IdempotentRequest.created_at <= answers_before).execute()
    return PurgeRun(purchases=purchases, messages=messages, idempotent_answers=answers)
