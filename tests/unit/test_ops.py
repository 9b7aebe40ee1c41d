"""/api/ops/email-summary and `python -m api ops health`."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from api.mail import messages
from api.mail.outbox import queue
from api.models import OutboxMessage

from .support import OPS_SECRET, assert_error


def test_ops_summary_needs_the_secret(client, make_client):
    assert_error(client.simulate_get("/api/ops/email-summary"), 401, "unauthorized")
    wrong = client.simulate_get("/api/ops/email-summary", headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "unauthorized")
    # A secret in the query string is not accepted either.
    assert_error(client.simulate_get("/api/ops/email-summary", params={"key": OPS_SECRET}), 401, "unauthorized")
    unconfigured = make_client(ops_secret=None)
    assert_error(
        unconfigured.simulate_get("/api/ops/email-summary", headers={"Authorization": f"Bearer {OPS_SECRET}"}),
        404,
        "not_found",
    )


def test_ops_summary_counts_without_addresses(client, ctx, stripe_double, paid_token, deliver_mail, resend_double):
    client.simulate_post("/api/cert/checkout", json={"recovery_email": "pending@example.com"})
    paid_token("paid@example.com")
    resend_double.fail_next(1, status=422)
    deliver_mail()
    result = client.simulate_get("/api/ops/email-summary", headers={"Authorization": f"Bearer {OPS_SECRET}"})
    assert result.status_code == 200
    summary = result.json
    assert summary["new_checkouts"] == 1  # test checkouts are not counted as sales
    assert summary["completion_email"] == {"sent": 0, "failed": 1, "pending": 0, "held": 0}
    assert summary["pending_form_completion"] == 1
    assert summary["needs_attention"] is True
    assert len(summary["recent_failures"]) == 1
    assert "@" not in result.text


@pytest.fixture
def cli_env(tmp_path):
    """The CLI in a subprocess, on its own SQLite file whichever database the suite runs on."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
            "GHOSTSHELL_SECRET_KEY": "cli-test-secret-key-0123456789-abcdefgh",
            "EMAIL_ENC_KEY": base64.b64encode(bytes(32)).decode(),
            "STRIPE_WEBHOOK_SECRET": "whsec_cli",
        }
    )
    return env


def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, capture_output=True, text=True, timeout=60)


def test_ops_health_cli_exit_status(cli_env):
    assert run_cli(cli_env, "migrate").returncode == 0
    healthy = run_cli(cli_env, "ops", "health")
    assert healthy.returncode == 0, healthy.stderr
    assert '"needs_attention": false' in healthy.stdout

    from api.config import Config
    from api.context import Context

    ctx = Context.build(Config.from_env(cli_env))
    with ctx.db.connection_context(), ctx.db.atomic():
        message = queue(
            ctx.keyring,
            kind="private_link",
            to="x@example.com",
            message=messages.abandoned_reminder("https://r.test"),
            idempotency_key="k",
            now=ctx.clock(),
        )
        OutboxMessage.update(status="failed", last_error="HTTP 422").where(OutboxMessage.id == message.id).execute()
    unhealthy = run_cli(cli_env, "ops", "health")
    assert unhealthy.returncode == 1
    assert "x@example.com" not in unhealthy.stdout


def test_every_command_has_help(cli_env):
    for command in (
        ["--help"],
        ["serve", "--help"],
        ["migrate", "--help"],
        ["ops", "health", "--help"],
        ["admin", "rotate-token", "--help"],
        ["admin", "revoke", "--help"],
        ["outbox", "show", "--help"],
    ):
        result = run_cli(cli_env, *command)
        assert result.returncode == 0 and "usage:" in result.stdout, command
