#!/bin/sh
# Run each unit-test binary given as an argument, show its output, and sum the
# "<suite>: N passed, N failed" lines into one final "unit: N passed, N failed" line.
# Exits non-zero if any binary failed, crashed or printed no summary line.
passed=0
failed=0
bad=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for bin in "$@"; do
    "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$bin: no summary line (exit status $rc; crashed?)"
        bad=$((bad + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
    f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$bin: exit status $rc with no failed test"
        bad=$((bad + 1))
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "unit: $passed passed, $failed failed ($bad binaries crashed or errored)"
else
    echo "unit: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$bad" -eq 0 ]
