#!/bin/sh
# prof_instr.sh: instructions per request with and without the profiler recording (trace mode),
# counted by callgrind, so the result does not depend on the machine's load. The ring is filled
# first (1100 and 1300 requests, past the default 1000), so records are recycled as in a long run.
# usage: bench/prof_instr.sh DRIVER GUEST.wasm URL
set -eu
drv=$1 guest=$2 url=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # profile n
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" -q "$drv" "$guest" "$1" "$2" "$url" >/dev/null 2>&1
    callgrind_annotate "$tmp/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
off=$(( ($(count 0 1300) - $(count 0 1100)) / 200 ))
on=$(( ($(count 1 1300) - $(count 1 1100)) / 200 ))
awk -v off="$off" -v on="$on" 'BEGIN { printf "bench-prof-instr: instructions per request: off=%d on=%d on/off=%.3f\n", off, on, on / off }'
