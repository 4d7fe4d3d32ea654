"""Shared helpers for the camera-session integration tests
(tests/integration/camera_*.py): a simulated camera started and stopped by
pid on 127.0.0.1, its log kept in a temporary file whose tail is printed
when a test fails."""
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

CLI = os.environ["NL_CLI"]
CHECK = os.path.join(os.environ["NL_TOOLS"], "camera_check")
PASSWORD = "s3cret"


class SimLog:
    """The simulators' stderr, one file per test, emptied at each start."""

    def __init__(self, prefix):
        self.f = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".log", delete=False)

    def fail(self, msg):
        print("FAIL: " + msg)
        self.f.flush()
        with open(self.f.name, errors="replace") as f:
            tail = [l for l in f.read().splitlines() if "sim" in l][-30:]
        print("simulator log tail:\n" + "\n".join(tail))
        sys.exit(1)

    def start_sim(self, fps, *args):
        """`neolink-cli simulate` with small 1-s-GOP streams at `fps`; returns
        (process, port)."""
        cmd = [CLI, "simulate", "--listen", "127.0.0.1:0", "--password", PASSWORD,
               "--main", f"320x240@{fps}", "--sub", f"256x144@{fps}", "--gop", "1",
               "--log-level", "info"] + list(args)
        env = dict(os.environ)
        # The x265 encoder inside the simulator leaks by design at exit; the
        # simulator is not what these tests check.
        env["ASAN_OPTIONS"] = "abort_on_error=1:detect_leaks=0"
        self.f.truncate(0)
        self.f.seek(0)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.f, env=env, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                line = p.stdout.readline()
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
                if m:
                    return p, int(m.group(1))
                if not line:
                    break
        stop(p)
        self.fail("simulator did not start: " + " ".join(cmd))


def stop(p):
    """SIGTERM, then SIGKILL after 10 s."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
