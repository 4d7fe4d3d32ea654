#!/usr/bin/env python3
"""Issue 9's benchmarks: our RTSP fan-out next to the physical limit (a raw
writer) and GStreamer's RTSP server, plus the camera side, latency, time to
first frame, 32 cameras, teardown and allocations per frame. Prints figures
and ratios, writes a markdown report and PNG charts; never fails on speed
(the exit status only reports broken runs).

    tests/bench/bench.py BUILD_DIR [--out DIR] [--quick] [--ns 1,10,100]
                         [--only fanout,udp,camera,ttff,alloc,cams32]

BUILD_DIR: a Release (or RelWithDebInfo) build holding neolink-cli and
tests/rtsp_testsrv, rtsp_reader, rtsp_rawwriter, e.g.
    cmake -S . -B build/bench-rel -DCMAKE_BUILD_TYPE=Release
    cmake --build build/bench-rel -j2 --target neolink-cli rtsp_testsrv \\
        rtsp_reader rtsp_rawwriter
GStreamer's side needs /usr/bin/python3 with python3-gi and
gir1.2-gst-rtsp-server-1.0 (skipped, with a note, when missing); the charts
need gnuplot. Everything runs on 127.0.0.1; every process is started and
stopped by pid. How each figure is measured: docs/benchmarks.md.
"""
import argparse
import datetime
import glob
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
FPS, GOP, BITRATE = 25, 50, 4_000_000

# ------------------------------------------------------------------ helpers


def now():
    return time.monotonic()


def cpu_ns(pid):
    """CPU time of every thread of pid (user + system), from the scheduler's
    own count: /proc/PID/stat only has 10 ms ticks."""
    total = 0
    for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(f) as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def sock_kib(port):
    """Kernel memory held by the established TCP sockets of a server's port:
    receive queue + send queue + forward allocation (`ss -m`), in KiB, and
    how many sockets."""
    if not port or not shutil.which("ss"):
        return 0.0, 0
    r = subprocess.run(["ss", "-tmnH", "state", "established", f"( sport = :{port} )"],
                       capture_output=True, text=True)
    total = count = 0
    for m in re.finditer(r"skmem:\(([^)]*)\)", r.stdout):
        f = {x[0]: int(x[1:]) for x in m.group(1).split(",") if x[:1] in "rwf" and x[1:].isdigit()}
        total += f.get("r", 0) + f.get("w", 0) + f.get("f", 0)
        count += 1
    return total / 1024, count


def kv(line):
    """The key=value words of a line, as floats where they parse."""
    out = {}
    for w in line.split():
        if "=" in w:
            k, v = w.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def lines_of(path, prefix):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f if l.startswith(prefix)]
    except OSError:
        return []


class Bg:
    """A background process with stdout and stderr in files."""

    def __init__(self, name, cmd, tmp, env=None):
        self.name = name
        self.out = os.path.join(tmp, name + ".out")
        self.err = os.path.join(tmp, name + ".err")
        with open(self.out, "w") as o, open(self.err, "w") as e:
            self.p = subprocess.Popen(cmd, stdout=o, stderr=e, env=env)
        self.pid = self.p.pid

    def wait_port(self, timeout=60):
        end = now() + timeout
        while now() < end:
            ls = lines_of(self.out, "PORT")
            if ls:
                return int(ls[0].split()[1])
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"{self.name} did not start: {open(self.err).read()[-800:]}")

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, timeout=15):
        self.signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def stdout(self):
        with open(self.out) as f:
            return f.read()


class Bench:
    def __init__(self, a):
        self.a = a
        self.b = os.path.abspath(a.build)
        self.tools = os.path.join(self.b, "tests")
        self.cli = os.path.join(self.b, "neolink-cli")
        self.tmp = tempfile.mkdtemp(prefix="nl_bench_")
        self.quick = a.quick
        self.T = 12 if a.quick else 30  # seconds the clients watch
        self.res = {}
        self.notes = []
        self.seq = 0
        self.gst = os.path.exists("/usr/bin/python3") and subprocess.run(
            ["/usr/bin/python3", "-c", "import gi; gi.require_version('GstRtspServer', '1.0');"
             "from gi.repository import GstRtspServer"], capture_output=True).returncode == 0
        if not self.gst:
            self.notes.append("GStreamer's RTSP server not available: its columns are empty.")
        self.shim = os.path.join(self.tmp, "alloc_count.so")
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", self.shim,
                            os.path.join(HERE, "alloc_count.c")], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"cannot build alloc_count.so: {r.stderr}")

    def name(self, what):
        self.seq += 1
        return f"{self.seq:03d}-{what}"

    def log(self, msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    # -------------------------------------------------------- processes

    def testsrv(self, n, mounts=("cam:h264",), env=None):
        cmd = [os.path.join(self.tools, "rtsp_testsrv"), "--port", "0", "--size", "1280x720",
               "--fps", str(FPS), "--gop", str(GOP), "--bitrate", str(BITRATE), "--cheap",
               str(GOP), "--max-clients", str(n + 16), "--max-per-mount", str(n + 16),
               "--max-connections", str(n + 32), "--heap-stats", *mounts]
        p = Bg(self.name("testsrv"), cmd, self.tmp, env)
        p.port = p.wait_port()
        p.url = f"rtsp://127.0.0.1:{p.port}/cam"
        return p

    def reader(self, urls, n, duration, *extra):
        if isinstance(urls, str):
            urls = [urls]
        cmd = [os.path.join(self.tools, "rtsp_reader"), *urls, "--clients", str(n),
               "--duration", str(int(duration)), *extra]
        return Bg(self.name("reader"), cmd, self.tmp)

    def reader_result(self, r):
        r.p.wait()
        h = lines_of(r.out, "healthy")
        if not h:
            raise SystemExit(f"reader gave no summary: {open(r.err).read()[-800:]}")
        return kv(h[0])

    def watch(self, pid, rd, T, warm, at_start=None, at_end=None, port=None):
        """Samples pid while reader rd runs: the steady window is from `warm`
        s after the clients start to 1 s before they stop. Returns cpu
        seconds and length of the window, highest RSS, the kernel memory of
        the server's sockets (mean over samples each second of the window,
        per socket) and the reader's summary."""
        t0 = now()
        rss = rss_kb(pid)
        socks, next_sock = [], 0
        ca = ta = cb = tb = None
        while rd.p.poll() is None:
            rss = max(rss, rss_kb(pid))
            if ca is not None and cb is None and now() >= next_sock:
                kib, k = sock_kib(port)
                if k:
                    socks.append(kib / k)
                next_sock = now() + 1
            el = now() - t0
            if ca is None and el >= warm:
                if at_start:
                    at_start()
                ca, ta = cpu_ns(pid), now()
            if cb is None and el >= T - 1:
                cb, tb = cpu_ns(pid), now()
                if at_end:
                    at_end()
            time.sleep(0.25)
        res = self.reader_result(rd)
        if cb is None:
            raise SystemExit(f"reader ended early: {res}")
        return {"cpu_s": (cb - ca) / 1e9, "win": tb - ta, "rss_kb": rss, "reader": res,
                "sock_kib": sum(socks) / len(socks) if socks else float("nan")}

    def raw(self, n, seconds, sizes, frames, udp=False):
        cmd = [os.path.join(self.tools, "rtsp_rawwriter"), "--rtsp", "--clients", str(n),
               "--duration", str(seconds), "--fps", str(FPS), "--sizes", sizes,
               "--frames", frames]
        w = Bg(self.name("raw"), cmd, self.tmp)
        port = w.wait_port()
        rss0 = rss1 = rss_kb(w.pid)
        # the writer closes the connections when done and the reader stops then
        rd = self.reader(f"rtsp://127.0.0.1:{port}/cam", n, seconds + 70,
                         *(["--udp"] if udp else []))
        while rd.p.poll() is None:
            rss1 = max(rss1, rss_kb(w.pid))
            time.sleep(0.25)
        res = self.reader_result(rd)
        w.p.wait()
        line = lines_of(w.out, "rawwriter")
        if not line:
            raise SystemExit(f"raw writer failed: {open(w.err).read()[-500:]}")
        out = kv(line[0])
        out["reader"] = res
        out["rss_kib"] = (rss1 - rss0) / n
        if int(out["playing"]) != n:
            self.notes.append(f"raw writer, {n} clients: only {int(out['playing'])} played")
        return out

    def record(self, srv):
        """The frames one client gets from the test server: whole turns of
        its replay cycle (one GOP), so key frames are not over-represented."""
        sizes = os.path.join(self.tmp, "sizes.all")
        frames = os.path.join(self.tmp, "frames")
        rd = self.reader(srv.url, 1, 2 * GOP // FPS + 2, "--sizes", sizes, "--dump", frames)
        self.reader_result(rd)
        with open(sizes) as f:
            ls = f.readlines()
        if len(ls) < GOP:
            raise SystemExit("too few frames recorded")
        cut = os.path.join(self.tmp, "sizes")
        with open(cut, "w") as f:
            f.writelines(ls[:len(ls) // GOP * GOP])
        return cut, frames

    def heap(self, srv):
        """(live heap bytes, allocator calls, frames pushed) and the PUSH
        line's fields, after a SIGUSR1 to the test server."""
        before = len(lines_of(srv.out, "HEAP"))
        srv.signal(signal.SIGUSR1)
        end = now() + 5
        while now() < end and len(lines_of(srv.out, "PUSH")) <= before:
            time.sleep(0.02)
        h = kv(lines_of(srv.out, "HEAP")[-1])
        return h, kv(lines_of(srv.out, "PUSH")[-1])

    # ---------------------------------------------------------- fan-out

    def fanout(self, n, udp=False):
        """Ours, the raw writer (before and after) and GStreamer at n viewers."""
        T = self.T + n // 200  # 1000 clients take a few seconds to connect
        warm = 4 + n // 200
        half = max(4, (T - 1 - warm + 1) // 2)
        tr = ["--udp"] if udp else []
        self.log(f"fan-out {n} {'UDP' if udp else 'TCP'}: {T} s per server")
        srv = self.testsrv(n)
        sizes, frames = self.record(srv)
        time.sleep(1)
        raw1 = self.raw(n, half, sizes, frames, udp)
        rss0 = rss_kb(srv.pid)
        h0, _ = self.heap(srv)
        marks = {}
        rd = self.reader(srv.url, n, T, *tr)
        w = self.watch(srv.pid, rd, T, warm, lambda: srv.signal(signal.SIGUSR2),
                       lambda: marks.update(zip(("heap", "push"), self.heap(srv))), srv.port)
        ours = {
            "us": w["cpu_s"] * 1e6 / (n * w["win"]),
            "heap_kib": (marks["heap"]["bytes"] - h0["bytes"]) / n / 1024,
            "rss_kib": (w["rss_kb"] - rss0) / n,
            "push": marks["push"],
            "reader": w["reader"],
            "cpu_s": w["cpu_s"], "win": w["win"], "sock_kib": w["sock_kib"],
        }
        gst = None
        if self.gst:
            gst = self.gst_run(srv, n, T, warm, tr)
        srv.stop()
        raw2 = self.raw(n, half, sizes, frames, udp)
        raw_us = (raw1["cpu_s"] + raw2["cpu_s"]) * 1e6 / (n * 2 * half)
        raw_rss = (raw1["rss_kib"] + raw2["rss_kib"]) / 2
        r = {"n": n, "udp": udp, "ours": ours, "raw_us": raw_us, "raw_rss_kib": raw_rss,
             "raw1": raw1, "raw2": raw2,
             "gst": gst}
        rr = ours["reader"]
        if int(rr["playing"]) != n:
            self.notes.append(f"ours, {n} clients: only {int(rr['playing'])} played")
        self.log(f"  ours {ours['us']:.1f} us/viewer-s, raw {raw_us:.1f}, ratio "
                 f"{ours['us'] / raw_us:.2f}; gst {gst['us'] if gst else float('nan'):.1f}; "
                 f"heap {ours['heap_kib']:.2f} KiB/viewer, rss {ours['rss_kib']:.2f}")
        return r

    def gst_run(self, srv, n, T, warm, tr):
        g = Bg(self.name("gst"), ["/usr/bin/python3", os.path.join(HERE, "gst_relay.py"),
                                  srv.url], self.tmp)
        port = g.wait_port()
        url = f"rtsp://127.0.0.1:{port}/cam"
        # One viewer through the whole run keeps the shared media (pipeline,
        # source connection) up, so the RSS baseline holds it and N viewers
        # are measured on top of it.
        anchor = self.reader(url, 1, T + 30)
        time.sleep(3)
        rss0 = rss_kb(g.pid)
        rd = self.reader(url, n, T, *tr)
        w = self.watch(g.pid, rd, T, warm, port=port)
        anchor.signal(signal.SIGTERM)
        anchor.p.wait()
        g.stop()
        rr = w["reader"]
        if int(rr["playing"]) != n:
            self.notes.append(f"GStreamer, {n} clients: only {int(rr['playing'])} played")
        return {"us": w["cpu_s"] * 1e6 / ((n + 1) * w["win"]), "rss_kib": (w["rss_kb"] - rss0) / n,
                "sock_kib": w["sock_kib"],
                "reader": rr, "cpu_s": w["cpu_s"], "win": w["win"]}

    # ------------------------------------------------------ time to first frame

    def ttff(self):
        self.log("time to first frame, test server with and without the GOP cache")
        srv = self.testsrv(64, ("cam:h264", "gopc:h264,gop"))
        time.sleep(2)
        k, step = 20, 230  # 20 viewers joining over 4.6 s: every phase of the 2 s GOP
        out = {}
        for mount in ("cam", "gopc"):
            rd = self.reader(f"rtsp://127.0.0.1:{srv.port}/{mount}", k, k * step / 1000 + 3,
                             "--stagger", str(step))
            out[mount] = self.reader_result(rd)
        srv.stop()
        return out

    # ------------------------------------------------------------ allocations

    def alloc(self):
        self.log("allocations per frame, test server (10 viewers)")
        log = os.path.join(self.tmp, "alloc-testsrv.log")
        env = dict(os.environ, LD_PRELOAD=self.shim, NLBENCH_ALLOC_LOG=log)
        srv = self.testsrv(10, env=env)
        rd = self.reader(srv.url, 10, 16)
        time.sleep(5)
        srv.signal(signal.SIGUSR2)
        h0, _ = self.heap(srv)
        t0 = now()
        time.sleep(9)
        h1, push = self.heap(srv)
        t1 = now()
        self.reader_result(rd)
        srv.stop()
        frames = h1["frames"] - h0["frames"]
        proc = self.alloc_window(log, t0, t1)
        return {"frames": frames, "push_allocs": push["allocs"], "push_n": push["n"],
                "lib_calls": h1["calls"] - h0["calls"], "proc": proc,
                "proc_per_frame": proc / frames if frames else float("nan")}

    @staticmethod
    def alloc_window(log, t0, t1):
        """Allocations the shim logged between monotonic times t0 and t1."""
        pts = []
        for line in open(log):
            try:
                t, c = line.split()
                pts.append((float(t), int(c)))
            except ValueError:
                pass

        def at(t):
            best = pts[0]
            for p in pts:
                if p[0] <= t:
                    best = p
            return best

        a, b = at(t0), at(t1)
        return b[1] - a[1]

    # ------------------------------------------------ camera side (serve + sim)

    def serve_env(self):
        sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
        os.environ["NL_CLI"] = self.cli
        import serve_itest
        serve_itest.CLI = self.cli
        return serve_itest

    def camera(self):
        """neolink-cli serve with one simulated camera (main 1280x720@25,
        4 Mbit/s, replayed GOP): camera streams and bytes from the camera
        as viewers come, serve's CPU, end-to-end delay, time to first frame
        (serve has no GOP cache), allocations per frame, then SIGTERM with
        500 viewers."""
        S = self.serve_env()
        self.log("camera side: serve + simulate")
        sim = S.Sim("sim1", "--main", "1280x720@25", "--sub", "640x360@15", "--gop", "2",
                    "--bitrate", "4000,512", "--cheap", "--audio", "none",
                    "--max-connections", "64", status=True)
        cfg = S.write_config("bench1.yaml", "max_clients: 4000\nshutdown_timeout: 2s\n"
                             "cameras:\n" + S.camera_yaml(
                                 "cam", sim.port, extra="stream: main\non_demand: false"))
        alog = os.path.join(self.tmp, "alloc-serve.log")
        serve = S.Serve(cfg, "--log-level", "warn",
                        env_extra={"LD_PRELOAD": self.shim, "NLBENCH_ALLOC_LOG": alog})
        serve.wait_mounted()
        pid = serve.p.pid
        url = serve.url("/cam/main")
        time.sleep(4)  # the stream runs (on_demand: false), nobody watches

        def sample():
            m, _ = serve.metrics()
            fr = sum(v for k, v in m.items() if k.startswith("neolink_camera_frames_total"))
            by = sum(v for k, v in m.items() if k.startswith("neolink_camera_bytes_total"))
            st = sim.status() or {}
            return {"t": now(), "cpu": cpu_ns(pid), "frames": fr, "bytes": by,
                    "streams": st.get("streams"), "sim_line": st.get("line", ""),
                    "active": m.get("neolink_camera_streams_active")}

        rows = []
        a = sample()
        time.sleep(6 if self.quick else 12)
        b = sample()
        rows.append(self.cam_row(0, a, b, rss_kb(pid), None, alog))
        for n in [1, 10, 100] + ([] if self.quick else [500]):
            T = self.T + n // 200
            warm = 4 + n // 200
            marks = {}
            rd = self.reader(url, n, T)
            w = self.watch(pid, rd, T, warm, lambda: marks.update(a=sample()),
                           lambda: marks.update(b=sample()))
            rows.append(self.cam_row(n, marks["a"], marks["b"], w["rss_kb"], w["reader"], alog))
            self.log(f"  {n} viewers: camera streams {rows[-1]['streams']}, "
                     f"{rows[-1]['us']:.1f} us/viewer-s")
        # time to first frame from serve (no GOP cache there)
        k, step = 20, 230
        rd = self.reader(url, k, k * step / 1000 + 3, "--stagger", str(step))
        ttff = self.reader_result(rd)
        # teardown with 500 viewers
        n = 500
        rd = self.reader(url, n, 60)
        time.sleep(8)
        st_n = sample()
        dt, code = serve.exit_time_after(signal.SIGTERM, 5)
        rdres = self.reader_result(rd)
        sim.stop()
        return {"rows": rows, "ttff": ttff,
                "teardown": {"n": n, "seconds": dt, "code": code, "reader": rdres,
                             "viewers_playing": rdres.get("playing"), "streams": st_n["streams"]}}

    def cam_row(self, n, a, b, rss, reader, alog):
        dt = b["t"] - a["t"]
        cpu = (b["cpu"] - a["cpu"]) / 1e9
        frames = b["frames"] - a["frames"]
        allocs = self.alloc_window(alog, a["t"], b["t"])
        return {"n": n, "win": dt, "cpu_pct": 100 * cpu / dt,
                "us": cpu * 1e6 / (n * dt) if n else float("nan"),
                "streams": a["streams"] if n == 0 else b["streams"],
                "active": b["active"], "cam_kbit_s": (b["bytes"] - a["bytes"]) * 8 / dt / 1000,
                "frames": frames, "allocs_per_frame": allocs / frames if frames else float("nan"),
                "rss_mib": rss / 1024, "reader": reader, "sim_line": b["sim_line"]}

    # ------------------------------------------------------------ 32 cameras

    def cams32(self):
        S = self.serve_env()
        self.log("32 cameras x main+sub x 2 viewers")
        sims, cams = [], ""
        for s in range(2):
            sim = S.Sim(f"sim32-{s}", "--main", "1280x720@25", "--sub", "640x360@15", "--gop",
                        "2", "--bitrate", "4000,512", "--cheap", "--audio", "none",
                        "--channels", "16", "--max-connections", "64", status=True)
            sims.append(sim)
            for ch in range(16):
                cams += S.camera_yaml(f"c{s * 16 + ch}", sim.port,
                                      extra=f"channel_id: {ch}\nstream: both")
        cfg = S.write_config("bench32.yaml", "max_clients: 4000\ncameras:\n" + cams)
        serve = S.Serve(cfg, "--log-level", "warn")
        serve.wait_mounted(timeout=180)
        pid = serve.p.pid
        urls = [serve.url(f"/c{i}/{s}") for i in range(32) for s in ("main", "sub")]
        T = self.T + 10  # the simulators encode their GOPs once when a stream starts
        warm = 14
        marks = {}

        def snap():
            return {"t": now(), "serve": cpu_ns(pid),
                    "sims": sum(cpu_ns(s.p.pid) for s in sims)}

        rss0 = rss_kb(pid)
        rd = self.reader(urls, 128, T)
        w = self.watch(pid, rd, T, warm, lambda: marks.update(a=snap()),
                       lambda: marks.update(b=snap()))
        m, _ = serve.metrics()
        a, b = marks["a"], marks["b"]
        dt = b["t"] - a["t"]
        st = [s.status() for s in sims]
        serve.stop()
        for s in sims:
            s.stop()
        return {"serve_pct": 100 * (b["serve"] - a["serve"]) / 1e9 / dt,
                "sims_pct": 100 * (b["sims"] - a["sims"]) / 1e9 / dt, "win": dt,
                "rss_mib": w["rss_kb"] / 1024, "rss0_mib": rss0 / 1024, "reader": w["reader"],
                "camera_streams": sum(x["streams"] for x in st if x),
                "viewers": m.get("neolink_rtsp_clients")}

    # ----------------------------------------------------------------- run

    def run(self):
        only = set(self.a.only.split(",")) if self.a.only else None

        def want(x):
            return only is None or x in only

        self.res["machine"] = machine()
        self.res["t0"] = datetime.datetime.utcnow()
        if want("fanout"):
            self.res["fanout"] = [self.fanout(n) for n in self.a.ns]
        if want("udp"):
            self.res["udp"] = self.fanout(100, udp=True)
        if want("ttff"):
            self.res["ttff"] = self.ttff()
        if want("alloc"):
            self.res["alloc"] = self.alloc()
        if want("camera"):
            self.res["camera"] = self.camera()
        if want("cams32"):
            self.res["cams32"] = self.cams32()
        self.res["t1"] = datetime.datetime.utcnow()
        self.res["load_end"] = open("/proc/loadavg").read().split()[:3]
        os.makedirs(self.a.out, exist_ok=True)
        md = report(self.res, self.notes, self.a)
        path = os.path.join(self.a.out, self.a.name + ".md")
        with open(path, "w") as f:
            f.write(md)
        if "fanout" in self.res:
            plots(self.res["fanout"], self.a.out, self.a.name)
        print(md)
        self.log(f"report: {path}; raw files in {self.tmp}")


def machine():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpus": os.cpu_count(), "model": model, "kernel": platform.release(),
            "os": run("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
            "gst": run("gst-inspect-1.0", "--version").splitlines()[1:2],
            "commit": run("git", "-C", SRC, "rev-parse", "--short", "HEAD"),
            "dirty": bool(run("git", "-C", SRC, "status", "--porcelain", "--untracked-files=no")),
            "load": open("/proc/loadavg").read().split()[:3]}


# ------------------------------------------------------------------ report


def f1(x, nd=1):
    if x is None or x != x:
        return "–"
    return f"{x:.{nd}f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b and a == a and b == b else "–"


def report(r, notes, a):
    m = r["machine"]
    out = [f"# libneolink benchmarks, {r['t0']:%Y-%m-%d %H:%M} UTC", ""]
    out += [f"Machine: {m['cpus']} CPUs, {m['model']}, Linux {m['kernel']}, {m['os']}; "
            f"{(m['gst'] or ['GStreamer ?'])[0]}. Load average at start {' '.join(m['load'])}, "
            f"at end {' '.join(r['load_end'])} (other jobs shared the machine). Commit "
            f"{m['commit']}{' + local changes' if m['dirty'] else ''}; "
            f"{'quick' if a.quick else 'full'} run, "
            f"{(r['t1'] - r['t0']).seconds // 60} min. Command: `tests/bench/bench.py "
            f"{a.build}{' --quick' if a.quick else ''}`.", ""]
    out += ["Stream: 1280x720 H.264, 25 fps, key frame every 2 s, ~4 Mbit/s, pre-encoded and "
            "replayed. Clients: `rtsp_reader` (one epoll thread, raw sockets) for every server. "
            "CPU: all threads of the server process, from schedstat, over the steady window; per "
            "viewer-second = CPU / (viewers x seconds). Method and meaning of each figure: "
            "docs/benchmarks.md.", ""]
    fo = r.get("fanout")
    if fo:
        out += ["## 1. Fan-out cost (TCP interleaved)", "",
                "| N | ours µs/viewer-s | limit µs/viewer-s | GStreamer µs/viewer-s | ours/limit "
                "| ours/GStreamer | ours heap KiB/viewer | RSS KiB/viewer ours/limit/GStreamer "
                "| kernel socket KiB/viewer (ours/gst) | played (ours/limit/gst) |",
                "|" + "---|" * 10]
        for x in fo:
            o, g = x["ours"], x["gst"]
            out.append(
                f"| {x['n']} | {f1(o['us'])} | {f1(x['raw_us'])} | {f1(g['us']) if g else '–'} | "
                f"{ratio(o['us'], x['raw_us'])} | {ratio(o['us'], g['us']) if g else '–'} | "
                f"{f1(o['heap_kib'], 2)} | {f1(o['rss_kib'], 2)}/{f1(x['raw_rss_kib'], 2)}/"
                f"{f1(g['rss_kib'], 2) if g else '–'} | {f1(o['sock_kib'])}/"
                f"{f1(g['sock_kib']) if g else '–'} | {int(o['reader']['playing'])}/"
                f"{int(x['raw2']['playing'])}/{int(g['reader']['playing']) if g else '–'} |")
        out += ["", "Kernel socket buffers are not in the heap and RSS figures; the kernel "
                "socket column is the memory the kernel holds for the server's TCP sockets "
                "(`ss -m`: receive + send queue + forward allocation), mean per viewer over the "
                "window: it grows when the readers lag, whoever the sender. GStreamer's CPU includes reading the "
                "source stream once (one depayloader), divided over N+1 viewers (one extra "
                "viewer holds its shared media up); its RSS is measured on top of that.", ""]
    u = r.get("udp")
    if u:
        o, g = u["ours"], u["gst"]
        out += ["### 100 viewers over UDP", "",
                "| N | ours µs/viewer-s | limit µs/viewer-s | GStreamer µs/viewer-s | ours/limit | "
                "ours/GStreamer | ours heap KiB/viewer | gaps (ours/gst) |", "|" + "---|" * 8,
                f"| {u['n']} | {f1(o['us'])} | {f1(u['raw_us'])} | {f1(g['us']) if g else '–'} | "
                f"{ratio(o['us'], u['raw_us'])} | {ratio(o['us'], g['us']) if g else '–'} | "
                f"{f1(o['heap_kib'], 2)} | {int(o['reader']['gaps'])}/"
                f"{int(g['reader']['gaps']) if g else '–'} |", "",
                "UDP limit: one sendto() per RTP packet per client from one socket.", ""]
    cam = r.get("camera")
    if cam:
        out += ["## 2. Camera-side load (`neolink-cli serve` + `neolink-cli simulate`)", "",
                "One simulated camera (main stream only, on_demand off, no audio), viewers on "
                "/cam/main. Camera streams: the simulator's own count of running streams. "
                "Bytes from the camera: serve's `neolink_camera_bytes_total` over the window.", "",
                "| viewers | camera streams | kbit/s from camera | serve CPU % of a core | "
                "serve µs/viewer-s | serve RSS MiB | heap allocations per frame (whole serve) |",
                "|" + "---|" * 7]
        for x in cam["rows"]:
            out.append(f"| {x['n']} | {x['streams']} | {f1(x['cam_kbit_s'], 0)} | "
                       f"{f1(x['cpu_pct'], 2)} | {f1(x['us'])} | {f1(x['rss_mib'])} | "
                       f"{f1(x['allocs_per_frame'], 2)} |")
        out.append("")
    if fo or cam:
        out += ["## 3. Latency added", ""]
        if fo:
            out += ["Test server: push = from a frame's arrival in `nl_rtsp_mount_push()` until "
                    "the last client has it in its socket; end to end = at the reader, arrival "
                    "minus RTP time against the same client's best frame (includes timer and "
                    "reader scheduling).", "",
                    "| N | push p50 ms | push p99 ms | end-to-end p50 ms | end-to-end p99 ms | "
                    "raw writer's round p50/p99 ms |", "|" + "---|" * 6]
            for x in fo:
                p, rd = x["ours"]["push"], x["ours"]["reader"]
                out.append(f"| {x['n']} | {p['p50_us'] / 1000:.2f} | {p['p99_us'] / 1000:.2f} | "
                           f"{f1(rd['delay_p50_ms'], 2)} | {f1(rd['delay_p99_ms'], 2)} | "
                           f"{x['raw2']['round_p50_us'] / 1000:.2f}/"
                           f"{x['raw2']['round_p99_us'] / 1000:.2f} |")
            out.append("")
        if cam:
            out += ["serve (camera → serve → viewer, same end-to-end measure):", "",
                    "| viewers | p50 ms | p99 ms | max ms |", "|---|---|---|---|"]
            for x in cam["rows"]:
                if x["reader"]:
                    rd = x["reader"]
                    out.append(f"| {x['n']} | {f1(rd['delay_p50_ms'], 2)} | "
                               f"{f1(rd['delay_p99_ms'], 2)} | {f1(rd['delay_max_ms'], 2)} |")
            out.append("")
    if r.get("ttff") or cam:
        out += ["## 4. Time to first frame", "",
                "20 viewers joining 230 ms apart (every phase of the 2 s key frame interval); "
                "from connect() to the first complete frame, and how many first frames were key "
                "frames (IDR/SPS).", "", "| server | p50 ms | max ms | first frame a key frame |",
                "|---|---|---|---|"]
        t = r.get("ttff")
        if t:
            for k, label in (("cam", "test server, no GOP cache"),
                             ("gopc", "test server, GOP cache")):
                x = t[k]
                out.append(f"| {label} | {f1(x['ttff_p50_ms'])} | {f1(x['ttff_max_ms'])} | "
                           f"{int(x['first_key'])}/{int(x['n'])} |")
        if cam:
            x = cam["ttff"]
            out.append(f"| serve (no GOP cache configured) | {f1(x['ttff_p50_ms'])} | "
                       f"{f1(x['ttff_max_ms'])} | {int(x['first_key'])}/{int(x['n'])} |")
        out.append("")
    c = r.get("cams32")
    if c:
        out += ["## 5. 32 cameras × main+sub × 2 viewers", "",
                "Two simulators with 16 channels each (main 1280x720@25 4 Mbit/s, sub "
                "640x360@15 512 kbit/s, replayed GOPs), one serve, 128 viewers.", "",
                "| serve CPU % of a core | simulators' CPU % | serve RSS MiB (idle → "
                "watched) | camera streams | viewers playing |", "|---|---|---|---|---|",
                f"| {f1(c['serve_pct'], 2)} | {f1(c['sims_pct'], 2)} | {f1(c['rss0_mib'])} → "
                f"{f1(c['rss_mib'])} | {c['camera_streams']} | "
                f"{int(c['reader']['playing'])}/128 |", ""]
    if cam:
        td = cam["teardown"]
        out += ["## 6. Teardown", "",
                f"SIGTERM to exit of serve with {td['n']} viewers playing "
                f"({int(td['reader']['playing'])} played): **{f1(td['seconds'], 3)} s**, exit "
                f"status {td['code']}.", ""]
    al = r.get("alloc")
    if al or cam:
        out += ["## 7. Allocations per frame (steady state)", "",
                "Counted by `tests/bench/alloc_count.so` (LD_PRELOAD: every malloc, calloc, "
                "realloc and aligned allocation of the process, libav's included) and by the "
                "library's allocator hook.", "",
                "| where | allocations | frames | per frame |", "|---|---|---|---|"]
        if al:
            fr = al["frames"]
            out += [
                    f"| inside `nl_rtsp_mount_push()` (10 viewers) | {int(al['push_allocs'])} | "
                    f"{int(al['push_n'])} | {al['push_allocs'] / al['push_n']:.3f} |",
                    f"| libneolink's allocator hook, whole test server | {int(al['lib_calls'])} | "
                    f"{int(fr)} | {al['lib_calls'] / fr:.3f} |",
                    f"| whole test server process (includes its own frame source) | "
                    f"{int(al['proc'])} | {int(fr)} | {al['proc_per_frame']:.2f} |"]
        if cam:
            for x in cam["rows"]:
                out.append(f"| whole serve process, {x['n']} viewers (sim → serve → viewers) | – | "
                           f"{int(x['frames'])} | {f1(x['allocs_per_frame'], 2)} |")
        out.append("")
    out += headline(r)
    if notes:
        out += ["## Notes", ""] + [f"* {n}" for n in notes] + [""]
    if fo:
        out += [f"![CPU per viewer-second]({a.name}-cpu.png)",
                f"![Memory per viewer]({a.name}-rss.png)", ""]
    return "\n".join(out)


def headline(r):
    fo = {x["n"]: x for x in r.get("fanout", [])}
    out = ["## Headline", ""]
    for n in (100, 1000):
        x = fo.get(n)
        if not x:
            continue
        o, g = x["ours"], x["gst"]
        out.append(f"* N = {n}: ours / limit = **{ratio(o['us'], x['raw_us'])}** "
                   f"({f1(o['us'])} vs {f1(x['raw_us'])} µs per viewer-second); ours / "
                   f"GStreamer = **{ratio(o['us'], g['us']) if g else '–'}** "
                   f"({f1(g['us']) if g else '–'} µs).")
    return out + [""] if len(out) > 2 else []


def plots(fo, outdir, name):
    gp = shutil.which("gnuplot")
    if not gp:
        return
    dat = os.path.join(outdir, f".{name}.dat")
    with open(dat, "w") as f:
        f.write("# N ours_us raw_us gst_us ours_heap_kib ours_rss_kib gst_rss_kib raw_rss_kib\n")
        for x in fo:
            g = x["gst"] or {}
            f.write(f"{x['n']} {x['ours']['us']:.2f} {x['raw_us']:.2f} {g.get('us', 'NaN')} "
                    f"{x['ours']['heap_kib']:.3f} {x['ours']['rss_kib']:.3f} "
                    f"{g.get('rss_kib', 'NaN')} {x['raw_rss_kib']:.3f}\n")
    common = ("set terminal pngcairo size 800,500 font 'sans,10'\nset logscale x\n"
              "set xlabel 'viewers (N)'\nset grid\nset key top left\nset xrange [0.7:1500]\n")
    script = (common + f"set output '{os.path.join(outdir, name + '-cpu.png')}'\n"
              "set ylabel 'server CPU, µs per viewer-second'\nset logscale y\n"
              "set title 'Fan-out cost of one 4 Mbit/s stream (lower is better)'\n"
              f"plot '{dat}' u 1:2 w lp lw 2 t 'libneolink', '' u 1:3 w lp lw 2 t "
              "'raw writer (limit)', '' u 1:4 w lp lw 2 t 'GStreamer RTSP server'\n"
              f"set output '{os.path.join(outdir, name + '-rss.png')}'\n"
              "set ylabel 'KiB per viewer'\nset logscale y\nset yrange [*:*]\n"
              "set title 'Userspace memory per viewer (lower is better)'\n"
              f"plot '{dat}' u 1:5 w lp lw 2 t 'libneolink heap', '' u 1:6 w lp lw 2 t "
              "'libneolink RSS', '' u 1:7 w lp lw 2 t 'GStreamer RSS', '' u 1:8 w lp lw 2 t "
              "'raw writer RSS (limit)'\n")
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print(r.stderr)
    os.unlink(dat)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--name", default=None, help="report file name (default: the date)")
    ap.add_argument("--quick", action="store_true", help="12 s windows, N up to 100")
    ap.add_argument("--ns", default=None, help="viewer counts, e.g. 1,10,100,500,1000")
    ap.add_argument("--only", default=None,
                    help="comma list of: fanout,udp,ttff,alloc,camera,cams32")
    a = ap.parse_args()
    a.ns = [int(x) for x in (a.ns or ("1,10,100" if a.quick else "1,10,100,500,1000")).split(",")]
    a.name = a.name or datetime.date.today().isoformat()
    # two sockets per client; the children inherit the limit
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    Bench(a).run()


if __name__ == "__main__":
    main()
