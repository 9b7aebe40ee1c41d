"""The cognitive-core catalogue and the declared ontological statuses, read once from `api/catalogue.json`.

The same file feeds the site build (its dropdowns) and the API (validation), so the two cannot drift.
The site maps the register form's choices to two fields, and the API accepts the result:

- listed company + listed model  -> family = company value, exact = model
- company + "Other model"        -> family = company value, exact = the typed text
- "Other"                        -> family = `Undisclosed`, exact = the typed text
- "Prefer not to say"            -> family = `Prefer not to say`, exact empty

Public display (inventory §6.4): the family with all whitespace removed, except the literal `Undisclosed` and
`Prefer not to say`, then `/exact` when exact is not empty: `MoonshotAI/Kimi K2.5`, `Undisclosed/Acme/Foo-1`.
"""

from __future__ import annotations

import json
from pathlib import Path

CATALOGUE_PATH = Path(__file__).resolve().with_name("catalogue.json")

_data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))

STATUSES: tuple[str, ...] = tuple(status["value"] for status in _data["statuses"])
STATUS_DESCRIPTIONS: dict[str, str] = {status["value"]: status["description"] for status in _data["statuses"]}
COMPANIES: dict[str, tuple[str, ...]] = {company["value"]: tuple(company["models"]) for company in _data["companies"]}
UNDISCLOSED: str = _data["undisclosed_family"]
PREFER_NOT_TO_SAY: str = _data["prefer_not_to_say_family"]
FAMILIES: tuple[str, ...] = (*COMPANIES, UNDISCLOSED, PREFER_NOT_TO_SAY)

# Case-insensitive input, canonical spelling stored.
_STATUS_BY_FOLD = {value.casefold(): value for value in STATUSES}
_FAMILY_BY_FOLD = {value.casefold(): value for value in FAMILIES}


def canonical_status(value: str) -> str | None:
    return _STATUS_BY_FOLD.get(value.casefold())


def canonical_family(value: str) -> str | None:
    return _FAMILY_BY_FOLD.get(value.casefold())


def display_core(family: str, exact: str) -> str:
    """The public one-line cognitive core: `Family/Exact`, or the family alone when exact is empty."""
    shown = family if family in (UNDISCLOSED, PREFER_NOT_TO_SAY) else "".join(family.split())
    company, slash, model = exact.partition("/")
    if slash and "".join(company.split()).lower() == shown.lower() and model.strip():
        exact = model.strip()  # "OpenAI" + "OpenAI/gpt-oss-120b" reads OpenAI/gpt-oss-120b, not OpenAI/OpenAI/...
    return f"{shown}/{exact}" if exact else shown
