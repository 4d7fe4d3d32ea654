#!/bin/bash
# Benchmark (not a test): CPU time of the RTSP server fanning one ~4 Mbit/s
# H.264 stream out to N TCP clients, next to a minimal raw writer moving the
# same frames to N sockets (one send per frame per client), and the ratio.
#
#   tests/bench/rtsp_fanout.sh [BUILD_DIR] [CLIENTS] [SECONDS]
# BUILD_DIR holds tests/rtsp_testsrv, tests/rtsp_reader, tests/rtsp_rawwriter
# (use a build without sanitizers for real figures). 127.0.0.1 only.
# SECONDS >= 10 (default 30): how long the N clients watch.
#
# How: the test server replays 2 s of 1280x720 H.264 encoded once at start
# (so its CPU is the server's, not an encoder's). One client first records
# the frames it gets. Then the raw writer sends those frames to N clients
# for half the steady window, N clients watch the server for SECONDS, and
# the raw writer runs the other half: its two halves bracket the server's
# run, so a change of the load from other processes during the run hits
# both alike. (Not at the same time: on loopback the kernel's receive work
# is done by whichever sender drains the CPU's backlog, so two senders at
# once would be charged for each other.) The clients are the same program
# (rtsp_reader) for both: a reader that lags takes over part of the
# sender's kernel work (the transmit happens when it acknowledges), which
# at 1000 clients on 2 cores it does. The steady window runs from WARM s
# after the clients start (all of them play by then) to 1 s before they
# stop.
#
# Figures, per viewer-second (one client receiving one second of video):
#   server: the whole server process in the steady window (user + system,
#           every thread, from /proc/PID/task/*/schedstat), / (N x window);
#           "whole run" is from the first connection to the last close, /
#           the viewer-seconds the clients received (their frames / fps);
#   raw:    the raw writer's sending thread, / (N x its seconds);
#   const:  the raw writer again at the end, every frame the same size at
#           the same bit rate: the baseline of the first version of this
#           benchmark (a key frame is one big send, which costs the kernel
#           more than its share of bytes);
#   ratio:  server / raw, and server / const.
#   latency: how long the server's push took per video frame in the steady
#           window (from its arrival until the last client has it in its
#           socket: the fan-out's added latency), next to the raw writer's
#           round of sends of the same frame; the reader's delay_p99_ms is
#           end to end (arrival minus RTP time, against the same client's
#           best frame), so it also holds the test source's timer jitter
#           and the reader's own scheduling.
#   heap:   the library's live heap (its allocator hook, counted by the test
#           server) 1 s before the clients stop, minus before the first
#           client, / N: what a viewer costs in userspace;
#   rss:    the same from the server's resident memory (highest of samples
#           every 0.25 s); it can read lower than heap, since the C library
#           keeps memory freed at start-up resident and hands it out again.
# On loopback the sender's CPU includes most of the receive-side kernel work
# (the softirq runs in the sender's context), for both alike. Other load on
# the machine still moves the figures by +-10 %: repeat and take the median.
# Benchmarks never fail on speed: the exit status only reports broken runs.
set -euo pipefail
B=${1:-build}
N=${2:-200}
T=${3:-30}
TOOLS=$B/tests
BITRATE=4000000
FPS=25
GOP=50
WARM=4
[ "$T" -ge 10 ] || { echo "SECONDS must be >= 10" >&2; exit 2; }
tmp=$(mktemp -d)
SRV=
RD=
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; [ -n "$RD" ] && kill $RD 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

need=$((2 * N + 64)) # two sockets per client in one process (server and reader share the limit)
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || { echo "ulimit -n too small for $N clients" >&2; exit 2; }
fi

"$TOOLS/rtsp_testsrv" --port 0 --size 1280x720 --fps $FPS --gop $GOP --bitrate $BITRATE \
    --cheap 50 --max-clients $((N + 16)) --max-per-mount $((N + 16)) \
    --max-connections $((N + 32)) --heap-stats cam:h264 >"$tmp/srv.out" 2>"$tmp/srv.err" &
SRV=$!
for _ in $(seq 100); do grep -q '^PORT' "$tmp/srv.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^PORT/{print $2}' "$tmp/srv.out")
URL="rtsp://127.0.0.1:$PORT/cam"
# the frames one client gets: whole turns of the replay cycle (one GOP), so
# key frames are not over-represented
"$TOOLS/rtsp_reader" "$URL" --clients 1 --duration 7 --sizes "$tmp/sizes.all" \
    --dump "$tmp/frames" >"$tmp/pre.out"
lines=$(wc -l <"$tmp/sizes.all")
[ "$lines" -ge $GOP ] || { echo "too few frames: $(cat "$tmp/pre.out")" >&2; exit 1; }
head -n $((lines / GOP * GOP)) "$tmp/sizes.all" >"$tmp/sizes"
sleep 1

# CPU time of every thread of the server, ns (the scheduler's own count:
# /proc/PID/stat only has 10 ms ticks, too coarse for a process that is busy
# a few percent of the time).
cpu_ns() { cat /proc/$SRV/task/*/schedstat | awk '{s += $1} END {printf "%d\n", s}'; }
rss_kb() { awk '/^VmRSS/{print $2}' /proc/$SRV/status; }
now() { date +%s.%N; }
field() { sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p" "$2"; }

WIN=$((T - 1 - WARM))
HALF=$(((WIN + 1) / 2))
raw() { # $1: output file; the rest: more rtsp_rawwriter arguments
    local out=$1 pid port
    shift
    "$TOOLS/rtsp_rawwriter" --rtsp --clients "$N" --duration "$HALF" --fps $FPS "$@" >"$out" &
    pid=$!
    for _ in $(seq 100); do grep -q '^PORT' "$out" 2>/dev/null && break; sleep 0.05; done
    port=$(awk '/^PORT/{print $2}' "$out")
    # it closes the connections when done, and the reader stops then (within
    # 0.1 s: the duration is only an upper bound)
    "$TOOLS/rtsp_reader" "rtsp://127.0.0.1:$port/cam" --clients "$N" --duration $((HALF + 70)) \
        >"$out.reader"
    wait $pid
    grep -q " playing=$N " "$out" || echo "raw:       WARNING: not all clients played: $(cat "$out")"
}
raw_half() { raw "$1" --sizes "$tmp/sizes" --frames "$tmp/frames"; }
raw_half "$tmp/raw1.out"

rss0=$(rss_kb)
kill -USR1 $SRV # heap before the first client
c0=$(cpu_ns)
t0=$(now)
"$TOOLS/rtsp_reader" "$URL" --clients "$N" --duration "$T" >"$tmp/reader.out" &
RD=$!
rss1=$rss0
ca= ta= cb= tb=
while kill -0 $RD 2>/dev/null; do
    r=$(rss_kb)
    [ "$r" -gt "$rss1" ] && rss1=$r
    el=$(echo "$(now) - $t0" | bc)
    if [ -z "$ca" ] && [ "$(echo "$el >= $WARM" | bc)" = 1 ]; then
        kill -USR2 $SRV # push durations from here
        ca=$(cpu_ns) ta=$(now)
    fi
    if [ -z "$cb" ] && [ "$(echo "$el >= $T - 1" | bc)" = 1 ]; then
        cb=$(cpu_ns) tb=$(now)
        kill -USR1 $SRV # heap while every client plays, push durations
    fi
    sleep 0.25
done
wait $RD
RD=
c1=$(cpu_ns)
kill -TERM $SRV
wait $SRV || { echo "test server exited with status $? after SIGTERM: broken run" >&2; SRV=; exit 1; }
SRV=
[ -n "$cb" ] || { echo "reader ended early: $(cat "$tmp/reader.out")" >&2; exit 1; }

bytes=$(field bytes "$tmp/reader.out")
frames=$(field frames_total "$tmp/reader.out")
playing=$(field playing "$tmp/reader.out")
viewer_s=$(echo "scale=3; $frames / $FPS" | bc)
win=$(echo "scale=3; $tb - $ta" | bc)
steady_cpu=$(echo "scale=3; ($cb - $ca) / 1000000000" | bc)
steady_us=$(echo "scale=1; $steady_cpu * 1000000 / ($N * $win)" | bc)
whole_cpu=$(echo "scale=3; ($c1 - $c0) / 1000000000" | bc)
whole_us=$(echo "scale=1; $whole_cpu * 1000000 / $viewer_s" | bc)
echo "server:    $N clients, ${T} s: $(cat "$tmp/reader.out")"
[ "$playing" = "$N" ] || echo "server:    WARNING: only $playing of $N clients played"
echo "server:    steady: cpu ${steady_cpu} s in ${win} s;" \
    "whole run: cpu ${whole_cpu} s for $bytes bytes, ${viewer_s} viewer-s (${whole_us} us each)"

# the raw writer's second half, then the same bytes in equal frames
raw_half "$tmp/raw2.out"
rate=$(echo "$bytes * 8 / $viewer_s" | bc)
raw "$tmp/const.out" --bitrate "$rate"
raw=$(echo "scale=1; ($(field cpu_s "$tmp/raw1.out") + $(field cpu_s "$tmp/raw2.out")) *" \
    "1000000 / ($N * 2 * $HALF)" | bc)
const=$(echo "scale=1; $(field cpu_s "$tmp/const.out") * 1000000 / ($N * $HALF)" | bc)
echo "raw:       $(grep rawwriter "$tmp/raw1.out") (the server's frames, before it)"
echo "raw:       $(grep rawwriter "$tmp/raw2.out") (the server's frames, after it)"
echo "const:     $(grep rawwriter "$tmp/const.out") (equal frames)"
echo "cpu per viewer-second: server ${steady_us} us, raw ${raw} us, const ${const} us;" \
    "ratio server/raw $(echo "scale=2; $steady_us / $raw" | bc)," \
    "server/const $(echo "scale=2; $steady_us / $const" | bc)"
push=$(awk '/^PUSH/{v=$0} END{print v}' "$tmp/srv.out")
echo "latency:   fan-out (push to last client's socket): ${push#PUSH };" \
    "raw writer's round of sends: p50_us=$(field round_p50_us "$tmp/raw2.out")" \
    "p99_us=$(field round_p99_us "$tmp/raw2.out") max_us=$(field round_max_us "$tmp/raw2.out");" \
    "end to end at the reader: p99 $(field delay_p99_ms "$tmp/reader.out") ms"
heap0=$(awk '/^HEAP/{print $2; exit}' "$tmp/srv.out" | cut -d= -f2)
heap1=$(awk '/^HEAP/{v=$2} END{print v}' "$tmp/srv.out" | cut -d= -f2)
echo "memory per viewer: heap $(echo "scale=2; ($heap1 - $heap0) / $N / 1024" | bc) KiB" \
    "(${heap0} -> ${heap1} B), rss $(echo "scale=2; ($rss1 - $rss0) / $N" | bc) KiB" \
    "(${rss0} -> ${rss1} KiB)"
