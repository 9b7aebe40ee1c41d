"""No page, script or API module types a rule's number or the public id format: they take them from the definition
(api/definition.py, api/rules.py, api/public_id.py) or, in the site, from the build-time export through `{rule:…}`
and `{id:…}` placeholders (build.py). Scans every source file under site/ and api/ but those three modules and the
generated export, and fails on the first literal it finds: change a rule there, and nothing else goes stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import build
from api import rules

ROOT = Path(build.__file__).resolve().parent
ALLOWED = {"api/definition.py", "api/rules.py", "api/public_id.py", "api/definition.json"}
SUFFIXES = {".py", ".js", ".html", ".css", ".md", ".txt", ".json", ".sql", ".toml"}
FILES = sorted(
    path
    for folder in ("site", "api")
    for path in (ROOT / folder).rglob("*")
    if path.is_file() and path.suffix in SUFFIXES and path.relative_to(ROOT).as_posix() not in ALLOWED
)


def _number(value: int, words: str, unit: str) -> str:
    """A count of `unit` written as a digit or a word, with a space or a hyphen: `7 days`, `seven-day`."""
    return rf"\b(?:{value}|{words})[\s-]+{unit}"


LITERALS = {
    "claim window": _number(rules.CLAIM_WINDOW_DAYS, "seven", r"days?\b"),
    "correction window": _number(rules.CORRECTION_WINDOW_HOURS, "twenty-four", r"(?:hours?|h)\b")
    + rf"|\b{rules.CORRECTION_WINDOW_HOURS}h\b",
    "submission cap": _number(rules.MAX_SUBMISSIONS, "five", r"(?:submissions|edits|corrections)\b"),
    "retention": _number(rules.RETENTION_DAYS, "ninety", r"days?\b"),
    "price": re.escape(rules.PRICE_DISPLAY.split("$")[-1]) + r"\b",
    "token prefix": r"\b(?:" + rules.TOKEN_PREFIX.rstrip("-") + "|" + rules.AGENT_TOKEN_PREFIX.rstrip("-") + r")-",
    "token body length": _number(rules.TOKEN_BODY_LENGTH, "twenty-four", r"(?:letters|characters)\b")
    + rf"|\{{{rules.TOKEN_BODY_LENGTH}\}}",
    "token alphabet": re.escape("0-9A-HJKMNP-TV-Z") + "|" + rules.TOKEN_ALPHABET,
    # A public id or its pattern: GS-BC-H-26-1, GS-BC-{A|H}, GS-BC-... (the register form's number GS-BC-REG is not).
    "public id": r"\bGS-?BC-?(?:[AH]\b|\{|\.\.\.|…|\[)",
}
FOUND = re.compile("|".join(f"(?P<g{index}>{regex})" for index, regex in enumerate(LITERALS.values())), re.I)


def test_the_scan_covers_the_site_and_the_api():
    names = {path.relative_to(ROOT).as_posix() for path in FILES}
    assert {"site/theme/static/js/common.js", "site/content/pages/issue.html", "api/openapi.py"} <= names
    assert not names & ALLOWED


@pytest.mark.parametrize("regex", LITERALS.values(), ids=list(LITERALS))
def test_each_pattern_finds_what_it_is_for(regex):
    # The allowed modules hold these values, so each pattern must find its literal somewhere among them or in a
    # sample written the way a page would.
    samples = (
        f"within {rules.CLAIM_WINDOW_DAYS} days; the seven-day window; for {rules.CORRECTION_WINDOW_HOURS} hours, "
        f"{rules.MAX_SUBMISSIONS} submissions, {rules.RETENTION_DAYS} days, {rules.PRICE_DISPLAY}, "
        f"{rules.TOKEN_PREFIX}7K3M followed by {rules.TOKEN_BODY_LENGTH} letters, [{rules.TOKEN_ALPHABET}], "
        "GS-BC-H-26-1, /^GS(TK|AT)[0-9A-HJKMNP-TV-Z]{24}$/"
    )
    assert re.search(regex, samples, re.I)


def test_no_rule_number_or_id_pattern_is_typed_outside_the_definition():
    found = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in FOUND.finditer(line):
                kind = list(LITERALS)[int(match.lastgroup[1:])]
                found.append(f"{path.relative_to(ROOT)}:{number}: {kind}: {match.group(0)!r}")
    assert not found, "\n".join(found)


def test_the_build_fills_every_placeholder_with_the_rules_value(built_site):
    pages = {
        path: path.read_text(encoding="utf-8") for path in built_site.rglob("*") if path.suffix in (".html", ".js")
    }
    assert not [path for path, text in pages.items() if re.search(r"\{(?:rule|id|label|legend):", text)]
    issue = (built_site / "issue" / "index.html").read_text(encoding="utf-8")
    assert f"{rules.CLAIM_WINDOW_DAYS} days" in issue and rules.PRICE_DISPLAY in issue


def test_an_unknown_placeholder_stops_the_build():
    with pytest.raises(SystemExit, match="unknown placeholder"):
        build.fill_placeholders("{rule:no_such_rule}", "page.html")
    assert build.fill_placeholders('"{rule:token_prefix}<"', "x.js", script=True) == f'"{rules.TOKEN_PREFIX}<"'
    assert build.fill_placeholders("{rule:email_pattern}", "x.html").count("&lt;") == 3
