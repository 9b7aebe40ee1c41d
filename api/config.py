"""The registry's configuration: one frozen object, read from the environment in one place.

`Config.from_env()` is the only code that reads `os.environ`. Everything else receives a `Config`.

Rules:
- In production (`GHOSTSHELL_ENV=production`) every required secret must be set, and the test checkout
  must be off; otherwise start-up stops with a `ConfigError` naming what is missing.
- The test checkout is refused with a live Stripe key (`sk_live_`/`rk_live_`), whatever the environment name.
- In development the registry makes its own keys on first run and keeps them in `var/dev-keys.json`, so a
  fresh clone runs with no credentials. That includes the Ed25519 signing key (production:
  `GHOSTSHELL_SIGNING_KEY`), which `python -m api admin rotate-signing-key` replaces there. With no
  `STRIPE_SECRET_KEY` (and no `RESEND_API_KEY`) it runs in test mode against the local Stripe and Resend doubles
  mounted on the same origin (`/_stripe`, `/_mail`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_KEYS_PATH = REPO_ROOT / "var" / "dev-keys.json"
DEFAULT_DATABASE_URL = "sqlite:///var/ghostshell.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
LOCAL_STRIPE_KEY = "sk_test_local_double"
LOCAL_RESEND_KEY = "re_local_double"
STRIPE_DOUBLE_PREFIX = "/_stripe"
RESEND_DOUBLE_PREFIX = "/_mail"
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")

DEFAULT_RATE_LIMITS = {
    "checkout": "10/minute",
    "handoff": "30/minute",
    "token_status": "30/minute",
    "redeem": "20/minute",
    "lookup": "60/minute",
    "search": "60/minute",
    "badge": "300/minute",
    "log": "300/minute",  # transparency log: monitors fetch entries and proofs in bursts
    "resend": "10/hour",  # per client, for /api/cert/resend and its confirmation
    "resend_address": "3/hour",  # per recovery address (counted on a keyed hash of it)
}

PRODUCTION_REQUIRED = (
    "BASE_URL",
    "DATABASE_URL",
    "GHOSTSHELL_SECRET_KEY",
    "EMAIL_ENC_KEY",
    "GHOSTSHELL_SIGNING_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "RESEND_API_KEY",
    "RESEND_FROM_EMAIL",
)


class ConfigError(RuntimeError):
    """The environment cannot run the registry; the message says what to set."""


@dataclasses.dataclass(frozen=True)
class Config:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = DEFAULT_BASE_URL
    secret_key: bytes = b""
    email_enc_key: bytes = b""
    signing_key: bytes = b""  # Ed25519 private key (32-byte seed); see api/signing.py
    stripe_secret_key: str = LOCAL_STRIPE_KEY
    stripe_webhook_secret: str = ""
    stripe_price_id: str | None = None
    amendment_price_id: str | None = None  # GHOSTSHELL_AMENDMENT_PRICE_ID; unset: rules.AMENDMENT_PRICE_CENTS
    stripe_api_base: str | None = None
    resend_api_key: str | None = None
    resend_from_email: str = "GhostShell Registry <registry@localhost>"
    resend_api_base: str = "https://api.resend.com"
    ops_secret: str | None = None
    test_checkout: bool = False
    local_doubles: bool = False
    rate_limit_enabled: bool = True
    rate_limits: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_limit_storage: str = "memory://"
    trusted_proxy: str | None = None
    # The built site (python build.py): the record page's shell for share previews (api/share.py).
    site_dir: str = str(REPO_ROOT / "output")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        dev_keys_path: Path | None = None,
        default_base_url: str = DEFAULT_BASE_URL,
    ) -> Config:
        """The configuration from `environ` (default: the process environment). `default_base_url` is the origin
        when BASE_URL is not set (`serve` passes the address it listens on)."""
        environ = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        env = (get("GHOSTSHELL_ENV") or "development").lower()
        if env not in ("development", "production"):
            raise ConfigError("GHOSTSHELL_ENV must be 'development' or 'production'.")
        production = env == "production"

        if production:
            missing = [name for name in PRODUCTION_REQUIRED if not get(name)]
            if missing:
                raise ConfigError("GHOSTSHELL_ENV=production needs these settings: " + ", ".join(missing) + ".")
        test_checkout = _flag(get("GHOSTSHELL_TEST_CHECKOUT"))
        if production and test_checkout:
            raise ConfigError(
                "GHOSTSHELL_TEST_CHECKOUT=1 is refused in production: it would issue certificates without payment."
            )

        if test_checkout and (get("STRIPE_SECRET_KEY") or "").startswith(LIVE_KEY_PREFIXES):
            # Whatever the environment is called: a live key means real money, and the test checkout issues
            # certificates without it.
            raise ConfigError(
                "GHOSTSHELL_TEST_CHECKOUT=1 is refused with a live Stripe key (sk_live_/rk_live_): it would issue "
                "certificates without payment."
            )

        base_url = (get("BASE_URL") or default_base_url).rstrip("/")
        dev_keys = {} if production else _dev_keys(dev_keys_path or DEV_KEYS_PATH)

        stripe_key = get("STRIPE_SECRET_KEY")
        resend_key = get("RESEND_API_KEY")
        local_doubles = not production and stripe_key is None

        stripe_api_base = get("STRIPE_API_BASE")
        resend_api_base = get("RESEND_API_BASE")
        if local_doubles:
            stripe_key = LOCAL_STRIPE_KEY
            stripe_api_base = stripe_api_base or base_url + STRIPE_DOUBLE_PREFIX
            if resend_key is None:
                resend_key = LOCAL_RESEND_KEY
                resend_api_base = resend_api_base or base_url + RESEND_DOUBLE_PREFIX

        rate_limits = dict(DEFAULT_RATE_LIMITS)
        for bucket in rate_limits:
            override = get("GHOSTSHELL_RATE_LIMIT_" + bucket.upper())
            if override:
                rate_limits[bucket] = override

        return cls(
            env=env,
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            base_url=base_url,
            secret_key=_key_bytes("GHOSTSHELL_SECRET_KEY", get("GHOSTSHELL_SECRET_KEY") or dev_keys.get("secret_key")),
            email_enc_key=_aes_key(get("EMAIL_ENC_KEY") or dev_keys.get("email_enc_key")),
            signing_key=signing_key_bytes(get("GHOSTSHELL_SIGNING_KEY") or dev_keys.get("signing_key")),
            stripe_secret_key=stripe_key or "",  # production requires it (REQUIRED_IN_PRODUCTION)
            stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET") or dev_keys.get("stripe_webhook_secret", ""),
            stripe_price_id=get("STRIPE_PRICE_ID"),
            amendment_price_id=get("GHOSTSHELL_AMENDMENT_PRICE_ID"),
            stripe_api_base=stripe_api_base,
            resend_api_key=resend_key,
            resend_from_email=get("RESEND_FROM_EMAIL") or cls.resend_from_email,
            resend_api_base=(resend_api_base or cls.resend_api_base).rstrip("/"),
            ops_secret=get("OPS_SECRET"),
            test_checkout=test_checkout,
            local_doubles=local_doubles,
            rate_limit_enabled=(get("GHOSTSHELL_RATE_LIMIT") or "on").lower() != "off",
            rate_limits=rate_limits,
            rate_limit_storage=get("GHOSTSHELL_RATE_LIMIT_STORAGE") or "memory://",
            trusted_proxy=get("GHOSTSHELL_TRUSTED_PROXY"),
            site_dir=get("GHOSTSHELL_SITE_DIR") or cls.site_dir,
        )


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _key_bytes(name: str, value: str | None) -> bytes:
    if not value or len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 characters of random text.")
    return value.encode()


def _aes_key(value: str | None) -> bytes:
    if not value:
        raise ConfigError("EMAIL_ENC_KEY is required: 32 random bytes, base64-encoded.")
    try:
        key = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("EMAIL_ENC_KEY is not valid base64.") from exc
    if len(key) != 32:
        raise ConfigError("EMAIL_ENC_KEY must decode to exactly 32 bytes.")
    return key


def signing_key_bytes(value: str | None) -> bytes:
    """GHOSTSHELL_SIGNING_KEY: the Ed25519 private key as 32 bytes in base64, or as a `z3u2...` secretKeyMultibase."""
    if not value:
        raise ConfigError(
            "GHOSTSHELL_SIGNING_KEY is required: an Ed25519 private key, 32 random bytes, base64-encoded."
        )
    # 32 bytes in base64 are 44 characters ending in "=", so a base64 key that happens to start with "z" is not
    # mistaken for a multibase one.
    if value.startswith("z") and not value.endswith("="):
        from .verifier import private_key_from_multibase

        try:
            return private_key_from_multibase(value)
        except ValueError as exc:
            raise ConfigError(f"GHOSTSHELL_SIGNING_KEY: {exc}.") from exc
    try:
        key = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("GHOSTSHELL_SIGNING_KEY is not valid base64.") from exc
    if len(key) != 32:
        raise ConfigError("GHOSTSHELL_SIGNING_KEY must decode to exactly 32 bytes.")
    return key


def new_signing_key_text() -> str:
    """A fresh value for GHOSTSHELL_SIGNING_KEY."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_dev_keys() -> dict:
    return {
        "secret_key": secrets.token_urlsafe(48),
        "email_enc_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "stripe_webhook_secret": "whsec_" + secrets.token_urlsafe(32),
        "signing_key": new_signing_key_text(),
    }


def _written(path: Path, keys: dict) -> Path:
    """The keys in a new file beside `path`, private from its first byte (mkstemp makes it 0600) and on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(keys, indent=2))
        file.flush()
        os.fsync(file.fileno())
    return Path(name)


def _write_dev_keys(path: Path, keys: dict) -> None:
    """Replace the key file whole: a reader sees the old file or the new one, never part of one."""
    temporary = _written(path, keys)
    try:
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _dev_keys(path: Path) -> dict:
    """Development keys, made once and kept so that restarts can still read what earlier runs stored. A key file
    from an earlier release gains the keys it lacks (the signing key), and keeps the others. Processes starting at
    once (the server and a CLI command, say) agree: the first file made wins, the others read it."""
    if not path.exists():
        keys = _new_dev_keys()
        temporary = _written(path, keys)
        try:
            os.link(temporary, path)  # fails if another process made the file first
            return keys
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    keys = json.loads(path.read_text())
    missing = {name: value for name, value in _new_dev_keys().items() if name not in keys}
    if missing:
        keys.update(missing)
        _write_dev_keys(path, keys)
    return keys


def save_dev_signing_key(seed: bytes, path: Path | None = None) -> None:
    """Development rotation (`admin rotate-signing-key`): the new private key replaces the old one in var/."""
    path = path or DEV_KEYS_PATH
    keys = _dev_keys(path)
    keys["signing_key"] = base64.b64encode(seed).decode()
    _write_dev_keys(path, keys)
