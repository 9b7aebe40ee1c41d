"""Certificates: issue, correct, lock agent edits, read (token status, private record, lookup, search), revoke.

Rules kept here (docs/api.md; inventory §1.7-1.10, §4.4-4.9, with the §8 bugs fixed):
- The first submission of a paid, unused token inside its claim window issues the certificate. Everything
  happens in ONE write transaction with the purchase row locked: the card number comes from the year's counter
  row (one upsert `... RETURNING`, so a rollback returns the number and numbers have no gaps), the certificate is
  created, the token is consumed, the audit event written and the "issued" email queued. A first submission that
  loses a race for the same token gets `token_already_used` and creates nothing (bug 18, 20).
- Later submissions with the same token are corrections: a partial update (fields not sent are kept, bug 23),
  within CORRECTION_WINDOW_HOURS of issuance and MAX_SUBMISSIONS submissions in total, the first included. The
  checks run with the certificate row locked, so racing corrections cannot pass the cap (bug 19). Agent-sourced
  corrections are refused while the holder has locked agent edits. `registration_source` never changes (bug 22).
- Who acted is decided by the credential presented, not by a form field (api/delegation.py): the holder's purchase
  token submits as `human`, an agent token as `agent`, so the id's letter follows the credential.
- A correction that changes nothing (a resent submission: a lost answer, a second tab) is answered like a
  correction and consumes nothing: no count, no audit event, whatever the window, cap or agent lock. The
  Idempotency-Key that the site sends with each submission (api/idempotency.py) replays the first answer exactly.
- Every submission, the first included, and every lock change and revocation writes an audit event in the
  transaction that made it.
- Order of refusals: the token (unknown, not paid, claim window, revoked; for an agent token also revoked or
  locked out, and a sent `edit_source` that is not the credential's), then the fields, then the correction
  window and the cap. Nothing is written for a refused submission.
- Reading: the public view never shows private values (inventory §2.9, bug 7). Search is `api/search.py`.
  Public views are cached in process (api/public_cache.py): every write to a certificate calls `record_changed`
  in its transaction. The hot statements are written once (`Prepared`, `insert`, `update` in api/db.py).
- Revocation (the record side of a refund) keeps a stub: public id, status and date, nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from . import amendments, credentials, delegation, guidance, links, public_id, records, rules, validation
from .context import Context, iso
from .crypto import normalize_token
from .db import Prepared, for_update, insert, update, write_transaction
from .errors import RegistryError, invalid_field
from .mail import messages
from .mail.outbox import queue
from .models import AuditEvent, CardCounter, Certificate, Purchase, name_key
from .public_cache import View, record_added, record_changed
from .purchases import claim_status, recovery_email, require_claimable
from .states import CertificateStatus, ParentStatus, Source

MAX_REVOKE_REASON = 500
# A parent's private or register link: the token sits in the fragment (`#<token>` or `#token=<token>`).
_PARENT_TOKEN_IN_URL = re.compile(
    r"(?:[?&#]token=|#)(" + re.escape(rules.TOKEN_PREFIX.rstrip("-")) + r"[-\s0-9A-Za-z]+)", re.IGNORECASE
)


@dataclasses.dataclass(frozen=True)
class Redeemed:
    created: bool
    certificate: Certificate
    credential: delegation.Credential

    def answer(self, ctx: Context) -> dict:
        base = ctx.config.base_url
        body = {
            "public_id": self.certificate.public_id,
            "public_url": links.public_url(base, self.certificate.public_id),
            "edit_source": str(self.credential.source),
        }
        if not self.credential.is_agent:  # the private page is the holder's
            body["private_url"] = links.private_url(base, self.credential.token)
        if not self.created:
            body["edits_used"] = self.certificate.edit_count
            body["edits_left"] = records.edits_left(self.certificate, ctx.clock())
        return body


# -- issuing and correcting -------------------------------------------------------------------------------------


def redeem(ctx: Context, raw: dict, *, user_agent: str | None = None) -> Redeemed:
    """A submission through redeem-token: the first one issues the certificate, later ones correct it. The
    credential decides the source (api/delegation.py)."""
    credential = delegation.resolve(ctx, raw.get("token"))
    purchase = credential.purchase
    today = ctx.clock().date()
    if not purchase.has_certificate:
        require_claimable(ctx, purchase)
        source = delegation.submission_source(credential, raw.get("edit_source"))
        submission = validation.clean_submission(raw, today, first=True, source=source)
        parent = _resolve_parent(ctx, submission.fields.pop("parent_record"), own_purchase=purchase)
        return Redeemed(True, _issue(ctx, credential, submission, parent, user_agent), credential)
    if credential.certificate().is_revoked:
        raise _revoked()
    source = delegation.submission_source(credential, raw.get("edit_source"))
    submission = validation.clean_submission(raw, today, first=False, source=source)
    new_parent = None  # None: the correction leaves the parent as it is
    if "parent_record" in submission.fields:
        new_parent = _resolve_parent(ctx, submission.fields.pop("parent_record"), own_purchase=purchase)
    return Redeemed(False, _correct(ctx, credential, submission, new_parent, user_agent), credential)


def _issue(
    ctx: Context,
    credential: delegation.Credential,
    submission: validation.Submission,
    parent: tuple[str | None, str | None],
    user_agent: str | None,
) -> Certificate:
    purchase = credential.purchase
    email = recovery_email(ctx, purchase)  # sealed at checkout and never changed: unsealed outside the lock
    with write_transaction(ctx.db):
        locked = PURCHASE_LOCKED.first(purchase.id)
        if locked.token_hash != purchase.token_hash:
            raise RegistryError("unknown_token", "This token is not recognised.")
        delegation.require_agent_allowed(credential)
        if locked.has_certificate:
            raise RegistryError(
                "token_already_used", "This token has just been used to issue a certificate; reload to correct it."
            )
        require_claimable(ctx, locked)
        now = ctx.clock()
        year = now.year
        seq = _next_card_seq(year)
        new_id = public_id.format_id(submission.source, year, seq)
        fields = submission.fields
        cert = Certificate(
            public_id=new_id,
            public_id_key=public_id.key(new_id),
            card_year=year,
            card_seq=seq,
            registration_source=submission.source,
            issued_at=now,
            status=CertificateStatus.ACTIVE,
            name_key=name_key(fields["agent_name"]),
            parent_record=parent[0],
            parent_record_status=parent[1],
            edit_count=1,
            human_edit_count=1 if submission.source == Source.HUMAN else 0,
            agent_edit_count=1 if submission.source == Source.AGENT else 0,
            last_edited_at=now,
            last_edit_source=submission.source,
            lock_agent_edits=False,
            record_nonce=ctx.random_bytes(16).hex(),
            **fields,
        )
        records.seal(cert)
        insert(cert)
        record_added(ctx)
        USE_TOKEN.execute(None, cert.id, now, purchase.id)
        delegation.touch(ctx, credential)
        _audit(
            cert,
            "issue",
            submission.source,
            now,
            handle=submission.agent_handle,
            user_agent=user_agent,
            agent_token=credential.agent_token,
        )
        credentials.record_version(ctx, cert, "issue")
        # An agent's submission cannot carry the holder's private link: only its hash is kept.
        holder_token = None if credential.is_agent else credential.token
        queue(
            ctx.keyring,
            kind="certificate_issued",
            to=email,
            message=messages.certificate_issued(ctx.config.base_url, holder_token, new_id),
            idempotency_key=f"certificate-issued/{new_id}",
            now=now,
            purchase=locked,
        )
    return cert


PURCHASE_LOCKED = Prepared(
    Purchase, lambda shape, purchase_id: for_update(Purchase.select().where(Purchase.id == purchase_id))
)
USE_TOKEN = Prepared(
    Purchase,
    lambda shape, certificate_id, used_at, purchase_id: Purchase.update(
        {Purchase.certificate: certificate_id, Purchase.used_at: used_at}
    ).where(Purchase.id == purchase_id),
)
NEXT_CARD_SEQ = Prepared(
    CardCounter,
    lambda shape, year: (
        CardCounter.insert(year=year, seq=1)
        .on_conflict(conflict_target=[CardCounter.year], update={CardCounter.seq: CardCounter.seq + 1})
        .returning(CardCounter.seq)
    ),
)


def _next_card_seq(year: int) -> int:
    """The next card number of the year, from its counter row, in one statement (an upsert). Call inside the
    issuing transaction: the row stays locked until commit (serialising issuers), and a rollback gives the number
    back."""
    return NEXT_CARD_SEQ.execute(None, year).fetchone()[0]


def _correct(
    ctx: Context,
    credential: delegation.Credential,
    submission: validation.Submission,
    parent: tuple[str | None, str | None] | None,
    user_agent: str | None,
) -> Certificate:
    purchase = credential.purchase
    with write_transaction(ctx.db):
        # Certificate row first (the holder's lock switch takes it), then the purchase row (agent-token revocation
        # takes it): the agent's standing is re-checked with both held.
        cert = BY_ID_LOCKED.first(purchase.certificate_id)
        locked = PURCHASE_LOCKED.first(purchase.id)
        if locked.token_hash != purchase.token_hash:
            raise RegistryError("unknown_token", "This token is not recognised.")
        now = ctx.clock()
        if cert.is_revoked:
            raise _revoked()
        delegation.require_agent_allowed(credential, cert)
        fields = dict(submission.fields)
        if _changes_nothing(cert, fields, parent):
            # A resent submission (a lost answer, a second tab): the record already says this. Nothing is
            # consumed and nothing is written, whatever the window or the cap would allow.
            return cert
        amendment = None
        if records.lock_state(cert, now) is not None and not credential.is_agent:
            amendment = amendments.locked_unused(cert)  # the holder's paid amendment opens a locked record once
        if amendment is None:
            _require_correctable(cert, now)
        before = Certificate(**cert.__data__)  # an amendment records what its version changed
        validation.check_combination(
            fields.get("cognitive_core_family", cert.cognitive_core_family),
            fields.get("cognitive_core_exact", cert.cognitive_core_exact),
        )
        for name, value in fields.items():
            setattr(cert, name, value)
        if "agent_name" in fields:
            cert.name_key = name_key(cert.agent_name)
        if parent is not None:
            if parent[0] is not None and parent[0] == cert.public_id:
                raise invalid_field("parent_record", "A record cannot be its own parent.")
            cert.parent_record, cert.parent_record_status = parent
        if amendment is None:
            # An amendment is counted by the record's version, not as a submission: the submission counts and the
            # time of the last correction keep saying when the record locked.
            cert.edit_count += 1
            if submission.source == Source.AGENT:
                cert.agent_edit_count += 1
            else:
                cert.human_edit_count += 1
            cert.last_edited_at = now
            cert.last_edit_source = submission.source
        records.seal(cert)
        update(cert)
        if amendment is not None and before is not None:  # both or neither (above)
            amendments.consume(ctx, amendment, before, cert, now)
        record_changed(ctx, cert.public_id_key)
        delegation.touch(ctx, credential)
        changed = ",".join(sorted(fields) + (["parent_record"] if parent is not None else [])) or None
        _audit(
            cert,
            "correct" if amendment is None else "amend",
            submission.source,
            now,
            handle=submission.agent_handle,
            user_agent=user_agent,
            agent_token=credential.agent_token,
            detail=changed if amendment is None else f"version {cert.version}: {changed or ''}",
        )
        credentials.record_version(ctx, cert, "correct" if amendment is None else "amend")
    return cert


BY_ID = Prepared(Certificate, lambda shape, cert_id: Certificate.select().where(Certificate.id == cert_id))
BY_ID_LOCKED = Prepared(
    Certificate, lambda shape, cert_id: for_update(Certificate.select().where(Certificate.id == cert_id))
)


def _changes_nothing(cert: Certificate, fields: dict, parent: tuple[str | None, str | None] | None) -> bool:
    if any(getattr(cert, name) != value for name, value in fields.items()):
        return False
    return parent is None or (cert.parent_record, cert.parent_record_status) == parent


def _require_correctable(cert: Certificate, now: dt.datetime) -> None:
    reason = records.lock_state(cert, now)
    if reason == "window_closed":
        raise RegistryError(
            "correction_window_closed",
            f"The {rules.CORRECTION_WINDOW_HOURS}-hour correction window closed at "
            f"{iso(records.correction_deadline(cert))}; the record is now permanent.",
        )
    if reason == "cap_reached":
        raise RegistryError(
            "submission_cap_reached",
            f"All {rules.MAX_SUBMISSIONS} submissions have been used; the record is now permanent.",
        )


def _resolve_parent(ctx: Context, raw: str, *, own_purchase: Purchase) -> tuple[str | None, str | None]:
    """Inventory §4.9: a public id that exists -> claimed; the token of an issued certificate -> verified (the
    token itself is never stored); empty -> none; anything else is refused."""
    if not raw:
        return None, None
    field = "parent_record"
    if public_id.names_the_registry(raw):
        parent = Certificate.with_public_id(raw).first()
        if parent is None:
            raise invalid_field(field, "No certificate with that public id exists in the registry.")
        return parent.public_id, ParentStatus.CLAIMED
    match = _PARENT_TOKEN_IN_URL.search(raw)
    token = normalize_token(match.group(1) if match else raw)
    if token is None:
        raise invalid_field(
            field,
            f"Parent record format is invalid: give a public id ({public_id.export()['prefix']}...) "
            f"or the parent's token ({rules.TOKEN_PREFIX}...).",
        )
    holder = Purchase.get_or_none(Purchase.token_hash == ctx.keyring.token_hash(token))
    if holder is None or not holder.has_certificate:
        raise invalid_field(field, "That token has not issued a certificate.")
    if holder.id == own_purchase.id:
        raise invalid_field(field, "A record cannot be its own parent.")
    return Certificate.get_by_id(holder.certificate_id).public_id, ParentStatus.VERIFIED


def _audit(
    cert: Certificate,
    action: str,
    source: str,
    now: dt.datetime,
    *,
    handle: str | None = None,
    user_agent: str | None = None,
    detail: str | None = None,
    agent_token=None,
) -> None:
    insert(
        AuditEvent(
            certificate=cert,
            action=action,
            source=source,
            agent_handle=handle,
            agent_token=agent_token,
            user_agent=(user_agent or None) and user_agent[:300],
            detail=detail,
            created_at=now,
        )
    )


def _revoked() -> RegistryError:
    return RegistryError("revoked", "This certificate has been revoked.")


# -- the holder's switch ----------------------------------------------------------------------------------------


def set_agent_lock(ctx: Context, raw_token, raw_locked, *, user_agent: str | None = None) -> dict:
    """The holder's switch. An agent token is refused (403) before anything else is looked at."""
    credential = delegation.resolve(ctx, raw_token)
    delegation.require_holder(credential, "lock or unlock agent edits")
    purchase = credential.purchase
    locked = validation.clean_boolean("locked", raw_locked)
    if locked is None:
        raise invalid_field("locked", "locked must be true or false.")
    if not purchase.has_certificate:
        raise RegistryError("not_issued", "No certificate has been issued with this token yet.")
    with write_transaction(ctx.db):
        cert = for_update(Certificate.select().where(Certificate.id == purchase.certificate_id)).get()
        if cert.is_revoked:
            raise _revoked()
        if bool(cert.lock_agent_edits) != locked:
            Certificate.update(lock_agent_edits=locked).where(Certificate.id == cert.id).execute()
            record_changed(ctx, cert.public_id_key)
            _audit(cert, "lock" if locked else "unlock", Source.HUMAN, ctx.clock(), user_agent=user_agent)
    return {"lock_agent_edits": locked}


# -- reading ----------------------------------------------------------------------------------------------------


def token_status(ctx: Context, raw_token) -> dict:
    """What a token can do now: `new` (paid, unused, inside its claim window), or once it has issued its
    certificate `edit` or `locked` (window ended or cap reached, as the private page sees it). `credential` says
    whose token it is; a revoked or locked-out agent token is refused like everywhere else."""
    credential = delegation.resolve(ctx, raw_token)
    purchase = credential.purchase
    if not purchase.has_certificate:
        require_claimable(ctx, purchase)
        claim = claim_status(ctx, purchase)
        return {
            "mode": "new",
            "credential": credential.kind,
            "edit_source": str(credential.source),
            "locked": False,
            "claim_deadline": claim["claim_deadline"],
            "claim_days_left": claim["claim_days_left"],
            "max_submissions": rules.MAX_SUBMISSIONS,
            "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
            "message": f"Token valid: {claim['claim_days_left']} day(s) left to submit the initial details.",
            "next_step": guidance.next_step(ctx.config.base_url),
        }
    cert = credential.certificate()
    if cert.is_revoked:
        raise _revoked()
    now = ctx.clock()
    reason = records.lock_state(cert, now)
    # A paid amendment opens a locked record for one submission of the holder (api/amendments.py).
    amending = reason is not None and not credential.is_agent and amendments.unused(cert) is not None
    answer = {
        "mode": "locked" if reason and not amending else "edit",
        "credential": credential.kind,
        "edit_source": str(credential.source),
        "locked": reason is not None and not amending,
        "lock_reason": reason,
        "lock_reason_text": records.LOCK_REASON_TEXT.get(reason) if reason else None,
        "lock_at": iso(records.correction_deadline(cert)),
        "locked_since": iso(records.locked_since(cert, now)),
        "edits_used": cert.edit_count,
        "edits_left": 1 if amending else records.edits_left(cert, now),
        "max_submissions": rules.MAX_SUBMISSIONS,
        "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
        "lock_agent_edits": bool(cert.lock_agent_edits),
        "certificate": records.prefill(cert),
    }
    if amending:
        answer["amendment"] = True
        answer["message"] = (
            f"A paid amendment allows one more submission: it makes version {cert.version + 1} of the record."
        )
    return answer


def private_record(ctx: Context, raw_token, amendment_session=None) -> dict:
    """The holder's page: not yet issued (with the claim window), issued (the full record, and the state of a paid
    amendment: `amendment_session` is the checkout the holder is back from, api/amendments.status), or revoked. Once
    the recovery address was deleted under the retention policy, `recovery_email_deleted_at` says so."""
    credential = delegation.resolve(ctx, raw_token)
    delegation.require_holder(credential, "open the private record")
    purchase = credential.purchase
    answer = _private_record(ctx, purchase, amendment_session)
    if purchase.email_purged_at is not None:
        answer["recovery_email_deleted_at"] = iso(purchase.email_purged_at)
    return answer


def _private_record(ctx: Context, purchase: Purchase, amendment_session=None) -> dict:
    if not purchase.has_certificate:
        if not purchase.is_paid:
            require_claimable(ctx, purchase)  # raises not_paid
        claim = claim_status(ctx, purchase)
        return {"state": "not_issued", **claim}
    cert = BY_ID.first(purchase.certificate_id)
    if cert.is_revoked:
        return {
            "state": "revoked",
            "public_id": cert.public_id,
            "revoked_at": iso(cert.revoked_at),
            "certificate": records.revoked_stub(cert, ctx.config.base_url),
        }
    return {
        "state": "issued",
        "certificate": records.private_view(cert, ctx.config.base_url, ctx.clock()),
        "amendment": amendments.status(ctx, cert, amendment_session),
    }


@dataclasses.dataclass(frozen=True)
class Lookup:
    record: dict
    max_age: int  # seconds a cache may keep the answer
    view: View  # the record with its JSON body and ETag (api/public_cache.py)


BY_KEY = Prepared(Certificate, lambda shape, key: Certificate.select().where(Certificate.public_id_key == key))


def public_view(ctx: Context, cert: Certificate) -> View:
    """The public view of a certificate read from the database, as the cache keeps it."""
    closes_at = None if cert.is_revoked else records.correction_deadline(cert)
    view = records.public_view(cert, ctx.config.base_url)
    if not cert.is_revoked and cert.version > 1:
        view["history"] = amendments.history(cert)
    return View.of(view, closes_at)


def lookup(ctx: Context, raw_id, raw_version=None) -> Lookup:
    """The public view, from the process's cache (api/public_cache.py) or from the database; with a version, that
    version's public view (api/amendments.py)."""
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", f"Give a public record id, e.g. {public_id.export()['example']}.")
    key = public_id.key(raw_id)
    if raw_version not in (None, ""):
        cert = BY_KEY.first(key) if re.fullmatch(rf"[0-9A-Z]{{1,{public_id.MAX_LENGTH}}}", key) else None
        if cert is None:
            raise RegistryError("not_found", "No record with that id exists in the registry.")
        record = amendments.public_version(ctx, cert, raw_version)
        # An earlier version never changes; the latest can still be amended.
        return Lookup(record, 86400 if record["version"] < cert.version else 60, View.of(record, None))
    view = ctx.public_views.get(key)
    if view is None:
        started = ctx.public_views.begin_read()
        # Text that cannot be an id (NUL, symbols, too long) is no record, without asking PostgreSQL (it refuses NUL).
        cert = BY_KEY.first(key) if re.fullmatch(rf"[0-9A-Z]{{1,{public_id.MAX_LENGTH}}}", key) else None
        if cert is None:
            raise RegistryError("not_found", "No record with that id exists in the registry.")
        view = public_view(ctx, cert)
        ctx.public_views.put(key, view, started)
    # The record can still change during its correction window; after it only a paid amendment (api/amendments.py)
    # can, so caches may keep it an hour; a revocation is final.
    if view.closes_at is None:
        return Lookup(view.record, 86400, view)
    return Lookup(view.record, 3600 if ctx.clock() > view.closes_at else 60, view)


# -- support ----------------------------------------------------------------------------------------------------


def revoke(ctx: Context, public_id: str, reason: str) -> Certificate:
    """Support (`python -m api admin revoke`): the record side of a refund. Audited; the record becomes a stub."""
    reason = validation.clean_text("reason", reason, MAX_REVOKE_REASON, required=True)
    with write_transaction(ctx.db):
        cert = for_update(Certificate.with_public_id(public_id)).first()
        if cert is None:
            raise RegistryError("not_found", f"No certificate {public_id}.")
        if cert.is_revoked:
            raise RegistryError("conflict", f"{cert.public_id} is already revoked.")
        now = ctx.clock()
        cert.status = CertificateStatus.REVOKED
        cert.revoked_at = now
        cert.revoked_reason = reason
        update(cert)
        record_changed(ctx, cert.public_id_key)
        _audit(cert, "revoke", Source.SUPPORT, now, detail=reason)
        credentials.record_version(ctx, cert, "revoke")
    return cert
