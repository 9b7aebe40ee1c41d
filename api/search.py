"""Registry search: `/api/registry/search?q=&limit=&cursor=`.

Rules (docs/api.md, "search"):
- Two phases, each a keyset walk over an index: first every record whose public id starts with the query (when
  the query looks like an id: `public_id.search_key`), then listed, active records whose name starts with it.
  The cursor says which phase stopped where. An empty query browses the directory: every listed record, by name.
- Names are found only for records their holders listed; any record is found by its id.
- `limit` is 1 to SEARCH_MAX_LIMIT (default SEARCH_DEFAULT_LIMIT); the query is at most SEARCH_MAX_QUERY
  characters of one-line text. Answers are public views only.
- Cursors are signed (HMAC under the registry's secret key): a forged or altered one is `invalid_cursor`.
The index walks are the query scopes `Certificate.with_id_prefix` and `Certificate.listed_with_name_prefix`; a
search runs them as `Prepared` statements (written once per shape, api/db.py) that read only ids and keys, and takes
each record's public view from the process's cache (api/public_cache.py), reading the missing ones in one query.
Whole pages are cached too (`Context.search_pages`), keyed by the validated query, limit and cursor, for no longer
than the oldest view they show; every write to a certificate in this process drops them (api/public_cache.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import json
import re
from typing import Any

from . import public_id, validation
from .certificates import public_view
from .context import Context
from .crypto import b64d, b64e
from .db import Prepared
from .errors import RegistryError, invalid_field
from .models import Certificate, id_prefix_bounds, name_key, name_prefix_bounds
from .public_cache import View, dumps, etag

SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 50
SEARCH_MAX_QUERY = 100
# A page can end on a 120-character name in any script: \uXXXX escapes in base64 need room.
MAX_CURSOR_LENGTH = 4000
CURSOR_PURPOSE = "search-cursor"
_CURSOR_TEXT = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]{0,1000}")
_ID_KEY = re.compile(rf"[0-9A-Z]{{0,{public_id.MAX_LENGTH}}}")
_MAX_ROW_ID = 2**63 - 1


WALK_COLUMNS = (Certificate.id, Certificate.public_id_key, Certificate.name_key)
NAME_BOUNDS = ("lower", "upper", "after_name", "after_id", "exclude_lower", "exclude_upper")


def _id_walk(shape, lower, *rest):
    strict, bounded = shape
    return Certificate.id_range(lower, strict, rest[0] if bounded else None, columns=WALK_COLUMNS).limit(rest[-1])


def _name_walk(shape, *values):
    names = [name for name, present in zip(NAME_BOUNDS, shape, strict=True) if present]
    bounds = dict(zip(names, values[: len(names)], strict=True))
    return Certificate.name_range(**bounds, columns=WALK_COLUMNS).limit(values[-1])


ID_WALK = Prepared(Certificate, _id_walk)
NAME_WALK = Prepared(Certificate, _name_walk)
BY_IDS = Prepared(Certificate, lambda count, *ids: Certificate.select().where(Certificate.id.in_(list(ids))))


@dataclasses.dataclass(frozen=True)
class SearchPage:
    views: list[View]
    next_cursor: str | None

    def answer(self) -> dict:
        return {"results": [view.record for view in self.views], "next_cursor": self.next_cursor}

    @functools.cached_property
    def body(self) -> bytes:
        """The answer as JSON, assembled from the views' own bytes (equal to `dumps(self.answer())`)."""
        views = b",".join(view.body for view in self.views)
        return b'{"results":[' + views + b'],"next_cursor":' + dumps(self.next_cursor) + b"}"

    @functools.cached_property
    def etag(self) -> str:
        """The page's ETag, from its views' tags and its cursor (which decide its body) rather than from hashing the
        whole body again: a changed record changes its view's tag, so the page's."""
        tags = "".join(view.etag for view in self.views) + "\n" + (self.next_cursor or "")
        return etag(tags.encode("utf-8"))


def search(ctx: Context, raw_q: object, raw_limit: object = None, raw_cursor: object = None) -> dict:
    return search_page(ctx, raw_q, raw_limit, raw_cursor).answer()


def search_page(ctx: Context, raw_q: object, raw_limit: object = None, raw_cursor: object = None) -> SearchPage:
    q = validation.clean_text("q", raw_q if raw_q is not None else "", SEARCH_MAX_QUERY)
    limit = _search_limit(raw_limit)
    phase, after = _read_cursor(ctx.keyring, raw_cursor)
    page_key = (q, limit, raw_cursor or "")
    cached_page = ctx.search_pages.get(page_key)
    if cached_page is not None:
        return cached_page
    page_started = ctx.search_pages.begin_read()
    key = public_id.search_key(q)
    started = ctx.public_views.begin_read()
    results: list[tuple[int, str, str]] = []  # (id, public_id_key, name_key): the walk's columns (WALK_COLUMNS)
    next_cursor = None

    if phase == 1:
        if key:
            lower, strict, upper = id_prefix_bounds(key, after)
            values = [lower] + ([upper] if upper is not None else [])
            found = ID_WALK.execute((strict, upper is not None), *values, limit + 1).fetchall()
            results.extend(found[:limit])
            if len(found) > limit:
                next_cursor = _write_cursor(ctx.keyring, 1, results[-1][1])
        after = None

    room = limit - len(results)
    # A key such as "GS" or "GSB" matches every record by id: a name phase would only find duplicates.
    if next_cursor is None and not (key and public_id.KEY_PREFIX.startswith(key)):
        # With a full page already, one row is fetched only to learn whether the name phase has more.
        bounds = name_prefix_bounds(name_key(q), after, key)
        shape = tuple(bounds[name] is not None for name in NAME_BOUNDS)
        values = [bounds[name] for name in NAME_BOUNDS if bounds[name] is not None]
        found = NAME_WALK.execute(shape, *values, room + 1).fetchall()
        results.extend(found[:room])
        if len(found) > room:
            last = results[-1] if room else None
            next_cursor = _write_cursor(ctx.keyring, 2, [last[2], last[0]] if last else None)
    views, expires_at = _views(ctx, results, started)
    page = SearchPage(views, next_cursor)
    ctx.search_pages.put(page_key, page, page_started, expires_at)
    return page


def _views(ctx: Context, found: list[tuple[int, str, str]], started) -> tuple[list[View], float | None]:
    """The public views of the records a walk found (ids and keys only): from the cache, the rest in one query;
    and when the oldest cached one expires (None: every view was read now)."""
    entries = {cert_id: ctx.public_views.entry(key) for cert_id, key, _ in found}
    views = {cert_id: entry[1] for cert_id, entry in entries.items() if entry is not None}
    expiries = [entry[0] for entry in entries.values() if entry is not None]
    missing = [cert_id for cert_id, entry in entries.items() if entry is None]
    if missing:
        for cert in BY_IDS.rows(len(missing), *missing):
            view = views[cert.id] = public_view(ctx, cert)
            ctx.public_views.put(cert.public_id_key, view, started)
    shown = [views[cert_id] for cert_id, _, _ in found if cert_id in views]  # records are never deleted: all
    return shown, min(expiries, default=None)


def _search_limit(raw: object) -> int:
    if raw is None:
        return SEARCH_DEFAULT_LIMIT
    # Digits only, as the OpenAPI document's integer says: "", " 5", "1.5" and "+5" are refused, not guessed at.
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,3}", raw):
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.")
    limit = int(raw)
    if not 1 <= limit <= SEARCH_MAX_LIMIT:
        raise invalid_field("limit", f"limit must be a whole number from 1 to {SEARCH_MAX_LIMIT}.")
    return limit


def _write_cursor(keyring, phase: int, after: object) -> str:
    """`<base64url JSON>.<MAC>`: opaque to clients and tamper-evident, so only cursors the registry made are read."""
    body = b64e(json.dumps({"p": phase, "a": after}, separators=(",", ":")).encode())
    return body + "." + keyring.keyed_hash(CURSOR_PURPOSE, body)[:32]


def _read_cursor(keyring, raw: object) -> tuple[int, Any]:
    if raw is None or raw == "":
        return 1, None
    try:
        if not isinstance(raw, str) or len(raw) > MAX_CURSOR_LENGTH:
            raise ValueError
        body, _, mac = raw.partition(".")
        if not hmac.compare_digest(mac, keyring.keyed_hash(CURSOR_PURPOSE, body)[:32]):
            raise ValueError
        data = json.loads(b64d(body))
        phase, after = data["p"], data["a"]
        # Checked strictly even though signed: a later release may read a cursor an earlier one made.
        if phase == 1 and isinstance(after, str) and _ID_KEY.fullmatch(after):
            return 1, after
        if phase == 2 and after is None:
            return 2, None
        if (
            phase == 2
            and isinstance(after, list)
            and len(after) == 2
            and isinstance(after[0], str)
            and _CURSOR_TEXT.fullmatch(after[0])
            and isinstance(after[1], int)
            and not isinstance(after[1], bool)
            and 0 < after[1] <= _MAX_ROW_ID
        ):
            return 2, (after[0], after[1])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError, RecursionError):
        pass
    raise RegistryError("invalid_cursor", "The cursor is not valid; start the search again without it.")
