#!/bin/sh
# `make run`: serves a Compute program with bin/fastlike on http://localhost:5000 (Ctrl-C stops).
# Without WASM it builds and serves the bundled example, examples/request-details (a page listing
# the request's details). `make run WASM=path.wasm BACKEND='[name=]addr ...' ARGS='-v 1 ...'`;
# BIND=host:port changes the address. make passes these command-line variables in the environment.
set -e
cd "$(dirname "$0")/.."
wasm=${WASM:-}
if [ -z "$wasm" ]; then
    wasm=build/guests/request-details.wasm
    ${MAKE:-make} --no-print-directory "$wasm"
fi
bind=${BIND:-localhost:5000}
set -- -wasm "$wasm" -bind "$bind"
for b in ${BACKEND:-}; do
    set -- "$@" -backend "$b"
done
echo "fastlike: serving $wasm on http://$bind (Ctrl-C stops)"
# ARGS is split into words on purpose: it carries extra flags.
# shellcheck disable=SC2086
exec bin/fastlike "$@" ${ARGS:-}
