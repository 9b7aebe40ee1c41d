"""Operational figures: the email and checkout summary behind `/api/ops/email-summary` and `ops health`.

Every figure covers the last day (`WINDOW`) except `pending_form_completion` and `stuck`, which describe the present.
No figure names an email address or a token.
"""

from __future__ import annotations

import datetime as dt

from . import rules
from .context import Context, iso
from .models import OutboxMessage, Purchase
from .states import OutboxStatus, PurchaseStatus

# A message is stuck when it is this late: queued past its due time, or claimed past its claim's lapse (no sender
# is running, or none can reach the database or the provider). Minutes, so a morning check is not an hour late.
STUCK_AFTER = dt.timedelta(minutes=5)
WINDOW = dt.timedelta(days=1)
UNSENT = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
EMAIL_KINDS = {
    "completion_email": "private_link",
    "abandoned_email": "abandoned_reminder",
    "issued_email": "certificate_issued",
    "rotation_email": "token_rotated",
    "reminder_email": "claim_reminder",
    "resend_email": "link_resent",
    "amendment_email": "amendment_paid",
}


def email_summary(ctx: Context) -> dict:
    now = ctx.clock()
    since = now - WINDOW
    summary = {
        "since_24h": iso(since),
        "new_checkouts": Purchase.select().where(Purchase.created_at >= since, Purchase.is_test == False).count(),  # noqa: E712
        "paid_24h": Purchase.select().where(Purchase.paid_at >= since).count(),
        "abandoned_24h": Purchase.select().where(Purchase.abandoned_at >= since).count(),
    }
    for label, kind in EMAIL_KINDS.items():
        recent = OutboxMessage.select().where(OutboxMessage.kind == kind, OutboxMessage.created_at >= since)
        summary[label] = {
            "sent": recent.where(OutboxMessage.status == OutboxStatus.SENT).count(),
            "failed": recent.where(OutboxMessage.status == OutboxStatus.FAILED).count(),
            "pending": recent.where(OutboxMessage.status.in_(UNSENT)).count(),
            "held": recent.where(OutboxMessage.status == OutboxStatus.HELD).count(),
        }
    summary["pending_form_completion"] = (
        Purchase.select()
        .where(
            Purchase.status == PurchaseStatus.PAID,
            Purchase.certificate.is_null(),
            Purchase.paid_at >= now - dt.timedelta(days=rules.CLAIM_WINDOW_DAYS),
        )
        .count()
    )
    summary["stuck"] = (
        OutboxMessage.select()
        .where(OutboxMessage.status.in_(UNSENT), OutboxMessage.next_attempt_at < now - STUCK_AFTER)
        .count()
    )
    failures = (
        OutboxMessage.select()
        .where(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.created_at >= since)
        .order_by(OutboxMessage.created_at.desc())
        .limit(5)
    )
    summary["recent_failures"] = [
        {
            "message_id": m.id,
            "kind": m.kind,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "created_at": iso(m.created_at),
        }
        for m in failures
    ]
    summary["needs_attention"] = bool(summary["stuck"] or any(summary[label]["failed"] for label in EMAIL_KINDS))
    return summary
