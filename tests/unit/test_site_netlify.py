"""netlify.toml: build, API proxy, record rewrite, security headers and cache rules."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

import build

CONFIG = tomllib.loads((Path(build.__file__).resolve().parent / "netlify.toml").read_text(encoding="utf-8"))


def headers_for(path: str) -> dict[str, str]:
    """Headers Netlify sends for `path`: every matching rule, later rules winning per header name."""
    values: dict[str, str] = {}
    for rule in CONFIG["headers"]:
        if fnmatch.fnmatchcase(path, rule["for"]):
            values.update({k: " ".join(str(v).split()) for k, v in rule["values"].items()})
    return values


def csp(path: str = "/") -> dict[str, list[str]]:
    policy = headers_for(path)["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_build_runs_build_py_and_publishes_output():
    assert "python build.py" in CONFIG["build"]["command"]
    assert CONFIG["build"]["publish"] == "output"
    assert CONFIG["build"]["environment"]["PYTHON_VERSION"].startswith("3.1")


def test_api_is_proxied_with_a_forced_200_rewrite():
    (rule,) = [r for r in CONFIG["redirects"] if r["from"] == "/api/*"]
    assert rule["to"].startswith("https://") and rule["to"].endswith("/api/:splat")
    assert rule["status"] == 200
    assert rule["force"] is True
    assert CONFIG["redirects"].index(rule) == 0


def test_public_records_are_answered_by_the_api_with_their_own_head():
    """The record page with share previews (api/share.py); /r/ alone stays the file (the rule is not forced)."""
    (rule,) = [r for r in CONFIG["redirects"] if r["from"] == "/r/*"]
    (api,) = [r for r in CONFIG["redirects"] if r["from"] == "/api/*"]
    origin = api["to"].removesuffix("/api/:splat")
    assert rule["to"] == origin + "/api/cert/record-page/:splat"
    assert rule["status"] == 200 and not rule.get("force")


def test_content_security_policy():
    policy = csp()
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert set(policy["img-src"]) <= {"'self'", "data:"}
    assert set(policy["form-action"]) <= {"'self'", "https://checkout.stripe.com"}
    for values in policy.values():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values and "*" not in values


@pytest.mark.parametrize("path", ["/", "/register/", "/r/GS-BC-H-26-1", "/p/", "/theme/css/site.0123456789.css"])
def test_security_headers_on_every_path(path):
    values = headers_for(path)
    assert "Content-Security-Policy" in values
    assert values["Strict-Transport-Security"].startswith("max-age=31536000")
    assert values["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/p/", "/register/", "/handoff/"])
def test_private_pages_send_no_referrer(path):
    assert headers_for(path)["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/", "/registry/", "/r/GS-BC-H-26-1", "/issue/"])
def test_public_pages_use_a_strict_referrer_policy(path):
    assert headers_for(path)["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_long_cache_only_for_fingerprinted_theme_assets():
    long_lived = [r["for"] for r in CONFIG["headers"] if "immutable" in r["values"].get("Cache-Control", "")]
    assert long_lived == ["/theme/*"]
    for path in ("/", "/register/", "/r/GS-BC-H-26-1", "/404.html"):
        assert "immutable" not in headers_for(path).get("Cache-Control", ""), path


def test_built_theme_files_are_all_fingerprinted(tmp_path):
    # The /theme/* rule above is only safe because every file under /theme/ carries its content hash.
    out = build.build(tmp_path / "output")
    for asset in (out / "theme").rglob("*"):
        if asset.is_file():
            stem = asset.name.split(".")
            assert len(stem) >= 3 and len(stem[-2]) == 10, asset.name
