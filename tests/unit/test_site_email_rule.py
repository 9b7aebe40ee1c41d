"""The issue page checks the recovery email with the same rule as the API (api/rules.py): the two must agree on
every address, or a person sees a form that accepts what the server refuses (or the reverse)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from py_mini_racer import MiniRacer

from api import rules

ISSUE_JS = Path(__file__).resolve().parents[2] / "site" / "theme" / "static" / "js" / "issue.js"
ADDRESSES = [
    "person@example.com",
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
]


@pytest.fixture(scope="module")
def client_rule():
    source = ISSUE_JS.read_text()
    pattern = re.search(r"var EMAIL = (/.+/);", source).group(1)
    ctx = MiniRacer()
    ctx.eval(f"var EMAIL = {pattern}; function ok(s) {{ return EMAIL.test(s.trim().toLowerCase()); }}")
    return lambda address: ctx.eval(f"ok({json.dumps(address)})")


@pytest.mark.parametrize("address", ADDRESSES)
def test_client_and_server_agree(client_rule, address):
    assert client_rule(address) == (rules.normalize_email(address) is not None)
