"""Paid amendments: one more submission for a locked record, bought through Stripe Checkout, and the record versions
they make.

Rules (docs/api.md "Paid amendments"):
- Only the holder (purchase token) of an issued, unrevoked record that no longer accepts corrections (the window
  closed or every submission was used) can start one: `start_checkout` makes a `pending` amendment with its own
  non-secret reference (`amd_...`, the only identifier that leaves for Stripe) and a Checkout Session.
- The amendment becomes `paid` exactly once, under its row lock, in the transaction that records the Stripe event
  (`apply_event`, called by `api/purchases.handle_event`) or, when the holder is back before the event, after
  Stripe itself confirmed the session (`status`). That transaction queues its one email to the recovery address
  (none once the address was deleted), without the token. An expired or failed checkout marks it `expired` / `failed`
  and changes nothing else; a paid one is never moved back.
- A paid, unused amendment lets exactly one partial submission of the holder through the correction path
  (`api/certificates._correct`), whatever the window or the cap say. That submission consumes it (`consume`) in the
  transaction that changes the record: the amendment becomes `used`, the record's version goes up by one, the
  public view of every version is kept (`certificate_version`) with the public fields that changed, the change is
  audited (`amend`) and the record gets its next credential version and log entry. A submission that changes
  nothing consumes nothing.
- The public record shows the version, when it was amended and the history of versions: which public fields
  changed when, never a private value; `public_version` serves an earlier version's public view.
- A revoked record cannot be amended, and its earlier versions are no longer served.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from . import links, records, rules
from .context import Context, iso
from .crypto import crockford
from .db import for_update, write_transaction
from .errors import RegistryError
from .mail import messages
from .mail.outbox import queue
from .models import Amendment, Certificate, CertificateVersion, Purchase
from .payments import PaymentProviderError, UnknownSession
from .states import AmendmentStatus

REF_PREFIX = "amd_"
_SESSION_ID = re.compile(r"[\x21-\x7e]{1,255}")
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def is_amendment_session(session: dict) -> bool:
    """A checkout session the registry started for an amendment (its reference says so)."""
    reference = session.get("client_reference_id")
    return isinstance(reference, str) and reference.startswith(REF_PREFIX)


def _new_ref(ctx: Context) -> str:
    return REF_PREFIX + crockford(int.from_bytes(ctx.random_bytes(10), "big")).rjust(16, "0")


def _revoked() -> RegistryError:
    return RegistryError("revoked", "This certificate has been revoked; it cannot be amended.")


# -- buying -----------------------------------------------------------------------------------------------------


def holder_record(ctx: Context, raw_token) -> tuple[Purchase, Certificate]:
    """The purchase and record of the holder presenting `raw_token` (the purchase token, as the private record
    routes take it)."""
    from . import delegation  # delegation imports purchases, which imports this module

    credential = delegation.resolve(ctx, raw_token)
    delegation.require_holder(credential, "buy or check an amendment")
    purchase = credential.purchase
    if not purchase.has_certificate:
        raise RegistryError("not_issued", "No certificate has been issued with this token yet.")
    return purchase, Certificate.get_by_id(purchase.certificate_id)


def _recovery_email(ctx: Context, purchase: Purchase) -> str:
    from .purchases import recovery_email

    return recovery_email(ctx, purchase)


def start_checkout(ctx: Context, purchase: Purchase, cert: Certificate) -> dict:
    """A Checkout Session for one amendment of `cert` (the holder's record, already resolved from the token). The
    recovery address goes to Stripe for the receipt, as at purchase, unless the retention policy deleted it."""
    if cert.is_revoked:
        raise _revoked()
    if records.lock_state(cert, ctx.clock()) is None:
        raise RegistryError(
            "not_locked",
            "Corrections are still open: change the record directly; an amendment is for a locked record.",
        )
    if unused(cert) is not None:
        raise RegistryError(
            "amendment_available", "A paid amendment is waiting to be used: submit the change with it first."
        )
    with write_transaction(ctx.db):
        amendment = Amendment.create(
            ref=_new_ref(ctx), certificate=cert.id, status=AmendmentStatus.PENDING, created_at=ctx.clock()
        )
    expires_at = int(
        (ctx.clock() + dt.timedelta(minutes=rules.CHECKOUT_EXPIRY_MINUTES)).replace(tzinfo=dt.UTC).timestamp()
    )
    try:
        email = None if purchase.email_purged_at is not None else _recovery_email(ctx, purchase)
        session = ctx.stripe.create_amendment_session(amendment_ref=amendment.ref, email=email, expires_at=expires_at)
    except PaymentProviderError:
        with ctx.db.atomic():
            Amendment.update(status=AmendmentStatus.FAILED, ended_at=ctx.clock()).where(
                Amendment.id == amendment.id
            ).execute()
        raise RegistryError(
            "payment_provider_error", "The payment provider could not start a checkout. Please try again shortly."
        ) from None
    with ctx.db.atomic():
        Amendment.update(stripe_session_id=session["id"]).where(Amendment.id == amendment.id).execute()
    return {"checkout_url": session["url"], "session_id": session["id"], "price": rules.AMENDMENT_PRICE_DISPLAY}


def unused(cert: Certificate) -> Amendment | None:
    """The record's paid amendment not used yet, if any."""
    return (
        Amendment.select()
        .where(Amendment.certificate == cert.id, Amendment.status == AmendmentStatus.PAID)
        .order_by(Amendment.id)
        .first()
    )


def _mark_paid(ctx: Context, amendment: Amendment, payment_intent: str | None) -> bool:
    """The single paid transition, with its email to the recovery address (none once the address was deleted under
    the retention policy). Call with the amendment row locked; False when it was already paid (or used)."""
    if amendment.status in (AmendmentStatus.PAID, AmendmentStatus.USED):
        return False
    now = ctx.clock()
    Amendment.update(
        status=AmendmentStatus.PAID,
        paid_at=now,
        stripe_payment_intent=amendment.stripe_payment_intent or payment_intent,
    ).where(Amendment.id == amendment.id).execute()
    cert = Certificate.get_by_id(amendment.certificate_id)
    purchase = Purchase.get(Purchase.certificate == cert.id)
    if purchase.email_purged_at is None:
        queue(
            ctx.keyring,
            kind="amendment_paid",
            to=_recovery_email(ctx, purchase),
            message=messages.amendment_paid(ctx.config.base_url, cert.public_id, cert.version + 1),
            idempotency_key=f"amendment-paid/{amendment.ref}",
            now=now,
            purchase=purchase,
        )
    return True


def _locked_for_session(session_id: str) -> Amendment | None:
    return for_update(Amendment.select().where(Amendment.stripe_session_id == session_id)).first()


def apply_event(ctx: Context, event_type: str, session: dict) -> str:
    """One verified Stripe event for an amendment session. Call inside the transaction that recorded the event id
    (api/purchases.handle_event), so a replay changes nothing and a failure rolls both back."""
    amendment = _locked_for_session(session["id"])
    if amendment is None or session.get("client_reference_id") != amendment.ref:
        return "not_ours"
    if event_type in PAID_EVENTS:
        if not rules.session_is_paid(session):
            return "awaiting_payment"
        return "amendment_paid" if _mark_paid(ctx, amendment, session.get("payment_intent")) else "already_paid"
    if amendment.status != AmendmentStatus.PENDING:
        return "unchanged"
    ended = AmendmentStatus.FAILED if event_type == "checkout.session.async_payment_failed" else AmendmentStatus.EXPIRED
    Amendment.update(status=ended, ended_at=ctx.clock()).where(Amendment.id == amendment.id).execute()
    return f"amendment_{ended}"


def status(ctx: Context, cert: Certificate, raw_session_id=None) -> dict:
    """The holder's amendment state: whether one is paid and waiting, and the price. With the session id the holder
    came back with, a checkout the registry has not yet seen paid is asked about at Stripe (events may be late)."""
    # Anything but a Stripe id (printable ASCII) is no session of ours, unasked (PostgreSQL refuses NUL).
    if isinstance(raw_session_id, str) and _SESSION_ID.fullmatch(raw_session_id):
        amendment = Amendment.get_or_none(
            Amendment.stripe_session_id == raw_session_id, Amendment.certificate == cert.id
        )
        if amendment is not None and amendment.status == AmendmentStatus.PENDING:
            _confirm_with_stripe(ctx, amendment)
    return {
        "available": unused(cert) is not None,
        "can_buy": not cert.is_revoked and records.lock_state(cert, ctx.clock()) is not None,
        "price": rules.AMENDMENT_PRICE_DISPLAY,
        "version": cert.version,
    }


def _confirm_with_stripe(ctx: Context, amendment: Amendment) -> None:
    try:
        session = ctx.stripe.retrieve_session(amendment.stripe_session_id)
    except UnknownSession:
        return
    except PaymentProviderError:
        raise RegistryError(
            "payment_provider_error", "Payment could not be confirmed just now. Try again shortly."
        ) from None
    if not rules.session_is_paid(session):
        return
    with write_transaction(ctx.db):
        locked = for_update(Amendment.select().where(Amendment.id == amendment.id)).get()
        _mark_paid(ctx, locked, session.get("payment_intent"))


# -- using ------------------------------------------------------------------------------------------------------


def locked_unused(cert: Certificate) -> Amendment | None:
    """The paid amendment a submission to a locked record would use, row-locked. Call inside the write
    transaction that holds the certificate row."""
    return for_update(
        Amendment.select()
        .where(Amendment.certificate == cert.id, Amendment.status == AmendmentStatus.PAID)
        .order_by(Amendment.id)
    ).first()


def _flat(value, prefix: str = "") -> dict:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict = {}
    for key, item in value.items():
        out.update(_flat(item, f"{prefix}.{key}" if prefix else key))
    return out


def changed_public_fields(before: Certificate, after: Certificate) -> list[str]:
    """The public field paths whose public value differs (a withheld value that changed stays unmentioned)."""
    old = _flat(records.public_record(before))
    new = _flat(records.public_record(after))
    return sorted(path for path in old.keys() | new.keys() if old.get(path) != new.get(path))


def _snapshot(cert: Certificate) -> str:
    view = records.public_view(cert, "")
    view.pop("public_url", None)
    return json.dumps(view, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def consume(ctx: Context, amendment: Amendment, before: Certificate, cert: Certificate, now: dt.datetime) -> list[str]:
    """The amending submission's own writes, after the changed record was saved: the amendment is used, the
    record's version goes up and each version's public view is kept. Call inside its write transaction, with the
    certificate and amendment rows locked. Returns the public fields that changed."""
    changed = changed_public_fields(before, cert)
    if cert.version == 1 and not CertificateVersion.select().where(CertificateVersion.certificate == cert.id).exists():
        CertificateVersion.create(
            certificate=cert.id, version=1, changed="", public_view=_snapshot(before), created_at=before.issued_at
        )
    cert.version += 1
    cert.amended_at = now
    Certificate.update(version=cert.version, amended_at=now).where(Certificate.id == cert.id).execute()
    CertificateVersion.create(
        certificate=cert.id,
        version=cert.version,
        changed=",".join(changed),
        public_view=_snapshot(cert),
        created_at=now,
    )
    Amendment.update(status=AmendmentStatus.USED, used_at=now, version=cert.version).where(
        Amendment.id == amendment.id
    ).execute()
    return changed


# -- reading ----------------------------------------------------------------------------------------------------


def history(cert: Certificate) -> list[dict]:
    """Every version of an amended record: its number, date and the public fields it changed."""
    if cert.version <= 1:
        return []
    rows = (
        CertificateVersion.select(CertificateVersion.version, CertificateVersion.created_at, CertificateVersion.changed)
        .where(CertificateVersion.certificate == cert.id)
        .order_by(CertificateVersion.version)
    )
    return [
        {"version": row.version, "date": iso(row.created_at), "changed": row.changed.split(",") if row.changed else []}
        for row in rows
    ]


def public_version(ctx: Context, cert: Certificate, raw_version) -> dict:
    """The public view of one version of the record (`?version=N`), with the record's history."""
    from .credentials import parse_version

    wanted = parse_version(raw_version)
    if cert.is_revoked:
        raise RegistryError("revoked", "This certificate has been revoked; its earlier versions are withdrawn.")
    if wanted == cert.version and cert.version == 1:
        view = records.public_view(cert, ctx.config.base_url)
    else:
        row = (
            CertificateVersion.select()
            .where(CertificateVersion.certificate == cert.id, CertificateVersion.version == wanted)
            .first()
        )
        if row is None:
            raise RegistryError("not_found", f"This record has no version {wanted}.")
        view = json.loads(row.public_view)
        view["public_url"] = links.public_url(ctx.config.base_url, cert.public_id)
    view["latest_version"] = cert.version
    if cert.version > 1:
        view["history"] = history(cert)
    return view
