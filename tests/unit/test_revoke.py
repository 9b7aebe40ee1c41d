"""Revocation (`python -m api admin revoke`): the record side of a refund. Audited; the record becomes a stub and
its token stops working for anything but the private page's revoked notice."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from api import certificates
from api.errors import RegistryError
from api.models import AuditEvent, Certificate

from .support import BASE_URL, assert_error, bearer, correct

pytestmark = pytest.mark.usefixtures("fixed_clock")


def test_revoke_keeps_a_stub_and_audits(client, ctx, issued, clock):
    token, cert = issued()
    clock.advance(hours=2)
    certificates.revoke(ctx, "gs-bc-h-26-1", "  Refunded on request  ")
    cert = Certificate.get_by_id(cert.id)
    assert (cert.status, cert.revoked_at, cert.revoked_reason) == ("revoked", clock.now, "Refunded on request")
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.source, event.detail) == ("revoke", "support", "Refunded on request")

    stub = client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"})
    assert stub.status_code == 200
    assert stub.json == {
        "public_id": "GS-BC-H-26-1",
        "status": "revoked",
        "revoked_at": "2026-11-25T12:00:00Z",
        "public_url": f"{BASE_URL}/r/GS-BC-H-26-1",
    }
    assert stub.headers["cache-control"] == "public, max-age=86400"
    assert "Joule" not in stub.text and "Refunded" not in stub.text


def test_a_revoked_record_refuses_everything_else(client, ctx, issued):
    token, _ = issued()
    certificates.revoke(ctx, "GS-BC-H-26-1", "refund")
    assert_error(correct(client, token, agent_name="After revocation"), 410, "revoked")
    assert_error(correct(client, token, agent_name=""), 410, "revoked")  # before field validation
    assert_error(client.simulate_get("/api/cert/token-status", headers=bearer(token)), 410, "revoked")
    assert_error(
        client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": True}), 410, "revoked"
    )
    private = client.simulate_get("/api/cert/private", headers=bearer(token))
    stub = {
        "public_id": "GS-BC-H-26-1",
        "status": "revoked",
        "revoked_at": "2026-11-25T10:00:00Z",
        "public_url": f"{BASE_URL}/r/GS-BC-H-26-1",
    }
    assert private.json == {
        "state": "revoked",
        "public_id": "GS-BC-H-26-1",
        "revoked_at": "2026-11-25T10:00:00Z",
        "certificate": stub,
    }
    assert Certificate.get().agent_name == "Joule"


def test_revoke_errors(ctx, issued):
    issued()
    with pytest.raises(RegistryError) as caught:
        certificates.revoke(ctx, "GS-BC-H-26-9", "refund")
    assert caught.value.code == "not_found"
    for reason in ("", "   ", "x" * 501, "line\nbreak"):
        with pytest.raises(RegistryError) as caught:
            certificates.revoke(ctx, "GS-BC-H-26-1", reason)
        assert (caught.value.code, caught.value.field) == ("invalid_field", "reason")
    certificates.revoke(ctx, "GS-BC-H-26-1", "refund")
    with pytest.raises(RegistryError) as caught:
        certificates.revoke(ctx, "GS-BC-H-26-1", "again")
    assert caught.value.code == "conflict"
    assert AuditEvent.select().where(AuditEvent.action == "revoke").count() == 1


def test_revoke_from_the_command_line(ctx, issued, database_url):
    issued()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        GHOSTSHELL_SECRET_KEY="cli-test-secret-key-0123456789-abcdefgh",
        EMAIL_ENC_KEY=base64.b64encode(bytes(32)).decode(),
        STRIPE_WEBHOOK_SECRET="whsec_cli",
        # The revocation is signed: the same key and issuer as the unit tests' registry.
        GHOSTSHELL_SIGNING_KEY=base64.b64encode(bytes(range(32, 64))).decode(),
        BASE_URL=BASE_URL,
    )
    env.pop("GHOSTSHELL_ENV", None)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "api", "admin", "revoke", *args], env=env, capture_output=True, text=True, timeout=60
        )

    done = run("gs-bc-h-26-1", "--reason", "Refunded")
    assert done.returncode == 0, done.stderr
    assert "GS-BC-H-26-1 is revoked." in done.stdout
    ctx.db.close()  # read what the other process committed
    assert Certificate.get().status == "revoked"
    again = run("GS-BC-H-26-1", "--reason", "Refunded")
    assert again.returncode == 1 and "already revoked" in again.stderr
