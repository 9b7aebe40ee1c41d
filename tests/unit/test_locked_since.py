"""When a locked record stopped accepting corrections (issue 13: "Locked at" showed the future deadline when the
submission cap had locked the record early)."""

from __future__ import annotations

import pytest

from .support import bearer, correct, redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")


def status(client, token):
    return client.simulate_get("/api/cert/token-status", headers=bearer(token)).json


def test_open_records_have_no_locked_since(client, paid_token, clock):
    token = paid_token()
    redeem(client, token)
    assert status(client, token)["locked_since"] is None
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
    assert private["locked_since"] is None


def test_capped_records_are_locked_since_the_last_submission_not_the_deadline(client, paid_token, clock):
    token = paid_token()
    redeem(client, token)  # issued 10:00 (the fixed clock), window closes 10:00 the next day
    for n in range(4):
        clock.advance(minutes=30)
        correct(client, token, place_city=f"City {n}")  # a correction that changes nothing would count nothing
    capped = status(client, token)
    assert capped["lock_reason"] == "cap_reached"
    assert capped["locked_since"] == "2026-11-25T12:00:00Z"
    assert capped["lock_at"] == "2026-11-26T10:00:00Z"  # the deadline, still to come
    clock.advance(hours=30)
    later = status(client, token)
    assert later["lock_reason"] == "window_closed" and later["locked_since"] == "2026-11-25T12:00:00Z"


def test_records_locked_by_the_window_are_locked_since_its_end(client, paid_token, clock):
    token = paid_token()
    redeem(client, token)
    clock.advance(hours=25)
    closed = status(client, token)
    assert (closed["lock_reason"], closed["locked_since"]) == ("window_closed", "2026-11-26T10:00:00Z")
    private = client.simulate_get("/api/cert/private", headers=bearer(token)).json["certificate"]
    assert private["locked_since"] == "2026-11-26T10:00:00Z"
