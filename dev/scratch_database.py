"""Emptying a scratch database for tests and benchmarks: every table of the public schema dropped, so that the
migrations build it again from nothing. Never pointed at a registry's own database."""

from __future__ import annotations

import peewee


def drop_all_tables(db: peewee.Database) -> None:
    tables = db.get_tables()
    if tables:
        cascade = "" if isinstance(db, peewee.SqliteDatabase) else " CASCADE"
        db.execute_sql("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + cascade)
