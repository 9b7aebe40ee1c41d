"""kill -9 of the registry during issuance and during webhook delivery, repeated and bounded, then integrity checks
on what is left in the database and in the mailbox (issue 9, "the attacks as tests").

Each round starts a burst of requests, kills the server with SIGKILL at a random moment inside it, and starts it
again on the same database. Clients retry what did not get an answer, as people and Stripe do. Then:
- card numbers are gap-free (1..n for the year, the counter at n) and every certificate is whole (its purchase,
  its one `issue` audit event, its one "issued" email);
- every paid purchase is redeemed or still redeemable (token-status answers);
- every Stripe event paid its purchase exactly once, with one private-link email;
- every message is sent or queued exactly once: no idempotency key was delivered twice by the mailbox.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from .support import WEBHOOK_SECRET, wait_until

ROUNDS = 3
BATCH = 4
FIELDS = {
    "agent_name": "Crash Test",
    "declared_ontological_status": "Autonomous Agent",
    "inception_date": "2025-06-01",
    "place_country": "Australia",
}


class Sql:
    """Read-only checks on the server's database, SQLite file or PostgreSQL."""

    def __init__(self, url: str):
        self.url = url

    def rows(self, statement: str) -> list[tuple]:
        if self.url.startswith("sqlite"):
            connection = sqlite3.connect(self.url.split("sqlite:///", 1)[1], timeout=15)
            try:
                return connection.execute(statement).fetchall()
            finally:
                connection.close()
        import psycopg2

        connection = psycopg2.connect(self.url, connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                return cursor.fetchall()
        finally:
            connection.close()


def post(url: str, **kwargs):
    try:
        return requests.post(url, timeout=10, **kwargs)
    except requests.RequestException:
        return None  # the server died under the request: the client will retry


def until_answered(send, attempts: int = 40):
    """Retry through a restart until the server answers (not 5xx); return the answer."""
    for _ in range(attempts):
        answer = send()
        if answer is not None and answer.status_code < 500:
            return answer
        time.sleep(0.25)
    raise AssertionError("no answer after retries")


def crash_rounds(server, burst) -> int:
    """ROUNDS times: run `burst(round)` in the background, SIGKILL the server inside it, start it again."""
    kills = 0
    for round_ in range(ROUNDS):
        worker = threading.Thread(target=burst, args=(round_,))
        worker.start()
        time.sleep(random.uniform(0.05, 0.6))
        server.kill()
        kills += 1
        worker.join(timeout=60)
        server.start()
    return kills


def assert_mail_exactly_once(server, doubles, sql: Sql) -> None:
    messages = sql.rows("SELECT idempotency_key, status FROM outbox_message")
    delivered: dict[str, int] = {}
    for message in doubles.messages():
        delivered[message["idempotency_key"]] = delivered.get(message["idempotency_key"], 0) + 1
    ours = {key for key, _ in messages}
    assert all(delivered.get(key, 0) <= 1 for key in ours), {k: n for k, n in delivered.items() if n > 1}
    for key, status in messages:
        assert status in ("sent", "queued", "sending"), (key, status)
        if status == "sent":
            assert delivered.get(key) == 1, key


def test_kill_9_during_issuance_leaves_whole_records_and_gap_free_numbers(start_server, database, doubles):
    server = start_server(database)
    sql = Sql(server.database_url)
    tokens = []
    for n in range(ROUNDS * BATCH):
        answer = until_answered(
            lambda n=n: post(server.url + "/api/cert/test-checkout", json={"recovery_email": f"crash{n}@example.com"})
        )
        assert answer.status_code == 201, answer.text
        tokens.append(answer.json()["token"])

    def burst(round_: int) -> None:
        batch = tokens[round_ * BATCH : (round_ + 1) * BATCH]
        with ThreadPoolExecutor(len(batch)) as pool:
            list(
                pool.map(
                    lambda t: post(server.url + "/api/cert/redeem-token", json={"token": t, **FIELDS}),
                    batch,
                )
            )

    kills = crash_rounds(server, burst)
    # Every token is submitted again (an answer may have been lost): issued now, or already issued.
    for token in tokens:
        answer = until_answered(
            lambda t=token: post(server.url + "/api/cert/redeem-token", json={"token": t, **FIELDS})
        )
        assert answer.status_code in (200, 201), answer.text
        assert answer.json().get("edits_used", 1) == 1  # a resubmission consumed nothing

    certificates = sql.rows("SELECT card_year, card_seq, edit_count FROM certificate")
    assert len(certificates) == len(tokens)
    for year in {year for year, _, _ in certificates}:
        numbers = sorted(seq for y, seq, _ in certificates if y == year)
        assert numbers == list(range(1, len(numbers) + 1)), numbers  # gap-free
        assert sql.rows(f"SELECT seq FROM card_counter WHERE year = {year}") == [(len(numbers),)]
    assert all(edits == 1 for _, _, edits in certificates)
    assert sql.rows(
        "SELECT COUNT(*) FROM certificate c WHERE (SELECT COUNT(*) FROM purchase p WHERE p.certificate_id = c.id) <> 1"
    ) == [(0,)]
    assert sql.rows(
        "SELECT COUNT(*) FROM certificate c WHERE "
        "(SELECT COUNT(*) FROM audit_event a WHERE a.certificate_id = c.id AND a.action = 'issue') <> 1"
    ) == [(0,)]
    assert sql.rows("SELECT COUNT(*) FROM outbox_message WHERE kind = 'certificate_issued'") == [(len(tokens),)]
    for token in tokens:
        status = requests.get(server.url + "/api/cert/token-status", headers={"Authorization": f"Bearer {token}"})
        assert status.status_code == 200 and status.json()["mode"] == "edit", status.text
    wait_until(lambda: not sql.rows("SELECT id FROM outbox_message WHERE status = 'queued'"), 30)
    assert_mail_exactly_once(server, doubles, sql)
    print(f"issuance on {database}: {kills} kills, {len(tokens)} tokens, {len(certificates)} certificates, whole")


def _signed(payload: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)


def test_kill_9_during_webhook_delivery_pays_each_purchase_once(start_server, database, doubles):
    import json

    server = start_server(database)
    sql = Sql(server.database_url)
    events = []
    for n in range(ROUNDS * BATCH):
        started = until_answered(
            lambda n=n: post(server.url + "/api/cert/checkout", json={"recovery_email": f"hook{n}@example.com"})
        )
        assert started.status_code == 200, started.text
        session = doubles.complete(started.json()["session_id"])  # paid at Stripe; the event is ours to deliver
        events.append(
            json.dumps(
                {
                    "id": f"evt_crash_{n}_{random.getrandbits(32)}",
                    "object": "event",
                    "type": "checkout.session.completed",
                    "data": {"object": session},
                }
            )
        )

    def deliver(payload: str):
        return post(
            server.url + "/api/stripe/webhook",
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": _signed(payload)},
        )

    def burst(round_: int) -> None:
        batch = events[round_ * BATCH : (round_ + 1) * BATCH]
        with ThreadPoolExecutor(len(batch)) as pool:
            list(pool.map(deliver, batch))

    kills = crash_rounds(server, burst)
    for payload in events:  # Stripe retries every event until it gets a 2xx
        answer = until_answered(lambda p=payload: deliver(p))
        assert answer.status_code == 200 and answer.json()["outcome"] in ("paid", "duplicate"), answer.text

    assert sql.rows("SELECT COUNT(*) FROM webhook_event") == [(len(events),)]
    assert sql.rows("SELECT COUNT(*) FROM purchase WHERE status = 'paid'") == [(len(events),)]
    assert sql.rows(
        "SELECT COUNT(*) FROM purchase p WHERE "
        "(SELECT COUNT(*) FROM outbox_message m WHERE m.purchase_id = p.id AND m.kind = 'private_link') <> 1"
    ) == [(0,)]
    wait_until(lambda: not sql.rows("SELECT id FROM outbox_message WHERE status = 'queued'"), 30)
    assert_mail_exactly_once(server, doubles, sql)
    # Every paid purchase is redeemable with the token its email carried.
    tokens = {
        m["idempotency_key"]: m["text"].split("/p/#", 1)[1].split()[0]
        for m in doubles.messages()
        if m["idempotency_key"].startswith("private-link/")
    }
    sent = [key for key, status in sql.rows("SELECT idempotency_key, status FROM outbox_message") if status == "sent"]
    for key in sent:
        status = requests.get(server.url + "/api/cert/token-status", headers={"Authorization": f"Bearer {tokens[key]}"})
        assert status.status_code == 200 and status.json()["mode"] == "new", status.text
    print(f"webhooks on {database}: {kills} kills, {len(events)} events, all paid once")


@pytest.fixture(autouse=True)
def _reset_mailbox(doubles):
    requests.post(doubles.url + "/_mail/_control/reset", timeout=5)
