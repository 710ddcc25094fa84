/// <reference types="@fastly/js-compute" />
// front_js.js: JS SDK guest for tests/unit/server/test_front.c: /hints sends a 103 with
// event.sendEarlyHints, then "hinted"; /shield uses the Shield class for "pdx-or-us": on the shield
// (runningOn) it answers "from the shield" with x-served-by: shield, else it fetches the request
// through shield.unencryptedBackend() and passes the answer on with x-edge: 1 and
// x-shield-backend: the backend's name.
import { Shield } from "fastly:shielding";

async function handle(event) {
  const url = new URL(event.request.url);
  if (url.pathname === "/hints") {
    event.sendEarlyHints({ link: "</style.css>; rel=preload; as=style" });
    return new Response("hinted");
  }
  if (url.pathname === "/shield") {
    const shield = new Shield("pdx-or-us");
    if (shield.runningOn())
      return new Response("from the shield", { headers: { "x-served-by": "shield" } });
    const backend = shield.unencryptedBackend({ firstByteTimeout: 20000 });
    const got = await fetch(event.request, { backend });
    const headers = new Headers(got.headers);
    headers.set("x-edge", "1");
    headers.set("x-shield-backend", backend.name);
    return new Response(got.body, { status: got.status, headers });
  }
  return new Response("no such path", { status: 404 });
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
