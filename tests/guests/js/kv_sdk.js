/// <reference types="@fastly/js-compute" />
// kv_sdk.js: JS SDK guest for tests/unit/server/test_kv_js.c: KVStore from "fastly:kv-store"
// against the -kv stores. Routes (store name in ?store=, default "app"): /get?key=K (200 with the
// value and x-metadata / x-has-metadata, or 404), /put?key=K (POST body; &meta=, &mode=, &ttl=,
// &gen=), /delete?key=K, /list?prefix=&limit=&cursor= (the SDK's {list, cursor} as JSON), /walk
// (every page of a listing with ?prefix= and ?limit=: all keys and the page count), /open-unknown
// (what the constructor throws for a store that is not configured).
import { KVStore } from "fastly:kv-store";

function json(v, status = 200) {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  const q = url.searchParams;
  try {
    if (url.pathname === "/open-unknown") {
      try {
        new KVStore("no-such-store");
        return new Response("opened\n");
      } catch (e) {
        return new Response("threw: " + e.name + "\n", { status: 500 });
      }
    }
    const store = new KVStore(q.get("store") || "app");
    switch (url.pathname) {
      case "/get": {
        const entry = await store.get(q.get("key"));
        if (entry === null) return new Response("absent\n", { status: 404 });
        const meta = entry.metadataText();
        const headers = { "x-has-metadata": meta === null ? "no" : "yes" };
        if (meta !== null) headers["x-metadata"] = meta;
        return new Response(await entry.text(), { headers });
      }
      case "/put": {
        const opts = {};
        if (q.has("meta")) opts.metadata = q.get("meta");
        if (q.has("mode")) opts.mode = q.get("mode");
        if (q.has("ttl")) opts.ttl = Number(q.get("ttl"));
        if (q.has("gen")) opts.gen = Number(q.get("gen"));
        await store.put(q.get("key"), await req.text(), opts);
        return new Response("stored\n");
      }
      case "/delete": {
        await store.delete(q.get("key"));
        return new Response("deleted\n");
      }
      case "/list": {
        const opts = {};
        if (q.has("prefix")) opts.prefix = q.get("prefix");
        if (q.has("limit")) opts.limit = Number(q.get("limit"));
        if (q.has("cursor")) opts.cursor = q.get("cursor");
        const r = await store.list(opts);
        return json({ list: r.list, cursor: r.cursor === undefined ? null : r.cursor });
      }
      case "/walk": {
        const all = [];
        let cursor = undefined;
        let pages = 0;
        do {
          const opts = { limit: Number(q.get("limit") || "2") };
          if (q.has("prefix")) opts.prefix = q.get("prefix");
          if (cursor !== undefined) opts.cursor = cursor;
          const r = await store.list(opts);
          all.push(...r.list);
          cursor = r.cursor;
          pages++;
        } while (cursor !== undefined && pages < 100);
        return json({ keys: all, pages });
      }
    }
    return new Response("no route\n", { status: 404 });
  } catch (e) {
    return new Response("error: " + e.name + ": " + e.message + "\n", { status: 500 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
