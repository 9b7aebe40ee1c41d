"""The offline verifier's transparency-log checks (api/verifier.py `log_checks_for`, `--checkpoint` and
`--inclusion-proof`): a second implementation of the formats api/tlog/ writes, held against it. Accepted when
everything holds; each tampering (credential, leaf, proof, checkpoint, key) is rejected by the check it breaks."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api import verifier
from api.tlog import merkle, note

ORIGIN = "registry.example/log"


def leaf_for(public_id: str, version: int, credential: dict) -> bytes:
    return rfc8785.dumps(
        {
            "type": "issued" if version == 1 else "corrected",
            "public_id": public_id,
            "version": version,
            "at": dt.datetime(2026, 11, 25, 10, version).isoformat() + "Z",
            "credential_hash": verifier.credential_hash(credential),
        }
    )


@pytest.fixture
def logged():
    key = Ed25519PrivateKey.generate()
    credentials = [{"id": f"urn:cred:{n}", "credentialSubject": {"name": f"Agent {n}"}} for n in range(9)]
    tree = merkle.MemoryTree()
    leaves = [leaf_for(f"GS-BC-H-26-{n}", 1, c) for n, c in enumerate(credentials)]
    for leaf in leaves:
        tree.append(leaf)
    checkpoint = note.sign_checkpoint(
        note.Checkpoint(ORIGIN, tree.size, tree.root()), note.Signer.from_private_key(ORIGIN, key)
    )
    answer = {
        "public_id": "GS-BC-H-26-5",
        "size": tree.size,
        "checkpoint": checkpoint,
        "entries": [
            {
                "index": 5,
                "type": "issued",
                "version": 1,
                "leaf": base64.b64encode(leaves[5]).decode(),
                "hashes": [base64.b64encode(h).decode() for h in merkle.inclusion_proof(5, tree.size, tree.read)],
            }
        ],
    }
    public = key.public_key().public_bytes_raw()
    return credentials[5], checkpoint, answer, public


def names(checks):
    return [(c.name, c.ok) for c in checks]


def test_a_logged_credential_is_included(logged):
    credential, checkpoint, answer, public = logged
    assert names(verifier.log_checks_for(credential, checkpoint, answer, [public])) == [
        ("log checkpoint", True),
        ("log entry", True),
        ("log inclusion", True),
    ]
    assert names(verifier.log_checks_for(credential, checkpoint, answer["entries"][0], [public]))[-1] == (
        "log inclusion",
        True,
    )


def test_a_changed_credential_has_no_leaf(logged):
    credential, checkpoint, answer, public = logged
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] = "Someone else"
    assert names(verifier.log_checks_for(changed, checkpoint, answer, [public]))[-1] == ("log entry", False)


def test_a_tampered_proof_or_index_fails_inclusion(logged):
    credential, checkpoint, answer, public = logged
    bad = copy.deepcopy(answer)
    raw = bytearray(base64.b64decode(bad["entries"][0]["hashes"][0]))
    raw[0] ^= 1
    bad["entries"][0]["hashes"][0] = base64.b64encode(bytes(raw)).decode()
    assert names(verifier.log_checks_for(credential, checkpoint, bad, [public]))[-1] == ("log inclusion", False)
    moved = copy.deepcopy(answer)
    moved["entries"][0]["index"] = 4
    assert names(verifier.log_checks_for(credential, checkpoint, moved, [public]))[-1] == ("log inclusion", False)


def test_a_tampered_checkpoint_or_another_key_fails(logged):
    credential, checkpoint, answer, public = logged
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert names(verifier.log_checks_for(credential, checkpoint, answer, [other])) == [("log checkpoint", False)]
    forged = checkpoint.replace("\n9\n", "\n8\n")
    assert names(verifier.log_checks_for(credential, forged, answer, [public])) == [("log checkpoint", False)]


def test_the_independent_inclusion_check_agrees_with_the_log_for_sizes_up_to_64():
    tree = merkle.MemoryTree()
    leaves = [f"leaf {i}".encode() for i in range(64)]
    for leaf in leaves:
        tree.append(leaf)
    for size in range(1, 65):
        root = tree.root(size)
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, tree.read)
            assert verifier.inclusion_root(index, size, leaves[index], proof) == root
            if proof:
                with pytest.raises(ValueError):
                    verifier.inclusion_root(index, size, leaves[index], proof[:-1])


def test_the_command_line_checks_the_log(logged, tmp_path):
    credential, checkpoint, answer, public = logged
    (tmp_path / "credential.json").write_text(json.dumps(credential))
    (tmp_path / "checkpoint").write_text(checkpoint)
    (tmp_path / "proof.json").write_text(json.dumps(answer))
    from api.verifier import multikey

    key = multikey(public)
    base = [str(tmp_path / "credential.json"), "--key", key]
    out = io.StringIO()
    code = verifier.main(
        [*base, "--checkpoint", str(tmp_path / "checkpoint"), "--inclusion-proof", str(tmp_path / "proof.json")], out
    )
    assert "pass  log inclusion: entry 5 is in the tree of size 9" in out.getvalue()
    assert "log: included in the signed checkpoint" in out.getvalue()
    assert code == 1  # the test credential carries no proof of its own: the credential checks fail, the log's pass
    bad = copy.deepcopy(answer)
    bad["entries"][0]["index"] = 6
    (tmp_path / "proof.json").write_text(json.dumps(bad))
    out = io.StringIO()
    verifier.main(
        [*base, "--checkpoint", str(tmp_path / "checkpoint"), "--inclusion-proof", str(tmp_path / "proof.json")], out
    )
    assert "FAIL  log inclusion" in out.getvalue() and "log: NOT shown to be in the log" in out.getvalue()
    assert verifier.main([*base, "--checkpoint", str(tmp_path / "checkpoint")], io.StringIO()) == 2
