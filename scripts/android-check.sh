#!/usr/bin/env bash
# Android groundwork: every crate with no C build step type-checks for aarch64-linux-android.
# The crates that need a C toolchain (SQLCipher, OpenSSL, arti's compressors) need the Android
# NDK, which no registry we reach provides; mobile/README.md lists what each needs. A crate that
# gains a C build step fails here (no NDK compiler), which is the point.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-linux-android
crates=(postern-types postern-card postern-crypto postern-mime postern-smtp postern-imap
  postern-qr postern-carry postern-list)
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  if ! err=$(rustup target add "$target" 2>&1); then
    echo "android check: skipped (the $target target cannot be installed here: ${err##*$'\n'})"
    exit 0
  fi
fi
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
start=$(date +%s)
cargo check --locked --quiet --target "$target" "${args[@]}"
echo "android check: ${#crates[@]} crates passed for $target in $(( $(date +%s) - start )) s"
