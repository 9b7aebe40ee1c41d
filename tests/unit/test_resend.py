"""Resending the private link (POST /api/cert/resend) and replacing it at the holder's request
(POST /api/cert/resend/confirm): identical answers for known and unknown addresses, mail only to known ones, rate
limits per client and per address (keyed on a keyed hash, never the address), a fresh token only when the holder
opens the emailed replacement link."""

from __future__ import annotations

import re

import falcon.testing
import pytest

from api import certificates
from api.app import create_app
from api.config import DEFAULT_RATE_LIMITS
from api.models import AuditEvent, OutboxMessage, Purchase
from api.ratelimit import RateLimiter
from api.states import PurchaseStatus

from .support import BASE_URL, assert_error, bearer, submission

pytestmark = pytest.mark.usefixtures("fixed_clock")


def issue(ctx, paid_token, email: str):
    """A certificate issued through the domain: (token, Certificate)."""
    token = paid_token(email)
    return token, certificates.redeem(ctx, submission(token)).certificate


REPLACE = re.compile(r"/issue/#replace=([A-Za-z0-9_\-]+\.[0-9a-f]+)")


def resend(client, email, **extra):
    return client.simulate_post("/api/cert/resend", json={"email": email, **extra})


def test_known_and_unknown_addresses_get_the_same_answer_and_only_known_ones_get_mail(
    client, ctx, paid_token, deliver_mail
):
    token, cert = issue(ctx, paid_token, "holder@example.com")
    unused = paid_token("holder@example.com")
    deliver_mail()  # the issuing emails
    known = resend(client, "  Holder@Example.com ")
    unknown = resend(client, "stranger@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.text == unknown.text
    assert known.json["status"] == "accepted"
    assert "stranger" not in unknown.text

    sent = [m for m in deliver_mail() if m["subject"] == "Your GhostShell private links"]
    assert len(sent) == 1 and sent[0]["to"] == ["holder@example.com"]
    text = sent[0]["text"]
    assert f"Certificate {cert.public_id}" in text and f"{BASE_URL}/p/#{token}" in text
    assert f"{BASE_URL}/p/#{unused}" in text and "not used yet" in text
    assert "#replace=" not in text  # no replacement offered unless asked
    assert OutboxMessage.select().where(OutboxMessage.kind == "link_resent").count() == 1


def test_unpaid_and_purged_purchases_are_not_known(client, ctx, deliver_mail, clock):
    from api import purchases
    from api.crypto import new_token

    with ctx.db.atomic():
        purchases._new_purchase(ctx, "abandoned@example.com", new_token(), status=PurchaseStatus.ABANDONED)
    answer = resend(client, "abandoned@example.com")
    assert answer.status_code == 202
    assert OutboxMessage.select().where(OutboxMessage.kind == "link_resent").count() == 0


def test_invalid_input_is_a_clear_error(client):
    assert_error(resend(client, "not an address"), 400, "invalid_email")
    assert_error(client.simulate_post("/api/cert/resend", json={}), 400, "invalid_email")
    assert_error(resend(client, "a@example.com", new_link="perhaps"), 400, "invalid_field", "new_link")
    assert_error(client.simulate_post("/api/cert/resend/confirm", json={"code": "x.y"}), 400, "invalid_replace_link")
    assert_error(client.simulate_post("/api/cert/resend/confirm", json={}), 400, "invalid_replace_link")


def test_a_fresh_link_only_when_the_holder_opens_the_replacement_link(client, ctx, paid_token, deliver_mail, clock):
    token, cert = issue(ctx, paid_token, "holder@example.com")
    deliver_mail()
    resend(client, "holder@example.com", new_link=True)
    assert client.simulate_get("/api/cert/private", headers=bearer(token)).status_code == 200  # nothing changed yet
    text = [m for m in deliver_mail() if m["subject"] == "Your GhostShell private links"][0]["text"]
    assert f"/p/#{token}" in text
    code = REPLACE.search(text).group(1)

    clock.advance(hours=1)
    done = client.simulate_post("/api/cert/resend/confirm", json={"code": code})
    assert done.status_code == 200 and done.json["status"] == "replaced"
    assert_error(client.simulate_get("/api/cert/private", headers=bearer(token)), 404, "unknown_token")
    new_mail = [m for m in deliver_mail() if "new private link" in m["subject"]]
    assert len(new_mail) == 1 and "As requested" in new_mail[0]["text"]
    new_token = re.search(r"/p/#(GSTK-[0-9A-Z]+)", new_mail[0]["text"]).group(1)
    assert new_token != token
    assert client.simulate_get("/api/cert/private", headers=bearer(new_token)).json["state"] == "issued"
    event = AuditEvent.select().where(AuditEvent.action == "rotate_token").get()
    assert (event.source, event.detail) == ("human", "token replaced at the holder's request")

    # The replacement link works once; a later resend carries the new link.
    assert_error(client.simulate_post("/api/cert/resend/confirm", json={"code": code}), 409, "replace_link_used")
    resend(client, "holder@example.com")
    latest = [m for m in deliver_mail() if m["subject"] == "Your GhostShell private links"][-1]["text"]
    assert f"/p/#{new_token}" in latest and f"/p/#{token}" not in latest


def test_replacement_links_expire_and_cannot_be_forged(client, ctx, paid_token, deliver_mail, clock):
    issue(ctx, paid_token, "holder@example.com")
    deliver_mail()
    resend(client, "holder@example.com", new_link="1")
    code = REPLACE.search(deliver_mail()[-1]["text"]).group(1)
    body, signature = code.split(".")
    forged = body + "." + ("0" if signature[0] != "0" else "1") + signature[1:]
    assert_error(client.simulate_post("/api/cert/resend/confirm", json={"code": forged}), 400, "invalid_replace_link")
    clock.advance(hours=24, seconds=1)
    assert_error(client.simulate_post("/api/cert/resend/confirm", json={"code": code}), 410, "replace_link_expired")


def test_purchases_paid_before_the_sealed_copy_existed_are_offered_a_replacement(client, ctx, paid_token, deliver_mail):
    paid_token("older@example.com")
    Purchase.update(link_token_enc=None).execute()  # as a purchase paid before release 1.1
    deliver_mail()
    resend(client, "older@example.com")
    text = deliver_mail()[-1]["text"]
    assert "keeps no copy of this link" in text and REPLACE.search(text)


def test_revoked_certificates_get_their_link_but_no_replacement(client, ctx, paid_token, deliver_mail):
    token, cert = issue(ctx, paid_token, "holder@example.com")
    certificates.revoke(ctx, cert.public_id, "Refunded")
    deliver_mail()
    resend(client, "holder@example.com", new_link=True)
    text = deliver_mail()[-1]["text"]
    assert f"{cert.public_id} (revoked)" in text and f"/p/#{token}" in text and "#replace=" not in text


@pytest.fixture
def limited_client(ctx):
    def make(**limits):
        limiter = RateLimiter(dict(DEFAULT_RATE_LIMITS, **limits), enabled=True)
        return falcon.testing.TestClient(create_app(context=ctx, limiter=limiter))

    return make


def test_rate_limited_per_address_whatever_the_client(limited_client, ctx, paid_token):
    paid_token("busy@example.com")
    client = limited_client(resend_address="2/hour")
    for _ in range(2):
        assert resend(client, "busy@example.com").status_code == 202
    limited = client.simulate_post(
        "/api/cert/resend", json={"email": "BUSY@example.com"}, remote_addr="203.0.113.9"
    )  # another client, same address
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    # An unknown address is limited the same way (the limit says nothing about whether the address is known).
    for _ in range(2):
        assert resend(client, "nobody@example.com").status_code == 202
    assert_error(resend(client, "nobody@example.com"), 429, "rate_limited")
    assert resend(client, "someone.else@example.com").status_code == 202
    assert OutboxMessage.select().where(OutboxMessage.kind == "link_resent").count() == 2


def test_rate_limited_per_client(limited_client):
    client = limited_client(resend="3/hour")
    for index in range(3):
        assert resend(client, f"person{index}@example.com").status_code == 202
    assert_error(resend(client, "person9@example.com"), 429, "rate_limited")
    other = client.simulate_post("/api/cert/resend", json={"email": "x@example.com"}, remote_addr="198.51.100.7")
    assert other.status_code == 202


def test_the_per_address_limit_is_keyed_on_a_keyed_hash(ctx):
    from api import resend as domain

    key = domain.address_key(ctx, "busy@example.com")
    assert "busy" not in key and "example" not in key and re.fullmatch(r"[0-9a-f]{64}", key)
    assert key != ctx.keyring.email_hash("busy@example.com")  # not the stored lookup hash either


def test_the_limiter_store_holds_no_address(ctx, paid_token):
    """What the rate limiter stores (in memory here, in Redis when shared) names the keyed hash, not the address."""
    limiter = RateLimiter(dict(DEFAULT_RATE_LIMITS), enabled=True)
    client = falcon.testing.TestClient(create_app(context=ctx, limiter=limiter))
    assert resend(client, "stored.nowhere@example.com").status_code == 202
    keys = list(limiter._limiter.storage.events)
    assert any("resend_address" in key for key in keys), keys
    assert not any("stored.nowhere" in key for key in keys), keys
