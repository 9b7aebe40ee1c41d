"""A registry process killed with SIGKILL in the middle of issuing and correcting leaves the log and the records
consistent (api/transparency.py): the leaves run 0..n-1 with no gap, the head's size, root and stored subtree hashes
agree with the leaves, every credential version has exactly one leaf and every leaf its version, and the next
event appends at index n."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from api import certificates, purchases, transparency
from api.models import Certificate, CredentialVersion, LogEntry, LogNode
from api.tlog import merkle
from api.verifier import credential_hash

from .support import submission

WORKER = textwrap.dedent(
    """
    import itertools, sys
    from api import certificates, purchases
    from api.config import Config
    from api.context import Context
    from tests.unit.support import submission

    ctx = Context.build(Config.from_env())
    for n in itertools.count():
        token = purchases.test_checkout(ctx, f"killed{n}@example.com")
        certificates.redeem(ctx, submission(token, agent_name=f"Worker {n}"))
        certificates.redeem(ctx, {"token": token, "agent_name": f"Worker {n} corrected"})
        print(n, flush=True)
    """
)


def check_consistent(ctx) -> int:
    rows = list(LogEntry.select().order_by(LogEntry.idx))
    size = len(rows)
    assert [int(r.idx) for r in rows] == list(range(size))
    memory = merkle.MemoryTree()
    for row in rows:
        memory.append(bytes(row.leaf))
    head = transparency.head()
    assert head.size == size and head.root_hash == memory.root()
    assert merkle.unpack(bytes(transparency.LogHead.get_by_id(1).frontier)) == memory.frontier
    assert LogNode.select().count() == len(memory.nodes)
    stored = {int(n.id): bytes(n.hash) for n in LogNode.select()}
    assert stored == {transparency.node_id(block): value for block, value in memory.nodes.items()}
    versions = {(v.certificate_id, v.version): v for v in CredentialVersion.select()}
    logged = {(r.certificate_id, r.version): r for r in rows if r.certificate_id is not None}
    assert set(versions) == set(logged)
    for key, row in logged.items():
        document = json.loads(versions[key].document)
        assert json.loads(bytes(row.leaf))["credential_hash"] == credential_hash(document)
    for cert in Certificate.select():
        assert (cert.id, 1) in logged
    return size


def test_kill_9_while_issuing_leaves_log_and_records_consistent(ctx, db, database_url, tmp_path):
    ctx.signing_keys.current()
    ctx.db.close()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        BASE_URL="https://registry.test",
        GHOSTSHELL_SECRET_KEY="unit-test-secret-key-0123456789-abcdefghij",
        EMAIL_ENC_KEY=base64.b64encode(bytes(range(32))).decode(),
        GHOSTSHELL_SIGNING_KEY=base64.b64encode(bytes(range(32, 64))).decode(),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    env.pop("GHOSTSHELL_ENV", None)
    for round_number in range(3):
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            for _ in range(2 + round_number):  # let it commit a few events, then kill it mid-way through more
                line = worker.stdout.readline()
                assert line, worker.stderr.read().decode()
            time.sleep(0.01 * round_number)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        size = check_consistent(ctx)
        ctx.db.close()
    assert size >= 1 + 2 * (2 + 3 + 4)
    token = purchases.test_checkout(ctx, "after@example.com")
    certificates.redeem(ctx, submission(token))
    assert LogEntry.select().order_by(LogEntry.idx.desc()).first().idx == size
    check_consistent(ctx)
