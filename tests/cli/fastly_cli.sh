#!/bin/sh
# fastly_cli.sh: end-to-end test with the real Fastly CLI (npm @fastly/cli, pinned in package.json)
# driving Fastlike as its `viceroy`: `fastly compute serve --skip-build` in a throw-away project
# (fastly.toml + bin/main.wasm built from tests/guests/c/cli_app.c), with FASTLY_VICEROY_USE_PATH=1
# and a `viceroy` symlink to fastlike first on PATH (once with --viceroy-path to the fastlike
# binary itself). Requests pass; Ctrl-C (SIGINT to the process group, as a terminal sends it, or
# to the CLI alone) ends the CLI cleanly; `--watch` restarts the server when the wasm changes (the
# build step copies it). Runs offline: inside a private network namespace when `unshare -rn` works
# (so any download attempt would fail the test), with a stub `wasm-tools` on PATH so builds do not
# fetch one. Every wait polls with a generous deadline. Usage: fastly_cli.sh [FASTLIKE_BINARY]
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
FASTLIKE=$(realpath "${1:-build/rel/fastlike}")
GUEST1=$ROOT/build/guests/cli_app.wasm
GUEST2=$ROOT/build/guests/cli_app_v2.wasm
DEADLINE=${FASTLY_CLI_TEST_DEADLINE:-120} # seconds, per wait

# Offline: re-run inside a new network namespace with only loopback, when the kernel allows it.
if [ -z "${FASTLY_CLI_TEST_NETNS:-}" ] && unshare -rn true 2>/dev/null; then
    export FASTLY_CLI_TEST_NETNS=1
    exec unshare -rn sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$FASTLIKE"
fi
[ -n "${FASTLY_CLI_TEST_NETNS:-}" ] && echo "fastly_cli: running in a network namespace (offline)"

FASTLY=""
for f in node_modules/@fastly/cli-linux-*/fastly; do
    [ -x "$f" ] && FASTLY=$ROOT/$f
done
if [ -z "$FASTLY" ]; then
    echo "fastly_cli: the @fastly/cli binary is not installed (run scripts/deps.sh)"
    echo "fastly_cli: 0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
ok() {
    passed=$((passed + 1))
}
bad() {
    failed=$((failed + 1))
    echo "FAIL $*"
}
check() { # check DESCRIPTION COMMAND...
    desc=$1
    shift
    if "$@"; then ok; else bad "$desc"; fi
}

# killgroup SIGNAL PGID (the shell's own kill may not take a negative pid after --)
killgroup() {
    /bin/kill -s "$1" -- "-$2" 2>/dev/null
}

T=$(mktemp -d "${TMPDIR:-/tmp}/fastlike-fastly-cli-XXXXXX")
CLI=""
cleanup() {
    [ -n "$CLI" ] && killgroup KILL "$CLI"
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/path" "$T/home" "$T/proj/bin" "$T/proj/src"
ln -s "$FASTLIKE" "$T/path/viceroy"
printf '#!/bin/sh\nexit 0\n' > "$T/path/wasm-tools" # builds annotate with it; nothing to do here
chmod +x "$T/path/wasm-tools"
# The "source" is a prebuilt wasm: the build step copies it to bin/ (the CLI empties bin/ first).
cp "$GUEST1" "$T/proj/src/main.wasm"
cp "$GUEST1" "$T/proj/bin/main.wasm"
cat > "$T/proj/fastly.toml" <<'TOML'
manifest_version = 3
name = "fastlike-cli-test"
language = "other"

[scripts]
build = "cp src/main.wasm bin/main.wasm"
TOML
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" FASTLY_VICEROY_USE_PATH=1
export PATH="$T/path:$PATH"

# The number of lines of $1 matching the fixed string $2.
count() {
    grep -c -F -- "$2" "$1" 2>/dev/null || true
}

# wait_lines FILE TEXT N: until FILE has N lines containing TEXT (false after the deadline, or
# at once when the CLI has ended without them).
wait_lines() {
    end=$(($(date +%s) + DEADLINE))
    while [ "$(date +%s)" -le "$end" ]; do
        [ "$(count "$1" "$2")" -ge "$3" ] && return 0
        if [ -n "$CLI" ] && ! kill -0 "$CLI" 2>/dev/null; then
            [ "$(count "$1" "$2")" -ge "$3" ] && return 0
            echo "  (the CLI ended without $3 x '$2' in $1)"
            return 1
        fi
        sleep 0.2
    done
    echo "  (waited ${DEADLINE}s for $3 x '$2' in $1)"
    return 1
}

# gone PGID: until no live (non-zombie) process of the group is left.
gone() {
    end=$(($(date +%s) + DEADLINE))
    while [ "$(date +%s)" -le "$end" ]; do
        live=$(ps -o stat= -g "$1" 2>/dev/null | grep -v '^Z' | wc -l)
        [ "$live" -eq 0 ] && return 0
        sleep 0.2
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# get PORT PATH: prints "STATUS BODY" of one request.
get() {
    curl -s -m 30 -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$1$2" > "$T/status" 2>/dev/null
    printf '%s %s' "$(cat "$T/status")" "$(tr -d '\n' < "$T/body" 2>/dev/null)"
}

equals() {
    [ "$1" = "$2" ] || {
        echo "  got '$1', want '$2'"
        return 1
    }
}

# start_cli LOG ARGS...: the CLI in its own process group (as a terminal's foreground job).
start_cli() {
    log=$1
    shift
    (cd "$T/proj" && exec setsid "$FASTLY" compute serve "$@") > "$log" 2>&1 &
    CLI=$!
}

# ---- 1. serve --skip-build: requests, Ctrl-C ----
PORT=$(free_port)
LOG=$T/serve.log
start_cli "$LOG" --skip-build --addr "127.0.0.1:$PORT"
if wait_lines "$LOG" "INFO Listening on http://127.0.0.1:$PORT" 1; then
    ok
    check "GET / through the CLI's server" equals "$(get "$PORT" /)" "200 cli_app 1"
    check "GET /status?code=204" equals "$(get "$PORT" '/status?code=204')" "204 "
    check "the CLI ran fastlike as viceroy" grep -q -F "fastlike: listening on" "$LOG"
    killgroup INT "$CLI"
    wait "$CLI"
    rc=$?
    check "Ctrl-C: the CLI exits 0 (got $rc)" [ "$rc" -eq 0 ]
    check "Ctrl-C: the CLI says the server stopped" wait_lines "$LOG" "Local server stopped" 1
    check "Ctrl-C: every process of the group ended" gone "$CLI"
    check "Ctrl-C: the port is closed" [ "$(get "$PORT" /)" = "000 " ]
    check "Ctrl-C: the server was not restarted" [ "$(count "$LOG" "INFO Listening on")" -eq 1 ]
else
    bad "no Listening line from the CLI's server"
    sed 's/^/  | /' "$LOG"
    killgroup KILL "$CLI"
fi
CLI=""

# ---- 1b. --viceroy-path to the fastlike binary itself (not named viceroy); SIGINT to the CLI
# alone (`kill -INT`): it stops its server itself ----
PORT=$(free_port)
LOG=$T/serve2.log
start_cli "$LOG" --skip-build --addr "127.0.0.1:$PORT" --viceroy-path "$FASTLIKE"
if wait_lines "$LOG" "INFO Listening on http://127.0.0.1:$PORT" 1; then
    ok
    check "--viceroy-path fastlike: GET /" equals "$(get "$PORT" /)" "200 cli_app 1"
    kill -s INT "$CLI"
    wait "$CLI"
    rc=$?
    check "SIGINT to the CLI alone: exit 0 (got $rc)" [ "$rc" -eq 0 ]
    check "SIGINT to the CLI alone: server stopped" wait_lines "$LOG" "Local server stopped" 1
    check "SIGINT to the CLI alone: every process ended" gone "$CLI"
else
    bad "--viceroy-path fastlike: no Listening line"
    sed 's/^/  | /' "$LOG"
    killgroup KILL "$CLI"
fi
CLI=""

# ---- 2. serve --watch: a changed wasm restarts the server (SIGKILL, then at once a new one) ----
PORT=$(free_port)
LOG=$T/watch.log
start_cli "$LOG" --watch --addr "127.0.0.1:$PORT"
if wait_lines "$LOG" "INFO Listening on http://127.0.0.1:$PORT" 1; then
    ok
    check "watch: GET / before the change" equals "$(get "$PORT" /)" "200 cli_app 1"
    cp "$GUEST2" "$T/proj/src/main.wasm" # rewritten in place, as a compiler does
    check "watch: the CLI restarts the server" wait_lines "$LOG" "Restarting local server" 1
    check "watch: a second Listening line" wait_lines "$LOG" "INFO Listening on http://127.0.0.1:$PORT" 2
    check "watch: the new wasm answers" equals "$(get "$PORT" /)" "200 cli_app 2"
    check "watch: no startup failure" [ "$(count "$LOG" "cannot listen")" -eq 0 ]
    killgroup INT "$CLI"
    wait "$CLI"
    rc=$?
    check "watch: Ctrl-C ends the CLI with 0 (got $rc)" [ "$rc" -eq 0 ]
    check "watch: every process of the group ended" gone "$CLI"
else
    bad "watch: no Listening line"
    sed 's/^/  | /' "$LOG"
    killgroup KILL "$CLI"
fi
CLI=""

[ "$failed" -ne 0 ] && [ -n "${FASTLY_CLI_TEST_VERBOSE:-}" ] && cat "$T"/*.log
echo "fastly_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
