#!/bin/sh
# Bootstrap autotools and build into ./build (out of tree). Extra
# arguments go to configure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] ||
	autoreconf -fi
mkdir -p build
cd build
../configure --enable-werror "$@"
make -j"$(nproc)"
