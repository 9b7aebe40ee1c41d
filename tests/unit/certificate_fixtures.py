"""Shared helpers for the certificate tests (no tests here): a valid submission, issuing through HTTP or the
domain, and a pinned clock."""

from __future__ import annotations

import datetime as dt

import pytest

from api import certificates

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


# The certificate tests pin the clock (ids carry the year, answers carry times); nothing here talks to Stripe.
FIXED_NOW = dt.datetime(2026, 11, 25, 10, 0, 0)


@pytest.fixture(autouse=True)
def fixed_clock(clock):
    clock.now = FIXED_NOW
    return clock


def submission(token: str, **changes) -> dict:
    body = {"token": token, **VALID, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def redeem(client, token: str, **changes):
    return client.simulate_post("/api/cert/redeem-token", json=submission(token, **changes))


def correct(client, token: str, **fields):
    return client.simulate_post("/api/cert/redeem-token", json={"token": token, **fields})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def issued(ctx, paid_token):
    """Issue a certificate through the domain: returns (token, Certificate)."""

    def make(email: str = "holder@example.com", **changes):
        token = paid_token(email)
        result = certificates.redeem(ctx, submission(token, **changes))
        return token, result.certificate

    return make
