"""Outages under load (issue 9): PostgreSQL connections killed again and again, and Redis unreachable or lost.

- Connection-kill storm: while clients call every kind of route, another connection terminates the server's
  PostgreSQL backends every few milliseconds (only this server's: filtered by database and by the server's own
  application_name). Every answer is a normal one or 503 `database_unavailable`, never a 500; once the storm stops,
  the same process answers normally again, without a restart.
- Redis: with the rate-limit store unreachable from the start, or lost mid-run behind a TCP relay we cut, no route
  answers 500; /api/health says `fallback`, and `ok` again once the store is back.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .support import PG_URL, postgres_available, wait_until

STORM_SECONDS = 6

FIELDS = {
    "agent_name": "Storm Test",
    "declared_ontological_status": "Autonomous Agent",
    "inception_date": "2025-06-01",
    "place_country": "Australia",
}


def call(method: str, url: str, **kwargs) -> tuple[int, str]:
    try:
        answer = requests.request(method, url, timeout=15, **kwargs)
    except requests.RequestException as exc:
        return 0, type(exc).__name__
    code = ""
    if answer.headers.get("content-type", "").startswith("application/json"):
        code = answer.json().get("error", "") if isinstance(answer.json(), dict) else ""
    return answer.status_code, code


@pytest.mark.skipif(not postgres_available(), reason=f"no PostgreSQL server answers at {PG_URL}")
def test_a_postgresql_connection_kill_storm_gives_only_503_and_recovers_without_restart(start_server):
    import psycopg2

    server = start_server("postgresql")
    tokens = [
        requests.post(server.url + "/api/cert/test-checkout", json={"recovery_email": f"s{n}@example.com"}).json()[
            "token"
        ]
        for n in range(30)
    ]
    stop = threading.Event()
    kills = Counter()

    def storm() -> None:
        killer = psycopg2.connect(PG_URL, connect_timeout=5)
        killer.autocommit = True
        with killer.cursor() as cursor:
            while not stop.is_set():
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
                    (server.application_name,),
                )
                kills["backends"] += sum(1 for (ok,) in cursor.fetchall() if ok)
                time.sleep(0.005)
        killer.close()

    def client(n: int) -> list[tuple[int, str]]:
        seen = []
        token = tokens[n % len(tokens)]
        deadline = time.monotonic() + STORM_SECONDS
        while time.monotonic() < deadline:
            seen.append(call("GET", server.url + "/api/health"))
            seen.append(call("GET", server.url + "/api/cert/lookup", params={"id": "GS-BC-H-26-1"}))
            seen.append(call("GET", server.url + "/api/registry/search", params={"q": "storm"}))
            seen.append(
                call("GET", server.url + "/api/cert/token-status", headers={"Authorization": f"Bearer {token}"})
            )
            seen.append(call("POST", server.url + "/api/cert/redeem-token", json={"token": token, **FIELDS}))
            seen.append(call("POST", server.url + "/api/cert/test-checkout", json={"recovery_email": "t@example.com"}))
        return seen

    killer = threading.Thread(target=storm)
    killer.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            answers = [answer for seen in pool.map(client, range(6)) for answer in seen]
    finally:
        stop.set()
        killer.join(timeout=10)
    outcomes = Counter(f"{status} {code}".strip() for status, code in answers)
    print(f"storm: {len(answers)} requests, {kills['backends']} backends killed, outcomes {dict(outcomes)}")
    assert kills["backends"] > 0, "the storm killed nothing: the filter did not find the server's connections"
    failures = {k: v for k, v in outcomes.items() if k.startswith("5") and k != "503 database_unavailable"}
    assert not failures, outcomes
    assert not [k for k in outcomes if k.startswith("0 ")], outcomes  # the server never dropped a connection
    assert outcomes["503 database_unavailable"] > 0, outcomes  # the storm was felt

    # The same process, no restart: everything answers normally again.
    assert server.process.poll() is None
    # A worker thread whose idle connection was killed answers one 503 and then reconnects (api/db.py): within a
    # few requests every thread has, and forty in a row answer normally. token-status reads the database on every
    # request (health asks it at most once a second, api/resources/meta.py, so it would not reach every thread).
    status = ("GET", server.url + "/api/cert/token-status")
    bearer = {"Authorization": f"Bearer {tokens[0]}"}
    assert wait_until(lambda: all(call(*status, headers=bearer)[0] == 200 for _ in range(40)), 20)
    for token in tokens:
        answer = requests.post(server.url + "/api/cert/redeem-token", json={"token": token, **FIELDS}, timeout=15)
        assert answer.status_code in (200, 201), answer.text
    with psycopg2.connect(PG_URL) as check, check.cursor() as cursor:
        cursor.execute("SELECT card_seq FROM certificate ORDER BY card_seq")
        seqs = [row[0] for row in cursor.fetchall()]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == len(tokens)  # gap-free after the storm


class Relay:
    """A TCP relay to a real server that the test can cut (refusing connections) and restore on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
        self._sockets.clear()


def redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


RATE_LIMITED = [
    ("GET", "/api/cert/lookup", {"params": {"id": "GS-BC-H-26-1"}}),
    ("GET", "/api/registry/search", {"params": {"q": "x"}}),
    ("GET", "/api/cert/token-status", {}),
    ("GET", "/api/cert/private", {}),
    ("GET", "/api/cert/handoff-token", {"params": {"session_id": "cs_test_x"}}),
    ("POST", "/api/cert/redeem-token", {"json": {}}),
    ("POST", "/api/cert/lock-agent-edits", {"json": {}}),
    ("POST", "/api/cert/checkout", {"json": {"recovery_email": "r@example.com"}}),
    ("POST", "/api/cert/test-checkout", {"json": {"recovery_email": "r@example.com"}}),
]


def every_route(server) -> Counter:
    return Counter(call(method, server.url + path, **kwargs)[0] for method, path, kwargs in RATE_LIMITED)


def test_an_unreachable_redis_never_gives_a_500(start_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    server = start_server(
        "sqlite", GHOSTSHELL_RATE_LIMIT="on", GHOSTSHELL_RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{closed}"
    )
    for _ in range(3):
        statuses = every_route(server)
        assert not [s for s in statuses if s >= 500 or s == 0], statuses
    assert requests.get(server.url + "/api/health").json()["rate_limits"] == "fallback"


@pytest.mark.skipif(not redis_available(), reason="no Redis server at 127.0.0.1:6379")
def test_redis_lost_mid_run_falls_back_and_comes_back(start_server):
    relay = Relay(("127.0.0.1", 6379))
    server = start_server(
        "sqlite",
        GHOSTSHELL_RATE_LIMIT="on",
        GHOSTSHELL_RATE_LIMIT_STORAGE=f"redis://127.0.0.1:{relay.port}?prefix=i9-reliability-faults",
    )
    try:
        assert not [s for s in every_route(server) if s >= 500]
        assert requests.get(server.url + "/api/health").json()["rate_limits"] == "ok"
        relay.cut()
        for _ in range(3):
            statuses = every_route(server)
            assert not [s for s in statuses if s >= 500 or s == 0], statuses
        assert requests.get(server.url + "/api/health").json()["rate_limits"] == "fallback"
        relay.restore()

        def back() -> bool:
            every_route(server)
            return requests.get(server.url + "/api/health").json()["rate_limits"] == "ok"

        assert wait_until(back, 20, step=1), "the limiter did not go back to Redis"
    finally:
        relay.cut()
