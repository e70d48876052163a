#!/usr/bin/env bash
# Creates .venv with Python 3.10 and the locked dependencies, once; later
# calls return at once unless the lock files changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
stamp_of() {
  cat requirements.lock requirements-nodeps.txt setup.py | sha256sum | cut -c1-16
}
STAMP="$VENV/.installed-$(stamp_of)"
[ -f "$STAMP" ] && exit 0

find_python() {
  local candidates=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
  fi
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' \
        >/dev/null 2>&1; then
      command -v "$candidate" || echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.10 is required (TFX 1.16); none found on PATH or" \
       "under pyenv" >&2
  return 1
}

PYTHON=$(find_python)
echo "Setting up $VENV with $PYTHON (a few minutes, once)..."
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -qq "$(grep '^pip==' requirements.lock)"
"$VENV/bin/pip" install -qq -r requirements.lock
"$VENV/bin/pip" install -qq --no-deps -r requirements-nodeps.txt
"$VENV/bin/pip" install -qq --no-deps --no-build-isolation -e .
touch "$STAMP"
echo "Environment ready."
