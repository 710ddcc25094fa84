#!/bin/sh
# Builds a JavaScript guest with the pinned @fastly/js-compute: scripts/build-js.sh SRC.js OUT.wasm.
# Built guests are cached by content: the key is the SHA-256 of the source, package.json and
# package-lock.json, so a guest rebuilt after `make clean` or in another checkout is a copy.
# Cache: $FASTLIKE_JS_CACHE, else $XDG_CACHE_HOME/fastlike/js, else ~/.cache/fastlike/js;
# FASTLIKE_JS_CACHE=off disables it.
set -e
src=$1
out=$2
[ -n "$src" ] && [ -n "$out" ] || { echo "usage: $0 SRC.js OUT.wasm" >&2; exit 2; }
cd "$(dirname "$0")/.."
mkdir -p "$(dirname "$out")"
cache=${FASTLIKE_JS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fastlike/js}
if [ "$cache" != off ]; then
    key=$(cat "$src" package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-64)
    if [ -s "$cache/$key.wasm" ]; then
        cp "$cache/$key.wasm" "$out.tmp" && mv "$out.tmp" "$out"
        echo "js guest $out: cached build $key"
        exit 0
    fi
fi
npx --no-install js-compute-runtime "$src" "$out"
if [ "$cache" != off ] && mkdir -p "$cache" 2>/dev/null; then
    cp "$out" "$cache/$key.wasm.$$" 2>/dev/null && mv "$cache/$key.wasm.$$" "$cache/$key.wasm" || true
fi
