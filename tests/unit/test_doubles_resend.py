"""The Resend double, driven over real HTTP with `requests` exactly as the registry sends mail."""

from __future__ import annotations

import html
import http.client
import json
import uuid

import pytest
import requests

from dev.doubles.dispatch import PrefixDispatcher, not_found_app
from dev.doubles.resend_double import create_app
from dev.serving import ServedApp

HEADERS = {"Authorization": "Bearer re_test_doubles", "User-Agent": "ghostshell-registry/1.0"}


@pytest.fixture(scope="module")
def mail_server():
    app = create_app()
    with ServedApp(PrefixDispatcher(not_found_app, {"/_mail": app})) as server:
        server.double = app.double
        server.base = server.url + "/_mail"
        yield server


@pytest.fixture
def base(mail_server):
    mail_server.double.reset()
    return mail_server.base


def email(**overrides):
    payload = {
        "from": "GhostShell Registry <registry@registry.test>",
        "to": "owner@example.com",
        "subject": "Your birth certificate",
        "text": "Claim it at http://registry.test/claim/abc.",
        "html": '<p>Claim it <a href="http://registry.test/claim/abc">here</a>.</p>',
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def send(base, payload=None, *, headers=HEADERS, key=None):
    headers = dict(headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(base + "/emails", json=email() if payload is None else payload, headers=headers, timeout=10)


def messages(base):
    return requests.get(base + "/_control/messages", timeout=10).json()


def test_a_valid_email_is_stored_and_answered_with_its_id(base):
    response = send(base, email(reply_to="help@registry.test", headers={"X-Entity-Ref-ID": "c1"}))
    assert response.status_code == 200
    message_id = response.json()["id"]
    assert str(uuid.UUID(message_id)) == message_id
    (stored,) = messages(base)
    assert stored["id"] == message_id
    assert stored["from"] == "GhostShell Registry <registry@registry.test>"
    assert stored["to"] == ["owner@example.com"]
    assert stored["subject"] == "Your birth certificate"
    assert stored["text"].startswith("Claim it") and stored["html"].startswith("<p>")
    assert stored["reply_to"] == ["help@registry.test"] and stored["headers"] == {"X-Entity-Ref-ID": "c1"}
    assert stored["idempotency_key"] is None and stored["created_at"].endswith("Z")
    fetched = requests.get(f"{base}/emails/{message_id}", headers=HEADERS, timeout=10).json()
    assert (fetched["object"], fetched["id"], fetched["last_event"]) == ("email", message_id, "delivered")


def test_to_may_be_a_list(base):
    assert send(base, email(to=["a@example.com", "B <b@example.com>"])).status_code == 200
    assert messages(base)[0]["to"] == ["a@example.com", "B <b@example.com>"]


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        ({"User-Agent": "x"}, "missing_api_key"),
        ({"User-Agent": "x", "Authorization": "Bearer "}, "missing_api_key"),
        ({"User-Agent": "x", "Authorization": "Bearer sk_test_wrong_provider"}, "invalid_api_key"),
    ],
)
def test_a_missing_or_wrong_key_is_401(base, headers, name):
    response = send(base, headers=headers)
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401 and response.json()["name"] == name
    assert messages(base) == []


def test_no_user_agent_is_403(mail_server, base):
    # http.client, because requests (and urllib3 under it) always add a User-Agent.
    connection = http.client.HTTPConnection("127.0.0.1", mail_server.port, timeout=10)
    connection.request(
        "POST",
        "/_mail/emails",
        body=json.dumps(email()),
        headers={"Authorization": HEADERS["Authorization"], "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    assert response.status == 403
    assert response.read() == b"error code: 1010"
    connection.close()
    assert messages(base) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"from": None},
        {"to": None},
        {"subject": None},
        {"to": []},
        {"text": None, "html": None},
        {"from": "not an address"},
        {"to": ["fine@example.com", "broken"]},
        {"to": [f"u{i}@example.com" for i in range(51)]},
    ],
)
def test_invalid_emails_are_422_validation_error(base, overrides):
    response = send(base, email(**overrides))
    assert response.status_code == 422
    assert response.json()["name"] == "validation_error"
    assert messages(base) == []


def test_a_body_that_is_not_json_is_422(base):
    response = requests.post(base + "/emails", data=b"{not json", headers=HEADERS, timeout=10)
    assert response.status_code == 422


def test_same_idempotency_key_and_payload_returns_the_first_id_once(base):
    first = send(base, key="certificate-issued/c1")
    again = send(base, key="certificate-issued/c1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert [m["idempotency_key"] for m in messages(base)] == ["certificate-issued/c1"]


def test_same_idempotency_key_with_another_payload_is_409(base):
    send(base, key="certificate-issued/c2")
    response = send(base, email(subject="Something else"), key="certificate-issued/c2")
    assert response.status_code == 409
    assert response.json()["name"] == "invalid_idempotent_request"
    assert len(messages(base)) == 1


def test_an_overlong_idempotency_key_is_400(base):
    response = send(base, key="k" * 257)
    assert response.status_code == 400 and response.json()["name"] == "invalid_idempotency_key"


def test_forced_failures_fail_the_next_n_sends_then_recover(base):
    assert requests.post(base + "/_control/fail", json={"count": 2, "status": 500}, timeout=10).ok
    assert [send(base, key="k1").status_code for _ in range(3)] == [500, 500, 200]
    assert len(messages(base)) == 1  # a failed attempt does not use up the idempotency key


def test_forced_429_carries_retry_after(base):
    requests.post(base + "/_control/fail", json={"count": 1, "status": 429}, timeout=10)
    response = send(base)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["name"] == "rate_limit_exceeded"


def test_forced_422(base):
    requests.post(base + "/_control/fail", json={"count": 1, "status": 422}, timeout=10)
    assert send(base).status_code == 422
    assert requests.post(base + "/_control/fail", json={"count": 1, "status": 418}, timeout=10).status_code == 422


def test_reset_forgets_messages_and_keys(base):
    send(base, key="k")
    assert requests.post(base + "/_control/reset", timeout=10).json() == {"reset": True}
    assert messages(base) == []
    send(base, email(subject="New"), key="k")
    assert [m["subject"] for m in messages(base)] == ["New"]


# -- the mailbox ---------------------------------------------------------------------------------------------------

HOSTILE = "<script>alert('subject')</script>"


def test_the_mailbox_lists_newest_first_and_escapes_everything(base):
    assert send(base, email(subject="First")).ok
    assert send(base, email(subject=HOSTILE, to='Tom & "Jerry" <x@example.com>')).ok
    page = requests.get(base + "/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "Test mode — local mailbox; nothing was sent" in text
    assert "<script" not in text
    assert html.escape(HOSTILE) in text and html.escape('Tom & "Jerry" <x@example.com>') in text
    assert text.index(html.escape(HOSTILE)) < text.index("First")
    newest = messages(base)[-1]["id"]
    assert f'href="/_mail/messages/{newest}"' in text  # links keep the mount prefix
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_a_message_page_escapes_text_and_sandboxes_html(base):
    hostile_html = "<p>Hi</p><script>alert('html')</script><a href=\"http://registry.test/x?a=1&b=2\">go</a>"
    message_id = send(
        base, email(subject=HOSTILE, text=f"Hello {HOSTILE}\nhttp://registry.test/claim/abc", html=hostile_html)
    ).json()["id"]
    page = requests.get(f"{base}/messages/{message_id}", timeout=10)
    assert page.status_code == 200
    text = page.text
    assert "<script" not in text
    assert html.escape(f"Hello {HOSTILE}") in text
    assert '<a href="http://registry.test/claim/abc" rel="noreferrer">' in text
    srcdoc = text.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert html.unescape(srcdoc) == '<base target="_blank">' + hostile_html
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in text
    part = requests.get(f"{base}/messages/{message_id}/html", timeout=10)
    assert part.text == hostile_html
    assert part.headers["Content-Security-Policy"].startswith("sandbox")


def test_unknown_messages_are_404(base):
    assert requests.get(f"{base}/messages/{uuid.uuid4()}", timeout=10).status_code == 404
    missing = requests.get(f"{base}/emails/{uuid.uuid4()}", headers=HEADERS, timeout=10)
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"
