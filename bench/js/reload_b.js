/// <reference types="@fastly/js-compute" />
// reload_b.js: one of the two JS guests of the reload benchmark (bench/bench_reload.c), which
// swaps reload_a and reload_b and waits for the answer to change ("version=a" / "version=b").
addEventListener("fetch", (event) => event.respondWith(new Response("version=b")));
