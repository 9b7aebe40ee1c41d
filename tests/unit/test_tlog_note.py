"""C2SP signed-note and tlog-checkpoint (api/tlog/note.py).

Vectors: golang/mod, sumdb/note/note_test.go (commit 02c991387e35f9e4c0a9b7ce137717055f8d716d), the reference
implementation the C2SP signed-note specification was written from: the PeterNeumann signer and verifier keys, the
EnochRoot verifier key, and the two signature lines over the same text, copied below.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.tlog import note

PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def peter_signer() -> note.Signer:
    parts = PETER_SIGNER_KEY.split("+", 4)  # the base64 part may hold "+"
    raw = base64.b64decode(parts[4])
    assert raw[0] == note.ED25519
    return note.Signer.from_private_key(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))


def test_signer_reproduces_the_published_verifier_key_and_key_hash():
    signer = peter_signer()
    assert signer.verifier.encode() == PETER_VERIFIER_KEY
    assert signer.verifier.key_hash.hex() == "c74f20a3"


def test_signing_reproduces_the_published_signed_note():
    assert note.sign(TEXT, peter_signer()) == TEXT + "\n" + PETER_SIG


def test_open_verifies_the_published_note_and_ignores_unknown_keys():
    peter = note.Verifier.parse(PETER_VERIFIER_KEY)
    enoch = note.Verifier.parse(ENOCH_VERIFIER_KEY)
    text, sigs = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert text == TEXT and [s.name for s in sigs] == ["PeterNeumann"]
    _, both = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert [s.name for s in both] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(note.NoteError, match="no signature by a known key"):
        note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_a_tampered_text_or_signature_is_rejected():
    peter = note.Verifier.parse(PETER_VERIFIER_KEY)
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(TEXT.replace("answer", "answes") + "\n" + PETER_SIG, [peter])
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(note.NoteError):
        note.open_note(TEXT + "\n" + broken, [peter])


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_rejected(message):
    with pytest.raises(note.NoteError):
        note.open_note(message, [note.Verifier.parse(PETER_VERIFIER_KEY)])


def test_mangled_verifier_keys_are_rejected():
    note.Verifier.parse(PETER_VERIFIER_KEY)
    mangled = [
        PETER_VERIFIER_KEY[:-1],
        PETER_VERIFIER_KEY[1:],
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length (from the Go test)
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm (from the Go test)
    ]
    raw = bytearray(PETER_VERIFIER_KEY.encode())
    for i in range(len(raw)):
        raw[i] += 1
        mangled.append(raw.decode("latin-1"))
        raw[i] -= 1
    for key in mangled:
        with pytest.raises(note.NoteError):
            note.Verifier.parse(key)


def test_checkpoint_text_round_trips_and_is_checked():
    checkpoint = note.Checkpoint("registry.example/log", 12, bytes(range(32)))
    text = checkpoint.text()
    assert text == "registry.example/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert note.Checkpoint.parse(text) == checkpoint
    for bad in [
        "registry.example/log\n12\n",
        "registry.example/log\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "registry.example/log\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "registry.example/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
        "\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "registry.example/log\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ]:
        with pytest.raises(note.NoteError):
            note.Checkpoint.parse(bad)


def test_signed_checkpoint_verifies_and_a_forged_one_does_not():
    signer = note.Signer.from_private_key("registry.example/log", Ed25519PrivateKey.generate())
    other = note.Signer.from_private_key("registry.example/log", Ed25519PrivateKey.generate())
    checkpoint = note.Checkpoint("registry.example/log", 3, bytes(32))
    signed = note.sign_checkpoint(checkpoint, signer)
    assert note.open_checkpoint(signed, [signer.verifier], origin="registry.example/log") == checkpoint
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed, [signer.verifier], origin="elsewhere.example/log")
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed.replace("\n3\n", "\n4\n"), [signer.verifier])
    forged = note.sign_checkpoint(checkpoint, other)
    with pytest.raises(note.NoteError):
        note.open_checkpoint(forged, [signer.verifier])  # same name, different key: key hash differs
    sig_line = signed.split("\n\n")[1]
    name, payload = sig_line[2:].split(" ")
    raw = bytearray(base64.b64decode(payload))
    raw[10] ^= 1
    tampered = signed.split("\n\n")[0] + "\n\n\u2014 " + name + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_checkpoint(tampered, [signer.verifier])
