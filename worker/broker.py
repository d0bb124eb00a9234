"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, tuned for one machine.

Why this one (see the README): it needs no server, it is durable (a message is
a row in a file that survives a reboot), several worker processes on one
machine share it safely (kombu takes SQLite's write lock with BEGIN IMMEDIATE
for every fetch), and it speaks the same Celery protocol as Redis, so the
worker code is identical in both deployments. Its weaknesses are covered by the
database: it polls (we poll every 0.1 s instead of kombu's 1 s), and a message
fetched by a worker that is then killed is gone (kombu marks it invisible on
fetch); the run's lease expires and the reaper dispatches it again.

The URL scheme is ``dlgrade-sqla+sqlite:///PATH``; plain ``sqla+sqlite:///PATH``
selects kombu's stock transport (1 s polling).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import Boolean, DateTime, bindparam, create_engine, event, text

SCHEME = "dlgrade-sqla"
POLLING_INTERVAL_S = 0.1


class Channel(kombu_sqla.Channel):
    def _engine_from_config(self):  # type: ignore[no-untyped-def]
        url = self.connection.client.hostname
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
            cur.close()

        return engine


class Transport(kombu_sqla.Transport):
    Channel = Channel
    polling_interval = POLLING_INTERVAL_S


TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")


def purge_delivered(broker_url: str, older_than_s: float = 86400.0) -> int:
    """Delete messages kombu delivered long ago (it keeps them, invisible, forever)."""
    if "+" not in broker_url:
        return 0
    engine = create_engine(broker_url.split("+", 1)[1], connect_args={"timeout": 30})
    # kombu stamps messages with local time (datetime.now), so compare in local time.
    cutoff = datetime.now() - timedelta(seconds=older_than_s)
    stmt = text("DELETE FROM kombu_message WHERE visible = :no AND timestamp < :cutoff").bindparams(
        bindparam("no", False, type_=Boolean), bindparam("cutoff", cutoff, type_=DateTime)
    )
    try:
        with engine.begin() as conn:
            return int(conn.execute(stmt).rowcount or 0)
    finally:
        engine.dispose()
