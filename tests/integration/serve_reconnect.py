#!/usr/bin/env python3
# timeout: 180
"""Camera loss while viewers watch:

  * the simulated camera is killed mid-stream (SIGKILL) and started again
    on the same port 2 s later: every viewer stays connected and receives
    frames again within the backoff (+ stream start and one GOP); the RTP
    clock goes on by about the wall-clock gap (no burst, no step back);
    /metrics counts the reconnect;
  * a camera that stops sending media but keeps its socket (`--fault
    stall:3`) is reconnected after stall_timeout, and the viewers get
    frames again;
  * a camera clock that leaps forward and wraps 32 bits (`--fault
    clock-jump:4`) leaves the viewers' RTP clock running at the frame rate.
The reconnect times are printed.
"""
import os
import re
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

MAX_BACKOFF = 1.0
GOP = 1.0
SLACK = 2.5 if T.SANITIZED else 1.0


def open_viewers(url, n):
    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(lambda _: T.Viewer(url), range(n)))


def resume_after(viewers, t, timeout):
    """Seconds from t until every viewer got a frame that arrived after t."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        firsts = [next((f[0] for f in v.frames if f[0] > t), None) for v in viewers]
        if all(firsts):
            return max(firsts) - t
        time.sleep(0.05)
    return None


def rtp_gap(v, t):
    """(wall gap, RTP gap in s at 90 kHz) across the outage around time t."""
    before = [f for f in v.frames if f[0] <= t]
    after = [f for f in v.frames if f[0] > t]
    a, b = before[-1], after[0]
    return b[0] - a[0], ((b[1] - a[1]) & 0xFFFFFFFF) / 90000.0


sim = stall_sim = jump_sim = serve = None
try:
    sim = T.Sim("cam")
    stall_sim = T.Sim("stall", "--fault", "stall:3")
    jump_sim = T.Sim("jump", "--fault", "clock-jump:4")
    cfg = ("shutdown_timeout: 2s\ncameras:\n" +
           T.camera_yaml("cam", sim.port, extra="idle_linger: 2s\nstream: sub") +
           T.camera_yaml("stally", stall_sim.port,
                         extra="on_demand: false\nstream: sub\nstall_timeout: 2s") +
           T.camera_yaml("jumpy", jump_sim.port, extra="on_demand: false\nstream: sub"))
    serve = T.Serve(T.write_config("reconnect.yaml", cfg))
    serve.wait_mounted()
    port = sim.port

    # ---------------------------------------------------------- camera clock jumps
    # 4 s into streaming the camera's µs clock leaps to 1 s before the 32-bit
    # wrap, and wraps 1 s later: the RTP clock must go on at the frame rate.
    viewers = open_viewers(serve.url("/jumpy/sub"), 1)
    time.sleep(8)
    fr = viewers[0].frames
    steps = [((b[1] - a[1]) & 0xFFFFFFFF) / 90000.0 for a, b in zip(fr, fr[1:])]
    span_rtp = sum(steps)
    span_wall = fr[-1][0] - fr[0][0]
    worst = max(steps)
    print(f"camera clock jump + 32-bit wrap: {len(fr)} frames, largest RTP step "
          f"{worst * 1000:.0f} ms (15 fps: 67 ms), RTP span {span_rtp:.2f} s over "
          f"{span_wall:.2f} s of wall time")
    if worst > 0.5 or any(x <= 0 for x in steps) or abs(span_rtp - span_wall) > 0.5:
        T.fail(f"RTP clock not continuous across the jump: steps {sorted(steps)[-5:]}", serve)
    # The jump (4 s after the stream started) and the wrap (1 s later) must
    # fall inside what the viewer saw.
    m = re.search(r"^(\d\d):(\d\d):(\d\d\.\d+) \S+ +\[camera jumpy\] sub stream started",
                  serve.log(), re.M)
    started = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    lt = time.localtime()
    now_tod = lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (time.time() % 1)
    first = now_tod - (time.monotonic() - fr[0][0])
    last = now_tod - (time.monotonic() - fr[-1][0])
    print(f"  (the viewer saw stream time {first - started:.1f} s .. {last - started:.1f} s; "
          f"jump at 4 s, wrap at 5 s)")
    if not (first - started < 4.0 and last - started > 5.5):
        T.fail("the viewer did not see the jump and the wrap", serve)
    viewers[0].close()

    # ---------------------------------------------------------- camera killed
    viewers = open_viewers(serve.url("/cam/sub"), 3)
    time.sleep(2)
    n_before = [len(v.frames) for v in viewers]
    sim.p.kill()
    sim.p.wait()
    t_kill = time.monotonic()
    time.sleep(2)
    sim = T.Sim("cam2", port=port)
    t_back = time.monotonic()
    took = resume_after(viewers, t_back, 15)
    if took is None:
        T.fail(f"viewers got no frame after the camera came back: "
               f"{[len(v.frames) for v in viewers]} (before {n_before})", serve, sim)
    wall, rtp = rtp_gap(viewers[0], t_kill + 0.5)
    print(f"camera killed and back after {t_back - t_kill:.2f} s: all 3 viewers had frames "
          f"again {took:.2f} s later (max backoff {MAX_BACKOFF} s + start + GOP {GOP} s); "
          f"RTP clock advanced {rtp:.2f} s over the {wall:.2f} s outage")
    if took > MAX_BACKOFF + GOP + SLACK:
        T.fail(f"resume took {took:.2f} s", serve)
    if abs(rtp - wall) > 0.6:
        T.fail(f"RTP gap {rtp:.3f} s does not follow the wall gap {wall:.3f} s", serve)
    time.sleep(1)
    for v in viewers:
        if v.closed_at is not None:
            T.fail(f"a viewer was disconnected: {v.error}", serve)
        ts = [f[1] for f in v.frames]
        back = [(a, b) for a, b in zip(ts, ts[1:]) if ((b - a) & 0xFFFFFFFF) > 0x80000000]
        if back:
            T.fail(f"RTP timestamps went back: {back[:3]}", serve)
    m, _ = serve.metrics()
    rc = m.get('neolink_camera_reconnects_total{camera="cam"}', 0)
    state = m['neolink_camera_state{camera="cam"}']
    print(f'/metrics: neolink_camera_reconnects_total{{camera="cam"}} {rc:.0f}, '
          f"neolink_camera_state {state:.0f}, no viewer dropped ({len(viewers)} still playing)")
    if rc < 1:
        T.fail("reconnect not counted in /metrics", serve)
    for v in viewers:
        v.close()

    # ---------------------------------------------------------- camera stalls
    # "stally" streams all the time; its camera goes silent 3 s into every
    # connection's streaming. stall_timeout (2 s) after its last frame the
    # session fails, is reconnected and the stream starts again.
    viewers = open_viewers(serve.url("/stally/sub"), 2)
    time.sleep(9)
    arr = [f[0] for f in viewers[0].frames]
    gaps = [(b - a, a) for a, b in zip(arr, arr[1:]) if b - a > 1.0]
    m, _ = serve.metrics()
    rc = m.get('neolink_camera_reconnects_total{camera="stally"}', 0)
    print(f"stalling camera: {len(gaps)} silence(s) seen by the viewers, each ended by a "
          f"reconnect after {', '.join(f'{g:.2f}' for g, _ in gaps)} s "
          f"(stall_timeout 2 s + backoff + start); reconnects in /metrics: {rc:.0f}")
    if not gaps or rc < 1:
        T.fail(f"no stall reconnect seen: gaps {gaps}, reconnects {rc}", serve)
    for g, _ in gaps:
        if g < 2.0 or g > 2.0 + MAX_BACKOFF + SLACK:
            T.fail(f"silence of {g:.2f} s: stall not detected at stall_timeout", serve)
    if arr[-1] < gaps[-1][1] + gaps[-1][0]:
        T.fail("no frames after the last stall", serve)
    for v in viewers:
        if v.closed_at is not None:
            T.fail("a viewer was dropped by the stall reconnect", serve)
        v.close()

    took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
    print(f"SIGTERM -> exit in {took:.3f} s, status {code}")
    T.check_clean_exit(serve, code)
    serve = None
finally:
    for p in (serve, sim, stall_sim, jump_sim):
        if p:
            p.stop()
print("PASS")
