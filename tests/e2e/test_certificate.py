"""Issue 13 in the browser: the moments a buyer pays for, the printed certificate, the plain words, the fixes found
in use, the original's links and the share previews. Every page test runs at 360 and 1280 px, checks axe-core
(no serious or critical violation) and that no request leaves the registry's origin.

Screenshots for docs/screens/ are written when GHOSTSHELL_SCREENS=1 (see docs/certificate.md)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

import pytest
import requests
from e2e_support import (
    BASE_FIELDS,
    PRIVATE_LINK_OPENING,
    PRIVATE_LINK_SUBJECT,
    REPO,
    TOKEN,
    Registry,
    buy,
    dd_after,
    fill_register,
    open_register,
    overflowing,
    redeem,
    serious_violations,
    unique,
    unique_email,
    wait_for_mail,
)
from playwright.sync_api import Page, expect

WIDTHS = [360, 1280]
SCREENS = REPO / "docs" / "screens"
CHECKOUT_PAGE = re.compile(r"/_stripe/pay/(cs_test_[A-Za-z0-9]+)$")


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def width(request, page: Page) -> int:
    page.set_viewport_size({"width": request.param, "height": 640 if request.param == 360 else 900})
    return request.param


@pytest.fixture
def same_origin(page: Page, registry):
    """Every request the page makes goes to the registry's own origin (no third-party request)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    yield seen
    others = [url for url in seen if not url.startswith((registry.url + "/", "data:", "about:"))]
    assert not others, f"requests to other origins: {others}"


def check_page(page: Page, width: int, name: str) -> None:
    """axe clean; at 360 px nothing scrolls sideways."""
    problems = serious_violations(page)
    assert not problems, f"axe on {name} at {width} px:\n" + "\n".join(problems)
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} scrolls sideways"
        assert not overflowing(page), f"{name} at 360 px:\n" + "\n".join(overflowing(page))


def screen(page: Page, name: str, **options) -> None:
    if os.environ.get("GHOSTSHELL_SCREENS") == "1":
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / f"{name}.png"), **options)


def in_viewport(page: Page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const el = document.querySelector(sel), box = el.getBoundingClientRect();
            return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth
                && el.scrollWidth <= el.clientWidth; }""",
        selector,
    )


# -- the moments ---------------------------------------------------------------------------------------------------


def test_after_payment_the_token_comes_first_whole_with_a_copy_button(page: Page, registry, width, same_origin):
    email = unique_email("moment")
    page.goto("/issue/")
    page.fill("#recovery_email", email)
    page.click("#purchase")
    page.wait_for_url(CHECKOUT_PAGE)
    page.get_by_role("button", name="Pay US$9.99").click()
    page.wait_for_url(re.compile(r"/handoff/$"))

    token_line = page.locator("#token-value")
    expect(token_line).to_have_text(TOKEN)
    token = token_line.text_content()
    # The whole token is on screen without scrolling, first after the page's title and status.
    assert page.evaluate("scrollY") == 0
    assert in_viewport(page, "#token-value"), f"the token is not wholly visible at {width} px"
    assert in_viewport(page, "#copy-token")
    expect(page.get_by_role("heading", level=2).first).to_have_text("Your purchase token")
    check_page(page, width, "handoff")
    screen(page, f"handoff-{width}")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=registry.url)
    page.get_by_role("button", name="Copy token").click()
    expect(page.locator("#copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == token

    # What the two choices do, in plain words.
    expect(page.get_by_role("link", name="Fill it in myself")).to_have_attribute(
        "href", f"{registry.url}/register/#token={token}&by=human"
    )
    page.get_by_role("button", name="Send to my agent").click()
    expect(page.locator("#send-title")).to_be_focused()
    page.get_by_role("button", name="Make an agent token").click()  # the agent gets its own token, not this one
    expect(page.locator("#agent-prompt")).to_have_value(re.compile(r"GSAT-[0-9A-Z]{4}"))
    assert token not in page.locator("#agent-prompt").input_value()
    expect(page.get_by_role("link", name="its registration link")).to_have_attribute("href", re.compile("#token=GSAT-"))
    # The rules say when the token cannot appear here (another browser), instead of promising it.
    expect(page.locator("main")).to_contain_text("In another browser or on another device it cannot")

    # The emails: the purchase token has its own subject and its own line.
    [message] = wait_for_mail(registry, email, PRIVATE_LINK_SUBJECT, PRIVATE_LINK_OPENING)
    assert token in message["text"].splitlines()

    # Back from the handoff page: the paid checkout page says paid, links back, and fits.
    page.go_back()
    page.wait_for_url(CHECKOUT_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("This checkout session has already been paid")
    expect(page.locator("main")).not_to_contain_text("No payment was taken")
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Return to the registry").click()
    page.wait_for_url(re.compile(r"/handoff/$"))
    expect(page.locator("#token-value")).to_have_text(token)


def test_the_first_submission_is_a_certificate_issued_moment(page: Page, registry, width, same_origin):
    purchase = buy(registry)
    open_register(page, purchase.token)
    fill_register(page, agent_name="Moment " + unique(), company="Anthropic", model="Claude Opus 4.6")
    page.click("#submit")

    moment = page.locator("#p-moment")
    expect(moment).to_be_visible()
    public_id = page.locator("#p-moment-id").text_content()
    assert re.fullmatch(r"GS-BC-H-\d\d-[0-9A-Z]+", public_id)
    expect(page.locator("#p-moment-title")).to_have_text(f"Certificate {public_id} issued")
    expect(page.locator("#p-moment-title")).to_be_focused()
    public_url = f"{registry.url}/r/{public_id}"
    expect(page.get_by_role("link", name=public_url)).to_have_attribute("href", public_url)
    page.wait_for_url(f"{registry.url}/p/#{purchase.token}")  # the address is the plain private link again
    check_page(page, width, "issued moment")
    screen(page, f"issued-{width}")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=registry.url)
    page.get_by_role("button", name="Copy public link").click()
    expect(page.locator("#p-moment-status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == public_url
    page.evaluate("navigator.share = (data) => { window.shared = data; return Promise.resolve(); }")
    page.get_by_role("button", name="Share").click()
    assert page.evaluate("window.shared") == {"title": f"Certificate {public_id}", "url": public_url}
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="Print the certificate").click()
    assert page.evaluate("window.printed") is True

    # The issued email names the certificate in its subject.
    wait_for_mail(registry, purchase.email, f"Certificate {public_id} issued")

    # Shown once: reopening the private link shows the record, not the moment again.
    page.reload()
    expect(page.locator("#p-issued")).to_be_visible()
    expect(moment).to_be_hidden()


# -- the printed certificate ---------------------------------------------------------------------------------------


def pdf_text(pdf: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.fixture(scope="module")
def certificate(registry) -> dict:
    purchase = buy(registry)
    fields = {**BASE_FIELDS, "agent_name": "Joule", "creator_label": "Example Custodian", "place_city": "Adelaide"}
    public_id = redeem(registry, purchase.token, 201, **fields).json()["public_id"]
    return {"token": purchase.token, "public_id": public_id}


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("copy", ["public", "original"])
def test_each_printed_copy_is_one_landscape_page_with_title_id_and_seal(
    page: Page, certificate, copy, paper, tmp_path, same_origin
):
    public_id = certificate["public_id"]
    if copy == "public":
        page.goto(f"/r/{public_id}")
        expect(page.locator("#record")).to_be_visible()
    else:
        page.goto(f"/p/#{certificate['token']}")
        expect(page.locator("#p-issued")).to_be_visible()
    qr = page.locator("#record-qr img" if copy == "public" else "#p-qr img")
    expect(qr).to_have_attribute("src", f"/api/cert/qr.svg?id={public_id}")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    page.evaluate("document.fonts.ready")
    pdf = tmp_path / f"{copy}-{paper}.pdf"
    page.pdf(path=str(pdf), format=paper, landscape=True, print_background=True)
    assert pdf_pages(pdf) == 1

    text = pdf_text(pdf)
    assert "Birth Certificate" in text
    assert public_id in text
    assert "Under the seal of the GhostShell Registry" in text
    # The seal itself (an SVG drawn as text on a path): its legend, letter by letter.
    letters = re.sub(r"\s", "", pdf_text(pdf, "-raw"))
    assert "GHOSTSHELL·REGISTRY" in letters and "INITIUMSINEIUDICIOSERVATUM" in letters
    assert re.search(r"record_hash: sha256 [0-9a-f]{64}", text)
    # No navigation, no buttons, no raw JSON.
    for absent in ("Issue certificate", "Look up", "Copy link", "Edit rules", "Technical details", '{"', "Share"):
        assert absent not in text, absent
    if copy == "public":
        assert "REDACTEDCOPY" in letters.upper() and "Example Custodian" not in text and "Adelaide" not in text
    else:
        assert "ORIGINALCOPY" in letters.upper() and "Example Custodian" in text and "Adelaide" in text
        assert "private" in text.lower()
    if paper == "A4":
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
        screen(page, f"printed-{copy}", full_page=True)


# -- plain words and the fixes -------------------------------------------------------------------------------------


def test_register_page_words_dates_and_the_model_error(page: Page, registry, width, same_origin):
    page.goto("/register/")
    expect(page.locator("#reg-status")).to_have_text(
        "No purchase token. Open the link from the email, or paste the token into the first field below."
    )
    first_field = page.locator("#register-form .field").first
    expect(first_field.get_by_label("Token")).to_be_visible()  # the field is below the message
    assert page.locator("#reg-status").bounding_box()["y"] < page.locator("#token").bounding_box()["y"]

    purchase = buy(registry)
    open_register(page, purchase.token)
    expect(page.locator("#edit_source-hint")).to_contain_text("H, a person registered the agent; A, the agent itself")
    expect(page.get_by_label("Who is filling this in")).to_have_value("human")
    expect(page.locator("main")).not_to_contain_text("Edit source")
    check_page(page, width, "register")

    # A listed company whose model is not chosen: the message sits under the model, not the company.
    page.fill("#agent_name", "Dates " + unique())
    page.select_option("#declared_ontological_status", "Tool")
    page.select_option("#cognitive_core_company", "OpenAI")
    page.fill("#place_country", "Australia")
    page.click("#submit")
    expect(page.locator("#core-model-field #cognitive_core_model-error")).to_have_text(
        "Choose a model, or Other to type it."
    )
    expect(page.locator("#cognitive_core_company-error")).to_have_count(0)
    # No date: a plain message that names no format (the field shows the browser's own).
    expect(page.locator("#inception_date-error")).to_have_text("Enter the inception date.")
    # A future date gets its own message.
    page.select_option("#cognitive_core_model", "GPT-5")
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()
    page.fill("#inception_date", tomorrow)
    page.click("#submit")
    expect(page.locator("#inception_date-error")).to_have_text("The inception date cannot be in the future.")
    check_page(page, width, "register with errors")
    assert "YYYY" not in page.locator("main").inner_text()


def test_a_model_typed_with_its_company_is_stored_once(page: Page, registry, width):
    purchase = buy(registry)
    open_register(page, purchase.token)
    fill_register(
        page, agent_name="Oss " + unique(), company="OpenAI", model="other_model", other="OpenAI/gpt-oss-120b"
    )
    page.click("#submit")
    expect(page.locator("#p-issued")).to_be_visible()
    expect(dd_after(page, "#p-fields", "Cognitive core at inception")).to_have_text("OpenAI/gpt-oss-120b")


def test_locked_record_says_it_once_with_a_past_time_and_a_disabled_lock(page: Page, registry, width, same_origin):
    purchase = buy(registry)
    redeem(registry, purchase.token, 201, **{**BASE_FIELDS, "agent_name": "Capped " + unique()})
    for n in range(4):
        redeem(registry, purchase.token, 200, place_country=f"Australia {n}")
    page.goto(purchase.register_path())
    expect(page.locator("#lock-banner")).to_be_visible()
    expect(page.locator("#reg-title")).to_have_text("Certificate locked")
    assert page.locator("main").inner_text().count("Certificate locked") == 1
    since = page.locator("#lock-at").text_content()
    locked_at = dt.datetime.strptime(since, "%Y-%m-%d %H:%M:%S UTC")
    assert locked_at <= dt.datetime.now(dt.UTC).replace(tzinfo=None)  # not the future deadline
    expect(page.locator("#lock-at-line")).to_have_text(f"Locked since {since}.")
    check_page(page, width, "register locked")

    page.goto(purchase.private_path)
    expect(page.locator("#p-issued")).to_be_visible()
    expect(page.get_by_label("Lock agent edits")).to_be_disabled()
    expect(page.locator("#p-lock-note")).to_have_text("A locked record takes no agent edits.")
    # Jargon stays behind a disclosure: the hash input is there, closed.
    details = page.locator("details", has_text="Technical details")
    expect(details).to_have_count(1)
    expect(page.locator("#p-hash-input")).to_be_hidden()
    details.locator("summary").click()
    expect(page.locator("#p-hash-input")).to_be_visible()
    check_page(page, width, "private locked")
    screen(page, f"private-{width}", full_page=True)


def test_public_record_explains_h_and_a_and_lookups_land_on_the_canonical_id(
    page: Page, registry, certificate, width, same_origin
):
    public_id = certificate["public_id"]
    spaced = public_id.lower().replace("-", " ")
    page.goto("/")
    expect(page.locator("main")).to_contain_text("One certificate costs US$9.99, paid once.")
    page.fill("#lookup-id", spaced)
    page.locator("form.js-lookup").get_by_role("button", name="Look up").click()
    page.wait_for_url(f"{registry.url}/r/{public_id}")
    expect(page.locator("#record")).to_be_visible()
    expect(page.locator("#letters")).to_contain_text("H means a person registered the agent and A that the agent")
    expect(page.locator("#record-stamp")).to_have_text("Redacted copy")
    expect(dd_after(page, "#record-fields", "Submissions")).to_have_text("Human: 1 · Agent: 0 · Total: 1")
    check_page(page, width, "record")
    screen(page, f"record-{width}", full_page=True)
    # Typed without separators: the record page puts the canonical id in the address bar.
    page.goto(f"/r/{public_id.replace('-', '').lower()}")
    expect(page.locator("#record")).to_be_visible()
    page.wait_for_url(f"{registry.url}/r/{public_id}")


@pytest.fixture(scope="module")
def empty_registry(tmp_path_factory, built_site):
    server = Registry(tmp_path_factory.mktemp("empty-registry"), built_site)
    yield server
    server.stop()


def test_an_empty_registry_does_not_say_no_matching_records(page: Page, empty_registry, width):
    page.goto(empty_registry.url + "/registry/")
    expect(page.locator("#search-status")).to_have_text(
        "No records are listed in the directory yet. Any record can be found by its id."
    )
    check_page(page, width, "empty registry")
    page.fill("#q", "nobody")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-status")).to_have_text("No matching records.")


def test_checkout_without_javascript_returns_the_page_with_the_error(browser, page: Page, registry, width):
    context = browser.new_context(
        java_script_enabled=False, base_url=registry.url, viewport={"width": width, "height": 800}
    )
    nojs = context.new_page()
    try:
        nojs.goto("/issue/")
        expect(nojs.locator("#email-invalid")).to_be_hidden()
        nojs.fill("#recovery_email", "person@localhost")  # accepted by the browser, refused by the registry
        nojs.click("#purchase")
        nojs.wait_for_url(f"{registry.url}/issue/#email-invalid")
        expect(nojs.locator("#email-invalid")).to_be_visible()
        expect(nojs.locator("#email-invalid")).to_have_text(
            "Enter a valid email address, for example name@example.com."
        )
        assert "{" not in nojs.locator("body").inner_text()  # the page, not raw JSON
        # A good address goes on to the checkout page, still without JavaScript.
        nojs.fill("#recovery_email", unique_email("nojs"))
        nojs.click("#purchase")
        nojs.wait_for_url(CHECKOUT_PAGE)
    finally:
        context.close()
    # The same page state, checked by axe (which needs scripts to run).
    page.goto("/issue/#email-invalid")
    expect(page.locator("#email-invalid")).to_be_visible()
    check_page(page, width, "issue with the error")


# -- old links and share previews ----------------------------------------------------------------------------------


def test_links_of_the_original_registry(page: Page, registry, certificate, same_origin):
    public_id, token = certificate["public_id"], certificate["token"]
    for old in (f"/cert/{public_id}", f"/registry/?id={public_id}", f"/registry?id={public_id.lower()}"):
        page.goto(old)
        page.wait_for_url(f"{registry.url}/r/{public_id}")
        expect(page.locator("#record")).to_be_visible()
    for old in (f"/p/{token}", f"/p/{token}/download", f"/cert/{public_id}/download?t={token}"):
        page.goto(old)
        page.wait_for_url(f"{registry.url}/p/#token={token}")
        expect(page.locator("#p-card")).to_have_text(public_id)
    fresh = buy(registry)
    page.goto(f"/register/{fresh.token}")
    page.wait_for_url(f"{registry.url}/register/#token={fresh.token}")
    expect(page.locator("#reg-status")).to_contain_text("New certificate.")


def test_each_record_has_its_own_share_preview(registry, certificate):
    public_id = certificate["public_id"]
    answer = requests.get(f"{registry.url}/r/{public_id}", timeout=10)
    assert answer.status_code == 200
    assert f"<title>Joule · {public_id} · GhostShell Registry</title>" in answer.text
    assert f'<meta property="og:title" content="Joule · {public_id} · GhostShell Registry">' in answer.text
    assert f'<meta property="og:url" content="{registry.url}/r/{public_id}">' in answer.text
    assert '<meta name="twitter:card" content="summary">' in answer.text
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
    other = buy(registry)
    other_id = redeem(registry, other.token, 201, **{**BASE_FIELDS, "agent_name": "Ada"}).json()["public_id"]
    assert "<title>Ada · " in requests.get(f"{registry.url}/r/{other_id}", timeout=10).text
