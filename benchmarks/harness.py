"""`benchmarks/run`: the registry beside bare references, in one run, on one machine; prints figures only.

    benchmarks/run [--seconds 5] [--rounds 3] [--records 1000000] [--filler 10000] [--skip-search] [--skip-site]

What it does:
1. Fills a new SQLite database (`--filler` certificates, one issued record to read, paid tokens, pending Stripe
   checkouts), then starts `python -m api serve` on it (rate limits off) and `benchmarks/references.py` (a bare
   Falcon JSON route and a bare Falcon + Peewee one-row insert) with the same waitress settings, on 127.0.0.1.
2. Loads each route with wrk (2 threads), `--rounds` times, each run of a registry route right after a run of
   its reference, and prints one table: median req/s, p50 and p99 of the median round, and the ratio to the
   reference at the same number of connections (the median of each pair's ratio, so that a machine whose speed
   drifts during the run weighs on both sides alike). Reads run at 8 connections; first submissions and corrections
   at 16 (every request a distinct paid token, or a distinct issued one); the webhook at 4 (every request a
   distinct signed `checkout.session.completed`).
3. Checks the card numbers the first submissions took: no duplicate, no gap.
4. Times the site build and prints each page's weight with its assets; runs `benchmarks/search.py` (the search
   and lookup cost at 10 k and at `--records` certificates).

It asserts nothing. On a shared machine absolute figures wander; the ratios, measured side by side, are the
figures to compare (docs/performance.md).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import certificates, purchases  # noqa: E402
from api.config import Config  # noqa: E402
from api.context import Context  # noqa: E402
from api.crypto import new_token  # noqa: E402
from api.migrations import migrate  # noqa: E402
from api.models import CardCounter, Certificate, Purchase  # noqa: E402
from benchmarks.search import fill  # noqa: E402

PYTHON = sys.executable
WRK_SCRIPT = ROOT / "benchmarks" / "wrk.lua"
WEBHOOK_SECRET = "whsec_benchmark_0123456789abcdef"
READ_CONNECTIONS = 8
SUBMIT_CONNECTIONS = 16
WEBHOOK_CONNECTIONS = 4
EMAIL = "bench@example.com"

# route -> (target ratio to its reference, or None when the issue sets none)
TARGETS = {
    "health": 0.8,
    "lookup": 0.8,
    "search (id)": 0.5,
    "search (name)": 0.5,
    "token-status": 0.5,
    "handoff": None,
    "first submission": 0.5,
    "correction": None,
    "webhook": 0.5,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered at {url}")


def fail_with_log(work: Path, name: str, error: BaseException) -> None:
    log = work / name
    print(f"{error}\n--- {log}:\n" + (log.read_text()[-3000:] if log.exists() else "(no log)"), file=sys.stderr)


class Servers:
    """The registry and the references, started and always stopped."""

    def __init__(self, work: Path, env: dict):
        self.work = work
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def start(self, args: list[str], log_name: str, env: dict | None = None) -> int:
        """Start a server; returns its process id."""
        log = open(self.work / log_name, "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process.pid

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class Fixture:
    """What the loads need in the registry's database, written before the server starts."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.sessions_used = 0

    def fill(self, filler: int) -> None:
        migrate(self.ctx.db)
        if filler:
            fill(self.ctx.db, filler)
            year = 2026
            CardCounter.insert(year=year, seq=filler).on_conflict_replace().execute()

    def reader_record(self) -> None:
        """One issued, listed record (lookup, search, token-status) and one paid checkout bound to a browser."""
        ctx = self.ctx
        self.token = purchases.test_checkout(ctx, EMAIL)
        issued = certificates.redeem(
            ctx,
            {
                "token": self.token,
                "agent_name": "Benchmark Reader",
                "declared_ontological_status": "Tool",
                "inception_date": "2026-01-01",
                "place_country": "Australia",
                "listed": True,
            },
        )
        self.public_id = issued.certificate.public_id
        self.binding = ctx.keyring.new_binding()
        handoff_token = new_token(ctx.random_bytes)
        purchases._new_purchase(
            ctx,
            EMAIL,
            handoff_token,
            status="paid",
            paid_at=ctx.clock(),
            stripe_session_id="cs_bench_handoff",
            handoff_binding_hash=ctx.keyring.binding_hash(self.binding),
            handoff_token_enc=ctx.keyring.seal_for_binding(self.binding, handoff_token),
        )

    def _purchases(self, count: int, **fields) -> list[str]:
        ctx = self.ctx
        keyring = ctx.keyring
        email_enc = keyring.seal(purchases.EMAIL_PURPOSE, EMAIL)
        email_hash = keyring.email_hash(EMAIL)
        now = ctx.clock()
        tokens, rows = [], []
        for _ in range(count):
            token = new_token(ctx.random_bytes)
            tokens.append(token)
            row = dict(
                ref=purchases._new_ref(ctx),
                token_hash=keyring.token_hash(token),
                token_last4=token[-4:],
                email_hash=email_hash,
                email_enc=email_enc,
                created_at=now,
                **fields,
            )
            if fields.get("status") == "pending":
                row["token_enc"] = keyring.seal(purchases.TOKEN_PURPOSE, token)
                row["stripe_session_id"] = f"cs_bench_{row['ref']}"
            rows.append(row)
        with ctx.db.atomic():
            for start in range(0, len(rows), 500):
                Purchase.insert_many(rows[start : start + 500]).execute()
        return tokens

    def paid_tokens(self, count: int) -> list[str]:
        return self._purchases(count, status="paid", paid_at=self.ctx.clock())

    def pending_sessions(self, count: int) -> list[tuple[str, str]]:
        self._purchases(count, status="pending")
        query = Purchase.select(Purchase.ref, Purchase.stripe_session_id).where(
            Purchase.status == "pending", Purchase.stripe_session_id.startswith("cs_bench_pur_")
        )
        return [(row.ref, row.stripe_session_id) for row in query]

    def issued_tokens(self, tokens: list[str]) -> list[str]:
        """The tokens of `tokens` that issued a certificate (each one can still be corrected)."""
        by_hash = {self.ctx.keyring.token_hash(token): token for token in tokens}
        self.ctx.db.close()
        hashes = list(by_hash)
        found = []
        for start in range(0, len(hashes), 500):
            query = Purchase.select(Purchase.token_hash).where(
                Purchase.token_hash.in_(hashes[start : start + 500]), Purchase.certificate.is_null(False)
            )
            found.extend(by_hash[row.token_hash] for row in query)
        return found


def submission_body(token: str, name: str) -> str:
    return json.dumps(
        {
            "token": token,
            "agent_name": name,
            "declared_ontological_status": "Tool",
            "inception_date": "2026-01-01",
            "place_country": "Australia",
            "listed": True,
        }
    )


def signed_events(sessions: list[tuple[str, str]], label: str) -> list[str]:
    import stripe

    lines = []
    stamp = int(time.time())
    for index, (ref, session_id) in enumerate(sessions):
        payload = json.dumps(
            {
                "id": f"evt_bench_{label}_{index}",
                "object": "event",
                "type": "checkout.session.completed",
                "created": stamp,
                "livemode": False,
                "data": {
                    "object": {
                        "id": session_id,
                        "object": "checkout.session",
                        "client_reference_id": ref,
                        "payment_status": "paid",
                        "status": "complete",
                        "amount_total": 999,
                        "payment_intent": f"pi_bench_{index}",
                    }
                },
            },
            separators=(",", ":"),
        )
        signature = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET, timestamp=stamp)
        lines.append(f"{signature}\t{payload}")
    return lines


class Loader:
    def __init__(self, work: Path, seconds: float):
        self.work = work
        self.seconds = seconds
        self.batch = 0

    def run(
        self,
        url: str,
        connections: int,
        *,
        method: str = "GET",
        headers: dict | None = None,
        lines: list[str] | None = None,
        line_header: str | None = None,
        server: int | None = None,
    ) -> dict:
        """wrk's figures for one run; with `server` (a process id), also that process's CPU time per request."""
        env = dict(os.environ, BENCH_METHOD=method, BENCH_SAMPLE_ERRORS="1")
        if lines is not None:
            self.batch += 1
            prefix = self.work / f"lines-{self.batch}"
            for thread in range(2):
                Path(f"{prefix}.{thread}").write_text("\n".join(lines[thread::2]) + "\n")
            env["BENCH_LINES"] = str(prefix)
        if line_header:
            env["BENCH_LINE_HEADER"] = line_header
        command = [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(self.seconds)}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
        ]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        cpu_before = process_cpu_seconds(server) if server else 0.0
        output = subprocess.run(command + [url], env=env, capture_output=True, text=True, check=True).stdout
        cpu = process_cpu_seconds(server) - cpu_before if server else 0.0
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        figures = json.loads(line[len("BENCH ") :])
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        figures["samples"] = [line[len("SAMPLE ") :] for line in output.splitlines() if line.startswith("SAMPLE ")]
        figures["cpu_us"] = cpu * 1e6 / figures["requests"] if figures["requests"] else 0.0
        return figures


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, every thread included (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Table:
    """Each run of a route is paired with the run of its reference made just before it; the ratio is the median of
    the pairs' ratios, so a machine whose speed drifts during the minutes of a benchmark (a shared host does)
    weighs on both sides of each pair alike."""

    def __init__(self):
        self.runs: dict[str, list[dict]] = {}
        self.reference_of: dict[str, str] = {}
        self.paired: dict[str, list[dict]] = {}
        self.connections: dict[str, int] = {}

    def add(self, route: str, figures: dict, connections: int, reference: tuple[str, dict] | None = None) -> None:
        """A run of `route`; `reference`: the name and the figures of the reference run made just before it."""
        self.runs.setdefault(route, []).append(figures)
        self.connections[route] = connections
        if reference:
            self.reference_of[route] = reference[0]
            self.paired.setdefault(route, []).append(reference[1])

    def median_run(self, route: str) -> dict:
        runs = sorted(self.runs[route], key=lambda figures: figures["rps"])
        return runs[len(runs) // 2]

    def print(self) -> None:
        header = (
            f"{'route':<24}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'non-2xx':>9}{'CPU µs':>8}   {'reference':<22}{'ref req/s':>10}{'ratio':>7}{'target':>8}"
        )
        print(header)
        print("-" * len(header))
        for route in self.runs:
            run = self.median_run(route)
            line = (
                f"{route:<24}{self.connections[route]:>6}{statistics.median(r['rps'] for r in self.runs[route]):>9,.0f}"
                f"{run['p50_us'] / 1000:>9.2f}{run['p99_us'] / 1000:>9.2f}{run['max_us'] / 1000:>9.1f}"
                f"{sum(r['non2xx'] + r['socket_errors'] for r in self.runs[route]):>9}"
                f"{statistics.median(r['cpu_us'] for r in self.runs[route]):>8,.0f}"
            )
            reference = self.reference_of.get(route)
            if reference:
                pairs = zip(self.runs[route], self.paired[route], strict=True)
                ratio = statistics.median(mine["rps"] / theirs["rps"] for mine, theirs in pairs)
                theirs = statistics.median(r["rps"] for r in self.paired[route])
                target = TARGETS.get(route)
                line += f"   {reference:<22}{theirs:>10,.0f}{ratio:>7.2f}"
                line += f"{'≥ ' + format(target, '.1f') if target else '—':>8}"
            print(line)
        for route, runs in self.runs.items():
            for sample in sorted({sample for run in runs for sample in run["samples"]}):
                print(f"  {route}: an answer that was not 2xx: {sample}")


def check_card_numbers(db, filler: int) -> str:
    seqs = [row.card_seq for row in Certificate.select(Certificate.card_seq).where(Certificate.card_seq > filler)]
    db.close()
    if not seqs:
        return "no certificates issued"
    duplicates = len(seqs) - len(set(seqs))
    expected = set(range(filler + 1, max(seqs) + 1))
    skipped = len(expected - set(seqs))
    return f"{len(seqs):,} certificates issued under load: {duplicates} duplicate and {skipped} skipped card numbers"


def site_figures(work: Path) -> None:
    from build import _THEME_REF

    output = work / "site"
    timings = []
    for extra in (["--no-cache"], []):  # every script minified again, then the usual build (scripts unchanged)
        started = time.perf_counter()
        subprocess.run([PYTHON, "build.py", "--output", str(output), *extra], cwd=ROOT, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    print(
        f"\nsite build (python build.py, a new process): {timings[1]:.2f} s; "
        f"{timings[0]:.2f} s with --no-cache (every script minified again)"
    )
    print(f"{'page':<32}{'bytes':>9}{'gzip':>8}   (the HTML with every /theme/ asset it references)")
    for page in sorted(output.rglob("*.html")):
        html = page.read_bytes()
        assets = {ref for ref in _THEME_REF.findall(html.decode("utf-8"))}
        total = len(html) + sum((output / ref.lstrip("/")).stat().st_size for ref in assets)
        packed = len(gzip.compress(html)) + sum(
            len(gzip.compress((output / ref.lstrip("/")).read_bytes())) for ref in assets
        )
        print(f"{str(page.relative_to(output)):<32}{total:>9,}{packed:>8,}")


def search_figures(records: int) -> None:
    print(f"\nsearch and lookup in process (benchmarks/search.py --records {records} --compare-at 10000)")
    subprocess.run(
        [PYTHON, "benchmarks/search.py", "--records", str(records), "--compare-at", "10000"], cwd=ROOT, check=True
    )


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per route; the table shows the medians")
    parser.add_argument("--filler", type=int, default=10_000, help="certificates in the database before the loads")
    parser.add_argument("--records", type=int, default=1_000_000, help="size of the in-process search benchmark")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-site", action="store_true")
    parser.add_argument("--only", help="comma-separated route names (default: all)")
    parser.add_argument("--threads", type=int, help="waitress worker threads, for both servers (default: serve's)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="ghostshell-bench-"))
    port, reference_port = free_port(), free_port()
    base, reference = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{reference_port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GHOSTSHELL_", "STRIPE_", "RESEND_", "DATABASE_URL", "BASE_URL"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{work}/registry.db",
        BASE_URL=base,
        GHOSTSHELL_SECRET_KEY="benchmark-secret-key-0123456789-abcdefghij",
        EMAIL_ENC_KEY=base64.b64encode(bytes(range(32))).decode(),
        GHOSTSHELL_SIGNING_KEY=base64.b64encode(bytes(range(64, 96))).decode(),
        # A Stripe key keeps the local doubles out of the way; no route under load calls Stripe.
        STRIPE_SECRET_KEY="sk_test_benchmark",
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        GHOSTSHELL_RATE_LIMIT="off",
    )
    config = Config.from_env(env, dev_keys_path=work / "dev-keys.json")
    ctx = Context.build(config)
    fixture = Fixture(ctx)
    rounds, seconds = args.rounds, args.seconds
    only = set(args.only.split(",")) if args.only else None

    def wanted(route: str) -> bool:
        return only is None or route in only

    print(f"load average at the start (1, 5, 15 min): {load_average()}", flush=True)
    print(f"preparing: {args.filler:,} certificates, tokens and checkouts in {work}", flush=True)
    fixture.fill(args.filler)
    fixture.reader_record()
    per_round = int(seconds * 3000)
    token_rounds = [fixture.paid_tokens(per_round) for _ in range(rounds)] if wanted("first submission") else []
    sessions = fixture.pending_sessions(int(seconds * 2500) * rounds) if wanted("webhook") else []
    ctx.db.close()

    servers = Servers(work, env)
    loader = Loader(work, seconds)
    table = Table()
    try:
        threads = ["--threads", str(args.threads)] if args.threads else []
        registry_pid = servers.start([PYTHON, "-m", "api", "serve", "--port", str(port), *threads], "registry.log")
        reference_pid = servers.start(
            [
                PYTHON,
                "benchmarks/references.py",
                "--port",
                str(reference_port),
                "--database",
                f"sqlite:///{work}/reference.db",
                *threads,
            ],
            "reference.log",
        )
        try:
            wait_for(base + "/api/health")
            wait_for(reference + "/json")
        except SystemExit as exc:
            fail_with_log(work, "registry.log", exc)
            fail_with_log(work, "reference.log", exc)
            raise
        print(
            f"registry {base}, references {reference}; wrk -t2, {seconds:g} s per run, {rounds} round(s)\n", flush=True
        )
        json_headers = {"Content-Type": "application/json"}

        def post(url: str, connections: int, server: int, **options) -> dict:
            return loader.run(url, connections, method="POST", headers=json_headers, server=server, **options)

        reads = {
            "health": ("/api/health", {}),
            "lookup": (f"/api/cert/lookup?id={fixture.public_id}", {}),
            "search (id)": (f"/api/registry/search?q={fixture.public_id}", {}),
            "search (name)": ("/api/registry/search?q=ka", {}),
            "token-status": ("/api/cert/token-status", {"Authorization": f"Bearer {fixture.token}"}),
            "handoff": (
                "/api/cert/handoff-token?session_id=cs_bench_handoff",
                {"Cookie": f"gs_handoff={fixture.binding}"},
            ),
        }
        bare_json = "bare JSON route"
        for round_index in range(rounds):
            print(f"round {round_index + 1} of {rounds}", flush=True)
            for route, (path, headers) in reads.items():
                if wanted(route):
                    before = loader.run(reference + "/json", READ_CONNECTIONS, server=reference_pid)
                    table.add(bare_json, before, READ_CONNECTIONS)
                    figures = loader.run(base + path, READ_CONNECTIONS, headers=headers, server=registry_pid)
                    table.add(route, figures, READ_CONNECTIONS, (bare_json, before))
            bare_insert = f"bare insert ({SUBMIT_CONNECTIONS} conns)"
            if wanted("first submission"):
                insert = post(reference + "/insert", SUBMIT_CONNECTIONS, reference_pid)
                table.add(bare_insert, insert, SUBMIT_CONNECTIONS)
                tokens = token_rounds[round_index]
                bodies = [submission_body(token, f"Benchmark Agent {index}") for index, token in enumerate(tokens)]
                figures = post(base + "/api/cert/redeem-token", SUBMIT_CONNECTIONS, registry_pid, lines=bodies)
                table.add("first submission", figures, SUBMIT_CONNECTIONS, (bare_insert, insert))
                if wanted("correction"):
                    insert = post(reference + "/insert", SUBMIT_CONNECTIONS, reference_pid)
                    table.add(bare_insert, insert, SUBMIT_CONNECTIONS)
                    issued = fixture.issued_tokens(tokens)
                    corrections = [
                        json.dumps({"token": token, "agent_name": f"Benchmark Agent corrected {turn}"})
                        for turn in range(4)
                        for token in issued
                    ]
                    figures = post(base + "/api/cert/redeem-token", SUBMIT_CONNECTIONS, registry_pid, lines=corrections)
                    table.add("correction", figures, SUBMIT_CONNECTIONS, (bare_insert, insert))
            if wanted("webhook"):
                bare_insert = f"bare insert ({WEBHOOK_CONNECTIONS} conns)"
                insert = post(reference + "/insert", WEBHOOK_CONNECTIONS, reference_pid)
                table.add(bare_insert, insert, WEBHOOK_CONNECTIONS)
                share = len(sessions) // rounds
                events = signed_events(sessions[round_index * share : (round_index + 1) * share], str(round_index))
                figures = post(
                    base + "/api/stripe/webhook",
                    WEBHOOK_CONNECTIONS,
                    registry_pid,
                    lines=events,
                    line_header="Stripe-Signature",
                )
                table.add("webhook", figures, WEBHOOK_CONNECTIONS, (bare_insert, insert))
    finally:
        servers.stop()

    print(f"\nload average after the loads (1, 5, 15 min): {load_average()}\n")
    table.print()
    if wanted("first submission"):
        print("\n" + check_card_numbers(ctx.db, args.filler + 1))
    if not args.skip_site:
        site_figures(work)
    if not args.skip_search:
        search_figures(args.records)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
