"""/api/log/checkpoint, /api/log/key, /api/log/entries, /api/log/proof/inclusion, /api/log/proof/consistency,
/api/cert/log: the transparency log over HTTP.

HTTP only: parameters are validated and bounded in `api.transparency`, which answers. Public, rate-limited in the
`log` bucket, readable from other origins (CORS `*`) so that monitors and browser verifiers can use it.
"""

from __future__ import annotations

from .. import transparency
from .common import Resource

CHECKPOINT_MAX_AGE = 5  # the checkpoint moves: a few seconds at most (C2SP tlog-tiles)
PROOF_MAX_AGE = 3600  # entries and proofs for a given size never change


def _public(resp, max_age: int) -> None:
    resp.set_header("Cache-Control", f"public, max-age={max_age}")
    resp.set_header("Access-Control-Allow-Origin", "*")


def _text(resp, body: str, max_age: int) -> None:
    resp.text = body
    resp.content_type = "text/plain; charset=utf-8"
    _public(resp, max_age)


class Checkpoint(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        _text(
            resp, transparency.signed_checkpoint(self._ctx.config.base_url, self._ctx.signing_keys), CHECKPOINT_MAX_AGE
        )


class VerifierKey(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        verifier = transparency.signer(self._ctx.config.base_url, self._ctx.signing_keys).verifier
        _text(resp, verifier.encode() + "\n", CHECKPOINT_MAX_AGE)


class Entries(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        resp.media = transparency.entries_page(req.get_param("start"), req.get_param("end"))
        _public(resp, PROOF_MAX_AGE)


class InclusionProof(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        resp.media = transparency.inclusion_answer(req.get_param("index"), req.get_param("size"))
        _public(resp, PROOF_MAX_AGE)


class ConsistencyProof(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        resp.media = transparency.consistency_answer(req.get_param("first"), req.get_param("second"))
        _public(resp, PROOF_MAX_AGE)


class RecordLog(Resource):
    def on_get(self, req, resp):
        self.limit(req, "log")
        resp.media = transparency.record_answer(self._ctx.config.base_url, self._ctx.signing_keys, req.get_param("id"))
        _public(resp, CHECKPOINT_MAX_AGE)
