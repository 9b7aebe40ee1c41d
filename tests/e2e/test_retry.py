"""A submission whose answer is lost (issue 9, fault 9): the page sends an Idempotency-Key with each submission, so
sending it again is answered once and uses one of the five submissions, not two."""

from __future__ import annotations

import re

from e2e_support import buy, dd_after, fill_register, open_register, private_record, unique
from playwright.sync_api import Page, Route, expect


def test_a_submission_sent_again_after_a_lost_answer_counts_once(page: Page, registry):
    purchase = buy(registry)
    open_register(page, purchase.token)
    fill_register(page, agent_name="Relay " + unique(), company="prefer_not_to_say", country="Australia")

    keys: list[str] = []
    lost = {"done": False}

    def lose_first_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if lost["done"]:
            route.continue_()
            return
        lost["done"] = True
        route.fetch()  # the registry receives and answers it ...
        route.abort("connectionreset")  # ... and the answer never reaches the browser

    page.route("**/api/cert/redeem-token", lose_first_answer)
    page.click("#submit")
    expect(page.locator("#submit-status")).to_contain_text("could not be reached", timeout=20000)
    page.click("#submit")  # the person tries again
    page.wait_for_url(re.compile(r"/p/#GSTK-"))

    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    expect(dd_after(page, "#p-fields", "Submissions")).to_have_text("Human: 1 · Agent: 0 · Total: 1")
    certificate = private_record(registry, purchase.token)["certificate"]
    assert certificate["edits_used"] == 1 and certificate["edits_left"] == 4
    # The lost answer is the one console error this test causes on purpose.
    page.js_problems[:] = [p for p in page.js_problems if "ERR_CONNECTION_RESET" not in p]
