/// <reference types="@fastly/js-compute" />
// react-ssr: server-side rendering with React (react-dom/server renderToString) in a Fastly
// Compute JS guest, a benchmark guest heavier than bench/js/hello.js. Every request renders a
// page with a list of ITEMS items (?n= changes the count, 1-1000) into HTML. Built by the Makefile
// (`make build/bench/js/react_ssr.wasm`): esbuild bundles it with React's production build, then
// scripts/build-js.sh compiles the bundle with the pinned @fastly/js-compute.
import { renderToString } from "react-dom/server.edge";

const ITEMS = 100;

function Item({ item }) {
  return (
    <li className={item.done ? "item done" : "item"} data-id={item.id}>
      <span className="title">{item.title}</span>
      <span className="price">{(item.cents / 100).toFixed(2)} EUR</span>
      {item.tags.length > 0 && (
        <ul className="tags">
          {item.tags.map((t) => (
            <li key={t}>{t}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

function Page({ path, items }) {
  const total = items.reduce((s, i) => s + i.cents, 0);
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <title>{`Items for ${path}`}</title>
      </head>
      <body>
        <header>
          <h1>Items for {path}</h1>
          <p>
            {items.length} items, {(total / 100).toFixed(2)} EUR in total
          </p>
        </header>
        <main>
          <ul className="items">
            {items.map((item) => (
              <Item key={item.id} item={item} />
            ))}
          </ul>
        </main>
        <footer>Rendered by React {"on Fastlike"}</footer>
      </body>
    </html>
  );
}

const TAGS = ["new", "sale", "popular", "limited", "eco"];

function makeItems(n, seed) {
  const items = [];
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    items.push({
      id: i,
      title: `Item ${i} <${(x >>> 8).toString(36)}>`,
      cents: x % 100000,
      done: (x & 1) === 1,
      tags: TAGS.filter((_, k) => (x >>> (k + 3)) & 1),
    });
  }
  return items;
}

addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const n = Math.min(Math.max(parseInt(url.searchParams.get("n") || `${ITEMS}`, 10) || ITEMS, 1), 1000);
  let seed = 0;
  for (const c of url.pathname) seed = (Math.imul(seed, 31) + c.charCodeAt(0)) >>> 0;
  const html = "<!DOCTYPE html>" + renderToString(<Page path={url.pathname} items={makeItems(n, seed)} />);
  event.respondWith(new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }));
});
