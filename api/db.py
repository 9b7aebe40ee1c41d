"""Database connection, per-request connection handling, and write transactions that lock.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys; PostgreSQL is reached through
`DATABASE_URL=postgresql://...`. Code that reads a row and then writes depending on it takes the lock with
`write_transaction(db)` and `for_update(query)`: `BEGIN IMMEDIATE` on SQLite (which has no row locks) and
`SELECT ... FOR UPDATE` inside the transaction on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import peewee
from playhouse.db_url import connect

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -16000,
}


def open_database(url: str) -> peewee.Database:
    """A Peewee database for the URL. Nothing connects until first use; `Context` binds the models to it."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # reported like any unreachable database: one line, exit 2
                raise peewee.OperationalError(f"cannot create {Path(path).parent}: {exc.strerror}") from exc
        db = connect(url, pragmas=SQLITE_PRAGMAS, timeout=15, autoconnect=True)
    else:
        db = connect(url, autoconnect=True)
    return db


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def write_transaction(db: peewee.Database) -> peewee._transaction:
    """A transaction that serialises writers: the lock is taken at BEGIN on SQLite, per row on PostgreSQL."""
    if is_sqlite(db):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Lock the selected rows until the transaction ends (a no-op on SQLite, already locked at BEGIN)."""
    if is_sqlite(query.model._meta.database):
        return query
    return query.for_update()


class ConnectionMiddleware:
    """Peewee's recipe for Falcon: one connection per request, always closed afterwards."""

    def __init__(self, db: peewee.Database):
        self._db = db

    def process_request(self, req, resp):
        self._db.connect(reuse_if_open=True)

    def process_response(self, req, resp, resource, req_succeeded):
        if not self._db.is_closed():
            self._db.close()
