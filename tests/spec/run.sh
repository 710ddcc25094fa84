#!/bin/sh
# run.sh RUNNER: converts the spec testsuite (.wast) to JSON with wast2json, runs RUNNER on every
# file (in parallel, one process per file, with a timeout), prints per-file tallies and
# "spec: N passed, N failed, N skipped", then checks the failures against known-failures.txt.
# Env: SPEC_DIR, SPEC_FILES, SPEC_JOBS, SPEC_TIMEOUT, SPEC_STRICT=1, UPDATE_KNOWN=1 (README.md).
set -u

if [ $# -ne 1 ]; then
    echo "usage: [SPEC_DIR=dir] [SPEC_FILES='i32 fac'] [UPDATE_KNOWN=1] sh tests/spec/run.sh RUNNER" >&2
    exit 2
fi
here=$PWD
abspath() {
    case "$1" in
    /*) echo "$1" ;;
    *) echo "$here/$1" ;;
    esac
}
runner=$(abspath "$1")
spec_dir=${SPEC_DIR:-}
[ -n "$spec_dir" ] && spec_dir=$(abspath "$spec_dir")
cd "$(dirname "$0")/../.." || exit 2
[ -z "$spec_dir" ] && spec_dir=../shared/wasm-testsuite

jobs=${SPEC_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${SPEC_TIMEOUT:-120}
flags=""
[ "${SPEC_STRICT:-0}" = 1 ] && flags="--strict-messages"
known=tests/spec/known-failures.txt
json_dir=build/spec-json
out_dir=$(dirname "$runner")/spec-out

if [ ! -x "$runner" ]; then
    echo "spec: runner $runner not found or not executable" >&2
    exit 2
fi
if ! command -v wast2json >/dev/null 2>&1; then
    echo "spec: wast2json not found (apt-get install wabt; see make deps)" >&2
    exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$json_dir" "$out_dir" || exit 2

# ---- the file list: name<TAB>path, in a stable order ----
: >"$tmp/files"
for wast in "$spec_dir"/*.wast "$spec_dir"/simd/*.wast; do
    [ -f "$wast" ] || continue
    name=$(basename "$wast" .wast)
    if [ -n "${SPEC_FILES:-}" ]; then
        case " $SPEC_FILES " in
        *" $name "*) ;;
        *) continue ;;
        esac
    fi
    printf '%s\t%s\n' "$name" "$wast" >>"$tmp/files"
done
if [ ! -s "$tmp/files" ]; then
    echo "spec: no .wast files in $spec_dir${SPEC_FILES:+ matching SPEC_FILES}" >&2
    exit 2
fi

# ---- convert (cached: skipped while the JSON is newer than the .wast) ----
while IFS="$(printf '\t')" read -r name wast; do
    dir=$json_dir/$name
    json=$dir/$name.json
    [ -f "$json" ] && [ -n "$(find "$json" -newer "$wast" 2>/dev/null)" ] && continue
    rm -rf "$dir" && mkdir -p "$dir" || exit 2
    if ! wast2json "$wast" -o "$json" </dev/null >"$tmp/$name.convert" 2>&1; then
        rm -f "$json"
    fi
done <"$tmp/files"

# ---- run, one process per file ----
# shellcheck disable=SC2016 # expanded by the inner shell
job='n=$1
timeout -k 5 "$LIMIT" "$RUNNER" $FLAGS "$JSON_DIR/$n/$n.json" >"$OUT_DIR/$n.out" 2>&1
echo $? >"$OUT_DIR/$n.rc"'
rm -f "$out_dir"/*.out "$out_dir"/*.rc
cut -f1 "$tmp/files" | while read -r name; do
    [ -f "$json_dir/$name/$name.json" ] && echo "$name"
done | RUNNER=$runner FLAGS=$flags LIMIT=$limit JSON_DIR=$json_dir OUT_DIR=$out_dir \
    xargs -P "$jobs" -I{} sh -c "$job" sh {}

# ---- tally ----
passed=0
failed=0
skipped=0
text=0
: >"$tmp/keys"
: >"$tmp/lines"
: >"$tmp/crashed"
while IFS="$(printf '\t')" read -r name wast; do
    json=$json_dir/$name/$name.json
    out=$out_dir/$name.out
    if [ ! -f "$json" ]; then
        echo "$name: CRASH: wast2json failed, counted as 1 failed:"
        sed 's/^/    /' "$tmp/$name.convert" | head -n 5
        failed=$((failed + 1))
        echo "CRASH $name.wast" >>"$tmp/keys"
        echo "CRASH $name.wast wast2json failed" >>"$tmp/lines"
        continue
    fi
    rc=$(cat "$out_dir/$name.rc" 2>/dev/null || echo 255)
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$" "$out" | tail -n 1)
    t=$(sed -nE "s/^$name: ([0-9]+) text-format .*/\1/p" "$out" | tail -n 1)
    text=$((text + ${t:-0}))
    if [ -n "$line" ]; then
        # shellcheck disable=SC2046 # three numbers, split on purpose
        set -- $(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')
        passed=$((passed + $1))
        failed=$((failed + $2))
        skipped=$((skipped + $3))
        grep '^FAIL ' "$out" >>"$tmp/lines"
        grep '^FAIL ' "$out" | cut -d' ' -f1,2 >>"$tmp/keys"
        echo "$line"
        if [ "$rc" -ne 0 ]; then
            # Finished, but e.g. a sanitizer complained at exit (leaks): one more failure.
            echo "$name: CRASH: exit status $rc after the summary (see $out)"
            grep -v '^FAIL \|^WARN \|^SKIP ' "$out" | tail -n 5 | sed 's/^/    /'
            failed=$((failed + 1))
            echo "CRASH $name.wast" >>"$tmp/keys"
            echo "CRASH $name.wast exit status $rc after the summary" >>"$tmp/lines"
        fi
        continue
    fi
    case "$rc" in
    124 | 137) why="timed out after ${limit} s" ;;
    2) why="could not read its JSON" ;;
    *) if [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"; else why="exit status $rc"; fi ;;
    esac
    n=$("$runner" --count "$json" </dev/null 2>/dev/null) || n=1
    [ -n "$n" ] || n=1
    failed=$((failed + n))
    echo "$name: CRASH: $why; all $n commands counted as failed (log: $out)"
    grep -v '^FAIL \|^WARN \|^SKIP ' "$out" | tail -n 5 | sed 's/^/    /'
    echo "CRASH $name.wast" >>"$tmp/keys"
    echo "CRASH $name.wast $why" >>"$tmp/lines"
    echo "$name.wast" >>"$tmp/crashed"
done <"$tmp/files"

# ---- compare with the known failures (restricted to the files that ran) ----
sort -u "$tmp/keys" >"$tmp/actual"
cut -f1 "$tmp/files" | sed 's/$/.wast/' >"$tmp/ran"
if [ -f "$known" ]; then
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$known" | grep -v '^$' |
        awk 'NR == FNR { ran[$1] = 1; next }
             { f = $2; sub(/:[0-9]+$/, "", f); if (f in ran) print }' "$tmp/ran" - |
        sort -u >"$tmp/known"
else
    : >"$tmp/known"
fi
comm -23 "$tmp/actual" "$tmp/known" >"$tmp/new"
# A file that crashed ran none of its listed cases: they are not "now passing".
comm -13 "$tmp/actual" "$tmp/known" |
    awk 'NR == FNR { c[$1] = 1; next }
         { f = $2; sub(/:[0-9]+$/, "", f); if (!($1 == "FAIL" && f in c)) print }' \
        "$tmp/crashed" - >"$tmp/fixed"
status=0

if [ "${UPDATE_KNOWN:-0}" = 1 ]; then
    if [ -n "${SPEC_FILES:-}" ]; then
        echo "spec: UPDATE_KNOWN needs a full run (unset SPEC_FILES)" >&2
        exit 2
    fi
    {
        echo "# Spec testsuite cases that fail today: 'FAIL <file>.wast:<line>' per failing command,"
        echo "# 'CRASH <file>.wast' per file that crashed or timed out. Regenerate with"
        echo "# 'UPDATE_KNOWN=1 sh tests/spec/run.sh build/rel/spec-runner' (see tests/spec/README.md)."
        cat "$tmp/actual"
    } >"$known"
    echo "spec: wrote $(wc -l <"$tmp/actual") entries to $known"
else
    nnew=$(wc -l <"$tmp/new")
    nfixed=$(wc -l <"$tmp/fixed")
    if [ "$nnew" -gt 0 ]; then
        status=1
        echo "spec: $nnew failures not in $known:"
        # The full FAIL lines of the new keys, at most 100.
        awk 'NR == FNR { k[$0] = 1; next } { key = $1 " " $2 } key in k' "$tmp/new" "$tmp/lines" |
            head -n 100 | sed 's/^/  /'
        [ "$nnew" -gt 100 ] && echo "  ... and more (logs in $out_dir)"
    fi
    if [ "$nfixed" -gt 0 ]; then
        status=1
        echo "spec: $nfixed listed in $known now pass (remove them, or UPDATE_KNOWN=1):"
        sed 's/^/  /' "$tmp/fixed"
    fi
    [ "$status" -eq 0 ] && echo "spec: failures match $known ($(wc -l <"$tmp/known") known)"
fi
[ "$text" -gt 0 ] && echo "spec: $text text-format module assertions not applicable (binary-only engine)"
echo "spec: $passed passed, $failed failed, $skipped skipped"
exit $status
