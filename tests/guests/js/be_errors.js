/// <reference types="@fastly/js-compute" />
// be_errors.js: JS SDK guest for tests/unit/backend/test_backend_errors.c: backend failures as a
// guest sees them, and calls through Fastlike itself. Routes:
//   /fetch   fetch x-url from the configured backend named by x-backend; answers "ok STATUS", or
//            599 "rejected: NAME: MESSAGE" when the fetch rejects (the guest's own error path)
//   /dyn     the same through a dynamic backend to x-dyn-target (x-tls: 1 for TLS, x-first-byte:
//            first-byte timeout in ms)
//   /self    fetches /leaf from this same service (x-self: its address) and answers
//            "self STATUS BODY"
//   /leaf    answers "leaf"
//   /loop    fetches /loop from this same service, forever: answers what came back
//   /props   the properties of backend x-backend as JSON (null for what nobody set)
//   /cipher  fetch https://localhost/echo through a dynamic TLS backend to x-dyn-target with the
//            cipher list x-ciphers, trusting the CA in x-ca (base64 PEM)
import { Backend } from "fastly:backend";
import { allowDynamicBackends } from "fastly:experimental";

allowDynamicBackends(true);

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  try {
    switch (url.pathname) {
      case "/fetch": {
        const resp = await fetch(req.headers.get("x-url"), { backend: req.headers.get("x-backend") });
        await resp.arrayBuffer();
        return new Response(`ok ${resp.status}\n`);
      }
      case "/dyn": {
        const opts = { name: "dyn", target: req.headers.get("x-dyn-target") };
        if (req.headers.get("x-tls") === "1") opts.useSSL = true;
        const fb = req.headers.get("x-first-byte");
        if (fb) opts.firstByteTimeout = Number(fb);
        const be = new Backend(opts);
        const resp = await fetch(req.headers.get("x-url"), { backend: be });
        await resp.arrayBuffer();
        return new Response(`ok ${resp.status}\n`);
      }
      case "/self":
      case "/loop": {
        const be = new Backend({ name: "self", target: req.headers.get("x-self") });
        const path = url.pathname === "/self" ? "/leaf" : "/loop";
        const resp = await fetch(`http://${req.headers.get("x-self")}${path}`, {
          backend: be,
          headers: { "x-self": req.headers.get("x-self") },
        });
        const text = await resp.text();
        if (url.pathname === "/loop")
          return new Response(text, { status: resp.status });
        return new Response(`self ${resp.status} ${text}`);
      }
      case "/props": {
        const b = Backend.fromName(req.headers.get("x-backend"));
        return Response.json({
          connectTimeout: b.connectTimeout,
          firstByteTimeout: b.firstByteTimeout,
          betweenBytesTimeout: b.betweenBytesTimeout,
          tlsMinVersion: b.tlsMinVersion,
          tlsMaxVersion: b.tlsMaxVersion !== undefined ? b.tlsMaxVersion : b.tlsMaxversion,
          isSSL: b.isSSL,
        });
      }
      case "/cipher": {
        const be = new Backend({
          name: "tls",
          target: req.headers.get("x-dyn-target"),
          hostOverride: "localhost",
          useSSL: true,
          sniHostname: "localhost",
          certificateHostname: "localhost",
          caCertificate: atob(req.headers.get("x-ca")),
          ciphers: req.headers.get("x-ciphers"),
        });
        const resp = await fetch("https://localhost/echo", { backend: be });
        await resp.arrayBuffer();
        return new Response(`ok ${resp.status}\n`);
      }
      case "/leaf":
        return new Response("leaf");
    }
    return new Response("no route\n", { status: 404 });
  } catch (e) {
    return new Response(`rejected: ${e.name}: ${e.message}\n`, { status: 599 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
