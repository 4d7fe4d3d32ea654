#!/usr/bin/env python3
# timeout: 150
"""`transcode:` and `audio:` in `neolink-cli serve` (hwenc.h workers):

  * an H.265 camera transcoded to H.264 160 px wide (software encoder, so
    it runs anywhere): "/NAME/sub/h264" and "/NAME/h264" serve H.264 with
    the camera's AAC, the plain paths still serve the H.265 original;
  * with `replace: true` the plain paths serve the transcoded stream;
  * an ADPCM camera served as AAC (converted on the loop thread);
  * ffprobe and GStreamer decode them: >= 100 transcoded frames at the
    configured size, and as many AAC samples as the ADPCM blocks carried
    (480 per 60 ms block: the decoded samples fill the track's timeline);
    no worker is abandoned.
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe", "gst-launch-1.0")


def probe_json(serve, path, *args, seconds=9):
    r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-read_intervals",
                        f"%+{seconds}", "-of", "json", *args, serve.url(path)],
                       capture_output=True, text=True, timeout=90)
    return json.loads(r.stdout or "{}"), r.stderr


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
    # >= 100 transcoded frames decoded, every one at the configured size
    got, err = probe_json(serve, "/xc/h264", "-select_streams", "v:0", "-show_entries",
                          "frame=width,height")
    frames = got.get("frames", [])
    sizes = {(f["width"], f["height"]) for f in frames}
    print(f"ffprobe /xc/h264 9 s: {len(frames)} video frames decoded, sizes {sorted(sizes)}")
    if len(frames) < 100 or sizes != {(160, 90)}:
        T.fail(f"transcoded frames: {len(frames)} {sizes} {err[-400:]}", serve)
    # ADPCM -> AAC: the decoded samples cover the audio timeline exactly
    # (within one AAC frame), at the camera's 8000 Hz
    got, err = probe_json(serve, "/pcm/sub", "-select_streams", "a:0", "-show_entries",
                          "frame=nb_samples,pts_time:stream=sample_rate")
    af = [f for f in got.get("frames", []) if "pts_time" in f]
    if len(af) < 20:
        T.fail(f"AAC frames: {len(af)} {err[-400:]}", serve)
    rate = int(got["streams"][0]["sample_rate"])
    samples = sum(int(f["nb_samples"]) for f in af)
    span = float(af[-1]["pts_time"]) - float(af[0]["pts_time"]) + int(af[-1]["nb_samples"]) / rate
    blocks = samples / 480
    print(f"ffprobe /pcm/sub 9 s: {len(af)} AAC frames, {samples} samples at {rate} Hz "
          f"= {samples / rate:.3f} s (= {blocks:.1f} ADPCM blocks of 480) over a "
          f"{span:.3f} s timeline")
    if rate != 8000 or abs(samples / rate - span) > 1024 / rate + 0.001 or samples / rate < 5:
        T.fail("AAC samples do not match the ADPCM input", serve)
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
