#!/usr/bin/env bash
# Fuzz every parser of bytes Postern takes from others (cargo-fuzz, libFuzzer, nightly Rust).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 600 s each, all targets)
#        scripts/fuzz.sh --ci                                (15 s each: what CI runs)
# Each target starts from its checked-in seeds (fuzz/corpus/TARGET, made by
# `cargo run --manifest-path fuzz/Cargo.toml --example seeds`) and every input that ever crashed
# it (fuzz/regressions/TARGET, replayed first); new corpus entries go to target/fuzz-corpus/.
# A crash stops the run with its input in fuzz/artifacts/TARGET/: add it to fuzz/regressions.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
if [ "${1:-}" = "--ci" ]; then
  seconds=15
  shift
elif [ -n "${1:-}" ] && [ "$1" -eq "$1" ] 2>/dev/null; then
  seconds=$1
  shift
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --version 0.13.2 --locked -q
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(smtp_server imap_session smtp_reply card invite vcard revocation carrier_statements pgp_mime_open letter stamp cargo list_wire list_frame device_requests device_flags gateway_recipient autocrypt_key)
fi
cd fuzz
cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
  work="../target/fuzz-corpus/$t"
  mkdir -p "$work"
  if [ -d "regressions/$t" ]; then
    cargo +nightly fuzz run -O "$t" "regressions/$t" -- -runs=0 >/dev/null 2>&1 ||
      { echo "fuzz $t: a past crash is back (fuzz/regressions/$t)"; exit 1; }
  fi
  out=$(cargo +nightly fuzz run -O "$t" "$work" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 2>&1) || {
    echo "$out" | tail -40
    echo "fuzz $t: CRASH (input in fuzz/artifacts/$t/)"
    exit 1
  }
  runs=$(echo "$out" | grep -oE 'Done [0-9]+ runs' | grep -oE '[0-9]+' || echo "?")
  echo "fuzz $t: $runs runs in $seconds s, no crash"
done
