"""Shared helpers for the RTSP integration tests (tests/integration/rtsp_*.py).

Starts tests/tools/rtsp_testsrv on 127.0.0.1 with an ephemeral port, runs
real clients (ffprobe, gst-launch-1.0) against it, and checks what they
decoded. Every process is started and stopped by pid."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOOLS = os.environ.get("NL_TOOLS", "")
FPS = 25


def need(*progs):
    """The clients these tests drive are installed by the test command
    (scripts/deps.sh --test): one missing is a broken setup, not a skip."""
    for p in progs:
        if not shutil.which(p):
            print(f"FAIL: {p} not installed (scripts/deps.sh --test installs it)")
            sys.exit(1)


class Server:
    """rtsp_testsrv in the background; .port, .udp, .log (stderr text)."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="nl_rtsp_")
        self.errpath = os.path.join(self.dir, "srv.err")
        self.err = open(self.errpath, "w")
        exe = os.path.join(TOOLS, "rtsp_testsrv")
        env = dict(os.environ)
        supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtsp_lsan.supp")
        env["LSAN_OPTIONS"] = f"suppressions={supp}:print_suppressions=0"
        # --cheap: each mount encodes 2 s once and replays it with fresh
        # timestamps, so the server's loop is not busy encoding while the
        # whole suite runs in parallel on 2 cores.
        self.p = subprocess.Popen([exe, "--port", "0", "--cheap", "50", *args],
                                  stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, env=env)
        line = self.p.stdout.readline().split()
        if len(line) < 3 or line[0] != "PORT":
            self.stop()
            raise SystemExit(f"FAIL: server did not start: {line} {self.log()}")
        self.port, self.udp = int(line[1]), int(line[2])
        self.summary = ""

    def url(self, mount, cred=""):
        return f"rtsp://{cred + '@' if cred else ''}127.0.0.1:{self.port}/{mount}"

    def log(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.summary = self.p.communicate(timeout=20)[0]
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.communicate()
                raise SystemExit("FAIL: server did not stop within 20 s")
        self.err.close()
        if self.p.returncode != 0:
            raise SystemExit(f"FAIL: server exit status {self.p.returncode}:\n{self.log()[-3000:]}")
        if "ERROR: AddressSanitizer" in self.log() or "runtime error" in self.log():
            raise SystemExit(f"FAIL: sanitizer report:\n{self.log()[-4000:]}")
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.summary


def check_increasing(pts, what, fps=FPS, multiples=False):
    """Strictly increasing, at the source's frame rate (1/fps apart; with
    multiples, k/fps for k >= 1: gst-launch -v may coalesce notifications)."""
    d = [round(b - a, 4) for a, b in zip(pts, pts[1:])]
    if multiples:
        # GStreamer re-bases timestamps when the first RTCP SR lets it sync
        # audio to video (one step that is not a frame multiple); allow 2 %.
        bad = [x for x in d if x <= 0 or abs(x * fps - round(x * fps)) > 0.04]
        if all(x > 0 for x in d) and len(bad) <= max(1, len(d) // 50):
            bad = []
    else:
        bad = [x for x in d if abs(x - 1.0 / fps) > 0.0015]
    if bad or not d:
        raise SystemExit(f"FAIL: {what}: timestamps not at 1/{fps} s: {bad[:10]}")


def ffprobe_frames(url, transport, seconds=5, extra=()):
    """Decoded video frames of the live stream: list of pts_time (frames
    without pts - ffmpeg gives the very first RTSP frame none - are left out)."""
    cmd = ["ffprobe", "-v", "error", *extra]
    if transport:
        cmd += ["-rtsp_transport", transport]
    cmd += ["-read_intervals", f"%+{seconds}", "-select_streams", "v:0", "-show_frames",
            "-show_entries", "frame=pts_time,key_frame", "-of", "json", url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: ffprobe {transport} {url}: {r.stderr[-800:]}")
    frames = json.loads(r.stdout).get("frames", [])
    return frames, [float(f["pts_time"]) for f in frames if "pts_time" in f]


def ffprobe_counts(url, transport, seconds=5, extra=()):
    """{stream index: (codec, decoded frames)}"""
    cmd = ["ffprobe", "-v", "error", *extra]
    if transport:
        cmd += ["-rtsp_transport", transport]
    cmd += ["-read_intervals", f"%+{seconds}", "-count_frames", "-show_entries",
            "stream=index,codec_name,nb_read_frames", "-of", "csv=p=0", url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    out = {}
    for line in r.stdout.split():
        i, c, n = line.split(",")[:3]
        out[int(i)] = (c, int(n) if n.isdigit() else 0)
    return r.returncode, out, r.stderr


def gst_run(url, transport, video_caps, audio, frames=100, extra=()):
    """gst-launch rtspsrc: decodes `frames` video frames (identity eos-after)
    and, with audio, 40 audio buffers; returns the video pts in seconds."""
    vdep = "rtph264depay ! h264parse" if video_caps == "h264" else "rtph265depay ! h265parse"
    vdec = "avdec_h264" if video_caps == "h264" else "avdec_h265"
    pipe = (f"rtspsrc location={url} protocols={transport} latency=0 buffer-mode=none name=s {' '.join(extra)} "
            f"s. ! queue ! {vdep} ! {vdec} ! identity name=vid eos-after={frames} silent=false "
            f"! fakesink sync=false")
    if audio:
        pipe += " s. ! queue ! decodebin ! identity name=aud eos-after=40 ! fakesink sync=false"
    r = subprocess.run(["gst-launch-1.0", "-v", *pipe.split()], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0 or "ERROR" in r.stdout + r.stderr:
        raise SystemExit(f"FAIL: gst {transport} {url}: {(r.stdout + r.stderr)[-1500:]}")
    pts = []
    for m in re.finditer(r"vid:sink\) \(\d+ bytes, dts: [^,]*, pts: (\d+):(\d+):([\d.]+)", r.stdout):
        pts.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
    return pts


def reader(url, *args):
    """Runs tests/tools/rtsp_reader; returns {group: {key: value}}."""
    exe = os.path.join(TOOLS, "rtsp_reader")
    r = subprocess.run([exe, url, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: rtsp_reader: {r.stdout} {r.stderr[-800:]}")
    out = {}
    for line in r.stdout.splitlines():
        words = line.split()
        if words:
            out[words[0]] = {k: float(v) for k, v in (w.split("=") for w in words[1:])}
    return out


def summary_fields(summary, prefix):
    """Fields of the server summary line starting with prefix."""
    for line in summary.splitlines():
        if line.startswith(prefix):
            return {k: v for k, v in (w.split("=", 1) for w in line.split()[2:] if "=" in w)}
    return {}
