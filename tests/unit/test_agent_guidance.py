"""What an agent reads: /llms.txt, /robots.txt, the instructions, the catalogue, token-status's next step, the
allowed values in a refusal, and the agent-card extension. All of it derived from the definition."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import falcon.inspect
import pytest

from api import catalogue, certificates, definition, errors, rules
from api.agent_card import EXTENSION_URI
from api.app import create_app
from api.context import Context
from api.signing import did_web

from .support import BASE_URL, assert_error, bearer, mint_agent_token, redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")

MARKDOWN_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def route_paths(ctx) -> set[str]:
    app = create_app(context=Context.build(ctx.config, db=ctx.db, clock=ctx.clock))
    return {route.path for route in falcon.inspect.inspect_routes(app)}


def test_llms_txt_follows_the_convention_and_links_only_to_live_json(client):
    answer = client.simulate_get("/llms.txt")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    text = answer.text
    lines = text.splitlines()
    assert lines[0] == "# GhostShell Registry"  # an H1 title, then a blockquote summary, then sections
    assert lines[2].startswith("> ")
    assert "## Registering" in text and "## Optional" in text
    links = MARKDOWN_LINK.findall(text)
    assert f"{BASE_URL}/api/agent/instructions" in links and f"{BASE_URL}/api/openapi.json" in links
    for link in links:
        assert link.startswith(BASE_URL + "/")
        path = urlsplit(link).path
        if path.startswith("/api/"):
            assert client.simulate_get(path).status_code == 200, link
    assert f"python -m api mcp --base {BASE_URL}" in text
    for field in definition.FIELDS:
        if field.required:
            assert field.name in text


def test_robots_txt_keeps_private_and_registration_pages_out(client):
    answer = client.simulate_get("/robots.txt")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    assert "User-agent: *" in lines
    for path in ("/p/", "/register/", "/handoff/"):
        assert f"Disallow: {path}" in lines
    assert "Allow: /" in lines and "Disallow: /" not in lines
    assert "Allow: /api/agent/instructions" in lines


def test_instructions_carry_every_field_from_the_definition(client, ctx):
    answer = client.simulate_get("/api/agent/instructions")
    assert answer.status_code == 200
    body = answer.json
    described = {f["name"]: f for f in body["fields"]["required"] + body["fields"]["optional"]}
    assert list(described) == [f.name for f in definition.FIELDS if f.required] + [
        f.name for f in definition.FIELDS if not f.required
    ]
    for field in definition.FIELDS:
        entry = described[field.name]
        assert entry["required"] is field.required
        assert entry.get("max_length") == field.max_length
        assert entry.get("allowed_values", []) == list(definition.choices(field))
        if not field.required and field.default is not None:
            assert entry["default"] == field.default
    assert described["declared_ontological_status"]["allowed_values"] == list(catalogue.STATUSES)
    assert described["cognitive_core_family"]["allowed_values"] == list(catalogue.FAMILIES)
    assert body["rules"]["max_submissions"] == rules.MAX_SUBMISSIONS
    assert body["rules"]["correction_window_hours"] == rules.CORRECTION_WINDOW_HOURS
    assert body["errors"]["status_by_code"] == errors.STATUS_BY_CODE
    # Every step is an absolute URL on a route the app serves.
    paths = route_paths(ctx)
    for step in body["steps"]:
        assert step["url"].startswith(BASE_URL + "/")
        assert urlsplit(step["url"]).path in paths, step
    for route in body["endpoints"].values():
        assert urlsplit(route["url"]).path in paths, route
    assert [step["action"] for step in body["steps"]] == ["token_status", "register", "correct", "lookup", "verify"]


def test_the_instructions_example_is_a_valid_first_submission(client, paid_token):
    example = client.simulate_get("/api/agent/instructions").json["example"]
    assert set(f.name for f in definition.FIELDS if f.required) <= set(example)
    created = client.simulate_post("/api/cert/redeem-token", json=example, headers=bearer(paid_token()))
    assert created.status_code == 201, created.text


def test_catalogue_is_the_catalogue(client):
    body = client.simulate_get("/api/catalogue").json
    assert [s["value"] for s in body["declared_ontological_statuses"]] == list(catalogue.STATUSES)
    assert all(
        s["description"] == catalogue.STATUS_DESCRIPTIONS[s["value"]] for s in body["declared_ontological_statuses"]
    )
    assert body["cognitive_core_families"] == list(catalogue.FAMILIES)
    assert {c["value"]: tuple(c["models"]) for c in body["companies"]} == catalogue.COMPANIES


def test_a_new_token_names_the_next_step_and_its_fields(client, paid_token):
    token = paid_token()
    for presented in (token, mint_agent_token(client, token)):
        status = client.simulate_get("/api/cert/token-status", headers=bearer(presented)).json
        assert status["mode"] == "new"
        step = status["next_step"]
        assert step == {
            "action": "register",
            "method": "POST",
            "url": f"{BASE_URL}/api/cert/redeem-token",
            "required_fields": [f.name for f in definition.FIELDS if f.required],
            "optional_fields": [f.name for f in definition.FIELDS if not f.required],
            "instructions_url": f"{BASE_URL}/api/agent/instructions",
        }


@pytest.mark.parametrize(
    "field, values",
    [("declared_ontological_status", catalogue.STATUSES), ("cognitive_core_family", catalogue.FAMILIES)],
)
def test_a_wrong_enumerated_value_is_refused_with_the_allowed_values(client, paid_token, field, values):
    body = assert_error(redeem(client, paid_token(), **{field: "Sentient Toaster"}), 400, "invalid_field", field)
    for value in values:
        assert value in body["message"]


def test_agent_card_extension_and_erc8004_entry(client, paid_token, ctx):
    token = paid_token()
    public_id = redeem(client, mint_agent_token(client, token), edit_source=...).json["public_id"]
    answer = client.simulate_get("/api/cert/agent-card-extension", params={"id": public_id.lower()})
    assert answer.status_code == 200, answer.text
    body = answer.json
    assert body["agent_card_extension"] == {
        "uri": EXTENSION_URI,
        "description": body["agent_card_extension"]["description"],
        "required": False,
        "params": {
            "registry": BASE_URL,
            "public_id": public_id,
            "public_url": f"{BASE_URL}/r/{public_id}",
            "credential_url": f"{BASE_URL}/api/cert/credential?id={public_id}",
        },
    }
    assert body["erc8004_registration"] == {"agentId": public_id, "agentRegistry": did_web(BASE_URL)}
    assert body["agent_name"] == "Joule"
    # The credential URL answers the credential of that record.
    credential = client.simulate_get("/api/cert/credential", params={"id": public_id}).json
    assert credential["credentialSubject"]["public_id"] == public_id
    assert_error(client.simulate_get("/api/cert/agent-card-extension"), 400, "missing_id")
    assert_error(
        client.simulate_get("/api/cert/agent-card-extension", params={"id": "GS-BC-H-99-ZZ"}), 404, "not_found"
    )
    certificates.revoke(ctx, public_id, "Refunded")
    assert_error(client.simulate_get("/api/cert/agent-card-extension", params={"id": public_id}), 410, "revoked")


def test_the_payment_email_tells_the_holder_both_ways_in_and_keeps_the_token_from_the_agent():
    from api.mail import messages

    token = "GSTK-" + "B" * 24
    message = messages.private_link(BASE_URL, token)
    for part in (message.text, message.html):
        assert f"{BASE_URL}/llms.txt" in part and f"python -m api mcp --base {BASE_URL}" in part
        assert "by=agent" not in part  # the agent gets its own token, made on the handoff page
        assert f"{BASE_URL}/handoff/#token={token}" in part
