#!/usr/bin/env bash
# Create ./.venv (if missing) and install mango_widgets with all extras needed to run and test it.
# torch/torchvision are pinned first: these exact releases are CPU-usable builds that pip takes
# from local disk on our machines; a plain newer torch would download several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# no wheel cache: where torch is not on local disk pip downloads its CUDA build (~3 GB of wheels that
# unpack to ~5.5 GB), and a cached copy of every wheel would double what the install needs on disk
export PIP_NO_CACHE_DIR=1
free_gib() { df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}'; }
if [ ! -x .venv/bin/torchrun ] && [ "$(free_gib)" -lt 8 ]; then
  echo "warning: only $(free_gib) GiB free under $(pwd); torch + torchvision need about 6 GiB in .venv" \
       "(more while pip unpacks them). Free some disk, or point the venv elsewhere, if the install fails" >&2
fi
.venv/bin/python -m pip install -q --upgrade pip
if ! .venv/bin/python -m pip install -q torch==2.14.1 torchvision==0.29.1; then
  echo "error: installing torch==2.14.1 torchvision==0.29.1 failed with $(free_gib) GiB free under $(pwd)." \
       "If pip said 'No space left on device', free disk (about 6 GiB) and run this script again." >&2
  exit 1
fi
.venv/bin/python -m pip install -q -e ".[widgets,app,tt,dask,test]"
# SHADE (method 'shade') comes from pypop7, whose DE modules need only numpy and scipy; its declared
# dependencies (gymnasium, numba, seaborn, ...) are not needed, so it is installed without them
.venv/bin/python -m pip install -q --no-deps pypop7==0.0.82
.venv/bin/python -c "import mango_widgets, torch, protes, nevergrad, snntorch, spikingjelly; print('mango_widgets', mango_widgets.__version__, 'installed with torch', torch.__version__)"
