"""An agent's A2A Agent Card carries its GhostShell claim; `python -m api verify --agent-card` checks it against the
registry served on loopback: a valid, unrevoked credential whose agent name is the card's name."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from api import agent_card, certificates
from api.context import Context
from api.registry import Registry
from dev.serving import ServedApp

from .support import bearer, mint_agent_token, redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(ctx):
    """The registry on loopback with BASE_URL its own address, so the links it signs can be followed. The listener
    is opened first (port 0) and the app, which needs the address, is put behind it afterwards."""
    current = {}

    def app(environ, start_response):
        return current["app"](environ, start_response)

    with ServedApp(app) as server:
        server.context = Context.build(ctx.config.replace(base_url=server.url), db=ctx.db, clock=ctx.clock)
        current["app"] = Registry(context=server.context).app
        yield server


@pytest.fixture
def registered(live, paid_token, make_client):
    """A record registered by its agent, and the card the agent publishes with the registry's extension entry."""
    client = make_client(base_url=live.url)
    holder = paid_token()
    public_id = redeem(client, mint_agent_token(client, holder), edit_source=...).json["public_id"]
    extension = client.simulate_get("/api/cert/agent-card-extension", params={"id": public_id}).json
    card = {
        "name": extension["agent_name"],
        "description": "An agent with a birth certificate.",
        "url": "https://agent.example/a2a",
        "version": "1.0.0",
        "capabilities": {"streaming": False, "extensions": [extension["agent_card_extension"]]},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [],
    }
    return {"client": client, "holder": holder, "public_id": public_id, "card": card}


def check(tmp_path, card, *extra) -> tuple[int, str]:
    path = tmp_path / "agent-card.json"
    path.write_text(json.dumps(card))
    out = io.StringIO()
    return agent_card.main(["--agent-card", str(path), *extra], out=out), out.getvalue()


def test_a_card_with_a_valid_claim_passes(tmp_path, registered, live):
    status, output = check(tmp_path, registered["card"], "--base", live.url)
    assert status == 0, output
    for line in ("pass  signature:", "pass  status (revocation):", "pass  record:", "pass  agent name:"):
        assert line in output, output
    assert output.rstrip().endswith("result: valid")


def test_the_cli_checks_a_card_given_by_url(tmp_path, registered, live):
    card = json.dumps(registered["card"]).encode()

    def card_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [card]

    with ServedApp(card_app) as host:
        result = subprocess.run(
            [sys.executable, "-m", "api", "verify", "--agent-card", host.url + "/.well-known/agent-card.json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: valid" in result.stdout


def test_a_card_whose_name_differs_fails(tmp_path, registered):
    status, output = check(tmp_path, {**registered["card"], "name": "Someone Else"})
    assert status == 1
    assert "FAIL  agent name" in output and output.rstrip().endswith("result: invalid")


def test_a_corrected_name_must_be_followed_by_the_card(tmp_path, registered):
    client = registered["client"]
    assert (
        client.simulate_post(
            "/api/cert/redeem-token", json={"agent_name": "Joule II"}, headers=bearer(registered["holder"])
        ).status_code
        == 200
    )
    assert check(tmp_path, registered["card"])[0] == 1
    assert check(tmp_path, {**registered["card"], "name": "Joule II"})[0] == 0


def test_a_revoked_certificate_fails(tmp_path, registered, live):
    certificates.revoke(live.context, registered["public_id"], "Refunded")
    status, output = check(tmp_path, registered["card"])
    assert status == 1
    assert "revoked" in output


def test_cards_without_a_usable_claim_are_usage_errors(tmp_path, registered, live, capsys):
    card = registered["card"]
    no_claim = {**card, "capabilities": {"extensions": []}}
    assert check(tmp_path, no_claim)[0] == 2
    entry = card["capabilities"]["extensions"][0]
    elsewhere = {**entry, "params": {**entry["params"], "credential_url": "https://evil.example/credential.json"}}
    assert check(tmp_path, {**card, "capabilities": {"extensions": [elsewhere]}})[0] == 2
    assert check(tmp_path, card, "--base", "https://another-registry.example")[0] == 2
    assert "not https://another-registry.example" in capsys.readouterr().err
