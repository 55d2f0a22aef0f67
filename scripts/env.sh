#!/bin/sh
# Creates (or brings up to date) the virtual environment from requirements.lock: the hash-pinned
# lock resolved by uv (`make lock`). Needs only python3: the pinned uv is installed first with
# pip from the same lock (hash-checked), then uv installs everything else, hash-checked too.
# Environment: PYTHON (default python3), VENV (default .venv), LOCK (default requirements.lock).
set -eu

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
LOCK="${LOCK:-requirements.lock}"

uv_version=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$LOCK")
if [ -z "$uv_version" ]; then
    echo "env: $LOCK pins no uv (regenerate it: make lock)" >&2
    exit 1
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

if [ "$("$VENV/bin/uv" --version 2>/dev/null | cut -d' ' -f1-2)" != "uv $uv_version" ]; then
    req="$VENV/uv-requirement.txt"
    # uv's entry of the lock: the pin and its hashes (continuation lines end in a backslash)
    awk '/^uv==/ { p = 1 } p { print; if ($0 !~ /\\$/) exit }' "$LOCK" > "$req"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$req"
    rm -f "$req"
fi

uv="$(dirname "$0")/uv.sh"
VENV="$VENV" "$uv" pip sync --quiet --python "$VENV/bin/python" --require-hashes "$LOCK"
VENV="$VENV" "$uv" pip install --quiet --python "$VENV/bin/python" --no-deps --no-build-isolation -e .
