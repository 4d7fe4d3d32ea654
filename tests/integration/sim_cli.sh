#!/bin/bash
# timeout: 90
# `neolink-cli simulate` as a real process: it announces its port on stdout,
# a Python Baichuan client (independent of the C code: its own framing, XOR
# and MD5) logs in and streams, SIGUSR1 prints a status line showing one
# stream and one viewer, and SIGTERM with a client still streaming ends the
# process within a second with exit code 0. Bad arguments exit 2, a port in
# use exits 1. Every process is started here and stopped by its pid.
set -u
: "${NL_CLI:?NL_CLI must point at neolink-cli}"
WORK=$(mktemp -d)
SIM_PID=""
cleanup() {
    if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill -KILL "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- simulate stdout"; cat "$WORK/out" 2>/dev/null
    echo "--- simulate stderr"; tail -n 40 "$WORK/err" 2>/dev/null
    exit 1
}

# Waits for the "listening" line; sets PORT.
wait_listening() {
    local i
    for i in $(seq 1 200); do
        PORT=$(sed -n 's/^simulate: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out")
        [ -n "$PORT" ] && return 0
        kill -0 "$SIM_PID" 2>/dev/null || fail "simulate exited early"
        sleep 0.05
    done
    fail "no listening line within 10 s"
}

# ---- usage errors
"$NL_CLI" simulate --encryption rot13 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --encryption must exit 2"
"$NL_CLI" simulate --fault explode:1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --fault must exit 2"
"$NL_CLI" simulate --help | grep -q -- "--fault KIND" || fail "--help lists --fault"

# ---- start
"$NL_CLI" simulate --listen 127.0.0.1:0 --password s3cret --encryption bc \
    --sub 256x144@10 --gop 1 --audio adpcm --motion-interval 0 --log-level info \
    >"$WORK/out" 2>"$WORK/err" &
SIM_PID=$!
wait_listening
echo "simulate pid $SIM_PID listening on port $PORT"

# ---- a second instance on the same port fails cleanly
"$NL_CLI" simulate --listen "127.0.0.1:$PORT" >/dev/null 2>"$WORK/err2"
[ $? -eq 1 ] || fail "a port in use must exit 1"
grep -q "address already in use" "$WORK/err2" || fail "port-in-use message: $(cat "$WORK/err2")"

# ---- client: wrong password, then login, stream, status, SIGTERM while streaming
cat >"$WORK/client.py" <<'EOF'
import hashlib, os, re, signal, socket, struct, sys, time

port, sim_pid, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
KEY = bytes([0x1F, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78, 0xFF])

def xor(off, data):
    return bytes(b ^ KEY[(off + i) % 8] ^ off for i, b in enumerate(data))

def h31(s):
    return hashlib.md5(s.encode()).hexdigest().upper()[:31]

class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
    def send(self, msg_id, cls, corr, body=b"", level=0):
        if cls == 0x6514:
            hdr = struct.pack("<IIIIBBH", 0x0ABCDEF0, msg_id, len(body), corr, level, 0xDC, cls)
        else:
            hdr = struct.pack("<IIIIHHI", 0x0ABCDEF0, msg_id, len(body), corr, 0, cls, 0)
        self.s.sendall(hdr + body)
    def recv(self):
        while True:
            if len(self.buf) >= 20:
                magic, mid, blen, corr, code, cls = struct.unpack("<IIIIHH", self.buf[:20])
                assert magic == 0x0ABCDEF0, hex(magic)
                hl = 24 if cls in (0x6414, 0x0000) else 20
                if len(self.buf) >= hl + blen:
                    poff = struct.unpack("<I", self.buf[20:24])[0] if hl == 24 else 0
                    body = self.buf[hl:hl + blen]
                    self.buf = self.buf[hl + blen:]
                    return mid, code, corr, cls, body[:poff], body[poff:]
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
    def login(self, password):
        self.send(1, 0x6514, 0, level=0x12)
        mid, code, corr, cls, ext, body = self.recv()
        assert (mid, cls, code) == (1, 0x6614, 0xDD01), (mid, hex(cls), hex(code))
        nonce = re.search(rb"<nonce>([^<]+)</nonce>", xor(0, body)).group(1).decode()
        xml = ('<?xml version="1.0" encoding="UTF-8" ?>\n<body>\n<LoginUser version="1.1">\n'
               "<userName>%s</userName>\n<password>%s</password>\n<userVer>1</userVer>\n"
               "</LoginUser>\n<LoginNet version=\"1.1\">\n<type>LAN</type>\n"
               "<udpPort>0</udpPort>\n</LoginNet>\n</body>\n") % (h31("admin" + nonce),
                                                                h31(password + nonce))
        self.send(1, 0x6414, 0, xor(0, xml.encode()))
        mid, code, corr, cls, ext, body = self.recv()
        return code, xor(0, body)

c = Conn()
code, body = c.login("wrong")
assert code == 400 and body == b"", (code, body)
code, body = c.login("s3cret")
assert code == 200 and b"<DeviceInfo" in body, code

corr = 0x01000100  # channel 0, stream byte 1 (sub), counter 256
preview = ('<?xml version="1.0" encoding="UTF-8" ?>\n<body>\n<Preview version="1.1">\n'
           "<channelId>0</channelId>\n<handle>256</handle>\n<streamType>subStream</streamType>\n"
           "</Preview>\n</body>\n").encode()
c.send(3, 0x6414, corr, xor(corr & 0xFF, preview))
mid, code, rcorr, cls, ext, body = c.recv()
assert (mid, code, rcorr) == (3, 200, corr), (mid, code, hex(rcorr))
assert b"<binaryData>1</binaryData>" in xor(corr & 0xFF, ext)
assert body[:4] == b"1002" and struct.unpack("<II", body[8:16]) == (256, 144), body[:16]

stream = b""
while stream.count(b"dcH264") < 12:
    mid, code, rcorr, cls, ext, body = c.recv()
    if mid == 3 and rcorr == corr:
        stream += body
assert stream[:4] == b"00dc", stream[:8]          # a fresh stream starts with an I-frame
assert b"01wb" in stream                           # ADPCM audio
print("client: streamed %d bytes, %d video packets" % (len(stream), stream.count(b"dcH264")))

os.kill(sim_pid, signal.SIGUSR1)
deadline = time.time() + 5
while time.time() < deadline:
    text = open(out_path).read()
    if "streams 1 (main 0 sub 1) viewers 1" in text:
        break
    c.recv()
    time.sleep(0.05)
else:
    sys.exit("no status line with one stream and one viewer: %r" % open(out_path).read())
print("client: status line seen")

# Stop the camera while streaming: it must close within a second.
t0 = time.time()
os.kill(sim_pid, signal.SIGTERM)
try:
    while True:
        c.recv()
except (EOFError, ConnectionResetError):
    pass
took = time.time() - t0
print("client: connection closed %.3f s after SIGTERM" % took)
assert took < 1.0, took
EOF
python3 "$WORK/client.py" "$PORT" "$SIM_PID" "$WORK/out" || fail "client failed"

start=$(date +%s%N)
wait "$SIM_PID"
rc=$?
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
SIM_PID=""
echo "simulate exited with $rc, $ms ms after the client saw the close"
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGTERM"
[ "$ms" -lt 1000 ] || fail "exit took $ms ms"
grep -q "SIGTERM, stopping" "$WORK/err" || fail "no stop message on stderr"
grep -q "logged in" "$WORK/err" || fail "no login logged"
grep -q "s3cret" "$WORK/err" "$WORK/out" && fail "the password appears in the output"

# ---- SIGTERM exit time measured from the signal, idle camera
"$NL_CLI" simulate --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" &
SIM_PID=$!
wait_listening
start=$(date +%s%N)
kill -TERM "$SIM_PID"
wait "$SIM_PID"
rc=$?
end=$(date +%s%N)
SIM_PID=""
ms=$(( (end - start) / 1000000 ))
echo "idle simulate: SIGTERM to exit $ms ms (code $rc)"
[ "$rc" -eq 0 ] || fail "exit code $rc"
[ "$ms" -lt 1000 ] || fail "SIGTERM exit took $ms ms"
echo "PASS"
