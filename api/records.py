"""What a certificate looks like to the public, to its holder, and to the record hash: pure functions.

Record hash, version 1 (inventory §3.6, the original's design note, done properly):

    canonical_json(x) = json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False) as UTF-8
    record_hash       = sha256(canonical_json({"v": 1, "nonce": record_nonce, "record": full_record}))
    public_fingerprint = sha256(canonical_json({"v": 1, "public": public_fields}))

`full_record` holds every declared field, private ones included (`full_record()` below); `record_nonce` is
128 random bits made at issuance and given only to the holder, so the public hash cannot be used to confirm
guesses of hidden values, while the holder can prove the full record by revealing it with the nonce.
`public_fields` are exactly the values the public record shows (withheld location parts as null), so anyone
can recompute the fingerprint from a lookup. Both are recomputed on every accepted submission.

The public view (lookup, search) never carries the custodian, hidden location parts, the nonce, the audit
handles, the internal id or anything about the purchase. A revoked record is a stub.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from . import catalogue, links, rules
from .context import iso
from .models import Certificate

HASH_VERSION = 1
LOCK_REASON_TEXT = {
    "window_closed": f"The {rules.CORRECTION_WINDOW_HOURS}-hour correction window has ended.",
    "cap_reached": f"All {rules.MAX_SUBMISSIONS} submissions have been used.",
}


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _date(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


# The fields a holder declares, under the names redeem-token accepts.
DECLARED_FIELDS = (
    "agent_name",
    "declared_ontological_status",
    "cognitive_core_family",
    "cognitive_core_exact",
    "creator_label",
    "inception_date",
    "place_city",
    "place_state",
    "place_country",
    "show_city_public",
    "hide_state_public",
)


def _declared(cert: Certificate) -> dict:
    values = {name: getattr(cert, name) for name in DECLARED_FIELDS}
    values["inception_date"] = _date(cert.inception_date)
    values["show_city_public"] = bool(cert.show_city_public)
    values["hide_state_public"] = bool(cert.hide_state_public)
    return values


def full_record(cert: Certificate) -> dict:
    return {
        "public_id": cert.public_id,
        "issued_at": iso(cert.issued_at),
        "registration_source": cert.registration_source,
        **_declared(cert),
        "parent_record": cert.parent_record,
        "parent_record_status": cert.parent_record_status,
    }


def record_hash_input(cert: Certificate) -> str:
    return canonical_json({"v": HASH_VERSION, "nonce": cert.record_nonce, "record": full_record(cert)}).decode("utf-8")


def record_hash(cert: Certificate) -> str:
    return sha256_hex(record_hash_input(cert).encode("utf-8"))


def public_location(cert: Certificate) -> dict:
    # "Withheld" follows the flags alone, so an empty hidden value is indistinguishable from a filled one.
    return {
        "city": (cert.place_city or None) if cert.show_city_public else None,
        "city_withheld": not cert.show_city_public,
        "state": None if cert.hide_state_public else (cert.place_state or None),
        "state_withheld": bool(cert.hide_state_public),
        "country": cert.place_country,
    }


def public_fields(cert: Certificate) -> dict:
    """The record content the public view shows; the input of the public fingerprint."""
    location = public_location(cert)
    return {
        "public_id": cert.public_id,
        "registration_date": iso(cert.issued_at),
        "agent_name": cert.agent_name,
        "inception_date": _date(cert.inception_date),
        "declared_ontological_status": cert.declared_ontological_status,
        "location": {"city": location["city"], "state": location["state"], "country": location["country"]},
        "cognitive_core": catalogue.display_core(cert.cognitive_core_family, cert.cognitive_core_exact),
    }


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
        return min(cert.last_edited_at, correction_deadline(cert))
    return correction_deadline(cert)


def edits_left(cert: Certificate, now: dt.datetime) -> int:
    if lock_state(cert, now):
        return 0
    return max(0, rules.MAX_SUBMISSIONS - cert.edit_count)


def revoked_stub(cert: Certificate, base_url: str) -> dict:
    return {
        "public_id": cert.public_id,
        "status": "revoked",
        "revoked_at": iso(cert.revoked_at),
        "public_url": links.public_url(base_url, cert.public_id),
    }


def public_view(cert: Certificate, base_url: str) -> dict:
    if cert.is_revoked:
        return revoked_stub(cert, base_url)
    return {
        "public_id": cert.public_id,
        "status": cert.status,
        "registration_date": iso(cert.issued_at),
        "agent_name": cert.agent_name,
        "inception_date": _date(cert.inception_date),
        "declared_ontological_status": cert.declared_ontological_status,
        "location": public_location(cert),
        "cognitive_core": catalogue.display_core(cert.cognitive_core_family, cert.cognitive_core_exact),
        "amendments": {"human": cert.human_edit_count, "agent": cert.agent_edit_count, "total": cert.edit_count},
        "corrections_close_at": iso(correction_deadline(cert)),
        "record_hash": cert.record_hash,
        "public_fingerprint": cert.public_fingerprint,
        "public_url": links.public_url(base_url, cert.public_id),
    }


def prefill(cert: Certificate) -> dict:
    """The record under the names redeem-token accepts (for the register form), plus the public id."""
    return {
        "public_id": cert.public_id,
        **_declared(cert),
        "listed": bool(cert.listed),
        "parent_record": cert.parent_record or "",
    }


def private_view(cert: Certificate, base_url: str, now: dt.datetime) -> dict:
    """The holder's full record. Still nothing about the purchase: no email, no Stripe ids, no token."""
    reason = lock_state(cert, now)
    view = public_view(cert, base_url)
    view.update(
        {
            "custodian": cert.creator_label,
            "place_city": cert.place_city,
            "place_state": cert.place_state,
            "place_country": cert.place_country,
            "show_city_public": bool(cert.show_city_public),
            "hide_state_public": bool(cert.hide_state_public),
            "listed": bool(cert.listed),
            "cognitive_core_family": cert.cognitive_core_family,
            "cognitive_core_exact": cert.cognitive_core_exact,
            "parent_record": cert.parent_record,
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
