"""Serve the Stripe and Resend doubles on their own port: `python -m dev.doubles --help`.

The Stripe double is mounted at `/_stripe` and the mailbox at `/_mail`, exactly as the registry mounts them in its
own local run, so `STRIPE_API_BASE=http://HOST:PORT/_stripe` and `RESEND_API_BASE=http://HOST:PORT/_mail`.
"""

from __future__ import annotations

import argparse
import sys

import waitress

from dev.doubles import resend_double, stripe_double
from dev.doubles.dispatch import PrefixDispatcher, not_found_app

STRIPE_PREFIX = "/_stripe"
MAIL_PREFIX = "/_mail"


def _delays(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected seconds separated by commas, e.g. 1,2,4") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dev.doubles",
        description="Local Stripe Checkout and Resend doubles for tests and the credential-free local run. "
        "Test mode only: nothing is charged and nothing is sent.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8790, help="port to bind; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="where to POST signed Stripe events, e.g. http://127.0.0.1:8000/api/stripe/webhook "
        "(default: none; events are only logged)",
    )
    parser.add_argument(
        "--webhook-secret",
        default="whsec_local_double",
        help="signing secret shared with the registry (default: %(default)s)",
    )
    parser.add_argument(
        "--public-base",
        default=None,
        help="public URL of the Stripe double, used in session.url (default: http://HOST:PORT/_stripe)",
    )
    parser.add_argument("--no-deliver", action="store_true", help="start with webhook delivery switched off")
    parser.add_argument(
        "--retry-delays",
        type=_delays,
        default=stripe_double.DEFAULT_RETRY_DELAYS,
        help="seconds between webhook retries, comma-separated (default: 1,2,4)",
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stripe_app = stripe_double.create_app(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_base=args.public_base or "http://unbound",
        deliver=not args.no_deliver,
        retry_delays=args.retry_delays,
    )
    app = PrefixDispatcher(not_found_app, {STRIPE_PREFIX: stripe_app, MAIL_PREFIX: resend_double.create_app()})
    server = waitress.create_server(app, host=args.host, port=args.port, threads=args.threads)
    origin = f"http://{args.host}:{server.effective_port}"
    if not args.public_base:  # known only once bound, when --port is 0
        stripe_app.double.public_base = origin + STRIPE_PREFIX
    print(
        f"Stripe double: {origin}{STRIPE_PREFIX}  (STRIPE_API_BASE)\n"
        f"Resend double: {origin}{MAIL_PREFIX}  (RESEND_API_BASE; mailbox at {origin}{MAIL_PREFIX}/)\n"
        f"Webhooks to:   {args.webhook_url or '(none)'}",
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
