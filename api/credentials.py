"""Verifiable credentials: one signed W3C Verifiable Credential 2.0 per certificate version, and its status.

Rules (docs/api.md "Verifiable credentials"):
- Issuance, every correction, every paid amendment (`amend`) and the revocation each write a new
  `CredentialVersion` (1, 2, ...) in the same transaction as the change: `record_version(ctx, cert, event)`,
  called by `api/certificates.py` inside its write transaction with the certificate row locked.
- The credential's subject is the certificate's PUBLIC view (`records.public_view`, which includes the public
  fingerprint and the nonce-salted record hash as a commitment), with the public record URL as its id. Nothing else
  of the record goes in, so a private value can never appear in a credential.
- The proof is a `DataIntegrityProof`, cryptosuite `eddsa-jcs-2022`, by the registry's current signing key
  (`ctx.signing_keys`), created at the time of the change; the encoding lives in `api/verifier.py`.
- Each version has one status index, shared by two Bitstring Status Lists the registry signs and serves:
  `revocation` (set for every version of a certificate in the revoking transaction) and `refresh` (set for a
  version when a correction or an amendment supersedes it, in that transaction). A list has at least 131,072 bits and
  grows by that much when the indexes run out.
- A revoked certificate's earlier versions are no longer served (their content was withdrawn); its final version,
  the revocation, is.
- Records issued before credentials existed get their first one from `python -m api admin issue-credentials`
  (`backfill`), event `backfill`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from peewee import fn

from . import amendments, links, records, transparency, verifier
from .context import Context, iso
from .db import Prepared, for_update, insert, write_transaction
from .errors import RegistryError
from .models import Certificate, CredentialVersion, StatusList
from .public_id import EXAMPLE as EXAMPLE_ID

VC_CONTEXT = [verifier.VC_CONTEXT_V2]
CREDENTIAL_TYPE = ["VerifiableCredential", "AgentBirthCertificate"]
STATUS_PURPOSES = ("revocation", "refresh")
STATUS_LIST_BYTES = verifier.STATUS_LIST_MIN_BITS // 8
ISSUER_NAME = "GhostShell Registry"
MAX_VERSION = 1000


def credential_url(base_url: str, public_id: str, version: int) -> str:
    return f"{base_url}/api/cert/credential?id={public_id}&version={version}"


def status_list_url(base_url: str, purpose: str) -> str:
    return f"{base_url}/api/cert/status/{purpose}"


def _issuer(ctx: Context) -> dict:
    return {"id": ctx.signing_keys.did, "name": ISSUER_NAME}


def _sign(ctx: Context, document: dict, created: dt.datetime, signer=None) -> tuple[dict, bytes]:
    """`document` with the registry's proof, and its RFC 8785 canonical JSON; `signer` is (verification method,
    sign) of a key already checked in this transaction (`SigningKeys.current_signer`), else the current key is
    checked now."""
    method, sign = signer or ctx.signing_keys.current_signer()[1:]
    return verifier.sign_canonical(document, sign, verification_method=method, created=iso(created))


def credential_subject(cert: Certificate, base_url: str) -> dict:
    """The credential's subject: the public view (with its version history once amended), identified by the public
    record URL."""
    view = records.public_view(cert, base_url)
    if cert.version > 1 and not cert.is_revoked:
        view["history"] = amendments.history(cert)
    return {"id": view.pop("public_url"), **view}


def build_credential(
    ctx: Context, cert: Certificate, version: int, status_index: int, now: dt.datetime, *, signer=None
) -> tuple[dict, bytes]:
    """The signed credential and its canonical JSON (what is stored, served and hashed into the log)."""
    base = ctx.config.base_url
    entries = [
        {
            "id": f"{status_list_url(base, purpose)}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_url(base, purpose),
        }
        for purpose in STATUS_PURPOSES
    ]
    document = {
        "@context": VC_CONTEXT,
        "id": credential_url(base, cert.public_id, version),
        "type": CREDENTIAL_TYPE,
        "name": f"Birth certificate {cert.public_id}, version {version}",
        "issuer": _issuer(ctx),
        "validFrom": iso(now),
        "credentialSubject": credential_subject(cert, base),
        "credentialStatus": entries,
    }
    return _sign(ctx, document, now, signer)


# -- status lists -----------------------------------------------------------------------------------------------
#
# Status indexes are handed out in order, one per credential version: the next is one above the highest stored
# (`credential_version.status_index` is unique and indexed). Every version's transaction holds the transparency
# log's head row (api/transparency.py) before it takes an index, so indexes, like leaves, are consecutive with no
# gaps or duplicates on both databases, and a rollback gives the index back. An issuance therefore reads the lists'
# lengths and nothing else of them: their bits are written only when a bit changes (a correction, a revocation)
# or a list grows.

NEXT_STATUS_INDEX = Prepared(
    CredentialVersion, lambda shape: CredentialVersion.select(fn.MAX(CredentialVersion.status_index))
)
LIST_LENGTHS = Prepared(StatusList, lambda shape: StatusList.select(StatusList.purpose, fn.LENGTH(StatusList.bits)))
LIST_LOCKED = Prepared(
    StatusList, lambda shape, purpose: for_update(StatusList.select().where(StatusList.purpose == purpose))
)
SET_LIST = Prepared(
    StatusList,
    lambda shape, bits, updated_at, purpose: StatusList.update(
        {StatusList.bits: bits, StatusList.updated_at: updated_at}
    ).where(StatusList.purpose == purpose),
)
EARLIER_VERSIONS = Prepared(
    CredentialVersion,
    lambda shape, cert_id: (
        CredentialVersion.select(CredentialVersion.version, CredentialVersion.status_index)
        .where(CredentialVersion.certificate == cert_id)
        .order_by(CredentialVersion.version)
    ),
)


def _allocate_index(now: dt.datetime) -> int:
    """The next status index; every list is made long enough to hold it. Call with the log's head row held."""
    highest = NEXT_STATUS_INDEX.execute(None).fetchone()[0]
    index = 0 if highest is None else int(highest) + 1
    lengths = dict(LIST_LENGTHS.execute(None).fetchall())
    if any(lengths.get(purpose, 0) * 8 <= index for purpose in STATUS_PURPOSES):
        _grow_lists(index, now)  # a fresh registry, or every index of the lists handed out: rare
    return index


def _grow_lists(index: int, now: dt.datetime) -> None:
    for purpose in STATUS_PURPOSES:
        StatusList.insert(purpose=purpose, bits=bytes(STATUS_LIST_BYTES), updated_at=now).on_conflict_ignore().execute()
        row = LIST_LOCKED.first(purpose)
        bits = bytes(row.bits)
        if index >= len(bits) * 8:
            grown = bits + bytes(STATUS_LIST_BYTES * ((index - len(bits) * 8) // (STATUS_LIST_BYTES * 8) + 1))
            SET_LIST.execute(None, grown, row.updated_at, purpose)  # longer, not changed: validFrom stays


def _set_bits(purpose: str, indexes: list[int], now: dt.datetime) -> None:
    row = LIST_LOCKED.first(purpose)
    bits = bytearray(bytes(row.bits))
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    SET_LIST.execute(None, bytes(bits), now, purpose)


# -- writing ----------------------------------------------------------------------------------------------------


def record_version(ctx: Context, cert: Certificate, event: str) -> CredentialVersion:
    """Sign and store the certificate's next credential version and its transparency-log leaf; set the status bits
    the change implies. Call inside the transaction that made the change, after the certificate row was saved."""
    now = ctx.clock()
    # The key first: on a fresh registry asking for it registers it, which appends the key's own leaf.
    key, method, sign = ctx.signing_keys.current_signer()
    head = transparency.lock_head()  # serialises versions: status indexes and leaves in one order
    # (version, status_index), oldest first; an issuance's certificate was inserted by this transaction: none yet
    earlier = [] if event == "issue" else EARLIER_VERSIONS.execute(None, cert.id).fetchall()
    version = (earlier[-1][0] if earlier else 0) + 1
    index = _allocate_index(now)
    if event in ("correct", "amend") and earlier:
        _set_bits("refresh", [earlier[-1][1]], now)
    if event == "revoke":
        _set_bits("revocation", [status_index for _, status_index in earlier] + [index], now)
    _, canonical = build_credential(ctx, cert, version, index, now, signer=(method, sign))
    row = CredentialVersion(
        certificate=cert.id,
        version=version,
        event=event,
        status_index=index,
        signing_key=key.row_id,
        created_at=now,
        document=canonical.decode("utf-8"),  # stored in its canonical form: the log's hash is of these bytes
    )
    insert(row)
    # Its leaf, in the same transaction.
    transparency.log_credential_version(cert, row, credential_hash=hashlib.sha256(canonical).hexdigest(), head=head)
    return row


# -- reading ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StoredCredential:
    document: dict
    version: int
    latest: int
    revoked: bool


def parse_version(raw) -> int | None:
    if raw is None or raw == "":
        return None
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= MAX_VERSION:
        raise RegistryError("invalid_field", "version must be a whole number from 1.", field="version")
    return int(text)


def stored_credential(ctx: Context, raw_id, raw_version=None) -> StoredCredential:
    """A certificate's credential: the latest version, or the one asked for."""
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", f"Give a public record id, e.g. {EXAMPLE_ID}.")
    wanted = parse_version(raw_version)
    cert = Certificate.with_public_id(raw_id).first()
    if cert is None:
        raise RegistryError("not_found", "No record with that id exists in the registry.")
    versions = CredentialVersion.select().where(CredentialVersion.certificate == cert.id)
    latest = versions.order_by(CredentialVersion.version.desc()).first()
    if latest is None:
        raise RegistryError("not_found", "This record has no credential.")
    row = latest if wanted is None else versions.where(CredentialVersion.version == wanted).first()
    if row is None:
        raise RegistryError("not_found", f"This record has no credential version {wanted}.")
    revoked = cert.is_revoked
    if revoked and row.version != latest.version:
        raise RegistryError("revoked", "This certificate has been revoked; only its revocation credential is served.")
    return StoredCredential(json.loads(row.document), row.version, latest.version, revoked)


def status_list_credential(ctx: Context, purpose: str) -> tuple[dict, dt.datetime]:
    """The signed BitstringStatusListCredential for `purpose` and the time it last changed."""
    if purpose not in STATUS_PURPOSES:
        raise RegistryError("not_found", "No such status list.")
    row = StatusList.get_or_none(StatusList.purpose == purpose)
    bits = bytes(row.bits) if row else bytes(STATUS_LIST_BYTES)
    changed = row.updated_at if row else ctx.clock()
    url = status_list_url(ctx.config.base_url, purpose)
    document = {
        "@context": VC_CONTEXT,
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _issuer(ctx),
        "validFrom": iso(changed),
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": verifier.encode_bitstring(bits),
        },
    }
    return _sign(ctx, document, ctx.clock())[0], changed


def registry_trusted_keys(ctx: Context) -> list[verifier.TrustedKey]:
    keys = ctx.signing_keys
    return [
        verifier.TrustedKey(
            key.public_key_multibase, keys.verification_method_for(key), key.valid_from, key.valid_until
        )
        for key in keys.published()
    ]


def verify(ctx: Context, raw_id, raw_version=None) -> dict:
    """The registry's own verification of a stored credential, by the same code as the offline verifier."""
    stored = stored_credential(ctx, raw_id, raw_version)
    lists = [status_list_credential(ctx, purpose)[0] for purpose in STATUS_PURPOSES]
    report = verifier.verify_credential(
        stored.document,
        registry_trusted_keys(ctx),
        lists,
        issuer=ctx.signing_keys.did,
        now=ctx.clock(),
        require_status=True,
    )
    proof = stored.document.get("proof", {})
    key = next((k for k in registry_trusted_keys(ctx) if k.id == proof.get("verificationMethod")), None)
    return {
        "valid": report.valid,
        "status": report.status,
        "public_id": stored.document["credentialSubject"].get("public_id"),
        "version": stored.version,
        "latest_version": stored.latest,
        "signed_at": proof.get("created"),
        "key": None
        if key is None
        else {
            "id": key.id,
            "public_key_multibase": key.public_key_multibase,
            "valid_from": iso(key.valid_from),
            "valid_until": iso(key.valid_until),
        },
        "checks": [dataclasses.asdict(check) for check in report.checks],
        "credential_url": stored.document.get("id"),
    }


@dataclasses.dataclass(frozen=True)
class RecordImage:
    """What the QR code and the badge show: nothing beyond the public id, the status and the public URL."""

    public_id: str
    status: str  # valid | revoked
    public_url: str


def record_image(ctx: Context, raw_id) -> RecordImage:
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", f"Give a public record id, e.g. {EXAMPLE_ID}.")
    cert = Certificate.with_public_id(raw_id).first()
    if cert is None:
        raise RegistryError("not_found", "No record with that id exists in the registry.")
    status = "revoked" if cert.is_revoked else "valid"
    return RecordImage(cert.public_id, status, links.public_url(ctx.config.base_url, cert.public_id))


def backfill(ctx: Context) -> int:
    """Sign a first credential for every record that has none (records issued before credentials existed): its
    current public view, now; a revoked record gets its revocation credential. Returns how many were made."""
    without = Certificate.select(Certificate.id).where(
        ~fn.EXISTS(CredentialVersion.select().where(CredentialVersion.certificate == Certificate.id))
    )
    made = 0
    for (cert_id,) in without.order_by(Certificate.id).tuples():
        with write_transaction(ctx.db):
            cert = for_update(Certificate.select().where(Certificate.id == cert_id)).get()
            if CredentialVersion.select().where(CredentialVersion.certificate == cert_id).exists():
                continue
            record_version(ctx, cert, "revoke" if cert.is_revoked else "backfill")
            made += 1
    return made
