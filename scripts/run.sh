#!/bin/sh
# `make run`: will serve the example guest on http://127.0.0.1:7676 once the HTTP server lands.
# Until then it says so and points at what works today.
cat <<'MSG'
fastlike: serving is not implemented yet -- the HTTP front end lands with the next issue.

What works now:
  bin/fastlike run FILE.wasm          run a wasm32-wasi command (e.g. a benchmark kernel)
  make test                           build and run every test suite (normal + ASan/UBSan)
  make bench                          engine benchmarks (see README.md)

Later: bin/fastlike -wasm bin/main.wasm -backend localhost:8000
MSG
exit 0
