#!/bin/sh
# Release build + install, used verbatim by the Dockerfile's build stage and by
# tests/integration/install_docker_build.sh, so the image recipe cannot rot
# unnoticed: what the Dockerfile runs is what the test suite runs.
#   usage: scripts/build-release.sh DESTDIR [PREFIX]
set -eu
DESTDIR=${1:?usage: build-release.sh DESTDIR [PREFIX]}
PREFIX=${2:-/usr/local}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${NL_RELEASE_BUILD_DIR:-$SRC/build/docker-release}
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNL_BUILD_TESTS=OFF \
      -DNL_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
DESTDIR="$DESTDIR" cmake --install "$BUILD" >/dev/null
echo "build-release: installed into $DESTDIR$PREFIX"
