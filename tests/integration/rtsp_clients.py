# timeout: 240
"""Real clients against the RTSP server: ffprobe and GStreamer rtspsrc, over
TCP and UDP, H.264 and H.265, with and without AAC audio (plus H.264 with
PCMU, and a mount with the GOP cache). Each run must decode >= 100 video frames whose timestamps are strictly
increasing at the source's 25 fps."""
import concurrent.futures as cf
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("NL_SRC", "."), "tests", "tools"))
import rtsp_itest as T  # noqa: E402

T.need("ffprobe", "gst-launch-1.0")
srv = T.Server("--size", "320x240", "--fps", "25", "--gop", "25",
               "v264:h264", "a264:h264+aac", "v265:h265", "a265:h265+aac", "u264:h264+pcmu",
               "g264:h264+aac,gop")
results = []


def probe(mount, transport):
    frames, pts = T.ffprobe_frames(srv.url(mount), transport, seconds=5)
    if len(frames) < 100:
        raise SystemExit(f"FAIL: ffprobe {transport} {mount}: {len(frames)} frames decoded")
    if frames[0].get("key_frame") != 1:
        raise SystemExit(f"FAIL: ffprobe {transport} {mount}: first frame is not a keyframe")
    T.check_increasing(pts, f"ffprobe {transport} {mount}")
    return f"ffprobe {transport:3} {mount}: {len(frames)} frames, dt {pts[1] - pts[0]:.3f} s"


def gst(mount, transport):
    codec = "h265" if "265" in mount else "h264"
    pts = T.gst_run(srv.url(mount), transport, codec, audio=mount.startswith("a"))
    if len(pts) < 50:  # -v notifications may be coalesced; eos-after guarantees 100
        raise SystemExit(f"FAIL: gst {transport} {mount}: only {len(pts)} timestamps seen")
    T.check_increasing(pts, f"gst {transport} {mount}", multiples=True)
    return f"gst     {transport:3} {mount}: 100 frames (eos-after), {len(pts)} pts checked"


jobs = [(probe, m, t) for m in ("v264", "a264", "v265", "a265") for t in ("tcp", "udp")]
jobs += [(gst, m, t) for m in ("v264", "a264", "v265", "a265") for t in ("tcp", "udp")]
# GOP cache: starts at the cached keyframe, replayed in real time.
jobs += [(probe, "g264", "tcp"), (probe, "g264", "udp")]
try:
    with cf.ThreadPoolExecutor(max_workers=4) as ex:
        for line in ex.map(lambda j: j[0](j[1], j[2]), jobs):
            print(line, flush=True)
    # Audio tracks decode too (AAC and PCMU), over TCP.
    for mount, codec in (("a264", "aac"), ("u264", "pcm_mulaw")):
        rc, counts, err = T.ffprobe_counts(srv.url(mount), "tcp", seconds=4)
        if rc != 0 or counts.get(1, ("", 0))[0] != codec or counts[1][1] < 20 or counts[0][1] < 75:
            raise SystemExit(f"FAIL: {mount} audio: {counts} {err[-500:]}")
        print(f"ffprobe tcp {mount}: video {counts[0][1]} frames, {codec} {counts[1][1]} frames")
except SystemExit as e:
    print(e, flush=True)
    srv.stop()
    sys.exit(1)
summary = srv.stop()
print(summary.strip())
print(f"{len(jobs) + 2} passed, 0 failed")
