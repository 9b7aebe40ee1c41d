"""The registry's transparency log: one leaf per public event, appended in the event's own transaction.

Rules (docs/api.md, "Transparency log"):
- Every event that changes a public record (issued, corrected, revoked) and every signing-key change appends
  exactly one leaf, inside the transaction that makes the event (`append`), so there is no event without its leaf
  and no leaf without its event. The head row is locked first (`FOR UPDATE` on PostgreSQL; SQLite's write
  transactions are already `BEGIN IMMEDIATE`), so indices are consecutive from 0 with no gaps under concurrency.
- A leaf's bytes are the RFC 8785 canonical JSON of `{type, public_id, version, at, credential_hash}` (`leaf_bytes`):
  public data only. For a signing-key leaf `public_id` is the key's verification method and `credential_hash` the
  SHA-256 of its raw public key.
- The tree is RFC 6962's (api/tlog/merkle.py). An append stores the leaf and the hashes of the subtrees it
  completes, and updates the head (size, frontier, root) it locked: O(log n) work and no read beyond the head.
  A proof reads O(log n) stored subtree hashes in one query; nothing ever rebuilds the tree.
- The checkpoint (C2SP tlog-checkpoint) is the head, signed as a C2SP signed note with the registry's Ed25519
  signing key (the one that signs credentials, api/signing.py); its origin and key name is `<host of BASE_URL>/log`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from .context import iso
from .db import Prepared, for_update, insert
from .errors import RegistryError
from .models import Certificate, LogEntry, LogHead, LogNode, SigningKey
from .public_id import EXAMPLE as EXAMPLE_ID
from .tlog import merkle, note, tiles
from .verifier import credential_hash as credential_sha256
from .verifier import jcs, public_key_from_multikey

HEAD_ID = 1
LEVEL_SHIFT = 48  # LogNode.id = level << 48 | index: room for 2**48 leaves
MAX_ENTRIES = 256  # entries per page of /api/log/entries (one tile's worth)


def origin(base_url: str) -> str:
    """The checkpoint origin and note key name: the log's URL prefix without the scheme (C2SP tlog-tiles)."""
    netloc = urllib.parse.urlsplit(base_url).netloc.lower()
    if not netloc:
        raise ValueError(f"BASE_URL has no host: {base_url!r}")
    return netloc + "/log"


def leaf_bytes(kind: str, public_id: str, version: int, at: dt.datetime, credential_hash: str) -> bytes:
    if not re.fullmatch(r"[a-z][a-z_]{0,19}", kind):
        raise ValueError(f"invalid log entry type {kind!r}")
    return jcs(
        {"type": kind, "public_id": public_id, "version": version, "at": iso(at), "credential_hash": credential_hash}
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def node_id(block: merkle.Block) -> int:
    level, index = block
    return level << LEVEL_SHIFT | index


# -- appending --------------------------------------------------------------------------------------------------


HEAD_LOCKED = Prepared(LogHead, lambda shape: for_update(LogHead.select().where(LogHead.id == HEAD_ID)))
ADD_NODES = Prepared(
    LogNode,
    lambda count, *values: LogNode.insert_many(
        [{"id": values[2 * i], "hash": values[2 * i + 1]} for i in range(count)]
    ),
)
SET_HEAD = Prepared(
    LogHead,
    lambda shape, size, frontier, root_hash, updated_at: LogHead.update(
        {LogHead.size: size, LogHead.frontier: frontier, LogHead.root_hash: root_hash, LogHead.updated_at: updated_at}
    ).where(LogHead.id == HEAD_ID),
)


def lock_head() -> LogHead:
    """The head row, locked until the transaction ends (`FOR UPDATE` on PostgreSQL; SQLite's write transaction
    holds the database). Whoever holds it is the only one appending; pass it to `append`."""
    db = LogHead._meta.database
    if not db.in_transaction():
        raise RuntimeError("a log entry is appended inside the transaction of its event")
    return HEAD_LOCKED.first()


def append(
    kind: str,
    public_id: str,
    version: int,
    at: dt.datetime,
    credential_hash: str,
    certificate: Certificate | None = None,
    *,
    head: LogHead | None = None,
) -> int:
    """Append one leaf; returns its index. Call inside the event's write transaction (api/db.write_transaction),
    with the head from `lock_head()` when the transaction already holds it."""
    leaf = leaf_bytes(kind, public_id, version, at, credential_hash)
    head = head or lock_head()
    size = int(head.size)
    frontier, completed = merkle.append(merkle.unpack(bytes(head.frontier)), size, leaf)
    insert(
        LogEntry(
            idx=size,
            leaf=leaf,
            kind=kind,
            subject=public_id,
            version=version,
            certificate=certificate,
            created_at=at,
        )
    )
    if completed:
        ADD_NODES.execute(len(completed), *[x for block, value in completed for x in (node_id(block), value)])
    packed = merkle.pack(frontier)
    SET_HEAD.execute(None, size + 1, packed, merkle.frontier_root(frontier), at)
    head.size, head.frontier = size + 1, packed  # the held row stays the head for a later append
    return size


# Credential-version events to leaf types; an event added later is logged under its own name.
EVENT_KINDS = {"issue": "issued", "correct": "corrected", "amend": "amended", "revoke": "revoked"}


def log_credential_version(cert: Certificate, version, *, credential_hash: str | None = None, head=None) -> int:
    """The leaf of a record event: call with the `CredentialVersion` the event just stored (api/credentials.py),
    inside the same transaction. `credential_hash` is SHA-256 (hex) of the credential's RFC 8785 canonical JSON,
    computed from the stored document when not given."""
    return append(
        EVENT_KINDS.get(version.event, version.event),
        cert.public_id,
        version.version,
        version.created_at,
        credential_hash or credential_sha256(json.loads(version.document)),
        certificate=cert,
        head=head,
    )


class KeyChangeLog:
    """The signing-key hook (`SigningKeys.on_change`, run inside the key change's transaction): one leaf per new
    key, `public_id` its verification method, `version` its number, `credential_hash` SHA-256 of its raw key."""

    def __init__(self, signing_keys):
        self._keys = signing_keys

    def __call__(self, change) -> None:
        method = self._keys.verification_method_for(change.current)
        raw = public_key_from_multikey(change.current.public_key_multibase)
        append("signing_key", method, SigningKey.select().count(), change.at, sha256_hex(raw))


# -- reading ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Head:
    size: int
    root_hash: bytes


def head() -> Head:
    row = LogHead.get_by_id(HEAD_ID)
    return Head(int(row.size), bytes(row.root_hash))


def read_blocks(wanted: Sequence[merkle.Block]) -> dict[merkle.Block, bytes]:
    """The stored hashes of these blocks, in one query."""
    if not wanted:
        return {}
    by_id = {node_id(block): block for block in wanted}
    rows = LogNode.select(LogNode.id, LogNode.hash).where(LogNode.id.in_(list(by_id))).tuples()
    return {by_id[int(key)]: bytes(value) for key, value in rows}


def root_at(size: int) -> bytes:
    return merkle.root(size, read_blocks)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, size, read_blocks)


def consistency_proof(first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(first, second, read_blocks)


def entries(start: int, end: int) -> list[tuple[int, bytes]]:
    rows = LogEntry.select(LogEntry.idx, LogEntry.leaf).where(LogEntry.idx >= start, LogEntry.idx < end)
    return [(int(idx), bytes(leaf)) for idx, leaf in rows.order_by(LogEntry.idx).tuples()]


def entries_for(public_id: str) -> list[LogEntry]:
    return list(LogEntry.select().where(LogEntry.subject == public_id).order_by(LogEntry.idx))


# -- checkpoints ------------------------------------------------------------------------------------------------


def signer(base_url: str, signing_keys) -> note.Signer:
    """The note signer for the log: the registry's current signing key, named by the log's origin."""
    return note.Signer(origin(base_url), signing_keys.public_key(), signing_keys.sign)


def signed_checkpoint(base_url: str, signing_keys, at: Head | None = None) -> str:
    # The signer first: on a fresh registry, asking for the key registers it, which appends the key's leaf.
    log_signer = signer(base_url, signing_keys)
    current = at or head()
    return note.sign_checkpoint(note.Checkpoint(log_signer.name, current.size, current.root_hash), log_signer)


def add_log_service(did_doc: dict, base_url: str, published_keys) -> None:
    """List the log in the DID document: its API, its origin, and the note verifier key of every signing key
    (current and retired), so checkpoints old and new can be checked against the registry's identity."""
    name = origin(base_url)
    did_doc["service"] = [
        *did_doc.get("service", []),
        {
            "id": f"{did_doc['id']}#transparency-log",
            "type": "TransparencyLog",
            "serviceEndpoint": base_url + "/api/log",
            "origin": name,
            "noteVerifierKeys": [
                note.Verifier(name, public_key_from_multikey(key.public_key_multibase)).encode()
                for key in published_keys
            ],
        },
    ]


# -- request parameters -----------------------------------------------------------------------------------------


def parse_index(name: str, raw, *, minimum: int = 0) -> int:
    """A decimal parameter from a query string: digits only, bounded."""
    if raw is None or raw == "":
        raise RegistryError("invalid_field", f"{name} is required.", field=name)
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise RegistryError("invalid_field", f"{name} must be a whole number.", field=name)
    value = int(raw)
    if value < minimum:
        raise RegistryError("invalid_field", f"{name} must be at least {minimum}.", field=name)
    return value


def _beyond(name: str, value: int, size: int) -> RegistryError:
    return RegistryError("invalid_field", f"{name} {value} is beyond the log's size, {size}.", field=name)


def entries_page(raw_start, raw_end) -> dict:
    start = parse_index("start", raw_start)
    end = parse_index("end", raw_end, minimum=1)
    size = head().size
    if end <= start:
        raise RegistryError("invalid_field", "end must be greater than start.", field="end")
    if end > size:
        raise _beyond("end", end, size)
    end = min(end, start + MAX_ENTRIES)
    return {"entries": [{"index": i, "leaf": note_b64(leaf)} for i, leaf in entries(start, end)]}


def inclusion_answer(raw_index, raw_size) -> dict:
    index = parse_index("index", raw_index)
    size = parse_index("size", raw_size, minimum=1)
    current = head().size
    if size > current:
        raise _beyond("size", size, current)
    if index >= size:
        raise RegistryError("invalid_field", "index must be less than size.", field="index")
    return {"index": index, "size": size, "hashes": [note_b64(h) for h in inclusion_proof(index, size)]}


def consistency_answer(raw_first, raw_second) -> dict:
    first = parse_index("first", raw_first, minimum=1)
    second = parse_index("second", raw_second, minimum=1)
    current = head().size
    if second > current:
        raise _beyond("second", second, current)
    if first > second:
        raise RegistryError("invalid_field", "first must not be greater than second.", field="first")
    return {"first": first, "second": second, "hashes": [note_b64(h) for h in consistency_proof(first, second)]}


def record_answer(base_url: str, signing_keys, raw_id) -> dict:
    """A record's leaves, each with its inclusion proof against the latest signed checkpoint."""
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", f"Give a public record id, e.g. {EXAMPLE_ID}.")
    cert = Certificate.with_public_id(raw_id).first()
    if cert is None:
        raise RegistryError("not_found", "No record with that id exists in the registry.")
    current = head()
    found = [row for row in entries_for(cert.public_id) if row.idx < current.size]
    return {
        "public_id": cert.public_id,
        "checkpoint": signed_checkpoint(base_url, signing_keys, current),
        "size": current.size,
        "entries": [
            {
                "index": int(row.idx),
                "type": row.kind,
                "version": row.version,
                "leaf": note_b64(bytes(row.leaf)),
                "hashes": [note_b64(h) for h in inclusion_proof(int(row.idx), current.size)],
            }
            for row in found
        ],
    }


def note_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- static tiles -----------------------------------------------------------------------------------------------


def export_tiles(base_url: str, signing_keys, directory: Path) -> tuple[int, int]:
    """Write the log in the C2SP tlog-tiles layout under `directory`, to be served at `<BASE_URL>/log/`: every
    tile and entry bundle of the current tree, then the signed checkpoint last (so that whatever a reader sees
    the checkpoint name exists). Full tiles never change and are skipped when already written. Returns (tree
    size, files written)."""
    signed_checkpoint(base_url, signing_keys)  # registers the first key (and its leaf) on a fresh registry
    current = head()
    written = 0
    for tile in tiles.tiles_for_size(current.size):
        targets = [directory / tile.path()] + ([directory / tile.entries_path()] if tile.level == 0 else [])
        if not tile.partial and all(path.exists() for path in targets):
            continue
        found = read_blocks(tile.blocks())
        _write(targets[0], b"".join(found[block] for block in tile.blocks()))
        written += 1
        if tile.level == 0:
            start, end = tile.leaf_range()
            _write(targets[1], tiles.entry_bundle([leaf for _, leaf in entries(start, end)]))
            written += 1
    _write(directory / "checkpoint", signed_checkpoint(base_url, signing_keys, current).encode("utf-8"))
    return current.size, written + 1


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_bytes(data)
    os.replace(partial, path)
