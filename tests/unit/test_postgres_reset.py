"""tests/unit/postgres_reset.py: on PostgreSQL, every test starts from what a fresh migration leaves, whether the
schema was emptied or built again. (A SQLite test gets a new file, so there is nothing to check there.)"""

from __future__ import annotations

import pytest

from api.db import is_sqlite

from . import postgres_reset


@pytest.fixture
def postgres(db):
    if is_sqlite(db):
        pytest.skip("PostgreSQL only: the SQLite run gives every test a new database file")
    return db


def _row_counts(db) -> dict[str, int]:
    return {table: db.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in db.get_tables()}


def test_an_emptied_database_is_what_the_migrations_left(postgres, database_url, issued):
    fresh_counts = _row_counts(postgres)
    fresh_head = postgres.execute_sql("SELECT * FROM log_head").fetchall()
    identity = postgres_reset._identity(postgres)
    issued()
    issued("second@example.com")
    assert _row_counts(postgres) != fresh_counts

    postgres_reset.prepare(postgres, database_url)

    assert postgres_reset._identity(postgres) == identity  # emptied, not built again
    assert _row_counts(postgres) == fresh_counts
    assert postgres.execute_sql("SELECT * FROM log_head").fetchall() == fresh_head
    # Sequences start again: the next purchase is number 1, as in a new database.
    issued()
    assert postgres.execute_sql("SELECT min(id) FROM purchase").fetchone()[0] == 1


def test_a_changed_schema_is_built_again(postgres, database_url):
    identity = postgres_reset._identity(postgres)
    postgres.execute_sql('DROP TABLE "outbox_message"')

    postgres_reset.prepare(postgres, database_url)

    assert "outbox_message" in postgres.get_tables()
    assert postgres_reset._identity(postgres) != identity  # the dropped table and its indexes are new relations


def test_tables_are_emptied_children_first(postgres):
    order = postgres_reset._children_first(postgres, [t for t in postgres.get_tables() if t != "schema_migration"])
    for position, table in enumerate(order):
        for foreign_key in postgres.get_foreign_keys(table):
            if foreign_key.dest_table != table:
                assert order.index(foreign_key.dest_table) > position, (table, foreign_key.dest_table)
