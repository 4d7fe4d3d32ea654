#!/usr/bin/env python3
# timeout: 120
"""The loop watchdog and systemd notification of `neolink-cli serve`:

  * NEOLINK_TEST_BLOCK_LOOP (test-only hook) blocks the event loop; with
    watchdog_timeout 2 s the process logs what was running and aborts
    within the timeout (plus the watchdog's check period); /healthz stops
    answering meanwhile;
  * with NOTIFY_SOCKET set, serve sends READY=1, STATUS=..., WATCHDOG=1
    every WATCHDOG_USEC/2, and STOPPING=1 on SIGTERM.
"""
import os
import signal
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

TIMEOUT = 2.0
SLACK = 1.5 if T.SANITIZED else 0.7

sim = serve = None
try:
    sim = T.Sim("cam")
    cfg = ("watchdog_timeout: 2s\ncameras:\n" + T.camera_yaml("cam", sim.port))
    path = T.write_config("watchdog.yaml", cfg)

    # ---------------------------------------------------------- abort
    serve = T.Serve(path, name="serve_block", env_extra={"NEOLINK_TEST_BLOCK_LOOP": "30"})
    # The hook blocks the loop 0.5 s after start; its first act is a log line.
    t_block = None
    end = time.monotonic() + 20
    while time.monotonic() < end and serve.p.poll() is None:
        if "TEST HOOK" in serve.log():
            t_block = time.monotonic()
            break
        time.sleep(0.02)
    if t_block is None:
        T.fail("the test hook did not run", serve)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{serve.http}/healthz", timeout=0.5)
        T.fail("/healthz answered while the loop was blocked", serve)
    except (OSError, urllib.error.URLError):
        pass
    try:
        serve.p.wait(timeout=TIMEOUT + 10)
    except Exception:
        T.fail("the watchdog did not abort the process", serve)
    took = time.monotonic() - t_block
    log = serve.log()
    code = serve.p.returncode
    line = next((l for l in log.splitlines() if "watchdog" in l.lower() and "test hook" in l),
                "")
    print(f"loop blocked -> watchdog abort after {took:.2f} s (watchdog_timeout {TIMEOUT} s), "
          f"exit status {code}")
    print(f"watchdog said: {line.strip()}")
    if code != -signal.SIGABRT:
        T.fail(f"expected SIGABRT, got {code}", serve)
    if not line or "NEOLINK_TEST_BLOCK_LOOP" not in line:
        T.fail("the watchdog did not name what was running", serve)
    if took > TIMEOUT + SLACK or took < TIMEOUT - 0.3:
        T.fail(f"abort after {took:.2f} s", serve)
    serve = None

    # ---------------------------------------------------------- systemd
    sockpath = os.path.join(T.TMP, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sockpath)
    ns.settimeout(0.2)
    serve = T.Serve(path, name="serve_sd", env_extra={"NOTIFY_SOCKET": sockpath,
                                                      "WATCHDOG_USEC": "400000"})
    msgs = []
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            msgs.append((time.monotonic(), ns.recv(4096).decode()))
        except socket.timeout:
            pass
    # Gaps are measured on what was read live: messages drained after the
    # stop below carry the time they were read, not sent.
    live = [t for t, m in msgs if m == "WATCHDOG=1"]
    st, body = serve.get("/healthz")
    if st != 200:
        T.fail(f"/healthz {st}", serve)
    took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
    try:
        while True:
            msgs.append((time.monotonic(), ns.recv(4096).decode()))
    except socket.timeout:
        pass
    ns.close()
    T.check_clean_exit(serve, code)
    kinds = [m.split("=")[0] for _, m in msgs]
    wd = [t for t, m in msgs if m == "WATCHDOG=1"]
    gaps = [b - a for a, b in zip(live, live[1:])]
    status = next((m for _, m in msgs if m.startswith("STATUS=")), "")
    print(f"systemd: READY=1 {'READY' in kinds}, {len(wd)} WATCHDOG=1 "
          f"(every {min(gaps):.2f}..{max(gaps):.2f} s, WATCHDOG_USEC 0.4 s), "
          f"STOPPING=1 {'STOPPING' in kinds}; {status}")
    if "READY" not in kinds or "STOPPING" not in kinds or len(wd) < 5 or max(gaps) > 0.45:
        T.fail(f"notifications: {msgs}", serve)
    if kinds.index("READY") > kinds.index("STOPPING"):
        T.fail("READY after STOPPING", serve)
    serve = None
finally:
    for p in (serve, sim):
        if p:
            p.stop()
print("PASS")
