/// <reference types="@fastly/js-compute" />
// run_js.js: JS SDK guest for `viceroy run` (tests/unit/cli/test_cli.c): logs the downstream
// request it is given and answers it; with RUN_JS_MODE=throw in its environment the handler
// throws instead.
import { env } from "fastly:env";

addEventListener("fetch", (event) => event.respondWith(handle(event)));

async function handle(event) {
  console.log(`run_js ${event.request.method} ${event.request.url}`);
  if (env("RUN_JS_MODE") === "throw") {
    throw new Error("run_js failure");
  }
  return new Response("run_js ok\n");
}
