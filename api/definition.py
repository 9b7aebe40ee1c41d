"""The certificate, declared once: every field a holder submits, and how the registry treats it.

For each field: its name (the name redeem-token accepts and the stored column), kind, limits, whether it is
required, its default, its visibility (public, private, or the holder's choice with the selector field that
decides) and the label and hint the register form shows. Everything else is derived from `FIELDS`, with no
second list anywhere:

- request validation (`api/validation.py`), the stored columns (`api/models.py`; a test compares their lengths
  with the migrations), the public view, the private view and the record hashes (`api/records.py`; the public
  fingerprint covers exactly the public view's record content), the OpenAPI request and response schemas
  (`api/openapi.py`), the register form (`site/theme/templates/register.html`, rendered by Pelican from
  `api/definition.json`), and the rows' labels on the public record and the holder's record (`{label:NAME}` and
  `{legend:GROUP}` placeholders the build fills in; tests/unit/test_record_pages.py fails while a field is missing
  from either page).

`api/definition.json` is the build-time export (`python -m api.definition` writes it; `build.py` refreshes it
before every site build and a unit test checks the committed copy is current): these fields, the rules
(`api/rules.py`), the public id format (`api/public_id.py`) and the catalogue's values.

To add a field: declare it here, add a migration for its column, run `python -m api.definition`, and give it a
row on the record pages (site/theme/static/js/record.js, private.js).
Pure data and functions: no database, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Final

from . import catalogue, public_id, rules

EXPORT_PATH: Final = Path(__file__).resolve().with_name("definition.json")
EARLIEST_INCEPTION: Final = dt.date(1900, 1, 1)


class Kind(StrEnum):
    TEXT = "text"  # one line, trimmed, bounded
    CHOICE = "choice"  # a value from a catalogue list, matched in any case
    DATE = "date"  # YYYY-MM-DD
    BOOLEAN = "boolean"
    REFERENCE = "reference"  # another record, by public id or by the token that issued it (resolved on write)


class Visibility(StrEnum):
    PUBLIC = "public"  # on the public record, always
    PRIVATE = "private"  # only in the holder's record
    HOLDER = "holder"  # the holder's choice, made with the selector field


@dataclasses.dataclass(frozen=True)
class Selector:
    """A boolean field that decides whether a holder's-choice field is public: shown when it equals `shown_when`."""

    field: str
    shown_when: bool


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str
    hint: str = ""
    required: bool = False  # must not be empty whenever it is sent, and is needed on a first submission
    max_length: int | None = None  # characters, after trimming; also the stored column's length
    default: str | bool | None = None  # the value of an optional field a first submission leaves out
    visibility: Visibility = Visibility.PUBLIC
    selector: Selector | None = None
    public_path: tuple[str, ...] = ()  # where the public view shows it; () = at its own name
    private_name: str | None = None  # the holder's record's name for it, when not `name`
    choices: str | None = None  # CHOICE: "statuses" or "families" of the catalogue
    needs_letter: bool = False  # TEXT: must contain at least one letter
    stored_length: int | None = None  # REFERENCE: the column holds the resolved public id, not the input
    in_record_hash: bool = True  # part of the record the record hash seals (settings are not)
    control: str = "text"  # the register form's control: text, date, select, checkbox, visibility, core, none
    group: str = "agent"  # the register form's fieldset (GROUPS), or "" after them
    example: str | bool | None = None  # the value the OpenAPI document's example submission gives

    @property
    def is_public(self) -> bool:
        return self.visibility is not Visibility.PRIVATE

    @property
    def column_length(self) -> int | None:
        return self.stored_length or self.max_length

    @property
    def path(self) -> tuple[str, ...]:
        return self.public_path or (self.name,)

    @property
    def view_name(self) -> str:
        return self.private_name or self.name


# The composite public values: one public name rendered from several fields.
@dataclasses.dataclass(frozen=True)
class Composite:
    name: str
    fields: tuple[str, ...]
    render: Callable[..., str]
    description: str
    label: str  # the row that shows it on the record pages


FIELDS: Final[tuple[Field, ...]] = (
    Field(
        "agent_name",
        Kind.TEXT,
        "Agent name",
        "Appears on the public record.",
        required=True,
        max_length=120,
        example="Joule",
    ),
    Field(
        "declared_ontological_status",
        Kind.CHOICE,
        "Declared ontological status",
        "What kind of being is this?",
        required=True,
        max_length=40,
        choices="statuses",
        control="select",
        example="Autonomous Agent",
    ),
    Field(
        "cognitive_core_family",
        Kind.CHOICE,
        "Cognitive core family",
        "A company, then a model. Type it if it is not listed.",
        max_length=60,
        default=catalogue.UNDISCLOSED,
        choices="families",
        public_path=("cognitive_core",),
        control="core",
        example="Anthropic",
    ),
    Field(
        "cognitive_core_exact",
        Kind.TEXT,
        "Cognitive core (exact)",
        "The model name, for example GPT-5.4.",
        max_length=120,
        default="",
        public_path=("cognitive_core",),
        control="core",
        example="Claude Opus 4.6",
    ),
    Field(
        "creator_label",
        Kind.TEXT,
        "Custodian",
        "A company or a handle; private, redacted on the public record.",
        max_length=120,
        default="",
        visibility=Visibility.PRIVATE,
        private_name="custodian",
        example="Custodian Holdings",
    ),
    Field(
        "inception_date",
        Kind.DATE,
        "Inception date",
        "The day the agent first ran; not in the future.",
        required=True,
        control="date",
        example="2026-02-08",
    ),
    Field(
        "place_city",
        Kind.TEXT,
        "City",
        max_length=80,
        default="",
        visibility=Visibility.HOLDER,
        selector=Selector("show_city_public", shown_when=True),
        public_path=("location", "city"),
        group="place",
        example="Hobart",
    ),
    Field(
        "place_state",
        Kind.TEXT,
        "State or region",
        max_length=80,
        default="",
        visibility=Visibility.HOLDER,
        selector=Selector("hide_state_public", shown_when=False),
        public_path=("location", "state"),
        group="place",
        example="Tasmania",
    ),
    Field(
        "place_country",
        Kind.TEXT,
        "Country",
        "Always public; city and state only when set to Public.",
        required=True,
        max_length=80,
        needs_letter=True,
        public_path=("location", "country"),
        group="place",
        example="Australia",
    ),
    Field(
        "show_city_public",
        Kind.BOOLEAN,
        "City on the record",
        default=False,
        visibility=Visibility.PRIVATE,
        control="visibility",
        group="place",
        example=False,
    ),
    Field(
        "hide_state_public",
        Kind.BOOLEAN,
        "State on the record",
        default=True,
        visibility=Visibility.PRIVATE,
        control="visibility",
        group="place",
        example=True,
    ),
    Field(
        "listed",
        Kind.BOOLEAN,
        "List this record in the directory",
        "Listed records can be found by name; every record by its id.",
        default=False,
        visibility=Visibility.PRIVATE,
        in_record_hash=False,
        control="checkbox",
        group="",
        example=False,
    ),
    Field(
        "parent_record",
        Kind.REFERENCE,
        "Parent record",
        "A public id (GS-BC-...) or the parent's token.",
        max_length=300,
        stored_length=60,
        visibility=Visibility.PRIVATE,
        control="none",
        group="",
    ),
)

COMPOSITES: Final[tuple[Composite, ...]] = (
    Composite(
        "cognitive_core",
        ("cognitive_core_family", "cognitive_core_exact"),
        catalogue.display_core,
        "The family without spaces (except Undisclosed and Prefer not to say), then /exact when given.",
        "Cognitive core at inception",
    ),
)

# The register form's fieldsets, in order: key -> legend.
GROUPS: Final[Mapping[str, str]] = {"agent": "The agent", "place": "Place of inception"}

BY_NAME: Final[Mapping[str, Field]] = {field.name: field for field in FIELDS}
NAMES: Final[tuple[str, ...]] = tuple(BY_NAME)
SELECTORS: Final[Mapping[str, Field]] = {f.selector.field: f for f in FIELDS if f.selector is not None}


def public_fields() -> tuple[Field, ...]:
    return tuple(field for field in FIELDS if field.is_public)


def private_fields() -> tuple[Field, ...]:
    return tuple(field for field in FIELDS if not field.is_public)


def composite_of(field: Field) -> Composite | None:
    for composite in COMPOSITES:
        if field.name in composite.fields:
            return composite
    return None


def choices(field: Field) -> tuple[str, ...]:
    """The values a CHOICE field accepts, in the catalogue's spelling."""
    if field.choices == "statuses":
        return catalogue.STATUSES
    if field.choices == "families":
        return catalogue.FAMILIES
    return ()


def export() -> dict[str, object]:
    """Everything the site build needs, JSON-ready: the fields, the rules, the id format."""
    return {
        "comment": "Generated by `python -m api.definition` from api/definition.py; do not edit.",
        "fields": [
            {
                "name": field.name,
                "kind": str(field.kind),
                "label": field.label,
                "hint": field.hint,
                "required": field.required,
                "max_length": field.max_length,
                "default": field.default,
                "visibility": str(field.visibility),
                "selector": dataclasses.asdict(field.selector) if field.selector else None,
                "public_path": list(field.path) if field.is_public else None,
                "choices": list(choices(field)) or None,
                "control": field.control,
                "group": field.group,
            }
            for field in FIELDS
        ],
        "composites": [
            {"name": composite.name, "fields": list(composite.fields), "label": composite.label}
            for composite in COMPOSITES
        ],
        "groups": [{"key": key, "legend": legend} for key, legend in GROUPS.items()],
        "rules": rules.export(),
        "public_id": public_id.export(),
        "earliest_inception": EARLIEST_INCEPTION.isoformat(),
    }


def export_text() -> str:
    return json.dumps(export(), indent=2, ensure_ascii=False) + "\n"


def write_export(path: Path = EXPORT_PATH) -> bool:
    """Write the export; True when the file changed."""
    text = export_text()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    print(("wrote " if write_export() else "unchanged ") + str(EXPORT_PATH))
