/// <reference types="@fastly/js-compute" />
// sdk_backend.js: JS SDK guest for tests/unit/backend/test_js_sdk_backend.c: typical fetch
// programs against the test origin (tests/unit/backend/origin.h), backend "origin" unless x-backend
// names another. Routes: /text (fetch a URL string with a body string and headers, read the
// origin's answer with resp.json()), /upload-stream?n=N (a ReadableStream request body of N bytes),
// /upload-buffer?n=N (an ArrayBuffer body), /big?n=N (the origin's N bytes read with arrayBuffer()
// and summarised), /cookies (the origin's repeated Set-Cookie passed on and counted), /parallel
// (three fetches at once with Promise.all), /cache?mode=M (fetch with a CacheOverride), /dynamic
// (fetch through `new Backend({...})` from x-dyn-target), /unknown (fetch to a backend that is not
// configured: the rejection reported as 599), /modify (the origin's response with headers edited),
// /fnv?n=N (the origin's body hashed through a stream reader), /no-follow (a 302 not followed),
// /implicit (fetch without a backend), /same-name-twice and /static-name (Backend name clashes),
// /head, /exists, /after (fetch in waitUntil), /transform?n=N (TransformStream), /upload-downstream
// (the request body as fetch body), /first-byte-timeout, /race and /race-fast (fetch vs timer).
import { Backend } from "fastly:backend";
import { CacheOverride } from "fastly:cache-override";
import { allowDynamicBackends } from "fastly:experimental";

allowDynamicBackends(true);

function fnv(bytes, h) {
  // FNV-1a 64 as in be_pattern.h, on BigInt (slow but exact)
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  const backend = req.headers.get("x-backend") || "origin";
  const n = Number(url.searchParams.get("n") || "0");
  try {
    switch (url.pathname) {
      case "/text": {
        const resp = await fetch("http://origin.test/echo/text?q=1", {
          backend,
          method: "PUT",
          body: "a string body",
          headers: { "x-sent": "yes", "content-type": "text/plain" },
        });
        const info = await resp.json();
        return Response.json({
          status: resp.status,
          method: info.method,
          url: info.url,
          body_bytes: info.body_bytes,
          sent: resp.headers.get("x-echo-h-x-sent"),
          host: resp.headers.get("x-echo-h-host"),
        });
      }
      case "/upload-stream": {
        let sent = 0;
        const chunk = new Uint8Array(10000).fill(120);
        const body = new ReadableStream({
          pull(controller) {
            if (sent >= n) { controller.close(); return; }
            const k = Math.min(chunk.length, n - sent);
            controller.enqueue(k === chunk.length ? chunk : chunk.slice(0, k));
            sent += k;
          },
        });
        const resp = await fetch("http://origin.test/echo/stream", { backend, method: "POST", body });
        await resp.arrayBuffer();
        return new Response(`${resp.headers.get("x-echo-body-bytes")}\n`);
      }
      case "/upload-buffer": {
        const body = new Uint8Array(n).fill(121).buffer;
        const resp = await fetch("http://origin.test/echo/buffer", { backend, method: "POST", body });
        await resp.text();
        return new Response(`${resp.headers.get("x-echo-body-bytes")} ${resp.headers.get("x-echo-h-content-length")}\n`);
      }
      case "/big": {
        const resp = await fetch(`http://origin.test/big?n=${n}`, { backend });
        const bytes = new Uint8Array(await resp.arrayBuffer());
        return new Response(`${resp.status} ${bytes.length} ${bytes[0]} ${bytes[bytes.length - 1]}\n`);
      }
      case "/cookies": {
        const resp = await fetch("http://origin.test/status/200?h=Set-Cookie:a=1&h=Set-Cookie:b=2&h=X-Multi:m1&h=X-Multi:m2&body=c", { backend });
        const headers = new Headers(resp.headers);
        headers.set("x-cookie-count", String(resp.headers.getSetCookie().length));
        headers.set("x-multi-get", resp.headers.get("x-multi"));
        return new Response(resp.body, { status: resp.status, headers });
      }
      case "/parallel": {
        const rs = await Promise.all([1, 2, 3].map((i) =>
          fetch(`http://origin.test/status/20${i}?body=r${i}`, { backend }).then(async (r) => `${r.status}:${await r.text()}`)));
        return new Response(rs.join(",") + "\n");
      }
      case "/cache": {
        const mode = url.searchParams.get("mode");
        const co = mode === "override" ? new CacheOverride("override", { ttl: 60, swr: 10, surrogateKey: "k1 k2", pci: true }) : new CacheOverride(mode);
        const resp = await fetch("http://origin.test/echo/cache", { backend, cacheOverride: co });
        const info = await resp.json();
        return new Response(`${resp.status} ${info.method}\n`);
      }
      case "/dynamic": {
        const be = new Backend({ name: "dyn-" + req.headers.get("x-dyn-name"), target: req.headers.get("x-dyn-target"), connectTimeout: 5000 });
        const resp = await fetch("http://origin.test/echo/dyn", { backend: be });
        return new Response(resp.body, { status: resp.status, headers: { "x-host": resp.headers.get("x-echo-h-host") || "", "x-url": resp.headers.get("x-echo-url") || "" } });
      }
      case "/unknown": {
        const resp = await fetch("http://origin.test/echo", { backend: "no-such-backend" });
        return new Response(`unexpected ${resp.status}\n`);
      }
      case "/modify": {
        const resp = await fetch("http://origin.test/status/203?h=X-Drop:1&h=X-Keep:2&body=modified", { backend });
        resp.headers.delete("x-drop");
        resp.headers.set("x-added", "3");
        return resp;
      }
      case "/fnv": {
        const resp = await fetch(`http://origin.test/big?n=${n}`, { backend });
        const reader = resp.body.getReader();
        let h = 0xcbf29ce484222325n;
        let total = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.length;
          h = fnv(value, h);
        }
        return new Response(`${total} ${h.toString(16).padStart(16, "0")}\n`);
      }
      case "/no-follow": {
        const resp = await fetch("http://origin.test/status/302?h=Location:/echo/elsewhere&body=moved", { backend });
        return new Response(`${resp.status} ${resp.headers.get("location")} ${await resp.text()}\n`);
      }
      case "/implicit": {
        const resp = await fetch(`http://${req.headers.get("x-dyn-target")}/echo/implicit`);
        return new Response(`${resp.status} ${resp.headers.get("x-echo-url")}\n`);
      }
      case "/same-name-twice": {
        const opts = { name: "twice", target: req.headers.get("x-dyn-target") };
        new Backend(opts);
        try {
          new Backend(opts);
          return new Response("second registration accepted\n");
        } catch (e) {
          return new Response("second: " + String(e) + "\n", { status: 409 });
        }
      }
      case "/static-name": {
        try {
          new Backend({ name: backend, target: req.headers.get("x-dyn-target") });
          return new Response("accepted\n");
        } catch (e) {
          return new Response("static: " + String(e) + "\n", { status: 409 });
        }
      }
      case "/head": {
        const resp = await fetch("http://origin.test/big?n=1000", { backend, method: "HEAD" });
        const body = await resp.arrayBuffer();
        return new Response(`${resp.status} ${body.byteLength} ${resp.headers.get("content-length")}\n`);
      }
      case "/after": {
        event.waitUntil(fetch("http://origin.test/echo/after-response", { backend }).then(async (r) => console.log(`waitUntil fetch: ${r.status} ${(await r.json()).url}`)));
        return new Response("sent first\n");
      }
      case "/transform": {
        const resp = await fetch(`http://origin.test/big?n=${n}`, { backend });
        let seen = 0;
        const t = new TransformStream({ transform(chunk, c) { seen += chunk.length; c.enqueue(chunk); }, flush() { console.log(`transform saw ${seen}`); } });
        return new Response(resp.body.pipeThrough(t), { status: resp.status, headers: { "x-transformed": "1" } });
      }
      case "/upload-downstream": {
        const resp = await fetch("http://origin.test/echo/up", { backend, method: "POST", body: req.body, headers: { "x-len": req.headers.get("content-length") || "none" } });
        return new Response(`${resp.headers.get("x-echo-body-bytes")} ${resp.headers.get("x-echo-body-fnv")}\n`);
      }
      case "/first-byte-timeout": {
        const be = new Backend({ name: "slowbe", target: req.headers.get("x-dyn-target"), firstByteTimeout: 200 });
        const resp = await fetch("http://origin.test/slow?first=3000&n=10", { backend: be });
        return new Response(`unexpected ${resp.status}\n`);
      }
      case "/race": {
        const slow = fetch(`http://origin.test/slow?first=${n}&n=3`, { backend }).then((r) => `fetch ${r.status}`);
        const timer = new Promise((res) => setTimeout(() => res("timer"), 100));
        return new Response(`${await Promise.race([slow, timer])}\n`);
      }
      case "/race-fast": {
        const fast = fetch("http://origin.test/status/200?body=quick", { backend }).then(async (r) => `fetch ${await r.text()}`);
        const timer = new Promise((res) => setTimeout(() => res("timer"), 20000));
        return new Response(`${await Promise.race([fast, timer])}\n`);
      }
      case "/exists":
        return new Response(`${Backend.exists(backend)} ${Backend.exists("nope")} ${Backend.fromName(backend).name}\n`);
      default:
        return new Response("no route\n", { status: 404 });
    }
  } catch (e) {
    return new Response("error: " + String(e) + "\n", { status: 599 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
