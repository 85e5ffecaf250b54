#!/usr/bin/python3
"""A table-driven hostile-input suite against a running flintd (RFC 8555).

  /usr/bin/python3 tests/tools/hostile.py --dir https://127.0.0.1:23600/directory \
      --ca DATA/root.pem --db DATA/flintd.db --http01-port 23602 --pid FLINTD_PID \
      --dir2 https://127.0.0.1:23610/directory --ca2 DATA2/root.pem [--only CASE ...]

Every row of the tables below is one hostile request with its own expected
outcome: the exact HTTP status, the exact ACME problem type (RFC 8555 §6.7) and,
where the request must not change anything, an unchanged store (a read-only
snapshot of the SQLite database: row counts + a hash of the rows of every table
but used_nonces/secrets/leases, before and after the request).

Categories: setup, malformed/truncated/duplicate-key/deeply nested JSON (outer JWS,
protected header, payload), size (413) and Content-Type (415), base64url variants of
each JWS field, signatures, jwk/kid, algorithms and account keys, nonces, the url
header, cross-account access, newOrder identifiers, account/authz updates, CSRs at
finalize, revokeCert, keyChange, HTTP methods/paths, positive controls (each row
generator fed an honest value must succeed), slow clients, 10 000 idle connections.

The second flintd (--dir2) runs with --nonce-lifetime 10 and --request-deadline 3:
its nonces serve as "another CA's nonce" and as expired nonces, and it takes the
slowloris client. The main flintd runs with a long --request-deadline and room for
10 000 connections (the idle-connection flood is the last category).

Prints "ok CASE" / "FAIL CASE: detail"; exit status 1 when any failed.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import resource
import select
import socket
import sqlite3
import ssl
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (JOSE, Account, ChallServer, Client, Key,  # noqa: E402
                     TestFailure, b64u, check, describe, expect_problem, expect_status,
                     issue, make_csr, validate_http01)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--db", required=True, help="the main flintd's SQLite database (opened read-only)")
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--pid", type=int, required=True, help="pid of flintd (or of its timeout wrapper)")
ap.add_argument("--dir2", required=True, help="second flintd: --nonce-lifetime 10 --request-deadline 3")
ap.add_argument("--ca2", required=True)
ap.add_argument("--deadline2", type=int, default=3, help="--request-deadline of the second flintd")
ap.add_argument("--conns", type=int, default=10000, help="idle connections of the flood")
ap.add_argument("--tls-conns", type=int, default=300, help="of which TLS-handshaken")
ap.add_argument("--per-addr", type=int, default=100, help="connections per source address")
ap.add_argument("--rss-limit-mb", type=int, default=600)
ap.add_argument("--per-ip-cap", type=int, default=256, help="the main flintd's --max-connections-per-ip")
ap.add_argument("--loops", type=int, default=2, help="the main flintd's --http-threads (the cap is per loop)")
ap.add_argument("--suffix", default="hostile.example.com")
ap.add_argument("--only", nargs="*", default=None)
args = ap.parse_args()
SFX = args.suffix


def n(label):
    return "%s.%s" % (label, SFX)


c = Client(args.dir, args.ca)
BASE = re.match(r"^(https://[^/]+)", args.dir).group(1)
HOST, PORT = re.match(r"^https://([^/:]+):(\d+)", args.dir).groups()
PORT = int(PORT)
chall = ChallServer(args.http01_port)
S = {}
T0 = time.monotonic()


def need(*keys):
    for k in keys:
        if S.get(k) is None:
            raise TestFailure("depends on '%s', which is not available (an earlier case failed)" % k)
    return [S[k] for k in keys] if len(keys) > 1 else S[keys[0]]


# ----------------------------------------------------------- store snapshot
SKIP_TABLES = {"used_nonces", "used_nonces_by_expiry", "secrets", "leases", "sqlite_sequence"}


def snapshot():
    """{table: (row count, sha256 of the rows)} of every table that holds ACME state."""
    con = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True, timeout=10)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for t in sorted(tables):
            if t in SKIP_TABLES:
                continue
            rows = con.execute('SELECT * FROM "%s"' % t).fetchall()
            rows = sorted(repr(r) for r in rows)
            out[t] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
        for t in ("accounts", "orders", "authzs", "challenges", "certificates", "eab_keys"):
            if t not in out:
                raise TestFailure("store has no table %s (tables: %s)" % (t, tables))
        return out
    finally:
        con.close()


def diff_snap(a, b):
    return ", ".join("%s %s->%s" % (t, a.get(t), b.get(t)) for t in sorted(set(a) | set(b))
                     if a.get(t) != b.get(t))


# ------------------------------------------------------------------ runner
class Case:
    def __init__(self, cat, name, send, status=None, ptype=None, nochange=True, check=None, nonce_check=True):
        self.cat, self.name, self.send, self.nonce_check = cat, name, send, nonce_check
        self.status, self.ptype, self.nochange, self.check = status, ptype, nochange, check


CASES = []


def case(cat, name, send, status=None, ptype=None, nochange=True, check=None, nonce_check=True):
    """A table row: send() performs the request and returns the response, which must be
    `status` with problem `ptype` (when ptype is set); check(r) adds assertions."""
    CASES.append(Case(cat, name, send, status, ptype, nochange, check, nonce_check))


def fn_case(cat, name, fn):
    """A case whose function makes its own assertions."""
    CASES.append(Case(cat, name, fn, None, None, False, None))


def run_case(k):
    before = snapshot() if k.nochange else None
    r = k.send()
    if k.ptype is not None:
        p = expect_problem(r, k.status, k.ptype)
        # RFC 8555 §6.5: every error reply to a POST carries a fresh nonce
        if k.nonce_check and isinstance(r, requests.Response) and r.request.method == "POST" \
                and "/acme/" in r.request.url:
            check(r.headers.get("Replay-Nonce"), "problem reply without Replay-Nonce: " + describe(r))
        if k.ptype == "badSignatureAlgorithm":
            check(isinstance(p.get("algorithms"), list) and p["algorithms"],
                  "badSignatureAlgorithm without an 'algorithms' list (RFC 8555 §6.2): %s" % r.text[:300])
    elif k.status is not None:
        expect_status(r, k.status)
    if k.check:
        k.check(r)
    if k.nochange:
        time.sleep(0.02)
        after = snapshot()
        check(before == after, "the store changed: %s (response %s)" % (diff_snap(before, after),
                                                                         describe(r) if r is not None and hasattr(r, "request") else r))
    if k.ptype is not None:  # the detail in the ok line, to audit why the request was refused
        try:
            return "%d %s: %s" % (r.status_code, k.ptype, str(r.json().get("detail", ""))[:90])
        except ValueError:
            return "%d" % r.status_code
    return "%d" % r.status_code


# ----------------------------------------------------------- JWS building
def enc(x):
    if isinstance(x, (dict, list)):
        return json.dumps(x, separators=(",", ":")).encode()
    if isinstance(x, str):
        return x.encode()
    return x


def hdr(key, url, kid=None, jwk=False, nonce="auto", alg=None):
    h = {"alg": alg or key.alg}
    if nonce == "auto":
        nonce = c.nonce()
    if nonce is not None:
        h["nonce"] = nonce
    h["url"] = url
    if kid is not None:
        h["kid"] = kid
    if jwk:
        h["jwk"] = key.jwk()
    return h


def raw_jws(prot, payload, key, p64=None, pl64=None, sig=None):
    """Flattened JWS from raw protected/payload bytes (or dicts); p64/pl64 override the
    encodings; the signature is computed over what is sent unless sig is given."""
    if p64 is None:
        p64 = b64u(enc(prot))
    if pl64 is None:
        pl64 = "" if payload is None else b64u(enc(payload))
    if sig is None:
        sig = b64u(key.sign((p64 + "." + pl64).encode()))
    return {"protected": p64, "payload": pl64, "signature": sig}


def post(url, body, ctype=JOSE, headers=None):
    if isinstance(body, dict):
        body = json.dumps(body)
    return c.post_raw(url, body, ctype=ctype, headers=headers)


def A():
    return need("A")


def signed_a(url, payload, **hkw):
    a = A()
    return raw_jws(hdr(a.key, url, kid=a.url, **hkw), payload, a.key)


# ================================================================= setup
def setup_accounts():
    a = Account(c)
    s0 = snapshot()
    a.register(contact=["mailto:hostile-a@example.com"], expect=201)
    s1 = snapshot()
    # the snapshot sees what flintd commits (WAL included), or "unchanged" would prove nothing
    check(s0 != s1 and s1["accounts"][0] == s0["accounts"][0] + 1,
          "the store snapshot did not see a new account: %s -> %s" % (s0.get("accounts"), s1.get("accounts")))
    S["A"] = a
    b = Account(c)
    b.register(expect=201)
    S["B"] = b
    d = Account(c)
    d.register(expect=201)
    expect_status(d.post(d.url, {"status": "deactivated"}), 200, "deactivate D")
    S["D"] = d
    # a nonce of the second flintd: from another CA now, expired later
    c2 = Client(args.dir2, args.ca2)
    S["c2"] = c2
    S["nonce2_expired"] = c2.new_nonce()
    S["nonce2_t"] = time.monotonic()
    S["nonce2_other"] = c2.new_nonce()
    # A's order with a valid authorization and a ready order for the cross-account rows
    r = a.new_order([n("xacct")])
    S["xorder_url"], S["xorder"] = r.headers["Location"], r.json()
    az = validate_http01(a, S["xorder"]["authorizations"][0], chall)
    check(az.get("status") == "valid", "A's authz for xacct: %s" % az.get("status"))
    S["xauthz"] = az
    # a pending order (its authz and challenge pending) for cross-account POSTs
    r = a.new_order([n("xpend")])
    S["porder_url"], S["porder"] = r.headers["Location"], r.json()
    pa = a.get_ok(S["porder"]["authorizations"][0]).json()
    S["pauthz_url"] = S["porder"]["authorizations"][0]
    S["pchall"] = pa["challenges"][0]
    # an issued certificate of A (revocation and cross-account rows)
    t = issue(a, [n("cert")], chall, root=args.ca)
    S["cert"] = t
    S["cert_url"] = t["order"]["certificate"]
    # names validated for the CSR rows (ready orders through authorization reuse)
    for lbl in ("csr1", "csr2"):
        r = a.new_order([n(lbl)])
        z = validate_http01(a, r.json()["authorizations"][0], chall)
        check(z.get("status") == "valid", "authz %s: %s" % (lbl, z.get("status")))
    r = a.new_order([n("xacct")])
    check(r.json().get("status") == "ready", "order for an authorized name is %s" % r.json().get("status"))
    S["rorder_url"], S["rorder"] = r.headers["Location"], r.json()


fn_case("setup", "setup_accounts_orders_cert", setup_accounts)

# ============================================== A. malformed JSON bodies
NO = lambda: c.url("newOrder")  # noqa: E731
OB = {"identifiers": [{"type": "dns", "value": "body.hostile.example.com"}]}


def outer_ok(payload=OB, url=None):
    """A correctly signed JWS (dict) by A for newOrder (or url)."""
    return signed_a(url or NO(), payload)


def outer_variant(mk):
    def send():
        j = outer_ok()
        return post(NO(), mk(j))
    return send


BODY_ROWS = [
    ("empty_body", lambda j: b""),
    ("whitespace_body", lambda j: b"   \n"),
    ("truncated_open_brace", lambda j: b"{"),
    ("truncated_jws_half", lambda j: json.dumps(j).encode()[:len(json.dumps(j)) // 2]),
    ("truncated_jws_last_byte", lambda j: json.dumps(j).encode()[:-1]),
    ("json_array", lambda j: b"[]"),
    ("json_null", lambda j: b"null"),
    ("json_string", lambda j: b'"protected"'),
    ("json_number", lambda j: b"123"),
    ("json_true", lambda j: b"true"),
    ("array_of_jws", lambda j: json.dumps([j]).encode()),
    ("deep_nesting_10000_brackets", lambda j: b"[" * 10000),
    ("deep_nesting_in_member", lambda j: b'{"protected":' + b"[" * 10000 + b"]" * 10000 + b"}"),
    ("deep_nesting_objects", lambda j: b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("trailing_garbage", lambda j: json.dumps(j).encode() + b"xyz"),
    ("trailing_second_object", lambda j: json.dumps(j).encode() + b"{}"),
    ("trailing_nul", lambda j: json.dumps(j).encode() + b"\x00"),
    ("leading_nul", lambda j: b"\x00" + json.dumps(j).encode()),
    ("nul_inside_json", lambda j: json.dumps(j).encode().replace(b'"payload"', b'"pay\x00load"')),
    ("escaped_nul_in_protected", lambda j: json.dumps(dict(j, protected=j["protected"] + "\\u0000")).replace("\\\\u0000", "\\u0000").encode()),
    ("invalid_utf8_in_string", lambda j: json.dumps(j).encode().replace(b'"payload"', b'"payload\xff"')),
    ("invalid_utf8_overlong", lambda j: json.dumps(j).encode().replace(b'"signature"', b'"signature\xc0\xaf"')),
    ("invalid_utf8_value", lambda j: json.dumps(j).encode().replace(j["signature"].encode(), j["signature"].encode() + b"\xed\xa0\x80")),
    ("utf8_bom", lambda j: b"\xef\xbb\xbf" + json.dumps(j).encode()),
    ("single_quotes", lambda j: json.dumps(j).replace('"', "'").encode()),
    ("duplicate_outer_protected", lambda j: ('{"protected":"%s","protected":"%s","payload":"%s","signature":"%s"}' % (
        b64u(b'{"alg":"none"}'), j["protected"], j["payload"], j["signature"])).encode()),
    ("duplicate_outer_payload", lambda j: ('{"protected":"%s","payload":"%s","payload":"%s","signature":"%s"}' % (
        j["protected"], b64u(b'{"identifiers":[]}'), j["payload"], j["signature"])).encode()),
    ("duplicate_outer_signature", lambda j: ('{"protected":"%s","payload":"%s","signature":"","signature":"%s"}' % (
        j["protected"], j["payload"], j["signature"])).encode()),
    ("extra_outer_member", lambda j: json.dumps(dict(j, foo=1)).encode()),
    ("protected_not_string", lambda j: json.dumps(dict(j, protected={"alg": "ES256"})).encode()),
    ("payload_not_string", lambda j: json.dumps(dict(j, payload=OB)).encode()),
    ("signature_not_string", lambda j: json.dumps(dict(j, signature=None)).encode()),
    ("missing_protected", lambda j: json.dumps({"payload": j["payload"], "signature": j["signature"]}).encode()),
    ("missing_payload", lambda j: json.dumps({"protected": j["protected"], "signature": j["signature"]}).encode()),
    ("missing_signature", lambda j: json.dumps({"protected": j["protected"], "payload": j["payload"]}).encode()),
]
for name, mk in BODY_ROWS:
    case("body", name, outer_variant(mk), 400, "malformed")


# protected header bytes (signed over what is sent: only the content is wrong)
def prot_variant(mk):
    def send():
        a = A()
        h = hdr(a.key, NO(), kid=a.url)
        return post(NO(), raw_jws(mk(h), OB, a.key))
    return send


def dup_key(h, key, first):
    body = json.dumps(h, separators=(",", ":"))
    return ("{%s:%s," % (json.dumps(key), json.dumps(first)) + body[1:]).encode()


PROT_ROWS = [
    ("protected_not_json", lambda h: b"this is not json"),
    ("protected_truncated", lambda h: enc(h)[:-1]),
    ("protected_array", lambda h: enc([h])),
    ("protected_string", lambda h: b'"ES256"'),
    ("protected_null", lambda h: b"null"),
    ("protected_empty", lambda h: b""),
    ("protected_dup_alg", lambda h: dup_key(h, "alg", "none")),
    ("protected_dup_url", lambda h: dup_key(h, "url", BASE + "/acme/new-account")),
    ("protected_dup_kid", lambda h: dup_key(h, "kid", BASE + "/acme/acct/1")),
    ("protected_dup_nonce", lambda h: dup_key(h, "nonce", "AAAA")),
    ("protected_deep_nesting", lambda h: b"[" * 10000 + b"]" * 10000),
    ("protected_deep_member", lambda h: enc(h)[:-1] + b',"x":' + b"[" * 10000 + b"]" * 10000 + b"}"),
    ("protected_invalid_utf8", lambda h: enc(h)[:-1] + b',"x":"\xff\xfe"}'),
    ("protected_trailing_garbage", lambda h: enc(h) + b"garbage"),
    ("protected_trailing_nul", lambda h: enc(h) + b"\x00"),
    ("protected_nul_in_url", lambda h: enc(dict(h, url=h["url"] + "\x00evil"))),
    ("protected_nul_in_kid", lambda h: enc(dict(h, kid=h["kid"] + "\x00x"))),
]
for name, mk in PROT_ROWS:
    case("protected", name, prot_variant(mk), 400, "malformed")


def pay_variant(raw):
    def send():
        a = A()
        return post(NO(), raw_jws(hdr(a.key, NO(), kid=a.url), raw, a.key))
    return send


def dup_payload(key):
    return ('{"%s":[{"type":"dns","value":"x.%s"}],"%s":[{"type":"dns","value":"y.%s"}]}'
            % (key, SFX, key, SFX)).encode()


PAYLOAD_ROWS = [
    ("payload_not_json", b"identifiers please"),
    ("payload_truncated", enc(OB)[:-2]),
    ("payload_dup_identifiers", dup_payload("identifiers")),
    ("payload_dup_profile", enc(OB)[:-1] + b',"profile":"classic","profile":"shortlived"}'),
    ("payload_array", enc([OB])),
    ("payload_null", b"null"),
    ("payload_number", b"1"),
    ("payload_string", b'"identifiers"'),
    ("payload_deep_nesting", b"[" * 10000 + b"]" * 10000),
    ("payload_deep_member", enc(OB)[:-1] + b',"x":' + b"[" * 10000 + b"]" * 10000 + b"}"),
    ("payload_invalid_utf8", enc(OB).replace(b"body.", b"b\xffody.")),
    ("payload_trailing_garbage", enc(OB) + b"]]"),
    ("payload_trailing_nul", enc(OB) + b"\x00"),
    ("payload_empty_object", b"{}"),
    ("payload_whitespace_only", b"  "),
]
for name, raw in PAYLOAD_ROWS:
    case("payload", name, pay_variant(raw), 400, "malformed")
case("payload", "payload_post_as_get_to_new_order", pay_variant(None), 400, "malformed")


# ================================================ B. size and Content-Type
class RawResp:
    """What raw_https read: enough of requests.Response for expect_problem/describe."""

    def __init__(self, method, url, status, headers, body):
        from requests.structures import CaseInsensitiveDict
        self.request = type("Req", (), {"method": method, "url": url})()
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def raw_https(path, head_extra, body, chunked=False, host=None, port=None, ca=None):
    """POST over a raw TLS socket: headers first, then the body in pieces while the
    server may already have answered (a server refusing a large body answers early)."""
    host, port, ca = host or HOST, port or PORT, ca or args.ca
    s = tls_ctx(ca).wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=host)
    head = "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n%s" % (path, host, port, JOSE, head_extra)
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
    else:
        head += "Content-Length: %d\r\n" % len(body)
    s.sendall((head + "\r\n").encode())
    data = b""
    s.settimeout(0.05)
    i = 0
    step = 16384
    t0 = time.monotonic()
    try:
        while i < len(body) and time.monotonic() - t0 < 20:
            piece = body[i:i + step]
            if chunked:
                piece = b"%x\r\n" % len(piece) + piece + b"\r\n"
            s.settimeout(5)
            s.sendall(piece)
            i += step
            s.settimeout(0.001)
            try:
                d = s.recv(65536)
                if d == b"":
                    break
                data += d
            except (socket.timeout, ssl.SSLWantReadError):
                pass
        if chunked and i >= len(body):
            s.sendall(b"0\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass
    s.settimeout(5)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
            m = re.search(rb"\r\n\r\n", data)
            if m:
                cl = re.search(rb"(?i)content-length:\s*(\d+)", data[:m.end()])
                if cl and len(data) - m.end() >= int(cl.group(1)):
                    break
    except (OSError, ssl.SSLError):
        pass
    s.close()
    url = "https://%s:%d%s" % (host, port, path)
    m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n(.*)", data, re.S)
    if not m:
        raise TestFailure("POST %s with a %d-byte body%s: no HTTP response (connection closed after %d body bytes "
                          "sent; got %r)" % (path, len(body), " (chunked)" if chunked else "", min(i, len(body)),
                                              data[:200]))
    hdrs = {}
    for line in m.group(2).decode("latin-1").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip()] = v.strip()
    return RawResp("POST", url, int(m.group(1)), hdrs, m.group(3))


def big_body(total, chunked=False):
    def send():
        j = outer_ok()
        s = json.dumps(j)
        # pad the JSON with whitespace (still valid JSON) up to `total` bytes
        body = (s[:-1] + " " * (total - len(s)) + "}").encode()
        return raw_https("/acme/new-order", "", body, chunked=chunked)
    return send


def at_limit_ok():
    a = A()
    h = hdr(a.key, a.url, kid=a.url)
    h["x-pad"] = ""
    j = raw_jws(h, None, a.key)
    over = len(json.dumps(j)) - 256 * 1024
    h["x-pad"] = "p" * (-over * 3 // 4 - 8)
    j = raw_jws(h, None, a.key)
    s = json.dumps(j)
    check(len(s) <= 256 * 1024, "internal: %d" % len(s))
    s = s[:-1] + " " * (256 * 1024 - len(s)) + "}"
    return post(a.url, s)


# Bodies over the limit are refused by libevent before flintd sees the
# request: 413 and the connection closed. libevent 2.1 writes its own HTML
# page for them; flintd replaces it with a problem document (malformed) with
# the directory's Link. The store is unchanged and nothing past the limit is
# buffered.
def closes_connection(r):
    check(r.headers.get("Connection", "").lower() == "close",
          "413 without Connection: close: %s" % r.headers)
    check('rel="index"' in r.headers.get("Link", ""), "413 without Link rel=index: %s" % r.headers)


case("size", "body_limit_plus_one_413", big_body(256 * 1024 + 1), 413, "malformed",
     check=closes_connection)
case("size", "body_1MiB_413", big_body(1024 * 1024), 413, "malformed", check=closes_connection)
case("size", "body_8MiB_413", big_body(8 * 1024 * 1024), 413, "malformed", check=closes_connection)
case("size", "body_chunked_over_limit_413", big_body(300 * 1024, chunked=True), 413, "malformed",
     check=closes_connection)
case("size", "body_exactly_at_limit_accepted", at_limit_ok, 200, None, nochange=True)
# a header line libevent cannot parse: its 400 page, replaced by a problem document
case("size", "header_without_colon_400",
     lambda: raw_https("/acme/new-order", "NoColonHere\r\n", json.dumps(outer_ok()).encode()), 400,
     "malformed", check=closes_connection)


def ctype_variant(ct, drop=False):
    def send():
        a = A()
        j = signed_a(a.url, None)
        if drop:
            return c._track(c.s.post(a.url, data=json.dumps(j), timeout=15,
                                     headers={"Content-Type": None}))
        return post(a.url, j, ctype=ct)
    return send


for name, ct in (("ctype_missing", None), ("ctype_application_json", "application/json"),
                 ("ctype_text_plain", "text/plain"), ("ctype_application_jose", "application/jose"),
                 ("ctype_jose_json_suffix", "application/jose+jsonx"),
                 ("ctype_form", "application/x-www-form-urlencoded"),
                 ("ctype_empty", ""), ("ctype_multipart", "multipart/form-data; boundary=x")):
    case("ctype", name, ctype_variant(ct, drop=ct is None), 415, "malformed")
for name, ct in (("ctype_with_charset_ok", "application/jose+json; charset=utf-8"),
                 ("ctype_uppercase_ok", "APPLICATION/JOSE+JSON")):
    case("ctype", name, ctype_variant(ct), 200, None)


# ============================================================ C. base64url
def mangle(s, how):
    if how == "padding":
        return s + "=" * (-len(s) % 4 or 4)
    if how == "plus":
        return s[:3] + "+" + s[4:]
    if how == "slash":
        return s[:3] + "/" + s[4:]
    if how == "space":
        return s[:4] + " " + s[4:]
    if how == "newline":
        return s[:8] + "\n" + s[8:]
    if how == "len_mod4_1":
        return s + "A" if len(s) % 4 == 0 else s[:len(s) - len(s) % 4 + 1]
    if how == "trailing_bits":
        alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        rem = len(s) % 4
        check(rem in (2, 3), "internal: %d" % len(s))
        v = alpha.index(s[-1])
        v |= 1  # a leftover bit set: the same bytes, non-canonical
        return s[:-1] + alpha[v]
    if how == "std_alphabet":
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        return base64.b64encode(raw).decode()
    if how == "percent":
        return s[:2] + "%41" + s[2:]
    raise ValueError(how)


def b64_variant(field, how):
    def send():
        a = A()
        h = hdr(a.key, NO(), kid=a.url)
        p = json.dumps(h, separators=(",", ":"))
        while len(p) % 3 != 1:  # 2 leftover symbols: room for trailing bits
            p += " "
        pl = json.dumps(OB, separators=(",", ":"))
        while len(pl) % 3 != 1:
            pl += " "
        if how == "std_alphabet":  # make sure '+' or '/' occurs
            pl = pl[:-1] + ' ,"x":"~~~>>>???"}'
            while len(pl) % 3 != 1:
                pl += " "
        p64, pl64 = b64u(p), b64u(pl)
        if field == "protected":
            p64 = mangle(p64, how)
        elif field == "payload":
            pl64 = mangle(pl64, how)
        j = raw_jws(None, None, a.key, p64=p64, pl64=pl64)
        if field == "signature":
            j["signature"] = mangle(j["signature"], how)
        return post(NO(), j)
    return send


for field in ("protected", "payload", "signature"):
    for how in ("padding", "plus", "slash", "space", "newline", "len_mod4_1", "trailing_bits",
                "std_alphabet", "percent"):
        if field == "signature" and how == "std_alphabet":
            continue
        case("b64", "%s_%s" % (field, how), b64_variant(field, how), 400, "malformed")


def empty_sig():
    j = outer_ok()
    j["signature"] = ""
    return post(NO(), j)


def short_sig():
    j = outer_ok()
    j["signature"] = j["signature"][:-4]
    return post(NO(), j)


def sig_rs_swapped():
    j = outer_ok()
    raw = base64.urlsafe_b64decode(j["signature"] + "==")
    j["signature"] = b64u(raw[32:] + raw[:32])
    return post(NO(), j)


def sig_zero():
    j = outer_ok()
    j["signature"] = b64u(b"\x00" * 64)
    return post(NO(), j)


def sig_der():
    a = A()
    j = outer_ok()
    from cryptography.hazmat.primitives.asymmetric import ec as _ec
    der = a.key.priv.sign((j["protected"] + "." + j["payload"]).encode(), _ec.ECDSA(hashes.SHA256()))
    j["signature"] = b64u(der)
    return post(NO(), j)


def sig_other_payload():
    j = outer_ok()
    j2 = outer_ok({"identifiers": [{"type": "dns", "value": n("other")}]})
    j["signature"] = j2["signature"]
    return post(NO(), j)


case("b64", "signature_empty", empty_sig, 400, "malformed")
case("sig", "signature_truncated", short_sig, 400, "malformed")
case("sig", "signature_r_s_swapped", sig_rs_swapped, 400, "malformed")
case("sig", "signature_all_zero", sig_zero, 400, "malformed")
case("sig", "signature_der_encoded_ecdsa", sig_der, 400, "malformed")
case("sig", "signature_of_another_payload", sig_other_payload, 400, "malformed")


# ================================================================ D. jwk/kid
def kid_variant(mk_kid, url=None):
    def send():
        a = A()
        u = url() if url else NO()
        h = hdr(a.key, u, kid=None)
        h["kid"] = mk_kid(a)
        return post(u, raw_jws(h, OB if u == NO() else None, a.key))
    return send


def acct_id(a):
    return a.url.rsplit("/", 1)[1]


case("kid", "both_jwk_and_kid", lambda: post(NO(), raw_jws(hdr(A().key, NO(), kid=A().url, jwk=True), OB, A().key)),
     400, "malformed")
case("kid", "neither_jwk_nor_kid", lambda: post(NO(), raw_jws(hdr(A().key, NO()), OB, A().key)), 400, "malformed")
case("kid", "neither_on_new_account", lambda: post(c.url("newAccount"), raw_jws(
    hdr(Key.ec256(), c.url("newAccount")), {"termsOfServiceAgreed": True}, Key.ec256())), 400, "malformed")
for name, mk in (
        ("kid_other_host", lambda a: re.sub(r"^https://[^/]+", "https://ca.evil.example", a.url)),
        ("kid_other_port", lambda a: a.url.replace(":%d/" % PORT, ":%d/" % (PORT + 1))),
        ("kid_http_scheme", lambda a: a.url.replace("https://", "http://")),
        ("kid_relative_path", lambda a: "/acme/acct/" + acct_id(a)),
        ("kid_bare_id", acct_id),
        ("kid_trailing_slash", lambda a: a.url + "/"),
        ("kid_orders_suffix", lambda a: a.url + "/orders"),
        ("kid_query_string", lambda a: a.url + "?x=1"),
        ("kid_order_url", lambda a: need("xorder_url")),
        ("kid_unknown_account", lambda a: a.url.rsplit("/", 1)[0] + "/nonexistent0000"),
        ("kid_empty_id", lambda a: a.url.rsplit("/", 1)[0] + "/"),
        ("kid_dotdot", lambda a: a.url.rsplit("/", 1)[0] + "/../acct/" + acct_id(a)),
        ("kid_uppercase_host", lambda a: a.url.replace("https://127.0.0.1", "HTTPS://127.0.0.1")),
        ("kid_very_long", lambda a: a.url + "x" * 5000)):
    case("kid", name, kid_variant(mk), 400, "accountDoesNotExist")
for name, val in (("kid_empty_string", ""), ("kid_number", 7), ("kid_null", None), ("kid_object", {"url": "x"})):
    case("kid", name, kid_variant(lambda a, v=val: v), 400, "malformed")
case("kid", "kid_of_deactivated_account",
     lambda: post(NO(), raw_jws(hdr(need("D").key, NO(), kid=need("D").url), OB, need("D").key)), 401, "unauthorized")
case("kid", "kid_of_deactivated_account_post_as_get",
     lambda: post(need("D").url, raw_jws(hdr(need("D").key, need("D").url, kid=need("D").url), None, need("D").key)),
     401, "unauthorized")
case("kid", "kid_of_other_account_signed_by_a",
     lambda: post(NO(), raw_jws(hdr(A().key, NO(), kid=need("B").url), OB, A().key)), 400, "malformed")
case("kid", "jwk_on_new_order", lambda: post(NO(), raw_jws(hdr(A().key, NO(), jwk=True), OB, A().key)),
     400, "malformed")
case("kid", "jwk_on_account_post_as_get",
     lambda: post(A().url, raw_jws(hdr(A().key, A().url, jwk=True), None, A().key)), 400, "malformed")
case("kid", "jwk_on_finalize",
     lambda: post(need("rorder")["finalize"], raw_jws(hdr(A().key, need("rorder")["finalize"], jwk=True),
                                                        {"csr": b64u(make_csr(Key.ec256(), [n("xacct")]))}, A().key)),
     400, "malformed")
case("kid", "kid_on_new_account",
     lambda: post(c.url("newAccount"), raw_jws(hdr(A().key, c.url("newAccount"), kid=A().url),
                                               {"termsOfServiceAgreed": True}, A().key)), 400, "malformed")


# ========================================================= E. algorithms/keys
def new_acct_with(key, alg=None, jwk=None, sign_key=None, drop_alg=False, alg_value="unset"):
    def send():
        u = c.url("newAccount")
        h = hdr(key, u, jwk=True, alg=alg)
        if jwk is not None:
            h["jwk"] = jwk(key) if callable(jwk) else jwk
        if drop_alg:
            del h["alg"]
        if alg_value != "unset":
            h["alg"] = alg_value
        return post(u, raw_jws(h, {"termsOfServiceAgreed": True}, sign_key or key))
    return send


def rsa_key(bits, e=65537):
    return Key(rsa.generate_private_key(public_exponent=e, key_size=bits))


RSA2048 = rsa_key(2048)
EC256, EC384 = Key.ec256(), Key.ec384()


def rsa_signed_as_es256():
    k = RSA2048
    u = c.url("newAccount")
    h = hdr(k, u, jwk=True, alg="ES256")
    return post(u, raw_jws(h, {"termsOfServiceAgreed": True}, k))


case("alg", "rs256_header_ec_key", new_acct_with(EC256, alg="RS256"), 400, "badSignatureAlgorithm")
case("alg", "es256_header_rsa_key", rsa_signed_as_es256, 400, "badSignatureAlgorithm")
case("alg", "es384_header_p256_key", new_acct_with(EC256, alg="ES384"), 400, "badSignatureAlgorithm")
case("alg", "es256_header_p384_key", new_acct_with(EC384, alg="ES256"), 400, "badSignatureAlgorithm")
case("alg", "es512_header_p256_key", new_acct_with(EC256, alg="ES512"), 400, "badSignatureAlgorithm")
case("alg", "eddsa_header_p256_key", new_acct_with(EC256, alg="EdDSA"), 400, "badSignatureAlgorithm")
case("alg", "alg_none", new_acct_with(EC256, alg="none"), 400, "badSignatureAlgorithm")
case("alg", "alg_hs256", new_acct_with(EC256, alg="HS256"), 400, "badSignatureAlgorithm")
case("alg", "alg_ps256", new_acct_with(RSA2048, alg="PS256"), 400, "badSignatureAlgorithm")
case("alg", "alg_rs1", new_acct_with(RSA2048, alg="RS1"), 400, "badSignatureAlgorithm")
case("alg", "alg_lowercase_es256", new_acct_with(EC256, alg="es256"), 400, "badSignatureAlgorithm")
case("alg", "alg_empty_string", new_acct_with(EC256, alg_value=""), 400, "badSignatureAlgorithm")
case("alg", "alg_missing", new_acct_with(EC256, drop_alg=True), 400, "malformed")
case("alg", "alg_number", new_acct_with(EC256, alg_value=256), 400, "malformed")
case("alg", "alg_array", new_acct_with(EC256, alg_value=["ES256"]), 400, "malformed")
case("alg", "alg_null", new_acct_with(EC256, alg_value=None), 400, "malformed")
case("alg", "kid_rs256_header_ec_account", lambda: post(A().url, raw_jws(
    hdr(A().key, A().url, kid=A().url, alg="RS256"), None, A().key)), 400, "badSignatureAlgorithm")
case("alg", "kid_es384_header_p256_account", lambda: post(A().url, raw_jws(
    hdr(A().key, A().url, kid=A().url, alg="ES384"), None, A().key)), 400, "badSignatureAlgorithm")
case("alg", "kid_hs256_with_jwk_thumbprint_secret", lambda: post(A().url, {
    **(lambda h: {"protected": b64u(enc(h)), "payload": ""})(hdr(A().key, A().url, kid=A().url, alg="HS256")),
    "signature": b64u(hashlib.sha256(b"x").digest())}), 400, "badSignatureAlgorithm")
case("key", "rsa_1024_account_key", new_acct_with(rsa_key(1024)), 400, "badPublicKey")
case("key", "rsa_1536_account_key", new_acct_with(rsa_key(1536)), 400, "badPublicKey")
case("key", "rsa_exponent_3", new_acct_with(rsa_key(2048, e=3)), 400, "badPublicKey")


def jwk_mod(**kw):
    def f(k):
        j = dict(k.jwk())
        for a, v in kw.items():
            if v is None:
                j.pop(a, None)
            else:
                j[a] = v
        return j
    return f


def ec_not_on_curve(k):
    j = dict(k.jwk())
    y = int.from_bytes(base64.urlsafe_b64decode(j["y"] + "=="), "big")
    j["y"] = b64u(((y + 1) % (2 ** 256)).to_bytes(32, "big"))
    return j


def ec_short_x(k):
    j = dict(k.jwk())
    j["x"] = b64u(base64.urlsafe_b64decode(j["x"] + "==")[1:])
    return j


def ec_p384_coords_p256_crv(k):
    j = dict(EC384.jwk())
    j["crv"] = "P-256"
    return j


def rsa_priv_members(k):
    j = dict(k.jwk())
    n_ = k.priv.private_numbers()
    j["d"] = b64u(n_.d.to_bytes((n_.d.bit_length() + 7) // 8, "big"))
    j["p"] = b64u(n_.p.to_bytes((n_.p.bit_length() + 7) // 8, "big"))
    return j


def ec_priv_member(k):
    j = dict(k.jwk())
    j["d"] = b64u(k.priv.private_numbers().private_value.to_bytes(32, "big"))
    return j


case("key", "ec_point_not_on_curve", new_acct_with(EC256, jwk=ec_not_on_curve), 400, "malformed")
case("key", "ec_point_identity_zeros", new_acct_with(EC256, jwk=jwk_mod(x=b64u(b"\0" * 32), y=b64u(b"\0" * 32))),
     400, "malformed")
case("key", "ec_x_31_bytes", new_acct_with(EC256, jwk=ec_short_x), 400, "malformed")
case("key", "ec_crv_mismatch_p384_coords", new_acct_with(EC256, jwk=ec_p384_coords_p256_crv), 400, "malformed")
case("key", "ec_crv_p384_label_on_p256_key", new_acct_with(EC256, jwk=jwk_mod(crv="P-384"), alg="ES384"), 400,
     "malformed")
case("key", "ec_private_member_d", new_acct_with(EC256, jwk=ec_priv_member), 400, "malformed")
case("key", "rsa_private_members", new_acct_with(RSA2048, jwk=rsa_priv_members), 400, "malformed")
case("key", "kty_oct", new_acct_with(EC256, jwk={"kty": "oct", "k": b64u(b"secret-secret-secret")}), 400,
     "badPublicKey")
case("key", "kty_unknown", new_acct_with(EC256, jwk=jwk_mod(kty="XYZ")), 400, "badPublicKey")
case("key", "kty_missing", new_acct_with(EC256, jwk=jwk_mod(kty=None)), 400, "malformed")
case("key", "kty_rsa_with_ec_members", new_acct_with(EC256, jwk=jwk_mod(kty="RSA")), 400, "malformed")
case("key", "crv_secp256k1", new_acct_with(EC256, jwk=jwk_mod(crv="secp256k1")), 400, "badPublicKey")
case("key", "crv_missing", new_acct_with(EC256, jwk=jwk_mod(crv=None)), 400, "malformed")
case("key", "okp_ed448", new_acct_with(EC256, jwk={"kty": "OKP", "crv": "Ed448", "x": b64u(b"\1" * 57)}), 400,
     "badPublicKey")
case("key", "jwk_is_string", new_acct_with(EC256, jwk="EC P-256"), 400, "malformed")
case("key", "jwk_is_array", new_acct_with(EC256, jwk=[1, 2]), 400, "malformed")
case("key", "jwk_x_not_base64url", new_acct_with(EC256, jwk=jwk_mod(x="not base64!")), 400, "malformed")
case("key", "rsa_n_missing", new_acct_with(RSA2048, jwk=jwk_mod(n=None)), 400, "malformed")
case("key", "signed_by_other_key_than_jwk", new_acct_with(EC256, sign_key=Key.ec256()), 400, "malformed")


# ================================================================ F. nonces
def nonce_variant(val, url=None):
    def send():
        a = A()
        h = hdr(a.key, a.url, kid=a.url, nonce=None)
        v = val() if callable(val) else val
        if v != "__absent__":
            h["nonce"] = v
        return post(a.url, raw_jws(h, None, a.key))
    return send


def replay():
    a = A()
    nn = c.new_nonce()
    expect_status(post(a.url, raw_jws(hdr(a.key, a.url, kid=a.url, nonce=nn), None, a.key)), 200, "first use")
    return post(a.url, raw_jws(hdr(a.key, a.url, kid=a.url, nonce=nn), None, a.key))


def replay_after_error():
    """A nonce spent on a request that failed later (bad signature) is spent too."""
    a = A()
    nn = c.new_nonce()
    j = raw_jws(hdr(a.key, a.url, kid=a.url, nonce=nn), None, a.key)
    j["signature"] = b64u(b"\1" * 64)
    expect_problem(post(a.url, j), 400, "malformed", "bad signature")
    return post(a.url, raw_jws(hdr(a.key, a.url, kid=a.url, nonce=nn), None, a.key))


def flipped_nonce():
    nn = c.new_nonce()
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = len(nn) // 2
    return nn[:i] + alpha[(alpha.index(nn[i]) + 1) % 64] + nn[i + 1:]


def expired_nonce():
    left = 11.5 - (time.monotonic() - need("nonce2_t"))
    if left > 0:
        time.sleep(left)
    return need("nonce2_expired")


def check_fresh_nonce(r):
    nn = r.headers.get("Replay-Nonce")
    check(nn and re.match(r"^[A-Za-z0-9_-]+$", nn), "badNonce reply without a fresh Replay-Nonce: %r" % nn)


def nonce_case(name, val, status, ptype):
    case("nonce", name, nonce_variant(val), status, ptype,
         check=check_fresh_nonce if ptype == "badNonce" else None)


nonce_case("nonce_missing", "__absent__", 400, "badNonce")
nonce_case("nonce_empty", "", 400, "malformed")  # §6.5.1: Replay-Nonce = 1*base64url
nonce_case("nonce_not_base64url", "!!not-a-nonce!!", 400, "malformed")
nonce_case("nonce_padded", lambda: c.new_nonce() + "=", 400, "malformed")
nonce_case("nonce_plus_slash", "ab+/cd", 400, "malformed")
nonce_case("nonce_len_mod4_1", "AAAAA", 400, "malformed")
nonce_case("nonce_trailing_bits", "AB", 400, "malformed")
nonce_case("nonce_space", lambda: c.new_nonce()[:5] + " " + c.new_nonce()[6:], 400, "malformed")
nonce_case("nonce_number", 12345, 400, "malformed")
nonce_case("nonce_null", None, 400, "malformed")
nonce_case("nonce_array", lambda: [c.new_nonce()], 400, "malformed")
nonce_case("nonce_unknown_random", lambda: b64u(os.urandom(32)), 400, "badNonce")
nonce_case("nonce_one_symbol_changed", flipped_nonce, 400, "badNonce")
nonce_case("nonce_prefix_of_real", lambda: c.new_nonce()[:8], 400, "badNonce")
nonce_case("nonce_very_long", lambda: b64u(os.urandom(6000)), 400, "badNonce")
nonce_case("nonce_of_other_flintd", lambda: need("nonce2_other"), 400, "badNonce")
case("nonce", "nonce_replayed", replay, 400, "badNonce", nochange=True, check=check_fresh_nonce)
case("nonce", "nonce_replayed_after_failed_request", replay_after_error, 400, "badNonce", check=check_fresh_nonce)


# ================================================================== G. url
def url_variant(mk, post_to=None):
    def send():
        a = A()
        target = post_to() if post_to else a.url
        h = hdr(a.key, "x", kid=a.url)
        v = mk(a)
        if v == "__absent__":
            del h["url"]
        else:
            h["url"] = v
        return post(target, raw_jws(h, None, a.key))
    return send


for name, mk in (
        ("url_other_resource", lambda a: c.url("newOrder")),
        ("url_other_account", lambda a: need("B").url),
        ("url_other_host", lambda a: re.sub(r"^https://[^/]+", "https://ca.evil.example", a.url)),
        ("url_localhost_alias", lambda a: a.url.replace("127.0.0.1", "localhost")),
        ("url_other_port", lambda a: a.url.replace(":%d/" % PORT, ":%d/" % (PORT + 10))),
        ("url_http_scheme", lambda a: a.url.replace("https://", "http://")),
        ("url_trailing_slash", lambda a: a.url + "/"),
        ("url_query_string", lambda a: a.url + "?a=b"),
        ("url_fragment", lambda a: a.url + "#frag"),
        ("url_uppercase_path", lambda a: a.url.replace("/acme/acct/", "/ACME/acct/")),
        ("url_percent_encoded", lambda a: a.url.replace("/acme/", "/%61cme/")),
        ("url_dot_segment", lambda a: a.url.replace("/acme/acct/", "/acme/./acct/")),
        ("url_relative", lambda a: "/acme/acct/" + acct_id(a)),
        ("url_directory", lambda a: c.dir_url)):
    case("url", name, url_variant(mk), 401, "unauthorized")
for name, v in (("url_missing", "__absent__"), ("url_empty", ""), ("url_number", 1), ("url_null", None),
                ("url_array", ["x"])):
    case("url", name, url_variant(lambda a, v=v: v), 400, "malformed")


# ===================================================== H. cross-account access
def b_get(url_fn, payload=None):
    def send():
        b = need("B")
        return post(url_fn(), raw_jws(hdr(b.key, url_fn(), kid=b.url), payload, b.key))
    return send


def no_leak(*secrets_fn):
    def chk(r):
        for f in secrets_fn:
            for sec in f():
                check(sec not in r.text, "the refusal leaks %r: %s" % (sec[:60], r.text[:300]))
    return chk


LEAK_ORDER = lambda: [n("xacct"), need("xorder")["authorizations"][0]]  # noqa: E731
LEAK_AUTHZ = lambda: [n("xacct"), need("xauthz")["challenges"][0]["token"]]  # noqa: E731
LEAK_PEND = lambda: [n("xpend"), need("pchall")["token"]]  # noqa: E731
LEAK_CERT = lambda: ["BEGIN CERTIFICATE", n("cert")]  # noqa: E731
LEAK_ACCT = lambda: ["hostile-a@example.com", A().key.jwk()["x"]]  # noqa: E731

XROWS = [
    ("xacct_order_post_as_get", lambda: need("xorder_url"), None, LEAK_ORDER),
    ("xacct_order_post", lambda: need("xorder_url"), {}, LEAK_ORDER),
    ("xacct_authz_post_as_get", lambda: need("xorder")["authorizations"][0], None, LEAK_AUTHZ),
    ("xacct_authz_deactivate", lambda: need("pauthz_url"), {"status": "deactivated"}, LEAK_PEND),
    ("xacct_valid_authz_deactivate", lambda: need("xorder")["authorizations"][0], {"status": "deactivated"},
     LEAK_AUTHZ),
    ("xacct_challenge_post_as_get", lambda: need("pchall")["url"], None, LEAK_PEND),
    ("xacct_challenge_respond", lambda: need("pchall")["url"], {}, LEAK_PEND),
    ("xacct_certificate_post_as_get", lambda: need("cert_url"), None, LEAK_CERT),
    ("xacct_certificate_alternate", lambda: need("cert_url") + "/1", None, LEAK_CERT),
    ("xacct_certificate_post", lambda: need("cert_url"), {}, LEAK_CERT),
    ("xacct_account_post_as_get", lambda: A().url, None, LEAK_ACCT),
    ("xacct_account_update_contact", lambda: A().url, {"contact": ["mailto:evil@example.com"]}, LEAK_ACCT),
    ("xacct_account_deactivate", lambda: A().url, {"status": "deactivated"}, LEAK_ACCT),
    ("xacct_orders_list", lambda: A().url + "/orders", None, LEAK_ORDER),
    ("xacct_orders_list_post", lambda: A().url + "/orders", {}, LEAK_ORDER),
    ("xacct_finalize_ready_order", lambda: need("rorder")["finalize"],
     "CSR", lambda: [n("xacct")]),
]
for name, url_fn, payload, leak in XROWS:
    if payload == "CSR":
        def send(url_fn=url_fn):
            b = need("B")
            return post(url_fn(), raw_jws(hdr(b.key, url_fn(), kid=b.url),
                                          {"csr": b64u(make_csr(Key.ec256(), [n("xacct")]))}, b.key))
        case("xacct", name, send, 403, "unauthorized", check=no_leak(leak))
    else:
        case("xacct", name, b_get(url_fn, payload), 403, "unauthorized", check=no_leak(leak))


# ================================================== I. newOrder identifiers
def order_ids(ids):
    def send():
        a = A()
        return post(NO(), raw_jws(hdr(a.key, NO(), kid=a.url), {"identifiers": ids}, a.key))
    return send


def order_payload(payload):
    def send():
        a = A()
        return post(NO(), raw_jws(hdr(a.key, NO(), kid=a.url), payload, a.key))
    return send


def dns(v):
    return {"type": "dns", "value": v}


def ids_are(want):
    def chk(r):
        got = r.json().get("identifiers")
        check(got == want, "order identifiers %r, want %r" % (got, want))
    return chk


case("ident", "uppercase_name_normalized", order_ids([dns("UPPER.HOSTILE.Example.COM")]), 201, None,
     nochange=False, check=ids_are([dns("upper.hostile.example.com")]))
case("ident", "valid_a_label_accepted", order_ids([dns("xn--bcher-kva." + SFX)]), 201, None, nochange=False,
     check=ids_are([dns("xn--bcher-kva." + SFX)]))
case("ident", "duplicate_identifiers_collapsed", order_ids([dns(n("dup")), dns(n("dup"))]), 201, None,
     nochange=False, check=ids_are([dns(n("dup"))]))
case("ident", "duplicate_differing_case_collapsed", order_ids([dns(n("dupc")), dns(n("DUPC"))]), 201, None,
     nochange=False, check=ids_are([dns(n("dupc"))]))
REJ = [
    ("trailing_dot", n("dot") + "."),
    ("idn_u_label", "bücher." + SFX),
    ("bad_a_label", "xn--99999999999999." + SFX),
    ("a_label_ascii_only", "xn--abc-." + SFX),
    ("reserved_hyphens", "ab--cd." + SFX),
    ("empty_label", "a.." + SFX),
    ("leading_dot", "." + SFX),
    ("label_64_octets", "a" * 64 + "." + SFX),
    ("name_254_octets", ".".join(["a" * 62] * 4) + ".com"),
    ("underscore", "_acme." + SFX),
    ("space_in_name", "a b." + SFX),
    ("leading_hyphen", "-a." + SFX),
    ("trailing_hyphen", "a-." + SFX),
    ("ipv4_in_dns", "127.0.0.1"),
    ("ipv6_in_dns", "::1"),
    ("numeric_tld", "a.123"),
    ("single_label", "localhost"),
    ("empty_value", ""),
    ("wildcard_double", "*.*." + SFX),
    ("wildcard_partial_label", "a*." + SFX),
    ("wildcard_in_middle", "x.*." + SFX),
    ("wildcard_alone", "*"),
    ("wildcard_dot_only", "*."),
    ("wildcard_tld_only", "*.com"),
    ("wildcard_double_star", "**." + SFX),
    ("wildcard_rightmost", SFX + ".*"),
    ("url_as_name", "https://" + SFX + "/"),
    ("name_with_port", SFX + ":443"),
]
for name, v in REJ:
    case("ident", name, order_ids([dns(v)]), 400, "rejectedIdentifier")
for name, v in (("ip_invalid_octet", "256.1.1.1"), ("ip_three_octets", "1.2.3"), ("ip_hostname", SFX),
                ("ip_cidr", "10.0.0.0/8"), ("ip_empty", "")):
    case("ident", name, order_ids([{"type": "ip", "value": v}]), 400, "malformed")
case("ident", "ip_v4_mapped_v6", order_ids([{"type": "ip", "value": "::ffff:1.2.3.4"}]), 400, "rejectedIdentifier")
for name, t in (("type_email", "email"), ("type_uppercase_dns", "DNS"), ("type_empty", ""),
                ("type_permanent_identifier", "permanent-identifier")):
    case("ident", name, order_ids([{"type": t, "value": n("t")}]), 400, "unsupportedIdentifier")
case("ident", "one_good_one_bad", order_ids([dns(n("good")), dns("bad..name")]), 400, "rejectedIdentifier")
case("ident", "two_different_failures_compound", order_ids([dns("bad..name"), {"type": "email", "value": "x"}]),
     400, "compound")
case("ident", "101_identifiers", order_ids([dns(n("m%d" % i)) for i in range(101)]), 400, "rejectedIdentifier")
for name, payload in (
        ("identifiers_empty_list", {"identifiers": []}),
        ("identifiers_missing", {"identifier": [dns(n("x"))]}),
        ("identifiers_object", {"identifiers": dns(n("x"))}),
        ("identifiers_string", {"identifiers": n("x")}),
        ("identifiers_null", {"identifiers": None}),
        ("identifier_entry_string", {"identifiers": [n("x")]}),
        ("identifier_entry_null", {"identifiers": [None]}),
        ("identifier_type_number", {"identifiers": [{"type": 1, "value": n("x")}]}),
        ("identifier_value_number", {"identifiers": [{"type": "dns", "value": 1}]}),
        ("identifier_value_missing", {"identifiers": [{"type": "dns"}]}),
        ("identifier_value_array", {"identifiers": [{"type": "dns", "value": [n("x")]}]}),
        ("identifier_value_nul", {"identifiers": [dns("a\u0000b." + SFX)]}),
        ("notafter_not_timestamp", {"identifiers": [dns(n("x"))], "notAfter": "tomorrow"}),
        ("notbefore_number", {"identifiers": [dns(n("x"))], "notBefore": 0}),
        ("profile_number", {"identifiers": [dns(n("x"))], "profile": 1}),
        ("replaces_number", {"identifiers": [dns(n("x"))], "replaces": 1})):
    case("ident", name, order_payload(payload), 400, "malformed")
case("ident", "unknown_profile", order_payload({"identifiers": [dns(n("x"))], "profile": "no-such-profile"}),
     400, "invalidProfile")


# ================================================================ J. CSRs
def ready_order(names):
    a = A()
    r = a.new_order(names)
    o = r.json()
    check(o.get("status") == "ready", "order %s is %s, want ready" % (names, o.get("status")))
    return r.headers["Location"], o


def der_split(der):
    """The TLV elements inside the top-level SEQUENCE."""
    def tlv(b, i):
        tag = b[i]
        ln = b[i + 1]
        hl = 2
        if ln & 0x80:
            k = ln & 0x7f
            ln = int.from_bytes(b[i + 2:i + 2 + k], "big")
            hl = 2 + k
        return tag, hl, ln
    _, hl, ln = tlv(der, 0)
    body = der[hl:hl + ln]
    out, i = [], 0
    while i < len(body):
        _, h, l_ = tlv(body, i)
        out.append(body[i:i + h + l_])
        i += h + l_
    return der[:hl], out


def der_seq(parts):
    body = b"".join(parts)
    ln = len(body)
    if ln < 128:
        return b"\x30" + bytes([ln]) + body
    lb = ln.to_bytes((ln.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(lb)]) + lb + body


def csr_other_key(names):
    k1, k2 = Key.ec256(), Key.ec256()
    _, p1 = der_split(make_csr(k1, names))
    _, p2 = der_split(make_csr(k2, names))
    return der_seq([p2[0], p1[1], p1[2]])  # k2's request info with k1's signature


def csr_cn_only(cn):
    k = Key.ec256()
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return b.sign(k.priv, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def csr_no_names():
    k = Key.ec256()
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hostile")]))
    return b.sign(k.priv, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def csr_ip_in_dns():
    k = Key.ec256()
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(n("csr1")), x509.DNSName("127.0.0.1")]), critical=False)
    return b.sign(k.priv, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def csr_flip_sig():
    d = bytearray(make_csr(Key.ec256(), [n("csr1")]))
    d[-3] ^= 0x10
    return bytes(d)


def finalize_case(name, order_names, csr_value, status, ptype, accepted_names=None):
    """csr_value(): the JSON value of "csr" (bytes are base64url-encoded, "__absent__" drops it)."""
    def fn():
        a = A()
        url, o = ready_order(order_names)
        before = snapshot()
        v = csr_value()
        payload = {} if isinstance(v, str) and v == "__absent__" else {"csr": b64u(v) if isinstance(v, bytes) else v}
        r = a.post(o["finalize"], payload)
        if ptype is None:
            expect_status(r, status, "finalize")
            o2 = a.poll(url, lambda x: x.get("status") not in ("processing", "ready"), 30, what="order")
            check(o2.get("status") == "valid", "order after finalize: %s" % o2.get("status"))
            from acmelib import cert_names, download_cert, split_pem_certs
            leaf = split_pem_certs(download_cert(a, o2["certificate"]))[0]
            check(cert_names(leaf) == sorted(accepted_names), "SANs %r, want %r" % (cert_names(leaf), accepted_names))
            return
        expect_problem(r, status, ptype, "finalize")
        check(r.headers.get("Replay-Nonce"), "problem reply without Replay-Nonce")
        after = snapshot()
        check(before == after, "the store changed: %s (response %s)" % (diff_snap(before, after), describe(r)))
        st = a.get_ok(url).json().get("status")
        check(st == "ready", "order after a refused finalize is %s, want ready" % st)
    fn_case("csr", name, fn)


N1, N2 = n("csr1"), n("csr2")
finalize_case("csr_duplicate_names_accepted", [N1], lambda: make_csr(Key.ec256(), [N1, N1]), 200, None, [N1])
finalize_case("csr_uppercase_names_accepted", [N1], lambda: make_csr(Key.ec256(), [N1.upper()]), 200, None, [N1])
finalize_case("csr_name_not_in_order", [N1], lambda: make_csr(Key.ec256(), [N1, N2]), 400, "badCSR")
finalize_case("csr_missing_order_name", [N1, N2], lambda: make_csr(Key.ec256(), [N1]), 400, "badCSR")
finalize_case("csr_other_name_only", [N1], lambda: make_csr(Key.ec256(), [N2]), 400, "badCSR")
finalize_case("csr_idn_u_label_cn", [N1], lambda: csr_cn_only("bücher." + SFX), 400, "badCSR")
finalize_case("csr_invalid_name_empty_label", [N1], lambda: make_csr(Key.ec256(), [N1, "a.." + SFX]), 400, "badCSR")
finalize_case("csr_invalid_wildcard", [N1], lambda: make_csr(Key.ec256(), [N1, "*.*." + SFX]), 400, "badCSR")
finalize_case("csr_ip_in_dnsname", [N1], csr_ip_in_dns, 400, "badCSR")
finalize_case("csr_cn_not_in_order", [N1], lambda: make_csr(Key.ec256(), [N1], cn=N2), 400, "badCSR")
finalize_case("csr_signed_by_other_key", [N1], lambda: csr_other_key([N1]), 400, "badCSR")
finalize_case("csr_signature_bit_flipped", [N1], csr_flip_sig, 400, "badCSR")
finalize_case("csr_rsa_1024", [N1], lambda: make_csr(rsa_key(1024), [N1]), 400, "badCSR")
finalize_case("csr_account_key", [N1], lambda: make_csr(A().key, [N1]), 400, "badCSR")
finalize_case("csr_no_names", [N1], csr_no_names, 400, "badCSR")
finalize_case("csr_garbage_der", [N1], lambda: b"\x30\x82\x01\x00garbage-garbage", 400, "badCSR")
finalize_case("csr_random_bytes", [N1], lambda: os.urandom(300), 400, "badCSR")
finalize_case("csr_trailing_bytes", [N1], lambda: make_csr(Key.ec256(), [N1]) + b"\x00\x00", 400, "badCSR")
finalize_case("csr_empty_string", [N1], lambda: "", 400, "badCSR")
finalize_case("csr_certificate_not_csr", [N1], lambda: need("cert")["der"], 400, "badCSR")
def padded_csr():
    while True:
        der = make_csr(Key.ec256(), [N1])
        if len(der) % 3:
            e = base64.urlsafe_b64encode(der).decode()
            check(e.endswith("="), "internal")
            return e


finalize_case("csr_base64_padding", [N1], padded_csr, 400, "malformed")
finalize_case("csr_std_base64", [N1], lambda: base64.b64encode(make_csr(Key.ec256(), [N1])).decode() + "+/", 400,
              "malformed")
finalize_case("csr_pem_text", [N1], lambda: x509.load_der_x509_csr(make_csr(Key.ec256(), [N1])).public_bytes(
    serialization.Encoding.PEM).decode(), 400, "malformed")
finalize_case("csr_number", [N1], lambda: 12345, 400, "malformed")
finalize_case("csr_missing", [N1], lambda: "__absent__", 400, "malformed")
finalize_case("csr_nul_inside", [N1], lambda: b64u(make_csr(Key.ec256(), [N1]))[:10] + "\u0000" + "AAAA", 400,
              "malformed")


# ============================================================= K. revokeCert
def revoke_payload(payload_fn, signer="A", jwk=False):
    def send():
        u = c.url("revokeCert")
        if signer == "A":
            a = A()
            key, kid = a.key, (None if jwk else a.url)
        elif signer == "C":
            cc = need("C")
            key, kid = cc.key, cc.url
        else:
            key, kid = signer(), None
        return post(u, raw_jws(hdr(key, u, kid=kid, jwk=kid is None), payload_fn(), key))
    return send


def cert_b64():
    return b64u(need("cert")["der"])


def foreign_cert():
    k = Key.ec256()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n("cert"))])
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.priv.public_key())
            .serial_number(x509.load_der_x509_certificate(need("cert")["der"]).serial_number)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n("cert"))]), critical=False)
            .sign(k.priv, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER), k


for name, reason in (("reason_7_unassigned", 7), ("reason_11", 11), ("reason_negative", -1), ("reason_6_hold", 6),
                     ("reason_8_remove_from_crl", 8), ("reason_2pow31", 2 ** 31), ("reason_2pow32_plus_1", 2 ** 32 + 1),
                     ("reason_string", "1"), ("reason_float", 1.5), ("reason_bool", True), ("reason_array", [1]),
                     ("reason_object", {"code": 1}), ("reason_null", None)):
    case("revoke", name, revoke_payload(lambda reason=reason: {"certificate": cert_b64(), "reason": reason}),
         400, "badRevocationReason")
case("revoke", "cert_not_issued_here_same_serial", revoke_payload(lambda: {"certificate": b64u(foreign_cert()[0])}),
     404, "malformed")
case("revoke", "cert_not_issued_here_signed_by_its_key",
     lambda: (lambda d, k: post(c.url("revokeCert"), raw_jws(hdr(k, c.url("revokeCert"), jwk=True),
                                                           {"certificate": b64u(d)}, k)))(*foreign_cert()),
     404, "malformed")
for name, val in (("cert_garbage", lambda: b64u(b"this is not a certificate")),
                  ("cert_random_der", lambda: b64u(b"\x30\x82\x01\x00" + os.urandom(256))),
                  ("cert_trailing_bytes", lambda: b64u(need("cert")["der"] + b"\x00")),
                  ("cert_padded_base64", lambda: cert_b64() + "=" * (-len(cert_b64()) % 4 or 4)),
                  ("cert_std_base64", lambda: base64.b64encode(need("cert")["der"]).decode() + "+/"),
                  ("cert_pem_text", lambda: need("cert")["certs"][0]),
                  ("cert_empty", lambda: ""),
                  ("cert_number", lambda: 5),
                  ("cert_csr_instead", lambda: b64u(make_csr(Key.ec256(), [n("cert")])))):
    case("revoke", name, revoke_payload(lambda val=val: {"certificate": val()}), 400, "malformed")
case("revoke", "cert_missing", revoke_payload(lambda: {"reason": 1}), 400, "malformed")
case("revoke", "revoke_post_as_get", revoke_payload(lambda: None), 400, "malformed")


def setup_c():
    cc = Account(c)
    cc.register(expect=201)
    S["C"] = cc


fn_case("revoke", "setup_unrelated_account", setup_c)
case("revoke", "unrelated_account", revoke_payload(lambda: {"certificate": cert_b64(), "reason": 1}, signer="C"),
     403, "unauthorized")
case("revoke", "random_jwk_not_cert_key", revoke_payload(lambda: {"certificate": cert_b64()}, signer=Key.ec256),
     403, "unauthorized")
case("revoke", "account_key_as_jwk", revoke_payload(lambda: {"certificate": cert_b64()}, jwk=True), 403,
     "unauthorized")
case("revoke", "revoke_by_issuer_ok", revoke_payload(lambda: {"certificate": cert_b64(), "reason": 1}), 200, None,
     nochange=False)
case("revoke", "revoke_again_already_revoked", revoke_payload(lambda: {"certificate": cert_b64(), "reason": 1}),
     400, "alreadyRevoked")

# expired nonce: after the rows above more than 10 s have passed since it was issued
case("nonce", "nonce_expired_other_flintd_lifetime", nonce_variant(expired_nonce), 400, "badNonce")


def expired_nonce_own():
    """A nonce of the second flintd (--nonce-lifetime 10) used there after it expired."""
    c2 = need("c2")
    k = Key.ec256()
    u = c2.url("newAccount")
    r = c2.post_raw(u, raw_jws(hdr(k, u, jwk=True, nonce=need("nonce2_expired")), {"termsOfServiceAgreed": True}, k))
    expect_problem(r, 400, "badNonce", "expired nonce at the flintd that issued it")
    # and a fresh one works there
    r = c2.post(u, {"termsOfServiceAgreed": True}, k)
    expect_status(r, 201, "newAccount with a fresh nonce")


fn_case("nonce", "nonce_expired_at_its_own_flintd", expired_nonce_own)


# ======================================================== N. methods, paths
def method(m, url_fn, body_fn=None):
    def send():
        body = body_fn() if body_fn else None
        return c._track(c.s.request(m, url_fn(), data=body, timeout=15,
                                    headers={"Content-Type": JOSE} if body is not None else {}))
    return send


for name, m, u in (("get_new_order", "GET", lambda: c.url("newOrder")),
                   ("get_account", "GET", lambda: A().url),
                   ("put_new_order", "PUT", lambda: c.url("newOrder")),
                   ("delete_account", "DELETE", lambda: A().url),
                   ("post_directory", "POST", lambda: c.dir_url),
                   ("post_new_nonce", "POST", lambda: c.url("newNonce")),
                   ("options_new_account", "OPTIONS", lambda: c.url("newAccount"))):
    case("http", name, method(m, u, (lambda: json.dumps(outer_ok())) if m in ("POST", "PUT", "PATCH") else None),
         405, "malformed")
for name, u in (("unknown_path", lambda: BASE + "/acme/no-such-thing"),
                ("order_unknown_id", lambda: BASE + "/acme/order/AAAAAAAAAAAAAAAA"),
                ("authz_unknown_id", lambda: BASE + "/acme/authz/AAAAAAAAAAAAAAAA"),
                ("chall_unknown_id", lambda: BASE + "/acme/chall/AAAAAAAAAAAAAAAA"),
                ("cert_unknown_id", lambda: BASE + "/acme/cert/AAAAAAAAAAAAAAAA"),
                ("account_sub_resource", lambda: A().url + "/keys")):
    case("http", "post_as_get_" + name, lambda u=u: post(u(), signed_a(u(), None)), 404, "malformed",
         nonce_check=name != "unknown_path")


# The CA's files: certificates and CRLs by exact name, never a key or the database.
def no_secret(r):
    check(b"PRIVATE KEY" not in r.content and b"SQLite format" not in r.content,
          "a key or the database came back: %s" % r.content[:80])


for name, path in (("root_key", "/ca/root.key"), ("intermediate_key", "/ca/intermediate.key"),
                   ("server_key", "/ca/server.key"), ("dotdot_key", "/ca/../root.key"),
                   ("encoded_dotdot_db", "/ca/%2e%2e/flintd.db"), ("database", "/ca/flintd.db"),
                   ("nonce_secret", "/ca/secrets")):
    case("http", "ca_file_" + name, method("GET", lambda path=path: BASE + path), 404, None,
         check=no_secret)


# ============================================== O. account and authz updates
def a_post(url_fn, payload):
    def send():
        a = A()
        return post(url_fn(), raw_jws(hdr(a.key, url_fn(), kid=a.url), payload, a.key))
    return send


ME = lambda: A().url  # noqa: E731
for name, payload, ptype in (
        ("status_revoked", {"status": "revoked"}, "malformed"),
        ("status_uppercase", {"status": "DEACTIVATED"}, "malformed"),
        ("status_number", {"status": 1}, "malformed"),
        ("status_null", {"status": None}, "malformed"),
        ("contact_string", {"contact": "mailto:a@example.com"}, "malformed"),
        ("contact_number_entry", {"contact": [1]}, "malformed"),
        ("contact_11_entries", {"contact": ["mailto:c%d@example.com" % i for i in range(11)]}, "invalidContact"),
        ("contact_empty_mailto", {"contact": ["mailto:"]}, "invalidContact"),
        ("contact_http_url", {"contact": ["http://example.com/"]}, "unsupportedContact"),
        ("contact_mailto_query", {"contact": ["mailto:a@example.com?subject=x"]}, "invalidContact"),
        ("contact_mailto_two_addresses", {"contact": ["mailto:a@example.com,b@example.com"]}, "invalidContact"),
        ("contact_wildcard_domain", {"contact": ["mailto:a@*.example.com"]}, "invalidContact"),
        ("contact_double_at", {"contact": ["mailto:a@b@example.com"]}, "invalidContact"),
        ("contact_ip_literal_bad", {"contact": ["mailto:a@[300.1.1.1]"]}, "invalidContact"),
        ("status_and_bad_contact", {"status": "deactivated", "contact": ["tel:1"]}, "unsupportedContact")):
    case("account", "account_update_" + name, a_post(ME, payload), 400, ptype)


def new_acct_payload(payload, key=None):
    def send():
        k = key() if key else Key.ec256()
        u = c.url("newAccount")
        return post(u, raw_jws(hdr(k, u, jwk=True), payload, k))
    return send


for name, payload, ptype in (
        ("tos_false", {"termsOfServiceAgreed": False}, "malformed"),
        ("tos_missing", {"contact": ["mailto:x@example.com"]}, "malformed"),
        ("tos_string", {"termsOfServiceAgreed": "true"}, "malformed"),
        ("only_return_existing_string", {"onlyReturnExisting": "true"}, "malformed"),
        ("contact_string", {"termsOfServiceAgreed": True, "contact": "mailto:x@example.com"}, "malformed"),
        ("contact_11_entries", {"termsOfServiceAgreed": True,
                                "contact": ["mailto:c%d@example.com" % i for i in range(11)]}, "invalidContact"),
        ("contact_tel", {"termsOfServiceAgreed": True, "contact": ["tel:+15555555"]}, "unsupportedContact"),
        ("post_as_get", None, "malformed")):
    case("account", "new_account_" + name, new_acct_payload(payload), 400, ptype)
case("account", "new_account_deactivated_key", new_acct_payload({"termsOfServiceAgreed": True}, key=lambda: need("D").key),
     401, "unauthorized")
case("account", "new_account_only_existing_deactivated_key",
     new_acct_payload({"onlyReturnExisting": True}, key=lambda: need("D").key), 401, "unauthorized")
PAZ = lambda: need("pauthz_url")  # noqa: E731
for name, payload in (("status_valid", {"status": "valid"}), ("status_capitalized", {"status": "Deactivated"}),
                      ("status_null", {"status": None}), ("status_array", {"status": ["deactivated"]}),
                      ("empty_object", {}), ("status_pending", {"status": "pending"})):
    case("authz", "authz_update_" + name, a_post(PAZ, payload), 400, "malformed")


# ============================================================ P. keyChange
def key_change(mk_inner, outer_jwk=False, acct=None):
    """mk_inner(a, new_key, url) -> the inner JWS (dict) the outer JWS by A (or acct()) carries."""
    def send():
        a = acct() if acct else A()
        u = c.url("keyChange")
        nk = Key.ec256()
        inner = mk_inner(a, nk, u)
        h = hdr(a.key, u, jwk=True) if outer_jwk else hdr(a.key, u, kid=a.url)
        return post(u, raw_jws(h, inner, a.key))
    return send


def inner_jws(a, nk, u, hdr_extra=None, drop=(), payload=None, sign_key=None, jwk=None, alg=None):
    h = {"alg": alg or nk.alg, "jwk": jwk if jwk is not None else nk.jwk(), "url": u}
    h.update(hdr_extra or {})
    for d in drop:
        h.pop(d, None)
    pl = payload if payload is not None else {"account": a.url, "oldKey": a.key.jwk()}
    return raw_jws(h, pl, sign_key or nk)


KC = [
    ("inner_not_a_jws", lambda a, nk, u: {"account": a.url, "oldKey": a.key.jwk()}, 400, "malformed"),
    ("inner_with_nonce", lambda a, nk, u: inner_jws(a, nk, u, {"nonce": c.new_nonce()}), 400, "malformed"),
    ("inner_with_kid", lambda a, nk, u: inner_jws(a, nk, u, {"kid": a.url}), 400, "malformed"),
    ("inner_without_jwk", lambda a, nk, u: inner_jws(a, nk, u, drop=("jwk",)), 400, "malformed"),
    ("inner_url_differs", lambda a, nk, u: inner_jws(a, nk, u, {"url": a.url}), 400, "malformed"),
    ("inner_url_missing", lambda a, nk, u: inner_jws(a, nk, u, drop=("url",)), 400, "malformed"),
    ("inner_signed_by_old_key", lambda a, nk, u: inner_jws(a, nk, u, sign_key=a.key), 400, "malformed"),
    ("inner_alg_none", lambda a, nk, u: inner_jws(a, nk, u, alg="none"), 400, "badSignatureAlgorithm"),
    ("inner_alg_mismatch", lambda a, nk, u: inner_jws(a, nk, u, alg="RS256"), 400, "badSignatureAlgorithm"),
    ("inner_old_key_wrong", lambda a, nk, u: inner_jws(a, nk, u, payload={"account": a.url,
                                                                          "oldKey": Key.ec256().jwk()}),
     400, "malformed"),
    ("inner_old_key_missing", lambda a, nk, u: inner_jws(a, nk, u, payload={"account": a.url}), 400, "malformed"),
    ("inner_account_missing", lambda a, nk, u: inner_jws(a, nk, u, payload={"oldKey": a.key.jwk()}), 400,
     "malformed"),
    ("inner_payload_not_object", lambda a, nk, u: inner_jws(a, nk, u, payload=[1]), 400, "malformed"),
    ("inner_new_key_is_old_key", lambda a, nk, u: inner_jws(a, a.key, u), 400, "malformed"),
    ("inner_new_key_rsa_1024", lambda a, nk, u: inner_jws(a, rsa_key(1024), u), 400, "badPublicKey"),
    ("inner_new_key_private_member", lambda a, nk, u: inner_jws(a, nk, u, jwk=ec_priv_member(nk)), 400,
     "malformed"),
    ("inner_extra_outer_member", lambda a, nk, u: dict(inner_jws(a, nk, u), header={"x": 1}), 400, "malformed"),
    ("inner_b64_padding", lambda a, nk, u: (lambda j: dict(j, signature=j["signature"] + "=="))(inner_jws(a, nk, u)),
     400, "malformed"),
    ("inner_account_of_other", lambda a, nk, u: inner_jws(a, nk, u, payload={"account": need("B").url,
                                                                             "oldKey": a.key.jwk()}),
     403, "unauthorized"),
]
for name, mk, st, pt in KC:
    case("keychange", name, key_change(mk), st, pt)
case("keychange", "outer_signed_with_jwk", key_change(lambda a, nk, u: inner_jws(a, nk, u), outer_jwk=True), 400,
     "malformed")
case("keychange", "outer_post_as_get", lambda: post(c.url("keyChange"), signed_a(c.url("keyChange"), None)), 400,
     "malformed")


def kc_conflict_check(r):
    check(r.headers.get("Location") == need("B").url,
          "409 for a key of another account must name that account in Location (RFC 8555 §7.3.5): %r, want %r"
          % (r.headers.get("Location"), need("B").url))


case("keychange", "new_key_of_other_account_409", key_change(lambda a, nk, u: inner_jws(a, need("B").key, u)), 409,
     "malformed", check=kc_conflict_check)


# ======================================================= positive controls
# The row generators above, fed with an honest value: the request must succeed, so
# that the refusals above are caused by the one hostile change and nothing else.
def ok_order(r):
    check(r.json().get("status") in ("pending", "ready"), "order status %r" % r.json().get("status"))


case("control", "control_outer_variant", outer_variant(lambda j: json.dumps(j).encode()), 201, None, nochange=False)
case("control", "control_prot_variant", prot_variant(enc), 201, None, nochange=False)
case("control", "control_pay_variant", pay_variant(enc(OB)), 201, None, nochange=False)
case("control", "control_b64_variant", b64_variant("none", "none"), 201, None, nochange=False)
case("control", "control_kid_variant", kid_variant(lambda a: a.url), 201, None, nochange=False)
case("control", "control_nonce_variant", nonce_variant(lambda: c.new_nonce()), 200, None)
case("control", "control_url_variant", url_variant(lambda a: a.url), 200, None)
case("control", "control_new_acct_with", new_acct_with(Key.ec256()), 201, None, nochange=False)
case("control", "control_new_acct_with_rsa", new_acct_with(rsa_key(2048)), 201, None, nochange=False)
case("control", "control_order_ids", order_ids([dns(n("control"))]), 201, None, nochange=False, check=ok_order)
def fresh_account():
    e = Account(c)
    e.register(expect=201)
    S["E"] = e
    return e


case("control", "control_key_change", key_change(lambda a, nk, u: (S.__setitem__("E_new", nk), inner_jws(a, nk, u))[1],
                                                  acct=fresh_account), 200, None, nochange=False,
     check=lambda r: expect_status(post(need("E").url, raw_jws(hdr(need("E_new"), need("E").url, kid=need("E").url),
                                                               None, need("E_new"))), 200, "POST with the new key"))
case("control", "control_b_get_own", lambda: post(need("B").url, raw_jws(hdr(need("B").key, need("B").url, kid=need("B").url),
                                                                         None, need("B").key)), 200, None)


def control_raw_https():
    a = A()
    j = raw_jws(hdr(a.key, a.url, kid=a.url), None, a.key)
    return raw_https(a.url.split(str(PORT), 1)[1], "", json.dumps(j).encode())


case("control", "control_raw_https", control_raw_https, 200, None)


# ===================================================== L. slow clients
def tls_ctx(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return ctx


def slowloris(kind):
    """kind "headers": the request headers one byte a second; "body": the headers at once,
    then the body one byte a second. flintd must drop it by --request-deadline and serve
    another client meanwhile."""
    host2, port2 = re.match(r"^https://([^/:]+):(\d+)", args.dir2).groups()
    port2 = int(port2)
    if kind == "headers":
        head, req = b"", ("GET /directory HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: slow\r\nX-Pad: %s\r\n\r\n"
                          % (host2, port2, "a" * 40)).encode()
    else:
        req = b'{"protected":"' + b"A" * 200 + b'"}'
        head = ("POST /acme/new-account HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
                "Content-Length: %d\r\n\r\n" % (host2, port2, JOSE, len(req))).encode()
    ctx = tls_ctx(args.ca2)
    raw = socket.create_connection((host2, port2), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=host2)
    t0 = time.monotonic()
    if head:
        s.sendall(head)
    others = []

    def other_client():
        time.sleep(1.2)
        t = time.monotonic()
        try:
            r = requests.get(args.dir2, verify=args.ca2, timeout=5)
            others.append((r.status_code, time.monotonic() - t))
        except Exception as e:  # noqa: BLE001
            others.append((repr(e), time.monotonic() - t))
    th = threading.Thread(target=other_client)
    th.start()
    closed_at, i = None, 0
    s.settimeout(1.0)
    limit = args.deadline2 + 6
    while time.monotonic() - t0 < limit:
        try:
            s.send(req[i:i + 1])
            i = min(i + 1, len(req) - 1)
        except (OSError, ssl.SSLError):
            closed_at = time.monotonic() - t0
            break
        try:
            d = s.recv(4096)
            if d == b"":
                closed_at = time.monotonic() - t0
                break
            if d:
                closed_at = time.monotonic() - t0
                raise TestFailure("the server answered a request it has not fully received after %.1fs: %r"
                                  % (closed_at, d[:200]))
        except (socket.timeout, ssl.SSLWantReadError):
            pass
        except (OSError, ssl.SSLError):
            closed_at = time.monotonic() - t0
            break
    th.join(10)
    try:
        s.close()
    except OSError:
        pass
    check(closed_at is not None, "a client sending one %s byte a second was not disconnected within %ds "
          "(request deadline %ds; %d bytes sent)" % (kind, limit, args.deadline2, i))
    check(closed_at <= args.deadline2 + 2.5, "slow client disconnected after %.1fs (deadline %ds)" %
          (closed_at, args.deadline2))
    check(others and others[0][0] == 200 and others[0][1] < 2.0,
          "another client during the slowloris: %r (want 200 within 2s)" % (others,))
    return "closed after %.1fs; other client %s in %.2fs" % (closed_at, others[0][0], others[0][1])


def slow_tls_handshake():
    """A client that connects and never starts TLS is dropped by the deadline too."""
    host2, port2 = re.match(r"^https://([^/:]+):(\d+)", args.dir2).groups()
    s = socket.create_connection((host2, int(port2)), timeout=args.deadline2 + 6)
    t0 = time.monotonic()
    try:
        d = s.recv(10)
    except socket.timeout:
        raise TestFailure("an idle TCP connection (no TLS handshake) is still open after %ds" % (args.deadline2 + 6))
    except OSError:
        d = b""
    dt = time.monotonic() - t0
    s.close()
    check(d == b"", "unexpected bytes %r" % d)
    check(dt <= args.deadline2 + 2.5, "idle connection closed after %.1fs (deadline %ds)" % (dt, args.deadline2))
    return "closed after %.1fs" % dt


fn_case("slow", "slowloris_headers_one_byte_per_second", lambda: slowloris("headers"))
fn_case("slow", "slowloris_body_one_byte_per_second", lambda: slowloris("body"))
fn_case("slow", "idle_tcp_without_tls_handshake", slow_tls_handshake)


# ============================================== M. 10 000 idle connections
def flintd_pid():
    pid = args.pid
    for _ in range(3):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "flintd":
                    return pid
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        if not kids:
            return None
        pid = int(kids[0])
    return None


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1


def timed(fn, what, limit=3.0):
    t = time.monotonic()
    r = fn()
    dt = time.monotonic() - t
    check(dt < limit, "%s took %.2fs while the connections were open (limit %.1fs)" % (what, dt, limit))
    return r, dt


FLOOD = {}


def flood_open():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.conns + 512
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    check(soft >= want, "RLIMIT_NOFILE %d < %d (raise the hard limit: ulimit -Hn)" % (soft, want))
    pid = flintd_pid()
    check(pid, "cannot find the flintd process under pid %d" % args.pid)
    FLOOD["pid"] = pid
    FLOOD["rss0"] = rss_mb(pid)
    socks = []
    FLOOD["socks"] = socks
    t0 = time.monotonic()
    pending = {}
    poller = select.poll()
    for i in range(args.conns):
        src = "127.0.%d.%d" % (((i // args.per_addr) // 250), 2 + (i // args.per_addr) % 250)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        e = s.connect_ex((HOST, PORT))
        socks.append(s)
        if e not in (0, 115):  # EINPROGRESS
            raise TestFailure("connect #%d from %s: errno %d" % (i, src, e))
        pending[s.fileno()] = s
        poller.register(s.fileno(), select.POLLOUT)
    failed = 0
    while pending and time.monotonic() - t0 < 60:
        for fd, ev in poller.poll(1000):
            s = pending.pop(fd, None)
            if s is None:
                continue
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                failed += 1
    check(not pending and failed == 0, "%d connections still connecting, %d failed after %.0fs" %
          (len(pending), failed, time.monotonic() - t0))
    # some of them TLS-handshaken (one per source address first, then more)
    ctx = tls_ctx(args.ca)
    tls = []
    step = max(1, args.conns // max(1, args.tls_conns))
    for i in range(0, args.conns, step)[:args.tls_conns]:
        s = socks[i]
        s.setblocking(True)
        s.settimeout(15)
        ts = ctx.wrap_socket(s, server_hostname=HOST)
        ts.setblocking(False)
        socks[i] = ts
        tls.append(ts)
    FLOOD["tls"] = len(tls)
    time.sleep(1.0)
    FLOOD["rss1"] = rss_mb(pid)
    return "%d connections (%d TLS) from %d addresses in %.1fs; flintd RSS %.0f -> %.0f MB" % (
        len(socks), len(tls), (args.conns + args.per_addr - 1) // args.per_addr, time.monotonic() - t0,
        FLOOD["rss0"], FLOOD["rss1"])


def flood_still_open():
    socks = FLOOD.get("socks") or []
    check(socks, "no flood connections")
    closed = 0
    for s in socks[::50]:
        try:
            d = s.recv(1, socket.MSG_PEEK) if not isinstance(s, ssl.SSLSocket) else s.recv(1)
            if d == b"":
                closed += 1
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            closed += 1
    check(closed == 0, "%d of %d sampled idle connections were closed by flintd within its request deadline"
          % (closed, len(socks[::50])))


def flood_rss():
    check("rss1" in FLOOD, "flood not opened")
    rss = rss_mb(FLOOD["pid"])
    check(rss < args.rss_limit_mb, "flintd RSS %.0f MB with %d idle connections (bound %d MB)" %
          (rss, len(FLOOD["socks"]), args.rss_limit_mb))
    return "%.0f MB (bound %d MB)" % (rss, args.rss_limit_mb)


def flood_directory():
    check(FLOOD.get("socks"), "flood not opened")
    s = c.session()
    r, dt = timed(lambda: s.get(c.dir_url, timeout=10), "GET /directory")
    expect_status(r, 200, "GET /directory")
    return "%.3fs" % dt


def flood_nonce():
    check(FLOOD.get("socks"), "flood not opened")
    s = c.session()
    r, dt = timed(lambda: s.head(c.url("newNonce"), timeout=10), "HEAD newNonce")
    check(r.status_code == 200 and r.headers.get("Replay-Nonce"), "HEAD newNonce: " + describe(r))
    return "%.3fs" % dt


def flood_signed_post():
    check(FLOOD.get("socks"), "flood not opened")
    a = A()
    c2 = Client(args.dir, args.ca)
    r, dt = timed(lambda: c2.post(a.url, None, a.key, kid=a.url), "signed POST-as-GET")
    expect_status(r, 200, "signed POST-as-GET of the account")
    r, dt2 = timed(lambda: c2.post(c2.url("newOrder"), {"identifiers": [dns(n("flood"))]}, a.key, kid=a.url),
                   "newOrder")
    expect_status(r, 201, "newOrder")
    return "%.3fs / %.3fs" % (dt, dt2)


def flood_close():
    socks = FLOOD.pop("socks", []) or []
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
    check(socks, "no flood connections")
    time.sleep(2.0)
    r = requests.get(c.dir_url, verify=args.ca, timeout=10)
    expect_status(r, 200, "GET /directory after closing the connections")
    a = A()
    c3 = Client(args.dir, args.ca)
    expect_status(c3.post(a.url, None, a.key, kid=a.url), 200, "signed POST after closing")
    pid = FLOOD.get("pid")
    check(pid and os.path.exists("/proc/%d" % pid), "flintd is gone")
    # freed memory stays in AddressSanitizer's quarantine (256 MB by default): the RSS
    # grows once more when the connections are freed; twice the bound covers that
    rss = rss_mb(pid)
    check(rss < 2 * args.rss_limit_mb, "flintd RSS %.0f MB after closing the connections (bound %d MB)"
          % (rss, 2 * args.rss_limit_mb))
    return "flintd RSS %.0f MB after closing (bound %d MB)" % (rss, 2 * args.rss_limit_mb)


fn_case("flood", "open_idle_connections", flood_open)
fn_case("flood", "rss_bound_while_open", flood_rss)
fn_case("flood", "directory_while_open", flood_directory)
fn_case("flood", "new_nonce_while_open", flood_nonce)
fn_case("flood", "signed_post_while_open", flood_signed_post)
fn_case("flood", "idle_connections_kept_until_deadline", flood_still_open)
fn_case("flood", "healthy_after_close", flood_close)


def tls_get_directory(src):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind((src, 0))
    raw.settimeout(10)
    raw.connect((HOST, PORT))
    ts = tls_ctx(args.ca).wrap_socket(raw, server_hostname=HOST)
    ts.sendall(("GET /directory HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (HOST, PORT)).encode())
    data = b""
    while True:
        d = ts.recv(65536)
        if not d:
            break
        data += d
    ts.close()
    return data.split(b"\r\n", 1)[0]


def per_address_cap():
    """--max-connections-per-ip: from one address at most cap (per event loop) TLS
    connections; the others are refused at the handshake; another address is served."""
    src = "127.0.3.7"
    ctx = tls_ctx(args.ca)
    tries = args.per_ip_cap * args.loops + 30
    socks, refused = [], 0
    t0 = time.monotonic()
    try:
        for _ in range(tries):
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.bind((src, 0))
            raw.settimeout(10)
            try:
                raw.connect((HOST, PORT))
                socks.append(ctx.wrap_socket(raw, server_hostname=HOST))
            except (ssl.SSLError, OSError):
                refused += 1
                raw.close()
        # a TLS 1.3 client may finish its handshake before it reads the refusal: probe
        # (an open idle connection has nothing to read; a refused one reads EOF/error)
        poller = select.poll()
        byfd = {}
        for ts in socks:
            byfd[ts.fileno()] = ts
            poller.register(ts.fileno(), select.POLLIN)
        time.sleep(0.3)
        dead = set()
        for fd, ev in poller.poll(300):
            ts = byfd[fd]
            ts.setblocking(False)
            try:
                if ts.recv(1) == b"":
                    dead.add(fd)
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            except (ssl.SSLError, OSError):
                dead.add(fd)
        alive = len(socks) - len(dead)
        check(args.per_ip_cap <= alive <= args.per_ip_cap * args.loops,
              "%d of %d TLS connections from one address stayed open (cap %d per event loop, %d loops)"
              % (alive, tries, args.per_ip_cap, args.loops))
        line = tls_get_directory("127.0.3.8")
        check(line.startswith(b"HTTP/1.1 200"), "another address while %s is at its cap: %r" % (src, line))
    finally:
        for ts in socks:
            try:
                ts.close()
            except OSError:
                pass
    time.sleep(1.0)
    line = tls_get_directory(src)
    check(line.startswith(b"HTTP/1.1 200"), "the capped address after closing its connections: %r" % line)
    return "%d of %d kept open, %d refused at the handshake, in %.1fs" % (alive, tries, tries - alive,
                                                                       time.monotonic() - t0)


fn_case("flood", "per_address_cap", per_address_cap)


# ================================================================== main
def main():
    names = [k.name for k in CASES]
    dup = {x for x in names if names.count(x) > 1}
    if dup:
        sys.exit("duplicate case names: %s" % sorted(dup))
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            sys.exit("unknown case(s): %s" % " ".join(sorted(unknown)))
    failed, passed = [], []
    cats = {}
    for k in CASES:
        if args.only and k.name not in args.only and k.cat != "setup":
            continue
        t = time.monotonic()
        try:
            res = run_case(k) if k.status is not None or k.ptype is not None else k.send()
            note = " (%s)" % res if isinstance(res, str) and res else ""
            print("ok %s/%s%s [%.2fs]" % (k.cat, k.name, note, time.monotonic() - t), flush=True)
            passed.append(k.name)
        except TestFailure as e:
            print("FAIL %s/%s: %s" % (k.cat, k.name, e), flush=True)
            failed.append(k.name)
        except Exception as e:  # noqa: BLE001
            print("FAIL %s/%s: %s: %s" % (k.cat, k.name, type(e).__name__, e), flush=True)
            failed.append(k.name)
        cats[k.cat] = cats.get(k.cat, 0) + 1
    chall.close()
    print("categories: %s" % ", ".join("%s=%d" % kv for kv in cats.items()), flush=True)
    print("summary: %d cases, %d passed, %d failed in %.0fs%s" % (
        len(passed) + len(failed), len(passed), len(failed), time.monotonic() - T0,
        (": " + " ".join(failed)) if failed else ""), flush=True)
    return 1 if failed else 0


sys.exit(main())
