"""Accessibility and small screens (scenario 8): axe-core finds no serious or critical violation on any page, in
each of its states, at 1280 px and at 360 px; at 360 px nothing scrolls sideways and every control fits. The
`page` fixture fails a test on any JavaScript error, so each page is also checked for those."""

from __future__ import annotations

import pytest
from e2e_support import BASE_FIELDS, buy, overflowing, redeem, serious_violations, unique
from playwright.sync_api import Page, expect

WIDTHS = [1280, 360]


@pytest.fixture(scope="module")
def records(registry) -> dict:
    """One token not yet used, one listed certificate open for corrections, one locked (all 5 submissions)."""
    name = "Axe " + unique()
    fresh = buy(registry)
    issued = buy(registry)
    public_id = redeem(
        registry,
        issued.token,
        201,
        **{
            **BASE_FIELDS,
            "agent_name": name,
            "listed": True,
            "creator_label": "Custodian",
            "place_city": "Adelaide",
            "place_state": "South Australia",
        },
    ).json()["public_id"]
    locked = buy(registry)
    redeem(registry, locked.token, 201, **{**BASE_FIELDS, "agent_name": "Locked " + unique()})
    for n in range(4):
        redeem(registry, locked.token, 200, place_country=f"Australia {n}")
    return {"fresh": fresh.token, "issued": issued.token, "locked": locked.token, "public_id": public_id, "name": name}


def _show_errors(page: Page) -> None:
    page.click("#submit")
    expect(page.locator("#register-form p.error").first).to_be_visible()


# name: (path, a locator that shows the page has settled, optional action once it has)
PAGES = {
    "home": (lambda r: "/", "#lookup-id", None),
    "issue": (lambda r: "/issue/", "#purchase", None),
    "handoff-paste": (lambda r: "/handoff/", "#token-form", None),
    "handoff-token": (lambda r: f"/handoff/#{r['fresh']}", "#handoff-links", None),
    "register-new": (lambda r: f"/register/#token={r['fresh']}&by=human", "#reg-status >> text=New certificate.", None),
    "register-errors": (
        lambda r: f"/register/#token={r['fresh']}&by=agent",
        "#reg-status >> text=New certificate.",
        _show_errors,
    ),
    "register-edit": (lambda r: f"/register/#token={r['issued']}&by=human", "#reg-title >> text=Edit birth", None),
    "register-locked": (lambda r: f"/register/#token={r['locked']}&by=human", "#lock-banner", None),
    "registry": (lambda r: f"/registry/?q={r['name']}", "#results li", None),
    "record": (lambda r: f"/r/{r['public_id']}", "#verify-result >> text=Valid.", None),
    "embed": (lambda r: f"/embed/{r['public_id']}", "#embed-status >> text=Verified", None),
    "record-unknown": (lambda r: "/r/GS-BC-H-99-ZZZZ", "#record-title >> text=Record not found", None),
    "private-issued": (lambda r: f"/p/#{r['issued']}", "#p-issued", None),
    "private-not-issued": (lambda r: f"/p/#{r['fresh']}", "#p-not-issued", None),
    "private-paste": (lambda r: "/p/", "#p-token-form", None),
    "seal": (lambda r: "/seal/", "img.seal-large", None),
    "not-found": (lambda r: "/no-such-page/", "h1 >> text=Page not found", None),
}


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_and_fits(page: Page, records, name, width):
    path, ready, action = PAGES[name]
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(path(records))
    expect(page.locator(ready).first).to_be_visible()
    if action:
        action(page)

    problems = serious_violations(page)
    assert not problems, f"axe on {name} at {width} px:\n" + "\n".join(problems)

    if width == 360:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 360, f"{name} scrolls sideways at 360 px (scrollWidth {scroll_width})"
        assert not overflowing(page), f"{name} at 360 px:\n" + "\n".join(overflowing(page))
