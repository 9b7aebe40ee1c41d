"""/api/cert/record-page/{public_id}: the public record page with the record's own head (api/share.py).

netlify.toml proxies /r/<id> here; the local server forwards the same path through the same rule. The answer is
a document, so it carries the site's own headers for /r/<id> from netlify.toml (its policy allows the page's
scripts and styles), not the API's data-only policy.
"""

from __future__ import annotations

import falcon

from .. import certificates, links, public_id, share
from ..errors import RegistryError
from .common import Resource


class RecordPage(Resource):
    def __init__(self, ctx, limiter, site_dir):
        super().__init__(ctx, limiter)
        self._shell = share.RecordShell(site_dir)
        self._headers = share.site_headers("/r/" + public_id.EXAMPLE)  # the same rules for every /r/<id>

    def on_get(self, req, resp, public_id):
        shell = self._shell.html()
        if shell is None or self._headers is None:
            raise falcon.HTTPFound("/r/?id=" + falcon.uri.encode_value(public_id))
        record, max_age = None, 60
        try:
            self.limit(req, "lookup")
            found = certificates.lookup(self._ctx, public_id)
            record, max_age = found.record, found.max_age
        except RegistryError as error:
            if error.code not in ("not_found", "missing_id", "rate_limited"):
                raise
            # The page still answers (its own script reports what happened); only the head stays generic.
            resp.status = falcon.HTTP_404 if error.code == "not_found" else falcon.HTTP_200
        shown_id = record["public_id"] if record else public_id
        url = links.public_url(self._ctx.config.base_url, shown_id)
        resp.context.site_page = True
        for name, value in self._headers.items():
            resp.set_header(name, value)
        resp.set_header("Cache-Control", f"public, max-age={max_age}")
        resp.content_type = "text/html; charset=utf-8"
        resp.text = share.render(shell, record, shown_id, url)
