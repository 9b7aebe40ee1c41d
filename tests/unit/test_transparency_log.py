"""The log's checkpoint, verifier key, signing-key leaves and static tiles (api/transparency.py), through HTTP and
the command line, checked with the pure verifiers in api/tlog/."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import subprocess
import sys

from api import transparency
from api.db import write_transaction
from api.models import LogEntry
from api.tlog import merkle, note, tiles
from api.verifier import public_key_from_multikey

from .support import assert_error

AT = dt.datetime(2026, 11, 25, 10, 0, 0)
ORIGIN = "registry.test/log"


def fill(db, count: int) -> None:
    with write_transaction(db):
        for n in range(count):
            transparency.append("issued", f"GS-BC-H-26-{n}", 1, AT, f"{n:064x}")


def test_the_checkpoint_is_signed_by_the_published_key(client, ctx, db):
    key_text = client.simulate_get("/api/log/key")
    assert key_text.status_code == 200 and key_text.headers["content-type"].startswith("text/plain")
    verifier = note.Verifier.parse(key_text.text.strip())
    assert verifier.name == ORIGIN and verifier.public_key == ctx.signing_keys.public_key()
    fill(db, 5)
    answer = client.simulate_get("/api/log/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/plain; charset=utf-8"
    checkpoint = note.open_checkpoint(answer.text, [verifier], origin=ORIGIN)
    head = transparency.head()
    assert (checkpoint.size, checkpoint.root_hash) == (head.size, head.root_hash)
    assert answer.text.startswith(f"{ORIGIN}\n{head.size}\n{base64.b64encode(head.root_hash).decode()}\n\n\u2014 ")


def test_a_tampered_checkpoint_is_rejected(client, db):
    verifier = note.Verifier.parse(client.simulate_get("/api/log/key").text.strip())
    fill(db, 3)
    signed = client.simulate_get("/api/log/checkpoint").text
    lines = signed.split("\n")
    lines[2] = base64.b64encode(merkle.leaf_hash(b"another tree")).decode()
    try:
        note.open_checkpoint("\n".join(lines), [verifier])
    except note.NoteError as exc:
        assert "invalid signature" in str(exc)
    else:
        raise AssertionError("a checkpoint with another root verified")


def test_every_signing_key_change_appends_one_leaf(make_client, ctx, db, clock):
    client = make_client()
    first = client.simulate_get("/api/log/checkpoint")  # signing on a fresh registry registers the first key
    assert first.status_code == 200
    leaf0 = LogEntry.get_by_id(0)
    assert leaf0.kind == "signing_key" and leaf0.version == 1
    assert leaf0.subject == ctx.signing_keys.verification_method()
    assert _leaf(leaf0)["credential_hash"] == hashlib.sha256(ctx.signing_keys.public_key()).hexdigest()
    assert note.Checkpoint.parse(first.text.split("\n\n")[0] + "\n").size == 1

    clock.advance(days=1)
    new_seed = bytes(range(64, 96))
    new_key = ctx.signing_keys.rotate_to(new_seed)
    leaf1 = LogEntry.get_by_id(1)
    assert (
        leaf1.kind == "signing_key"
        and leaf1.version == 2
        and leaf1.subject.endswith("#" + new_key.public_key_multibase)
    )
    expected = hashlib.sha256(public_key_from_multikey(new_key.public_key_multibase)).hexdigest()
    assert _leaf(leaf1)["credential_hash"] == expected
    assert transparency.head().size == 2

    rotated = make_client(signing_key=new_seed)
    verifier = note.Verifier.parse(rotated.simulate_get("/api/log/key").text.strip())
    assert verifier.public_key == public_key_from_multikey(new_key.public_key_multibase)
    assert note.open_checkpoint(rotated.simulate_get("/api/log/checkpoint").text, [verifier]).size == 2
    # the retired key no longer signs checkpoints
    assert_error(client.simulate_get("/api/log/checkpoint"), 503, "signing_unavailable")


def _leaf(row) -> dict:
    import json

    return json.loads(bytes(row.leaf))


def test_export_tiles_writes_the_c2sp_layout(ctx, db, tmp_path):
    fill(db, 600)
    size, written = transparency.export_tiles(ctx.config.base_url, ctx.signing_keys, tmp_path)
    assert size == transparency.head().size == 601  # the signing key's leaf, registered by the first signature
    verifier = transparency.signer(ctx.config.base_url, ctx.signing_keys).verifier
    checkpoint = note.open_checkpoint((tmp_path / "checkpoint").read_text(), [verifier], origin=ORIGIN)
    assert checkpoint.size == size
    expected = [t.path() for t in tiles.tiles_for_size(size)]
    assert expected == ["tile/0/000", "tile/0/001", "tile/0/002.p/89", "tile/1/000.p/2"]
    leaves = []
    for tile in tiles.tiles_for_size(size):
        data = (tmp_path / tile.path()).read_bytes()
        assert len(data) == 32 * tile.width
        if tile.level == 0:
            bundle = tiles.read_entry_bundle((tmp_path / tile.entries_path()).read_bytes())
            assert [merkle.leaf_hash(leaf) for leaf in bundle] == merkle.unpack(data)
            leaves.extend(bundle)
    rebuilt = merkle.MemoryTree()
    for leaf in leaves:
        rebuilt.append(leaf)
    assert rebuilt.root() == checkpoint.root_hash
    level1 = merkle.unpack((tmp_path / "tile/1/000.p/2").read_bytes())
    assert level1 == [rebuilt.nodes[(8, 0)], rebuilt.nodes[(8, 1)]]
    # a second export rewrites only the partial tiles and the checkpoint
    fill(db, 1)
    _, again = transparency.export_tiles(ctx.config.base_url, ctx.signing_keys, tmp_path)
    assert again == 4  # tile/0/002.p/90, its entry bundle, tile/1/000.p/2, the checkpoint
    assert (tmp_path / "tile/0/002.p/90").exists()


def test_export_tiles_from_the_command_line(ctx, db, database_url, tmp_path):
    fill(db, 3)
    ctx.db.close()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        BASE_URL="https://registry.test",
        GHOSTSHELL_SECRET_KEY="cli-test-secret-key-0123456789-abcdefgh",
        EMAIL_ENC_KEY=base64.b64encode(bytes(32)).decode(),
        GHOSTSHELL_SIGNING_KEY=base64.b64encode(bytes(range(32, 64))).decode(),
    )
    env.pop("GHOSTSHELL_ENV", None)
    done = subprocess.run(
        [sys.executable, "-m", "api", "log", "export-tiles", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "4 log entries" in done.stdout
    assert (tmp_path / "out/tile/0/000.p/4").stat().st_size == 4 * 32
    assert (tmp_path / "out/checkpoint").read_text().startswith(f"{ORIGIN}\n4\n")


def test_the_did_document_lists_every_note_verifier_key(make_client, ctx, clock):
    client = make_client()
    current = client.simulate_get("/api/log/key").text.strip()
    clock.advance(days=1)
    ctx.signing_keys.rotate_to(bytes(range(64, 96)))
    rotated = make_client(signing_key=bytes(range(64, 96)))
    document = rotated.simulate_get("/.well-known/did.json").json
    services = [s for s in document["service"] if s["type"] == "TransparencyLog"]
    assert len(services) == 1
    service = services[0]
    assert service["id"] == document["id"] + "#transparency-log"
    assert service["serviceEndpoint"] == "https://registry.test/api/log" and service["origin"] == ORIGIN
    new_key = rotated.simulate_get("/api/log/key").text.strip()
    assert service["noteVerifierKeys"] == [current, new_key] and current != new_key
