#!/usr/bin/env bash
# Build Postern's Debian packages into target/debian/:
#   postern-app_<v>_<arch>.deb          the app (Tauri), with its desktop entry, AppStream
#                                       metainfo and icons (packaging/, shown by phone shells too)
#   postern_<v>_<arch>.deb              the headless node, with a systemd user unit and a system
#                                       unit for always-on machines (carriers)
#   postern-app-dbgsym_…, postern-dbgsym_…  their debug symbols (by build-id, for gdb)
# Binaries are shipped stripped; Depends come from dpkg-shlibdeps; lintian runs on the result and
# any error fails the build. Not part of the test command (release builds take a while).
#
#   scripts/package-deb.sh               this machine's architecture: the app and the node
#   scripts/package-deb.sh --arch arm64  arm64 Linux (phones running ordinary Linux, servers),
#                                        cross-built with Debian's toolchain against an arm64
#                                        sysroot of Debian's packages (scripts/arm64-sysroot.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
if [ "${1:-}" = "--arch" ]; then
  arch=${2:?"--arch needs an architecture (arm64)"}
fi
native=$(dpkg --print-architecture)
sysroot=""
case "$arch" in
  "$native") rust_target=""; tools=""; run=() ;;
  arm64)
    rust_target=aarch64-unknown-linux-gnu; tools=aarch64-linux-gnu-
    # arm64's own C library (multiarch, installed below) runs the packaged binary.
    run=(qemu-aarch64 -L /)
    # dpkg-shlibdeps reads the arm64 C library's symbols from its arm64 package (multiarch).
    dpkg --print-foreign-architectures | grep -qx arm64 || {
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO dpkg --add-architecture arm64
    }
    scripts/setup.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
      qemu-user libc6:arm64 libgcc-s1:arm64 file dpkg-dev lintian systemd
    rustup target list --installed | grep -qx "$rust_target" || rustup target add "$rust_target"
    ;;
  *) echo "package-deb: cannot build for $arch (this machine's $native, or arm64)" >&2; exit 2 ;;
esac
if [ -z "$rust_target" ]; then
  scripts/setup.sh build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libxdo-dev \
    libayatana-appindicator3-dev librsvg2-dev file binutils dpkg-dev lintian systemd
  (cd ui && npm install --no-audit --no-fund --loglevel=error && npm run --silent build)
  ui/node_modules/.bin/tauri build --bundles deb
  cargo build --release --locked -p postern-cli
  bin=target/release
else
  # The app links WebKitGTK and GTK from the sysroot; the node needs only the C library, but is
  # built with the same flags so the two share their dependencies' builds.
  sysroot=$(scripts/arm64-sysroot.sh | tail -1)
  multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
  export PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_SYSROOT_DIR="$sysroot" PKG_CONFIG_PATH="$sysroot/usr/share/pkgconfig"
  export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$multiarch/pkgconfig:$sysroot/usr/share/pkgconfig"
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=--sysroot=$sysroot \
    -C link-arg=-Wl,-rpath-link,$sysroot/usr/lib/$multiarch -C link-arg=-Wl,-rpath-link,$sysroot/lib/$multiarch"
  (cd ui && npm install --no-audit --no-fund --loglevel=error && npm run --silent build)
  cargo build --release --locked --target "$rust_target" -p postern-app --features custom-protocol
  cargo build --release --locked --target "$rust_target" -p postern-cli
  bin=target/$rust_target/release
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
out=target/debian
work=$out/work
rm -rf "$work" "$out"/*_"$arch".deb
mkdir -p "$work"
# No list yet: a reserved .invalid address says so (lintian refuses localhost).
maintainer="Postern developers <maintainers@postern.invalid>"

# Move the debug information of ELF file $2 (inside package root $1) into dbgsym root $3, under
# /usr/lib/debug/.build-id, and strip the file, leaving a debuglink.
split_debug() {
  local root=$1 file=$2 dbg=$3 id
  id=$(${tools}readelf -n "$root/$file" | sed -n 's/.*Build ID: \([0-9a-f]*\)/\1/p')
  [ -n "$id" ] || { echo "package-deb: $file has no build-id" >&2; exit 1; }
  local target="$dbg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
  mkdir -p "$(dirname "$target")"
  ${tools}objcopy --only-keep-debug --compress-debug-sections "$root/$file" "$target"
  chmod 644 "$target"
  ${tools}strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/$file"
  ${tools}objcopy --add-gnu-debuglink="$target" "$root/$file"
  echo "$id"
}

# The shared-library Depends of the ELF files given (dpkg-shlibdeps), checked to resolve for $arch.
shlib_depends() { scripts/deb-depends.sh "$arch" ${sysroot:+--sysroot "$sysroot"} "$@"; }

# Documentation every package carries: copyright and a changelog.
add_docs() {
  local root=$1 pkg=$2
  install -D -m 644 packaging/copyright "$root/usr/share/doc/$pkg/copyright"
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Postern source tree.\n\n -- %s  %s\n' \
    "$pkg" "$version" "$maintainer" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
    | gzip -9n > "$root/usr/share/doc/$pkg/changelog.gz"
  chmod 644 "$root/usr/share/doc/$pkg/changelog.gz"
}

installed_size() { du -sk --exclude=DEBIAN "$1" | cut -f1; }

# A dbgsym package for $1 (package name) from root $2 with build-ids $3.
dbgsym() {
  local pkg=$1 root=$2 ids=$3
  mkdir -p "$root/DEBIAN"
  add_docs "$root" "$pkg-dbgsym"
  rm -rf "$root/usr/share/doc/$pkg-dbgsym"
  mkdir -p "$root/usr/share/doc"
  ln -s "$pkg" "$root/usr/share/doc/$pkg-dbgsym"
  cat > "$root/DEBIAN/control" <<CONTROL
Package: $pkg-dbgsym
Source: postern
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$root")
Depends: $pkg (= $version)
Section: debug
Priority: optional
Auto-Built-Package: debug-symbols
Build-Ids: $ids
Description: debug symbols for $pkg
CONTROL
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${pkg}-dbgsym_${version}_${arch}.deb" >/dev/null
}

# --- The app: Tauri's package (natively) or its binary (cross-built), named postern-app,
# stripped, its Depends recomputed.
app=$work/postern-app
if [ -z "$rust_target" ]; then
  dpkg-deb -R target/release/bundle/deb/*_"${arch}".deb "$app"
else
  install -D -m 755 "$bin/postern-app" "$app/usr/bin/postern-app"
  mkdir -p "$app/DEBIAN"
fi
ids=$(split_debug "$app" usr/bin/postern-app "$work/postern-app-dbgsym")
# What desktop and phone shells read, instead of the bundler's: our desktop entry (phone form
# factors for Phosh and Plasma Mobile) named after the window's app id (the binary's name: Tauri
# sets no GTK app id), the icons under that name, and AppStream metainfo (phone screens, touch)
# under the app's identifier.
app_id=postern-app
component=$(python3 -c 'import json; print(json.load(open("src-tauri/tauri.conf.json"))["identifier"])')
rm -rf "$app/usr/share/applications" "$app/usr/share/icons"
install -D -m 644 "packaging/$app_id.desktop" "$app/usr/share/applications/$app_id.desktop"
install -D -m 644 "packaging/$component.metainfo.xml" "$app/usr/share/metainfo/$component.metainfo.xml"
for icon in 32x32:icons/32x32.png 128x128:icons/128x128.png 512x512:icons/icon.png; do
  size=${icon%%:*}
  install -D -m 644 "${icon#*:}" "$app/usr/share/icons/hicolor/$size/apps/$app_id.png"
done
add_docs "$app" postern-app
depends=$(shlib_depends "$app/usr/bin/postern-app")
cat > "$app/DEBIAN/control" <<CONTROL
Package: postern-app
Source: postern
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$app")
Depends: $depends
Section: mail
Priority: optional
Description: email without mail servers, over Tor (desktop app)
 Postern is email where each person runs their own mail endpoint,
 reachable only as a Tor onion service. Mail is end-to-end encrypted
 with OpenPGP; people meet by scanning QR codes or being introduced;
 trusted friends' devices hold sealed mail for people who are offline.
 .
 This package is the desktop app.
CONTROL
(cd "$app" && find usr -type f -exec md5sum {} + | sort -k2) > "$app/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$app" "$out/postern-app_${version}_${arch}.deb" >/dev/null
dbgsym postern-app "$work/postern-app-dbgsym" "$ids"

# --- The headless node.
node=$work/postern
install -D -m 755 "$bin/postern" "$node/usr/bin/postern"
ids=$(split_debug "$node" usr/bin/postern "$work/postern-dbgsym")
install -D -m 644 packaging/postern.service "$node/lib/systemd/system/postern.service"
install -D -m 644 packaging/postern-user.service "$node/usr/lib/systemd/user/postern.service"
add_docs "$node" postern
install -m 644 README.md "$node/usr/share/doc/postern/README.md"
depends=$(shlib_depends "$node/usr/bin/postern")
mkdir -p "$node/DEBIAN"
cat > "$node/DEBIAN/control" <<CONTROL
Package: postern
Source: postern
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$node")
Depends: $depends
Suggests: tor, torsocks
Section: mail
Priority: optional
Description: email without mail servers, over Tor (headless node)
 Postern is email where each person runs their own mail endpoint,
 reachable only as a Tor onion service. Mail is end-to-end encrypted
 with OpenPGP; people meet by scanning QR codes or being introduced;
 trusted friends' devices hold sealed mail for people who are offline.
 .
 This package is the command-line tool and headless node, with systemd
 units to run it for a user or, on an always-on machine, as a system
 service.
CONTROL
(cd "$node" && find usr lib -type f -exec md5sum {} + | sort -k2) > "$node/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$node" "$out/postern_${version}_${arch}.deb" >/dev/null
dbgsym postern "$work/postern-dbgsym" "$ids"
rm -rf "$work"

# The systemd units as shipped, checked by systemd itself (ExecStart pointed at the packaged
# binary, which must run).
check=$(mktemp -d)
dpkg-deb -x "$out/postern_${version}_${arch}.deb" "$check/root"
"${run[@]}" "$check/root/usr/bin/postern" --version
mkdir -m 700 "$check/run"
sed "s|/usr/bin/postern|$check/root/usr/bin/postern|" "$check/root/lib/systemd/system/postern.service" \
  > "$check/postern.service"
systemd-analyze verify "$check/postern.service"
sed "s|/usr/bin/postern|$check/root/usr/bin/postern|" "$check/root/usr/lib/systemd/user/postern.service" \
  > "$check/postern-user.service"
XDG_RUNTIME_DIR="$check/run" systemd-analyze --user verify "$check/postern-user.service"
rm -rf "$check"

# lintian: errors fail the build (warnings are shown).
status=0
for deb in "$out"/*_"$arch".deb; do
  lintian --tag-display-limit 0 "$deb" || status=$?
done
for deb in "$out"/*_"$arch".deb; do
  printf '%-45s %8s KiB  Installed-Size %s KiB\n' "$(basename "$deb")" \
    "$(( $(stat -c %s "$deb") / 1024 ))" "$(dpkg-deb -f "$deb" Installed-Size)"
done
exit $status
