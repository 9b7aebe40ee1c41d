"""Delegation: the holder's purchase token and the agent tokens it mints. Which credential acts decides who acted.

Rules kept here (docs/api.md, "Tokens and delegation"):
- The purchase token (prefix `rules.TOKEN_PREFIX`) is the holder's. Everything done with it is recorded as the
  holder's (`human`).
- The holder may mint an agent token (prefix `rules.AGENT_TOKEN_PREFIX`, 120 random bits, stored only as a keyed
  hash like the purchase token) and give it to the agent. At most one agent token per purchase is active:
  minting another revokes the previous one, and the holder may revoke it outright. Support's token rotation
  revokes it too.
- An agent token can make the first submission and corrections, always recorded as the agent's (`agent`), so the
  public id's letter (`A`/`H`) follows the credential that made the first submission, never a form field.
- An agent token cannot lock or unlock agent edits, mint or revoke agent tokens, read the holder's private record,
  or submit as `human`. It stops working the moment the holder locks agent edits or revokes it. These refusals are
  `403` and are checked before the fields, so a refused request consumes nothing.
- `edit_source`, when sent at all, must name the credential's own source.
"""

from __future__ import annotations

import dataclasses

from . import links, rules
from .context import Context, iso
from .crypto import new_agent_token, normalize_agent_token, normalize_token
from .db import for_update, write_transaction
from .errors import RegistryError, invalid_field
from .models import AgentToken, AuditEvent, Certificate, Purchase
from .purchases import BY_TOKEN_HASH_WITH_CERTIFICATE, require_claimable
from .states import Source

HOLDER = "holder"
AGENT = "agent"
SOURCE_BY_KIND = {HOLDER: Source.HUMAN, AGENT: Source.AGENT}


@dataclasses.dataclass(frozen=True)
class Credential:
    """A presented token, resolved: the purchase it acts on and, for an agent token, its row. For the holder's
    token the certificate it issued, if any, is read with the purchase (`issued`), as one snapshot: it is what the
    request saw, not a lock; writes read their rows again under the lock."""

    purchase: Purchase
    token: str  # canonical form
    agent_token: AgentToken | None = None
    issued: Certificate | None = None

    def certificate(self) -> Certificate:
        """The certificate the purchase issued (call only when it has one): as read with the purchase, or read now."""
        if self.issued is not None:
            return self.issued
        return Certificate.get_by_id(self.purchase.certificate_id)

    @property
    def kind(self) -> str:
        return AGENT if self.agent_token is not None else HOLDER

    @property
    def source(self) -> Source:
        """What the audit trail and the amendment counters record: `human` for the holder, `agent` for the agent."""
        return SOURCE_BY_KIND[self.kind]

    @property
    def is_agent(self) -> bool:
        return self.agent_token is not None


def resolve(ctx: Context, raw_token) -> Credential:
    """The credential a request presents, or the refusal: missing, malformed, unknown, or a revoked or locked-out
    agent token. The holder's token is refused later, by the rule it meets (not paid, revoked, windows)."""
    if raw_token is None or (isinstance(raw_token, str) and not raw_token.strip()):
        raise RegistryError(
            "missing_token",
            f"A token is required: the purchase token ({rules.TOKEN_PREFIX}…) or an agent token.",
            headers={"WWW-Authenticate": 'Bearer realm="ghostshell"'},
        )
    text = raw_token if isinstance(raw_token, str) else None
    holder_token = normalize_token(text)
    if holder_token is not None:
        found = BY_TOKEN_HASH_WITH_CERTIFICATE.joined_rows(Certificate, None, ctx.keyring.token_hash(holder_token))
        if not found:
            raise _unknown()
        purchase, issued = found[0]
        return Credential(purchase, holder_token, issued=issued)
    agent_token = normalize_agent_token(text)
    if agent_token is None:
        raise RegistryError(
            "invalid_token",
            f"That is not a GhostShell token: a purchase token ({rules.TOKEN_PREFIX}…) or an agent token "
            f"({rules.AGENT_TOKEN_PREFIX}…).",
            headers={"WWW-Authenticate": 'Bearer realm="ghostshell", error="invalid_token"'},
        )
    row = AgentToken.get_or_none(AgentToken.token_hash == ctx.keyring.agent_token_hash(agent_token))
    if row is None:
        raise _unknown()
    credential = Credential(Purchase.get_by_id(row.purchase_id), agent_token, row)
    require_agent_allowed(credential)
    return credential


def require_agent_allowed(credential: Credential, certificate: Certificate | None = None) -> None:
    """An agent token works only while it is the active one and the holder has not locked agent edits. Call again
    inside a write transaction, with the rows re-read, to close the race with the holder's switch."""
    if credential.agent_token is None:  # the holder's own token
        return
    row = AgentToken.get_by_id(credential.agent_token.id)
    if row.revoked_at is not None:
        raise RegistryError("agent_token_revoked", "The holder has revoked this agent token; it no longer works.")
    if certificate is None and credential.purchase.certificate_id is not None:
        certificate = Certificate.get_by_id(credential.purchase.certificate_id)
    if certificate is None:
        return
    if certificate.is_revoked:
        raise RegistryError("revoked", "This certificate has been revoked.")
    if certificate.lock_agent_edits:
        raise RegistryError(
            "agent_edits_locked", "The holder has locked agent edits; this agent token no longer works."
        )


def require_holder(credential: Credential, action: str) -> None:
    """Refuse an agent token for what only the holder may do (`action` completes "Only the holder's purchase token
    can …")."""
    if credential.is_agent:
        raise RegistryError(
            "holder_token_required", f"Only the holder's purchase token can {action}; an agent token cannot."
        )


def submission_source(credential: Credential, raw_edit_source) -> Source:
    """The source a submission is recorded with: the credential's. A sent `edit_source` must agree with it."""
    source = credential.source
    if raw_edit_source is None or raw_edit_source == "":
        return source
    if not isinstance(raw_edit_source, str) or raw_edit_source.strip().lower() not in SOURCE_BY_KIND.values():
        raise invalid_field("edit_source", "Edit source must be human or agent.")
    if raw_edit_source.strip().lower() == source:
        return source
    if credential.is_agent:
        raise RegistryError(
            "edit_source_not_permitted",
            "An agent token submits as the agent; only the holder's purchase token submits as human.",
        )
    raise RegistryError(
        "edit_source_not_permitted",
        "The purchase token is the holder's, so its submissions are recorded as human. To let the agent submit, "
        "make an agent token (POST /api/cert/agent-token) and give it to the agent.",
    )


def touch(ctx: Context, credential: Credential) -> None:
    """Record that an agent token was used (inside the submission's transaction)."""
    if credential.agent_token is not None:
        AgentToken.update(last_used_at=ctx.clock()).where(AgentToken.id == credential.agent_token.id).execute()


# -- the holder's controls --------------------------------------------------------------------------------------


def _usable_purchase(ctx: Context, credential: Credential) -> Certificate | None:
    purchase = credential.purchase
    if not purchase.has_certificate:
        require_claimable(ctx, purchase)  # paid, inside the claim window
        return None
    certificate = Certificate.get_by_id(purchase.certificate_id)
    if certificate.is_revoked:
        raise RegistryError("revoked", "This certificate has been revoked.")
    return certificate


def mint(ctx: Context, credential: Credential, *, user_agent: str | None = None) -> dict:
    """A new agent token for the holder to give to the agent; any active one is revoked in the same transaction.
    The token is returned once and never stored in plaintext."""
    require_holder(credential, "make an agent token")
    _usable_purchase(ctx, credential)
    token = new_agent_token(ctx.random_bytes)
    with write_transaction(ctx.db):
        purchase = for_update(Purchase.select().where(Purchase.id == credential.purchase.id)).get()
        if purchase.token_hash != credential.purchase.token_hash:
            raise _unknown()
        now = ctx.clock()
        replaced = _revoke_active(purchase, now)
        row = AgentToken.create(
            purchase=purchase,
            token_hash=ctx.keyring.agent_token_hash(token),
            token_last4=token[-4:],
            created_at=now,
        )
        _audit(purchase, row, "minted" + (" (previous agent token revoked)" if replaced else ""), now, user_agent)
    base = ctx.config.base_url
    return {
        "agent_token": token,
        "created_at": iso(now),
        "replaced": replaced,
        "agent_url": links.register_url(base, token, "agent"),
        "llms_txt_url": base + "/llms.txt",
        "instructions_url": base + "/api/agent/instructions",
    }


def revoke(ctx: Context, credential: Credential, *, user_agent: str | None = None) -> dict:
    require_holder(credential, "revoke the agent token")
    with write_transaction(ctx.db):
        purchase = for_update(Purchase.select().where(Purchase.id == credential.purchase.id)).get()
        now = ctx.clock()
        active = _active(purchase)
        revoked = _revoke_active(purchase, now)
        if revoked:
            _audit(purchase, active, "revoked", now, user_agent)
    return {"revoked": revoked}


def status(ctx: Context, credential: Credential) -> dict:
    require_holder(credential, "see the agent token's state")
    row = _active(credential.purchase)
    if row is None:
        return {"active": False}
    return {
        "active": True,
        "token_last4": row.token_last4,
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
    }


def revoke_all(purchase: Purchase, now) -> bool:
    """Support's token rotation: the holder's old token may have leaked, and with it whatever it minted."""
    return _revoke_active(purchase, now)


def _active(purchase: Purchase) -> AgentToken | None:
    return (
        AgentToken.select()
        .where(AgentToken.purchase == purchase.id, AgentToken.revoked_at.is_null())
        .order_by(AgentToken.id.desc())
        .first()
    )


def _revoke_active(purchase: Purchase, now) -> bool:
    query = AgentToken.update(revoked_at=now).where(AgentToken.purchase == purchase.id, AgentToken.revoked_at.is_null())
    return query.execute() > 0


def _audit(purchase: Purchase, row: AgentToken | None, detail: str, now, user_agent: str | None) -> None:
    # The audit trail hangs off certificates; before issuance the agent_token rows are the record.
    if purchase.certificate_id is None:
        return
    AuditEvent.create(
        certificate=purchase.certificate_id,
        action="agent_token",
        source=Source.HUMAN,
        agent_token=row,
        user_agent=(user_agent or None) and user_agent[:300],
        detail=detail,
        created_at=now,
    )


def _unknown() -> RegistryError:
    return RegistryError("unknown_token", "This token is not recognised.")
