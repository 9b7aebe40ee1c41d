"""Configuration rules and the token/hash/encryption primitives."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidTag

from api.config import Config, ConfigError
from api.crypto import CROCKFORD, Keyring, crockford, new_token, normalize_token

PRODUCTION = {
    "GHOSTSHELL_ENV": "production",
    "BASE_URL": "https://ghostshell.example",
    "DATABASE_URL": "postgresql://db/x",
    "GHOSTSHELL_SECRET_KEY": "s" * 40,
    "EMAIL_ENC_KEY": base64.b64encode(bytes(32)).decode(),
    "GHOSTSHELL_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "RESEND_API_KEY": "re_abc",
    "RESEND_FROM_EMAIL": "Registry <registry@ghostshell.example>",
}


def test_production_names_every_missing_secret():
    with pytest.raises(ConfigError) as error:
        Config.from_env({"GHOSTSHELL_ENV": "production", "BASE_URL": "https://x"})
    for name in (
        "GHOSTSHELL_SECRET_KEY",
        "EMAIL_ENC_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "RESEND_API_KEY",
        "DATABASE_URL",
    ):
        assert name in str(error.value)


def test_production_config_uses_real_services():
    config = Config.from_env(PRODUCTION)
    assert config.production and not config.local_doubles and config.stripe_api_base is None
    assert config.resend_api_base == "https://api.resend.com"
    with pytest.raises(ConfigError, match="32 bytes"):
        Config.from_env({**PRODUCTION, "EMAIL_ENC_KEY": base64.b64encode(bytes(16)).decode()})


def test_development_makes_and_keeps_local_keys(tmp_path):
    path = tmp_path / "var" / "dev-keys.json"
    first = Config.from_env({}, dev_keys_path=path)
    second = Config.from_env({}, dev_keys_path=path)
    assert first.secret_key == second.secret_key and first.email_enc_key == second.email_enc_key
    assert len(first.email_enc_key) == 32 and json.loads(path.read_text())["stripe_webhook_secret"].startswith("whsec_")
    assert first.local_doubles and first.stripe_api_base == "http://127.0.0.1:8000/_stripe"
    assert first.resend_api_base == "http://127.0.0.1:8000/_mail"
    assert first.test_checkout is False


def test_rate_limits_are_configurable(tmp_path):
    config = Config.from_env(
        {"GHOSTSHELL_RATE_LIMIT": "off", "GHOSTSHELL_RATE_LIMIT_LOOKUP": "5/second"}, dev_keys_path=tmp_path / "k.json"
    )
    assert config.rate_limit_enabled is False and config.rate_limits["lookup"] == "5/second"


def test_tokens_have_120_random_bits_and_a_forgiving_input_form():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert token.startswith("GSTK-") and len(token) == 29 and set(token[5:]) <= set(CROCKFORD)
    token = "GSTK-7K3M9QX2VD4N8PRT6WHJ0BCY"
    for pasted in (
        " gstk-7k3m9qx2vd4n8prt6whj0bcy ",
        "GSTK 7K3M-9QX2-VD4N-8PRT-6WHJ-0BCY",
        "GSTK-7K3M9QX2VD4N8PRT6WHJOBCY",
    ):
        assert normalize_token(pasted) == token
    for bad in ("", "GSTK-123", "XXXX-7K3M9QX2VD4N8PRT6WHJ0BCY", "GSTK-7K3M9QX2VD4N8PRT6WHJ0BCU", None, "G" * 500):
        assert normalize_token(bad) is None
    assert [crockford(n) for n in (0, 1, 17, 31, 32)] == ["0", "1", "H", "Z", "10"]


def test_hashes_are_keyed_and_sealing_is_bound_to_its_purpose():
    a = Keyring(b"a" * 32, bytes(32))
    b = Keyring(b"b" * 32, bytes(32))
    assert a.token_hash("GSTK-X") != b.token_hash("GSTK-X")
    assert a.email_hash(" Me@Example.com ") == a.email_hash("me@example.com")
    sealed = a.seal("email", "me@example.com")
    assert "me@example.com" not in sealed and a.open("email", sealed) == "me@example.com"
    assert a.seal("email", "me@example.com") != sealed  # fresh nonce each time
    with pytest.raises(InvalidTag):
        a.open("token", sealed)
    binding = a.new_binding()
    copy = a.seal_for_binding(binding, "GSTK-SECRET")
    assert a.open_for_binding(binding, copy) == "GSTK-SECRET"
    with pytest.raises(InvalidTag):
        a.open_for_binding(a.new_binding(), copy)


def test_a_base64_signing_key_starting_with_z_is_read_as_base64():
    from api.config import signing_key_bytes

    seed = base64.b64decode("z" + "A" * 42 + "=")
    assert signing_key_bytes(base64.b64encode(seed).decode()) == seed


def test_processes_starting_at_once_agree_on_the_development_keys(tmp_path):
    import stat
    import threading

    from api import config

    path = tmp_path / "var" / "dev-keys.json"
    start = threading.Barrier(8)
    seen: list[dict] = []

    def first_run():
        start.wait()
        seen.append(config._dev_keys(path))

    threads = [threading.Thread(target=first_run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(keys == seen[0] for keys in seen)  # one set of keys, whoever came first
    assert json.loads(path.read_text()) == seen[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["dev-keys.json"]  # no temporary file left behind
