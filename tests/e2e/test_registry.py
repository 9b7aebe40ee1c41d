"""The public registry beyond one record: paging through results with the API's cursor, and old
`/?cert=<id>` links."""

from __future__ import annotations

import re

from e2e_support import BASE_FIELDS, buy, redeem, unique
from playwright.sync_api import Page, expect


def test_search_pages_through_more_than_twenty_results(page: Page, registry):
    prefix = "Pager " + unique() + " "
    names = [f"{prefix}{n:02d}" for n in range(21)]
    for name in names:
        redeem(registry, buy(registry).token, 201, **{**BASE_FIELDS, "agent_name": name, "listed": True})
    unlisted = prefix + "99"
    redeem(registry, buy(registry).token, 201, **{**BASE_FIELDS, "agent_name": unlisted})

    page.goto("/registry/")
    page.fill("#q", prefix.lower())
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results li strong")
    expect(page.locator("#search-status")).to_have_text(f"Results for {prefix.lower().strip()}.")
    expect(results).to_have_text(names[:20])  # name order
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    assert page.url.endswith("/registry/?q=" + prefix.lower().strip().replace(" ", "%20"))

    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#search-status")).to_have_text(f"Results for {prefix.lower().strip()}, page 2.")
    expect(results).to_have_text(names[20:])
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()

    page.get_by_role("button", name="Previous page").click()
    expect(results).to_have_text(names[:20])

    # The query survives a reload (it is in the address), and an unlisted record never shows by name.
    page.reload()
    expect(results).to_have_text(names[:20])
    assert unlisted not in page.locator("#results").inner_text()


def test_old_cert_links_open_the_public_record(page: Page, registry):
    public_id = redeem(
        registry, buy(registry).token, 201, **{**BASE_FIELDS, "agent_name": "Legacy " + unique()}
    ).json()["public_id"]
    page.goto(f"/?cert={public_id.lower()}")
    page.wait_for_url(re.compile(rf"/r/{public_id}$"))
    expect(page.locator("#record-title")).to_have_text(f"Public record {public_id}")
    page.goto(f"/r/{public_id.lower().replace('-', ' ')}")
    expect(page.locator("#record-title")).to_have_text(f"Public record {public_id}")
    page.wait_for_url(re.compile(rf"/r/{public_id}$"))
