"""Tokens, keyed hashes and encryption at rest.

- A purchase token is `TOKEN_PREFIX` + `TOKEN_BODY_LENGTH` Crockford base32 characters (api/rules.py): 120 random
  bits. Input is normalised: case, spaces and hyphens are ignored, and the confusable letters I/L/O read as 1/1/0.
  An agent token (minted by the holder for the agent, `api/delegation.py`) has the same form with the prefix
  `AGENT_TOKEN_PREFIX`.
- Tokens and emails are looked up by HMAC-SHA256 under `GHOSTSHELL_SECRET_KEY`, never by plain SHA-256,
  so a copied database cannot be brute-forced or linked across datasets without the key.
- Emails, tokens awaiting their email, and queued messages are sealed with AES-256-GCM under
  `EMAIL_ENC_KEY`; the purpose is bound as associated data so one kind of ciphertext cannot pass for another.
- The post-payment page gets its token through a browser binding: a random secret that lives only in an
  HttpOnly cookie. The token is sealed under a key derived from that secret, so the server's database alone
  cannot reveal it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .rules import AGENT_TOKEN_PREFIX, TOKEN_BODY_LENGTH, TOKEN_PREFIX
from .rules import TOKEN_ALPHABET as CROCKFORD

_CONFUSABLES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_TOKEN_BODY = re.compile(f"[{CROCKFORD}]{{{TOKEN_BODY_LENGTH}}}")


def crockford(number: int) -> str:
    """Crockford base32, most significant digit first, no padding (1 -> '1', 17 -> 'H', 32 -> '10')."""
    if number < 0:
        raise ValueError("negative")
    digits = ""
    while True:
        number, remainder = divmod(number, 32)
        digits = CROCKFORD[remainder] + digits
        if number == 0:
            return digits


def new_token(random_bytes: Callable[[int], bytes] = os.urandom, prefix: str = TOKEN_PREFIX) -> str:
    value = int.from_bytes(random_bytes(15), "big")  # 120 bits
    return prefix + crockford(value).rjust(TOKEN_BODY_LENGTH, "0")


def new_agent_token(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    return new_token(random_bytes, AGENT_TOKEN_PREFIX)


def normalize_token(raw: str | None, prefix: str = TOKEN_PREFIX) -> str | None:
    """The canonical form of a pasted token of the given kind, or None when it cannot be one."""
    if not raw or len(raw) > 200:
        return None
    compact = re.sub(r"[\s\-]", "", raw).upper()
    head = prefix.rstrip("-")
    if not compact.startswith(head):
        return None
    body = compact[len(head) :].translate(_CONFUSABLES)
    if not _TOKEN_BODY.fullmatch(body):
        return None
    return prefix + body


def normalize_agent_token(raw: str | None) -> str | None:
    return normalize_token(raw, AGENT_TOKEN_PREFIX)


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Keyring:
    """Keyed hashes and AES-GCM sealing with the registry's two keys."""

    def __init__(self, secret_key: bytes, enc_key: bytes, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._secret_key = secret_key
        self._aead = AESGCM(enc_key)
        self._random_bytes = random_bytes

    def keyed_hash(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def token_hash(self, canonical_token: str) -> str:
        return self.keyed_hash("token", canonical_token)

    def agent_token_hash(self, canonical_agent_token: str) -> str:
        return self.keyed_hash("agent_token", canonical_agent_token)

    def email_hash(self, email: str) -> str:
        return self.keyed_hash("email", email.strip().lower())

    def seal(self, purpose: str, plaintext: str) -> str:
        nonce = self._random_bytes(12)
        return b64e(nonce + self._aead.encrypt(nonce, plaintext.encode(), purpose.encode()))

    def open(self, purpose: str, sealed: str) -> str:
        raw = b64d(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()

    # Browser binding for the post-payment page.
    def new_binding(self) -> str:
        return b64e(self._random_bytes(32))

    def binding_hash(self, binding: str) -> str:
        return self.keyed_hash("binding", binding)

    def seal_for_binding(self, binding: str, plaintext: str) -> str:
        nonce = self._random_bytes(12)
        return b64e(nonce + _binding_aead(binding).encrypt(nonce, plaintext.encode(), b"handoff"))

    def open_for_binding(self, binding: str, sealed: str) -> str:
        raw = b64d(sealed)
        return _binding_aead(binding).decrypt(raw[:12], raw[12:], b"handoff").decode()


def _binding_aead(binding: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ghostshell-handoff").derive(binding.encode())
    return AESGCM(key)


def constant_time_equals(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
