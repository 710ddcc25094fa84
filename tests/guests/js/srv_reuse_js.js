/// <reference types="@fastly/js-compute" />
// srv_reuse_js.js: a JS SDK guest that asks for a reusable sandbox (fastly:experimental
// setReusableSandboxOptions); its module-level counter shows whether requests share an instance.
import { setReusableSandboxOptions } from "fastly:experimental";

setReusableSandboxOptions({ maxRequests: 0, betweenRequestTimeoutMs: 3000 });

let served = 0;
addEventListener("fetch", (event) => {
  served++;
  const url = new URL(event.request.url);
  event.respondWith(
    new Response(`served=${served} path=${url.pathname}`, {
      headers: { "x-served": String(served) },
    }),
  );
});
