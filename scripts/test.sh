#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the Rust tests
# (router core on simulated time, server over real WebSockets), /metrics
# checked by promtool, and the web pages in headless Chromium.
#
# On a fresh machine it installs what it needs (as root, from Debian and npm).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ -f web/tests/run.sh ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing: ${need_apt[*]} (install them, or run as root so this script can)" >&2
    exit 1
  fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# The records store's tests run against PostgreSQL too (docs/records.md).
pg_url="${SWITCHBOARD_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
pg_isready -q -d "$pg_url" 2>/dev/null || { echo "PostgreSQL is not reachable at $pg_url: checked with pg_isready; the records tests need it (start it, or set SWITCHBOARD_TEST_POSTGRES)" >&2; exit 1; }

step "cargo test"
cargo test --workspace --quiet 2>&1 | tee /tmp/switchboard-cargo-test.log
grep -q "test result: ok" /tmp/switchboard-cargo-test.log

if [ -f web/tests/run.sh ]; then
  step "web pages in headless Chromium"
  bash web/tests/run.sh
fi

step "all green"
