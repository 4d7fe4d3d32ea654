#!/bin/bash
# timeout: 60
# `neolink-cli import-config` on the sample neolink TOML files: the exact
# YAML and warnings, mode 0600 with -o, exit codes, that the result passes
# `neolink-cli check`, and that no password is ever printed on stderr.
set -u
CLI=${NL_CLI:?NL_CLI is not set}
DATA=${NL_DATA:?NL_DATA is not set}/neolink
TMP=$(mktemp -d /tmp/nl_import_config.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
passes=0

ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# Work on copies, from inside their directory: messages and the YAML header
# then name the files exactly as the expected outputs do.
cp "$DATA"/*.toml "$DATA"/*.expected.* "$TMP"/
cd "$TMP" || exit 1

# run NAME ARGS...: the CLI's stdout, stderr and exit code, kept by NAME.
run() {
    local name=$1
    shift
    "$CLI" "$@" >"$name.out" 2>"$name.err"
    echo $? >"$name.rc"
}

expect_rc() { # NAME RC
    local got
    got=$(cat "$1.rc")
    if [ "$got" = "$2" ]; then ok; else bad "$1: exit $got, expected $2"; cat "$1.err" >&2; fi
}

expect_file() { # NAME out|err EXPECTED-FILE
    if diff -u "$3" "$1.$2" >&2; then ok; else bad "$1: std$2 differs from $3"; fi
}

expect_line() { # NAME out|err LINE
    if grep -qxF -- "$3" "$1.$2"; then ok; else
        bad "$1: no line '$3' in std$2"
        cat "$1.$2" >&2
    fi
}

expect_empty() { # NAME out|err
    if [ ! -s "$1.$2" ]; then ok; else bad "$1: std$2 not empty"; cat "$1.$2" >&2; fi
}

# ---- the original neolink's sample layout, to stdout
run basic import-config basic.toml
expect_rc basic 0
expect_file basic out basic.expected.yaml
expect_line basic err "basic.toml:24: warning: cameras[1].name: 'storage shed' cannot be an RTSP path here (letters, digits, '-' and '_', at most 64); imported as 'storage_shed' (RTSP path /storage_shed)"
if [ "$(wc -l <basic.err)" = 1 ]; then ok; else bad "basic: expected one warning"; fi

# ---- the same with -o: mode 0600 (even over an existing world-readable
# file), the same text, a pointer to `check`
echo "old" >basic.yaml
chmod 644 basic.yaml
run basic_o import-config basic.toml -o basic.yaml
expect_rc basic_o 0
expect_empty basic_o out
expect_line basic_o err "wrote basic.yaml (1 warning); check it with: neolink-cli check basic.yaml"
if [ "$(stat -c %a basic.yaml)" = 600 ]; then ok; else bad "basic.yaml mode $(stat -c %a basic.yaml)"; fi
if cmp -s basic.yaml basic.expected.yaml; then ok; else bad "basic.yaml differs"; fi
if ls basic.yaml.* >/dev/null 2>&1; then bad "temporary file left behind"; else ok; fi

# ---- a symlinked target keeps its link; a pipe is written to in place
echo "old" >real.yaml
ln -s real.yaml link.yaml
run link import-config basic.toml -o link.yaml
expect_rc link 0
if [ -L link.yaml ] && cmp -s real.yaml basic.expected.yaml; then ok; else bad "symlink target"; fi
if [ "$(stat -c %a real.yaml)" = 600 ]; then ok; else bad "real.yaml mode $(stat -c %a real.yaml)"; fi
mkfifo pipe
cat pipe >piped.yaml &
reader=$!
run pipe import-config basic.toml -o pipe
wait "$reader"
expect_rc pipe 0
if [ -p pipe ] && cmp -s piped.yaml basic.expected.yaml; then ok; else bad "writing to a pipe"; fi

# ---- the result is a valid configuration with the same cameras and users
"$CLI" check basic.yaml >check_basic.out 2>check_basic.err
echo $? >check_basic.rc
expect_rc check_basic 0
expect_empty check_basic err # 0600: no warning about readable passwords
expect_line check_basic out "basic.yaml: valid: 2 cameras (2 enabled), 2 users"
expect_line check_basic out "camera driveway: 192.168.1.187:9000, channel 0, user admin, password: set (inline)"
expect_line check_basic out "camera storage_shed: 192.168.1.245:9000, channel 2, user admin, password: set (inline)"
expect_line check_basic out "  viewers: me"
expect_line check_basic out "  rtsp://127.0.0.1:8554/driveway/mainStream  (main, alias)"
expect_line check_basic out "  rtsp://127.0.0.1:8554/storage_shed/subStream  (sub, alias)"

# ---- the fork's features: MQTT, uid cameras, pause, aliases; stdin input
# and the underscore spelling of the verb
run fork import_config --output=fork.yaml fork.toml
expect_rc fork 0
head -n -1 fork.err >fork.warnings
expect_file fork warnings fork.expected.warnings
expect_line fork err "wrote fork.yaml (15 warnings); check it with: neolink-cli check fork.yaml"
if cmp -s fork.yaml fork.expected.yaml; then ok; else bad "fork.yaml differs"; diff fork.expected.yaml fork.yaml >&2; fi
run fork_stdin import-config - <fork.toml
expect_rc fork_stdin 0
sed 's/^fork\.toml:/<stdin>:/' fork.expected.warnings >fork_stdin.expected
expect_file fork_stdin err fork_stdin.expected
"$CLI" check fork.yaml >check_fork.out 2>check_fork.err
echo $? >check_fork.rc
expect_rc check_fork 0
expect_line check_fork out "rtsp: listening on 127.0.0.1:9554, at most 100 clients"
expect_line check_fork out "camera front-door: cam1.lan:9000, channel 1, user admin, password: set (inline)"
expect_line check_fork out "  stream sub, encryption up to bc, audio aac, on demand"
expect_line check_fork out "  viewers: anyone (no login)"
expect_line check_fork out "camera Garage_Cam__2: [fe80::1]:9000, channel 0, user admin, password: set (inline)"
expect_line check_fork out "  disabled: not served"

# ---- passwords are carried into the YAML, never into messages
for s in mepass-secret someone-secret "drive#way: secret" shed-secret; do
    if grep -qF -- "$s" basic.yaml; then ok; else bad "password '$s' not carried over"; fi
done
for s in mepass-secret someone-secret "drive#way" shed-secret mqtt-secret 'viewer\secret' \
    front-secret garden-secret garage-secret; do
    if cat ./*.err | grep -qF -- "$s"; then bad "password '$s' printed on stderr"; else ok; fi
done

# ---- a broken file: the line-numbered error, no output, no file
run broken import-config broken.toml -o broken.yaml
expect_rc broken 1
expect_file broken err <(echo "broken.toml:12: expected '=' after key")
if [ -e broken.yaml ]; then bad "broken.yaml written"; else ok; fi
run broken_stdout import-config broken.toml
expect_rc broken_stdout 1
expect_empty broken_stdout out

# ---- usage
run missing import-config nonexistent.toml
expect_rc missing 1
expect_line missing err "neolink-cli import-config: nonexistent.toml: No such file or directory"
run noargs import-config
expect_rc noargs 2
run unknown import-config --frobnicate basic.toml
expect_rc unknown 2
run two import-config basic.toml fork.toml
expect_rc two 2
run self import-config basic.toml -o ./basic.toml
expect_rc self 2
expect_line self err "neolink-cli import-config: refusing to overwrite the input file basic.toml"
if cmp -s basic.toml "$DATA/basic.toml"; then ok; else bad "input file changed"; fi
run help import-config --help
expect_rc help 0
if grep -q "usage: neolink-cli import-config NEOLINK.TOML" help.out; then ok; else bad "help text"; fi
run verbs --help
if grep -q "^  import-config " verbs.out; then ok; else bad "import-config not in the verb list"; cat verbs.out >&2; fi

echo "import_config: $passes checks passed, $fails failed"
[ "$fails" = 0 ]
