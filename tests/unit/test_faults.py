"""The faults found when the registry was attacked (issue 9), each kept as a test that failed before its fix.

Numbered as in the issue: 1 outbox claims, 2 rate-limit storage down, 3 idle connections, 4 webhook ordering,
5 hostile input, 6 the 413 shape, 7 live key with the test checkout, 8 immutable 404s, 9 idempotent redeem,
10 the OpenAPI document against the server, 11 an unreachable PostgreSQL at start-up. Tests that need a
running server, a kill or a database outage live in tests/faults/ (the fault suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.config import Config, ConfigError

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GHOSTSHELL_", "STRIPE_", "DATABASE_URL"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "api", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=60
    )


# -- 7. a live Stripe key with the test checkout on ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["sk_live_abc123", "rk_live_abc123"])
@pytest.mark.parametrize("env_name", [None, "development"])
def test_a_live_key_with_the_test_checkout_refuses_to_start(tmp_path, key, env_name):
    environ = {"GHOSTSHELL_TEST_CHECKOUT": "1", "STRIPE_SECRET_KEY": key}
    if env_name:
        environ["GHOSTSHELL_ENV"] = env_name
    with pytest.raises(ConfigError, match="live"):
        Config.from_env(environ, dev_keys_path=tmp_path / "keys.json")


def test_a_test_key_with_the_test_checkout_still_starts(tmp_path):
    config = Config.from_env(
        {"GHOSTSHELL_TEST_CHECKOUT": "1", "STRIPE_SECRET_KEY": "sk_test_abc"}, dev_keys_path=tmp_path / "k.json"
    )
    assert config.test_checkout
    live = Config.from_env({"STRIPE_SECRET_KEY": "sk_live_abc"}, dev_keys_path=tmp_path / "k.json")
    assert not live.test_checkout


# -- 11. an unreachable database at start-up ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["migrate"], ["ops", "health"]])
def test_an_unreachable_postgresql_is_one_clear_line_and_exit_2(command, tmp_path):
    result = _cli(
        *command,
        DATABASE_URL="postgresql://registry:secret-password@127.0.0.1:1/registry?connect_timeout=2",
        GHOSTSHELL_SECRET_KEY="x" * 40,
        EMAIL_ENC_KEY="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1:1" in lines[0] and "database" in lines[0].lower()
    assert "secret-password" not in result.stderr + result.stdout


def test_an_unusable_sqlite_path_is_one_clear_line_and_exit_2():
    result = _cli("migrate", DATABASE_URL="sqlite:////proc/no-such-dir/registry.db")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "/proc/no-such-dir" in result.stderr


# -- 8. a 404 under /theme/ -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_client(tmp_path_factory):
    import falcon
    import falcon.testing

    import build
    from dev.static_site import add_static_site

    site = build.build(tmp_path_factory.mktemp("faults-site") / "output")
    app = falcon.App()
    add_static_site(app, site)
    return site, falcon.testing.TestClient(app)


@pytest.mark.parametrize(
    "path", ["/theme/css/site.0000000000.css", "/theme/missing.js", "/theme/js/", "/theme", "/theme/../theme/x.css"]
)
def test_only_existing_fingerprinted_assets_are_immutable(site_client, path):
    site, client = site_client
    result = client.simulate_get(path)
    assert result.status_code != 200
    assert "immutable" not in result.headers.get("cache-control", ""), (path, result.headers)
    assert "max-age=31536000" not in result.headers.get("cache-control", "")
    (css,) = site.glob("theme/css/site.*.css")
    existing = client.simulate_get("/" + css.relative_to(site).as_posix())
    assert existing.status_code == 200 and "immutable" in existing.headers["cache-control"]


# -- 2. the rate-limit storage is down ------------------------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: nothing listens there


@pytest.fixture
def blackhole():
    """A TCP port that accepts connections and never answers (a Redis that hangs)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.parametrize("storage", ["refused", "hangs"])
def test_rate_limited_routes_never_500_when_redis_is_down(ctx, storage, blackhole, caplog):
    import time

    import falcon.testing

    from api.app import create_app
    from api.ratelimit import RateLimiter

    from .support import assert_error

    uri = f"redis://127.0.0.1:{_closed_port()}" if storage == "refused" else blackhole
    limiter = RateLimiter({**ctx.config.rate_limits, "lookup": "3/minute"}, uri)
    client = falcon.testing.TestClient(create_app(context=ctx, limiter=limiter))
    started = time.monotonic()
    for _ in range(3):
        assert_error(client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}), 404, "not_found")
    # The limits still hold, counted in-process while the shared store is away.
    assert_error(client.simulate_get("/api/cert/lookup", params={"id": "GS-BC-H-26-1"}), 429, "rate_limited")
    for path in ("/api/registry/search", "/api/cert/token-status", "/api/cert/private"):
        assert client.simulate_get(path).status_code < 500
    assert client.simulate_post("/api/cert/redeem-token", json={}).status_code < 500
    assert client.simulate_post("/api/cert/checkout", json={"recovery_email": "x"}).status_code < 500
    assert time.monotonic() - started < 8  # a hanging store is given up on quickly, not once per request
    health = client.simulate_get("/api/health")
    assert health.status_code == 200 and health.json["rate_limits"] == "fallback"
    # Said once in the log, not once per request.
    warnings = [r for r in caplog.records if "rate-limit storage" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]


def test_health_reports_the_rate_limit_storage(ctx):
    import falcon.testing

    from api.app import create_app
    from api.ratelimit import RateLimiter

    memory = falcon.testing.TestClient(create_app(context=ctx, limiter=RateLimiter(ctx.config.rate_limits)))
    assert memory.simulate_get("/api/health").json == {"status": "ok", "rate_limits": "ok"}
    off = RateLimiter(ctx.config.rate_limits, enabled=False)
    assert falcon.testing.TestClient(create_app(context=ctx, limiter=off)).simulate_get("/api/health").json == {
        "status": "ok",
        "rate_limits": "off",
    }


# -- 4. Stripe events in any order ------------------------------------------------------------------------------------


def _token_from(message: dict) -> str:
    import re

    match = re.search(r"GSTK-[0-9A-Z]{24}", message["text"])
    assert match, message["text"]
    return match.group(0)


def _paid(session: dict) -> dict:
    return {**session, "status": "complete", "payment_status": "paid", "payment_intent": "pi_late"}


@pytest.mark.parametrize(
    "ending,paid_event",
    [
        ("checkout.session.expired", "checkout.session.completed"),
        ("checkout.session.async_payment_failed", "checkout.session.async_payment_succeeded"),
        ("checkout.session.expired", "checkout.session.async_payment_succeeded"),
    ],
)
def test_a_paid_event_after_the_checkout_ended_makes_it_paid_with_a_usable_token(
    client, checkout, deliver_mail, ending, paid_event
):
    from api.models import OutboxMessage, Purchase

    from .support import post_event, stripe_event

    purchase, session = checkout()
    assert post_event(client, stripe_event(ending, session)).status_code == 200
    for attempt in range(2):  # Stripe retries until it gets a 2xx; the second delivery is a replay
        answer = post_event(client, stripe_event(paid_event, _paid(session), event_id="evt_late_paid"))
        assert answer.status_code == 200, answer.text
        assert answer.json["outcome"] == ("paid" if attempt == 0 else "duplicate")
    assert Purchase.get_by_id(purchase.id).status == "paid"
    links = OutboxMessage.select().where(OutboxMessage.kind == "private_link")
    assert links.count() == 1
    (mail,) = [m for m in deliver_mail() if "GSTK-" in m["text"]]
    token = _token_from(mail)
    status = client.simulate_get("/api/cert/token-status", headers={"Authorization": f"Bearer {token}"})
    assert status.status_code == 200 and status.json["mode"] == "new"


def test_a_late_paid_event_withdraws_the_unsent_abandoned_checkout_reminder(client, checkout, deliver_mail):
    # The expiry queued "your checkout was not completed"; the buyer who then paid must not receive it.
    from api.models import OutboxMessage

    from .support import post_event, stripe_event

    purchase, session = checkout()
    assert post_event(client, stripe_event("checkout.session.expired", session)).json["outcome"] == "abandoned"
    (reminder,) = OutboxMessage.select().where(OutboxMessage.kind == "abandoned_reminder")
    assert reminder.status == "queued"
    assert post_event(client, stripe_event("checkout.session.completed", _paid(session))).json["outcome"] == "paid"
    reminder = OutboxMessage.get_by_id(reminder.id)
    assert (reminder.status, reminder.payload_enc) == ("failed", None)
    assert "paid" in reminder.last_error
    sent = deliver_mail()
    assert len(sent) == 1 and "GSTK-" in sent[0]["text"]  # the private link alone


def test_the_post_payment_page_asks_stripe_about_an_ended_checkout(client, checkout, stripe_double):
    from api.models import OutboxMessage, Purchase

    from .support import post_event, stripe_event

    purchase, session = checkout()
    post_event(client, stripe_event("checkout.session.expired", session))
    stripe_double.complete(session["id"], deliver=False)  # Stripe says paid; its event has not arrived
    answer = client.simulate_get("/api/cert/handoff-token", params={"session_id": session["id"]})
    assert answer.status_code == 202, answer.text  # paid; the token went by email (this browser's copy was cleared)
    assert Purchase.get_by_id(purchase.id).status == "paid"
    assert OutboxMessage.select().where(OutboxMessage.kind == "private_link").count() == 1


def test_racing_expiry_and_payment_deliveries_never_fail(client, checkout, ctx):
    import threading

    from api.models import OutboxMessage, Purchase

    from .support import post_event, stripe_event

    for round_ in range(5):
        purchase, session = checkout(f"racer{round_}@example.com")
        events = [
            stripe_event("checkout.session.expired", session),
            stripe_event("checkout.session.completed", _paid(session)),
        ]
        statuses, barrier = [], threading.Barrier(2)

        def deliver(payload, barrier=barrier, statuses=statuses):
            barrier.wait()
            try:
                statuses.append(post_event(client, payload).status_code)
            finally:
                ctx.db.close()

        threads = [threading.Thread(target=deliver, args=(payload,)) for payload in events]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200], (round_, statuses)
        assert Purchase.get_by_id(purchase.id).status == "paid"
        assert (
            OutboxMessage.select()
            .where(OutboxMessage.kind == "private_link", OutboxMessage.purchase == purchase.id)
            .count()
            == 1
        )


# -- 5. hostile input answers 4xx, never 500 ------------------------------------------------------------------------

NESTED = "[" * 1000 + "]" * 1000
NESTED_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT, '{"token": ' + NESTED + "}"])
@pytest.mark.parametrize("path", ["/api/cert/redeem-token", "/api/cert/checkout", "/api/cert/lock-agent-edits"])
def test_deeply_nested_json_is_a_400(client, path, body):
    from .support import assert_error

    result = client.simulate_post(path, body=body, headers={"Content-Type": "application/json"})
    assert_error(result, 400, "malformed_body")


def _forged_cursor(data) -> str:
    import json

    from api.crypto import b64e

    return b64e(json.dumps(data).encode())


@pytest.mark.parametrize(
    "cursor",
    [
        _forged_cursor({"p": 2, "a": ["alpha", 2**70]}),
        _forged_cursor({"p": 2, "a": ["alpha", -(2**63) - 1]}),
        _forged_cursor({"p": 1, "a": "GSBC\ud800"}),
        _forged_cursor({"p": 2, "a": ["\ud800", 1]}),
        _forged_cursor({"p": 1, "a": "GSBC\u0000H"}),
        _forged_cursor({"p": 2, "a": ["al\u0000pha", 1]}),
        _forged_cursor({"p": 1, "a": "GSBCH261"}),  # well-formed but not one the registry made
        "not-base64-%%%",
        "",  # empty is "no cursor": the first page
    ],
)
def test_forged_search_cursors_are_refused(client, cursor):
    from .support import assert_error

    result = client.simulate_get("/api/registry/search", params={"q": "alpha", "cursor": cursor})
    if cursor == "":
        assert result.status_code == 200
        return
    assert_error(result, 400, "invalid_cursor")


def test_the_registrys_own_cursors_still_page(client, paid_token):
    for n in range(3):
        token = paid_token(f"h{n}@example.com")
        answer = client.simulate_post(
            "/api/cert/redeem-token",
            json={
                "token": token,
                "agent_name": f"Pager {n}",
                "declared_ontological_status": "Assistant",
                "inception_date": "2025-01-01",
                "place_country": "Australia",
                "listed": True,
            },
        )
        assert answer.status_code == 201, answer.text
    seen, cursor = [], None
    while True:
        params = {"q": "pager", "limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.simulate_get("/api/registry/search", params=params)
        assert page.status_code == 200, page.text
        seen += [r["agent_name"] for r in page.json["results"]]
        cursor = page.json["next_cursor"]
        if not cursor:
            break
        tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
        assert client.simulate_get("/api/registry/search", params={**params, "cursor": tampered}).status_code == 400
    assert seen == ["Pager 0", "Pager 1", "Pager 2"]


@pytest.mark.parametrize("value", ["GS-BC-H-26-1\x00", "\x00", "GS\x00BC", "GS-BC-H-26-1\ud800"[:-1] + "\x00"])
def test_nul_bytes_in_a_lookup_id_are_a_404(client, value):
    from .support import assert_error

    assert_error(client.simulate_get("/api/cert/lookup", params={"id": value}), 404, "not_found")


@pytest.mark.parametrize("value", ["cs_test_\x00", "\x00", "cs_test_a\x00b"])
def test_nul_bytes_in_a_session_id_are_a_404(client, value):
    from .support import assert_error

    result = client.simulate_get("/api/cert/handoff-token", params={"session_id": value})
    assert_error(result, 404, "unknown_session")


@pytest.mark.parametrize("email", ["a\x00b@example.com", "a\ud800@example.com", "x@exa\x00mple.com"])
def test_control_characters_and_lone_surrogates_in_an_email_are_a_400(client, email):
    import json

    from .support import assert_error

    body = json.dumps({"recovery_email": email})  # \ud800 travels as a JSON escape, as an attacker sends it
    result = client.simulate_post("/api/cert/checkout", body=body, headers={"Content-Type": "application/json"})
    assert_error(result, 400, "invalid_email")


@pytest.mark.parametrize(
    "event",
    [
        [],
        [{"id": "evt_1"}],
        {"type": "checkout.session.completed"},
        {"id": "evt_no_data", "type": "checkout.session.completed"},
        {"id": "evt_bad_data", "type": "checkout.session.completed", "data": []},
        {"id": "evt_no_object", "type": "checkout.session.completed", "data": {}},
        {"id": "evt_obj_list", "type": "checkout.session.completed", "data": {"object": ["x"]}},
        {"id": "evt_no_session_id", "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": 12, "type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_type", "type": 5, "data": {"object": {"id": "cs_1"}}},
        {"id": "evt_sid", "type": "checkout.session.expired", "data": {"object": {"id": ["cs_1"]}}},
        {"id": "evt_nul", "type": "checkout.session.expired", "data": {"object": {"id": "cs_\u0000"}}},
        "just a string",
        None,
    ],
)
def test_signed_events_without_the_shape_of_an_event_are_a_400(client, event):
    import json

    from api.models import WebhookEvent

    from .support import assert_error, post_event

    result = post_event(client, json.dumps(event))
    assert_error(result, 400, "malformed_body")
    assert WebhookEvent.select().count() == 0


def test_a_signed_deeply_nested_event_is_a_400(client):
    from .support import assert_error, post_event

    payload = '{"id": "evt_deep", "type": "checkout.session.completed", "data": {"object": ' + NESTED + "}}"
    assert_error(post_event(client, payload), 400, "malformed_body")


# -- 1. the outbox: claims left in `sending`, and a delivery whose status update failed ------------------------------


class CountingTransport:
    """The real Resend transport (to the Resend double), counting each delivery attempt per message key."""

    def __init__(self, transport):
        self._transport = transport
        self.sends: dict[str, int] = {}

    def send(self, to, message, idempotency_key):
        self.sends[idempotency_key] = self.sends.get(idempotency_key, 0) + 1
        return self._transport.send(to, message, idempotency_key)


class DatabaseBlipAfterDelivery:
    """Sender seam: the first `sent` status update fails as a database outage would (the row stays `sending`)."""

    def __init__(self):
        self.blips = 0

    def wrap(self, sender_class):
        from api.mail.outbox import OutboxSender

        blip = self

        class Sender(sender_class or OutboxSender):
            def _finish(self, message_id, **fields):
                if fields.get("status") == "sent" and blip.blips == 0:
                    blip.blips += 1
                    raise __import__("peewee").OperationalError("server closed the connection unexpectedly")
                return super()._finish(message_id, **fields)

        return Sender


def _queue(ctx, key):
    from api.mail import messages
    from api.mail.outbox import queue

    with ctx.db.atomic():
        return queue(
            ctx.keyring,
            kind="private_link",
            to="holder@example.com",
            message=messages.private_link(ctx.config.base_url, "GSTK-" + "B" * 24),
            idempotency_key=key,
            now=ctx.clock(),
        )


def _pass(sender) -> None:
    """One pass of the background sender (`BackgroundSender`), which logs a failed pass and carries on."""
    try:
        sender.send_due()
    except Exception:
        pass


@pytest.fixture
def transport(ctx):
    from api.mail.outbox import ResendTransport

    return CountingTransport(
        ResendTransport(ctx.config.resend_api_key, ctx.config.resend_from_email, ctx.config.resend_api_base)
    )


def test_the_running_sender_recovers_a_claim_left_by_a_crashed_one_promptly(ctx, clock, transport, resend_double):
    from api.mail.outbox import OutboxSender
    from api.models import OutboxMessage

    queued = _queue(ctx, "crash/1")
    crashed = OutboxSender(ctx.db, ctx.keyring, transport, ctx.clock)
    assert crashed._claim_next().id == queued.id  # claimed, then the process died before sending
    running = OutboxSender(ctx.db, ctx.keyring, transport, ctx.clock)
    clock.advance(minutes=3)  # not ten: the running sender takes it back itself, without a restart
    _pass(running)
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "sent", row.status
    assert transport.sends == {"crash/1": 1} and len(resend_double.messages) == 1


def test_a_delivered_message_whose_status_update_failed_is_never_sent_twice(ctx, clock, transport, resend_double):
    from api.mail.outbox import OutboxSender
    from api.models import OutboxMessage

    queued = _queue(ctx, "blip/1")
    blip = DatabaseBlipAfterDelivery()
    sender = blip.wrap(OutboxSender)(ctx.db, ctx.keyring, transport, ctx.clock)
    _pass(sender)  # delivered; recording it failed
    assert blip.blips == 1 and transport.sends == {"blip/1": 1}
    for minutes in (1, 5, 11, 30):  # the running sender, well past any claim lease
        clock.advance(minutes=minutes)
        _pass(sender)
    # Then a restart: the new process takes back whatever claims are left, and sends what is due.
    clock.advance(hours=1)
    restarted = OutboxSender(ctx.db, ctx.keyring, transport, ctx.clock)
    restarted.recover_stuck()
    _pass(restarted)
    assert transport.sends == {"blip/1": 1}, "delivered twice"
    row = OutboxMessage.get_by_id(queued.id)
    assert row.status == "sent" and row.provider_id == resend_double.messages[0]["id"]


def test_ops_health_reports_a_stuck_message_after_minutes(ctx, clock, transport):
    from api.mail.outbox import OutboxSender
    from api.ops import email_summary

    _queue(ctx, "stuck/1")
    OutboxSender(ctx.db, ctx.keyring, transport, ctx.clock)._claim_next()  # and nothing more: no sender runs
    assert email_summary(ctx)["stuck"] == 0
    clock.advance(minutes=10)
    summary = email_summary(ctx)
    assert summary["stuck"] == 1 and summary["needs_attention"]


def test_ops_health_does_not_call_a_message_waiting_for_its_retry_stuck(ctx, clock, transport, resend_double):
    from api.mail.outbox import OutboxSender
    from api.ops import email_summary

    _queue(ctx, "retry/1")
    resend_double.fail_next(3, status=500)
    sender = OutboxSender(ctx.db, ctx.keyring, transport, ctx.clock)
    for _ in range(3):
        _pass(sender)
        clock.advance(minutes=2)
    assert email_summary(ctx)["stuck"] == 0  # queued for a later retry, as designed


# -- 9. a retried submission --------------------------------------------------------------------------------------


def _redeem(client, body, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.simulate_post("/api/cert/redeem-token", json=body, headers=headers)


def _edits(token) -> int:
    from api.models import Certificate, Purchase

    return Certificate.get_by_id(Purchase.get(Purchase.certificate.is_null(False)).certificate_id).edit_count


def test_a_resent_first_submission_consumes_nothing(client, fixed_clock, paid_token):
    from api.models import AuditEvent

    from .support import submission

    token = paid_token()
    body = submission(token)
    assert _redeem(client, body).status_code == 201
    again = _redeem(client, body)  # the answer was lost; the client sends the same submission again
    assert again.status_code == 200, again.text
    assert again.json["edits_used"] == 1 and again.json["edits_left"] == 4
    assert _edits(token) == 1 and AuditEvent.select().count() == 1
    # A real correction still counts.
    changed = _redeem(client, {"token": token, "agent_name": "Joule II"})
    assert changed.json["edits_used"] == 2


def test_an_idempotency_key_replays_the_stored_answer_and_refuses_another_body(client, fixed_clock, paid_token):
    from api.models import AuditEvent

    from .support import assert_error, submission

    token = paid_token()
    first = _redeem(client, submission(token), key="tab-1-submit-1")
    assert first.status_code == 201
    replay = _redeem(client, submission(token), key="tab-1-submit-1")
    assert replay.status_code == 201 and replay.json == first.json
    assert replay.headers.get("idempotent-replayed") == "true"
    assert _edits(token) == 1 and AuditEvent.select().count() == 1
    other = _redeem(client, submission(token, agent_name="Someone Else"), key="tab-1-submit-1")
    assert_error(other, 409, "idempotency_key_reused")
    assert _edits(token) == 1

    correction = {"token": token, "place_city": "Launceston"}
    corrected = _redeem(client, correction, key="tab-1-submit-2")
    assert corrected.status_code == 200 and corrected.json["edits_used"] == 2
    for _ in range(3):
        again = _redeem(client, correction, key="tab-1-submit-2")
        assert again.status_code == 200 and again.json == corrected.json
    assert _edits(token) == 2 and AuditEvent.select().count() == 2


def test_two_tabs_submitting_at_once_use_one_submission(client, fixed_clock, paid_token, ctx):
    import threading

    from .support import submission

    token = paid_token()
    statuses, barrier = [], threading.Barrier(2)

    def submit(key):
        barrier.wait()
        try:
            statuses.append(_redeem(client, submission(token), key=key).status_code)
        finally:
            ctx.db.close()

    threads = [threading.Thread(target=submit, args=(f"tab-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 201 in statuses and all(status in (200, 201, 409) for status in statuses), statuses
    assert _edits(token) == 1


@pytest.mark.parametrize("key", ["x" * 256, "bad\x01key", "spaces are fine but not\nnewlines", "\u00e9t\u00e9"])
def test_an_unusable_idempotency_key_is_a_400(client, fixed_clock, paid_token, key):
    from .support import assert_error, submission

    token = paid_token()
    result = client.simulate_post(
        "/api/cert/redeem-token",
        json=submission(token),
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )
    assert_error(result, 400, "invalid_idempotency_key")


def test_lock_agent_edits_honours_an_idempotency_key(client, fixed_clock, issued):
    from .support import assert_error

    token, _ = issued()
    headers = {"Idempotency-Key": "lock-1"}
    first = client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": True}, headers=headers)
    assert first.status_code == 200 and first.json == {"lock_agent_edits": True}
    again = client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": True}, headers=headers)
    assert again.json == first.json and again.headers.get("idempotent-replayed") == "true"
    other = client.simulate_post("/api/cert/lock-agent-edits", json={"token": token, "locked": False}, headers=headers)
    assert_error(other, 409, "idempotency_key_reused")


# -- 10. the OpenAPI document and the server agree ------------------------------------------------------------------


def _accepts(schema: dict, value) -> bool:
    """Whether the document's schema calls a value valid (formats checked, as schemathesis generates them)."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value)


def _operation(path: str, method: str) -> dict:
    from api.openapi import build_document

    return build_document()["paths"][path][method]


def _param_schema(path: str, method: str, name: str) -> dict:
    return next(p["schema"] for p in _operation(path, method)["parameters"] if p["name"] == name)


def _body_schema(path: str, method: str = "post") -> dict:
    return _operation(path, method)["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    "path,name,others",
    [
        ("/api/cert/lookup", "id", {}),
        ("/api/cert/handoff-token", "session_id", {}),
        ("/api/registry/search", "cursor", {"q": "a"}),
        ("/api/registry/search", "q", {}),
    ],
)
def test_an_empty_query_value_the_document_accepts_is_not_refused(client, path, name, others):
    if not _accepts(_param_schema(path, "get", name), ""):
        return  # the document itself says "" is invalid: nothing to agree on
    answer = client.simulate_get(path, params={**others, name: ""})
    assert answer.status_code != 400, (path, name, answer.text)


@pytest.mark.parametrize(
    "field",
    ["agent_name", "declared_ontological_status", "inception_date", "place_country", "token"],
)
def test_an_empty_field_the_document_accepts_is_not_refused(client, fixed_clock, paid_token, field):
    from .support import submission

    token = paid_token()
    body = {**submission(token), field: ""}
    schema = _body_schema("/api/cert/redeem-token")
    if not _accepts(schema, body):
        return
    # An empty body token means "not sent", and the document names the bearer as the other place for it.
    headers = {"Authorization": f"Bearer {token}"} if field == "token" else {}
    answer = client.simulate_post("/api/cert/redeem-token", json=body, headers=headers)
    assert answer.status_code not in (400, 401), (field, answer.text)


@pytest.mark.parametrize("path", ["/api/cert/token-status", "/api/cert/private"])
def test_a_missing_bearer_token_is_a_401(client, path):
    from .support import assert_error

    answer = client.simulate_get(path)
    assert_error(answer, 401, "missing_token")
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("limit", ["", "abc", "0", "51", "1.5", " 5"])
def test_a_limit_the_document_refuses_is_refused(client, limit):
    from .support import assert_error

    schema = _param_schema("/api/registry/search", "get", "limit")
    number = int(limit) if limit.strip().isdigit() and limit == limit.strip() else None
    assert number is None or not _accepts(schema, number)  # each of these is invalid by the document
    assert_error(client.simulate_get("/api/registry/search", params={"q": "a", "limit": limit}), 400, "invalid_field")


def test_the_idempotency_key_is_in_the_document():
    for path in ("/api/cert/redeem-token", "/api/cert/lock-agent-edits"):
        operation = _operation(path, "post")
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and not header.get("required")
        assert "409" in operation["responses"]


def test_every_operation_that_takes_a_token_documents_the_401():
    from api.openapi import build_document

    missing = [
        f"{method.upper()} {path}"
        for path, operations in build_document()["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") and "401" not in operation["responses"]
    ]
    assert not missing
