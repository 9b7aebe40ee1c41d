"""The WSGI entry point, for any WSGI server: `waitress-serve api.wsgi:app` (or `--call api.wsgi:create`).

Both build the same `Registry` that `python -m api serve` builds, from the environment, and start it: the schema is
checked (SQLite migrated) and queued email is sent in the background. No site is served: Netlify serves it.
"""

from __future__ import annotations

import atexit

from .registry import Registry


def create() -> Registry:
    registry = Registry().start()
    atexit.register(registry.close)
    return registry


app = create()
