"""The built site: every page exists, nothing comes from another origin, no inline script or handler, every
control has a label, the register form carries the whole catalogue, and no page weighs over 30 KB."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import build

ROOT = Path(build.__file__).resolve().parent
CATALOGUE = json.loads((ROOT / "api" / "catalogue.json").read_text(encoding="utf-8"))
DEFINITION = json.loads((ROOT / "api" / "definition.json").read_text(encoding="utf-8"))
PAGES = [
    "index.html",
    "issue/index.html",
    "handoff/index.html",
    "register/index.html",
    "registry/index.html",
    "r/index.html",
    "embed/index.html",
    "p/index.html",
    "seal/index.html",
    "privacy/index.html",
    "404.html",
]
PAGE_BUDGET = 30_000
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "xlink:href"}
CONTROLS = {"input", "select", "textarea"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build.build(tmp_path_factory.mktemp("site") / "output")


class Page(HTMLParser):
    """Collects what the checks need from one HTML page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.wrapped_controls = 0
        self.headings: list[int] = []
        self.text: list[str] = []
        self._open_labels = 0
        self._script: dict[str, str | None] | None = None
        self._script_text = ""
        self._skip_text = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "script":
            self._script, self._script_text = attributes, ""
        if tag in ("script", "style"):
            self._skip_text += 1
        if tag == "label":
            self._open_labels += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        if tag in CONTROLS and attributes.get("type") != "hidden":
            self.controls.append(attributes)
            if self._open_labels:
                self.wrapped_controls += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, self._script_text))
            self._script = None
        if tag in ("script", "style"):
            self._skip_text -= 1
        if tag == "label":
            self._open_labels -= 1

    def handle_data(self, data):
        if self._script is not None:
            self._script_text += data
        elif not self._skip_text:
            self.text.append(data)


def load(site: Path, name: str) -> tuple[str, Page]:
    html = (site / name).read_text(encoding="utf-8")
    return html, Page(html)


def local_assets(page: Page) -> set[str]:
    refs = set()
    for _, attributes in page.elements:
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if value.startswith("/theme/"):
                refs.add(value)
    return refs


def test_build_writes_every_page(site):
    for name in PAGES:
        assert (site / name).is_file(), name
    built = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert built == sorted(PAGES)


def test_build_is_pages_only(site):
    for unwanted in ("feeds", "author", "category", "tag", "archives.html", "authors.html", "tags.html"):
        assert not (site / unwanted).exists(), unwanted


@pytest.mark.parametrize("name", PAGES)
def test_no_inline_script_handler_or_javascript_url(site, name):
    html, page = load(site, name)
    for attributes, body in page.scripts:
        if attributes.get("type") == "application/json":
            continue
        assert body.strip() == "", f"inline script in {name}"
        assert (attributes.get("src") or "").startswith("/theme/js/"), attributes
    for tag, attributes in page.elements:
        for attr, value in attributes.items():
            assert not attr.startswith("on"), f"{name}: <{tag} {attr}>"
            if attr in URL_ATTRIBUTES or attr == "style":
                assert "javascript:" not in (value or "").lower(), f"{name}: <{tag} {attr}={value}>"
        assert "style" not in attributes, f"{name}: inline style on <{tag}> (style-src 'self')"
    assert "<style" not in html


@pytest.mark.parametrize("name", PAGES)
def test_nothing_from_another_origin(site, name):
    html, page = load(site, name)
    for tag, attributes in page.elements:
        for attr in URL_ATTRIBUTES & attributes.keys():
            value = (attributes[attr] or "").strip()
            assert not re.match(r"^([a-z][a-z0-9+.-]*:)?//", value, re.I), f"{name}: <{tag} {attr}={value}>"
            assert not value.lower().startswith(("http:", "https:")), f"{name}: <{tag} {attr}={value}>"
    assert not re.search(r"https?://", html), f"{name} mentions another origin"


@pytest.mark.parametrize("name", PAGES)
def test_every_control_has_a_visible_label(site, name):
    _, page = load(site, name)
    for control in page.controls:
        assert control.get("id") in page.label_for, f"{name}: control without <label for>: {control}"
    assert page.wrapped_controls == 0


@pytest.mark.parametrize("name", PAGES)
def test_page_structure(site, name):
    html, page = load(site, name)
    assert '<html lang="en">' in html
    assert '<main id="main">' in html
    assert page.headings.count(1) == 1, f"{name}: one <h1>"
    assert page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"{name}: heading level jumps from h{before} to h{after}"
    assert "GhostShell Registry" in html and '<footer class="site">' in html
    assert '<meta name="viewport"' in html


@pytest.mark.parametrize("name", PAGES)
def test_tone(site, name):
    _, page = load(site, name)
    text = " ".join(page.text)
    assert "!" not in text, f"{name}: exclamation mark"
    for phrase in ("AI-powered", "cutting-edge", "revolutionary", "Buy now", "digital agent"):
        assert phrase.lower() not in text.lower(), f"{name}: {phrase}"


def test_stylesheets_have_no_gradient_animation_or_external_font(site):
    for css in (site / "theme").rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        for banned in ("gradient(", "animation", "transition", "@keyframes", "@import", "url(http", "@font-face"):
            assert banned not in text, f"{css.name}: {banned}"


@pytest.mark.parametrize("name", PAGES)
def test_page_weight_with_assets_is_under_30_kb(site, name):
    html, page = load(site, name)
    total = len(html.encode("utf-8"))
    for ref in local_assets(page):
        total += (site / ref.lstrip("/")).stat().st_size
    assert total <= PAGE_BUDGET, f"{name} weighs {total} bytes with its assets"


def test_theme_assets_are_fingerprinted_and_every_reference_resolves(site):
    for asset in (site / "theme").rglob("*"):
        if asset.is_file():
            assert re.search(r"\.[0-9a-f]{10}\.[a-z]+$", asset.name), asset
    for name in PAGES:
        _, page = load(site, name)
        for ref in local_assets(page):
            assert (site / ref.lstrip("/")).is_file(), f"{name}: {ref}"


def test_private_pages_send_no_referrer_and_are_not_indexed(site):
    for name in ("p/index.html", "register/index.html", "handoff/index.html"):
        html = (site / name).read_text(encoding="utf-8")
        assert '<meta name="referrer" content="no-referrer">' in html, name
        assert '<meta name="robots" content="noindex, nofollow">' in html, name


def test_register_form_has_every_status_company_and_model(site):
    text, _ = load(site, "register/index.html")
    for status in CATALOGUE["statuses"]:
        assert f">{status['value']}</option>" in text, status["value"]
        assert f'data-d="{status["description"]}"' in text
    for company in CATALOGUE["companies"]:
        models = "|".join(company["models"])
        assert f'<option value="{company["value"]}" data-models="{models}">{company["label"]}</option>' in text
        assert all("|" not in model for model in company["models"])
    for value, label in (("other", "Other"), ("prefer_not_to_say", "Prefer not to say")):
        assert f'<option value="{value}">{label}</option>' in text


def test_register_form_fields(site):
    _, page = load(site, "register/index.html")
    # The form posts (register.js) every named control: the token's three, and the definition's fields that have a
    # control of their own; the cognitive-core widget has no names (its choice becomes the two core fields).
    names = {attrs.get("name") for tag, attrs in page.elements if tag in CONTROLS} - {None}
    own = {f["name"] for f in DEFINITION["fields"] if f["control"] not in ("core", "none")}
    assert names == {"token", "edit_source", "agent_handle"} | own
    ids = {attrs.get("id") for tag, attrs in page.elements if tag in CONTROLS}
    assert {"cognitive_core_company", "cognitive_core_model", "cognitive_core_other"} <= ids


def test_pages_load_their_scripts(site):
    expected = {
        "index.html": ["common", "lookup"],
        "issue/index.html": ["common", "email-rule", "issue", "resend"],
        "handoff/index.html": ["common", "copy", "handoff"],
        "register/index.html": ["common", "core-mapping", "register"],
        "registry/index.html": ["common", "registry"],
        "r/index.html": ["common", "copy", "lookup", "record", "verification"],
        "embed/index.html": ["common", "embed"],
        "p/index.html": ["common", "copy", "private"],
    }
    for name, scripts in expected.items():
        _, page = load(site, name)
        loaded = [re.sub(r"^/theme/js/|\.[0-9a-f]{10}\.js$", "", a["src"]) for a, _ in page.scripts]
        assert loaded == scripts, name
        assert all("defer" in a for a, _ in page.scripts), name


def test_built_scripts_compile_in_v8(site):
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    for script in (site / "theme" / "js").glob("*.js"):
        source = script.read_text(encoding="utf-8")
        # new Function compiles without running, so page scripts need no DOM here.
        ctx.eval(f"new Function({json.dumps(source)})")


def test_scripts_insert_user_text_as_text_only():
    for script in (ROOT / "site" / "theme" / "static" / "js").glob("*.js"):
        source = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
            assert sink not in source, f"{script.name}: {sink}"


def test_seal_is_a_small_svg(site):
    seals = list((site / "theme").glob("seal.*.svg"))
    assert len(seals) == 1
    assert seals[0].stat().st_size < 4096
    assert "INITIUM SINE IUDICIO SERVATUM" in seals[0].read_text(encoding="utf-8")


def test_build_command_line(tmp_path):
    out = tmp_path / "out"
    assert build.main(["--output", str(out)]) == 0
    assert (out / "index.html").is_file()
    # A second build replaces the first.
    assert build.main(["--output", str(out)]) == 0


def test_build_refuses_to_replace_a_directory_that_is_not_a_build(tmp_path):
    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(SystemExit):
        build.build(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep"
