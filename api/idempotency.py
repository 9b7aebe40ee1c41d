"""Idempotency-Key on the writes a client may have to retry: redeem-token and lock-agent-edits.

A client that lost an answer sends the same request again with the same `Idempotency-Key` header and gets the first
answer back, and nothing is done a second time. Rules:
- A key is 1 to 255 printable ASCII characters (a UUID is the usual choice); anything else is
  `400 invalid_idempotency_key`. Keys are scoped to the route and the token the request carries.
- Same key, same fields: the stored status and body, with `Idempotent-Replayed: true`.
- Same key, other fields: `409 idempotency_key_reused`; nothing is done.
- Only successful answers are stored: a refused request changed nothing and may be sent again as it is.
- Two requests with one key at the same time: the first to store its answer wins, and the other answers with it.
- An answer is kept `rules.IDEMPOTENCY_KEEP_HOURS`; `ops purge` then deletes it (api/retention.py).
The store keeps no key, token or link in the clear: the scope is a keyed hash and the answer is sealed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import peewee

from .context import Context
from .crypto import normalize_token
from .db import write_transaction
from .errors import RegistryError
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
ANSWER_PURPOSE = "idempotent-answer"
_KEY = re.compile(r"[\x20-\x7e]{1,255}")


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


@dataclasses.dataclass(frozen=True)
class Scope:
    """One (route, token, key): where a request's answer is stored."""

    scope_hash: str
    request_hash: str


def scope(ctx: Context, route: str, raw_key: str | None, raw_token, fields: dict) -> Scope | None:
    """The scope of a request, or None when it carries no key (or no token: the request will be refused)."""
    if raw_key is None:
        return None
    if not _KEY.fullmatch(raw_key):
        raise RegistryError(
            "invalid_idempotency_key", f"{HEADER} must be 1 to 255 printable ASCII characters, such as a UUID."
        )
    if not isinstance(raw_token, str) or not raw_token.strip() or len(raw_token) > 200:
        return None
    token = normalize_token(raw_token) or raw_token.strip()  # a purchase token in any form, or an agent token
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return Scope(
        scope_hash=ctx.keyring.keyed_hash("idempotency", f"{route}\n{token}\n{raw_key}"),
        request_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def replay(ctx: Context, request: Scope | None) -> Answer | None:
    """The stored answer for this key, or None. Raises 409 when the key was used with other fields."""
    if request is None:
        return None
    stored = IdempotentRequest.get_or_none(IdempotentRequest.scope_hash == request.scope_hash)
    if stored is None:
        return None
    if stored.request_hash != request.request_hash:
        raise RegistryError(
            "idempotency_key_reused", f"This {HEADER} was already used for a different request; use a new key."
        )
    body = json.loads(ctx.keyring.open(ANSWER_PURPOSE, stored.answer_enc))
    return Answer(stored.status, body, replayed=True)


def remember(ctx: Context, request: Scope | None, answer: Answer) -> Answer:
    """Store a successful answer under the key; when a concurrent request stored one first, answer with that."""
    if request is None:
        return answer
    try:
        with write_transaction(ctx.db):  # queued behind the process's writers, not in SQLite's busy sleeps
            IdempotentRequest.create(
                scope_hash=request.scope_hash,
                request_hash=request.request_hash,
                status=answer.status,
                answer_enc=ctx.keyring.seal(ANSWER_PURPOSE, json.dumps(answer.body)),
                created_at=ctx.clock(),
            )
    except peewee.IntegrityError:
        return replay(ctx, request) or answer
    return answer
