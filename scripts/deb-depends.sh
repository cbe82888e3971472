#!/usr/bin/env bash
# The Depends line of a Debian package holding the given ELF files, as dpkg-shlibdeps computes it
# for ARCH, checked to resolve for ARCH: every package has a candidate for ARCH in Debian's lists
# whose version satisfies the dependency, and `apt-get install --simulate` of them all succeeds.
# Prints the Depends line on stdout; fails (exit 1) with the reason on stderr.
#
#   scripts/deb-depends.sh ARCH [--sysroot DIR] FILE...
#
# --sysroot: libraries not installed on this machine come from that sysroot
# (scripts/arm64-sysroot.sh); dpkg-shlibdeps reads their symbols files from their packages,
# unpacked (-S), found through the sysroot's index.
set -euo pipefail
arch=${1:?"usage: deb-depends.sh ARCH [--sysroot DIR] FILE..."}
shift
sysroot=""
if [ "${1:-}" = "--sysroot" ]; then
  sysroot=$2
  shift 2
fi
[ $# -gt 0 ] || { echo "deb-depends: no files" >&2; exit 2; }
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
tools=""
[ "$arch" = "$(dpkg --print-architecture)" ] || tools=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)-

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: postern\n\nPackage: postern\nArchitecture: any\n' > "$tmp/debian/control"
files=()
for f in "$@"; do files+=("$(realpath "$f")"); done

from=()
if [ -n "$sysroot" ]; then
  needed=$(for f in "${files[@]}"; do "${tools}readelf" -d "$f"; done \
    | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)
  # One package per library: two packages shipping the same soname (libsystemd0 and
  # libelogind0 both do) would leave the choice to the order of -S, so that is an error.
  owners=$(awk -v needed="$needed" -v dir="/$multiarch/" '
      BEGIN { split(needed, l, "\n"); for (i in l) want[l[i]] = 1 }
      { n = split($3, part, "/"); if (index($3, dir) && (part[n] in want)) print part[n], $2 }' \
      "$(dirname "$sysroot")/index" | sort -u)
  twice=$(cut -d' ' -f1 <<<"$owners" | uniq -d)
  [ -z "$twice" ] || {
    echo "deb-depends: more than one package in the sysroot ships a library it needs:" >&2
    grep -F "$twice" <<<"$owners" >&2; exit 1; }
  for deb in $(cut -d' ' -f2 <<<"$owners" | sort -u); do
    unpacked=$tmp/$(basename "$deb" .deb)
    dpkg-deb -R "$deb" "$unpacked"
    from+=("-S$unpacked")
  done
fi

depends=$(cd "$tmp" && DEB_HOST_ARCH=$arch DEB_HOST_MULTIARCH=$multiarch \
  dpkg-shlibdeps -O "${from[@]}" "${files[@]}" 2>"$tmp/errors" | sed -n 's/^shlibs:Depends=//p') || true
[ -n "$depends" ] || { echo "deb-depends: dpkg-shlibdeps found no Depends:" >&2; cat "$tmp/errors" >&2; exit 1; }

# One alternative, "name (op version)", resolves if the architecture has a candidate of a
# version that satisfies it; prints the name:arch to install.
resolves() {
  local name=$1 op=${2#(} want=${3%)} have
  have=$(apt-cache policy "$name:$arch" | sed -n 's/^ *Candidate: //p')
  [ -n "$have" ] && [ "$have" != "(none)" ] || return 1
  [ -z "$op" ] || dpkg --compare-versions "$have" "$op" "$want" || return 1
  echo "$name:$arch"
}
names=()
while read -r entry; do
  # Any one of "a (>= 1) | b" will do: the first that resolves.
  chosen=""
  while read -r name op want; do
    chosen=$(resolves "$name" "$op" "$want") && break
  done < <(tr '|' '\n' <<<"$entry" | sed 's/^ *//')
  [ -n "$chosen" ] || { echo "deb-depends: nothing in Debian's $arch lists satisfies: $entry" >&2; exit 1; }
  names+=("$chosen")
done < <(tr ',' '\n' <<<"$depends" | sed 's/^ *//')
apt-get install --simulate -qq "${names[@]}" >/dev/null || {
  echo "deb-depends: apt-get cannot install ${names[*]} for $arch" >&2; exit 1; }
echo "deb-depends: resolve for $arch: $depends" >&2
echo "$depends"
