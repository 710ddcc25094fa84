/// <reference types="@fastly/js-compute" />
// cache_hooks.js: JS SDK guest built with --enable-http-cache (so fetch caches through the HTTP
// cache API, fastly_http_cache) for tests/unit/backend/test_cache_js.c. /fetch?path=P&mode=M
// fetches origin P: M = plain (no override), hooks (afterSend sets x-after-send on the stored
// response and a TTL of 120 s), uncacheable (afterSend says cache: 'uncacheable'). The answer:
// the origin's body, with x-cached, x-stale, x-ttl, x-after (the stored header) from the response.
import { CacheOverride } from "fastly:cache-override";

async function handle(event) {
  const url = new URL(event.request.url);
  const mode = url.searchParams.get("mode") || "plain";
  const init = { backend: "origin" };
  if (mode === "hooks") {
    init.cacheOverride = new CacheOverride({
      afterSend(resp) {
        resp.headers.set("x-after-send", "yes");
        resp.ttl = 120;
      },
    });
  } else if (mode === "uncacheable") {
    init.cacheOverride = new CacheOverride({
      afterSend() {
        return { cache: "uncacheable" };
      },
    });
  }
  try {
    const resp = await fetch("http://origin.test" + url.searchParams.get("path"), init);
    const text = await resp.text();
    return new Response(text, {
      status: resp.status,
      headers: {
        "x-cached": String(resp.cached),
        "x-stale": String(resp.stale),
        "x-ttl": String(resp.ttl),
        "x-after": resp.headers.get("x-after-send") || "none",
      },
    });
  } catch (e) {
    return new Response("error: " + e, { status: 599 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
