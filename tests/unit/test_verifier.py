"""The standalone verifier (api/verifier.py): encodings, the W3C eddsa-jcs-2022 test vector, the command line."""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api import verifier
from api.verifier import TrustedKey, verify_credential

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
SIGNED_TEXT = (VECTORS / "signedJCS.json").read_text()
KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text())
W3C_KEY = KEY_PAIR["publicKeyMultibase"]
NOW = dt.datetime(2026, 11, 25, 10, 0, 0)


def run(*argv) -> tuple[int, str]:
    out = io.StringIO()
    return verifier.main(list(argv), out=out), out.getvalue()


def test_the_module_imports_nothing_of_the_server():
    tree = ast.parse(Path(verifier.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the verifier stands alone"
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "argparse",
        "base64",
        "dataclasses",
        "datetime",
        "gzip",
        "hashlib",
        "io",
        "json",
        "sys",
        "urllib",
        "zlib",
        "rfc8785",
        "cryptography",
    }, imported


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"", ""), (b"\0", "1"), (b"\0\0\x01", "112"), (b"hello world", "StV1DL6CwTryKyV"), (bytes([0xFF] * 4), "7YXq9G")],
)
def test_base58btc(data, text):
    assert verifier.b58encode(data) == text
    assert verifier.b58decode(text) == data


def test_multikey_of_the_w3c_key_pair():
    public = verifier.public_key_from_multikey(W3C_KEY)
    seed = verifier.private_key_from_multibase(KEY_PAIR["privateKeyMultibase"])
    assert Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw() == public
    assert verifier.multikey(public) == W3C_KEY and W3C_KEY.startswith("z6Mk")
    for bad in ("6Mk", "z" + verifier.b58encode(b"\xed\x01" + bytes(31)), "z0OIl"):
        with pytest.raises(ValueError):
            verifier.public_key_from_multikey(bad)


def test_the_w3c_eddsa_jcs_2022_vector_verifies():
    document = json.loads(SIGNED_TEXT)
    report = verify_credential(document, [TrustedKey(W3C_KEY)], now=NOW)
    assert report.valid, report.checks
    assert [c.name for c in report.checks if c.ok] == ["format", "key", "signature", "validity period"]
    # The specification's intermediate value: the document hash is the second half of hashData.
    assert (
        verifier.hash_data(document, document["proof"])
        .hex()
        .endswith("59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19")
    )
    assert run(str(VECTORS / "signedJCS.json"), "--key", W3C_KEY)[0] == 0


def _flip(char: str) -> str:
    if char.isdigit():
        return "0" if char != "0" else "1"
    if char.isalpha():
        return "a" if char.lower() != "a" else "b"
    return "x" if char != "x" else "y"


def test_any_one_character_change_to_the_vector_is_rejected():
    """Every character that is not insignificant whitespace, changed: the result is not JSON, or does not verify.
    (Whitespace between tokens is not part of the signed data: JCS canonicalises it away, checked last.)"""
    positions = [i for i, char in enumerate(SIGNED_TEXT) if not char.isspace()]
    assert len(positions) > 700
    for position in positions:
        text = SIGNED_TEXT[:position] + _flip(SIGNED_TEXT[position]) + SIGNED_TEXT[position + 1 :]
        try:
            document = json.loads(text)
        except ValueError:
            continue  # not JSON: the command line refuses it (tested below)
        report = verify_credential(document, [TrustedKey(W3C_KEY)], now=NOW)
        assert not report.valid, f"a change at {position} ({SIGNED_TEXT[position]!r}) still verifies"
    spaced = SIGNED_TEXT.replace('": "', '":  "')
    assert verify_credential(json.loads(spaced), [TrustedKey(W3C_KEY)], now=NOW).valid


def test_the_command_line_exit_codes(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(SIGNED_TEXT)
    assert run(str(good), "--key", W3C_KEY)[0] == 0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(SIGNED_TEXT.replace("The School of Examples", "The School of Exampler"))
    code, out = run(str(tampered), "--key", W3C_KEY)
    assert code == 1 and "FAIL  signature" in out and out.strip().endswith("result: invalid")
    other_key = verifier.multikey(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    code, out = run(str(good), "--key", other_key)
    assert code == 1 and "not among the trusted keys" in out
    not_json = tmp_path / "broken.json"
    not_json.write_text(SIGNED_TEXT[:-2])
    assert run(str(not_json), "--key", W3C_KEY)[0] == 2
    assert run(str(good))[0] == 2  # no keys
    assert run(str(good), "--key", "z6MkNotAKey")[0] == 2
    assert run(str(tmp_path / "missing.json"), "--key", W3C_KEY)[0] == 2
    assert run("--id", "GS-BC-H-26-1")[0] == 2  # online mode needs --base too
    with pytest.raises(SystemExit) as exited:
        run("--no-such-option")
    assert exited.value.code == 2


def test_a_proof_created_outside_the_key_period_fails():
    document = json.loads(SIGNED_TEXT)
    created = verifier.parse_time(document["proof"]["created"])
    vm = document["proof"]["verificationMethod"]
    inside = TrustedKey(W3C_KEY, vm, created - dt.timedelta(days=1), created + dt.timedelta(days=1))
    assert verify_credential(document, [inside], now=NOW).valid
    retired_before = TrustedKey(W3C_KEY, vm, created - dt.timedelta(days=9), created)
    report = verify_credential(document, [retired_before], now=NOW)
    assert report.status == "invalid"
    assert [c for c in report.checks if c.name == "key valid at issuance"][0].ok is False
    not_yet = TrustedKey(W3C_KEY, vm, created + dt.timedelta(seconds=1), None)
    assert verify_credential(document, [not_yet], now=NOW).status == "invalid"


def test_bitstrings():
    bits = bytearray(verifier.STATUS_LIST_MIN_BITS // 8)
    bits[0] = 0x80
    bits[1] = 0x01
    decoded = verifier.decode_bitstring(verifier.encode_bitstring(bytes(bits)))
    assert decoded == bytes(bits)
    assert verifier.bit_at(decoded, 0) and verifier.bit_at(decoded, 15)
    assert not verifier.bit_at(decoded, 1) and not verifier.bit_at(decoded, 8)
    with pytest.raises(IndexError):
        verifier.bit_at(decoded, len(decoded) * 8)


def test_a_missing_status_list_is_skipped_offline_and_fails_when_required():
    document = json.loads(SIGNED_TEXT)
    document["credentialStatus"] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "3",
        "statusListCredential": "https://elsewhere.example/status",
    }
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    seed = verifier.private_key_from_multibase(KEY_PAIR["privateKeyMultibase"])
    signed = verifier.add_proof(
        unsigned,
        Ed25519PrivateKey.from_private_bytes(seed).sign,
        verification_method=document["proof"]["verificationMethod"],
        created="2023-02-24T23:36:38Z",
    )
    offline = verify_credential(signed, [TrustedKey(W3C_KEY)], now=NOW)
    assert offline.valid and [c.ok for c in offline.checks if c.name.startswith("status")] == [None]
    online = verify_credential(signed, [TrustedKey(W3C_KEY)], now=NOW, require_status=True)
    assert online.status == "invalid" and [c.ok for c in online.checks if c.name.startswith("status")] == [False]


# -- canonical JSON: the fast path and the one-pass signature ----------------------------------------------------

_AWKWARD_TEXT = [
    "",
    "plain",
    'quote " and \\ backslash',
    "\b\f\n\r\t",
    "\x00\x01\x1f\x7f",
    "é ü ß",
    "\u2028\u2029",
    "\ufeff",
    "😀 \U0010ffff",
    "<script>&amp;</script>",
]


@pytest.mark.parametrize("text", _AWKWARD_TEXT)
def test_jcs_fast_path_writes_what_rfc8785_writes(text):
    import rfc8785

    value = {"z": text, "a": [text, 0, -(2**53) + 1, 2**53 - 1, True, False, None, {"b": text, "A": {}}], "k": []}
    assert verifier._plain(value)
    assert verifier.jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [{"n": 1.5}, {"n": 2**53}, {"é": 1, "e": 2}, {"\U0001f600": 1, "\uffff": 2}, {"s": "\ud800"}, {"t": (1, 2)}],
)
def test_jcs_takes_the_general_path_for_what_json_dumps_would_write_otherwise(value):
    import rfc8785

    assert not verifier._plain(value) or value == {"s": "\ud800"}  # a lone surrogate fails at encoding instead
    try:
        expected = rfc8785.dumps(value)
    except Exception as exc:  # a lone surrogate, for one: both refuse it
        with pytest.raises(type(exc)):
            verifier.jcs(value)
    else:
        assert verifier.jcs(value) == expected


def test_sign_canonical_returns_the_signed_document_and_its_canonical_json():
    document = json.loads(SIGNED_TEXT)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    unsigned["credentialSubject"] = {**unsigned.get("credentialSubject", {}), "note": "é \n 😀", "count": 7}
    seed = verifier.private_key_from_multibase(KEY_PAIR["privateKeyMultibase"])
    signed, canonical = verifier.sign_canonical(
        unsigned,
        Ed25519PrivateKey.from_private_bytes(seed).sign,
        verification_method=document["proof"]["verificationMethod"],
        created="2023-02-24T23:36:38Z",
    )
    assert canonical == verifier.jcs(signed)
    assert json.loads(canonical) == signed
    assert verify_credential(signed, [TrustedKey(W3C_KEY)], now=NOW).valid


def test_the_one_pass_signature_signs_what_hash_data_hashes():
    """Ed25519 is deterministic: the proof must be the signature of `hash_data` (the verifier's own hashing)."""
    document = json.loads(SIGNED_TEXT)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    sign = Ed25519PrivateKey.from_private_bytes(
        verifier.private_key_from_multibase(KEY_PAIR["privateKeyMultibase"])
    ).sign
    signed = verifier.add_proof(
        unsigned,
        sign,
        verification_method=document["proof"]["verificationMethod"],
        created=document["proof"]["created"],
    )
    expected = "z" + verifier.b58encode(sign(verifier.hash_data(unsigned, signed["proof"])))
    assert signed["proof"]["proofValue"] == expected
