"""Registry signing keys: configuration, did:web, the DID document, rotation and its hook."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import api.config
from api import cli
from api.config import Config, ConfigError
from api.models import SigningKey
from api.signing import KeyChange, SigningKeyError, SigningKeys, did_web, public_multikey
from api.verifier import public_key_from_multikey

from .test_config_crypto import PRODUCTION

# TestVectors/keyPair.json of https://github.com/w3c/vc-di-eddsa (the key of the eddsa-jcs-2022 vectors).
W3C_PUBLIC_MULTIKEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_SECRET_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://registry.test", "did:web:registry.test"),
        ("https://Registry.Example/", "did:web:registry.example"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
        ("http://localhost:41234", "did:web:localhost%3A41234"),
    ],
)
def test_the_issuer_is_did_web_of_the_base_url_with_the_port_percent_encoded(url, did):
    assert did_web(url) == did


def test_production_requires_the_signing_key():
    environ = {k: v for k, v in PRODUCTION.items() if k != "GHOSTSHELL_SIGNING_KEY"}
    with pytest.raises(ConfigError, match="GHOSTSHELL_SIGNING_KEY"):
        Config.from_env(environ)


def test_the_signing_key_is_read_as_base64_or_as_a_secret_key_multibase():
    seed = bytes(range(100, 132))
    config = Config.from_env({**PRODUCTION, "GHOSTSHELL_SIGNING_KEY": base64.b64encode(seed).decode()})
    assert config.signing_key == seed
    config = Config.from_env({**PRODUCTION, "GHOSTSHELL_SIGNING_KEY": W3C_SECRET_MULTIBASE})
    assert public_multikey(config.signing_key) == W3C_PUBLIC_MULTIKEY
    for bad in (base64.b64encode(bytes(31)).decode(), "not base64 at all!", "z6MkNotAPrivateKey"):
        with pytest.raises(ConfigError, match="GHOSTSHELL_SIGNING_KEY"):
            Config.from_env({**PRODUCTION, "GHOSTSHELL_SIGNING_KEY": bad})


def test_development_makes_a_signing_key_and_adds_one_to_an_older_key_file(tmp_path):
    path = tmp_path / "dev-keys.json"
    first = Config.from_env({}, dev_keys_path=path)
    assert len(first.signing_key) == 32
    assert Config.from_env({}, dev_keys_path=path).signing_key == first.signing_key
    older = json.loads(path.read_text())
    del older["signing_key"]
    path.write_text(json.dumps(older))
    upgraded = Config.from_env({}, dev_keys_path=path)
    assert len(upgraded.signing_key) == 32 and upgraded.secret_key == first.secret_key
    assert json.loads(path.read_text())["email_enc_key"] == older["email_enc_key"]


def test_the_first_key_is_registered_on_first_use_and_signs(ctx):
    keys = ctx.signing_keys
    assert SigningKey.select().count() == 0
    current = keys.current()
    assert current.current and current.public_key_multibase.startswith("z6Mk")
    assert current.public_key_multibase == public_multikey(ctx.config.signing_key)
    assert keys.verification_method() == "did:web:registry.test#" + current.public_key_multibase
    signature = keys.sign(b"archival")
    Ed25519PublicKey.from_public_bytes(public_key_from_multikey(current.public_key_multibase)).verify(
        signature, b"archival"
    )
    assert keys.public_key() == public_key_from_multikey(current.public_key_multibase)
    assert keys.lookup(keys.verification_method()) == current
    assert keys.lookup("did:web:elsewhere.test#" + current.public_key_multibase) is None
    assert SigningKey.select().count() == 1


def test_did_document_lists_every_key_as_a_multikey_under_assertion_method(client, ctx, clock):
    first = ctx.signing_keys.current()
    clock.advance(days=3)
    second = ctx.signing_keys.rotate_to(bytes(range(64, 96)))
    result = client.simulate_get("/.well-known/did.json")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/did+json")
    assert result.headers["access-control-allow-origin"] == "*"
    assert "public" in result.headers["cache-control"]
    document = json.loads(result.text)
    assert document["id"] == "did:web:registry.test"
    assert document["@context"][:2] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    methods = {m["publicKeyMultibase"]: m for m in document["verificationMethod"]}
    assert set(methods) == {first.public_key_multibase, second.public_key_multibase}
    for key, method in methods.items():
        assert method == {
            **method,
            "id": f"did:web:registry.test#{key}",
            "type": "Multikey",
            "controller": "did:web:registry.test",
        }
        assert method["id"] in document["assertionMethod"]
    retired = methods[first.public_key_multibase]
    assert retired["validUntil"] == methods[second.public_key_multibase]["validFrom"]
    assert retired["validFrom"] < retired["validUntil"]
    assert "validUntil" not in methods[second.public_key_multibase]


def test_rotation_retires_the_key_and_the_old_configuration_can_no_longer_sign(ctx, clock):
    old = ctx.signing_keys.current()
    clock.advance(hours=1)
    new_seed = bytes(range(64, 96))
    new = ctx.signing_keys.rotate_to(new_seed)
    published = ctx.signing_keys.published()
    assert [k.public_key_multibase for k in published] == [old.public_key_multibase, new.public_key_multibase]
    assert published[0].valid_until == clock.now and not published[0].current
    assert published[0].valid_at(old.valid_from)
    assert not published[0].valid_at(clock.now)
    with pytest.raises(SigningKeyError, match="retired"):
        ctx.signing_keys.sign(b"x")
    restarted = SigningKeys(ctx.db, new_seed, ctx.signing_keys.did, clock)
    assert restarted.current() == published[1]
    with pytest.raises(SigningKeyError, match="already been used"):
        restarted.rotate_to(ctx.config.signing_key)


def test_an_unregistered_key_cannot_sign_while_another_is_current(ctx, clock):
    ctx.signing_keys.current()
    stranger = SigningKeys(ctx.db, bytes(range(200, 232)), ctx.signing_keys.did, clock)
    with pytest.raises(SigningKeyError, match="rotate-signing-key"):
        stranger.sign(b"x")
    with pytest.raises(SigningKeyError, match="No signing key"):
        SigningKeys(ctx.db, b"", ctx.signing_keys.did, clock).current()


def test_rotation_hooks_run_inside_the_rotation_transaction(ctx, clock):
    seen: list[KeyChange] = []
    ctx.signing_keys.on_change.append(seen.append)
    first = ctx.signing_keys.current()
    assert seen[0].retired is None and seen[0].current == first
    clock.advance(minutes=5)
    second = ctx.signing_keys.rotate_to(bytes(range(64, 96)))
    assert seen[1].retired.public_key_multibase == first.public_key_multibase and seen[1].current == second

    def fail(change):
        raise RuntimeError("log unavailable")

    ctx.signing_keys.on_change.append(fail)
    restarted = SigningKeys(ctx.db, bytes(range(64, 96)), ctx.signing_keys.did, clock, on_change=[fail])
    with pytest.raises(RuntimeError):
        restarted.rotate_to(bytes(range(96, 128)))
    assert [k.public_key_multibase for k in restarted.published()] == [
        first.public_key_multibase,
        second.public_key_multibase,
    ]
    assert restarted.current() == second


def test_admin_rotate_signing_key_in_development(db, database_url, tmp_path, monkeypatch, capsys):
    key_file = tmp_path / "dev-keys.json"
    monkeypatch.setattr(api.config, "DEV_KEYS_PATH", key_file)
    for name in ("STRIPE_SECRET_KEY", "RESEND_API_KEY", "GHOSTSHELL_SIGNING_KEY", "GHOSTSHELL_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BASE_URL", "https://registry.test")
    db.close()

    assert cli.main(["admin", "rotate-signing-key"]) == 0
    first_rotation = json.loads(key_file.read_text())["signing_key"]
    assert cli.main(["admin", "rotate-signing-key"]) == 0
    second_rotation = json.loads(key_file.read_text())["signing_key"]
    assert first_rotation != second_rotation
    out = capsys.readouterr().out
    assert "Retired: z6Mk" in out

    db.connect(reuse_if_open=True)
    rows = list(SigningKey.select().order_by(SigningKey.id))
    assert len(rows) == 3
    assert [row.valid_until is None for row in rows] == [False, False, True]
    assert rows[-1].public_key_multibase == public_multikey(base64.b64decode(second_rotation))


def test_admin_new_signing_key_prints_a_usable_key(capsys):
    assert cli.main(["admin", "new-signing-key"]) == 0
    printed = capsys.readouterr().out.strip()
    assert len(base64.b64decode(printed)) == 32
    assert Config.from_env({**PRODUCTION, "GHOSTSHELL_SIGNING_KEY": printed}).signing_key == base64.b64decode(printed)


def test_admin_rotate_signing_key_in_production_makes_the_configured_key_current(
    ctx, db, database_url, monkeypatch, capsys
):
    first = ctx.signing_keys.current()
    new_seed = bytes(range(64, 96))
    for name, value in {**PRODUCTION, "DATABASE_URL": database_url, "BASE_URL": "https://registry.test"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GHOSTSHELL_SIGNING_KEY", base64.b64encode(new_seed).decode())
    db.close()

    assert cli.main(["admin", "rotate-signing-key"]) == 0
    assert f"Retired: {first.public_key_multibase}" in capsys.readouterr().out
    assert cli.main(["admin", "rotate-signing-key"]) == 1
    assert "already the current key" in capsys.readouterr().err

    db.connect(reuse_if_open=True)
    assert [k.public_key_multibase for k in ctx.signing_keys.published()] == [
        first.public_key_multibase,
        public_multikey(new_seed),
    ]
