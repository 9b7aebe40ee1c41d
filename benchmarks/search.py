"""Registry search and lookup at scale: fills a database with N certificates and prints timings.

    .venv/bin/python benchmarks/search.py                      # 100,000 records, SQLite file in a temp dir
    .venv/bin/python benchmarks/search.py --records 1000000
    .venv/bin/python benchmarks/search.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python benchmarks/search.py --records 1000000 --compare-at 10000   # cost at 1 M / cost at 10 k

It prints figures and asserts nothing about time: the unit tests assert the query plans (index use); this shows
what those plans cost. Compare runs on one machine, not across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api import certificates, search  # noqa: E402
from api.config import Config  # noqa: E402
from api.context import Context  # noqa: E402
from api.crypto import crockford  # noqa: E402
from api.db import is_sqlite, open_database  # noqa: E402
from api.migrations import migrate  # noqa: E402
from api.models import Certificate, bind_models  # noqa: E402
from api.public_cache import PublicViews  # noqa: E402

SYLLABLES = ["jo", "ule", "ka", "ri", "no", "va", "sel", "tor", "mi", "ra", "qu", "en", "ta", "lo", "zen", "phi"]


def fill(db, count: int, batch: int = 5000, start: int = 0) -> float:
    """Certificates `start + 1` to `count` (card numbers of 2026), in batches."""
    rng = random.Random(7 + start)
    now = dt.datetime(2026, 1, 1)
    started = time.perf_counter()
    for offset in range(start, count, batch):
        rows = []
        for seq in range(offset + 1, min(count, offset + batch) + 1):
            name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()
            letter = "A" if seq % 3 == 0 else "H"
            public_id = f"GS-BC-{letter}-26-{crockford(seq)}"
            rows.append(
                dict(
                    public_id=public_id,
                    public_id_key=public_id.replace("-", ""),
                    card_year=2026,
                    card_seq=seq,
                    registration_source="agent" if letter == "A" else "human",
                    issued_at=now,
                    agent_name=name,
                    name_key=name.casefold(),
                    listed=seq % 2 == 0,
                    declared_ontological_status="Assistant",
                    cognitive_core_family="Undisclosed",
                    cognitive_core_exact="",
                    creator_label="",
                    inception_date=now.date(),
                    place_city="",
                    place_state="",
                    place_country="Australia",
                    show_city_public=False,
                    hide_state_public=True,
                    edit_count=1,
                    human_edit_count=1,
                    agent_edit_count=0,
                    last_edited_at=now,
                    last_edit_source="human",
                    lock_agent_edits=False,
                    record_nonce="0" * 32,
                    record_hash="0" * 64,
                    public_fingerprint="0" * 64,
                    hash_version=1,
                    status="active",
                )
            )
        with db.atomic():
            Certificate.insert_many(rows).execute()
    return time.perf_counter() - started


def measure(label: str, call, runs: int) -> tuple[float, float]:
    timings = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    median = statistics.median(timings)
    print(f"{label:<44} median {median:7.3f} ms   p95 {p95:7.3f} ms   rows {rows}")
    return median, p95


def run_queries(ctx, records: int, runs: int) -> dict[str, tuple[float, float]]:
    last = f"GS-BC-H-26-{crockford(records - (1 if records % 3 == 0 else 0))}"
    figures = {}

    def timed(label, call, count=runs):
        figures[label] = measure(label, call, count)

    timed("lookup by exact id", lambda: len([certificates.lookup(ctx, last.lower()).record]))
    timed("search: exact id", lambda: len(search.search(ctx, last)["results"]))
    timed("search: id prefix 'GS-BC-H-26-1' (page 1)", lambda: len(search.search(ctx, "GS-BC-H-26-1")["results"]))
    timed("search: name prefix 'jo' (page 1)", lambda: len(search.search(ctx, "jo")["results"]))
    timed("search: directory, empty query (page 1)", lambda: len(search.search(ctx, "")["results"]))
    timed("search: name prefix, no match", lambda: len(search.search(ctx, "xylophone")["results"]))

    def ten_pages() -> int:
        cursor, seen = None, 0
        for _ in range(10):
            page = search.search(ctx, "ka", "50", cursor)  # as the query string gives it
            seen += len(page["results"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return seen

    timed("search: name 'ka', 10 pages of 50", ten_pages, max(10, runs // 10))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--compare-at", type=int, help="also measure at this smaller size first, and print the ratios")
    args = parser.parse_args()

    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    db = open_database(url)
    bind_models(db)
    if not is_sqlite(db):
        tables = db.get_tables()
        if tables:
            db.execute_sql("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    migrate(db)
    config = Config(
        database_url=url,
        base_url="https://bench.test",
        secret_key=b"b" * 32,
        email_enc_key=bytes(32),
        rate_limit_enabled=False,
    )
    ctx = Context.build(config, db=db)
    # The database's cost, not the caches': with a zero bound no view or page is kept (api/public_cache.py).
    ctx.public_views = PublicViews(max_age=0)
    ctx.search_pages = PublicViews(max_age=0)
    sizes = [args.compare_at, args.records] if args.compare_at and args.compare_at < args.records else [args.records]
    figures, filled = [], 0
    for size in sizes:
        print(f"database: {'SQLite' if is_sqlite(db) else 'PostgreSQL'}; filling to {size:,} records ...")
        seconds = fill(db, size, start=filled)
        if not is_sqlite(db):
            db.execute_sql("ANALYZE certificate")
        print(f"filled in {seconds:.1f} s ({(size - filled) / seconds:,.0f} rows/s)\n")
        filled = size
        figures.append(run_queries(ctx, size, args.runs))
        print()
    if len(figures) == 2:
        print(f"cost at {sizes[1]:,} / cost at {sizes[0]:,} (median; p95):")
        for label in figures[0]:
            (small_median, small_p95), (large_median, large_p95) = figures[0][label], figures[1][label]
            print(f"  {label:<44} {large_median / small_median:5.2f}x   {large_p95 / small_p95:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
