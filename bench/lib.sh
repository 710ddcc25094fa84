#!/bin/sh
# bench/lib.sh: helpers the benchmark scripts share (sourced, not run): a free local port and
# waiting until a server answers on one. BENCH_NAME (set by the caller) prefixes error messages.

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
