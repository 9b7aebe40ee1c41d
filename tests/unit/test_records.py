"""The record hash, the public fingerprint and the public/private split (api/records.py)."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import catalogue, certificates, definition, records
from api.models import Certificate, Purchase
from api.public_id import search_key

from .support import agent_token_for, bearer, redeem, submission

pytestmark = pytest.mark.usefixtures("fixed_clock")

# What the public view carries besides the record's content: its state and the record's seals. The content's keys
# are the definition's public fields (at their top-level place; a composite once), so a field added there is
# expected here without an edit, and a private one never is.
VIEW_KEYS = {
    "public_id",
    "status",
    "registration_date",
    "amendments",
    "corrections_close_at",
    "version",
    "amended_at",
    "record_hash",
    "public_fingerprint",
    "public_url",
}


def _place(field) -> tuple[str, ...]:
    composite = definition.composite_of(field)
    return (composite.name,) if composite else field.path


RECORD_PLACES = {_place(field) for field in definition.public_fields()}
PUBLIC_KEYS = VIEW_KEYS | {place[0] for place in RECORD_PLACES}
LOCATION_KEYS = {
    name
    for field in definition.public_fields()
    if field.path[0] == "location"
    for name in (field.path[1], *([field.path[1] + "_withheld"] if field.selector else []))
}


def test_the_holder_can_verify_the_record_hash(client, paid_token):
    token = paid_token()
    redeem(client, token)
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
    hash_input = private["record_hash_input"]
    assert hashlib.sha256(hash_input.encode("utf-8")).hexdigest() == private["record_hash"]
    document = json.loads(hash_input)
    assert document["v"] == 1 and document["nonce"] == private["record_nonce"]
    assert document["record"]["creator_label"] == "Custodian Holdings"
    assert document["record"]["place_city"] == "Hobart"
    # Canonical: sorted keys, no insignificant whitespace, UTF-8.
    assert hash_input == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_the_public_can_recompute_the_fingerprint_from_a_lookup(client, paid_token):
    redeem(client, paid_token(), show_city_public=True, agent_name="Név 名前")
    public = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}).json
    # What a verifier does: keep the record's content (the view less its state and seals, and the withheld flags).
    fields = {key: value for key, value in public.items() if key not in VIEW_KEYS - {"public_id", "registration_date"}}
    fields["location"] = {key: value for key, value in public["location"].items() if not key.endswith("_withheld")}
    assert set(fields) == {"public_id", "registration_date"} | {place[0] for place in RECORD_PLACES}
    canonical = json.dumps({"v": 1, "public": fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == public["public_fingerprint"]


PRIVATE_CHANGES = {
    "creator_label": "Another custodian",
    "place_city": "Launceston",
    "place_state": "Victoria",
    "show_city_public": True,
    "hide_state_public": False,
    "cognitive_core_exact": "Claude Opus 4.5",
    "agent_name": "Joule 2",
    "inception_date": "2026-02-09",
    "declared_ontological_status": "Tool",
    "place_country": "New Zealand",
    "cognitive_core_family": "OpenAI",
}


@pytest.mark.parametrize("field", sorted(PRIVATE_CHANGES))
def test_changing_any_field_changes_the_record_hash(ctx, issued, field):
    token, cert = issued()
    result = certificates.redeem(ctx, {"token": token, field: PRIVATE_CHANGES[field]})
    assert result.certificate.record_hash != cert.record_hash
    assert result.certificate.record_hash == records.record_hash(Certificate.get_by_id(cert.id))


def test_private_fields_change_the_record_hash_but_not_the_fingerprint(ctx, issued):
    token, cert = issued()
    changed = certificates.redeem(ctx, {"token": token, "creator_label": "Someone else", "place_city": "Elsewhere"})
    assert changed.certificate.record_hash != cert.record_hash
    assert changed.certificate.public_fingerprint == cert.public_fingerprint


def test_same_record_different_nonce_different_hash(ctx, issued):
    _, first = issued()
    _, second = issued()
    first.public_id = second.public_id
    first.issued_at = second.issued_at
    assert records.full_record(first) == records.full_record(second)
    assert first.record_nonce != second.record_nonce and records.record_hash(first) != records.record_hash(second)


def test_public_view_follows_the_privacy_flags(ctx, issued):
    _, cert = issued(show_city_public=True, hide_state_public=False)
    assert records.public_view(cert, ctx.config.base_url)["location"] == {
        "city": "Hobart",
        "city_withheld": False,
        "state": "Tasmania",
        "state_withheld": False,
        "country": "Australia",
    }
    _, hidden = issued()
    assert records.public_view(hidden, ctx.config.base_url)["location"] == {
        "city": None,
        "city_withheld": True,
        "state": None,
        "state_withheld": True,
        "country": "Australia",
    }
    view = records.public_view(cert, ctx.config.base_url)
    assert set(view) == PUBLIC_KEYS
    assert view["cognitive_core"] == "Anthropic/Claude Opus 4.6"
    assert view["amendments"] == {"human": 1, "agent": 0, "total": 1}


# -- property: no private value ever reaches lookup or search ---------------------------------------------------

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # refused by validation


def _text(alphabet=None):
    # Any printable text, markup welcome; the marker makes each private value unique and findable.
    characters = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=BIDI_CONTROLS)
    base = st.text(alphabet=alphabet or characters, max_size=40)
    return base.map(lambda s: s.strip())


RECORDS = st.fixed_dictionaries(
    {
        "agent_name": _text().filter(bool),
        "creator_label": _text(),
        "place_city": _text(),
        "place_state": _text(),
        "show_city_public": st.booleans(),
        "hide_state_public": st.booleans(),
        "listed": st.booleans(),
        "cognitive_core_family": st.sampled_from(catalogue.FAMILIES[:-1]),
        "cognitive_core_exact": _text(),
        "declared_ontological_status": st.sampled_from(catalogue.STATUSES),
        "edit_source": st.sampled_from(["human", "agent"]),
    }
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=RECORDS)
def test_no_private_value_appears_in_lookup_or_search(client, ctx, paid_token, record):
    marker = secrets.token_hex(6)
    email = f"holder-{marker}@example.com"
    handle = f"@handle-{marker}"
    private = {
        "creator_label": f"{record['creator_label']}⟨custodian-{marker}⟩",
        "place_city": f"{record['place_city']}⟨city-{marker}⟩",
        "place_state": f"{record['place_state']}⟨state-{marker}⟩",
    }
    token = paid_token(email)
    presented = agent_token_for(ctx, token) if record["edit_source"] == "agent" else token
    body = submission(presented, **{**record, **private}, agent_handle=handle)
    created = client.simulate_post("/api/cert/redeem-token", json=body)
    assert created.status_code == 201, created.text
    public_id = created.json["public_id"]
    purchase = Purchase.get(Purchase.certificate == Certificate.get(Certificate.public_id == public_id))
    Purchase.update(stripe_session_id=f"cs_test_{marker}", stripe_payment_intent=f"pi_{marker}").where(
        Purchase.id == purchase.id
    ).execute()
    cert = Certificate.get(Certificate.public_id == public_id)

    answers = [client.simulate_get("/api/cert/lookup", params={"id": public_id.lower()})]
    answers.append(client.simulate_get("/api/registry/search", params={"q": public_id}))
    answers.append(client.simulate_get("/api/registry/search", params={"q": record["agent_name"][:100]}))
    secrets_ = [
        email,
        handle,
        token,
        token.lower(),
        presented,
        purchase.token_hash,
        purchase.email_hash,
        cert.record_nonce,
        f"cs_test_{marker}",
        f"pi_{marker}",
        private["creator_label"],
    ]
    if not record["show_city_public"]:
        secrets_.append(f"city-{marker}")
    if record["hide_state_public"]:
        secrets_.append(f"state-{marker}")
    for answer in answers:
        assert answer.status_code == 200, answer.text
        text = answer.text
        for secret in secrets_:
            assert secret not in text, secret
        for item in [answer.json] if "results" not in answer.json else answer.json["results"]:
            assert set(item) == PUBLIC_KEYS and set(item["location"]) == LOCATION_KEYS
            assert "id" not in item and "token_last4" not in item and "custodian" not in item
    found = answers[2].json["results"]
    id_key = search_key(record["agent_name"])  # a name like "H-26" is also an id prefix
    id_hit = id_key is not None and cert.public_id_key.startswith(id_key)
    assert (public_id in [r["public_id"] for r in found]) == (record["listed"] or id_hit)
    record_view = answers[0].json
    assert record_view["agent_name"] == record["agent_name"]
    assert record_view["location"]["city"] == (private["place_city"] if record["show_city_public"] else None)
    assert record_view["location"]["state"] == (None if record["hide_state_public"] else private["place_state"])


# What the record hash of version 1 covers. Changing it changes every hash a verifier recomputes for the records
# already issued: a field added to the hash (or taken out) needs a new `records.HASH_VERSION`, and the records made
# under version 1 must still be recomputed from this list.
HASHED_UNDER_VERSION_1 = {
    "public_id",
    "issued_at",
    "registration_source",
    "parent_record_status",
    "agent_name",
    "declared_ontological_status",
    "cognitive_core_family",
    "cognitive_core_exact",
    "creator_label",
    "inception_date",
    "place_city",
    "place_state",
    "place_country",
    "show_city_public",
    "hide_state_public",
    "parent_record",
}


def test_the_record_hash_covers_what_its_version_says(issued):
    _, cert = issued()
    assert records.HASH_VERSION == 1 and cert.hash_version == 1
    assert set(records.full_record(cert)) == HASHED_UNDER_VERSION_1
