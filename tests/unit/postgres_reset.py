"""An empty PostgreSQL database with the whole schema for every unit test, without rebuilding it every time.

Dropping every table and running the migrations again takes 110-150 ms; the unit suite needs it about 1,100 times,
which was most of the PostgreSQL run's time. So the schema is built once (`rebuild`), and each later test only
empties it (`empty`, about 5 ms): every row deleted, children before parents, in one transaction; the sequences
restarted; the rows the migrations themselves insert (the transparency log's empty head) put back.

A test may change the schema itself (tests/unit/test_migrations.py drops tables and migrates them up again). The
relations' identities (their OIDs) and the recorded migrations are compared before emptying: anything dropped,
created or migrated since the build makes the next test rebuild. An emptying that fails rebuilds too.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from api.migrations import migrate
from dev.scratch_database import drop_all_tables

# What identifies the schema as built: every relation of the public schema (tables, indexes, sequences) by OID,
# and the migrations recorded as applied.
_SCHEMA_IDENTITY = """
SELECT coalesce((SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_class
                 WHERE relnamespace = 'public'::regnamespace), '')
       || '|' || coalesce((SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migration), '')
"""
_MIGRATIONS_TABLE = "schema_migration"


@dataclass(frozen=True)
class _Built:
    identity: str
    deletion_order: tuple[str, ...]
    sequences: tuple[str, ...]
    seed_rows: tuple[tuple[str, tuple[str, ...], tuple[tuple, ...]], ...]  # (table, columns, rows)


_built: dict[str, _Built] = {}


def prepare(db: peewee.PostgresqlDatabase, url: str) -> None:
    """Leave the database at `url` migrated and empty but for the migrations' own rows."""
    built = _built.get(url)
    if built is not None and _identity(db) == built.identity:
        try:
            _empty(db, built)
            return
        except peewee.DatabaseError:
            pass
    _built[url] = rebuild(db)


def rebuild(db: peewee.PostgresqlDatabase) -> _Built:
    drop_all_tables(db)
    migrate(db)
    tables = [table for table in db.get_tables() if table != _MIGRATIONS_TABLE]
    seed_rows = []
    for table in tables:
        cursor = db.execute_sql(f'SELECT * FROM "{table}"')
        rows = tuple(tuple(row) for row in cursor.fetchall())
        if rows:
            seed_rows.append((table, tuple(column[0] for column in cursor.description), rows))
    sequences = tuple(
        row[0]
        for row in db.execute_sql(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    )
    return _Built(_identity(db), _children_first(db, tables), sequences, tuple(seed_rows))


def _identity(db: peewee.Database) -> str:
    try:
        return db.execute_sql(_SCHEMA_IDENTITY).fetchone()[0]
    except peewee.DatabaseError:  # no migrations table: nothing built
        db.rollback()
        return ""


def _children_first(db: peewee.Database, tables: list[str]) -> tuple[str, ...]:
    """The tables in an order that deletes every referencing row before the row it references."""
    parents = {table: {fk.dest_table for fk in db.get_foreign_keys(table)} - {table} for table in tables}
    ordered: list[str] = []
    while parents:
        # A table nothing left references can be emptied now.
        free = sorted(table for table in parents if not any(table in refs for refs in parents.values()))
        if not free:
            raise RuntimeError(f"circular foreign keys among {sorted(parents)}")
        for table in free:
            ordered.append(table)
            del parents[table]
    return tuple(ordered)


def _empty(db: peewee.Database, built: _Built) -> None:
    with db.atomic():
        for table in built.deletion_order:
            db.execute_sql(f'DELETE FROM "{table}"')
        for sequence in built.sequences:
            db.execute_sql(f"ALTER SEQUENCE {sequence} RESTART")
        for table, columns, rows in built.seed_rows:
            names = ", ".join(f'"{column}"' for column in columns)
            marks = ", ".join(["%s"] * len(columns))
            for row in rows:
                db.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', row)
