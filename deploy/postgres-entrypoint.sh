#!/bin/sh
# First start (empty $PGDATA): a cluster whose superuser is $POSTGRES_USER with
# $POSTGRES_PASSWORD, owning database $POSTGRES_DB; then the server in the foreground.
# SIGINT (the image's stop signal) is PostgreSQL's fast shutdown: clean, no recovery.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
USER_NAME="${POSTGRES_USER:-dlgrade}"
DB="${POSTGRES_DB:-dlgrade}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    chown postgres "$pwfile"
    as_pg initdb -D "$PGDATA" -U "$USER_NAME" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    as_pg pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    as_pg psql -U "$USER_NAME" -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$DB\""
    as_pg pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
    echo "postgres: initialised $PGDATA (database $DB)"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups \
    postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql
