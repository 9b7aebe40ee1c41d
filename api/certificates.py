"""Certificates: issue, correct, lock agent edits, read (token status, private record, lookup, search), revoke.

Rules kept here (docs/api.md; inventory §1.7-1.10, §4.4-4.9, with the §8 bugs fixed):
- The first submission of a paid, unused token inside its claim window issues the certificate. Everything
  happens in ONE write transaction with the purchase row locked: the card number comes from the year's counter
  row (`UPDATE ... RETURNING`, so a rollback returns the number and numbers have no gaps), the certificate is
  created, the token is consumed, the audit event written and the "issued" email queued. A first submission that
  loses a race for the same token gets `token_already_used` and creates nothing (bug 18, 20).
- Later submissions with the same token are corrections: a partial update (fields not sent are kept, bug 23),
  within CORRECTION_WINDOW_HOURS of issuance and MAX_SUBMISSIONS submissions in total, the first included. The
  checks run with the certificate row locked, so racing corrections cannot pass the cap (bug 19). Agent-sourced
  corrections are refused while the holder has locked agent edits. `registration_source` never changes (bug 22).
- Every submission, the first included, and every lock change and revocation writes an audit event in the
  transaction that made it.
- Order of refusals: the token (unknown, not paid, claim window, revoked), then the fields, then the correction
  window, the cap and the agent lock. Nothing is written for a refused submission.
- Reading: the public view never shows private values (inventory §2.9, bug 7); search answers from the indexes
  on `public_id_key` and `(listed, name_key, id)` with keyset paging, and lists names only for opted-in records.
- Revocation (the record side of a refund) keeps a stub: public id, status and date, nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

from . import links, records, rules, validation
from .context import Context, iso
from .crypto import b64d, b64e, crockford, normalize_token
from .db import for_update, write_transaction
from .errors import RegistryError, invalid_field
from .mail import messages
from .mail.outbox import queue
from .models import AuditEvent, CardCounter, Certificate, Purchase, name_key, public_id_key
from .purchases import claim_status, recovery_email, require_claimable, resolve_token

SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 50
SEARCH_MAX_QUERY = 100
MAX_REVOKE_REASON = 500
_ID_KEY_CHARS = re.compile(r"^[0-9A-Z]+$")
_PARENT_TOKEN_IN_URL = re.compile(r"(?:[?&#]token=|#)(GSTK[-\s0-9A-Za-z]+)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Redeemed:
    created: bool
    certificate: Certificate
    token: str

    def answer(self, ctx: Context) -> dict:
        base = ctx.config.base_url
        body = {
            "public_id": self.certificate.public_id,
            "public_url": links.public_url(base, self.certificate.public_id),
            "private_url": links.private_url(base, self.token),
        }
        if not self.created:
            body["edits_used"] = self.certificate.edit_count
            body["edits_left"] = records.edits_left(self.certificate, ctx.clock())
        return body


# -- keys -------------------------------------------------------------------------------------------------------


def _next_prefix(prefix: str) -> str | None:
    """The smallest string above every string that starts with `prefix` (code-point order, which is the byte
    order of UTF-8 and so of SQLite's BINARY and PostgreSQL's "C" collation). None when there is none."""
    for index in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[index]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:index] + chr(code)
    return None


# -- issuing and correcting -------------------------------------------------------------------------------------


def redeem(ctx: Context, raw: dict, *, user_agent: str | None = None) -> Redeemed:
    """A submission through redeem-token: the first one issues the certificate, later ones correct it."""
    purchase = resolve_token(ctx, raw.get("token"))
    token = normalize_token(raw.get("token"))
    today = ctx.clock().date()
    if purchase.certificate_id is None:
        require_claimable(ctx, purchase)
        submission = validation.clean_submission(raw, today, first=True)
        parent = _resolve_parent(ctx, submission.fields.pop("parent_record"), own_purchase=purchase)
        return Redeemed(True, _issue(ctx, purchase, token, submission, parent, user_agent), token)
    if Certificate.get_by_id(purchase.certificate_id).status == "revoked":
        raise _revoked()
    submission = validation.clean_submission(raw, today, first=False)
    parent = None
    if "parent_record" in submission.fields:
        parent = _resolve_parent(ctx, submission.fields.pop("parent_record"), own_purchase=purchase)
    return Redeemed(False, _correct(ctx, purchase, submission, parent, user_agent), token)


def _issue(
    ctx: Context,
    purchase: Purchase,
    token: str,
    submission: validation.Submission,
    parent: tuple[str | None, str | None],
    user_agent: str | None,
) -> Certificate:
    with write_transaction(ctx.db):
        locked = for_update(Purchase.select().where(Purchase.id == purchase.id)).get()
        if locked.token_hash != purchase.token_hash:
            raise RegistryError("unknown_token", "This token is not recognised.")
        if locked.certificate_id is not None:
            raise RegistryError(
                "token_already_used", "This token has just been used to issue a certificate; reload to correct it."
            )
        require_claimable(ctx, locked)
        now = ctx.clock()
        year = now.year
        seq = _next_card_seq(year)
        letter = "A" if submission.source == "agent" else "H"
        public_id = f"GS-BC-{letter}-{year % 100:02d}-{crockford(seq)}"
        fields = submission.fields
        cert = Certificate(
            public_id=public_id,
            public_id_key=public_id_key(public_id),
            card_year=year,
            card_seq=seq,
            registration_source=submission.source,
            issued_at=now,
            status="active",
            name_key=name_key(fields["agent_name"]),
            parent_record=parent[0],
            parent_record_status=parent[1],
            edit_count=1,
            human_edit_count=1 if submission.source == "human" else 0,
            agent_edit_count=1 if submission.source == "agent" else 0,
            last_edited_at=now,
            last_edit_source=submission.source,
            lock_agent_edits=False,
            record_nonce=ctx.random_bytes(16).hex(),
            **fields,
        )
        records.seal(cert)
        cert.save(force_insert=True)
        Purchase.update(certificate=cert, used_at=now).where(Purchase.id == purchase.id).execute()
        _audit(cert, "issue", submission.source, now, handle=submission.agent_handle, user_agent=user_agent)
        email = recovery_email(ctx, locked)
        queue(
            ctx.keyring,
            kind="certificate_issued",
            to=email,
            message=messages.certificate_issued(ctx.config.base_url, token, public_id),
            idempotency_key=f"certificate-issued/{public_id}",
            now=now,
            purchase=locked,
        )
    return cert


def _next_card_seq(year: int) -> int:
    """The next card number of the year, from its counter row. Call inside the issuing transaction: the row stays
    locked until commit (serialising issuers), and a rollback gives the number back."""
    CardCounter.insert(year=year, seq=0).on_conflict_ignore().execute()
    rows = list(
        CardCounter.update(seq=CardCounter.seq + 1).where(CardCounter.year == year).returning(CardCounter.seq).execute()
    )
    return rows[0].seq


def _correct(
    ctx: Context,
    purchase: Purchase,
    submission: validation.Submission,
    parent: tuple[str | None, str | None] | None,
    user_agent: str | None,
) -> Certificate:
    with write_transaction(ctx.db):
        cert = for_update(Certificate.select().where(Certificate.id == purchase.certificate_id)).get()
        if not Purchase.select().where(Purchase.id == purchase.id, Purchase.token_hash == purchase.token_hash).exists():
            raise RegistryError("unknown_token", "This token is not recognised.")
        now = ctx.clock()
        _require_correctable(cert, submission.source, now)
        fields = dict(submission.fields)
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
        cert.edit_count += 1
        if submission.source == "agent":
            cert.agent_edit_count += 1
        else:
            cert.human_edit_count += 1
        cert.last_edited_at = now
        cert.last_edit_source = submission.source
        records.seal(cert)
        cert.save()
        _audit(
            cert,
            "correct",
            submission.source,
            now,
            handle=submission.agent_handle,
            user_agent=user_agent,
            detail=",".join(sorted(fields) + (["parent_record"] if parent is not None else [])) or None,
        )
    return cert


def _require_correctable(cert: Certificate, source: str, now: dt.datetime) -> None:
    if cert.status == "revoked":
        raise _revoked()
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
    if source == "agent" and cert.lock_agent_edits:
        raise RegistryError("agent_edits_locked", "The holder has locked corrections made by the agent.")


def _resolve_parent(ctx: Context, raw: str, *, own_purchase: Purchase) -> tuple[str | None, str | None]:
    """Inventory §4.9: a public id that exists -> claimed; the token of an issued certificate -> verified (the
    token itself is never stored); empty -> none; anything else is refused."""
    if not raw:
        return None, None
    field = "parent_record"
    if public_id_key(raw).startswith("GSBC"):
        parent = Certificate.with_public_id(raw).first()
        if parent is None:
            raise invalid_field(field, "No certificate with that public id exists in the registry.")
        return parent.public_id, "claimed"
    match = _PARENT_TOKEN_IN_URL.search(raw)
    token = normalize_token(match.group(1) if match else raw)
    if token is None:
        raise invalid_field(
            field, "Parent record format is invalid: give a public id (GS-BC-...) or the parent's token (GSTK-...)."
        )
    holder = Purchase.get_or_none(Purchase.token_hash == ctx.keyring.token_hash(token))
    if holder is None or holder.certificate_id is None:
        raise invalid_field(field, "That token has not issued a certificate.")
    if holder.id == own_purchase.id:
        raise invalid_field(field, "A record cannot be its own parent.")
    return Certificate.get_by_id(holder.certificate_id).public_id, "verified"


def _audit(
    cert: Certificate,
    action: str,
    source: str,
    now: dt.datetime,
    *,
    handle: str | None = None,
    user_agent: str | None = None,
    detail: str | None = None,
) -> None:
    AuditEvent.create(
        certificate=cert,
        action=action,
        source=source,
        agent_handle=handle,
        user_agent=(user_agent or None) and user_agent[:300],
        detail=detail,
        created_at=now,
    )


def _revoked() -> RegistryError:
    return RegistryError("revoked", "This certificate has been revoked.")


# -- the holder's switch ----------------------------------------------------------------------------------------


def set_agent_lock(ctx: Context, raw_token, raw_locked, *, user_agent: str | None = None) -> dict:
    purchase = resolve_token(ctx, raw_token)
    locked = validation.clean_boolean("locked", raw_locked)
    if locked is None:
        raise invalid_field("locked", "locked must be true or false.")
    if purchase.certificate_id is None:
        raise RegistryError("not_issued", "No certificate has been issued with this token yet.")
    with write_transaction(ctx.db):
        cert = for_update(Certificate.select().where(Certificate.id == purchase.certificate_id)).get()
        if cert.status == "revoked":
            raise _revoked()
        if bool(cert.lock_agent_edits) != locked:
            Certificate.update(lock_agent_edits=locked).where(Certificate.id == cert.id).execute()
            _audit(cert, "lock" if locked else "unlock", "human", ctx.clock(), user_agent=user_agent)
    return {"lock_agent_edits": locked}


# -- reading ----------------------------------------------------------------------------------------------------


def token_status(ctx: Context, raw_token) -> dict:
    """What a token can do now: `new` (paid, unused, inside its claim window), or once it has issued its
    certificate `edit` or `locked` (window ended or cap reached, as the private page sees it)."""
    purchase = resolve_token(ctx, raw_token)
    if purchase.certificate_id is None:
        require_claimable(ctx, purchase)
        claim = claim_status(ctx, purchase)
        return {
            "mode": "new",
            "locked": False,
            "claim_deadline": claim["claim_deadline"],
            "claim_days_left": claim["claim_days_left"],
            "max_submissions": rules.MAX_SUBMISSIONS,
            "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
            "message": f"Token valid: {claim['claim_days_left']} day(s) left to submit the initial details.",
        }
    cert = Certificate.get_by_id(purchase.certificate_id)
    if cert.status == "revoked":
        raise _revoked()
    now = ctx.clock()
    reason = records.lock_state(cert, now)
    return {
        "mode": "locked" if reason else "edit",
        "locked": reason is not None,
        "lock_reason": reason,
        "lock_reason_text": records.LOCK_REASON_TEXT.get(reason),
        "lock_at": iso(records.correction_deadline(cert)),
        "edits_used": cert.edit_count,
        "edits_left": records.edits_left(cert, now),
        "max_submissions": rules.MAX_SUBMISSIONS,
        "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
        "lock_agent_edits": bool(cert.lock_agent_edits),
        "certificate": records.prefill(cert),
    }


def private_record(ctx: Context, raw_token) -> dict:
    """The holder's page: not yet issued (with the claim window), issued (the full record), or revoked."""
    purchase = resolve_token(ctx, raw_token)
    if purchase.certificate_id is None:
        if purchase.status != "paid":
            require_claimable(ctx, purchase)  # raises not_paid
        claim = claim_status(ctx, purchase)
        return {"state": "not_issued", **claim}
    cert = Certificate.get_by_id(purchase.certificate_id)
    if cert.status == "revoked":
        return {
            "state": "revoked",
            "public_id": cert.public_id,
            "revoked_at": iso(cert.revoked_at),
            "certificate": records.revoked_stub(cert, ctx.config.base_url),
        }
    return {"state": "issued", "certificate": records.private_view(cert, ctx.config.base_url, ctx.clock())}


@dataclasses.dataclass(frozen=True)
class Lookup:
    record: dict
    max_age: int  # seconds a cache may keep the answer


def lookup(ctx: Context, raw_id) -> Lookup:
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", "Give a public record id, e.g. GS-BC-H-26-1.")
    cert = Certificate.with_public_id(raw_id).first()
    if cert is None:
        raise RegistryError("not_found", "No record with that id exists in the registry.")
    # The record can still change during its correction window; after it only a revocation can.
    closed = cert.status == "revoked" or ctx.clock() > records.correction_deadline(cert)
    return Lookup(records.public_view(cert, ctx.config.base_url), 86400 if closed else 60)


def id_prefix_query(key: str, after: str | None = None):
    """Records whose public id starts with `key` (stored form), in `public_id_key` order: a range on its unique
    index."""
    if after is not None and after >= key:
        query = Certificate.select().where(Certificate.public_id_key > after)
    else:
        query = Certificate.select().where(Certificate.public_id_key >= key)
    upper = _next_prefix(key)
    if upper is not None:
        query = query.where(Certificate.public_id_key < upper)
    return query.order_by(Certificate.public_id_key)


def name_prefix_query(prefix: str, after: tuple[str, int] | None = None, exclude_id_key: str | None = None):
    """Listed, active records whose name starts with `prefix` (name_key form), in (name_key, id) order: a range on
    the (listed, name_key, id) index. `exclude_id_key` leaves out what the id phase already returned."""
    lower = prefix if after is None or after[0] < prefix else after[0]
    query = Certificate.select().where(Certificate.listed == True)  # noqa: E712
    if lower:  # an empty prefix (the directory) walks the index from its start
        query = query.where(Certificate.name_key >= lower)
    upper = _next_prefix(prefix)
    if upper is not None:
        query = query.where(Certificate.name_key < upper)
    if after is not None:
        query = query.where((Certificate.name_key > after[0]) | (Certificate.id > after[1]))
    query = query.where(Certificate.status == "active")
    if exclude_id_key:
        excluded = Certificate.public_id_key >= exclude_id_key
        upper_id = _next_prefix(exclude_id_key)
        if upper_id is not None:
            excluded &= Certificate.public_id_key < upper_id
        query = query.where(~excluded)
    return query.order_by(Certificate.name_key, Certificate.id)


def search_id_key(q: str) -> str | None:
    """The id prefix a query stands for, when it looks like one: `GS-BC-H-26`, `gsbch26`, or `H-26-1` without the
    registry prefix."""
    key = public_id_key(q)
    if not _ID_KEY_CHARS.match(key):
        return None
    if key.startswith("GS"):
        return key if len(key) >= 2 else None
    if re.match(r"^[AH]\d{2}", key):
        return "GSBC" + key
    return None


def search(ctx: Context, raw_q, raw_limit=None, raw_cursor=None) -> dict:
    """Two phases, each a keyset walk over an index: id prefix over every record, then name prefix over listed
    ones. The cursor says where the walk stopped. An empty query browses the directory: every listed record, by
    name."""
    q = validation.clean_text("q", raw_q if raw_q is not None else "", SEARCH_MAX_QUERY)
    limit = _search_limit(raw_limit)
    phase, after = _read_cursor(raw_cursor)
    base = ctx.config.base_url
    key = search_id_key(q)
    results: list[Certificate] = []
    next_cursor = None

    if phase == 1:
        if key:
            found = list(id_prefix_query(key, after).limit(limit + 1))
            results.extend(found[:limit])
            if len(found) > limit:
                next_cursor = _write_cursor(1, results[-1].public_id_key)
        after = None

    room = limit - len(results)
    # A key such as "GS" or "GSB" matches every record by id: a name phase would only find duplicates.
    if next_cursor is None and not (key and "GSBC".startswith(key)):
        # With a full page already, one row is fetched only to learn whether the name phase has more.
        found = list(name_prefix_query(name_key(q), after, exclude_id_key=key).limit(room + 1))
        results.extend(found[:room])
        if len(found) > room:
            last = results[-1] if room else None
            next_cursor = _write_cursor(2, [last.name_key, last.id] if last else None)
    return {"results": [records.public_view(cert, base) for cert in results], "next_cursor": next_cursor}


def _search_limit(raw) -> int:
    if raw is None or raw == "":
        return SEARCH_DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.")
    if not 1 <= limit <= SEARCH_MAX_LIMIT:
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.")
    return limit


def _write_cursor(phase: int, after) -> str:
    return b64e(json.dumps({"p": phase, "a": after}, separators=(",", ":")).encode())


def _read_cursor(raw) -> tuple[int, object]:
    if raw is None or raw == "":
        return 1, None
    try:
        if len(raw) > 600:
            raise ValueError
        data = json.loads(b64d(raw))
        phase, after = data["p"], data["a"]
        if phase == 1 and isinstance(after, str) and len(after) <= 40:
            return 1, after
        if phase == 2 and after is None:
            return 2, None
        if (
            phase == 2
            and isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], str)
            and isinstance(after[1], int)
            and not isinstance(after[1], bool)
        ):
            return 2, (after[0], after[1])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        pass
    raise RegistryError("invalid_cursor", "The cursor is not valid; start the search again without it.")


# -- support ----------------------------------------------------------------------------------------------------


def revoke(ctx: Context, public_id: str, reason: str) -> Certificate:
    """Support (`python -m api admin revoke`): the record side of a refund. Audited; the record becomes a stub."""
    reason = validation.clean_text("reason", reason, MAX_REVOKE_REASON, required=True)
    with write_transaction(ctx.db):
        cert = for_update(Certificate.with_public_id(public_id)).first()
        if cert is None:
            raise RegistryError("not_found", f"No certificate {public_id}.")
        if cert.status == "revoked":
            raise RegistryError("conflict", f"{cert.public_id} is already revoked.")
        now = ctx.clock()
        cert.status = "revoked"
        cert.revoked_at = now
        cert.revoked_reason = reason
        cert.save()
        _audit(cert, "revoke", "support", now, detail=reason)
    return cert
