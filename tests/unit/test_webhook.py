"""POST /api/stripe/webhook: signature checks, exactly-once effects, ordering, abandonment."""

from __future__ import annotations

import json
import threading
import time

import pytest

from api.models import OutboxMessage, Purchase, WebhookEvent

from .support import assert_error, post_event, sign, stripe_event


def paid(session: dict) -> dict:
    return {
        **session,
        "status": "complete",
        "payment_status": "paid",
        "payment_intent": "pi_test_1",
        "customer_details": {"email": session["customer_email"]},
    }


def messages(kind: str | None = None) -> list[OutboxMessage]:
    query = OutboxMessage.select()
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(query)


def test_completed_event_marks_paid_and_queues_one_private_link(client, checkout, clock):
    purchase, session = checkout()
    result = post_event(client, stripe_event("checkout.session.completed", paid(session)))
    assert result.status_code == 200 and result.json["outcome"] == "paid"
    purchase = Purchase.get_by_id(purchase.id)
    assert purchase.status == "paid" and purchase.paid_at == clock.now
    assert purchase.stripe_payment_intent == "pi_test_1"
    assert purchase.token_enc is None  # the token now lives only in the sealed outbox message
    assert [m.kind for m in messages()] == ["private_link"]


@pytest.mark.parametrize("signature", ["tampered", "wrong_secret", "stale", "missing", "garbage"])
def test_bad_signatures_are_refused_and_change_nothing(client, checkout, signature):
    purchase, session = checkout()
    payload = stripe_event("checkout.session.completed", paid(session))
    header = {
        "tampered": sign(payload.replace("paid", "pa1d", 1)),
        "wrong_secret": sign(payload, secret="whsec_someone_else"),
        "stale": sign(payload, timestamp=int(time.time()) - 301),
        "missing": "",
        "garbage": "t=1,v1=deadbeef",
    }[signature]
    if signature == "tampered":
        payload = payload.replace('"payment_status": "paid"', '"payment_status": "unpaid"')
        header = sign(payload.replace('"unpaid"', '"paid"'))
    assert_error(post_event(client, payload, header), 400, "invalid_signature")
    assert Purchase.get_by_id(purchase.id).status == "pending"
    assert WebhookEvent.select().count() == 0 and not messages()


def test_replayed_event_changes_nothing_and_sends_nothing(client, checkout):
    _, session = checkout()
    payload = stripe_event("checkout.session.completed", paid(session), event_id="evt_replay")
    assert post_event(client, payload).json["outcome"] == "paid"
    again = post_event(client, payload)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert len(messages()) == 1


def test_second_event_for_the_same_session_sends_nothing(client, checkout):
    _, session = checkout()
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    second = post_event(client, stripe_event("checkout.session.async_payment_succeeded", paid(session)))
    assert second.json["outcome"] == "already_paid"
    assert len(messages()) == 1


def test_delayed_payment_waits_then_succeeds_or_fails(client, checkout):
    purchase, session = checkout()
    unpaid = {**session, "status": "complete", "payment_status": "unpaid"}
    assert post_event(client, stripe_event("checkout.session.completed", unpaid)).json["outcome"] == "awaiting_payment"
    assert Purchase.get_by_id(purchase.id).status == "pending"
    post_event(client, stripe_event("checkout.session.async_payment_succeeded", paid(session)))
    assert Purchase.get_by_id(purchase.id).status == "paid"

    other, other_session = checkout("second@example.com")
    failed = post_event(client, stripe_event("checkout.session.async_payment_failed", other_session))
    assert failed.json["outcome"] == "payment_failed"
    assert Purchase.get_by_id(other.id).status == "failed"


def test_free_checkout_with_a_full_promotion_code_counts_as_paid(client, checkout):
    purchase, session = checkout()
    free = {**session, "status": "complete", "payment_status": "no_payment_required", "amount_total": 0}
    assert post_event(client, stripe_event("checkout.session.completed", free)).json["outcome"] == "paid"


def test_expired_checkout_is_abandoned_with_one_reminder(client, checkout):
    purchase, session = checkout()
    expired = {**session, "status": "expired"}
    result = post_event(client, stripe_event("checkout.session.expired", expired))
    assert result.json["outcome"] == "abandoned"
    purchase = Purchase.get_by_id(purchase.id)
    assert purchase.status == "abandoned"
    assert purchase.token_enc is None and purchase.handoff_token_enc is None  # no usable token remains
    assert [m.kind for m in messages()] == ["abandoned_reminder"]
    assert post_event(client, stripe_event("checkout.session.expired", expired)).json["outcome"] == "unchanged"
    assert len(messages()) == 1


def test_out_of_order_expiry_never_moves_paid_back(client, checkout):
    purchase, session = checkout()
    post_event(client, stripe_event("checkout.session.completed", paid(session)))
    late = post_event(client, stripe_event("checkout.session.expired", {**session, "status": "expired"}))
    assert late.json["outcome"] == "unchanged"
    late_failure = post_event(client, stripe_event("checkout.session.async_payment_failed", session))
    assert late_failure.json["outcome"] == "unchanged"
    assert Purchase.get_by_id(purchase.id).status == "paid"
    assert [m.kind for m in messages()] == ["private_link"]


def test_no_reminder_when_the_buyer_paid_in_another_checkout(client, checkout):
    first, first_session = checkout("same@example.com")
    second, second_session = checkout("SAME@example.com")
    post_event(client, stripe_event("checkout.session.completed", paid(second_session)))
    result = post_event(client, stripe_event("checkout.session.expired", {**first_session, "status": "expired"}))
    assert result.json["outcome"] == "abandoned_without_reminder"
    assert [m.kind for m in messages()] == ["private_link"]


def test_events_for_sessions_that_are_not_ours_are_ignored(client, checkout):
    _, session = checkout()
    foreign = {**session, "id": "cs_test_someone_else", "status": "expired"}
    assert post_event(client, stripe_event("checkout.session.expired", foreign)).json["outcome"] == "not_ours"
    spoofed = {**session, "client_reference_id": "pur_other"}
    assert post_event(client, stripe_event("checkout.session.completed", paid(spoofed))).json["outcome"] == "not_ours"
    assert not messages()


def test_other_event_types_are_acknowledged(client):
    payload = json.dumps(
        {"id": "evt_x", "object": "event", "type": "payment_intent.created", "data": {"object": {"id": "pi_1"}}}
    )
    result = post_event(client, payload)
    assert result.status_code == 200 and result.json["outcome"] == "ignored"


def test_a_failure_returns_5xx_and_records_nothing_so_stripe_retries(client, checkout):
    purchase, session = checkout()
    good_email = purchase.email_enc
    Purchase.update(email_enc="corrupted").where(Purchase.id == purchase.id).execute()
    payload = stripe_event("checkout.session.completed", paid(session), event_id="evt_retry")
    assert_error(post_event(client, payload), 500, "internal_error")
    assert WebhookEvent.select().count() == 0
    assert Purchase.get_by_id(purchase.id).status == "pending" and not messages()

    Purchase.update(email_enc=good_email).where(Purchase.id == purchase.id).execute()
    assert post_event(client, payload).json["outcome"] == "paid"  # Stripe's retry succeeds
    assert len(messages()) == 1


def test_concurrent_deliveries_of_one_event_have_one_effect(client, checkout, ctx):
    _, session = checkout()
    payload = stripe_event("checkout.session.completed", paid(session), event_id="evt_concurrent")
    outcomes, barrier = [], threading.Barrier(8)

    def deliver():
        barrier.wait()
        try:
            outcomes.append(post_event(client, payload).json["outcome"])
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate"] * 7 + ["paid"]
    assert WebhookEvent.select().count() == 1
    assert len(messages("private_link")) == 1


def test_any_valid_v1_signature_is_accepted_during_secret_rotation(client, checkout):
    _, session = checkout()
    payload = stripe_event("checkout.session.completed", paid(session))
    old = sign(payload, secret="whsec_retired_secret")
    current = sign(payload)
    timestamp = current.split(",")[0]
    header = f"{timestamp},v1={old.split('v1=')[1]},v1={current.split('v1=')[1]}"
    assert post_event(client, payload, header).json["outcome"] == "paid"
