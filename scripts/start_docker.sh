#!/usr/bin/env bash
# Make a Docker engine answer on this machine, starting one when needed.
#
# Idempotent: exits 0 at once when `docker info` already answers. Otherwise, as
# root with apt-get at hand, installs Debian's docker.io if dockerd is missing and
# starts dockerd in the background (no systemd needed: CI containers and VMs have
# none), logging to $DLGRADE_DOCKERD_LOG. The storage driver is dockerd's own
# choice (overlay2 on ext4/xfs); if the engine does not come up with it, it is
# started again with vfs, which works everywhere but copies the whole image for
# every container (slow sandbox starts with the torch image).
#
# Environment:
#   DLGRADE_DOCKERD_LOG    log file (default /var/log/dlgrade-dockerd.log)
#   DLGRADE_DOCKERD_ARGS   extra dockerd arguments (e.g. "--storage-driver vfs")
#   DLGRADE_DOCKER_WAIT_S  seconds to wait for the engine (default 60)
set -euo pipefail

LOG="${DLGRADE_DOCKERD_LOG:-/var/log/dlgrade-dockerd.log}"
WAIT_S="${DLGRADE_DOCKER_WAIT_S:-60}"
EXTRA_ARGS="${DLGRADE_DOCKERD_ARGS:-}"

engine_answers() {
    timeout 10 docker info >/dev/null 2>&1
}

say() { echo "start_docker: $*" >&2; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    say "the Docker engine does not answer and only root can start one here; ask an administrator (or add yourself to the docker group)"
    exit 1
fi

# Two concurrent calls (parallel CI jobs, two test sessions) must not start two daemons.
# The lock lives where only root can write (never /tmp: a planted symlink there would
# have root clobber a file of someone else's choosing).
lock_dir=/run
[ -d "$lock_dir" ] || lock_dir=/var/lock
[ -d "$lock_dir" ] || lock_dir=/var/run
exec 9>>"$lock_dir/dlgrade-start-docker.lock"
flock 9
if command -v docker >/dev/null 2>&1 && engine_answers; then
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "dockerd is missing and apt-get is not available to install it"
        exit 1
    fi
    say "installing docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

wait_for_engine() {
    # $1: pid of the dockerd we started; give up early if it died.
    local pid="$1" waited=0
    while [ "$waited" -lt "$WAIT_S" ]; do
        if engine_answers; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    return 1
}

start_dockerd() {
    # $@: extra arguments. Prints the pid of the new dockerd.
    mkdir -p "$(dirname "$LOG")"
    # shellcheck disable=SC2086  # EXTRA_ARGS is a list of words on purpose
    nohup dockerd $EXTRA_ARGS "$@" >>"$LOG" 2>&1 </dev/null &
    echo $!
}

# A dockerd that is running but not answering yet (started a moment ago by
# someone else) is waited for rather than duplicated.
if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    say "dockerd (pid $(cat /var/run/docker.pid)) is running; waiting for it"
    if wait_for_engine "$(cat /var/run/docker.pid)"; then
        exit 0
    fi
    say "dockerd is running but did not answer within ${WAIT_S}s; see $LOG"
    exit 1
fi

say "starting dockerd (log: $LOG)"
echo "---- $(date -u +%FT%TZ) start_docker.sh: dockerd $EXTRA_ARGS" >>"$LOG"
pid="$(start_dockerd)"
if wait_for_engine "$pid"; then
    say "engine up: storage driver $(docker info --format '{{.Driver}}')"
    exit 0
fi

case " $EXTRA_ARGS " in
*" --storage-driver"* | *" -s "*)
    say "dockerd did not come up; see $LOG"
    exit 1
    ;;
esac
say "dockerd did not come up with its default storage driver; retrying with vfs"
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
echo "---- $(date -u +%FT%TZ) start_docker.sh: retry with --storage-driver vfs" >>"$LOG"
pid="$(start_dockerd --storage-driver vfs)"
if wait_for_engine "$pid"; then
    say "engine up: storage driver vfs (slow container starts)"
    exit 0
fi
say "dockerd did not come up; see $LOG"
exit 1
