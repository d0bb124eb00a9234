#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: system packages (where we are root with apt),
# then .venv with dlgrade and its development tools.
#   scripts/bootstrap.sh          what running dlgrade needs
#   scripts/bootstrap.sh --test   plus what the test suite needs (Docker engine and Debian's
#                                 docker-compose for the stack test, debootstrap, data,
#                                 Redis and PostgreSQL for the worker tests, chromium for the
#                                 portal's browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3 python3-venv bubblewrap)
if [ "${1:-}" = "--test" ]; then
  packages+=(docker.io docker-compose debootstrap nodejs npm dataset-fashion-mnist redis-server postgresql chromium chromium-driver)
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  # node may come from elsewhere (nvm, a tarball): only ask apt when there is no npm at all.
  if command -v npm >/dev/null 2>&1; then
    kept=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || kept+=("$p"); done
    missing=("${kept[@]}")
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  echo "bootstrap: not root or no apt-get; make sure these are installed: ${packages[*]}" >&2
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.dlgrade-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  touch "$stamp"
fi
