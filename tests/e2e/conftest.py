"""End-to-end fixtures: the real built site and the real API in a subprocess (`python -m api serve --site`),
on a real SQLite file, in test mode (the local Stripe and Resend doubles mounted at /_stripe and /_mail on
the same origin), driven by headless Chromium through pytest-playwright.

- `registry`: a running server (session-wide); `test_checkout_registry`: one with GHOSTSHELL_TEST_CHECKOUT=1.
- `mailbox`: reads the messages the Resend double captured; `stripe_control`: the Stripe double's test controls.
- Every page opened through the `page` fixture fails its test on a JavaScript error or a console error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from e2e_support import CHROMIUM, CHROMIUM_ARGS, REPO, Registry


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


# The local mailbox shows an email's HTML in an iframe sandboxed without scripts, on purpose. Playwright injects
# its own helper into every frame it inspects, and Chromium logs that being blocked, at times and not others
# (microsoft/playwright#33343): the block is the sandbox working, not an error of the page.
SANDBOXED_SRCDOC_BLOCK = (
    "Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed and the "
    "'allow-scripts' permission is not set."
)


def _expected_console_error(text: str) -> bool:
    # Chromium logs every non-2xx fetch as a console error; the pages handle those answers themselves.
    return text.startswith("Failed to load resource: the server responded with a status of") or (
        text == SANDBOXED_SRCDOC_BLOCK
    )
