#!/usr/bin/env bash
# Installs libspread (our C API) into a prefix: headers, the shared library
# with Spread 5's soname and its links, the static library, the other
# library names Spread 5 ships (libspread-core, libtspread-core), and a
# pkg-config file, so that `cc app.c $(pkg-config --cflags --libs libspread)`
# works.
#   usage: scripts/install-libspread.sh [--debug] [--no-build]
#            [--libdir DIR] [--destdir DIR] PREFIX          (e.g. /usr/local)
# --libdir  where the libraries and pkgconfig/ go (default PREFIX/lib)
# --destdir stage the files under DIR, as a package build does; PREFIX and
#           the libdir are the paths written into libspread.pc
# --no-build use the library already built (scripts/build-deb.sh builds it)
# The .pc file links with an rpath to the libdir unless the libdir is one
# the dynamic linker searches anyway (/usr/lib, /lib and their multiarch
# directories).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
build=1
libdir=
destdir=
while [ $# -gt 1 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --no-build) build=0 ;;
    --libdir) libdir="$2"; shift ;;
    --destdir) destdir="$2"; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
usage="usage: $0 [--debug] [--no-build] [--libdir DIR] [--destdir DIR] PREFIX"
prefix="${1:?$usage}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$build" = 1 ]; then
  if [ "$profile" = release ]; then
    cargo build --release -q -p spread-ffi
  else
    cargo build -q -p spread-ffi
  fi
fi
if [ -z "$destdir" ]; then
  prefix=$(mkdir -p "$prefix" && cd "$prefix" && pwd)
fi
libdir="${libdir:-$prefix/lib}"
inc="$prefix/include"
lib="$destdir$libdir"
install -d "$lib/pkgconfig" "$destdir$inc"
install -m 0644 include/sp.h include/sp_func.h include/sp_events.h include/fl.h "$destdir$inc/"
install -m 0755 "$target/$profile/libspread.so" "$lib/libspread.so.3.0.0"
install -m 0644 "$target/$profile/libspread.a" "$lib/libspread.a"
for name in libspread libspread-core libtspread-core; do
  ln -sf libspread.so.3.0.0 "$lib/$name.so.3"
  ln -sf "$name.so.3" "$lib/$name.so"
  [ "$name" = libspread ] || ln -sf libspread.a "$lib/$name.a"
done
rpath=" -Wl,-rpath,\${libdir}"
case "$libdir" in
  /usr/lib | /lib | /usr/lib/*-linux-gnu* | /lib/*-linux-gnu*) rpath= ;;
esac
# libdir is written relative to prefix when it is inside it, as pkg-config
# files usually are (a sysroot or a moved prefix then follows).
pc_libdir="$libdir"
case "$libdir" in "$prefix"/*) pc_libdir="\${prefix}${libdir#"$prefix"}" ;; esac
cat > "$lib/pkgconfig/libspread.pc" <<PC
prefix=$prefix
libdir=$pc_libdir
includedir=\${prefix}/include

Name: libspread
Description: Spread 5 client library (spread-rs)
Version: 5.0.1
Cflags: -I\${includedir}
Libs: -L\${libdir}$rpath -lspread
Libs.private: -lpthread -ldl -lm
PC
echo "installed libspread into $destdir$prefix (pkg-config: PKG_CONFIG_PATH=$lib/pkgconfig)"
