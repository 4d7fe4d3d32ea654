#!/usr/bin/env python3
# timeout: 150
"""`neolink-cli serve` as a command:

  * --help, unknown options (exit 2);
  * a broken configuration is refused with exactly the messages of
    `neolink-cli check` and exit status 1; a missing file too;
  * demo mode (no CONFIG): an in-process simulated camera served at
    rtsp://127.0.0.1:PORT/demo, bound to 127.0.0.1, URLs printed; the
    default port 8554 when it is free;
  * RTSP users from the configuration are enforced; credentials (camera
    passwords inline and from the environment, RTSP user passwords) never
    appear in any output, even at debug level and with failed logins.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import serve_itest as T  # noqa: E402

T.need("ffprobe")
CLI = T.CLI


def run(*args, timeout=30):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- usage
r = run("serve", "--help")
if r.returncode != 0 or "--config" not in r.stdout or "NEOLINK_TEST_BLOCK_LOOP" not in r.stdout:
    T.fail(f"serve --help: {r.returncode} {r.stdout}")
r = run("serve", "--bogus")
if r.returncode != 2:
    T.fail(f"unknown option: exit {r.returncode}")
r = run("serve", "--port", "99999")
if r.returncode != 2:
    T.fail(f"bad port: exit {r.returncode}")
print("usage: --help 0, unknown option 2, bad --port 2")

# ---------------------------------------------------------------- broken configs
broken = T.write_config("broken.yaml", "bind_port: 70000\ncameras:\n"
                        "  - name: ok\n    address: 10.0.0.1\n"
                        "  - name: bad name\n    address: 10.0.0.2:notaport\n"
                        "    stream: sideways\n")
chk = run("check", broken)
srv = run("serve", broken, "--port", "0", "--http", "off")
msgs = [l for l in chk.stderr.splitlines() if l.startswith(broken + ":")]
smsgs = [l for l in srv.stderr.splitlines() if l.startswith(broken + ":")]
print(f"broken config: check exit {chk.returncode}, serve exit {srv.returncode}, "
      f"{len(msgs)} messages, identical: {msgs == smsgs}")
for l in msgs:
    print("   " + l)
if chk.returncode != 1 or srv.returncode != 1 or not msgs or msgs != smsgs:
    T.fail(f"serve should refuse like check:\ncheck: {chk.stderr}\nserve: {srv.stderr}")
r = run("serve", os.path.join(T.TMP, "missing.yaml"))
if r.returncode != 1 or "missing.yaml" not in r.stderr:
    T.fail(f"missing config: {r.returncode} {r.stderr}")
print(f"missing config: exit 1: {r.stderr.strip()}")

# ---------------------------------------------------------------- demo
demo = T.Serve(None, name="serve_demo")
urls = [l for l in demo.lines if "rtsp://" in l]
print("demo mode printed:\n" + "\n".join("   " + l for l in demo.lines))
if not any(re.search(rf"rtsp://127\.0\.0\.1:{demo.rtsp}/demo\b", l) for l in urls):
    T.fail("demo URL not printed", demo)
r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                    "stream=codec_name,width,height", "-of", "csv=p=0",
                    demo.url("/demo/sub")], capture_output=True, text=True, timeout=60)
if r.stdout.split() != ["h264,640,360", "aac"]:
    T.fail(f"demo sub stream: {r.stdout} {r.stderr}", demo)
print(f"demo /demo/sub: {r.stdout.split()}")
# Bound to loopback only.
st = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
mine = [l for l in st.splitlines() if f":{demo.rtsp} " in l]
if mine and not all("127.0.0.1:" in l for l in mine):
    T.fail(f"demo listens beyond loopback: {mine}", demo)
took, code = demo.exit_time_after(signal.SIGINT, 2.0)
print(f"demo: SIGINT -> exit in {took:.3f} s, status {code}")
T.check_clean_exit(demo, code)

# The documented default: rtsp://127.0.0.1:8554/demo (only if 8554 is free).
probe = socket.socket()
try:
    probe.bind(("127.0.0.1", 8554))
    free = True
except OSError:
    free = False
probe.close()
if free:
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=1:detect_leaks=1")
    p = T.Proc("serve_default", [CLI, "serve", "--http", "off"], env)
    m = p.wait_line(r"rtsp://127\.0\.0\.1:8554/demo\b", 30)
    p.stop()
    if not m:
        T.fail("default demo URL not printed", p)
    print("default: rtsp://127.0.0.1:8554/demo printed")
else:
    print("default port 8554 busy: default URL check skipped")

# ---------------------------------------------------------------- credentials
CAM_PW, ENV_PW, WRONG_PW, USER_PW = "CamPw-8a7f", "EnvPw-93bc", "WrongPw-5d1e", "UserPw-4c2a"
good = T.Sim("good", password=CAM_PW)
envsim = T.Sim("envcam", password=ENV_PW)
cfg = (f"users:\n  - name: viewer\n    pass: {USER_PW}\n"
       "cameras:\n" + T.camera_yaml("good", good.port, CAM_PW, "stream: sub") +
       T.camera_yaml("open", good.port, CAM_PW, "stream: sub\npermitted_users: [anyone]") +
       T.camera_yaml("wrong", good.port, WRONG_PW, "stream: sub") +
       f"  - name: fromenv\n    address: 127.0.0.1:{envsim.port}\n"
       "    password_env: NL_TEST_SERVE_PW\n    stream: sub\n")
path = T.write_config("creds.yaml", cfg)
serve = T.Serve(path, "--log-level", "debug", env_extra={"NL_TEST_SERVE_PW": ENV_PW})
end = time.monotonic() + 30
while time.monotonic() < end:
    st, rz = serve.readyz()
    c = {x["name"]: x for x in rz["cameras"]}
    if c["good"]["streams"]["sub"]["mounted"] and c["fromenv"]["streams"]["sub"]["mounted"] \
            and c["open"]["streams"]["sub"]["mounted"] \
            and c["wrong"].get("error") == "NL_EAUTH":
        break
    time.sleep(0.2)
else:
    T.fail(f"cameras: {rz}", serve)
print(f"/readyz {st}: good {c['good']['state']}, fromenv {c['fromenv']['state']}, "
      f"wrong {c['wrong']['state']} ({c['wrong']['error']}: {c['wrong']['detail']})")
if st != 503:
    T.fail("/readyz should be 503 while a camera is not connected", serve)
r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp",
                    serve.url("/good/sub")], capture_output=True, text=True, timeout=30)
if r.returncode == 0 or "401" not in r.stderr:
    T.fail(f"no credentials should get 401: {r.stderr}", serve)
url = f"rtsp://viewer:{USER_PW}@127.0.0.1:{serve.rtsp}/fromenv/sub"
r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                    "stream=codec_name", "-of", "csv=p=0", url],
                   capture_output=True, text=True, timeout=60)
if r.stdout.split() != ["h264", "aac"]:
    T.fail(f"authenticated viewer: {r.stdout} {r.stderr}", serve)
# `permitted_users: [anyone]` means no login, even though users exist
r = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
                    "stream=codec_name", "-of", "csv=p=0", serve.url("/open/sub")],
                   capture_output=True, text=True, timeout=60)
if r.stdout.split() != ["h264", "aac"]:
    T.fail(f"anonymous viewer of a [anyone] camera: {r.stdout} {r.stderr}", serve)
print("RTSP users: anonymous DESCRIBE -> 401, user 'viewer' plays /fromenv/sub, "
      "anonymous plays /open/sub (permitted_users: [anyone])")
took, code = serve.exit_time_after(signal.SIGTERM, 2.0)
T.check_clean_exit(serve, code)
out = serve.log() + "\n".join(serve.lines)
leaks = [pw for pw in (CAM_PW, ENV_PW, WRONG_PW, USER_PW) if pw in out]
print(f"{len(out.splitlines())} lines of output at debug level, failed logins included: "
      f"passwords found: {leaks or 'none'}")
if leaks:
    T.fail(f"credentials in the output: {leaks}", serve)
good.stop()
envsim.stop()
print("PASS")
