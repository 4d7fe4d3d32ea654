#!/bin/bash
# timeout: 300
# Installs the build into a temporary prefix, then builds a tiny consumer out
# of tree with nothing but `pkg-config neolink`: once against the shared
# library (run with LD_LIBRARY_PATH), once statically (`--static`). Proves the
# installed headers, .pc file, soname and static archive are usable as is.
set -euo pipefail

: "${NL_BUILD:?NL_BUILD must point at the build tree}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nl-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== cmake --install $NL_BUILD --prefix $tmp/prefix"
cmake --install "$NL_BUILD" --prefix "$tmp/prefix" >"$tmp/install.log"

pc=$(find "$tmp/prefix" -name neolink.pc -print -quit)
if [ -z "$pc" ]; then
    echo "FAIL: neolink.pc was not installed" >&2
    exit 1
fi
libdir=$(dirname "$(dirname "$pc")") # the .pc lives in <libdir>/pkgconfig
# The .pc carries the configure-time prefix; a relocated copy points at the
# temp prefix the way a packager's staged tree would be consumed (a global
# --define-variable would also rewrite the system .pc files it pulls in).
mkdir -p "$tmp/pc"
sed "s|^prefix=.*|prefix=$tmp/prefix|" "$pc" >"$tmp/pc/neolink.pc"
export PKG_CONFIG_PATH="$tmp/pc"
echo "== pkg-config: $(pkg-config --modversion neolink)"
echo "   cflags: $(pkg-config --cflags neolink)"
echo "   libs:   $(pkg-config --libs neolink)"

mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/main.c" <<'CEOF'
#include <stdio.h>
#include <string.h>

#include <neolink/arena.h>
#include <neolink/error.h>
#include <neolink/loop.h>
#include <neolink/version.h>

int main(void)
{
    if (nl_version() != NL_VERSION_NUM) {
        printf("header/library version mismatch\n");
        return 1;
    }
    printf("version %s\n", nl_version_string());
    printf("strerror(NL_ETIMEDOUT) = %s\n", nl_strerror(NL_ETIMEDOUT));
    if (strcmp(nl_err_name(NL_EAUTH), "NL_EAUTH") != 0)
        return 1;
    nl_loop *loop = NULL;
    int rc = nl_loop_create(&loop);
    if (rc < 0) {
        printf("nl_loop_create: %s\n", nl_strerror(rc));
        return 1;
    }
    rc = nl_loop_run_once(loop, 0);
    nl_loop_destroy(&loop);
    printf("loop ok (run_once=%d, destroyed=%s)\n", rc, loop ? "no" : "yes");
    nl_arena *a = NULL;
    if (nl_arena_create(&a, NULL, 1 << 16, "consumer") < 0)
        return 1;
    char *s = nl_arena_strdup(a, "arena ok");
    nl_arena_stats st;
    nl_arena_get_stats(a, &st);
    printf("%s (used %zu of %zu bytes)\n", s ? s : "arena FAILED", st.used, st.cap);
    nl_arena_destroy(&a);
    return s && !loop && !a ? 0 : 1;
}
CEOF

cc=${CC:-cc}
echo "== shared build"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$tmp/consumer/app_shared" "$tmp/consumer/main.c" \
    $(pkg-config --cflags --libs neolink)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/app_shared"
# It must really have used the installed shared library.
LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer/app_shared" | grep -q "$tmp/prefix.*libneolink.so" || {
    echo "FAIL: consumer is not linked against the installed libneolink.so" >&2
    exit 1
}

echo "== static build"
static_lib=$(find "$tmp/prefix" -name libneolink.a -print -quit)
[ -n "$static_lib" ] || { echo "FAIL: libneolink.a not installed" >&2; exit 1; }
# Ask the linker for the archive explicitly (-l:libneolink.a), so the shared
# library next to it cannot be picked up by accident. `--static` expands
# libavformat's own Libs.private (libgme, libopenmpt, ...), which Debian only
# ships with their -dev packages; those are needed solely to link FFmpeg
# itself statically, and the linker uses the shared libav* here, so flags
# naming libraries that are not installed are dropped (and listed).
static_flags=()
dropped=()
for f in $(pkg-config --static --libs neolink); do
    case "$f" in
    -lneolink) static_flags+=("-l:libneolink.a") ;;
    -l*)
        n=${f#-l}
        if [ "$($cc -print-file-name="lib$n.so")" != "lib$n.so" ] ||
            [ "$($cc -print-file-name="lib$n.a")" != "lib$n.a" ]; then
            static_flags+=("$f")
        else
            dropped+=("$f")
        fi
        ;;
    *) static_flags+=("$f") ;;
    esac
done
echo "   static link: ${static_flags[*]:0:4} ... (${#static_flags[@]} flags)"
if [ ${#dropped[@]} -gt 0 ]; then
    nskip=$(printf '%s\n' "${dropped[@]}" | sort -u | wc -l)
    echo "   skipped $nskip libraries (FFmpeg's static-only deps, not installed)"
fi
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror -o "$tmp/consumer/app_static" "$tmp/consumer/main.c" \
    $(pkg-config --cflags neolink) "${static_flags[@]}"
env -u LD_LIBRARY_PATH "$tmp/consumer/app_static"
if ldd "$tmp/consumer/app_static" | grep -q libneolink.so; then
    echo "FAIL: static consumer still needs libneolink.so" >&2
    exit 1
fi
echo "install + pkg-config consumer: OK"
