/// <reference types="@fastly/js-compute" />
// hello.js: the serving benchmark's JS guest (bench/bench_serve.c): a small JSON answer built
// from the request. hello_reuse.js is the same handler in a reusable sandbox.
addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const body = JSON.stringify({ path: url.pathname, ua: event.request.headers.get("user-agent") });
  event.respondWith(new Response(body, { headers: { "content-type": "application/json" } }));
});
