"""The public view of each record, kept in process, and the HTTP validators of public reads.

Contract:
- `PublicViews` keeps, per record (keyed by `public_id_key`), the public view as lookup answers it: the dict, its
  JSON bytes and an ETag. Lookups and search pages read views from here and go to the database only on a miss.
- Staleness is bounded by `MAX_AGE_SECONDS` (5 s): an entry is dropped that long after the database read that
  made it, so a change committed by another process (another server instance, `python -m api admin revoke`) is
  visible everywhere within 5 s.
- In the process that writes, the change is visible at once: every write to a certificate calls
  `record_changed(ctx, key)` inside its transaction, which drops the entry when the transaction commits (never
  before: a reader between the drop and the commit would cache the old row again). A read that began before an
  invalidation never stores its result (the generation check in `put`), so a slow reader cannot put back a view
  older than a write it did not see.
- Only records that exist are cached; an unknown id is looked up again every time, so a new record is visible at
  once everywhere.
- Search pages are kept the same way (`Context.search_pages`, keyed by query, limit and cursor), at most
  `MAX_PAGES` of them. A page expires no later than the oldest record view it was made from, so the 5 s bound holds
  for what a page shows too. In the writing process every change to a certificate, and every new certificate
  (`record_added`), drops all pages when its transaction commits: a new or renamed record can move every page.
- `etag()` and `not_modified()` give public reads an ETag and answer `If-None-Match` with 304, so browsers and a
  CDN absorb repeats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

MAX_AGE_SECONDS = 5.0
MAX_ENTRIES = 20_000
# Search pages: each holds up to 50 views (shared with the record cache) and its own body, about 33 KB for 50
# typical records (measured), so 500 pages take some 20 MB at most; pages of the default 20 results, about 8 MB.
MAX_PAGES = 500

Value = TypeVar("Value")


def dumps(value) -> bytes:
    """JSON as the API sends it (Falcon's handler does the same: UTF-8, not ASCII-escaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weak comparison, RFC 9110 §13.1.2) or is `*`."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


@dataclasses.dataclass(frozen=True)
class View:
    record: dict
    body: bytes
    etag: str
    closes_at: dt.datetime | None  # the end of the correction window (then only an amendment or a revocation
    # changes the record); None once revoked

    @classmethod
    def of(cls, record: dict, closes_at) -> View:
        body = dumps(record)
        return cls(record, body, etag(body), closes_at)


class PublicViews(Generic[Value]):
    """A bounded, thread-safe map (`public_id_key` to `View`, or a search to its page) with a time bound and a
    write generation."""

    def __init__(
        self,
        max_age: float = MAX_AGE_SECONDS,
        max_entries: int = MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.max_age = max_age
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[object, tuple[float, Value]] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key: object) -> Value | None:
        entry = self.entry(key)
        return None if entry is None else entry[1]

    def entry(self, key: object) -> tuple[float, Value] | None:
        """`(expires_at, value)` on this cache's monotonic clock, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._monotonic() >= entry[0]:
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry

    def begin_read(self) -> tuple[int, float]:
        """Call before reading from the database; pass the result to `put`."""
        return self.generation, self._monotonic()

    def put(self, key: object, value: Value, started: tuple[int, float], expires_at: float | None = None) -> None:
        """Keep `value` until `max_age` after `started`, or until `expires_at` if that is sooner (a value made from
        other cached values expires with the oldest of them)."""
        generation, read_at = started
        if self.max_age <= 0:
            return
        until = read_at + self.max_age if expires_at is None else min(read_at + self.max_age, expires_at)
        with self._lock:
            if generation != self.generation:
                return  # a write committed while this value was being read: it may predate that write
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, key: object = None) -> None:
        """Drop one entry (or all of them) and fence off reads that began before now."""
        with self._lock:
            self.generation += 1
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)


def record_changed(ctx, key: str) -> None:
    """Call inside any transaction that changes a certificate's public view: drops the view, and every search
    page, when it commits."""

    def drop() -> None:
        ctx.public_views.invalidate(key)
        ctx.search_pages.invalidate()

    ctx.db.after_commit(drop)


def record_added(ctx) -> None:
    """Call inside the transaction that issues a certificate: drops every search page when it commits (the new
    record has no view cached yet)."""
    ctx.db.after_commit(ctx.search_pages.invalidate)
