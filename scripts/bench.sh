#!/usr/bin/env bash
# Run benchmarks (release build), each with its baseline side by side in the same invocation.
# Usage: scripts/bench.sh [NAME [ARGS...]]   (no NAME: all of them)
#   tor      onion connect + first byte, launch -> connect, memory: arti vs C tor (private Tor net);
#            `tor memory`: P5, node RSS for 1, 3, 10 identities, with and without Tor, vs N C tor clients;
#            `tor connect [N]`: onion connect only, like for like (C tor's NEWNYM) and back to back
#   pgp      P3: OpenPGP encrypt+sign / decrypt+verify, in-process vs the gpg CLI
#   ingest   P2: durable ingest vs Postfix's smtp-sink (unpacked only) and Postfix storing durably (installed)
#   mail     P1: send -> stored over the private Tor network vs raw onion connect + echo
#   carrier  P7: a carrier drains 10,000 held messages vs the recipient's direct ingest
#   crash    kill -9 during DATA, 1000 trials
#   qr       the QR scanner on a randomised corpus (new payload each round; goal 100%)
#   load     a contact's delivery time while 2,000 idle streams and 50 strangers load the node
#   stamp    the cost of a first message's proof-of-work stamp, minting vs checking
#   gateway  G1: the gateway's outbound throughput vs Postfix relaying the same messages to one sink
#   list     P6: list gossip (tree vs flooding) in the simulator: RMR, delivery, hops, bytes per member
#   imap     IMAP on 10,000 messages: UID FETCH headers, mbsync full sync, IDLE: Postern vs Dovecot
#   store    P4 search on 100,000 messages, ingest, open and passphrase change: encrypted vs not
#   device   a second device by link: a 10,000-message store over Tor vs a raw onion stream
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-all}"; shift || true

scripts/setup.sh build-essential pkg-config libssl-dev tor gnupg
cargo build --release --locked -q -p postern-bench -p postern-cli

postfix() {
  if [ ! -x target/postfix/usr/sbin/smtp-sink ]; then
    d=$(mktemp -d)
    (cd "$d" && apt-get download postfix >/dev/null)
    mkdir -p target/postfix
    dpkg-deb -x "$d"/postfix_*.deb target/postfix
    rm -rf "$d"
  fi
}

run() {
  case "$1" in
    tor) target/release/tor-bench "${@:2}" ;;
    # Without the backtrace switch a developer's shell may carry: sequoia makes (and drops) an
    # error value while finishing each message, and with it set each one captures a backtrace.
    pgp) env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE target/release/pgp-bench "${@:2}" ;;
    ingest) postfix; scripts/setup.sh postfix; target/release/ingest-bench "${@:2}" ;;
    mail) target/release/mail-tor-bench "${@:2}" ;;
    device) target/release/device-bench "${@:2}" ;;
    carrier) target/release/carrier-bench "${@:2}" ;;
    qr) target/release/qr-bench "${@:2}" ;;
    load) target/release/load-bench "${@:2}" ;;
    stamp) target/release/stamp-bench "${@:2}" ;;
    gateway) scripts/setup.sh postfix python3-dkim; target/release/gateway-bench "${@:2}" ;;
    list) cargo bench --locked -q -p postern-list --bench gossip -- "${@:2}" ;;
    imap) scripts/setup.sh isync dovecot-imapd; python3 tests/mail-clients/imap_bench.py target/release/postern "${@:2}" ;;
    store) cargo bench --locked -q -p postern-store --bench store -- "${@:2}" ;;
    crash) POSTERN_CRASH_TRIALS="${2:-1000}" cargo test --release --locked -q -p postern-cli --test crash -- --nocapture 2>&1 | grep -E "trials in|test result" ;;
    *) echo "usage: scripts/bench.sh [tor|pgp|ingest|mail|carrier|crash|qr|load|stamp|gateway|list|store|imap] [ARGS]" >&2; exit 2 ;;
  esac
}

if [ "$name" = all ]; then
  for b in pgp ingest carrier mail tor crash qr load stamp list store imap device; do echo "== $b"; run "$b"; echo; done
else
  run "$name" "$@"
fi
