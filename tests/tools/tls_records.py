#!/usr/bin/python3
"""TLS records that arrive together: flintd lets OpenSSL read ahead (one read
takes every record the socket has), so records after the first wait in
OpenSSL's buffer, where nothing wakes the connection up unless flintd does.
Each case writes its records into one TCP segment with ssl.MemoryBIO and
needs every reply within a few seconds. Driven by tests/e2e/t_tls_records.sh.

  /usr/bin/python3 tests/tools/tls_records.py --host 127.0.0.1 --port P --ca ROOT

Prints "ok CASE" or "FAIL CASE: detail" per case; exits 1 if any failed.
"""
import argparse
import select
import socket
import ssl
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--timeout", type=float, default=5.0)
args = ap.parse_args()


class Fail(Exception):
    pass


class Conn:
    """A TLS client whose records are sent only by flush(), together."""

    def __init__(self, tls13=True):
        ctx = ssl.create_default_context(cafile=args.ca)
        if not tls13:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname=args.host)
        self.buf = b""

    def pump_in(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.sock], [], [], left)[0]:
            raise Fail("no answer within %.0f s" % args.timeout)
        data = self.sock.recv(65536)
        if not data:
            raise Fail("connection closed")
        self.inc.write(data)

    def handshake(self, hold_last_flight=False):
        """Runs the handshake; with hold_last_flight the client's last
        flight (its Finished) stays unsent, to go out with what follows."""
        deadline = time.monotonic() + args.timeout
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = self.out.read()
                if pending:
                    self.sock.sendall(pending)
                self.pump_in(deadline)
        if not hold_last_flight:
            self.flush()

    def write(self, data):
        self.tls.write(data)  # one record per call (under 16 KiB)

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)  # one send: the records arrive together

    def response(self):
        """One HTTP/1.1 response with a Content-Length (or none, 204)."""
        deadline = time.monotonic() + args.timeout
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self.buf[:head_end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v.strip())
                total = head_end + 4 + length
                if len(self.buf) >= total:
                    body = self.buf[head_end + 4:total]
                    self.buf = self.buf[total:]
                    return int(head.split(" ")[1]), body
            try:
                self.buf += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            self.pump_in(deadline)

    def close(self):
        self.sock.close()


def get(path):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, args.host)).encode()


def expect(conn, status, what):
    got, body = conn.response()
    if got != status:
        raise Fail("%s: status %d, expected %d: %r" % (what, got, status, body[:120]))
    return body


def case_request_with_finished():
    """TLS 1.3: the client's Finished and its first request in one segment."""
    c = Conn()
    c.handshake(hold_last_flight=True)
    c.write(get("/directory"))
    c.flush()
    body = expect(c, 200, "directory behind the Finished")
    if b"newNonce" not in body:
        raise Fail("not the directory: %r" % body[:80])
    c.close()


def case_split_request():
    """A POST whose head and body are two records, sent together."""
    c = Conn()
    c.handshake()
    body = b'{"protected": "e30", "payload": "", "signature": "AA"}'
    c.write(("POST /acme/new-account HTTP/1.1\r\nHost: %s\r\nContent-Type: application/jose+json\r\n"
             "Content-Length: %d\r\n\r\n" % (args.host, len(body))).encode())
    c.write(body)
    c.flush()
    expect(c, 400, "a POST in two records")  # read whole: a malformed JWS, not a timeout
    c.close()


def case_split_request_tls12():
    c = Conn(tls13=False)
    c.handshake()
    c.write(get("/directory")[:10])
    c.write(get("/directory")[10:])
    c.flush()
    expect(c, 200, "a GET in two records (TLS 1.2)")
    c.close()


def pipelined(records, statuses, what):
    """records (each written as one record) in one segment; the replies in order."""
    c = Conn()
    c.handshake()
    for r in records:
        c.write(r)
    c.flush()
    for i, status in enumerate(statuses):
        expect(c, status, "%s: reply %d" % (what, i + 1))
    c.close()


def case_pipelined():
    pipelined([get(p) for p in ("/directory", "/acme/new-nonce", "/directory")], [200, 204, 200],
              "three requests in three records")


def case_pipelined_one_record():
    pipelined([get("/directory") + get("/acme/new-nonce")], [200, 204],
              "two requests in one record")


def case_keepalive_many():
    """One record at a time, many times over: nothing is left behind."""
    c = Conn()
    c.handshake()
    for i in range(50):
        c.write(get("/directory"))
        c.flush()
        expect(c, 200, "request %d" % i)
    c.close()


def run(name, fn):
    try:
        fn()
        print("ok " + name, flush=True)
        return True
    except (Fail, OSError, ssl.SSLError, ValueError) as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        return False


failed = 0
for name, fn in (("request_with_finished", case_request_with_finished),
                 ("split_request", case_split_request),
                 ("split_request_tls12", case_split_request_tls12),
                 ("pipelined", case_pipelined),
                 ("pipelined_one_record", case_pipelined_one_record),
                 ("keepalive_many", case_keepalive_many)):
    failed += not run(name, fn)
sys.exit(1 if failed else 0)
