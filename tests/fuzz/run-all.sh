#!/bin/sh
# `make test-fuzz` / `make fuzz` / `make fuzz-NAME`: runs the libFuzzer targets built by `make
# fuzz-build` (build/fuzzlib/fuzz/fuzz_NAME), each for SECONDS: first every input under
# tests/fuzz/regressions/NAME/ (inputs that once crashed it), then fuzzing from the checked-in
# seeds tests/fuzz/corpus/NAME/ with tests/fuzz/NAME.dict when there is one. New inputs collect in
# build/fuzzlib/fuzz/corpus/NAME/ (kept from run to run), crashes in
# build/fuzzlib/fuzz/NAME-crash-*. Exits 1 when any target crashed, leaked, hung or ran out of
# memory. Usage: run-all.sh [-fresh] SECONDS NAME...
# -fresh (make test-fuzz) starts from the checked-in seeds only, in an emptied work directory
# build/fuzzlib/fuzz/fresh/NAME/: libFuzzer runs every input it is given before the clock starts,
# so a corpus grown by long runs would make the short runs ever longer. Extra libFuzzer flags:
# FUZZ_FLAGS.
set -u
cd "$(dirname "$0")/../.."
OUT=build/fuzzlib/fuzz
WORK=$OUT/corpus
if [ "${1:-}" = -fresh ]; then
    WORK=$OUT/fresh
    shift
fi
SECONDS_EACH=$1
shift
failed=""
for name in "$@"; do
    bin=$OUT/fuzz_$name
    log=$OUT/$name.log
    if [ ! -x "$bin" ]; then
        echo "fuzz $name: $bin is missing (make fuzz-build)"
        failed="$failed $name"
        continue
    fi
    # Regressions: every file replayed once (libFuzzer runs files given as arguments and exits).
    regs=$(find "tests/fuzz/regressions/$name" -type f 2>/dev/null | sort)
    if [ -n "$regs" ]; then
        # shellcheck disable=SC2086
        if ! "$bin" -timeout=60 $regs </dev/null >"$log" 2>&1; then
            echo "fuzz $name: a regression input fails again; see $log"
            tail -n 30 "$log"
            failed="$failed $name"
            continue
        fi
    fi
    [ "$WORK" = "$OUT/fresh" ] && rm -rf "${WORK:?}/$name"
    mkdir -p "$WORK/$name"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    # -timeout is generous: the machine may be shared and the build carries ASan and UBSan.
    # shellcheck disable=SC2086
    nice "$bin" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=3072 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$OUT/$name-" $dict ${FUZZ_FLAGS:-} \
        "$WORK/$name" "tests/fuzz/corpus/$name" </dev/null >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        echo "fuzz $name: FAILED (libFuzzer status $rc after ${runs:-?} runs); see $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5
        # the artifacts libFuzzer writes (not tier-code/, the tier target's code cache)
        echo "fuzz $name: reproducers: $(ls -d "$OUT/$name"-crash-* "$OUT/$name"-leak-* \
            "$OUT/$name"-timeout-* "$OUT/$name"-oom-* "$OUT/$name"-slow-unit-* 2>/dev/null |
            tr '\n' ' ')"
        echo "fuzz $name: replay one with: $bin FILE; keep it under tests/fuzz/regressions/$name/"
        failed="$failed $name"
    else
        echo "fuzz $name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: FAILED:$failed"
    exit 1
fi
echo "fuzz: $# targets passed"
