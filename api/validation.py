"""Validation of a redeem-token submission: raw request fields in, clean values out, or `invalid_field`.

Rules (docs/api.md, "redeem-token"):
- Text is trimmed and otherwise kept verbatim (markup included: the API returns data, never HTML). Control
  characters (Unicode category Cc, which includes newlines and NUL), line and paragraph separators, lone
  surrogates and bidirectional overrides are refused: every field is one line of text. Lengths are counted in
  characters after trimming.
- `inception_date` is `YYYY-MM-DD`, a real date, not before 1900-01-01 and not after today (the injected clock).
- `declared_ontological_status` and `cognitive_core_family` come from the catalogue (any case; stored in the
  catalogue's spelling). An empty family means `Undisclosed`; `Prefer not to say` carries no exact text.
- Booleans accept true/false, 1/0, on/off, yes/no; an empty value counts as not sent.
- A first submission gets every field, with defaults for the optional ones. A correction is a partial update:
  only the fields present in the request are validated and returned; the caller keeps the rest.
- `parent_record` is only trimmed and bounded here; resolving it needs the database (`api/certificates.py`).
Nothing here touches the database, so a rejected submission consumes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

from . import catalogue
from .errors import invalid_field

EARLIEST_INCEPTION = dt.date(1900, 1, 1)
SOURCES = ("human", "agent")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Cc: C0/C1 controls incl. NUL, tab and newline; Cs: lone surrogates; Zl/Zp: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})

# field -> (maximum length, required: must not be empty whenever it is sent, and on a first submission)
TEXT_FIELDS = {
    "agent_name": (120, True),
    "cognitive_core_exact": (120, False),
    "creator_label": (120, False),
    "place_city": (80, False),
    "place_state": (80, False),
    "place_country": (80, True),
    "parent_record": (300, False),
}
BOOLEAN_DEFAULTS = {"show_city_public": False, "hide_state_public": True, "listed": False}
RECORD_FIELDS = (
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
    "listed",
    "parent_record",
)
LABELS = {
    "agent_name": "Agent name",
    "declared_ontological_status": "Declared ontological status",
    "cognitive_core_family": "Cognitive core family",
    "cognitive_core_exact": "Cognitive core (exact)",
    "creator_label": "Custodian",
    "inception_date": "Inception date",
    "place_city": "City",
    "place_state": "State",
    "place_country": "Country",
    "parent_record": "Parent record",
    "agent_handle": "Agent handle",
    "edit_source": "Edit source",
}


@dataclasses.dataclass(frozen=True)
class Submission:
    """A validated submission. `fields` holds record fields: all of them on a first submission, only the sent
    ones on a correction."""

    source: str
    agent_handle: str | None
    fields: dict


def clean_text(field: str, raw, max_length: int, *, required: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise invalid_field(field, f"{_label(field)} must be text.")
    value = raw.strip()
    for ch in value:
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES or ch in _BIDI_CONTROLS:
            raise invalid_field(field, f"{_label(field)} contains a control character.")
    if required and not value:
        raise invalid_field(field, f"{_label(field)} is required.")
    if len(value) > max_length:
        raise invalid_field(field, f"{_label(field)} must be at most {max_length} characters.")
    return value


def clean_boolean(field: str, raw) -> bool | None:
    """True or False, or None when the value is empty (not sent)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        folded = raw.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    raise invalid_field(field, f"{field} must be true or false.")


def clean_date(field: str, raw, today: dt.date) -> dt.date:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise invalid_field(field, f"{_label(field)} is required.")
    value = raw.strip() if isinstance(raw, str) else ""
    if not _DATE.match(value):
        raise invalid_field(field, f"{_label(field)} must be a date written YYYY-MM-DD.")
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        raise invalid_field(field, f"{_label(field)} is not a real calendar date.") from None
    if date < EARLIEST_INCEPTION:
        raise invalid_field(field, f"{_label(field)} cannot be before {EARLIEST_INCEPTION.isoformat()}.")
    if date > today:
        raise invalid_field(field, f"{_label(field)} cannot be in the future.")
    return date


def clean_status(raw) -> str:
    field = "declared_ontological_status"
    value = clean_text(field, raw, 40, required=True)
    status = catalogue.canonical_status(value)
    if status is None:
        raise invalid_field(field, "Choose one of the declared ontological statuses: " + _allowed(catalogue.STATUSES))
    return status


def clean_family(raw) -> str:
    field = "cognitive_core_family"
    value = clean_text(field, raw, 60)
    if not value:
        return catalogue.UNDISCLOSED
    family = catalogue.canonical_family(value)
    if family is None:
        raise invalid_field(
            field,
            f"Choose a company from the catalogue, {catalogue.UNDISCLOSED} or {catalogue.PREFER_NOT_TO_SAY}: "
            + _allowed(catalogue.FAMILIES),
        )
    return family


def clean_source(raw) -> str:
    if raw is None or raw == "":
        return "human"
    if not isinstance(raw, str) or raw.strip().lower() not in SOURCES:
        raise invalid_field("edit_source", "Edit source must be human or agent.")
    return raw.strip().lower()


def _clean_field(name: str, raw, today: dt.date):
    if name == "declared_ontological_status":
        return clean_status(raw)
    if name == "cognitive_core_family":
        return clean_family(raw)
    if name == "inception_date":
        return clean_date(name, raw, today)
    if name in BOOLEAN_DEFAULTS:
        return clean_boolean(name, raw)
    max_length, required = TEXT_FIELDS[name]
    # Required fields stay required on a correction: sending one empty would erase it.
    value = clean_text(name, raw, max_length, required=required)
    if name == "place_country" and not any(ch.isalpha() for ch in value):
        raise invalid_field(name, "Country must be a country name.")
    return value


def clean_submission(raw: dict, today: dt.date, *, first: bool, source: str | None = None) -> Submission:
    """Validate a submission. `first` = the issuing submission (every field, defaults applied). `source` is the
    one the presented credential decided (api/delegation.py); without it `edit_source` is read."""
    source = source or clean_source(raw.get("edit_source"))
    handle = clean_text("agent_handle", raw.get("agent_handle"), 80) or None
    fields = {}
    for name in RECORD_FIELDS:
        if name in raw:
            value = _clean_field(name, raw[name], today)
        elif first:
            value = None if name in BOOLEAN_DEFAULTS else _clean_field(name, None, today)
        else:
            continue
        if value is None:  # an empty boolean: the default on a first submission, unchanged on a correction
            if not first:
                continue
            value = BOOLEAN_DEFAULTS[name]
        fields[name] = value
    if fields.get("cognitive_core_family") == catalogue.PREFER_NOT_TO_SAY and "cognitive_core_exact" not in raw:
        fields["cognitive_core_exact"] = ""
    check_combination(fields.get("cognitive_core_family"), fields.get("cognitive_core_exact"))
    return Submission(source=source, agent_handle=handle, fields=fields)


def check_combination(family: str, exact: str) -> None:
    """Cross-field rule, applied to the merged record: `Prefer not to say` has no exact text."""
    if family == catalogue.PREFER_NOT_TO_SAY and exact:
        raise invalid_field(
            "cognitive_core_exact", f"Leave the exact model empty when the family is {catalogue.PREFER_NOT_TO_SAY}."
        )


def _allowed(values) -> str:
    """An enumerated field's refusal lists what it accepts, so an agent can correct itself without the docs."""
    return ", ".join(values) + " (any case)."


def _label(field: str) -> str:
    return LABELS.get(field, field)
