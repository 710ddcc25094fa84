/// <reference types="@fastly/js-compute" />
// imgopt_sdk.js: JS SDK guest for tests/unit/hostcalls/test_hc_image_optimizer.c. GET PATH?o=JSON
// fetches PATH from backend "origin" with `imageOptimizerOptions` = the JSON (the SDK turns them
// into the query string the fastly_image_optimizer hostcall receives) and answers the result,
// forwarding the client's Accept header; a rejection is answered as 599 with the error text.
// GET /query?o=JSON answers optionsToQueryString(JSON).
import { optionsToQueryString } from "fastly:image-optimizer";

async function handle(req) {
  const url = new URL(req.url);
  const opts = JSON.parse(url.searchParams.get("o") || "{}");
  if (url.pathname === "/query") {
    return new Response(optionsToQueryString(opts));
  }
  const headers = {};
  const accept = req.headers.get("accept");
  if (accept) {
    headers.accept = accept;
  }
  try {
    return await fetch("http://origin.test" + url.pathname, {
      backend: "origin",
      headers,
      imageOptimizerOptions: opts,
    });
  } catch (e) {
    return new Response(String(e), { status: 599 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
