"""A paid amendment in the browser (issue 15): the holder of a locked record buys one from the private page through
the Stripe double's hosted page, submits it on the register page and the public record shows AMENDED with its
version history; a cancelled checkout changes nothing."""

from __future__ import annotations

import re

import requests
from e2e_support import BASE_FIELDS, buy, dd_after, private_record, redeem, unique
from playwright.sync_api import Page, expect

CHECKOUT_PAGE = re.compile(r"/_stripe/pay/(cs_test_[A-Za-z0-9]+)$")


def locked_record(registry, name: str):
    """A purchase whose certificate was issued 25 hours ago (the server's clock cannot be moved, so the record is
    moved back in its database): its correction window has closed."""
    purchase = buy(registry)
    public_id = redeem(registry, purchase.token, 201, **{**BASE_FIELDS, "agent_name": name}).json()["public_id"]
    registry.sql(
        "UPDATE certificate SET issued_at = datetime(issued_at, '-25 hours'), "
        "last_edited_at = datetime(last_edited_at, '-25 hours') WHERE public_id = ?",
        (public_id,),
    )
    return purchase, public_id


def lookup(registry, public_id: str, **params) -> dict:
    return requests.get(registry.url + "/api/cert/lookup", params={"id": public_id, **params}, timeout=15).json()


def open_checkout(page: Page, purchase) -> None:
    page.goto(purchase.private_path)
    expect(page.locator("#p-window")).to_have_text("Locked: the correction window has closed.")
    expect(page.locator("#p-amend")).to_have_text("An amendment (US$4.99) allows one more submission, as version 2.")
    expect(page.locator("#p-edit-link")).to_have_attribute("aria-disabled", "true")
    page.get_by_role("button", name="Buy an amendment").click()
    page.wait_for_url(CHECKOUT_PAGE)
    expect(dd_after(page, "main", "Product")).to_have_text("GhostShell certificate amendment")
    expect(dd_after(page, "main", "Total")).to_have_text("US$4.99")
    assert purchase.token not in page.url


def test_a_holder_buys_an_amendment_and_the_public_record_shows_it(page: Page, registry):
    name = "Joule " + unique()
    purchase, public_id = locked_record(registry, name)
    open_checkout(page, purchase)
    expect(dd_after(page, "main", "Email")).to_have_text(purchase.email)  # the receipt goes to the recovery address
    page.get_by_role("button", name="Pay US$4.99").click()

    # Back on the private page: the token came back from this tab's storage, never through Stripe.
    page.wait_for_url(f"{registry.url}/p/#{purchase.token}")
    expect(page.locator("#p-amend")).to_have_text(
        "Amendment paid: Edit details allows one more submission, as version 2."
    )
    expect(page.get_by_role("button", name="Buy an amendment")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('gs_amend')") == ""

    page.click("#p-edit-link")
    page.wait_for_url(re.compile(r"/register/#token=GSTK-"))
    expect(page.locator("#reg-status")).to_have_text(
        "A paid amendment allows one more submission: it makes version 2 of the record."
    )
    expect(page.locator("#agent_name")).to_have_value(name)
    page.fill("#agent_name", name + " II")
    page.click("#submit")
    page.wait_for_url(f"{registry.url}/p/#{purchase.token}")
    expect(dd_after(page, "#p-fields", "Agent name")).to_have_text(name + " II")
    expect(page.get_by_role("button", name="Buy an amendment")).to_be_visible()  # locked again: another can be bought

    page.goto(f"/r/{public_id}")
    expect(dd_after(page, "#record-fields", "Agent name")).to_have_text(name + " II")
    amended_at = lookup(registry, public_id)["amended_at"]
    shown = amended_at.replace("T", " ").replace("Z", " UTC")
    expect(dd_after(page, "#record-fields", "Status")).to_have_text(f"AMENDED, version 2, {shown}")
    expect(dd_after(page, "#record-fields", "Version 2")).to_have_text(f"{shown}, changed: agent_name")
    expect(dd_after(page, "#record-fields", "Version 1")).to_be_visible()

    # The first version stays retrievable.
    page.goto(f"/r/{public_id}?version=1")
    expect(dd_after(page, "#record-fields", "Agent name")).to_have_text(name)
    expect(dd_after(page, "#record-fields", "Status")).to_have_text("SUPERSEDED, version 1")


def test_a_cancelled_amendment_checkout_changes_nothing(page: Page, registry):
    name = "Joule " + unique()
    purchase, public_id = locked_record(registry, name)
    before = lookup(registry, public_id)
    open_checkout(page, purchase)
    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(f"{registry.url}/p/#{purchase.token}")
    expect(page.locator("#p-amend")).to_have_text(
        "Checkout cancelled. An amendment (US$4.99) allows one more submission, as version 2."
    )
    expect(page.get_by_role("button", name="Buy an amendment")).to_be_visible()
    expect(page.locator("#p-edit-link")).to_have_attribute("aria-disabled", "true")
    assert private_record(registry, purchase.token)["amendment"]["available"] is False
    assert redeem(registry, purchase.token, 409, agent_name="Changed").json()["error"] == "correction_window_closed"
    assert lookup(registry, public_id) == before
