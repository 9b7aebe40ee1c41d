"""Local doubles of the third-party HTTP APIs the registry uses, for tests and the credential-free local run.

- `api.doubles.stripe_double`: Stripe Checkout Sessions (create / retrieve / expire), a hosted test checkout page,
  and signed webhook delivery.
- `api.doubles.resend_double`: Resend `POST /emails` and a human-readable local mailbox.
- `api.doubles.dispatch`: `PrefixDispatcher`, which mounts both on the registry's own origin (`/_stripe`, `/_mail`).
- `python -m api.doubles`: serves both on their own port.

They speak the real wire formats so the official `stripe` SDK and plain `requests` calls work unchanged. They are
never for production: they accept any test key and expose `/_control/` endpoints that mark payments as paid.
"""
