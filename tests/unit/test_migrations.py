"""Migrations: idempotent, upgrade any earlier version, and produce exactly the schema the models declare, with
the lengths they declare, which for the certificate's fields are the definition's limits (api/definition.py)."""

from __future__ import annotations

import re

import peewee

from api import definition
from api.db import is_sqlite
from api.migrations import applied_versions, available, migrate, pending
from api.models import MODELS, Certificate


def columns(db, table):
    return {column.name for column in db.get_columns(table)}


def test_migrate_is_idempotent_and_complete(db):
    assert pending(db) == []
    assert migrate(db) == []
    assert applied_versions(db) == {version for version, _, _ in available(db)}


def test_schema_matches_the_models(db):
    for model in MODELS:
        table = model._meta.table_name
        assert table in db.get_tables()
        assert columns(db, table) == {field.column_name for field in model._meta.sorted_fields}, table
        # Every index the models declare is there, and no other: an index nothing declares costs every write.
        declared = {
            tuple(model._meta.fields[name].column_name for name in fields) for fields, _ in model._meta.indexes
        } | {(field.column_name,) for field in model._meta.sorted_fields if field.index or field.unique}
        primary_key = {tuple(field.column_name for field in model._meta.get_primary_keys())}
        present = {tuple(index.columns) for index in db.get_indexes(table)} - primary_key
        assert present == declared - primary_key, table


def declared_lengths(db, table: str) -> dict[str, int]:
    """The character limit of each VARCHAR column, as the database itself declares it."""
    if is_sqlite(db):
        rows = db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()
        found = {name: re.fullmatch(r"VARCHAR\((\d+)\)", kind, re.I) for _, name, kind, *_ in rows}
        return {name: int(match.group(1)) for name, match in found.items() if match}
    rows = db.execute_sql(
        "SELECT column_name, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = %s AND data_type = 'character varying'",
        (table,),
    ).fetchall()
    return dict(rows)


def test_every_stored_length_is_the_declared_one(db):
    for model in MODELS:
        table = model._meta.table_name
        declared = {
            field.column_name: field.max_length
            for field in model._meta.sorted_fields
            if isinstance(field, peewee.CharField)
        }
        assert declared_lengths(db, table) == declared, table


def test_the_certificate_columns_have_the_definitions_limits(db):
    stored = declared_lengths(db, Certificate._meta.table_name)
    for field in definition.FIELDS:
        if field.column_length is not None:
            assert Certificate._meta.fields[field.name].max_length == field.column_length, field.name
            assert stored[field.name] == field.column_length, field.name


def test_every_earlier_release_upgrades_to_the_latest(db):
    versions = [version for version, _, _ in available(db)]
    latest_tables = {t: columns(db, t) for t in db.get_tables()}
    latest_lengths = declared_lengths(db, "certificate")
    for stop in range(len(versions)):
        for table in db.get_tables():
            db.execute_sql(f'DROP TABLE "{table}"' + ("" if db.__class__.__name__.startswith("Sqlite") else " CASCADE"))
        applied_early = migrate_up_to(db, versions[stop - 1] if stop else 0)
        assert applied_early == versions[:stop]
        assert migrate(db) == versions[stop:]
        assert {t: columns(db, t) for t in db.get_tables()} == latest_tables
        assert declared_lengths(db, "certificate") == latest_lengths


def migrate_up_to(db, last_version):
    """Simulate a database left by an earlier release: only migrations up to `last_version`."""
    import api.migrations as migrations

    original = migrations.available
    try:
        migrations.available = lambda database: [m for m in original(database) if m[0] <= last_version]
        return migrations.migrate(db)
    finally:
        migrations.available = original
