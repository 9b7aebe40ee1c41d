"""Database connection, per-request connection handling, and write transactions that lock.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys; PostgreSQL is reached through
`DATABASE_URL=postgresql://...`. Code that reads a row and then writes depending on it takes the lock with
`write_transaction(db)` and `for_update(query)`: `BEGIN IMMEDIATE` on SQLite (which has no row locks) and
`SELECT ... FOR UPDATE` inside the transaction on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
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


def write_transaction(db: peewee.Database):
    """A transaction that serialises writers: the lock is taken at BEGIN on SQLite, per row on PostgreSQL.

    On SQLite the threads of one process also queue on a lock of their own before BEGIN IMMEDIATE: SQLite lets one
    writer in at a time anyway, and a thread refused at BEGIN sleeps in SQLite's busy handler (1, 2, 5, ... up to
    100 ms at a time) while the write lock may already be free, which costs throughput and makes long tails under
    load. Other processes are still kept out by SQLite's own lock (and its busy timeout)."""
    if is_sqlite(db):
        return _QueuedWrite(db, _writer_lock(db))
    return db.atomic()


_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(db: peewee.Database) -> threading.RLock:
    lock = getattr(db, "_writer_lock", None)
    if lock is None:
        with _WRITER_LOCKS_GUARD:
            lock = getattr(db, "_writer_lock", None)
            if lock is None:
                lock = db._writer_lock = threading.RLock()  # re-entrant: a write transaction may nest another
    return lock


class _QueuedWrite:
    """`db.atomic("IMMEDIATE")`, entered only once this thread holds the process's writer lock for `db`."""

    def __init__(self, db: peewee.Database, lock: threading.RLock):
        self._db = db
        self._lock = lock
        self._transaction = None

    def __enter__(self):
        self._lock.acquire()
        try:
            self._transaction = self._db.atomic("IMMEDIATE")
            return self._transaction.__enter__()
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *exc_info):
        try:
            return self._transaction.__exit__(*exc_info)
        finally:
            self._lock.release()


def for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Lock the selected rows until the transaction ends (a no-op on SQLite, already locked at BEGIN)."""
    if is_sqlite(query.model._meta.database):
        return query
    return query.for_update()


class ConnectionMiddleware:
    """One connection per worker thread, kept from one request to the next.

    Peewee's connections are per thread; `autoconnect` opens one at the first query, so a route that never touches
    the database never opens one, and the next request on the same thread reuses it (no new SQLite connection and
    pragmas, no new PostgreSQL session, per request). A connection that a request left unusable (the server
    restarted, the link broke) is closed after that request, so the next one opens a fresh connection.
    """

    def __init__(self, db: peewee.Database):
        self._db = db

    def process_response(self, req, resp, resource, req_succeeded):
        db = self._db
        if db.is_closed() or db.is_connection_usable():
            return
        try:
            db.close()
        except Exception:  # a broken link may refuse even to close; it is dropped either way
            db._state.reset()


class _Placeholder(str):
    """Stands for the n-th value of a prepared statement while Peewee writes its SQL."""

    position: int


def _placeholder(index: int) -> peewee.Value:
    marker = _Placeholder(f"\x00prepared-value-{index}\x00")
    marker.position = index
    return peewee.Value(marker, unpack=False)  # a Node: Peewee passes it on without converting it


def _database(model: type[peewee.Model]) -> peewee.Database:
    db = model._meta.database
    return getattr(db, "obj", db)  # the DatabaseProxy's database


class Prepared:
    """A statement whose SQL text Peewee writes once per dialect and shape, then runs with new values.

    Peewee writes the SQL of a query on every execution; for the 36 columns of a certificate that costs many times
    what running the query does. `build(shape, *values)` returns the Peewee query; it receives placeholders, never
    real values, so everything that depends on a value must be in `shape`, and constants (booleans, status words)
    are written by `build` itself. The values are passed to the driver as they are: give them in the form the
    column takes (str, int, datetime, None). `rows()` makes model instances with the fields' own converters, as
    Peewee would; `execute()` returns the cursor (rowcount, RETURNING).
    """

    def __init__(self, model: type[peewee.Model], build):
        self._model = model
        self._build = build
        self._compiled: dict = {}

    def query(self, shape, *values):
        """The Peewee query itself, with real values (for EXPLAIN in tests)."""
        return self._build(shape, *values)

    def execute(self, shape, *values):
        db = _database(self._model)
        key = (type(db), shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            sql, params = self._build(shape, *[_placeholder(i) for i in range(len(values))]).sql()
            template = [(True, p.position) if isinstance(p, _Placeholder) else (False, p) for p in params]
            compiled = self._compiled[key] = [sql, template, None]
        sql, template, _ = compiled
        return db.execute_sql(sql, [values[x] if is_value else x for is_value, x in template])

    def rows(self, shape, *values) -> list:
        cursor = self.execute(shape, *values)
        compiled = self._compiled[(type(_database(self._model)), shape)]
        converters = compiled[2]
        if converters is None:
            columns = self._model._meta.columns
            converters = compiled[2] = [_converter(columns[column[0]]) for column in cursor.description]
        return [_instance(self._model, converters, row) for row in cursor.fetchall()]

    def joined_rows(self, other: type[peewee.Model], shape, *values) -> list[tuple]:
        """For `SELECT model.*, other.* ... LEFT JOIN other`: each row as (model instance, other instance), the
        second None where the join found no row. One statement instead of one per model."""
        cursor = self.execute(shape, *values)
        compiled = self._compiled[(type(_database(self._model)), shape)]
        if compiled[2] is None:
            width = len(self._model._meta.sorted_fields)
            names = [column[0] for column in cursor.description]
            mine, theirs = self._model._meta.columns, other._meta.columns
            compiled[2] = (
                width,
                [_converter(mine[name]) for name in names[:width]],
                [_converter(theirs[name]) for name in names[width:]],
                names.index(other._meta.primary_key.column_name, width),
            )
        width, converters, other_converters, other_key = compiled[2]
        return [
            (
                _instance(self._model, converters, row[:width]),
                None if row[other_key] is None else _instance(other, other_converters, row[width:]),
            )
            for row in cursor.fetchall()
        ]

    def first(self, *values, shape=None):
        found = self.rows(shape, *values)
        return found[0] if found else None


PreparedSelect = Prepared


def _instance(model: type[peewee.Model], converters: list, row) -> peewee.Model:
    """What Model(__no_default__=1, **data) does, without a descriptor call per column."""
    instance = object.__new__(model)
    instance.__data__ = {
        name: (convert(value) if convert is not None and value is not None else value)
        for (name, convert), value in zip(converters, row, strict=True)
    }
    instance._dirty = set()
    instance.__rel__ = {}
    return instance


# Columns whose values both drivers already return as the field's Python type: no converter needed. Exact types
# only: a subclass (an enum column is a CharField) has its own conversion.
_NATIVE = (peewee.CharField, peewee.TextField, peewee.IntegerField, peewee.AutoField, peewee.ForeignKeyField)


def _converter(field: peewee.Field) -> tuple[str, object]:
    if type(field) in _NATIVE:
        return field.name, None
    if type(field) is peewee.DateTimeField:
        return field.name, _iso_reader(field.python_value, dt.datetime.fromisoformat, (19, 26))
    if type(field) is peewee.DateField:
        return field.name, _iso_reader(field.python_value, dt.date.fromisoformat, (10,))
    return field.name, field.python_value


def _iso_reader(python_value, from_iso, lengths: tuple[int, ...]):
    """SQLite returns dates and times as text, which Peewee parses by trying format after format; the text the
    registry stores ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff]', naive) is read by the C parser instead, with the
    same result. Anything else (PostgreSQL's datetime objects, other text) goes to the field's own converter."""

    def convert(value):
        if value.__class__ is str and len(value) in lengths and value[10:11] in ("", " "):
            try:
                return from_iso(value)
            except ValueError:
                pass
        return python_value(value)

    return convert


_INSERTS: dict = {}


def _db_values(fields: list[peewee.Field]):
    """A function from a model's data to the driver's values for `fields`, as Peewee's `db_value` gives them; a
    str in a text column or an int in an integer column is passed as it is (that is all `db_value` would do)."""
    plan = []
    for field in fields:
        native = {peewee.CharField: str, peewee.TextField: str, peewee.IntegerField: int}.get(type(field))
        if type(field) is peewee.ForeignKeyField:
            native = int
        plan.append((field.name, native, field.db_value))

    def convert(data: dict) -> list:
        values = []
        for name, native, db_value in plan:
            value = data.get(name)
            values.append(value if value is None or value.__class__ is native else db_value(value))
        return values

    return convert


def insert(instance: peewee.Model) -> peewee.Model:
    """INSERT a new model instance, as `save(force_insert=True)` does, with the statement written once per model and
    dialect; sets the instance's primary key and returns it."""
    model = type(instance)
    db = _database(model)
    key = (model, type(db))
    compiled = _INSERTS.get(key)
    if compiled is None:
        fields = [field for field in model._meta.sorted_fields if not isinstance(field, peewee.AutoField)]
        query = model.insert({field: _placeholder(i) for i, field in enumerate(fields)})
        if isinstance(model._meta.primary_key, peewee.AutoField):
            query = query.returning(model._meta.primary_key)
        sql, _ = query.sql()
        compiled = _INSERTS[key] = (sql, _db_values(fields))
    sql, convert = compiled
    cursor = db.execute_sql(sql, convert(instance.__data__))
    if isinstance(model._meta.primary_key, peewee.AutoField):
        instance._pk = cursor.fetchone()[0]
    instance._dirty.clear()
    return instance


_UPDATES: dict = {}


def update(instance: peewee.Model) -> peewee.Model:
    """UPDATE every column of an existing model instance by its primary key, as `save()` does, with the statement
    written once per model and dialect."""
    model = type(instance)
    db = _database(model)
    key = (model, type(db))
    compiled = _UPDATES.get(key)
    if compiled is None:
        primary = model._meta.primary_key
        fields = [field for field in model._meta.sorted_fields if field is not primary]
        count = len(fields)
        query = model.update({field: _placeholder(i) for i, field in enumerate(fields)}).where(
            primary == _placeholder(count)
        )
        sql, _ = query.sql()
        compiled = _UPDATES[key] = (sql, _db_values(fields))
    sql, convert = compiled
    db.execute_sql(sql, convert(instance.__data__) + [instance._pk])
    instance._dirty.clear()
    return instance
