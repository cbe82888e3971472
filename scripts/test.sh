#!/usr/bin/env bash
# Set up and run every Postern test: formatting, lints, unit and integration tests, and the
# real-Tor tests on the project's private Tor network. This is the command CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests that need tor must run here; they fail rather than show as ignored (see
# postern_testnet::declare_tor_cfg). Set before any build, so build scripts see it once.
export POSTERN_REQUIRE_TOR=1
# A clean build of everything (app, benches, fuzz targets) is about 8 GB without incremental
# caches and 11 GB with them; CI builds once from scratch, so the caches are only disk spent.
export CARGO_INCREMENTAL=0
# The gateway's tests run Debian's Postfix as the ordinary mail server; it needs root (it drops
# to its own users). As root they must run; otherwise they say they were skipped.
if [ "$(id -u)" -eq 0 ]; then export POSTERN_REQUIRE_POSTFIX=1; fi

scripts/setup.sh build-essential pkg-config libssl-dev tor gnupg \
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev file \
  chromium webkit2gtk-driver xvfb xauth dbus python3-dbusmock isync curl dovecot-imapd neomutt tmux torsocks \
  desktop-file-utils appstream postfix python3-dkim openssl

# The web UI first: the app crate embeds its build. (`npm install` rather than `npm ci`: the
# registry's metadata for other platforms' optional packages differs from the lockfile's, which
# `npm ci` refuses; `npm install` keeps the locked versions.)
echo "== ui (npm install, build)"
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run --silent build)

export CARGO_TERM_COLOR=never
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== android (the crates with no C build step, cargo check)"
android=$(scripts/android-check.sh)
echo "$android"

echo "== private Tor network"
cargo build --locked -q -p postern-testnet
net=$(mktemp -d -t postern-testnet-XXXXXX)
trap 'target/debug/postern-testnet down "$net" >/dev/null 2>&1 || true; rm -rf "$net"' EXIT
target/debug/postern-testnet up "$net" --owner-pid $$ >/dev/null
export POSTERN_TESTNET_DIR="$net"

echo "== cargo test"
log=$(mktemp -t postern-test-XXXXXX.log)
status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over every test binary.
# Real mail clients (imaplib, smtplib, curl, mbsync, NeoMutt in tmux; a differential test against
# Dovecot) against the IMAP and submission servers.
if [ "$status" -eq 0 ]; then
  echo "== mail clients"
  python3 tests/mail-clients/clients.py target/debug/postern 2>&1 | tee -a "$log" || status=$?
fi
if [ "$status" -eq 0 ]; then
  scripts/app-test.sh 2>&1 | tee -a "$log" || status=$?
fi
# The node cross-built for arm64 Linux phones, under qemu, exchanging mail with this machine's.
if [ "$status" -eq 0 ]; then
  echo "== arm64 node (cross-built, under qemu)"
  scripts/arm64-test.sh 2>&1 | tee -a "$log" || status=$?
fi
# Every parser of others' bytes, fuzzed briefly from its seeds (scripts/fuzz.sh runs them long).
if [ "$status" -eq 0 ]; then
  echo "== fuzz (15 s per target)"
  scripts/fuzz.sh --ci 2>&1 | tee -a "$log" || status=$?
fi
echo "$android" >> "$log"
awk '/^test result:|^ui screens:|^app window:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed[;,]?$/) p += $(i-1); if ($i ~ /^failed[;,]?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     /^app window test FAILED/ { f++ }
     /^fuzz [a-z_]+: .*no crash$/ { p++ }
     /^mail clients: [0-9]+ checks passed$/ { p += $3 }
     /^android check: [0-9]+ crates passed/ { p += $3 }
     /^arm64 node: [0-9]+ checks passed$/ { p += $3 }
     /^arm64 package: its Depends resolve for arm64$/ { p++ }
     /^arm64 node: skipped/ { s++ }
     /^android check: skipped/ { s++ }
     /^fuzz [a-z_]+: (CRASH|a past crash)/ { f++ }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
