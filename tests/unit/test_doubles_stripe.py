"""The Stripe double, driven over real HTTP by the official SDK, mounted under /_stripe as in the local run."""

from __future__ import annotations

import json
import threading
import time

import falcon
import pytest
import requests
import stripe

from dev.doubles.dispatch import PrefixDispatcher, not_found_app
from dev.doubles.stripe_double import create_app, format_amount, parse_stripe_form
from dev.serving import ServedApp

SECRET = "whsec_test_doubles"
RETRY_DELAYS = (0.05, 0.1, 0.2)


class Receiver:
    """A webhook endpoint that verifies signatures as the registry must, and can be told to fail."""

    def __init__(self):
        self.events: list[dict] = []
        self.attempts = 0
        self.rejected: list[str] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def on_post(self, req, resp):
        payload = req.bounded_stream.read()
        with self._lock:
            self.attempts += 1
            if self.fail_next:
                self.fail_next -= 1
                resp.status = 500
                return
        try:
            event = stripe.Webhook.construct_event(payload, req.get_header("Stripe-Signature"), SECRET)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            self.rejected.append(str(exc))
            resp.status = 400
            return
        assert req.content_type.startswith("application/json")
        with self._lock:
            self.events.append(event.to_dict())
        resp.media = {"received": True}


@pytest.fixture(scope="module")
def receiver_server():
    receiver = Receiver()
    app = falcon.App()
    app.add_route("/api/stripe/webhook", receiver)
    with ServedApp(app) as server:
        server.receiver = receiver
        yield server


@pytest.fixture(scope="module")
def stripe_server(receiver_server):
    app = create_app(
        webhook_url=receiver_server.url + "/api/stripe/webhook",
        webhook_secret=SECRET,
        public_base="http://placeholder",
        retry_delays=RETRY_DELAYS,
    )
    with ServedApp(PrefixDispatcher(not_found_app, {"/_stripe": app})) as server:
        app.double.public_base = server.url + "/_stripe"
        server.double = app.double
        server.base = server.url + "/_stripe"
        yield server


@pytest.fixture
def double(stripe_server, receiver_server):
    stripe_server.double.reset()
    receiver = receiver_server.receiver
    receiver.events.clear()
    receiver.rejected.clear()
    receiver.attempts = receiver.fail_next = 0
    return stripe_server.double


@pytest.fixture
def receiver(receiver_server, double):
    return receiver_server.receiver


@pytest.fixture
def client(stripe_server, double):
    return stripe.StripeClient("sk_test_doubles", base_addresses={"api": stripe_server.base})


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 999,
                    "product_data": {"name": "GhostShell birth certificate"},
                },
                "quantity": 1,
            }
        ],
        "customer_email": "owner@example.com",
        "client_reference_id": "purchase-42",
        "metadata": {"purchase_ref": "pr_42"},
        "success_url": "http://registry.test/paid/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://registry.test/register/",
        "expires_at": int(time.time()) + 3600,
        "allow_promotion_codes": False,
    }
    params.update(overrides)
    return params


def create(client, **overrides):
    return client.v1.checkout.sessions.create(params=session_params(**overrides))


def pay(stripe_server, session_id, **form):
    return requests.post(f"{stripe_server.base}/pay/{session_id}/pay", data=form, allow_redirects=False, timeout=10)


# -- the API --------------------------------------------------------------------------------------------------------


def test_create_returns_a_checkout_session_shaped_like_stripes(client, stripe_server):
    before = int(time.time())
    expires_at = before + 3600
    session = create(client, expires_at=expires_at)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{stripe_server.base}/pay/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (999, "usd")
    assert session.customer_email == "owner@example.com"
    assert session.customer_details is None and session.payment_intent is None
    assert session.client_reference_id == "purchase-42"
    assert session.metadata.to_dict() == {"purchase_ref": "pr_42"}
    assert session.mode == "payment" and session.livemode is False
    assert session.success_url == "http://registry.test/paid/?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == "http://registry.test/register/"
    assert session.expires_at == expires_at and before <= session.created <= int(time.time())
    assert session.allow_promotion_codes is False


def test_a_price_id_costs_999_usd_and_quantity_multiplies(client):
    by_price = create(client, line_items=[{"price": "price_test_cert", "quantity": 1}])
    assert (by_price.amount_total, by_price.currency) == (999, "usd")
    two = create(
        client,
        line_items=[
            {"price_data": {"currency": "eur", "unit_amount": 500, "product_data": {"name": "x"}}, "quantity": 2}
        ],
    )
    assert (two.amount_total, two.currency) == (1000, "eur")


def test_retrieve_returns_the_session_and_expands_line_items(client):
    created = create(client)
    fetched = client.v1.checkout.sessions.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()
    expanded = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
    item = expanded.line_items.data[0]
    assert (item.description, item.quantity, item.amount_total) == ("GhostShell birth certificate", 1, 999)


def test_an_unknown_session_raises_invalid_request_error(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "id"
    assert "No such checkout.session: 'cs_test_nope'" in caught.value.user_message


def test_same_idempotency_key_and_params_replays_the_first_session(client, double):
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout:42:1"})
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "checkout:42:1"})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(double.sessions()) == 1


def test_same_idempotency_key_with_other_params_is_an_idempotency_error(client):
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "checkout:43:1"})
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.checkout.sessions.create(
            params=session_params(customer_email="other@example.com"), options={"idempotency_key": "checkout:43:1"}
        )
    assert caught.value.http_status == 400


def test_a_rejected_request_does_not_burn_its_idempotency_key(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params=session_params(expires_at=1), options={"idempotency_key": "checkout:44:1"}
        )
    session = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "checkout:44:1"})
    assert session.status == "open"


@pytest.mark.parametrize("offset", [60, 29 * 60, 25 * 60 * 60])
def test_expires_at_outside_30_minutes_to_24_hours_is_rejected(client, offset):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, expires_at=int(time.time()) + offset)
    assert caught.value.http_status == 400
    assert caught.value.param == "expires_at"


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"line_items": None}, "line_items"),
        ({"line_items": [{"price": "price_x"}]}, "line_items[0][quantity]"),
        (
            {"line_items": [{"price_data": {"unit_amount": 999, "product_data": {"name": "x"}}, "quantity": 1}]},
            "line_items[0][price_data][currency]",
        ),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_params_name_the_param(client, overrides, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, **overrides)
    assert caught.value.param == param


def test_requests_without_a_test_secret_key_are_401(stripe_server, double):
    url = stripe_server.base + "/v1/checkout/sessions"
    for headers in ({}, {"Authorization": "Bearer sk_live_0123456789abcdef"}, {"Authorization": "Bearer pk_test_1"}):
        response = requests.post(url, data={"mode": "payment"}, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
    live = stripe.StripeClient("sk_live_0123456789abcdef", base_addresses={"api": stripe_server.base})
    with pytest.raises(stripe.AuthenticationError):
        live.v1.checkout.sessions.retrieve("cs_test_x")


def test_unknown_api_urls_answer_stripe_shaped_404(stripe_server, double):
    response = requests.get(
        stripe_server.base + "/v1/prices", headers={"Authorization": "Bearer sk_test_x"}, timeout=10
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unrecognized request URL (GET: /v1/prices)."


def test_the_double_also_works_at_the_root_of_its_own_port():
    app = create_app(webhook_url=None, webhook_secret=SECRET, public_base="http://localhost:1")
    with ServedApp(app) as server:
        client = stripe.StripeClient("sk_test_root", base_addresses={"api": server.url})
        session = create(client)
        assert client.v1.checkout.sessions.retrieve(session.id).id == session.id


# -- the hosted page and webhooks -----------------------------------------------------------------------------------


def test_the_hosted_page_is_labelled_and_escapes_the_email(client, stripe_server):
    session = create(client, customer_email='"<script>alert(1)</script>"@example.com')
    page = requests.get(session.url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "Test mode — local Stripe double, no real payment" in text
    assert "GhostShell birth certificate" in text
    assert "US$9.99" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text and " src=" not in text and "<link" not in text  # nothing loaded, nothing run
    assert f'action="/_stripe/pay/{session.id}/pay"' in text
    assert f'action="/_stripe/pay/{session.id}/cancel"' in text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_pay_completes_the_session_delivers_one_signed_event_and_redirects(client, stripe_server, receiver, double):
    session = create(client)
    response = pay(stripe_server, session.id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"http://registry.test/paid/?session_id={session.id}"
    # Delivered synchronously: already processed when the browser follows the redirect.
    assert [e["type"] for e in receiver.events] == ["checkout.session.completed"]
    event = receiver.events[0]
    assert event["id"].startswith("evt_test_") and event["object"] == "event" and event["livemode"] is False
    assert event["data"]["object"]["id"] == session.id
    assert event["data"]["object"]["payment_status"] == "paid"
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent.startswith("pi_test_")
    assert paid.customer_details.email == "owner@example.com"
    assert double.wait_for_deliveries(2)
    assert len(receiver.events) == 1 and receiver.rejected == []
    assert double.deliveries[0] | {"event_id": None} == {
        "event_id": None,
        "type": "checkout.session.completed",
        "session_id": session.id,
        "state": "delivered",
        "attempts": 1,
        "status_code": 200,
        "error": None,
        "redelivery": False,
    }


def test_paying_twice_or_after_expiry_is_a_409_page(client, stripe_server):
    paid = create(client)
    assert pay(stripe_server, paid.id).status_code == 303
    again = pay(stripe_server, paid.id)
    assert again.status_code == 409 and "already been paid" in again.text
    expired = create(client)
    client.v1.checkout.sessions.expire(expired.id)
    late = pay(stripe_server, expired.id)
    assert late.status_code == 409 and "has expired" in late.text
    assert requests.get(f"{stripe_server.base}/pay/{expired.id}", timeout=10).status_code == 409
    assert requests.get(f"{stripe_server.base}/pay/cs_test_unknown", timeout=10).status_code == 404


def test_without_a_prefilled_email_the_page_asks_for_one(client, stripe_server):
    session = create(client, customer_email=None)
    page = requests.get(session.url, timeout=10).text
    assert '<label for="email">Email</label>' in page and 'id="email"' in page
    assert pay(stripe_server, session.id).status_code == 422
    assert pay(stripe_server, session.id, email="typed@example.com").status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).customer_details.email == "typed@example.com"


def test_cancel_redirects_and_leaves_the_session_open(client, stripe_server, receiver):
    session = create(client)
    response = requests.post(f"{stripe_server.base}/pay/{session.id}/cancel", allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == "http://registry.test/register/"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert receiver.events == []


def test_expire_through_the_api_delivers_one_expired_event(client, receiver, double):
    session = create(client)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None
    assert double.wait_for_deliveries(2)
    assert [(e["type"], e["data"]["object"]["id"]) for e in receiver.events] == [
        ("checkout.session.expired", session.id)
    ]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_a_failing_endpoint_is_retried_until_it_accepts(client, stripe_server, receiver, double):
    receiver.fail_next = 2
    session = create(client)
    assert pay(stripe_server, session.id).status_code == 303  # the browser is not held up by the failure
    assert double.wait_for_deliveries(3)
    assert receiver.attempts == 3
    assert [e["type"] for e in receiver.events] == ["checkout.session.completed"]
    (delivery,) = double.deliveries
    assert (delivery["state"], delivery["attempts"], delivery["status_code"]) == ("delivered", 3, 200)


def test_an_endpoint_that_never_accepts_is_marked_failed(client, stripe_server, receiver, double):
    receiver.fail_next = 99
    session = create(client)
    pay(stripe_server, session.id)
    assert double.wait_for_deliveries(3)
    (delivery,) = double.deliveries
    assert delivery["state"] == "failed"
    assert delivery["attempts"] == receiver.attempts == 1 + len(RETRY_DELAYS)
    assert delivery["status_code"] == 500


def test_a_bad_secret_is_rejected_by_the_receiver(receiver_server, double):
    wrong = create_app(
        webhook_url=receiver_server.url + "/api/stripe/webhook",
        webhook_secret="whsec_wrong",
        public_base="http://x",
        retry_delays=(),
    )
    session = wrong.double.create_session(
        parse_stripe_form(
            [
                ("mode", "payment"),
                ("line_items[0][price]", "price_x"),
                ("line_items[0][quantity]", "1"),
                ("customer_email", "a@example.com"),
            ]
        )
    )
    wrong.double.complete(session["id"])
    assert wrong.double.wait_for_deliveries(2)
    assert receiver_server.receiver.events == []
    assert receiver_server.receiver.rejected
    assert wrong.double.deliveries[0]["state"] == "failed"


# -- control endpoints ----------------------------------------------------------------------------------------------


def control(stripe_server, method, path, **kwargs):
    response = requests.request(method, f"{stripe_server.base}/_control/{path}", timeout=10, **kwargs)
    return response


def test_control_complete_marks_paid_without_a_webhook_and_redeliver_sends_it(client, stripe_server, receiver):
    session = create(client)
    response = control(stripe_server, "POST", f"sessions/{session.id}/complete")
    assert response.status_code == 200 and response.json()["payment_status"] == "paid"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    assert receiver.events == []
    (withheld,) = control(stripe_server, "GET", "events").json()
    assert withheld["state"] == "withheld"
    redelivered = control(stripe_server, "POST", f"sessions/{session.id}/redeliver").json()
    assert redelivered["state"] == "delivered" and redelivered["redelivery"] is True
    assert [e["id"] for e in receiver.events] == [withheld["event_id"]]


def test_redeliver_replays_the_same_event_id(client, stripe_server, receiver):
    session = create(client)
    pay(stripe_server, session.id)
    control(stripe_server, "POST", f"sessions/{session.id}/redeliver")
    assert len(receiver.events) == 2
    assert receiver.events[0]["id"] == receiver.events[1]["id"]


def test_control_expire_is_synchronous(client, stripe_server, receiver):
    session = create(client)
    response = control(stripe_server, "POST", f"sessions/{session.id}/expire")
    assert response.json()["status"] == "expired"
    assert [e["type"] for e in receiver.events] == ["checkout.session.expired"]
    assert control(stripe_server, "POST", f"sessions/{session.id}/expire").status_code == 400
    missing = control(stripe_server, "POST", "sessions/cs_test_missing/expire")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"


def test_delivery_can_be_switched_off(client, stripe_server, receiver):
    assert control(stripe_server, "POST", "delivery", json={"enabled": False}).json() == {"enabled": False}
    session = create(client)
    assert pay(stripe_server, session.id).status_code == 303
    assert receiver.events == []
    assert [d["state"] for d in control(stripe_server, "GET", "events").json()] == ["disabled"]
    assert control(stripe_server, "POST", "delivery", json={"enabled": "yes"}).status_code == 400
    control(stripe_server, "POST", "delivery", json={"enabled": True})
    control(stripe_server, "POST", f"sessions/{session.id}/redeliver")
    assert [e["type"] for e in receiver.events] == ["checkout.session.completed"]


def test_sessions_settle_and_reset(client, stripe_server, double):
    session = create(client)
    assert [s["id"] for s in control(stripe_server, "GET", "sessions").json()] == [session.id]
    assert control(stripe_server, "POST", "settle", json={"timeout": 1}).json()["settled"] is True
    assert control(stripe_server, "POST", "reset").json() == {"reset": True}
    assert double.sessions() == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)


def test_a_session_past_expires_at_expires_by_itself(receiver_server, double):
    now = [time.time()]
    app = create_app(
        webhook_url=receiver_server.url + "/api/stripe/webhook",
        webhook_secret=SECRET,
        public_base="http://x",
        retry_delays=(),
        clock=lambda: now[0],
    )
    session = app.double.create_session(
        parse_stripe_form([("mode", "payment"), ("line_items[0][price]", "price_x"), ("line_items[0][quantity]", "1")])
    )
    now[0] = session["expires_at"] + 1
    assert app.double.get_session(session["id"])["status"] == "expired"
    assert app.double.wait_for_deliveries(2)
    assert [e["type"] for e in receiver_server.receiver.events] == ["checkout.session.expired"]


# -- helpers --------------------------------------------------------------------------------------------------------


def test_parse_stripe_form_nests_keys_and_keeps_metadata_keys():
    parsed = parse_stripe_form(
        [
            ("line_items[0][price_data][unit_amount]", "999"),
            ("line_items[1][price]", "price_x"),
            ("metadata[0]", "digit key"),
            ("expand[]", "line_items"),
            ("expand[]", "payment_intent"),
        ]
    )
    assert parsed == {
        "line_items": [{"price_data": {"unit_amount": "999"}}, {"price": "price_x"}],
        "metadata": {"0": "digit key"},
        "expand": ["line_items", "payment_intent"],
    }


def test_format_amount():
    assert format_amount(999, "usd") == "US$9.99"
    assert format_amount(123456, "eur") == "€1,234.56"
    assert format_amount(500, "jpy") == "¥500"


def test_events_are_json_round_trippable(client, stripe_server, double):
    session = create(client)
    pay(stripe_server, session.id)
    (event,) = double.events
    assert json.loads(json.dumps(event))["data"]["object"]["status"] == "complete"


def test_a_paid_session_page_says_paid_and_links_back(client, stripe_server):
    """The back button from the registry's post-payment page lands here: it must not also say that no payment was
    taken, and "Return to the registry" is a real link (to where the payment led)."""
    paid = create(client)
    assert pay(stripe_server, paid.id).status_code == 303
    page = requests.get(f"{stripe_server.base}/pay/{paid.id}", timeout=10)
    assert page.status_code == 409
    assert "already been paid" in page.text and "No payment was taken" not in page.text
    assert f'<a href="http://registry.test/paid/?session_id={paid.id}">Return to the registry</a>' in page.text
    assert "code { overflow-wrap: anywhere; }" in page.text  # the long session id wraps at 360 px
    expired = create(client)
    client.v1.checkout.sessions.expire(expired.id)
    late = requests.get(f"{stripe_server.base}/pay/{expired.id}", timeout=10)
    assert "has expired" in late.text and "No payment was taken" in late.text
    assert '<a href="http://registry.test/register/">Return to the registry</a>' in late.text
