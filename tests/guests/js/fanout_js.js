/// <reference types="@fastly/js-compute" />
// fanout_js.js: JS SDK guest for the Fanout / WebSocket handoff tests (tests/unit/server/
// test_fanout.c), routed by path: /stream/... hands the request to Fanout (backend "grip"),
// /ws/... to the WebSocket backend "echo", /ws-unknown to a backend that does not exist,
// /wss/... and /wss-untrusted/... to the TLS WebSocket backends "echotls" (its CA configured)
// and "echobad" (not trusted), /fanout-unknown to a Fanout route that does not exist,
// /rewritten hands over a new request (other path, an added header) through Fanout, anything
// else answers "plain".
import { createFanoutHandoff } from "fastly:fanout";
import { createWebsocketHandoff } from "fastly:websocket";

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  if (url.pathname.startsWith("/stream/"))
    return createFanoutHandoff(req, "grip");
  if (url.pathname.startsWith("/ws/"))
    return createWebsocketHandoff(req, "echo");
  if (url.pathname.startsWith("/wss/"))
    return createWebsocketHandoff(req, "echotls");
  if (url.pathname.startsWith("/wss-untrusted/"))
    return createWebsocketHandoff(req, "echobad");
  if (url.pathname === "/ws-unknown")
    return createWebsocketHandoff(req, "nosuchbackend");
  if (url.pathname === "/fanout-unknown")
    return createFanoutHandoff(req, "nosuchroute");
  if (url.pathname === "/rewritten") {
    const other = new Request("http://example.com/stream/rewritten?x=1", {
      headers: { "x-added": "by-guest", "user-agent": req.headers.get("user-agent") || "" },
    });
    return createFanoutHandoff(other, "grip");
  }
  return new Response("plain\n", { headers: { "content-type": "text/plain" } });
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
