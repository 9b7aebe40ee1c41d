"""Registry search: `/api/registry/search?q=&limit=&cursor=`.

Rules (docs/api.md, "search"):
- Two phases, each a keyset walk over an index: first every record whose public id starts with the query (when
  the query looks like an id: `public_id.search_key`), then listed, active records whose name starts with it.
  The cursor says which phase stopped where. An empty query browses the directory: every listed record, by name.
- Names are found only for records their holders listed; any record is found by its id.
- `limit` is 1 to SEARCH_MAX_LIMIT (default SEARCH_DEFAULT_LIMIT); the query is at most SEARCH_MAX_QUERY
  characters of one-line text. Answers are public views only.
The index walks are the query scopes `Certificate.with_id_prefix` and `Certificate.listed_with_name_prefix`.
"""

from __future__ import annotations

import json

from . import public_id, records, validation
from .context import Context
from .crypto import b64d, b64e
from .errors import RegistryError, invalid_field
from .models import Certificate, name_key

SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 50
SEARCH_MAX_QUERY = 100
MAX_CURSOR_LENGTH = 600


def search(ctx: Context, raw_q: object, raw_limit: object = None, raw_cursor: object = None) -> dict:
    q = validation.clean_text("q", raw_q if raw_q is not None else "", SEARCH_MAX_QUERY)
    limit = _search_limit(raw_limit)
    phase, after = _read_cursor(raw_cursor)
    base = ctx.config.base_url
    key = public_id.search_key(q)
    results: list[Certificate] = []
    next_cursor = None

    if phase == 1:
        if key:
            found = list(Certificate.with_id_prefix(key, after).limit(limit + 1))
            results.extend(found[:limit])
            if len(found) > limit:
                next_cursor = _write_cursor(1, results[-1].public_id_key)
        after = None

    room = limit - len(results)
    # A key such as "GS" or "GSB" matches every record by id: a name phase would only find duplicates.
    if next_cursor is None and not (key and public_id.KEY_PREFIX.startswith(key)):
        # With a full page already, one row is fetched only to learn whether the name phase has more.
        found = list(Certificate.listed_with_name_prefix(name_key(q), after, exclude_id_key=key).limit(room + 1))
        results.extend(found[:room])
        if len(found) > room:
            last = results[-1] if room else None
            next_cursor = _write_cursor(2, [last.name_key, last.id] if last else None)
    return {"results": [records.public_view(cert, base) for cert in results], "next_cursor": next_cursor}


def _search_limit(raw: object) -> int:
    if raw is None or raw == "":
        return SEARCH_DEFAULT_LIMIT
    try:
        limit = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.") from None
    if not 1 <= limit <= SEARCH_MAX_LIMIT:
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.")
    return limit


def _write_cursor(phase: int, after: object) -> str:
    return b64e(json.dumps({"p": phase, "a": after}, separators=(",", ":")).encode())


def _read_cursor(raw: object) -> tuple[int, object]:
    if raw is None or raw == "":
        return 1, None
    try:
        if not isinstance(raw, str) or len(raw) > MAX_CURSOR_LENGTH:
            raise ValueError
        data = json.loads(b64d(raw))
        phase, after = data["p"], data["a"]
        if phase == 1 and isinstance(after, str) and len(after) <= public_id.MAX_LENGTH:
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
