"""An offline verifier for GhostShell credentials: W3C Data Integrity, cryptosuite eddsa-jcs-2022.

This module imports nothing of the registry server (only the standard library, `cryptography` and `rfc8785`), so it
can be copied out and published alone. The server uses its encoding and proof functions to sign, so the two can
never disagree. Its transparency-log checks (`log_checks`) are a second, independent implementation of the formats
the server writes with api/tlog/ (C2SP signed-note and tlog-checkpoint, RFC 9162 inclusion proofs); the tests hold
each against the other.

    python -m api verify FILE [--key z6Mk...]... [--did-document FILE] [--status-list FILE]...
    python -m api verify --id PUBLIC_ID --base https://registry.example
    python -m api verify FILE --key z6Mk... --checkpoint CHECKPOINT --inclusion-proof PROOF.json   # and in the log

Exit status: 0 the credential is valid, 1 it is not (bad signature, unknown or out-of-period key, revoked,
superseded, malformed), 2 usage error (bad arguments, unreadable file, nothing fetched).

The cryptosuite (https://www.w3.org/TR/vc-di-eddsa/ section 3.3, eddsa-jcs-2022):
    proofConfig = the proof without proofValue (its @context, when present, must begin the document's)
    hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
    proofValue  = "z" + base58btc(Ed25519 signature of hashData)
JCS is RFC 8785. An Ed25519 Multikey is "z" + base58btc(0xed 0x01 || 32-byte public key), so it starts "z6Mk".
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv, varint-encoded
STATUS_LIST_MIN_BITS = 131072
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024

# -- encodings ---------------------------------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58btc (the Bitcoin alphabet): leading zero bytes become leading '1's."""
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _B58_ALPHABET[remainder] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError(f"not base58btc: {char!r}")
        number = number * 58 + _B58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public_key: bytes) -> str:
    """The Multikey form of a 32-byte Ed25519 public key (`z6Mk...`)."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return "z" + b58encode(ED25519_PUB_PREFIX + public_key)


def public_key_from_multikey(text: str) -> bytes:
    """The 32-byte Ed25519 public key of a `z6Mk...` Multikey; ValueError for anything else."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("a Multikey is multibase base58btc: it starts with 'z'")
    raw = b58decode(text[1:])
    if len(raw) != 34 or not raw.startswith(ED25519_PUB_PREFIX):
        raise ValueError("not an Ed25519 Multikey (expected 0xed01 and 32 bytes)")
    return raw[2:]


def private_key_from_multibase(text: str) -> bytes:
    """The 32-byte Ed25519 seed of a `z3u2...` secretKeyMultibase (multicodec ed25519-priv)."""
    raw = b58decode(text[1:]) if text.startswith("z") else b""
    if len(raw) != 34 or not raw.startswith(ED25519_PRIV_PREFIX):
        raise ValueError("not an Ed25519 secret key multibase (expected 'z', 0x8026 and 32 bytes)")
    return raw[2:]


_SAFE_INTEGER = 2**53 - 1


def _plain(value) -> bool:
    """True when `value` is JSON whose RFC 8785 form is Python's sorted compact `json.dumps`: objects with ASCII
    keys (so code-point and UTF-16 order agree), strings, integers within 2**53 (printed alike by both), booleans,
    null, arrays. Floats, other keys and big integers take the general path."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = item.__class__
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                continue
            return False
        if kind is dict:
            for key in item:
                if key.__class__ is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            return False
    return True


def jcs(value) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme. The documents the registry signs take a fast path: for them Python's
    `json.dumps` with sorted keys, no spaces and no ASCII escaping writes exactly the canonical form (strings are
    escaped alike: `"`, `\\` and the control characters, short forms where JSON has them, else `\\u00xx`);
    anything else (floats, non-ASCII keys, lone surrogates) goes through the `rfc8785` package."""
    if _plain(value):
        try:
            return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: RFC 8785 refuses it
            pass
    return rfc8785.dumps(value)


def decode_bitstring(encoded: str) -> bytes:
    """A Bitstring Status List `encodedList`: "u" + base64url (no padding) of the GZIP-compressed bitstring."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u' prefix)")
    body = encoded[1:]
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
        bits = stream.read(STATUS_LIST_MIN_BITS * 64 // 8 + 1)  # bounded: a list is never this large
    return bits


def encode_bitstring(bits: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode()


def bit_at(bits: bytes, index: int) -> bool:
    """Bit `index` of a status list: index 0 is the most significant bit of the first byte."""
    if index < 0 or index >= len(bits) * 8:
        raise IndexError("status list index out of range")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# -- the cryptosuite ---------------------------------------------------------------------------------------------


def hash_data(document: dict, proof_options: dict) -> bytes:
    """eddsa-jcs-2022 hashing: SHA-256(JCS(proof options without proofValue)) || SHA-256(JCS(document without
    proof)), the proof hash first. When the proof carries an @context it takes the document's place (the verifier
    has checked that the document's @context starts with it)."""
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if "@context" in config:
        unsecured["@context"] = config["@context"]
    return hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def add_proof(document: dict, sign, *, verification_method: str, created: str, purpose="assertionMethod") -> dict:
    """`document` with a DataIntegrityProof; `sign(bytes) -> 64-byte signature` holds the private key."""
    return sign_canonical(document, sign, verification_method=verification_method, created=created, purpose=purpose)[0]


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def sign_canonical(
    document: dict, sign, *, verification_method: str, created: str, purpose="assertionMethod"
) -> tuple[dict, bytes]:
    """`add_proof`, and the signed document's RFC 8785 canonical JSON, writing each member of the document once:
    a canonical object is its members' canonical forms, sorted by key, so the document without the proof (what is
    signed) and with it (what is stored and logged) share every member but one."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    # The current recommendation copies the document's @context into the proof (section 3.3.1, Create Proof).
    proof = {"@context": unsecured["@context"]} if "@context" in unsecured else {}
    proof |= {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
    }
    members = {key: jcs(key) + b":" + jcs(value) for key, value in unsecured.items()}
    body = b"{" + b",".join(members[key] for key in sorted(members, key=_utf16_order)) + b"}"
    # hash_data with the proof's @context in the document's place: the same value, copied above.
    digest = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(body).digest()
    proof["proofValue"] = "z" + b58encode(sign(digest))
    members["proof"] = b'"proof":' + jcs(proof)
    canonical = b"{" + b",".join(members[key] for key in sorted(members, key=_utf16_order)) + b"}"
    return {**unsecured, "proof": proof}, canonical


def proof_problem(document, public_key: bytes) -> str | None:
    """None when `document` carries a valid eddsa-jcs-2022 proof by `public_key`, else what is wrong."""
    if not isinstance(document, dict):
        return "the document is not a JSON object"
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return "the document has no single proof object"
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}"
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        return "the proofValue is not multibase base58btc"
    if "@context" in proof:
        context = document.get("@context")
        proof_context = proof["@context"]
        wanted = proof_context if isinstance(proof_context, list) else [proof_context]
        have = context if isinstance(context, list) else [context]
        if context is None or have[: len(wanted)] != wanted:
            return "the proof's @context does not match the document's"
    try:
        signature = b58decode(value[1:])
        data = hash_data(document, proof)
    except (ValueError, TypeError) as exc:
        return f"the proof cannot be read: {exc}"
    if len(signature) != 64:
        return "the signature is not 64 bytes"
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return "the signature does not match the document and key"
    return None


# -- checking a credential ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TrustedKey:
    """A key the verifier trusts: from `--key` (no id, no period) or from a DID document (id and period)."""

    public_key_multibase: str
    id: str | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def matches(self, verification_method: str) -> bool:
        if self.id is not None:
            return verification_method == self.id
        return verification_method.rpartition("#")[2] == self.public_key_multibase


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not checked (nothing to check it against)
    detail: str


@dataclasses.dataclass(frozen=True)
class Report:
    checks: list[Check]
    status: str  # valid | revoked | superseded | invalid

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def parse_time(value) -> dt.datetime:
    """An XML Schema dateTime with a time zone, as naive UTC."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"not a date-time: {value!r}")
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"a date-time needs a time zone: {value!r}")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _id_of(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def keys_from_did_document(document) -> list[TrustedKey]:
    """The keys a DID document authorises for assertions, with their validity periods when it gives them."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise ValueError("the DID document has no id")
    did = document["id"]
    allowed = {_id_of(item) for item in document.get("assertionMethod") or []}
    methods = [m for m in document.get("verificationMethod") or [] if isinstance(m, dict)]
    methods += [m for m in document.get("assertionMethod") or [] if isinstance(m, dict)]
    keys = []
    for method in methods:
        method_id = method.get("id", "")
        if method_id.startswith("#"):
            method_id = did + method_id
        if method_id not in allowed and method.get("id") not in allowed:
            continue
        if method.get("type") != "Multikey" or method.get("controller") != did:
            continue
        public = str(method.get("publicKeyMultibase", ""))
        public_key_from_multikey(public)  # raises for anything but an Ed25519 Multikey
        keys.append(
            TrustedKey(
                public,
                method_id,
                parse_time(method["validFrom"]) if "validFrom" in method else None,
                parse_time(method["validUntil"]) if "validUntil" in method else None,
            )
        )
    return keys


def _format_problem(credential) -> str | None:
    if not isinstance(credential, dict):
        return "the credential is not a JSON object"
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT_V2:
        return f"@context must be a list starting with {VC_CONTEXT_V2}"
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return "type must include VerifiableCredential"
    if _id_of(credential.get("issuer")) is None:
        return "the issuer is missing"
    if not isinstance(credential.get("credentialSubject"), dict | list):
        return "the credentialSubject is missing"
    proof = credential.get("proof")
    if not isinstance(proof, dict):
        return "there is no single proof"
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}"
    if proof.get("proofPurpose") != "assertionMethod":
        return "the proof's purpose is not assertionMethod"
    for field in ("verificationMethod", "created"):
        if not isinstance(proof.get(field), str):
            return f"the proof has no {field}"
    try:
        parse_time(proof["created"])
        if "validFrom" in credential:
            parse_time(credential["validFrom"])
        if "validUntil" in credential:
            parse_time(credential["validUntil"])
    except ValueError as exc:
        return str(exc)
    return None


def _proof_checks(document, keys: list[TrustedKey], issuer: str | None, now: dt.datetime) -> list[Check]:
    """Format, key, signature and key period checks of one signed document (a credential or a status list)."""
    problem = _format_problem(document)
    if problem:
        return [Check("format", False, problem)]
    checks = [Check("format", True, "a VC 2.0 credential with an eddsa-jcs-2022 DataIntegrityProof")]
    proof = document["proof"]
    method = proof["verificationMethod"]
    document_issuer = _id_of(document["issuer"])
    if issuer is not None and document_issuer != issuer:
        return [*checks, Check("issuer", False, f"issued by {document_issuer}, not {issuer}")]
    if issuer is not None and method.partition("#")[0] != issuer:
        return [*checks, Check("key", False, f"{method} is not a key of the issuer {issuer}")]
    key = next((k for k in keys if k.matches(method)), None)
    if key is None:
        return [*checks, Check("key", False, f"{method} is not among the trusted keys")]
    checks.append(Check("key", True, f"{method} is a trusted key"))
    problem = proof_problem(document, public_key_from_multikey(key.public_key_multibase))
    if problem:
        return [*checks, Check("signature", False, problem)]
    checks.append(Check("signature", True, f"Ed25519 signature by {key.public_key_multibase}"))
    created = parse_time(proof["created"])
    if created > now + dt.timedelta(minutes=5):
        checks.append(Check("key valid at issuance", False, f"signed {proof['created']}, in the future"))
    elif key.valid_from is None and key.valid_until is None:
        checks.append(Check("key valid at issuance", None, "no validity period known for this key"))
    elif (key.valid_from is not None and created < key.valid_from) or (
        key.valid_until is not None and created >= key.valid_until
    ):
        period = f"{_iso(key.valid_from) or 'the start'} to {_iso(key.valid_until) or 'now'}"
        checks.append(Check("key valid at issuance", False, f"signed {proof['created']}, outside {period}"))
    else:
        until = f" until {_iso(key.valid_until)}" if key.valid_until else " (current key)"
        checks.append(
            Check(
                "key valid at issuance",
                True,
                f"signed {proof['created']}; key valid from {_iso(key.valid_from)}{until}",
            )
        )
    return checks


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def _status_checks(
    credential, keys, status_lists: list, issuer: str | None, now, require: bool = False
) -> tuple[list[Check], set[str]]:
    entries = credential.get("credentialStatus")
    if entries is None:
        return [Check("status", None, "the credential has no credentialStatus")], set()
    entries = entries if isinstance(entries, list) else [entries]
    by_id: dict[object, dict] = {item.get("id"): item for item in status_lists if isinstance(item, dict)}
    checks: list[Check] = []
    flags: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            checks.append(Check("status", False, "a credentialStatus entry is not a BitstringStatusListEntry"))
            continue
        purpose = entry.get("statusPurpose")
        url = entry.get("statusListCredential")
        name = f"status ({purpose})"
        index_text = entry.get("statusListIndex")
        if not isinstance(index_text, str) or not index_text.isdigit():
            checks.append(Check(name, False, "statusListIndex is not a non-negative integer string"))
            continue
        listing = by_id.get(url)
        if listing is None:
            if require:
                checks.append(Check(name, False, f"the status list {url} could not be obtained"))
            else:
                checks.append(Check(name, None, f"not checked: no status list {url} given"))
            continue
        list_checks = _proof_checks(listing, keys, issuer or _id_of(credential.get("issuer")), now)
        failed = [check for check in list_checks if check.ok is False]
        if failed:
            checks.append(Check(name, False, f"the status list {url} does not verify: {failed[0].detail}"))
            continue
        subject = listing.get("credentialSubject") or {}
        if subject.get("statusPurpose") != purpose or subject.get("type") != "BitstringStatusList":
            checks.append(Check(name, False, f"{url} is not a {purpose} BitstringStatusList"))
            continue
        if "validUntil" in listing and parse_time(listing["validUntil"]) <= now:
            checks.append(Check(name, False, f"the status list {url} has expired"))
            continue
        try:
            bits = decode_bitstring(str(subject.get("encodedList", "")))
            if len(bits) * 8 < STATUS_LIST_MIN_BITS:
                raise ValueError(f"the list is shorter than {STATUS_LIST_MIN_BITS} bits")
            set_bit = bit_at(bits, int(index_text))
        except (ValueError, IndexError, OSError, EOFError, zlib.error) as exc:
            checks.append(Check(name, False, f"the status list {url} cannot be read: {exc}"))
            continue
        if set_bit:
            flags.add(str(purpose))
            meaning = {"revocation": "revoked", "refresh": "superseded by a later version"}.get(str(purpose), "set")
            checks.append(Check(name, False, f"bit {index_text} is set: {meaning}"))
        else:
            checks.append(
                Check(name, True, f"bit {index_text} is clear in the list signed {listing['proof']['created']}")
            )
    return checks, flags


def verify_credential(
    credential,
    keys: list[TrustedKey],
    status_lists: list | None = None,
    *,
    issuer: str | None = None,
    now=None,
    require_status: bool = False,
) -> Report:
    """Every check of a credential against trusted keys and (optionally) its status lists. `issuer`, when given,
    is the only issuer accepted (the DID whose document supplied the keys). With `require_status` (online), a
    status list that was not obtained fails the check instead of being skipped."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    checks = _proof_checks(credential, keys, issuer, now)
    if any(check.ok is False for check in checks):
        return Report(checks, "invalid")
    period_ok = True
    if "validFrom" in credential and parse_time(credential["validFrom"]) > now + dt.timedelta(minutes=5):
        checks.append(Check("validity period", False, f"not valid before {credential['validFrom']}"))
        period_ok = False
    elif "validUntil" in credential and parse_time(credential["validUntil"]) <= now:
        checks.append(Check("validity period", False, f"expired at {credential['validUntil']}"))
        period_ok = False
    else:
        checks.append(Check("validity period", True, f"valid from {credential.get('validFrom', 'issuance')}"))
    status_checks, flags = _status_checks(credential, keys, status_lists or [], issuer, now, require_status)
    checks += status_checks
    if not period_ok:
        return Report(checks, "invalid")
    if "revocation" in flags:
        return Report(checks, "revoked")
    if "refresh" in flags:
        return Report(checks, "superseded")
    if any(check.ok is False for check in status_checks):
        return Report(checks, "invalid")
    return Report(checks, "valid")


# -- transparency log -------------------------------------------------------------------------------------------
#
# A credential is in the registry's log when a leaf of the log names it and that leaf is in a signed checkpoint:
# - the checkpoint is a C2SP signed note whose key name is its origin line; an Ed25519 signature line is
#   "\u2014 <name> <base64(key hash || signature)>", key hash = SHA-256(name || "\n" || 0x01 || public key)[:4];
# - the leaf is RFC 8785 JSON whose `credential_hash` is SHA-256 (hex) of the credential's RFC 8785 form;
# - its RFC 9162 (section 2.1.3.2) inclusion proof leads from SHA-256(0x00 || leaf) to the checkpoint's root.

NOTE_SIGNATURE_PREFIX = "\u2014 "


def credential_hash(credential) -> str:
    """What a log leaf records of a credential: SHA-256 (hex) of its RFC 8785 canonical JSON."""
    return hashlib.sha256(jcs(credential)).hexdigest()


def open_log_checkpoint(signed: str, public_keys: list[bytes]) -> tuple[str, int, bytes]:
    """(origin, tree size, root hash) of a checkpoint signed by one of the keys; ValueError otherwise."""
    if not isinstance(signed, str) or "\n\n" not in signed or not signed.endswith("\n"):
        raise ValueError("not a signed note")
    cut = signed.rindex("\n\n")
    text, signature_lines = signed[: cut + 1], signed[cut + 2 :].split("\n")[:-1]
    lines = text.split("\n")[:-1]
    if len(lines) < 3 or not lines[0] or not lines[1].isdigit() or (lines[1] != "0" and lines[1][0] == "0"):
        raise ValueError("the note is not a checkpoint (origin, tree size, root hash)")
    origin, size = lines[0], int(lines[1])
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise ValueError("the checkpoint's root hash is not base64") from None
    if len(root) != 32:
        raise ValueError("the checkpoint's root hash is not 32 bytes")
    hashes = {
        hashlib.sha256(origin.encode() + b"\n\x01" + key).digest()[:4]: key for key in public_keys if len(key) == 32
    }
    for line in signature_lines:
        if not line.startswith(NOTE_SIGNATURE_PREFIX):
            raise ValueError("malformed signature line")
        name, _, payload = line[len(NOTE_SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(payload, validate=True)
        except ValueError:
            raise ValueError("malformed signature line") from None
        if name != origin or raw[:4] not in hashes:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(hashes[raw[:4]]).verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise ValueError(f"invalid signature by the key {raw[:4].hex()}") from None
        return origin, size, root
    raise ValueError("no signature by a trusted key")


def inclusion_root(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root the leaf and its inclusion proof lead to; ValueError if malformed."""
    if not 0 <= index < size or any(len(h) != 32 for h in proof):
        raise ValueError(f"no leaf {index} in a tree of size {size}")
    fn, sn = index, size - 1
    result = hashlib.sha256(b"\x00" + leaf).digest()
    for sibling in proof:
        if sn == 0:
            raise ValueError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            result = hashlib.sha256(b"\x01" + sibling + result).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = hashlib.sha256(b"\x01" + result + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the inclusion proof is too short")
    return result


def log_checks_for(credential, signed_checkpoint: str, proof, public_keys: list[bytes]) -> list[Check]:
    """Is the credential in the signed checkpoint? `proof` is an /api/cert/log answer or one of its entries."""
    try:
        origin, size, root = open_log_checkpoint(signed_checkpoint, public_keys)
    except ValueError as exc:
        return [Check("log checkpoint", False, str(exc))]
    checks = [Check("log checkpoint", True, f"signed checkpoint of {origin}, size {size}")]
    entries = proof.get("entries") if isinstance(proof, dict) and "entries" in proof else [proof]
    wanted = credential_hash(credential)
    for entry in entries if isinstance(entries, list) else []:
        try:
            leaf = base64.b64decode(entry["leaf"], validate=True)
            fields = json.loads(leaf)
        except (KeyError, TypeError, ValueError):
            continue
        if not isinstance(fields, dict) or fields.get("credential_hash") != wanted:
            continue
        index = entry.get("index")
        checks.append(
            Check(
                "log entry",
                True,
                f"entry {index} logs {fields.get('type')} of {fields.get('public_id')} version "
                f"{fields.get('version')} at {fields.get('at')}",
            )
        )
        try:
            if not isinstance(index, int) or isinstance(index, bool):
                raise ValueError("the entry has no index")
            hashes = [base64.b64decode(h, validate=True) for h in entry.get("hashes", [])]
            ok = inclusion_root(index, size, leaf, hashes) == root
            detail = f"entry {index} is in the tree of size {size}" if ok else "the proof leads to another root"
        except (TypeError, ValueError) as exc:
            ok, detail = False, f"entry {index}: {exc}"
        return checks + [Check("log inclusion", ok, detail)]
    return checks + [Check("log entry", False, f"no entry of the proof logs this credential (sha256 {wanted})")]


# -- command line ------------------------------------------------------------------------------------------------

USAGE_ERROR = 2


class UsageError(Exception):
    pass


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return data


def _read_json(path: str):
    data = _read_bytes(path)
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc


def _fetch_json(url: str):
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "ghostshell-verify"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            data = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = json.loads(exc.read(4096)).get("message", "")
        except (ValueError, AttributeError):
            pass
        raise UsageError(f"{url} answered {exc.code}" + (f": {detail}" if detail else "")) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise UsageError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{url} did not answer JSON") from exc


def _online(args) -> tuple[dict, list[TrustedKey], list, str]:
    base = args.base.rstrip("/")
    scheme = urllib.parse.urlsplit(base).scheme
    if scheme not in ("http", "https"):
        raise UsageError("--base must be an http(s) URL, e.g. https://registry.example")
    query = {"id": args.id}
    if args.version:
        query["version"] = str(args.version)
    credential = _fetch_json(f"{base}/api/cert/credential?{urllib.parse.urlencode(query)}")
    did_document = _fetch_json(f"{base}/.well-known/did.json")
    keys = keys_from_did_document(did_document)
    lists = []
    entries = credential.get("credentialStatus") if isinstance(credential, dict) else None
    for entry in entries if isinstance(entries, list) else [entries] if entries else []:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        # Only lists the registry itself serves: the credential cannot send the verifier elsewhere.
        if isinstance(url, str) and url.startswith(base + "/"):
            lists.append(_fetch_json(url))
    return credential, keys, lists, did_document["id"]


def _offline(args) -> tuple[dict, list[TrustedKey], list, str | None]:
    if not args.file:
        raise UsageError("give a credential FILE, or --id and --base to fetch one")
    if not args.key and not args.did_document:
        raise UsageError("give the issuer's keys: --key z6Mk... (repeatable) or --did-document FILE")
    credential = _read_json(args.file)
    keys, issuer = [], None
    for text in args.key or []:
        try:
            public_key_from_multikey(text)
        except ValueError as exc:
            raise UsageError(f"--key {text}: {exc}") from exc
        keys.append(TrustedKey(text))
    if args.did_document:
        document = _read_json(args.did_document)
        try:
            keys += keys_from_did_document(document)
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{args.did_document}: {exc}") from exc
        issuer = document["id"]
    lists = [_read_json(path) for path in args.status_list or []]
    return credential, keys, lists, issuer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m api verify",
        description="Verify a GhostShell credential (W3C VC 2.0, eddsa-jcs-2022). Exit status: 0 valid, 1 invalid "
        "(bad signature, unknown or out-of-period key, revoked, superseded), 2 usage error.",
    )
    parser.add_argument("file", nargs="?", help="a saved credential (JSON)")
    parser.add_argument("--key", action="append", metavar="z6Mk...", help="a trusted issuer key (Multikey)")
    parser.add_argument("--did-document", metavar="FILE", help="the issuer's DID document (keys and their periods)")
    parser.add_argument("--status-list", action="append", metavar="FILE", help="a status list credential")
    parser.add_argument("--id", help="online: the public record id")
    parser.add_argument("--version", type=int, help="online: a credential version (default: the latest)")
    parser.add_argument("--base", help="online: the registry's URL, e.g. https://registry.example")
    parser.add_argument(
        "--checkpoint", metavar="FILE", help="a saved signed checkpoint of the registry's transparency log"
    )
    parser.add_argument(
        "--inclusion-proof",
        metavar="FILE",
        help="a saved /api/cert/log answer (or one of its entries): checks the credential is in that checkpoint",
    )
    return parser


def _read_text(path: str) -> str:
    data = _read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc


def _log_evidence(args) -> tuple[str, object] | None:
    """The transparency-log files (`log_checks_for` checks them), or None when not asked for."""
    if not args.checkpoint and not args.inclusion_proof:
        return None
    if not (args.checkpoint and args.inclusion_proof):
        raise UsageError("--checkpoint and --inclusion-proof go together")
    return _read_text(args.checkpoint), _read_json(args.inclusion_proof)


def main(argv=None, out=None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    issuer: str | None
    try:
        online = bool(args.id or args.base)
        if online:
            if not (args.id and args.base) or args.file:
                raise UsageError("online mode takes --id and --base together, and no FILE")
            credential, keys, lists, issuer = _online(args)
        else:
            credential, keys, lists, issuer = _offline(args)
        log_files = _log_evidence(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    report = verify_credential(credential, keys, lists, issuer=issuer, require_status=online)
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    if isinstance(subject, dict) and subject.get("public_id"):
        print(f"credential  {subject['public_id']}  {credential.get('id', '')}", file=out)
    log_checks: list[Check] = []
    if log_files is not None:
        raw_keys = [public_key_from_multikey(key.public_key_multibase) for key in keys]
        log_checks = log_checks_for(credential, *log_files, raw_keys)
    for check in report.checks + log_checks:
        mark = {True: "pass", False: "FAIL", None: "skip"}[check.ok]
        print(f"{mark}  {check.name}: {check.detail}", file=out)
    print(f"result: {report.status}", file=out)
    if log_files is not None:
        logged = all(check.ok for check in log_checks)
        print(f"log: {'included in the signed checkpoint' if logged else 'NOT shown to be in the log'}", file=out)
        return 0 if report.valid and logged else 1
    return 0 if report.valid else 1


if __name__ == "__main__":
    sys.exit(main())
