"""Helpers shared by the end-to-end tests: unique addresses and names, the mailbox, purchases through the API
(for tests whose subject is not the purchase itself), the register form, and direct submissions."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

import build
from api import definition
from dev.serving import stop_process

PRIVATE_LINK_SUBJECT = "Your GhostShell purchase token"
PRIVATE_LINK_OPENING = "Payment for a GhostShell birth certificate has been received."
ISSUED_OPENING = "has been issued and entered in the registry."
REMINDER_SUBJECT = "Complete your GhostShell Birth Certificate"
PRIVATE_LINK = re.compile(r"https?://[^\s<>\"']+/p/#(GSTK-[0-9A-Z]{24})")
TOKEN = re.compile(r"^GSTK-[0-9A-HJKMNP-TV-Z]{24}$")
UNKNOWN_TOKEN = "GSTK-" + "0" * 24


def unique(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:10]


def unique_email(kind: str = "person") -> str:
    return f"{kind}-{uuid.uuid4().hex}@example.com"


# -- the mailbox (the Resend double) ------------------------------------------------------------------------------


def mail_to(registry, address: str, subject: str | None = None, containing: str | None = None) -> list[dict]:
    return [
        m
        for m in registry.messages()
        if address in m["to"]
        and (subject is None or m["subject"] == subject)
        and (containing is None or containing in m["text"])
    ]


def wait_for_mail(
    registry,
    address: str,
    subject: str | None = None,
    containing: str | None = None,
    count: int = 1,
    timeout: float = 10,
) -> list[dict]:
    """Polls the mailbox until `count` matching messages arrived for `address` (the outbox sends every 0.2 s)."""
    deadline = time.time() + timeout
    while True:
        found = mail_to(registry, address, subject, containing)
        if len(found) >= count or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(found) >= count, (
        f"expected {count} message(s) to {address} ({subject!r}, {containing!r}); got "
        f"{[m['subject'] for m in mail_to(registry, address)]}"
    )
    return found


def private_link_in(message: dict) -> tuple[str, str]:
    """(the private link as written in the email, its token)."""
    match = PRIVATE_LINK.search(message["text"])
    assert match, f"no private link in the email:\n{message['text']}"
    return match.group(0), match.group(1)


# -- purchases through the API, as a browser would make them ------------------------------------------------------


class Purchase:
    def __init__(self, email: str, session_id: str, token: str, links: dict):
        self.email, self.session_id, self.token, self.links = email, session_id, token, links

    def register_path(self, by: str = "human") -> str:
        return f"/register/#token={self.token}&by={by}"

    @property
    def private_path(self) -> str:
        return f"/p/#{self.token}"


def start_checkout(registry, email: str) -> tuple[requests.Session, str, str]:
    """POST /api/cert/checkout with a cookie jar: (the session holding gs_handoff, session id, checkout url)."""
    browser = requests.Session()
    browser.trust_env = False
    answer = browser.post(registry.url + "/api/cert/checkout", json={"recovery_email": email}, timeout=15)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return browser, data["session_id"], data["checkout_url"]


def buy(registry, email: str | None = None) -> Purchase:
    """A paid purchase made the way the site makes it (checkout, the double's Pay button, the handoff answer)."""
    email = email or unique_email("buyer")
    browser, session_id, checkout_url = start_checkout(registry, email)
    pay = browser.post(registry.url + urlsplit(checkout_url).path + "/pay", allow_redirects=False, timeout=15)
    assert pay.status_code == 303, pay.text
    assert f"/handoff/?session_id={session_id}" in pay.headers["Location"]
    answer = browser.get(registry.url + "/api/cert/handoff-token", params={"session_id": session_id}, timeout=15)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert TOKEN.match(data["token"]), data
    return Purchase(email, session_id, data["token"], data)


def redeem(registry, token: str, expect_status: int | None = None, **fields) -> requests.Response:
    answer = requests.post(registry.url + "/api/cert/redeem-token", json={"token": token, **fields}, timeout=15)
    if expect_status is not None:
        assert answer.status_code == expect_status, answer.text
    return answer


def agent_token(registry, holder_token: str) -> str:
    """The holder mints an agent token (POST /api/cert/agent-token); any earlier one stops working."""
    answer = requests.post(
        registry.url + "/api/cert/agent-token", headers={"Authorization": f"Bearer {holder_token}"}, timeout=15
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["agent_token"]


def private_record(registry, token: str) -> dict:
    answer = requests.get(registry.url + "/api/cert/private", headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


BASE_FIELDS = {
    "agent_name": "Unnamed",
    "declared_ontological_status": "Autonomous Agent",
    "cognitive_core_family": "Anthropic",
    "cognitive_core_exact": "Claude Opus 4.6",
    "inception_date": "2026-02-08",
    "place_country": "Australia",
}


# -- the register form ---------------------------------------------------------------------------------------------


def open_register(page: Page, token: str, by: str = "human") -> None:
    page.goto(f"/register/#token={token}&by={by}")
    expect(page.locator("#token")).to_have_value(token)
    expect(page.locator("#submit")).to_be_enabled()


def fill_register(
    page: Page,
    *,
    agent_name: str,
    status: str = "Autonomous Agent",
    company: str | None = None,
    model: str | None = None,
    other: str | None = None,
    custodian: str = "",
    inception: str = "2026-02-08",
    city: str = "",
    city_public: bool = False,
    state: str = "",
    state_public: bool = False,
    country: str = "Australia",
    listed: bool = False,
    handle: str | None = None,
) -> None:
    """Fills the form as a person would. `company` is a catalogue value, "other" or "prefer_not_to_say"."""
    page.fill("#agent_name", agent_name)
    page.select_option("#declared_ontological_status", status)
    if company is not None:
        page.select_option("#cognitive_core_company", company)
        if model is not None:
            page.select_option("#cognitive_core_model", model)
        if other is not None:
            expect(page.locator("#cognitive_core_other")).to_be_visible()
            page.fill("#cognitive_core_other", other)
    page.fill("#creator_label", custodian)
    page.fill("#inception_date", inception)
    page.fill("#place_city", city)
    page.select_option("#show_city_public", "1" if city_public else "0")
    page.fill("#place_state", state)
    page.select_option("#hide_state_public", "0" if state_public else "1")
    page.fill("#place_country", country)
    page.locator("#listed").set_checked(listed)
    if handle is not None:
        expect(page.locator("#agent_handle")).to_be_visible()
        page.fill("#agent_handle", handle)


def submit_register(page: Page) -> None:
    """Submits and waits for the private record the form sends the holder to."""
    page.click("#submit")
    page.wait_for_url(re.compile(r"/p/#GSTK-"))
    expect(page.locator("#p-issued")).to_be_visible()


# The record pages' row labels, as the build fills them in from the definition (tests/unit/test_record_pages.py).
_PLACEHOLDERS = build.placeholder_values(definition.export())
LABEL, LEGEND = _PLACEHOLDERS["label"], _PLACEHOLDERS["legend"]


def dd_after(page: Page, container: str, label: str):
    """The <dd> that follows the <dt> labelled `label` inside `container` (a record's field list)."""
    return page.locator(f"{container} dt", has_text=re.compile(rf"^{re.escape(label)}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


# -- the running registry (conftest.py starts it) and the page checks shared by the test modules ---------------

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
        stop_process(self.process)
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


AXE = Axe()


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            nodes = "\n".join(
                f"      {node['target']}: {node['html'][:160]}\n        {node.get('failureSummary', '')}"
                for node in violation["nodes"][:8]
            )
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']}\n{nodes}")
    return found


def overflowing(page: Page) -> list[str]:
    """Visible elements in the page whose right edge lies beyond the viewport."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth, out = [];
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
            if (el.closest('.sr, .skip, .offscreen')) continue;
            if (box.right > width + 0.5)
                out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}: right ${box.right}`);
        }
        return out;
    }""")
