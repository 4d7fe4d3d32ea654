#!/bin/bash
# timeout: 120
# The simulated camera against this project's own client (`neolink-cli
# probe`): login at every encryption level the client offers (the camera is
# set to full AES and answers min(offered, configured)), H.265 + ADPCM and
# H.264 + AAC streams at the configured size and frame rate with strictly
# increasing camera timestamps, a wrong password rejected, and three
# concurrent viewers of the sub stream served by exactly one encoded stream
# (status line on SIGUSR1).
set -u
: "${NL_CLI:?NL_CLI must point at neolink-cli}"
WORK=$(mktemp -d)
SIM_PID=""
PROBE_PIDS=""
cleanup() {
    for p in $PROBE_PIDS $SIM_PID; do
        if kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- simulate stdout"; cat "$WORK/out" 2>/dev/null
    echo "--- simulate stderr"; grep -v "x26[45]" "$WORK/err" 2>/dev/null | tail -n 40
    exit 1
}

start_sim() {
    "$NL_CLI" simulate --listen 127.0.0.1:0 "$@" >"$WORK/out" 2>"$WORK/err" &
    SIM_PID=$!
    local i
    for i in $(seq 1 200); do
        PORT=$(sed -n 's/^simulate: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out")
        [ -n "$PORT" ] && return 0
        kill -0 "$SIM_PID" 2>/dev/null || fail "simulate exited early"
        sleep 0.05
    done
    fail "no listening line"
}

stop_sim() {
    kill -TERM "$SIM_PID"
    wait "$SIM_PID"
    local rc=$?
    SIM_PID=""
    [ "$rc" -eq 0 ] || fail "simulate exit code $rc"
}

# ---- full AES camera, H.265 + ADPCM; the client offers none, bc, aes
start_sim --encryption fullaes --codec h265 --audio adpcm --main 640x360@20 --sub 320x180@15 \
    --password pw
for enc in none:0x00 bc:0x01 aes:0x12; do
    offer=${enc%%:*}
    want=${enc##*:}
    timeout 30 "$NL_CLI" probe --address "127.0.0.1:$PORT" --password pw --both --seconds 2 \
        --max-encryption "$offer" >"$WORK/probe" 2>&1 || { cat "$WORK/probe"; fail "probe $offer"; }
    cat "$WORK/probe"
    grep -q "encryption: .*($want)" "$WORK/probe" || fail "offer $offer: wanted level $want"
    grep -q "^stream main: H265 640x360, .* 20.00 fps, .*audio ADPCM 8000 Hz.*strictly increasing" \
        "$WORK/probe" || fail "main stream line ($offer)"
    grep -q "^stream sub: H265 320x180, .* 15.00 fps, .*audio ADPCM 8000 Hz.*strictly increasing" \
        "$WORK/probe" || fail "sub stream line ($offer)"
done
timeout 30 "$NL_CLI" probe --address "127.0.0.1:$PORT" --password nope --seconds 0 \
    >"$WORK/probe" 2>&1
[ $? -eq 1 ] || fail "a wrong password must make probe exit 1"
grep -q "rejected the credentials" "$WORK/probe" || fail "reason: $(cat "$WORK/probe")"
stop_sim

# ---- default AES camera, H.264 + AAC; three viewers share one sub stream
start_sim --sub 320x180@15 --gop 1
for i in 1 2 3; do
    timeout 30 "$NL_CLI" probe --address "127.0.0.1:$PORT" --stream sub --seconds 4 \
        >"$WORK/probe$i" 2>&1 &
    PROBE_PIDS="$PROBE_PIDS $!"
done
seen=""
for i in $(seq 1 60); do
    sleep 0.1
    kill -USR1 "$SIM_PID"
    sleep 0.05
    if grep -q "streams 1 (main 0 sub 1) viewers 3" "$WORK/out"; then
        seen=1
        break
    fi
done
[ -n "$seen" ] || fail "never saw one stream serving three viewers"
grep "viewers 3" "$WORK/out" | head -n 1
for p in $PROBE_PIDS; do
    wait "$p" || fail "a concurrent probe failed"
done
PROBE_PIDS=""
for i in 1 2 3; do
    grep -q "^stream sub: H264 320x180, .* 15.00 fps, .*audio AAC 16000 Hz.*strictly increasing" \
        "$WORK/probe$i" || { cat "$WORK/probe$i"; fail "probe $i stream line"; }
done
stop_sim

# ---- the third (extern) stream: listed, and streamed next to main and sub
start_sim --main 640x360@20 --sub 320x180@15 --extern 448x256@12 --bitrate 1500,300,600
timeout 30 "$NL_CLI" probe --address "127.0.0.1:$PORT" --stream main,sub,extern --seconds 2 \
    >"$WORK/probe" 2>&1 || { cat "$WORK/probe"; fail "probe main,sub,extern"; }
cat "$WORK/probe"
grep -q "^camera lists extern stream: 448x256 @ 12 fps, 600 kbit/s" "$WORK/probe" ||
    fail "extern not in the stream table"
grep -q "^stream extern: H264 448x256, .* 12.00 fps, .*strictly increasing" "$WORK/probe" ||
    fail "extern stream line"
grep -q "^stream main: H264 640x360, .* 20.00 fps" "$WORK/probe" || fail "main next to extern"
stop_sim
# ... and a camera without it (--extern off): not listed, probe reports the failure
start_sim --extern off
timeout 30 "$NL_CLI" probe --address "127.0.0.1:$PORT" --stream extern --seconds 1 \
    >"$WORK/probe" 2>&1
[ $? -ne 0 ] || { cat "$WORK/probe"; fail "extern on a camera without it must fail"; }
! grep -q "camera lists extern" "$WORK/probe" || fail "extern listed although off"
stop_sim
echo "PASS"
