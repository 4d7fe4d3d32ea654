"""Shared helpers for the `neolink-cli serve` integration tests
(tests/integration/serve_*.py): simulated cameras (`neolink-cli simulate`)
and the server as real processes on 127.0.0.1 with free ports, a raw RTSP
viewer that records when each video frame arrives, /metrics and /readyz
readers, and ffprobe/GStreamer runners. Every process is started and
stopped by pid; nothing else on the machine is touched."""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CLI = os.environ.get("NL_CLI", "")
TOOLS = os.environ.get("NL_TOOLS", "")
SANITIZED = os.environ.get("NL_SANITIZE", "0") not in ("0", "", "OFF", "FALSE")
TMP = tempfile.mkdtemp(prefix="nl_serve_")


def need(*progs):
    """The clients these tests drive are installed by the test command
    (scripts/deps.sh --test): one missing is a broken setup, not a skip."""
    for p in progs:
        if not shutil.which(p):
            print(f"FAIL: {p} not installed (scripts/deps.sh --test installs it)")
            sys.exit(1)


def fail(msg, *procs):
    print("FAIL: " + msg)
    for p in procs:
        if p is not None:
            print(f"---- {p.name} log tail ----")
            print("\n".join(p.log().splitlines()[-60:]))
    sys.exit(1)


def _env():
    env = dict(os.environ)
    # x264/x265 keep a few allocations past exit in the simulated cameras.
    env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=0"
    return env


class Proc:
    """A child process whose stdout lines are collected on a thread and
    whose stderr goes to a file."""

    def __init__(self, name, cmd, env=None):
        self.name = name
        self.errpath = os.path.join(TMP, f"{name}.err")
        self.err = open(self.errpath, "w")
        self.lines = []
        self.cv = threading.Condition()
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                  env=env or _env())
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_line(self, pattern, timeout=30, start=0):
        """First stdout line (from index start) matching pattern: the match."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or self.p.poll() is not None and i >= len(self.lines):
                    return None
                self.cv.wait(min(left, 0.2))

    def log(self):
        self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()

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
        return self.p.returncode


class Sim(Proc):
    """`neolink-cli simulate` on a free port (or the given one). Without
    `extern` ("WxH@FPS") the camera has no extern stream (--extern off), as
    many real models: its extern paths answer 503."""

    def __init__(self, name, *args, port=0, password="", status=False, extern=None):
        cmd = [CLI, "simulate", "--listen", f"127.0.0.1:{port}", "--main", "320x240@25",
               "--sub", "256x144@15", "--extern", extern or "off", "--gop", "1",
               "--bitrate", "300,150,200", "--log-level", "info"]
        if password:
            cmd += ["--password", password]
        if status:
            cmd += ["--status-interval", "0.5"]
        super().__init__(name, cmd + list(args))
        m = self.wait_line(r"listening on 127\.0\.0\.1:(\d+)", 30)
        if not m:
            fail(f"{name}: simulator did not start", self)
        self.port = int(m.group(1))

    def status(self, after=0):
        """Latest status line printed after index `after`, as a dict."""
        with self.cv:
            lines = [l for l in self.lines[after:] if l.startswith("sim:")]
        if not lines:
            return None
        # "extern N" is printed only while an extern stream is encoded.
        m = re.search(r"streams (\d+) \(main (\d+) sub (\d+)(?: extern (\d+))?\) viewers (\d+)",
                      lines[-1])
        return {"streams": int(m.group(1)), "main": int(m.group(2)), "sub": int(m.group(3)),
                "extern": int(m.group(4) or 0), "viewers": int(m.group(5)),
                "line": lines[-1]} if m else None


def write_config(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def camera_yaml(name, port, password="", extra=""):
    y = f"  - name: {name}\n    address: 127.0.0.1:{port}\n"
    if password:
        y += f"    password: {password}\n"
    y += "    reconnect: { min: 100ms, max: 1s }\n"
    return y + "".join(f"    {l}\n" for l in extra.splitlines() if l.strip())


class Serve(Proc):
    """`neolink-cli serve CONFIG --port 0 --http 127.0.0.1:0`; .rtsp and
    .http are the bound ports, read from its stdout."""

    def __init__(self, config, *args, name="serve", env_extra=None, wait_ready=True):
        env = _env()
        env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=1"
        if env_extra:
            env.update(env_extra)
        cmd = [CLI, "serve"] + ([config] if config else []) + ["--port", "0", "--http",
                                                               "127.0.0.1:0"] + list(args)
        super().__init__(name, cmd, env)
        self.rtsp = self.http = None
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        m = self.wait_line(r"listening on rtsp://[^:]+:(\d+)", timeout)
        if not m:
            fail("serve did not start", self)
        self.rtsp = int(m.group(1))
        m = self.wait_line(r"metrics on http port (\d+)", 5)
        self.http = int(m.group(1)) if m else None
        if not self.wait_line(r"^serve: ready", 5):
            fail("serve did not print ready", self)

    def url(self, path):
        return f"rtsp://127.0.0.1:{self.rtsp}{path}"

    def get(self, path, timeout=5):
        """(status, body) of GET http://127.0.0.1:HTTP/path."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}",
                                        timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def readyz(self):
        st, body = self.get("/readyz")
        return st, json.loads(body)

    def wait_mounted(self, timeout=40):
        """Until every camera is connected and every stream's format known."""
        end = time.monotonic() + timeout
        body = None
        while time.monotonic() < end:
            st, body = self.readyz()
            if st == 200 and all(s["mounted"] or not s["available"] for c in body["cameras"]
                                 for s in c["streams"].values()):
                return body
            time.sleep(0.2)
        fail(f"cameras not ready in {timeout} s: {body}", self)

    def metrics(self):
        st, body = self.get("/metrics")
        if st != 200:
            fail(f"/metrics answered {st}", self)
        out = {}
        for line in body.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out, body

    def exit_time_after(self, sig, limit):
        """Sends sig; returns (seconds until exit, return code)."""
        t0 = time.monotonic()
        self.signal(sig)
        try:
            self.p.wait(timeout=limit + 10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None, None
        return time.monotonic() - t0, self.p.returncode


def check_clean_exit(p, code):
    log = p.log()
    if "ERROR: AddressSanitizer" in log or "ERROR: LeakSanitizer" in log or "runtime error" in log:
        fail(f"{p.name}: sanitizer report", p)
    if code != 0:
        fail(f"{p.name}: exit status {code}", p)


# ---------------------------------------------------------------- raw RTSP viewer

class Viewer:
    """A raw RTSP/TCP client: DESCRIBE (retrying 503 for `retry` s), SETUP of
    the video track (interleaved 0-1), PLAY, then a thread that records the
    arrival time and RTP timestamp of every complete video frame (marker
    bit). With read=False it never reads after PLAY (tiny receive buffer):
    the server must drop it, not wait for it."""

    def __init__(self, url, read=True, retry=10.0, rcvbuf=None, auth=None):
        """auth: (user, password) answered with Digest when challenged."""
        self.url = url
        self.frames = []  # (arrival monotonic, rtp timestamp)
        self.closed_at = None
        self.error = None
        self.auth = auth
        self.challenge = None  # (realm, nonce) of the last Digest challenge
        self.last_authorization = None
        m = re.match(r"rtsp://([^:/]+):(\d+)(/.*)", url)
        self.host, self.port = m.group(1), int(m.group(2))
        self.cseq = 0
        self.buf = b""
        end = time.monotonic() + retry
        while True:
            self.s = socket.create_connection((self.host, self.port), timeout=10)
            if rcvbuf:
                self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            st, hdr, body = self.request("DESCRIBE", url, "Accept: application/sdp\r\n")
            if st == 200:
                break
            self.s.close()
            if st != 503 or time.monotonic() > end:
                raise RuntimeError(f"DESCRIBE {url}: {st}")
            time.sleep(0.3)
        self.sdp = body.decode(errors="replace")
        base = hdr.get("content-base", url)
        ctl = re.findall(r"a=control:(\S+)", self.sdp)
        track = [c for c in ctl if c != "*"][0]
        turl = track if track.startswith("rtsp://") else base.rstrip("/") + "/" + track
        st, hdr, _ = self.request("SETUP", turl,
                                  "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        if st != 200:
            raise RuntimeError(f"SETUP {turl}: {st}")
        self.session = hdr["session"].split(";")[0]
        st, hdr, _ = self.request("PLAY", url, f"Session: {self.session}\r\nRange: npt=0.000-\r\n")
        if st != 200:
            raise RuntimeError(f"PLAY {url}: {st}")
        self.s.settimeout(None)
        if read:
            self.t = threading.Thread(target=self._run, daemon=True)
            self.t.start()

    def request(self, method, url, extra=""):
        st, hdr, body = self._request(method, url, extra)
        if st == 401 and self.auth:
            ch = digest_challenge(hdr.get("_head", ""))
            if ch:
                self.challenge = (ch["realm"], ch["nonce"])
                st, hdr, body = self._request(method, url, extra)
        return st, hdr, body

    def _request(self, method, url, extra=""):
        self.cseq += 1
        if self.auth and self.challenge:
            self.last_authorization = digest_authorization(method, url, self.auth[0],
                                                           self.auth[1], *self.challenge)
            extra += f"Authorization: {self.last_authorization}\r\n"
        self.s.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {self.cseq}\r\n{extra}\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError(f"{method}: connection closed")
            self.buf += d
            # Interleaved data before the reply (after PLAY): skip it.
            while self.buf.startswith(b"$") and len(self.buf) >= 4:
                n = int.from_bytes(self.buf[2:4], "big")
                if len(self.buf) < 4 + n:
                    break
                self.buf = self.buf[4 + n:]
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        hdr = {"_head": head.decode(errors="replace")}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                hdr[k.strip().lower()] = v.strip()
        n = int(hdr.get("content-length", "0"))
        while len(rest) < n:
            d = self.s.recv(65536)
            if not d:
                break
            rest += d
        self.buf = rest[n:]
        return status, hdr, rest[:n]

    def _run(self):
        buf = self.buf
        try:
            while True:
                while buf:
                    if buf[0:1] != b"$":
                        # An RTSP message between data (server request or
                        # reply): skip to the next interleaved frame.
                        i = buf.find(b"$")
                        buf = buf[i:] if i >= 0 else b""
                        continue
                    if len(buf) < 4:
                        break
                    n = int.from_bytes(buf[2:4], "big")
                    if len(buf) < 4 + n:
                        break
                    ch, pkt, buf = buf[1], buf[4:4 + n], buf[4 + n:]
                    if ch == 0 and len(pkt) >= 12 and (pkt[1] & 0x80):
                        self.frames.append((time.monotonic(), int.from_bytes(pkt[4:8], "big")))
                d = self.s.recv(262144)
                if not d:
                    break
                buf += d
        except OSError as e:
            self.error = str(e)
        self.closed_at = time.monotonic()

    def close(self):
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.s.close()

    def frames_since(self, t):
        return [f for f in self.frames if f[0] >= t]


# ---------------------------------------------------------------- Digest, memory

def _md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def digest_authorization(method, uri, user, password, realm, nonce):
    """The Authorization value of RFC 2617 Digest (MD5, no qop) for one request."""
    ha1 = _md5(f"{user}:{realm}:{password}")
    resp = _md5(f"{ha1}:{nonce}:{_md5(f'{method}:{uri}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{resp}"')


def digest_challenge(head):
    """{"realm", "nonce", "stale"} of the Digest WWW-Authenticate in a reply
    head (text), or None."""
    m = re.search(r"(?im)^WWW-Authenticate:\s*Digest\s+(.*)$", head)
    if not m:
        return None
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1)))
    if "realm" not in params or "nonce" not in params:
        return None
    return {"realm": params["realm"], "nonce": params["nonce"],
            "stale": params.get("stale", "").lower() == "true"}


def rss_kib(pid):
    """VmRSS of a process in KiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples VmRSS of pid every `period` s on a thread; .peak and .samples
    (KiB). Stop with .stop()."""

    def __init__(self, pid, period=0.2):
        self.pid, self.period = pid, period
        self.samples = []
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            v = rss_kib(self.pid)
            if v is None:
                break
            self.samples.append(v)
            time.sleep(self.period)

    @property
    def peak(self):
        return max(self.samples) if self.samples else 0

    def stop(self):
        self.running = False
        self.t.join(timeout=2)
        return self.peak
