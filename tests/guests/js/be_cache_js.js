/// <reference types="@fastly/js-compute" />
// be_cache_js.js: JS SDK guest for tests/unit/backend/test_cache_js.c: the cache as JavaScript
// programs use it. Routes:
//   /simple?key=K          SimpleCache.getOrSet(K) whose setter yields the x-value header (ttl 60 s)
//   /simple-purge?key=K    SimpleCache.purge(K, {scope: global, or ?scope=pop})
//   /core-insert?key=K     CoreCache.insert(K, {maxAge: 60 s}) of the x-value header
//   /core-lookup?key=K     CoreCache.lookup(K): "miss", or "hit:" + the body
//   /core-txn?key=K        CoreCache.transactionLookup(K): "inserted" (writing x-value) when it must
//                          insert, else "found:" + the body
//   /fetch?path=P&mode=M   fetch(origin P) with new CacheOverride(M, {ttl: 60}) for M = override,
//                          or CacheOverride("pass"); the origin's body, its x-cache as x-got-cache
import { SimpleCache, CoreCache } from "fastly:cache";
import { CacheOverride } from "fastly:cache-override";

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  const key = url.searchParams.get("key") || "k";
  const value = req.headers.get("x-value") || "";
  try {
    switch (url.pathname) {
      case "/simple": {
        const e = await SimpleCache.getOrSet(key, async () => ({ value, ttl: 60 }));
        return new Response(await e.text());
      }
      case "/simple-purge": {
        SimpleCache.purge(key, { scope: url.searchParams.get("scope") || "global" });
        return new Response("purged");
      }
      case "/core-insert": {
        const w = CoreCache.insert(key, { maxAge: 60_000 });
        w.append(value);
        w.close();
        return new Response("inserted");
      }
      case "/core-lookup": {
        const e = CoreCache.lookup(key);
        if (!e) return new Response("miss");
        return new Response("hit:" + (await new Response(e.body()).text()));
      }
      case "/core-txn": {
        const e = CoreCache.transactionLookup(key);
        const st = e.state();
        if (st.mustInsertOrUpdate()) {
          const w = e.insert({ maxAge: 60_000 });
          w.append(value);
          w.close();
          return new Response("inserted");
        }
        return new Response("found:" + (await new Response(e.body()).text()));
      }
      case "/fetch": {
        const mode = url.searchParams.get("mode") || "override";
        const co = mode === "pass" ? new CacheOverride("pass") : new CacheOverride(mode, { ttl: 60 });
        const resp = await fetch("http://origin.test" + url.searchParams.get("path"), {
          backend: "origin",
          cacheOverride: co,
        });
        const text = await resp.text();
        return new Response(text, {
          status: resp.status,
          headers: { "x-got-cache": resp.headers.get("x-cache") || "none" },
        });
      }
    }
    return new Response("no route", { status: 404 });
  } catch (e) {
    return new Response("error: " + e, { status: 599 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
