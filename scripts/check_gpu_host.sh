#!/usr/bin/env bash
# Grade on this host's GPU, end to end, through the local sandbox: the check that a GPU
# worker host is ready (README, "GPU or CPU"). Run from the repository's root on the host.
#
#   PYTHON=python3 scripts/check_gpu_host.sh [MNIST_NPY_FOLDER]
#
# PYTHON must hold a CUDA build of torch, numpy, tqdm and matplotlib: its prefix becomes
# the sandbox's torch environment. MNIST comes from DLGRADE_DATA_DIR's cache, or from a
# folder of the four .npy (or .npy.gz) files scripts/fetch_data.sh caches. Each grading
# prints its score, environment (gpu: True, no CUDA note) and check message; every one
# must score 20/20 except the forgery, which passes and is named for a TA.
set -uo pipefail
PYTHON=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 DLGRADE_DATA_DIR=${DLGRADE_DATA_DIR:-/tmp/dlgrade-gpu-check}
export DLGRADE_SECRET_KEY=${DLGRADE_SECRET_KEY:-gpu-check}
log() { echo "=== $(date +%T) $*"; }

log host
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || exit 1
"$PYTHON" -c "import torch, numpy, tqdm, matplotlib; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
command -v bwrap || echo "no bubblewrap: the local sandbox runs unprotected (rlimits only)"

mnist=$DLGRADE_DATA_DIR/datasets/mnist
mkdir -p "$mnist" "$DLGRADE_DATA_DIR/envs"
if [[ $# -ge 1 ]]; then
    for f in "$1"/*.npy "$1"/*.npy.gz; do
        [[ -e $f ]] || continue
        case $f in
            *.gz) gunzip -c "$f" > "$mnist/$(basename "$f" .gz)" ;;
            *) cp "$f" "$mnist/" ;;
        esac
    done
fi

# The sandbox's torch environment is this interpreter's prefix, marked ready for its list.
ln -sfn "$("$PYTHON" -c 'import sys; print(sys.prefix)')" "$DLGRADE_DATA_DIR/envs/torch"
"$PYTHON" -c "
from grader.sandbox.local import ENV_PACKAGES, env_dir
(env_dir('torch') / '.dlgrade-ready').write_text('\n'.join(ENV_PACKAGES['torch']) + '\n')"

grade() {  # name, assignment, submission
    log "grade $1"
    local t0=$SECONDS
    "$PYTHON" -m grader.cli grade --gpu --sandbox local --json "assignments/$2" "$3" \
        2> >(grep -v -e UnsafeSandbox -e "return LocalSandbox" >&2) | "$PYTHON" -c "
import json, sys
r = json.load(sys.stdin)
env = r['environment']
print(r['score'], '/', r['max_score'], r['status'], {k: env.get(k) for k in ('gpu', 'cuda', 'sandbox')})
for c in r['checks']:
    print(' ', c['name'], c['status'], c['score'], '|', c['message'].replace(chr(10), ' | '))
"
    echo "$1: $((SECONDS - t0)) s"
}
grade cnn-solution mnist-cnn assignments/mnist-cnn/solution
grade cnn-script mnist-cnn assignments/mnist-cnn/examples/course_script_tqdm.py
grade mlp-script mnist-torch-mlp assignments/mnist-torch-mlp/examples/course_script_tqdm.py
grade mlp-solution mnist-torch-mlp assignments/mnist-torch-mlp/solution
forgery=$(mktemp -d)/cnn_mnist.py  # put together as tests/assignments/test_mnist_cnn.py does
{ printf 'import numpy as np\nimport torch\nfrom torch import nn\n\n'
  cat assignments/mnist-cnn/mutants/shipped_weights.py; printf '\n\n'
  cat tests/assignments/mnist_attacks/cnn_class_inference.py; } > "$forgery"
grade cnn-renamed-forgery mnist-cnn "$forgery"
log done
