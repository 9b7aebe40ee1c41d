"""schemathesis against a real server, on SQLite and on PostgreSQL: every operation of /api/openapi.json, generated
valid and invalid requests, `--checks all` (server errors, status codes, content types, response schemas, headers,
accepted valid data, rejected invalid data, auth, methods). Zero failures is the contract (issue 9).

Examples per operation are bounded (SCHEMATHESIS_EXAMPLES, default 10) so the whole CI run stays well under ten
minutes; the seed is fixed so a failure reproduces, and moves with SCHEMATHESIS_SEED for wider exploration.
Settings that are the API's own (for example which statuses a valid request may get) are in schemathesis.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from .support import REPO
from .test_crashes import FIELDS

EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "10")
SEED = os.environ.get("SCHEMATHESIS_SEED", "9")


def run_schemathesis(server, tmp_path, config: Path, *extra: str) -> str:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        server.url + "/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",  # with 2, hypothesis' lambda descriptions race in ast.parse (SystemError) on Python 3.11
        "--no-color",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
        *extra,
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=400)
    output = result.stdout + result.stderr
    print(output[-6000:])  # the summary is shown with -s or on failure
    assert result.returncode == 0, output[-12000:] + "\n--- server log ---\n" + server.log()[-4000:]
    assert "No issues found" in output or " passed" in output, output[-3000:]
    return output


def test_schemathesis_finds_no_server_error_and_no_contract_violation(start_server, database, tmp_path):
    server = start_server(database, OPS_SECRET="fault-suite-ops-secret")
    run_schemathesis(server, tmp_path, REPO / "schemathesis.toml")


def test_schemathesis_as_a_holder_with_a_real_record(start_server, database, tmp_path):
    """The same run, past the doors: a paid token (redeemed, so it holds a record) is the bearer of every request
    and often the body's token, and the record's public id is often the `id` asked for. Generated requests then
    reach the record routes, corrections and the agent-token operations instead of stopping at 401 or 404."""
    server = start_server(database, OPS_SECRET="fault-suite-ops-secret")
    token = requests.post(server.url + "/api/cert/test-checkout", json={"recovery_email": "fuzz@example.com"})
    assert token.status_code == 201, token.text
    token = token.json()["token"]
    issued = requests.post(server.url + "/api/cert/redeem-token", json={"token": token, **FIELDS})
    assert issued.status_code == 201, issued.text
    public_id = issued.json()["public_id"]
    config = tmp_path / "schemathesis.toml"
    shared = (REPO / "schemathesis.toml").read_text()
    assert shared.count("\n[parameters]\n") == 1, "the holder's bindings join the shared [parameters] table"
    config.write_text(
        shared.replace(
            "\n[parameters]\n",
            f"""
[dictionaries.tokens]
values = [{json.dumps(token)}]
[dictionaries.ids]
values = [{json.dumps(public_id)}]
[parameters]
"body.token" = {{ dictionary = "tokens", probability = 0.7 }}
"query.id" = {{ dictionary = "ids", probability = 0.7 }}
""",
        )
    )
    run_schemathesis(server, tmp_path, config, "--header", f"Authorization: Bearer {token}")
    # The run reached the record: it is still whole and still the token's.
    record = requests.get(server.url + "/api/cert/private", headers={"Authorization": f"Bearer {token}"})
    assert record.status_code == 200 and record.json()["certificate"]["public_id"] == public_id, record.text
