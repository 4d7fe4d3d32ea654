#!/usr/bin/env python3
# timeout: 120
"""GET /snapshot/NAME.jpg on the serve HTTP endpoint returns a valid JPEG of
the stream's latest key frame, of the stream's size. Scenarios, each with
its measured figure printed next to the assertion:

  h264        simulated H.264 camera (main 320x240): 200, image/jpeg, SOI/EOI,
              ffprobe reads 320x240; cold (stream stopped, started on demand)
              and warm (cache) timings
  sub         ?stream=sub gives the sub stream's size (256x144)
  h265        an H.265 camera (`--cheap`, main 640x360): 640x360
  burst       8 concurrent requests on a stopped stream: all 200, and /metrics
              counts fewer encodes than requests (coalesced / cached)
  errors      unknown camera -> 404 with a text reason (attacker input not
              echoed); bad path -> 404; POST -> 405; bad stream -> 404
  down        the camera's simulator stopped -> 503 with a reason within the
              timeout
  timeout     a camera that never finishes logging in -> 503 "no key frame"
              after the 10 s wait
  gone        a client that sends the request and closes before the answer:
              the server stays healthy (next request works, counted cancelled)
  sigterm     SIGTERM while a snapshot is pending -> exit within
              shutdown_timeout, clean (no sanitizer report)
"""
import atexit
import concurrent.futures
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe")
SHUTDOWN = 2.0
PROCS = []


@atexit.register
def _cleanup():
    """A failed assertion exits at once: stop what this test started."""
    for p in PROCS:
        if p.p.poll() is None:
            p.p.kill()
            p.p.wait()


def fetch(serve, path, timeout=20, method="GET"):
    """(status, content type, body bytes, seconds)."""
    t0 = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{serve.http}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read(), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read(), time.monotonic() - t0


def jpeg_size(data, what, serve):
    if data[:2] != b"\xff\xd8" or data[-2:] != b"\xff\xd9":
        T.fail(f"{what}: not a JPEG (starts {data[:4]!r}, ends {data[-2:]!r})", serve)
    path = os.path.join(T.TMP, f"{what}.jpg")
    with open(path, "wb") as f:
        f.write(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=codec_name,width,height", "-of", "csv=p=0", path],
                         capture_output=True, text=True, timeout=30)
    parts = out.stdout.strip().split(",")
    if out.returncode != 0 or len(parts) != 3 or parts[0] != "mjpeg":
        T.fail(f"{what}: ffprobe cannot read it: {out.stdout} {out.stderr}", serve)
    return int(parts[1]), int(parts[2])


def expect_jpeg(serve, path, w, h, what):
    st, ctype, body, took = fetch(serve, path)
    if st != 200 or ctype != "image/jpeg":
        T.fail(f"{what}: {path} answered {st} {ctype}: {body[:200]!r}", serve)
    size = jpeg_size(body, what, serve)
    print(f"{what:8s}: {path} -> 200 image/jpeg {len(body)} bytes {size[0]}x{size[1]} "
          f"in {took * 1000:.0f} ms (expected {w}x{h})")
    if size != (w, h):
        T.fail(f"{what}: JPEG is {size}, expected {(w, h)}", serve)
    return took, len(body)


def metric(serve, name):
    m, _ = serve.metrics()
    return m.get(name, 0)


def pending_request(serve, path="/snapshot/slow.jpg"):
    """A socket whose request is waiting for its answer. The slow camera
    is "connecting" except for short backoff gaps after each 15 s login
    time-out, where it is answered 503 at once: then try again."""
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", serve.http))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:
            return s
        s.close()
        time.sleep(1)
    T.fail("no request stayed pending", serve)


def wait_stopped(serve, cam, stream="main", timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _, body = serve.readyz()
        for c in body["cameras"]:
            if c["name"] == cam and not c["streams"][stream]["running"]:
                return
        time.sleep(0.1)
    T.fail(f"{cam} {stream} still running after {timeout} s", serve)


def main():
    sim264 = T.Sim("sim_h264")
    sim265 = T.Sim("sim_h265", "--codec", "h265", "--cheap", "--main", "640x360@15")
    simdown = T.Sim("sim_down")
    # Answers TCP but drips its login reply: the camera stays "connecting".
    simslow = T.Sim("sim_slow", "--fault", "drip:20")
    lingers = "idle_linger: 1s"
    cfg = (f"shutdown_timeout: {SHUTDOWN:.0f}s\ncameras:\n"
           + T.camera_yaml("cam", sim264.port, extra=lingers)
           + T.camera_yaml("hevc", sim265.port, extra=lingers)
           + T.camera_yaml("down", simdown.port, extra=lingers)
           + T.camera_yaml("slow", simslow.port, extra=lingers))
    serve = T.Serve(T.write_config("snapshot.yaml", cfg))
    PROCS.extend([sim264, sim265, simdown, simslow, serve])
    if not serve.http:
        T.fail("no HTTP port", serve)
    # Every camera but "slow" connected and its format known.
    end = time.monotonic() + 40
    while time.monotonic() < end:
        _, body = serve.readyz()
        ok = [c for c in body["cameras"] if c["connected"]
              and all(s["mounted"] or not s["available"] for s in c["streams"].values())]
        if len(ok) >= 3:
            break
        time.sleep(0.2)
    else:
        T.fail(f"cameras not ready: {body}", serve)

    # ---- h264: cold (the probe's stream stopped after idle_linger), warm
    wait_stopped(serve, "cam")
    cold, size = expect_jpeg(serve, "/snapshot/cam.jpg", 320, 240, "h264")
    warm, _ = expect_jpeg(serve, "/snapshot/cam.jpg", 320, 240, "h264")
    print(f"h264    : cold {cold * 1000:.0f} ms (stream started on demand), "
          f"warm {warm * 1000:.0f} ms, JPEG {size} bytes")
    if cold > 10 or warm > 5:
        T.fail("snapshot too slow", serve)
    if metric(serve, "neolink_snapshot_cache_hits_total") < 1:
        T.fail("the warm request was not a cache hit", serve)
    st, ctype, body, _ = fetch(serve, "/snapshot/cam.jpg", method="HEAD")
    print(f"head    : HEAD -> {st} {ctype}, {len(body)} body bytes")
    if st != 200 or ctype != "image/jpeg" or body:
        T.fail("HEAD answered wrongly", serve)

    # ---- sub stream by query
    expect_jpeg(serve, "/snapshot/cam.jpg?stream=sub", 256, 144, "sub")

    # ---- h265
    wait_stopped(serve, "hevc")
    expect_jpeg(serve, "/snapshot/hevc.jpg", 640, 360, "h265")

    # ---- burst: 8 at once on a stopped stream -> one encode
    wait_stopped(serve, "cam")
    time.sleep(1.2)  # past the cache's second
    enc0 = metric(serve, "neolink_snapshot_encodes_total")
    req0 = metric(serve, "neolink_snapshot_requests_total")
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(lambda _: fetch(serve, "/snapshot/cam.jpg"), range(8)))
    took = time.monotonic() - t0
    sizes = {jpeg_size(r[2], "burst", serve) for r in res if r[0] == 200}
    codes = [r[0] for r in res]
    enc = metric(serve, "neolink_snapshot_encodes_total") - enc0
    reqs = metric(serve, "neolink_snapshot_requests_total") - req0
    co = metric(serve, "neolink_snapshot_coalesced_total")
    hits = metric(serve, "neolink_snapshot_cache_hits_total")
    print(f"burst   : 8 concurrent -> {codes} in {took * 1000:.0f} ms; {reqs:.0f} requests, "
          f"{enc:.0f} encode(s); coalesced total {co:.0f}, cache hits total {hits:.0f}")
    if codes != [200] * 8 or sizes != {(320, 240)}:
        T.fail(f"burst: {codes} {sizes}", serve)
    if not (enc < reqs and enc <= 2):
        T.fail(f"burst: {enc} encodes for {reqs} requests", serve)

    # ---- errors
    for path, code, what in [("/snapshot/nope.jpg", 404, "no camera named nope"),
                             ("/snapshot/%3Cb%3Ex.jpg", 404, "/snapshot/NAME.jpg"),
                             ("/snapshot/cam.png", 404, "/snapshot/NAME.jpg"),
                             ("/snapshot/cam.jpg?stream=fourth", 404, "stream=main"),
                             ("/snapshot/", 404, "")]:
        st, ctype, body, _ = fetch(serve, path)
        text = body.decode(errors="replace")
        print(f"errors  : {path} -> {st} {text.strip()!r}")
        if st != code or what not in text or "<b>" in text:
            T.fail(f"{path}: {st} {text!r}", serve)
    st, _, _, _ = fetch(serve, "/snapshot/cam.jpg", method="POST")
    print(f"errors  : POST /snapshot/cam.jpg -> {st}")
    if st != 405:
        T.fail(f"POST answered {st}", serve)

    # ---- down: the simulator is gone
    simdown.stop()
    time.sleep(0.5)
    st, _, body, took = fetch(serve, "/snapshot/down.jpg", timeout=30)
    text = body.decode(errors="replace").strip()
    print(f"down    : camera's simulator stopped -> {st} in {took:.2f} s: {text!r}")
    if st != 503 or took > 12 or "not connected" not in text:
        T.fail(f"down: {st} {text!r} after {took:.2f} s", serve)

    # ---- timeout: a camera still logging in sends no key frame in time
    for _ in range(3):
        st, _, body, took = fetch(serve, "/snapshot/slow.jpg", timeout=30)
        if took > 1:
            break
        time.sleep(1)  # answered during a reconnect pause: try again
    text = body.decode(errors="replace").strip()
    print(f"timeout : camera still logging in -> {st} after {took:.2f} s "
          f"(wait limit 10 s): {text!r}")
    if st != 503 or not 9 <= took <= 14 or "no key frame" not in text:
        T.fail(f"timeout: {st} {text!r} after {took:.2f} s", serve)

    # ---- gone: the client leaves while its request waits (slow camera)
    c0 = metric(serve, "neolink_snapshot_cancelled_total")
    s = pending_request(serve)
    s.close()
    time.sleep(0.5)
    c1 = metric(serve, "neolink_snapshot_cancelled_total")
    st, body = serve.get("/healthz")
    print(f"gone    : client closed while pending -> cancelled {c1 - c0:.0f}, /healthz {st}")
    if c1 - c0 != 1 or st != 200:
        T.fail("the cancelled request was not counted, or the server is unwell", serve)
    expect_jpeg(serve, "/snapshot/cam.jpg", 320, 240, "gone")

    # ---- sigterm while a request is pending
    s = pending_request(serve)
    took, code = serve.exit_time_after(signal.SIGTERM, SHUTDOWN)
    s.settimeout(2)
    try:
        rest = s.recv(4096)
    except OSError:
        rest = b""
    s.close()
    print(f"sigterm : SIGTERM with a snapshot pending -> exit in {took:.3f} s "
          f"(shutdown_timeout {SHUTDOWN} s), status {code}; client got {len(rest)} bytes")
    if took is None or took > SHUTDOWN:
        T.fail(f"exit took {took} s", serve)
    if not rest.startswith(b"HTTP/1.1 503"):
        T.fail(f"the pending client got {rest[:60]!r}, not a 503", serve)
    T.check_clean_exit(serve, code)
    for sim in (sim264, sim265, simslow):
        sim.stop()
    print("PASS")


main()
