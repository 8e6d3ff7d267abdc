#!/usr/bin/env bash
# Browser tests of the chat widget, the agent console and the supervisor view:
# installs what is missing (setup.sh: Debian's chromium, Node.js 18+,
# playwright-core from the lock file; never a downloaded browser), builds the
# server binary, runs the end-to-end tests in headless Chromium. Exits
# non-zero on any failure.
#
#   web/tests/run.sh                 # everything
#   web/tests/run.sh --test-name-pattern=transfer   # extra args go to `node --test`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

bash "$here/setup.sh"

# The server binary, with the current web/ files embedded.
if [ -z "${WEB_TEST_SERVER_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet -p switchboard-server --bin switchboard)
  export WEB_TEST_SERVER_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/switchboard"
fi

cd "$here"
# One file at a time (each starts servers and a browser: two at once would
# share 2 cores); its tests run one after another, each with its own time limit.
timeout 600 node --test "$@" e2e.test.mjs
exec timeout 300 node --test "$@" pages.test.mjs
