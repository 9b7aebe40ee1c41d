"""`python -m api log monitor` against a real registry on loopback HTTP (api/monitor.py): it passes against an honest
registry, and fails naming the index after a leaf or a record is altered in the database behind its back, after the
log is rewritten or shrinks; it follows a key rotation only when the log records the new key."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from api import certificates, monitor, transparency
from api.app import create_app
from api.context import Context
from api.db import write_transaction
from api.models import Certificate, LogEntry, LogHead, LogNode
from api.tlog import merkle
from dev.serving import ServedApp


@pytest.fixture
def served(ctx):
    with ServedApp(create_app(context=ctx)) as server:
        yield server


@pytest.fixture
def state(tmp_path):
    return tmp_path / "monitor-state.json"


pytestmark = pytest.mark.usefixtures("fixed_clock")


def run(served, state, **kwargs) -> str:
    return monitor.run(served.url, state, **kwargs)


def fails(served, state) -> str:
    with pytest.raises(monitor.MonitorFailure) as caught:
        run(served, state)
    return str(caught.value)


def test_an_honest_registry_passes_run_after_run(ctx, issued, served, state):
    token, _ = issued()
    issued()
    certificates.redeem(ctx, {"token": token, "agent_name": "Joule II"})
    first = run(served, state)
    assert "size 4" in first and "4 new entries checked" in first and "trusted on first use" in first
    assert "0 new entries" in run(served, state)
    _, third = issued()
    certificates.revoke(ctx, third.public_id, "Refunded")
    assert "size 6" in run(served, state) and state.exists()


def test_an_altered_new_leaf_is_named(ctx, issued, served, state):
    issued()
    run(served, state)
    issued()
    issued()
    row = LogEntry.get_by_id(3)
    LogEntry.update(leaf=bytes(row.leaf).replace(b'"version":1', b'"version":7')).where(LogEntry.idx == 3).execute()
    assert fails(served, state).startswith("index 3: the entry served does not match the signed tree")


def test_an_altered_old_leaf_is_named_by_a_new_monitor(ctx, issued, served, state):
    for _ in range(5):
        issued()
    row = LogEntry.get_by_id(2)
    forged = bytes(row.leaf).replace(b"GS-BC-H-26-2", b"GS-BC-H-26-9")
    LogEntry.update(leaf=forged).where(LogEntry.idx == 2).execute()
    assert fails(served, state).startswith("index 2: ")


def test_an_altered_record_is_named(ctx, issued, served, state):
    issued()
    _, cert = issued()
    issued()
    Certificate.update(agent_name="Forged Name").where(Certificate.id == cert.id).execute()
    message = fails(served, state)
    assert message.startswith("index 2: the public record of GS-BC-H-26-2 shows agent_name = 'Forged Name'")


def test_a_deleted_record_is_named(ctx, issued, served, state):
    issued()
    _, cert = issued()
    Certificate.update(public_id="GS-BC-H-26-ZZ", public_id_key="GSBCH26ZZ").where(Certificate.id == cert.id).execute()
    assert fails(served, state) == "index 2: GS-BC-H-26-2 is logged as issued but missing from the public lookup"


def rebuild(rows: list[bytes]) -> None:
    """Rewrite the whole log from these leaves (what a registry hiding a change would have to do)."""
    LogNode.delete().execute()
    LogEntry.delete().execute()
    LogHead.update(size=0, frontier=b"", root_hash=merkle.EMPTY_ROOT).execute()
    with write_transaction(LogHead._meta.database):
        for leaf in rows:
            fields = json.loads(leaf)
            at = dt.datetime.fromisoformat(fields["at"].rstrip("Z"))
            transparency.append(fields["type"], fields["public_id"], fields["version"], at, fields["credential_hash"])


def test_a_rewritten_history_is_a_fork(ctx, issued, served, state):
    for _ in range(3):
        issued()
    run(served, state)
    leaves = [bytes(r.leaf) for r in LogEntry.select().order_by(LogEntry.idx)]
    leaves[1] = leaves[1].replace(b'"issued"', b'"revoked"')
    issued()
    leaves.append(bytes(LogEntry.get_by_id(4).leaf))
    rebuild(leaves)
    assert fails(served, state).startswith(
        "fork or rewrite: the checkpoint of size 5 is not consistent with the size 4"
    )


def test_a_shrunk_log_is_a_rewrite(ctx, issued, served, state):
    for _ in range(3):
        issued()
    run(served, state)
    leaves = [bytes(r.leaf) for r in LogEntry.select().order_by(LogEntry.idx)]
    rebuild(leaves[:-1])
    assert fails(served, state).startswith("the log shrank from size 4 to size 3")


def test_a_key_rotation_is_followed_when_the_log_records_it(ctx, issued, served, state, clock):
    issued()
    run(served, state)
    clock.advance(hours=1)
    seed = bytes(range(64, 96))
    ctx.signing_keys.rotate_to(seed)
    rotated = Context.build(ctx.config.replace(signing_key=seed), db=ctx.db, clock=clock)
    with ServedApp(create_app(context=rotated)) as server:
        assert "1 new entry checked" in monitor.run(server.url, state)
        assert len(json.loads(state.read_text())["keys"]) == 2
        assert "0 new entries" in monitor.run(server.url, state)


def test_the_command_exits_0_then_1_naming_the_index(ctx, issued, served, state):
    issued()

    def command():
        return subprocess.run(
            [sys.executable, "-m", "api", "log", "monitor", "--base", served.url, "--state", str(state)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    honest = command()
    assert honest.returncode == 0, honest.stderr
    assert "size 2" in honest.stdout
    issued()
    LogEntry.update(leaf=b'{"forged":true}').where(LogEntry.idx == 2).execute()
    broken = command()
    assert broken.returncode == 1
    assert broken.stderr.strip().startswith("MONITOR FAILURE: index 2:")
