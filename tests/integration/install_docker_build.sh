#!/bin/bash
# timeout: 600
# Docker cannot run here, so this test runs what the Dockerfile runs, step by
# step, and checks the recipe still matches: the build stage's scripts, the
# installed binary, and that every shared library the binary needs comes from
# a package listed in scripts/runtime-packages.txt (what the slim stage installs).
set -euo pipefail
src=${NL_SRC:?}
df="$src/Dockerfile"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The Dockerfile still calls the scripts this test exercises.
grep -q '^RUN ./scripts/deps.sh$' "$df"
grep -q '^RUN ./scripts/build-release.sh /out /usr/local$' "$df"
grep -q 'runtime-packages.txt' "$df"
grep -q '^ENTRYPOINT \["neolink-cli"\]$' "$df"
grep -q '^CMD \["serve", "/etc/neolink/config.yaml"\]$' "$df"
grep -q '^STOPSIGNAL SIGTERM$' "$df"
grep -q '^USER neolink$' "$df"
grep -q '^HEALTHCHECK' "$df"

# 2. The build stage's commands, as written.
"$src/scripts/deps.sh"
NL_RELEASE_BUILD_DIR="$tmp/build" "$src/scripts/build-release.sh" "$tmp/out" /usr/local
bin="$tmp/out/usr/local/bin/neolink-cli"
test -x "$bin"
LD_LIBRARY_PATH="$tmp/out/usr/local/lib" "$bin" --version | grep -q '^neolink-cli '

# 3. Runtime libraries all come from the packages the slim stage installs.
missing=0
while read -r lib; do
    case "$lib" in *libneolink*) continue ;; esac
    real=$(readlink -f "$lib")
    pkg=$(dpkg -S "$real" 2>/dev/null | head -n1 | cut -d: -f1) || pkg=""
    # usrmerge: dpkg may know the library by its unresolved path only
    if [ -z "$pkg" ]; then
        pkg=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1) || pkg=""
    fi
    case "$pkg" in
        libc6|libgcc-s1) continue ;; # in every Debian image
        "")
            echo "install_docker_build: $lib belongs to no Debian package: the slim image cannot install it"
            missing=1
            continue
            ;;
    esac
    # Direct dependencies must be listed; indirect ones come with them via apt.
    if ! grep -qx "$pkg" "$src/scripts/runtime-packages.txt"; then
        if readelf -d "$bin" "$tmp/out/usr/local/lib/libneolink.so" 2>/dev/null \
            | grep NEEDED | grep -qF "[$(basename "$lib")]"; then
            echo "install_docker_build: $lib comes from $pkg, missing in runtime-packages.txt"
            missing=1
        fi
    fi
done < <(LD_LIBRARY_PATH="$tmp/out/usr/local/lib" ldd "$bin" | awk '/=> \//{print $3}')
[ "$missing" -eq 0 ]
echo "install_docker_build: recipe scripts ran, binary runs, runtime packages complete"
