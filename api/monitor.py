"""`python -m api log monitor --base URL --state FILE`: watch a GhostShell registry's transparency log from outside.

A monitor trusts nothing the registry says without checking it. Each run:
1. fetches `/api/log/checkpoint` and verifies its signed-note signature with a trusted verifier key (given with
   `--key`, kept in the state file, or on the very first run fetched from `/api/log/key` and kept from then on);
2. checks the new checkpoint against the last one it accepted: never smaller, the same root for the same size,
   and a verified RFC 9162 consistency proof when it grew (otherwise the log forked or was rewritten);
3. fetches every new entry, recomputes the tree from the leaves and the frontier it kept, and requires the
   checkpoint's root (when it differs, consistency proofs locate the first entry that was altered);
4. re-derives every new entry's subject from the public registry: a record must exist in `/api/cert/lookup`
   (revoked when the leaf says revoked) and its credential of that version must hash to the leaf's
   `credential_hash`; a signing key must be in the DID document with the logged key hash;
5. saves the new state (size, root, frontier, keys) only when everything passed.

It exits 0 with a one-line summary, or 1 with a message naming the failure (and the entry index when one entry is
at fault). It uses only the public HTTP API, never the registry's database or code.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import requests
import rfc8785

from .tlog import merkle, note
from .verifier import public_key_from_multikey

PAGE = 256
LEAF_FIELDS = {"type", "public_id", "version", "at", "credential_hash"}


class MonitorFailure(Exception):
    """The log or the registry failed a check: the message says which, and where."""


@dataclasses.dataclass
class State:
    origin: str
    keys: list[str]
    size: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    frontier: list[bytes] = dataclasses.field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> State | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(
            origin=data["origin"],
            keys=list(data["keys"]),
            size=int(data["size"]),
            root_hash=base64.b64decode(data["root_hash"]),
            frontier=[base64.b64decode(h) for h in data["frontier"]],
        )

    def save(self, path: Path) -> None:
        data = {
            "origin": self.origin,
            "keys": self.keys,
            "size": self.size,
            "root_hash": _b64(self.root_hash),
            "frontier": [_b64(h) for h in self.frontier],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(partial, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Client:
    """GET requests to the registry, waiting out rate limits (429 with Retry-After) a few times."""

    def __init__(self, base: str, session: requests.Session | None = None, timeout: float = 30.0):
        self.base = base.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout

    def get(self, path: str, params: dict | None = None, *, allow: tuple[int, ...] = ()) -> requests.Response:
        for _ in range(5):
            try:
                answer = self._session.get(self.base + path, params=params, timeout=self._timeout)
            except requests.RequestException as exc:
                raise MonitorFailure(f"cannot reach {self.base}{path}: {exc}") from None
            if answer.status_code == 429:
                time.sleep(min(30, int(answer.headers.get("Retry-After", "1"))))
                continue
            if answer.status_code != 200 and answer.status_code not in allow:
                raise MonitorFailure(f"{path} answered HTTP {answer.status_code}: {answer.text[:200]}")
            return answer
        raise MonitorFailure(f"{path} kept answering 429 (rate limited)")

    def json(self, path: str, params: dict | None = None, *, allow: tuple[int, ...] = ()) -> tuple[int, object]:
        """(status, body) for a 200 or an allowed status."""
        answer = self.get(path, params, allow=allow)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            raise MonitorFailure(f"{path} did not answer JSON") from None

    def ok_json(self, path: str, params: dict | None = None):
        return self.json(path, params)[1]


def _hashes(items) -> list[bytes]:
    try:
        return [base64.b64decode(item, validate=True) for item in items]
    except (TypeError, ValueError):
        raise MonitorFailure("a proof holds something that is not base64") from None


def run(base: str, state_path: Path, key: str | None = None, session: requests.Session | None = None) -> str:
    """One monitoring pass; returns the summary, raises MonitorFailure."""
    client = Client(base, session)
    state = State.load(state_path)
    keys = list(state.keys) if state else []
    if key and key not in keys:
        keys.append(key)
    first_use = not keys
    if first_use:
        keys = [client.get("/api/log/key").text.strip()]
    try:
        verifiers = [note.Verifier.parse(k) for k in keys]
    except note.NoteError as exc:
        raise MonitorFailure(f"bad verifier key: {exc}") from None

    signed = client.get("/api/log/checkpoint").text
    checkpoint, new_key = _open_checkpoint(client, signed, verifiers, state.origin if state else None)
    if state is None:
        state = State(origin=checkpoint.origin, keys=keys)
    state.keys = keys

    _check_consistency(client, state, checkpoint)
    leaves = _fetch_entries(client, state.size, checkpoint.size)
    frontier = _extend(state.frontier, state.size, leaves)
    if merkle.frontier_root(frontier) != checkpoint.root_hash:
        index = _first_altered(client, state, leaves, checkpoint)
        raise MonitorFailure(
            f"index {index}: the entry served does not match the signed tree (altered after it was logged)"
        )
    checker = SubjectChecker(client)
    for offset, leaf in enumerate(leaves):
        checker.check(state.size + offset, leaf)
    checker.finish()
    if new_key is not None:
        # A rotated key is trusted only once the (consistent, recomputed) log shows its signing_key entry.
        if not checker.logged_key(new_key.public_key):
            raise MonitorFailure(
                f"the checkpoint is signed by {new_key.encode()}, a key the log does not record in its new entries"
            )
        state.keys = [*keys, new_key.encode()]

    seen = checkpoint.size - state.size
    state.size, state.root_hash, state.frontier = checkpoint.size, checkpoint.root_hash, frontier
    state.save(state_path)
    trusted = " (verifier key fetched and trusted on first use)" if first_use else ""
    return (
        f"log {checkpoint.origin}: size {checkpoint.size}, root {_b64(checkpoint.root_hash)}; "
        f"{seen} new entr{'y' if seen == 1 else 'ies'} checked{trusted}"
    )


def _open_checkpoint(
    client: Client, signed: str, verifiers: list[note.Verifier], origin: str | None
) -> tuple[note.Checkpoint, note.Verifier | None]:
    """The checkpoint, verified with a trusted key; or with a key the DID document lists (after a rotation),
    returned as the second value so that the caller trusts it only if the log itself records it."""
    try:
        return note.open_checkpoint(signed, verifiers, origin=origin), None
    except note.NoteError as exc:
        failure = exc
    if origin is not None and "no signature by a known key" in str(failure):
        document = client.ok_json("/.well-known/did.json")
        services = document.get("service", []) if isinstance(document, dict) else []
        for service in services:
            if not isinstance(service, dict) or service.get("type") != "TransparencyLog":
                continue
            for text in service.get("noteVerifierKeys", []):
                try:
                    candidate = note.Verifier.parse(text)
                    return note.open_checkpoint(signed, [candidate], origin=origin), candidate
                except note.NoteError:
                    continue
    raise MonitorFailure(f"the checkpoint does not verify: {failure}")


def _check_consistency(client: Client, state: State, checkpoint: note.Checkpoint) -> None:
    if checkpoint.size < state.size:
        raise MonitorFailure(
            f"the log shrank from size {state.size} to size {checkpoint.size}: entries were removed (rewrite)"
        )
    if checkpoint.size == state.size:
        if checkpoint.root_hash != state.root_hash:
            raise MonitorFailure(f"fork: a different root for the same size {state.size}")
        return
    if state.size == 0:
        return
    answer = client.ok_json("/api/log/proof/consistency", {"first": state.size, "second": checkpoint.size})
    try:
        merkle.verify_consistency(
            state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, _hashes(answer.get("hashes", []))
        )
    except merkle.ProofError as exc:
        raise MonitorFailure(
            f"fork or rewrite: the checkpoint of size {checkpoint.size} is not consistent with the size "
            f"{state.size} seen before ({exc})"
        ) from None


def _fetch_entries(client: Client, start: int, end: int) -> list[bytes]:
    leaves: list[bytes] = []
    while start + len(leaves) < end:
        at = start + len(leaves)
        page = client.ok_json("/api/log/entries", {"start": at, "end": min(end, at + PAGE)})
        entries = page.get("entries") if isinstance(page, dict) else None
        if not entries:
            raise MonitorFailure(f"index {at}: the log did not serve this entry")
        for offset, entry in enumerate(entries):
            if entry.get("index") != at + offset:
                raise MonitorFailure(f"index {at + offset}: the log served entries out of order")
            try:
                leaves.append(base64.b64decode(entry["leaf"], validate=True))
            except (KeyError, TypeError, ValueError):
                raise MonitorFailure(f"index {at + offset}: the entry is not base64") from None
    return leaves[: end - start]


def _extend(frontier: list[bytes], size: int, leaves: list[bytes]) -> list[bytes]:
    for offset, leaf in enumerate(leaves):
        frontier, _ = merkle.append(frontier, size + offset, leaf)
    return frontier


def _first_altered(client: Client, state: State, leaves: list[bytes], checkpoint: note.Checkpoint) -> int:
    """The first new entry whose served bytes are not the logged ones: the smallest k whose recomputed root of
    size k fails a consistency proof to the checkpoint (bisection: O(log n) proofs)."""

    def agrees(k: int) -> bool:
        mine = merkle.frontier_root(_extend(state.frontier, state.size, leaves[: k - state.size]))
        if k == checkpoint.size:
            return mine == checkpoint.root_hash
        answer = client.ok_json("/api/log/proof/consistency", {"first": k, "second": checkpoint.size})
        try:
            merkle.verify_consistency(k, checkpoint.size, mine, checkpoint.root_hash, _hashes(answer["hashes"]))
        except (merkle.ProofError, KeyError):
            return False
        return True

    low, high = state.size + 1, checkpoint.size  # the answer k is in [low, high]; entry k-1 is altered
    while low < high:
        middle = (low + high) // 2
        if agrees(middle):
            low = middle + 1
        else:
            high = middle
    return low - 1


def _version_of(credential: dict) -> int:
    """The version number in a credential's id (`...&version=N`), 0 when absent."""
    ident = str(credential.get("id", ""))
    tail = ident.rsplit("version=", 1)[-1] if "version=" in ident else ""
    return int(tail) if tail.isdigit() else 0


class SubjectChecker:
    """Re-derives each leaf's subject from the public registry (records through the public lookup and their
    credentials, signing keys through the DID document)."""

    def __init__(self, client: Client):
        self._client = client
        self._records: dict[str, dict | None] = {}
        self._did_document: dict | None = None
        self._logged_key_hashes: set[str] = set()
        self._latest: dict[str, tuple[int, int, dict]] = {}

    def logged_key(self, public_key: bytes) -> bool:
        """Whether a signing_key entry checked in this run records this key."""
        return hashlib.sha256(public_key).hexdigest() in self._logged_key_hashes

    def check(self, index: int, leaf: bytes) -> None:
        try:
            fields = json.loads(leaf)
        except ValueError:
            raise MonitorFailure(f"index {index}: the leaf is not JSON") from None
        if not isinstance(fields, dict) or set(fields) != LEAF_FIELDS or rfc8785.dumps(fields) != leaf:
            raise MonitorFailure(f"index {index}: the leaf is not the canonical JSON of {sorted(LEAF_FIELDS)}")
        kind, subject = fields["type"], fields["public_id"]
        if not isinstance(kind, str) or not isinstance(subject, str) or not isinstance(fields["version"], int):
            raise MonitorFailure(f"index {index}: the leaf's type, public_id or version has the wrong type")
        if kind == "signing_key":
            self._check_key(index, fields)
        else:  # issued, corrected, revoked, or a later kind of record event: all name a credential version
            self._check_record(index, fields)

    def record(self, public_id: str) -> dict | None:
        if public_id not in self._records:
            status, body = self._client.json("/api/cert/lookup", {"id": public_id}, allow=(404,))
            self._records[public_id] = body if status == 200 and isinstance(body, dict) else None
        return self._records[public_id]

    def _check_record(self, index: int, fields: dict) -> None:
        public_id, kind, version = fields["public_id"], fields["type"], fields["version"]
        record = self.record(public_id)
        if record is None:
            raise MonitorFailure(f"index {index}: {public_id} is logged as {kind} but missing from the public lookup")
        if kind == "revoked" and record.get("status") != "revoked":
            raise MonitorFailure(f"index {index}: {public_id} is logged as revoked but the public record is not")
        if kind == "issued" and version != 1:
            raise MonitorFailure(f"index {index}: {public_id} is logged as issued with version {version}")
        status, credential = self._client.json(
            "/api/cert/credential", {"id": public_id, "version": version}, allow=(404, 410)
        )
        if status == 410 and record.get("status") == "revoked":
            return  # an earlier version of a revoked record: withdrawn with the refund, only its presence counts
        if status != 200 or not isinstance(credential, dict):
            raise MonitorFailure(f"index {index}: the credential of {public_id} version {version} is missing")
        if hashlib.sha256(rfc8785.dumps(credential)).hexdigest() != fields["credential_hash"]:
            raise MonitorFailure(
                f"index {index}: the credential of {public_id} version {version} does not hash to the logged "
                "credential_hash (it was altered after it was logged)"
            )
        self._latest[public_id] = (index, version, credential)

    def finish(self) -> None:
        """Each record's public view must still say what its latest logged credential says."""
        for public_id, (index, version, credential) in self._latest.items():
            record = self.record(public_id) or {}
            subject = credential.get("credentialSubject")
            if not isinstance(subject, dict):
                raise MonitorFailure(f"index {index}: the credential of {public_id} has no subject")
            for name in sorted((set(subject) & set(record)) - {"id", "public_url"}):
                if subject[name] == record[name]:
                    continue
                _, newest = self._client.json("/api/cert/credential", {"id": public_id}, allow=(404, 410))
                if isinstance(newest, dict) and _version_of(newest) > version:
                    break  # changed again since the checkpoint: the next run checks that version
                raise MonitorFailure(
                    f"index {index}: the public record of {public_id} shows {name} = {record[name]!r}, but its "
                    f"logged credential (version {version}) says {subject[name]!r}: the record was altered"
                )

    def _check_key(self, index: int, fields: dict) -> None:
        method_id = fields["public_id"]
        if self._did_document is None:
            self._did_document = self._client.ok_json("/.well-known/did.json")
        methods = self._did_document.get("verificationMethod", []) if isinstance(self._did_document, dict) else []
        method = next((m for m in methods if isinstance(m, dict) and m.get("id") == method_id), None)
        if method is None:
            raise MonitorFailure(f"index {index}: signing key {method_id} is logged but not in the DID document")
        try:
            raw = public_key_from_multikey(method.get("publicKeyMultibase", ""))
        except ValueError as exc:
            raise MonitorFailure(f"index {index}: the DID document's key {method_id} is malformed ({exc})") from None
        if hashlib.sha256(raw).hexdigest() != fields["credential_hash"]:
            raise MonitorFailure(f"index {index}: the DID document's key {method_id} is not the key that was logged")
        self._logged_key_hashes.add(fields["credential_hash"])
