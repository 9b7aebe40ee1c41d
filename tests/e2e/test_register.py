"""The register page: the agent's path from the handoff page (scenario 2) and corrections, up to the locked
certificate, with the holder's agent-edit lock (scenario 3)."""

from __future__ import annotations

import re

import requests
from e2e_support import (
    BASE_FIELDS,
    LABEL,
    LEGEND,
    agent_token,
    buy,
    dd_after,
    fill_register,
    open_register,
    private_record,
    redeem,
    unique,
)
from playwright.sync_api import Page, expect

AGENT_PUBLIC_ID = re.compile(r"^GS-BC-A-\d\d-[0-9A-HJKMNP-TV-Z]+$")


def search(page: Page, query: str) -> None:
    page.goto("/registry/?q=" + query)
    expect(page.locator("#search-status")).not_to_have_text(re.compile(r"^(Searching\.)?$"))


def test_agent_path_from_the_handoff_page(page: Page, registry):
    purchase = buy(registry)
    name = "Weaver " + unique()
    core = "Homebrew/Loom-" + unique()
    handle = "@weaver-" + unique()

    # The token pasted as a link to the handoff page; "Send to my agent": the holder makes an agent token, and the
    # agent follows its own registration link.
    page.goto(f"/handoff/#{purchase.token}")
    expect(page.locator("#handoff-status")).to_have_text("Token loaded.")
    page.get_by_role("button", name="Send to my agent").click()
    expect(page.locator("#send-title")).to_be_focused()
    page.get_by_role("button", name="Make an agent token").click()
    page.get_by_role("link", name="its registration link").click()
    page.wait_for_url(re.compile(r"/register/#token=GSAT-[0-9A-Z]{24}&by=agent$"))
    expect(page.locator("#reg-status")).to_contain_text("New certificate.")
    expect(page.locator("#edit_source")).to_have_value("agent")
    expect(page.locator("#edit_source")).to_be_disabled()
    expect(page.locator("#agent-handle-field")).to_be_visible()

    fill_register(
        page,
        agent_name=name,
        status="Self-Directed Agent",
        company="other",
        other=core,
        inception="2025-11-30",
        city="Lyon",
        city_public=True,
        country="France",
        handle=handle,
    )
    expect(page.locator("#core-model-field")).to_be_hidden()
    page.click("#submit")
    # The agent has no private page: it lands on its public record. The holder's private page shows the rest.
    page.wait_for_url(re.compile(r"/r/GS-BC-A-[^#]+$"))  # the "issued" fragment is said once, then dropped
    public_id = page.url.rsplit("/", 1)[1]
    assert AGENT_PUBLIC_ID.match(public_id), public_id
    expect(page.locator("#record-status")).to_have_text(
        f"Certificate {public_id} issued. It is entered in the registry: share, copy or print it below."
    )
    page.goto(purchase.private_path)
    expect(page.locator("#p-card")).to_have_text(public_id)
    expect(dd_after(page, "#p-fields", LABEL["cognitive_core"])).to_have_text(f"Undisclosed/{core}")
    expect(dd_after(page, "#p-fields", "Submissions")).to_have_text("Human: 0 · Agent: 1 · Total: 1")
    expect(dd_after(page, "#p-fields", LABEL["listed"])).to_have_text("No")

    page.goto(f"/r/{public_id}")
    expect(dd_after(page, "#record-fields", LABEL["agent_name"])).to_have_text(name)
    expect(dd_after(page, "#record-fields", LABEL["cognitive_core"])).to_have_text(f"Undisclosed/{core}")
    # No state was given, but it is withheld: state_withheld follows the privacy flag alone.
    expect(dd_after(page, "#record-fields", LEGEND["place"])).to_have_text("Lyon, redacted, France")
    expect(dd_after(page, "#record-fields", "Submissions")).to_have_text("Human: 0 · Agent: 1 · Total: 1")
    assert handle not in page.locator("body").inner_text()

    # Not listed: found by id, not by name.
    search(page, public_id)
    expect(page.locator("#results").get_by_role("link", name=public_id, exact=True)).to_have_count(1)
    search(page, name)
    expect(page.locator("#search-status")).to_have_text("No matching records.")
    expect(page.locator("#results")).to_be_hidden()


def test_corrections_prefill_counters_agent_lock_and_cap(page: Page, registry):
    purchase = buy(registry)
    token = purchase.token
    name = "Halcyon " + unique()
    custodian = "Keeper " + unique()

    # 1st submission (human): non-default privacy choices and an "Other" core.
    open_register(page, token)
    fill_register(
        page,
        agent_name=name,
        status="Embodied Agent",
        company="other",
        other="Acme/Foo-1",
        custodian=custodian,
        inception="2025-12-31",
        city="Hobart",
        city_public=True,
        state="Tasmania",
        state_public=True,
        country="Australia",
        listed=True,
    )
    page.click("#submit")
    page.wait_for_url(f"{registry.url}/p/#{token}")
    expect(page.locator("#p-edits")).to_have_text("Edits remaining: 4 of 5 submissions.")
    public_id = page.locator("#p-card").text_content()

    # Reopened from the private page: every field prefilled, the privacy selects and "Other" kept.
    page.get_by_role("link", name="Edit details").click()
    page.wait_for_url(re.compile(r"/register/#token=GSTK-[0-9A-Z]{24}&by=human$"))
    expect(page.locator("#reg-title")).to_have_text("Edit birth certificate")
    expect(page.locator("#submit")).to_have_text("Save changes")
    expect(page.locator("#submit-note")).to_contain_text("1 of 5 submissions used, 4 left.")
    expect(page.locator("#reg-status")).to_contain_text("Corrections are open until")
    expected_values = {
        "#token": token,
        "#edit_source": "human",
        "#agent_name": name,
        "#declared_ontological_status": "Embodied Agent",
        "#cognitive_core_company": "other",
        "#cognitive_core_other": "Acme/Foo-1",
        "#creator_label": custodian,
        "#inception_date": "2025-12-31",
        "#place_city": "Hobart",
        "#show_city_public": "1",
        "#place_state": "Tasmania",
        "#hide_state_public": "0",
        "#place_country": "Australia",
    }
    for selector, value in expected_values.items():
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#listed")).to_be_checked()
    expect(page.locator("#core-other-field")).to_be_visible()
    expect(page.locator("#core-model-field")).to_be_hidden()

    # 2nd submission: one field changed; the counters move, the rest is kept.
    renamed = name + " II"
    page.fill("#agent_name", renamed)
    page.click("#submit")
    page.wait_for_url(f"{registry.url}/p/#{token}")
    expect(dd_after(page, "#p-fields", LABEL["agent_name"])).to_have_text(renamed)
    expect(dd_after(page, "#p-fields", "Submissions")).to_have_text("Human: 2 · Agent: 0 · Total: 2")
    expect(dd_after(page, "#p-fields", LEGEND["place"])).to_have_text("Hobart, Tasmania, Australia")
    expect(dd_after(page, "#p-fields", LABEL["cognitive_core"])).to_have_text("Undisclosed/Acme/Foo-1")
    expect(page.locator("#p-edits")).to_have_text("Edits remaining: 3 of 5 submissions.")

    # The holder has given the agent a token; then locks agent edits on the private page, which holds after a reload.
    delegated = agent_token(registry, token)
    page.reload()
    expect(page.locator("#p-agent-token")).to_contain_text(f"Agent token: active, ending {delegated[-4:]}")
    lock = page.get_by_label("Lock agent edits")
    expect(lock).not_to_be_checked()
    lock.check()
    expect(page.locator("#p-lock-status")).to_have_text("Agent edits are locked.")
    page.reload()
    expect(page.locator("#p-issued")).to_be_visible()
    expect(lock).to_be_checked()

    # The agent's token no longer works: the register page says so and offers no submission; the API refuses.
    page.goto(f"/register/#token={delegated}&by=agent")
    expect(page.locator("#reg-status")).to_have_text(
        "Agent edits are locked by the holder: this agent token no longer works."
    )
    expect(page.locator("#edit_source")).to_have_value("agent")
    expect(page.locator("#submit")).to_be_disabled()
    refused = redeem(registry, delegated, 403, agent_name="Via the API")
    assert refused.json()["error"] == "agent_edits_locked"
    assert private_record(registry, token)["certificate"]["edits_used"] == 2

    # 3rd and 4th submissions through the API, as a human.
    assert redeem(registry, token, 200, place_country="New Zealand").json()["edits_left"] == 2
    assert redeem(registry, token, 200, place_country="Australia").json()["edits_left"] == 1

    # 5th, the last, through the form: the private page then says the certificate is locked.
    open_register(page, token)
    expect(page.locator("#submit-note")).to_contain_text("4 of 5 submissions used, 1 left.")
    page.select_option("#declared_ontological_status", "Autonomous Agent")
    page.click("#submit")
    page.wait_for_url(f"{registry.url}/p/#{token}")
    expect(dd_after(page, "#p-fields", LABEL["declared_ontological_status"])).to_have_text("Autonomous Agent")
    expect(dd_after(page, "#p-fields", "Submissions")).to_have_text("Human: 5 · Agent: 0 · Total: 5")
    expect(page.locator("#p-edits")).to_have_text("Edits remaining: 0 of 5 submissions.")
    expect(page.locator("#p-window")).to_have_text("Locked: every allowed submission has been used.")
    expect(page.locator("#p-edit-link")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#p-edit-link")).not_to_have_attribute("href", re.compile(".*"))

    # The register page now shows the locked banner instead of the form; a 6th submission is refused.
    page.goto(f"/register/#token={token}&by=human")
    expect(page.locator("#lock-banner")).to_be_visible()
    expect(page.locator("#reg-title")).to_have_text("Certificate locked")
    expect(page.locator("#lock-reason")).not_to_be_empty()
    expect(page.locator("#lock-at")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    expect(page.locator("#register-form")).to_be_hidden()
    expect(page.get_by_role("link", name="View the public record")).to_have_attribute("href", f"/r/{public_id}")
    assert redeem(registry, token, 409, agent_name="Sixth").json()["error"] == "submission_cap_reached"

    # The public record shows the amendments and the last values.
    page.get_by_role("link", name="View the public record").click()
    expect(dd_after(page, "#record-fields", LABEL["agent_name"])).to_have_text(renamed)
    expect(dd_after(page, "#record-fields", "Submissions")).to_have_text("Human: 5 · Agent: 0 · Total: 5")
    expect(dd_after(page, "#record-fields", LEGEND["place"])).to_have_text("Hobart, Tasmania, Australia")


def test_prefill_keeps_a_listed_company_with_an_unlisted_model_and_prefer_not_to_say(page: Page, registry):
    """The two other shapes of the core: a catalogue company with a typed model, and Prefer not to say."""
    purchase = buy(registry)
    redeem(
        registry,
        purchase.token,
        201,
        **{
            **BASE_FIELDS,
            "agent_name": "Typed " + unique(),
            "cognitive_core_family": "Google",
            "cognitive_core_exact": "Gemini 9 Experimental",
        },
    )
    open_register(page, purchase.token)
    expect(page.locator("#cognitive_core_company")).to_have_value("Google")
    expect(page.locator("#cognitive_core_model")).to_have_value("other_model")
    expect(page.locator("#cognitive_core_other")).to_have_value("Gemini 9 Experimental")
    expect(page.locator("#show_city_public")).to_have_value("0")
    expect(page.locator("#hide_state_public")).to_have_value("1")
    expect(page.locator("#listed")).not_to_be_checked()

    page.select_option("#cognitive_core_company", "prefer_not_to_say")
    expect(page.locator("#core-other-field")).to_be_hidden()
    expect(page.locator("#core-model-field")).to_be_hidden()
    page.click("#submit")
    page.wait_for_url(re.compile(r"/p/#GSTK-"))
    expect(dd_after(page, "#p-fields", LABEL["cognitive_core"])).to_have_text("Prefer not to say")
    open_register(page, purchase.token)
    expect(page.locator("#cognitive_core_company")).to_have_value("prefer_not_to_say")
    expect(page.locator("#submit-note")).to_contain_text("2 of 5 submissions used, 3 left.")


def test_handoff_page_loads_a_token_link_opened_in_the_same_tab(page: Page, registry):
    """A second token link typed or pasted into the address bar of an open handoff page replaces the first."""
    first, second = buy(registry), buy(registry)
    page.goto(f"/handoff/#{first.token}")
    expect(page.locator("#token")).to_have_value(first.token)
    page.goto(f"/handoff/#{second.token}")
    expect(page.locator("#token")).to_have_value(second.token)
    expect(page.locator("#human-link")).to_have_attribute("href", re.compile(re.escape(second.token)))
    expect(page.locator("#private-link")).to_have_attribute("href", re.compile(re.escape(second.token)))
    # The agent's prompt is made for the token shown: its agent token belongs to the second purchase.
    page.get_by_role("button", name="Make an agent token").click()
    expect(page.locator("#agent-prompt")).to_have_value(re.compile(r"GSAT-[0-9A-Z]{24}"))
    prompt = page.locator("#agent-prompt").input_value()
    agent = re.search(r"GSAT-[0-9A-Z]{24}", prompt).group(0)
    status = requests.get(
        registry.url + "/api/cert/agent-token", headers={"Authorization": f"Bearer {second.token}"}, timeout=15
    ).json()
    assert status["active"] and status["token_last4"] == agent[-4:]
    assert first.token not in prompt and second.token not in prompt


def test_form_errors_sit_under_their_fields_and_consume_nothing(page: Page, registry):
    purchase = buy(registry)
    open_register(page, purchase.token)

    # Checked in the page: the required fields, each message under its control, the first one focused.
    page.click("#submit")
    for field, message in [
        ("agent_name", "Enter the agent's name."),
        ("declared_ontological_status", "Choose a status."),
        ("cognitive_core_company", "Choose a company, Other, or Prefer not to say."),
        ("inception_date", "Enter the inception date."),
        ("place_country", "Enter the country."),
    ]:
        expect(page.locator(f"#{field}-error")).to_have_text(message)
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field}")).to_have_attribute("aria-describedby", re.compile(rf"\b{field}-error\b"))
    expect(page.locator("#agent_name")).to_be_focused()

    # Checked by the API: a country without a letter; its message appears under the country.
    fill_register(page, agent_name="Errant " + unique(), company="Anthropic", model="Claude Opus 4.6", country="1234")
    page.click("#submit")
    expect(page.locator("#place_country-error")).to_be_visible()
    expect(page.locator("#register-form p.error")).to_have_count(1)  # the page's own errors went on submit
    expect(page.locator("#place_country-error")).not_to_be_empty()
    expect(page.locator("#place_country")).to_be_focused()
    expect(page.locator("#submit")).to_be_enabled()
    expect(page.locator("#submit")).to_have_text("Issue certificate")
    assert private_record(registry, purchase.token)["state"] == "not_issued"

    # Corrected, it is accepted and the error goes.
    page.fill("#place_country", "Australia")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/p/#GSTK-"))
    expect(page.locator("#p-edits")).to_have_text("Edits remaining: 4 of 5 submissions.")
