"""Development machinery that never ships: the installed wheel contains only `api`.

- `dev.doubles`: local doubles of Stripe and Resend at the HTTP boundary (their `/_control/` routes mark payments
  paid, so they must never be deployed), `python -m dev.doubles` serves them on their own port.
- `dev.static_site`: serves the built site (output/) from the registry's own origin with netlify.toml's rules.
- `dev.serving`: `ServedApp`, a WSGI app on a real waitress server on a free loopback port (tests).
- `dev.scratch_database`: `drop_all_tables`, for the scratch databases of tests and benchmarks.

`api.registry.Registry` mounts the doubles and the site when asked to (`./scripts/run-local`, the tests); it
imports this package only then, so a production install without it runs the API alone.
"""
