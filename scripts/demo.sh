#!/usr/bin/env bash
# Install, then find the MEI of one hidden neuron of the bundled demo SNN with PROTES (TT-b).
# Extra arguments go to `mango search` (e.g. --layer lif2 --unit 5 --method portfolio).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/mango layers
.venv/bin/mango search --layer lif3 --unit 0 --method tt-b --budget 2000 --seed 0 --out results/demo --overwrite "$@"
