#!/usr/bin/env bash
# Browser tests of the chat widget, the agent console and the supervisor view:
# installs what is missing (Debian's chromium, node, playwright-core from the
# lock file; never a downloaded browser), builds the server binary, runs the
# end-to-end tests in headless Chromium. Exits non-zero on any failure.
#
#   web/tests/run.sh                 # everything
#   web/tests/run.sh --test-name-pattern=transfer   # extra args go to `node --test`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    echo "run.sh: need root to run: $*" >&2; return 1; fi
}
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Chromium from Debian (playwright-core drives it; it never downloads one).
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "run.sh: installing chromium (apt)"
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh: installing nodejs and npm (apt)"
  apt_install nodejs npm
fi

# playwright-core and axe-core, exactly as locked.
cd "$here"
stale="$(node -e "
  const deps = require('./package.json').devDependencies;
  const off = Object.entries(deps).filter(([name, want]) => {
    try { return require('./node_modules/' + name + '/package.json').version !== want; } catch (_) { return true; }
  });
  console.log(off.map(([name]) => name).join(' '));
")"
if [ -n "$stale" ]; then
  echo "run.sh: npm ci ($stale)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The server binary, with the current web/ files embedded.
if [ -z "${WEB_TEST_SERVER_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet -p switchboard-server --bin switchboard)
  export WEB_TEST_SERVER_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/switchboard"
fi

cd "$here"
# One file; its tests run one after another, each with its own time limit.
exec timeout 600 node --test "$@" e2e.test.mjs
