#!/bin/sh
# install.sh: `make install` into a temporary DESTDIR: bin/fastlike lands in $(PREFIX)/bin, the
# `viceroy` symlink (relative, so the staged tree can move) only with VICEROY_LINK=1, and the
# installed viceroy answers as Viceroy does.
set -u
cd "$(dirname "$0")/../.."
passed=0
failed=0
check() {
    desc=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)) && echo "FAIL $desc"; fi
}
T=$(mktemp -d "${TMPDIR:-/tmp}/fastlike-install-XXXXXX")
trap 'rm -rf "$T"' EXIT
MAKE=${MAKE:-make}

$MAKE --no-print-directory -s install DESTDIR="$T/a" PREFIX=/opt/fl >"$T/a.log" 2>&1
check "make install exits 0" [ $? -eq 0 ]
check "fastlike installed executable" [ -x "$T/a/opt/fl/bin/fastlike" ]
check "no viceroy link without VICEROY_LINK=1" [ ! -e "$T/a/opt/fl/bin/viceroy" ]
check "the installed binary runs" sh -c "'$T/a/opt/fl/bin/fastlike' --version | grep -q '^fastlike '"

$MAKE --no-print-directory -s install DESTDIR="$T/b" VICEROY_LINK=1 >"$T/b.log" 2>&1
check "make install VICEROY_LINK=1 exits 0" [ $? -eq 0 ]
check "default PREFIX is /usr/local" [ -x "$T/b/usr/local/bin/fastlike" ]
check "viceroy is a symlink" [ -L "$T/b/usr/local/bin/viceroy" ]
check "the link is relative" [ "$(readlink "$T/b/usr/local/bin/viceroy")" = fastlike ]
check "installed viceroy --version" [ "$("$T/b/usr/local/bin/viceroy" --version)" = "viceroy 0.20.1" ]
# installing again over an existing tree works (the link is replaced)
$MAKE --no-print-directory -s install DESTDIR="$T/b" VICEROY_LINK=1 >"$T/c.log" 2>&1
check "make install again exits 0" [ $? -eq 0 ]

[ "$failed" -ne 0 ] && cat "$T"/*.log
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
