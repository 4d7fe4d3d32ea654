# timeout: 180
"""Authentication with real clients: Digest (what ffmpeg and GStreamer pick
when offered both) and Basic (a Basic-only server), credentials in the URL
for ffmpeg and user-id/user-pw for GStreamer; wrong credentials get 401, a
user not permitted on a mount gets 403, and no password reaches the log."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("NL_SRC", "."), "tests", "tools"))
import rtsp_itest as T  # noqa: E402

T.need("ffprobe", "gst-launch-1.0")
passed = 0


def expect_frames(url, what):
    global passed
    rc, counts, err = T.ffprobe_counts(url, "tcp", seconds=2)
    if rc != 0 or counts.get(0, ("", 0))[1] < 25:
        raise SystemExit(f"FAIL: {what}: {counts} {err[-400:]}")
    print(f"ok {what}: {counts[0][1]} frames")
    passed += 1


def expect_status(url, status, what):
    global passed
    rc, counts, err = T.ffprobe_counts(url, "tcp", seconds=2)
    if rc == 0 or f"{status} " not in err:
        raise SystemExit(f"FAIL: {what}: expected {status}, got rc={rc} {err[-400:]}")
    print(f"ok {what}: {status}")
    passed += 1


def gst(url, user, pw, ok, what):
    global passed
    pipe = (f"rtspsrc location={url} protocols=tcp user-id={user} user-pw={pw} ! rtph264depay "
            f"! h264parse ! avdec_h264 ! identity eos-after=25 ! fakesink")
    r = subprocess.run(["gst-launch-1.0", "-q", *pipe.split()], capture_output=True, text=True,
                       timeout=60)
    out = r.stdout + r.stderr
    good = r.returncode == 0 and "ERROR" not in out
    if good != ok or (not ok and "Unauthorized" not in out):
        raise SystemExit(f"FAIL: {what}: rc={r.returncode} {out[-400:]}")
    print(f"ok {what}")
    passed += 1


SECRET = "s3cr3t-Pw"
both = T.Server("--log", "debug", "--user", f"alice:{SECRET}", "--user", "bob:hunter2",
                "cam:h264,users=alice", "pub:h264")
basic = T.Server("--log", "debug", "--auth", "basic", "--user", f"alice:{SECRET}", "cam:h264")
try:
    expect_frames(both.url("cam", f"alice:{SECRET}"), "ffmpeg digest alice /cam")
    expect_frames(both.url("pub", "bob:hunter2"), "ffmpeg digest bob /pub")
    expect_status(both.url("cam", "alice:wrong"), 401, "ffmpeg wrong password")
    expect_status(both.url("cam"), 401, "ffmpeg no credentials")
    expect_status(both.url("cam", "mallory:x"), 401, "ffmpeg unknown user")
    expect_status(both.url("cam", "bob:hunter2"), 403, "ffmpeg bob not permitted on /cam")
    expect_frames(basic.url("cam", f"alice:{SECRET}"), "ffmpeg basic alice")
    expect_status(basic.url("cam", "alice:nope"), 401, "ffmpeg basic wrong password")
    gst(both.url("cam"), "alice", SECRET, True, "gst digest alice /cam")
    gst(both.url("cam"), "alice", "nope", False, "gst digest wrong password")
    gst(basic.url("cam"), "alice", SECRET, True, "gst basic alice")
finally:
    logs = both.log() + basic.log()
    both.stop()
    basic.stop()
if SECRET in logs or "hunter2" in logs:
    raise SystemExit("FAIL: a password appeared in the server log")
print("ok no password in the logs")
passed += 1
print(f"{passed} passed, 0 failed")
