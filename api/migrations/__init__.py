"""Versioned schema migrations: `python -m api migrate`.

Each migration is a file `NNNN_name.<dialect>.sql` (dialect `sqlite` or `postgresql`), applied in order,
each in its own transaction together with its row in `schema_migration`. Running it again does nothing;
a database made by any earlier release is brought to the latest version. Files are frozen once released:
a change to the schema is a new file, never an edit (a unit test compares the result with `api/models.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import peewee

from ..db import is_sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sqlite|postgresql)\.sql$")


def dialect(db: peewee.Database) -> str:
    return "sqlite" if is_sqlite(db) else "postgresql"


def available(db: peewee.Database) -> list[tuple[int, str, Path]]:
    found = []
    for path in MIGRATIONS_DIR.iterdir():
        match = _NAME.match(path.name)
        if match and match.group(3) == dialect(db):
            found.append((int(match.group(1)), match.group(2), path))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def applied_versions(db: peewee.Database) -> set[int]:
    if "schema_migration" not in db.get_tables():
        return set()
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migration")}


def migrate(db: peewee.Database, now=None) -> list[int]:
    """Apply every pending migration; return the versions applied now."""
    now = now or datetime_utcnow()
    db.connect(reuse_if_open=True)
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_migration "
        "(version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = applied_versions(db)
    applied = []
    for version, name, path in available(db):
        if version in done:
            continue
        with db.atomic():
            for statement in _statements(path.read_text()):
                db.execute_sql(statement)
            db.execute_sql(
                "INSERT INTO schema_migration (version, name, applied_at) VALUES (%s, %s, %s)"
                if not is_sqlite(db)
                else "INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, now),
            )
        applied.append(version)
    return applied


def pending(db: peewee.Database) -> list[int]:
    done = applied_versions(db)
    return [version for version, _, _ in available(db) if version not in done]


def datetime_utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
