/// <reference types="@fastly/js-compute" />
// edge_stores.js: JS SDK guest for tests/unit/server/test_edge_stores.c, which serves it with
// bin/fastlike and the flags -config-store, -dictionary, -secret-store, -logger and -acl. Each
// route answers JSON: /config-store?store=S&key=K, /dictionary?dict=D&key=K (value or null, or
// the error thrown), /secret?store=S&key=K (plaintext and its length), /secret-from-bytes (a
// secret made by the guest, not named in the URL so that the request log cannot show it),
// /log?name=N&msg=M (Logger.log), /acl?name=A&ip=IP (the lookup result).
import { ConfigStore } from "fastly:config-store";
import { Dictionary } from "fastly:dictionary";
import { SecretStore } from "fastly:secret-store";
import { Logger } from "fastly:logger";
import { Acl } from "fastly:acl";

async function attempt(fn) {
  try {
    return new Response(JSON.stringify({ ok: true, result: await fn() }) + "\n");
  } catch (e) {
    return new Response(JSON.stringify({ ok: false, error: String(e) }) + "\n", { status: 500 });
  }
}

async function handle(event) {
  const url = new URL(event.request.url);
  const q = (name) => url.searchParams.get(name);
  switch (url.pathname) {
    case "/config-store":
      return attempt(() => new ConfigStore(q("store")).get(q("key")));
    case "/dictionary":
      return attempt(() => new Dictionary(q("dict")).get(q("key")));
    case "/secret":
      return attempt(async () => {
        const s = await new SecretStore(q("store")).get(q("key"));
        if (s === null) return null;
        const text = s.plaintext();
        return { plaintext: text, bytes: s.rawBytes().length };
      });
    case "/secret-from-bytes":
      return attempt(() => SecretStore.fromBytes(new TextEncoder().encode("gen-" + "erated".toUpperCase())).plaintext());
    case "/log":
      return attempt(() => {
        const logger = new Logger(q("name"));
        for (const m of url.searchParams.getAll("msg")) logger.log(m);
        return "logged";
      });
    case "/acl":
      return attempt(async () => await Acl.open(q("name")).lookup(q("ip")));
    default:
      return new Response("not found\n", { status: 404 });
  }
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
