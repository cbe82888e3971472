#!/usr/bin/env bash
# An arm64 sysroot for cross-building the app (WebKitGTK, GTK, OpenSSL) for arm64 Linux phones:
# Debian's own arm64 packages, downloaded with apt-get and unpacked under target/arm64-sysroot/
# — not installed. (Installing WebKitGTK's -dev packages for arm64 beside the amd64 ones is not
# possible on Debian 12: gobject-introspection:arm64 needs python3:arm64, and the runtime
# libraries would upgrade or remove amd64 packages.) Idempotent: nothing is downloaded again
# once the sysroot matches the package lists.
#
#   scripts/arm64-sysroot.sh   prints the sysroot's path on its last line
#
# Also writes target/arm64-sysroot/index: "package file" for every file in the sysroot, which
# package-deb.sh uses to find the package a library comes from (for dpkg-shlibdeps).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/target/arm64-sysroot
root=$dir/root
debs=$dir/debs
# What the app links against, as on the native build (scripts/package-deb.sh).
dev=(libwebkit2gtk-4.1-dev libssl-dev)

dpkg --print-foreign-architectures | grep -qx arm64 || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
}
apt-cache show libc6:arm64 >/dev/null 2>&1 || {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
}

# The packages the -dev packages need, recursively: arm64 ones, and architecture-independent
# ones (headers such as x11proto-dev, data such as shared-mime-info's .pc).
mkdir -p "$debs"
names=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances --no-pre-depends "${dev[@]/%/:arm64}" 2>/dev/null \
  | grep -v '^ ' | grep -v '^<' | sort -u)
arm64=$(grep ':arm64$' <<<"$names" || true)
others=$(grep -v ':arm64$' <<<"$names" || true)
# shellcheck disable=SC2086
all=$(apt-cache show --no-all-versions $others 2>/dev/null \
  | awk '/^Package: /{p=$2} /^Architecture: all$/{print p}' | sort -u)
wanted=$(printf '%s\n%s\n' "$arm64" "$all" | sed '/^$/d' | sort -u)
[ -n "$arm64" ] || { echo "arm64-sysroot: apt-cache names no arm64 packages for ${dev[*]}" >&2; exit 1; }
stamp=$(printf '%s\n' "$wanted" | xargs apt-cache show --no-all-versions 2>/dev/null \
  | sed -n 's/^SHA256: //p' | sha256sum | cut -d' ' -f1)
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] && [ -d "$root" ]; then
  echo "arm64-sysroot: up to date ($(wc -l <<<"$wanted") packages)" >&2
  echo "$root"
  exit 0
fi

echo "arm64-sysroot: downloading $(wc -l <<<"$wanted") packages" >&2
rm -rf "$dir/stamp" "$debs"
mkdir -p "$debs"
# apt's sandbox user must be able to write there; the sysroot is ours, so download as we are.
# shellcheck disable=SC2086
(cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root $wanted)

rm -rf "$root" "$dir/index"
mkdir -p "$root"
for deb in "$debs"/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -x "$deb" "$root"
  dpkg-deb -c "$deb" | awk -v p="$pkg" -v d="$deb" '{ f=$6; sub(/^\./, "", f); print p, d, f }' >> "$dir/index"
done
# Absolute links (libfoo.so -> /lib/aarch64-linux-gnu/libfoo.so.1) point into the sysroot instead.
find "$root" -type l -lname '/*' | while read -r link; do
  ln -sfn "$(realpath -m -s --relative-to="$(dirname "$link")" "$root$(readlink "$link")")" "$link"
done
echo "$stamp" > "$dir/stamp"
echo "arm64-sysroot: $(du -sh "$root" | cut -f1) in $root" >&2
echo "$root"
