"""GET /api/cert/handoff-token and GET /api/cert/token-status (before issuance)."""

from __future__ import annotations

import pytest

from api import purchases
from api.models import Certificate, OutboxMessage, Purchase

from .support import BASE_URL, assert_error, make_certificate, post_event, stripe_event


@pytest.fixture
def started(client, stripe_double):
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "buyer@example.com"})
    return result.json["session_id"], result.cookies["gs_handoff"].value


def handoff(client, session_id, cookie=None):
    headers = {"Cookie": f"gs_handoff={cookie}"} if cookie else {}
    return client.simulate_get("/api/cert/handoff-token", params={"session_id": session_id}, headers=headers)


def test_unpaid_session_is_409(client, started):
    session_id, cookie = started
    assert_error(handoff(client, session_id, cookie), 409, "not_paid")


def test_unknown_and_missing_sessions(client):
    assert_error(handoff(client, "cs_test_unknown"), 404, "unknown_session")
    assert_error(client.simulate_get("/api/cert/handoff-token"), 400, "missing_session_id")


def test_paid_without_webhook_is_confirmed_server_side_once(client, started, stripe_double):
    session_id, cookie = started
    stripe_double.complete(session_id, deliver=False)  # the webhook has not arrived
    first = handoff(client, session_id, cookie)
    assert first.status_code == 200
    token = first.json["token"]
    assert token.startswith("GSTK-") and len(token) == 29
    assert first.json == {
        "token": token,
        "private_url": f"{BASE_URL}/p/#{token}",
        "human_url": f"{BASE_URL}/register/#token={token}&by=human",
    }
    assert Purchase.get(Purchase.stripe_session_id == session_id).status == "paid"
    again = handoff(client, session_id, cookie)
    assert again.json["token"] == token
    # The late webhook changes nothing either: one email in all.
    post_event(client, stripe_event("checkout.session.completed", stripe_double.get_session(session_id)))
    assert OutboxMessage.select().where(OutboxMessage.kind == "private_link").count() == 1


def test_other_browsers_are_told_it_was_emailed(client, started, stripe_double):
    session_id, cookie = started
    stripe_double.complete(session_id, deliver=False)
    for other in (None, "forged-binding-value"):
        result = handoff(client, session_id, other)
        assert result.status_code == 202
        assert result.json["status"] == "emailed" and "token" not in result.json


def test_the_token_works_and_the_claim_window_runs_from_payment(client, started, stripe_double, clock):
    session_id, cookie = started
    clock.advance(days=3)  # a slow payment: the window starts at payment, not at checkout
    stripe_double.complete(session_id, deliver=False)
    token = handoff(client, session_id, cookie).json["token"]
    auth = {"Authorization": f"Bearer {token.lower().replace('-', ' ')}"}  # pasted loosely

    clock.advance(days=6, hours=23)
    status = client.simulate_get("/api/cert/token-status", headers=auth)
    assert status.status_code == 200
    assert status.json["mode"] == "new" and status.json["claim_days_left"] == 1

    clock.advance(hours=1, seconds=1)
    assert_error(client.simulate_get("/api/cert/token-status", headers=auth), 410, "claim_window_closed")


def test_token_status_errors(client, started):
    assert_error(client.simulate_get("/api/cert/token-status"), 401, "missing_token")
    assert_error(client.simulate_get("/api/cert/token-status", params={"token": "hello"}), 401, "invalid_token")
    unknown = "GSTK-" + "0" * 24
    assert_error(client.simulate_get("/api/cert/token-status", params={"token": unknown}), 404, "unknown_token")


def test_pending_token_is_not_usable_yet(client, started, ctx):
    session_id, cookie = started
    purchase = Purchase.get(Purchase.stripe_session_id == session_id)
    token = ctx.keyring.open_for_binding(cookie, purchase.handoff_token_enc)
    auth = {"Authorization": f"Bearer {token}"}
    assert_error(client.simulate_get("/api/cert/token-status", headers=auth), 409, "not_paid")


def test_rotation_kills_the_old_token_and_the_browser_copy(client, started, stripe_double, ctx):
    session_id, cookie = started
    stripe_double.complete(session_id, deliver=False)
    old = handoff(client, session_id, cookie).json["token"]
    purchase = Purchase.get(Purchase.stripe_session_id == session_id)
    certificate = make_certificate(ctx)
    Purchase.update(certificate=certificate).where(Purchase.id == purchase.id).execute()

    new = purchases.rotate_token(ctx, certificate.public_id.lower())
    assert new != old
    assert_error(
        client.simulate_get("/api/cert/token-status", headers={"Authorization": f"Bearer {old}"}), 404, "unknown_token"
    )
    assert handoff(client, session_id, cookie).status_code == 202  # the dead token is never handed out again
    rotated = OutboxMessage.get(OutboxMessage.kind == "token_rotated")
    assert rotated.status == "queued"
    assert Certificate.get_by_id(certificate.id).audit_events.count() == 1


def test_an_abandoned_checkout_says_so_instead_of_waiting_for_payment(client, started):
    session_id, cookie = started
    session = {
        "id": session_id,
        "object": "checkout.session",
        "status": "expired",
        "payment_status": "unpaid",
        "client_reference_id": Purchase.get(Purchase.stripe_session_id == session_id).ref,
    }
    post_event(client, stripe_event("checkout.session.expired", session))
    assert_error(handoff(client, session_id, cookie), 410, "checkout_not_completed")
