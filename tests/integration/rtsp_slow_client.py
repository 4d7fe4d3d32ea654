# timeout: 120
"""A client that connects, PLAYs and never reads again, next to five healthy
ones (2 Mbit/s, 25 fps): the healthy clients get every frame on time, the
stalled client's queue stays under its cap (it overflows and skips to
keyframes), and it is disconnected once it could not write for the
configured 3 s. Prints the figures."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("NL_SRC", "."), "tests", "tools"))
import rtsp_itest as T  # noqa: E402

QUEUE_BYTES, QUEUE_MS, STALL_MS, SECONDS = 1000000, 1000, 3000, 8
srv = T.Server("--log", "info", "--bitrate", "2000000", "--sndbuf", "65536", "--stall-ms",
               str(STALL_MS), "--queue-ms", str(QUEUE_MS), "--queue-bytes", str(QUEUE_BYTES),
               "cam:h264")
try:
    r = T.reader(srv.url("cam"), "--clients", "6", "--stall", "1", "--duration", str(SECONDS))
finally:
    summary = srv.stop()
h, s = r["healthy"], r["stalled"]
m = T.summary_fields(summary, "mount /cam")
srvline = T.summary_fields(summary, "server")
print(f"healthy clients: {int(h['n'])} playing, frames {int(h['frames_min'])}..{int(h['frames_max'])}"
      f", sequence gaps {int(h['gaps'])}, frame delay max {h['delay_max_ms']} ms"
      f" (p99 {h['delay_p99_ms']} ms)")
print(f"stalled client: disconnected after {int(s['disconnect_ms_max'])} ms "
      f"(stall timeout {STALL_MS} ms); queue peak {m.get('peak_bytes')} bytes / "
      f"{m.get('peak_frames')} frames (cap {QUEUE_BYTES} bytes, {QUEUE_MS} ms), "
      f"overflows {m.get('overflows')}")
checks = [
    (h["playing"] == 5, "all healthy clients play"),
    (h["gaps"] == 0, "healthy clients lose no packet"),
    (h["frames_min"] >= (SECONDS - 1.5) * 25, "healthy clients get every frame after the start"),
    (h["delay_max_ms"] < 150, "healthy clients' frames arrive on time"),
    (s["disconnected"] == 1, "the stalled client is disconnected"),
    (STALL_MS <= s["disconnect_ms_max"] <= STALL_MS + 2500, "within the stall timeout"),
    (int(m.get("peak_bytes", 0)) <= QUEUE_BYTES, "its queue stayed under the cap"),
    (int(m.get("overflows", 0)) >= 1, "it overflowed and skipped to keyframes"),
    (srvline.get("stalled") == "1", "the server counted one stalled client"),
]
for ok, what in checks:
    if not ok:
        raise SystemExit(f"FAIL: {what}\n{r}\n{summary}")
    print(f"ok {what}")
print(f"{len(checks)} passed, 0 failed")
