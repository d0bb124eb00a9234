"""The portal for a WSGI server, configured from the environment: ``gunicorn web.wsgi:app``."""

import gc

from web import create_app
from worker.logs import configure

configure()  # JSON lines when DLGRADE_LOG_FORMAT=json
app = create_app()
# Flask, SQLAlchemy, the templates and the app itself live as long as the process: out
# of the collector's way, a collection during a request scans only what requests made.
# The staff gradebook's slowest requests (p95) were about a third shorter with it, in
# the rush bench (bench/bench_rush.py), its medians unchanged.
gc.freeze()
