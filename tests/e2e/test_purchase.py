"""Buying a certificate in the browser: the paid purchase from /issue/ to /registry/ (scenario 1), an abandoned
checkout (4), a cancelled one (5), and the Stripe-free test checkout, off by default (6)."""

from __future__ import annotations

import re

import requests
from e2e_support import (
    ISSUED_OPENING,
    LABEL,
    LEGEND,
    PRIVATE_LINK_OPENING,
    PRIVATE_LINK_SUBJECT,
    REMINDER_SUBJECT,
    TOKEN,
    buy,
    dd_after,
    fill_register,
    mail_to,
    private_link_in,
    unique,
    unique_email,
    wait_for_mail,
)
from playwright.sync_api import Page, expect

PUBLIC_ID = re.compile(r"^GS-BC-H-\d\d-[0-9A-HJKMNP-TV-Z]+$")
CHECKOUT_PAGE = re.compile(r"/_stripe/pay/(cs_test_[A-Za-z0-9]+)$")


def start_checkout_in_browser(page: Page, email: str) -> str:
    """/issue/ → recovery email → Purchase → the (double's) hosted checkout page; returns the session id."""
    page.goto("/issue/")
    expect(page.locator("#purchase")).to_have_text("Purchase certificate — US$9.99")
    page.fill("#recovery_email", email)
    page.click("#purchase")
    page.wait_for_url(CHECKOUT_PAGE)
    return CHECKOUT_PAGE.search(page.url).group(1)


def test_paid_purchase_by_a_person(page: Page, registry):
    email = unique_email("person")
    name = "Joule " + unique()
    custodian = "Custodian " + unique()

    # /issue/ → Stripe: the checkout page shows the price and the email given on /issue/.
    session_id = start_checkout_in_browser(page, email)
    expect(page.get_by_role("note")).to_contain_text("Test mode")
    expect(dd_after(page, "main", "Total")).to_have_text("US$9.99")
    expect(dd_after(page, "main", "Email")).to_have_text(email)
    page.get_by_role("button", name="Pay US$9.99").click()

    # /handoff/ shows the token; the session id leaves the address bar.
    page.wait_for_url(re.compile(r"/handoff/$"))
    expect(page.locator("#handoff-status")).to_have_text("Payment confirmed.")
    expect(page.locator("#handoff-links")).to_be_visible()
    token = page.locator("#token-value").text_content()
    assert TOKEN.match(token), token
    expect(page.locator("#token")).to_have_value(token)
    expect(page.locator("#human-link")).to_have_attribute("href", f"{registry.url}/register/#token={token}&by=human")
    expect(page.locator("#agent-link")).to_be_hidden()  # until the holder makes the agent's own token
    expect(page.locator("#private-link")).to_have_attribute("href", f"{registry.url}/p/#{token}")
    page.reload()  # the token stays with this tab
    expect(page.locator("#handoff-status")).to_have_text("Token loaded from this browser tab.")
    expect(page.locator("#token")).to_have_value(token)
    page.get_by_role("button", name="Make an agent token").click()
    expect(page.locator("#agent-link")).to_have_attribute(
        "href", re.compile(r"/register/#token=GSAT-[0-9A-Z]{24}&by=agent$")
    )
    agent_token = page.locator("#agent-link").get_attribute("href").split("token=")[1].split("&")[0]
    prompt = page.locator("#agent-prompt").input_value()
    # The prompt and the draft carry the agent token, never the holder's; they give both ways in.
    assert agent_token in prompt and token not in prompt
    assert f"{registry.url}/llms.txt" in prompt and f"python -m api mcp --base {registry.url}" in prompt
    draft = page.locator("#email-draft").input_value()
    assert agent_token in draft and token not in draft
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=registry.url)
    page.get_by_role("button", name="Copy prompt").click()
    expect(page.locator("#send-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == prompt

    # The private link arrives by email (the same token).
    [message] = wait_for_mail(registry, email, PRIVATE_LINK_SUBJECT, PRIVATE_LINK_OPENING)
    link, emailed_token = private_link_in(message)
    assert emailed_token == token
    assert link == f"{registry.url}/p/#{token}"
    assert session_id not in message["text"]

    # "Fill it in myself": the full form, a listed company and model.
    page.get_by_role("link", name="Fill it in myself").click()
    page.wait_for_url(re.compile(r"/register/#token=GSTK-"))
    expect(page.locator("#reg-status")).to_have_text("New certificate. Days left to submit: 7.")
    expect(page.locator("#edit_source")).to_have_value("human")
    expect(page.locator("#submit")).to_have_text("Issue certificate")
    fill_register(
        page,
        agent_name=name,
        status="Autonomous Agent",
        company="Moonshot AI",
        model="Kimi K2.5",
        custodian=custodian,
        inception="2026-02-08",
        city="Adelaide",
        state="South Australia",
        country="Australia",
        listed=True,
    )
    page.click("#submit")

    # The private record: everything, the custodian and the hidden place included.
    page.wait_for_url(f"{registry.url}/p/#{token}")
    expect(page.locator("#p-issued")).to_be_visible()
    public_id = page.locator("#p-card").text_content()
    assert PUBLIC_ID.match(public_id), public_id
    expect(page.locator("#p-title")).to_have_text(f"Private record {public_id}")
    fields = "#p-fields"
    expect(dd_after(page, fields, LABEL["agent_name"])).to_have_text(name)
    expect(dd_after(page, fields, LABEL["inception_date"])).to_have_text("2026-02-08")
    expect(dd_after(page, fields, LABEL["declared_ontological_status"])).to_have_text("Autonomous Agent")
    expect(dd_after(page, fields, LEGEND["place"])).to_have_text("Adelaide, South Australia, Australia")
    expect(dd_after(page, fields, "Shown publicly")).to_have_text("city redacted, state redacted, country public")
    expect(dd_after(page, fields, LABEL["cognitive_core"])).to_have_text("MoonshotAI/Kimi K2.5")
    expect(dd_after(page, fields, LABEL["creator_label"])).to_have_text(custodian)
    expect(dd_after(page, fields, "Submissions")).to_have_text("Human: 1 · Agent: 0 · Total: 1")
    expect(dd_after(page, fields, LABEL["listed"])).to_have_text("Yes")
    expect(page.locator("#p-edits")).to_have_text("Edits remaining: 4 of 5 submissions.")
    expect(page.locator("#p-window")).to_contain_text("Corrections close in")

    # The emailed link, opened as a person would, shows the same record.
    page.goto("about:blank")
    page.goto(link)
    expect(page.locator("#p-card")).to_have_text(public_id)
    expect(dd_after(page, fields, LABEL["creator_label"])).to_have_text(custodian)

    # The public record: Company/Model, the custodian and the hidden city and state withheld.
    page.get_by_role("link", name="View public record").click()
    page.wait_for_url(f"{registry.url}/r/{public_id}")
    record = "#record-fields"
    expect(page.locator("#record")).to_be_visible()
    expect(page.locator("#record-title")).to_have_text(f"Public record {public_id}")
    expect(dd_after(page, record, LABEL["agent_name"])).to_have_text(name)
    expect(dd_after(page, record, LABEL["cognitive_core"])).to_have_text("MoonshotAI/Kimi K2.5")
    expect(dd_after(page, record, LABEL["creator_label"])).to_have_text("redacted")
    expect(dd_after(page, record, LABEL["creator_label"]).locator(".bar")).to_have_count(1)
    expect(dd_after(page, record, LEGEND["place"])).to_have_text("redacted, redacted, Australia")
    expect(dd_after(page, record, LEGEND["place"]).locator(".bar")).to_have_count(2)
    expect(dd_after(page, record, "Submissions")).to_have_text("Human: 1 · Agent: 0 · Total: 1")
    body = page.locator("body").inner_text()
    for secret in (custodian, "Adelaide", "South Australia", token, email):
        assert secret not in body, f"{secret!r} is on the public record"

    # /registry/ finds it by id, and by name (it is listed).
    for query in (public_id, public_id.lower().replace("-", ""), name, name.upper()):
        page.goto("/registry/")
        page.fill("#q", query)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#search-status")).to_have_text(f"Results for {query}.")
        hit = page.locator("#results li", has=page.get_by_role("link", name=public_id, exact=True))
        expect(hit).to_have_count(1)
        expect(hit).to_contain_text(name)
        expect(hit).to_contain_text("MoonshotAI/Kimi K2.5")
    hit.get_by_role("link", name=public_id).click()
    page.wait_for_url(f"{registry.url}/r/{public_id}")
    expect(dd_after(page, record, LABEL["agent_name"])).to_have_text(name)

    # Exactly one private-link email for the whole journey (webhook and handoff both confirmed the payment),
    # then the "issued" email.
    wait_for_mail(registry, email, f"Certificate {public_id} issued", ISSUED_OPENING)
    assert len(mail_to(registry, email, PRIVATE_LINK_SUBJECT, PRIVATE_LINK_OPENING)) == 1
    assert len(mail_to(registry, email)) == 2


def test_local_mailbox_shows_the_private_link_and_it_opens_the_private_page(page: Page, registry):
    """The local run's mailbox at /_mail/: a person finds the message, reads it and follows its private link."""
    purchase = buy(registry, unique_email("reader"))
    wait_for_mail(registry, purchase.email, PRIVATE_LINK_SUBJECT, PRIVATE_LINK_OPENING)
    page.goto("/_mail/")
    expect(page.get_by_role("note")).to_contain_text("nothing was sent")
    row = page.locator("tr", has_text=purchase.email)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=PRIVATE_LINK_SUBJECT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PRIVATE_LINK_SUBJECT)
    private_link = page.locator("pre").get_by_role("link", name=f"{registry.url}/p/#{purchase.token}")
    expect(private_link).to_have_count(1)
    private_link.click()
    page.wait_for_url(f"{registry.url}/p/#{purchase.token}")
    expect(page.locator("#p-not-issued")).to_be_visible()
    expect(page.locator("#p-claim")).to_contain_text("Initial submission window: open, about 7 days remaining")
    page.get_by_role("link", name="Submit initial details").click()
    page.wait_for_url(f"{registry.url}/register/#token={purchase.token}&by=human")
    expect(page.locator("#reg-status")).to_have_text("New certificate. Days left to submit: 7.")


def test_abandoned_checkout_sends_one_reminder_and_yields_no_token(page: Page, registry):
    email = unique_email("abandoner")
    session_id = start_checkout_in_browser(page, email)
    checkout_url = page.url

    expired = registry.stripe("POST", f"sessions/{session_id}/expire")  # delivers the webhook before answering
    assert expired.status_code == 200, expired.text
    assert expired.json()["status"] == "expired"
    redelivered = registry.stripe("POST", f"sessions/{session_id}/redeliver")  # Stripe's at-least-once delivery
    assert redelivered.status_code == 200, redelivered.text

    [reminder] = wait_for_mail(registry, email, REMINDER_SUBJECT)
    assert f"{registry.url}/issue/" in reminder["text"]
    assert "GSTK" not in reminder["text"] and "GSTK" not in reminder["html"]

    # The purchase is abandoned and holds no token any more.
    [(status, token_enc, handoff_token_enc)] = registry.sql(
        "SELECT status, token_enc, handoff_token_enc FROM purchase WHERE stripe_session_id = ?", (session_id,)
    )
    assert (status, token_enc, handoff_token_enc) == ("abandoned", None, None)

    # The checkout page can no longer be paid.
    page.goto(checkout_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This checkout session has expired")
    expect(page.get_by_role("button", name=re.compile("Pay"))).to_have_count(0)

    # The post-payment page, in the browser that started the checkout, shows no token.
    with page.expect_response(lambda r: "/api/cert/handoff-token" in r.url) as answer:
        page.goto(f"/handoff/?session_id={session_id}")
    assert answer.value.status == 410
    expect(page.locator("#handoff-status")).to_contain_text("This checkout was not completed")
    expect(page.locator("#handoff-links")).to_be_hidden()
    expect(page.locator("#token")).to_have_value("")
    browser_answer = page.request.get(f"/api/cert/handoff-token?session_id={session_id}")
    assert browser_answer.status == 410 and browser_answer.json()["error"] == "checkout_not_completed"
    anyone = requests.get(registry.url + "/api/cert/handoff-token", params={"session_id": session_id}, timeout=10)
    assert anyone.status_code == 410 and anyone.json()["error"] == "checkout_not_completed"

    # One reminder, no private link, however often Stripe delivers the event.
    assert registry.stripe("POST", "settle").json()["settled"]
    assert mail_to(registry, email, PRIVATE_LINK_SUBJECT) == []
    assert len(mail_to(registry, email, REMINDER_SUBJECT)) == 1


def test_handoff_in_another_browser_does_not_show_the_token(page: Page, registry):
    """The post-payment page gives the token only to the browser that started the checkout (gs_handoff)."""
    purchase = buy(registry)  # started and paid from another "browser" (a requests session)
    with page.expect_response(lambda r: "/api/cert/handoff-token" in r.url) as answer:
        page.goto(f"/handoff/?session_id={purchase.session_id}")
    assert answer.value.status == 202
    expect(page.locator("#handoff-status")).to_have_text(
        "Payment confirmed. The private link was emailed to the recovery address. "
        "Open it from that email, or paste the token here."
    )
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#token")).to_have_value("")
    expect(page.locator("#handoff-links")).to_be_hidden()
    assert purchase.token not in page.content()
    assert page.url == f"{registry.url}/handoff/"

    # Pasting the token from the email then offers the links.
    page.fill("#token", purchase.token.lower().replace("-", " "))
    page.get_by_role("button", name="Load token").click()
    expect(page.locator("#token")).to_have_value(purchase.token)
    expect(page.locator("#handoff-links")).to_be_visible()
    expect(page.locator("#handoff-status")).to_have_text(
        "Token loaded. Nothing has been checked with the registry yet; the register page does that."
    )


def test_cancelled_checkout_returns_to_issue_with_a_message(page: Page, registry):
    email = unique_email("canceller")
    session_id = start_checkout_in_browser(page, email)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(r"/issue/\?"))
    expect(page.locator("#issue-notice")).to_be_visible()
    expect(page.locator("#issue-notice")).to_have_text("Checkout was cancelled. No payment was taken.")
    expect(page.locator("#purchase")).to_be_enabled()
    [(status,)] = registry.sql("SELECT status FROM purchase WHERE stripe_session_id = ?", (session_id,))
    assert status == "pending"
    answer = page.request.get(f"/api/cert/handoff-token?session_id={session_id}")
    assert answer.status == 409
    assert mail_to(registry, email) == []


def test_test_checkout_is_absent_by_default(page: Page, registry):
    with page.expect_response(lambda r: r.url.endswith("/api/config")) as config:
        page.goto("/issue/")
    assert config.value.json()["test_checkout"] is False
    expect(page.locator("#purchase")).to_be_visible()
    expect(page.locator("#test-checkout")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Test checkout"))).to_have_count(0)
    answer = requests.post(
        registry.url + "/api/cert/test-checkout", json={"recovery_email": unique_email()}, timeout=10
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "not_found"


def test_test_checkout_goes_straight_to_the_register_page(page: Page, test_checkout_registry):
    server = test_checkout_registry
    email = unique_email("tester")
    page.goto(server.url + "/issue/")
    button = page.get_by_role("button", name="Test checkout (no payment)")
    expect(button).to_be_visible()
    page.fill("#recovery_email", email)
    button.click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/register/#token=GSTK-[0-9A-Z]{24}&by=human$"))
    token = page.locator("#token").input_value()
    assert TOKEN.match(token)
    expect(page.locator("#reg-status")).to_have_text("New certificate. Days left to submit: 7.")
    expect(page.locator("#submit")).to_be_enabled()

    # Ready to submit: the token issues a certificate on that server.
    fill_register(page, agent_name="Tester " + unique(), company="Anthropic", model="Claude Opus 4.6")
    page.click("#submit")
    page.wait_for_url(f"{server.url}/p/#{token}")
    expect(page.locator("#p-card")).to_have_text(PUBLIC_ID)
    [message] = wait_for_mail(server, email, PRIVATE_LINK_SUBJECT, PRIVATE_LINK_OPENING)
    assert private_link_in(message)[1] == token
