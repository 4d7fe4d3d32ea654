#!/bin/bash
# Benchmark (not a test): software transcoding throughput of libneolink's
# nl_transcoder (1080p H.265 -> 720p H.264, decode + swscale + libx264 on a
# worker thread) next to the ffmpeg command line doing the same job with the
# same settings, in one run, and the ratio; then the CPU cost of one
# camera's audio (Reolink ADPCM -> AAC).
#
#   tests/bench/transcode_bench.sh [BUILD_DIR] [SECONDS]
# BUILD_DIR is a build of the library (use one without sanitizers for real
# figures; default: build). SECONDS of 1080p25 input (default 10).
# Same settings on both sides: libx264 preset veryfast, tune zerolatency,
# repeat-headers=1, scenecut=0, GOP 50, no B-frames, VBR 2.3 Mbit/s with
# maxrate/bufsize twice that, bilinear scaling, threads left to libav.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
T=${2:-10}
W=1280
H=720
BR=2304000
GOP=50
PRESET=veryfast
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- build the driver against the library in BUILD_DIR
LIBS=$(pkg-config --libs libavformat libavcodec libavutil libswscale libswresample libva libva-drm)
if [ -e "$B/libneolink.so" ]; then
    NL_LINK="-L$B -Wl,-rpath,$B -lneolink"
else
    # no shared library yet: the module archives lib/hw needs
    NL_LINK="$B/libnl_hw.a $B/libnl_media.a $B/libnl_loop.a $B/libnl_core.a"
fi
SAN=""
grep -q "NL_SANITIZE:BOOL=ON" "$B/CMakeCache.txt" 2>/dev/null && SAN="-fsanitize=address,undefined"
cc -O2 -std=c11 -D_GNU_SOURCE $SAN -I"$SRC/include" "$HERE/transcode_bench.c" $NL_LINK $LIBS \
    -lpthread -lm -o "$tmp/transcode_bench"
[ -n "$SAN" ] && echo "note: $B is a sanitizer build; figures are not representative"

# ---- input: T seconds of 1080p25 H.265 (a moving test pattern with noise,
# so the encoders have real work)
echo "making ${T} s of 1920x1080@25 H.265 input..."
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=25,noise=alls=12:allf=t" -t "$T" \
    -pix_fmt yuv420p -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=50 \
    -f hevc "$tmp/in.h265"
NFRAMES=$((T * 25))
echo "input: $(du -k "$tmp/in.h265" | cut -f1) KiB, $NFRAMES frames, $(nproc) cores"

# ---- libneolink
"$tmp/transcode_bench" video "$tmp/in.h265" $W $H $PRESET $BR $GOP >"$tmp/nl.out" 2>"$tmp/nl.err"
cat "$tmp/nl.out"
nl_wall=$(sed -n 's/.* wall_s=\([0-9.]*\).*/\1/p' "$tmp/nl.out")
nl_cpu=$(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' "$tmp/nl.out")

# ---- ffmpeg, same job
ffmpeg -hide_banner -nostats -benchmark -i "$tmp/in.h265" -vf "scale=${W}:${H}:flags=bilinear" \
    -c:v libx264 -preset $PRESET -tune zerolatency -x264-params repeat-headers=1:scenecut=0 \
    -g $GOP -bf 0 -b:v $BR -maxrate $((2 * BR)) -bufsize $((2 * BR)) -f null - 2>"$tmp/ff.err"
ff_line=$(grep "^bench: utime" "$tmp/ff.err")
ff_wall=$(echo "$ff_line" | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p')
ff_cpu=$(echo "$ff_line" | awk -F'[=s ]+' '{for (i = 1; i < NF; i++) { if ($i == "utime") u = $(i + 1); if ($i == "stime") s = $(i + 1) } print u + s}')
echo "ffmpeg frames=$NFRAMES wall_s=$ff_wall cpu_s=$ff_cpu fps=$(echo "scale=1; $NFRAMES / $ff_wall" | bc)"

echo "ratio libneolink/ffmpeg: wall $(echo "scale=2; $nl_wall / $ff_wall" | bc), cpu $(echo "scale=2; $nl_cpu / $ff_cpu" | bc)"

# ---- audio: one camera's ADPCM -> AAC, 10 minutes of audio
"$tmp/transcode_bench" audio 600 2>/dev/null
