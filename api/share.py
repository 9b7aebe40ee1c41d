"""Share previews: the public record page /r/<id>, answered with its own head.

Link previews (Open Graph, Twitter cards) are read from the HTML a crawler fetches; crawlers run no script, so the
static record page, whose script fills the record in, would give every record the same title. netlify.toml therefore
sends /r/<id> to the API (GET /api/cert/record-page/<id>), and the local server applies the same rule. The answer is
the built record page, unchanged but for its head: the record's title, description, canonical link and Open Graph /
Twitter meta. The body stays the static page, so the page behaves exactly as before.

The built page is read from the site directory (GHOSTSHELL_SITE_DIR, default output/ beside the code): the API host
builds the site from the same commit as the one deployed to Netlify, so the theme file names match. Without a built
page the answer is a redirect to /r/?id=<id>, the static page itself, which needs no head of its own to work.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from html import escape
from pathlib import Path

NETLIFY_TOML = Path(__file__).resolve().parent.parent / "netlify.toml"
RECORD_PAGE = Path("r") / "index.html"
SITE_NAME = "GhostShell Registry"
_TITLE = re.compile(r"<title>.*?</title>", re.S)
_DESCRIPTION = re.compile(r'<meta name="description" content="[^"]*">\n?')


class RecordShell:
    """The built record page, read again whenever the file changes (a new build)."""

    def __init__(self, site_dir: Path):
        self.path = Path(site_dir) / RECORD_PAGE
        self._stamp: tuple[int, int] | None = None
        self._html = ""

    def html(self) -> str | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._html = self.path.read_text(encoding="utf-8")
            self._stamp = stamp
        return self._html


def site_headers(path: str, netlify_toml: Path = NETLIFY_TOML) -> dict[str, str] | None:
    """The headers netlify.toml gives the site page at `path` (every matching [[headers]] rule, later rules winning,
    as Netlify applies them), or None without a netlify.toml. A proxied answer gets none of them from Netlify, so
    the API sets them itself."""
    try:
        config = tomllib.loads(Path(netlify_toml).read_text(encoding="utf-8"))
    except OSError:
        return None
    values: dict[str, str] = {}
    for rule in config.get("headers", []):
        if fnmatch.fnmatchcase(path, rule["for"]):
            values.update({name: " ".join(str(value).split()) for name, value in rule.get("values", {}).items()})
    return values


def describe(record: dict | None, public_id: str) -> dict[str, str]:
    """Title and description of a record for previews: what the public record shows, nothing more."""
    if record is None:
        return {
            "title": f"Record not found · {SITE_NAME}",
            "description": f"No record of the {SITE_NAME} has the id {public_id}.",
        }
    if record.get("status") == "revoked":
        return {
            "title": f"{record['public_id']} · Revoked record · {SITE_NAME}",
            "description": f"Record {record['public_id']} of the {SITE_NAME} was revoked.",
        }
    parts = [
        f"Birth certificate of the agent {record['agent_name']}",
        record.get("declared_ontological_status"),
        record.get("inception_date") and f"inception {record['inception_date']}",
        (record.get("location") or {}).get("country"),
    ]
    return {
        "title": f"{record['agent_name']} · {record['public_id']} · {SITE_NAME}",
        "description": ", ".join(p for p in parts if p) + ". Redacted public record.",
    }


def render(shell: str, record: dict | None, public_id: str, url: str) -> str:
    """The shell with the record's head. Every value is escaped (agent names are user text)."""
    text = describe(record, public_id)
    title, description = escape(text["title"]), escape(text["description"])
    meta = "".join(
        f"{line}\n"
        for line in (
            f'<meta name="description" content="{description}">',
            f'<link rel="canonical" href="{escape(url)}">',
            '<meta property="og:type" content="website">',
            f'<meta property="og:site_name" content="{SITE_NAME}">',
            f'<meta property="og:title" content="{title}">',
            f'<meta property="og:description" content="{description}">',
            f'<meta property="og:url" content="{escape(url)}">',
            '<meta name="twitter:card" content="summary">',
            f'<meta name="twitter:title" content="{title}">',
            f'<meta name="twitter:description" content="{description}">',
        )
    )
    html = _TITLE.sub(lambda _: f"<title>{title}</title>", shell, count=1)
    html = _DESCRIPTION.sub("", html, count=1)
    return html.replace("</title>", "</title>\n" + meta, 1)
