#!/bin/sh
# Code speed of the native tier by compiler (issue 13's spike): every bench-engine kernel natively
# (gcc -O2), and through bin/fastlike with the tier's code compiled by gcc (the default `cc`) and by
# clang-14 (FWE_CC=clang-14; LLVM's code, i.e. what ORC would produce), in the same run, runners
# interleaved per round. Each compiler has its own code cache, filled first with FWE_TIER=native;
# the timed runs use FWE_TIER=auto as bench-engine does. Checksums are checked as bench/engine.sh does.
#   KERNELS="fib sieve"  RUNS=3 (best of N)  CCS="cc clang-14"  FASTLIKE=bin/fastlike
# (CCS may name tools/spike/clang-14-strict: clang with strict FP, which keeps signalling NaNs)
cd "$(dirname "$0")/../.."
PATH="$PWD/tools/spike:$PATH"
OUT=build/bench
KERNELS="${KERNELS:-fib nbody sieve matmul sha256 qsort strhash base64}"
RUNS="${RUNS:-3}"
CCS="${CCS:-cc clang-14}"
FASTLIKE="${FASTLIKE:-bin/fastlike}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
status=0

for k in $KERNELS; do
    if [ ! -f "$OUT/$k.wasm" ] || [ ! -f "$OUT/$k.native" ]; then
        echo "spike-speed: $OUT/$k.wasm or .native missing (run make bench-engine once)" >&2
        exit 1
    fi
done

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
    esac
}

# one NAME CMD...: runs CMD once; prints its wall seconds, or BAD on a wrong checksum / failure
one() {
    k=$1
    shift
    t0=$(date +%s%N)
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    t1=$(date +%s%N)
    got=$(tail -n 1 "$TMP/out")
    case "$got" in
    *"$(expect "$k")") [ $rc -eq 0 ] && awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }' && return ;;
    esac
    echo "spike-speed: $k: '$got' (exit $rc) $(tail -n 2 "$TMP/err" | tr '\n' ' ')" >&2
    echo BAD
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || a == "BAD") print b; else if (b == "BAD" || a + 0 <= b + 0) print a; else print b }'; }

# fill each compiler's cache (compile time is not measured here; tools/spike/spike-orc does that)
for cc in $CCS; do
    mkdir -p "$TMP/cache-$cc"
    for k in $KERNELS; do
        r=$(one "$k" env FWE_TIER=native FWE_CC="$cc" FWE_CODE_CACHE="$TMP/cache-$cc" "$FASTLIKE" run "$OUT/$k.wasm")
        [ "$r" = BAD ] && status=1
    done
done

printf "%-8s %8s" kernel native
for cc in $CCS; do printf " %10s" "tier-$cc"; done
for cc in $CCS; do printf " %12s" "$cc/native"; done
printf "\n"
: >"$TMP/rows"
for k in $KERNELS; do
    bn=""
    for cc in $CCS; do eval "b_$(echo "$cc" | tr -c 'a-z0-9\n' _)=''"; done
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        bn=$(min "$bn" "$(one "$k" "$OUT/$k.native")")
        for cc in $CCS; do
            v=b_$(echo "$cc" | tr -c 'a-z0-9\n' _)
            r=$(one "$k" env FWE_TIER=auto FWE_CC="$cc" FWE_CODE_CACHE="$TMP/cache-$cc" "$FASTLIKE" run "$OUT/$k.wasm")
            [ "$r" = BAD ] && status=1
            eval "$v=\$(min \"\$$v\" \"$r\")"
        done
    done
    row="$k $bn"
    printf "%-8s %8s" "$k" "$bn"
    for cc in $CCS; do
        eval "t=\$b_$(echo "$cc" | tr -c 'a-z0-9\n' _)"
        printf " %10s" "$t"
        row="$row $t"
    done
    for cc in $CCS; do
        eval "t=\$b_$(echo "$cc" | tr -c 'a-z0-9\n' _)"
        printf " %12s" "$(awk -v t="$t" -v n="$bn" 'BEGIN { if (t + 0 > 0 && n + 0 > 0) printf "%.2f", t / n; else print "-" }')"
    done
    printf "\n"
    echo "$row" >>"$TMP/rows"
done
# geometric mean of each compiler's tier/native
awk -v ccs="$CCS" '
{ for (c = 3; c <= NF; c++) if ($c + 0 > 0 && $2 + 0 > 0) { s[c] += log($c / $2); n[c]++ } }
END {
    m = split(ccs, name, " ")
    printf "spike-speed: geomean tier/native"
    for (c = 3; c < 3 + m; c++) printf " %s=%s", name[c - 2], n[c] ? sprintf("%.2f", exp(s[c] / n[c])) : "n/a"
    printf "\n"
}' "$TMP/rows"
exit $status
