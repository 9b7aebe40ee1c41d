"""Paid amendments (api/amendments.py): bought through the Stripe double once the record is locked, paid by the
signed webhook, used by exactly one submission that makes the next version of the record."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from api import amendments
from api.mail.outbox import read_payload
from api.models import (
    Amendment,
    AuditEvent,
    Certificate,
    CertificateVersion,
    CredentialVersion,
    LogEntry,
    OutboxMessage,
    Purchase,
)

from .support import assert_error, bearer, correct, post_event, redeem, stripe_event


@pytest.fixture
def locked(client, paid_token, clock):
    """A record issued 25 hours ago (its correction window closed); returns (holder token, public id)."""

    def make(**changes):
        now = clock.now
        clock.now = now - dt.timedelta(hours=25)
        token = paid_token()
        issued = redeem(client, token, **changes)
        assert issued.status_code == 201, issued.text
        clock.now = now
        return token, issued.json["public_id"]

    return make


@pytest.fixture
def buy(client, stripe_double):
    """Start an amendment checkout as the holder; return (amendment row, session as Stripe holds it)."""

    def start(token: str):
        result = client.simulate_post("/api/cert/amendment", headers=bearer(token))
        assert result.status_code == 201, result.text
        assert result.json["price"] == "US$4.99"
        session_id = result.json["session_id"]
        return Amendment.get(Amendment.stripe_session_id == session_id), stripe_double.get_session(session_id)

    return start


def paid(session: dict) -> dict:
    return {**session, "status": "complete", "payment_status": "paid", "payment_intent": "pi_test_amend"}


def lookup(client, public_id: str, **params):
    return client.simulate_get("/api/cert/lookup", params={"id": public_id, **params})


def test_the_checkout_sends_only_the_amendment_reference_and_the_price(client, locked, buy, stripe_double):
    token, public_id = locked()
    amendment, session = buy(token)
    assert amendment.status == "pending" and amendment.ref.startswith("amd_")
    assert session["client_reference_id"] == amendment.ref and session["metadata"] == {"amendment_ref": amendment.ref}
    assert session["amount_total"] == 499 and session["customer_email"] == "holder@example.com"
    assert token not in json.dumps(session) and token[-8:] not in json.dumps(session)
    assert session["success_url"] == "https://registry.test/p/?amendment={CHECKOUT_SESSION_ID}"
    assert stripe_double.line_items(session["id"])["data"][0]["description"] == "GhostShell certificate amendment"


def test_a_configured_amendment_price_is_used(make_client, locked, stripe_double):
    token, _ = locked()
    client = make_client(amendment_price_id="price_test_amendment")
    result = client.simulate_post("/api/cert/amendment", headers=bearer(token))
    assert result.status_code == 201
    items = stripe_double.line_items(result.json["session_id"])["data"]
    assert items[0]["price"]["id"] == "price_test_amendment"


def test_a_paid_amendment_makes_version_2_with_a_public_history(client, locked, buy, clock):
    token, public_id = locked()
    before = lookup(client, public_id).json
    assert before["version"] == 1 and before["amended_at"] is None and "history" not in before
    assert_error(correct(client, token, agent_name="Joule II"), 409, "correction_window_closed")

    amendment, session = buy(token)
    result = post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert result.json["outcome"] == "amendment_paid"
    assert Amendment.get_by_id(amendment.id).status == "paid"
    state = client.simulate_get("/api/cert/token-status", headers=bearer(token)).json
    assert state["mode"] == "edit" and state["amendment"] is True and state["edits_left"] == 1

    clock.advance(minutes=5)
    # The custodian (creator_label) is private: it changes, but the history never names or shows it.
    amended = correct(client, token, agent_name="Joule II", creator_label="Hidden Holdings")
    assert amended.status_code == 200, amended.text

    view = lookup(client, public_id).json
    assert view["version"] == 2 and view["amended_at"] == clock.now.isoformat() + "Z"
    assert view["agent_name"] == "Joule II"
    assert view["history"] == [
        {"version": 1, "date": before["registration_date"], "changed": []},
        {"version": 2, "date": view["amended_at"], "changed": ["agent_name"]},
    ]
    assert "Hidden Holdings" not in lookup(client, public_id).text
    assert view["amendments"] == before["amendments"]  # the submission counts still say when the record locked

    first = lookup(client, public_id, version="1").json
    assert first["agent_name"] == "Joule" and first["version"] == 1 and first["latest_version"] == 2
    assert first["record_hash"] == before["record_hash"] and first["public_url"] == before["public_url"]
    assert first["history"] == view["history"]
    assert lookup(client, public_id, version="2").json["agent_name"] == "Joule II"
    assert lookup(client, public_id, version="1").headers["cache-control"] == "public, max-age=86400"  # never changes
    assert lookup(client, public_id).headers["cache-control"] == "public, max-age=3600"  # can be amended again
    assert_error(lookup(client, public_id, version="3"), 404, "not_found")
    assert_error(lookup(client, public_id, version="x"), 400, "invalid_field", field="version")

    cert = Certificate.get(Certificate.public_id == public_id)
    assert Amendment.get_by_id(amendment.id).status == "used" and Amendment.get_by_id(amendment.id).version == 2
    audit = AuditEvent.select().where(AuditEvent.certificate == cert, AuditEvent.action == "amend").get()
    assert audit.detail == "version 2: agent_name,creator_label"
    latest = CredentialVersion.select().where(CredentialVersion.certificate == cert).order_by(-CredentialVersion.id)
    assert latest.first().event == "amend"
    subject = json.loads(latest.first().document)["credentialSubject"]
    assert subject["version"] == 2 and subject["history"] == view["history"]
    assert LogEntry.select().where(LogEntry.certificate == cert).order_by(-LogEntry.idx).first().kind == "amended"
    for row in CertificateVersion.select():
        assert "Hidden Holdings" not in row.public_view and "Custodian Holdings" not in row.public_view

    # The amendment is used: a second submission with it is refused and changes nothing.
    assert_error(correct(client, token, agent_name="Joule III"), 409, "correction_window_closed")
    assert lookup(client, public_id).json["agent_name"] == "Joule II"
    assert client.simulate_get("/api/cert/token-status", headers=bearer(token)).json["mode"] == "locked"


@pytest.mark.parametrize("ending", ["checkout.session.expired", "checkout.session.async_payment_failed"])
def test_an_expired_or_failed_amendment_changes_nothing(client, locked, buy, ending):
    token, public_id = locked()
    before = lookup(client, public_id).text
    amendment, session = buy(token)
    result = post_event(client, stripe_event(ending, session))
    assert result.json["outcome"] == ("amendment_expired" if ending.endswith("expired") else "amendment_failed")
    assert Amendment.get_by_id(amendment.id).status in ("expired", "failed")
    assert_error(correct(client, token, agent_name="Joule II"), 409, "correction_window_closed")
    assert lookup(client, public_id).text == before
    assert CertificateVersion.select().count() == 0
    # A late "paid" for an ended checkout is Stripe's word: the amendment becomes paid (as a purchase does).
    again = post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert again.json["outcome"] == "amendment_paid"


def test_an_unpaid_completion_and_a_replayed_event_pay_nothing_twice(client, locked, buy):
    token, _ = locked()
    amendment, session = buy(token)
    waiting = post_event(client, stripe_event("checkout.session.completed", {**session, "status": "complete"}))
    assert waiting.json["outcome"] == "awaiting_payment"
    assert Amendment.get_by_id(amendment.id).status == "pending"
    payload = stripe_event("checkout.session.completed", paid(session), event_id="evt_amend_replay")
    assert post_event(client, payload).json["outcome"] == "amendment_paid"
    assert post_event(client, payload).json["outcome"] == "duplicate"
    second = post_event(client, stripe_event("checkout.session.async_payment_succeeded", paid(session)))
    assert second.json["outcome"] == "already_paid"
    correct(client, token, agent_name="Joule II")
    late = post_event(client, stripe_event("checkout.session.expired", session))
    assert late.json["outcome"] == "unchanged" and Amendment.get_by_id(amendment.id).status == "used"


def amendment_emails() -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.kind == "amendment_paid"))


def test_a_paid_amendment_is_confirmed_by_one_email_without_the_token(ctx, client, locked, buy):
    token, public_id = locked()
    _, session = buy(token)
    assert amendment_emails() == []
    payload = stripe_event("checkout.session.completed", paid(session), event_id="evt_amend_mail")
    assert post_event(client, payload).json["outcome"] == "amendment_paid"
    post_event(client, payload)  # the replay
    post_event(client, stripe_event("checkout.session.async_payment_succeeded", paid(session)))  # already paid
    [message] = amendment_emails()
    assert message.subject == f"Amendment to certificate {public_id} paid"
    sealed = read_payload(ctx.keyring, message)
    assert sealed["to"] == "holder@example.com"
    assert f"/r/{public_id}" in sealed["text"] and "version 2" in sealed["text"]
    assert token not in sealed["text"] and token not in sealed["html"]


def test_the_holder_back_first_gets_the_email_too_and_a_deleted_address_gets_none(
    ctx, client, locked, buy, stripe_double
):
    token, _ = locked()
    _, session = buy(token)
    stripe_double.complete(session["id"], deliver=False)  # paid at Stripe, the event not delivered yet
    client.simulate_get("/api/cert/amendment", params={"session_id": session["id"]}, headers=bearer(token))
    assert len(amendment_emails()) == 1
    token, public_id = locked()
    cert = Certificate.get(Certificate.public_id == public_id)
    Purchase.update(email_purged_at=ctx.clock()).where(Purchase.certificate == cert.id).execute()
    _, session = buy(token)
    assert post_event(client, stripe_event("checkout.session.completed", paid(session))).json["outcome"] == (
        "amendment_paid"
    )
    assert len(amendment_emails()) == 1  # the retention policy deleted the address: nothing to send to


def test_a_reference_that_does_not_match_the_session_is_not_ours(client, locked, buy):
    token, _ = locked()
    amendment, session = buy(token)
    forged = {**paid(session), "client_reference_id": "amd_0000000000000000"}
    assert post_event(client, stripe_event("checkout.session.completed", forged)).json["outcome"] == "not_ours"
    assert Amendment.get_by_id(amendment.id).status == "pending"


def test_the_holder_back_before_the_event_is_confirmed_by_stripe(client, locked, buy, stripe_double):
    token, _ = locked()
    amendment, session = buy(token)
    ask = client.simulate_get("/api/cert/amendment", params={"session_id": session["id"]}, headers=bearer(token))
    assert ask.json["available"] is False and ask.json["can_buy"] is True
    stripe_double.complete(session["id"], deliver=False)  # paid at Stripe, the event not delivered yet
    ask = client.simulate_get("/api/cert/amendment", params={"session_id": session["id"]}, headers=bearer(token))
    assert ask.json == {"available": True, "can_buy": True, "price": "US$4.99", "version": 1}
    assert Amendment.get_by_id(amendment.id).status == "paid"
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json
    assert private["amendment"]["available"] is True


def test_a_record_still_open_cannot_buy_an_amendment(client, paid_token):
    token = paid_token()
    redeem(client, token)
    assert_error(client.simulate_post("/api/cert/amendment", headers=bearer(token)), 409, "not_locked")
    assert Amendment.select().count() == 0


def test_a_record_locked_by_the_cap_can_be_amended(client, paid_token, buy):
    token = paid_token()
    redeem(client, token)
    for n in range(4):
        assert correct(client, token, place_city=f"City {n}").status_code == 200
    assert_error(correct(client, token, place_city="City 5"), 409, "submission_cap_reached")
    _, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert correct(client, token, place_city="City 5").status_code == 200
    assert_error(correct(client, token, place_city="City 6"), 409, "submission_cap_reached")


def test_only_one_amendment_waits_at_a_time(client, locked, buy):
    token, _ = locked()
    _, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    result = client.simulate_post("/api/cert/amendment", headers=bearer(token))
    assert_error(result, 409, "amendment_available")


def test_a_revoked_record_cannot_be_amended(ctx, client, locked, buy):
    from api import certificates

    token, public_id = locked()
    _, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    certificates.revoke(ctx, public_id, "refund")
    assert_error(client.simulate_post("/api/cert/amendment", headers=bearer(token)), 410, "revoked")
    assert_error(correct(client, token, agent_name="Joule II"), 410, "revoked")
    assert_error(lookup(client, public_id, version="1"), 410, "revoked")


def test_an_agent_token_cannot_buy_or_use_an_amendment(client, locked, buy):
    from .support import mint_agent_token

    token, _ = locked()
    agent = mint_agent_token(client, token)
    assert_error(client.simulate_post("/api/cert/amendment", headers=bearer(agent)), 403, "holder_token_required")
    _, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert_error(correct(client, agent, agent_name="Agent Joule"), 409, "correction_window_closed")
    assert Amendment.get().status == "paid"


def test_a_record_not_issued_and_a_missing_token_are_refused(client, paid_token):
    assert_error(client.simulate_post("/api/cert/amendment"), 401, "missing_token")
    token = paid_token()
    assert_error(client.simulate_post("/api/cert/amendment", headers=bearer(token)), 409, "not_issued")


def test_an_amendment_that_changes_nothing_consumes_nothing(client, locked, buy):
    token, public_id = locked()
    amendment, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert correct(client, token, agent_name="Joule").status_code == 200
    assert Amendment.get_by_id(amendment.id).status == "paid"
    assert lookup(client, public_id).json["version"] == 1


def test_changed_public_fields_never_name_a_withheld_value(ctx, locked):
    _, public_id = locked(show_city_public="0")
    cert = Certificate.get(Certificate.public_id == public_id)
    after = Certificate(**cert.__data__)
    after.place_city = "Launceston"  # withheld: its public value stays null
    assert amendments.changed_public_fields(cert, after) == []
    after.show_city_public = True
    assert amendments.changed_public_fields(cert, after) == ["location.city", "location.city_withheld"]


def test_concurrent_submissions_with_one_amendment_make_exactly_one_version(ctx, client, locked, buy, monkeypatch):
    from api import certificates

    from .test_certificates_concurrency import gate, race

    token, public_id = locked()
    _, session = buy(token)
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    gate(monkeypatch, "_correct", 6)

    def submit(index: int):
        return certificates.redeem(ctx, {"token": token, "agent_name": f"Racer {index}"}).certificate.agent_name

    results = race(ctx, 6, submit)
    winners = [r for r in results if isinstance(r, str) and r.startswith("Racer")]
    assert len(winners) == 1, results
    assert sorted(r for r in results if r not in winners) == ["correction_window_closed"] * 5
    cert = Certificate.get(Certificate.public_id == public_id)
    assert cert.version == 2 and cert.agent_name == winners[0]
    assert CertificateVersion.select().count() == 2 and Amendment.get().status == "used"
    assert AuditEvent.select().where(AuditEvent.action == "amend").count() == 1


def test_the_private_record_confirms_the_checkout_the_holder_is_back_from(client, locked, buy, stripe_double):
    token, _ = locked()
    amendment, session = buy(token)
    stripe_double.complete(session["id"], deliver=False)
    plain = client.simulate_get("/api/cert/private", headers=bearer(token)).json
    assert plain["amendment"]["available"] is False  # no event yet, and no session named: Stripe is not asked
    for odd in ("cancelled", "cs\x00nul", "x" * 300, "é"):
        answer = client.simulate_get("/api/cert/private", params={"session_id": odd}, headers=bearer(token))
        assert answer.status_code == 200 and answer.json["amendment"]["available"] is False
    back = client.simulate_get("/api/cert/private", params={"session_id": session["id"]}, headers=bearer(token)).json
    assert back["amendment"] == {"available": True, "can_buy": True, "price": "US$4.99", "version": 1}
    assert Amendment.get_by_id(amendment.id).status == "paid"
