"""Build the static site from site/ into output/.

    python build.py [--output DIR]

First api/definition.json, the registry's definition as the site sees it (fields, rules, id format), is
refreshed from api/definition.py. Pelican renders the pages (pretty URLs, pages only, settings in
site/pelicanconf.py), with that export and api/catalogue.json in the templates' context. Then every file under
output/theme/ is renamed with a content hash (site.css -> site.3f9a1c2b4d.css) and the HTML is rewritten to
match, so netlify.toml can cache /theme/* for a year while a changed file always gets a new URL. Stylesheets
lose their comments and indentation on the way; scripts are parsed and minified by calmjs.parse (an ES5 parser:
the site's scripts are plain ES5, and a syntax error stops the build), with local names shortened, so every page
with its assets stays within its byte budget (tests/unit/test_site_weight.py). Minifying is most of a build's time,
so its results are kept in var/build-cache/, keyed by the script's text, the minifier's version and its options: a
script that did not change is not parsed again (`--no-cache` ignores what is kept, and refreshes it).

Pages and scripts never type a rule's number, the id format or a field's label: they write a placeholder,
`{rule:NAME}` for a value of the export's "rules" (api/rules.py), `{id:NAME}` for one of its "public_id"
(api/public_id.py), `{label:NAME}` for the label of a field or of a composite value (api/definition.py) and
`{legend:KEY}` for a group's legend, and the build fills it in, escaped for HTML in pages and for a string literal
in scripts (write it inside one). An unknown name stops the build. tests/unit/test_definition_literals.py keeps
the literals out; tests/unit/test_record_pages.py the labels.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SITE = ROOT / "site"
DEFAULT_OUTPUT = ROOT / "output"
CACHE = ROOT / "var" / "build-cache"
_MINIFY_OPTIONS = "es5 minify_print obfuscate=True obfuscate_globals=False"

_THEME_REF = re.compile(r"""(?<=["'(])/theme/[^"'()\s?#]+""")
# A line break before one of these tags never renders (block boxes, head elements, options), so it is dropped;
# breaks before inline content (text, links, buttons, labels) are kept, where a space can matter.
_BLOCK_BREAK = re.compile(
    r">\n\s*(?=</?(?:p|div|section|fieldset|form|ul|ol|li|dl|dt|dd|h[1-6]|main|header|footer|nav|article|details"
    r"|summary|head|body|optgroup|select|option|meta|link|script|title|legend)[\s>])"
)


_PLACEHOLDER = re.compile(r"\{(rule|id|label|legend):([a-z_]+)\}")


def placeholder_values(export: dict) -> dict[str, dict[str, object]]:
    """What each kind of placeholder can name in the definition's export, by name."""
    return {
        "rule": export["rules"],
        "id": export["public_id"],
        "label": {item["name"]: item["label"] for item in export["fields"] + export["composites"]},
        "legend": {group["key"]: group["legend"] for group in export["groups"]},
    }


def fill_placeholders(text: str, where: Path | str, *, script: bool = False) -> str:
    """Every placeholder replaced by its value in api/definition.json (see the module docstring)."""
    from api.definition import EXPORT_PATH

    values = placeholder_values(json.loads(EXPORT_PATH.read_text(encoding="utf-8")))

    def value(match: re.Match) -> str:
        group = values[match.group(1)]
        if match.group(2) not in group:
            raise SystemExit(f"{where}: unknown placeholder {match.group(0)}")
        text = str(group[match.group(2)])
        return json.dumps(text)[1:-1] if script else html.escape(text)

    return _PLACEHOLDER.sub(value, text)


def build(output: Path | str = DEFAULT_OUTPUT, *, use_cache: bool = True) -> Path:
    """Build the site into `output` (replaced if it holds a previous build) and return its path. `use_cache=False`
    minifies every script again (and refreshes the cache)."""
    from pelican import Pelican
    from pelican.settings import read_settings

    from api.definition import write_export

    output = Path(output).resolve()
    write_export()
    _clear(output)
    settings = read_settings(str(SITE / "pelicanconf.py"), override={"OUTPUT_PATH": str(output)})
    Pelican(settings).run()
    _fingerprint(output, use_cache=use_cache)
    return output


def _clear(output: Path) -> None:
    if not output.exists():
        return
    if any(output.iterdir()) and not (output / "index.html").exists():
        raise SystemExit(f"refusing to replace {output}: it is not empty and does not look like a site build")
    shutil.rmtree(output)


def _hashed_name(path: Path, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()[:10]
    return path.with_name(f"{path.stem}.{digest}{path.suffix}")


def _rewrite(text: str, manifest: dict[str, str], where: Path) -> str:
    def swap(match: re.Match) -> str:
        url = match.group(0)
        if url not in manifest:
            raise SystemExit(f"{where}: reference to a missing theme file {url}")
        return manifest[url]

    return _THEME_REF.sub(swap, text)


def _minify_css(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,])\s*", r"\1", text)
    return re.sub(r":\s+", ":", text).replace(";}", "}").strip() + "\n"


def _minify_js(text: str, where: Path, *, use_cache: bool = True) -> str:
    """Parse as ES5 and print minified, local names shortened (top-level names are shared between scripts). A result
    is kept under the hash of the text, the minifier's version and its options; only a script that parsed is kept."""
    from importlib.metadata import version

    key = hashlib.sha256(f"{version('calmjs.parse')}\n{_MINIFY_OPTIONS}\n{text}".encode()).hexdigest()
    kept = CACHE / f"{key}.js"
    if use_cache and kept.is_file():
        return kept.read_text(encoding="utf-8")
    minified = _minify_js_now(text, where)
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        partial.write_text(minified, encoding="utf-8")
        os.replace(partial, kept)  # whole or absent, even with two builds at once
    except OSError:
        pass  # a read-only checkout builds without a cache
    return minified


def _minify_js_now(text: str, where: Path) -> str:
    from calmjs.parse import es5
    from calmjs.parse.exceptions import ECMASyntaxError
    from calmjs.parse.unparsers.es5 import minify_print

    try:
        program = es5(text)
    except ECMASyntaxError as error:
        raise SystemExit(f"{where}: not valid ES5 (the site's scripts are plain ES5): {error}") from None
    return minify_print(program, obfuscate=True, obfuscate_globals=False) + "\n"


def _fingerprint(output: Path, *, use_cache: bool = True) -> dict[str, str]:
    """Rename theme assets with a content hash and point every page at the new names."""
    manifest: dict[str, str] = {}
    files = sorted(p for p in (output / "theme").rglob("*") if p.is_file())
    # Stylesheets and scripts may refer to other assets, so they are rewritten after those are renamed.
    files.sort(key=lambda p: p.suffix in (".css", ".js"))
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".css":
            data = _minify_css(_rewrite(data.decode("utf-8"), manifest, path)).encode("utf-8")
        elif path.suffix == ".js":
            script = fill_placeholders(_rewrite(data.decode("utf-8"), manifest, path), path, script=True)
            data = _minify_js(script, path, use_cache=use_cache).encode("utf-8")
        target = _hashed_name(path, data)
        target.write_bytes(data)
        path.unlink()
        manifest["/" + path.relative_to(output).as_posix()] = "/" + target.relative_to(output).as_posix()
    for page in output.rglob("*.html"):
        text = fill_placeholders(_rewrite(page.read_text(encoding="utf-8"), manifest, page), page)
        page.write_text(_BLOCK_BREAK.sub(">", re.sub(r"\n\s*\n", "\n", text)), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="output directory (default: output/)")
    parser.add_argument("--no-cache", action="store_true", help="minify every script again (var/build-cache/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    started = time.monotonic()
    output = build(args.output, use_cache=not args.no_cache)
    pages = sum(1 for _ in output.rglob("*.html"))
    print(f"Built {pages} pages into {output} in {time.monotonic() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
