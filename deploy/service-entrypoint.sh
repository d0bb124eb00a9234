#!/bin/sh
# Every container of the service image runs `dlgrade ARGS`. A worker grades in sandboxes
# on its host's Docker engine, which bind-mounts each prepared submission folder: that
# folder must have the same path inside this container and on the host, so workers
# keep their temporary files under DLGRADE_SCRATCH (mounted at the same path), in a
# folder of this container's own.
set -e
if [ -n "${DLGRADE_SCRATCH:-}" ]; then
    TMPDIR="$DLGRADE_SCRATCH/$(hostname)"
    mkdir -p "$TMPDIR"
    export TMPDIR
fi
exec dlgrade "$@"
