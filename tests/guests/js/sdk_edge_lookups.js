/// <reference types="@fastly/js-compute" />
// sdk_edge_lookups.js: JS SDK guest for tests/unit/server/test_edge_lookups.c: geolocation
// (/client-geo: event.client.geo; /geo?ip=A: fastly:geolocation's getGeolocationForIpAddress),
// device detection (/device: Device.lookup of the request's User-Agent), and edge rate limiting
// (/limited?who=X: EdgeRateLimiter.checkRate, 429 when blocked; /counter?who=X: RateCounter
// increment and lookups; /penalty?who=X: PenaltyBox add and has).
import { getGeolocationForIpAddress } from "fastly:geolocation";
import { Device } from "fastly:device";
import { EdgeRateLimiter, RateCounter, PenaltyBox } from "fastly:edge-rate-limiter";

function handle(event) {
  const url = new URL(event.request.url);
  const q = url.searchParams;
  switch (url.pathname) {
    case "/client-geo":
      return new Response(JSON.stringify(event.client.geo) + "\n");
    case "/geo": {
      try {
        return new Response(JSON.stringify(getGeolocationForIpAddress(q.get("ip"))) + "\n");
      } catch (e) {
        return new Response("error: " + String(e) + "\n", { status: 500 });
      }
    }
    case "/device": {
      const d = Device.lookup(event.request.headers.get("user-agent") || "none");
      if (d === null)
        return new Response("no device\n", { status: 404 });
      return new Response(
        JSON.stringify({ name: d.name, brand: d.brand, mobile: d.isMobile, tablet: d.isTablet }) + "\n");
    }
    case "/limited": {
      const limiter = new EdgeRateLimiter(new RateCounter("js-requests"), new PenaltyBox("js-blocked"));
      // 60 per call over a 60 s window: the rate is 1, 2, ... per call; above 5 from the 6th on
      const blocked = limiter.checkRate(q.get("who"), 60, 60, 5, 1);
      return new Response(blocked ? "blocked\n" : "ok\n", { status: blocked ? 429 : 200 });
    }
    case "/counter": {
      const rc = new RateCounter("js-counter");
      const who = q.get("who");
      rc.increment(who, 3);
      return new Response(JSON.stringify({
        count10: rc.lookupCount(who, 10), count60: rc.lookupCount(who, 60),
        rate1: rc.lookupRate(who, 1), rate60: rc.lookupRate(who, 60),
        other: rc.lookupCount(who + "-other", 60),
      }) + "\n");
    }
    case "/penalty": {
      const pb = new PenaltyBox("js-box");
      const who = q.get("who");
      const before = pb.has(who);
      pb.add(who, 2);
      return new Response(JSON.stringify({ before, after: pb.has(who), other: pb.has(who + "-other") }) + "\n");
    }
  }
  return new Response("not found\n", { status: 404 });
}

addEventListener("fetch", (event) => event.respondWith(handle(event)));
