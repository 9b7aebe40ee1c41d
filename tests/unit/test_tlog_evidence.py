"""Offline evidence that a credential is in a signed checkpoint (api/tlog/evidence.py): accepted when everything
holds, and each tampering (credential, leaf, proof, checkpoint, key) is rejected by the check it breaks."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.tlog import evidence, merkle, note

ORIGIN = "registry.example/log"


def leaf_for(public_id: str, version: int, credential: dict) -> bytes:
    return rfc8785.dumps(
        {
            "type": "issued" if version == 1 else "corrected",
            "public_id": public_id,
            "version": version,
            "at": dt.datetime(2026, 11, 25, 10, version).isoformat() + "Z",
            "credential_hash": evidence.credential_hash(credential),
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
    assert names(evidence.check(credential, checkpoint, answer, [public])) == [
        ("checkpoint", True),
        ("leaf", True),
        ("inclusion", True),
    ]
    assert names(evidence.check(credential, checkpoint, answer["entries"][0], [public]))[-1] == ("inclusion", True)


def test_a_changed_credential_has_no_leaf(logged):
    credential, checkpoint, answer, public = logged
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] = "Someone else"
    assert names(evidence.check(changed, checkpoint, answer, [public]))[-1] == ("leaf", False)


def test_a_tampered_proof_or_index_fails_inclusion(logged):
    credential, checkpoint, answer, public = logged
    bad = copy.deepcopy(answer)
    raw = bytearray(base64.b64decode(bad["entries"][0]["hashes"][0]))
    raw[0] ^= 1
    bad["entries"][0]["hashes"][0] = base64.b64encode(bytes(raw)).decode()
    assert names(evidence.check(credential, checkpoint, bad, [public]))[-1] == ("inclusion", False)
    moved = copy.deepcopy(answer)
    moved["entries"][0]["index"] = 4
    assert names(evidence.check(credential, checkpoint, moved, [public]))[-1] == ("inclusion", False)


def test_a_tampered_checkpoint_or_another_key_fails(logged):
    credential, checkpoint, answer, public = logged
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert names(evidence.check(credential, checkpoint, answer, [other])) == [("checkpoint", False)]
    forged = checkpoint.replace("\n9\n", "\n8\n")
    assert names(evidence.check(credential, forged, answer, [public])) == [("checkpoint", False)]
