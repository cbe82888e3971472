#!/usr/bin/env bash
# Install what Postern needs on Debian 12, idempotently. Only Debian's own package archive is used.
set -euo pipefail

need=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${need[*]}" >&2
for try in 1 2 3; do
  if $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600 &&
     DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
       -o DPkg::Lock::Timeout=600 "${need[@]}"; then
    exit 0
  fi
  echo "setup: apt failed (try $try of 3), retrying" >&2
  sleep $((try * 5))
done
echo "setup: could not install ${need[*]}" >&2
exit 1
