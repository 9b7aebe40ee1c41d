"""The only module-level app, for WSGI servers: `waitress-serve --call api.app:create_app` works too."""

from .app import create_app

app = create_app()
