#!/bin/sh
# bench-http: request rate and latency over HTTP with wrk, against nginx (`return 200`, one
# worker per core) as the baseline measured in the same run, and against Fastlike serving the C
# hello guest (bench/c/hello.c) and the JS hello guest (bench/js/hello.js, fresh instance per
# request). Keep-alive, DURATION seconds (default 8) at 64 connections, then one connection for
# latency. Prints req/s, p50, p99 and the ratios to nginx. With BASE=path/to/older/fastlike, that
# binary serves the same guests in the same run and the ratios to it are printed too.
# Usage: [BASE=old-fastlike] bench/http.sh FASTLIKE C.wasm JS.wasm
set -eu
fastlike=$1
cwasm=$2
jswasm=$3
DURATION=${DURATION:-8}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
command -v wrk >/dev/null || { echo "bench-http: wrk not found (scripts/deps.sh installs it)" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "bench-http: nginx not found" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

BENCH_NAME=bench-http
. "$(dirname "$0")/lib.sh"

ncpu=$(nproc)
nport=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes $ncpu;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server {
        listen 127.0.0.1:$nport;
        location / { return 200 "GET 0\n"; }
    }
}
CONF
"$NGINX" -c "$work/nginx.conf" -p "$work" 2>"$work/nginx.err" || { cat "$work/nginx.err" >&2; exit 1; }
wait_port "$nport"

cport=$(free_port)
"$fastlike" -wasm "$cwasm" -bind "127.0.0.1:$cport" -v 0 >"$work/c.log" 2>&1 &
pids="$pids $!"
jport=$(free_port)
"$fastlike" -wasm "$jswasm" -bind "127.0.0.1:$jport" -v 0 >"$work/js.log" 2>&1 &
pids="$pids $!"
wait_port "$cport"
wait_port "$jport"
BASE=${BASE:-}
if [ -n "$BASE" ]; then
    bcport=$(free_port)
    "$BASE" -wasm "$cwasm" -bind "127.0.0.1:$bcport" -v 0 >"$work/bc.log" 2>&1 &
    pids="$pids $!"
    bjport=$(free_port)
    "$BASE" -wasm "$jswasm" -bind "127.0.0.1:$bjport" -v 0 >"$work/bj.log" 2>&1 &
    pids="$pids $!"
    wait_port "$bcport"
    wait_port "$bjport"
fi

# run NAME PORT CONNS THREADS: prints "rps p50_ms p99_ms"
run() {
    out=$(wrk -t"$4" -c"$3" -d"${DURATION}s" --latency "http://127.0.0.1:$2/" 2>&1)
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    errs=$(printf '%s\n' "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
    [ -n "$errs" ] && echo "  $1: $errs" >&2
    echo "$rps $(ms "$p50") $(ms "$p99")"
}

# wrk prints latencies as 12.34us, 1.23ms or 1.23s: milliseconds
ms() {
    printf '%s\n' "$1" | awk '/us$/ {sub("us",""); printf "%.3f", $1/1000; next}
        /ms$/ {sub("ms",""); printf "%.3f", $1; next} /s$/ {sub("s",""); printf "%.3f", $1*1000; next}
        {print "?"}'
}

printf 'bench-http: wrk -t%s -c%s -d%ss, keep-alive, on %s CPUs\n' "$THREADS" "$CONNS" "$DURATION" "$ncpu"
printf '%-22s %12s %10s %10s %12s\n' "server" "req/s" "p50 ms" "p99 ms" "vs nginx"
set -- $(run nginx "$nport" "$CONNS" "$THREADS"); n_rps=$1
printf '%-22s %12s %10s %10s %12s\n' "nginx return 200" "$1" "$2" "$3" "1.00"
set -- $(run c "$cport" "$CONNS" "$THREADS")
printf '%-22s %12s %10s %10s %12s\n' "fastlike C hello" "$1" "$2" "$3" "$(echo "$1 $n_rps" | awk '{printf "%.3f", $1/$2}')"
c_rps=$1
set -- $(run js "$jport" "$CONNS" "$THREADS")
printf '%-22s %12s %10s %10s %12s\n' "fastlike JS hello" "$1" "$2" "$3" "$(echo "$1 $n_rps" | awk '{printf "%.3f", $1/$2}')"
j_rps=$1
if [ -n "$BASE" ]; then
    set -- $(run bc "$bcport" "$CONNS" "$THREADS")
    printf '%-22s %12s %10s %10s %12s   (new/base %s)\n' "base C hello" "$1" "$2" "$3" "$(echo "$1 $n_rps" | awk '{printf "%.3f", $1/$2}')" "$(echo "$c_rps $1" | awk '{printf "%.2f", $1/$2}')"
    set -- $(run bj "$bjport" "$CONNS" "$THREADS")
    printf '%-22s %12s %10s %10s %12s   (new/base %s)\n' "base JS hello" "$1" "$2" "$3" "$(echo "$1 $n_rps" | awk '{printf "%.3f", $1/$2}')" "$(echo "$j_rps $1" | awk '{printf "%.2f", $1/$2}')"
fi
echo "one connection (latency):"
set -- $(run nginx1 "$nport" 1 1)
printf '%-22s %12s %10s %10s\n' "nginx" "$1" "$2" "$3"
set -- $(run c1 "$cport" 1 1)
printf '%-22s %12s %10s %10s\n' "fastlike C hello" "$1" "$2" "$3"
set -- $(run js1 "$jport" 1 1)
printf '%-22s %12s %10s %10s\n' "fastlike JS hello" "$1" "$2" "$3"
if [ -n "$BASE" ]; then
    set -- $(run bc1 "$bcport" 1 1)
    printf '%-22s %12s %10s %10s\n' "base C hello" "$1" "$2" "$3"
    set -- $(run bj1 "$bjport" 1 1)
    printf '%-22s %12s %10s %10s\n' "base JS hello" "$1" "$2" "$3"
fi
echo "idle keep-alive connections (C hello server):"
cpid=$(echo $pids | awk '{print $1}')
python3 bench/idle_conns.py "$cport" "$cpid" "${IDLE_CONNS:-10000}"
