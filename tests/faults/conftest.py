"""The fault suite: the registry as a real server process (`python -m api serve`), attacked from outside.

- `doubles`: the local Stripe and Resend doubles in their own process (`python -m dev.doubles`), so they survive
  when the registry is killed with SIGKILL and still know what was paid and what was delivered.
- `start_server(**env)`: a registry process on a free loopback port, on SQLite (a fresh file) or, with
  `database="postgresql"`, on the PostgreSQL database named by TEST_DATABASE_URL (emptied and migrated first). Its
  connections carry an application_name of their own, so a connection-kill storm can aim at them alone.
- `database`: parametrised over SQLite and PostgreSQL (PostgreSQL is skipped when no server answers).
Every process started here is stopped at teardown.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from api.db import open_database
from dev.scratch_database import drop_all_tables
from dev.serving import stop_process

from .support import PG_URL, REPO, WEBHOOK_SECRET, free_port, postgres_available, wait_until

SECRET_KEY = "fault-suite-secret-key-0123456789-abcdefghijklmnop"
EMAIL_ENC_KEY = base64.b64encode(bytes(range(32))).decode()


class Doubles:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(workdir / "doubles.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dev.doubles", "--port", str(self.port), "--no-deliver"]
            + ["--webhook-secret", WEBHOOK_SECRET],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        ok = wait_until(lambda: self._answers(), 20)
        assert ok, "the doubles did not start"

    def _answers(self) -> bool:
        try:
            return requests.get(self.url + "/_mail/_control/messages", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def messages(self) -> list[dict]:
        return requests.get(self.url + "/_mail/_control/messages", timeout=10).json()

    def complete(self, session_id: str) -> dict:
        answer = requests.post(f"{self.url}/_stripe/_control/sessions/{session_id}/complete", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


class Server:
    """One registry process. `kill()` is SIGKILL; `start()` again reuses the port, the database and the keys."""

    def __init__(
        self, workdir: Path, database_url: str, doubles: Doubles | None, serve_args: list[str] | None = None, **env
    ):
        self.workdir = workdir
        self.serve_args = serve_args or []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.application_name = f"ghostshell-faults-{uuid.uuid4().hex[:12]}"
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STRIPE_", "RESEND_", "GHOSTSHELL_", "DATABASE_URL", "BASE_URL", "EMAIL_ENC"))
        }
        url = database_url
        if url.startswith("postgres"):
            url += ("&" if "?" in url else "?") + f"application_name={self.application_name}&connect_timeout=3"
        environ.update(
            DATABASE_URL=url,
            BASE_URL=self.url,
            GHOSTSHELL_ENV="development",
            GHOSTSHELL_SECRET_KEY=SECRET_KEY,
            EMAIL_ENC_KEY=EMAIL_ENC_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            GHOSTSHELL_RATE_LIMIT="off",
            GHOSTSHELL_TEST_CHECKOUT="1",
        )
        if doubles is not None:
            environ.update(
                STRIPE_SECRET_KEY="sk_test_fault_suite",
                STRIPE_API_BASE=doubles.url + "/_stripe",
                RESEND_API_KEY="re_fault_suite",
                RESEND_API_BASE=doubles.url + "/_mail",
            )
        environ.update(env)
        self.environ = environ
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"server-{self.port}.log"
        self._log = open(self.log_path, "a")
        self.starts = 0

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "api", *args],
            cwd=REPO,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, wait: bool = True) -> Server:
        self.starts += 1
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api",
                "serve",
                "--port",
                str(self.port),
                "--mail-interval",
                "0.2",
                *self.serve_args,
            ],
            cwd=REPO,
            env=self.environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30) -> None:
        def healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"the registry exited:\n{self.log()[-3000:]}")
            try:
                return requests.get(self.url + "/api/health", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        if not wait_until(healthy, timeout):
            raise RuntimeError(f"the registry did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def close(self) -> None:
        self.stop()
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


def _reset_postgres(url: str) -> None:
    db = open_database(url)
    try:
        drop_all_tables(db)
    finally:
        db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    if request.param == "postgresql" and not postgres_available():
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}")
    return request.param


@pytest.fixture(scope="session")
def doubles(tmp_path_factory):
    running = Doubles(tmp_path_factory.mktemp("doubles"))
    yield running
    running.stop()


@pytest.fixture
def start_server(tmp_path, doubles):
    started: list[Server] = []

    def start(
        database: str = "sqlite", *, with_doubles: bool = True, run: bool = True, serve_args=None, **env
    ) -> Server:
        if database == "postgresql":
            url = PG_URL
            _reset_postgres(url)
        else:
            url = f"sqlite:///{tmp_path}/registry-{len(started)}.db"
        server = Server(tmp_path, url, doubles if with_doubles else None, serve_args, **env)
        started.append(server)
        if database == "postgresql":
            migrated = server.cli("migrate")
            assert migrated.returncode == 0, migrated.stderr
        if run:
            server.start()
        return server

    yield start
    for server in started:
        server.close()
