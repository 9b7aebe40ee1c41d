"""Issuance, corrections, the agent lock, token-status and the private record, through the HTTP API."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from api import certificates, definition
from api.config import DEFAULT_RATE_LIMITS
from api.mail.outbox import read_payload
from api.models import AuditEvent, CardCounter, Certificate, OutboxMessage, Purchase

from .support import BASE_URL, VALID, assert_error, bearer, correct, mint_agent_token, redeem, submission

pytestmark = pytest.mark.usefixtures("fixed_clock")

PUBLIC_ID = re.compile(r"^GS-BC-[AH]-\d{2}-[0-9A-HJKMNP-TV-Z]+$")


# -- first submission -------------------------------------------------------------------------------------------


def test_first_submission_issues_the_certificate(client, paid_token, ctx, clock):
    token = paid_token()
    result = redeem(client, token)
    assert result.status_code == 201, result.text
    assert result.json == {
        "public_id": "GS-BC-H-26-1",
        "public_url": f"{BASE_URL}/r/GS-BC-H-26-1",
        "private_url": f"{BASE_URL}/p/#{token}",
        "edit_source": "human",
    }
    cert = Certificate.get(Certificate.public_id == "GS-BC-H-26-1")
    assert (cert.card_year, cert.card_seq, cert.public_id_key) == (2026, 1, "GSBCH261")
    assert cert.issued_at == clock.now and cert.status == "active"
    assert (cert.edit_count, cert.human_edit_count, cert.agent_edit_count) == (1, 1, 0)
    assert cert.registration_source == "human" and cert.last_edit_source == "human"
    assert cert.name_key == "joule" and len(cert.record_nonce) == 32
    assert (cert.show_city_public, cert.hide_state_public, cert.listed) == (False, True, False)
    purchase = Purchase.get()
    assert purchase.certificate_id == cert.id and purchase.used_at == clock.now
    assert CardCounter.get_by_id(2026).seq == 1


def test_agent_token_gives_an_A_id_and_sequence_numbers_are_crockford(client, paid_token, ctx):
    def first_submission(n):
        token = paid_token()
        return redeem(client, mint_agent_token(client, token) if n == 0 else token, edit_source=...)

    ids = [first_submission(n).json["public_id"] for n in range(18)]
    assert ids[0] == "GS-BC-A-26-1"
    assert ids[1] == "GS-BC-H-26-2"
    assert ids[16] == "GS-BC-H-26-H"  # 17 in Crockford base32
    assert all(PUBLIC_ID.match(public_id) for public_id in ids)
    assert Certificate.get(Certificate.public_id == "GS-BC-A-26-1").agent_edit_count == 1


def test_issuing_writes_an_audit_event_and_queues_the_issued_email(client, paid_token, ctx, deliver_mail):
    token = paid_token("someone@example.com")
    agent_token = mint_agent_token(client, token)
    assert redeem(client, agent_token, edit_source="agent", agent_handle="@joule").status_code == 201
    event = AuditEvent.get()
    assert (event.action, event.source, event.agent_handle) == ("issue", "agent", "@joule")
    assert event.agent_token.token_last4 == agent_token[-4:]
    assert event.user_agent  # falcon's test client sends one
    message = OutboxMessage.get(OutboxMessage.kind == "certificate_issued")
    assert message.idempotency_key == "certificate-issued/GS-BC-A-26-1"
    payload = read_payload(ctx.keyring, message)
    assert payload["to"] == "someone@example.com"
    delivered = [m for m in deliver_mail() if "GS-BC-A-26-1" in m["subject"] + m["text"]]
    assert len(delivered) == 1
    text = delivered[0]["text"]
    # The agent's submission cannot link the holder's private page: only the token's hash is kept.
    assert f"{BASE_URL}/r/GS-BC-A-26-1" in text and "/p/#" not in text and agent_token not in text
    assert "private link in the payment email" in text


def test_issuing_accepts_a_form_body(client, paid_token):
    token = paid_token()
    form = dict(submission(token), show_city_public="on", hide_state_public="0", listed="1")
    result = client.simulate_post(
        "/api/cert/redeem-token", body=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert result.status_code == 201, result.text
    cert = Certificate.get()
    assert (cert.show_city_public, cert.hide_state_public, cert.listed) == (True, False, True)
    assert cert.cognitive_core_exact == "Claude Opus 4.6"


@pytest.mark.parametrize(
    "status, code, prepare",
    [
        (401, "missing_token", lambda ctx, token: None),
        (401, "invalid_token", lambda ctx, token: "not-a-token"),
        (404, "unknown_token", lambda ctx, token: "GSTK-" + "0" * 24),
    ],
)
def test_token_problems(client, paid_token, ctx, status, code, prepare):
    body = submission("x")
    body["token"] = prepare(ctx, paid_token())
    if body["token"] is None:
        del body["token"]
    assert_error(client.simulate_post("/api/cert/redeem-token", json=body), status, code)


def test_unpaid_and_expired_tokens_are_refused(client, paid_token, ctx, clock):
    token = paid_token()
    Purchase.update(status="abandoned").execute()
    assert_error(redeem(client, token), 409, "not_paid")
    Purchase.update(status="paid").execute()
    clock.advance(days=7, seconds=1)
    assert_error(redeem(client, token), 410, "claim_window_closed")
    assert Certificate.select().count() == 0


def test_a_rejected_first_submission_consumes_nothing(client, paid_token):
    token = paid_token()
    assert_error(redeem(client, token, inception_date="2026-02-30"), 400, "invalid_field", "inception_date")
    assert_error(redeem(client, token, agent_name="  "), 400, "invalid_field", "agent_name")
    assert_error(redeem(client, token, place_country=...), 400, "invalid_field", "place_country")
    assert_error(redeem(client, token, cognitive_core_family="Acme"), 400, "invalid_field", "cognitive_core_family")
    assert_error(redeem(client, token, parent_record="GS-BC-H-26-Z"), 400, "invalid_field", "parent_record")
    assert Certificate.select().count() == 0
    assert Purchase.get().used_at is None
    assert CardCounter.select().count() == 0 or CardCounter.get().seq == 0
    assert redeem(client, token).json["public_id"] == "GS-BC-H-26-1"


def test_a_failed_issuing_transaction_gives_its_card_number_back(ctx, paid_token, monkeypatch):
    token = paid_token()

    def broken_queue(*args, **kwargs):
        raise RuntimeError("mail outbox unavailable")

    monkeypatch.setattr(certificates, "queue", broken_queue)
    with pytest.raises(RuntimeError):
        certificates.redeem(ctx, submission(token))
    assert Certificate.select().count() == 0 and Purchase.get().used_at is None
    monkeypatch.undo()
    assert certificates.redeem(ctx, submission(token)).certificate.card_seq == 1


def test_markup_is_stored_verbatim_and_returned_as_json_data(client, paid_token):
    script, attribute = "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'
    token = paid_token()
    redeem(
        client,
        token,
        agent_name=script,
        cognitive_core_family="Undisclosed",
        cognitive_core_exact=attribute,
        creator_label=script,
        place_city=attribute,
        show_city_public=True,
        place_country="Aus & <b>tralia</b>",
        listed=True,
    )
    cert = Certificate.get()
    assert cert.agent_name == script and cert.cognitive_core_exact == attribute
    looked_up = client.simulate_get("/api/cert/lookup", params={"id": cert.public_id})
    assert looked_up.headers["content-type"].startswith("application/json")
    record = looked_up.json
    assert record["agent_name"] == script
    assert record["cognitive_core"] == f"Undisclosed/{attribute}"
    assert record["location"]["city"] == attribute and record["location"]["country"] == "Aus & <b>tralia</b>"
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
    assert private["custodian"] == script
    found = client.simulate_get("/api/registry/search", params={"q": "<script>"}).json["results"]
    assert [r["agent_name"] for r in found] == [script]


# -- corrections ------------------------------------------------------------------------------------------------


def test_a_correction_is_a_partial_update(client, paid_token, clock):
    token = paid_token()
    redeem(
        client, token, show_city_public=True, hide_state_public=False, listed=True, declared_ontological_status="Tool"
    )
    before = Certificate.get()
    clock.advance(hours=1)
    result = correct(client, token, agent_name="Joule II")
    assert result.status_code == 200, result.text
    assert result.json == {
        "public_id": "GS-BC-H-26-1",
        "public_url": f"{BASE_URL}/r/GS-BC-H-26-1",
        "private_url": f"{BASE_URL}/p/#{token}",
        "edits_used": 2,
        "edits_left": 3,
        "edit_source": "human",
    }
    after = Certificate.get()
    assert after.agent_name == "Joule II" and after.name_key == "joule ii"
    for kept in (
        "declared_ontological_status",
        "creator_label",
        "show_city_public",
        "hide_state_public",
        "listed",
        "place_city",
        "place_state",
        "place_country",
        "cognitive_core_family",
        "cognitive_core_exact",
        "inception_date",
        "registration_source",
        "issued_at",
        "public_id",
        "record_nonce",
    ):
        assert getattr(after, kept) == getattr(before, kept), kept
    assert (after.edit_count, after.human_edit_count, after.agent_edit_count) == (2, 2, 0)
    assert after.last_edited_at == clock.now
    assert after.record_hash != before.record_hash
    assert after.public_fingerprint != before.public_fingerprint


def test_corrections_count_by_source_and_registration_source_never_changes(client, paid_token):
    token = paid_token()
    redeem(client, token, edit_source="human")
    agent_token = mint_agent_token(client, token)
    assert correct(client, agent_token, agent_handle="@j", place_city="Launceston").status_code == 200
    cert = Certificate.get()
    assert (cert.edit_count, cert.human_edit_count, cert.agent_edit_count) == (2, 1, 1)
    assert cert.registration_source == "human" and cert.last_edit_source == "agent"
    assert cert.public_id.startswith("GS-BC-H-")
    events = [(e.action, e.source, e.agent_handle, e.detail) for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert events == [
        ("issue", "human", None, None),
        ("agent_token", "human", None, "minted"),
        ("correct", "agent", "@j", "place_city"),
    ]


def test_prefer_not_to_say_clears_the_exact_model(client, paid_token):
    token = paid_token()
    redeem(client, token)
    assert correct(client, token, cognitive_core_family="prefer not to say").status_code == 200
    cert = Certificate.get()
    assert (cert.cognitive_core_family, cert.cognitive_core_exact) == ("Prefer not to say", "")
    assert_error(correct(client, token, cognitive_core_exact="GPT-5"), 400, "invalid_field", "cognitive_core_exact")
    assert Certificate.get().edit_count == 2


def test_a_rejected_correction_consumes_nothing(client, paid_token):
    token = paid_token()
    redeem(client, token)
    assert_error(correct(client, token, inception_date="2999-01-01"), 400, "invalid_field", "inception_date")
    assert_error(correct(client, token, agent_name=""), 400, "invalid_field", "agent_name")
    assert_error(correct(client, token, place_country=""), 400, "invalid_field", "place_country")
    cert = Certificate.get()
    assert cert.edit_count == 1 and cert.agent_name == "Joule"
    assert AuditEvent.select().count() == 1


def test_the_correction_window_closes_after_24_hours(client, paid_token, clock):
    token = paid_token()
    redeem(client, token)
    clock.advance(hours=24)
    assert correct(client, token, agent_name="Still open").status_code == 200
    clock.advance(seconds=1)
    assert_error(correct(client, token, agent_name="Too late"), 409, "correction_window_closed")
    assert Certificate.get().agent_name == "Still open"


def test_at_most_five_submissions_in_total(client, paid_token):
    token = paid_token()
    redeem(client, token)
    for n in range(4):
        assert correct(client, token, agent_name=f"Joule {n}").json["edits_left"] == 3 - n
    assert_error(correct(client, token, agent_name="Sixth"), 409, "submission_cap_reached")
    assert Certificate.get().edit_count == 5 and Certificate.get().agent_name == "Joule 3"


def test_window_is_checked_before_the_cap_and_fields_before_both(client, paid_token, clock):
    token = paid_token()
    redeem(client, token)
    for n in range(4):
        correct(client, token, place_city=f"City {n}")  # a correction that changes nothing would count nothing
    assert_error(correct(client, token, inception_date="nope"), 400, "invalid_field", "inception_date")
    assert_error(correct(client, token, place_city="Elsewhere"), 409, "submission_cap_reached")
    clock.advance(days=2)
    assert_error(correct(client, token, place_city="Elsewhere"), 409, "correction_window_closed")


def test_agent_edits_can_be_locked_by_the_holder(client, paid_token):
    token = paid_token()
    redeem(client, token)
    agent_token = mint_agent_token(client, token)
    locked = client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": True})
    assert locked.status_code == 200 and locked.json == {"lock_agent_edits": True}
    assert_error(correct(client, agent_token, agent_name="Agent edit"), 403, "agent_edits_locked")
    assert correct(client, token, edit_source="human", agent_name="Human edit").status_code == 200
    unlocked = client.simulate_post(
        "/api/cert/lock-agent-edits",
        body=f"token={token}&locked=off",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert unlocked.json == {"lock_agent_edits": False}
    assert correct(client, agent_token, agent_name="Agent edit").status_code == 200
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions == ["issue", "agent_token", "lock", "correct", "unlock", "correct"]


def test_lock_agent_edits_errors(client, paid_token):
    token = paid_token()
    assert_error(
        client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": True}), 409, "not_issued"
    )
    assert_error(
        client.simulate_post("/api/cert/lock-agent-edits", json={"token": "GSTK-" + "1" * 24, "locked": True}),
        404,
        "unknown_token",
    )
    redeem(client, token)
    assert_error(
        client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": "maybe"}),
        400,
        "invalid_field",
        "locked",
    )


def test_parent_record_rules(client, paid_token):
    parent_token = paid_token()
    redeem(client, parent_token)
    unissued = paid_token()
    child = paid_token()
    assert_error(redeem(client, child, parent_record=unissued), 400, "invalid_field", "parent_record")
    assert_error(redeem(client, child, parent_record="https://example.com/"), 400, "invalid_field", "parent_record")
    assert_error(redeem(client, child, parent_record="GS-BC-H-26-9"), 400, "invalid_field", "parent_record")
    assert redeem(client, child, parent_record="gs-bc-h-26-1").status_code == 201
    cert = Certificate.get(Certificate.public_id == "GS-BC-H-26-2")
    assert (cert.parent_record, cert.parent_record_status) == ("GS-BC-H-26-1", "claimed")
    url = f"{BASE_URL}/register/#token={parent_token.lower()}&by=human"
    assert correct(client, child, parent_record=url).status_code == 200
    cert = Certificate.get(Certificate.public_id == "GS-BC-H-26-2")
    assert (cert.parent_record, cert.parent_record_status) == ("GS-BC-H-26-1", "verified")
    assert parent_token not in cert.parent_record
    assert_error(correct(client, child, parent_record=child), 400, "invalid_field", "parent_record")
    assert_error(correct(client, child, parent_record="GS-BC-H-26-2"), 400, "invalid_field", "parent_record")
    assert correct(client, child, parent_record="").status_code == 200
    cert = Certificate.get(Certificate.public_id == "GS-BC-H-26-2")
    assert (cert.parent_record, cert.parent_record_status) == (None, None)


# -- token-status and the private record ------------------------------------------------------------------------


def test_token_status_edit_then_locked_by_cap_and_by_window(client, paid_token, clock):
    token = paid_token()
    redeem(client, token, listed=True)
    status = client.simulate_get("/api/cert/token-status", headers=bearer(token)).json
    assert status["mode"] == "edit" and status["locked"] is False and status["lock_reason"] is None
    assert (status["edits_used"], status["edits_left"], status["max_submissions"]) == (1, 4, 5)
    assert status["lock_at"] == "2026-11-26T10:00:00Z" and status["lock_agent_edits"] is False
    prefill = status["certificate"]
    assert prefill["public_id"] == "GS-BC-H-26-1"
    assert {key: prefill[key] for key in VALID if key != "edit_source"} == {
        key: value for key, value in VALID.items() if key != "edit_source"
    }
    assert (prefill["show_city_public"], prefill["hide_state_public"], prefill["listed"]) == (False, True, True)
    # Every prefill name is a field redeem-token accepts.
    assert set(prefill) - {"public_id"} <= set(definition.NAMES)
    for n in range(4):
        correct(client, token, place_city=f"City {n}")  # a correction that changes nothing would count nothing
    capped = client.simulate_get("/api/cert/token-status", params={"token": token}).json
    assert (capped["mode"], capped["locked"], capped["lock_reason"]) == ("locked", True, "cap_reached")
    assert capped["edits_left"] == 0 and capped["lock_reason_text"]
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
    assert (private["locked"], private["lock_reason"], private["edits_left"]) == (True, "cap_reached", 0)
    clock.advance(hours=25)
    closed = client.simulate_get("/api/cert/token-status", headers=bearer(token)).json
    assert (closed["mode"], closed["lock_reason"]) == ("locked", "window_closed")


def test_private_record_not_issued_then_issued(client, paid_token, clock):
    token = paid_token()
    before = client.simulate_get("/api/cert/private", headers=bearer(token))
    assert before.status_code == 200
    assert before.json == {
        "state": "not_issued",
        "claim_open": True,
        "claim_deadline": "2026-12-02T10:00:00Z",
        "claim_days_left": 7,
    }
    redeem(client, token, agent_handle="@hidden-handle")
    answer = client.simulate_get("/api/cert/private", headers=bearer(token))
    assert answer.headers["cache-control"] == "no-store"
    record = answer.json["certificate"]
    assert answer.json["state"] == "issued"
    assert record["custodian"] == "Custodian Holdings"
    assert (record["place_city"], record["place_state"], record["place_country"]) == ("Hobart", "Tasmania", "Australia")
    assert record["location"] == {
        "city": None,
        "city_withheld": True,
        "state": None,
        "state_withheld": True,
        "country": "Australia",
    }
    assert (record["edits_used"], record["edits_left"], record["locked"], record["lock_agent_edits"]) == (
        1,
        4,
        False,
        False,
    )
    assert len(record["record_nonce"]) == 32
    text = answer.text
    purchase = Purchase.get()
    for secret in ("holder@example.com", purchase.token_hash, purchase.email_hash, "@hidden-handle", '"id"'):
        assert secret not in text
    assert token not in text


def test_private_record_errors(client):
    assert_error(client.simulate_get("/api/cert/private"), 401, "missing_token")
    assert_error(client.simulate_get("/api/cert/private", headers=bearer("GSTK-" + "2" * 24)), 404, "unknown_token")


# -- rate limits ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, bucket",
    [
        ("GET", "/api/cert/lookup?id=GS-BC-H-26-1", "lookup"),
        ("GET", "/api/registry/search?q=joule", "search"),
        ("POST", "/api/cert/redeem-token", "redeem"),
        ("GET", "/api/cert/private", "token_status"),
        ("GET", "/api/cert/token-status", "token_status"),
        ("POST", "/api/cert/checkout", "checkout"),
        ("GET", "/api/cert/handoff-token?session_id=cs_test_x", "handoff"),
    ],
)
def test_rate_limited_routes_answer_429_with_retry_after(make_client, method, path, bucket):
    limits = dict(DEFAULT_RATE_LIMITS, **{bucket: "2/minute"})
    client = make_client(rate_limit_enabled=True, rate_limits=limits)
    path, _, query = path.partition("?")
    answers = [client.simulate_request(method, path, query_string=query, json={}) for _ in range(3)]
    assert all(a.status_code != 429 for a in answers[:2])
    assert_error(answers[2], 429, "rate_limited")
    assert int(answers[2].headers["retry-after"]) >= 1


def test_rate_limits_are_per_client_address_and_can_be_switched_off(make_client):
    limits = dict(DEFAULT_RATE_LIMITS, lookup="2/minute")
    client = make_client(rate_limit_enabled=True, rate_limits=limits)
    for _ in range(2):
        client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}, remote_addr="192.0.2.1")
    assert_error(
        client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}, remote_addr="192.0.2.1"),
        429,
        "rate_limited",
    )
    other = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}, remote_addr="192.0.2.2")
    assert other.status_code == 404  # another address still gets an answer

    unlimited = make_client(rate_limit_enabled=False, rate_limits=limits)
    answers = [
        unlimited.simulate_get("/api/cert/lookup", params={"id": "x"}, remote_addr="192.0.2.1") for _ in range(5)
    ]
    assert all(a.status_code == 404 for a in answers)
