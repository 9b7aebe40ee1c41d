"""Images of a record as SVG text (no raster): its QR code and its badge. Pure functions.

- `qr_svg(url)`: a QR code (segno, ISO/IEC 18004, error correction at least M) that encodes the public record URL.
  Black modules on a transparent ground, scaled so that one module is 4 units, with a quiet zone of 4 modules as
  the standard asks.
- `badge_svg(public_id, status)`: a small two-part label, "GhostShell Registry | <public id> · <status>", for
  READMEs and agent cards. Flat, two colours, no gradient; a revoked record reads "revoked" on a dark red ground.
Every piece of text is XML-escaped.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape, quoteattr

import segno

INK = "#1b1b1b"
REVOKED = "#7a1f1f"
LABEL = "GhostShell Registry"
_CHAR_WIDTH = 6.6  # average advance of an 11px sans-serif glyph
_PAD = 6


def qr_svg(url: str, *, scale: int = 4) -> str:
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=scale,
        border=4,
        dark=INK,
        light=None,
        xmldecl=False,
        svgclass="qr",
        lineclass=None,
        title=f"QR code: {url}",
    )
    svg = out.getvalue().decode("utf-8")
    return svg.replace("<svg ", '<svg role="img" aria-label=' + quoteattr(f"QR code linking to {url}") + " ", 1)


def _width(text: str) -> int:
    return round(len(text) * _CHAR_WIDTH) + 2 * _PAD


def badge_svg(public_id: str, status: str) -> str:
    value = f"{public_id} · {status}"
    left, right = _width(LABEL), _width(value)
    total = left + right
    ground = REVOKED if status == "revoked" else INK
    text = f"{LABEL}: {value}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" viewBox="0 0 {total} 20" '
        f'role="img" aria-label={quoteattr(text)}>'
        f"<title>{escape(text)}</title>"
        f'<rect width="{left}" height="20" fill="#f4f1ea"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{ground}"/>'
        f'<rect x="0.5" y="0.5" width="{total - 1}" height="19" fill="none" stroke="{INK}"/>'
        f'<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{_PAD}" y="14" fill="{INK}">{escape(LABEL)}</text>'
        f'<text x="{left + _PAD}" y="14" fill="#ffffff">{escape(value)}</text>'
        f"</g></svg>"
    )
