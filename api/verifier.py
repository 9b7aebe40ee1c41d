"""An offline verifier for GhostShell credentials: W3C Data Integrity, cryptosuite eddsa-jcs-2022.

This module imports nothing of the registry server (only the standard library, `cryptography` and `rfc8785`), so it
can be copied out and published alone. The server uses its encoding and proof functions to sign, so the two can
never disagree.

    python -m api verify FILE [--key z6Mk...]... [--did-document FILE] [--status-list FILE]...
    python -m api verify --id GS-BC-H-26-1 --base https://registry.example

Exit status: 0 the credential is valid, 1 it is not (bad signature, unknown or out-of-period key, revoked,
superseded, malformed), 2 usage error (bad arguments, unreadable file, nothing fetched).

The cryptosuite (https://www.w3.org/TR/vc-di-eddsa/ section 3.3, eddsa-jcs-2022):
    proofConfig = the proof without proofValue (its @context, when present, must begin the document's)
    hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
    proofValue  = "z" + base58btc(Ed25519 signature of hashData)
JCS is RFC 8785. An Ed25519 Multikey is "z" + base58btc(0xed 0x01 || 32-byte public key), so it starts "z6Mk".
"""

from __future__ import annotations

import base64
import gzip
import hashlib

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


def jcs(value) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme."""
    return rfc8785.dumps(value)


def decode_bitstring(encoded: str) -> bytes:
    """A Bitstring Status List `encodedList`: "u" + base64url (no padding) of the GZIP-compressed bitstring."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u' prefix)")
    body = encoded[1:]
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    with gzip.GzipFile(fileobj=__import__("io").BytesIO(compressed)) as stream:
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
    proof["proofValue"] = "z" + b58encode(sign(hash_data(unsecured, proof)))
    return {**unsecured, "proof": proof}


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
