#!/usr/bin/env python3
"""idle_conns.py PORT N [SECONDS]: holds N connections to 127.0.0.1:PORT, half idle, half sending a
request's first lines and never finishing it, for SECONDS (default: until killed; a reconnect
replaces any the server closed). Loopback only. Prints 'holding N' once they are all open."""
import socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 1e9
PARTIAL = b"POST /api/v1/namespaces/_/actions/x HTTP/1.1\r\nHost: x\r\n"

def one(i):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    if i % 2:
        s.sendall(PARTIAL)
    s.setblocking(False)
    return s

socks = []
for i in range(n):
    try:
        socks.append(one(i))
    except OSError as e:
        print("connect %d failed: %s" % (i, e), flush=True)
        socks.append(None)
print("holding %d" % sum(1 for s in socks if s), flush=True)
end = time.monotonic() + secs
reopened = 0
while time.monotonic() < end:
    time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    for i, s in enumerate(socks):
        if s is None:
            continue
        try:
            if s.recv(1) == b"":
                raise OSError("closed")
        except BlockingIOError:
            continue
        except OSError:
            pass
        s.close()
        try:
            socks[i] = one(i)
            reopened += 1
        except OSError:
            socks[i] = None
print("reopened %d" % reopened, flush=True)
