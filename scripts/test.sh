#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the Rust tests
# (router core on simulated time, server over real WebSockets), /metrics
# checked by promtool, the alerting rules (promtool check rules, test rules),
# and the web pages in headless Chromium.
#
# On a fresh Debian 12 it fetches what it needs (as root, from Debian and npm):
# promtool out of Debian's prometheus package (extracted, never installed, so
# no Prometheus service starts on the admin port 9090), and for the browser
# tests Chromium, Node.js 18+ and the locked npm packages (web/tests/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

step() { printf '\n==> %s\n' "$*"; }

# promtool, from PATH or from Debian's prometheus package unpacked into
# target/tools (dpkg -x: no maintainer scripts, no service, no systemd unit).
promtool_path() {
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  local tools="${CARGO_TARGET_DIR:-$repo/target}/tools"
  if [ ! -x "$tools/promtool" ]; then
    mkdir -p "$tools"
    local work
    work="$(mktemp -d "$tools/.prometheus.XXXXXX")"
    if ! (cd "$work" && apt-get download prometheus >/dev/null 2>&1); then
      if [ "$(id -u)" != 0 ]; then
        echo "promtool is missing: run as root (to fetch Debian's package lists), or put promtool on PATH" >&2
        rm -rf "$work"; return 1
      fi
      apt-get update -qq >&2
      (cd "$work" && apt-get download prometheus >/dev/null)
    fi
    dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
    mv -f "$work/root/usr/bin/promtool" "$tools/promtool"
    rm -rf "$work"
  fi
  echo "$tools/promtool"
}

if [ -f web/tests/setup.sh ]; then
  step "browser test requirements (chromium, Node.js 18+, npm packages)"
  bash web/tests/setup.sh
fi

step "promtool (from Debian's prometheus package, without its service)"
PROMTOOL="$(promtool_path)"
export PROMTOOL
"$PROMTOOL" --version 2>&1 | head -1

# The alerting rules must load and pass their unit tests (ops/README.md); a
# missing promtool already stopped the run above: this check never skips.
step "promtool check rules / test rules (ops/prometheus)"
(cd ops/prometheus && "$PROMTOOL" check rules alerts.yml && "$PROMTOOL" test rules alerts.test.yml)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# The records store's tests run against PostgreSQL too (docs/records.md): a
# server must be running; pg_isready (Debian's postgresql-client) checks it.
pg_url="${SWITCHBOARD_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
if ! command -v pg_isready >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    step "postgresql-client (pg_isready)"
    apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
  else
    echo "pg_isready is missing: install Debian's postgresql-client (it checks the PostgreSQL the records tests need)" >&2; exit 1
  fi
fi
pg_isready -q -d "$pg_url" 2>/dev/null || { echo "PostgreSQL is not reachable at $pg_url: checked with pg_isready; the records tests need it (start it, or set SWITCHBOARD_TEST_POSTGRES)" >&2; exit 1; }

step "cargo test"
log="$(mktemp "${TMPDIR:-/tmp}/switchboard-cargo-test.XXXXXX")"
trap 'rm -f "$log"' EXIT
cargo test --workspace --quiet 2>&1 | tee "$log"
grep -q "test result: ok" "$log"

if [ -f web/tests/run.sh ]; then
  step "web pages in headless Chromium"
  bash web/tests/run.sh
fi

step "all green"
