"""Links of the original registry, in the local server exactly as netlify.toml states them: record ids redirect;
paths that carry a token are answered with today's page, whose script moves the token into the fragment."""

from __future__ import annotations

from pathlib import Path

import falcon
import falcon.testing
import pytest

import build
from dev.static_site import add_static_site

TOKEN = "GSTK-7K3M9QX2VD4N8PRT6WHJ0BCY"
URL_SEARCH_PARAMS = """
function URLSearchParams(text) {
  var self = this;
  self.keys = []; self.values = {};
  String(text || "").replace(/^[?]/, "").split("&").forEach(function (pair) {
    if (!pair) return;
    var at = pair.indexOf("="), key = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    if (!(key in self.values)) self.keys.push(key);
    self.values[key] = decodeURIComponent(at < 0 ? "" : pair.slice(at + 1));
  });
}
URLSearchParams.prototype.get = function (key) { return key in this.values ? this.values[key] : null; };
URLSearchParams.prototype.delete = function (key) {
  delete this.values[key];
  this.keys = this.keys.filter(function (k) { return k !== key; });
};
URLSearchParams.prototype.toString = function () {
  var values = this.values;
  return this.keys.map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(values[k]); }).join("&");
};
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build.build(tmp_path_factory.mktemp("old-links") / "output")


@pytest.fixture(scope="module")
def client(site):
    app = falcon.App()
    add_static_site(app, site)
    return falcon.testing.TestClient(app)


@pytest.mark.parametrize(
    "path,query,location",
    [
        ("/cert/GS-BC-A-26-H", None, "/r/GS-BC-A-26-H"),
        ("/cert/GS-BC-A-26-H", "embed=1", "/embed/GS-BC-A-26-H"),  # the original's embeddable card
        ("/registry/", "id=GS-BC-A-26-H", "/r/GS-BC-A-26-H"),
        ("/registry", "id=gs-bc-a-26-h", "/r/gs-bc-a-26-h"),
        ("/registry/", "id=a%0d%0aSet-Cookie:x", "/r/a%0D%0ASet-Cookie%3Ax"),  # never a header of its own
    ],
)
def test_record_links_redirect_permanently(client, path, query, location):
    answer = client.simulate_get(path, query_string=query)
    assert answer.status_code == 301
    assert answer.headers["location"] == location
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    "path,query,page",
    [
        (f"/p/{TOKEN}", None, "p/index.html"),
        (f"/p/{TOKEN.lower()}/download", None, "p/index.html"),
        ("/cert/GS-BC-A-26-H/download", f"t={TOKEN}", "p/index.html"),
        (f"/register/{TOKEN}", None, "register/index.html"),
    ],
)
def test_token_links_are_answered_with_the_page_and_no_redirect(client, site, path, query, page):
    answer = client.simulate_get(path, query_string=query)
    assert answer.status_code == 200  # a rewrite: no Location header repeats the token
    assert "location" not in answer.headers
    assert answer.text == (site / page).read_text(encoding="utf-8")
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"


def test_the_registry_page_without_an_id_is_the_page(client, site):
    answer = client.simulate_get("/registry/")
    assert answer.status_code == 200
    assert answer.text == (site / "registry" / "index.html").read_text(encoding="utf-8")


def test_the_pages_move_the_token_into_the_fragment():
    """The script side of the rewrites (common.js readTokenParams), run in V8 with a stand-in location."""
    from py_mini_racer import MiniRacer

    path = Path(build.__file__).parent / "site/theme/static/js/common.js"
    source = build.fill_placeholders(path.read_text(encoding="utf-8"), path, script=True)  # the rules, as built
    ctx = MiniRacer()
    ctx.eval(URL_SEARCH_PARAMS)  # V8 alone has no URLSearchParams: a minimal one, enough for these links
    ctx.eval(
        "var moved = null; var document = {}; var history = {replaceState: function (s, t, url) { moved = url; }};"
        "var location = {};" + source
    )
    cases = [
        ("/p/" + TOKEN, "", "/p/#token=" + TOKEN),
        ("/p/" + TOKEN + "/download", "", "/p/#token=" + TOKEN),
        ("/register/" + TOKEN, "", "/register/#token=" + TOKEN),
        ("/cert/GS-BC-A-26-H/download", "?t=" + TOKEN, "/p/#token=" + TOKEN),
        ("/register/", "?token=" + TOKEN + "&by=agent", "/register/#token=" + TOKEN + "&by=agent"),
    ]
    for pathname, search, expected in cases:
        ctx.eval(f"moved = null; location.pathname = {pathname!r}; location.search = {search!r}; location.hash = '';")
        token = ctx.eval("GS.readTokenParams().token")
        assert token == TOKEN, pathname
        assert ctx.eval("moved") == expected, pathname
