"""No plaintext email and no plaintext token in the database (files on SQLite, every row on PostgreSQL) or in
the log, after a whole purchase: checkout, payment, handoff, email sent, abandonment of another checkout."""

from __future__ import annotations

import logging
from pathlib import Path

from api.db import is_sqlite

from .support import post_event, stripe_event

EMAIL = "private.person@example.com"
OTHER_EMAIL = "walked.away@example.com"


def database_bytes(ctx) -> bytes:
    if is_sqlite(ctx.db):
        ctx.db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
        path = Path(ctx.config.database_url.split("sqlite:///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    dump = []
    for table in ctx.db.get_tables():
        for (row,) in ctx.db.execute_sql(f'SELECT row_to_json(t)::text FROM "{table}" t'):
            dump.append(row)
    return "\n".join(dump).encode()


def test_database_and_log_hold_no_plaintext_email_or_token(client, stripe_double, ctx, deliver_mail, caplog):
    caplog.set_level(logging.INFO)  # the level `serve` runs at; the registry's own loggers at DEBUG
    caplog.set_level(logging.DEBUG, logger="ghostshell")
    started = client.simulate_post("/api/cert/checkout", json={"recovery_email": EMAIL})
    session_id, cookie = started.json["session_id"], started.cookies["gs_handoff"].value
    stripe_double.complete(session_id, deliver=False)
    post_event(client, stripe_event("checkout.session.completed", stripe_double.get_session(session_id)))
    token = client.simulate_get(
        "/api/cert/handoff-token", params={"session_id": session_id}, headers={"Cookie": f"gs_handoff={cookie}"}
    ).json["token"]
    abandoned = client.simulate_post("/api/cert/checkout", json={"recovery_email": OTHER_EMAIL}).json
    post_event(
        client,
        stripe_event(
            "checkout.session.expired", {**stripe_double.get_session(abandoned["session_id"]), "status": "expired"}
        ),
    )
    sent = deliver_mail()
    assert {m["to"][0] for m in sent} == {EMAIL, OTHER_EMAIL}  # the data was there to leak

    stored = database_bytes(ctx)
    for secret in (EMAIL, OTHER_EMAIL, token, token.lower(), token[5:], "private.person"):
        assert secret.encode() not in stored, f"{secret!r} found in the database"
        assert secret not in caplog.text, f"{secret!r} found in the log"
