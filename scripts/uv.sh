#!/bin/sh
# Runs the environment's uv with the package index and certificates pip is configured with on this
# machine (uv reads no pip configuration; pip's default index is PyPI's, as uv's).
# Environment: VENV (default .venv).
set -eu
VENV="${VENV:-.venv}"

pip_config=$("$VENV/bin/python" -m pip config list 2>/dev/null || true)
setting() { printf '%s\n' "$pip_config" | sed -n "s/^global\.$1='\(.*\)'\$/\1/p" | head -n 1; }
index="${PIP_INDEX_URL:-$(setting index-url)}"
cert="${PIP_CERT:-$(setting cert)}"
if [ -n "$index" ] && [ -z "${UV_DEFAULT_INDEX:-}" ]; then export UV_DEFAULT_INDEX="$index"; fi
if [ -n "$cert" ] && [ -z "${SSL_CERT_FILE:-}" ]; then export SSL_CERT_FILE="$cert"; fi

exec "$VENV/bin/uv" "$@"
