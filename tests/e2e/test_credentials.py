"""Verifiable credentials end to end: a certificate issued in the browser, its credential downloaded from the record
page and verified with the command line offline, then revoked and verified online; the record page's QR code and
verification result; the verification card framed by another origin, and the register page refusing to be."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading

import requests
from e2e_support import REPO, buy, fill_register, open_register, submit_register, unique
from playwright.sync_api import Page, expect


def verify_cli(*args: str) -> subprocess.CompletedProcess:
    """The offline verifier as a user runs it: no server settings, no database."""
    return subprocess.run(
        [sys.executable, "-m", "api", "verify", *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def issue_in_the_browser(page: Page, registry) -> str:
    purchase = buy(registry)
    open_register(page, purchase.token)
    fill_register(
        page,
        agent_name="Ledger " + unique(),
        company="other",
        other="Loom-" + unique(),
        custodian="Private Custodian " + unique(),
    )
    submit_register(page)
    return page.locator("#p-card").text_content()


def test_download_verify_offline_revoke_verify_online(page: Page, registry, tmp_path):
    public_id = issue_in_the_browser(page, registry)

    page.goto(f"/r/{public_id}")
    result = page.locator("#verify-result")
    expect(result).to_have_text(re.compile(r"^Valid\. This record's credential carries the registry's signature"))
    expect(page.locator("#verify-details")).to_contain_text("current key")
    qr = page.locator("#record-qr img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    assert qr.get_attribute("alt").endswith(f"/r/{public_id}")
    page.emulate_media(media="print")  # the printed copy keeps the QR code and leaves the on-screen tools out
    expect(qr).to_be_visible()
    expect(page.locator("#verification")).to_be_hidden()
    page.emulate_media(media="screen")
    badge = page.locator("#badge-preview img")
    expect(badge).to_be_visible()
    assert f"/r/{public_id}" in page.locator("#badge-html").input_value()
    assert page.locator("#badge-markdown").input_value().startswith("[![GhostShell Registry record")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download credential (JSON)").click()
    saved = tmp_path / "credential.json"
    download_info.value.save_as(saved)
    credential = json.loads(saved.read_text())
    assert credential["credentialSubject"]["public_id"] == public_id
    assert "Private Custodian" not in saved.read_text()

    did_document = requests.get(registry.url + "/.well-known/did.json", timeout=10).json()
    (key,) = [m["publicKeyMultibase"] for m in did_document["verificationMethod"] if "validUntil" not in m]
    offline = verify_cli(str(saved), "--key", key)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline.stdout.strip().endswith("result: valid")

    revoked = registry.cli("admin", "revoke", public_id, "--reason", "Refunded")
    assert revoked.returncode == 0, revoked.stderr
    online = verify_cli("--id", public_id, "--base", registry.url)
    assert online.returncode == 1, online.stdout + online.stderr
    assert "revoked" in online.stdout and online.stdout.strip().endswith("result: revoked")
    # Earlier versions of a revoked record are withdrawn; the saved one, checked against the status list: revoked.
    again = verify_cli("--id", public_id, "--base", registry.url, "--version", "1")
    assert again.returncode == 2 and "410" in again.stderr
    status_list = tmp_path / "revocation.json"
    status_list.write_text(requests.get(registry.url + "/api/cert/status/revocation", timeout=10).text)
    did_file = tmp_path / "did.json"
    did_file.write_text(json.dumps(did_document))
    checked = verify_cli(str(saved), "--did-document", str(did_file), "--status-list", str(status_list))
    assert checked.returncode == 1 and checked.stdout.strip().endswith("result: revoked")

    page.reload()
    expect(result).to_have_text(re.compile(r"^Revoked\."))
    expect(page.locator("#record-qr img")).to_be_visible()


class _HostPage(http.server.BaseHTTPRequestHandler):
    """Another origin's page that frames the registry's verification card and its register page."""

    registry_url = ""
    public_id = ""

    def do_GET(self):
        body = (
            "<!doctype html><html lang=en><title>Another site</title><h1>Another site</h1>"
            f'<iframe id="card" title="card" src="{self.registry_url}/embed/{self.public_id}" width="480" height="260">'
            "</iframe>"
            f'<iframe id="register" title="register" src="{self.registry_url}/register/" width="480" height="260">'
            "</iframe>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_card_renders_in_another_origins_frame_and_the_register_page_refuses(page: Page, browser, registry):
    public_id = issue_in_the_browser(page, registry)
    handler = type("Host", (_HostPage,), {"registry_url": registry.url, "public_id": public_id})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A page of its own: the refused frame logs a console error by design, which the `page` fixture would report.
    host = browser.new_page()
    try:
        host_url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert not host_url.startswith(registry.url)
        host.goto(host_url)
        card = host.frame_locator("#card")
        expect(card.locator("#embed-title")).to_have_text(public_id)
        expect(card.locator("#embed-status")).to_have_text(re.compile(r"^Verified: signed by the registry on "))
        expect(card.locator("#embed-link")).to_have_attribute("href", f"/r/{public_id}")

        card_frame = next(f for f in host.frames if f.url.startswith(f"{registry.url}/embed/"))
        assert card_frame.evaluate("document.querySelector('#embed-fields').textContent").startswith("agent")
        host.wait_for_timeout(500)
        register_frames = [f for f in host.frames if f.url.startswith(f"{registry.url}/register")]
        blocked = [f for f in host.frames if f.url.startswith("chrome-error://")]
        assert register_frames == [] and len(blocked) == 1, [f.url for f in host.frames]
        assert host.frame_locator("#register").locator("#token").count() == 0

        # The same card opened directly works too, and a record that does not exist says so.
        direct = browser.new_page()
        direct.goto(registry.url + "/embed/GS-BC-H-99-ZZZ")
        expect(direct.locator("#embed-status")).to_have_text("No record has the id GS-BC-H-99-ZZZ.")
        direct.close()
    finally:
        host.close()
        server.shutdown()
        server.server_close()
