#!/usr/bin/env bash
# Set up and run Postern.
#
#   scripts/run.sh                 with a display: the desktop app; without one (or with
#                                  POSTERN_HEADLESS=1): the headless node on the real Tor
#                                  network (`postern run`)
#   scripts/run.sh --local         local mode: start the project's private Tor network on
#                                  127.0.0.1, run three nodes on it (alice, bob, and carol,
#                                  bob's carrier) and show them exchanging mail, then carol
#                                  holding mail for bob while he is offline; no internet needed
#   scripts/run.sh ARGS...         any other `postern` command, e.g. `identity list`
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build-essential pkg-config libssl-dev
if [ "${1:-}" = "--local" ]; then
  scripts/setup.sh tor
fi
cargo build --release --locked -q -p postern-cli -p postern-testnet
bin=$PWD/target/release

if [ $# -eq 0 ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${POSTERN_HEADLESS:-}" ]; then
  # The desktop app: the same core, the web UI in a window; it asks for the passphrase itself.
  scripts/setup.sh libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev file
  (cd ui && npm install --no-audit --no-fund --loglevel=error && npm run --silent build)
  cargo build --release --locked -q -p postern-app --features custom-protocol
  exec "$bin/postern-app"
fi

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
# Fresh nodes each run: the private network is new each time (new relays, new keys), and Tor
# state remembered from an old one (guards, descriptors) would only get in the way.
for who in alice bob carol; do
  rm -rf "${root:?}/$who" "$root/$who.log"
  pg "$who" init >/dev/null
  pg "$who" identity new "$who" --display-name "${who^} (local)" >/dev/null
done
addr() { pg "$1" --json identity show "$1" | sed -n 's/.*"address": "\(.*\)".*/\1/p'; }
alice=$(addr alice); bob=$(addr bob); carol=$(addr carol)
pg alice contact add -i alice "$(pg bob identity export-card bob)" >/dev/null
pg bob contact add -i bob "$(pg alice identity export-card alice)" >/dev/null
# Carol carries mail for Bob; Bob names her as his carrier (his contacts learn it).
pg carol contact add -i carol "$(pg bob identity export-card bob)" >/dev/null
pg carol carrier on -i carol >/dev/null
pg carol carrier policy -i carol --allow "$bob" >/dev/null
pg bob carriers -i bob --add "$carol" >/dev/null 2>&1
echo "alice: $alice"
echo "bob:   $bob"
echo "carol: $carol (carrier for bob)"

declare -A pid
start() {
  "$bin/postern" --data-dir "$root/$1" run --network-config "$cfg" >>"$root/$1.log" 2>&1 &
  pid[$1]=$!; pids+=($!)
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  for _ in $(seq 1 "$limit"); do "$@" && return 0; sleep 1; done
  echo "(gave up waiting for $what)"; return 1
}
for who in alice bob carol; do start "$who"; done

echo
echo "1. Alice writes to Bob; both are online."
pg alice send --from alice --to "$bob" --subject "Hello from local mode" \
  --body "This message went from Alice's node to Bob's over onion services on the private Tor network." >/dev/null
wait_for 120 "the first message" sh -c "'$bin/postern' --data-dir '$root/bob' --json inbox | grep -q '\"id\"'"
pg bob inbox
wait_for 120 "Alice to learn Bob's carrier" sh -c "'$bin/postern' --data-dir '$root/alice' --json carriers -i alice | grep -q '\"k\"'"

echo
echo "2. Bob goes offline. Alice writes again: her node hands the sealed message to Carol."
kill "${pid[bob]}"; wait "${pid[bob]}" 2>/dev/null || true
echo "   (Bob's node stopped)"
pg alice send --from alice --to "$bob" --subject "While you were away" \
  --body "Carol held this for you; she could not read it." >/dev/null
wait_for 180 "the hand-over to Carol" sh -c "'$bin/postern' --data-dir '$root/alice' --json outbox | grep -q '\"state\": \"carried\"'"
pg alice outbox
pg carol carriers -i carol

echo
echo "3. Bob comes back and asks Carol for what she holds; Alice learns it was delivered via Carol."
start bob
wait_for 180 "Carol's delivery" sh -c "'$bin/postern' --data-dir '$root/bob' --json inbox | grep -q 'While you were away'"
pg bob inbox
wait_for 120 "Carol's receipt" sh -c "'$bin/postern' --data-dir '$root/alice' outbox | grep -q 'via carrier'"
pg alice outbox
echo
echo "All three nodes keep running (logs in $root/*.log). Try, in another terminal:"
echo "  POSTERN_PASSPHRASE='$POSTERN_PASSPHRASE' target/release/postern --data-dir $root/bob send --from bob --to $alice --body hi"
echo "Ctrl-C stops everything."
wait
