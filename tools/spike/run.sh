#!/bin/sh
# Issue 13's code-generator spike, end to end (`make spike`): collects the C the native tier
# generates (FWE_TIER_KEEP_C=1, each run with its own empty code cache) for the bench-engine
# kernels' hot functions, for all functions of sha256.wasm (-tier native) and for the JS hello
# guest's hot set (served under wrk until no new batch appears), then runs spike-orc (compile
# time per function and per batch), spike-gccjit and speed.sh (code speed, gcc vs clang code).
#   IN=build/spike/in  EVERY=8 (per-function sample of the JS hot set)  SKIP_COLLECT=1  SKIP_SPEED=1
cd "$(dirname "$0")/../.."
IN="${IN:-build/spike/in}"
EVERY="${EVERY:-8}"
KERNELS="fib nbody sieve matmul sha256 qsort strhash base64"
FASTLIKE=bin/fastlike
PORT="${PORT:-18931}"
set -u

collect() { # collect DIR NAME: copies the kept batches of DIR to $IN/NAME<n>.c
    i=0
    for f in "$1"/*.c; do
        [ -f "$f" ] || continue
        i=$((i + 1))
        cp "$f" "$IN/$2$i.c"
    done
}

if [ -z "${SKIP_COLLECT:-}" ]; then
    for k in $KERNELS; do
        [ -f "build/bench/$k.wasm" ] || { echo "spike: build/bench/$k.wasm missing (make bench-engine once)" >&2; exit 1; }
    done
    make -s build/bench/js/hello.wasm || exit 1
    rm -rf "$IN" && mkdir -p "$IN/cache"
    for k in $KERNELS; do
        # a low threshold so that short kernels finish their compile before they exit
        mkdir -p "$IN/cache/$k"
        FWE_TIER_HOT=200 FWE_TIER=auto FWE_CODE_CACHE="$IN/cache/$k" FWE_TIER_KEEP_C=1 \
            "$FASTLIKE" run "build/bench/$k.wasm" >/dev/null
        collect "$IN/cache/$k" "hot-$k"
    done
    mkdir -p "$IN/cache/all"
    FWE_TIER=native FWE_CODE_CACHE="$IN/cache/all" FWE_TIER_KEEP_C=1 "$FASTLIKE" run build/bench/sha256.wasm >/dev/null
    collect "$IN/cache/all" all-sha256
    mkdir -p "$IN/cache/js"
    FWE_CODE_CACHE="$IN/cache/js" FWE_TIER_KEEP_C=1 "$FASTLIKE" -wasm build/bench/js/hello.wasm \
        -bind "127.0.0.1:$PORT" -v 0 >"$IN/js.log" 2>&1 &
    server=$!
    last=-1
    stable=0
    while [ $stable -lt 3 ]; do # three 15 s rounds without a new batch
        wrk -t1 -c2 -d15s "http://127.0.0.1:$PORT/" >/dev/null 2>&1
        n=$(ls "$IN/cache/js"/*.so 2>/dev/null | wc -l)
        c=$(ls "$IN/cache/js"/*.c 2>/dev/null | wc -l)
        if [ "$n" = "$last" ] && [ "$n" = "$c" ]; then stable=$((stable + 1)); else stable=0; fi
        last=$n
    done
    kill "$server"
    wait "$server" 2>/dev/null
    collect "$IN/cache/js" js
fi

echo "== spike-orc, per function: kernels' hot functions, every ${EVERY}th of the JS hot set"
build/spike/spike-orc -f $(ls "$IN"/hot-*.c) >"$IN/orc-kernels.txt" && tail -n 12 "$IN/orc-kernels.txt"
build/spike/spike-orc -f -every "$EVERY" $(ls "$IN"/js*.c | sort -V) >"$IN/orc-js.txt" && tail -n 12 "$IN/orc-js.txt"
echo "== spike-orc, per batch: all functions of sha256.wasm, two small JS batches"
build/spike/spike-orc -b -v "$IN/all-sha256.c" $(ls "$IN"/js*.c | sort -V | tail -n 2)
echo "== spike-gccjit"
build/spike/spike-gccjit
if [ -z "${SKIP_SPEED:-}" ]; then
    echo "== speed"
    sh tools/spike/speed.sh
fi
