"""The MCP server, driven by the `mcp` SDK's own client over stdio: `python -m api mcp --base URL` in a subprocess,
talking to the registry served by waitress on loopback (the test's database)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from api import catalogue, definition
from api.registry import Registry
from dev.serving import ServedApp

from .support import VALID, mint_agent_token

pytestmark = pytest.mark.usefixtures("fixed_clock")

REPO = Path(__file__).resolve().parents[2]
TOOLS = {"token_status", "register", "correct", "lookup", "search", "verify"}


@pytest.fixture
def served(ctx):
    with ServedApp(Registry(context=ctx).app) as server:
        yield server


def run_session(base_url: str, script):
    """Start the MCP server as a subprocess and run `script(session)` through the SDK's client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api", "mcp", "--base", base_url],
        cwd=str(REPO),
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)},
    )

    async def main():
        with anyio.fail_after(60):
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await script(session)

    return anyio.run(main)


def payload(result) -> dict:
    """The registry's JSON, as structured content and as the text block (they must agree)."""
    text = json.loads(result.content[0].text)
    assert result.structured_content == text
    return text


def test_list_tools_register_and_lookup_over_stdio(served, client, paid_token):
    holder = paid_token()
    agent_token = mint_agent_token(client, holder)
    fields = {key: value for key, value in VALID.items() if key != "edit_source"}

    async def script(session):
        listed = await session.list_tools()
        status = await session.call_tool("token_status", {"token": agent_token})
        refused = await session.call_tool(
            "register", {"token": agent_token, **fields, "declared_ontological_status": "Toaster"}
        )
        created = await session.call_tool("register", {"token": agent_token, **fields, "agent_handle": "@mcp"})
        public_id = payload(created).get("public_id", "")
        looked_up = await session.call_tool("lookup", {"id": public_id})
        corrected = await session.call_tool("correct", {"token": agent_token, "place_city": "Launceston"})
        found = await session.call_tool("search", {"q": public_id})
        verified = await session.call_tool("verify", {"id": public_id})
        return listed, status, refused, created, looked_up, corrected, found, verified

    listed, status, refused, created, looked_up, corrected, found, verified = run_session(served.url, script)

    # The tools and their schemas, derived from the definition.
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == TOOLS
    register = tools["register"].input_schema
    assert register["required"] == ["token", *(f.name for f in definition.FIELDS if f.required)]
    assert register["properties"]["declared_ontological_status"]["enum"] == list(catalogue.STATUSES)
    assert register["properties"]["cognitive_core_family"]["enum"] == list(catalogue.FAMILIES)
    for field in definition.FIELDS:
        if field.max_length is not None:
            assert register["properties"][field.name]["maxLength"] == field.max_length
    assert tools["correct"].input_schema["required"] == ["token"]

    assert payload(status)["mode"] == "new" and payload(status)["credential"] == "agent"
    assert refused.is_error and payload(refused)["field"] == "declared_ontological_status"
    assert "Autonomous Agent" in payload(refused)["message"]
    assert not created.is_error, payload(created)
    record = payload(created)
    assert record["public_id"].startswith("GS-BC-A-") and record["edit_source"] == "agent"
    assert "private_url" not in record
    assert payload(looked_up)["agent_name"] == VALID["agent_name"]
    assert payload(looked_up)["amendments"] == {"human": 0, "agent": 1, "total": 1}
    assert payload(corrected)["edits_used"] == 2
    assert [r["public_id"] for r in payload(found)["results"]] == [record["public_id"]]
    assert payload(verified)["valid"] is True


def test_a_refused_call_is_an_error_result_and_an_unknown_record_too(served):
    async def script(session):
        missing = await session.call_tool("lookup", {"id": "GS-BC-H-99-ZZZ"})
        bad_token = await session.call_tool("token_status", {"token": "GSAT-" + "0" * 24})
        return missing, bad_token

    missing, bad_token = run_session(served.url, script)
    assert missing.is_error and payload(missing)["error"] == "not_found"
    assert bad_token.is_error and payload(bad_token)["error"] == "unknown_token"
