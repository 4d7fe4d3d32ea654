#!/usr/bin/env python3
# timeout: 150
"""`transcode:` and `audio:` in `neolink-cli serve` (hwenc.h workers):

  * an H.265 camera transcoded to H.264 160 px wide (software encoder, so
    it runs anywhere): "/NAME/sub/h264" and "/NAME/h264" serve H.264 with
    the camera's AAC, the plain paths still serve the H.265 original;
  * with `replace: true` the plain paths serve the transcoded stream;
  * an ADPCM camera served as AAC (converted on the loop thread);
  * ffprobe and GStreamer decode them; no worker is abandoned.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe", "gst-launch-1.0")


def probe(serve, path):
    r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                        "stream=codec_name,width,height", "-of", "csv=p=0", serve.url(path)],
                       capture_output=True, text=True, timeout=60)
    return r.stdout.split(), r.stderr


XC = "transcode:\n  codec: h264\n  width: 160\n  hwaccel: software"
sims = []
serve = None
try:
    h265 = T.Sim("h265", "--codec", "h265")
    adpcm = T.Sim("adpcm", "--audio", "adpcm")
    sims = [h265, adpcm]
    cfg = ("cameras:\n" +
           T.camera_yaml("xc", h265.port, extra="stream: sub\nidle_linger: 1s\n" + XC) +
           T.camera_yaml("rep", h265.port,
                         extra="stream: sub\nidle_linger: 1s\n" + XC + "\n  replace: true") +
           T.camera_yaml("pcm", adpcm.port, extra="stream: sub\naudio: aac"))
    serve = T.Serve(T.write_config("transcode.yaml", cfg))
    serve.wait_mounted()
    want = {
        "/xc": ["hevc,256,144", "aac"],
        "/xc/sub": ["hevc,256,144", "aac"],
        "/xc/sub/h264": ["h264,160,90", "aac"],
        "/xc/h264": ["h264,160,90", "aac"],
        "/rep/sub": ["h264,160,90", "aac"],
        "/rep/subStream": ["h264,160,90", "aac"],
        "/rep/sub/h264": ["h264,160,90", "aac"],
        "/pcm/sub": ["h264,256,144", "aac"],
    }
    for path, w in want.items():
        got, err = probe(serve, path)
        print(f"ffprobe {path:16s} -> {got}")
        if got != w:
            T.fail(f"{path}: got {got}, want {w}: {err[-400:]}", serve)
    pipe = (f"rtspsrc location={serve.url('/xc/h264')} protocols=tcp latency=0 ! rtph264depay "
            f"! h264parse ! avdec_h264 ! identity eos-after=30 ! fakesink sync=false")
    r = subprocess.run(["gst-launch-1.0", "-q"] + pipe.split(), capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0 or "ERROR" in r.stdout + r.stderr:
        T.fail(f"gst-launch /xc/h264: {(r.stdout + r.stderr)[-800:]}", serve)
    print("gstreamer rtspsrc /xc/h264: 30 transcoded frames decoded")
    m, _ = serve.metrics()
    print(f"/metrics neolink_abandoned_workers_total {m['neolink_abandoned_workers_total']:.0f}")
    if m["neolink_abandoned_workers_total"] != 0:
        T.fail("a transcoder worker was abandoned", serve)
    took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
    print(f"SIGTERM -> exit in {took:.3f} s, status {code}")
    T.check_clean_exit(serve, code)
    if took > 2.0:
        T.fail("exit too slow", serve)
    serve = None
finally:
    if serve:
        serve.stop()
    for s in sims:
        s.stop()
print("PASS")
