"""The holder's authority made real: the purchase token is the holder's, an agent token is the agent's.

Every refusal of an agent token is a 403 with a clear error and consumes nothing: no certificate, no card number,
no submission counted, no audit event, no change to the lock.
"""

from __future__ import annotations

import re

import pytest

from api import certificates, purchases
from api.models import AgentToken, AuditEvent, CardCounter, Certificate, OutboxMessage, Purchase

from .support import BASE_URL, assert_error, bearer, correct, mint_agent_token, redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")

AGENT_TOKEN = re.compile(r"^GSAT-[0-9A-HJKMNP-TV-Z]{24}$")


def lock(client, token, locked=True):
    return client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": locked})


def snapshot():
    """Everything a refused request must leave as it was."""
    cert = Certificate.select().first()
    return (
        Certificate.select().count(),
        cert and (cert.edit_count, cert.agent_name, cert.lock_agent_edits, cert.record_hash),
        [(c.year, c.seq) for c in CardCounter.select()],
        AuditEvent.select().count(),
        [(t.id, t.revoked_at, t.last_used_at) for t in AgentToken.select().order_by(AgentToken.id)],
        [(p.id, p.used_at, p.certificate_id) for p in Purchase.select().order_by(Purchase.id)],
        OutboxMessage.select().count(),
    )


def refused(result, code: str, before) -> dict:
    body = assert_error(result, 403, code)
    assert snapshot() == before
    return body


# -- minting ----------------------------------------------------------------------------------------------------


def test_the_holder_mints_an_agent_token_stored_only_as_a_keyed_hash(client, paid_token, ctx, db, clock):
    token = paid_token()
    result = client.simulate_post("/api/cert/agent-token", headers=bearer(token))
    assert result.status_code == 201, result.text
    agent_token = result.json["agent_token"]
    assert AGENT_TOKEN.match(agent_token)
    assert result.json == {
        "agent_token": agent_token,
        "created_at": "2026-11-25T10:00:00Z",
        "replaced": False,
        "agent_url": f"{BASE_URL}/register/#token={agent_token}&by=agent",
        "llms_txt_url": f"{BASE_URL}/llms.txt",
        "instructions_url": f"{BASE_URL}/api/agent/instructions",
    }
    assert token not in result.text
    row = AgentToken.get()
    assert row.token_hash == ctx.keyring.agent_token_hash(agent_token) != ctx.keyring.token_hash(agent_token)
    assert row.token_last4 == agent_token[-4:]
    # Nowhere in the database in plaintext.
    for table in db.get_tables():
        for values in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            assert not any(isinstance(v, str) and agent_token[5:] in v for v in values), table
    state = client.simulate_get("/api/cert/agent-token", headers=bearer(token))
    assert state.json == {
        "active": True,
        "token_last4": agent_token[-4:],
        "created_at": "2026-11-25T10:00:00Z",
        "last_used_at": None,
    }


def test_a_new_agent_token_revokes_the_previous_one(client, paid_token):
    token = paid_token()
    first = mint_agent_token(client, token)
    second = client.simulate_post("/api/cert/agent-token", json={"token": token})
    assert second.status_code == 201 and second.json["replaced"] is True
    assert_error(client.simulate_get("/api/cert/token-status", headers=bearer(first)), 403, "agent_token_revoked")
    status = client.simulate_get("/api/cert/token-status", headers=bearer(second.json["agent_token"]))
    assert status.status_code == 200 and status.json["credential"] == "agent"
    assert AgentToken.select().where(AgentToken.revoked_at.is_null()).count() == 1


def test_minting_needs_a_paid_token_inside_its_claim_window_and_an_unrevoked_certificate(
    client, paid_token, ctx, clock
):
    pending = paid_token()  # set back to pending: a pending checkout's token never leaves the server
    Purchase.update(status="pending").where(Purchase.token_hash == ctx.keyring.token_hash(pending)).execute()
    assert_error(client.simulate_post("/api/cert/agent-token", headers=bearer(pending)), 409, "not_paid")
    late = paid_token()
    clock.advance(days=8)
    assert_error(client.simulate_post("/api/cert/agent-token", headers=bearer(late)), 410, "claim_window_closed")
    clock.advance(days=-8)
    issued = paid_token()
    public_id = redeem(client, issued).json["public_id"]
    certificates.revoke(ctx, public_id, "Refunded")
    assert_error(client.simulate_post("/api/cert/agent-token", headers=bearer(issued)), 410, "revoked")
    assert AgentToken.select().count() == 0


def test_agent_token_route_errors(client, paid_token):
    assert_error(client.simulate_post("/api/cert/agent-token"), 401, "missing_token")
    assert_error(client.simulate_post("/api/cert/agent-token", headers=bearer("nope")), 401, "invalid_token")
    unknown = "GSAT-" + "0" * 24
    assert_error(client.simulate_get("/api/cert/token-status", headers=bearer(unknown)), 404, "unknown_token")
    assert client.simulate_get("/api/cert/agent-token", headers=bearer(paid_token())).json == {"active": False}


# -- what the agent token may not do ------------------------------------------------------------------------------


def test_the_agent_token_cannot_lock_or_unlock(client, paid_token):
    token = paid_token()
    redeem(client, token)
    agent_token = mint_agent_token(client, token)
    before = snapshot()
    body = refused(lock(client, agent_token, True), "holder_token_required", before)
    assert "lock or unlock agent edits" in body["message"]
    assert lock(client, token, True).json == {"lock_agent_edits": True}
    # Once locked the agent token no longer works at all, so unlocking is refused too (by the lock itself).
    before = snapshot()
    refused(lock(client, agent_token, False), "agent_edits_locked", before)
    assert Certificate.get().lock_agent_edits is True


def test_the_agent_token_cannot_unlock_even_when_the_lock_is_off(client, paid_token):
    token = paid_token()
    redeem(client, token)
    agent_token = mint_agent_token(client, token)
    before = snapshot()
    refused(lock(client, agent_token, False), "holder_token_required", before)


def test_the_agent_token_cannot_submit_as_human(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    before = snapshot()
    body = refused(redeem(client, agent_token, edit_source="human"), "edit_source_not_permitted", before)
    assert "only the holder's purchase token submits as human" in body["message"]
    assert Certificate.select().count() == 0
    # The same refusal on a correction, and before the fields are looked at.
    redeem(client, agent_token, edit_source=...)
    before = snapshot()
    refused(
        correct(client, agent_token, edit_source="human", inception_date="nope"), "edit_source_not_permitted", before
    )


def test_the_holder_token_cannot_pose_as_the_agent(client, paid_token):
    token = paid_token()
    before = snapshot()
    body = refused(redeem(client, token, edit_source="agent"), "edit_source_not_permitted", before)
    assert "POST /api/cert/agent-token" in body["message"]


def test_the_agent_token_cannot_edit_after_the_lock(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    assert redeem(client, agent_token, edit_source=...).status_code == 201
    assert lock(client, token).status_code == 200
    before = snapshot()
    body = refused(correct(client, agent_token, agent_name="After the lock"), "agent_edits_locked", before)
    assert "locked agent edits" in body["message"]
    # It stops working everywhere, token-status included.
    assert_error(client.simulate_get("/api/cert/token-status", headers=bearer(agent_token)), 403, "agent_edits_locked")
    # The holder unlocks: the agent token works again.
    assert lock(client, token, False).status_code == 200
    assert correct(client, agent_token, agent_name="After the unlock").status_code == 200


def test_the_agent_token_cannot_edit_after_revocation(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    assert redeem(client, agent_token, edit_source=...).status_code == 201
    revoked = client.simulate_delete("/api/cert/agent-token", headers=bearer(token))
    assert revoked.status_code == 200 and revoked.json == {"revoked": True}
    before = snapshot()
    body = refused(correct(client, agent_token, agent_name="After revocation"), "agent_token_revoked", before)
    assert "revoked this agent token" in body["message"]
    assert client.simulate_delete("/api/cert/agent-token", headers=bearer(token)).json == {"revoked": False}
    assert client.simulate_get("/api/cert/agent-token", headers=bearer(token)).json == {"active": False}


def test_a_revoked_agent_token_cannot_make_the_first_submission(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    client.simulate_delete("/api/cert/agent-token", headers=bearer(token))
    before = snapshot()
    refused(redeem(client, agent_token, edit_source=...), "agent_token_revoked", before)


def test_the_agent_token_cannot_mint_revoke_or_open_the_private_record(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    before = snapshot()
    refused(client.simulate_post("/api/cert/agent-token", headers=bearer(agent_token)), "holder_token_required", before)
    refused(
        client.simulate_delete("/api/cert/agent-token", headers=bearer(agent_token)), "holder_token_required", before
    )
    refused(client.simulate_get("/api/cert/agent-token", headers=bearer(agent_token)), "holder_token_required", before)
    refused(client.simulate_get("/api/cert/private", headers=bearer(agent_token)), "holder_token_required", before)


def test_support_rotation_revokes_the_agent_token(client, paid_token, ctx):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    public_id = redeem(client, agent_token, edit_source=...).json["public_id"]
    purchases.rotate_token(ctx, public_id)
    assert_error(correct(client, agent_token, agent_name="After rotation"), 403, "agent_token_revoked")


def test_a_revoked_certificate_answers_revoked_to_the_agent_token(client, paid_token, ctx):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    public_id = redeem(client, agent_token, edit_source=...).json["public_id"]
    certificates.revoke(ctx, public_id, "Refunded")
    assert_error(correct(client, agent_token, agent_name="x"), 410, "revoked")


# -- what the holder token may do, and the letter -----------------------------------------------------------------


def test_the_holder_token_can_lock_unlock_submit_as_human_and_edit_after_the_lock(client, paid_token):
    token = paid_token()
    assert redeem(client, token, edit_source="human").status_code == 201
    assert lock(client, token, True).json == {"lock_agent_edits": True}
    after_lock = correct(client, token, agent_name="Holder after lock")
    assert after_lock.status_code == 200 and after_lock.json["edit_source"] == "human"
    assert lock(client, token, False).json == {"lock_agent_edits": False}
    assert correct(client, token, edit_source="human", agent_name="Holder again").status_code == 200
    cert = Certificate.get()
    assert (cert.edit_count, cert.human_edit_count, cert.agent_edit_count) == (3, 3, 0)
    assert [e.action for e in AuditEvent.select().order_by(AuditEvent.id)] == [
        "issue",
        "lock",
        "correct",
        "unlock",
        "correct",
    ]


@pytest.mark.parametrize("kind, letter", [("holder", "H"), ("agent", "A")])
def test_the_public_id_letter_follows_the_credential_used(client, paid_token, kind, letter):
    token = paid_token()
    presented = mint_agent_token(client, token) if kind == "agent" else token
    created = redeem(client, presented, edit_source=...)  # no edit_source at all: the credential decides
    assert created.status_code == 201, created.text
    assert created.json["public_id"] == f"GS-BC-{letter}-26-1"
    assert created.json["edit_source"] == ("agent" if kind == "agent" else "human")
    assert ("private_url" in created.json) == (kind == "holder")  # the private page is the holder's
    cert = Certificate.get()
    assert cert.registration_source == created.json["edit_source"]
    # A later correction by the other credential never changes the letter.
    other = token if kind == "agent" else mint_agent_token(client, token)
    assert correct(client, other, agent_name="Corrected").status_code == 200
    assert Certificate.get().public_id == f"GS-BC-{letter}-26-1"


def test_agent_token_use_is_recorded(client, paid_token, clock):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    clock.advance(minutes=5)
    redeem(client, agent_token, edit_source=..., agent_handle="@joule")
    state = client.simulate_get("/api/cert/agent-token", headers=bearer(token)).json
    assert state["last_used_at"] == "2026-11-25T10:05:00Z"
    event = AuditEvent.get(AuditEvent.action == "issue")
    assert (event.source, event.agent_handle, event.agent_token.token_last4) == ("agent", "@joule", agent_token[-4:])


def test_token_status_names_the_credential(client, paid_token):
    token = paid_token()
    agent_token = mint_agent_token(client, token)
    holder = client.simulate_get("/api/cert/token-status", headers=bearer(token)).json
    agent = client.simulate_get("/api/cert/token-status", headers=bearer(agent_token)).json
    assert (holder["credential"], holder["edit_source"]) == ("holder", "human")
    assert (agent["credential"], agent["edit_source"]) == ("agent", "agent")
    assert holder["mode"] == agent["mode"] == "new"


def test_existing_tokens_and_records_keep_working(client, paid_token, db):
    """A record issued before delegation (the letter from the old form field) and its purchase token: the token is
    the holder's and still corrects, locks and mints."""
    token = paid_token()
    redeem(client, token)
    Certificate.update(public_id="GS-BC-A-26-1", public_id_key="GSBCA261", registration_source="agent").execute()
    assert correct(client, token, agent_name="Still mine").status_code == 200
    assert lock(client, token).status_code == 200
    assert client.simulate_post("/api/cert/agent-token", headers=bearer(token)).status_code == 201
    assert client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-A-26-1"}).json["agent_name"] == "Still mine"
