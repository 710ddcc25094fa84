/// <reference types="@fastly/js-compute" />
// hello_reuse.js: hello.js in a reusable sandbox (fastly:experimental setReusableSandboxOptions),
// for the serving benchmark's fresh-vs-reused comparison.
import { setReusableSandboxOptions } from "fastly:experimental";

setReusableSandboxOptions({ maxRequests: 0, betweenRequestTimeoutMs: 10000 });

addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const body = JSON.stringify({ path: url.pathname, ua: event.request.headers.get("user-agent") });
  event.respondWith(new Response(body, { headers: { "content-type": "application/json" } }));
});
