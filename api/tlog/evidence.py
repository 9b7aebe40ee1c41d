"""Offline evidence that a credential is in the registry's transparency log. Pure: the standard library,
`cryptography` (through note.py) and `rfc8785`; nothing of the server, so the offline verifier can use it.

Given a credential (the JSON object), a signed checkpoint (the text of `/api/log/checkpoint` or of an
`/api/cert/log` answer's `checkpoint`), an inclusion proof (an `/api/cert/log` answer, or one of its `entries`), and
the registry's Ed25519 public keys, `check` confirms, each as a named check:
- checkpoint: the checkpoint's signed note verifies with one of the keys (the note key name is the checkpoint's
  origin, so the key alone is enough);
- leaf: a leaf in the proof names the credential: its `credential_hash` is SHA-256 of the credential's RFC 8785
  canonical JSON;
- inclusion: that leaf's RFC 9162 inclusion proof leads to the checkpoint's root for the checkpoint's size.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json

import rfc8785

from . import merkle, note


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def credential_hash(credential: dict) -> str:
    return hashlib.sha256(rfc8785.dumps(credential)).hexdigest()


def _origin(signed: str) -> str:
    first = signed.split("\n", 1)[0]
    if not first:
        raise note.NoteError("the checkpoint has no origin line")
    return first


def open_checkpoint(signed: str, public_keys: list[bytes]) -> note.Checkpoint:
    origin = _origin(signed)
    verifiers = [note.Verifier(origin, key) for key in public_keys]
    return note.open_checkpoint(signed, verifiers, origin=origin)


def _entries(proof) -> list[dict]:
    if isinstance(proof, dict) and isinstance(proof.get("entries"), list):
        return [entry for entry in proof["entries"] if isinstance(entry, dict)]
    if isinstance(proof, dict) and "leaf" in proof:
        return [proof]
    raise ValueError("the inclusion proof is neither an /api/cert/log answer nor one of its entries")


def check(credential: dict, signed_checkpoint: str, proof, public_keys: list[bytes]) -> list[Check]:
    checks: list[Check] = []
    try:
        checkpoint = open_checkpoint(signed_checkpoint, public_keys)
    except note.NoteError as exc:
        return [Check("checkpoint", False, str(exc))]
    checks.append(Check("checkpoint", True, f"signed checkpoint of {checkpoint.origin}, size {checkpoint.size}"))
    wanted = credential_hash(credential)
    try:
        entries = _entries(proof)
    except ValueError as exc:
        return checks + [Check("leaf", False, str(exc))]
    for entry in entries:
        try:
            leaf = base64.b64decode(entry["leaf"], validate=True)
            fields = json.loads(leaf)
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
        if not isinstance(fields, dict) or fields.get("credential_hash") != wanted:
            continue
        checks.append(
            Check(
                "leaf",
                True,
                f"entry {entry.get('index')} logs {fields.get('type')} of {fields.get('public_id')} "
                f"version {fields.get('version')} at {fields.get('at')}",
            )
        )
        checks.append(_inclusion(entry, leaf, checkpoint))
        return checks
    return checks + [Check("leaf", False, f"no entry of the proof logs this credential (sha256 {wanted})")]


def _inclusion(entry: dict, leaf: bytes, checkpoint: note.Checkpoint) -> Check:
    index = entry.get("index")
    try:
        hashes = [base64.b64decode(h, validate=True) for h in entry.get("hashes", [])]
        if not isinstance(index, int) or isinstance(index, bool):
            raise merkle.ProofError("the entry has no index")
        merkle.verify_inclusion(index, checkpoint.size, merkle.leaf_hash(leaf), hashes, checkpoint.root_hash)
    except (merkle.ProofError, TypeError, ValueError, binascii.Error) as exc:
        return Check("inclusion", False, f"entry {index}: {exc}")
    return Check("inclusion", True, f"entry {index} is in the tree of size {checkpoint.size}")
