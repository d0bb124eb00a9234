#!/usr/bin/env bash
# Start Redis and PostgreSQL on loopback for the worker tests and a one-machine deployment.
#
# Idempotent: a service that already answers is left running (Redis gets appendonly
# switched on if it was off). Prints the URLs to use, and writes them to
# $STATE/services.env for `source`.
#
#   Redis       redis-server on 127.0.0.1:$DLGRADE_REDIS_PORT (6379), append-only file on
#               (appendfsync everysec), data in $STATE/redis
#   PostgreSQL  as root: Debian's cluster (pg_ctlcluster; pg_createcluster if there is none);
#               otherwise: initdb under $STATE/postgres; port $DLGRADE_PG_PORT (5432);
#               a role and a database `dlgrade` (password `dlgrade`, CREATEDB for the tests)
#
# Environment: DLGRADE_SERVICES_DIR ($STATE, default .data/services), DLGRADE_REDIS_PORT,
# DLGRADE_PG_PORT, DLGRADE_SERVICES_WAIT_S (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE="${DLGRADE_SERVICES_DIR:-$PWD/.data/services}"
REDIS_PORT="${DLGRADE_REDIS_PORT:-6379}"
PG_PORT="${DLGRADE_PG_PORT:-5432}"
WAIT_S="${DLGRADE_SERVICES_WAIT_S:-30}"
mkdir -p "$STATE"

say() { echo "start_services: $*" >&2; }

wait_for() {  # wait_for WHAT COMMAND...
    local what=$1; shift
    for _ in $(seq 1 $((WAIT_S * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    say "$what did not answer within ${WAIT_S}s"
    return 1
}

# --- Redis ---------------------------------------------------------------------------
redis_ping() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG; }

if ! command -v redis-server >/dev/null 2>&1; then
    say "redis-server is not installed (apt-get install redis-server)"; exit 1
fi
if redis_ping 2>/dev/null; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config set appendonly yes >/dev/null
else
    mkdir -p "$STATE/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --dir "$STATE/redis" --appendonly yes --appendfsync everysec --save "" \
        --daemonize yes --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/redis/redis.log"
    wait_for "Redis" redis_ping
fi
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# --- PostgreSQL ------------------------------------------------------------------------
pg_ready() { pg_isready -h 127.0.0.1 -p "$PG_PORT" -q; }
PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA)

if ! command -v pg_isready >/dev/null 2>&1; then
    say "PostgreSQL is not installed (apt-get install postgresql)"; exit 1
fi
if ! pg_ready; then
    if [ "$(id -u)" = 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
        cluster=$(pg_lsclusters -h | awk -v port="$PG_PORT" '$3 == port {print $1, $2; exit}')
        if [ -z "$cluster" ]; then
            version=$(ls /usr/lib/postgresql | sort -V | tail -1)
            say "creating PostgreSQL $version cluster dlgrade on port $PG_PORT"
            pg_createcluster "$version" dlgrade --port "$PG_PORT" >/dev/null
            cluster="$version dlgrade"
        fi
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start || true
    else
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
        export PATH="$bindir:$PATH"
        if [ ! -f "$STATE/postgres/PG_VERSION" ]; then
            initdb -D "$STATE/postgres" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
                >/dev/null
        fi
        pg_ctl -D "$STATE/postgres" -l "$STATE/postgres.log" -w start \
            -o "-p $PG_PORT -k $STATE -c listen_addresses=127.0.0.1" >/dev/null
    fi
    wait_for "PostgreSQL" pg_ready
fi

if [ "$(id -u)" = 0 ]; then
    SUPER=(runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA)
else
    SUPER=(psql -h "$STATE" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
fi
if [ "$("${SUPER[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'dlgrade'")" != 1 ]; then
    "${SUPER[@]}" -c "CREATE ROLE dlgrade LOGIN CREATEDB PASSWORD 'dlgrade'"
fi
if [ "$("${SUPER[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'dlgrade'")" != 1 ]; then
    "${SUPER[@]}" -c "CREATE DATABASE dlgrade OWNER dlgrade"
fi
PG_URL="postgresql+psycopg://dlgrade:dlgrade@127.0.0.1:$PG_PORT/dlgrade"
PGPASSWORD=dlgrade "${PSQL[@]}" -U dlgrade -d dlgrade -c "SELECT 1" >/dev/null

cat > "$STATE/services.env" <<EOF
DLGRADE_BROKER_URL=$REDIS_URL
DLGRADE_DATABASE_URL=$PG_URL
EOF
echo "DLGRADE_BROKER_URL=$REDIS_URL"
echo "DLGRADE_DATABASE_URL=$PG_URL"
