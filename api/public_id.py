"""The public id of a certificate, `GS-BC-{A|H}-{YY}-{SEQ}`: made, normalised and recognised here only.

- `A` when an agent made the first submission, `H` when a human did; `YY` is the year of issuance (two digits);
  `SEQ` is that year's card number in Crockford base32 (the token alphabet), with no padding.
- Input is accepted in any case, with or without dashes, with spaces: `key()` is the comparison form stored in
  `Certificate.public_id_key` (upper case, no dashes or spaces), and `normalise()` gives the canonical id back.
- A search query stands for an id prefix when its key starts with the registry's `GS`, or with the source letter
  and two year digits (`H-26-1`, the registry prefix left out): `search_key()`.

The pattern is written once, below, from its parts; `export()` publishes it for the site build.
Pure functions: no database, no clock.
"""

from __future__ import annotations

import re
from typing import Final

from .rules import TOKEN_ALPHABET

REGISTRY: Final = "GS"
KIND: Final = "BC"
SOURCE_LETTERS: Final = {"agent": "A", "human": "H"}
MAX_LENGTH: Final = 40  # the stored column; ids reach 15 characters by the year 2099

_SOURCE = "[" + "".join(sorted(SOURCE_LETTERS.values())) + "]"
_YEAR = r"\d{2}"
_SEQ = "[" + TOKEN_ALPHABET + "]+"
# The one pattern: GS-BC-H-26-1. The key form is the same parts without the dashes.
_PARTS: Final = (REGISTRY, KIND, f"({_SOURCE})", f"({_YEAR})", f"({_SEQ})")
PATTERN: Final = "^" + "-".join(_PARTS) + "$"
KEY_PATTERN: Final = "^" + "".join(_PARTS) + "$"
KEY_PREFIX: Final = REGISTRY + KIND
_ID = re.compile(PATTERN)
_KEY = re.compile(KEY_PATTERN)
_KEY_CHARS = re.compile(r"^[0-9A-Z]+$")
_UNPREFIXED = re.compile("^" + _SOURCE + _YEAR)
_SEPARATORS = re.compile(r"[\s\-]")


def format_id(source: str, year: int, seq: int) -> str:
    """The id of card `seq` of `year`, first submitted by `source` (`human` or `agent`)."""
    from .crypto import crockford

    return "-".join((REGISTRY, KIND, SOURCE_LETTERS[source], f"{year % 100:02d}", crockford(seq)))


def key(raw: str) -> str:
    """The stored comparison form: upper case, without dashes or spaces (`gs-bc-h-26-1` -> `GSBCH261`)."""
    return _SEPARATORS.sub("", raw).upper()


def normalise(raw: object) -> str | None:
    """The canonical id for any accepted spelling, or None when `raw` cannot be a public id."""
    if not isinstance(raw, str) or len(raw) > 200:
        return None
    match = _KEY.match(key(raw))
    if match is None:
        return None
    return "-".join((REGISTRY, KIND, *match.groups()))


def is_public_id(raw: object) -> bool:
    """True when `raw` is written exactly in the canonical form."""
    return isinstance(raw, str) and _ID.match(raw) is not None


def names_the_registry(raw: str) -> bool:
    """True when `raw` is meant as a public id (it starts with `GS-BC`), valid or not: the caller then says
    "no such record" rather than treating it as something else."""
    return key(raw).startswith(KEY_PREFIX)


def search_key(query: str) -> str | None:
    """The id prefix (key form) a search query stands for, or None when it does not look like one:
    `GS-BC-H-26` and `gsbch26` stand for themselves, `H-26-1` for `GSBCH261`."""
    compact = key(query)
    if not _KEY_CHARS.match(compact):
        return None
    if compact.startswith(REGISTRY):
        return compact
    if _UNPREFIXED.match(compact):
        return KEY_PREFIX + compact
    return None


# The example every text and message shows (GS-BC-H-26-1), and one an agent registered.
EXAMPLE: Final = "-".join((REGISTRY, KIND, SOURCE_LETTERS["human"], "26", "1"))
EXAMPLE_AGENT: Final = "-".join((REGISTRY, KIND, SOURCE_LETTERS["agent"], "26", "H"))


def export() -> dict[str, object]:
    """The id format for the site build (JavaScript regular expressions accept these patterns as written)."""
    return {
        "pattern": PATTERN,
        "key_pattern": KEY_PATTERN,
        "prefix": f"{REGISTRY}-{KIND}-",
        "example": EXAMPLE,
        "example_agent": EXAMPLE_AGENT,
        "max_length": MAX_LENGTH,
    }
