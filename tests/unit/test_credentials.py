"""Signed credentials per certificate version, their status lists, verification, badge and QR code."""

from __future__ import annotations

import copy
import io
import json
import string
import urllib.request
from pathlib import Path

import falcon.testing
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import badges, certificates, credentials, definition, signing, verifier
from api.app import create_app
from api.context import Context
from api.models import Certificate, CredentialVersion, Purchase
from api.verifier import TrustedKey, verify_credential
from dev.serving import ServedApp

from .support import BASE_URL, FIXED_NOW, assert_error, correct, submission

pytestmark = pytest.mark.usefixtures("fixed_clock")

PUBLIC_ID = "GS-BC-H-26-1"


def did_document(client) -> dict:
    return json.loads(client.simulate_get("/.well-known/did.json").text)


def registry_keys(client) -> list[TrustedKey]:
    return verifier.keys_from_did_document(did_document(client))


def status_lists(client) -> list[dict]:
    return [client.simulate_get(f"/api/cert/status/{purpose}").json for purpose in ("revocation", "refresh")]


def check(client, document, *, now=None):
    return verify_credential(
        document, registry_keys(client), status_lists(client), issuer="did:web:registry.test", now=now or FIXED_NOW
    )


def test_issuance_makes_a_signed_vc_2_credential_of_the_public_view(client, ctx, issued):
    token, cert = issued()
    result = client.simulate_get("/api/cert/credential", params={"id": "gs-bc-h-26-1"})
    assert result.status_code == 200
    assert result.headers["access-control-allow-origin"] == "*"
    document = result.json
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert document["type"] == ["VerifiableCredential", "AgentBirthCertificate"]
    assert document["id"] == f"{BASE_URL}/api/cert/credential?id={PUBLIC_ID}&version=1"
    assert document["issuer"] == {"id": "did:web:registry.test", "name": "GhostShell Registry"}
    assert document["validFrom"] == "2026-11-25T10:00:00Z"
    subject = document["credentialSubject"]
    lookup = client.simulate_get("/api/cert/lookup", params={"id": PUBLIC_ID}).json
    assert subject == {"id": lookup.pop("public_url"), **lookup}
    assert subject["public_fingerprint"] == cert.public_fingerprint and subject["record_hash"] == cert.record_hash
    assert [entry["statusPurpose"] for entry in document["credentialStatus"]] == ["revocation", "refresh"]
    for entry in document["credentialStatus"]:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListIndex"] == "0"
        assert entry["statusListCredential"] == f"{BASE_URL}/api/cert/status/{entry['statusPurpose']}"
    proof = document["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["created"] == "2026-11-25T10:00:00Z"
    assert proof["verificationMethod"] == ctx.signing_keys.verification_method()
    assert proof["proofValue"].startswith("z")
    report = check(client, document)
    assert report.valid, report.checks
    assert {c.name for c in report.checks if c.ok} >= {"signature", "key valid at issuance", "status (revocation)"}
    stored = CredentialVersion.get()
    assert (stored.version, stored.event, stored.certificate_id) == (1, "issue", cert.id)


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    else:
        yield path


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return "x"
    return value + "x" if value else "x"


def test_tampering_any_field_the_proof_options_or_the_key_fails(client, issued):
    issued(show_city_public=True, hide_state_public=False)
    document = client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    assert check(client, document).valid
    paths = [path for path in _leaf_paths(document)]
    assert ("proof", "created") in paths and ("credentialSubject", "location", "city") in paths
    for path in paths:
        tampered = copy.deepcopy(document)
        target = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _changed(target[path[-1]])
        assert not check(client, tampered).valid, path
    for removed in ("created", "verificationMethod", "proofPurpose", "cryptosuite", "type"):
        tampered = copy.deepcopy(document)
        del tampered["proof"][removed]
        assert not check(client, tampered).valid, removed
    added = copy.deepcopy(document)
    added["credentialSubject"]["custodian"] = "Someone"
    assert not check(client, added).valid
    stranger = Ed25519PrivateKey.generate()
    stranger_key = verifier.multikey(stranger.public_key().public_bytes_raw())
    assert not verify_credential(document, [TrustedKey(stranger_key)], now=FIXED_NOW).valid
    forged = verifier.add_proof(
        {k: v for k, v in document.items() if k != "proof"},
        stranger.sign,
        verification_method=document["proof"]["verificationMethod"],
        created=document["proof"]["created"],
    )
    report = check(client, forged)
    assert report.status == "invalid" and [c for c in report.checks if c.name == "signature"][0].ok is False


def test_a_retired_key_verifies_what_it_signed_while_active_and_nothing_after(client, ctx, issued, clock):
    issued()
    old_seed = ctx.config.signing_key
    signed_before = client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    clock.advance(days=30)
    ctx.signing_keys.rotate_to(bytes(range(64, 96)))
    rotated = Context.build(ctx.config.replace(signing_key=bytes(range(64, 96))), db=ctx.db, clock=clock)
    rotated_client = falcon.testing.TestClient(create_app(context=rotated))
    report = check(rotated_client, signed_before, now=clock.now)
    assert report.valid, report.checks
    period = [c for c in report.checks if c.name == "key valid at issuance"][0]
    assert period.ok and "until" in period.detail

    # The old private key, used after its retirement (a leaked key, say), signs nothing the registry vouches for.
    clock.advance(minutes=1)
    unsigned = {k: v for k, v in signed_before.items() if k != "proof"}
    late = verifier.add_proof(
        unsigned,
        Ed25519PrivateKey.from_private_bytes(old_seed).sign,
        verification_method=signed_before["proof"]["verificationMethod"],
        created=verifier._iso(clock.now),
    )
    report = check(rotated_client, late, now=clock.now)
    assert report.status == "invalid"
    assert [c for c in report.checks if c.name == "key valid at issuance"][0].ok is False

    # New versions are signed by the new key, and the status lists too.
    certificates.revoke(rotated, PUBLIC_ID, "refund")
    latest = rotated_client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    new_method = rotated.signing_keys.verification_method()
    assert latest["proof"]["verificationMethod"] == new_method != signed_before["proof"]["verificationMethod"]
    assert check(rotated_client, latest, now=clock.now).status == "revoked"


def test_a_correction_supersedes_and_a_revocation_revokes_every_version(client, ctx, issued, clock):
    token, _ = issued()
    first = client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    clock.advance(hours=1)
    assert correct(client, token, agent_name="Joule II").status_code == 200
    second = client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    assert second["credentialSubject"]["agent_name"] == "Joule II"
    assert second["id"].endswith("&version=2") and second["credentialStatus"][0]["statusListIndex"] == "1"
    assert client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID, "version": "1"}).json == first

    assert check(client, first, now=clock.now).status == "superseded"
    assert check(client, second, now=clock.now).status == "valid"
    answer = client.simulate_get("/api/cert/verify", params={"id": PUBLIC_ID, "version": "1"}).json
    assert (answer["valid"], answer["status"], answer["version"], answer["latest_version"]) == (
        False,
        "superseded",
        1,
        2,
    )

    clock.advance(hours=1)
    certificates.revoke(ctx, PUBLIC_ID, "refund")
    third = client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID}).json
    assert third["credentialSubject"] == {
        "id": f"{BASE_URL}/r/{PUBLIC_ID}",
        "public_id": PUBLIC_ID,
        "status": "revoked",
        "revoked_at": "2026-11-25T12:00:00Z",
    }
    for document in (first, second, third):
        assert check(client, document, now=clock.now).status == "revoked"
    assert_error(client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID, "version": "2"}), 410, "revoked")
    answer = client.simulate_get("/api/cert/verify", params={"id": PUBLIC_ID}).json
    assert (answer["valid"], answer["status"], answer["version"]) == (False, "revoked", 3)
    assert [row.event for row in CredentialVersion.select().order_by(CredentialVersion.version)] == [
        "issue",
        "correct",
        "revoke",
    ]


def test_the_status_lists_are_signed_bitstring_status_list_credentials(client, ctx, issued, clock):
    issued()
    certificates.revoke(ctx, PUBLIC_ID, "refund")
    for purpose in ("revocation", "refresh"):
        result = client.simulate_get(f"/api/cert/status/{purpose}")
        assert result.status_code == 200 and result.headers["access-control-allow-origin"] == "*"
        listing = result.json
        assert listing["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert listing["id"] == f"{BASE_URL}/api/cert/status/{purpose}"
        subject = listing["credentialSubject"]
        assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", purpose)
        bits = verifier.decode_bitstring(subject["encodedList"])
        assert len(bits) * 8 == 131072
        expected = purpose == "revocation"
        assert [verifier.bit_at(bits, i) for i in (0, 1, 2)] == [expected, expected, False]
        assert verify_credential(listing, registry_keys(client), issuer="did:web:registry.test").valid
    assert_error(client.simulate_get("/api/cert/status/suspension"), 404, "not_found")


def test_an_issuance_takes_the_next_status_index_without_rewriting_a_list(client, ctx, issued, clock):
    from api.models import StatusList

    issued()
    before = {row.purpose: (bytes(row.bits), row.updated_at) for row in StatusList.select()}
    assert set(before) == {"revocation", "refresh"} and all(len(bits) * 8 == 131072 for bits, _ in before.values())
    clock.advance(hours=1)
    for n in range(3):
        issued(f"holder{n}@example.com")
    indexes = [row.status_index for row in CredentialVersion.select().order_by(CredentialVersion.id)]
    assert indexes == [0, 1, 2, 3]  # consecutive, one per version
    assert {row.purpose: (bytes(row.bits), row.updated_at) for row in StatusList.select()} == before
    clock.advance(hours=1)
    certificates.revoke(ctx, "GS-BC-H-26-2", "refund")
    revocation = StatusList.get_by_id("revocation")
    assert revocation.updated_at == clock.now and verifier.bit_at(bytes(revocation.bits), 1)
    assert verifier.bit_at(bytes(revocation.bits), 4)  # the revocation's own version, index 4
    assert StatusList.get_by_id("refresh").updated_at == before["refresh"][1]


def test_the_lists_grow_when_their_indexes_run_out(client, ctx, issued):
    from api.models import StatusList

    issued()
    # Make the next index the last bit of the list, then the first bit past it.
    last = credentials.STATUS_LIST_BYTES * 8 - 1
    CredentialVersion.update(status_index=last - 1).execute()
    _, cert = issued("second@example.com")
    assert CredentialVersion.get(CredentialVersion.certificate == cert.id).status_index == last
    assert all(len(bytes(row.bits)) == credentials.STATUS_LIST_BYTES for row in StatusList.select())
    _, third = issued("third@example.com")
    assert CredentialVersion.get(CredentialVersion.certificate == third.id).status_index == last + 1
    assert all(len(bytes(row.bits)) == 2 * credentials.STATUS_LIST_BYTES for row in StatusList.select())
    certificates.revoke(ctx, third.public_id, "refund")
    document = client.simulate_get("/api/cert/credential", params={"id": third.public_id}).json
    assert check(client, document).status == "revoked"
    listing = client.simulate_get("/api/cert/status/revocation").json
    bits = verifier.decode_bitstring(listing["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == 2 * 131072 and verifier.bit_at(bits, last + 1) and not verifier.bit_at(bits, last)


def test_a_change_that_cannot_be_signed_is_not_made(client, ctx, paid_token, clock):
    """The credential is written in the transaction of the change: no key, no certificate."""
    ctx.signing_keys.current()
    clock.advance(minutes=1)
    ctx.signing_keys.rotate_to(bytes(range(64, 96)))  # the app's configured key is now retired
    token = paid_token()
    result = client.simulate_post("/api/cert/redeem-token", json=submission(token))
    assert_error(result, 503, "signing_unavailable")
    assert Certificate.select().count() == 0 and CredentialVersion.select().count() == 0
    assert Purchase.get().certificate_id is None


def test_verify_answers_in_the_documented_shape(client, issued):
    issued()
    answer = client.simulate_get("/api/cert/verify", params={"id": PUBLIC_ID})
    assert answer.status_code == 200
    body = answer.json
    assert body["valid"] is True and body["status"] == "valid" and body["public_id"] == PUBLIC_ID
    assert body["key"]["public_key_multibase"].startswith("z6Mk") and body["key"]["valid_until"] is None
    assert body["signed_at"] == "2026-11-25T10:00:00Z"
    assert {c["name"] for c in body["checks"]} >= {"signature", "key valid at issuance", "status (revocation)"}
    assert all(set(c) == {"name", "ok", "detail"} for c in body["checks"])
    assert_error(client.simulate_get("/api/cert/verify"), 400, "missing_id")
    assert_error(client.simulate_get("/api/cert/verify", params={"id": "GS-BC-H-26-9"}), 404, "not_found")
    assert_error(
        client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID, "version": "x"}),
        400,
        "invalid_field",
        "version",
    )
    assert_error(
        client.simulate_get("/api/cert/credential", params={"id": PUBLIC_ID, "version": "9"}), 404, "not_found"
    )


def test_badge_and_qr_code_are_svg(client, ctx, issued):
    issued()
    badge = client.simulate_get("/api/cert/badge.svg", params={"id": "gsbch261"})
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg+xml")
    assert "public" in badge.headers["cache-control"]
    assert badge.text.startswith("<svg") and f"{PUBLIC_ID} · valid" in badge.text
    qr = client.simulate_get("/api/cert/qr.svg", params={"id": PUBLIC_ID})
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text == badges.qr_svg(f"{BASE_URL}/r/{PUBLIC_ID}")
    for svg in (badge.text, qr.text):
        assert "<image" not in svg and "data:" not in svg and "<script" not in svg
    certificates.revoke(ctx, PUBLIC_ID, "refund")
    assert f"{PUBLIC_ID} · revoked" in client.simulate_get("/api/cert/badge.svg", params={"id": PUBLIC_ID}).text
    assert_error(client.simulate_get("/api/cert/badge.svg", params={"id": "GS-BC-H-26-9"}), 404, "not_found")
    assert_error(client.simulate_get("/api/cert/qr.svg"), 400, "missing_id")


def test_the_qr_code_encodes_the_public_record_url():
    import segno

    url = f"{BASE_URL}/r/{PUBLIC_ID}"
    svg = badges.qr_svg(url)
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, dark=badges.INK, light=None, xmldecl=False, lineclass=None)
    path = out.getvalue().decode().split(' d="', 1)[1].split('"', 1)[0]
    assert f' d="{path}"' in svg and code.error in ("M", "Q", "H")
    assert "escaped &lt;" in badges.badge_svg("escaped <", "valid")


# -- the credential never carries a private value ---------------------------------------------------------------

MARKER = st.text(alphabet=string.ascii_letters, min_size=6, max_size=24).map(lambda s: "Qz" + s)
# The definition's private fields, and its holder's-choice fields with their selectors set to hide them.
HIDDEN = [field for field in definition.private_fields()] + [
    field for field in definition.FIELDS if field.visibility is definition.Visibility.HOLDER
]


def _hiding_choices() -> dict:
    return {f.selector.field: not f.selector.shown_when for f in HIDDEN if f.selector is not None}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({f.name: MARKER for f in HIDDEN if f.kind is definition.Kind.TEXT}), email=MARKER)
def test_the_credential_never_contains_a_private_value(client, ctx, paid_token, values, email):
    """Property over the definition's private fields: whatever they hold (text fields get random marker text, the
    parent is another record), no credential version, no status list and no verification answer contains a
    private value or a private field's name; nor the nonce, the email or the token."""
    assert {f.name for f in HIDDEN} >= {"creator_label", "place_city", "place_state", "parent_record", "listed"}
    parent_token = paid_token(f"parent-{email.lower()}@example.com")
    parent_id = client.simulate_post("/api/cert/redeem-token", json=submission(parent_token)).json["public_id"]
    address = f"{email.lower()}@example.com"
    token = paid_token(address)
    body = {**submission(token), **values, **_hiding_choices(), "listed": True, "parent_record": parent_id}
    created = client.simulate_post("/api/cert/redeem-token", json=body)
    assert created.status_code == 201, created.text
    public_id = created.json["public_id"]
    assert correct(client, token, creator_label=values["creator_label"] + "Two").status_code == 200
    cert = Certificate.get(Certificate.public_id == public_id)
    assert cert.parent_record == parent_id
    secrets = [*values.values(), address, token, token[5:], cert.record_nonce, parent_id]
    names = {f.name for f in HIDDEN if f.visibility is definition.Visibility.PRIVATE}
    names |= {f.view_name for f in HIDDEN if f.visibility is definition.Visibility.PRIVATE}
    texts = [row.document for row in CredentialVersion.select().where(CredentialVersion.certificate == cert.id)]
    texts += [json.dumps(listing) for listing in status_lists(client)]
    texts.append(json.dumps(client.simulate_get("/api/cert/verify", params={"id": public_id}).json))
    assert len(texts) == 5
    for text in texts:
        for secret in secrets:
            assert secret.lower() not in text.lower()
        for name in names:
            assert f'"{name}"' not in text


def test_the_subject_is_exactly_the_public_view(issued, ctx):
    from api import records

    _, cert = issued()
    subject = credentials.credential_subject(cert, BASE_URL)
    view = records.public_view(cert, BASE_URL)
    assert subject == {"id": view.pop("public_url"), **view}


# -- the command line against a real server ---------------------------------------------------------------------


class _Late:
    """A WSGI app set after the server has a port (the registry's BASE_URL must be the server's own URL)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def test_online_verification_with_the_command_line(ctx, clock, paid_token, tmp_path, capsys):
    holder = _Late()
    with ServedApp(holder) as server:
        served = Context.build(ctx.config.replace(base_url=server.url), db=ctx.db, clock=clock)
        holder.app = create_app(context=served)
        token = paid_token()
        certificates.redeem(served, submission(token))
        did = signing.did_web(server.url)
        assert did.startswith("did:web:127.0.0.1%3A")

        assert verifier.main(["--id", PUBLIC_ID, "--base", server.url]) == 0
        out = capsys.readouterr().out
        assert "pass  status (revocation)" in out and out.strip().endswith("result: valid")

        # Offline: the saved credential, with the DID document and the status lists saved beside it.
        saved = {}
        for name, path in (
            ("credential", f"/api/cert/credential?id={PUBLIC_ID}"),
            ("did", "/.well-known/did.json"),
            ("revocation", "/api/cert/status/revocation"),
        ):
            saved[name] = tmp_path / f"{name}.json"
            saved[name].write_bytes(urllib.request.urlopen(server.url + path).read())
        key = ctx.signing_keys.current().public_key_multibase
        assert verifier.main([str(saved["credential"]), "--key", key]) == 0
        assert verifier.main([str(saved["credential"]), "--did-document", str(saved["did"])]) == 0

        certificates.revoke(served, PUBLIC_ID, "refund")
        capsys.readouterr()
        assert verifier.main(["--id", PUBLIC_ID, "--base", server.url]) == 1
        out = capsys.readouterr().out
        assert "revoked" in out and out.strip().endswith("result: revoked")
        assert verifier.main([str(saved["credential"]), "--key", key]) == 0  # offline, no status list: unchanged
        fresh = tmp_path / "revocation-now.json"
        fresh.write_bytes(urllib.request.urlopen(server.url + "/api/cert/status/revocation").read())
        argv = [str(saved["credential"]), "--did-document", str(saved["did"]), "--status-list", str(fresh)]
        assert verifier.main(argv) == 1
        assert verifier.main(["--id", "GS-BC-H-26-9", "--base", server.url]) == 2
        holder.app = None


def test_cli_verify_is_reachable_through_python_m_api(tmp_path):
    from api import cli

    signed = tmp_path / "vector.json"
    vectors = Path(__file__).parent / "vectors" / "vc-di-eddsa"
    signed.write_text((vectors / "signedJCS.json").read_text())
    key = json.loads((vectors / "keyPair.json").read_text())["publicKeyMultibase"]
    assert cli.main(["verify", str(signed), "--key", key]) == 0
    assert cli.main(["verify", str(signed)]) == 2


def test_records_from_before_credentials_get_one_from_the_backfill(client, ctx, issued):
    from .support import make_certificate

    issued()
    older = make_certificate(ctx)  # written directly, as release 1.0 wrote records: no credential
    revoked = make_certificate(
        ctx, public_id="GS-BC-H-26-Y", public_id_key="GSBCH26Y", card_seq=30, status="revoked", revoked_at=ctx.clock()
    )
    assert_error(client.simulate_get("/api/cert/verify", params={"id": older.public_id}), 404, "not_found")
    assert credentials.backfill(ctx) == 2
    assert credentials.backfill(ctx) == 0
    answer = client.simulate_get("/api/cert/verify", params={"id": older.public_id}).json
    assert (answer["status"], answer["version"]) == ("valid", 1)
    assert CredentialVersion.get(CredentialVersion.certificate == older.id).event == "backfill"
    assert client.simulate_get("/api/cert/verify", params={"id": revoked.public_id}).json["status"] == "revoked"
    assert CredentialVersion.select().count() == 3


def test_a_revocation_that_cannot_be_signed_is_not_made(client, ctx, issued, clock):
    """The revocation bit and the revocation credential are written with the revocation, or not at all."""
    issued()
    clock.advance(minutes=1)
    ctx.signing_keys.rotate_to(bytes(range(64, 96)))  # the configured key is retired: nothing can be signed
    with pytest.raises(signing.SigningKeyError):
        certificates.revoke(ctx, PUBLIC_ID, "refund")
    assert not Certificate.get().is_revoked
    assert [row.event for row in CredentialVersion.select()] == ["issue"]
    bits = verifier.decode_bitstring(rotated_status_list(ctx, clock)["credentialSubject"]["encodedList"])
    assert not verifier.bit_at(bits, 0)


def rotated_status_list(ctx, clock) -> dict:
    rotated = Context.build(ctx.config.replace(signing_key=bytes(range(64, 96))), db=ctx.db, clock=clock)
    return credentials.status_list_credential(rotated, "revocation")[0]
