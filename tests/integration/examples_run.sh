#!/bin/bash
# timeout: 150
# Runs every example program (examples/*.c, built against the shared library)
# against one simulated camera (`neolink-cli simulate`, started here and
# stopped by its pid) and checks what each one produced, with ffprobe where
# there is media:
#   record        3 s of the main stream: an MP4 of 3 s with H.264 640x360
#                 (45 frames at 15 fps) and AAC 16 kHz audio;
#   events        motion pushes every second: the lines it prints;
#   host_loop     the sub stream through the host's own poll(): ~10 fps x 3 s;
#   embed_server  RTSP re-serving: ffprobe decodes frames over RTSP/TCP, and
#                 SIGTERM makes it log out and exit 0 within 3 s;
#   snapshot      one JPEG, scaled to 320 px wide: mjpeg 320x180;
#   docs/API.md   its "first program" is extracted, compiled with the public
#                 headers only, linked to the shared library and run;
#   errors        a wrong password and a closed port exit 1 with the reason.
set -u
: "${NL_CLI:?NL_CLI must point at neolink-cli}"
: "${NL_BUILD:?NL_BUILD must point at the build tree}"
: "${NL_SRC:?NL_SRC must point at the source tree}"
if grep -q '^NL_BUILD_EXAMPLES:BOOL=OFF' "$NL_BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "SKIP: examples are not built (NL_BUILD_EXAMPLES=OFF)"
    exit 77
fi
for t in ffprobe ffmpeg; do # installed by the test command (scripts/deps.sh --test)
    command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
done

WORK=$(mktemp -d)
SIM_PID=""
SRV_PID=""
stop_pid() { # stop a process we started, by its pid
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
    fi
}
cleanup() {
    stop_pid "$SRV_PID"
    stop_pid "$SIM_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$WORK"/*.out "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -n 30 "$f"; }
    done
    exit 1
}
ex() { # the path of an example program, which must exist
    local p="$NL_BUILD/example_$1"
    [ -x "$p" ] || fail "example_$1 is not built ($p)"
    echo "$p"
}
# probe FILE ENTRIES [ffprobe options]: one "key=value" per line
probe() {
    local file=$1 entries=$2
    shift 2
    ffprobe -v error -count_frames "$@" -show_entries "$entries" -of default=noprint_wrappers=1 \
        "$file"
}
# in_range VALUE LOW HIGH (decimals allowed)
in_range() {
    awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

RECORD=$(ex record) && EVENTS=$(ex events) && HOSTLOOP=$(ex host_loop) &&
    EMBED=$(ex embed_server) && SNAPSHOT=$(ex snapshot) || exit 1

# ---- the camera: main 640x360@15, sub 320x180@10, AAC, key frame every
# second, a motion push every second, password "s3cret".
"$NL_CLI" simulate --listen 127.0.0.1:0 --password s3cret --audio aac --gop 1 \
    --main 640x360@15 --sub 320x180@10 --motion-interval 1 --log-level warn \
    >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
PORT=""
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^simulate: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/sim.out")
    [ -n "$PORT" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || fail "simulate exited early"
    sleep 0.05
done
[ -n "$PORT" ] || fail "simulate did not announce its port"
echo "simulated camera pid $SIM_PID on port $PORT"
export CAMERA_PASSWORD=s3cret

# ---- record: 3 s to MP4
timeout 30 "$RECORD" 127.0.0.1 "$PORT" 3 "$WORK/rec.mp4" >"$WORK/record.out" 2>"$WORK/record.err" ||
    fail "record exited with $?"
cat "$WORK/record.out"
v=$(probe "$WORK/rec.mp4" stream=codec_name,width,height,nb_read_frames -select_streams v 2>&1)
a=$(probe "$WORK/rec.mp4" stream=codec_name,sample_rate,duration -select_streams a 2>&1)
dur=$(probe "$WORK/rec.mp4" format=duration | sed -n 's/^duration=//p')
echo "record: duration $dur; $(tr '\n' ' ' <<<"$v"); $(tr '\n' ' ' <<<"$a")"
in_range "$dur" 2.8 3.2 || fail "record: duration $dur, expected about 3 s"
grep -qx 'codec_name=h264' <<<"$v" || fail "record: no H.264 video stream"
{ grep -qx 'width=640' <<<"$v" && grep -qx 'height=360' <<<"$v"; } ||
    fail "record: video is not 640x360"
frames=$(sed -n 's/^nb_read_frames=//p' <<<"$v")
in_range "$frames" 44 46 || fail "record: $frames video frames, expected 45 (15 fps x 3 s)"
grep -qx 'codec_name=aac' <<<"$a" || fail "record: no AAC audio stream"
grep -qx 'sample_rate=16000' <<<"$a" || fail "record: audio is not 16 kHz"
adur=$(sed -n 's/^duration=//p' <<<"$a")
in_range "$adur" 2.7 3.3 || fail "record: audio lasts $adur s"

# ---- events: two motion changes (the camera toggles motion every second)
timeout 20 "$EVENTS" 127.0.0.1 "$PORT" 2 >"$WORK/events.out" 2>"$WORK/events.err" ||
    fail "events exited with $?"
cat "$WORK/events.out"
n=$(grep -cE '^[0-9-]+ [0-9:]+ motion (started|stopped)$' "$WORK/events.out")
[ "$n" -eq 2 ] || fail "events: $n motion lines, expected 2"
grep -q '^connected to NeolinkSim ' "$WORK/events.out" || fail "events: no device line"
grep -qx '2 motion events' "$WORK/events.out" || fail "events: no summary"

# ---- host_loop: the sub stream (10 fps) for 3 s through the host's poll()
timeout 30 "$HOSTLOOP" 127.0.0.1 "$PORT" 3 >"$WORK/host_loop.out" 2>"$WORK/host_loop.err" ||
    fail "host_loop exited with $?"
cat "$WORK/host_loop.out"
frames=$(sed -n 's/^frames received: \([0-9]*\) .*/\1/p' "$WORK/host_loop.out")
# 3 s of wall time, minus the login, plus what arrives while it logs out.
in_range "$frames" 15 36 || fail "host_loop: $frames frames, expected about 30"
[ "$(grep -c '^t=[0-9]*s frames' "$WORK/host_loop.out")" -ge 2 ] ||
    fail "host_loop: no status lines"

# ---- embed_server: RTSP out, decoded by ffprobe, then a graceful SIGTERM
"$EMBED" 127.0.0.1 "$PORT" >"$WORK/embed.out" 2>"$WORK/embed.err" &
SRV_PID=$!
URL=""
for _ in $(seq 1 200); do
    URL=$(sed -n 's/^serving //p' "$WORK/embed.out")
    [ -n "$URL" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || fail "embed_server exited early"
    sleep 0.05
done
[ -n "$URL" ] || fail "embed_server did not print its URL"
echo "embed_server pid $SRV_PID serving $URL"
v=$(timeout 30 ffprobe -v error -rtsp_transport tcp -select_streams v -count_frames \
    -read_intervals %+3 -show_entries stream=codec_name,width,height,nb_read_frames \
    -of default=noprint_wrappers=1 "$URL" 2>&1) || fail "ffprobe over RTSP failed: $v"
echo "embed_server: $(tr '\n' ' ' <<<"$v")"
grep -qx 'codec_name=h264' <<<"$v" || fail "embed_server: no H.264 over RTSP"
grep -qx 'width=640' <<<"$v" || fail "embed_server: not the main stream"
frames=$(sed -n 's/^nb_read_frames=//p' <<<"$v")
in_range "$frames" 30 50 || fail "embed_server: ffprobe decoded $frames frames in 3 s (15 fps)"
start=$(date +%s%N)
kill -TERM "$SRV_PID"
for _ in $(seq 1 60); do
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.05
done
kill -0 "$SRV_PID" 2>/dev/null && fail "embed_server still running 3 s after SIGTERM"
wait "$SRV_PID"
rc=$?
SRV_PID=""
echo "embed_server: exit $rc, $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGTERM"
[ "$rc" -eq 0 ] || fail "embed_server exit code $rc after SIGTERM"

# ---- snapshot: one JPEG, 320 px wide
timeout 30 "$SNAPSHOT" 127.0.0.1 "$PORT" "$WORK/snap.jpg" 320 >"$WORK/snapshot.out" \
    2>"$WORK/snapshot.err" || fail "snapshot exited with $?"
cat "$WORK/snapshot.out"
v=$(probe "$WORK/snap.jpg" stream=codec_name,width,height)
grep -qx 'codec_name=mjpeg' <<<"$v" || fail "snapshot: not a JPEG: $v"
{ grep -qx 'width=320' <<<"$v" && grep -qx 'height=180' <<<"$v"; } ||
    fail "snapshot: not 320x180: $v"
ffmpeg -v error -i "$WORK/snap.jpg" -f null - 2>"$WORK/snapdecode.err" ||
    fail "snapshot: the JPEG does not decode"
[ -s "$WORK/snapdecode.err" ] && fail "snapshot: decode warnings"

# ---- docs/API.md: the first program, as a reader would build it
awk '/compiled and run by tests\/integration\/examples_run.sh/ { f = 1; next }
     f && /^```c$/ { c = 1; next }
     c && /^```$/ { exit }
     c { print }' "$NL_SRC/docs/API.md" >"$WORK/first.c"
grep -q 'int main' "$WORK/first.c" || fail "docs/API.md: no first program found"
san=()
[ "${NL_SANITIZE:-0}" = 1 ] && san=("-fsanitize=address,undefined")
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter "${san[@]}" -o "$WORK/first" \
    "$WORK/first.c" -I"$NL_SRC/include" $(pkg-config --cflags libavcodec) \
    -L"$NL_BUILD" -lneolink -Wl,-rpath,"$NL_BUILD" 2>"$WORK/first_cc.err" ||
    fail "docs/API.md: the first program does not compile: $(cat "$WORK/first_cc.err")"
timeout 30 "$WORK/first" 127.0.0.1 "$PORT" >"$WORK/first.out" 2>"$WORK/first.err" ||
    fail "docs/API.md: the first program exited with $?"
cat "$WORK/first.out"
grep -q '^model NeolinkSim firmware ' "$WORK/first.out" || fail "first program: no model line"
grep -qx '25 frames, ok' "$WORK/first.out" || fail "first program: not 25 frames"

# ---- errors: clear messages and exit 1
CAMERA_PASSWORD=Wr0ngPw timeout 20 "$EVENTS" 127.0.0.1 "$PORT" 1 >/dev/null 2>"$WORK/badpw.err"
rc=$?
[ "$rc" -eq 1 ] || fail "a wrong password: exit $rc, expected 1"
grep -q 'camera rejected the credentials' "$WORK/badpw.err" || fail "a wrong password: no reason"
grep -q 'Wr0ngPw' "$WORK/badpw.err" && fail "the password appears in the output"
# A closed port: the simulator's port after it has stopped is free again.
stop_pid "$SIM_PID"
SIM_PID=""
timeout 20 "$RECORD" 127.0.0.1 "$PORT" 1 "$WORK/none.mp4" >/dev/null 2>"$WORK/refused.err"
rc=$?
[ "$rc" -eq 1 ] || fail "a closed port: exit $rc, expected 1"
grep -q 'connection refused' "$WORK/refused.err" || fail "a closed port: no reason"
[ -e "$WORK/none.mp4" ] && fail "a failed recording left a file"
echo "PASS"
