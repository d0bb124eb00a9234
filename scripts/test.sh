#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need,
# then lint and pytest. CI runs exactly this (through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test
scripts/fetch_data.sh
if scripts/start_docker.sh; then
  # The sandbox images, and the service's own (the stack test brings docker-compose.yml up).
  .venv/bin/dlgrade images build --services
else
  echo "test: no Docker engine; Docker tests will skip (or fail under CI=true)" >&2
fi
if ! scripts/start_services.sh; then
  echo "test: Redis/PostgreSQL did not start; worker tests will skip (or fail under CI=true)" >&2
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The slowest tests, so that a CI log shows where the suite's time goes.
exec .venv/bin/pytest --durations=40 "$@"
