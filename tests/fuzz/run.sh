#!/bin/sh
# `make fuzz-wasm`: builds tests/fuzz/fuzz_wasm.c with the engine sources (clang, libFuzzer + ASan +
# UBSan) into build/fuzz/, gathers a small seed corpus (<= 200 small .wasm files from the spec
# testsuite) into build/fuzz-seeds/, and fuzzes for FUZZ_SECONDS (default 600).
# New inputs go to build/fuzz/corpus, crashes to build/fuzz/crash-*. Extra libFuzzer flags: FUZZ_FLAGS.
set -eu
cd "$(dirname "$0")/../.."
FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
OUT=build/fuzz
SEEDS=build/fuzz-seeds
BIN=$OUT/fuzz-wasm
CLANG="${CLANG:-clang}"
mkdir -p "$OUT/corpus" "$SEEDS"

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz-wasm: $CLANG not found (run scripts/deps.sh)" >&2
    exit 1
fi

# ---- seeds: binary modules from wast2json output (build/spec-json if the spec suite made it) ----
if [ -z "$(ls "$SEEDS" 2>/dev/null)" ]; then
    if [ -d build/spec-json ] && [ -n "$(find build/spec-json -name '*.wasm' | head -n 1)" ]; then
        JSONDIR=build/spec-json
    else
        JSONDIR=$OUT/spec-json
        mkdir -p "$JSONDIR"
        echo "fuzz-wasm: generating seeds with wast2json into $JSONDIR"
        for w in third_party/wasm-testsuite/*.wast; do
            name=$(basename "$w" .wast)
            wast2json "$w" -o "$JSONDIR/$name.json" >/dev/null 2>&1 || true
        done
    fi
    # Small modules (< 4 KiB) round-robin over the scripts (the first of each, then the second, ...)
    # for variety, 200 in all. wast2json names them SCRIPT.N.wasm, maybe in per-script directories.
    find "$JSONDIR" -name '*.wasm' -size -4k | sort -V |
        awk -F/ '{ s = $NF; sub(/\.[0-9]+\.wasm$/, "", s); r = c[s]++; if (r < 3) print r "\t" $0 }' |
        sort -s -n -k1,1 | cut -f2- | head -n 200 >"$OUT/seeds.txt"
    while read -r f; do cp "$f" "$SEEDS/"; done <"$OUT/seeds.txt"
    n=$(wc -l <"$OUT/seeds.txt")
    echo "fuzz-wasm: $n seeds in $SEEDS"
fi

# ---- build (again only when a source is newer than the binary) ----
SRCS=$(ls src/engine/*.c src/util/*.c 2>/dev/null || true)
if [ -z "$(ls src/engine/*.c 2>/dev/null)" ]; then
    echo "fuzz-wasm: no engine sources in src/engine yet" >&2
    exit 1
fi
if [ ! -x "$BIN" ] || [ -n "$(find src/engine src/util tests/fuzz -newer "$BIN" -name '*.[ch]' 2>/dev/null)" ]; then
    echo "fuzz-wasm: building $BIN"
    # shellcheck disable=SC2086
    if ! "$CLANG" -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc -Isrc/engine -Iinclude -o "$BIN" tests/fuzz/fuzz_wasm.c $SRCS -lm -lpthread \
        >"$OUT/build.log" 2>&1; then
        echo "fuzz-wasm: build failed; see $OUT/build.log" >&2
        tail -n 20 "$OUT/build.log" >&2
        exit 1
    fi
fi

echo "fuzz-wasm: fuzzing for ${FUZZ_SECONDS}s (FUZZ_SECONDS to change)"
# shellcheck disable=SC2086
rc=0
"$BIN" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$OUT/" ${FUZZ_FLAGS:-} "$OUT/corpus" "$SEEDS" || rc=$?
if [ $rc -ne 0 ]; then
    echo "fuzz-wasm: FAILED (libFuzzer status $rc); reproducers: $(ls "$OUT"/crash-* "$OUT"/leak-* \
        "$OUT"/timeout-* "$OUT"/oom-* 2>/dev/null | tr '\n' ' ')"
    echo "fuzz-wasm: replay one with: $BIN FILE"
    exit 1
fi
echo "fuzz-wasm: no crash in ${FUZZ_SECONDS}s"
