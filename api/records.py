"""What a certificate looks like to the public, to its holder, and to the record hash: pure functions.

Every declared field and its visibility come from `api/definition.py`; nothing here lists fields by name.

Record hash, version 1 (inventory §3.6, the original's design note, done properly):

    canonical_json(x) = json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False) as UTF-8
    record_hash       = sha256(canonical_json({"v": 1, "nonce": record_nonce, "record": full_record}))
    public_fingerprint = sha256(canonical_json({"v": 1, "public": public_fields}))

`full_record` holds every declared field that is part of the record (`in_record_hash`; private ones included),
under the names redeem-token accepts; `record_nonce` is 128 random bits made at issuance and given only to the
holder, so the public hash cannot be used to confirm guesses of hidden values, while the holder can prove the
full record by revealing it with the nonce. `public_fields` are exactly the record values the public view shows
(at their public paths; a holder's-choice field the holder withheld as null), so anyone can recompute the
fingerprint from a lookup. Both are recomputed on every accepted submission.

The public view carries the record's `version` (1 until a paid amendment, api/amendments.py) and `amended_at`.
The public view (lookup, search) never carries a private field, a withheld value, the nonce, the audit handles,
the internal id or anything about the purchase. A revoked record is a stub.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from . import definition, links, rules
from .context import iso
from .definition import Field, Kind, Visibility
from .models import Certificate

HASH_VERSION = 1
LOCK_REASON_TEXT = {
    "window_closed": f"The {rules.CORRECTION_WINDOW_HOURS}-hour correction window has ended.",
    "cap_reached": f"All {rules.MAX_SUBMISSIONS} submissions have been used.",
}

JSONValue = Any


def canonical_json(value: JSONValue) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def field_value(cert: Certificate, field: Field) -> JSONValue:
    """A declared field's stored value as JSON: dates as YYYY-MM-DD, booleans as booleans."""
    value = getattr(cert, field.name)
    if field.kind is Kind.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if field.kind is Kind.BOOLEAN:
        return bool(value)
    return value


def is_shown(cert: Certificate, field: Field) -> bool:
    """Whether the public sees this field's value: always for public fields, by the selector for the holder's
    choice, never for private ones."""
    if field.visibility is Visibility.PUBLIC:
        return True
    if field.visibility is Visibility.HOLDER and field.selector is not None:
        return bool(getattr(cert, field.selector.field)) == field.selector.shown_when
    return False


def _put(target: dict[str, JSONValue], path: tuple[str, ...], value: JSONValue) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def full_record(cert: Certificate) -> dict[str, JSONValue]:
    record = {
        "public_id": cert.public_id,
        "issued_at": iso(cert.issued_at),
        "registration_source": cert.registration_source,
        "parent_record_status": cert.parent_record_status,
    }
    record.update({field.name: field_value(cert, field) for field in definition.FIELDS if field.in_record_hash})
    return record


def record_hash_input(cert: Certificate) -> str:
    return canonical_json({"v": HASH_VERSION, "nonce": cert.record_nonce, "record": full_record(cert)}).decode("utf-8")


def record_hash(cert: Certificate) -> str:
    return sha256_hex(record_hash_input(cert).encode("utf-8"))


def _public_record(cert: Certificate, *, withheld_flags: bool) -> dict[str, JSONValue]:
    values: dict[str, JSONValue] = {"public_id": cert.public_id, "registration_date": iso(cert.issued_at)}
    for field in definition.public_fields():
        composite = definition.composite_of(field)
        if composite is not None:
            values[composite.name] = composite.render(*(getattr(cert, name) for name in composite.fields))
            continue
        shown = is_shown(cert, field)
        value = field_value(cert, field) if shown else None
        if field.visibility is Visibility.HOLDER:
            # "Withheld" follows the selector alone, so an empty hidden value is indistinguishable from a filled one.
            _put(values, field.path, value or None)
            if withheld_flags:
                _put(values, (*field.path[:-1], field.path[-1] + "_withheld"), not shown)
        else:
            _put(values, field.path, value)
    return values


def public_record(cert: Certificate) -> dict[str, JSONValue]:
    """The record content as the public view shows it, withheld flags included (what an amendment compares)."""
    return _public_record(cert, withheld_flags=True)


def public_fields(cert: Certificate) -> dict[str, JSONValue]:
    """The record content the public view shows; the input of the public fingerprint."""
    return _public_record(cert, withheld_flags=False)


def public_fingerprint(cert: Certificate) -> str:
    return sha256_hex(canonical_json({"v": HASH_VERSION, "public": public_fields(cert)}))


def seal(cert: Certificate) -> None:
    """Recompute the stored hashes after the record changed."""
    cert.hash_version = HASH_VERSION
    cert.record_hash = record_hash(cert)
    cert.public_fingerprint = public_fingerprint(cert)


def correction_deadline(cert: Certificate) -> dt.datetime:
    return rules.correction_deadline(cert.issued_at)


def lock_state(cert: Certificate, now: dt.datetime) -> str | None:
    """None while corrections are accepted, else why not: `window_closed` or `cap_reached`."""
    if now > correction_deadline(cert):
        return "window_closed"
    if cert.edit_count >= rules.MAX_SUBMISSIONS:
        return "cap_reached"
    return None


def locked_since(cert: Certificate, now: dt.datetime) -> dt.datetime | None:
    """When the record stopped accepting corrections: the end of the window, or the submission that used the
    last one. Never a time still to come (the window's end, while it is open, is `lock_at`)."""
    if lock_state(cert, now) is None:
        return None
    if cert.edit_count >= rules.MAX_SUBMISSIONS:  # the cap was reached first, whatever the clock says now
        last_edited: dt.datetime = cert.last_edited_at
        return min(last_edited, correction_deadline(cert))
    return correction_deadline(cert)


def edits_left(cert: Certificate, now: dt.datetime) -> int:
    if lock_state(cert, now):
        return 0
    edit_count: int = cert.edit_count
    return max(0, rules.MAX_SUBMISSIONS - edit_count)


def revoked_stub(cert: Certificate, base_url: str) -> dict[str, JSONValue]:
    return {
        "public_id": cert.public_id,
        "status": str(cert.status),
        "revoked_at": iso(cert.revoked_at),
        "public_url": links.public_url(base_url, cert.public_id),
    }


def public_view(cert: Certificate, base_url: str) -> dict[str, JSONValue]:
    if cert.is_revoked:
        return revoked_stub(cert, base_url)
    view: dict[str, JSONValue] = {"status": str(cert.status)}
    view.update(_public_record(cert, withheld_flags=True))
    view.update(
        {
            "amendments": {"human": cert.human_edit_count, "agent": cert.agent_edit_count, "total": cert.edit_count},
            "corrections_close_at": iso(correction_deadline(cert)),
            "version": cert.version,
            "amended_at": iso(cert.amended_at),
            "record_hash": cert.record_hash,
            "public_fingerprint": cert.public_fingerprint,
            "public_url": links.public_url(base_url, cert.public_id),
        }
    )
    return view


def prefill(cert: Certificate) -> dict[str, JSONValue]:
    """The record under the names redeem-token accepts (for the register form), plus the public id. A reference
    with no value is `""`, as the form sends it."""
    values: dict[str, JSONValue] = {"public_id": cert.public_id}
    for field in definition.FIELDS:
        value = field_value(cert, field)
        values[field.name] = "" if field.kind is Kind.REFERENCE and value is None else value
    return values


def private_view(cert: Certificate, base_url: str, now: dt.datetime) -> dict[str, JSONValue]:
    """The holder's full record: the public view and every declared field (under its `view_name`). Still nothing
    about the purchase: no email, no Stripe ids, no token."""
    reason = lock_state(cert, now)
    view = public_view(cert, base_url)
    view.update({field.view_name: field_value(cert, field) for field in definition.FIELDS})
    view.update(
        {
            "parent_record_status": cert.parent_record_status,
            "registration_source": cert.registration_source,
            "lock_agent_edits": bool(cert.lock_agent_edits),
            "edits_used": cert.edit_count,
            "edits_left": edits_left(cert, now),
            "max_submissions": rules.MAX_SUBMISSIONS,
            "locked": reason is not None,
            "lock_reason": reason,
            "lock_at": iso(correction_deadline(cert)),
            "locked_since": iso(locked_since(cert, now)),
            "hash_version": cert.hash_version,
            "record_nonce": cert.record_nonce,
            "record_hash_input": record_hash_input(cert),
        }
    )
    return view
