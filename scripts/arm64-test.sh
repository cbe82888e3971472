#!/usr/bin/env bash
# The headless node cross-built for arm64 Linux (aarch64-unknown-linux-gnu, Debian's cross
# toolchain) and run under qemu-aarch64 against an amd64 node: a store, two identities, cards
# exchanged, mail both ways over the loopback transport (tests/arm64/node.py). Expects the
# native `target/debug/postern` (the test command has built it). Then the Depends its package
# declares (scripts/deb-depends.sh, as scripts/package-deb.sh computes them) are checked to
# resolve for arm64 in Debian's lists. Prints the build and test times and
# `arm64 node: N checks passed`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
# arm64's own C library, installed beside this machine's (multiarch), gives dpkg-shlibdeps its
# symbols; the arm64 package lists let apt check the Depends.
dpkg --print-foreign-architectures | grep -qx arm64 || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO dpkg --add-architecture arm64
}
scripts/setup.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file dpkg-dev \
  libc6:arm64 libgcc-s1:arm64
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  if ! err=$(rustup target add "$target" 2>&1); then
    echo "arm64 node: skipped (the $target target cannot be installed here: ${err##*$'\n'})"
    exit 0
  fi
fi
[ -x target/debug/postern ] || cargo build --locked -q -p postern-cli
start=$(date +%s)
cargo build --locked -q --target "$target" -p postern-cli
echo "arm64: cross-built postern in $(( $(date +%s) - start )) s"
start=$(date +%s)
python3 tests/arm64/node.py "target/$target/debug/postern" target/debug/postern
echo "arm64: emulated test in $(( $(date +%s) - start )) s"
# The package's Depends, from this binary (a release build links the same libraries).
scripts/deb-depends.sh arm64 "target/$target/debug/postern" >/dev/null
echo "arm64 package: its Depends resolve for arm64"
