#!/bin/sh
# `make run`: serve the cameras of a config file, or a simulated demo camera
# when none is given. Until `serve` exists this prints the CLI's help.
set -eu
cd "$(dirname "$0")/.."
CLI=build/release/neolink-cli
if "$CLI" --help | grep -q '^  serve '; then
    if [ $# -gt 0 ]; then
        exec "$CLI" serve "$@"
    fi
    exec "$CLI" serve --demo
fi
exec "$CLI" --help
