"""Purchases: checkout, payment confirmation (webhook and post-payment page), abandonment, test checkout,
token resolution and support rotation.

Rules kept here:
- The purchase row and its token exist from the moment checkout starts (status `pending`).
- A purchase becomes `paid` exactly once, through `_mark_paid`, under a row lock; that transition queues the
  private-link email and clears the server-sealed token. Nothing moves `paid` back. A session Stripe says is paid
  is paid, whatever arrived before: a checkout first seen `abandoned` or `failed` becomes paid with a new token
  (the ended checkout's token was cleared unsent), and the abandoned-checkout reminder, if not sent yet, is
  withdrawn.
- A Stripe event id is recorded in the same transaction as its effects: a replay, a duplicate or a concurrent
  second delivery changes nothing and sends nothing; a failure rolls both back so Stripe retries.
- `checkout.session.expired` marks only our own, still-unpaid purchases `abandoned`, and sends the reminder
  only when the same buyer has not paid in another checkout since.
- A checkout for a paid amendment (its reference starts `amd_`) is handled by `api/amendments.py` in the same
  transaction as its event id, with the same guarantees.
- The post-payment page gets the token only in the browser that started the checkout (the `gs_handoff`
  cookie); anyone else is told it was emailed.
- The current token is also kept sealed (`link_token_enc`) so the holder can have the link re-sent
  (api/resend.py) until the retention purge deletes it with the recovery address (api/retention.py).
- Replacing a token (support, or the holder through an emailed replacement link) goes through `replace_token`:
  the old token stops working at once, the holder is emailed the new link, and an issued certificate's audit
  trail records it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import peewee

from . import amendments, links, rules
from .context import Context, iso
from .crypto import crockford, new_token, normalize_token
from .db import Prepared, for_update, write_transaction
from .errors import RegistryError
from .mail import messages
from .mail.outbox import queue
from .models import AuditEvent, Certificate, OutboxMessage, Purchase, WebhookEvent
from .payments import PaymentProviderError, UnknownSession
from .states import OutboxStatus, PurchaseStatus, Source

TOKEN_PURPOSE = "token"
EMAIL_PURPOSE = "email"
LINK_PURPOSE = "link"
HANDLED_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
)


@dataclasses.dataclass(frozen=True)
class CheckoutStarted:
    session_id: str
    checkout_url: str
    binding: str


_SESSION_ID = re.compile(r"[\x21-\x7e]{1,255}")  # Stripe's ids are printable ASCII


def recovery_email(ctx: Context, purchase: Purchase) -> str:
    """The buyer's address, unsealed only to queue a message to it. Refused, saying why, once it was purged."""
    if purchase.email_purged_at is not None:
        raise RegistryError(
            "recovery_email_deleted",
            f"The recovery email address was deleted on {iso(purchase.email_purged_at)} under the retention policy "
            f"({rules.RETENTION_DAYS} days); the registry can no longer email this holder.",
        )
    return ctx.keyring.open(EMAIL_PURPOSE, purchase.email_enc)


def link_token(ctx: Context, purchase: Purchase) -> str | None:
    """The current token from its sealed copy, to re-send the private link; None when no copy is held."""
    if not purchase.link_token_enc:
        return None
    return ctx.keyring.open(LINK_PURPOSE, purchase.link_token_enc)


def _require_email(raw) -> str:
    email = rules.normalize_email(raw)
    if email is None:
        raise RegistryError("invalid_email", "Enter a valid recovery email address.")
    return email


def _new_ref(ctx: Context) -> str:
    return "pur_" + crockford(int.from_bytes(ctx.random_bytes(10), "big")).rjust(16, "0")


def _new_purchase(ctx: Context, email: str, token: str, **fields) -> Purchase:
    keyring = ctx.keyring
    return Purchase.create(
        ref=_new_ref(ctx),
        token_hash=keyring.token_hash(token),
        token_last4=token[-4:],
        email_hash=keyring.email_hash(email),
        email_enc=keyring.seal(EMAIL_PURPOSE, email),
        created_at=ctx.clock(),
        **fields,
    )


def start_checkout(ctx: Context, raw_email) -> CheckoutStarted:
    email = _require_email(raw_email)
    token = new_token(ctx.random_bytes)
    binding = ctx.keyring.new_binding()
    with write_transaction(ctx.db):
        purchase = _new_purchase(
            ctx,
            email,
            token,
            status=PurchaseStatus.PENDING,
            token_enc=ctx.keyring.seal(TOKEN_PURPOSE, token),
            handoff_binding_hash=ctx.keyring.binding_hash(binding),
            handoff_token_enc=ctx.keyring.seal_for_binding(binding, token),
        )
    expires_at = int(
        (ctx.clock() + dt.timedelta(minutes=rules.CHECKOUT_EXPIRY_MINUTES)).replace(tzinfo=dt.UTC).timestamp()
    )
    try:
        session = ctx.stripe.create_checkout_session(purchase_ref=purchase.ref, email=email, expires_at=expires_at)
    except PaymentProviderError:
        with ctx.db.atomic():
            Purchase.update(status=PurchaseStatus.FAILED, token_enc=None, handoff_token_enc=None).where(
                Purchase.id == purchase.id
            ).execute()
        raise RegistryError(
            "payment_provider_error", "The payment provider could not start a checkout. Please try again shortly."
        ) from None
    with ctx.db.atomic():
        Purchase.update(stripe_session_id=session["id"]).where(Purchase.id == purchase.id).execute()
    return CheckoutStarted(session_id=session["id"], checkout_url=session["url"], binding=binding)


WITHDRAWN_REMINDER = "withdrawn: the checkout was paid after all"


def _mark_paid(ctx: Context, purchase: Purchase, payment_intent: str | None = None) -> bool:
    """The single paid transition. Call with the purchase row locked; returns False when already paid."""
    if purchase.is_paid:
        return False
    now = ctx.clock()
    if purchase.token_enc is None:
        # Stripe said the checkout ended (expired, payment failed) and later that it is paid: events come in any
        # order. The ended checkout's sealed token was cleared and never reached anyone, so the buyer gets a new
        # one, by email like any other.
        token = new_token(ctx.random_bytes)
        purchase.token_hash = ctx.keyring.token_hash(token)
        purchase.token_last4 = token[-4:]
        purchase.handoff_token_enc = None
        Purchase.update(token_hash=purchase.token_hash, token_last4=purchase.token_last4, handoff_token_enc=None).where(
            Purchase.id == purchase.id
        ).execute()
        # "Your checkout was not completed", queued when it ended, is withdrawn if it has not gone yet.
        OutboxMessage.update(status=OutboxStatus.FAILED, payload_enc=None, last_error=WITHDRAWN_REMINDER).where(
            OutboxMessage.purchase == purchase.id,
            OutboxMessage.kind == "abandoned_reminder",
            OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.HELD)),
        ).execute()
    else:
        token = ctx.keyring.open(TOKEN_PURPOSE, purchase.token_enc)
    email = recovery_email(ctx, purchase)
    purchase.status = PurchaseStatus.PAID
    purchase.paid_at = now
    purchase.stripe_payment_intent = purchase.stripe_payment_intent or payment_intent
    purchase.token_enc = None  # from here the token lives sealed for resending, in the outbox and in the browser
    purchase.link_token_enc = ctx.keyring.seal(LINK_PURPOSE, token)
    MARK_PAID.execute(None, now, purchase.stripe_payment_intent, purchase.link_token_enc, purchase.id)
    queue(
        ctx.keyring,
        kind="private_link",
        to=email,
        message=messages.private_link(ctx.config.base_url, token),
        idempotency_key=f"private-link/{purchase.ref}",
        now=now,
        purchase=purchase,
    )
    return True


MARK_PAID = Prepared(
    Purchase,
    lambda shape, paid_at, payment_intent, link_token_enc, purchase_id: Purchase.update(
        {
            Purchase.status: PurchaseStatus.PAID,
            Purchase.paid_at: paid_at,
            Purchase.stripe_payment_intent: payment_intent,
            Purchase.token_enc: None,
            Purchase.link_token_enc: link_token_enc,
        }
    ).where(Purchase.id == purchase_id),
)
BY_SESSION = Prepared(
    Purchase, lambda shape, session_id: Purchase.select().where(Purchase.stripe_session_id == session_id)
)
BY_SESSION_LOCKED = Prepared(
    Purchase, lambda shape, session_id: for_update(Purchase.select().where(Purchase.stripe_session_id == session_id))
)
BY_TOKEN_HASH = Prepared(Purchase, lambda shape, token_hash: Purchase.select().where(Purchase.token_hash == token_hash))
# The purchase with its certificate, if issued, in one statement (api/delegation.py).
BY_TOKEN_HASH_WITH_CERTIFICATE = Prepared(
    Purchase,
    lambda shape, token_hash: (
        Purchase.select(Purchase, Certificate)
        .join(Certificate, peewee.JOIN.LEFT_OUTER, on=(Purchase.certificate == Certificate.id))
        .where(Purchase.token_hash == token_hash)
    ),
)
RECORD_EVENT = Prepared(
    WebhookEvent,
    lambda shape, event_id, event_type, processed_at: WebhookEvent.insert(
        event_id=event_id, event_type=event_type, processed_at=processed_at
    ).on_conflict_ignore(),
)


def _locked_purchase_for_session(session_id: str) -> Purchase | None:
    return BY_SESSION_LOCKED.first(session_id)


def handle_event(ctx: Context, event) -> str:
    """Apply one verified Stripe event exactly once. Returns what happened (for logs and tests)."""
    event_type = event["type"]
    if event_type not in HANDLED_EVENTS:
        return "ignored"
    session = event["data"]["object"]
    with write_transaction(ctx.db):
        # One statement: a replay, or a second delivery racing this one, inserts nothing (and waits for the first).
        if RECORD_EVENT.execute(None, event["id"], event_type, ctx.clock()).rowcount != 1:
            return "duplicate"
        if amendments.is_amendment_session(session):  # a paid amendment's checkout: same guarantees, own rows
            return amendments.apply_event(ctx, event_type, session)
        purchase = _locked_purchase_for_session(session["id"])
        if purchase is None or (session.get("client_reference_id") not in (None, purchase.ref)):
            return "not_ours"
        if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if not rules.session_is_paid(session):
                return "awaiting_payment"
            return "paid" if _mark_paid(ctx, purchase, session.get("payment_intent")) else "already_paid"
        if event_type == "checkout.session.async_payment_failed":
            if purchase.status != PurchaseStatus.PENDING:
                return "unchanged"
            Purchase.update(
                status=PurchaseStatus.FAILED, payment_failed_at=ctx.clock(), token_enc=None, handoff_token_enc=None
            ).where(Purchase.id == purchase.id).execute()
            return "payment_failed"
        return _abandon(ctx, purchase)


def _abandon(ctx: Context, purchase: Purchase) -> str:
    if purchase.status != PurchaseStatus.PENDING:
        return "unchanged"
    if purchase.email_purged_at is not None:
        return "unchanged"
    now = ctx.clock()
    Purchase.update(status=PurchaseStatus.ABANDONED, abandoned_at=now, token_enc=None, handoff_token_enc=None).where(
        Purchase.id == purchase.id
    ).execute()
    paid_since = (
        Purchase.select()
        .where(
            Purchase.email_hash == purchase.email_hash,
            Purchase.status == PurchaseStatus.PAID,
            Purchase.created_at >= purchase.created_at,
        )
        .exists()
    )
    if paid_since:
        return "abandoned_without_reminder"
    email = recovery_email(ctx, purchase)
    queue(
        ctx.keyring,
        kind="abandoned_reminder",
        to=email,
        message=messages.abandoned_reminder(ctx.config.base_url),
        idempotency_key=f"abandoned/{purchase.ref}",
        now=now,
        purchase=purchase,
    )
    return "abandoned"


def handoff(ctx: Context, session_id: str | None, binding: str | None) -> dict | None:
    """The post-payment page. Returns the token links for the bound browser, None for anyone else."""
    if not session_id or len(session_id) > 255:
        raise RegistryError("missing_session_id", "The session_id parameter is required.")
    purchase = None
    if _SESSION_ID.fullmatch(session_id):  # anything else (NUL, spaces, non-ASCII) is no session of ours
        purchase = BY_SESSION.first(session_id)
    if purchase is None:
        raise RegistryError("unknown_session", "This checkout session is not known to the registry.")
    if not purchase.is_paid:
        # Asked even for a checkout we saw end: Stripe's events can arrive in any order, and what Stripe says now
        # about the session decides.
        try:
            session = ctx.stripe.retrieve_session(session_id)
        except UnknownSession:
            raise RegistryError("unknown_session", "This checkout session is not known to the registry.") from None
        except PaymentProviderError:
            raise RegistryError(
                "payment_provider_error", "Payment could not be confirmed just now. Try again shortly."
            ) from None
        if not rules.session_is_paid(session):
            if purchase.is_unfinished:
                raise RegistryError(
                    "checkout_not_completed",
                    "This checkout was not completed and no payment was taken; no token was issued.",
                )
            raise RegistryError("not_paid", "Payment has not been confirmed yet.")
        with write_transaction(ctx.db):
            locked = _locked_purchase_for_session(session_id)
            assert locked is not None  # found above, and purchases are never deleted
            purchase = locked
            _mark_paid(ctx, purchase, session.get("payment_intent"))
        purchase = Purchase.get_by_id(purchase.id)
    if binding and purchase.handoff_token_enc and ctx.keyring.binding_hash(binding) == purchase.handoff_binding_hash:
        token = ctx.keyring.open_for_binding(binding, purchase.handoff_token_enc)
        return links.token_links(ctx.config.base_url, token)
    return None


def test_checkout(ctx: Context, raw_email) -> str:
    """The Stripe-free flow (only when GHOSTSHELL_TEST_CHECKOUT=1): a paid purchase and the same email path."""
    email = _require_email(raw_email)
    token = new_token(ctx.random_bytes)
    with write_transaction(ctx.db):
        purchase = _new_purchase(
            ctx,
            email,
            token,
            status=PurchaseStatus.PENDING,
            is_test=True,
            token_enc=ctx.keyring.seal(TOKEN_PURPOSE, token),
        )
        _mark_paid(ctx, purchase)
    return token


def resolve_token(ctx: Context, raw_token) -> Purchase:
    if raw_token is None or (isinstance(raw_token, str) and not raw_token.strip()):
        raise RegistryError(
            "missing_token", "A purchase token is required.", headers={"WWW-Authenticate": 'Bearer realm="ghostshell"'}
        )
    token = normalize_token(raw_token if isinstance(raw_token, str) else None)
    if token is None:
        raise RegistryError(
            "invalid_token",
            f"That is not a GhostShell purchase token ({rules.TOKEN_PREFIX}...).",
            headers={"WWW-Authenticate": 'Bearer realm="ghostshell", error="invalid_token"'},
        )
    purchase = BY_TOKEN_HASH.first(ctx.keyring.token_hash(token))
    if purchase is None:
        raise RegistryError("unknown_token", "This token is not recognised.")
    return purchase


def require_claimable(ctx: Context, purchase: Purchase) -> None:
    """A token that has not issued a certificate yet: paid, and inside its claim window."""
    if not purchase.is_paid:
        message = (
            "This checkout was not completed; no certificate can be issued with it."
            if purchase.is_unfinished
            else "Payment has not been confirmed yet."
        )
        raise RegistryError("not_paid", message)
    if ctx.clock() > rules.claim_deadline(purchase.paid_at):
        raise RegistryError(
            "claim_window_closed", f"The {rules.CLAIM_WINDOW_DAYS}-day claim window for this token has closed."
        )


def claim_status(ctx: Context, purchase: Purchase) -> dict:
    deadline = rules.claim_deadline(purchase.paid_at)
    seconds_left = max(0.0, (deadline - ctx.clock()).total_seconds())
    return {
        "claim_deadline": iso(deadline),
        "claim_days_left": int(-(-seconds_left // 86400)),
        "claim_open": seconds_left > 0,
    }


def rotate_token(ctx: Context, public_id: str) -> str:
    """Support: a new token for the certificate's purchase; the old one stops working, and so does any agent token
    it minted; the holder is emailed."""
    with write_transaction(ctx.db):
        certificate = Certificate.with_public_id(public_id).first()
        if certificate is None:
            raise RegistryError("not_found", f"No certificate {public_id}.")
        purchase = for_update(Purchase.select().where(Purchase.certificate == certificate)).first()
        if purchase is None:
            raise RegistryError("not_found", f"No purchase is linked to {public_id}.")
        return replace_token(ctx, purchase, certificate, requested_by_holder=False)


def replace_token(
    ctx: Context, purchase: Purchase, certificate: Certificate | None, *, requested_by_holder: bool
) -> str:
    """The one way a token is replaced. Call inside a write transaction with the purchase row locked. The old token
    and any agent token it minted stop working; the holder is emailed the new link (refused, changing nothing, when
    the recovery address was purged); an issued certificate's audit trail records the replacement."""
    email = recovery_email(ctx, purchase)
    token = new_token(ctx.random_bytes)
    now = ctx.clock()
    Purchase.update(
        token_hash=ctx.keyring.token_hash(token),
        token_last4=token[-4:],
        token_enc=None,
        handoff_token_enc=None,
        handoff_binding_hash=None,
        link_token_enc=ctx.keyring.seal(LINK_PURPOSE, token),
        token_rotated_at=now,
    ).where(Purchase.id == purchase.id).execute()
    from .delegation import revoke_all  # an agent token minted with the old token stops working too

    revoke_all(purchase, now)
    public_id = certificate.public_id if certificate is not None else None
    if certificate is not None:
        AuditEvent.create(
            certificate=certificate,
            action="rotate_token",
            source=Source.HUMAN if requested_by_holder else Source.SUPPORT,
            created_at=now,
            detail="token replaced at the holder's request" if requested_by_holder else "token rotated by support",
        )
    if requested_by_holder:
        message = messages.token_replaced(ctx.config.base_url, token, public_id)
    else:
        assert public_id is not None  # support rotates only an issued certificate's token (rotate_token)
        message = messages.token_rotated(ctx.config.base_url, token, public_id)
    queue(
        ctx.keyring,
        kind="token_rotated",
        to=email,
        message=message,
        idempotency_key=f"token-rotated/{purchase.ref}/{token[-8:]}",
        now=now,
        purchase=purchase,
    )
    return token
