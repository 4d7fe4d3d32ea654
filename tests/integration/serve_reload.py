#!/usr/bin/env python3
# timeout: 150
"""SIGHUP makes `neolink-cli serve` apply its edited configuration:

  keep    unchanged: its session and its viewers go on untouched
  change  stream: sub -> main: restarted (its viewer is disconnected, the
          new paths serve, the old ones are gone)
  drop    removed: stopped, its paths answer 404
  add     new: starts and serves
A file that does not validate is refused with the loader's messages and the
running configuration stays; a changed global key (bind_port) is named as
needing a restart.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe")


def describe_status(url):
    m = re.match(r"rtsp://([^:/]+):(\d+)", url)
    with socket.create_connection((m.group(1), int(m.group(2))), timeout=5) as s:
        s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        return int(s.recv(4096).decode().split()[1])


def probe(serve, path):
    r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                        "stream=codec_name,width", "-of", "csv=p=0", serve.url(path)],
                       capture_output=True, text=True, timeout=60)
    return r.stdout.split()


def hup_and_wait(serve, pattern, timeout=15):
    mark = len(serve.log())
    serve.signal(signal.SIGHUP)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, serve.log()[mark:])
        if m:
            return m, serve.log()[mark:]
        time.sleep(0.1)
    T.fail(f"no '{pattern}' after SIGHUP", serve)


sim = serve = None
try:
    sim = T.Sim("cam")
    cam = lambda n, x="stream: sub": T.camera_yaml(n, sim.port, extra=x)  # noqa: E731
    path = T.write_config("reload.yaml", "shutdown_timeout: 2s\ncameras:\n" + cam("keep") +
                          cam("change") + cam("drop"))
    serve = T.Serve(path)
    serve.wait_mounted()
    v_keep = T.Viewer(serve.url("/keep/sub"))
    v_change = T.Viewer(serve.url("/change/sub"))
    v_drop = T.Viewer(serve.url("/drop/sub"))
    time.sleep(1)

    # ---------------------------------------------------------- edit + SIGHUP
    T.write_config("reload.yaml", "shutdown_timeout: 2s\ncameras:\n" + cam("add") +
                   cam("keep") + cam("change", "stream: main"))
    t0 = time.monotonic()
    m, log = hup_and_wait(serve, r"reload: (\d+) kept, (\d+) restarted, (\d+) removed, "
                                 r"(\d+) added")
    print(f"SIGHUP: {m.group(0)}")
    if m.groups() != ("1", "1", "1", "1"):
        T.fail("wrong reload plan", serve)
    serve.wait_mounted()
    time.sleep(1.5)
    gap = max(b[0] - a[0] for a, b in zip(v_keep.frames, v_keep.frames[1:]) if b[0] > t0 - 1)
    print(f"keep:   viewer still connected ({v_keep.closed_at is None}), "
          f"largest frame gap around the reload {gap:.3f} s")
    if v_keep.closed_at is not None or gap > 0.5:
        T.fail("the unchanged camera's viewer was disturbed", serve)
    print(f"change: old viewer disconnected ({v_change.closed_at is not None}); "
          f"/change/sub -> {describe_status(serve.url('/change/sub'))}, "
          f"/change/main -> {probe(serve, '/change/main')}")
    if v_change.closed_at is None or describe_status(serve.url("/change/sub")) != 404:
        T.fail("changed camera not restarted", serve)
    if probe(serve, "/change/main") != ["h264,320", "aac"]:
        T.fail("/change/main does not serve", serve)
    print(f"drop:   viewer disconnected ({v_drop.closed_at is not None}); "
          f"/drop -> {describe_status(serve.url('/drop'))}")
    if v_drop.closed_at is None or describe_status(serve.url("/drop/sub")) != 404:
        T.fail("removed camera still served", serve)
    print(f"add:    /add -> {probe(serve, '/add')}")
    if probe(serve, "/add") != ["h264,256", "aac"]:
        T.fail("added camera not served", serve)
    metrics, _ = serve.metrics()
    names = sorted({k.split('"')[1] for k in metrics if k.startswith("neolink_camera_state")})
    print(f"/metrics cameras: {names}")
    if names != ["add", "change", "keep"]:
        T.fail("metrics cameras after reload", serve)

    # ---------------------------------------------------------- broken file
    with open(path, "a") as f:
        f.write("  - name: bad name!\n    address: nowhere:99999\n")
    m, log = hup_and_wait(serve, r"keeping the running configuration")
    errors = [l for l in log.splitlines() if re.match(r".*reload\.yaml:\d+: ", l)]
    print(f"broken file refused: {len(errors)} message(s), e.g. '{errors[0] if errors else ''}'")
    if not errors:
        T.fail("the loader's messages were not shown", serve)
    # ---------------------------------------------------------- global change
    T.write_config("reload.yaml", "bind_port: 18554\nshutdown_timeout: 2s\ncameras:\n" +
                   cam("add") + cam("keep") + cam("change", "stream: main"))
    m, log = hup_and_wait(serve, r"reload: (\d+) kept, (\d+) restarted")
    if "not applied until a restart: bind_port" not in log or m.group(1) != "3":
        T.fail("global change not reported", serve)
    print("bind_port change: 'not applied until a restart: bind_port', 3 cameras kept")
    time.sleep(0.5)
    if v_keep.closed_at is not None:
        T.fail("keep viewer lost", serve)
    v_keep.close()

    took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
    print(f"SIGTERM -> exit in {took:.3f} s, status {code}")
    T.check_clean_exit(serve, code)
    serve = None
finally:
    for p in (serve, sim):
        if p:
            p.stop()
print("PASS")
