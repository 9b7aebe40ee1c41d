"""Command line: `python -m api <command>`. Every command and sub-command has `--help`.

serve         run the registry with waitress (migrates SQLite on start; sends queued email in the background;
              `--site DIR` also serves a built site on the same origin; in development with no Stripe key,
              mounts the local Stripe and Resend doubles at /_stripe and /_mail: test mode)
migrate       apply pending schema migrations (idempotent)
ops health    the email/checkout summary; exit status 1 when something needs attention
ops remind    queue the reminders due for paid tokens not used yet (cron, every few minutes; idempotent)
ops purge     delete recovery addresses and message bodies older than the retention window (cron, daily)
outbox        list / show / send queued email
admin         rotate-token, revoke, rotate-signing-key, new-signing-key, issue-credentials
verify        check a credential (offline with --key/--did-document, or online with --id and --base); exit 0
              valid, 1 invalid, 2 usage error. The checking is api/verifier.py, which needs no server or database.
              `verify --agent-card FILE_OR_URL` checks an A2A Agent Card's GhostShell claim (api/agent_card.py).
mcp           the registry's MCP server on stdio for an agent: `mcp --base URL` (api/mcp_server.py); a client of
              the public HTTP API, needing no database or keys
log           export-tiles DIR (the transparency log as static C2SP tiles); monitor --base URL --state FILE
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import urllib.parse
from pathlib import Path

import peewee

from . import rules
from .config import DEFAULT_DATABASE_URL, RESEND_DOUBLE_PREFIX, Config, ConfigError
from .context import Context
from .server import SERVER_LIMITS


def _context() -> Context:
    return Context.build(Config.from_env())


def _sender(ctx: Context):
    from .registry import Registry

    return Registry(context=ctx).outbox


def cmd_migrate(args) -> int:
    from .migrations import migrate

    ctx = _context()
    applied = migrate(ctx.db)
    print("applied migrations: " + ", ".join(map(str, applied)) if applied else "database is up to date")
    return 0


def waitress_options(host: str, port: int, threads: int, trusted_proxy: str | None = None) -> dict:
    """The registry's waitress settings, in one place: `serve` uses them, and so do the bare reference apps of
    `benchmarks/run`, so that both sides of a comparison run on the same server settings."""
    options = {**SERVER_LIMITS, "host": host, "port": port, "threads": threads, "ident": "ghostshell"}
    if trusted_proxy:
        options.update(
            trusted_proxy=trusted_proxy,
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
        )
    return options


def cmd_serve(args) -> int:
    from .registry import NotReady, Registry
    from .server import create_server

    config = Config.from_env(default_base_url=f"http://{args.host}:{args.port}")
    site = Path(args.site).resolve() if args.site else None
    if site is not None and not (site / "index.html").exists():
        print(f"No built site in {site}: run `python build.py` first.", file=sys.stderr)
        return 2
    try:
        registry = Registry(config, site=site, mail_interval=args.mail_interval).start()
    except NotReady as exc:
        print(str(exc), file=sys.stderr)
        return 2
    base = config.base_url
    print(f"GhostShell Registry at {base}/" + (" (API only)" if site is None else ""), flush=True)
    if config.local_doubles:
        print("TEST MODE: payments go to the local Stripe double; no real payment is taken.", flush=True)
        if registry.serves_local_mailbox:
            print(f"Email is not sent: read it in the local mailbox at {base}{RESEND_DOUBLE_PREFIX}/", flush=True)
    # What start-up made lives as long as the process: freezing it keeps the collector's full passes under load
    # from walking the Stripe SDK, Falcon's routes and Peewee's models again and again.
    gc.collect()
    gc.freeze()
    options = waitress_options(args.host, args.port, args.threads, args.trusted_proxy or config.trusted_proxy)
    options.update(channel_timeout=args.channel_timeout, connection_limit=args.connection_limit)
    server = create_server(registry, **options)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        registry.close()
    return 0


def cmd_ops_health(args) -> int:
    from .ops import email_summary

    ctx = _context()
    with ctx.db.connection_context():
        summary = email_summary(ctx)
    print(json.dumps(summary, indent=2))
    return 1 if summary["needs_attention"] else 0


def cmd_ops_remind(args) -> int:
    from .reminders import send_reminders

    ctx = _context()
    with ctx.db.connection_context():
        run = send_reminders(ctx)
    print(json.dumps(run.as_dict()))
    return 0


def cmd_ops_purge(args) -> int:
    from .retention import purge

    if args.days < 1:
        print("--days must be at least 1.", file=sys.stderr)
        return 2
    ctx = _context()
    with ctx.db.connection_context():
        run = purge(ctx, args.days)
    print(json.dumps({"days": args.days, **run.as_dict()}))
    return 0


def cmd_outbox(args) -> int:
    from .mail.outbox import read_payload
    from .models import OutboxMessage

    ctx = _context()
    with ctx.db.connection_context():
        if args.outbox_command == "list":
            for message in OutboxMessage.select().order_by(OutboxMessage.id.desc()).limit(args.limit):
                print(
                    f"{message.id:>6}  {message.status:<8} {message.kind:<20} attempts={message.attempts} "
                    f"created={message.created_at:%Y-%m-%d %H:%M:%S}"
                )
            return 0
        if args.outbox_command == "show":
            message = OutboxMessage.get_or_none(OutboxMessage.id == args.id)
            if message is None:
                print(f"No message {args.id}.", file=sys.stderr)
                return 1
            payload = read_payload(ctx.keyring, message)
            if payload is None:
                print(f"Message {args.id} was {message.status}; its content is no longer kept.")
                return 0
            print(f"To: {payload['to']}\nSubject: {payload['subject']}\n\n{payload['text']}")
            return 0
    sent = _sender(ctx).send_due()
    print(f"processed {sent} message(s)")
    return 0


def cmd_rotate_signing_key(args) -> int:
    """Make the configured key current; in development, when it already is, make and keep a new one first."""
    import os as _os

    from .config import save_dev_signing_key
    from .signing import SigningKeyError

    ctx = _context()
    keys = ctx.signing_keys
    with ctx.db.connection_context():
        previous = keys.registered_current()
        if previous is None and not ctx.config.production:
            previous = keys.current()  # a fresh development registry: its key first, then a new one
        seed = ctx.config.signing_key
        if previous is not None and previous.public_key_multibase == keys.configured_multikey:
            if ctx.config.production:
                print(
                    "GHOSTSHELL_SIGNING_KEY is already the current key. Set it to a new key first "
                    "(`python -m api admin new-signing-key` prints one), then run this again.",
                    file=sys.stderr,
                )
                return 1
            seed = _os.urandom(32)
            save_dev_signing_key(seed)
        try:
            current = keys.rotate_to(seed)
        except SigningKeyError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    print(f"Signing key rotated: {current.public_key_multibase} signs from now on; restart the server to use it.")
    if previous is not None:
        print(f"Retired: {previous.public_key_multibase} (still published; verifies what it signed until now).")
    return 0


def cmd_new_signing_key(args) -> int:
    from .config import new_signing_key_text

    print(new_signing_key_text())
    return 0


def cmd_mcp(args) -> int:
    try:
        from .mcp_server import main as serve_mcp
    except ImportError:
        print("The MCP server needs the mcp package: pip install 'ghostshell-registry[mcp]'", file=sys.stderr)
        return 2

    return serve_mcp(args.base)


def cmd_admin(args) -> int:
    from .errors import RegistryError

    if args.admin_command == "rotate-signing-key":
        return cmd_rotate_signing_key(args)
    if args.admin_command == "new-signing-key":
        return cmd_new_signing_key(args)
    if args.admin_command == "issue-credentials":
        from .credentials import backfill

        ctx = _context()
        with ctx.db.connection_context():
            made = backfill(ctx)
        print(f"Signed a first credential for {made} record(s) that had none.")
        return 0
    ctx = _context()
    try:
        with ctx.db.connection_context():
            if args.admin_command == "rotate-token":
                from .purchases import rotate_token

                rotate_token(ctx, args.public_id)
                print(f"Token rotated for {args.public_id.upper()}; the holder has been emailed the new private link.")
            else:
                from .certificates import revoke

                revoke(ctx, args.public_id, args.reason)
                print(f"{args.public_id.upper()} is revoked.")
    except RegistryError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


def cmd_log(args) -> int:
    if args.log_command == "monitor":
        from .monitor import MonitorFailure, run

        try:
            print(run(args.base, Path(args.state), key=args.key))
        except MonitorFailure as exc:
            print(f"MONITOR FAILURE: {exc}", file=sys.stderr)
            return 1
        return 0
    from .transparency import export_tiles

    ctx = _context()
    with ctx.db.connection_context():
        size, written = export_tiles(ctx.config.base_url, ctx.signing_keys, Path(args.directory))
    print(f"{size} log entries as tiles in {args.directory} ({written} files written); serve it at {ctx.url('/log/')}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m api", description="GhostShell Registry")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the registry with waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--site", help="a built site directory (output/) to serve on the same origin")
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--mail-interval", type=float, default=2.0, help="seconds between outbox passes")
    serve.add_argument("--trusted-proxy", help="address of a reverse proxy whose X-Forwarded-For is trusted")
    serve.add_argument(
        "--channel-timeout",
        type=int,
        default=SERVER_LIMITS["channel_timeout"],
        help="seconds an idle or half-sent connection is kept (default: %(default)s)",
    )
    serve.add_argument(
        "--connection-limit",
        type=int,
        default=SERVER_LIMITS["connection_limit"],
        help="open connections before new ones wait (default: %(default)s)",
    )
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending schema migrations")
    migrate.set_defaults(func=cmd_migrate)

    ops = commands.add_parser("ops", help="operations")
    ops_commands = ops.add_subparsers(dest="ops_command", required=True)
    health = ops_commands.add_parser("health", help="email/checkout summary; exit 1 when attention is needed")
    health.set_defaults(func=cmd_ops_health)
    remind = ops_commands.add_parser("remind", help="queue reminders for paid tokens not used yet (idempotent)")
    remind.set_defaults(func=cmd_ops_remind)
    purge = ops_commands.add_parser("purge", help="delete recovery addresses and message bodies past retention")
    purge.add_argument(
        "--days", type=int, default=rules.RETENTION_DAYS, help=f"retention window (default {rules.RETENTION_DAYS})"
    )
    purge.set_defaults(func=cmd_ops_purge)

    outbox = commands.add_parser("outbox", help="queued email")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    listing = outbox_commands.add_parser("list", help="recent messages, newest first (no addresses)")
    listing.add_argument("--limit", type=int, default=20)
    show = outbox_commands.add_parser("show", help="print a message that has not been sent")
    show.add_argument("id", type=int)
    outbox_commands.add_parser("send", help="send due messages now")
    outbox.set_defaults(func=cmd_outbox)

    admin = commands.add_parser("admin", help="support actions (audited)")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    rotate = admin_commands.add_parser("rotate-token", help="new private link; the old one stops working")
    rotate.add_argument("public_id")
    revoke = admin_commands.add_parser("revoke", help="revoke a certificate (refunds)")
    revoke.add_argument("public_id")
    revoke.add_argument("--reason", required=True)
    admin_commands.add_parser(
        "rotate-signing-key",
        help="retire the current signing key (it stays published) and sign with a new one: in production the "
        "one GHOSTSHELL_SIGNING_KEY now holds; in development a new key kept in var/dev-keys.json",
    )
    admin_commands.add_parser("new-signing-key", help="print a new random value for GHOSTSHELL_SIGNING_KEY")
    admin_commands.add_parser(
        "issue-credentials", help="sign a first credential for every record that has none (records from before 1.1)"
    )
    admin.set_defaults(func=cmd_admin)

    # Listed for --help only: main() hands `verify` and its arguments to api/verifier.py before parsing.
    commands.add_parser("verify", help="verify a credential (see `python -m api verify --help`)", add_help=False)

    mcp = commands.add_parser("mcp", help="the registry's MCP server for agents, on stdio")
    mcp.add_argument("--base", required=True, help="the registry's URL, e.g. https://registry.example")
    mcp.set_defaults(func=cmd_mcp)

    log_parser = commands.add_parser("log", help="the transparency log")
    log_commands = log_parser.add_subparsers(dest="log_command", required=True)
    export = log_commands.add_parser("export-tiles", help="write the log as C2SP tlog-tiles (checkpoint last)")
    export.add_argument("directory", help="output directory, to be served at <BASE_URL>/log/")
    monitor = log_commands.add_parser("monitor", help="check a registry's log from outside; exit 1 on any failure")
    monitor.add_argument("--base", required=True, help="the registry's origin, e.g. https://registry.example")
    monitor.add_argument("--state", required=True, help="JSON file kept between runs (last checkpoint, keys)")
    monitor.add_argument("--key", help="trusted note verifier key (name+hash+base64); default: the one kept in state")
    log_parser.set_defaults(func=cmd_log)
    return root


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["verify"] and any(arg.split("=")[0] == "--agent-card" for arg in argv[1:]):
        from . import agent_card

        return agent_card.main(argv[1:])
    if argv[:1] == ["verify"]:
        from . import verifier

        return verifier.main(argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Stripe SDK logs request and response bodies (customer emails) when verbose; keep it quiet.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        print(database_unreachable_message(_database_url(), exc), file=sys.stderr)
        return 2


def _database_url() -> str:
    try:
        return Config.from_env().database_url
    except ConfigError:
        return DEFAULT_DATABASE_URL


def database_unreachable_message(url: str, exc: Exception) -> str:
    """One line naming the database (never its password) and the driver's reason, instead of a traceback."""
    parts = urllib.parse.urlsplit(url)
    where = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    if parts.scheme.startswith("sqlite"):
        where = url
    reasons = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = reasons[0].rsplit(" failed: ", 1)[-1] if reasons else type(exc).__name__
    if parts.password:
        reason = reason.replace(parts.password, "***")
    return f"Cannot reach the database at {where} ({reason}); check DATABASE_URL and that the server is running."
