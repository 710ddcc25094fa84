/// <reference types="@fastly/js-compute" />
// srv_js.js: JS SDK guest for the server's end-to-end tests (tests/unit/server/test_js.c), routed
// by path: /inspect (request as JSON), /status (status, headers, text body), /bytes (Uint8Array
// body), /stream (ReadableStream body, streamed), /echo (request body streamed back), /empty (204),
// /cookies (repeated header), /throw (uncaught exception).
async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  switch (url.pathname) {
    case "/inspect": {
      const body = await req.text();
      return new Response(JSON.stringify({
        method: req.method,
        url: req.url,
        ip: event.client.address,
        headers: Object.fromEntries([...req.headers]),
        body,
      }), { headers: { "content-type": "application/json" } });
    }
    case "/status":
      return new Response("I'm a teapot\n", {
        status: 418,
        headers: { "x-custom": "yes", "content-type": "text/plain" },
      });
    case "/bytes":
      return new Response(new Uint8Array([104, 105, 10]));
    case "/stream": {
      const n = Number(url.searchParams.get("n") || "5");
      let i = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (i >= n) {
            controller.close();
            return;
          }
          controller.enqueue(new TextEncoder().encode(`chunk ${i++}\n`));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/plain" } });
    }
    case "/echo":
      return new Response(req.body, { headers: { "x-echo": "1" } });
    case "/empty":
      return new Response(null, { status: 204 });
    case "/cookies": {
      const headers = new Headers();
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response("ok", { headers });
    }
    case "/throw":
      throw new Error("boom from the guest");
    default:
      return new Response("not found\n", { status: 404 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
