"""Resending the private link (`POST /api/cert/resend`) and replacing it at the holder's request
(`POST /api/cert/resend/confirm`).

Rules kept here:
- Given an address, every paid purchase made with it is listed in ONE email to that address, with its private link
  when the registry holds a sealed copy of the current token (purchases paid before release 1.1 have none).
- The answer is the same, word for word and status, whether or not the address is known: nothing tells a caller
  whether an address bought anything. Only known addresses are written to.
- A fresh token is made only when the holder asks and proves it: the email carries a replacement link (signed with
  the registry's secret, valid REPLACE_LINK_HOURS, bound to the current token so it works once). Opening it replaces
  the token through `purchases.replace_token` (the old link stops working; the new one is emailed). Without a copy
  of the link the email always offers the replacement link, since it is the only way back in.
- Rate limits (api/resources/resend.py): per client, and per address, keyed on a keyed hash of the address.
- An address deleted under the retention policy is not known any more: nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json

from . import links, rules
from .context import Context, iso
from .crypto import b64d, b64e
from .db import for_update, write_transaction
from .errors import RegistryError
from .mail import messages
from .mail.outbox import queue
from .models import Certificate, Purchase
from .purchases import EMAIL_PURPOSE, link_token, replace_token
from .states import PurchaseStatus

ACCEPTED_MESSAGE = (
    "If purchases were made with this address, their private links have been emailed to it. "
    "Nothing is sent to an address the registry does not hold."
)
MAX_CODE_LENGTH = 300


def accepted_answer() -> dict:
    """The one answer to every well-formed resend request."""
    return {"status": "accepted", "message": ACCEPTED_MESSAGE}


def address_key(ctx: Context, email: str) -> str:
    """What the per-address rate limit counts on: a keyed hash, never the address itself."""
    return ctx.keyring.keyed_hash("resend-limit", email)


def require_email(raw) -> str:
    email = rules.normalize_email(raw)
    if email is None:
        raise RegistryError("invalid_email", "Enter a valid email address.")
    return email


def request_resend(ctx: Context, email: str, *, new_link: bool) -> int:
    """Email the address its purchases' private links; return how many purchases were listed (0 when unknown)."""
    email_hash = ctx.keyring.email_hash(email)
    found = list(
        Purchase.select()
        .where(
            Purchase.email_hash == email_hash,
            Purchase.status == PurchaseStatus.PAID,
            Purchase.email_purged_at.is_null(),
        )
        .order_by(Purchase.paid_at, Purchase.id)
    )
    found = [p for p in found if ctx.keyring.open(EMAIL_PURPOSE, p.email_enc) == email]  # guards a hash collision
    if not found:
        return 0
    now = ctx.clock()
    base = ctx.config.base_url
    entries = []
    for purchase in found:
        certificate = Certificate.get_by_id(purchase.certificate_id) if purchase.has_certificate else None
        token = link_token(ctx, purchase)
        revoked = certificate is not None and certificate.is_revoked
        replaceable = not revoked and (new_link or token is None)
        entries.append(
            messages.ResentLink(
                label=_label(purchase, certificate),
                private_url=links.private_url(base, token) if token else None,
                replace_url=_replace_url(ctx, purchase, now) if replaceable else None,
            )
        )
    with write_transaction(ctx.db):
        queue(
            ctx.keyring,
            kind="link_resent",
            to=email,
            message=messages.links_resent(base, entries, rules.REPLACE_LINK_HOURS),
            idempotency_key=f"link-resent/{email_hash[:16]}/{b64e(ctx.random_bytes(9))}",
            now=now,
            purchase=found[0],
        )
    return len(found)


def _label(purchase: Purchase, certificate: Certificate | None) -> str:
    if certificate is not None:
        state = " (revoked)" if certificate.is_revoked else ""
        return f"Certificate {certificate.public_id}{state}"
    deadline = rules.claim_deadline(purchase.paid_at)
    return f"Token paid on {purchase.paid_at:%d %B %Y}, not used yet (claim window closes {iso(deadline)})"


# -- the replacement link -------------------------------------------------------------------------------------------


def _signature(ctx: Context, body: str) -> str:
    return ctx.keyring.keyed_hash("replace-link", body)[:32]


def _replace_url(ctx: Context, purchase: Purchase, now: dt.datetime) -> str:
    expires = int((now + dt.timedelta(hours=rules.REPLACE_LINK_HOURS)).replace(tzinfo=dt.UTC).timestamp())
    body = b64e(json.dumps({"r": purchase.ref, "t": purchase.token_hash[:16], "e": expires}).encode())
    # In the fragment: never sent to a server by the browser, never in a Referer or an access log.
    return f"{ctx.config.base_url}/issue/#replace={body}.{_signature(ctx, body)}"


def _read_code(ctx: Context, raw) -> dict:
    invalid = RegistryError("invalid_replace_link", "This replacement link is not valid. Request a new email.")
    if not isinstance(raw, str) or not raw or len(raw) > MAX_CODE_LENGTH or raw.count(".") != 1:
        raise invalid from None
    body, signature = raw.split(".")
    if not hmac.compare_digest(signature.encode(), _signature(ctx, body).encode()):
        raise invalid from None
    try:
        data = json.loads(b64d(body))
        return {"ref": str(data["r"]), "token_hash": str(data["t"]), "expires": int(data["e"])}
    except (ValueError, KeyError, TypeError):
        raise invalid from None


def confirm_replacement(ctx: Context, raw_code) -> dict:
    """The holder opened the emailed replacement link: replace the token once, email the new link."""
    code = _read_code(ctx, raw_code)
    now = ctx.clock()
    if now.replace(tzinfo=dt.UTC).timestamp() > code["expires"]:
        raise RegistryError(
            "replace_link_expired",
            f"This replacement link has expired (it works for {rules.REPLACE_LINK_HOURS} hours). Request a new email.",
        )
    with write_transaction(ctx.db):
        purchase = for_update(Purchase.select().where(Purchase.ref == code["ref"])).first()
        if purchase is None:
            raise RegistryError("invalid_replace_link", "This replacement link is not valid. Request a new email.")
        if not purchase.token_hash.startswith(code["token_hash"]):
            raise RegistryError(
                "replace_link_used", "This link has already been replaced; the newest link is in the latest email."
            )
        certificate = Certificate.get_by_id(purchase.certificate_id) if purchase.has_certificate else None
        if certificate is not None and certificate.is_revoked:
            raise RegistryError("revoked", "This certificate has been revoked.")
        replace_token(ctx, purchase, certificate, requested_by_holder=True)
    return {
        "status": "replaced",
        "message": "A new private link has been emailed to the recovery address. The previous link no longer works.",
    }
