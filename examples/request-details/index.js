/// <reference types="@fastly/js-compute" />
// request-details: the example guest `make run` serves. Answers every request with an HTML page
// listing what the guest sees of it: method, URL, HTTP version, client address, headers, the
// FASTLY_* environment and the size of the body. `?format=json` gives the same as JSON.
import { env } from "fastly:env";

const ENV_NAMES = [
  "FASTLY_HOSTNAME", "FASTLY_POP", "FASTLY_REGION", "FASTLY_SERVICE_ID",
  "FASTLY_SERVICE_VERSION", "FASTLY_TRACE_ID", "FASTLY_CACHE_GENERATION",
  "FASTLY_CUSTOMER_ID", "FASTLY_IS_STAGING",
];

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function rows(pairs) {
  return pairs
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("\n");
}

async function handle(event) {
  const req = event.request;
  const url = new URL(req.url);
  const body = req.body ? await req.arrayBuffer() : new ArrayBuffer(0);
  const details = {
    method: req.method,
    url: req.url,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    clientIp: event.client.address,
    headers: Object.fromEntries([...req.headers]),
    bodyBytes: body.byteLength,
    env: Object.fromEntries(ENV_NAMES.map((n) => [n, env(n)])),
  };
  console.log(`request-details: ${req.method} ${req.url} from ${details.clientIp}`);

  if (url.searchParams.get("format") === "json") {
    return new Response(JSON.stringify(details, null, 2) + "\n", {
      headers: { "content-type": "application/json" },
    });
  }
  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>Request details</title>
<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em;vertical-align:top}
td{font-family:monospace}h2{margin-top:1.5em}</style></head>
<body><h1>Request details</h1>
<p>Served by a Fastly Compute program running in Fastlike.</p>
<h2>Request</h2><table>
${rows([
  ["Method", details.method], ["URL", details.url], ["Path", details.path],
  ["Client IP", details.clientIp], ["Body", `${details.bodyBytes} bytes`],
])}
</table>
<h2>Headers</h2><table>
${rows(Object.entries(details.headers))}
</table>
<h2>Environment</h2><table>
${rows(Object.entries(details.env))}
</table>
<p>Add <code>?format=json</code> for JSON.</p>
</body></html>
`;
  return new Response(page, {
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
