#!/usr/bin/env python3
# tier_warmup.py PORT PATH LOG MAX_S QUIET_S: sends requests on one keep-alive connection until the
# server's native tier (FWE_TIER_LOG=1 lines in LOG) has drained its queue and published nothing
# for QUIET_S seconds, or MAX_S passed. Prints one line: the tier's times (seconds since its first
# hot function, from the log) until 90 % and all of the functions it ended with were native, the
# functions published, and the per-request p50 of the first second, of the last QUIET_S seconds,
# and when a one-second window first came within 15 % of that last p50 (client clock, from the
# first request); with the quick compiler, also when cc's code last replaced quick code ("cc code
# for N at T s"). bench/tier_warmup.sh runs it.
import http.client, re, sys, time

port, path, log, max_s, quiet_s = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
pub = re.compile(r"tier: ([0-9.]+) s: (batch of .*; (\d+) native, (\d+) queued|profile: (\d+) of)")
opt = re.compile(r"tier: ([0-9.]+) s: optimized .*; (\d+) optimized in all")
drn = re.compile(r"tier: ([0-9.]+) s: queue drained, (\d+) functions native")
smp = re.compile(r"tier: ([0-9.]+) s: samples in the last second: (\d+), interpreter ([0-9.]+) %, "
                 r"quick code ([0-9.]+) %, cc code ([0-9.]+) %")

last_opt = None  # (time, functions) of the last optimize job: the quick code replaced by cc's
shares = []  # (time, samples, interpreter %, quick %, cc %) per second (time-based hotness)


def tier_state():
    global last_opt
    events, native, drained = [], 0, False
    del shares[:]
    with open(log, errors="replace") as f:
        for line in f:
            x = smp.search(line)
            if x:
                shares.append(tuple(float(v) for v in x.groups()))
            o = opt.search(line)
            if o:
                last_opt = (float(o.group(1)), int(o.group(2)))
            m = pub.search(line)
            if m:
                t = float(m.group(1))
                # a batch line gives the total; a profile line what it published from the cache
                n = int(m.group(3)) if m.group(3) is not None else native + int(m.group(5))
                if n > native:
                    events.append((t, n))
                    native = n
            if "tier: " in line and not x:
                drained = "queue drained" in line
                d = drn.search(line)  # the total, also what other threads' profile parts published
                if d and int(d.group(2)) > native:
                    native = int(d.group(2))
                    events.append((float(d.group(1)), native))
    return events, native, drained

c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
t0 = time.monotonic()
samples = []  # (time since t0 at the end of the request, latency)
last_native, last_change = -1, 0.0
while True:
    a = time.monotonic()
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    b = time.monotonic()
    samples.append((b - t0, b - a))
    events, native, drained = tier_state()
    if native != last_native:
        last_native, last_change = native, b - t0
    if (drained and b - t0 - last_change >= quiet_s and b - t0 >= quiet_s + 1) or b - t0 >= max_s:
        break
end = samples[-1][0]

def p50(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")

first = p50([l for t, l in samples if t <= 1.0] or [samples[0][1]])
final = p50([l for t, l in samples if t >= end - quiet_s])
steady = None
w = 0.0
while w < end:
    win = [l for t, l in samples if w <= t < w + 1.0]
    if win and p50(win) <= final * 1.15:
        steady = w + 1.0
        break
    w += 0.5
events, native, drained = tier_state()
t90 = next((t for t, n in events if n >= 0.9 * native), float("nan"))
tall = events[-1][0] if events else float("nan")
if events:
    tier = "native %4d fns: 90%% at %7.2f s, all at %7.2f s%s%s" % (
        native, t90, tall, "" if drained else " (still compiling)",
        "; cc code for %d at %.1f s" % (last_opt[1], last_opt[0]) if last_opt else "")
else:
    tier = "no native code%44s" % ""
# where the guest's time went (the sampler's one-second lines): the first second with less than 5 %
# of the samples in the interpreter, and the shares over the last quiet_s seconds
hot_native = next((t for t, n, i, q, c in shares if n >= 50 and i < 5.0), None)
tail = [x for x in shares if x[0] >= (shares[-1][0] - quiet_s if shares else 0)]
tn = sum(x[1] for x in tail)
share = ""
if shares:
    share = " samples: interpreter < 5 %% from %s, last %g s interpreter %.1f %% quick %.1f %% cc %.1f %%;" % (
        "%.1f s" % hot_native if hot_native is not None else "never", quiet_s,
        sum(x[1] * x[2] for x in tail) / max(tn, 1), sum(x[1] * x[3] for x in tail) / max(tn, 1),
        sum(x[1] * x[4] for x in tail) / max(tn, 1))
# the client clock starts about when the first function gets hot: the 5 s after all functions were
# native show the quick compiler's code where cc's has not replaced it yet
after = [l for t, l in samples if events and tall + 1.0 <= t < tall + 6.0]
mid = " all native +1..6 s %.2f ms;" % (p50(after) * 1e3) if after else ""
print("%s |%s p50 first 1 s %8.2f ms,%s last %g s %8.2f ms (%.2fx); steady after %s; %d requests in %.0f s"
      % (tier, share, first * 1e3, mid, quiet_s, final * 1e3, first / final,
         "%.1f s" % steady if steady else "-", len(samples), end))
