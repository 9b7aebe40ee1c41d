"""The log's storage (api/transparency.py) on the real database: appends inside transactions, roots and proofs
read from stored subtrees agree with an in-memory tree, and the HTTP answers for entries and proofs are bounded
and validated."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from api import transparency
from api.db import write_transaction
from api.models import LogEntry, LogNode
from api.tlog import merkle

from .support import assert_error

AT = dt.datetime(2026, 11, 25, 10, 0, 0)


def append_many(db, count, start=0):
    leaves = []
    for n in range(start, start + count):
        with write_transaction(db):
            index = transparency.append("issued", f"GS-BC-H-26-{n}", 1, AT, f"{n:064x}")
        assert index == n
        leaves.append(LogEntry.get_by_id(n).leaf)
    return [bytes(leaf) for leaf in leaves]


def test_leaf_bytes_are_canonical_json_of_public_data():
    leaf = transparency.leaf_bytes("corrected", "GS-BC-H-26-1", 2, AT, "ab" * 32)
    assert leaf == (
        b'{"at":"2026-11-25T10:00:00Z","credential_hash":"' + b"ab" * 32 + b'","public_id":"GS-BC-H-26-1",'
        b'"type":"corrected","version":2}'
    )
    with pytest.raises(ValueError):
        transparency.leaf_bytes("Edited!", "GS-BC-H-26-1", 2, AT, "00")


def test_origin_is_the_host_and_log_path():
    assert transparency.origin("https://Registry.Example") == "registry.example/log"
    assert transparency.origin("http://127.0.0.1:8000") == "127.0.0.1:8000/log"


def test_append_outside_a_transaction_is_refused(db):
    with pytest.raises(RuntimeError):
        transparency.append("issued", "GS-BC-H-26-1", 1, AT, "00")
    assert transparency.head().size == 0
    assert transparency.head().root_hash == merkle.EMPTY_ROOT


def test_stored_tree_matches_a_memory_tree_and_proofs_verify(db):
    leaves = append_many(db, 21)
    memory = merkle.MemoryTree()
    for leaf in leaves:
        memory.append(leaf)
    head = transparency.head()
    assert head.size == 21 and head.root_hash == memory.root()
    assert LogNode.select().count() == len(memory.nodes)
    for size in range(1, 22):
        root = memory.root(size)
        assert transparency.root_at(size) == root
        for index in range(size):
            proof = transparency.inclusion_proof(index, size)
            merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, root)
        for first in range(1, size + 1):
            merkle.verify_consistency(
                first, size, memory.root(first), root, transparency.consistency_proof(first, size)
            )


def test_a_failed_transaction_leaves_no_leaf_and_no_gap(db):
    append_many(db, 2)
    with pytest.raises(KeyError):
        with write_transaction(db):
            transparency.append("issued", "GS-BC-H-26-X", 1, AT, "00")
            raise KeyError("the event failed after its leaf was appended")
    assert transparency.head().size == 2 and LogEntry.select().count() == 2
    assert append_many(db, 1, start=2)


def test_entries_and_proofs_over_http(client, db):
    leaves = append_many(db, 7)
    page = client.simulate_get("/api/log/entries", params={"start": "2", "end": "5"})
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == "*"
    assert page.json == {"entries": [{"index": i, "leaf": base64.b64encode(leaves[i]).decode()} for i in (2, 3, 4)]}
    proof = client.simulate_get("/api/log/proof/inclusion", params={"index": "3", "size": "7"}).json
    assert proof["index"] == 3 and proof["size"] == 7
    merkle.verify_inclusion(
        3, 7, merkle.leaf_hash(leaves[3]), [base64.b64decode(h) for h in proof["hashes"]], transparency.root_at(7)
    )
    consistency = client.simulate_get("/api/log/proof/consistency", params={"first": "3", "second": "7"}).json
    assert consistency["first"] == 3 and consistency["second"] == 7
    merkle.verify_consistency(
        3, 7, transparency.root_at(3), transparency.root_at(7), [base64.b64decode(h) for h in consistency["hashes"]]
    )


def test_entries_pages_are_bounded(client, db):
    append_many(db, 3)
    with write_transaction(db):
        for n in range(3, 300):
            transparency.append("issued", f"GS-BC-H-26-{n}", 1, AT, "00")
    page = client.simulate_get("/api/log/entries", params={"start": "0", "end": "300"}).json
    assert [e["index"] for e in page["entries"]] == list(range(transparency.MAX_ENTRIES))


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/log/entries", {"start": "0"}, "end"),
        ("/api/log/entries", {"start": "-1", "end": "2"}, "start"),
        ("/api/log/entries", {"start": "2", "end": "2"}, "end"),
        ("/api/log/entries", {"start": "0", "end": "9"}, "end"),
        ("/api/log/entries", {"start": "x", "end": "2"}, "start"),
        ("/api/log/entries", {"start": "0", "end": "1" * 40}, "end"),
        ("/api/log/entries", {"start": "٣", "end": "4"}, "start"),
        ("/api/log/proof/inclusion", {"index": "4", "size": "4"}, "index"),
        ("/api/log/proof/inclusion", {"index": "0", "size": "5"}, "size"),
        ("/api/log/proof/inclusion", {"index": "0", "size": "0"}, "size"),
        ("/api/log/proof/inclusion", {"size": "3"}, "index"),
        ("/api/log/proof/consistency", {"first": "0", "second": "3"}, "first"),
        ("/api/log/proof/consistency", {"first": "4", "second": "3"}, "first"),
        ("/api/log/proof/consistency", {"first": "1", "second": "5"}, "second"),
        ("/api/log/proof/consistency", {"first": "1.5", "second": "3"}, "first"),
    ],
)
def test_bad_parameters_get_the_error_shape(client, db, path, params, field):
    append_many(db, 4)
    assert_error(client.simulate_get(path, params=params), 400, "invalid_field", field)
