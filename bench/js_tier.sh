#!/bin/sh
# bench-js: what the native tier gives the JS SDK guests, measured against the interpreter alone
# in the same run. For each guest (bench/js/hello.js and the React server-side-rendering example,
# examples/react-ssr) two servers run: the tier on (default `-tier auto`, FWE_TIER_LOG=1) and the
# interpreter only (`-tier interp`). The tier's server is warmed up first: requests on one
# connection until its compiler has drained its queue and published nothing new for QUIET
# seconds (at most WARMUP_MAX seconds). Then, per server: one connection for DURATION seconds
# (per-request latency) and CONNS connections (req/s). Prints both and the ratios.
# Usage: bench/js_tier.sh FASTLIKE HELLO.wasm SSR.wasm   (env: DURATION, CONNS, WARMUP_MAX, QUIET)
set -eu
fastlike=$1
hello=$2
ssr=$3
DURATION=${DURATION:-10}
CONNS=${CONNS:-4}
WARMUP_MAX=${WARMUP_MAX:-300}
QUIET=${QUIET:-6}
command -v wrk >/dev/null || { echo "bench-js: wrk not found (scripts/deps.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

BENCH_NAME=bench-js
. "$(dirname "$0")/lib.sh"

# ms VALUE: wrk's 12.34us / 1.23ms / 1.23s as milliseconds
ms() {
    printf '%s\n' "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next}
        /ms$/ {sub("ms",""); printf "%.3f", $1; next} /s$/ {sub("s",""); printf "%.3f", $1*1000; next}
        {print "?"}'
}

# load PORT PATH CONNS SECONDS: prints "rps p50_ms"
load() {
    out=$(wrk -t1 -c"$3" -d"$4s" --timeout 60s --latency "http://127.0.0.1:$1$2" 2>&1)
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    errs=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
    [ -n "$errs" ] && echo "  port $1: $errs" >&2
    echo "$rps $(ms "$p50")"
}

# warm PORT PATH LOG: requests until the tier's log is quiet (QUIET s, queue drained)
warm() {
    start=$(date +%s)
    last=-1
    quiet=0
    while :; do
        wrk -t1 -c1 -d2s --timeout 60s "http://127.0.0.1:$1$2" >/dev/null 2>&1 || true
        n=$(grep -c 'tier: .* batch of' "$3" || true)
        drained=$(grep 'tier: ' "$3" | grep -v 'samples in the last second' | tail -1 | grep -c 'queue drained' || true)
        if [ "$n" = "$last" ] && [ "$drained" = 1 ]; then
            quiet=$((quiet + 2))
        else
            quiet=0
        fi
        last=$n
        now=$(date +%s)
        [ $quiet -ge "$QUIET" ] && break
        [ $((now - start)) -ge "$WARMUP_MAX" ] && { echo "  (warm-up stopped after ${WARMUP_MAX} s: the tier was still compiling)"; break; }
    done
    echo "  warm-up $(( $(date +%s) - start )) s; tier: $(grep 'queue drained' "$3" | tail -1 | sed 's/.*drained, //'), $(grep 'batch of' "$3" | awk '{for (i=1;i<=NF;i++) if ($i=="too") s+=$(i-1)} END {print s+0}') too large, $(grep 'batch of' "$3" | awk '{for (i=1;i<=NF;i++) if ($i=="refused,") s+=$(i-1)} END {print s+0}') refused"
}

ncpu=$(nproc)
printf 'bench-js: JS guests, tier (auto, warmed up) vs interpreter only, same run, %s CPUs, load average %s\n' "$ncpu" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-8s %12s %12s %14s\n' guest server "p50 ms (1c)" "req/s (1c)" "req/s (${CONNS}c)"
for g in hello ssr; do
    if [ $g = hello ]; then wasm=$hello; path=/; else wasm=$ssr; path="/bench?n=100"; fi
    tport=$(free_port)
    FWE_TIER_LOG=1 "$fastlike" -wasm "$wasm" -bind "127.0.0.1:$tport" -v 0 >"$work/$g-tier.log" 2>&1 &
    pids="$pids $!"
    iport=$(free_port)
    "$fastlike" -wasm "$wasm" -bind "127.0.0.1:$iport" -tier interp -v 0 >"$work/$g-interp.log" 2>&1 &
    pids="$pids $!"
    wait_port "$tport"
    wait_port "$iport"
    warm "$tport" "$path" "$work/$g-tier.log"
    wrk -t1 -c1 -d2s --timeout 60s "http://127.0.0.1:$iport$path" >/dev/null 2>&1 || true
    set -- $(load "$tport" "$path" 1 "$DURATION"); t_p50=$2; t_rps1=$1
    set -- $(load "$iport" "$path" 1 "$DURATION"); i_p50=$2; i_rps1=$1
    set -- $(load "$tport" "$path" "$CONNS" "$DURATION"); t_rps=$1
    set -- $(load "$iport" "$path" "$CONNS" "$DURATION"); i_rps=$1
    printf '%-10s %-8s %12s %12s %14s\n' "$g" tier "$t_p50" "$t_rps1" "$t_rps"
    printf '%-10s %-8s %12s %12s %14s\n' "$g" interp "$i_p50" "$i_rps1" "$i_rps"
    printf '%-10s %-8s %12s %12s %14s\n' "$g" "ratio" \
        "$(echo "$i_p50 $t_p50" | awk '{printf "%.2fx", $1/$2}')" \
        "$(echo "$t_rps1 $i_rps1" | awk '{printf "%.2fx", $1/$2}')" \
        "$(echo "$t_rps $i_rps" | awk '{printf "%.2fx", $1/$2}')"
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    pids=""
done
