#!/bin/sh
# bench/lib.sh: helpers the benchmark scripts share (sourced, not run): a free local port, waiting
# until a server answers on one, a scratch folder cleaned up on exit, and starting and stopping
# one Fastlike server. BENCH_NAME (set by the caller) prefixes error messages.

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: returns once an HTTP server answers on 127.0.0.1:PORT; exits the script with a
# message after 60 s (generous, so that a loaded machine does not fail a benchmark's start-up)
wait_port() {
    i=0
    while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "${BENCH_NAME:-bench}: nothing answers on port $1" >&2; exit 1; }
        sleep 0.1
    done
}

# bench_workdir: makes a scratch folder, $work, and sets traps so that however the script ends, the
# server `serve` started (if it still runs) is stopped and $work is removed
bench_workdir() {
    work=$(mktemp -d)
    pid=""
    trap bench_cleanup EXIT
    trap 'exit 1' INT TERM
}

bench_cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}

# serve FASTLIKE WASM LOG [flags...]: starts FASTLIKE serving WASM on a free port of 127.0.0.1
# (`-v 0`, the flags after it, its output in LOG) and returns once the port takes connections,
# without sending a request (so that a warm-up measurement starts from the first request of its
# own). Sets port and pid. Exits the script, showing LOG, when nothing listens within 60 s.
serve() {
    serve_bin=$1
    serve_wasm=$2
    serve_log=$3
    shift 3
    port=$(free_port)
    "$serve_bin" -wasm "$serve_wasm" -bind "127.0.0.1:$port" -v 0 "$@" >"$serve_log" 2>&1 &
    pid=$!
    i=0
    while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "${BENCH_NAME:-bench}: the server did not start" >&2; cat "$serve_log" >&2; exit 1; }
        sleep 0.1
    done
}

# unserve: stops the server `serve` started and waits for it to exit
unserve() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}
