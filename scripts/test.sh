#!/usr/bin/env bash
# Set up the environment (scripts/setup.sh) and run the whole test suite.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# tests/test_demo.py renders the demo page in headless Chromium: install Debian's package if it
# is missing and we may (root or passwordless sudo); without it that test skips, saying why.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null \
      || ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; then
    echo "warning: could not install chromium (apt-get, as root or with sudo); the page-rendering test will skip" >&2
  fi
fi
export TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg
# Lint first (rules and why: [tool.ruff] in pyproject.toml); it takes a second and fails fast.
.venv/bin/ruff check progan_tf tests bench
# Two workers, one test file each at a time (file-scoped fixtures are built once): most tests wait
# on TensorFlow start-up in subprocesses, so this halves the wall time on 2 cores.
# PYTEST_WORKERS=0 runs everything in this process. --durations lists the 25 slowest tests at
# the end, so every run (CI's too) shows where the suite's time goes.
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=25 "$@"
