#!/bin/bash
# timeout: 60
# `neolink-cli check` on good and broken configuration files: exit codes,
# the URLs and settings it prints, the exact error lines, and that no
# password ever appears in its output.
set -u
CLI=${NL_CLI:?NL_CLI is not set}
DATA=${NL_DATA:?NL_DATA is not set}/config
TMP=$(mktemp -d /tmp/nl_config_check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
passes=0

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# run NAME ARGS...: runs the CLI, keeping stdout, stderr and the exit code.
run() {
    local name=$1
    shift
    "$CLI" check "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    echo $? >"$TMP/$name.rc"
}

expect_rc() { # NAME RC
    local got
    got=$(cat "$TMP/$1.rc")
    if [ "$got" = "$2" ]; then ok; else bad "$1: exit $got, expected $2"; cat "$TMP/$1.err" >&2; fi
}

expect_line() { # NAME out|err LINE: an exact line must be present
    if grep -qxF -- "$3" "$TMP/$1.$2"; then ok; else
        bad "$1: no line '$3' in std$2"
        cat "$TMP/$1.$2" >&2
    fi
}

expect_file() { # NAME out|err EXPECTED-FILE: the whole stream
    if diff -u "$3" "$TMP/$1.$2" >&2; then ok; else bad "$1: std$2 differs"; fi
}

expect_count() { # NAME PATTERN COUNT: lines of stdout matching a fixed string
    local got
    got=$(grep -cF -- "$2" "$TMP/$1.out")
    if [ "$got" = "$3" ]; then ok; else bad "$1: $got lines with '$2', expected $3"; fi
}

# Every secret used below; none may ever be printed.
SECRETS="viewer-file-secret yard-file-secret admin2-env-secret door-env-secret hunter2-inline
         viewer-inline-pw env-viewer-pass"
no_secrets() {
    for s in $SECRETS; do
        if cat "$TMP"/*.out "$TMP"/*.err | grep -qF -- "$s"; then bad "secret '$s' printed"; else ok; fi
    done
}

# Copies of the data files with known permissions (a checkout's umask varies).
cp -r "$DATA"/. "$TMP/data"
chmod 600 "$TMP"/data/*.yaml

# ---- 1. every key: settings and URLs
export NL_TEST_ADMIN2_PASS=admin2-env-secret NL_TEST_DOOR_PASS=door-env-secret
run full "$TMP/data/full.yaml"
expect_rc full 0
expect_file full err /dev/null
expect_line full out "$TMP/data/full.yaml: valid: 2 cameras (1 enabled), 2 users"
expect_line full out "rtsp: listening on 127.0.0.2:10554, at most 42 clients"
expect_line full out "http: metrics and health on 127.0.0.1:19090"
expect_line full out "user viewer: password: set (file secrets/viewer.pass)"
expect_line full out "user admin2: password: set (env NL_TEST_ADMIN2_PASS)"
expect_line full out "camera yard: 192.168.1.10:9001, channel 3, user operator, password: set (file secrets/yard.pass)"
expect_line full out "  stream both, encryption up to bc, audio pcmu, always streaming, at most 20 viewers"
expect_line full out "  transcode to h265 640x360 @15 fps 800000 bit/s (software, replaces the originals)"
expect_line full out "  viewers: viewer, admin2"
expect_line full out "  rtsp://127.0.0.2:10554/yard  (main, transcoded)"
expect_line full out "  rtsp://127.0.0.2:10554/yard/subStream  (sub, transcoded, alias)"
expect_line full out "  rtsp://127.0.0.2:10554/yard/main/h265  (main, transcoded)"
expect_line full out "  rtsp://127.0.0.2:10554/yard/h265  (main, transcoded)"
expect_line full out "camera door-1: [fe80::1]:9000, channel 0, user admin, password: set (env NL_TEST_DOOR_PASS)"
expect_line full out "  disabled: not served"
# both streams x 6 spellings + /yard + 2 per-stream codec paths + /yard/h265
expect_count full "rtsp://" 16
expect_count full "/door-1" 0

# ---- 2. the documented example: 0.0.0.0 is shown as 127.0.0.1
export VIEWER_PASS=env-viewer-pass
run example "$TMP/data/example.yaml"
expect_rc example 0
expect_file example err /dev/null
expect_line example out "rtsp: listening on 0.0.0.0:8554, at most 100 clients"
expect_line example out "camera garage: garage.lan:9000, channel 0, user admin, password: empty (inline)"
expect_line example out "  viewers: anyone (no login)"
expect_line example out "  rtsp://127.0.0.1:8554/yard  (main)"
expect_line example out "  rtsp://127.0.0.1:8554/yard/externstream  (extern, alias)"
expect_line example out "  rtsp://127.0.0.1:8554/garage/mainStream  (main, alias)"
expect_line example out "  rtsp://127.0.0.1:8554/garage/main/h264  (main, transcoded)"
expect_line example out "  transcode to h264 640 wide 1000000 bit/s (auto)"
expect_count example "rtsp://127.0.0.1:8554/yard" 19
expect_count example "rtsp://127.0.0.1:8554/garage" 9

# ---- 3. inline passwords in a world-readable file: warnings, still valid
cat >"$TMP/inline.yaml" <<'EOF'
bind: "::"
users:
  - name: viewer
    pass: viewer-inline-pw
cameras:
  - name: cam
    address: "[::1]:9001"
    password: hunter2-inline
EOF
chmod 644 "$TMP/inline.yaml"
run inline "$TMP/inline.yaml"
expect_rc inline 0
cat >"$TMP/inline.expected" <<EOF
$TMP/inline.yaml:4: warning: users[0].pass: password written in a file that other users can read (chmod o-r the file, or use pass_file or pass_env)
$TMP/inline.yaml:8: warning: cameras[0].password: password written in a file that other users can read (chmod o-r the file, or use password_file or password_env)
EOF
expect_file inline err "$TMP/inline.expected"
expect_line inline out "camera cam: [::1]:9001, channel 0, user admin, password: set (inline)"
expect_line inline out "  viewers: any user (viewer)"
expect_line inline out "  rtsp://[::1]:8554/cam  (main)"
chmod 600 "$TMP/inline.yaml"
run inline600 "$TMP/inline.yaml"
expect_rc inline600 0
expect_file inline600 err /dev/null

# ---- 4. broken files: exit 1, every problem on stderr, nothing on stdout
cat >"$TMP/structure.yaml" <<'EOF'
bind_prot: 8554
users:
  - name: viewer
    pass: viewer-inline-pw
cameras:
  - name: yard
    adress: 192.168.1.10
    channel_id: 0x10
    stream: mian
  - name: door
    address: 10.0.0.2
    enabled: maybe
    password: hunter2-inline
    password: hunter2-inline
EOF
run structure "$TMP/structure.yaml"
expect_rc structure 1
expect_file structure out /dev/null
cat >"$TMP/structure.expected" <<EOF
$TMP/structure.yaml:1: bind_prot: unknown key (did you mean 'bind_port'?)
$TMP/structure.yaml:7: cameras[0].adress: unknown key (did you mean 'address'?)
$TMP/structure.yaml:8: cameras[0].channel_id: expected a whole number, got '0x10'
$TMP/structure.yaml:9: cameras[0].stream: expected one of all|main|sub|extern|both, got 'mian'
$TMP/structure.yaml:6: cameras[0].address: required key is missing
$TMP/structure.yaml:12: cameras[1].enabled: expected true or false, got 'maybe'
$TMP/structure.yaml:14: cameras[1].password: duplicate key (first given on line 13)
EOF
expect_file structure err "$TMP/structure.expected"

cat >"$TMP/values.yaml" <<'EOF'
bind_port: 0
users:
  - name: viewer
    pass_file: /nonexistent/viewer.pass
cameras:
  - name: yard
    address: 192.168.1.10:99999
    permitted_users: [viewer, ghost]
    keepalive: 5 s
  - name: yard
    address: fe80::1
    password: hunter2-inline
    password_env: CAM_PASS
EOF
run values "$TMP/values.yaml"
expect_rc values 1
expect_file values out /dev/null
cat >"$TMP/values.expected" <<EOF
$TMP/values.yaml:1: bind_port: must be between 1 and 65535
$TMP/values.yaml:4: users[0].pass_file: cannot read /nonexistent/viewer.pass: no such file or object
$TMP/values.yaml:7: cameras[0].address: expected HOST[:PORT] (port 1-65535)
$TMP/values.yaml:9: cameras[0].keepalive: expected a duration such as 2s, 500ms, 1.5s, 1m or 1h, got '5 s'
$TMP/values.yaml:8: cameras[0].permitted_users[1]: unknown user 'ghost' (not in users)
$TMP/values.yaml:11: cameras[1].address: expected HOST[:PORT] (write IPv6 addresses as [ADDR]:PORT)
$TMP/values.yaml:13: cameras[1].password_env: give only one of password, password_file and password_env
$TMP/values.yaml:10: cameras[1].name: duplicate camera name 'yard' (first on line 6)
EOF
expect_file values err "$TMP/values.expected"

printf 'cameras:\n  - name: a\n\taddress: b\n' >"$TMP/syntax.yaml"
run syntax "$TMP/syntax.yaml"
expect_rc syntax 1
expect_line syntax err "$TMP/syntax.yaml:3: YAML syntax error: while scanning a plain scalar: found a tab character that violates indentation (use spaces, not tabs)"

: >"$TMP/empty.yaml"
run empty "$TMP/empty.yaml"
expect_rc empty 1
expect_line empty err "$TMP/empty.yaml:1: cameras: no cameras configured (add at least one entry)"
run demo --demo "$TMP/empty.yaml"
expect_rc demo 0
expect_line demo out "$TMP/empty.yaml: valid: 0 cameras (0 enabled), 0 users"

run missing "$TMP/nope.yaml"
expect_rc missing 1
expect_line missing err "$TMP/nope.yaml: cannot read: no such file or object"

# ---- 5. usage
run noarg
expect_rc noarg 2
run twoargs a b
expect_rc twoargs 2
run badopt --frobnicate x
expect_rc badopt 2
run help --help
expect_rc help 0
expect_line help out "usage: neolink-cli check [--demo] CONFIG"

no_secrets

echo "config_check: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
