#!/usr/bin/env bash
# Set up and run every Postern test: formatting, lints, unit and integration tests, the real-Tor
# tests on a private Tor network. This is the command CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build-essential pkg-config libssl-dev tor gnupg

export CARGO_TERM_COLOR=never
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
