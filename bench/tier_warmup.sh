#!/bin/sh
# bench-tier-warmup: how long until the JS guests' hot functions run native, from an empty code
# cache (cold: the tier compiles them while requests come in) and from the disk cache (a second
# server on the same cache directory). For each guest, bench/tier_warmup.py sends requests on one
# connection until the tier is quiet and prints when its functions were published and how the
# per-request time fell. Then the same guest with `-tier interp` for reference.
# Usage: bench/tier_warmup.sh FASTLIKE HELLO.wasm SSR.wasm   (env: MAX_S, QUIET, GUESTS)
set -eu
fastlike=$1
hello=$2
ssr=$3
MAX_S=${MAX_S:-300}
QUIET=${QUIET:-8}
GUESTS=${GUESTS:-hello ssr}
here=$(dirname "$0")
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

BENCH_NAME=bench-tier-warmup
. "$(dirname "$0")/lib.sh"

# serve CACHE_DIR WASM LOG [flags...]: starts the server (tier log on), waits for its port
serve() {
    cache=$1
    wasm=$2
    log=$3
    shift 3
    port=$(free_port)
    FWE_CODE_CACHE="$cache" FWE_TIER_LOG=1 "$fastlike" -wasm "$wasm" -bind "127.0.0.1:$port" -v 0 "$@" >"$log" 2>&1 &
    pid=$!
    i=0
    while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "bench-tier-warmup: the server did not start" >&2; cat "$log" >&2; exit 1; }
        sleep 0.1
    done
}

stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

printf 'bench-tier-warmup: %s CPUs, load average %s (times: s since the first hot function)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for g in $GUESTS; do
    if [ "$g" = hello ]; then wasm=$hello; path=/; else wasm=$ssr; path="/bench?n=100"; fi
    mkdir -p "$work/cache-$g"
    for run in cold cached; do
        serve "$work/cache-$g" "$wasm" "$work/$g-$run.log"
        printf '%-6s %-7s ' "$g" "$run"
        python3 "$here/tier_warmup.py" "$port" "$path" "$work/$g-$run.log" "$MAX_S" "$QUIET"
        stop
    done
    serve "$work/cache-$g" "$wasm" "$work/$g-interp.log" -tier interp
    printf '%-6s %-7s ' "$g" interp
    python3 "$here/tier_warmup.py" "$port" "$path" "$work/$g-interp.log" "$((QUIET + 2))" "$QUIET"
    stop
done
