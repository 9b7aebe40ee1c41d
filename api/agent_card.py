"""The certificate travels with the agent: its A2A Agent Card carries a GhostShell claim, and anyone can check it.

The claim is an entry of the card's `capabilities.extensions` (A2A `AgentExtension`: `uri`, `description`,
`required`, `params`) under the stable extension URI `EXTENSION_URI` (docs/agent-card-extension.md):

    {"uri": EXTENSION_URI, "description": "...", "required": false,
     "params": {"registry": BASE_URL, "public_id": ID, "public_url": ".../r/ID",
                "credential_url": ".../api/cert/credential?id=ID"}}

`GET /api/cert/agent-card-extension?id=` (api/guidance.py) gives that entry, and the entry for an ERC-8004
registration file's `registrations` list.

`python -m api verify --agent-card FILE_OR_URL [--base URL]` checks a card: the claim is present and well formed,
its credential URL is the registry's own for that public id, the credential verifies (signature by a key of the
registry's DID document, valid at issuance, current, not revoked: `api/verifier.py`), and the credential's agent
name is the card's `name`. `--base` pins the registry the claim must name. Exit 0 valid, 1 not, 2 usage error.
Like the verifier, this module imports nothing of the server.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse

from . import verifier

EXTENSION_URI = "https://ghostshell.host/ext/birth-certificate/v1"
EXTENSION_DESCRIPTION = "GhostShell Registry birth certificate: a signed, publicly verifiable record of inception."


def credential_url(base_url: str, public_id: str) -> str:
    """The latest credential of a record: the URL a claim must carry."""
    return f"{base_url}/api/cert/credential?{urllib.parse.urlencode({'id': public_id})}"


def extension_entry(base_url: str, public_id: str) -> dict:
    return {
        "uri": EXTENSION_URI,
        "description": EXTENSION_DESCRIPTION,
        "required": False,
        "params": {
            "registry": base_url,
            "public_id": public_id,
            "public_url": f"{base_url}/r/{public_id}",
            "credential_url": credential_url(base_url, public_id),
        },
    }


def find_claim(card) -> dict | None:
    """The card's GhostShell extension entry, or None."""
    if not isinstance(card, dict):
        return None
    capabilities = card.get("capabilities")
    extensions = capabilities.get("extensions") if isinstance(capabilities, dict) else None
    for entry in extensions if isinstance(extensions, list) else []:
        if isinstance(entry, dict) and entry.get("uri") == EXTENSION_URI:
            return entry
    return None


def check_card(card, credential: dict, report: verifier.Report, claim: dict) -> list[verifier.Check]:
    """The card-side checks, once the credential has been fetched and verified."""
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    subject = subject if isinstance(subject, dict) else {}
    params = claim["params"]
    card_name = card.get("name") if isinstance(card, dict) else None
    return [
        verifier.Check(
            "record",
            subject.get("public_id") == params["public_id"],
            f"credential of {subject.get('public_id')!r}, claim names {params['public_id']!r}",
        ),
        verifier.Check(
            "credential",
            report.valid,
            f"the credential is {report.status}",
        ),
        verifier.Check(
            "agent name",
            isinstance(card_name, str) and card_name.strip() == str(subject.get("agent_name", "")).strip(),
            f"card name {card_name!r}, certificate name {subject.get('agent_name')!r}",
        ),
    ]


def _claim_params(claim: dict | None, pinned_base: str | None) -> dict:
    if claim is None:
        raise verifier.UsageError(f"the card has no capabilities.extensions entry with uri {EXTENSION_URI}")
    params = claim.get("params")
    if not isinstance(params, dict) or not all(
        isinstance(params.get(key), str) and params[key] for key in ("registry", "public_id", "credential_url")
    ):
        raise verifier.UsageError("the GhostShell claim needs params registry, public_id and credential_url")
    base = params["registry"].rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise verifier.UsageError("the claim's registry must be an http(s) URL")
    if pinned_base is not None and base != pinned_base.rstrip("/"):
        raise verifier.UsageError(f"the claim names the registry {base}, not {pinned_base.rstrip('/')}")
    # The credential must come from the registry itself, for the record the claim names.
    if params["credential_url"] != credential_url(base, params["public_id"]):
        raise verifier.UsageError("the claim's credential_url is not the registry's URL for its public id")
    return {**params, "registry": base}


def _load_card(source: str):
    if urllib.parse.urlsplit(source).scheme in ("http", "https"):
        return verifier._fetch_json(source)
    return verifier._read_json(source)


def main(argv=None, out=None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m api verify --agent-card",
        description="Check an A2A Agent Card's GhostShell claim: a valid, unrevoked credential whose agent name is "
        "the card's name. Exit status: 0 valid, 1 invalid, 2 usage error.",
    )
    parser.add_argument("--agent-card", required=True, metavar="FILE_OR_URL", help="the agent card (JSON)")
    parser.add_argument("--base", help="the registry the claim must name (default: the one it names)")
    args = parser.parse_args(argv)
    try:
        card = _load_card(args.agent_card)
        params = _claim_params(find_claim(card), args.base)
        online = argparse.Namespace(id=params["public_id"], base=params["registry"], version=None)
        credential, keys, lists, issuer = verifier._online(online)
    except verifier.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return verifier.USAGE_ERROR
    report = verifier.verify_credential(credential, keys, lists, issuer=issuer)
    checks = [*report.checks, *check_card(card, credential, report, {"params": params})]
    print(f"agent card  {card.get('name')!r}  claims {params['public_id']} at {params['registry']}", file=out)
    for check in checks:
        mark = {True: "pass", False: "FAIL", None: "skip"}[check.ok]
        print(f"{mark}  {check.name}: {check.detail}", file=out)
    valid = all(check.ok is not False for check in checks) and report.valid
    print(f"result: {'valid' if valid else 'invalid'}", file=out)
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
