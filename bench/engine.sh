#!/bin/sh
# Engine speed: times the compute kernels of third_party/bench-wasm under bin/fastlike, wabt's
# wasm-interp, node (V8) and native gcc -O2, checks checksums, prints a table and the summary line
#   bench-engine: fastlike/native=X.XX tier/native=Z.ZZ wasm-interp/fastlike=Y.YY
#   (geometric means, without empty; fastlike = interpreter only, tier = native tier on)
# then runs build/rel/bench-instantiate. Environment:
#   KERNELS="fib sieve"  kernels to run (default: all)     RUNS=3  best of N wall-clock runs
#   SKIP_INTERP=1        skip wasm-interp                   INTERP_TIMEOUT=300  cap per kernel (s)
#   SKIP_INSTANTIATE=1   skip bench-instantiate             FASTLIKE=bin/fastlike
cd "$(dirname "$0")/.."
SRC=third_party/bench-wasm
OUT=build/bench
KERNELS="${KERNELS:-fib nbody sieve matmul sha256 qsort strhash base64 empty}"
RUNS="${RUNS:-3}"
INTERP_TIMEOUT="${INTERP_TIMEOUT:-300}"
FASTLIKE="${FASTLIKE:-bin/fastlike}"
NODE="node --experimental-wasi-unstable-preview1 --no-warnings"
status=0

if [ ! -d "$SRC" ]; then
    echo "bench-engine: $SRC not found (the shared benchmark sources)" >&2
    exit 1
fi

# ---- build the kernels once (only those with a missing output) ----
need=""
for k in $KERNELS; do
    for f in "$k.native" "$k.wasm" "$k.bare.wasm"; do
        if [ ! -f "$OUT/$f" ]; then
            need="$need $k"
            break
        fi
    done
done
if [ -n "$need" ]; then
    echo "bench-engine: building kernels:$need (into $OUT)"
    if ! KERNELS="${need# }" sh "$SRC/build.sh" "$OUT" >"$OUT.build.log" 2>&1; then
        echo "bench-engine: building the kernels failed; see $OUT.build.log" >&2
        tail -n 20 "$OUT.build.log" >&2
        exit 1
    fi
fi

# Expected last output line of each kernel (from the README in $SRC; sha256 checked in full).
expect() {
    case "$1" in
    fib) echo "checksum 2204795176 calls 25504083" ;;
    nbody) echo "e1 -0.169026286" ;;
    sieve) echo "primes 7556878" ;;
    matmul) echo "3139.372919" ;;
    sha256) echo "880214dab31bebdd9f20a27d0e56395b376689f9e330a7b61eea5e784573d804" ;;
    qsort) echo "3958609252" ;;
    strhash) echo "hits 185671 sum 532775" ;;
    base64) echo "1298540330" ;;
    empty) echo "empty" ;;
    *) echo "" ;;
    esac
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# best LIMIT CMD...: runs CMD $RUNS times (each under `timeout LIMIT` when LIMIT > 0), leaves the
# last run's stdout in $TMP/out and prints the best wall time in seconds, ">LIMIT" on timeout or
# "FAIL" when the command exits non-zero.
best() {
    limit=$1
    shift
    b=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        t0=$(date +%s%N)
        if [ "$limit" -gt 0 ]; then
            timeout "$limit" "$@" >"$TMP/out" 2>"$TMP/err"
        else
            "$@" >"$TMP/out" 2>"$TMP/err"
        fi
        rc=$?
        t1=$(date +%s%N)
        if [ "$limit" -gt 0 ] && [ $rc -eq 124 ]; then
            echo ">$limit"
            return
        fi
        if [ $rc -ne 0 ]; then
            echo "FAIL"
            return
        fi
        ns=$((t1 - t0))
        if [ -z "$b" ] || [ "$ns" -lt "$b" ]; then
            b=$ns
        fi
    done
    awk -v ns="$b" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

# check KERNEL RUNNER TIME: verifies the checksum in $TMP/out; prints TIME, or "BAD" on a mismatch.
check() {
    case "$3" in
    FAIL | ">"*) echo "$3"; return ;;
    esac
    want=$(expect "$1")
    got=$(tail -n 1 "$TMP/out")
    case "$got" in
    *"$want") echo "$3" ;;
    *)
        echo "bench-engine: $1 under $2: wrong output '$got' (want '$want')" >&2
        echo "BAD"
        ;;
    esac
}

have_fastlike=1
if [ ! -x "$FASTLIKE" ]; then
    echo "bench-engine: $FASTLIKE not built (make all); fastlike rows will be FAIL" >&2
    have_fastlike=0
fi
have_interp=1
if [ -n "${SKIP_INTERP:-}" ] || ! command -v wasm-interp >/dev/null 2>&1; then
    have_interp=0
fi

# fastlike = interpreter only (FWE_TIER=interp); tier = the native tier on (FWE_TIER=auto, the
# default: hot functions compiled in the background; the first of the RUNS runs fills the code cache)
printf "%-8s %10s %10s %10s %10s %12s %11s %9s\n" kernel native node fastlike tier wasm-interp fastlike/nat tier/nat
: >"$TMP/rows"
for k in $KERNELS; do
    tn=$(best 0 "$OUT/$k.native")
    tn=$(check "$k" native "$tn")
    tv=$(best 0 $NODE "$SRC/run_wasi.mjs" "$OUT/$k.wasm")
    tv=$(check "$k" node "$tv")
    if [ $have_fastlike -eq 1 ]; then
        tf=$(best 0 env FWE_TIER=interp "$FASTLIKE" run "$OUT/$k.wasm")
        if [ "$tf" = FAIL ]; then
            echo "bench-engine: $k under fastlike failed: $(tail -n 3 "$TMP/err" | tr '\n' ' ')" >&2
        fi
        tf=$(check "$k" fastlike "$tf")
        tt=$(best 0 env FWE_TIER=auto "$FASTLIKE" run "$OUT/$k.wasm")
        tt=$(check "$k" "fastlike -tier auto" "$tt")
    else
        tf=FAIL
        tt=FAIL
    fi
    if [ $have_interp -eq 1 ]; then
        # wasm-interp's stubbed WASI swallows output, so only its exit status is checked. One run:
        # at ~270x native, best-of-N would take too long and the noise is small in comparison.
        ti=$(RUNS=1 best "$INTERP_TIMEOUT" wasm-interp "$OUT/$k.bare.wasm" --run-all-exports)
    else
        ti="-"
    fi
    case "$tf$tt" in *FAIL* | *BAD*) status=1 ;; esac
    case "$tn$tv" in *FAIL* | *BAD*) status=1 ;; esac
    ratio=$(awk -v f="$tf" -v n="$tn" 'BEGIN { if (f + 0 > 0 && n + 0 > 0) printf "%.2f", f / n; else print "-" }')
    tratio=$(awk -v f="$tt" -v n="$tn" 'BEGIN { if (f + 0 > 0 && n + 0 > 0) printf "%.2f", f / n; else print "-" }')
    printf "%-8s %10s %10s %10s %10s %12s %11s %9s\n" "$k" "$tn" "$tv" "$tf" "$tt" "$ti" "$ratio" "$tratio"
    echo "$k $tn $tv $tf $ti $tt" >>"$TMP/rows"
done

# Geometric means over kernels with numeric times on both sides, `empty` excluded (start-up only).
awk '
function num(x) { return x ~ /^[0-9.]+$/ && x + 0 > 0 }
$1 != "empty" {
    if (num($4) && num($2)) { fn += log($4 / $2); nfn++ }
    if (num($5) && num($4)) { inf += log($5 / $4); ninf++ }
    if (num($6) && num($2)) { tn += log($6 / $2); ntn++ }
    if ($5 ~ /^>/) capped++
}
END {
    a = nfn ? sprintf("%.2f", exp(fn / nfn)) : "n/a"
    b = ninf ? sprintf("%.2f", exp(inf / ninf)) : "n/a"
    if (capped) b = b " (" capped " kernel(s) over the interp timeout left out)"
    c = ntn ? sprintf("%.2f", exp(tn / ntn)) : "n/a"
    printf "bench-engine: fastlike/native=%s tier/native=%s wasm-interp/fastlike=%s\n", a, c, b
}' "$TMP/rows"

# ---- instantiation ----
if [ -z "${SKIP_INSTANTIATE:-}" ]; then
    echo
    if make -s build/guests/js-hello.wasm build/rel/bench-instantiate >"$TMP/make.log" 2>&1; then
        # with the native tier (auto, the default) and the interpreter only, one after the other:
        # loading must not pay for the tier (issue 13)
        for mode in auto interp; do
            echo "FWE_TIER=$mode:"
            FWE_TIER=$mode build/rel/bench-instantiate build/guests/js-hello.wasm "$OUT/empty.wasm" |
                tee -a "$TMP/inst-$mode" || status=1
        done
        awk '/^load-js/ {v[FILENAME] = v[FILENAME] " " $2; if (!(FILENAME in b) || $2 < b[FILENAME]) b[FILENAME] = $2}
            END {a = ARGV[1]; i = ARGV[2]
                 if ((a in b) && (i in b))
                     printf "load-js (us): auto%s, interp%s; best auto/interp %.2f\n", v[a], v[i], b[a] / b[i]}' \
            "$TMP/inst-auto" "$TMP/inst-interp"
    else
        echo "bench-engine: could not build bench-instantiate or the JS guest:" >&2
        tail -n 15 "$TMP/make.log" >&2
        status=1
    fi
fi
exit $status
