"""Local doubles of the third-party HTTP APIs the registry uses, for tests and the credential-free local run.

- `dev.doubles.stripe_double`: Stripe Checkout Sessions (create / retrieve / expire), a hosted test checkout page,
  and signed webhook delivery.
- `dev.doubles.resend_double`: Resend `POST /emails` and a human-readable local mailbox.
- `dev.doubles.dispatch`: `PrefixDispatcher`, which mounts both on the registry's own origin (`/_stripe`, `/_mail`).
- `python -m dev.doubles`: serves both on their own port.

They speak the real wire formats so the official `stripe` SDK and plain `requests` calls work unchanged. They are
never for production: they accept any test key and expose `/_control/` endpoints that mark payments as paid.
"""
