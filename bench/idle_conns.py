#!/usr/bin/env python3
"""idle_conns.py PORT PID [N]: opens N (default 10000) keep-alive connections to a Fastlike on
127.0.0.1:PORT (every other one after a request), then reports the server's RSS and the time a
fresh connection's request takes while they are all held. Part of `make bench-http`."""
import resource, socket, sys, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 256
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    n = min(n, min(want, hard) - 256)

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def request(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += s.recv(4096)
    return head.split(b" ")[1]

before = rss_kib()
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2 == 0:
        request(s)
    conns.append(s)
held = rss_kib()
times = []
for _ in range(20):
    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    request(s)
    s.close()
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"{n} idle connections: server RSS {before // 1024} MiB before, {held // 1024} MiB held "
      f"({(held - before) * 1024 // max(n, 1)} bytes each); a new request meanwhile: "
      f"p50 {times[len(times) // 2]:.2f} ms, max {times[-1]:.2f} ms")
for s in conns:
    s.close()
