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
[ -z "$spec_dir" ] && spec_dir=third_party/wasm-testsuite

jobs=${SPEC_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${SPEC_TIMEOUT:-120}
flags=""
[ "${SPEC_STRICT:-0}" = 1 ] && flags="--strict-messages"
known=tests/spec/known-failures.txt
json_dir=build/spec-json
out_dir=$(dirname "$runner")/spec-out # logs, copied there at the end

if [ ! -x "$runner" ]; then
    echo "spec: runner $runner not found or not executable" >&2
    exit 2
fi
if ! command -v wast2json >/dev/null 2>&1; then
    echo "spec: wast2json not found (apt-get install wabt; see make deps)" >&2
    exit 2
fi

tmp=$(mktemp -d) || exit 2
run_dir=$tmp/out # outputs private to this run, so concurrent runs do not collide
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$json_dir" "$out_dir" "$run_dir" || exit 2

# ---- the file list: name<TAB>path, in a stable order ----
: >"$tmp/files"
for wast in "$spec_dir"/*.wast "$spec_dir"/simd/*.wast; do
    [ -f "$wast" ] || continue
    name=${wast##*/}
    name=${name%.wast}
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
    # -nt is not POSIX but dash, bash and busybox sh have it, and find(1) per file is slow.
    # shellcheck disable=SC3013
    [ -f "$json" ] && [ "$json" -nt "$wast" ] && continue
    # Convert into a private folder and swap it in, so a concurrent run never reads half a JSON.
    new=$json_dir/.new.$$.$name
    rm -rf "$new" && mkdir -p "$new" || exit 2
    if wast2json "$wast" -o "$new/$name.json" </dev/null >"$tmp/$name.convert" 2>&1; then
        rm -rf "$dir" && mv "$new" "$dir" || exit 2
    else
        rm -rf "$new" "$dir"
    fi
done <"$tmp/files"

# ---- run, one process per file ----
# shellcheck disable=SC2016 # expanded by the inner shell
job='n=$1
timeout -k 5 "$LIMIT" "$RUNNER" $FLAGS "$JSON_DIR/$n/$n.json" >"$OUT_DIR/$n.out" 2>&1
echo $? >"$OUT_DIR/$n.rc"'
cut -f1 "$tmp/files" | while read -r name; do
    [ -f "$json_dir/$name/$name.json" ] && echo "$name"
done | RUNNER=$runner FLAGS=$flags LIMIT=$limit JSON_DIR=$json_dir OUT_DIR=$run_dir \
    xargs -P "$jobs" -I{} sh -c "$job" sh {}

# ---- tally: one awk pass over all outputs (a process per file per step is slow) ----
: >"$tmp/keys"
: >"$tmp/lines"
: >"$tmp/crashed"
awk -F'\t' -v od="$run_dir" -v logs="$out_dir" -v jd="$json_dir" -v T="$tmp" -v limit="$limit" -v runner="$runner" '
function key(k, line) {
    print k >>(T "/keys")
    print line >>(T "/lines")
}
{
    name = $1
    json = jd "/" name "/" name ".json"
    if ((getline x <json) <= 0) {
        print name ": CRASH: wast2json failed, counted as 1 failed:"
        while ((getline l <(T "/" name ".convert")) > 0 && n++ < 5)
            print "    " l
        failed++
        key("CRASH " name ".wast", "CRASH " name ".wast wast2json failed")
        next
    }
    close(json)
    rc = 255
    if ((getline x <(od "/" name ".rc")) > 0)
        rc = x + 0
    summary = ""
    nt = 0
    split("", tl)
    out = od "/" name ".out"
    while ((getline l <out) > 0) {
        if (l ~ /^FAIL /) {
            split(l, f, " ")
            key(f[1] " " f[2], l)
            continue
        }
        if (l ~ /^(WARN|SKIP) /)
            continue
        rest = substr(l, length(name) + 3)
        if (index(l, name ": ") == 1 && rest ~ /^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/)
            summary = l
        else if (index(l, name ": ") == 1 && rest ~ /^[0-9]+ text-format /)
            text += rest + 0
        tl[nt++ % 5] = l
    }
    close(out)
    if (summary != "") {
        split(substr(summary, length(name) + 3), c, " ")
        passed += c[1]
        failed += c[3]
        skipped += c[5]
        print summary
        if (rc != 0) {
            # Finished, but e.g. a sanitizer complained at exit (leaks): one more failure.
            print name ": CRASH: exit status " rc " after the summary (see " logs "/" name ".out)"
            for (i = (nt > 5 ? nt - 5 : 0); i < nt; i++)
                print "    " tl[i % 5]
            failed++
            key("CRASH " name ".wast", "CRASH " name ".wast exit status " rc " after the summary")
        }
        next
    }
    if (rc == 124 || rc == 137)
        why = "timed out after " limit " s"
    else if (rc == 2)
        why = "could not read its JSON"
    else if (rc > 128)
        why = "killed by signal " (rc - 128)
    else
        why = "exit status " rc
    n = 0
    cmd = "\"" runner "\" --count \"" json "\" </dev/null 2>/dev/null"
    if ((cmd | getline x) > 0)
        n = x + 0
    close(cmd)
    if (n < 1)
        n = 1
    failed += n
    print name ": CRASH: " why "; all " n " commands counted as failed (log: " logs "/" name ".out)"
    for (i = (nt > 5 ? nt - 5 : 0); i < nt; i++)
        print "    " tl[i % 5]
    key("CRASH " name ".wast", "CRASH " name ".wast " why)
    print name ".wast" >>(T "/crashed")
}
END { print passed + 0, failed + 0, skipped + 0, text + 0 >(T "/totals") }
' "$tmp/files"
read -r passed failed skipped text <"$tmp/totals"
cp "$run_dir"/*.out "$out_dir"/ 2>/dev/null

# ---- compare with the known failures (restricted to the files that ran) ----
sort -u "$tmp/keys" >"$tmp/actual"
cut -f1 "$tmp/files" | sed 's/$/.wast/' >"$tmp/ran"
if [ -f "$known" ]; then
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$known" | grep -v '^$' |
        awk 'FILENAME == ARGV[1] { ran[$1] = 1; next }
             { f = $2; sub(/:[0-9]+$/, "", f); if (f in ran) print }' "$tmp/ran" - |
        sort -u >"$tmp/known"
else
    : >"$tmp/known"
fi
comm -23 "$tmp/actual" "$tmp/known" >"$tmp/new"
# A file that crashed ran none of its listed cases: they are not "now passing".
comm -13 "$tmp/actual" "$tmp/known" |
    awk 'FILENAME == ARGV[1] { c[$1] = 1; next }
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
        awk 'FILENAME == ARGV[1] { k[$0] = 1; next } { key = $1 " " $2 } key in k' "$tmp/new" "$tmp/lines" |
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
