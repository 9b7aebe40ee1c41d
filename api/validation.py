"""Validation of a redeem-token submission: raw request fields in, clean values out, or `invalid_field`.

Which fields exist, their kinds, limits, required-ness and defaults come from `api/definition.py`; this module
says what each kind means (docs/api.md, "redeem-token"):
- TEXT is trimmed and otherwise kept verbatim (markup included: the API returns data, never HTML). Control
  characters (Unicode category Cc, which includes newlines and NUL), line and paragraph separators, lone
  surrogates and bidirectional overrides are refused: every field is one line of text. Lengths are counted in
  characters after trimming. A field that `needs_letter` must contain a letter.
- DATE is `YYYY-MM-DD`, a real date, not before `definition.EARLIEST_INCEPTION` and not after today (the injected
  clock).
- CHOICE comes from the catalogue (any case; stored in the catalogue's spelling). An empty family means its
  default (`Undisclosed`); `Prefer not to say` carries no exact text.
- BOOLEAN accepts true/false, 1/0, on/off, yes/no; an empty value counts as not sent.
- REFERENCE (`parent_record`) is only trimmed and bounded here; resolving it needs the database
  (`api/certificates.py`).
- A first submission gets every field, with defaults for the optional ones. A correction is a partial update:
  only the fields present in the request are validated and returned; the caller keeps the rest. Required fields
  stay required on a correction: sending one empty would erase it.
Nothing here touches the database, so a rejected submission consumes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from . import catalogue, definition
from .definition import EARLIEST_INCEPTION, Field, Kind
from .errors import invalid_field
from .states import SUBMISSION_SOURCES, Source

MAX_AGENT_HANDLE = 80
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Cc: C0/C1 controls incl. NUL, tab and newline; Cs: lone surrogates; Zl/Zp: line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})
BOOLEAN_WORDS = _TRUE | _FALSE
# Labels of the request fields that are not part of the record.
_OTHER_LABELS = {"agent_handle": "Agent handle", "edit_source": "Edit source"}


@dataclasses.dataclass(frozen=True)
class Submission:
    """A validated submission. `fields` holds record fields: all of them on a first submission, only the sent
    ones on a correction."""

    source: Source
    agent_handle: str | None
    fields: dict[str, Any]  # str, bool, date or None by the field's kind (api/definition.py)


def clean_text(field: str, raw: object, max_length: int, *, required: bool = False) -> str:
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


def clean_boolean(field: str, raw: object) -> bool | None:
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


def clean_date(field: str, raw: object, today: dt.date) -> dt.date:
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


def clean_choice(field: Field, raw: object) -> str:
    """A catalogue value in its canonical spelling; empty gives the field's default, or is refused when required."""
    value = clean_text(field.name, raw, field.max_length or 0, required=field.required)
    if not value and isinstance(field.default, str):
        return field.default
    canonical = {choice.casefold(): choice for choice in definition.choices(field)}.get(value.casefold())
    if canonical is None:
        if field.choices == "statuses":
            raise invalid_field(
                field.name, "Choose one of the declared ontological statuses: " + _allowed(definition.choices(field))
            )
        raise invalid_field(
            field.name,
            f"Choose a company from the catalogue, {catalogue.UNDISCLOSED} or {catalogue.PREFER_NOT_TO_SAY}: "
            + _allowed(definition.choices(field)),
        )
    return canonical


def clean_source(raw: object) -> Source:
    if raw is None or raw == "":
        return Source.HUMAN
    folded = raw.strip().lower() if isinstance(raw, str) else None
    for source in SUBMISSION_SOURCES:
        if folded == source.value:
            return source
    raise invalid_field("edit_source", "Edit source must be human or agent.")


def clean_field(field: Field, raw: object, today: dt.date) -> object:
    """One declared field's clean value; None for an empty boolean (not sent)."""
    if field.kind is Kind.CHOICE:
        return clean_choice(field, raw)
    if field.kind is Kind.DATE:
        return clean_date(field.name, raw, today)
    if field.kind is Kind.BOOLEAN:
        return clean_boolean(field.name, raw)
    value = clean_text(field.name, raw, field.max_length or 0, required=field.required)
    if field.needs_letter and not any(ch.isalpha() for ch in value):
        raise invalid_field(field.name, f"{field.label} must be a {field.label.lower()} name.")
    return value


def clean_submission(
    raw: Mapping[str, object], today: dt.date, *, first: bool, source: Source | None = None
) -> Submission:
    """Validate a submission. `first` = the issuing submission (every field, defaults applied). `source` is the
    one the presented credential decided (api/delegation.py); without it `edit_source` is read."""
    source = source or clean_source(raw.get("edit_source"))
    handle = clean_text("agent_handle", raw.get("agent_handle"), MAX_AGENT_HANDLE) or None
    fields: dict[str, Any] = {}
    for field in definition.FIELDS:
        if field.name in raw:
            value = clean_field(field, raw[field.name], today)
        elif first:
            value = None if field.kind is Kind.BOOLEAN else clean_field(field, None, today)
        else:
            continue
        if value is None:  # an empty boolean: the default on a first submission, unchanged on a correction
            if not first:
                continue
            value = field.default
        fields[field.name] = value
    if fields.get("cognitive_core_family") == catalogue.PREFER_NOT_TO_SAY and "cognitive_core_exact" not in raw:
        fields["cognitive_core_exact"] = ""
    family, exact = fields.get("cognitive_core_family"), fields.get("cognitive_core_exact")
    check_combination(family if isinstance(family, str) else None, exact if isinstance(exact, str) else None)
    return Submission(source=source, agent_handle=handle, fields=fields)


def check_combination(family: str | None, exact: str | None) -> None:
    """Cross-field rule, applied to the merged record: `Prefer not to say` has no exact text."""
    if family == catalogue.PREFER_NOT_TO_SAY and exact:
        raise invalid_field(
            "cognitive_core_exact", f"Leave the exact model empty when the family is {catalogue.PREFER_NOT_TO_SAY}."
        )


def _allowed(values: Iterable[str]) -> str:
    """An enumerated field's refusal lists what it accepts, so an agent can correct itself without the docs."""
    return ", ".join(values) + " (any case)."


def _label(name: str) -> str:
    field = definition.BY_NAME.get(name)
    return field.label if field is not None else _OTHER_LABELS.get(name, name)
