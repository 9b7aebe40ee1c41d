"""Serve the built site (output/) from the Falcon app, the way Netlify serves it.

    add_static_site(app, Path("output"))

adds a sink for every path outside /api/ (and the local Stripe double under /_stripe/). It reads netlify.toml
at startup and applies its [[redirects]] (forced rules first, then files, then the other rules, as Netlify does;
a rule with `query = {name = ":placeholder"}` applies only when the request has that parameter, whose value fills
the placeholder). Proxy rules to another origin are the API: `/api/*` itself is left to Falcon's routes, and a
site path proxied to an API path (/r/<id> -> /api/cert/record-page/<id>) is forwarded to that path in the same
app, as Netlify forwards it to the API; the API's answer is returned as it is, without the site's header rules)
and its [[headers]] (glob `for` patterns; when several match, the later rule wins for a given header name), so
netlify.toml stays the single source of truth. Pretty URLs: /register/ serves register/index.html and /register
answers 301 to /register/. Unknown pages get the site's 404.html with status 404. No directory listings, no
dotfiles, nothing outside the site directory.
"""

from __future__ import annotations

import io
import mimetypes
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import falcon

NETLIFY_TOML = Path(__file__).resolve().parent.parent / "netlify.toml"

# Falcon matches routes before sinks, but a sink would still catch unknown /api/ paths; those stay the API's.
DEFAULT_EXCLUDED_PREFIXES = ("/api", "/_stripe")

# Netlify's default for files without a Cache-Control rule: browsers always revalidate.
DEFAULT_CACHE_CONTROL = "public, max-age=0, must-revalidate"
# A rule's Cache-Control (the year-long `immutable` of /theme/*) describes the files it names: an answer that is
# not one of them (a 404, a redirect, a refused method) must not be kept, or a later deploy could not fix it.
NOT_FOUND_CACHE_CONTROL = "no-store"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}

REDIRECT_STATUSES = {
    301: falcon.HTTP_301,
    302: falcon.HTTP_302,
    303: falcon.HTTP_303,
    307: falcon.HTTP_307,
    308: falcon.HTTP_308,
}


def _glob(pattern: str) -> re.Pattern[str]:
    """Netlify path pattern -> regex: `*` matches anything (slashes included), `:name` one segment."""
    parts = []
    for piece in re.split(r"(\*|:[A-Za-z_]\w*)", pattern):
        if piece == "*":
            parts.append("(?P<splat>.*)")
        elif piece.startswith(":"):
            parts.append(f"(?P<{piece[1:]}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class Redirect:
    pattern: re.Pattern[str]
    to: str
    status: int
    force: bool
    query: dict[str, str] = field(default_factory=dict)  # parameter -> ":placeholder"
    forward: bool = False  # a proxy to an API path: answered by the app itself

    def values(self, match: re.Match[str], params: dict[str, str]) -> dict[str, str] | None:
        """The placeholders' values, or None when a parameter the rule needs is absent. Every value is
        percent-encoded again: it comes from the visitor and ends up in a Location header or a path."""
        values = {
            name: urllib.parse.quote(value, safe="/-_.~")
            for name, value in match.groupdict().items()
            if value is not None
        }
        for param, placeholder in self.query.items():
            if not params.get(param):
                return None
            values[placeholder.lstrip(":")] = urllib.parse.quote(params[param], safe="-_.~")
        return values

    def target(self, values: dict[str, str]) -> str:
        return re.sub(r":([A-Za-z_]\w*)", lambda m: values.get(m.group(1)) or "", self.to)


@dataclass(frozen=True)
class HeaderRule:
    pattern: re.Pattern[str]
    values: dict[str, str] = field(default_factory=dict)


def load_netlify_rules(path: Path = NETLIFY_TOML) -> tuple[list[Redirect], list[HeaderRule]]:
    """The site's redirects (local ones only) and header rules from netlify.toml."""
    with open(path, "rb") as fh:
        config = tomllib.load(fh)
    redirects = []
    for rule in config.get("redirects", []):
        to, forward = rule["to"], False
        if not to.startswith("/"):
            path = urllib.parse.urlsplit(to).path
            if rule["from"].startswith("/api/") or not path.startswith("/api/"):
                continue  # the API itself, served by Falcon's own routes
            to, forward = path, True
        redirects.append(
            Redirect(
                _glob(rule["from"]),
                to,
                int(rule.get("status", 301)),
                bool(rule.get("force", False)),
                {str(k): str(v) for k, v in rule.get("query", {}).items()},
                forward,
            )
        )
    headers = []
    for rule in config.get("headers", []):
        # Multi-line TOML strings (the CSP) become one header line.
        values = {name: " ".join(str(value).split()) for name, value in rule.get("values", {}).items()}
        headers.append(HeaderRule(_glob(rule["for"]), values))
    return redirects, headers


class StaticSite:
    """A Falcon sink serving a built Pelican site with Netlify's rewrites and headers."""

    def __init__(self, site_dir: Path, netlify_toml: Path = NETLIFY_TOML, app=None):
        self.app = app  # the WSGI app that answers forwarded (proxied) paths
        self.root = Path(site_dir).resolve()
        if not (self.root / "index.html").is_file():
            raise ValueError(f"{self.root} does not hold a built site (no index.html); run python build.py")
        self.redirects, self.header_rules = load_netlify_rules(netlify_toml)

    def __call__(self, req: falcon.Request, resp: falcon.Response, **kwargs) -> None:
        path = req.path
        if not path.endswith("/") and req.env.get("PATH_INFO", "").endswith("/"):
            path += "/"  # the app strips trailing slashes (req_options); pretty URLs need them
        self._apply_headers(resp, path)
        if req.method not in ("GET", "HEAD"):
            resp.set_header("Cache-Control", NOT_FOUND_CACHE_CONTROL)
            resp.status = falcon.HTTP_405
            resp.set_header("Allow", "GET, HEAD")
            resp.content_type = CONTENT_TYPES[".txt"]
            resp.text = "Method not allowed.\n"
            return
        segments = self._segments(path)
        if segments is None:
            return self._not_found(resp)
        for rule in self.redirects:
            if rule.force and self._follow(rule, path, req, resp):
                return
        if self._serve_path(segments, path, req, resp):
            return
        for rule in self.redirects:
            if not rule.force and self._follow(rule, path, req, resp):
                return
        self._not_found(resp)

    @staticmethod
    def _segments(path: str) -> list[str] | None:
        """The path's segments, or None for anything that could step outside the site or reach a dotfile."""
        if "\\" in path or "\x00" in path:
            return None
        segments = [s for s in path.split("/") if s]
        if any(s.startswith(".") for s in segments):
            return None  # "..", "." and hidden files alike
        return segments

    def _file(self, segments: list[str]) -> Path | None:
        candidate = self.root.joinpath(*segments).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate

    def _serve_path(self, segments: list[str], path: str, req, resp) -> bool:
        target = self._file(segments)
        if target is None:
            return False
        if target.is_dir():
            index = target / "index.html"
            if not index.is_file():
                return False
            if not path.endswith("/"):
                # Built from the clean segments, so "//host" can never become a protocol-relative Location.
                location = "/" + "/".join(segments) + "/" if segments else "/"
                if req.query_string:
                    location += "?" + req.query_string
                resp.status = falcon.HTTP_301
                resp.location = location
                resp.set_header("Cache-Control", DEFAULT_CACHE_CONTROL)
                return True
            target = index
        elif not target.is_file():
            return False
        self._send(resp, target, falcon.HTTP_200)
        return True

    def _follow(self, rule: Redirect, path: str, req, resp) -> bool:
        match = rule.pattern.match(path)
        if not match:
            return False
        values = rule.values(match, {k: v for k, v in req.params.items() if isinstance(v, str)})
        if values is None:
            return False
        to = rule.target(values)
        if rule.forward:
            if self.app is None:
                return False
            self._forward(req, resp, to)
            return True
        if rule.status in REDIRECT_STATUSES:
            resp.status = REDIRECT_STATUSES[rule.status]
            resp.location = to
            resp.set_header("Cache-Control", DEFAULT_CACHE_CONTROL)
            return True
        segments = self._segments(to)
        target = self._file(segments) if segments is not None else None
        if target is None or not target.is_file():
            return False
        self._send(resp, target, falcon.code_to_http_status(rule.status))
        return True

    def _forward(self, req: falcon.Request, resp: falcon.Response, path: str) -> None:
        """Answer with what the app answers at `path` (the query string goes along, as Netlify's proxy sends it)."""
        environ = dict(req.env)
        environ.update({"PATH_INFO": urllib.parse.unquote(path), "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"})
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        body = b"".join(self.app(environ, start_response))
        for name in list(resp.headers):
            resp.delete_header(name)  # Netlify's header rules do not apply to proxied answers
        resp.status = answer["status"]
        for name, value in answer["headers"]:
            if name.lower() == "content-type":
                resp.content_type = value
            elif name.lower() != "content-length":
                resp.append_header(name, value)
        resp.data = body

    def _not_found(self, resp: falcon.Response) -> None:
        resp.set_header("Cache-Control", NOT_FOUND_CACHE_CONTROL)
        page = self.root / "404.html"
        if page.is_file():
            self._send(resp, page, falcon.HTTP_404)
        else:
            resp.status = falcon.HTTP_404
            resp.content_type = CONTENT_TYPES[".txt"]
            resp.text = "Not found.\n"

    def _send(self, resp: falcon.Response, file: Path, status: str) -> None:
        resp.status = status
        suffix = file.suffix.lower()
        resp.content_type = (
            CONTENT_TYPES.get(suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        resp.data = file.read_bytes()

    def _apply_headers(self, resp: falcon.Response, path: str) -> None:
        values = {"Cache-Control": DEFAULT_CACHE_CONTROL}
        for rule in self.header_rules:
            if rule.pattern.match(path):
                values.update(rule.values)
        for name, value in values.items():
            resp.set_header(name, value)


def add_static_site(
    app: falcon.App,
    site_dir: Path,
    *,
    netlify_toml: Path = NETLIFY_TOML,
    excluded_prefixes: tuple[str, ...] = DEFAULT_EXCLUDED_PREFIXES,
) -> StaticSite:
    """Serve the built site at `site_dir` for every path outside `excluded_prefixes`."""
    site = StaticSite(site_dir, netlify_toml, app=app)
    excluded = "|".join(re.escape(p.strip("/")) for p in excluded_prefixes)
    app.add_sink(site, re.compile(rf"/(?!(?:{excluded})(?:/|$))" if excluded else "/"))
    return site
