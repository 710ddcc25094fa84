#!/bin/sh
# bench-soak: leak hunting under sustained load. Serves the C hello guest (bench/c/hello.c) and
# the JS hello guest (bench/js/hello.js, a fresh instance per request), each in its own server
# process, and sends C_REQS (default 100,000) and JS_REQS (default 20,000) keep-alive requests over
# CONNS connections with bench/soak_load.c (wrk runs for a time, not a count). After a warm-up of
# WARMUP requests (so the worker pool, slot pool and allocator arenas exist), at half the load and
# at its end it reads the server's RSS, open fds, /proc/PID/maps lines and threads, and prints
# them as a Markdown table. Growth from the half-way point to the end is what a leak looks like; growth
# during the first half may be warm-up. With SOAK_DOC=FILE the table also replaces the text
# between the soak markers in FILE (docs/performance.md).
# Usage: bench/soak.sh FASTLIKE SOAK_LOAD C.wasm JS.wasm
set -eu
fastlike=$1
loader=$2
cwasm=$3
jswasm=$4
C_REQS=${C_REQS:-100000}
JS_REQS=${JS_REQS:-20000}
WARMUP=${WARMUP:-2000}
CONNS=${CONNS:-16}

BENCH_NAME=bench-soak
. "$(dirname "$0")/lib.sh"
bench_workdir

# load PORT N: N requests over CONNS keep-alive connections; prints "answered non2xx errors"
load() {
    "$loader" "$1" "$2" "$CONNS"
}

# sample: the server's state once its connections are gone (waits up to 10 s for the fds to
# settle, since the client's connections close asynchronously): "rss_kib fds maps threads"
sample() {
    prev=-1
    i=0
    while [ $i -lt 100 ]; do
        fds=$(ls /proc/"$pid"/fd | wc -l)
        [ "$fds" = "$prev" ] && break
        prev=$fds
        i=$((i + 1))
        sleep 0.1
    done
    rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
    maps=$(wc -l < /proc/"$pid"/maps)
    threads=$(awk '/^Threads/ {print $2}' /proc/"$pid"/status)
    echo "$rss $fds $maps $threads"
}

table="$work/table.md"
{
    echo "| guest | after | requests | RSS MiB | open fds | maps | threads |"
    echo "|---|---|---:|---:|---:|---:|---:|"
} >"$table"

row() { # guest phase requests rss_kib fds maps threads
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" \
        "$(echo "$4" | awk '{printf "%.1f", $1/1024}')" "$5" "$6" "$7" >>"$table"
}

soak() { # NAME WASM REQS
    serve "$fastlike" "$2" "$work/$1.log"
    set -- "$1" "$2" "$3" $(load "$port" "$WARMUP")
    row "$1" "warm-up" "$4" $(sample)
    half=$(( $3 / 2 ))
    set -- "$1" "$2" "$3" $(load "$port" "$half")
    total=$4
    bad="$5 non-2xx, $6 connection errors"
    row "$1" "half the load" "$total" $(sample)
    set -- "$1" "$2" "$3" $(load "$port" "$(( $3 - half ))")
    total=$((total + $4))
    bad="$bad; $5 non-2xx, $6 connection errors"
    row "$1" "the whole load" "$total" $(sample)
    echo "bench-soak: $1: $bad" >&2
    unserve
}

echo "bench-soak: $C_REQS requests to the C guest, $JS_REQS to the JS guest; $CONNS keep-alive connections; $(nproc) CPUs" >&2
soak "C hello" "$cwasm" "$C_REQS"
soak "JS hello" "$jswasm" "$JS_REQS"
cat "$table"

if [ -n "${SOAK_DOC:-}" ]; then
    begin='<!-- bench-soak: begin -->'
    end='<!-- bench-soak: end -->'
    grep -q "$begin" "$SOAK_DOC" || { echo "bench-soak: no '$begin' marker in $SOAK_DOC" >&2; exit 1; }
    { echo "Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs, $CONNS keep-alive connections:"; echo; cat "$table"; } >"$work/section"
    awk -v b="$begin" -v e="$end" -v f="$work/section" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$SOAK_DOC" >"$work/doc" && cat "$work/doc" >"$SOAK_DOC"
    echo "bench-soak: table written to $SOAK_DOC" >&2
fi
