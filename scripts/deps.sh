#!/bin/sh
# Install what Fastlike needs to build, test and benchmark, only if missing. Idempotent and fast
# (< 1 s) when everything is present: one dpkg-query, a few `command -v`, a node_modules check.
# Debian bookworm packages via apt-get (sudo only when not root); npm packages pinned in package.json.
set -eu
cd "$(dirname "$0")/.."

# package:command pairs; a package whose command is already on PATH counts as present (node and npm
# may come from another source, e.g. NodeSource, whose nodejs bundles npm).
PKGS="build-essential gcc clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev wabt
libjansson-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libssl-dev zlib1g-dev pkg-config nodejs:node npm:npm
hyperfine python3 uap-core libpcre2-dev libsqlite3-dev libmaxminddb-dev libyaml-dev wrk nginx-light:nginx openssl:openssl ca-certificates curl:curl nghttp2-server
libmaxmind-db-writer-perl tzdata
libvips-dev
pushpin:pushpin
xxd:xxd chromium:chromium clang-format:clang-format
tcc:tcc"

installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' 2>/dev/null | awk '$2 == "installed" {print $1}')
missing=""
for spec in $PKGS; do
    pkg=${spec%%:*}
    cmd=""
    [ "$pkg" != "$spec" ] && cmd=${spec#*:}
    if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
        continue
    fi
    if printf '%s\n' "$installed" | grep -qx "$pkg"; then
        continue
    fi
    missing="$missing $pkg"
done

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    echo "deps: apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    echo "deps: apt-get install$missing"
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# npm packages (pinned in package.json / package-lock.json), installed into node_modules if missing.
if [ ! -f node_modules/@fastly/js-compute/package.json ] ||
    [ ! -f node_modules/@fastly/cli/package.json ]; then
    if [ -f package-lock.json ]; then
        echo "deps: npm ci"
        # npm 11's ci insists on lock entries for other platforms' optional packages (e.g.
        # @fastly/cli-darwin-arm64) that a lock written on Linux does not hold; install from the
        # same lock then.
        npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
            npm install --no-audit --no-fund --no-save --loglevel=error
    else
        echo "deps: npm install"
        npm install --no-audit --no-fund --loglevel=error
    fi
fi
