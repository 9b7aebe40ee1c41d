"""The HTML shell of the doubles' own pages (the test checkout page, the local mailbox): a plain document with a
"Test mode" banner, served with its own policy and never cached. Callers escape what they put in `body`."""

from __future__ import annotations

import html

import falcon


def send_page(resp: falcon.Response, *, status: int, title: str, body: str, banner: str, style: str, csp: str) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Content-Security-Policy", csp)
    resp.set_header("Cache-Control", "no-store")
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Referrer-Policy", "no-referrer")
    resp.text = (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="referrer" content="no-referrer">\n<title>{html.escape(title)}</title>\n'
        f"<style>{style}</style>\n</head>\n<body>\n<main>\n"
        f'<p class="banner" role="note">{html.escape(banner)}</p>\n'
        f"{body}\n</main>\n</body>\n</html>\n"
    )
