"""Every issuance, correction and revocation appends exactly one leaf in its own transaction (api/transparency.py):
racing issuances get consecutive indices on SQLite and PostgreSQL, each leaf matches its record's credential, a
refused submission appends nothing, and a record's entries come with proofs against the signed checkpoint."""

from __future__ import annotations

import base64
import io
import json
import threading

import pytest

from api import certificates, transparency, verifier
from api.models import Certificate, CredentialVersion, LogEntry
from api.tlog import merkle, note
from api.verifier import credential_hash, log_checks_for

from .support import assert_error, redeem, submission
from .test_certificates_concurrency import race

pytestmark = pytest.mark.usefixtures("fixed_clock")


def leaf_fields(row: LogEntry) -> dict:
    return json.loads(bytes(row.leaf))


def credential_of(cert: Certificate, version: int) -> dict:
    row = CredentialVersion.get(CredentialVersion.certificate == cert.id, CredentialVersion.version == version)
    return json.loads(row.document)


def test_fifty_concurrent_issuances_append_fifty_consecutive_leaves(ctx, paid_token):
    ctx.signing_keys.current()  # the first key's leaf (index 0) before the race
    tokens = [paid_token(f"buyer{n}@example.com") for n in range(50)]
    barrier = threading.Barrier(50)

    def issue(index):
        barrier.wait(timeout=30)
        return certificates.redeem(ctx, submission(tokens[index], agent_name=f"Racer {index}"))

    results = race(ctx, 50, issue)
    assert all(isinstance(r, certificates.Redeemed) and r.created for r in results), results
    rows = list(LogEntry.select().order_by(LogEntry.idx))
    assert [int(row.idx) for row in rows] == list(range(51))
    assert rows[0].kind == "signing_key"
    record_rows = rows[1:]
    assert {row.subject for row in record_rows} == {r.certificate.public_id for r in results}
    for row in record_rows:
        cert = Certificate.get(Certificate.public_id == row.subject)
        fields = leaf_fields(row)
        assert fields["type"] == "issued" and fields["version"] == 1 and row.certificate_id == cert.id
        assert fields["credential_hash"] == credential_hash(credential_of(cert, 1))
    memory = merkle.MemoryTree()
    for row in rows:
        memory.append(bytes(row.leaf))
    head = transparency.head()
    assert head.size == 51 and head.root_hash == memory.root()


def test_issue_correct_revoke_each_append_one_leaf(ctx, issued, client):
    token, cert = issued()
    before = transparency.head().size
    certificates.redeem(ctx, {"token": token, "agent_name": "Joule II"})
    certificates.revoke(ctx, cert.public_id, "Refunded")
    rows = [r for r in LogEntry.select().order_by(LogEntry.idx) if r.subject == cert.public_id]
    assert [(r.kind, r.version) for r in rows] == [("issued", 1), ("corrected", 2), ("revoked", 3)]
    assert transparency.head().size == before + 2
    for row in rows:
        assert leaf_fields(row)["credential_hash"] == credential_hash(credential_of(cert, row.version))


def test_a_refused_submission_appends_nothing(ctx, issued, client, clock):
    token, cert = issued()
    size = transparency.head().size
    assert_error(redeem(client, token, inception_date="2026-02-30"), 400, "invalid_field", "inception_date")
    clock.advance(hours=25)
    assert redeem(client, token, agent_name="Too late").status_code == 409
    assert transparency.head().size == size


def test_a_record_answers_with_proofs_against_the_signed_checkpoint(ctx, issued, client):
    token, cert = issued()
    certificates.redeem(ctx, {"token": token, "agent_name": "Joule II"})
    issued()  # another record after it: the proofs are not trivial
    answer = client.simulate_get("/api/cert/log", params={"id": cert.public_id.lower()})
    assert answer.status_code == 200
    body = answer.json
    verifier = note.Verifier.parse(client.simulate_get("/api/log/key").text.strip())
    checkpoint = note.open_checkpoint(body["checkpoint"], [verifier])
    assert checkpoint.size == body["size"] == transparency.head().size
    assert [(e["type"], e["version"]) for e in body["entries"]] == [("issued", 1), ("corrected", 2)]
    for entry in body["entries"]:
        leaf = base64.b64decode(entry["leaf"])
        proof = [base64.b64decode(h) for h in entry["hashes"]]
        merkle.verify_inclusion(entry["index"], checkpoint.size, merkle.leaf_hash(leaf), proof, checkpoint.root_hash)
    credential = credential_of(cert, 2)
    checks = log_checks_for(credential, body["checkpoint"], body, [ctx.signing_keys.public_key()])
    assert [(c.name, c.ok) for c in checks] == [("log checkpoint", True), ("log entry", True), ("log inclusion", True)]
    assert_error(client.simulate_get("/api/cert/log", params={"id": "GS-BC-H-26-Z"}), 404, "not_found")
    assert_error(client.simulate_get("/api/cert/log"), 400, "missing_id")


def test_the_offline_verifier_finds_a_real_credential_in_the_log(ctx, issued, client, tmp_path):
    _, cert = issued()
    issued()
    credential = client.simulate_get("/api/cert/credential", params={"id": cert.public_id}).json
    answer = client.simulate_get("/api/cert/log", params={"id": cert.public_id}).json
    (tmp_path / "credential.json").write_text(json.dumps(credential))
    (tmp_path / "checkpoint").write_text(answer["checkpoint"])
    (tmp_path / "proof.json").write_text(json.dumps(answer))
    key = ctx.signing_keys.current().public_key_multibase
    out = io.StringIO()
    code = verifier.main(
        [
            str(tmp_path / "credential.json"),
            "--key",
            key,
            "--checkpoint",
            str(tmp_path / "checkpoint"),
            "--inclusion-proof",
            str(tmp_path / "proof.json"),
        ],
        out,
    )
    assert code == 0, out.getvalue()
    assert "log: included in the signed checkpoint" in out.getvalue()
    assert f"logs issued of {cert.public_id} version 1" in out.getvalue()
