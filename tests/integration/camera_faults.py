#!/usr/bin/env python3
# timeout: 240
"""Camera session against each fault mode of the simulated camera: every one
must end in a clean, named error or keep streaming, and never take longer
than the deadline that governs it (measured here, with a margin for ASan and
a loaded 2-core machine).

  drop:N        camera closes the socket          -> NL_ECLOSED right away
  stall:N       camera sends nothing, keeps socket -> NL_ESTALL at the stall timeout
  garbage:N     random bytes instead of media      -> a framing/stall error, bounded
  truncate:N    BcMedia packets cut short          -> keeps running, demuxer resyncs
  reject-login  every login refused                -> NL_EAUTH, not retried
  drip:BYTES    slow link                          -> keeps streaming, fewer frames
  big-length:N  msg-3 header announcing 2 GiB      -> NL_ETOOBIG, nothing allocated
  restart:N     camera restarts                    -> NL_ECLOSED
  clock-jump:N  camera clock wraps 32 bits         -> timestamps keep increasing
  stall + close close request while the camera is silent -> ends at the close deadline
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from camera_itest import CHECK, CLI, PASSWORD, SimLog, stop  # noqa: E402,F401

LOG = SimLog("nl-camera-faults-")
fail = LOG.fail


def start_sim(*args):
    return LOG.start_sim(25, *args)


# Slack for ASan builds on a busy 2-core machine, added to every bound.
SLACK_MS = 2500


def run_check(port, *args):
    cmd = [CHECK, "--address", "127.0.0.1:%d" % port, "--password", PASSWORD] + list(args)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    out = r.stdout
    res = {"rc": r.returncode, "out": out, "err": r.stderr,
           "wall_ms": int((time.monotonic() - t0) * 1000), "streams": {}}
    for m in re.finditer(r"^stream (\w+): frames (\d+) keyframes (\d+) decoded (\d+) "
                         r"decode_errors (\d+) backsteps (\d+) codec (\S+) (\d+)x(\d+) "
                         r"audio (\d+) skipped (\d+)$", out, re.M):
        res["streams"][m.group(1)] = {"frames": int(m.group(2)), "backsteps": int(m.group(6)),
                                      "skipped": int(m.group(11))}
    m = re.search(r"^end: (\w+)(?: (\S+))? elapsed_ms (\d+)(?: detail (.*))?$", out, re.M)
    if not m:
        fail("no end line: %s\n%s" % (out, r.stderr[-2000:]))
    res.update(end=m.group(1), error=m.group(2), elapsed_ms=int(m.group(3)), detail=m.group(4))
    m = re.search(r"^close_ms (\d+)$", out, re.M)
    res["close_ms"] = int(m.group(1)) if m else None
    m = re.search(r"^stats: resyncs (\d+)", out, re.M)
    res["resyncs"] = int(m.group(1)) if m else 0
    if res["error"] == "HANG":
        fail("session hung: %s" % out)
    return res


def fault_case(name, fault, check_args, verify):
    sim, port = start_sim("--fault", fault)
    try:
        r = run_check(port, *check_args)
        msg = verify(r)
        if msg:
            fail("%s: %s\n%s\n%s" % (name, msg, r["out"], r["err"][-2000:]))
        print("ok %-14s %-6s %-12s after %5d ms %s" %
              (name, r["end"], r["error"] or "", r["elapsed_ms"], r["detail"] or ""))
    finally:
        stop(sim)


def expect_error(codes, max_ms, detail_re=None):
    def v(r):
        if r["end"] != "error" or r["error"] not in codes:
            return "expected one of %s" % (codes,)
        if r["elapsed_ms"] > max_ms + SLACK_MS:
            return "took %d ms, bound %d ms" % (r["elapsed_ms"], max_ms)
        if detail_re and not re.search(detail_re, r["detail"] or ""):
            return "detail %r does not match %r" % (r["detail"], detail_re)
        return None
    return v


def expect_running(seconds, min_frames, stream="sub"):
    def v(r):
        if r["end"] != "ok":
            return "expected the session to keep running"
        if r["elapsed_ms"] > seconds * 1000 + SLACK_MS:
            return "ran %d ms" % r["elapsed_ms"]
        s = r["streams"].get(stream)
        if not s or s["frames"] < min_frames or s["backsteps"]:
            return "stream %s: %s" % (stream, s)
        if r["close_ms"] is None or r["close_ms"] > 2000:
            return "close took %s ms" % r["close_ms"]
        return None
    return v


def main():
    t0 = time.monotonic()
    sub = ["--streams", "sub"]
    fault_case("drop", "drop:1", sub + ["--seconds", "10"],
               expect_error(["NL_ECLOSED"], 1000, "^camera closed the connection$"))
    fault_case("stall", "stall:1", sub + ["--seconds", "10", "--stall-timeout", "2"],
               expect_error(["NL_ESTALL"], 3000, "^sub stream: no media for 2000 ms$"))
    fault_case("garbage", "garbage:1", sub + ["--seconds", "15", "--stall-timeout", "2"],
               expect_error(["NL_EPROTO", "NL_ESTALL", "NL_ETOOBIG", "NL_ETIMEDOUT"], 3000))

    def truncated(r):
        msg = expect_running(4, 25)(r)
        if msg:
            return msg
        if r["streams"]["sub"]["skipped"] == 0:
            return "the demuxer skipped nothing"
        return None
    fault_case("truncate", "truncate:1", sub + ["--seconds", "4"], truncated)

    def rejected(r):
        msg = expect_error(["NL_EAUTH"], 500, r"^login rejected by camera \(400\)$")(r)
        if msg:
            return msg
        return None
    fault_case("reject-login", "reject-login", sub + ["--seconds", "5"], rejected)
    # A slow link: frames keep coming (fewer of them). The camera's answer to
    # the stop waits behind megabytes of queued media, so the close may end
    # at its deadline instead of gracefully: both are fine, a longer one is not.
    def dripped(r):
        s = r["streams"].get("sub")
        if not s or s["frames"] < 5 or s["backsteps"]:
            return "stream sub: %s" % s
        if r["close_ms"] is None or r["close_ms"] > 2000 + SLACK_MS:
            return "close took %s ms" % r["close_ms"]
        if r["end"] == "error" and not (r["error"] == "NL_ETIMEDOUT" and
                                        (r["detail"] or "").startswith("close did not finish")):
            return "unexpected %s" % r["error"]
        return None
    fault_case("drip", "drip:40000", sub + ["--seconds", "4"], dripped)
    fault_case("big-length", "big-length:1", sub + ["--seconds", "10"],
               expect_error(["NL_ETOOBIG"], 1000, "above the"))
    fault_case("restart", "restart:1.5", sub + ["--seconds", "10"],
               expect_error(["NL_ECLOSED"], 1500))

    def jumped(r):
        msg = expect_running(3, 60)(r)
        if msg:
            return msg
        return None
    fault_case("clock-jump", "clock-jump:0.5", sub + ["--seconds", "3"], jumped)

    # No fault: keepalives (msg 93 every 0.5 s) all answered, the camera's own
    # heartbeats (msg 234) all answered, nothing missed.
    sim, port = start_sim("--keepalive", "0.4")
    try:
        r = run_check(port, "--streams", "sub", "--seconds", "3", "--keepalive", "0.5")
        m = re.search(r"^stats: resyncs \d+ keepalives (\d+) missed (\d+) heartbeats (\d+)",
                      r["out"], re.M)
        if r["end"] != "ok" or not m or int(m.group(1)) < 4 or int(m.group(2)) != 0 \
                or int(m.group(3)) < 4:
            fail("keepalive: %s" % r["out"])
        print("ok keepalive: %s pings, %s missed, %s heartbeats answered" % m.groups())
    finally:
        stop(sim)

    # Close while the camera is silent: the stop and the logout cannot be
    # answered, so the close ends at its 2 s deadline through the error path.
    def silent_close(r):
        if r["close_ms"] is None or r["close_ms"] > 2000 + SLACK_MS:
            return "close took %s ms" % r["close_ms"]
        if r["end"] == "error" and r["error"] not in ("NL_ETIMEDOUT", "NL_ESTALL"):
            return "unexpected %s" % r["error"]
        return None
    fault_case("silent-close", "stall:0.5", sub + ["--seconds", "1.5"], silent_close)
    print("all fault checks passed in %.1f s" % (time.monotonic() - t0))
    os.unlink(LOG.f.name)


if __name__ == "__main__":
    main()
