/// <reference types="@fastly/js-compute" />
// be_js.js: JS SDK guest for the backend tests (tests/unit/backend/test_backend_js.c), routed by
// path (the prefix is dropped before the origin sees the path): /fetch/... passes the request to the backend named by x-backend (default "origin") with
// fetch(req, {backend}) and returns the response as is (streamed); /copy/... does the same but
// re-wraps the body in a new Response (a stream through the JS runtime); /dynamic/... creates
// `new Backend({name, target, ...})` from the x-dyn-* headers (dynamic backends allowed) and fetches
// through it, adding x-be-* headers from the Backend object; /health/NAME answers
// Backend.health(NAME); /refused fetches from the backend and reports a rejection as 599.
import { Backend } from "fastly:backend";
import { allowDynamicBackends } from "fastly:experimental";

allowDynamicBackends(true);

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  const backend = req.headers.get("x-backend") || "origin";
  const path = url.pathname;
  // the origin sees the path without the route prefix: /fetch/echo -> /echo
  const strip = (prefix) => {
    const u = new URL(req.url);
    u.pathname = path.slice(prefix.length - 1);
    return u.toString();
  };
  try {
    if (path.startsWith("/fetch/")) {
      return await fetch(new Request(strip("/fetch/"), req), { backend });
    }
    if (path.startsWith("/copy/")) {
      const resp = await fetch(new Request(strip("/copy/"), req), { backend });
      const headers = new Headers(resp.headers);
      headers.set("x-copied", "yes");
      return new Response(resp.body, { status: resp.status, headers });
    }
    if (path.startsWith("/dynamic/")) {
      const opts = {
        name: req.headers.get("x-dyn-name"),
        target: req.headers.get("x-dyn-target"),
      };
      if (req.headers.get("x-dyn-host-override")) opts.hostOverride = req.headers.get("x-dyn-host-override");
      if (req.headers.get("x-dyn-first-byte-timeout")) opts.firstByteTimeout = Number(req.headers.get("x-dyn-first-byte-timeout"));
      if (req.headers.get("x-dyn-tls") === "1") {
        opts.useSSL = true;
        const ca = await req.text();
        if (ca) opts.caCertificate = ca;
        if (req.headers.get("x-dyn-cert-hostname")) opts.certificateHostname = req.headers.get("x-dyn-cert-hostname");
      }
      const be = new Backend(opts);
      const out = new Request(strip("/dynamic/"), { method: "GET", headers: { "x-from": "js-dynamic" } });
      const resp = await fetch(out, { backend: be });
      const headers = new Headers(resp.headers);
      headers.set("x-be-name", be.name);
      headers.set("x-be-target", be.target);
      headers.set("x-be-dynamic", String(be.isDynamic));
      headers.set("x-be-ssl", String(be.isSSL));
      return new Response(resp.body, { status: resp.status, headers });
    }
    if (path.startsWith("/health/")) {
      const name = path.slice("/health/".length);
      return new Response(String(Backend.health(name)) + "\n");
    }
    return new Response("no route\n", { status: 404 });
  } catch (e) {
    return new Response("error: " + String(e) + "\n", { status: 599, headers: { "x-error": String(e).slice(0, 200) } });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
