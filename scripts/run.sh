#!/usr/bin/env bash
# Set up and run Postern.
#
#   scripts/run.sh                 the headless node on the real Tor network (`postern run`)
#   scripts/run.sh --local         local mode: start the project's private Tor network on
#                                  127.0.0.1 and run a node on it (works with no internet)
#   scripts/run.sh ARGS...         any other `postern` command, e.g. `identity list`
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build-essential pkg-config libssl-dev
if [ "${1:-}" = "--local" ]; then
  scripts/setup.sh tor
fi
cargo build --release --locked -q -p postern-cli -p postern-testnet
bin=target/release

if [ "${1:-}" = "--local" ]; then
  shift
  net=target/local/testnet
  rm -rf "$net"
  echo "Starting the private Tor network (4 authorities, 6 relays on 127.0.0.1)..."
  cfg=$("$bin/postern-testnet" up "$net" --owner-pid $$)
  export POSTERN_DATA_DIR="${POSTERN_DATA_DIR:-$PWD/target/local/node}"
  export POSTERN_PASSPHRASE="${POSTERN_PASSPHRASE:-local mode}"
  if [ ! -f "$POSTERN_DATA_DIR/postern.db" ]; then
    "$bin/postern" init
    "$bin/postern" identity new me --display-name "Local node"
  fi
  trap '"$bin/postern-testnet" down "$net" >/dev/null 2>&1 || true' EXIT
  "$bin/postern" run --network-config "$cfg" "$@"
  exit $?
fi

exec "$bin/postern" "${@:-run}"
