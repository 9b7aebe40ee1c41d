"""POST /api/cert/checkout and the test checkout: purchase rows, the Stripe session the SDK creates, errors."""

from __future__ import annotations

import pytest

from api.config import Config, ConfigError
from api.models import OutboxMessage, Purchase

from .support import BASE_URL, assert_error


def test_json_checkout_creates_a_pending_purchase_and_a_stripe_session(client, stripe_double):
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "  Buyer@Example.COM "})
    assert result.status_code == 200, result.text
    session_id = result.json["session_id"]
    assert result.json["checkout_url"].endswith(f"/pay/{session_id}")

    purchase = Purchase.get(Purchase.stripe_session_id == session_id)
    assert purchase.status == "pending"
    assert purchase.token_hash and len(purchase.token_last4) == 4  # allocated at checkout start
    assert purchase.paid_at is None

    session = stripe_double.get_session(session_id)
    assert session["mode"] == "payment"
    assert session["customer_email"] == "buyer@example.com"
    assert session["client_reference_id"] == purchase.ref
    assert session["metadata"] == {"purchase_ref": purchase.ref}
    assert session["success_url"] == f"{BASE_URL}/handoff/?session_id={{CHECKOUT_SESSION_ID}}"
    assert session["cancel_url"] == f"{BASE_URL}/issue/?cancelled=1"
    assert session["allow_promotion_codes"] is True
    assert session["amount_total"] == 999 and session["currency"] == "usd"
    assert 30 * 60 <= session["expires_at"] - session["created"] <= 24 * 3600
    # The bearer token never leaves for Stripe.
    assert "GSTK" not in str(session)


def test_checkout_sets_an_httponly_binding_cookie(client):
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "buyer@example.com"})
    cookie = result.cookies["gs_handoff"]
    assert cookie.http_only and cookie.path == "/api/cert/handoff-token" and cookie.secure
    assert cookie.same_site.lower() == "lax"


def test_form_checkout_redirects_to_the_checkout_page(client):
    result = client.simulate_post(
        "/api/cert/checkout",
        body="recovery_email=buyer%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 303
    assert "/pay/cs_test_" in result.headers["location"]


def test_configured_price_id_is_used(make_client, stripe_double):
    client = make_client(stripe_price_id="price_test_certificate")
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "buyer@example.com"})
    assert result.status_code == 200
    items = stripe_double.line_items(result.json["session_id"])["data"]
    assert items[0]["price"]["id"] == "price_test_certificate"


@pytest.mark.parametrize(
    "email",
    ["", "not-an-email", "a@b", "x" * 250 + "@example.com", "a b@example.com", "line\nbreak@example.com", None, 42],
)
def test_invalid_email_is_refused_and_creates_nothing(client, email):
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": email})
    assert_error(result, 400, "invalid_email")
    assert Purchase.select().count() == 0


def test_stripe_failure_is_a_clean_502(make_client):
    client = make_client(stripe_api_base="http://127.0.0.1:9")  # nothing listens there
    result = client.simulate_post("/api/cert/checkout", json={"recovery_email": "buyer@example.com"})
    body = assert_error(result, 502, "payment_provider_error")
    assert "stripe" not in body["message"].lower()
    purchase = Purchase.get()
    assert purchase.status == "failed" and purchase.token_enc is None


def test_get_is_not_allowed(client):
    assert_error(client.simulate_get("/api/cert/checkout"), 405, "method_not_allowed")


def test_test_checkout_is_absent_by_default(client):
    result = client.simulate_post("/api/cert/test-checkout", json={"recovery_email": "buyer@example.com"})
    assert_error(result, 404, "not_found")
    assert Purchase.select().count() == 0


def test_test_checkout_issues_a_paid_token_and_queues_the_private_link(make_client):
    client = make_client(test_checkout=True)
    result = client.simulate_post("/api/cert/test-checkout", json={"recovery_email": "buyer@example.com"})
    assert result.status_code == 201
    token = result.json["token"]
    assert result.json["private_url"] == f"{BASE_URL}/p/#{token}"
    assert result.json["register_url"] == f"{BASE_URL}/register/#token={token}&by=human"
    purchase = Purchase.get()
    assert purchase.status == "paid" and purchase.is_test and purchase.paid_at is not None
    assert [m.kind for m in OutboxMessage.select()] == ["private_link"]

    status = client.simulate_get("/api/cert/token-status", headers={"Authorization": f"Bearer {token}"})
    assert status.json["mode"] == "new"


def test_test_checkout_form_post_goes_to_the_register_page(make_client):
    client = make_client(test_checkout=True)
    result = client.simulate_post(
        "/api/cert/test-checkout",
        body="recovery_email=buyer%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 303
    assert result.headers["location"].startswith(f"{BASE_URL}/register/#token=GSTK-")


def test_test_checkout_is_refused_in_production(tmp_path):
    environ = {
        "GHOSTSHELL_ENV": "production",
        "GHOSTSHELL_TEST_CHECKOUT": "1",
        "BASE_URL": "https://x.test",
        "DATABASE_URL": "postgresql://x",
        "GHOSTSHELL_SECRET_KEY": "k" * 40,
        "EMAIL_ENC_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "GHOSTSHELL_SIGNING_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "RESEND_API_KEY": "re_x",
        "RESEND_FROM_EMAIL": "a@x.test",
    }
    with pytest.raises(ConfigError, match="refused in production"):
        Config.from_env(environ, dev_keys_path=tmp_path / "keys.json")
    environ.pop("GHOSTSHELL_TEST_CHECKOUT")
    assert Config.from_env(environ).test_checkout is False
