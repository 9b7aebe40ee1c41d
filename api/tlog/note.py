"""C2SP signed-note (Ed25519) and tlog-checkpoint: formatting, signing, parsing, verifying. Pure functions.

signed-note (https://c2sp.org/signed-note):
- The note text is non-empty UTF-8 ending in a newline, with no control characters other than newline.
- The signed message is the text, a blank line, then one line per signature: `— <key name> <base64(key hash ||
  signature)>` (U+2014, a space). A key name is non-empty and has no space, no `+` and no control character.
- Ed25519 (signature type 0x01): key hash = the first 4 bytes of SHA-256(key name || "\\n" || 0x01 || 32-byte public
  key); the signature is over the note text exactly. The verifier key is `<name>+<key hash, 8 hex digits>+<base64(
  0x01 || public key)>`.
- A note is accepted only when a signature by a known key verifies; a signature by an unknown key is ignored; a
  signature by a known key that does not verify rejects the note.

tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text `<origin>\\n<tree size, decimal>\\n<base64 root
hash>\\n` then optional extension lines.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .merkle import HASH_SIZE

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
_NAME = re.compile(r"^[^\s+\x00-\x1f\x7f]+$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed, unsigned by a known key, or whose signature does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise NoteError(f"invalid key name {name!r}")


@dataclasses.dataclass(frozen=True)
class Verifier:
    """A note verifier key: a name and an Ed25519 public key."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public_key)

    def encode(self) -> str:
        """The `name+hash+base64` form."""
        payload = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash.hex()}+{payload}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.split("+", 2)  # the name has no "+"; the base64 part may
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("a verifier key is name+hash+base64")
        name, hex_hash, payload = parts
        raw = _b64decode(payload, "the verifier key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys are supported")
        verifier = cls(name, raw[1:])
        if verifier.key_hash.hex() != hex_hash:
            raise NoteError("the verifier key's hash does not match its name and key")
        return verifier

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclasses.dataclass(frozen=True)
class Signer:
    """A note signer: a key name, the Ed25519 public key, and a function that signs with its private half (so the
    private key can stay wherever the registry keeps it)."""

    name: str
    public_key: bytes
    sign_bytes: Callable[[bytes], bytes]

    def __post_init__(self) -> None:
        _check_name(self.name)

    @classmethod
    def from_private_key(cls, name: str, private_key: Ed25519PrivateKey) -> Signer:
        return cls(name, private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), private_key.sign)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def signature_line(self, text: str) -> str:
        check_text(text)
        signature = self.sign_bytes(text.encode("utf-8"))
        payload = base64.b64encode(self.verifier.key_hash + signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {payload}\n"


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in text):
        raise NoteError("a note's text must not hold control characters")


def sign(text: str, *signers: Signer) -> str:
    if not signers:
        raise NoteError("a note needs at least one signer")
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    key_hash: bytes
    signature: bytes


def split(message: str) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a signed note (not yet verified)."""
    if "\n\n" not in message or not message.endswith("\n"):
        raise NoteError("malformed note")
    cut = message.rindex("\n\n")
    text, block = message[: cut + 1], message[cut + 2 :]
    check_text(text)
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed note")
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2 or not _NAME.match(fields[0]):
            raise NoteError("malformed note")
        raw = _b64decode(fields[1], "a signature")
        if len(raw) < 5:
            raise NoteError("malformed note")
        signatures.append(Signature(fields[0], raw[:4], raw[4:]))
    return text, signatures


def open_note(message: str, verifiers: list[Verifier]) -> tuple[str, list[Signature]]:
    """The text of a note signed by at least one of `verifiers`, with the signatures that verified."""
    text, signatures = split(message)
    known = {(v.name, v.key_hash): v for v in verifiers}
    verified = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_hash))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode("utf-8"), signature.signature):
            raise NoteError(f"invalid signature for key {signature.name}+{signature.key_hash.hex()}")
        verified.append(signature)
    if not verified:
        raise NoteError("the note has no signature by a known key")
    return text, verified


# -- checkpoints ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or any(c in self.origin for c in "\n\r"):
            raise NoteError("invalid checkpoint origin")
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii"), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        check_text(text)
        lines = text.split("\n")[:-1]
        if len(lines) < 3 or not lines[0] or any(not line for line in lines[3:]):
            raise NoteError("a checkpoint has an origin, a tree size and a root hash")
        if not _DECIMAL.match(lines[1]):
            raise NoteError("the checkpoint's tree size is not a decimal number")
        root_hash = _b64decode(lines[2], "the checkpoint's root hash")
        if len(root_hash) != HASH_SIZE or base64.b64encode(root_hash).decode("ascii") != lines[2]:
            raise NoteError("the checkpoint's root hash is not 32 bytes in base64")
        return cls(lines[0], int(lines[1]), root_hash, tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, *signers: Signer) -> str:
    return sign(checkpoint.text(), *signers)


def open_checkpoint(message: str, verifiers: list[Verifier], origin: str | None = None) -> Checkpoint:
    """A checkpoint whose signature by one of `verifiers` verifies (and whose origin matches, when given)."""
    text, _ = open_note(message, verifiers)
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
