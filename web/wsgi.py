"""The portal for a WSGI server, configured from the environment: ``gunicorn web.wsgi:app``."""

from web import create_app
from worker.logs import configure

configure()  # JSON lines when DLGRADE_LOG_FORMAT=json
app = create_app()
