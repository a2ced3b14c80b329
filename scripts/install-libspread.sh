#!/usr/bin/env bash
# Installs libspread (our C API) into a prefix: headers, the shared library
# with Spread 5's soname and its links, the static library, the other
# library names Spread 5 ships (libspread-core, libtspread-core), and a
# pkg-config file, so that `cc app.c $(pkg-config --cflags --libs libspread)`
# works.
#   usage: scripts/install-libspread.sh [--debug] PREFIX     (e.g. /usr/local)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi
prefix="${1:?usage: $0 [--debug] PREFIX}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then
  cargo build --release -q -p spread-ffi
else
  cargo build -q -p spread-ffi
fi
prefix=$(mkdir -p "$prefix" && cd "$prefix" && pwd)
lib="$prefix/lib"
inc="$prefix/include"
install -d "$lib/pkgconfig" "$inc"
install -m 0644 include/sp.h include/sp_func.h include/sp_events.h include/fl.h "$inc/"
install -m 0755 "$target/$profile/libspread.so" "$lib/libspread.so.3.0.0"
install -m 0644 "$target/$profile/libspread.a" "$lib/libspread.a"
for name in libspread libspread-core libtspread-core; do
  ln -sf libspread.so.3.0.0 "$lib/$name.so.3"
  ln -sf "$name.so.3" "$lib/$name.so"
  [ "$name" = libspread ] || ln -sf libspread.a "$lib/$name.a"
done
cat > "$lib/pkgconfig/libspread.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libspread
Description: Spread 5 client library (spread-rs)
Version: 5.0.1
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lspread
Libs.private: -lpthread -ldl -lm
PC
echo "installed libspread into $prefix (pkg-config: PKG_CONFIG_PATH=$lib/pkgconfig)"
