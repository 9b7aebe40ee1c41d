"""Share previews: /r/<id> answers with the record's own head (title, description, canonical link, Open Graph and
Twitter meta) over the built static page, through the API route netlify.toml proxies it to (api/share.py)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import build
from api import share

from .support import redeem

pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build.build(tmp_path_factory.mktemp("share") / "output")


@pytest.fixture
def page_client(make_client, site):
    return make_client(site_dir=str(site))


def meta(text: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', text)
    assert match, key
    return html.unescape(match.group(1))


def test_each_record_has_its_own_head_and_the_static_body(page_client, paid_token, site):
    public_id = redeem(page_client, paid_token(), agent_name="Joule <b>&\"'").json["public_id"]
    answer = page_client.simulate_get(f"/api/cert/record-page/{public_id}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    text = answer.text
    title = f"Joule <b>&\"' · {public_id} · GhostShell Registry"
    assert f"<title>{html.escape(title)}</title>" in text
    assert "<b>" not in text  # user text is escaped everywhere
    for key in ("og:title", "twitter:title"):
        assert meta(text, key) == title
    description = meta(text, "description")
    assert description.startswith("Birth certificate of the agent Joule") and "Australia" in description
    assert meta(text, "og:description") == description == meta(text, "twitter:description")
    assert meta(text, "og:url") == f"https://registry.test/r/{public_id}"
    assert f'<link rel="canonical" href="https://registry.test/r/{public_id}">' in text
    assert meta(text, "twitter:card") == "summary"
    assert text.count('name="description"') == 1
    static = (site / "r" / "index.html").read_text(encoding="utf-8")
    assert text.split("<body>", 1)[1] == static.split("<body>", 1)[1]  # the body is the static page's
    # Private values never reach a preview.
    assert "Custodian Holdings" not in text and "Hobart" not in text and "Tasmania" not in text


def test_the_page_carries_the_sites_headers_not_the_apis(page_client, paid_token):
    public_id = redeem(page_client, paid_token()).json["public_id"]
    answer = page_client.simulate_get(f"/api/cert/record-page/{public_id.lower()}")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "public, max-age=60"
    assert f"/r/{public_id}" in meta(answer.text, "og:url")  # the canonical id, whatever was typed


def test_unknown_records_get_the_page_with_a_generic_head(page_client):
    answer = page_client.simulate_get("/api/cert/record-page/GS-BC-H-99-ZZZ")
    assert answer.status_code == 404
    assert "<title>Record not found · GhostShell Registry</title>" in answer.text
    assert '<main id="main">' in answer.text


def test_without_a_built_site_the_static_page_is_used(make_client, tmp_path):
    answer = make_client(site_dir=str(tmp_path)).simulate_get("/api/cert/record-page/GS-BC-H-26-1")
    assert answer.status_code == 302
    assert answer.headers["location"].endswith("/r/?id=GS-BC-H-26-1")


def test_revoked_records_say_so_and_nothing_else():
    text = share.describe({"public_id": "GS-BC-H-26-1", "status": "revoked"}, "GS-BC-H-26-1")
    assert text == {
        "title": "GS-BC-H-26-1 · Revoked record · GhostShell Registry",
        "description": "Record GS-BC-H-26-1 of the GhostShell Registry was revoked.",
    }
