#!/usr/bin/python3
"""flintd's handshake admission (max-handshakes): at most that many of a
loop's connections are in a TLS handshake; one accepted beyond it is parked
until its first bytes come and then until a slot is free, and silent or
stalled connections must not keep others waiting for long. Driven by
tests/e2e/t_handshakes.sh against a flintd with --http-threads 1,
--max-handshakes 2 and a long --request-deadline (so only the admission's
own rules, not the deadline, can let a client through).

  /usr/bin/python3 tests/tools/handshakes.py --port P --ca ROOT

Prints "ok CASE" or "FAIL CASE: detail" per case; exits 1 if any failed.
"""
import argparse
import re
import select
import socket
import ssl
import sys
import time
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--burst", type=int, default=60)
ap.add_argument("--timeout", type=float, default=10.0,
                help="what a client behind silent or stalled connections may wait: a "
                "stalled one holds a slot for about 1 s, the request deadline is 60 s")
args = ap.parse_args()
CTX = ssl.create_default_context(cafile=args.ca)


class Fail(Exception):
    pass


def metric(name):
    """The value of an unlabelled sample in GET /metrics."""
    url = "https://%s:%d/metrics" % (args.host, args.port)
    with urllib.request.urlopen(url, context=CTX, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    if not m:
        raise Fail("no %s in /metrics" % name)
    return int(m.group(1))


def get_directory(tls):
    tls.sendall(b"GET /directory HTTP/1.1\r\nHost: %s\r\n\r\n" % args.host.encode())
    head = b""
    while b"\r\n" not in head:
        data = tls.recv(4096)
        if not data:
            raise Fail("connection closed before a reply")
        head += data
    if not head.startswith(b"HTTP/1.1 200"):
        raise Fail("directory: %r" % head.split(b"\r\n")[0])


def client_within(seconds):
    """A whole TLS client: connect, handshake, GET /directory, in `seconds`."""
    t0 = time.monotonic()
    sock = socket.create_connection((args.host, args.port), timeout=seconds)
    try:
        tls = CTX.wrap_socket(sock, server_hostname=args.host)
        get_directory(tls)
        tls.close()
    except (OSError, ssl.SSLError) as e:
        raise Fail("a client behind them got no answer within %.0f s (%s)" % (seconds, e))
    finally:
        sock.close()
    return time.monotonic() - t0


def burst():
    """Many connections at once, each handshake in flight together: all
    finish, and those beyond the cap were parked."""
    parked0 = metric("flintd_connections_parked_total")
    raw = [socket.create_connection((args.host, args.port), timeout=10) for _ in range(args.burst)]
    conns = [CTX.wrap_socket(s, server_hostname=args.host, do_handshake_on_connect=False)
             for s in raw]
    for c in conns:
        c.setblocking(False)
    pending = set(range(len(conns)))
    deadline = time.monotonic() + 30
    while pending:
        if time.monotonic() > deadline:
            raise Fail("%d of %d handshakes unfinished after 30 s" % (len(pending), len(conns)))
        want = []
        for i in list(pending):
            try:
                conns[i].do_handshake()
                pending.discard(i)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                want.append(conns[i])
        if want:
            select.select(want, [], [], 0.05)
    for c in conns:
        c.setblocking(True)
        c.settimeout(10)
        get_directory(c)
        c.close()
    parked = metric("flintd_connections_parked_total") - parked0
    if parked < 1:
        raise Fail("%d handshakes at once against max-handshakes 2 and none parked" % len(conns))
    return "%d handshakes, %d connections parked" % (len(conns), parked)


def silent():
    """Connections that send nothing must not keep a client waiting: the
    two the loop counted give their slots up to the client once its
    ClientHello comes (no stall rule needed), the rest stay parked until
    they speak."""
    yielded0 = metric("flintd_tls_handshake_slots_yielded_total")
    stalled0 = metric("flintd_tls_handshakes_stalled_total")
    quiet = [socket.create_connection((args.host, args.port)) for _ in range(30)]
    try:
        time.sleep(0.2)
        took = client_within(args.timeout)
    finally:
        for s in quiet:
            s.close()
    yielded = metric("flintd_tls_handshake_slots_yielded_total") - yielded0
    stalled = metric("flintd_tls_handshakes_stalled_total") - stalled0
    if yielded < 1 or stalled != 0:
        raise Fail("behind 30 silent connections: %d slots yielded, %d stalled handshakes "
                   "(want at least 1 and 0)" % (yielded, stalled))
    return ("client answered after %.2f s behind 30 silent connections (%d slots yielded)"
            % (took, yielded))


def client_hello():
    """The bytes of a TLS ClientHello (a handshake this script never goes on with)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = CTX.wrap_bio(inc, out, server_hostname=args.host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def stalled():
    """Connections that send a ClientHello and then nothing hold a slot for
    about a second each, then stop counting: a client behind 6 of them (two
    counted, four parked and waiting) is answered well before the deadline."""
    parked0 = metric("flintd_connections_parked_total")
    stalled0 = metric("flintd_tls_handshakes_stalled_total")
    hung = []
    try:
        for _ in range(6):
            s = socket.create_connection((args.host, args.port))
            s.sendall(client_hello())
            hung.append(s)
        time.sleep(0.3)
        took = client_within(args.timeout)
    finally:
        for s in hung:
            s.close()
    parked = metric("flintd_connections_parked_total") - parked0
    stalled = metric("flintd_tls_handshakes_stalled_total") - stalled0
    if parked < 4 or stalled < 2:
        raise Fail("6 handshakes in progress against max-handshakes 2: %d parked, %d stalled "
                   "(want at least 4 and 2)" % (parked, stalled))
    return ("%d connections parked, %d stalled handshakes stopped counting; a client behind "
            "them answered after %.2f s" % (parked, stalled, took))


def settled():
    """With every connection closed, no handshake counts and none waits."""
    deadline = time.monotonic() + 5
    while True:
        n, w = metric("flintd_tls_handshakes"), metric("flintd_tls_handshakes_waiting")
        if n == 0 and w == 0:
            return "flintd_tls_handshakes 0, flintd_tls_handshakes_waiting 0"
        if time.monotonic() > deadline:
            raise Fail("flintd_tls_handshakes %d, _waiting %d with no connection in a handshake"
                       % (n, w))
        time.sleep(0.1)


failed = 0
for case in (burst, silent, stalled, settled):
    try:
        print("ok %s: %s" % (case.__name__, case()), flush=True)
    except (Fail, OSError, ssl.SSLError) as e:
        failed += 1
        print("FAIL %s: %s" % (case.__name__, e), flush=True)
sys.exit(1 if failed else 0)
