#!/usr/bin/env bash
# Set up and run Postern.
#
#   scripts/run.sh                 the headless node on the real Tor network (`postern run`)
#   scripts/run.sh --local         local mode: start the project's private Tor network on
#                                  127.0.0.1, run two nodes (alice, bob) on it and show them
#                                  exchanging mail; works with no internet
#   scripts/run.sh ARGS...         any other `postern` command, e.g. `identity list`
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build-essential pkg-config libssl-dev
if [ "${1:-}" = "--local" ]; then
  scripts/setup.sh tor
fi
cargo build --release --locked -q -p postern-cli -p postern-testnet
bin=$PWD/target/release

if [ "${1:-}" != "--local" ]; then
  if [ $# -eq 0 ]; then
    # First start: create the store (one passphrase, asked once here) and a first identity.
    data="${POSTERN_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/postern}"
    export POSTERN_DATA_DIR="$data"
    if [ -z "${POSTERN_PASSPHRASE:-}" ] && [ -t 0 ]; then
      read -rsp "Passphrase: " POSTERN_PASSPHRASE; echo
      if [ ! -f "$data/postern.db" ]; then
        read -rsp "Repeat it: " again; echo
        [ "$again" = "$POSTERN_PASSPHRASE" ] || { echo "The passphrases differ." >&2; exit 2; }
      fi
      export POSTERN_PASSPHRASE
    fi
    if [ ! -f "$data/postern.db" ]; then
      "$bin/postern" init
      "$bin/postern" identity new "${POSTERN_IDENTITY:-me}"
    fi
    exec "$bin/postern" run
  fi
  exec "$bin/postern" "$@"
fi

# ---- Local mode -----------------------------------------------------------------------------
root=$PWD/target/local
mkdir -p "$root"
export POSTERN_PASSPHRASE="${POSTERN_PASSPHRASE:-local mode}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$bin/postern-testnet" down "$root/testnet" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "Starting the private Tor network (4 authorities, 6 relays, all on 127.0.0.1)..."
rm -rf "$root/testnet"
cfg=$("$bin/postern-testnet" up "$root/testnet" --owner-pid $$)

pg() { local who=$1; shift; "$bin/postern" --data-dir "$root/$who" "$@"; }
for who in alice bob; do
  if [ ! -f "$root/$who/postern.db" ]; then
    pg "$who" init >/dev/null
    pg "$who" identity new "$who" --display-name "${who^} (local)" >/dev/null
  fi
done
addr() { pg "$1" --json identity show "$1" | sed -n 's/.*"address": "\(.*\)".*/\1/p'; }
alice=$(addr alice); bob=$(addr bob)
pg alice contact add -i alice "$(pg bob identity export-card bob)" >/dev/null
pg bob contact add -i bob "$(pg alice identity export-card alice)" >/dev/null
echo "alice: $alice"
echo "bob:   $bob"

for who in alice bob; do
  pg "$who" run --network-config "$cfg" >"$root/$who.log" 2>&1 &
  pids+=($!)
done
pg alice send --from alice --to "$bob" --subject "Hello from local mode" \
  --body "This message went from Alice's node to Bob's over onion services on the private Tor network." >/dev/null
echo "Alice sent Bob a message; waiting for it to arrive over Tor..."
for _ in $(seq 1 120); do
  n=$(pg bob --json inbox | grep -c '"id"' || true)
  [ "$n" -gt 0 ] && break
  sleep 1
done
echo
echo "--- Bob's inbox"
pg bob inbox
id=$(pg bob --json inbox | sed -n 's/.*"id": \([0-9]*\).*/\1/p' | head -1)
[ -n "$id" ] && { echo "--- Bob reads it"; pg bob read "$id"; }
echo "--- Alice's outbox"
pg alice outbox
echo
echo "Both nodes keep running (logs in $root/*.log). Try, in another terminal:"
echo "  POSTERN_PASSPHRASE='$POSTERN_PASSPHRASE' target/release/postern --data-dir $root/bob send --from bob --to $alice --body hi"
echo "Ctrl-C stops everything."
wait
