#!/usr/bin/env python3
# timeout: 240
"""`neolink-cli serve` with three simulated cameras (separate `neolink-cli
simulate` processes: different encryption levels, codecs and audio):

  * ffprobe pulls every main/sub path and every alias of every camera and
    finds the right codecs and size (AAC passed through, ADPCM converted to
    G.711 mu-law); the extern paths (its simulators run with
    `--extern off`, like the many models without one) answer 503 at once,
    never hang;
  * GStreamer's rtspsrc decodes one path per camera;
  * 20 viewers on one stream while the camera reports exactly one active
    stream and one subscriber (the camera is asked once);
  * /metrics, /healthz and /readyz answer; a /metrics excerpt is printed;
  * passwords appear in no output; SIGTERM ends it cleanly (time printed).
"""
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe", "gst-launch-1.0")

CAMS = {
    # name: (simulate args, password, expected video codec, audio codec or None)
    "alpha": (["--encryption", "none", "--codec", "h264", "--audio", "aac"], "AlphaPw-71",
              "h264", "aac"),
    "bravo": (["--encryption", "bc", "--codec", "h265", "--audio", "adpcm"], "BravoPw-72",
              "hevc", "pcm_mulaw"),  # ADPCM converted to G.711 (audio: pcmu)
    "charlie": (["--encryption", "fullaes", "--codec", "h264", "--audio", "none"],
                "CharliePw-73", "h264", None),
}
SIZES = {"main": (320, 240), "sub": (256, 144)}
MAIN_ALIASES = ["main", "mainStream", "MainStream", "Main", "Mainstream", "mainstream"]
SUB_ALIASES = ["sub", "subStream", "SubStream", "Sub", "Substream", "substream"]

sims = {}
serve = None
try:
    for name, (args, pw, _, _) in CAMS.items():
        sims[name] = T.Sim(name, *args, password=pw, status=(name == "charlie"))
    cfg = "log_level: info\nshutdown_timeout: 2s\ncameras:\n" + "".join(
        T.camera_yaml(n, sims[n].port, CAMS[n][1],
                      "idle_linger: 1s" + ("\naudio: pcmu" if n == "bravo" else ""))
        for n in CAMS)
    path = T.write_config("streams.yaml", cfg)
    serve = T.Serve(path)
    ready = serve.wait_mounted()
    print(f"serve up: rtsp port {serve.rtsp}, http port {serve.http}; "
          f"{len(ready['cameras'])} cameras connected")

    # ---------------------------------------------------------- every path
    jobs = []
    for name in CAMS:
        jobs.append((name, f"/{name}", "main"))
        jobs += [(name, f"/{name}/{a}", "main") for a in MAIN_ALIASES]
        jobs += [(name, f"/{name}/{a}", "sub") for a in SUB_ALIASES]

    def probe(job):
        name, p, stream = job
        t0 = time.monotonic()
        r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                            "stream=codec_name,width,height", "-of", "csv=p=0",
                            serve.url(p)], capture_output=True, text=True, timeout=60)
        return job, r, time.monotonic() - t0

    with ThreadPoolExecutor(max_workers=3) as ex:
        results = list(ex.map(probe, jobs))
    for (name, p, stream), r, took in results:
        _, _, vcodec, acodec = CAMS[name]
        w, h = SIZES[stream]
        lines = r.stdout.split()
        want = [f"{vcodec},{w},{h}"] + ([acodec] if acodec else [])
        if r.returncode != 0 or lines != want:
            T.fail(f"ffprobe {p}: got {lines} (rc {r.returncode}, {r.stderr.strip()[-300:]}),"
                   f" want {want}", serve)
    print(f"ffprobe: {len(results)} paths OK (every alias of main and sub, 3 cameras), "
          f"slowest {max(t for _, _, t in results):.2f} s")

    for name in CAMS:
        t0 = time.monotonic()
        r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp",
                            serve.url(f"/{name}/externStream")], capture_output=True,
                           text=True, timeout=30)
        took = time.monotonic() - t0
        if r.returncode == 0 or "503" not in r.stderr or took > 3:
            T.fail(f"/{name}/externStream: rc {r.returncode} in {took:.2f} s: {r.stderr}", serve)
    print(f"extern paths (no such stream on the camera): 503 in {took:.2f} s, no hang")

    # ---------------------------------------------------------- GStreamer
    for name, p in (("alpha", "/alpha/mainStream"), ("bravo", "/bravo/sub"),
                    ("charlie", "/charlie")):
        vc = "h264" if CAMS[name][2] == "h264" else "h265"
        dep = f"rtp{vc}depay ! {vc}parse ! avdec_{vc}"
        pipe = (f"rtspsrc location={serve.url(p)} protocols=tcp latency=0 ! {dep} ! "
                f"identity eos-after=30 ! fakesink sync=false")
        t0 = time.monotonic()
        for attempt in (1, 2):
            r = subprocess.run(["gst-launch-1.0", "-q"] + pipe.split(), capture_output=True,
                               text=True, timeout=60)
            out = r.stdout + r.stderr
            # Known race (open follow-up): rtspsrc's PAUSE at EOS, after the 30
            # frames were decoded, can find the connection already closed when
            # the camera stream stops during idle_linger. Retry that one case
            # once, loudly; any other error, or a second failure, fails.
            if (attempt == 1 and r.returncode != 0 and "gst_rtspsrc_pause" in out
                    and "Received end-of-file" in out):
                print(f"WARNING: gst-launch {p}: connection closed at PAUSE after EOS; retrying once")
                continue
            break
        if r.returncode != 0 or "ERROR" in out:
            T.fail(f"gst-launch {p}: {out[-800:]}", serve)
        print(f"gstreamer rtspsrc {p}: 30 {vc} frames decoded in {time.monotonic() - t0:.2f} s")

    # ---------------------------------------------------------- 20 viewers, 1 camera stream
    sim = sims["charlie"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the probes' streams linger 1 s
        st = sim.status(max(0, len(sim.lines) - 2))
        if st and st["streams"] == 0:
            break
        time.sleep(0.3)
    else:
        T.fail(f"charlie's streams did not stop after the probes: {st}", serve, sim)
    with ThreadPoolExecutor(max_workers=20) as ex:
        viewers = list(ex.map(lambda _: T.Viewer(serve.url("/charlie/sub")), range(20)))
    time.sleep(3)
    mark = len(sim.lines)
    time.sleep(1.2)
    st = sim.status(mark)
    m, _ = serve.metrics()
    got = [len(v.frames) for v in viewers]
    for v in viewers:
        v.close()
    nv = m.get('neolink_viewers{camera="charlie",stream="sub"}')
    print(f"20 viewers on /charlie/sub: frames per viewer {min(got)}..{max(got)}; "
          f"camera reports {st['streams']} active stream(s) (main {st['main']} sub {st['sub']}),"
          f" {st['viewers']} subscriber(s); /metrics neolink_viewers={nv:.0f}, "
          f"neolink_camera_streams_active={m['neolink_camera_streams_active']:.0f}")
    if st["streams"] != 1 or st["sub"] != 1 or st["viewers"] != 1:
        T.fail(f"camera should stream once for 20 viewers: {st['line']}", serve, sim)
    if nv != 20 or min(got) < 20:
        T.fail(f"viewers: metrics {nv}, frames {got}", serve)

    # ---------------------------------------------------------- HTTP
    st, body = serve.get("/healthz")
    if st != 200 or body.strip() != "ok":
        T.fail(f"/healthz: {st} {body}", serve)
    st, rz = serve.readyz()
    if st != 200 or not rz["ready"] or len(rz["cameras"]) != 3:
        T.fail(f"/readyz: {st} {rz}", serve)
    sessions = {c["name"]: c["sessions"] for c in rz["cameras"]}
    print(f"/readyz 200: Baichuan sessions per camera {sessions} (after 39 probes, "
          f"3 GStreamer runs and 20 viewers)")
    if set(sessions.values()) != {1}:
        T.fail("one session per camera expected", serve)
    m, body = serve.metrics()
    for name in CAMS:
        if m.get(f'neolink_camera_state{{camera="{name}"}}') not in (2.0, 3.0):
            T.fail(f"camera {name} state in /metrics: {body}", serve)
        if m.get(f'neolink_camera_frames_total{{camera="{name}",stream="main"}}', 0) < 10:
            T.fail(f"camera {name} main frames in /metrics: {body}", serve)
    print("/metrics excerpt:")
    for line in body.splitlines():
        if "charlie" in line or line.startswith(("neolink_camera_streams_active",
                                                 "neolink_rtsp_clients",
                                                 "neolink_watchdog", "neolink_teardown")):
            print("   " + line)

    # ---------------------------------------------------------- stop
    took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
    print(f"SIGTERM -> exit in {took:.3f} s (shutdown_timeout 2 s), status {code}")
    T.check_clean_exit(serve, code)
    if took > 2.0:
        T.fail("exit took longer than shutdown_timeout", serve)
    everything = serve.log() + "\n".join(serve.lines)
    for name, (_, pw, _, _) in CAMS.items():
        if pw in everything:
            T.fail(f"the password of {name} appears in the output", serve)
    print("no password in the server's output")
    serve = None
finally:
    if serve:
        serve.stop()
    for s in sims.values():
        s.stop()
print("PASS")
