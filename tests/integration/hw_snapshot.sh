#!/bin/bash
# timeout: 120
# `neolink-cli snapshot` as a real process, both sources:
#  - elementary-stream files made by the ffmpeg command line (H.264 and
#    H.265): the JPEG is the file's LAST key frame, checked against ffmpeg's
#    own decode of that frame (PSNR), at the video's size or scaled;
#  - the simulated camera (`neolink-cli simulate` on 127.0.0.1, port 0): log
#    in, take the first key frame of the chosen stream, log out; H.264 and
#    H.265; a wrong password fails with the camera's refusal.
# ffprobe confirms each file is a baseline JPEG of the right size and full
# range. Bad arguments exit 2, failures exit 1. Every process is started
# here and stopped by its pid.
set -u
: "${NL_CLI:?NL_CLI must point at neolink-cli}"
for t in ffprobe ffmpeg; do # installed by the test command (scripts/deps.sh --test)
    command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
done
WORK=$(mktemp -d)
SIM_PID=""
stop_sim() {
    if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill -TERM "$SIM_PID" 2>/dev/null
        for _ in $(seq 1 40); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
    fi
    SIM_PID=""
}
cleanup() {
    stop_sim
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- last snapshot stderr"; tail -n 20 "$WORK/snap.err" 2>/dev/null
    echo "--- simulate stderr"; tail -n 20 "$WORK/sim.err" 2>/dev/null
    exit 1
}

# jpeg_props FILE -> "codec width height pix_fmt color_range"
jpeg_props() {
    ffprobe -v error -select_streams v:0 \
        -show_entries stream=codec_name,width,height,pix_fmt,color_range \
        -of default=nw=1:nk=1 "$1" | tr '\n' ' ' | sed 's/ $//'
}

# psnr A B -> average PSNR (dB, integer part) of the luma planes
psnr() {
    ffmpeg -nostats -hide_banner -i "$1" -i "$2" \
        -lavfi "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]psnr" -f null - 2>&1 |
        sed -n 's/.*PSNR y:\([0-9.]*\).*/\1/p' | cut -d. -f1
}

snap() {
    "$NL_CLI" snapshot "$@" >"$WORK/snap.out" 2>"$WORK/snap.err"
}

# ---- usage errors
snap --input x.h264
[ $? -eq 2 ] || fail "no --out must exit 2"
snap --input x.h264 --address 127.0.0.1:9000 --out "$WORK/x.jpg"
[ $? -eq 2 ] || fail "--input with --address must exit 2"
snap --address nohost --out "$WORK/x.jpg"
[ $? -eq 2 ] || fail "an address without port must exit 2"
snap --input x.h264 --quality 1 --out "$WORK/x.jpg"
[ $? -eq 2 ] || fail "--quality 1 must exit 2"
"$NL_CLI" snapshot --help | grep -q -- "--stream S" || fail "--help lists --stream"

# ---- files: 12 frames, key frames at 0, 5 and 10; the JPEG must be frame 10
for codec in h264 h265; do
    enc=libx264; [ "$codec" = h265 ] && enc=libx265
    ffmpeg -v error -f lavfi -i testsrc2=size=320x240:rate=10 -frames:v 12 -pix_fmt yuv420p \
        -c:v "$enc" -g 5 -bf 0 -x264-params scenecut=0 -x265-params scenecut=0:log-level=error \
        -f "$([ "$codec" = h265 ] && echo hevc || echo h264)" "$WORK/in.$codec" \
        || fail "ffmpeg could not make the $codec input"
    ffmpeg -v error -i "$WORK/in.$codec" -vf "select=eq(n\,10)" -frames:v 1 "$WORK/ref_$codec.png" \
        || fail "ffmpeg could not extract frame 10"
    snap --input "$WORK/in.$codec" --out "$WORK/f_$codec.jpg" || fail "snapshot of in.$codec"
    grep -q "^snapshot: $WORK/f_$codec.jpg 320x240 " "$WORK/snap.out" || fail "summary: $(cat "$WORK/snap.out")"
    props=$(jpeg_props "$WORK/f_$codec.jpg")
    [ "$props" = "mjpeg 320 240 yuvj420p pc" ] || fail "$codec JPEG is '$props'"
    p=$(psnr "$WORK/f_$codec.jpg" "$WORK/ref_$codec.png")
    echo "$codec file: JPEG of frame 10 vs ffmpeg's decode: ${p} dB"
    [ -n "$p" ] && [ "$p" -ge 38 ] || fail "$codec JPEG is not frame 10 (PSNR '$p')"
done
# the same picture at --width 160 (keep 4:3 -> 160x120), from the sample capture
snap --input "$WORK/in.h264" --width 160 --quality 8 --out "$WORK/small.jpg" || fail "scaled snapshot"
[ "$(jpeg_props "$WORK/small.jpg")" = "mjpeg 160 120 yuvj420p pc" ] || fail "scaled: $(jpeg_props "$WORK/small.jpg")"
snap --input "$NL_DATA/bcmedia/gen_hevc_320x240_3f.h265" --out "$WORK/sample.jpg" || fail "sample h265"
[ "$(jpeg_props "$WORK/sample.jpg")" = "mjpeg 320 240 yuvj420p pc" ] || fail "sample: $(jpeg_props "$WORK/sample.jpg")"
# failures: missing file, a file without any key frame
snap --input "$WORK/missing.h264" --out "$WORK/x.jpg"
[ $? -eq 1 ] || fail "a missing input must exit 1"
head -c 5000 /dev/urandom | tr -d '\000' >"$WORK/junk.h264"
snap --input "$WORK/junk.h264" --out "$WORK/x.jpg"
[ $? -eq 1 ] || fail "junk input must exit 1"
grep -q "no key frame found" "$WORK/snap.err" || fail "junk message: $(cat "$WORK/snap.err")"
[ ! -e "$WORK/x.jpg" ] || fail "no JPEG may be written on failure"

# ---- the simulated camera
start_sim() {
    "$NL_CLI" simulate --listen 127.0.0.1:0 --password s3cret --main 640x360@10 --sub 320x180@10 \
        --gop 1 --audio none --motion-interval 0 --log-level warn "$@" >"$WORK/sim.out" 2>"$WORK/sim.err" &
    SIM_PID=$!
    PORT=""
    for _ in $(seq 1 200); do
        PORT=$(sed -n 's/^simulate: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/sim.out")
        [ -n "$PORT" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || fail "simulate exited early"
        sleep 0.05
    done
    [ -n "$PORT" ] || fail "simulate did not listen"
}

start_sim --codec h264
snap --address "127.0.0.1:$PORT" --password s3cret --stream sub --out "$WORK/sub.jpg" \
    || fail "snapshot of the sub stream"
[ "$(jpeg_props "$WORK/sub.jpg")" = "mjpeg 320 180 yuvj420p pc" ] || fail "sub: $(jpeg_props "$WORK/sub.jpg")"
snap --address "127.0.0.1:$PORT" --password s3cret --width 320 --out "$WORK/main.jpg" \
    || fail "snapshot of the main stream"
[ "$(jpeg_props "$WORK/main.jpg")" = "mjpeg 320 180 yuvj420p pc" ] || fail "main: $(jpeg_props "$WORK/main.jpg")"
NEOLINK_PASSWORD=wrong snap --address "127.0.0.1:$PORT" --out "$WORK/x.jpg"
[ $? -eq 1 ] || fail "a wrong password must exit 1"
grep -q "camera rejected the credentials" "$WORK/snap.err" || fail "wrong password message: $(cat "$WORK/snap.err")"
kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator died"
stop_sim

start_sim --codec h265
t0=$(date +%s%N)
NEOLINK_PASSWORD=s3cret snap --address "127.0.0.1:$PORT" --out "$WORK/h265.jpg" || fail "H.265 camera snapshot"
t1=$(date +%s%N)
[ "$(jpeg_props "$WORK/h265.jpg")" = "mjpeg 640 360 yuvj420p pc" ] || fail "h265: $(jpeg_props "$WORK/h265.jpg")"
echo "H.265 camera snapshot took $(( (t1 - t0) / 1000000 )) ms (login, first key frame, logout)"
stop_sim
# nothing listening: a clear failure, quickly
snap --address "127.0.0.1:$PORT" --timeout 5 --out "$WORK/x.jpg"
[ $? -eq 1 ] || fail "no camera must exit 1"
grep -qi "refused" "$WORK/snap.err" || fail "no-camera message: $(cat "$WORK/snap.err")"
echo "PASS"
