#!/usr/bin/env bash
# Install, then run the whole test suite: unit/integration tests plus every notebook and
# tutorial executed by nbval in fast mode (MANGO_FAST=1: small budgets).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/install_browser.sh  # Debian chromium for the real-browser test of the Voila app
export MANGO_FAST=1 MPLBACKEND=Agg
.venv/bin/python -m pytest --nbval-lax tests tutorials notebooks "$@"
