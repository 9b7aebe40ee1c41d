"""Helpers shared by the unit tests (no fixtures: those live in conftest.py): the error-contract assertion, signed
Stripe events, and a valid certificate submission with the HTTP calls that send it."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import stripe

WEBHOOK_SECRET = "whsec_unit_test_secret_0123456789abcdef"
OPS_SECRET = "ops-secret-for-unit-tests"
BASE_URL = "https://registry.test"


def assert_error(result, status: int, code: str, field: str | None = None) -> dict:
    """The error contract: JSON `{"error", "message"}` (plus `field`) with the right status."""
    assert result.status_code == status, (result.status_code, result.text)
    assert result.headers["content-type"].startswith("application/json")
    body = result.json
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert body["field"] == field
    assert set(body) <= {"error", "message", "field"}
    return body


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp or int(time.time()))


def stripe_event(event_type: str, session: dict, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{os.urandom(8).hex()}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": session},
        }
    )


def post_event(client, payload: str, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["Stripe-Signature"] = signature if signature is not None else sign(payload)
    return client.simulate_post("/api/stripe/webhook", body=payload, headers=headers)


def make_certificate(ctx, **fields):
    """A certificate row written directly, for tests of purchase-side features that only need one to exist."""
    from api.models import Certificate

    now = ctx.clock()
    values = dict(
        public_id="GS-BC-H-26-Z",
        public_id_key="GSBCH26Z",
        card_year=2026,
        card_seq=31,
        registration_source="human",
        issued_at=now,
        agent_name="Fixture Agent",
        name_key="fixture agent",
        declared_ontological_status="Assistant",
        cognitive_core_family="Undisclosed",
        inception_date=now.date(),
        place_country="Australia",
        last_edited_at=now,
        last_edit_source="human",
        edit_count=1,
        human_edit_count=1,
        record_nonce="0" * 32,
        record_hash="0" * 64,
        public_fingerprint="0" * 64,
    )
    values.update(fields)
    return Certificate.create(**values)


# The certificate tests pin the clock (ids carry the year, answers carry times): `pytestmark =
# pytest.mark.usefixtures("fixed_clock")`, the fixture in conftest.py sets it to FIXED_NOW.
FIXED_NOW = dt.datetime(2026, 11, 25, 10, 0, 0)

VALID = {
    "edit_source": "human",
    "agent_name": "Joule",
    "declared_ontological_status": "Autonomous Agent",
    "cognitive_core_family": "Anthropic",
    "cognitive_core_exact": "Claude Opus 4.6",
    "creator_label": "Custodian Holdings",
    "inception_date": "2026-02-08",
    "place_city": "Hobart",
    "place_state": "Tasmania",
    "place_country": "Australia",
}


def submission(token: str, **changes) -> dict:
    """A valid first submission; a change to `...` leaves that field out."""
    body = {"token": token, **VALID, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def redeem(client, token: str, **changes):
    return client.simulate_post("/api/cert/redeem-token", json=submission(token, **changes))


def correct(client, token: str, **fields):
    return client.simulate_post("/api/cert/redeem-token", json={"token": token, **fields})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def mint_agent_token(client, holder_token: str) -> str:
    """The holder mints an agent token through the API (any earlier one is revoked)."""
    result = client.simulate_post("/api/cert/agent-token", headers=bearer(holder_token))
    assert result.status_code == 201, result.text
    return result.json["agent_token"]


def agent_token_for(ctx, holder_token: str) -> str:
    """The same, through the domain."""
    from api import delegation

    return delegation.mint(ctx, delegation.resolve(ctx, holder_token))["agent_token"]
