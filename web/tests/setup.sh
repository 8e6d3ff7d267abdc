#!/usr/bin/env bash
# What the browser tests need, installed when missing (as root, from Debian
# and the npm registry; never a browser downloaded by a tool):
#   - Debian's chromium (playwright-core drives it through the DevTools protocol);
#   - Node.js 18 or newer with npm (Debian 12 ships 18: `apt-get install nodejs npm`);
#   - playwright-core and axe-core exactly as web/tests/package-lock.json pins them.
# run.sh runs it before the tests; scripts/test.sh runs it first of all, so a
# machine that cannot run the browser tests says so before a long build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# The oldest Node.js the pinned playwright-core supports (its `engines`), and Debian 12's.
NODE_MIN_MAJOR=18

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    echo "web/tests/setup.sh: need root to run: $*" >&2; return 1; fi
}
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "setup.sh: installing chromium (apt)"
  apt_install chromium
fi

if ! command -v node >/dev/null; then
  echo "setup.sh: installing nodejs and npm (apt)"
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
  cat >&2 <<EOF
web/tests/setup.sh: the browser tests need Node.js $NODE_MIN_MAJOR or newer; $(command -v node) is $(node --version).
  On Debian 12:  apt-get install nodejs npm     (Node.js 18)
  Elsewhere:     install Node.js $NODE_MIN_MAJOR+ and npm from your distribution, first on PATH.
EOF
  exit 1
fi
if ! command -v npm >/dev/null; then
  cat >&2 <<EOF
web/tests/setup.sh: npm is missing beside $(command -v node) ($(node --version)).
  On Debian 12:  apt-get install npm
EOF
  exit 1
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
  echo "setup.sh: npm ci ($stale)"
  npm ci --no-audit --no-fund --loglevel=error
fi
