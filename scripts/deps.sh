#!/bin/sh
# Installs the Debian 12 packages that building, running and testing libneolink need.
# Idempotent: packages already present are not reinstalled, so the README commands stay fast.
# The same list is used by the Dockerfile's build stage (see scripts/docker-build.sh).
set -eu

BUILD_PKGS="build-essential cmake pkg-config \
 libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev \
 libva-dev libcyaml-dev libyaml-dev libexpat1-dev"
TEST_PKGS="ffmpeg clang libclang-rt-14-dev valgrind python3 \
 gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
 gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp \
 gir1.2-gst-rtsp-server-1.0 python3-gi gnuplot-nox"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$BUILD_PKGS $TEST_PKGS"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
