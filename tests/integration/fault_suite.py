#!/usr/bin/env python3
# timeout: 600
"""The combined fault suite (issue 7). Every scenario runs a fresh
`neolink-cli serve` with shutdown_timeout 3 s and two cameras: "good" (a
healthy simulated camera, watched by one healthy viewer for the whole
scenario) and "bad"/"victim" (the camera with the fault, or the camera the
hostile RTSP clients attack). The fault is still going on when the scenario
ends with SIGTERM or SIGINT (alternately, so both are covered).

Camera faults:  refused; at login a fake camera that closes mid-reply
  (login-drop), announces a 2 GiB body (login-biglen), sends random bytes
  (login-garbage) or never answers (login-mute); midframe-drop (a proxy
  cuts the link in the middle of a camera read); stall, garbage, truncate,
  big-length (the simulator's fault modes); media-len-huge/-4m (a proxy sets
  one BcMedia video size field to 2 GiB / 4 MiB - 64); wrong-password;
  restart (new nonce and clock); clock-jump (32-bit wrap); stream-stall
  (main, sub and extern on one connection, only one of the three stalls).
Hostile viewers: never-send, slowloris (1 byte/s), never-read (4 KiB
  receive buffer), half-close after PLAY, RST mid-frame (SO_LINGER 0),
  burst (500 connects with max_clients 20, plus sessions beyond it),
  pipelined garbage, huge headers, Digest replay (a captured Authorization
  whose nonce came from an earlier server process, a forged nonce, a wrong
  password), UDP destination (SETUP naming another address, from either
  loopback address; a valid UDP session sends RTP and RTCP to the
  requester only), odd but well-formed requests on one connection.
Process: the stop signal in the middle of a connection storm, 50 ms after
  a SIGHUP that restarts a camera, after 11 SIGHUPs 100 ms apart (one
  with a broken file), and SIGHUP during streaming.

For every scenario: no crash and no sanitizer report, exit status 0 within
shutdown_timeout, the healthy viewer keeps getting frames (largest gap
printed, at most GAP_MAX s) and is still connected at the end, and the
server's VmRSS stays under its own baseline + RSS_SLACK_MIB (serve has no
memory cap key: the bound covers the documented per-client queues, GOP
caches and the 16 MiB ASan quarantine set for it here), and /metrics shows
client queues within queue_max_bytes and camera arenas within 1 MiB. All
output (serve, simulators, `neolink-cli check`, /metrics, /readyz) is
grepped for the passwords. The table (scenario, outcome, recover s, exit s, signal) is
printed and written to $NL_BUILD/fault_table.md.
NL_FAULT_ONLY=name,name runs only those scenarios; NL_FAULT_DEBUG=1 makes
the stream-stall proxy print what it sees.
"""
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

SHUTDOWN = 3.0
GAP_MAX = 2.5            # largest silence allowed for the healthy viewer (15 fps sub stream)
RSS_SLACK_MIB = 64       # VmRSS bound above the scenario's baseline
CAM_PW = "CamSecret-7f3a"
WRONG_PW = "CamWrong-5d2e"
USER, USER_PW = "watcher", "ViewerSecret-91bc"
SECRETS = (CAM_PW, WRONG_PW, USER_PW)
SERVE_ASAN = "abort_on_error=1:detect_leaks=1:quarantine_size_mb=16"
SIGNALS = (signal.SIGTERM, signal.SIGINT)
QUEUE_CAP = 4 << 20      # queue_max_bytes per client (docs/limits.md)
ARENA_CAP = 1 << 20      # camera session arena_cap
DEBUG = os.environ.get("NL_FAULT_DEBUG") == "1"


class ScenarioFail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise ScenarioFail(msg)


rows = []          # (scenario, outcome, recover, exit, signal)
texts = []         # every output, for the password grep
failures = []
sims = []


def sim(name, *args, extern=None):
    s = T.Sim(name, "--cheap", *args, password=CAM_PW, extern=extern)
    sims.append(s)
    return s


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- fake cameras

class FakeCamera:
    """Accepts TCP and misbehaves at login. Modes:
      drop     reads the login request, answers the first 12 bytes of a
               reply header and closes
      biglen   answers a complete legacy reply header announcing a body of
               0x7FFFFFF0 bytes, then a trickle of bytes
      garbage  answers 4 KiB of random bytes
      mute     never answers (the socket stays open)"""

    def __init__(self, mode="drop"):
        self.mode = mode
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.accepted = 0
        self.held = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        rng = random.Random(11)
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                c.settimeout(2)
                c.recv(4096)
                if self.mode == "mute":
                    self.held.append(c)
                    continue
                if self.mode == "drop":
                    c.sendall(bytes.fromhex("f0debc0a01000000") + struct.pack("<I", 2000))
                elif self.mode == "biglen":
                    c.sendall(bytes.fromhex("f0debc0a01000000") + struct.pack("<I", 0x7FFFFFF0) +
                              bytes.fromhex("00000000" "01dd" "1466") + b"<?xml" * 100)
                    time.sleep(0.3)
                elif self.mode == "garbage":
                    c.sendall(bytes(rng.getrandbits(8) for _ in range(4096)))
                    time.sleep(0.3)
            except OSError:
                pass
            c.close()

    def close(self):
        self.ls.close()
        for c in self.held:
            c.close()


class Proxy:
    """TCP proxy in front of a simulated camera. Its first connection is
    damaged once the test calls arm():
      cut    half of one camera read is forwarded, then both sockets close
             (the serve side sees the link die in the middle of a message)
      stall1 camera messages 3 (media) correlated with the first stream
             start request (the last stream started) are no longer forwarded:
             one stream stalls, the others on the same connection go on.
      len:N  the size field of the next BcMedia H.264 video header in the
             camera's media (bytes 8..11 after "00dcH264") is set to N.
    Later connections are forwarded untouched."""

    def __init__(self, target, mode):
        self.target, self.mode = target, mode
        self.armed = False
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.conns = 0
        self.fault_at = None
        self.stalled_corr = None
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.conns += 1
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                c.close()
                continue
            u.settimeout(None)
            self.socks += [c, u]
            st = {"first": self.conns == 1, "t0": time.monotonic(), "corrs": [], "seen": set()}
            threading.Thread(target=self._up, args=(c, u, st), daemon=True).start()
            threading.Thread(target=self._down, args=(u, c, st), daemon=True).start()

    @staticmethod
    def _messages(buf):
        """Complete Baichuan messages at the head of buf: ([(msg_id, corr,
        bytes)], rest); None when buf does not start with the magic."""
        out = []
        while len(buf) >= 20:
            if buf[:4] != b"\xf0\xde\xbc\x0a":
                return None, buf
            msg_id, blen, corr = struct.unpack_from("<III", buf, 4)
            cls = struct.unpack_from("<H", buf, 18)[0]
            hl = 24 if cls in (0x6414, 0x0000) else 20
            if len(buf) < hl + blen:
                break
            out.append((msg_id, corr, buf[:hl + blen]))
            buf = buf[hl + blen:]
        return out, buf

    def _up(self, c, u, st):
        buf, parse = b"", self.mode == "stall1"
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                if parse:
                    msgs, buf = self._messages(buf + d)
                    if msgs is None:
                        parse = False
                    else:
                        st["corrs"] += [corr for mid, corr, _ in msgs if mid == 3]
                u.sendall(d)
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _down(self, u, c, st):
        buf, damaged = b"", False
        try:
            while True:
                d = u.recv(65536)
                if not d:
                    break
                late = st["first"] and self.armed
                if late and self.mode.startswith("len:") and self.fault_at is None:
                    i = d.find(b"dcH264")
                    if i >= 2 and i + 10 <= len(d):
                        self.fault_at = time.monotonic()
                        self.old_len = struct.unpack_from("<I", d, i + 6)[0]
                        d = d[:i + 6] + struct.pack("<I", int(self.mode[4:], 0)) + d[i + 10:]
                if late and self.mode == "cut":
                    self.fault_at = time.monotonic()
                    c.sendall(d[:max(1, len(d) // 2)])
                    break
                if self.mode == "stall1" and st["first"]:
                    msgs, buf = self._messages(buf + d)
                    if msgs is None:
                        if DEBUG:
                            print(f"proxy: lost framing at {buf[:24].hex()}")
                        c.sendall(buf)
                        buf, st["first"] = b"", False
                        continue
                    if late and st["corrs"] and not damaged:
                        damaged = True
                        self.fault_at = time.monotonic()
                        self.stalled_corr = st["corrs"][-1]
                    if DEBUG:
                        for mid, corr, m in msgs:
                            if mid != 3 or corr not in st["seen"]:
                                st["seen"].add(corr)
                                print(f"proxy: down msg {mid} corr {corr:08x} len {len(m)} "
                                      f"up corrs {[hex(x) for x in st['corrs']]}")
                    keep = [m for mid, corr, m in msgs
                            if not (damaged and mid == 3 and corr == self.stalled_corr)]
                    c.sendall(b"".join(keep))
                    continue
                c.sendall(d)
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def arm(self):
        self.armed = True

    def close(self):
        self.ls.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


# ---------------------------------------------------------------- raw RTSP helpers

def rtsp_conn(serve, src="127.0.0.1"):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", serve.rtsp))
    return s


def read_reply(s, timeout=5):
    """(status, head text, rest) of one reply, or (None, '', b'') on close."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return None, "", b""
        if not d:
            return None, "", b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    text = head.decode(errors="replace")
    return int(text.split()[1]), text, rest


def closed_within(s, timeout=5):
    """True when the server closes the connection within timeout."""
    s.settimeout(timeout)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except (socket.timeout, OSError):
        return False
    return False


def rtsp_clients(serve):
    m, _ = serve.metrics()
    return int(m.get("neolink_rtsp_clients", -1))


def wait_clients(serve, target, timeout, t0):
    """Seconds from t0 until neolink_rtsp_clients <= target, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if rtsp_clients(serve) <= target:
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def outage(v, after):
    """(largest gap between frames of viewer v that arrived after `after`,
    the time the gap ended) or (0, None)."""
    fr = [f[0] for f in v.frames if f[0] >= after]
    gaps = [(b - a, b) for a, b in zip(fr, fr[1:])]
    return max(gaps) if gaps else (0.0, None)


def open_viewer(serve, path, auth=None, **kw):
    return T.Viewer(serve.url(path), auth=auth, retry=15, **kw)


# ---------------------------------------------------------------- one scenario

class Scene:
    def __init__(self, name, serve, healthy, auth):
        self.name, self.serve, self.healthy, self.auth = name, serve, healthy, auth
        self.keep = []   # attackers/fakes kept alive until after the exit
        self.recover = None
        self.post = None  # post(serve log) -> extra outcome text, checked after the exit


def config_text(bad, users=False, max_clients=None, more=""):
    g = "bind: 127.0.0.1\nshutdown_timeout: 3s\nwatchdog_timeout: 30s\n"
    if max_clients:
        g += f"max_clients: {max_clients}\n"
    if users:
        g += f"users:\n  - name: {USER}\n    pass: {USER_PW}\n"
    cams = T.camera_yaml("good", GOOD.port, password=CAM_PW, extra="stream: sub")
    return g + "cameras:\n" + cams + bad + more


def good_mounted(serve, timeout=40):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st, rz = serve.readyz()
        for c in rz["cameras"]:
            if c["name"] == "good" and c["connected"] and c["streams"]["sub"]["mounted"]:
                return
        time.sleep(0.2)
    raise ScenarioFail("the good camera was not mounted")


def camera_status(serve, name):
    st, rz = serve.readyz()
    for c in rz["cameras"]:
        if c["name"] == name:
            return c
    return None


ONLY = [x for x in os.environ.get("NL_FAULT_ONLY", "").split(",") if x]


def run(name, bad_yaml, action, users=False, max_clients=None):
    """One scenario (NL_FAULT_ONLY=a,b runs only the named ones)."""
    if ONLY and name not in ONLY:
        return
    sig = SIGNALS[len(rows) % 2]
    signame = signal.Signals(sig).name
    cfg = config_text(bad_yaml, users, max_clients)
    path = T.write_config(f"fault_{name}.yaml", cfg)
    auth = (USER, USER_PW) if users else None
    serve = scene = sampler = None
    outcome, recover, took = "", None, None
    t_start = time.monotonic()
    try:
        r = subprocess.run([T.CLI, "check", path], capture_output=True, text=True, timeout=60)
        texts.append((f"check {name}", r.stdout + r.stderr))
        check(r.returncode == 0, f"check {path}: {r.returncode} {r.stdout} {r.stderr}")
        serve = T.Serve(path, name=f"serve_{name}", env_extra={"ASAN_OPTIONS": SERVE_ASAN})
        good_mounted(serve)
        healthy = open_viewer(serve, "/good/sub", auth)
        time.sleep(1.0)
        check(len(healthy.frames) >= 5, f"healthy viewer: {len(healthy.frames)} frames in 1 s")
        base = T.rss_kib(serve.p.pid)
        sampler = T.RssSampler(serve.p.pid)
        scene = Scene(name, serve, healthy, auth)
        t0 = time.monotonic()
        outcome = action(scene)
        recover = scene.recover
        t_end = time.monotonic()
        # The healthy viewer went on during the fault and after it.
        fr = [f[0] for f in healthy.frames]
        during = [t for t in fr if t >= t0]
        gaps = [b - a for a, b in zip([t0] + during, during + [t_end])]
        gap = max(gaps)
        recent = [t for t in fr if t >= t_end - 1.5]
        check(healthy.closed_at is None, f"healthy viewer disconnected: {healthy.error}")
        check(gap <= GAP_MAX and recent,
              f"healthy viewer: largest gap {gap:.2f} s (max {GAP_MAX}), "
              f"{len(recent)} frames in the last 1.5 s")
        for path_ in ("/metrics", "/readyz"):
            st, body = serve.get(path_)
            texts.append((f"{path_} {name}", body))
        # The documented caps, as the server reports them: a client queue
        # holds at most queue_max_bytes (4 MiB, + one frame), a camera
        # session lives in a 1 MiB arena.
        m, _ = serve.metrics()
        qpeak = max([v for k, v in m.items() if k.startswith("neolink_queue_peak_bytes")] + [0])
        arena = max([v for k, v in m.items()
                     if k.startswith('neolink_arena_bytes{owner="camera')] + [0])
        check(qpeak <= QUEUE_CAP + (1 << 20), f"client queue peak {qpeak:.0f} B > 4 MiB + 1 MiB")
        check(arena <= ARENA_CAP, f"camera arena {arena:.0f} B > 1 MiB")
        peak = sampler.stop()
        bound = base + RSS_SLACK_MIB * 1024
        check(peak <= bound, f"VmRSS peak {peak // 1024} MiB > baseline {base // 1024} + "
              f"{RSS_SLACK_MIB} MiB")
        took, code = serve.exit_time_after(sig, SHUTDOWN)
        log = serve.log()
        check(took is not None, f"{signame}: no exit within {SHUTDOWN + 10} s")
        check("ERROR: AddressSanitizer" not in log and "ERROR: LeakSanitizer" not in log and
              "runtime error" not in log, "sanitizer report")
        check(code == 0, f"exit status {code}")
        check(took <= SHUTDOWN, f"{signame}: exit took {took:.2f} s > {SHUTDOWN} s")
        if scene.post:
            outcome += scene.post(log)
        print(f"  {name}: healthy viewer {len(during)} frames during, largest gap {gap:.2f} s; "
              f"VmRSS {base // 1024} -> peak {peak // 1024} MiB (bound +{RSS_SLACK_MIB}); "
              f"queue peak {qpeak / 1024:.0f} KiB, camera arena {arena / 1024:.0f} KiB; "
              f"{signame} -> exit {took:.3f} s status 0 ({time.monotonic() - t_start:.1f} s)")
        rows.append((name, outcome, recover, took, signame))
    except (ScenarioFail, RuntimeError, OSError, SystemExit) as e:
        msg = f"FAIL: {e}"
        print(f"  {name}: {msg}")
        if serve is not None:
            print("\n".join(serve.log().splitlines()[-40:]))
        failures.append(name)
        rows.append((name, msg[:120], recover, took, signame))
    finally:
        if sampler:
            sampler.stop()
        if serve is not None and serve.p.poll() is None:
            serve.p.kill()
            serve.p.wait()
        if serve is not None:
            texts.append((f"serve {name}", serve.log() + "\n".join(serve.lines)))
        if scene:
            for k in scene.keep:
                try:
                    k.close()
                except OSError:
                    pass
            try:
                scene.healthy.close()
            except OSError:
                pass


# ---------------------------------------------------------------- camera faults

def bad_yaml(port, password=CAM_PW, extra="stream: sub\nstall_timeout: 2s"):
    return T.camera_yaml("bad", port, password=password, extra=extra)


def never_connects(scene, expect):
    """The bad camera keeps failing: state and error from /readyz."""
    time.sleep(3.5)
    c = camera_status(scene.serve, "bad")
    check(c is not None and not c["connected"], f"bad camera connected? {c}")
    err = c.get("error") or c.get("detail") or ""
    check(re.search(expect, str(c), re.I), f"bad camera status {c} lacks /{expect}/")
    return f"not connected ({c['state']}: {err}), reconnects {c.get('reconnects')}"


def act_refused(scene):
    return never_connects(scene, r"refused|connect")


def act_login_drop(scene):
    fake = scene.keep_fake
    out = never_connects(scene, r"closed|login|proto")
    check(2 <= fake.accepted <= 40, f"{fake.accepted} login attempts in 3.5 s (backoff 0.1-1 s)")
    return out + f"; {fake.accepted} attempts"


def act_login_bad(scene):
    fake = scene.keep_fake
    out = never_connects(scene, r"NL_E")
    check(fake.accepted >= 2, f"{fake.accepted} login attempts in 3.5 s")
    if fake.mode == "biglen":
        check("above the 4194304-byte limit" in scene.serve.log(), "no 'above the limit' line")
    return out + f"; {fake.accepted} attempts"


def act_login_mute(scene):
    time.sleep(2)
    c = camera_status(scene.serve, "bad")
    check(c is not None and not c["connected"], f"bad camera connected? {c}")
    return f"camera silent at login: {c['state']} (login timeout 15 s), signal while waiting"


def act_wrong_password(scene):
    out = never_connects(scene, r"auth|password|login")
    return out


def reconnects(scene, name="bad"):
    c = camera_status(scene.serve, name)
    return c.get("reconnects", 0) if c else 0


def bad_viewer_recovers(scene, path="/bad/sub", watch=7.0, limit=8.0, expect_gap=True,
                        arm=None):
    """A viewer of the bad camera: the largest silence it sees after the
    fault (`recover`), and that frames came again after it. The fault must
    have shown: a silence of 0.8 s or more, or a camera reconnect (the
    reconnect backoff starts at 100 ms, so one can be quicker)."""
    rc0 = reconnects(scene)
    v = open_viewer(scene.serve, path, scene.auth)
    scene.keep.append(v)
    t0 = time.monotonic()
    if arm:
        time.sleep(1.0)
        arm()
    time.sleep(watch)
    gap, ended = outage(v, t0)
    rc = reconnects(scene) - rc0
    if v.closed_at is not None:
        # Disconnected by the fault: a new viewer must get frames again.
        t_closed = v.closed_at
        v2 = open_viewer(scene.serve, path, scene.auth)
        scene.keep.append(v2)
        end = time.monotonic() + limit
        while not v2.frames and time.monotonic() < end:
            time.sleep(0.1)
        check(v2.frames, "no frames from the bad camera for a new viewer")
        scene.recover = v2.frames[0][0] - t_closed
        return f"viewer disconnected; a new one played {scene.recover:.2f} s later"
    if expect_gap:
        check(gap > 0.8 or rc > 0, f"no outage seen by the bad camera's viewer "
                                   f"({len(v.frames)} frames, largest gap {gap:.2f} s, "
                                   f"{rc} reconnects)")
    check(gap <= limit, f"bad camera: silence of {gap:.2f} s > {limit} s")
    check(v.frames and v.frames[-1][0] > time.monotonic() - 1.5, "bad camera did not resume")
    if gap > 0.8 or rc > 0:
        scene.recover = gap
    return (f"bad viewer: {len(v.frames)} frames, {rc} camera reconnect(s), largest silence "
            f"{gap:.2f} s, resumed")


def act_stall(scene):
    return "stall detected; " + bad_viewer_recovers(scene)


def act_garbage(scene):
    return "garbage after login; " + bad_viewer_recovers(scene)


def act_truncate(scene):
    return "truncated media; " + bad_viewer_recovers(scene, expect_gap=False)


def act_big_length(scene):
    out = bad_viewer_recovers(scene)
    check("above the 4194304-byte limit" in scene.serve.log(), "no 'above the limit' log line")
    return "2 GiB length refused; " + out


def act_restart(scene):
    return "camera restart; " + bad_viewer_recovers(scene, watch=8.0)


def act_midframe(scene):
    out = bad_viewer_recovers(scene, path="/bad/main", arm=scene.keep_fake.arm)
    check(scene.keep_fake.fault_at is not None, "the proxy never cut the link")
    return "link cut mid-message; " + out


def act_media_len(scene):
    proxy = scene.keep_fake
    out = bad_viewer_recovers(scene, path="/bad/main", arm=proxy.arm, expect_gap=False)
    check(proxy.fault_at is not None, "no video header was rewritten")
    return f"video size {proxy.old_len} -> {proxy.mode[4:]}; " + out


def act_clock_jump(scene):
    v = open_viewer(scene.serve, "/bad/sub", scene.auth)
    scene.keep.append(v)
    time.sleep(6.5)
    fr = v.frames
    steps = [((b[1] - a[1]) & 0xFFFFFFFF) / 90000.0 for a, b in zip(fr, fr[1:])]
    check(len(fr) > 30, f"bad viewer got {len(fr)} frames")
    worst = max(steps)
    check(worst < 0.5 and min(steps) > 0, f"RTP steps across the jump: max {worst:.3f} s, "
                                          f"min {min(steps):.3f} s")
    return f"clock jump + wrap: {len(fr)} frames, largest RTP step {worst * 1000:.0f} ms"


STALL_PATHS = ("main", "sub", "extern")


def act_stream_stall(scene):
    """main, sub and extern of one camera on one connection (stream: all);
    the proxy drops the media of one of them (the last one started). The
    other two keep playing until the stall is detected; the camera session
    is one connection, so the stall_timeout (2 s) then reconnects it
    (current design) and all three resume."""
    vs = {k: open_viewer(scene.serve, f"/bad/{k}", scene.auth) for k in STALL_PATHS}
    scene.keep += list(vs.values())
    proxy = scene.keep_fake
    end = time.monotonic() + 15
    while min(len(v.frames) for v in vs.values()) < 5 and time.monotonic() < end:
        time.sleep(0.1)
    got = {k: len(v.frames) for k, v in vs.items()}
    check(min(got.values()) >= 5, f"not all three streams play before the fault: {got}")
    rc0 = reconnects(scene)
    proxy.arm()
    end = time.monotonic() + 10
    while proxy.fault_at is None and time.monotonic() < end:
        time.sleep(0.1)
    check(proxy.fault_at is not None, "the proxy never stalled a stream")
    time.sleep(7)
    fa = proxy.fault_at
    gaps = {k: outage(v, fa - 1) for k, v in vs.items()}  # (largest silence, when it ended)
    which = max(gaps, key=lambda k: gaps[k][0])
    g, g_end = gaps[which]
    others = [k for k in STALL_PATHS if k != which]
    rc = reconnects(scene) - rc0
    # Until the stall timeout (2 s) the other two kept playing.
    early = {k: len([f for f in vs[k].frames if fa + 0.2 <= f[0] <= fa + 1.5]) for k in others}
    print(f"  cam-stream-stall: {which} stalled at +0 s (proxy); frames of the others in "
          f"+0.2..+1.5 s: {early}; largest silences "
          + ", ".join(f"{k} {gaps[k][0]:.2f} s" for k in STALL_PATHS)
          + f"; camera reconnects {rc}")
    for k in others:
        check(early[k] >= 3, f"the {which} stall stopped {k} at once ({early[k]} frames in "
                             f"+0.2..+1.5 s)")
    check(0.8 < g <= 8, f"stalled stream ({which}) silence {g:.2f} s")
    check(rc >= 1, f"no camera reconnect after the {which} stall ({rc})")
    # All three resume after the reconnect.
    now = time.monotonic()
    for k, v in vs.items():
        check(v.closed_at is None, f"{k} viewer disconnected: {v.error}")
        check(v.frames and v.frames[-1][0] > now - 1.5, f"{k} did not resume")
    scene.recover = g
    return (f"3 streams (main+sub+extern) on one connection: {which} stalled, "
            f"{' and '.join(f'{k} {early[k]}' for k in others)} frames in the 1.3 s before the "
            f"stall timeout; {rc} reconnect(s) of the whole connection, {which} silent "
            f"{g:.2f} s (others {', '.join(f'{gaps[k][0]:.2f}' for k in others)} s); "
            f"all three resumed")


# ---------------------------------------------------------------- hostile viewers

def victim_yaml():
    return T.camera_yaml("victim", PLAIN.port, password=CAM_PW, extra="stream: both")


def new_viewer_works(scene, path="/victim/sub"):
    v = open_viewer(scene.serve, path, scene.auth)
    scene.keep.append(v)
    end = time.monotonic() + 8
    while len(v.frames) < 3 and time.monotonic() < end:
        time.sleep(0.1)
    check(len(v.frames) >= 3, f"a new viewer of {path} got {len(v.frames)} frames")
    return v


def act_never_send(scene):
    base = rtsp_clients(scene.serve)
    socks = [rtsp_conn(scene.serve) for _ in range(40)]
    time.sleep(2)
    n = rtsp_clients(scene.serve)
    new_viewer_works(scene)
    for s in socks:
        s.close()
    t0 = time.monotonic()
    took = wait_clients(scene.serve, base + 1, 10, t0)
    check(took is not None, f"mute connections not released: {rtsp_clients(scene.serve)}")
    scene.recover = took
    scene.keep += [rtsp_conn(scene.serve) for _ in range(20)]  # still there at the signal
    time.sleep(1)
    return (f"40 mute connections held ({base} -> {n} open), new viewer played; released "
            f"{took:.2f} s after closing")


def act_slowloris(scene):
    socks = [rtsp_conn(scene.serve) for _ in range(10)]
    scene.keep += socks
    req = f"DESCRIBE {scene.serve.url('/victim/sub')} RTSP/1.0\r\nCSeq: 1\r\n".encode()
    stop = threading.Event()

    def drip():
        for i in range(len(req)):
            if stop.is_set():
                return
            for s in socks:
                try:
                    s.send(req[i:i + 1])
                except OSError:
                    pass
            time.sleep(1.0)
    t = threading.Thread(target=drip, daemon=True)
    t.start()
    scene.keep.append(type("Stop", (), {"close": lambda self: stop.set()})())
    time.sleep(2.5)
    new_viewer_works(scene)
    time.sleep(2)
    return "10 clients dripping 1 byte/s for 5+ s; new viewer played"


def act_never_read(scene):
    base = rtsp_clients(scene.serve)
    v = open_viewer(scene.serve, "/victim/main", scene.auth, read=False, rcvbuf=4096)
    scene.keep.append(v)
    t0 = time.monotonic()
    took = wait_clients(scene.serve, base, 30, t0)
    check(took is not None, f"the non-reading client was not dropped in 30 s "
                            f"({rtsp_clients(scene.serve)} open, baseline {base})")
    scene.recover = took
    return f"non-reader reset after {took:.1f} s (TCP stall timeout 10 s)"


def act_half_close(scene):
    base = rtsp_clients(scene.serve)
    vs = [open_viewer(scene.serve, "/victim/sub", scene.auth) for _ in range(5)]
    scene.keep += vs
    for v in vs:
        v.s.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    took = wait_clients(scene.serve, base, 4, t0)
    time.sleep(1)
    scene.recover = took
    if took is not None:
        return f"5 half-closed after PLAY: closed by the server after {took:.2f} s"
    n = sum(1 for v in vs if len(v.frames_since(time.monotonic() - 1)) > 0)
    return f"5 half-closed after PLAY: kept playing ({n} of 5 still receiving)"


def act_rst(scene):
    base = rtsp_clients(scene.serve)
    for _ in range(8):
        v = open_viewer(scene.serve, "/victim/main", scene.auth)
        time.sleep(0.25)
        v.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        v.s.close()
    t0 = time.monotonic()
    took = wait_clients(scene.serve, base, 5, t0)
    check(took is not None, "connections of RST clients not released")
    scene.recover = took
    v = new_viewer_works(scene, "/victim/main")
    # and one more reset while the scenario's signal comes
    v.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return f"8 viewers reset mid-frame; connections released {took:.2f} s after the last"


def knock(port, n, timeout=3.0):
    """n connections that each send OPTIONS; counts of the first answers:
    {"200", "503", "closed", "silent"} (silent: no answer within timeout,
    e.g. still in the listen backlog) and the sockets (left open)."""
    socks, counts = [], {"200": 0, "503": 0, "closed": 0, "silent": 0}
    for _ in range(n):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        except OSError:
            counts["connect failed"] = counts.get("connect failed", 0) + 1
            counts["closed"] += 1
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
    pending = set(socks)
    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        r, _, _ = select.select(list(pending), [], [], 0.2)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            key = "200" if d.startswith(b"RTSP/1.0 200") else \
                "503" if d.startswith(b"RTSP/1.0 503") else "closed"
            counts[key] += 1
            pending.discard(s)
    counts["silent"] += len(pending)
    return counts, socks


def act_burst(scene):
    base = rtsp_clients(scene.serve)
    t_k = time.monotonic()
    counts, socks = knock(scene.serve.rtsp, 500)
    t_k = time.monotonic() - t_k
    n_open = rtsp_clients(scene.serve)
    ok = counts["200"]
    check(ok <= 20 + 16 - base, f"{ok} connections served with max_clients 20 "
                                f"(max_connections 36, {base} in use)")
    check(counts["503"] + counts["closed"] + counts["silent"] >= 500 - 36,
          f"only {500 - ok} of 500 refused: {counts}")
    for s in socks:
        s.close()
    t0 = time.monotonic()
    took = wait_clients(scene.serve, base, 10, t0)
    check(took is not None, f"connections not back to {base}: {rtsp_clients(scene.serve)}")
    scene.recover = took
    # Sessions beyond max_clients: 503 on SETUP, the rest play.
    played = refused = 0
    what = set()

    def one(_):
        try:
            return T.Viewer(scene.serve.url("/victim/sub"), retry=0)
        except RuntimeError as e:
            return e
    with ThreadPoolExecutor(max_workers=22) as ex:
        got = list(ex.map(one, range(22)))
    for g in got:
        if isinstance(g, T.Viewer):
            scene.keep.append(g)
            played += 1
        else:
            check("503" in str(g), f"session beyond the limit: {g}")
            what.add(str(g).split()[0])
            refused += 1
    check(played + 1 <= 20 and refused >= 2, f"{played} sessions + the healthy one with "
                                              f"max_clients 20, {refused} refused")
    more = []
    for _ in range(100):  # still knocking when the signal comes
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", scene.serve.rtsp))
        more.append(s)
    scene.keep += more
    time.sleep(0.5)
    return (f"500 connects in {t_k:.1f} s: {ok} served, {counts['503']} got 503, "
            f"{counts['closed']} closed, {counts['silent']} unanswered in 3 s ({n_open} open at peak); back to {base} in "
            f"{took:.2f} s; sessions: {played} + 1 played, {refused} got 503 "
            f"(on {'/'.join(sorted(what))})")


class Knocker:
    """Threads opening connections (OPTIONS, DESCRIBE) until closed: the
    signal arrives in the middle of a connection storm."""

    def __init__(self, serve, threads=3):
        self.serve, self.stop_ev, self.n = serve, threading.Event(), 0
        self.ts = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.ts:
            t.start()

    def _run(self):
        url = self.serve.url("/victim/sub")
        while not self.stop_ev.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.serve.rtsp), timeout=1)
                s.sendall(f"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nDESCRIBE {url} RTSP/1.0\r\n"
                          f"CSeq: 2\r\n\r\n".encode())
                s.recv(4096)
                s.close()
                self.n += 1
            except OSError:
                time.sleep(0.01)

    def close(self):
        self.stop_ev.set()


def act_storm_signal(scene):
    k = Knocker(scene.serve)
    scene.keep.append(k)
    time.sleep(2)
    check(k.n > 10, f"only {k.n} connections in 2 s")
    return f"signal during a connection storm ({k.n} connections in the 2 s before it)"


def act_hup_then_signal(scene):
    """A reload that restarts the victim camera (stream both -> main), and the
    stop signal 50 ms later, while the reload is under way."""
    v = open_viewer(scene.serve, "/victim/sub", scene.auth)
    scene.keep.append(v)
    T.write_config(f"fault_{scene.name}.yaml", config_text(T.camera_yaml(
        "victim", PLAIN.port, password=CAM_PW, extra="stream: main")))
    scene.serve.signal(signal.SIGHUP)
    time.sleep(0.05)

    def post(log):
        check("SIGHUP: reloading" in log, "the SIGHUP was not seen")
        done = re.search(r"reload: \d+ kept, \d+ restarted, \d+ removed, \d+ added", log)
        return f" ({'reload finished' if done else 'reload cut short'} before the exit)"
    scene.post = post
    return "SIGHUP restarting a camera with a viewer, stop signal 50 ms later"


def act_hup_storm(scene):
    """Ten SIGHUPs 100 ms apart, alternating two configurations and a broken
    file: the unchanged good camera's viewer must not notice."""
    v = open_viewer(scene.serve, "/victim/sub", scene.auth)
    scene.keep.append(v)
    path = f"fault_{scene.name}.yaml"
    texts_ = (config_text(victim_yaml()),
              config_text(T.camera_yaml("victim", PLAIN.port, password=CAM_PW,
                                        extra="stream: sub")),
              config_text(victim_yaml()) + "  - name: bad name!\n")
    mark = len(scene.serve.log())
    for i in range(10):
        T.write_config(path, texts_[i % 3])
        scene.serve.signal(signal.SIGHUP)
        time.sleep(0.1)
    T.write_config(path, texts_[0])
    scene.serve.signal(signal.SIGHUP)
    end = time.monotonic() + 15
    n = 0
    while time.monotonic() < end:
        log = scene.serve.log()[mark:]
        n = len(re.findall(r"reload: \d+ kept", log)) + log.count("keeping the running")
        if n >= 11:
            break
        time.sleep(0.2)
    check(n >= 11, f"{n} of 11 reloads answered")
    new_viewer_works(scene)
    return f"11 SIGHUPs 100 ms apart (3 configurations, one broken): {n} handled"


def act_pipelined(scene):
    s = rtsp_conn(scene.serve)
    scene.keep.append(s)
    s.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n" + b"\x00\xff\x13GARBAGE \x7f\r\n\r\n" * 8 +
              b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n")
    st1, _, rest = read_reply(s)
    check(st1 == 200, f"first pipelined OPTIONS answered {st1}")
    st2 = int(rest.split()[1]) if rest.startswith(b"RTSP/1.0 ") else read_reply(s)[0]
    check(st2 is not None and 400 <= st2 < 500, f"garbage answered {st2}")
    check(closed_within(s), "connection not closed after garbage")
    rng = random.Random(7)
    blobs = 0
    for _ in range(8):
        b = rtsp_conn(scene.serve)
        try:
            b.sendall(bytes(rng.getrandbits(8) for _ in range(4096)))
        except OSError:
            pass
        blobs += closed_within(b)
        b.close()
    f = rtsp_conn(scene.serve)
    f.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n$\x00\xff\xff" + b"x" * 8000)
    st3, _, _ = read_reply(f)
    big_closed = closed_within(f)
    f.close()
    check(blobs == 8 and big_closed, f"random blobs closed {blobs}/8, big $ frame closed "
                                     f"{big_closed}")
    new_viewer_works(scene)
    return f"OPTIONS 200 then {st2} + close; 8/8 random 4 KiB blobs closed; 64 KiB $ frame closed"


def act_huge_headers(scene):
    url = scene.serve.url("/victim/sub")
    cases = (("9 KiB header", f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nX-Big: {'a' * 9000}\r\n\r\n",
              (400,)),
             ("3000-byte request line", f"DESCRIBE {url}/{'b' * 3000} RTSP/1.0\r\nCSeq: 1\r\n\r\n",
              (414, 400)),
             ("70 headers", f"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n" +
              "".join(f"X-H{i}: v\r\n" for i in range(70)) + "\r\n", (400,)),
             ("1 MB Content-Length", f"ANNOUNCE {url} RTSP/1.0\r\nCSeq: 1\r\n"
              "Content-Length: 1000000\r\n\r\n", (413, 400)))
    got = []
    for what, req, want in cases:
        s = rtsp_conn(scene.serve)
        try:
            s.sendall(req.encode())
        except OSError:
            pass
        st, _, _ = read_reply(s)
        closed = closed_within(s)
        s.close()
        check(st in want and closed, f"{what}: status {st} (want {want}), closed {closed}")
        got.append(f"{what} {st}")
    new_viewer_works(scene)
    return ", ".join(got) + ", all closed"


def act_odd_requests(scene):
    """Odd but well-formed requests on one connection: every one gets a
    status (the listed one), none closes the connection or disturbs others."""
    url = scene.serve.url("/victim/sub")
    c = rtsp_conn(scene.serve)
    scene.keep.append(c)
    seq = [0]

    def ask(method, target, extra=""):
        seq[0] += 1
        c.sendall(f"{method} {target} RTSP/1.0\r\nCSeq: {seq[0]}\r\n{extra}\r\n".encode())
        st, head, rest = read_reply(c)
        n = re.search(r"(?i)content-length:\s*(\d+)", head)
        n = int(n.group(1)) if n else 0
        while len(rest) < n:
            rest += c.recv(65536)
        return st, head, rest
    st, head, body = ask("DESCRIBE", url)
    check(st == 200, f"DESCRIBE {st}")
    track = [x for x in re.findall(r"a=control:(\S+)", body.decode()) if x != "*"][0]
    turl = track if track.startswith("rtsp://") else url.rstrip("/") + "/" + track
    cases = (
        ("SETUP", turl, "Transport: RTP/AVP/TCP;unicast;interleaved=254-255", 200),
        ("SETUP", turl, "Transport: RTP/AVP/TCP;unicast;interleaved=255-256", 461),
        ("SETUP", turl, "Transport: RTP/AVP/TCP;unicast;interleaved=300", 461),
        ("SETUP", turl, "Transport: RTP/AVP;unicast;client_port=65535-65536", 461),
        ("SETUP", turl, "Transport: RTP/AVP;unicast;client_port=0-1", 461),
        ("SETUP", turl, "Transport: RTP/AVP;multicast", 461),
        ("SETUP", turl, "Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record", 461),
        ("SETUP", turl, "Transport: RAW/RAW/UDP;unicast;client_port=5000", 461),
        ("SETUP", turl, "Transport: ,,,,", 400),
        ("PLAY", url, "", 454),
        ("PLAY", url, "Session: DEADBEEF", 454),
        ("TEARDOWN", url, "Session: DEADBEEF", 454),
        ("PAUSE", url, "", 454),
        ("RECORD", url, "", 405),
        ("ANNOUNCE", url, "", 405),
        ("DESCRIBE", url + "/../../etc/passwd", "", 404),
        ("DESCRIBE", "rtsp://127.0.0.1:1/nope", "", 404),
        ("GET_PARAMETER", url, "Content-Length: 5\r\n\r\nhello", 451),
    )
    bad = []
    for method, target, extra, want in cases:
        if extra.startswith("Content-Length"):
            seq[0] += 1
            c.sendall(f"{method} {target} RTSP/1.0\r\nCSeq: {seq[0]}\r\n{extra}".encode())
            st = read_reply(c)[0]
        else:
            st = ask(method, target, extra + ("\r\n" if extra else ""))[0]
        if st != want:
            bad.append(f"{method} {extra[:40]!r}: {st} (want {want})")
    check(not bad, "; ".join(bad))
    st = ask("OPTIONS", "*")[0]
    check(st == 200, f"the connection is no longer usable: {st}")
    new_viewer_works(scene)
    return f"{len(cases)} odd requests answered as expected on one connection"


STALE_AUTH = {}


def capture_authorization(scene):
    """A valid DESCRIBE of /victim/sub with its exact Authorization, kept for
    the replay against a later server process."""
    url = scene.serve.url("/victim/sub")
    s = rtsp_conn(scene.serve)
    s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
    st, head, _ = read_reply(s)
    ch = T.digest_challenge(head)
    check(st == 401 and ch, f"no Digest challenge: {st}")
    a = T.digest_authorization("DESCRIBE", url, USER, USER_PW, ch["realm"], ch["nonce"])
    s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: {a}\r\n\r\n".encode())
    st, _, _ = read_reply(s)
    check(st == 200, f"authorized DESCRIBE answered {st}")
    s.close()
    STALE_AUTH.update(path="/victim/sub", authz=a, nonce=ch["nonce"], realm=ch["realm"])


def act_digest(scene):
    url = scene.serve.url(STALE_AUTH["path"])

    def ask(authz):
        s = rtsp_conn(scene.serve)
        extra = f"Authorization: {authz}\r\n" if authz else ""
        s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n{extra}\r\n".encode())
        st, head, _ = read_reply(s)
        s.close()
        return st, T.digest_challenge(head)

    st0, ch = ask(None)
    check(st0 == 401 and ch, f"no credentials: {st0}")
    # The port differs between server processes: same URI text as the capture.
    a = STALE_AUTH["authz"]
    st1, ch1 = ask(a.replace(re.search(r'uri="([^"]+)"', a).group(1), url))
    check(st1 == 401 and ch1, f"replayed Authorization (old server's nonce): {st1}")
    n = STALE_AUTH["nonce"]
    forged = n[:20] + ("0" if n[20] != "0" else "1") + n[21:]
    st2, _ = ask(T.digest_authorization("DESCRIBE", url, USER, USER_PW, ch["realm"], forged))
    check(st2 == 401, f"forged nonce: {st2}")
    st3, _ = ask(T.digest_authorization("DESCRIBE", url, USER, USER_PW, ch["realm"],
                                        STALE_AUTH["nonce"]))
    check(st3 == 401, f"old nonce with a fresh response: {st3}")
    st4, _ = ask(T.digest_authorization("DESCRIBE", url, USER, "wrong-pw", ch["realm"],
                                        ch["nonce"]))
    check(st4 == 401, f"wrong password: {st4}")
    st5, _ = ask(T.digest_authorization("DESCRIBE", url, USER, USER_PW, ch["realm"],
                                        ch["nonce"]))
    check(st5 == 200, f"fresh nonce, right password: {st5}")
    new_viewer_works(scene)
    return (f"no creds {st0}; replay of old server's nonce {st1} "
            f"(stale={'true' if ch1['stale'] else 'false'}); forged nonce {st2}; old nonce "
            f"{st3}; wrong pw {st4}; fresh {st5}")


def act_udp(scene):
    url = scene.serve.url("/victim/sub")
    # An RTP/RTCP port pair bound on 127.0.0.1 (the requester) and the same
    # ports on 127.0.0.2 (another loopback address: anything sent there would
    # be a datagram aimed away from the requester).
    for _ in range(20):
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
        try:
            socks[0].bind(("127.0.0.1", 0))
            port = socks[0].getsockname()[1]
            socks[1].bind(("127.0.0.1", port + 1))
            socks[2].bind(("127.0.0.2", port))
            socks[3].bind(("127.0.0.2", port + 1))
            break
        except OSError:
            for x in socks:
                x.close()
    else:
        raise ScenarioFail("no UDP port pair free on 127.0.0.1 and 127.0.0.2")
    rx1, rtcp1, rx2, rtcp2 = socks
    scene.keep += socks

    def setup(src, transport):
        s = rtsp_conn(scene.serve, src)
        s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"
                  .encode())
        st, head, rest = read_reply(s)
        check(st == 200, f"DESCRIBE from {src}: {st}")
        n = int(re.search(r"(?i)content-length:\s*(\d+)", head).group(1))
        while len(rest) < n:
            rest += s.recv(65536)
        track = [c for c in re.findall(r"a=control:(\S+)", rest.decode()) if c != "*"][0]
        turl = track if track.startswith("rtsp://") else url.rstrip("/") + "/" + track
        s.sendall(f"SETUP {turl} RTSP/1.0\r\nCSeq: 2\r\nTransport: {transport}\r\n\r\n".encode())
        st, head, _ = read_reply(s)
        return s, st, head

    results = []
    for src, dest in (("127.0.0.1", "127.0.0.2"), ("127.0.0.2", "127.0.0.1")):
        s, st, _ = setup(src, f"RTP/AVP;unicast;destination={dest};client_port={port}-{port + 1}")
        scene.keep.append(s)
        check(st in (461, 400, 403), f"SETUP from {src} with destination={dest}: {st}")
        results.append(f"{src}->destination={dest}: {st}")
    s, st, head = setup("127.0.0.1", f"RTP/AVP;unicast;client_port={port}-{port + 1}")
    scene.keep.append(s)
    check(st == 200, f"UDP SETUP: {st}")
    sess = re.search(r"(?i)session:\s*([^;\r\n]+)", head).group(1).strip()
    s.sendall(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {sess}\r\n\r\n".encode())
    st, _, _ = read_reply(s)
    check(st == 200, f"UDP PLAY: {st}")
    counts = {}
    end = time.monotonic() + 2.5
    for r in (rx1, rx2, rtcp1, rtcp2):
        r.setblocking(False)
    while time.monotonic() < end:
        for name_, r in (("127.0.0.1", rx1), ("127.0.0.2", rx2), ("127.0.0.1 rtcp", rtcp1),
                         ("127.0.0.2 rtcp", rtcp2)):
            try:
                while r.recv(65536):
                    counts[name_] = counts.get(name_, 0) + 1
            except BlockingIOError:
                pass
        time.sleep(0.05)
    check(counts.get("127.0.0.1", 0) > 10, f"the requester got {counts} datagrams")
    check(counts.get("127.0.0.2", 0) + counts.get("127.0.0.2 rtcp", 0) == 0,
          f"another address got datagrams: {counts}")
    return (f"{'; '.join(results)}; requester 127.0.0.1 got {counts.get('127.0.0.1')} RTP + "
            f"{counts.get('127.0.0.1 rtcp', 0)} RTCP datagrams, 127.0.0.2 got 0")


def act_sighup(scene):
    serve = scene.serve
    capture_authorization(scene)
    path = T.write_config("fault_sighup-streaming.yaml", config_text(
        victim_yaml(), users=True, more=T.camera_yaml("extra", PLAIN.port, password=CAM_PW,
                                                       extra="stream: sub")))
    mark = len(serve.log())
    t0 = time.monotonic()
    serve.signal(signal.SIGHUP)
    m = None
    end = time.monotonic() + 15
    while not m and time.monotonic() < end:
        m = re.search(r"reload: (\d+) kept, (\d+) restarted, (\d+) removed, (\d+) added",
                      serve.log()[mark:])
        time.sleep(0.1)
    check(m, "no reload line after SIGHUP")
    check(m.groups() == ("2", "0", "0", "1"), f"reload plan {m.group(0)}")
    took = time.monotonic() - t0
    new_viewer_works(scene, "/extra/sub")
    r = subprocess.run([T.CLI, "check", path], capture_output=True, text=True, timeout=60)
    texts.append(("check sighup-new", r.stdout + r.stderr))
    time.sleep(1)
    return f"'{m.group(0)}' after {took:.2f} s; /extra/sub plays"


# ---------------------------------------------------------------- the suite

def with_fake(fake, act):
    def a(scene):
        scene.keep_fake = fake
        scene.keep.append(fake)
        return act(scene)
    return a


t_suite = time.monotonic()
try:
    GOOD = sim("good")
    PLAIN = sim("plain")
    print(f"simulators: good :{GOOD.port}, plain :{PLAIN.port}")

    # camera faults
    run("cam-refused", bad_yaml(closed_port()), act_refused)
    fake = FakeCamera("drop")
    run("cam-login-drop", bad_yaml(fake.port), with_fake(fake, act_login_drop))
    for mode, act in (("biglen", act_login_bad), ("garbage", act_login_bad),
                      ("mute", act_login_mute)):
        fake = FakeCamera(mode)
        run(f"cam-login-{mode}", bad_yaml(fake.port), with_fake(fake, act))
    proxy = Proxy(PLAIN.port, "cut")
    run("cam-midframe-drop", bad_yaml(proxy.port, extra="stream: main\nstall_timeout: 2s"),
        with_fake(proxy, act_midframe))
    s = sim("stall", "--fault", "stall:3")
    run("cam-stall", bad_yaml(s.port), act_stall)
    s = sim("garbage", "--fault", "garbage:3")
    run("cam-garbage", bad_yaml(s.port), act_garbage)
    s = sim("truncate", "--fault", "truncate:3")
    run("cam-truncate", bad_yaml(s.port), act_truncate)
    s = sim("biglen", "--fault", "big-length:3")
    run("cam-big-length", bad_yaml(s.port), act_big_length)
    for label, value in (("huge", "0x7ffffff0"), ("4m", str((4 << 20) - 64))):
        proxy = Proxy(PLAIN.port, f"len:{value}")
        run(f"cam-media-len-{label}", bad_yaml(proxy.port, extra="stream: main\nstall_timeout: 2s"),
            with_fake(proxy, act_media_len))
    run("cam-wrong-password", bad_yaml(PLAIN.port, password=WRONG_PW), act_wrong_password)
    s = sim("restart", "--fault", "restart:7")
    run("cam-restart", bad_yaml(s.port), act_restart)
    s = sim("jump", "--fault", "clock-jump:3")
    run("cam-clock-jump", bad_yaml(s.port), act_clock_jump)
    s = sim("three", extern="288x160@15")
    proxy = Proxy(s.port, "stall1")
    run("cam-stream-stall", bad_yaml(proxy.port, extra="stream: all\nstall_timeout: 2s"),
        with_fake(proxy, act_stream_stall))

    # hostile viewers
    run("rtsp-never-send", victim_yaml(), act_never_send)
    run("rtsp-slowloris", victim_yaml(), act_slowloris)
    run("rtsp-never-read", victim_yaml(), act_never_read)
    run("rtsp-half-close", victim_yaml(), act_half_close)
    run("rtsp-rst-midframe", victim_yaml(), act_rst)
    run("rtsp-burst-500", victim_yaml(), act_burst, max_clients=20)
    run("rtsp-pipelined-garbage", victim_yaml(), act_pipelined)
    run("rtsp-huge-headers", victim_yaml(), act_huge_headers)
    run("rtsp-odd-requests", victim_yaml(), act_odd_requests)
    run("rtsp-udp-destination", victim_yaml(), act_udp)
    # process
    run("proc-signal-in-storm", victim_yaml(), act_storm_signal)
    run("proc-hup-then-signal", victim_yaml(), act_hup_then_signal)
    run("proc-hup-storm", victim_yaml(), act_hup_storm)
    # SIGHUP while streaming (also captures a Digest exchange)
    run("sighup-streaming", victim_yaml(), act_sighup, users=True)
    if STALE_AUTH:
        run("rtsp-digest-replay", victim_yaml(), act_digest, users=True)
    elif not ONLY or "rtsp-digest-replay" in ONLY:
        failures.append("rtsp-digest-replay")
        rows.append(("rtsp-digest-replay", "FAIL: no captured Authorization", None, None, "-"))
finally:
    for s in sims:
        s.stop()
        texts.append((f"sim {s.name}", s.log() + "\n".join(s.lines)))

for where, text in texts:
    if where.startswith("sim ") and ("ERROR: AddressSanitizer" in text or
                                     "runtime error" in text):
        failures.append(where)
        print(f"FAIL: sanitizer report in {where}")

# ---------------------------------------------------------------- credentials
leaks = [(where, pw) for where, text in texts for pw in SECRETS if pw in text]
nbytes = sum(len(t) for _, t in texts)
print(f"credential grep: {len(texts)} outputs ({nbytes} bytes) of serve, simulators, check, "
      f"/metrics, /readyz: {len(leaks)} hit(s) of {len(SECRETS)} passwords")
if leaks:
    failures.append("credentials")
    print(f"FAIL: passwords found in: {leaks[:10]}")

# ---------------------------------------------------------------- table
fmt = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
lines = ["| scenario | outcome | recover s | exit s | signal |", "|---|---|---|---|---|"]
for name, outcome, rec, took, sig in rows:
    lines.append(f"| {name} | {outcome} | {fmt(rec)} | {fmt(took)} | {sig} |")
table = "\n".join(lines)
print(table)
out_dir = os.environ.get("NL_BUILD") or T.TMP
with open(os.path.join(out_dir, "fault_table.md"), "w") as f:
    f.write(f"# Fault suite\n\nshutdown_timeout {SHUTDOWN} s, healthy-viewer gap <= {GAP_MAX} s, "
            f"VmRSS <= baseline + {RSS_SLACK_MIB} MiB; suite wall time "
            f"{time.monotonic() - t_suite:.0f} s\n\n{table}\n")
print(f"suite wall time {time.monotonic() - t_suite:.1f} s; table in "
      f"{os.path.join(out_dir, 'fault_table.md')}")
if failures:
    print(f"FAIL: {len(failures)} scenario(s): {', '.join(failures)}")
    sys.exit(1)
print(f"PASS: {len(rows)} scenarios")
