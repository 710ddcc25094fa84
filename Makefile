# Fastlike: one plain GNU Makefile. `make` builds bin/fastlike; `make test` runs every suite
# (normal build, then AddressSanitizer+UBSan build); `make run` serves the example guest;
# `make bench` runs the benchmarks. Sanitizer objects go to build/asan, normal ones to build/rel.
CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS := -Isrc -Isrc/engine -Iinclude -D_GNU_SOURCE
CFLAGS := -std=c11 $(OPT) $(WARN) -pthread $(EXTRA_CFLAGS)
LDLIBS := -lm -lpthread $(EXTRA_LDLIBS)

VARIANT ?= rel
B := build/$(VARIANT)
ifeq ($(VARIANT),asan)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS := $(sort $(wildcard src/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
DEPFLAGS = -MMD -MP

.PHONY: all deps test test-rel test-asan build-clang unit spec run bench bench-engine bench-serve fuzz-wasm lint clean
all: bin/fastlike

bin/fastlike: $(B)/fastlike
	@mkdir -p bin
	cp $< $@

$(B)/libfastlike.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/fastlike: $(B)/cmd/fastlike/main.o $(B)/libfastlike.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libfastlike.a tests/unit/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfastlike.a $(LDLIBS)

$(B)/spec-runner: tests/spec/runner.c $(B)/libfastlike.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfastlike.a $(LDLIBS) -ljansson

deps:
	@sh scripts/deps.sh

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

spec: deps $(B)/spec-runner
	@sh tests/spec/run.sh $(B)/spec-runner

test: deps
	$(MAKE) lint
	$(MAKE) test-rel
	$(MAKE) test-asan
	$(MAKE) build-clang
	$(MAKE) test-fuzz
	@echo "make test: all suites passed"

# The code must also build warning-free with clang (the default CC is gcc).
build-clang:
	$(MAKE) VARIANT=clang CC=clang build/clang/fastlike build/clang/spec-runner

test-rel:
	$(MAKE) VARIANT=rel all unit spec

test-asan:
	$(MAKE) VARIANT=asan unit spec

run: deps all
	@sh scripts/run.sh

bench: bench-engine bench-serve

bench-engine: deps all
	@sh bench/engine.sh

bench-serve: deps $(B)/bench-serve build/bench/js/hello.wasm build/bench/js/hello_reuse.wasm build/guests/srv_app.wasm
	@$(B)/bench-serve build/bench/js/hello.wasm build/bench/js/hello_reuse.wasm build/guests/srv_app.wasm

fuzz-wasm:
	@sh tests/fuzz/run.sh

lint:
	@sh scripts/lint.sh

clean:
	rm -rf build bin

-include $(LIB_OBJS:.o=.d) $(B)/cmd/fastlike/main.d

# ---- benchmarks, example guests, fuzzing (foundation block: bench/, examples/, tests/fuzz/) ----
# build/rel/bench-instantiate: engine load/instantiate timings (bench/bench_instantiate.c)
$(B)/bench-instantiate: bench/bench_instantiate.c $(B)/libfastlike.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfastlike.a $(LDLIBS)

# build/rel/bench-serve: per-request latency over HTTP, JS fresh vs reused vs C (bench/bench_serve.c)
$(B)/bench-serve: bench/bench_serve.c $(B)/libfastlike.a tests/unit/server/http_client.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfastlike.a $(LDLIBS)
build/bench/js/%.wasm: bench/js/%.js package.json
	@mkdir -p $(dir $@)
	@sh scripts/deps.sh
	sh scripts/build-js.sh $< $@

# JavaScript guest built with the pinned @fastly/js-compute (package.json); rebuilt when the source
# or the pinned version changes.
build/guests/%.wasm: examples/%/index.js package.json
	@mkdir -p $(dir $@)
	@sh scripts/deps.sh
	sh scripts/build-js.sh $< $@
# ---- end foundation block ----

# ---- WASI C guests (wasi block: src/wasi/, cmd/fastlike/, tests/guests/c/, tests/unit/wasi/) ----
# Test guests written in C, compiled for wasm32-wasi with the distribution's clang + wasi-libc
# (clang finds the wasi sysroot by itself). The WASI unit tests run them through the library and
# through $(B)/fastlike, so both are prerequisites of that test binary.
GUEST_CC ?= clang
GUEST_CFLAGS ?= --target=wasm32-wasi -O2 -Wall -Wextra
GUEST_C_SRCS := $(sort $(wildcard tests/guests/c/*.c))
GUEST_WASMS := $(GUEST_C_SRCS:tests/guests/c/%.c=build/guests/%.wasm)

build/guests/%.wasm: tests/guests/c/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $<

.PHONY: guests
guests: $(GUEST_WASMS)

$(B)/tests/wasi/test_wasi: $(GUEST_WASMS) $(B)/fastlike
# ---- end wasi block ----

# ---- engine unit-test modules (engine block: src/engine/, tests/unit/engine/) ----
ENGINE_WATS := $(sort $(wildcard tests/unit/engine/wat/*.wat))
ENGINE_WASMS := $(ENGINE_WATS:tests/unit/engine/wat/%.wat=build/wat/%.wasm)
build/wat/%.wasm: tests/unit/engine/wat/%.wat
	@mkdir -p $(dir $@)
	wat2wasm --debug-names -o $@ $<
$(B)/tests/engine/test_engine: $(ENGINE_WASMS)
$(B)/tests/wasi/test_js_guest: build/guests/js-hello.wasm
# ---- end engine block ----

# ---- configuration (config block: src/config/, cmd/fastlike/main.c, tests/unit/config/) ----
# The flag-named JSON files (-dictionary, -kv, -acl, -geo, ...) are read with jansson. The flag
# tests also run the binary, so it is a prerequisite of their test program.
LDLIBS += -ljansson
$(B)/tests/config/test_flags: $(B)/fastlike
$(B)/tests/config/test_flags $(B)/tests/config/test_edge $(B)/tests/server/test_config_api: tests/unit/config/tmp_files.h
# ---- end config block ----

# ---- hostcall ABI surface (abi block: tools/witx2c*, tools/abi-coverage, src/hostcalls/hc_abi*,
# src/hostcalls/hc_registry.*, tests/unit/hostcalls/test_registry.c, docs/abi-coverage.md) ----
# `make abi` regenerates the ABI table and the C guest header from third_party/abi/witx;
# `make abi-coverage` regenerates docs/abi-coverage.md (test_registry fails when either is stale).
.PHONY: abi abi-coverage
abi:
	python3 tools/witx2c


abi-coverage: $(B)/tests/hostcalls/test_registry
	$(B)/tests/hostcalls/test_registry --list-implemented > $(B)/abi-implemented.txt
	python3 tools/abi-coverage --implemented $(B)/abi-implemented.txt
# ---- end abi block ----

# ---- server (server block: src/server/, include/fastlike.h, examples/request-details/,
# scripts/run.sh, tests/unit/server/, tests/guests/c/srv_*.c) ----
# HTTP/1.1 front end on libmicrohttpd; the end-to-end tests drive it over raw sockets
# (tests/unit/server/http_client.h) so they see the exact framing.
LDLIBS += -lmicrohttpd
build/guests/srv_%.wasm: GUEST_CFLAGS += -Itests/guests/include
SRV_GUEST_WASMS := $(patsubst tests/guests/c/%.c,build/guests/%.wasm,$(wildcard tests/guests/c/srv_*.c))
$(B)/tests/server/test_http: $(SRV_GUEST_WASMS) tests/unit/server/http_client.h tests/unit/server/test_server.h
$(B)/tests/server/test_hostile: build/wat/start_spin.wasm $(SRV_GUEST_WASMS) tests/unit/server/http_client.h tests/unit/server/test_server.h
$(B)/tests/server/test_handle: $(SRV_GUEST_WASMS)
$(B)/tests/server/test_config_api: $(SRV_GUEST_WASMS)
$(B)/tests/server/test_reuse: build/guests/js/srv_reuse_js.wasm $(SRV_GUEST_WASMS) tests/unit/server/http_client.h tests/unit/server/test_server.h
# JS test guests, built with the pinned @fastly/js-compute (rebuilt when the source changes).
build/guests/js/%.wasm: tests/guests/js/%.js package.json
	@mkdir -p $(dir $@)
	@sh scripts/deps.sh
	sh scripts/build-js.sh $< $@
$(B)/tests/server/test_js: build/guests/js/srv_js.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
$(B)/tests/server/test_js_sdk: build/guests/js/sdk_basic.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
# ---- end server block ----

# ---- hostcall implementations (hostcalls block: src/hostcalls/hc_* except hc_abi*/hc_registry*,
# tests/guests/c/hc_*.c, tests/unit/hostcalls/test_hc_*.c) ----
# The hostcall test guests include the generated tests/guests/include/fastly_hostcalls.h; the
# unit tests run them in-process (tests/unit/hostcalls/hc_guest_run.h).
GUEST_CFLAGS += -Itests/guests/include
LDLIBS += -lpcre2-8
HC_GUEST_WASMS := $(patsubst tests/guests/c/%.c,build/guests/%.wasm,$(wildcard tests/guests/c/hc_*.c))
$(HC_GUEST_WASMS): tests/guests/c/hc_check.h tests/guests/include/fastly_hostcalls.h
HC_UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/hostcalls/test_hc_*.c))
$(HC_UNIT_BINS): $(HC_GUEST_WASMS) tests/unit/hostcalls/hc_guest_run.h
# ---- end hostcalls block ----

# ---- backend tests (backend-tests block: tests/unit/backend/, tests/guests/c/be_*.c,
# tests/guests/c/be_pattern.h, tests/guests/js/be_*.js) ----
# The tests run Fastlike in-process against origins of their own (tests/unit/backend/origin.c,
# libmicrohttpd, plain and TLS with a CA made by the openssl command at test time), so origin.o is
# linked into every backend test binary. FASTLIKE_TEST_BIG_MIB sets the size of the big
# pass-through test (default 1024; the asan variant uses 64).
BE_TEST_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/backend/test_*.c))
BE_GUEST_WASMS := $(patsubst tests/guests/c/%.c,build/guests/%.wasm,$(wildcard tests/guests/c/be_*.c))
BE_JS_WASMS := $(patsubst tests/guests/js/%.js,build/guests/js/%.wasm,$(wildcard tests/guests/js/be_*.js))
$(BE_GUEST_WASMS): tests/guests/c/be_pattern.h tests/guests/c/guest_util.h tests/guests/include/fastly_hostcalls.h
build/guests/srv_%.wasm: tests/guests/c/guest_util.h
$(B)/tests/backend/origin.o: tests/unit/backend/origin.c tests/unit/backend/origin.h tests/guests/c/be_pattern.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/guests/c $(CFLAGS) -c -o $@ $<
$(BE_TEST_BINS): $(B)/tests/backend/origin.o tests/unit/backend/origin.h tests/unit/server/http_client.h tests/guests/c/be_pattern.h tests/unit/backend/be_server.h tests/unit/server/test_server.h
$(BE_TEST_BINS): CPPFLAGS += -Itests/guests/c -Itests/unit/backend
$(BE_TEST_BINS): LDLIBS += $(B)/tests/backend/origin.o -lmicrohttpd -lgnutls
$(filter-out $(B)/tests/backend/test_origin,$(BE_TEST_BINS)): $(BE_GUEST_WASMS) $(BE_JS_WASMS)
$(B)/tests/backend/test_js_sdk_backend: build/guests/js/sdk_backend.wasm
# ---- end backend-tests block ----

# ---- backends (backends block: src/backend/, src/hostcalls/hc_http_req_send.c, hc_backend.c,
# hc_async_io.c, hc_pending.*, tests/unit/backend/) ----
# Outbound HTTP on libcurl's multi interface (OpenSSL, HTTP/2 through nghttp2); the backend unit
# tests run a tiny origin on libmicrohttpd. OpenSSL directly: certificate names checked without SNI.
LDLIBS += -lcurl -lssl -lcrypto -lz
# ---- end backends block ----
# ---- edge data (edge block: src/hostcalls/hc_{dictionary,config_store,secret_store,kv_store,
# object_store,log,acl,geo,device_detection,erl}*, src/config/cfg_toml*, tests for them) ----
# KV persistence (-kv-dir) on SQLite; geolocation from MaxMind .mmdb files.
LDLIBS += -lsqlite3 -lmaxminddb
# ---- end edge block ----
# ---- HTTP front end (front-end block: src/server/srv_http*.c, tests/http/, tests/unit/server/test_http_cases.c) ----
# tests/http/*.case: raw requests and the answers the front end must give (test_http_cases).
HTTP_CASES := $(wildcard tests/http/*.case)
$(B)/tests/server/test_http_cases: $(SRV_GUEST_WASMS) $(HTTP_CASES) tests/unit/server/http_client.h tests/unit/server/test_server.h
# ---- end front-end block ----

# ---- kv block: src/hostcalls/hc_kv_*, hc_object_store.*, tests/unit/hostcalls/test_hc_kv.c,
# tests/guests/c/hc_kv*.c, tests/unit/server/test_kv_js.c, tests/guests/js/kv_*.js ----
# The KV tests write their JSON seed files and -kv-dir databases into a scratch directory.
$(B)/tests/hostcalls/test_hc_kv: CPPFLAGS += -Itests/unit/config
$(B)/tests/hostcalls/test_hc_kv: tests/unit/config/tmp_files.h
# The JS test runs the binary with -kv/-kv-dir flags, and the embedding API in-process.
$(B)/tests/server/test_kv_js: CPPFLAGS += -Itests/unit/config
$(B)/tests/server/test_kv_js: $(B)/fastlike build/guests/js/kv_sdk.wasm tests/unit/config/tmp_files.h tests/unit/server/http_client.h
# ---- end kv block ----

# ---- stores block (src/hostcalls/hc_{dictionary,config_store,secret_store,log,acl,edge_handles}*,
# tests/guests/c/hc_{dictionary,secret_store,log,acl}.c, tests/guests/js/edge_stores.js,
# tests/unit/hostcalls/test_hc_{dictionary,secret_store,log,acl}.c, tests/unit/server/test_edge_stores.c) ----
# test_edge_stores runs the fastlike binary with the edge-data flags and a JS SDK guest.
$(B)/tests/server/test_edge_stores: $(B)/fastlike build/guests/js/edge_stores.wasm build/guests/srv_app.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h tests/unit/config/tmp_files.h
$(B)/tests/hostcalls/test_hc_dictionary $(B)/tests/hostcalls/test_hc_secret_store $(B)/tests/hostcalls/test_hc_log $(B)/tests/hostcalls/test_hc_acl: tests/unit/config/tmp_files.h
# ---- end stores block ----
# ---- bench-http (bench/http.sh, bench/c/hello.c): wrk against nginx and Fastlike, same run ----
.PHONY: bench-http
build/bench/c/%.wasm: bench/c/%.c tests/guests/include/fastly_hostcalls.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $<
bench-http: deps all build/bench/c/hello.wasm build/bench/js/hello.wasm
	@sh bench/http.sh bin/fastlike build/bench/c/hello.wasm build/bench/js/hello.wasm
bench: bench-http
# ---- end bench-http ----

# ---- geolocation, device detection, rate limiting (geo block: src/config/cfg_geo*,
# src/hostcalls/hc_geo*, hc_device_detection*, hc_erl*, tests for them) ----
# The geo tests build a small MaxMind database at test time (geo_test_mmdb.pl, Debian's
# libmaxmind-db-writer-perl); the end-to-end test serves a C and a JS SDK guest.
$(B)/tests/config/test_geo $(B)/tests/server/test_edge_lookups: tests/unit/config/geo_mmdb.h tests/unit/config/geo_test_mmdb.pl
$(B)/tests/config/test_geo $(B)/tests/hostcalls/test_hc_geo $(B)/tests/hostcalls/test_hc_device_detection $(B)/tests/server/test_edge_lookups: tests/unit/config/tmp_files.h
$(B)/tests/server/test_edge_lookups: build/guests/srv_edge_lookups.wasm build/guests/js/sdk_edge_lookups.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
# ---- end geo block ----

# ---- fastly.toml (toml block: src/config/cfg_toml*, cfg_fastly_toml*, tests/unit/config/test_toml*,
# test_fastly_toml.c) ----
# test_toml_suite runs the toml-test suite from ../shared/toml-test (TOML_TEST_DIR overrides) as
# part of `make unit`; test_fastly_toml also runs the binary.
$(B)/tests/config/test_fastly_toml: $(B)/fastlike
$(B)/tests/config/test_toml $(B)/tests/config/test_fastly_toml: tests/unit/config/tmp_files.h
# ---- end toml block ----

# ---- command line (cli block: cmd/fastlike/main.c, src/config/cfg_viceroy_args.*,
# src/server/srv_run.*, tests/unit/config/test_viceroy_args.c, tests/cli/) ----
$(B)/tests/config/test_viceroy_args: tests/unit/config/tmp_files.h
$(B)/tests/server/test_run: build/guests/run_main.wasm
build/guests/cli_app.wasm: tests/guests/c/guest_util.h
build/guests/cli_app_v2.wasm: tests/guests/c/cli_app.c tests/guests/c/guest_util.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DCLI_APP_VERSION='"2"' -o $@ $<
$(B)/tests/cli/test_cli: $(B)/fastlike build/guests/cli_app.wasm build/guests/run_main.wasm build/guests/wasi_hello.wasm build/guests/wasi_trap.wasm build/guests/js/run_js.wasm tests/unit/server/http_client.h
# The Fastly CLI end-to-end test (tests/cli/fastly_cli.sh, the pinned npm @fastly/cli) runs with
# the normal build, before the unit tests of `make test`.
.PHONY: test-fastly-cli
test-fastly-cli: deps $(B)/fastlike build/guests/cli_app.wasm build/guests/cli_app_v2.wasm
	@sh tests/cli/fastly_cli.sh $(B)/fastlike
test-rel: test-fastly-cli

# Fastlike's documented targets: `make build` (bin/fastlike), `make install` (PREFIX=/usr/local,
# DESTDIR for staging; VICEROY_LINK=1 adds a `viceroy` symlink so the Fastly CLI and test runners
# find it), `make build-test-wasm` (every test guest: C, WAT and JS), `make run` (above).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
.PHONY: build install build-test-wasm test-install
build: bin/fastlike
install: bin/fastlike
	install -d '$(DESTDIR)$(BINDIR)'
	install -m 755 bin/fastlike '$(DESTDIR)$(BINDIR)/fastlike'
	@if [ "$(VICEROY_LINK)" = 1 ]; then \
		echo "ln -sf fastlike '$(DESTDIR)$(BINDIR)/viceroy'"; \
		ln -sf fastlike '$(DESTDIR)$(BINDIR)/viceroy'; \
	fi
build-test-wasm: $(GUEST_WASMS) $(ENGINE_WASMS) build/guests/cli_app_v2.wasm \
	$(patsubst tests/guests/js/%.js,build/guests/js/%.wasm,$(wildcard tests/guests/js/*.js))
test-install: bin/fastlike
	@sh tests/cli/install.sh
test-rel: test-install
# ---- end cli block ----


# ---- reload block (hot reload, -watch, fastlike-verbose, backend errors as production:
# src/server/srv_live.*, srv_watch.*, src/config/cfg_edge_reread.*, tests/unit/server/test_reload.c,
# tests/guests/c/srv_version.c, bench/bench_reload.c) ----
# srv_version_b.wasm: the same guest answering "b", so a test can tell which module served it.
build/guests/srv_version_b.wasm: tests/guests/c/srv_version.c tests/guests/c/guest_util.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DGUEST_VERSION='"b"' -o $@ $<
$(B)/tests/server/test_reload: $(B)/fastlike build/guests/srv_version.wasm build/guests/srv_version_b.wasm build/guests/srv_reuse.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h tests/unit/config/tmp_files.h
# bench-reload: a JS guest reloaded through SIGHUP, signal to first new response (bench/bench_reload.c)
.PHONY: bench-reload
$(B)/bench-reload: bench/bench_reload.c tests/unit/server/http_client.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)
bench-reload: deps $(B)/bench-reload $(B)/fastlike build/bench/js/reload_a.wasm build/bench/js/reload_b.wasm
	@$(B)/bench-reload $(B)/fastlike build/bench/js/reload_a.wasm build/bench/js/reload_b.wasm
bench: bench-reload
# ---- end reload block ----


# ---- cache block (src/hostcalls/hc_cache*, hc_http_cache*, hc_readthrough*, hc_purge*,
# tests/guests/js-http-cache/, tests for them) ----
# JS guests built with the SDK's HTTP cache hooks enabled (fetch then caches through the
# fastly_http_cache hostcalls); not through scripts/build-js.sh, whose cache key has no flags.
build/guests/js-http-cache/%.wasm: tests/guests/js-http-cache/%.js package.json
	@mkdir -p $(dir $@)
	@sh scripts/deps.sh
	npx --no-install js-compute-runtime --enable-http-cache $< $@
$(B)/tests/backend/test_cache_js: build/guests/js-http-cache/cache_hooks.wasm
# ---- end cache block ----


# ---- profiler (profiler block: src/profiler/, src/profiler/web/, tests/unit/profiler/,
# tests/guests/c/prof_*.c) ----
# The viewer's files are compiled into the library: each file of src/profiler/web/ becomes a C
# array (xxd -i) in the generated $(B)/gen/prof_web.c.
PROF_WEB := $(sort $(wildcard src/profiler/web/*))
$(B)/gen/prof_web.c: $(PROF_WEB)
	@mkdir -p $(dir $@)
	{ for f in $(PROF_WEB); do xxd -i -n prof_web_$$(basename $$f | tr '.-' '__') $$f; done; } > $@.tmp && mv $@.tmp $@
$(B)/gen/prof_web.o: $(B)/gen/prof_web.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/libfastlike.a: $(B)/gen/prof_web.o
PROF_GUEST_WASMS := $(patsubst tests/guests/c/%.c,build/guests/%.wasm,$(wildcard tests/guests/c/prof_*.c))
$(PROF_GUEST_WASMS): tests/guests/c/guest_util.h tests/guests/include/fastly_hostcalls.h
PROF_TEST_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/profiler/test_*.c))
$(PROF_TEST_BINS): $(PROF_GUEST_WASMS) build/guests/srv_reuse.wasm $(B)/tests/backend/origin.o tests/unit/server/http_client.h tests/unit/server/test_server.h
$(PROF_TEST_BINS): CPPFLAGS += -Itests/unit/server -Itests/unit/backend -Itests/guests/c
$(PROF_TEST_BINS): LDLIBS += $(B)/tests/backend/origin.o -lmicrohttpd -lgnutls -ljansson
# The profiler's cost in instructions per request (callgrind; independent of machine load).
$(B)/bench-prof-instr: bench/bench_prof_instr.c $(B)/libfastlike.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libfastlike.a $(LDLIBS)
.PHONY: bench-prof-instr
bench-prof-instr: $(B)/bench-prof-instr build/guests/srv_app.wasm
	@sh bench/prof_instr.sh $(B)/bench-prof-instr build/guests/srv_app.wasm "http://bench/status?code=200"
# ---- end profiler block ----

# ---- front block: 103 Early Hints, trailers and HEAD to the client, shielding, on_behalf_of
# (src/hostcalls/hc_resp_extras.*, hc_shielding.*, hc_on_behalf_of.*, src/config/cfg_shield.*,
# tests/unit/server/test_front.c, tests/guests/c/srv_front.c, hc_front.c, tests/guests/js/front_js.js) ----
$(B)/tests/server/test_front: $(B)/fastlike build/guests/srv_front.wasm build/guests/js/front_js.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
# ---- end front block ----
# ---- image optimizer (imgopt block: src/hostcalls/hc_image_optimizer*, hc_imgopt_*,
# tests/unit/hostcalls/test_hc_image_optimizer.c, test_hc_imgopt_params.c,
# tests/guests/c/hc_image_optimizer.c, tests/guests/js/imgopt_sdk.js) ----
# fastly_image_optimizer transforms images with libvips (Debian libvips-dev). Only
# hc_imgopt_vips.c and the test that makes images see libvips's (glib's) headers; without libvips
# (no vips.pc) that file builds as a stub: images pass through untouched with Fastly-IO-Error.
# `private`: the test's flags do not leak into the library objects it depends on.
# libvips is not linked into fastlike or libfastlike: hc_imgopt_vipslib.c dlopens it (its soname,
# read here from the library compiled against) at the first transform; only the test that makes
# images links it.
VIPS_CFLAGS := $(shell pkg-config --cflags vips 2>/dev/null)
VIPS_LIBS := $(shell pkg-config --libs vips 2>/dev/null)
VIPS_SONAME := $(shell objdump -p "$$(pkg-config --variable=libdir vips 2>/dev/null)/libvips.so" 2>/dev/null | awk '/SONAME/ { print $$2 }')
ifeq ($(strip $(VIPS_LIBS)),)
$(B)/src/hostcalls/hc_imgopt_vips.o $(B)/src/hostcalls/hc_imgopt_vipslib.o: CPPFLAGS += -DFASTLIKE_NO_VIPS
$(B)/tests/hostcalls/test_hc_image_optimizer $(B)/tests/hostcalls/test_hc_imgopt_vipslib: private CPPFLAGS += -DFASTLIKE_NO_VIPS
else
$(B)/src/hostcalls/hc_imgopt_vips.o $(B)/src/hostcalls/hc_imgopt_vipslib.o: CPPFLAGS += $(VIPS_CFLAGS)
$(B)/src/hostcalls/hc_imgopt_vipslib.o: CPPFLAGS += $(if $(VIPS_SONAME),-DHC_VIPSLIB_SONAME='"$(VIPS_SONAME)"')
$(B)/tests/hostcalls/test_hc_image_optimizer: private CPPFLAGS += $(VIPS_CFLAGS)
$(B)/tests/hostcalls/test_hc_image_optimizer: private LDLIBS += $(VIPS_LIBS)
endif
$(B)/tests/hostcalls/test_hc_image_optimizer: build/guests/js/imgopt_sdk.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
$(B)/tests/hostcalls/test_hc_image_optimizer: private CPPFLAGS += -Itests/unit/server
# test_hc_imgopt_vipslib does not link libvips: it checks libvips is loaded only at first use, in
# process and in the fastlike binary (serving the JS guest), and the load-failure path.
$(B)/tests/hostcalls/test_hc_imgopt_vipslib: $(B)/fastlike build/guests/js/imgopt_sdk.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h tests/unit/server/fastlike_proc.h tests/unit/config/tmp_files.h
$(B)/tests/hostcalls/test_hc_imgopt_vipslib: private CPPFLAGS += -Itests/unit/server
# ---- end imgopt block ----
# ---- fanout block (Fanout / WebSocket handoffs: src/hostcalls/hc_fanout.*, src/server/srv_fanout.*,
# srv_relay.*, src/config/cfg_pushpin.*, tests/guests/c/hc_fanout.c, tests/guests/js/fanout_js.js,
# tests/unit/hostcalls/test_hc_fanout.c, tests/unit/server/test_fanout.c,
# tests/unit/config/test_pushpin.c) ----
# test_fanout runs a real Pushpin (Debian package pushpin, from scripts/deps.sh) started by
# Fastlike, a GRIP and a WebSocket origin of its own, and node's WebSocket client.
$(B)/tests/server/test_fanout: build/guests/js/fanout_js.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
$(B)/tests/server/test_fanout: LDLIBS += -lcrypto
$(B)/tests/server/test_fanout: $(B)/fastlike
$(B)/tests/config/test_pushpin: tests/unit/config/tmp_files.h
# ---- end fanout block ----

# ---- code health (health block: src/util/util_str.*, src/config/cfg_json.*, tests/unit/util/,
# tests/unit/config/test_json.c) ----
$(B)/tests/config/test_json: tests/unit/config/tmp_files.h
# the server tests that run the binary as a child share tests/unit/server/fastlike_proc.h
$(B)/tests/server/test_edge_stores $(B)/tests/server/test_reload $(B)/tests/server/test_kv_js: tests/unit/server/fastlike_proc.h
# uap-core's regexes.yaml is read with libyaml (src/hostcalls/hc_uap.c)
LDLIBS += -lyaml
# ---- end health block ----

# ---- tier block (the engine's native tier: src/engine/tier.c, native_*.c,
# tests/unit/engine/test_tier.c) ----
# `make spec-native`: the spec testsuite with every function the generator handles compiled to
# native code before its first call (FWE_TIER=native); part of `make test`. A cold code cache
# means one compiler run per module (const.wast alone has 700), hence the longer timeout.
.PHONY: spec-native spec-quick
# FWE_TIER_STRICT: a function left interpreted fails its file, unless the instruction responsible
# is listed here (1 lists none: the generator handles every instruction).
SPEC_NATIVE_ALLOW ?= 1
$(B)/tests/engine/test_tier: $(ENGINE_WASMS)
$(B)/tests/engine/test_tier_sample: $(ENGINE_WASMS) tests/unit/engine/wat_module.h
$(B)/tests/engine/test_tier $(B)/tests/engine/test_tier_sample $(B)/tests/engine/test_trap: tests/unit/engine/tier_test.h
$(B)/tests/engine/test_native_gen_simd: build/wat/tier_simd.wasm
spec-native: deps $(B)/spec-runner
	@FWE_TIER=native FWE_TIER_STRICT="$(SPEC_NATIVE_ALLOW)" SPEC_TIMEOUT=$${SPEC_TIMEOUT:-1200} sh tests/spec/run.sh $(B)/spec-runner
test-rel: spec-native
# `make spec-quick`: the same with tcc (the tier's quick first compiler) compiling every function
spec-quick: deps $(B)/spec-runner
	@FWE_CC=tcc FWE_TIER=native FWE_TIER_STRICT="$(SPEC_NATIVE_ALLOW)" SPEC_TIMEOUT=$${SPEC_TIMEOUT:-1200} sh tests/spec/run.sh $(B)/spec-runner
test-rel: spec-quick
# ---- end tier block ----
# ---- speed block (issue 12: src/engine/template.c reset, src/server/srv_timer.c,
# tests/unit/server/test_srv_timer.c, tests/unit/util/test_util_id.c) ----
$(B)/tests/server/test_srv_timer: build/wat/start_spin.wasm
# ---- end speed block ----
# ---- reliability block (issue 15: graceful shutdown, TSan build, soak benchmark;
# src/server/srv_inflight.*, tests/unit/server/test_shutdown.c, tests/guests/c/srv_shutdown.c,
# bench/soak*, docs/reliability.md) ----
# test_shutdown runs the binary and signals it.
$(B)/tests/server/test_shutdown: $(B)/fastlike build/guests/srv_shutdown.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h tests/unit/config/tmp_files.h tests/unit/server/fastlike_proc.h
# test_table_cap serves WAT guests that grow their table past the cap.
$(B)/tests/server/test_table_cap: build/wat/srv_table_grow.wasm build/wat/srv_table_big.wasm tests/unit/server/http_client.h tests/unit/server/test_server.h
# `make test-tsan`: the concurrency tests built with ThreadSanitizer (build/tsan), run by `make
# test`. Every data race is a failure (exit status 66); tests/tsan.supp names the few reports
# that lie in uninstrumented libraries, each with the reason.
ifeq ($(VARIANT),tsan)
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
TSAN_TESTS := server/test_http server/test_http_cases server/test_reload server/test_reuse \
	server/test_shutdown \
	engine/test_tier engine/test_tier_sample backend/test_cache_readthrough hostcalls/test_hc_cache_store hostcalls/test_hc_kv \
	hostcalls/test_hc_erl
.PHONY: test-tsan
test-tsan: deps
	$(MAKE) VARIANT=tsan $(TSAN_TESTS:%=build/tsan/tests/%)
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp second_deadlock_stack=1 $(TSAN_OPTIONS)" \
		sh tests/run-unit.sh $(TSAN_TESTS:%=build/tsan/tests/%)
test: test-tsan
# `make bench-soak`: 100k requests to the C guest and 20k to the JS guest; RSS, fds, maps and
# threads before, half-way and after (bench/soak.sh; SOAK_DOC=docs/performance.md records them).
.PHONY: bench-soak
$(B)/bench-soak-load: bench/soak_load.c tests/unit/server/http_client.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)
bench-soak: deps all $(B)/bench-soak-load build/bench/c/hello.wasm build/bench/js/hello.wasm
	@sh bench/soak.sh bin/fastlike $(B)/bench-soak-load build/bench/c/hello.wasm build/bench/js/hello.wasm
# ---- end reliability block ----
# ---- fuzz block (tests/fuzz/, docs/reliability.md) ----
# libFuzzer targets, one per tests/fuzz/fuzz_NAME.c, each with its seed corpus tests/fuzz/corpus/NAME/
# and an optional dictionary tests/fuzz/NAME.dict. The library is built once more with clang and
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzzlib/. `make test-fuzz` (part of
# `make test`) runs each target for FUZZ_SECONDS (default 15) and fails on any crash; `make fuzz`
# runs each for FUZZ_SECONDS (default 300); `make fuzz-NAME` runs one (`make fuzz-wasm` keeps its
# own runner, tests/fuzz/run.sh, seeded from the spec testsuite). tests/fuzz/regressions/NAME/
# holds every input that once crashed a target; each run replays them first.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_FLAGS := VARIANT=fuzzlib CC=clang OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
.PHONY: fuzz-build test-fuzz fuzz $(filter-out fuzz-wasm,$(FUZZ_NAMES:%=fuzz-%))
fuzz-build:
	@$(MAKE) -s --no-print-directory $(FUZZ_LIB_FLAGS) $(FUZZ_NAMES:%=build/fuzzlib/fuzz/fuzz_%)
build/fuzzlib/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzzlib/libfastlike.a $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzzlib/libfastlike.a $(LDLIBS)
test-fuzz: fuzz-build
	@sh tests/fuzz/run-all.sh -fresh $(or $(FUZZ_SECONDS),15) $(FUZZ_NAMES)
fuzz: fuzz-build
	@sh tests/fuzz/run-all.sh $(or $(FUZZ_SECONDS),300) $(FUZZ_NAMES)
$(filter-out fuzz-wasm,$(FUZZ_NAMES:%=fuzz-%)): fuzz-build
	@sh tests/fuzz/run-all.sh $(or $(FUZZ_SECONDS),300) $(@:fuzz-%=%)
# ---- end fuzz block ----
# ---- spike block (tools/spike/: issue 13's code-generator measurements; not part of `make test`) ----
# `make spike-orc` builds build/spike/spike-orc (LLVM 14's C API: IR parse, pass pipelines, ORC LLJIT)
# and build/spike/spike-gccjit (fib and the sieve loop built with libgccjit's API; needs
# libgccjit-12-dev, installed by hand: not in deps.sh, nothing in the build uses it). Neither is
# linked into fastlike. `make spike` (tools/spike/run.sh) collects the tier's generated C and runs
# both, then tools/spike/speed.sh (kernel speed with gcc's and clang's code); needs the kernels
# of `make bench-engine` built once.
.PHONY: spike-orc spike
SPIKE_LLVM_CONFIG ?= llvm-config-14
build/spike/spike-orc: tools/spike/spike_orc.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -I$$($(SPIKE_LLVM_CONFIG) --includedir) -o $@ $< $$($(SPIKE_LLVM_CONFIG) --ldflags --libs)
build/spike/spike-gccjit: tools/spike/spike_gccjit.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -o $@ $< -lgccjit
spike-orc: build/spike/spike-orc build/spike/spike-gccjit
spike: spike-orc all
	@sh tools/spike/run.sh
# ---- end spike block ----
# ---- jsbench block (issue 13's JS targets: bench/js_tier.sh, bench/tier_warmup.sh,
# examples/react-ssr; docs/performance.md) ----
# The React server-side-rendering example pins react and react-dom in its own package.json and
# package-lock.json (installed with `npm ci` into examples/react-ssr/node_modules). esbuild (a
# dependency of the pinned @fastly/js-compute) bundles it with React's production build, then
# scripts/build-js.sh compiles the bundle like every JS guest (cached by content).
examples/react-ssr/node_modules/.package-lock.json: examples/react-ssr/package.json examples/react-ssr/package-lock.json
	cd examples/react-ssr && npm ci --no-audit --no-fund
build/bench/js/react_ssr.bundle.js: examples/react-ssr/index.jsx examples/react-ssr/node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	@sh scripts/deps.sh
	node_modules/.bin/esbuild $< --bundle --jsx=automatic --define:process.env.NODE_ENV='"production"' --log-level=warning --outfile=$@
build/bench/js/react_ssr.wasm: build/bench/js/react_ssr.bundle.js package.json
	sh scripts/build-js.sh $< $@
# `make bench-js`: JS hello and React SSR per-request latency and req/s, the native tier (warmed
# up) vs the interpreter only, same run. `make bench-tier-warmup`: time until the JS guests' hot
# functions run native, from an empty code cache and from the disk cache.
.PHONY: bench-js bench-tier-warmup
bench-js: deps all build/bench/js/hello.wasm build/bench/js/react_ssr.wasm
	@nice sh bench/js_tier.sh bin/fastlike build/bench/js/hello.wasm build/bench/js/react_ssr.wasm
bench-tier-warmup: deps all build/bench/js/hello.wasm build/bench/js/react_ssr.wasm
	@nice sh bench/tier_warmup.sh bin/fastlike build/bench/js/hello.wasm build/bench/js/react_ssr.wasm
bench: bench-js bench-tier-warmup
# ---- end jsbench block ----
# ---- health2 block (code health, second pass: tests/unit/engine/wat_module.h, bench/lib.sh) ----
$(B)/tests/engine/test_engine $(B)/tests/engine/test_tier $(B)/tests/server/test_srv_timer: tests/unit/engine/wat_module.h
$(HC_UNIT_BINS) build/fuzzlib/fuzz/fuzz_hostcalls build/fuzzlib/fuzz/fuzz_uri: tests/unit/hostcalls/fake_downstream.h
# ---- end health2 block ----
