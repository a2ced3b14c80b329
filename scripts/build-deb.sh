#!/usr/bin/env bash
# Builds the Debian package spread-rs, which installs what Spread's package
# does, with dpkg-deb (no cargo-deb): the daemon /usr/sbin/spread, the
# tools spuser, spflooder, splatency and spmonitor, libspread.so.3 with its
# link names, libspread.a, the headers and libspread.pc, man pages, the
# systemd unit spread.service (run as the system user spread, which the
# postinst creates) and /etc/spread.conf (a conffile).
#   usage: scripts/build-deb.sh [--debug] [OUTDIR]      (default OUTDIR: target/deb)
# --debug packages the debug build (the test does: it is built already)
# and compresses little; the package is otherwise the same.
# Prints the path of the .deb on its last line.
# Environment: DEB_MAINTAINER ("Name <mail>") for the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
target="${CARGO_TARGET_DIR:-target}"
out="${1:-$target/deb}"
for tool in dpkg-deb dpkg-architecture dpkg-shlibdeps strip gzip; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool is missing (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

package=spread-rs
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch

if [ "$profile" = release ]; then
  cargo build --release -q -p spread-daemon -p spread-tools -p spread-ffi
else
  # The builds scripts/test.sh and the C suite make already.
  cargo build -q --workspace --bins
  cargo build -q -p spread-ffi
fi
bin="$target/$profile"

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
doc="$root/usr/share/doc/$package"
install -d "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" "$root/etc" \
  "$root/usr/lib/systemd/system" "$doc"

# Programs and the library, without their debug information.
install -m 0755 "$bin/spread" "$root/usr/sbin/spread"
for tool in spuser spflooder splatency spmonitor; do
  install -m 0755 "$bin/$tool" "$root/usr/bin/$tool"
done
bash scripts/install-libspread.sh --no-build --libdir "$libdir" --destdir "$root" \
  $([ "$profile" = debug ] && echo --debug) /usr >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$root/usr/sbin/spread" "$root"/usr/bin/* "$root$libdir/libspread.so.3.0.0"
strip --strip-debug --remove-section=.comment "$root$libdir/libspread.a"
chmod 0644 "$root$libdir/libspread.so.3.0.0"

install -m 0644 packaging/deb/spread.conf "$root/etc/spread.conf"
install -m 0644 packaging/deb/spread.service "$root/usr/lib/systemd/system/spread.service"

# Man pages, compressed; every function a page describes gets a link to
# it (`man SP_leave` opens SP_join(3)), named in the page's NAME section.
for page in packaging/man/*.[1-8]; do
  name=$(basename "$page")
  section=${name##*.}
  dir="$root/usr/share/man/man$section"
  install -d "$dir"
  gzip -9n < "$page" > "$dir/$name.gz"
  chmod 0644 "$dir/$name.gz"
  # NAME: "FOO, BAR \- ..." on the line after .SH NAME.
  sed -n '/^\.SH NAME/{n;p;q}' "$page" | sed 's/ *\\-.*//; s/\\//g; s/,/ /g' | tr ' ' '\n' |
    while read -r alias; do
      [ -n "$alias" ] && [ "$alias" != "${name%.*}" ] || continue
      ln -sf "$name.gz" "$dir/$alias.$section.gz"
    done
done

# Debian's documentation files.
install -m 0644 packaging/deb/copyright "$doc/copyright"
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
printf '%s (%s) unstable; urgency=medium\n\n  * Package of spread-rs %s.\n\n -- %s  %s\n' \
  "$package" "$version" "$version" "${DEB_MAINTAINER:-spread-rs maintainers <spread-rs@localhost>}" "$date" |
  gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Depends: the libraries the programs need, as dpkg-shlibdeps finds them
# (it wants a debian/control to stand in).
mkdir -p "$work/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$package" "$package" > "$work/src/debian/control"
# (Its warning that the files are not in a package's directory yet is
# expected; anything else it says is shown if it fails.)
if ! found=$(cd "$work/src" && dpkg-shlibdeps -O -l"$root$libdir" \
  "$root/usr/sbin/spread" "$root"/usr/bin/* "$root$libdir/libspread.so.3.0.0" 2>"$work/shlibdeps.err"); then
  cat "$work/shlibdeps.err" >&2
  exit 1
fi
shlibs=$(sed -n 's/^shlibs:Depends=//p' <<<"$found")
[ -n "$shlibs" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies: $found" >&2; exit 1; }

for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"
done
echo /etc/spread.conf > "$root/DEBIAN/conffiles"
echo "activate-noawait ldconfig" > "$root/DEBIAN/triggers"
echo "libspread 3 $package (>= $version)" > "$root/DEBIAN/shlibs"
chmod 0644 "$root/DEBIAN/conffiles" "$root/DEBIAN/triggers" "$root/DEBIAN/shlibs"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-spread-rs maintainers <spread-rs@localhost>}
Installed-Size: $size
Depends: $shlibs, passwd
Provides: spread
Conflicts: spread, libspread1-dev
Replaces: spread, libspread1-dev
Section: net
Priority: optional
Description: Spread group communication toolkit (daemon, library, tools)
 A reimplementation in Rust of the Spread Toolkit 5.0.1: the spread daemon,
 which orders messages among groups of processes over a ring of daemons,
 the C client library libspread (libspread.so.3, sp.h and fl.h, Flush
 Spread included) and the tools spuser, spflooder, splatency and
 spmonitor. It speaks Spread 5.0.1's protocols: Spread's own clients and
 daemons work with it.
 .
 The systemd unit spread.service runs the daemon as the user spread; it is
 not enabled on installation.
CONTROL
chmod 0644 "$root/DEBIAN/control"

deb="$out/${package}_${version}_$arch.deb"
compress=(-Zxz)
[ "$profile" = debug ] && compress=(-Zgzip -z1)
dpkg-deb --root-owner-group "${compress[@]}" --build "$root" "$deb" >/dev/null
echo "$deb"
