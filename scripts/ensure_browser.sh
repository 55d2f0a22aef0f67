#!/bin/sh
# Makes sure Debian's chromium is installed for the UI test (tests/test_ui.py drives it with Playwright).
# Idempotent: does nothing when the browser is there. As root it installs the Debian package; as
# another user it says how and exits 0, and the UI test is then skipped with that reason.
# KZKR_CHROMIUM names another binary to use; KZKR_SKIP_BROWSER_INSTALL=1 never installs anything.
set -eu

CHROMIUM="${KZKR_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ -n "${KZKR_CHROMIUM:-}" ]; then
    echo "ensure_browser: KZKR_CHROMIUM=$CHROMIUM is not an executable file" >&2
    exit 1
fi
if [ "${KZKR_SKIP_BROWSER_INSTALL:-}" = 1 ]; then
    echo "ensure_browser: $CHROMIUM is missing and KZKR_SKIP_BROWSER_INSTALL=1: the UI test will be skipped"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_browser: $CHROMIUM is missing, so the UI test (tests/test_ui.py) will be skipped."
    echo "  To run it, install Debian's chromium once:  sudo apt-get install chromium"
    echo "  (or set KZKR_CHROMIUM to a Chromium binary)"
    exit 0
fi

echo "ensure_browser: installing Debian's chromium for the UI test (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium; }; then
    echo "ensure_browser: could not install chromium with apt-get (see above)." >&2
    echo "  Set KZKR_SKIP_BROWSER_INSTALL=1 to run the tests without it (the UI test is then skipped)." >&2
    exit 1
fi
"$CHROMIUM" --version
