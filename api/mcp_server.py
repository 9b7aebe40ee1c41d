"""The registry's MCP server: `python -m api mcp --base URL` (stdio), on the official `mcp` Python SDK.

It is a client of the public HTTP API and nothing more: each tool makes one request to the registry at `--base`
and returns the registry's JSON answer (as structured content and as text), marked as an error when the registry
refused. It holds no database, no keys and no token of its own; the agent passes its token to the tools that need
one (token_status, register, correct), and it travels as `Authorization: Bearer`.

Tools: token_status, register, correct, lookup, search, verify. Their input schemas are derived from the registry
definition (`api/definition.py` through `api/guidance.py`): names, required fields, limits and allowed values.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import anyio
import mcp_types as types
import requests
from mcp.server import Server
from mcp.server.stdio import stdio_server

from . import definition, guidance, public_id, rules

SERVER_NAME = "ghostshell-registry"
TIMEOUT_SECONDS = 20
_TOKEN = {
    "type": "string",
    "description": f"The agent token ({rules.AGENT_TOKEN_PREFIX}…) the holder gave the agent, or the holder's purchase "
    f"token ({rules.TOKEN_PREFIX}…).",
}
_EXAMPLE_ID = public_id.export()["example"]


def field_schema(field: definition.Field) -> dict:
    """A definition field as JSON Schema, from the same description the instructions publish."""
    described = guidance.describe_field(field)
    schema: dict[str, Any] = {"type": described["type"], "description": described["label"]}
    if described.get("description"):
        schema["description"] += ". " + described["description"]
    if "max_length" in described:
        schema["maxLength"] = described["max_length"]
    if "allowed_values" in described:
        schema["enum"] = described["allowed_values"]
    if field.kind is definition.Kind.DATE:
        schema["format"] = "date"
    if "default" in described:
        schema["default"] = described["default"]
    return schema


def tools() -> list[types.Tool]:
    fields = {field.name: field_schema(field) for field in definition.FIELDS}
    required = [field.name for field in definition.FIELDS if field.required]
    handle = {"type": "string", "maxLength": 80, "description": "Optional: who made the edit, for the audit log."}
    return [
        types.Tool(
            name="token_status",
            description="What the token can do now: mode new (register), edit (correct) or locked.",
            input_schema={"type": "object", "properties": {"token": _TOKEN}, "required": ["token"]},
        ),
        types.Tool(
            name="register",
            description=f"The first submission: issues the birth certificate. Answers the public id ({_EXAMPLE_ID}…).",
            input_schema={
                "type": "object",
                "properties": {"token": _TOKEN, **fields, "agent_handle": handle},
                "required": ["token", *required],
                "additionalProperties": False,
            },
        ),
        types.Tool(
            name="correct",
            description="A correction within the correction window: send only the fields to change.",
            input_schema={
                "type": "object",
                "properties": {"token": _TOKEN, **fields, "agent_handle": handle},
                "required": ["token"],
                "additionalProperties": False,
            },
        ),
        types.Tool(
            name="lookup",
            description="The public redacted record of a public id.",
            input_schema={
                "type": "object",
                "properties": {"id": {"type": "string", "description": f"A public id, e.g. {_EXAMPLE_ID}."}},
                "required": ["id"],
            },
        ),
        types.Tool(
            name="search",
            description="Records by public-id prefix, or listed records by name prefix.",
            input_schema={
                "type": "object",
                "properties": {
                    "q": {"type": "string", "maxLength": 100},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                    "cursor": {"type": "string"},
                },
                "required": ["q"],
            },
        ),
        types.Tool(
            name="verify",
            description="Checks the record's signed credential: valid, revoked or superseded, and by which key.",
            input_schema={
                "type": "object",
                "properties": {"id": {"type": "string", "description": "A public id."}},
                "required": ["id"],
            },
        ),
    ]


class RegistryClient:
    """One HTTP request per tool call, to the registry at `base_url`; the answer is (status, JSON)."""

    def __init__(self, base_url: str, session: requests.Session | None = None):
        self.routes = guidance.endpoints(base_url.rstrip("/"))
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"{SERVER_NAME}-mcp"
        self.session.trust_env = False

    def _url(self, action: str, **values: str) -> str:
        template = self.routes[action]["url"]
        return template.format(**{key: urllib.parse.quote(value, safe="") for key, value in values.items()})

    def call(self, name: str, arguments: dict) -> tuple[int, dict]:
        arguments = dict(arguments or {})
        token = arguments.pop("token", None)
        headers = {"Authorization": f"Bearer {token}"} if isinstance(token, str) and token else {}
        if name == "token_status":
            answer = self.session.get(self._url("token_status"), headers=headers, timeout=TIMEOUT_SECONDS)
        elif name in ("register", "correct"):
            answer = self.session.post(self._url(name), json=arguments, headers=headers, timeout=TIMEOUT_SECONDS)
        elif name in ("lookup", "verify"):
            answer = self.session.get(self._url(name, public_id=str(arguments.get("id", ""))), timeout=TIMEOUT_SECONDS)
        elif name == "search":
            url = self._url("search", query=str(arguments.get("q", "")))
            params = {key: arguments[key] for key in ("limit", "cursor") if arguments.get(key) not in (None, "")}
            answer = self.session.get(url, params=params, timeout=TIMEOUT_SECONDS)
        else:
            return 400, {"error": "unknown_tool", "message": f"No tool named {name!r}."}
        try:
            body = answer.json()
        except ValueError:
            body = {"error": "not_json", "message": f"The registry answered {answer.status_code} without JSON."}
        return answer.status_code, body


def build_server(base_url: str) -> Server:
    client = RegistryClient(base_url)
    listed = tools()
    names = {tool.name for tool in listed}

    async def on_list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in names:
            status, body = 400, {"error": "unknown_tool", "message": f"No tool named {params.name!r}."}
        else:
            try:
                status, body = await anyio.to_thread.run_sync(client.call, params.name, params.arguments or {})
            except requests.RequestException as exc:
                status, body = 503, {"error": "registry_unreachable", "message": f"{type(exc).__name__}: {exc}"}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(body, ensure_ascii=False))],
            structured_content=body,
            is_error=status >= 400,
        )

    return Server(
        SERVER_NAME,
        instructions=(
            "GhostShell Registry: register an agent's birth certificate with the agent token its holder gave it. "
            "Call token_status, then register (the required fields), correct if needed, lookup and verify. "
            f"Full instructions: {base_url.rstrip('/')}{guidance.INSTRUCTIONS_PATH}"
        ),
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )


async def serve_stdio(base_url: str) -> None:
    server = build_server(base_url)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def main(base_url: str) -> int:
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise SystemExit("--base must be the registry's http(s) URL, e.g. https://registry.example")
    anyio.run(serve_stdio, base_url)
    return 0
