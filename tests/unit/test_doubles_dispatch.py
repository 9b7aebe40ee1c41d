"""PrefixDispatcher mounting, and `python -m dev.doubles` serving both doubles in its own process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
import stripe

from dev.doubles.dispatch import PrefixDispatcher, not_found_app

REPO = Path(__file__).resolve().parents[2]


def echo(name):
    def app(environ, start_response):
        body = f"{name} {environ.get('SCRIPT_NAME', '')}|{environ.get('PATH_INFO', '')}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    return app


def call(app, path, script_name=""):
    seen = {}
    body = b"".join(
        app(
            {"PATH_INFO": path, "SCRIPT_NAME": script_name, "REQUEST_METHOD": "GET"},
            lambda status, headers: seen.setdefault("status", status),
        )
    )
    return seen["status"], body.decode()


def test_prefixes_move_from_path_info_to_script_name():
    app = PrefixDispatcher(echo("default"), {"/_stripe": echo("stripe"), "/_mail/": echo("mail")})
    assert call(app, "/_stripe/v1/checkout/sessions")[1] == "stripe /_stripe|/v1/checkout/sessions"
    assert call(app, "/_stripe")[1] == "stripe /_stripe|"
    assert call(app, "/_mail/")[1] == "mail /_mail|/"
    assert call(app, "/_mail/x", script_name="/root")[1] == "mail /root/_mail|/x"


def test_only_whole_segments_match_and_the_rest_goes_to_the_default():
    app = PrefixDispatcher(echo("default"), {"/_stripe": echo("stripe"), "/_stripe/deep": echo("deep")})
    assert call(app, "/_stripex/v1")[1] == "default |/_stripex/v1"
    assert call(app, "/api/config")[1] == "default |/api/config"
    assert call(app, "/_stripe/deep/x")[1] == "deep /_stripe/deep|/x"  # longest prefix wins


def test_not_found_app():
    assert call(PrefixDispatcher(not_found_app, {}), "/x")[0] == "404 Not Found"


def test_module_help():
    result = subprocess.run(
        [sys.executable, "-m", "dev.doubles", "--help"], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "--webhook-url" in result.stdout


def test_module_serves_both_doubles_on_one_port():
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "dev.doubles", "--port", "0", "--webhook-secret", "whsec_cli"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Stripe double: http://127.0.0.1:"), first + process.stderr.read()
        stripe_base = first.split()[2]
        mail_base = process.stdout.readline().split()[2]
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": stripe_base})
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [{"price": "price_cli", "quantity": 1}],
                "expires_at": int(time.time()) + 3600,
            }
        )
        assert session.url == f"{stripe_base}/pay/{session.id}"
        assert requests.get(session.url, timeout=10).status_code == 200
        sent = requests.post(
            mail_base + "/emails",
            timeout=10,
            headers={"Authorization": "Bearer re_cli"},
            json={"from": "a@example.com", "to": "b@example.com", "subject": "s", "text": "t"},
        )
        assert sent.status_code == 200
        assert requests.get(mail_base + "/", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)
