"""Transparency log at scale: append, inclusion-proof and consistency-proof latency at 10,000 and 1,000,000 leaves.

    .venv/bin/python benchmarks/transparency_log.py                       # 10 k and 1 M leaves, SQLite temp files
    .venv/bin/python benchmarks/transparency_log.py --sizes 10000          # quick
    .venv/bin/python benchmarks/transparency_log.py --database postgresql://postgres@127.0.0.1:5432/bench

For each size it fills a fresh, migrated database with that many leaves (bulk inserts of the leaves and of every
completed subtree hash, built in one streaming pass with the log's own `merkle.append`), then times, one call at
a time through `api.transparency`:
- append: one leaf in its own write transaction (lock the head, insert leaf and subtree hashes, update the head,
  commit), as an issuance does;
- inclusion proof: a random index in the whole tree;
- consistency proof: from a random earlier size to the whole tree.
It prints p50/p95/p99 in milliseconds, the mean number of stored subtree hashes each proof reads (its database
cost, free of timing noise), and the ratios between the largest size and the smallest. It asserts nothing:
the targets (p95 <= 5 ms at 1 M; cost at 1 M <= 1.5x cost at 10 k) are read off the figures. Not run by CI.
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

from api import transparency  # noqa: E402
from api.db import is_sqlite, open_database, write_transaction  # noqa: E402
from api.migrations import migrate  # noqa: E402
from api.models import LogEntry, LogHead, LogNode, bind_models  # noqa: E402
from api.tlog import merkle  # noqa: E402
from dev.scratch_database import drop_all_tables  # noqa: E402

AT = dt.datetime(2026, 11, 25, 10, 0, 0)


def leaf(n: int) -> bytes:
    # The shape of a real leaf (api/transparency.leaf_bytes), written directly: the fill is about storage, and a
    # million RFC 8785 encodings would only slow it down.
    return (
        b'{"at":"2026-11-25T10:00:00Z","credential_hash":"%064x","public_id":"GS-BC-H-26-%d","type":"issued",'
        b'"version":1}' % (n, n)
    )


def fill(db, count: int, batch: int = 20_000) -> float:
    started = time.perf_counter()
    frontier: list[bytes] = []
    entries, nodes = [], []

    def flush():
        with db.atomic():
            if entries:
                LogEntry.insert_many(entries).execute()
            if nodes:
                LogNode.insert_many(nodes).execute()
        entries.clear()
        nodes.clear()

    for n in range(count):
        data = leaf(n)
        frontier, completed = merkle.append(frontier, n, data)
        entries.append(
            {"idx": n, "leaf": data, "kind": "issued", "subject": f"GS-BC-H-26-{n}", "version": 1, "created_at": AT}
        )
        nodes.extend({"id": transparency.node_id(block), "hash": value} for block, value in completed)
        if len(entries) >= batch:
            flush()
    flush()
    with db.atomic():
        LogHead.update(
            size=count, frontier=merkle.pack(frontier), root_hash=merkle.frontier_root(frontier), updated_at=AT
        ).where(LogHead.id == transparency.HEAD_ID).execute()
    if not is_sqlite(db):
        db.execute_sql("ANALYZE")
    return time.perf_counter() - started


def _blocks(ranges) -> set:
    return {block for start, end in ranges for block in merkle.blocks(start, end)}


def timed(samples: int, call) -> list[float]:
    times = []
    for i in range(samples):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    cuts = statistics.quantiles(ordered, n=100)
    return {"p50": statistics.median(ordered), "p95": cuts[94], "p99": cuts[98]}


def open_fresh(url: str | None, size: int, workdir: Path):
    if url is None:
        db = open_database(f"sqlite:///{workdir}/log-{size}.db")
    else:
        db = open_database(url)
        drop_all_tables(db)
    migrate(db)
    bind_models(db)
    return db


def run(size: int, samples: int, url: str | None, workdir: Path) -> dict[str, dict[str, float]]:
    db = open_fresh(url, size, workdir)
    seconds = fill(db, size)
    print(f"\n{size:,} leaves ({'SQLite' if is_sqlite(db) else 'PostgreSQL'}): filled in {seconds:.1f} s", flush=True)
    rng = random.Random(11)
    head = transparency.head()
    expected_root = head.root_hash

    def append(i):
        with write_transaction(db):
            transparency.append("corrected", f"GS-BC-H-26-{i}", 2, AT, "ab" * 32)

    def inclusion(_):
        index = rng.randrange(size)
        transparency.inclusion_proof(index, size)

    def consistency(_):
        transparency.consistency_proof(rng.randrange(1, size), size)

    # Proofs first, against the filled tree (checked once, untimed), then appends.
    proof = transparency.inclusion_proof(size // 3, size)
    merkle.verify_inclusion(size // 3, size, merkle.leaf_hash(leaf(size // 3)), proof, expected_root)
    results = {
        "inclusion proof": percentiles(timed(samples, inclusion)),
        "consistency proof": percentiles(timed(samples, consistency)),
        "append": percentiles(timed(samples, append)),
    }
    results["inclusion proof"]["hashes read"] = statistics.mean(
        len(_blocks(merkle.inclusion_ranges(rng.randrange(size), size))) for _ in range(samples)
    )
    results["consistency proof"]["hashes read"] = statistics.mean(
        len(_blocks(merkle.consistency_ranges(rng.randrange(1, size), size))) for _ in range(samples)
    )
    results["append"]["hashes read"] = 0.0  # the head row only
    for name, figures in results.items():
        times = "  ".join(f"{k} {v:6.3f} ms" for k, v in figures.items() if k != "hashes read")
        print(f"  {name:<18} {times}   stored hashes read: {figures['hashes read']:.1f}", flush=True)
    db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--database", help="a PostgreSQL URL (emptied first); default: SQLite files in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tlog-bench-") as workdir:
        results = {size: run(size, args.samples, args.database, Path(workdir)) for size in args.sizes}
    small, large = min(results), max(results)
    if small != large:
        print(f"\np95 at {large:,} / p95 at {small:,}:")
        for name in results[small]:
            ratio = results[large][name]["p95"] / results[small][name]["p95"]
            reads = results[small][name]["hashes read"]
            read_ratio = results[large][name]["hashes read"] / reads if reads else 1.0
            print(f"  {name:<18} time {ratio:.2f}x   stored hashes read {read_ratio:.2f}x")


if __name__ == "__main__":
    main()
