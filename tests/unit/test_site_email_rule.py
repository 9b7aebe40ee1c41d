"""The issue page checks the recovery email with the same rule as the API (api/rules.py): email-rule.js, a pure
module whose pattern and limit build.py fills in from the definition's export, run in V8 as written (placeholders
filled) and as published (minified). The two must agree on every address, or a person sees a form that accepts
what the server refuses (or the reverse). Both forms of the issue page (issue.js, resend.js) call it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from py_mini_racer import MiniRacer

import build
from api import rules

JS = Path(build.__file__).resolve().parent / "site" / "theme" / "static" / "js"
ADDRESSES = [
    "person@example.com",
    "  Person@Example.COM ",
    "a.b+tag@sub.example.org",
    "x@y.z",
    "",
    "plain",
    "a@b",
    "a b@example.com",
    "a@b c.com",
    "<a@example.com>",
    "a@@example.com",
    "a@example.com;",
    '"q"@example.com',
    "ünï@exämple.com",
    "a@example.",
    "@example.com",
    "a@.com",
    "a\x01b@example.com",
    "a@" + "x" * (rules.MAX_EMAIL_LENGTH - 6) + ".com",
    "a@" + "x" * (rules.MAX_EMAIL_LENGTH - 5) + ".com",
]


@pytest.fixture(scope="module", params=["source", "built"])
def client_rule(request, built_site):
    if request.param == "source":
        path = JS / "email-rule.js"
        source = build.fill_placeholders(path.read_text(encoding="utf-8"), path, script=True)
    else:
        (path,) = (built_site / "theme" / "js").glob("email-rule.*.js")
        source = path.read_text(encoding="utf-8")
    ctx = MiniRacer()
    ctx.eval(source)
    return lambda address: ctx.eval(f"emailAddress({json.dumps(address)})")


@pytest.mark.parametrize("address", ADDRESSES)
def test_client_and_server_agree(client_rule, address):
    assert client_rule(address) == rules.normalize_email(address)


def test_the_limit_is_the_rules_own():
    assert len(ADDRESSES[-2]) == rules.MAX_EMAIL_LENGTH
    assert rules.normalize_email(ADDRESSES[-2]) and not rules.normalize_email(ADDRESSES[-1])


@pytest.mark.parametrize("script", ["issue.js", "resend.js"])
def test_both_issue_forms_use_the_one_rule(script):
    source = (JS / script).read_text(encoding="utf-8")
    assert "emailAddress(" in source
    assert "RegExp" not in source and "@" not in source.replace("name@example.com", "")
