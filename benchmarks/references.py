"""The bare references `benchmarks/run` compares the registry with, served on the registry's waitress settings.

    .venv/bin/python benchmarks/references.py --port 8101 --database sqlite:////tmp/reference.db

- `GET /json`: a Falcon route answering a small JSON object: the framework and server alone.
- `POST /insert`: a Falcon + Peewee route that inserts one row per request in a transaction, on the registry's
  SQLite settings (WAL, synchronous=normal, busy timeout), each worker thread keeping its connection: the floor
  for any route that writes.

Nothing here is the registry; the point is to measure, in the same run, what the framework itself costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import falcon
import peewee
import waitress

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.cli import waitress_options  # noqa: E402
from api.db import SQLITE_PRAGMAS  # noqa: E402

database = peewee.SqliteDatabase(None)


class Row(peewee.Model):
    label = peewee.CharField(max_length=100)
    created_at = peewee.DateTimeField()

    class Meta:
        database = database


class Json:
    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Insert:
    def on_post(self, req, resp):
        with database.atomic("IMMEDIATE"):
            row = Row.create(label="reference", created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        resp.status = falcon.HTTP_201
        resp.media = {"id": row.id}


def create_app(path: str) -> falcon.App:
    database.init(path, pragmas=SQLITE_PRAGMAS, timeout=15)
    with database.connection_context():
        database.create_tables([Row])
    app = falcon.App()
    app.add_route("/json", Json())
    app.add_route("/insert", Insert())
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database", required=True, help="sqlite:///PATH")
    args = parser.parse_args()
    app = create_app(args.database.split("sqlite:///", 1)[-1])
    waitress.serve(app, **waitress_options("127.0.0.1", args.port, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
