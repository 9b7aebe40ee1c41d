"""Registry search and lookup at scale: fills a database with N certificates and prints timings.

    .venv/bin/python benchmarks/search.py                      # 100,000 records, SQLite file in a temp dir
    .venv/bin/python benchmarks/search.py --records 1000000
    .venv/bin/python benchmarks/search.py --database postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python benchmarks/search.py --records 1000000 --compare-at 10000   # cost at 1 M / cost at 10 k

With --compare-at each size has its own database (SQLite: a second file beside the first; PostgreSQL: give
--compare-database), and the sizes are measured in alternating rounds, so that a machine whose speed drifts
during the run (fills at 1 M take minutes) does not pass the drift off as the cost of size.

It prints figures and asserts nothing about time: the unit tests assert the query plans (index use); this shows
what those plans cost. Compare runs on one machine, not across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
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
from dev.scratch_database import drop_all_tables  # noqa: E402

ROUNDS = 5
SYLLABLES = ["jo", "ule", "ka", "ri", "no", "va", "sel", "tor", "mi", "ra", "qu", "en", "ta", "lo", "zen", "phi"]


def fill(db, count: int, batch: int = 5000) -> float:
    """Certificates 1 to `count` (card numbers of 2026), in batches: the same records at every size."""
    rng = random.Random(7)
    now = dt.datetime(2026, 1, 1)
    started = time.perf_counter()
    for offset in range(0, count, batch):
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


def measure(call, runs: int) -> tuple[list[float], int]:
    """`runs` timings of `call` in milliseconds, and the rows its last call returned."""
    timings = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, rows


def median_p95(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[math.ceil(len(ordered) * 0.95) - 1]  # nearest rank


def run_queries(ctx, records: int, runs: int) -> dict[str, tuple[list[float], int]]:
    last = f"GS-BC-H-26-{crockford(records - (1 if records % 3 == 0 else 0))}"

    def ten_pages() -> int:
        cursor, seen = None, 0
        for _ in range(10):
            page = search.search(ctx, "ka", "50", cursor)  # as the query string gives it
            seen += len(page["results"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return seen

    return {
        "lookup by exact id": measure(lambda: len([certificates.lookup(ctx, last.lower()).record]), runs),
        "search: exact id": measure(lambda: len(search.search(ctx, last)["results"]), runs),
        "search: id prefix 'GS-BC-H-26-1' (page 1)": measure(
            lambda: len(search.search(ctx, "GS-BC-H-26-1")["results"]), runs
        ),
        "search: name prefix 'jo' (page 1)": measure(lambda: len(search.search(ctx, "jo")["results"]), runs),
        "search: directory, empty query (page 1)": measure(lambda: len(search.search(ctx, "")["results"]), runs),
        "search: name prefix, no match": measure(lambda: len(search.search(ctx, "xylophone")["results"]), runs),
        "search: name 'ka', 10 pages of 50": measure(ten_pages, max(2, runs // 10)),
    }


def prepare(url: str, size: int) -> Context:
    """A new database at `url` holding `size` certificates, and a context on it with both caches off."""
    db = open_database(url)
    bind_models(db)
    drop_all_tables(db)  # a PostgreSQL database given with --database; a SQLite file is new
    migrate(db)
    print(f"database: {'SQLite' if is_sqlite(db) else 'PostgreSQL'}; filling to {size:,} records ...", flush=True)
    seconds = fill(db, size)
    if not is_sqlite(db):
        db.execute_sql("ANALYZE certificate")
    print(f"filled in {seconds:.1f} s ({size / seconds:,.0f} rows/s)\n", flush=True)
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
    return ctx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200, help="timings per query and size, over all rounds")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="with --compare-at: rounds that alternate sizes")
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--compare-at", type=int, help="also measure at this smaller size, and print the ratios")
    parser.add_argument("--compare-database", help="with --compare-at on PostgreSQL: the smaller size's database")
    args = parser.parse_args()

    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    sizes_urls = [(args.records, url)]
    if args.compare_at and args.compare_at < args.records:
        small_url = args.compare_database
        if small_url is None and url.startswith("sqlite:///"):
            small_url = url.removesuffix(".db") + f"-{args.compare_at}.db"
        if small_url is None or small_url == url:
            parser.error("--compare-at on PostgreSQL needs --compare-database, a second database")
        sizes_urls.insert(0, (args.compare_at, small_url))
    contexts = [(size, prepare(size_url, size)) for size, size_url in sizes_urls]

    # The sizes take turns, round by round, so a machine that slows down or speeds up during the run (a shared
    # host does) weighs on every size alike instead of on whichever was measured last.
    rounds = args.rounds if len(contexts) > 1 else 1
    timings: dict[int, dict[str, list[float]]] = {size: {} for size, _ in contexts}
    rows: dict[int, dict[str, int]] = {size: {} for size, _ in contexts}
    for _ in range(rounds):
        for size, ctx in contexts:
            bind_models(ctx.db)
            for label, (taken, returned) in run_queries(ctx, size, max(1, args.runs // rounds)).items():
                timings[size].setdefault(label, []).extend(taken)
                rows[size][label] = returned

    figures = {size: {label: median_p95(taken) for label, taken in found.items()} for size, found in timings.items()}
    for size, _ in contexts:
        print(f"at {size:,} records" + (f" ({rounds} rounds alternating with the other size)" if rounds > 1 else ""))
        for label, (median, p95) in figures[size].items():
            print(f"{label:<44} median {median:7.3f} ms   p95 {p95:7.3f} ms   rows {rows[size][label]}")
        print()
    if len(contexts) == 2:
        (small, _), (large, _) = contexts
        print(f"cost at {large:,} / cost at {small:,} (median; p95):")
        for label, (small_median, small_p95) in figures[small].items():
            large_median, large_p95 = figures[large][label]
            print(f"  {label:<44} {large_median / small_median:5.2f}x   {large_p95 / small_p95:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
