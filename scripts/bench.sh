#!/usr/bin/env bash
# Run a benchmark (release build) with its baseline side by side. Usage: scripts/bench.sh NAME [ARGS]
#   tor    onion connect, launch->connect, memory: arti vs C tor on the private Tor network
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"; shift || true
case "$name" in
  tor)
    scripts/setup.sh build-essential pkg-config libssl-dev tor
    cargo build --release --locked -q -p postern-bench -p postern-cli
    exec target/release/tor-bench "$@" ;;
  *)
    echo "usage: scripts/bench.sh tor [N]" >&2; exit 2 ;;
esac
