#!/usr/bin/env bash
# Create .venv (if missing) and install progan-tf with its notebook and test extras into it.
# Needs nothing but Python 3.10+; safe to run again (it only installs what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev,notebooks,face]" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import progan_tf" >/dev/null
