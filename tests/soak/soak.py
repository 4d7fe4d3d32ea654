#!/usr/bin/python3
"""Soak run of `neolink-cli serve` (docs/soak.md).

Four simulated cameras (`neolink-cli simulate --cheap`, small streams, one
process each; codecs, audio and encryption differ), `neolink-cli serve` on
127.0.0.1 with its /metrics endpoint, and K viewer slots that each run real
RTSP sessions back to back: OPTIONS, DESCRIBE, SETUP (video, sometimes
audio too; TCP interleaved), PLAY, read for 1-4 s counting video frames
(a session without a frame by then waits up to 5 s more for the first one),
then TEARDOWN, a plain close or a reset (RST), chosen at random, on a random
camera and stream (main/sub). The last camera's simulator is killed
(SIGKILL and SIGTERM in turn) and started again on the same port every
--restart-every seconds.

Every --sample seconds a CSV row records serve's RSS, open descriptors and
threads (from /proc/PID), the sessions so far, viewers now, camera
restarts, video frames received and the RTSP clients /metrics reports. At
the end the viewers stop, the run waits until serve is idle again, takes a
last sample, sends SIGTERM and times the exit, prints a summary with
verdict lines, writes summary.json and draws soak.png (gnuplot).

Exit status: 0 passed, 1 failed (crash, sanitizer report, descriptors or
threads not back to baseline, RSS growth over --rss-limit-kb after warm-up,
too few sessions, viewers failing on the stable cameras), 2 bad usage.
Only processes started here are signalled, by pid; everything listens on
127.0.0.1 with free ports.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

# name: simulate arguments (beyond serve_itest.Sim's small 320x240/256x144
# streams), config extra. The last one is the camera that restarts.
CAMERAS = [
    ("cam0", ["--codec", "h264", "--audio", "aac"], "idle_linger: 1s"),
    ("cam1", ["--codec", "h265", "--audio", "adpcm", "--encryption", "bc"],
     "idle_linger: 1s\naudio: pcmu"),
    ("cam2", ["--codec", "h264", "--audio", "none", "--encryption", "fullaes"],
     "on_demand: false"),
    ("cam3", ["--codec", "h264", "--audio", "aac"], "idle_linger: 2s"),
]
STREAMS = ["main", "sub"]
CSV_HEAD = ("t_s,rss_kb,fds,threads,sessions,viewers,camera_restarts,frames,"
            "failed,rtsp_clients\n")


class Busy(Exception):
    """DESCRIBE answered 503 (stream not available right now)."""


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------- RTSP viewer

class Conn:
    """One RTSP/TCP connection that parses replies and interleaved data
    from a single byte stream (no thread of its own)."""

    def __init__(self, host, port, timeout):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.cseq = 0
        self.frames = 0  # complete video frames (RTP marker on channel 0)
        self.packets = 0

    def _fill(self):
        d = self.s.recv(262144)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def next_msg(self):
        """("data", channel, payload) or ("resp", status, headers, body)."""
        b = self.buf
        while True:
            if b[:1] == b"$":
                if len(b) >= 4:
                    n = int.from_bytes(b[2:4], "big")
                    if len(b) >= 4 + n:
                        ch, pkt = b[1], bytes(b[4:4 + n])
                        del b[:4 + n]
                        return "data", ch, pkt
            elif b:
                if not b.startswith(b"RTSP/1.0 "[:len(b)]):
                    raise ProtocolError(f"unexpected bytes from the server: {bytes(b[:40])!r}")
                i = b.find(b"\r\n\r\n")
                if i >= 0:
                    lines = b[:i].decode(errors="replace").split("\r\n")
                    hdr = {}
                    for line in lines[1:]:
                        if ":" in line:
                            k, v = line.split(":", 1)
                            hdr[k.strip().lower()] = v.strip()
                    n = int(hdr.get("content-length", "0"))
                    if len(b) >= i + 4 + n:
                        body = bytes(b[i + 4:i + 4 + n])
                        del b[:i + 4 + n]
                        return "resp", int(lines[0].split()[1]), hdr, body
                elif len(b) > 65536:
                    raise ProtocolError("reply header over 64 KiB")
            self._fill()

    def count(self, ch, pkt):
        self.packets += 1
        if ch == 0 and len(pkt) >= 12 and pkt[1] & 0x80:
            self.frames += 1

    def request(self, method, url, extra=""):
        self.cseq += 1
        cseq = str(self.cseq)
        self.s.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\n"
                       f"User-Agent: soak\r\n{extra}\r\n".encode())
        while True:
            m = self.next_msg()
            if m[0] == "data":
                self.count(m[1], m[2])
            elif m[2].get("cseq") == cseq:
                return m[1], m[2], m[3]

    def close(self, reset=False):
        if reset:
            # SO_LINGER 0: close() sends RST instead of FIN.
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()


def sdp_controls(sdp):
    """{"video": control, "audio": control} from the SDP's media sections."""
    out = {}
    for sec in re.split(r"\r?\nm=", "\n" + sdp)[1:]:
        kind = sec.split(" ", 1)[0]
        m = re.search(r"a=control:(\S+)", sec)
        if m and kind not in out:
            out[kind] = m.group(1)
    return out


def run_session(host, port, path, seconds, ending, audio, stop, timeout):
    """One viewer session; returns the Conn (frames counted)."""
    url = f"rtsp://{host}:{port}{path}"
    c = Conn(host, port, timeout)
    try:
        st, _, _ = c.request("OPTIONS", url)
        if st != 200:
            raise ProtocolError(f"OPTIONS {path}: {st}")
        st, hdr, body = c.request("DESCRIBE", url, "Accept: application/sdp\r\n")
        if st == 503:
            raise Busy(path)
        if st != 200:
            raise ProtocolError(f"DESCRIBE {path}: {st}")
        base = hdr.get("content-base", url + "/")
        ctl = sdp_controls(body.decode(errors="replace"))
        if "video" not in ctl:
            raise ProtocolError(f"DESCRIBE {path}: no video track")
        tracks = [("video", 0)] + ([("audio", 2)] if audio and "audio" in ctl else [])
        session = None
        for kind, ch in tracks:
            t = ctl[kind]
            turl = t if t.startswith("rtsp://") else base.rstrip("/") + "/" + t
            extra = f"Transport: RTP/AVP/TCP;unicast;interleaved={ch}-{ch + 1}\r\n"
            if session:
                extra += f"Session: {session}\r\n"
            st, hdr, _ = c.request("SETUP", turl, extra)
            if st != 200:
                raise ProtocolError(f"SETUP {kind} {path}: {st}")
            session = hdr.get("session", "").split(";")[0]
        st, _, _ = c.request("PLAY", url, f"Session: {session}\r\nRange: npt=0.000-\r\n")
        if st != 200:
            raise ProtocolError(f"PLAY {path}: {st}")
        # Read for `seconds`; a viewer still without a frame then (camera
        # stream just starting on a loaded machine) waits up to 5 s more.
        end = time.monotonic() + seconds
        c.s.settimeout(0.5)
        while not stop.is_set():
            now = time.monotonic()
            if now >= end + (5.0 if c.frames == 0 else 0.0):
                break
            try:
                m = c.next_msg()
            except socket.timeout:
                continue
            if m[0] == "data":
                c.count(m[1], m[2])
        c.s.settimeout(timeout)
        if ending == "teardown":
            st, _, _ = c.request("TEARDOWN", url, f"Session: {session}\r\n")
            if st != 200:
                raise ProtocolError(f"TEARDOWN {path}: {st}")
        return c
    finally:
        c.close(reset=(ending == "reset"))


class Stats:
    def __init__(self, cams):
        self.lock = threading.Lock()
        self.sessions = 0          # sessions that reached PLAY and ended as planned
        self.with_frames = 0       # ... of which received at least one video frame
        self.frames = 0
        self.viewers = 0           # sessions in progress
        self.busy = 0              # DESCRIBE answered 503
        self.failed = 0            # errors (connection, protocol, timeout)
        self.endings = {"teardown": 0, "close": 0, "reset": 0}
        # no_frames: sessions that got no video frame (cut: ... because the
        # run ended right after their PLAY)
        self.per_cam = {c: {"sessions": 0, "no_frames": 0, "failed": 0, "busy": 0}
                        for c in cams}
        self.cut = 0
        self.errors = []           # the last few error texts
        self.restarts = 0


def viewer_slot(args, serve_port, stats, stop, rng):
    cams = [c[0] for c in CAMERAS]
    while not stop.is_set():
        cam = rng.choice(cams)
        path = f"/{cam}/{rng.choice(STREAMS)}"
        seconds = rng.uniform(args.min_view, args.max_view)
        ending = rng.choices(["teardown", "close", "reset"], [5, 3, 2])[0]
        with stats.lock:
            stats.viewers += 1
        try:
            c = run_session("127.0.0.1", serve_port, path, seconds, ending, rng.random() < 0.5,
                            stop, args.io_timeout)
            with stats.lock:
                stats.sessions += 1
                stats.per_cam[cam]["sessions"] += 1
                stats.frames += c.frames
                stats.with_frames += c.frames > 0
                stats.per_cam[cam]["no_frames"] += c.frames == 0
                stats.cut += c.frames == 0 and stop.is_set()
                stats.endings[ending] += 1
        except Busy:
            with stats.lock:
                stats.busy += 1
                stats.per_cam[cam]["busy"] += 1
            stop.wait(0.3)
        except (OSError, EOFError, ProtocolError, ValueError, IndexError) as e:
            with stats.lock:
                stats.failed += 1
                stats.per_cam[cam]["failed"] += 1
                stats.errors = (stats.errors + [f"{time.strftime('%H:%M:%S')} {path}: "
                                                f"{type(e).__name__}: {e}"])[-20:]
            stop.wait(0.3)
        finally:
            with stats.lock:
                stats.viewers -= 1


# ---------------------------------------------------------------- sampling

def proc_sample(pid):
    """(rss kB, open fds, threads) of pid."""
    rss = thr = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                thr = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), thr


def metrics(serve):
    """/metrics as {name{labels}: value}, or {} when it does not answer."""
    try:
        st, body = serve.get("/metrics", timeout=5)
    except OSError:
        return {}
    if st != 200:
        return {}
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


class Sampler:
    def __init__(self, serve, stats, csv_path, interval):
        self.serve, self.stats, self.interval = serve, stats, interval
        self.rows = []
        self.f = open(csv_path, "w")
        self.f.write(CSV_HEAD)
        self.t0 = time.monotonic()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.t = None

    def sample(self):
        rss, fds, thr = proc_sample(self.serve.p.pid)
        clients = metrics(self.serve).get("neolink_rtsp_clients", -1)
        s = self.stats
        with s.lock:
            row = (round(time.monotonic() - self.t0, 1), rss, fds, thr, s.sessions, s.viewers,
                   s.restarts, s.frames, s.failed, int(clients))
        with self.lock:
            self.rows.append(row)
            self.f.write(",".join(str(x) for x in row) + "\n")
            self.f.flush()
        return row

    def _run(self):
        while not self.stop.wait(self.interval - (time.monotonic() - self.t0) % self.interval):
            try:
                self.sample()
            except (FileNotFoundError, ProcessLookupError):
                return  # serve is gone; the main thread notices

    def start(self):
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def finish(self):
        self.stop.set()
        self.t.join()


# ---------------------------------------------------------------- camera restarts

class Restarter:
    """Stops the last camera's simulator every `every` seconds (SIGKILL and
    SIGTERM in turn), waits `down` seconds and starts it on the same port."""

    def __init__(self, sims, name, extra, every, down, stats):
        self.sims, self.name, self.extra = sims, name, extra
        self.every, self.down, self.stats = every, down, stats
        self.stop = threading.Event()
        self.t = None
        self.error = None

    def _run(self):
        n = 0
        while not self.stop.wait(self.every):
            sim = self.sims[self.name]
            sig = signal.SIGKILL if n % 2 == 0 else signal.SIGTERM
            sim.signal(sig)
            sim.p.wait()
            time.sleep(self.down)
            try:
                self.sims[self.name] = T.Sim(self.name, *self.extra, port=sim.port)
            except SystemExit:
                self.error = f"{self.name} did not start again on port {sim.port}"
                return
            n += 1
            with self.stats.lock:
                self.stats.restarts += 1

    def start(self):
        if self.every > 0:
            self.t = threading.Thread(target=self._run, daemon=True)
            self.t.start()

    def finish(self):
        self.stop.set()
        if self.t:
            self.t.join()


# ---------------------------------------------------------------- chart

def draw(out, csv_path, png_path, marks, title, rows, rss_warm, limit_kb):
    """The PNG from the CSV with gnuplot, three panels: RSS (MiB) against
    descriptors and threads; RSS change since the warm-up level in kB
    against the allowed growth; sessions, viewers and camera restarts.
    marks: {label: t_s} drawn as dashed vertical lines."""
    if not shutil.which("gnuplot"):
        print("chart: gnuplot not installed, no PNG")
        return False
    tmax = max(max(r[0] for r in rows), 1)
    # A mark near the right edge gets its label on its left.
    arrows = "".join(
        f"set arrow from {t},graph 0 to {t},graph 1 nohead dt 2 lc rgb 'gray40'\n"
        f"set label '{lbl}' at {t},graph 0.93 "
        f"{'right offset -0.5,0' if t > 0.8 * tmax else 'offset 0.5,0'} "
        f"font ',9' tc rgb 'gray30'\n"
        for lbl, t in marks.items())
    deltas = [r[1] - rss_warm for r in rows] if rss_warm else [0]
    lo = min(-1.2 * limit_kb, 1.1 * min(deltas))
    hi = max(1.2 * limit_kb, 1.1 * max(deltas))
    gp = f"""set terminal pngcairo size 1200,1050 font 'DejaVu Sans,10'
set output '{png_path}'
set datafile separator ','
set key outside top center horizontal
set grid
set multiplot layout 3,1 title "{title}"
set lmargin 11
set rmargin 11
{arrows}set ylabel 'RSS (MiB)'
set y2label 'open fds / threads'
set ytics nomirror
set y2tics
set yrange [0:{max(r[1] for r in rows) / 1024 * 1.25:.1f}]
set y2range [0:{max(max(r[2], r[3]) for r in rows) * 1.25 + 1:.0f}]
plot '{csv_path}' every ::1 using 1:($2/1024) with lines lw 2 lc rgb '#c0392b' title 'RSS (MiB)', \\
     '' every ::1 using 1:3 axes x1y2 with steps lw 1.5 lc rgb '#2471a3' title 'open fds', \\
     '' every ::1 using 1:4 axes x1y2 with steps lw 1.5 lc rgb '#229954' title 'threads'
set ylabel 'RSS - warm-up level (kB)'
unset y2label
unset y2tics
set ytics mirror
set yrange [{lo:.0f}:{hi:.0f}]
plot '{csv_path}' every ::1 using 1:($2-{rss_warm or 0}) with lines lw 2 lc rgb '#c0392b' \\
        title 'RSS change since warm-up (kB)', \\
     {limit_kb} with lines dt 3 lw 1.5 lc rgb '#7b241c' title 'allowed growth ({limit_kb} kB)', \\
     0 with lines lc rgb 'gray50' notitle
set ylabel 'viewer sessions (total)'
set y2label 'viewers now / camera restarts'
set ytics nomirror
set y2tics
set xlabel 'seconds since serve was ready'
set yrange [0:{max(r[4] for r in rows) * 1.1 + 1:.0f}]
set y2range [0:{max(max(r[5], r[6]) for r in rows) * 1.25 + 1:.0f}]
plot '{csv_path}' every ::1 using 1:5 with lines lw 2 lc rgb '#7d3c98' title 'sessions', \\
     '' every ::1 using 1:6 axes x1y2 with steps lc rgb '#ca6f1e' title 'viewers now', \\
     '' every ::1 using 1:7 axes x1y2 with steps lw 2 lc rgb '#555555' title 'camera restarts'
unset multiplot
"""
    gp_path = os.path.join(out, os.path.splitext(os.path.basename(png_path))[0] + ".gp")
    with open(gp_path, "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", gp_path], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"chart: gnuplot failed: {r.stderr.strip()}")
        return False
    return True


def chart_title(s):
    r, fd, th = s["rss_kb"], s["fds"], s["threads"]
    return (f"neolink-cli serve soak: {s['sessions']} viewer sessions, "
            f"{s['camera_restarts']} camera restarts, {s['duration_s'] / 60:.0f} min; "
            f"RSS after warm-up {r['warmup']} -> {r['final']} kB, "
            f"fds {fd['baseline']} -> {fd['final']}, threads {th['baseline']} -> {th['final']}")


def chart_only(csv_path, limit_kb):
    """Redraws the PNG next to a CSV from an earlier run (its summary.json
    must sit in the same directory)."""
    d = os.path.dirname(os.path.abspath(csv_path))
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    with open(csv_path) as f:
        rows = [tuple(float(x) for x in line.split(",")) for line in list(f)[1:]]
    png = os.path.splitext(os.path.abspath(csv_path))[0] + ".png"
    ok = draw(d, os.path.abspath(csv_path), png,
              {"warm-up end": s["warmup_s"], "viewers stop": s["duration_s"]},
              chart_title(s), rows, s["rss_kb"]["warmup"], limit_kb)
    print(f"chart: {png if ok else 'not drawn'}")
    return 0 if ok else 1


# ---------------------------------------------------------------- main

def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def slope_kb_per_min(rows):
    """Least-squares RSS slope of the rows, kB per minute."""
    if len(rows) < 3:
        return 0.0
    n = len(rows)
    mx = sum(r[0] for r in rows) / n
    my = sum(r[1] for r in rows) / n
    sxx = sum((r[0] - mx) ** 2 for r in rows)
    sxy = sum((r[0] - mx) * (r[1] - my) for r in rows)
    return sxy / sxx * 60.0 if sxx else 0.0


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", help="neolink-cli to run (required unless --chart)")
    ap.add_argument("--minutes", type=float, default=25.0, help="viewer churn duration")
    ap.add_argument("--cameras", type=int, default=4, choices=[4])
    ap.add_argument("--concurrent", type=int, default=24, help="viewer slots")
    ap.add_argument("--out", help="directory for the CSV, PNG, logs (required unless --chart)")
    ap.add_argument("--restart-every", type=float, default=60.0,
                    help="seconds between restarts of the last camera (0 = never)")
    ap.add_argument("--restart-down", type=float, default=1.0, help="seconds the camera is down")
    ap.add_argument("--sample", type=float, default=2.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds of warm-up (default: 10%% of the run, at least 120 s, "
                    "at most 30%% of the run)")
    ap.add_argument("--min-view", type=float, default=1.0)
    ap.add_argument("--max-view", type=float, default=4.0)
    ap.add_argument("--io-timeout", type=float, default=10.0,
                    help="viewer socket timeout for connect and replies")
    ap.add_argument("--rss-limit-kb", type=int, default=1024,
                    help="allowed RSS growth after warm-up, kB")
    ap.add_argument("--min-sessions", type=int, default=0,
                    help="fail when fewer viewer sessions were completed")
    ap.add_argument("--max-fail-pct", type=float, default=2.0,
                    help="allowed failed sessions on the cameras that do not restart, %%")
    ap.add_argument("--idle-timeout", type=float, default=60.0,
                    help="how long serve may take to return to baseline after the viewers stop")
    ap.add_argument("--serve-wrap", default="",
                    help="command prefix for serve only, e.g. 'valgrind --leak-check=full'")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--chart", metavar="CSV",
                    help="only redraw the PNG of an earlier run's CSV (summary.json beside it)")
    ap.add_argument("--csv-name", default="soak.csv")
    ap.add_argument("--png-name", default="soak.png")
    return ap.parse_args()


def wrapper_cli(out, wrap, cli):
    """A script that runs `wrap... cli "$@"` (serve only)."""
    path = os.path.join(out, "serve-wrapped.sh")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\nexec {wrap} {cli} \"$@\"\n")
    os.chmod(path, stat.S_IRWXU)
    return path


def main():
    args = parse_args()
    if args.chart:
        return chart_only(args.chart, args.rss_limit_kb)
    if not args.cli or not args.out:
        print("soak: --cli and --out are required")
        return 2
    if not os.access(args.cli, os.X_OK):
        print(f"soak: {args.cli} is not executable")
        return 2
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    T.CLI = os.path.abspath(args.cli)
    try:
        os.rmdir(T.TMP)  # serve_itest's own temporary directory, empty: logs go to out
    except OSError:
        pass
    T.TMP = out
    seed = args.seed if args.seed is not None else int(time.time())
    duration = args.minutes * 60.0
    warm = args.warmup if args.warmup is not None else min(max(120.0, 0.1 * duration),
                                                           0.3 * duration)
    csv_path = os.path.join(out, args.csv_name)
    png_path = os.path.join(out, args.png_name)
    print(f"soak: {args.cli}, {duration:.0f} s of churn, {args.concurrent} viewer slots, "
          f"restart every {args.restart_every:g} s, warm-up {warm:.0f} s, seed {seed}, "
          f"output in {out}", flush=True)

    sims, serve, restarter, sampler = {}, None, None, None
    stop = threading.Event()
    stats = Stats([c[0] for c in CAMERAS])
    failures = []
    slots = []
    summary = {}
    try:
        for name, extra, _ in CAMERAS:
            sims[name] = T.Sim(name, "--cheap", *extra)
        cfg = ("bind: 127.0.0.1\nshutdown_timeout: 2s\nmax_clients: 1000\ncameras:\n" +
               "".join(T.camera_yaml(n, sims[n].port, extra=x) for n, _, x in CAMERAS))
        cfg_path = T.write_config("soak.yaml", cfg)
        if args.serve_wrap:
            T.CLI = wrapper_cli(out, args.serve_wrap, os.path.abspath(args.cli))
        serve = T.Serve(cfg_path, wait_ready=False)
        serve.wait_ready(timeout=120 if args.serve_wrap else 30)
        T.CLI = os.path.abspath(args.cli)
        serve.wait_mounted(timeout=120 if args.serve_wrap else 40)
        time.sleep(3.0)  # the probes' streams stop (no viewers yet)
        sampler = Sampler(serve, stats, csv_path, args.sample)
        base = sampler.sample()
        base_m = metrics(serve)
        print(f"baseline (serve ready, no viewers): RSS {base[1]} kB, fds {base[2]}, "
              f"threads {base[3]}", flush=True)
        sampler.start()

        restarter = Restarter(sims, CAMERAS[-1][0], ["--cheap"] + CAMERAS[-1][1],
                              args.restart_every, args.restart_down, stats)
        restarter.start()
        master = random.Random(seed)
        for i in range(args.concurrent):
            t = threading.Thread(target=viewer_slot,
                                 args=(args, serve.rtsp, stats, stop,
                                       random.Random(master.random())), daemon=True)
            t.start()
            slots.append(t)
            time.sleep(0.05)

        t_end = sampler.t0 + duration
        next_report = time.monotonic() + 60
        while time.monotonic() < t_end:
            time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
            if serve.p.poll() is not None:
                failures.append(f"serve exited during the run with status {serve.p.returncode}")
                break
            if restarter.error:
                failures.append(restarter.error)
                break
            if time.monotonic() >= next_report:
                next_report += 60
                r = sampler.rows[-1]
                print(f"  t={r[0]:.0f}s RSS {r[1]} kB fds {r[2]} threads {r[3]} sessions {r[4]} "
                      f"viewers {r[5]} restarts {r[6]} failed {r[8]} busy {stats.busy}",
                      flush=True)

        # ---- wind down: no more restarts, viewers end their sessions
        restarter.finish()
        t_load_end = time.monotonic() - sampler.t0
        stop.set()
        for t in slots:
            t.join(timeout=args.io_timeout * 3 + 5)
        if any(t.is_alive() for t in slots):
            failures.append("viewer slots did not finish")

        # ---- wait until serve is back to its baseline
        idle_ok = False
        t_idle0 = time.monotonic()
        if serve.p.poll() is None:
            want_states = {k: v for k, v in base_m.items() if k.startswith("neolink_camera_state")}
            while time.monotonic() - t_idle0 < args.idle_timeout:
                rss, fds, thr = proc_sample(serve.p.pid)
                m = metrics(serve)
                states = {k: v for k, v in m.items() if k.startswith("neolink_camera_state")}
                if (fds == base[2] and thr == base[3] and m.get("neolink_rtsp_clients") == 0 and
                        m.get("neolink_camera_streams_active") ==
                        base_m.get("neolink_camera_streams_active") and states == want_states):
                    idle_ok = True
                    break
                time.sleep(0.5)
        idle_s = time.monotonic() - t_idle0
        time.sleep(1.0)
        sampler.finish()
        final = sampler.sample() if serve.p.poll() is None else sampler.rows[-1]
        final_m = metrics(serve) if serve.p.poll() is None else {}

        # ---- stop serve, time it
        exit_s, code = (serve.exit_time_after(signal.SIGTERM, 2.0)
                        if serve.p.poll() is None else (None, serve.p.returncode))
        log = serve.log()
        sanitizer = [l for l in log.splitlines()
                     if "AddressSanitizer" in l or "LeakSanitizer" in l or
                     "runtime error" in l or "ThreadSanitizer" in l]
        vg = {}
        if args.serve_wrap and "valgrind" in args.serve_wrap:
            for key in ("definitely lost", "indirectly lost", "possibly lost",
                        "still reachable", "ERROR SUMMARY"):
                m = re.findall(rf"{key}: ([\d,]+)", log)
                vg[key] = int(m[-1].replace(",", "")) if m else None

        # ---- numbers
        rows = sampler.rows
        loaded = [r for r in rows if r[0] <= t_load_end]
        warm_rows = [r for r in loaded if warm <= r[0] <= warm + 30]
        tail_rows = [r for r in loaded if r[0] >= t_load_end - 30]
        rss_warm = median([r[1] for r in warm_rows])
        rss_tail = median([r[1] for r in tail_rows])
        growth_load = rss_tail - rss_warm if rss_warm and rss_tail else None
        growth_end = final[1] - rss_warm if rss_warm else None
        slope = slope_kb_per_min([(r[0], r[1]) for r in loaded if r[0] >= warm])
        with stats.lock:
            per_cam = json.loads(json.dumps(stats.per_cam))
            summary = {
                "seed": seed, "duration_s": round(t_load_end, 1), "concurrent": args.concurrent,
                "warmup_s": warm, "samples": len(rows),
                "rss_kb": {"baseline": base[1], "warmup": rss_warm, "load_end": rss_tail,
                           "final": final[1], "peak": max(r[1] for r in rows),
                           "growth_after_warmup_loaded": growth_load,
                           "growth_after_warmup_final": growth_end,
                           "slope_kb_per_min": round(slope, 1)},
                "fds": {"baseline": base[2], "peak": max(r[2] for r in rows), "final": final[2]},
                "threads": {"baseline": base[3], "peak": max(r[3] for r in rows),
                            "final": final[3]},
                "sessions": stats.sessions, "sessions_with_frames": stats.with_frames,
                "sessions_cut_at_end": stats.cut,
                "frames": stats.frames, "busy_503": stats.busy, "failed": stats.failed,
                "endings": stats.endings, "per_camera": per_cam,
                "camera_restarts": stats.restarts, "restarting_camera": CAMERAS[-1][0],
                "serve_reconnects": {k.split('"')[1]: v for k, v in final_m.items()
                                     if k.startswith("neolink_camera_reconnects_total")},
                "idle_after_s": round(idle_s, 1), "idle_reached": idle_ok,
                "exit_s": round(exit_s, 3) if exit_s is not None else None, "exit_code": code,
                "sanitizer_lines": sanitizer[:10], "valgrind": vg,
                "last_errors": stats.errors[-10:],
            }

        # ---- verdicts
        if code != 0:
            failures.append(f"serve exit status {code}")
        if exit_s is None:
            failures.append("serve did not exit after SIGTERM")
        if sanitizer:
            failures.append(f"sanitizer report in serve's log ({len(sanitizer)} lines)")
        if vg and ((vg.get("definitely lost") or 0) or (vg.get("indirectly lost") or 0)):
            failures.append(f"valgrind: {vg['definitely lost']} B definitely, "
                            f"{vg['indirectly lost']} B indirectly lost")
        if final[2] != base[2]:
            failures.append(f"fds not back to baseline: {base[2]} -> {final[2]}")
        if final[3] != base[3]:
            failures.append(f"threads not back to baseline: {base[3]} -> {final[3]}")
        if not idle_ok:
            failures.append(f"serve not back to idle within {args.idle_timeout:g} s")
        worst = max(g for g in (growth_load, growth_end) if g is not None) \
            if growth_load is not None else None
        if worst is None:
            failures.append("run too short for an RSS verdict (no samples after warm-up)")
        elif worst > args.rss_limit_kb:
            failures.append(f"RSS grew {worst} kB after warm-up (limit {args.rss_limit_kb} kB)")
        if stats.sessions < args.min_sessions:
            failures.append(f"only {stats.sessions} sessions (want {args.min_sessions})")
        if stats.sessions and stats.with_frames < 0.9 * stats.sessions:
            failures.append(f"only {stats.with_frames} of {stats.sessions} sessions got frames")
        stable = [c[0] for c in CAMERAS[:-1]]
        st_sess = sum(per_cam[c]["sessions"] for c in stable)
        st_fail = sum(per_cam[c]["failed"] + per_cam[c]["busy"] for c in stable)
        if st_fail > args.max_fail_pct / 100.0 * max(st_sess, 1):
            failures.append(f"{st_fail} failed sessions on the stable cameras "
                            f"(of {st_sess + st_fail}; limit {args.max_fail_pct:g} %)")
        summary["failures"] = failures
        summary["verdict"] = "PASS" if not failures else "FAIL"
    finally:
        stop.set()
        if restarter:
            restarter.finish()
        if serve and serve.p.poll() is None:
            serve.stop()
        for s in list(sims.values()):
            s.stop()

    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    r, fd, th = summary["rss_kb"], summary["fds"], summary["threads"]
    marks = {"warm-up end": warm, "viewers stop": summary["duration_s"]}
    drew = draw(out, csv_path, png_path, marks, chart_title(summary), sampler.rows,
                r["warmup"], args.rss_limit_kb)

    print("---- soak summary")
    print(f"run: {summary['duration_s']:.0f} s of churn, {args.concurrent} slots, "
          f"{summary['samples']} samples every {args.sample:g} s -> {csv_path}")
    print(f"RSS kB: baseline {r['baseline']}, after warm-up ({warm:.0f} s) {r['warmup']}, "
          f"end of load {r['load_end']}, final idle {r['final']}, peak {r['peak']}; "
          f"growth after warm-up {r['growth_after_warmup_loaded']} kB loaded, "
          f"{r['growth_after_warmup_final']} kB final; slope {r['slope_kb_per_min']} kB/min")
    print(f"fds: baseline {fd['baseline']}, peak {fd['peak']}, final {fd['final']}")
    print(f"threads: baseline {th['baseline']}, peak {th['peak']}, final {th['final']}")
    print(f"viewer sessions: {summary['sessions']} ({summary['sessions_with_frames']} with "
          f"frames; {summary['sessions_cut_at_end']} without frames were cut short by the "
          f"end of the run; "
          f"{summary['frames']} video frames; endings {summary['endings']}); "
          f"503 answers {summary['busy_503']}, failed {summary['failed']}")
    print(f"per camera: {summary['per_camera']}")
    print(f"camera restarts: {summary['camera_restarts']} (serve reconnects "
          f"{summary['serve_reconnects']})")
    print(f"idle again {summary['idle_after_s']} s after the viewers stopped; "
          f"SIGTERM -> exit in {summary['exit_s']} s, status {summary['exit_code']}")
    if summary["valgrind"]:
        print(f"valgrind: {summary['valgrind']}")
    if summary["last_errors"]:
        print("last viewer errors:\n  " + "\n  ".join(summary["last_errors"]))
    print(f"chart: {png_path if drew else 'not drawn'}")
    for f in failures:
        print(f"FAIL: {f}")
    print(f"verdict: {summary['verdict']}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
