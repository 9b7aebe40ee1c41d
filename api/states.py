"""The states a row can be in, as enums: stored as their string values, compared as members.

- `CertificateStatus`: `active`, or `revoked` (support's record side of a refund; the record becomes a stub).
- `PurchaseStatus`: `pending` until paid; `paid` exactly once; or `abandoned` / `failed` (ended without payment).
- `AmendmentStatus`: `pending` until paid; `paid` exactly once; then `used` by the one submission it grants; or
  `expired` / `failed` (the checkout ended without payment: nothing else changed).
- `OutboxStatus`: `queued` -> `sending` -> `sent`, or back to `queued` for a retry, or `failed`; `held` when no
  mail provider is configured.
- `Source`: who made a submission or an audited change.
- `ParentStatus`: how a parent record was named: by its token (`verified`) or its public id (`claimed`).
"""

from __future__ import annotations

from enum import StrEnum


class CertificateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    ABANDONED = "abandoned"
    FAILED = "failed"

    @property
    def is_unfinished(self) -> bool:
        """A checkout that ended without payment."""
        return self in (PurchaseStatus.ABANDONED, PurchaseStatus.FAILED)


class AmendmentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    USED = "used"
    EXPIRED = "expired"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"


class Source(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SUPPORT = "support"


SUBMISSION_SOURCES = (Source.HUMAN, Source.AGENT)


class ParentStatus(StrEnum):
    VERIFIED = "verified"
    CLAIMED = "claimed"
