"""The OpenAPI 3.1 document for `/api/openapi.json`. A unit test keeps it in step with the app's routes:
a route added to `api/app.py` must be described here, and the reverse.

The certificate's schemas are derived from the definition (api/definition.py), field by field: the submission
(`Submission`; `FirstSubmission` adds what an issuing submission requires) with each field's limits, choices (from
api/catalogue.json), description and an example, and the records as the API answers them (`PublicRecord`,
`RevokedRecord`, `PrivateRecord`), each field at its place. tests/unit/test_definition.py walks the definition
against them."""

from __future__ import annotations

from typing import Any

from . import definition, public_id, rules
from .credentials import MAX_VERSION
from .definition import Field, Kind, Visibility
from .states import SUBMISSION_SOURCES, CertificateStatus
from .validation import BOOLEAN_WORDS

ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict | None = None) -> dict:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict:
    return {str(status): _answer("Error", ERROR) for status in statuses}


def _body(
    properties: dict, required: list[str], *, form: dict | None = None, schema: dict | None = None, optional=False
) -> dict:
    """The same fields as JSON or as a form; in a form every value is text, so a boolean is one of its words.
    `schema`: the JSON schema, when it says more than its properties (a description, examples). `optional`: the
    body may be left out (the token then comes as the bearer)."""
    schema = schema or {"type": "object", "properties": properties, "required": required}
    form_properties = {name: _in_a_form(prop) for name, prop in properties.items()}
    form_schema = form or {"type": "object", "properties": form_properties, "required": required}
    return {
        "required": not optional,
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": form_schema},
        },
    }


def _in_a_form(prop: dict) -> dict:
    """A property as a form carries it: a boolean becomes one of its words."""
    for as_json, as_text in ((BOOLEAN, FORM_BOOLEAN), (REQUIRED_BOOLEAN, FORM_REQUIRED_BOOLEAN)):
        if prop.get("anyOf") == as_json["anyOf"]:
            return {**as_text, **_described(prop)}
    return prop


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


BEARER: list[dict[str, list[str]]] = [{"bearerToken": []}]
STRING = {"type": "string"}
# validation.clean_boolean's words in any case; empty counts as not sent.
FORM_BOOLEAN = {
    "type": "string",
    "pattern": "^(" + "|".join(_any_case(w) for w in sorted(BOOLEAN_WORDS)) + ")?$",
}
# What validation.clean_boolean takes: a JSON boolean, 0 or 1, one of its words, or null / empty for not sent.
BOOLEAN = {"anyOf": [{"type": ["boolean", "null"]}, {"enum": [0, 1]}, FORM_BOOLEAN]}
# A boolean that must be given (the agent-edit lock): the same words, but neither null nor empty.
FORM_REQUIRED_BOOLEAN = {"type": "string", "pattern": FORM_BOOLEAN["pattern"][:-2] + "$"}
REQUIRED_BOOLEAN = {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}, FORM_REQUIRED_BOOLEAN]}

# The document says exactly what the server accepts (schemathesis checks both directions in tests/faults): what the
# validators refuse is outside these schemas, and what they accept is inside, as far as JSON Schema can say it.
# One-line text: no control characters (C0, C1), line or paragraph separators, or bidirectional overrides.
_REFUSED = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
_LETTERS = "A-Za-z\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f"


def _text(max_length: int, *, required: bool = False, letter: bool = False) -> dict:
    """One line of text, trimmed by the server; `required`: not blank; `letter`: contains a Latin letter."""
    anything = f"[^{_REFUSED}]*"
    if letter:
        pattern = f"^{anything}[{_LETTERS}]{anything}$"
    elif required:
        pattern = f"^{anything}[^{_REFUSED}\\s]{anything}$"
    else:
        pattern = f"^{anything}$"
    schema = {"type": "string", "maxLength": max_length, "pattern": pattern}
    if required:
        schema["minLength"] = 1
    return schema


TOKEN = {
    "type": "string",
    "pattern": f"^{rules.TOKEN_PREFIX}[{rules.TOKEN_ALPHABET}]{{{rules.TOKEN_BODY_LENGTH}}}$",
    "description": "A purchase token. The server also accepts it in any case, with spaces or hyphens.",
}
# In a body that may instead rely on the bearer, an empty token counts as not sent (as an empty form value does).
BODY_TOKEN = {
    "anyOf": [TOKEN, {"type": "string", "maxLength": 0}, {"type": "null"}],
    "description": "A purchase token; absent or empty, the bearer token is used.",
}
# rules.EMAIL_PATTERN, with the control characters rules.normalize_email also refuses.
_EMAIL_PART = '[^\\s@<>()\\[\\],;:"\\x00-\\x1f\\x7f]+'
EMAIL = {
    "type": "string",
    "maxLength": rules.MAX_EMAIL_LENGTH,
    "pattern": f"^{_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART}$",
}
NOT_BLANK = {"type": "string", "minLength": 1, "pattern": "\\S"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Same key and body: the stored answer, nothing done again. Same key, other body: 409.",
    "schema": {"type": "string", "pattern": "^[\\x20-\\x7e]{1,255}$"},
}


def _described(schema: dict) -> dict:
    return {"description": schema["description"]} if "description" in schema else {}


def _visibility(field: Field) -> str:
    if field.visibility is Visibility.PUBLIC:
        return "Public."
    if field.selector is not None:
        return f"Public only when {field.selector.field} is {str(field.selector.shown_when).lower()}."
    return "Private: never on the public record."


def _description(field: Field) -> str:
    parts = [field.label + ".", field.hint, _visibility(field)]
    if field.kind is Kind.DATE:
        parts.append(f"Not before {definition.EARLIEST_INCEPTION.isoformat()} nor after today (UTC).")
    if not field.required and field.default is not None:
        parts.append(f"Default on a first submission: {field.default!r}.")
    return " ".join(part for part in parts if part)


def submitted(field: Field) -> dict[str, Any]:
    """A field as a submission carries it: what validation (api/validation.py) accepts."""
    schema: dict[str, Any]
    if field.kind is Kind.BOOLEAN:
        schema = {**BOOLEAN}
    elif field.kind is Kind.CHOICE:
        # Any case is accepted; an optional one may also be sent empty (its default).
        schema = {"type": "string", "enum": [*definition.choices(field), *([] if field.required else [""])]}
        if field.max_length:
            schema["maxLength"] = field.max_length
    elif field.kind is Kind.DATE:
        schema = {"type": "string", "format": "date"}
    else:
        schema = _text(field.max_length or 0, required=field.required, letter=field.needs_letter)
    schema["description"] = _description(field)
    return schema


def recorded(field: Field, *, nullable: bool) -> dict[str, Any]:
    """A field's value as a record shows it (api/records.py): dates as YYYY-MM-DD, choices in their spelling."""
    kind = {Kind.BOOLEAN: "boolean", Kind.DATE: "string", Kind.CHOICE: "string"}.get(field.kind, "string")
    schema: dict[str, Any] = {"type": [kind, "null"] if nullable else kind, "description": _description(field)}
    if field.kind is Kind.DATE:
        schema["format"] = "date"
    if definition.choices(field):
        schema["enum"] = [*definition.choices(field), *([None] if nullable else [])]
    return schema


def _place(target: dict[str, Any], path: tuple[str, ...], schema: dict[str, Any]) -> None:
    for part in path[:-1]:
        target = target["properties"].setdefault(part, {"type": "object", "properties": {}, "required": []})
    target["properties"][path[-1]] = schema
    target["required"].append(path[-1])


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


DATE_TIME = {"type": "string", "format": "date-time"}
RECORD_ID = {"type": "string", "pattern": public_id.PATTERN}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def public_record_schema() -> dict[str, Any]:
    """The public view (`records.public_view`): every public field at its path, composites by name; a holder's-choice
    field may be withheld (null, with its `_withheld` flag). No private field is named."""
    schema = _object(
        {
            "status": {"type": "string", "enum": [str(status) for status in CertificateStatus]},
            "public_id": RECORD_ID,
            "registration_date": DATE_TIME,
        }
    )
    for field in definition.public_fields():
        composite = definition.composite_of(field)
        if composite is not None:
            if composite.name not in schema["properties"]:
                _place(schema, (composite.name,), {"type": "string", "description": composite.description})
            continue
        holder = field.visibility is Visibility.HOLDER
        _place(schema, field.path, recorded(field, nullable=holder))
        if holder:
            _place(schema, (*field.path[:-1], field.path[-1] + "_withheld"), {"type": "boolean"})
    for name, value in {
        "amendments": _object({source: {"type": "integer"} for source in ("human", "agent", "total")}),
        "corrections_close_at": DATE_TIME,
        "record_hash": SHA256,
        "public_fingerprint": SHA256,
        "public_url": STRING,
    }.items():
        _place(schema, (name,), value)
    schema["examples"] = [_public_example()]
    return schema


def _public_example() -> dict[str, Any]:
    example: dict[str, Any] = {"status": "active", "public_id": public_id.EXAMPLE}
    for field in definition.public_fields():
        composite = definition.composite_of(field)
        fields = composite.fields if composite else (field.name,)
        values = [definition.BY_NAME[name].example for name in fields]
        if composite is not None and all(isinstance(value, str) for value in values):
            example[composite.name] = composite.render(*values)
        elif composite is None and field.example is not None and field.visibility is Visibility.PUBLIC:
            target = example
            for part in field.path[:-1]:
                target = target.setdefault(part, {})
            target[field.path[-1]] = field.example
    return example


REVOKED_RECORD = _object(
    {
        "public_id": RECORD_ID,
        "status": {"type": "string", "const": str(CertificateStatus.REVOKED)},
        "revoked_at": DATE_TIME,
        "public_url": STRING,
    }
)


def private_record_schema() -> dict[str, Any]:
    """The holder's record (`records.private_view`): the public view and every field under its view name."""
    return _object(
        {field.view_name: recorded(field, nullable=field.kind is Kind.REFERENCE) for field in definition.FIELDS}
    )


# The session Stripe sent the holder's browser back with; text that is not a Checkout Session id is ignored.
AMENDMENT_SESSION = {
    "name": "session_id",
    "in": "query",
    "description": "A Stripe Checkout Session id (cs_…) of this record's amendment; anything else is ignored.",
    "schema": {"type": "string"},
}

CERTIFICATE_FIELDS = {
    "token": BODY_TOKEN,
    "edit_source": {"type": "string", "enum": [str(source) for source in SUBMISSION_SOURCES]},
    "agent_handle": _text(80),
    **{field.name: submitted(field) for field in definition.FIELDS},
}
EXAMPLE_TOKEN = rules.TOKEN_PREFIX + rules.TOKEN_ALPHABET[-rules.TOKEN_BODY_LENGTH :]
SUBMISSION = {
    "type": "object",
    "description": "A first submission issues the certificate (FirstSubmission: its required fields); a correction "
    "sends any fields it changes. The token is in the body or is the bearer.",
    "properties": CERTIFICATE_FIELDS,
    "required": [],
    "examples": [{"token": EXAMPLE_TOKEN, **{f.name: f.example for f in definition.FIELDS if f.example is not None}}],
}
FIRST_SUBMISSION = {
    "allOf": [_ref("Submission")],
    "required": [field.name for field in definition.FIELDS if field.required],
}

PATHS = {
    "/api/health": {
        "get": {"summary": "Liveness and database check", "responses": {"200": _answer("Healthy"), **_errors(503)}}
    },
    "/api/config": {"get": {"summary": "Public settings the site needs", "responses": {"200": _answer("Settings")}}},
    "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": _answer("OpenAPI document")}}},
    "/api/cert/checkout": {
        "post": {
            "summary": "Start a Stripe Checkout for one certificate",
            # A form post (a browser without JavaScript) always answers 303: to Stripe, or back to the issue page
            # with the refusal's message, never JSON; so no form body is refused.
            "requestBody": _body(
                {"recovery_email": EMAIL},
                ["recovery_email"],
                form={"type": "object", "properties": {"recovery_email": STRING}},
            ),
            "responses": {
                "200": _answer("Checkout started (JSON call)"),
                "303": {"description": "Form post: to Stripe, or back to the issue page with the refusal"},
                **_errors(400, 413, 429, 502),
            },
        }
    },
    "/api/cert/test-checkout": {
        "post": {
            "summary": "Test-only paid purchase without Stripe (GHOSTSHELL_TEST_CHECKOUT=1; never in production)",
            "requestBody": _body({"recovery_email": EMAIL}, ["recovery_email"]),
            "responses": {
                "201": _answer("Token issued"),
                "303": {"description": "Form post: to the register page"},
                **_errors(400, 404, 429),
            },
        }
    },
    "/api/cert/handoff-token": {
        "get": {
            "summary": "The post-payment page: confirm payment and return the token to the buying browser",
            "parameters": [
                {
                    "name": "session_id",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            ],
            "responses": {
                "200": _answer("Token and links"),
                "202": _answer("Emailed; not this browser"),
                **_errors(400, 404, 409, 410, 429, 502),
            },
        }
    },
    "/api/stripe/webhook": {
        "post": {
            "summary": "Stripe events (signed)",
            "parameters": [
                {
                    "name": "Stripe-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
            ],
            "responses": {"200": _answer("Processed, duplicate or ignored"), **_errors(400, 413, 500)},
        }
    },
    "/api/cert/token-status": {
        "get": {
            "summary": "What a token can do now: new, edit or locked",
            "security": BEARER,
            "responses": {"200": _answer("Status"), **_errors(400, 401, 404, 409, 410, 429)},
        }
    },
    "/api/cert/redeem-token": {
        "post": {
            "summary": "Issue a certificate (first submission) or correct it",
            "description": "The token comes in the body or as the bearer. A correction sends only what changes; "
            "one that changes nothing (an empty body included) is answered 200 and uses no submission.",
            "parameters": [IDEMPOTENCY_KEY],
            "security": [*BEARER, {}],
            "requestBody": _body(CERTIFICATE_FIELDS, [], schema=SUBMISSION, optional=True),
            "responses": {
                "201": _answer("Issued"),
                "200": _answer("Corrected"),
                **_errors(400, 401, 403, 404, 409, 410, 413, 429),
            },
        }
    },
    "/api/cert/lock-agent-edits": {
        "post": {
            "summary": "The holder's switch: refuse agent-sourced corrections",
            "parameters": [IDEMPOTENCY_KEY],
            "description": "The token comes in the body or as the bearer.",
            "security": [*BEARER, {}],
            "requestBody": _body({"token": BODY_TOKEN, "locked": REQUIRED_BOOLEAN}, ["locked"]),
            "responses": {"200": _answer("Lock state"), **_errors(400, 401, 403, 404, 409, 410, 413, 429)},
        }
    },
    "/api/cert/agent-token": {
        "get": {
            "summary": "The holder's view of the agent token: active or not (never the token itself)",
            "security": BEARER,
            "responses": {"200": _answer("Agent token state"), **_errors(400, 401, 403, 404, 429)},
        },
        "post": {
            "summary": "The holder mints an agent token for the agent; any previous one is revoked",
            "security": BEARER,
            "responses": {
                "201": _answer("The new agent token, shown once"),
                **_errors(400, 401, 403, 404, 409, 410, 429),
            },
        },
        "delete": {
            "summary": "The holder revokes the agent token",
            "security": BEARER,
            "responses": {"200": _answer("Whether a token was revoked"), **_errors(400, 401, 403, 404, 429)},
        },
    },
    "/api/cert/agent-card-extension": {
        "get": {
            "summary": "The GhostShell entry for the agent's A2A Agent Card and for an ERC-8004 registration file",
            "parameters": [{"name": "id", "in": "query", "required": True, "schema": NOT_BLANK}],
            "responses": {"200": _answer("Agent card extension and ERC-8004 entry"), **_errors(400, 404, 410, 429)},
        }
    },
    "/api/agent/instructions": {
        "get": {
            "summary": "How an agent registers: steps, endpoint, fields with allowed values and limits, example, rules",
            "responses": {"200": _answer("Agent instructions")},
        }
    },
    "/api/catalogue": {
        "get": {
            "summary": "The declared ontological statuses and the cognitive-core families",
            "responses": {"200": _answer("Catalogue")},
        }
    },
    "/llms.txt": {
        "get": {
            "summary": "The llms.txt file: what the registry is and where an agent starts",
            "responses": {"200": {"description": "Markdown", "content": {"text/markdown": {"schema": STRING}}}},
        }
    },
    "/robots.txt": {
        "get": {
            "summary": "Crawling rules: public pages allowed, private and registration pages kept out",
            "responses": {"200": {"description": "Text", "content": {"text/plain": {"schema": STRING}}}},
        }
    },
    "/api/cert/lookup": {
        "get": {
            "summary": "A public redacted record by public id",
            "parameters": [
                {"name": "id", "in": "query", "required": True, "schema": NOT_BLANK},
                {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}},
            ],
            "responses": {
                "200": _answer(
                    "Public record (a revoked one: its stub)",
                    {"anyOf": [_ref("PublicRecord"), _ref("RevokedRecord")]},
                ),
                **_errors(400, 404, 410, 429),
            },
        }
    },
    "/api/cert/amendment": {
        "get": {
            "summary": "The holder's paid amendment: available, can be bought, price (confirms a returned checkout)",
            "security": BEARER,
            "parameters": [AMENDMENT_SESSION],
            "responses": {"200": _answer("Amendment state"), **_errors(400, 401, 403, 404, 409, 429, 502)},
        },
        "post": {
            "summary": "The holder of a locked record buys one amendment: a Stripe Checkout Session",
            "security": BEARER,
            "responses": {
                "201": _answer("Checkout started: {checkout_url, session_id, price}"),
                **_errors(400, 401, 403, 404, 409, 410, 413, 429, 502),
            },
        },
    },
    "/api/cert/private": {
        "get": {
            "summary": "The holder's full record (session_id: an amendment checkout the holder is back from)",
            "security": BEARER,
            "parameters": [AMENDMENT_SESSION],
            "responses": {
                "200": _answer(
                    "The holder's page: `certificate` once issued",
                    {"type": "object", "properties": {"certificate": _ref("PrivateRecord")}},
                ),
                **_errors(400, 401, 403, 404, 409, 429, 502),
            },
        }
    },
    "/api/registry/search": {
        "get": {
            "summary": "Search public records by id prefix, or by name among listed records",
            "parameters": [
                {"name": "q", "in": "query", "schema": _text(100)},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
                {"name": "cursor", "in": "query", "schema": {"type": "string", "maxLength": 4000}},
            ],
            "responses": {"200": _answer("Results page"), **_errors(400, 429)},
        }
    },
    "/api/cert/record-page/{public_id}": {
        "get": {
            "summary": "The public record page (HTML) with the record's own head for link previews",
            "parameters": [{"name": "public_id", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": {"description": "The page", "content": {"text/html": {}}},
                "302": {"description": "No built site on this host: the static page /r/?id="},
                "404": {"description": "The page, with a generic head", "content": {"text/html": {}}},
            },
        }
    },
    "/api/cert/resend": {
        "post": {
            "summary": "Email the private links of every purchase made with an address (same answer for any address)",
            "requestBody": _body({"email": {"type": "string", "format": "email"}, "new_link": BOOLEAN}, ["email"]),
            "responses": {"202": _answer("Accepted"), **_errors(400, 413, 429)},
        }
    },
    "/api/cert/resend/confirm": {
        "post": {
            "summary": "Replace a private link through the replacement link emailed by /api/cert/resend",
            "requestBody": _body({"code": STRING}, ["code"]),
            "responses": {"200": _answer("Replaced; the new link was emailed"), **_errors(400, 409, 410, 413, 429)},
        }
    },
    "/api/ops/email-summary": {
        "get": {
            "summary": "Email and checkout figures for the maintainer",
            "security": [{"opsSecret": []}],
            "responses": {"200": _answer("Summary"), **_errors(401, 404)},
        }
    },
}

# Verifiable credentials (docs/api.md "Verifiable credentials").
PATHS |= {
    "/.well-known/did.json": {
        "get": {
            "summary": "The registry's DID document (did:web): every signing key, current and retired",
            "responses": {
                "200": {
                    "description": "DID document",
                    "content": {"application/did+json": {"schema": {"type": "object"}}},
                },
                **_errors(503),
            },
        }
    },
    "/api/cert/credential": {
        "get": {
            "summary": "A record's signed W3C Verifiable Credential 2.0 (eddsa-jcs-2022), latest or a given version",
            "parameters": [
                {"name": "id", "in": "query", "required": True, "schema": NOT_BLANK},
                {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}},
                {"name": "download", "in": "query", "schema": BOOLEAN},
            ],
            "responses": {"200": _answer("Verifiable credential"), **_errors(400, 404, 410, 429, 503)},
        }
    },
    "/api/cert/status/{purpose}": {
        "get": {
            "summary": "A signed Bitstring Status List credential (revocation or refresh)",
            "parameters": [
                {
                    "name": "purpose",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": ["revocation", "refresh"]},
                }
            ],
            "responses": {"200": _answer("BitstringStatusListCredential"), **_errors(404, 429, 503)},
        }
    },
    "/api/cert/verify": {
        "get": {
            "summary": "The registry's verification of a record's credential: {valid, status, checks, key}",
            "parameters": [
                {"name": "id", "in": "query", "required": True, "schema": NOT_BLANK},
                {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}},
            ],
            "responses": {"200": _answer("Verification result"), **_errors(400, 404, 410, 429, 503)},
        }
    },
    "/api/cert/badge.svg": {
        "get": {
            "summary": "A small SVG badge: registry name, public id, status",
            "parameters": [{"name": "id", "in": "query", "required": True, "schema": NOT_BLANK}],
            "responses": {
                "200": {"description": "SVG", "content": {"image/svg+xml": {"schema": STRING}}},
                **_errors(400, 404, 429),
            },
        }
    },
    "/api/cert/qr.svg": {
        "get": {
            "summary": "A QR code (SVG) of the public record URL",
            "parameters": [{"name": "id", "in": "query", "required": True, "schema": NOT_BLANK}],
            "responses": {
                "200": {"description": "SVG", "content": {"image/svg+xml": {"schema": STRING}}},
                **_errors(400, 404, 429),
            },
        }
    },
}


def _integer(name: str, minimum: int = 0) -> dict:
    return {"name": name, "in": "query", "required": True, "schema": {"type": "integer", "minimum": minimum}}


def _text_answer(description: str) -> dict:
    return {"description": description, "content": {"text/plain": {"schema": STRING}}}


# The transparency log (api/transparency.py; formats in docs/api.md, "Transparency log").
LOG_PATHS = {
    "/api/log/checkpoint": {
        "get": {
            "summary": "The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)",
            "responses": {"200": _text_answer("Signed checkpoint"), **_errors(429, 503)},
        }
    },
    "/api/log/key": {
        "get": {
            "summary": "The note verifier key of the checkpoint signer (name+hash+base64)",
            "responses": {"200": _text_answer("Verifier key"), **_errors(429, 503)},
        }
    },
    "/api/log/entries": {
        "get": {
            "summary": "Leaves [start, end), at most 256 per answer",
            "parameters": [_integer("start"), _integer("end", 1)],
            "responses": {"200": _answer("Entries"), **_errors(400, 429)},
        }
    },
    "/api/log/proof/inclusion": {
        "get": {
            "summary": "RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves",
            "parameters": [_integer("index"), _integer("size", 1)],
            "responses": {"200": _answer("Inclusion proof"), **_errors(400, 429)},
        }
    },
    "/api/log/proof/consistency": {
        "get": {
            "summary": "RFC 9162 consistency proof between the trees of `first` and `second` leaves",
            "parameters": [_integer("first", 1), _integer("second", 1)],
            "responses": {"200": _answer("Consistency proof"), **_errors(400, 429)},
        }
    },
    "/api/cert/log": {
        "get": {
            "summary": "A record's log entries with inclusion proofs against the latest signed checkpoint",
            "parameters": [{"name": "id", "in": "query", "required": True, "schema": NOT_BLANK}],
            "responses": {"200": _answer("Log entries of the record"), **_errors(400, 404, 429, 503)},
        }
    },
}
PATHS.update(LOG_PATHS)


def build_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GhostShell Registry API",
            "version": "1.0.0",
            "description": "Birth certificates for agents. Contract: docs/api.md.",
        },
        "paths": PATHS,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": STRING, "message": STRING, "field": STRING},
                },
                "Submission": SUBMISSION,
                "FirstSubmission": FIRST_SUBMISSION,
                "PublicRecord": public_record_schema(),
                "RevokedRecord": REVOKED_RECORD,
                "PrivateRecord": private_record_schema(),
            },
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": f"A {rules.TOKEN_PREFIX} purchase token",
                },
                "opsSecret": {"type": "http", "scheme": "bearer", "description": "OPS_SECRET"},
            },
        },
    }
