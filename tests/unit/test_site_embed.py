"""The verification card (/embed/<id>) may be framed by any site, and no other page may be: netlify.toml says so,
and the local static server (dev/static_site.py), which reads netlify.toml, serves exactly that."""

from __future__ import annotations

import falcon
import falcon.testing
import pytest

import build
from dev.static_site import add_static_site

from .test_site_netlify import CONFIG, csp, headers_for


@pytest.fixture(scope="module")
def site_client(tmp_path_factory):
    out = build.build(tmp_path_factory.mktemp("embed-site") / "output")
    app = falcon.App()
    add_static_site(app, out)
    return falcon.testing.TestClient(app)


def frame_ancestors(policy: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == "frame-ancestors":
            return words[1:]
    raise AssertionError(f"no frame-ancestors in {policy}")


def test_netlify_lets_only_the_card_be_framed():
    (rule,) = [r for r in CONFIG["redirects"] if r["from"] == "/embed/*"]
    assert (rule["to"], rule["status"]) == ("/embed/index.html", 200)
    assert csp("/embed/GS-BC-H-26-1")["frame-ancestors"] == ["*"]
    embed = csp("/embed/GS-BC-H-26-1")
    for directive, values in csp("/").items():
        if directive != "frame-ancestors":
            assert embed[directive] == values or directive == "form-action", directive
    assert embed["form-action"] == ["'none'"]
    for path in ("/", "/register/", "/r/GS-BC-H-26-1", "/p/", "/registry/", "/issue/", "/embedded"):
        assert csp(path)["frame-ancestors"] == ["'none'"], path
        assert headers_for(path)["X-Frame-Options"] == "DENY"


def test_the_local_server_agrees(site_client):
    card = site_client.simulate_get("/embed/GS-BC-H-26-1")
    assert card.status_code == 200
    assert 'id="embed-title"' in card.text and "/theme/js/embed." in card.text
    assert frame_ancestors(card.headers["content-security-policy"]) == ["*"]
    # /r/<id> itself is the API's record page (its headers: tests/unit/test_share_previews.py); /r/ is the file.
    for path in ("/", "/register/", "/r/", "/registry/"):
        page = site_client.simulate_get(path)
        assert page.status_code == 200, path
        assert frame_ancestors(page.headers["content-security-policy"]) == ["'none'"], path
        assert page.headers["x-frame-options"] == "DENY"


def test_the_record_page_offers_the_credential_qr_and_badge(site_client):
    page = site_client.simulate_get("/r/").text
    for marker in (
        'id="verification"',
        "Download credential (JSON)",
        'id="record-qr"',
        "Copy badge (HTML)",
        "Copy badge (Markdown)",
        "/theme/js/verification.",
    ):
        assert marker in page, marker
