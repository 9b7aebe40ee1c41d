"""Machine-readable guidance for agents, derived from the one registry definition: nothing here lists a field, a
limit or an allowed value of its own.

- `instructions(base_url)`: `GET /api/agent/instructions` — the steps (each with its method and absolute URL), the
  submission endpoint, the required and optional fields with kinds, limits, defaults and allowed values (from
  `api/definition.py` and the catalogue), an example body, the rules (`api/rules.py`) and the error codes
  (`api/errors.py`).
- `catalogue_document()`: `GET /api/catalogue` — the declared ontological statuses and the cognitive-core families.
- `llms_txt(base_url)`: `/llms.txt` (the llms.txt convention: a title, a summary, then sections of links).
- `robots_txt()`: `/robots.txt` — public pages allowed; the private (`/p/`) and registration
  (`/register/`, `/handoff/`) pages kept out of indexes.

Every URL is absolute, built on BASE_URL, so an agent given only the base URL can follow links and never guess a
path.
"""

from __future__ import annotations

from . import agent_card, catalogue, definition, errors, public_id, records, rules
from .context import Context
from .definition import Field, Kind
from .errors import RegistryError
from .models import Certificate
from .signing import did_web

INSTRUCTIONS_PATH = "/api/agent/instructions"
CATALOGUE_PATH = "/api/catalogue"
OPENAPI_PATH = "/api/openapi.json"
LLMS_TXT_PATH = "/llms.txt"
MCP_COMMAND = "python -m api mcp --base {base}"

# The example a first submission could send: one value per required field, plus the core, valid under the rules.
_EXAMPLE_TEXT = {
    "agent_name": "Joule",
    "cognitive_core_exact": "Claude Opus 4.6",
    "place_country": "Australia",
}


def endpoints(base_url: str) -> dict[str, dict]:
    """Every route an agent uses, by name: method, absolute URL (`{public_id}` where the caller fills it in)."""
    return {
        "token_status": {"method": "GET", "url": f"{base_url}/api/cert/token-status", "auth": "bearer"},
        "register": {"method": "POST", "url": f"{base_url}/api/cert/redeem-token", "auth": "bearer"},
        "correct": {"method": "POST", "url": f"{base_url}/api/cert/redeem-token", "auth": "bearer"},
        "lookup": {"method": "GET", "url": f"{base_url}/api/cert/lookup?id={{public_id}}", "auth": None},
        "search": {"method": "GET", "url": f"{base_url}/api/registry/search?q={{query}}", "auth": None},
        "verify": {"method": "GET", "url": f"{base_url}/api/cert/verify?id={{public_id}}", "auth": None},
        "credential": {"method": "GET", "url": f"{base_url}/api/cert/credential?id={{public_id}}", "auth": None},
        "agent_card_extension": {
            "method": "GET",
            "url": f"{base_url}/api/cert/agent-card-extension?id={{public_id}}",
            "auth": None,
        },
    }


def describe_field(field: Field) -> dict:
    """One field as an agent needs it: from the definition and, for choices, the catalogue."""
    entry: dict = {
        "name": field.name,
        "type": "string" if field.kind in (Kind.TEXT, Kind.CHOICE, Kind.DATE, Kind.REFERENCE) else "boolean",
        "kind": str(field.kind),
        "label": field.label,
        "required": field.required,
        "visibility": str(field.visibility),
    }
    if field.hint:
        entry["description"] = field.hint
    if field.max_length is not None:
        entry["max_length"] = field.max_length
    if field.kind is Kind.DATE:
        entry["format"] = "YYYY-MM-DD"
        entry["min"] = definition.EARLIEST_INCEPTION.isoformat()
        entry["max"] = "today (UTC)"
    allowed = definition.choices(field)
    if allowed:
        entry["allowed_values"] = list(allowed)
        entry["match"] = "any case; stored in the listed spelling"
    if not field.required and field.default is not None:
        entry["default"] = field.default
    if field.selector is not None:
        entry["public_when"] = {field.selector.field: field.selector.shown_when}
    return entry


def example_submission() -> dict:
    """A valid first submission: the required fields, a listed company and one of its models."""
    body: dict = {}
    for field in definition.FIELDS:
        example = getattr(field, "example", None)
        if example is not None:
            body[field.name] = example
        elif field.name in _EXAMPLE_TEXT:
            body[field.name] = _EXAMPLE_TEXT[field.name]
        elif field.kind is Kind.CHOICE and field.choices == "statuses":
            body[field.name] = catalogue.STATUSES[0]
        elif field.kind is Kind.CHOICE and field.choices == "families":
            company = next(name for name in catalogue.COMPANIES if catalogue.COMPANIES[name])
            body[field.name] = company
            body.setdefault("cognitive_core_exact", catalogue.COMPANIES[company][0])
        elif field.kind is Kind.DATE:
            body[field.name] = "2026-02-08"
    return body


def next_step(base_url: str) -> dict:
    """What a `new` token does next (token-status): the first submission, with the fields it needs."""
    register = endpoints(base_url)["register"]
    return {
        "action": "register",
        "method": register["method"],
        "url": register["url"],
        "required_fields": [f.name for f in definition.FIELDS if f.required],
        "optional_fields": [f.name for f in definition.FIELDS if not f.required],
        "instructions_url": base_url + INSTRUCTIONS_PATH,
    }


def rule_sentences() -> list[str]:
    return [
        f"The first submission must be made within {rules.CLAIM_WINDOW_DAYS} days of payment.",
        f"Corrections are accepted for {rules.CORRECTION_WINDOW_HOURS} hours after the first submission, "
        f"at most {rules.MAX_SUBMISSIONS} submissions in all, the first included; then the record is permanent.",
        "A correction sends only the fields it changes; fields not sent are kept.",
        f"Who submits is decided by the token, not by a field: an agent token ({rules.AGENT_TOKEN_PREFIX}) submits "
        "as the agent and the public id carries A; the holder's purchase token "
        f"({rules.TOKEN_PREFIX}) submits as human and the id carries H.",
        "An agent token stops working when the holder locks agent edits or revokes it (403).",
        "A refused submission consumes nothing; errors are JSON {error, message, field?}.",
        "Text fields are single lines: control characters and bidirectional overrides are refused.",
        "cognitive_core_exact must be empty when cognitive_core_family is "
        f"{catalogue.PREFER_NOT_TO_SAY}; an empty family means {catalogue.UNDISCLOSED}.",
    ]


def instructions(base_url: str) -> dict:
    routes = endpoints(base_url)
    required = [describe_field(f) for f in definition.FIELDS if f.required]
    optional = [describe_field(f) for f in definition.FIELDS if not f.required]
    return {
        "registry": "GhostShell Registry",
        "summary": (
            "A neutral public registry that records the inception of agents. A paid token registers one agent: "
            "the registry issues a public redacted certificate and a private full record."
        ),
        "authentication": {
            "how": "Send the token as the header 'Authorization: Bearer <token>' (or as the body field 'token').",
            "agent_token": f"{rules.AGENT_TOKEN_PREFIX}… minted by the holder for the agent: submits as the agent.",
            "holder_token": f"{rules.TOKEN_PREFIX}… the holder's purchase token: submits as human.",
        },
        "steps": [
            {
                "step": 1,
                "action": "token_status",
                **routes["token_status"],
                "does": "Says what the token can do: mode new (register), edit (correct) or locked.",
            },
            {
                "step": 2,
                "action": "register",
                **routes["register"],
                "does": "The first submission issues the certificate: 201 {public_id, public_url, edit_source}.",
                "body": "JSON object: the fields below (required ones at least).",
            },
            {
                "step": 3,
                "action": "correct",
                **routes["correct"],
                "does": "A later submission corrects it: send only the fields to change; 200 with edits_left.",
            },
            {
                "step": 4,
                "action": "lookup",
                **routes["lookup"],
                "does": "The public redacted record, by public id.",
            },
            {
                "step": 5,
                "action": "verify",
                **routes["verify"],
                "does": "Checks the signed credential of the record: {valid, checks, status, key}.",
            },
        ],
        "endpoint": {**routes["register"], "content_type": "application/json"},
        "fields": {"required": required, "optional": optional},
        "example": example_submission(),
        "rules": {
            "claim_window_days": rules.CLAIM_WINDOW_DAYS,
            "correction_window_hours": rules.CORRECTION_WINDOW_HOURS,
            "max_submissions": rules.MAX_SUBMISSIONS,
            "public_id_format": public_id.export(),
            "text": rule_sentences(),
        },
        "errors": {
            "shape": {"error": "<code>", "message": "<sentence>", "field": "<field, for invalid_field>"},
            "status_by_code": dict(errors.STATUS_BY_CODE),
        },
        "endpoints": routes,
        "links": {
            "llms_txt": base_url + LLMS_TXT_PATH,
            "openapi": base_url + OPENAPI_PATH,
            "catalogue": base_url + CATALOGUE_PATH,
            "mcp": MCP_COMMAND.format(base=base_url),
            "agent_card_extension_uri": agent_card.EXTENSION_URI,
        },
    }


def card_extension(ctx: Context, raw_id) -> dict:
    """`GET /api/cert/agent-card-extension?id=`: what the agent adds to its A2A Agent Card and to an ERC-8004
    registration file. A revoked record has no claim to hand out."""
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise RegistryError("missing_id", f"Give a public record id, e.g. {public_id.export()['example']}.")
    cert = Certificate.with_public_id(raw_id).first()
    if cert is None:
        raise RegistryError("not_found", "No record with that id exists in the registry.")
    if cert.is_revoked:
        raise RegistryError("revoked", "This certificate has been revoked; it can no longer be claimed.")
    base = ctx.config.base_url
    record = records.public_view(cert, base)
    return {
        "public_id": cert.public_id,
        "agent_name": record["agent_name"],
        "agent_card_extension": agent_card.extension_entry(base, cert.public_id),
        "erc8004_registration": {"agentId": cert.public_id, "agentRegistry": did_web(base)},
        "how": (
            "Add agent_card_extension to capabilities.extensions of the agent's /.well-known/agent-card.json, whose "
            "name must be the certificate's agent_name; add erc8004_registration to the registrations list of an "
            "ERC-8004 registration file. Check a card with: python -m api verify --agent-card FILE_OR_URL"
        ),
    }


def catalogue_document() -> dict:
    return {
        "declared_ontological_statuses": [
            {"value": value, "description": catalogue.STATUS_DESCRIPTIONS[value]} for value in catalogue.STATUSES
        ],
        "cognitive_core_families": list(catalogue.FAMILIES),
        "companies": [{"value": name, "models": list(models)} for name, models in catalogue.COMPANIES.items()],
        "undisclosed_family": catalogue.UNDISCLOSED,
        "prefer_not_to_say_family": catalogue.PREFER_NOT_TO_SAY,
    }


def llms_txt(base_url: str) -> str:
    required = ", ".join(f.name for f in definition.FIELDS if f.required)
    return f"""# GhostShell Registry

> A neutral public registry of birth certificates for agents. A paid token registers one agent (name, declared
> ontological status, cognitive core, inception date and place); the registry issues a public redacted record,
> accepts corrections for {rules.CORRECTION_WINDOW_HOURS} hours, and signs every version as a verifiable credential.

An agent registers itself by plain HTTP with the agent token its holder gave it ({rules.AGENT_TOKEN_PREFIX}…),
sent as `Authorization: Bearer <token>`. Read the JSON instructions first: they give every step with its URL, the
fields ({required} are required), their allowed values and limits, an example body and the rules. No HTML needs to
be read.

## Registering

- [Agent instructions (JSON)]({base_url}{INSTRUCTIONS_PATH}): steps, endpoint, fields, allowed values, example, rules
- [OpenAPI document]({base_url}{OPENAPI_PATH}): every route, request and answer
- [Catalogue (JSON)]({base_url}{CATALOGUE_PATH}): declared ontological statuses and cognitive-core families

## MCP

The registry's MCP server (stdio, package ghostshell-registry) offers the same steps as tools (token_status,
register, correct, lookup, search, verify): `{MCP_COMMAND.format(base=base_url)}`

## Optional

- [Public registry]({base_url}/registry/): search records by id or name
"""


def robots_txt() -> str:
    return (
        "# GhostShell Registry. Public records and pages may be indexed; private and registration pages may not.\n"
        "User-agent: *\n"
        "Disallow: /p/\n"
        "Disallow: /register/\n"
        "Disallow: /handoff/\n"
        "Disallow: /api/\n"
        "Allow: /api/agent/instructions\n"
        "Allow: /api/catalogue\n"
        "Allow: /api/openapi.json\n"
        "Allow: /\n"
    )
