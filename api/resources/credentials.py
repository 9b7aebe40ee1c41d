"""/.well-known/did.json: the registry's DID document (its signing keys, current and retired).

HTTP only; the keys and the document's shape live in `api.signing`. Public, cacheable data that browser-based
verifiers on other origins may read (CORS `*`).
"""

from __future__ import annotations

import json

from .. import signing
from .common import Resource

PUBLIC_DATA_MAX_AGE = 300


def allow_any_origin(resp) -> None:
    resp.set_header("Access-Control-Allow-Origin", "*")


class DidDocument(Resource):
    def on_get(self, req, resp):
        keys = self._ctx.signing_keys
        resp.text = json.dumps(signing.did_document(keys.did, keys.published()), indent=2)
        resp.content_type = "application/did+json"
        resp.set_header("Cache-Control", f"public, max-age={PUBLIC_DATA_MAX_AGE}")
        allow_any_origin(resp)
