"""The portal for a WSGI server, configured from the environment: ``gunicorn web.wsgi:app``."""

from web import create_app

app = create_app()
