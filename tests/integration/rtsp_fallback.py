# timeout: 120
"""ffmpeg's UDP->TCP fallback: the server answers the UDP SETUP but no UDP
packet reaches the client, so ffmpeg (with -timeout, as Frigate runs it)
logs "UDP timeout, retrying with TCP", PAUSEs the UDP session and SETUPs a
second, TCP session on the same connection - which must then play."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("NL_SRC", "."), "tests", "tools"))
import rtsp_itest as T  # noqa: E402

T.need("ffprobe")
srv = T.Server("--log", "debug", "--udp-blackhole", "cam:h264+aac")
try:
    rc, counts, err = T.ffprobe_counts(srv.url("cam"), None, seconds=4,
                                       extra=("-v", "warning", "-timeout", "3000000"))
    log = srv.log()
finally:
    srv.stop()
if "UDP timeout, retrying with TCP" not in err:
    raise SystemExit(f"FAIL: ffmpeg did not fall back: {err[-500:]}")
if rc != 0 or counts.get(0, ("", 0))[1] < 75:
    raise SystemExit(f"FAIL: no video over the TCP fallback: {counts} {err[-500:]}")
conns = re.findall(r"\[rtsp conn (\d+) [^\]]*\] session \w+ on /cam \((UDP|TCP)\)", log)
if [t for _, t in conns] != ["UDP", "TCP"] or conns[0][0] != conns[1][0]:
    raise SystemExit(f"FAIL: expected a UDP then a TCP session on one connection: {conns}")
print(f"ok fallback: {counts[0][1]} video frames over TCP after the UDP timeout, "
      f"sessions {conns} on one connection")
print("1 passed, 0 failed")
