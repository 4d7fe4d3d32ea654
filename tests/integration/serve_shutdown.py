#!/usr/bin/env python3
# timeout: 200
"""SIGTERM ends `neolink-cli serve` within shutdown_timeout (2 s here),
whatever the peers do. Measured and printed per scenario:

  viewers     three viewers playing a healthy camera (they are closed first)
  stall       the camera went silent (`--fault stall:1`) with its stream on:
              stop and logout are never answered
  noreader    an RTSP client that stopped reading with a full socket
  login       a camera that drips its login reply (`--fault drip:20`)
  mute        a "camera" that accepts TCP and never says a word
  all         every one of the above at once
and a second signal exits at once (shutdown_timeout 10 s, camera stalled).
"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

LIMIT = 2.0
results = []


def run(name, cams, prepare, timeout="2s", second=False):
    """cams: [(camera name, port, extra yaml)]. prepare(serve) sets the
    scene and returns objects to keep alive."""
    cfg = f"shutdown_timeout: {timeout}\ncameras:\n" + "".join(
        T.camera_yaml(n, p, extra=x) for n, p, x in cams)
    serve = T.Serve(T.write_config(f"shutdown_{name}.yaml", cfg), name=f"serve_{name}")
    keep = prepare(serve)
    if second:
        t0 = time.monotonic()
        serve.signal(signal.SIGTERM)
        time.sleep(0.5)
        took, code = serve.exit_time_after(signal.SIGTERM, 10)
        total = time.monotonic() - t0
        print(f"{name:9s}: second SIGTERM 0.5 s after the first -> exit {took:.3f} s later "
              f"(total {total:.2f} s of shutdown_timeout {timeout}), status {code}")
        if took is None or took > 0.5:
            T.fail("the second signal did not exit at once", serve)
        return keep
    took, code = serve.exit_time_after(signal.SIGTERM, LIMIT)
    results.append((name, took))
    print(f"{name:9s}: SIGTERM -> exit in {took:.3f} s (shutdown_timeout {LIMIT} s), "
          f"status {code}")
    if took is None or took > LIMIT:
        T.fail(f"{name}: exit took {took} s", serve)
    T.check_clean_exit(serve, code)
    return keep


def scene_viewers(serve):
    serve.wait_mounted()
    vs = [T.Viewer(serve.url("/ok/sub")) for _ in range(3)]
    time.sleep(1)
    if min(len(v.frames) for v in vs) < 5:
        T.fail("viewers got no frames", serve)
    return vs


def scene_stall(serve):
    serve.wait_mounted()
    vs = [T.Viewer(serve.url("/stall/sub"))]
    time.sleep(2.5)  # the camera went silent 1 s into streaming
    return vs


def scene_noreader(serve):
    serve.wait_mounted()
    v = T.Viewer(serve.url("/big/main"), read=False, rcvbuf=4096)
    time.sleep(3)  # its socket fills: the server cannot finish a frame for it
    return [v]


def scene_login(serve):
    time.sleep(1.5)
    st, rz = serve.readyz()
    states = {c["name"]: c["state"] for c in rz["cameras"]}
    if states.get("drip", "connecting") != "connecting" and "drip" in states:
        T.fail(f"drip camera should still be logging in: {states}", serve)
    return []


def scene_all(serve):
    time.sleep(0.5)
    keep = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        st, rz = serve.readyz()
        up = {c["name"] for c in rz["cameras"] if c["connected"] and
              all(s["mounted"] or not s["available"] for s in c["streams"].values())}
        if {"ok", "stall", "big"} <= up:
            break
        time.sleep(0.2)
    keep += [T.Viewer(serve.url("/ok/sub")) for _ in range(2)]
    keep += [T.Viewer(serve.url("/stall/sub"))]
    keep += [T.Viewer(serve.url("/big/main"), read=False, rcvbuf=4096)]
    time.sleep(3)
    return keep


sims = []
mute = None
try:
    ok = T.Sim("ok")
    stall = T.Sim("stall", "--fault", "stall:1")
    big = T.Sim("big", "--main", "640x480@25", "--bitrate", "3000,150")
    drip = T.Sim("drip", "--fault", "drip:20")
    sims = [ok, stall, big, drip]
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(16)  # accepted by the kernel, never answered
    mport = mute.getsockname()[1]
    OK = ("ok", ok.port, "stream: sub")
    STALL = ("stall", stall.port, "stream: sub\non_demand: false\nstall_timeout: 60s")
    BIG = ("big", big.port, "stream: main")
    DRIP = ("drip", drip.port, "")
    MUTE = ("mute", mport, "")

    keep = run("viewers", [OK], scene_viewers)
    closed = [v.closed_at is not None for v in keep]
    print(f"           viewers told the stream ended (connection closed): {closed}")
    if not all(closed):
        T.fail("viewers were not disconnected by the shutdown")
    for v in keep:
        v.close()
    for name, cams, scene in (("stall", [STALL], scene_stall),
                              ("noreader", [BIG], scene_noreader),
                              ("login", [DRIP], scene_login),
                              ("mute", [MUTE], scene_login),
                              ("all", [OK, STALL, BIG, DRIP, MUTE], scene_all)):
        for v in run(name, cams, scene):
            v.close()
    for v in run("second", [STALL], scene_stall, timeout="10s", second=True):
        v.close()
    worst = max(results, key=lambda r: r[1])
    print("exit times after SIGTERM: " + ", ".join(f"{n} {t:.3f} s" for n, t in results) +
          f"; worst {worst[0]} {worst[1]:.3f} s <= {LIMIT} s")
finally:
    for s in sims:
        s.stop()
    if mute:
        mute.close()
print("PASS")
