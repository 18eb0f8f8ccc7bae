#!/usr/bin/env bash
# Install what the browser test (tests/test_browser.py) needs on a Debian/Ubuntu machine:
# the distribution's Chromium at /usr/bin/chromium (as root, via apt) and Playwright for
# Python in ./.venv. Playwright drives the system Chromium through executable_path;
# `playwright install` is never run (it downloads its own browsers from the internet).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
  else
    SUDO=
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
if [ -x .venv/bin/python ]; then
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -q "playwright>=1.40"
else
  echo "no ./.venv yet: run scripts/install.sh first, then this script again" >&2
  exit 1
fi
/usr/bin/chromium --version
.venv/bin/python -c "import playwright; from importlib.metadata import version; print('playwright', version('playwright'))"
