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
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.14.1 torchvision==0.29.1
.venv/bin/python -m pip install -q -e ".[widgets,app,tt,dask,test]"
# SHADE (method 'shade') comes from pypop7, whose DE modules need only numpy and scipy; its declared
# dependencies (gymnasium, numba, seaborn, ...) are not needed, so it is installed without them
.venv/bin/python -m pip install -q --no-deps pypop7==0.0.82
.venv/bin/python -c "import mango_widgets, torch, protes, nevergrad, snntorch, spikingjelly; print('mango_widgets', mango_widgets.__version__, 'installed with torch', torch.__version__)"
