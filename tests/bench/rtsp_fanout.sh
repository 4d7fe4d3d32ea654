#!/bin/bash
# Benchmark (not a test): CPU time of the RTSP server fanning one ~4 Mbit/s
# H.264 stream out to 200 TCP clients for 30 s, next to a minimal raw writer
# moving the same bytes (one send per frame per client), and the ratio.
#
#   tests/bench/rtsp_fanout.sh [BUILD_DIR] [CLIENTS] [SECONDS]
# BUILD_DIR holds tests/rtsp_testsrv, tests/rtsp_reader, tests/rtsp_rawwriter
# (use a build without sanitizers for real figures). 127.0.0.1 only.
set -euo pipefail
B=${1:-build}
N=${2:-200}
T=${3:-30}
TOOLS=$B/tests
BITRATE=4000000
tmp=$(mktemp -d)
trap 'kill $SRV 2>/dev/null || true; rm -rf "$tmp"' EXIT

# cheap mode: 2 s of 1280x720 encoded once at start, replayed, so the
# process's CPU is the server's, not the encoder's.
"$TOOLS/rtsp_testsrv" --port 0 --size 1280x720 --fps 25 --gop 50 --bitrate $BITRATE \
    --cheap 50 --max-clients $((N + 16)) cam:h264 >"$tmp/srv.out" 2>"$tmp/srv.err" &
SRV=$!
for _ in $(seq 100); do grep -q '^PORT' "$tmp/srv.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^PORT/{print $2}' "$tmp/srv.out")
sleep 2 # let the replay cycle settle

ticks() { awk '{print $14 + $15}' /proc/$SRV/stat; }
HZ=$(getconf CLK_TCK)
c0=$(ticks)
"$TOOLS/rtsp_reader" "rtsp://127.0.0.1:$PORT/cam" --clients "$N" --duration "$T" >"$tmp/reader.out"
c1=$(ticks)
kill -TERM $SRV
wait $SRV || true
SRV=
srv_cpu=$(echo "scale=3; ($c1 - $c0) / $HZ" | bc)
bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$tmp/reader.out")
echo "server:    $N clients, ${T} s, $(cat "$tmp/reader.out")"
echo "server:    cpu ${srv_cpu} s for $bytes bytes"

# the same bytes per second from the raw writer
rate=$(echo "$bytes * 8 / $T / $N" | bc)
"$TOOLS/rtsp_rawwriter" --clients "$N" --duration "$T" --bitrate "$rate" >"$tmp/raw.out"
raw_cpu=$(sed -n 's/.* cpu_s=\([0-9.]*\).*/\1/p' "$tmp/raw.out")
echo "rawwriter: $(cat "$tmp/raw.out")"
echo "ratio server/raw cpu: $(echo "scale=2; $srv_cpu / $raw_cpu" | bc)"
