"""End-to-end fixtures: the real built site and the real API in a subprocess (`python -m api serve --site`),
on a real SQLite file, in test mode (the local Stripe and Resend doubles mounted at /_stripe and /_mail on
the same origin), driven by headless Chromium through pytest-playwright.

- `registry`: a running server (session-wide); `test_checkout_registry`: one with GHOSTSHELL_TEST_CHECKOUT=1.
- `mailbox`: reads the messages the Resend double captured; `stripe_control`: the Stripe double's test controls.
- Every page opened through the `page` fixture fails its test on a JavaScript error or a console error.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry:
    def __init__(self, workdir: Path, site: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self.db_path = workdir / f"registry-{self.port}.db"
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STRIPE_", "RESEND_", "GHOSTSHELL_", "DATABASE_URL", "BASE_URL"))
        }
        environ.update(
            {
                "DATABASE_URL": f"sqlite:///{self.db_path}",
                "BASE_URL": self.url,
                "GHOSTSHELL_ENV": "development",
                "GHOSTSHELL_RATE_LIMIT": "off",
                **env,
            }
        )
        self.environ = environ
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api",
                "serve",
                "--site",
                str(site),
                "--port",
                str(self.port),
                "--mail-interval",
                "0.2",
            ],
            cwd=REPO,
            env=environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the registry exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the registry did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()

    # The local doubles' controls, on the same origin.
    def messages(self) -> list[dict]:
        return requests.get(self.url + "/_mail/_control/messages", timeout=5).json()

    def wait_for_messages(self, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            messages = self.messages()
            if len(messages) >= count:
                return messages
            time.sleep(0.1)
        raise AssertionError(f"expected {count} email(s), got {len(self.messages())}")

    def stripe(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + "/_stripe/_control/" + path.lstrip("/"), timeout=15, **kwargs)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Runs one statement on the server's SQLite file (WAL, so the running server is not disturbed). For
        what a browser cannot do, such as moving a purchase back in time past its claim window."""
        connection = sqlite3.connect(self.db_path, timeout=10)
        try:
            with connection:
                return connection.execute(statement, params).fetchall()
        finally:
            connection.close()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """`python -m api <args>` against this server's database and keys (e.g. `admin revoke`)."""
        return subprocess.run(
            [sys.executable, "-m", "api", *args], cwd=REPO, env=self.environ, capture_output=True, text=True, timeout=60
        )

    def reset_doubles(self) -> None:
        requests.post(self.url + "/_mail/_control/reset", timeout=5)
        self.stripe("POST", "reset")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "output"
    subprocess.run(
        [sys.executable, "build.py", "--output", str(out)], cwd=REPO, check=True, capture_output=True, text=True
    )
    return out


@pytest.fixture(scope="session")
def registry(tmp_path_factory, built_site):
    server = Registry(tmp_path_factory.mktemp("registry"), built_site)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def test_checkout_registry(tmp_path_factory, built_site):
    server = Registry(tmp_path_factory.mktemp("registry-test-checkout"), built_site, GHOSTSHELL_TEST_CHECKOUT="1")
    yield server
    server.stop()


@pytest.fixture
def mailbox(registry):
    requests.post(registry.url + "/_mail/_control/reset", timeout=5)
    return registry


@pytest.fixture(scope="session")
def base_url(registry):
    return registry.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM.exists():
        return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}
    if shutil.which("chromium"):
        return {**browser_type_launch_args, "executable_path": shutil.which("chromium"), "args": CHROMIUM_ARGS}
    return browser_type_launch_args


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1100, "height": 900}}


@pytest.fixture
def page(page, request):
    """A page that records JavaScript errors and console errors; the test fails if any occurred. When the test
    has already failed, the errors are added to its report instead of a second failure at teardown."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console.{message.type}: {message.text}")
            if message.type == "error" and not _expected_console_error(message.text)
            else None
        ),
    )
    page.js_problems = problems
    yield page
    if problems and not getattr(request.node, "e2e_call_failed", False):
        pytest.fail("JavaScript errors on the page:\n" + "\n".join(problems), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_call_failed = report.failed
        page = item.funcargs.get("page")
        if report.failed and getattr(page, "js_problems", None):
            report.sections.append(("JavaScript errors on the page", "\n".join(page.js_problems)))
    return report


def _expected_console_error(text: str) -> bool:
    # Chromium logs every non-2xx fetch as a console error; the pages handle those answers themselves.
    return text.startswith("Failed to load resource: the server responded with a status of")
