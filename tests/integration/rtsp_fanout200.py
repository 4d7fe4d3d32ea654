# timeout: 120
"""200 concurrent TCP clients from the raw-socket reader all receive the
stream: every client plays, no client loses a packet, and each gets the
frames of the whole run after its first keyframe."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("NL_SRC", "."), "tests", "tools"))
import rtsp_itest as T  # noqa: E402

N, SECONDS = 200, 6
srv = T.Server("--bitrate", "500000", "--max-clients", "256", "cam:h264+aac")
try:
    r = T.reader(srv.url("cam"), "--clients", str(N), "--duration", str(SECONDS))
finally:
    summary = srv.stop()
h = r["healthy"]
print(f"{int(h['playing'])}/{N} clients playing, frames per client {int(h['frames_min'])}.."
      f"{int(h['frames_max'])}, gaps {int(h['gaps'])}, {h['bytes'] / 1e6:.1f} MB received, "
      f"frame delay max {h['delay_max_ms']} ms (p99 {h['delay_p99_ms']} ms)")
checks = [
    (h["playing"] == N, f"all {N} clients play"),
    (h["gaps"] == 0, "no packet lost"),
    (h["frames_min"] >= (SECONDS - 1.5) * 25, "every client gets every frame after its start"),
]
for ok, what in checks:
    if not ok:
        raise SystemExit(f"FAIL: {what}\n{r}\n{summary}")
    print(f"ok {what}")
print(f"{len(checks)} passed, 0 failed")
