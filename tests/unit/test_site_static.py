"""dev/static_site.py: the built site served from a Falcon app with netlify.toml's rewrites and headers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import falcon
import falcon.testing
import pytest

import build
from dev.static_site import StaticSite, add_static_site, load_netlify_rules

NETLIFY = tomllib.loads((Path(build.__file__).resolve().parent / "netlify.toml").read_text(encoding="utf-8"))


class Health:
    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class RecordPage:
    """Stands in for the API's record page, to which netlify.toml proxies /r/<id>."""

    def on_get(self, req, resp, public_id):
        resp.content_type = "text/html; charset=utf-8"
        resp.set_header("X-Answered-By", "api")
        resp.text = f"record page {public_id} q={req.query_string}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = build.build(tmp_path_factory.mktemp("static") / "output")
    (out.parent / "secret.txt").write_text("outside the site")
    (out / ".hidden").write_text("dotfile")
    (out / "empty-dir").mkdir()
    return out


@pytest.fixture(scope="module")
def client(site):
    app = falcon.App()
    app.add_route("/api/health", Health())
    app.add_route("/api/cert/record-page/{public_id}", RecordPage())
    add_static_site(app, site)
    return falcon.testing.TestClient(app)


def theme_file(site: Path, pattern: str) -> str:
    (path,) = site.glob(pattern)
    return "/" + path.relative_to(site).as_posix()


def test_api_routes_are_not_shadowed(client):
    result = client.simulate_get("/api/health")
    assert result.status_code == 200
    assert result.json == {"status": "ok"}


def test_unknown_api_paths_are_left_to_the_api(client):
    result = client.simulate_get("/api/nothing-here")
    assert result.status_code == 404
    assert "Page not found" not in result.text  # not the site's 404 page
    assert client.simulate_get("/apiary").status_code == 404
    assert "Page not found" in client.simulate_get("/apiary").text


@pytest.mark.parametrize(
    "path,marker",
    [
        ("/", "Birth Certificates for Agents"),
        ("/issue/", "Purchase certificate"),
        ("/handoff/", "Certificate handoff"),
        ("/register/", "Declared ontological status"),
        ("/registry/", "Record id or agent name"),
        ("/seal/", "INITIUM SINE IUDICIO SERVATUM"),
        ("/p/", "Private record"),
    ],
)
def test_pretty_urls(client, path, marker):
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert marker in result.text


@pytest.mark.parametrize("path", ["/register", "/issue", "/p", "/registry"])
def test_directory_without_slash_redirects(client, path):
    result = client.simulate_get(path, query_string="x=1")
    assert result.status_code == 301
    assert result.headers["location"] == path + "/?x=1"


def test_redirect_location_is_never_protocol_relative(client):
    result = client.simulate_get("//register")
    assert result.status_code == 301
    assert result.headers["location"] == "/register/"


def test_public_record_is_forwarded_to_the_api_as_netlify_proxies_it(client, site):
    result = client.simulate_get("/r/GS-BC-H-26-1", query_string="utm=x")
    assert result.status_code == 200
    assert result.text == "record page GS-BC-H-26-1 q=utm=x"
    assert result.headers["x-answered-by"] == "api"
    assert "content-security-policy" not in result.headers  # the site's header rules are not the API's answer
    lookup = client.simulate_get("/r/")  # the lookup form is the file itself
    assert lookup.status_code == 200
    assert lookup.text == (site / "r" / "index.html").read_text(encoding="utf-8")


def test_unknown_page_gets_the_404_page(client):
    result = client.simulate_get("/no/such/page")
    assert result.status_code == 404
    assert "Page not found" in result.text
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert "Content-Security-Policy" in result.headers


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/theme/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/theme/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/theme\\..\\..\\secret.txt",
        "/.hidden",
        "/r/../../secret.txt",
        "/index.html%00.txt",
    ],
)
def test_path_traversal_and_dotfiles_are_refused(client, path):
    result = client.simulate_get(path)
    assert result.status_code in (404, 400)
    assert "outside the site" not in result.text
    assert "dotfile" not in result.text


def test_no_directory_listing(client, site):
    not_found = (site / "404.html").read_text(encoding="utf-8")
    for path in ("/empty-dir/", "/empty-dir", "/theme/", "/theme/js/"):
        result = client.simulate_get(path)
        assert result.status_code == 404, path
        assert result.text == not_found, path


def test_content_types_and_cache(client, site):
    css = client.simulate_get(theme_file(site, "theme/css/site.*.css"))
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    js = client.simulate_get(theme_file(site, "theme/js/register.*.js"))
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    svg = client.simulate_get(theme_file(site, "theme/seal.*.svg"))
    assert svg.headers["content-type"] == "image/svg+xml"
    page = client.simulate_get("/")
    assert "immutable" not in page.headers["cache-control"]


def test_headers_come_from_netlify_toml(client):
    expected = " ".join(NETLIFY["headers"][0]["values"]["Content-Security-Policy"].split())
    for path in ("/", "/r/", "/register/"):
        result = client.simulate_get(path)
        assert result.headers["content-security-policy"] == expected
        assert result.headers["strict-transport-security"].startswith("max-age=31536000")
        assert result.headers["x-content-type-options"] == "nosniff"
    assert client.simulate_get("/").headers["referrer-policy"] == "strict-origin-when-cross-origin"
    for path in ("/p/", "/register/", "/handoff/"):
        assert client.simulate_get(path).headers["referrer-policy"] == "no-referrer", path


def test_head_and_other_methods(client):
    head = client.simulate_head("/")
    assert head.status_code == 200
    assert head.text == ""
    post = client.simulate_post("/register/")
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"


def test_rules_are_read_from_the_toml(tmp_path, site):
    toml = tmp_path / "netlify.toml"
    toml.write_text(
        '[[redirects]]\nfrom = "/old/*"\nto = "/registry/"\nstatus = 301\n\n'
        '[[redirects]]\nfrom = "/api/*"\nto = "https://api.example/:splat"\nstatus = 200\nforce = true\n\n'
        '[[redirects]]\nfrom = "/cert/:id"\nto = "/r/index.html"\nstatus = 200\n\n'
        '[[headers]]\nfor = "/seal/*"\n[headers.values]\nX-Test = """ a\n  b """\n'
    )
    redirects, headers = load_netlify_rules(toml)
    assert [r.to for r in redirects] == ["/registry/", "/r/index.html"]  # the proxy rule is the API's
    app = falcon.App()
    app.add_sink(StaticSite(site, toml), "/")
    client = falcon.testing.TestClient(app)
    moved = client.simulate_get("/old/anything")
    assert moved.status_code == 301 and moved.headers["location"] == "/registry/"
    assert client.simulate_get("/cert/GS-1").status_code == 200
    assert client.simulate_get("/seal/").headers["x-test"] == "a b"
    assert "x-test" not in client.simulate_get("/").headers


def test_a_missing_build_is_reported(tmp_path):
    with pytest.raises(ValueError):
        add_static_site(falcon.App(), tmp_path)


def test_trailing_slash_stripping_apps_still_get_pretty_urls(site):
    app = falcon.App()
    app.req_options.strip_url_path_trailing_slash = True
    add_static_site(app, site)
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/register/").status_code == 200
    assert client.simulate_get("/register").status_code == 301
