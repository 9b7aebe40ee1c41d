"""The public record page shows where the record sits in the transparency log, and links to its proofs."""

from __future__ import annotations

import base64
import re

import requests
from e2e_support import BASE_FIELDS, buy, redeem, unique
from playwright.sync_api import Page, expect


def test_the_record_page_shows_its_log_position_and_proof(page: Page, registry):
    token = buy(registry).token
    public_id = redeem(registry, token, 201, **{**BASE_FIELDS, "agent_name": "Logged " + unique()}).json()["public_id"]
    redeem(registry, token, 200, agent_name="Logged again " + unique())
    log = requests.get(registry.url + "/api/cert/log", params={"id": public_id}, timeout=15).json()
    last = log["entries"][-1]
    assert [e["type"] for e in log["entries"]] == ["issued", "corrected"]

    page.goto(f"/r/{public_id}")
    line = page.locator("#f-log")
    expect(line).to_have_text(re.compile(rf"^Logged at index {last['index']} of \d+ · proof$"))
    size = int(re.search(r"of (\d+)", line.inner_text()).group(1))
    assert size >= last["index"] + 1
    link = line.get_by_role("link", name="proof")
    assert link.get_attribute("href") == f"/api/cert/log?id={public_id}"
    answer = page.request.get(link.get_attribute("href"))
    assert answer.ok and answer.json()["public_id"] == public_id
    leaf = base64.b64decode(answer.json()["entries"][-1]["leaf"]).decode()
    assert f'"public_id":"{public_id}"' in leaf and '"type":"corrected"' in leaf
