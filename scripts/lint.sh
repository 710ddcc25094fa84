#!/bin/sh
# Lint: ban unsafe C library calls (STYLE.md rule 10) and absolute machine paths in src/, cmd/, tests/.
# Prints every offending line as file:line: text; exits non-zero if any.
cd "$(dirname "$0")/.."
dirs=""
for d in src cmd tests; do [ -d "$d" ] && dirs="$dirs $d"; done
[ -z "$dirs" ] && { echo "lint: nothing to check"; exit 0; }
status=0

# A banned name followed by '(' and not preceded by an identifier character (so my_strcpy( and
# strcpy_s( are fine, but strcpy( and (strcpy)( are not). Comments are not exempt: keep them out.
# shellcheck disable=SC2086
hits=$(grep -rnE --include='*.c' --include='*.h' \
    '(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi)[[:space:]]*\(' $dirs)
if [ -n "$hits" ]; then
    echo "lint: banned functions (use memcpy/snprintf/strtol/explicit lengths):"
    echo "$hits"
    status=1
fi

# Absolute paths of this machine must not leak into sources or tests; use paths relative to the repo.
# shellcheck disable=SC2086
hits=$(grep -rnE '/(work|root)/' $dirs --exclude-dir=node_modules)
if [ -n "$hits" ]; then
    echo "lint: absolute machine paths (use repo-relative paths):"
    echo "$hits"
    status=1
fi

# Variable-length arrays are banned too (STYLE.md rule 10); the compiler finds them reliably.
if command -v cc >/dev/null 2>&1; then
    files=$(find $dirs -name '*.c' 2>/dev/null)
    for f in $files; do
        out=$(cc -std=c11 -fsyntax-only -Werror=vla -Isrc -Isrc/engine -Iinclude -Itests/unit \
            -D_GNU_SOURCE "$f" 2>&1 | grep -E 'variable length array|-Wvla')
        if [ -n "$out" ]; then
            echo "lint: variable-length array in $f:"
            echo "$out"
            status=1
        fi
    done
fi

# Formatting (.clang-format): every C file we write must be as clang-format leaves it. Generated
# files (tools/witx2c output) and third-party code are exempt.
if ! command -v clang-format >/dev/null 2>&1; then
    echo "lint: clang-format not found (run scripts/deps.sh)"
    status=1
elif [ -d .git ]; then
    # shellcheck disable=SC2046
    out=$(git ls-files '*.c' '*.h' | grep -v -E '^third_party/|^src/hostcalls/hc_abi_table\.c$|^tests/guests/include/fastly_hostcalls\.h$' |
        xargs clang-format --dry-run -Werror 2>&1 | grep -E '^[^ ].*: (error|warning):' | cut -d: -f1 | sort -u)
    if [ -n "$out" ]; then
        echo "lint: not formatted (run: clang-format -i FILE):"
        echo "$out"
        status=1
    fi
fi

[ $status -eq 0 ] && echo "lint: ok"
exit $status
