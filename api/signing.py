"""The registry's signing keys and its did:web identity.

Interface (everything that signs or publishes keys goes through `ctx.signing_keys`, a `SigningKeys`):
    keys.current() -> PublishedKey          the key that signs now (registered on first use)
    keys.sign(data: bytes) -> bytes         Ed25519 signature (64 bytes) with the current key
    keys.current_signer()                   (current key, its verification method, sign) after one check
    keys.public_key() -> bytes              the current key's raw 32-byte public key
    keys.verification_method() -> str       "did:web:<host>#z6Mk..." for the current key
    keys.published() -> list[PublishedKey]  every key ever used, oldest first, with its validity period
    keys.lookup(verification_method) -> PublishedKey | None
    keys.rotate_to(seed) -> PublishedKey    retire the current key and make `seed` current, in one transaction
    keys.registered_current()               the key the database records as current (None on a fresh registry)
    keys.on_change                          callables run inside that transaction with a `KeyChange`
    did_web(base_url), did_document(did, keys)

Rules:
- Keys are Ed25519. The private key is never stored in the database: development keeps it in `var/dev-keys.json`,
  production reads it from `GHOSTSHELL_SIGNING_KEY` (both through `api/config.py`). The database keeps each public
  key and its validity period (`signing_key` table), so retired keys stay published and old credentials verify.
- A key is valid from `valid_from` until `valid_until` (exclusive); the current key has no `valid_until`. A proof
  whose `created` falls outside its key's period does not verify (api/verifier.py checks it).
- The first key is registered the first time one is needed. After that the configured key must be the current one:
  a configured key that was retired, or that was never registered while another is current, raises
  `SigningKeyError` (`python -m api serve` refuses to start) until `python -m api admin rotate-signing-key` makes it
  current. Rotation is the only way the current key changes.
- The issuer is `did:web:<host of BASE_URL>`, the port percent-encoded (`did:web:localhost%3A8000`), and
  `GET /.well-known/did.json` lists every key as a `Multikey` under `verificationMethod` and `assertionMethod`,
  with `validFrom` / `validUntil` (terms of the VC 2.0 vocabulary, declared in the document's context).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Callable

import peewee
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .db import Prepared, for_update, write_transaction
from .errors import RegistryError
from .models import SigningKey
from .verifier import multikey

DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
VALIDITY_CONTEXT = {
    "validFrom": {
        "@id": "https://www.w3.org/2018/credentials#validFrom",
        "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
    },
    "validUntil": {
        "@id": "https://www.w3.org/2018/credentials#validUntil",
        "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
    },
}


class SigningKeyError(RegistryError):
    """The configured signing key cannot sign now; the message says what to do (HTTP 503 signing_unavailable)."""

    def __init__(self, message: str):
        super().__init__("signing_unavailable", message)


@dataclasses.dataclass(frozen=True)
class PublishedKey:
    public_key_multibase: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    row_id: int | None = dataclasses.field(default=None, compare=False, repr=False)  # its `signing_key` row

    @property
    def current(self) -> bool:
        return self.valid_until is None

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)


@dataclasses.dataclass(frozen=True)
class KeyChange:
    """A rotation, as the hooks see it: the retired key (None for the very first key) and the new one."""

    retired: PublishedKey | None
    current: PublishedKey
    at: dt.datetime


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def did_web(base_url: str) -> str:
    """The did:web DID of the registry at `base_url` (host only; a port is percent-encoded, did:web section 3.1)."""
    parts = urllib.parse.urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"BASE_URL has no host: {base_url!r}")
    if parts.port is not None:
        host += "%3A" + str(parts.port)
    return "did:web:" + host


def _published(row: SigningKey) -> PublishedKey:
    return PublishedKey(row.public_key_multibase, row.valid_from, row.valid_until, row.get_id())


def public_multikey(seed: bytes) -> str:
    return multikey(Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw())


CURRENT_KEY = Prepared(SigningKey, lambda shape: SigningKey.select().where(SigningKey.valid_until.is_null()))


class SigningKeys:
    def __init__(
        self,
        db: peewee.Database,
        seed: bytes,
        did: str,
        clock: Callable[[], dt.datetime],
        on_change: list[Callable[[KeyChange], None]] | None = None,
    ):
        self._db = db
        self._did = did
        self._clock = clock
        self._private = Ed25519PrivateKey.from_private_bytes(seed) if len(seed) == 32 else None
        self._multikey = public_multikey(seed) if self._private else None
        self.on_change: list[Callable[[KeyChange], None]] = list(on_change or [])

    @property
    def did(self) -> str:
        return self._did

    def verification_method_for(self, key: PublishedKey | str) -> str:
        value = key if isinstance(key, str) else key.public_key_multibase
        return f"{self._did}#{value}"

    def verification_method(self) -> str:
        return self.verification_method_for(self.current())

    def public_key(self) -> bytes:
        self.current()
        assert self._private is not None  # current() refuses to go on without one
        return self._private.public_key().public_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        self.current()
        assert self._private is not None  # current() refuses to go on without one
        return self._private.sign(data)

    def current_signer(self) -> tuple[PublishedKey, str, Callable[[bytes], bytes]]:
        """The current key (checked once), its verification method and a function that signs with it: for signing
        inside one transaction without checking the key again for each signature."""
        key = self.current()
        assert self._private is not None  # current() refuses to go on without one
        return key, self.verification_method_for(key), self._private.sign

    def current(self) -> PublishedKey:
        """The configured key, checked against the database (and registered there when no key exists yet)."""
        if self._private is None:
            raise SigningKeyError("No signing key is configured: set GHOSTSHELL_SIGNING_KEY.")
        row = CURRENT_KEY.first()  # every signature checks it: a statement written once (api/db.py)
        if row is None:
            return self._register_first()
        if row.public_key_multibase == self._multikey:
            return _published(row)
        known = SigningKey.get_or_none(SigningKey.public_key_multibase == self._multikey)
        if known is not None:
            raise SigningKeyError(
                f"The configured signing key {self._multikey} was retired at {iso(known.valid_until)}; "
                "configure the current key, or rotate to a new one with `python -m api admin rotate-signing-key`."
            )
        raise SigningKeyError(
            f"The configured signing key {self._multikey} is not the registry's current key "
            f"({row.public_key_multibase}); run `python -m api admin rotate-signing-key` to make it current."
        )

    def registered_current(self) -> PublishedKey | None:
        """The key the database records as current, whatever is configured (None on a fresh registry)."""
        row = SigningKey.get_or_none(SigningKey.valid_until.is_null())
        return _published(row) if row else None

    @property
    def configured_multikey(self) -> str | None:
        return self._multikey

    def _register_first(self) -> PublishedKey:
        with write_transaction(self._db):
            if SigningKey.select().exists():
                return self.current()  # another process registered a key meanwhile
            assert self._multikey is not None  # only current() calls this, with a configured key
            return self._make_current(None, self._multikey)

    def rotate_to(self, seed: bytes) -> PublishedKey:
        """Retire the current key and make `seed`'s key current, now. A key is never reused once retired."""
        new = public_multikey(seed)
        with write_transaction(self._db):
            if SigningKey.select().where(SigningKey.public_key_multibase == new).exists():
                raise SigningKeyError(f"The key {new} has already been used; rotate to a new key.")
            row = for_update(SigningKey.select().where(SigningKey.valid_until.is_null())).first()
            return self._make_current(row, new)

    def _make_current(self, retiring: SigningKey | None, new_multikey: str) -> PublishedKey:
        now = self._clock()
        retired = None
        if retiring is not None:
            retiring.valid_until = now
            retiring.save()
            retired = _published(retiring)
        current = _published(SigningKey.create(public_key_multibase=new_multikey, valid_from=now))
        for hook in self.on_change:
            hook(KeyChange(retired, current, now))
        return current

    def published(self) -> list[PublishedKey]:
        """Every key, oldest first. On a fresh registry the configured key is registered first, so that the DID
        document is never empty; a configured key that cannot sign does not stop the others being published."""
        if self._private is not None and not SigningKey.select().exists():
            self.current()
        return [_published(row) for row in SigningKey.select().order_by(SigningKey.valid_from, SigningKey.id)]

    def lookup(self, verification_method: str) -> PublishedKey | None:
        did, _, fragment = (verification_method or "").partition("#")
        if did != self._did or not fragment:
            return None
        row = SigningKey.get_or_none(SigningKey.public_key_multibase == fragment)
        return _published(row) if row else None


def did_document(did: str, keys: list[PublishedKey]) -> dict:
    """The DID document: every key, current and retired, with its validity period."""
    methods = []
    for key in keys:
        method = {
            "id": f"{did}#{key.public_key_multibase}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
            "validFrom": iso(key.valid_from),
        }
        if key.valid_until is not None:
            method["validUntil"] = iso(key.valid_until)
        methods.append(method)
    return {
        "@context": [*DID_CONTEXT, VALIDITY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
