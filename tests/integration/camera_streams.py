#!/usr/bin/env python3
# timeout: 240
"""Camera session against the simulated camera, for every encryption level
(none, bc, aes, fullaes) and both codecs (h264, h265): log in, start main and
sub at once on one connection, receive >= 100 frames of each, decode every
frame with libavcodec, timestamps strictly increasing, close within its
deadline. Also: a wrong password gives NL_EAUTH at once and is not retried,
and `neolink-cli probe` prints the device, the negotiated encryption and the
stream figures, or a one-line reason on failure.

Processes are started and stopped by pid, on 127.0.0.1 only."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from camera_itest import CHECK, CLI, PASSWORD, SimLog, stop  # noqa: E402,F401

LOG = SimLog("nl-camera-sim-")
fail = LOG.fail


def start_sim(*args):
    return LOG.start_sim(50, *args)


TOOLS = os.environ["NL_TOOLS"]
LEVELS = {"none": "0x00", "bc": "0x01", "aes": "0x02", "fullaes": "0x12"}


def run_check(port, *args, limit=60):
    cmd = [CHECK, "--address", "127.0.0.1:%d" % port] + list(args)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    took = time.monotonic() - t0
    out = r.stdout
    res = {"rc": r.returncode, "out": out, "err": r.stderr, "took": took, "streams": {}}
    for m in re.finditer(r"^stream (\w+): frames (\d+) keyframes (\d+) decoded (\d+) "
                         r"decode_errors (\d+) backsteps (\d+) codec (\S+) (\d+)x(\d+) "
                         r"audio (\d+) skipped (\d+)$", out, re.M):
        res["streams"][m.group(1)] = {
            "frames": int(m.group(2)), "keyframes": int(m.group(3)),
            "decoded": int(m.group(4)), "errors": int(m.group(5)),
            "backsteps": int(m.group(6)), "codec": m.group(7),
            "w": int(m.group(8)), "h": int(m.group(9)), "audio": int(m.group(10))}
    m = re.search(r"^end: (\w+)(?: (\S+))? elapsed_ms (\d+)(?: detail (.*))?$", out, re.M)
    if not m:
        fail("no end line from camera_check: %s\n%s" % (out, r.stderr[-2000:]))
    res["end"] = m.group(1)
    res["error"] = m.group(2)
    res["elapsed_ms"] = int(m.group(3))
    res["detail"] = m.group(4)
    m = re.search(r"^login: encryption (\S+) (0x[0-9a-f]+)", out, re.M)
    res["level"] = m.group(2) if m else None
    m = re.search(r"^close_ms (\d+)$", out, re.M)
    res["close_ms"] = int(m.group(1)) if m else None
    return res


def check_streams(enc, codec):
    audio = "aac" if codec == "h264" else "adpcm"
    sim, port = start_sim("--encryption", enc, "--codec", codec, "--audio", audio)
    try:
        r = run_check(port, "--password", PASSWORD, "--streams", "main,sub",
                      "--frames", "100", "--decode")
        where = "%s/%s" % (enc, codec)
        if r["rc"] != 0 or r["end"] != "ok":
            fail("%s: %s\n%s" % (where, r["out"], r["err"][-3000:]))
        if r["level"] != LEVELS[enc]:
            fail("%s: negotiated %s, expected %s" % (where, r["level"], LEVELS[enc]))
        want = {"main": (320, 240), "sub": (256, 144)}
        for name, (w, h) in want.items():
            s = r["streams"].get(name)
            if not s:
                fail("%s: no %s stream line" % (where, name))
            if s["frames"] < 100:
                fail("%s: %s got %d frames" % (where, name, s["frames"]))
            if s["backsteps"]:
                fail("%s: %s timestamps went back %d times" % (where, name, s["backsteps"]))
            if s["errors"] or s["decoded"] < s["frames"] - 2:
                fail("%s: %s decoded %d of %d (%d errors)" %
                     (where, name, s["decoded"], s["frames"], s["errors"]))
            if s["codec"] != ("h264" if codec == "h264" else "hevc") or (s["w"], s["h"]) != (w, h):
                fail("%s: %s is %s %dx%d" % (where, name, s["codec"], s["w"], s["h"]))
            if s["keyframes"] < 1 or s["audio"] < 1:
                fail("%s: %s keyframes %d audio %d" % (where, name, s["keyframes"], s["audio"]))
        if r["close_ms"] is None or r["close_ms"] > 2000:
            fail("%s: close took %s ms" % (where, r["close_ms"]))
        print("ok %-8s %-5s main %d sub %d frames, close %d ms, %.1f s" %
              (enc, codec, r["streams"]["main"]["frames"], r["streams"]["sub"]["frames"],
               r["close_ms"], r["took"]))

        if enc == "fullaes" and codec == "h265":
            check_probe(port)
        if enc == "aes" and codec == "h264":
            check_wrong_password(port)
    finally:
        stop(sim)


def check_wrong_password(port):
    r = run_check(port, "--password", "wrong", "--streams", "sub", "--frames", "10")
    if r["rc"] != 1 or r["error"] != "NL_EAUTH":
        fail("wrong password: %s" % r["out"])
    if r["detail"] != "login rejected by camera (400)":
        fail("wrong password detail: %s" % r["detail"])
    if r["elapsed_ms"] > 3000:
        fail("wrong password took %d ms" % r["elapsed_ms"])
    p = subprocess.run([CLI, "probe", "--address", "127.0.0.1:%d" % port, "--password", "nope",
                        "--seconds", "1"], capture_output=True, text=True, timeout=30)
    if p.returncode == 0 or p.stderr.strip().splitlines()[-1] != \
            "probe: camera rejected the credentials":
        fail("probe wrong password: rc %d %r" % (p.returncode, p.stderr))
    print("ok wrong password: NL_EAUTH in %d ms, not retried" % r["elapsed_ms"])


def check_probe(port):
    p = subprocess.run([CLI, "probe", "--address", "127.0.0.1:%d" % port, "--password", PASSWORD,
                        "--both", "--seconds", "2"], capture_output=True, text=True, timeout=60)
    out = p.stdout
    if p.returncode != 0:
        fail("probe: rc %d\n%s\n%s" % (p.returncode, out, p.stderr))
    for want in [r"^device: model NeolinkSim,", r"^encryption: fullaes \(0x12\)$",
                 r"^stream main: H265 320x240, \d+ frames \(\d+ keyframes\), 5\d\.\d\d fps, "
                 r"\d+ kbit/s .*timestamps strictly increasing$",
                 r"^stream sub: H265 256x144, \d+ frames"]:
        if not re.search(want, out, re.M):
            fail("probe output lacks %r:\n%s" % (want, out))
    # A refused port: one line naming the address and the reason.
    q = subprocess.run([CLI, "probe", "--address", "127.0.0.1:9", "--seconds", "1"],
                       capture_output=True, text=True, timeout=30)
    if q.returncode == 0 or q.stderr.strip() != \
            "probe: connect to 127.0.0.1:9 failed: connection refused":
        fail("probe refused: rc %d %r" % (q.returncode, q.stderr))
    print("ok probe:", out.strip().splitlines()[-2])


def main():
    t0 = time.monotonic()
    for codec in ("h264", "h265"):
        for enc in ("none", "bc", "aes", "fullaes"):
            check_streams(enc, codec)
    print("all stream checks passed in %.1f s" % (time.monotonic() - t0))
    os.unlink(LOG.f.name)


if __name__ == "__main__":
    main()
