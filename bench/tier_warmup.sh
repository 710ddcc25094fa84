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

BENCH_NAME=bench-tier-warmup
. "$(dirname "$0")/lib.sh"
bench_workdir
FWE_TIER_LOG=1 # the servers log what the tier does (tier_warmup.py reads it)
export FWE_TIER_LOG

printf 'bench-tier-warmup: %s CPUs, load average %s (times: s since the first hot function)\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for g in $GUESTS; do
    if [ "$g" = hello ]; then wasm=$hello; path=/; else wasm=$ssr; path="/bench?n=100"; fi
    mkdir -p "$work/cache-$g"
    FWE_CODE_CACHE="$work/cache-$g" # cold, then cached: two servers on the same folder
    export FWE_CODE_CACHE
    for run in cold cached; do
        serve "$fastlike" "$wasm" "$work/$g-$run.log"
        printf '%-6s %-7s ' "$g" "$run"
        python3 "$here/tier_warmup.py" "$port" "$path" "$work/$g-$run.log" "$MAX_S" "$QUIET"
        unserve
    done
    serve "$fastlike" "$wasm" "$work/$g-interp.log" -tier interp
    printf '%-6s %-7s ' "$g" interp
    python3 "$here/tier_warmup.py" "$port" "$path" "$work/$g-interp.log" "$((QUIET + 2))" "$QUIET"
    unserve
done
