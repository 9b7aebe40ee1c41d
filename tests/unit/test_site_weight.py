"""Page weight: every built page with the stylesheets, scripts, fonts and images it loads stays within its byte
budget, and no page is heavier than the original registry's same page (issue 13's budget). Prints the figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import build
from api import badges

EVERY_PAGE = 30_000
# The original's own weights for the same pages: ours may not exceed them.
ORIGINAL = {"register/index.html": 24_200, "handoff/index.html": 18_787}
# Images the API draws for a page: the certificates carry the QR code to the public record (a long base URL and a
# six-character record number: larger than any real one for years), the record page also shows the badge.
QR_CODE = len(badges.qr_svg("https://registry.ghostshell.example/r/GS-BC-H-26-ZZZZZZ").encode("utf-8"))
BADGE = len(badges.badge_svg("GS-BC-H-26-ZZZZZZ", "valid").encode("utf-8"))  # the record page's badge preview
API_IMAGES = {"r/index.html": QR_CODE + BADGE, "p/index.html": QR_CODE}
ASSET = re.compile(r"""<(?:link|script|img)\b[^>]*?\b(?:href|src)="(/theme/[^"]+)\"""")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build.build(tmp_path_factory.mktemp("weight") / "output")


def weight(site: Path, page: Path) -> tuple[int, dict[str, int]]:
    html = page.read_bytes()
    assets = {ref: (site / ref.lstrip("/")).stat().st_size for ref in set(ASSET.findall(html.decode("utf-8")))}
    name = page.relative_to(site).as_posix()
    return len(html) + sum(assets.values()) + API_IMAGES.get(name, 0), assets


def test_every_page_is_within_its_budget(site, capsys):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 9
    over = []
    with capsys.disabled():
        print("\npage weights (HTML + its CSS, JS, fonts and images, the QR code included), bytes:")
        for page in pages:
            name = page.relative_to(site).as_posix()
            total, _ = weight(site, page)
            budget = ORIGINAL.get(name, EVERY_PAGE)
            print(f"  {total:>7,}  / {budget:>7,}  {name}")
            if total > budget:
                over.append(f"{name}: {total} > {budget}")
    assert not over, over


def test_weights_count_every_asset_a_page_loads(site):
    total, assets = weight(site, site / "r" / "index.html")
    kinds = {Path(ref).suffix for ref in assets}
    assert {".css", ".js", ".svg"} <= kinds
    assert total > sum(assets.values())
