#!/usr/bin/python3
"""Hostile and edge-case ACME requests against flintd (RFC 8555).

  /usr/bin/python3 tests/tools/acme_negative.py --dir https://127.0.0.1:21300/directory \
      --ca DATA/root.pem --http01-port 21302 [--only CASE ...]

Every case prints "ok CASE" or "FAIL CASE: detail"; exit status 1 when any failed.
The server must validate http-01 against 127.0.0.1:<http01-port> (flintd
--http01-port N --allow-loopback-targets with a DNS answering 127.0.0.1).
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (JOSE, POST_AS_GET, Account, ChallServer, Client, Key, Runner,  # noqa: E402
                     TestFailure, b64u, cert_names, cert_serial_hex, check, describe,
                     download_cert, expect_problem, expect_status, find_chall, issue,
                     make_csr, make_jws, openssl_verify, split_pem_certs, validate_http01)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True, help="CA file verifying the server's HTTPS (DATA/root.pem)")
ap.add_argument("--root", default=None, help="root verifying issued certificates (default: --ca)")
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--cts-mgmt", default=None, help="pebble-challtestsrv management URL (dns-01 cases)")
ap.add_argument("--suffix", default="neg.example.com")
ap.add_argument("--orders", type=int, default=12, help="orders created for the paging case")
ap.add_argument("--only", nargs="*", default=None)
args = ap.parse_args()
ROOT = args.root or args.ca
SFX = args.suffix


def n(label):
    return "%s.%s" % (label, SFX)


c = Client(args.dir, args.ca)
chall = ChallServer(args.http01_port)
R = Runner(args.only)
S = {}  # state shared between cases


def need(*keys):
    for k in keys:
        if S.get(k) is None:
            raise TestFailure("depends on '%s', which is not available (an earlier case failed)" % k)
    return [S[k] for k in keys]


def no_store(r):
    return "no-store" in r.headers.get("Cache-Control", "").lower()


NONCE_RE = re.compile(r"^[A-Za-z0-9_-]+$")


# ------------------------------------------------------------------ basics
def case_directory():
    d = c.directory
    meta = d.get("meta")
    check(isinstance(meta, dict), "directory has no meta object: %s" % json.dumps(d))
    check(isinstance(meta.get("termsOfService"), str) and meta["termsOfService"],
          "meta.termsOfService missing/not a string: %r" % meta.get("termsOfService"))
    check(isinstance(meta.get("website"), str) and meta["website"],
          "meta.website missing/not a string: %r" % meta.get("website"))
    caa = meta.get("caaIdentities")
    check(isinstance(caa, list) and caa and all(isinstance(x, str) for x in caa),
          "meta.caaIdentities missing/not a non-empty string array: %r" % caa)
    check(isinstance(meta.get("externalAccountRequired"), bool),
          "meta.externalAccountRequired missing/not a boolean: %r" % meta.get("externalAccountRequired"))
    for k in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"):
        check(d[k].startswith("https://"), "directory %s not an https URL: %r" % (k, d[k]))


def case_head_without_body():
    """RFC 9110 §9.3.2: a HEAD reply carries no body, or a keep-alive client reads it as the
    next response. HEAD then GET on one connection, many times, on resources that answer
    HEAD with a body on GET (the directory, an error document)."""
    s = c.session()
    base = c.url("newNonce").split("/acme/")[0]
    for path in ("/directory", "/acme/renewal-info/not-a-cert-id", "/no/such/resource"):
        for i in range(150):
            try:
                h = s.head(base + path, timeout=10)
                g = s.get(base + path, timeout=10)
            except requests.exceptions.ConnectionError as e:
                raise TestFailure("HEAD %s then GET on one connection (round %d): %s" % (path, i, e))
            check(h.content == b"", "HEAD %s returned a body" % path)
            check(g.status_code == h.status_code, "GET %s %d after HEAD %d" % (path, g.status_code, h.status_code))


def case_new_nonce():
    u = c.url("newNonce")
    h = c.s.head(u, timeout=10)
    check(h.status_code == 200, "HEAD newNonce: want 200, got %d" % h.status_code)
    g = c.s.get(u, timeout=10)
    check(g.status_code == 204, "GET newNonce: want 204, got %d" % g.status_code)
    for what, r in (("HEAD", h), ("GET", g)):
        nn = r.headers.get("Replay-Nonce")
        check(nn and NONCE_RE.match(nn), "%s newNonce: Replay-Nonce %r not base64url" % (what, nn))
        check(no_store(r), "%s newNonce: Cache-Control %r lacks no-store" % (what, r.headers.get("Cache-Control")))
    check(h.headers["Replay-Nonce"] != g.headers["Replay-Nonce"], "two newNonce calls returned the same nonce")


def case_new_account():
    A = Account(c)
    r = A.register(contact=["mailto:neg-a@example.com"], expect=201)
    check(A.url.startswith("https://"), "account Location not absolute https: %r" % A.url)
    check(r.json().get("status") == "valid", "new account status %r" % r.json().get("status"))
    check(isinstance(r.json().get("orders"), str), "account object lacks 'orders' URL: %s" % r.text[:300])
    check(r.headers.get("Replay-Nonce"), "newAccount response without Replay-Nonce")
    S["A"] = A


def case_new_account_existing_key():
    (A,) = need("A")
    r = c.post(c.url("newAccount"), {"termsOfServiceAgreed": True}, A.key)
    expect_status(r, 200, "newAccount with an existing key")
    check(r.headers.get("Location") == A.url, "Location %r != existing account %r" % (r.headers.get("Location"), A.url))


def case_account_post_as_get():
    (A,) = need("A")
    r = A.get_ok(A.url, "POST-as-GET own account")
    b = r.json()
    check(b.get("status") == "valid", "status %r" % b.get("status"))
    check(b.get("contact") == ["mailto:neg-a@example.com"], "contact %r" % b.get("contact"))


def case_only_return_existing_unknown():
    k = Key.ec256()
    r = c.post(c.url("newAccount"), {"onlyReturnExisting": True}, k)
    expect_problem(r, 400, "accountDoesNotExist")


def case_only_return_existing_known():
    (A,) = need("A")
    r = c.post(c.url("newAccount"), {"onlyReturnExisting": True}, A.key)
    expect_status(r, 200, "onlyReturnExisting for an existing key")
    check(r.headers.get("Location") == A.url, "Location %r != %r" % (r.headers.get("Location"), A.url))


def case_account_update_contact():
    (A,) = need("A")
    r = A.post(A.url, {"contact": ["mailto:neg-a2@example.com"]})
    expect_status(r, 200, "account update")
    check(r.json().get("contact") == ["mailto:neg-a2@example.com"], "contact after update %r" % r.json().get("contact"))
    expect_problem(A.post(A.url, {"contact": ["mailto:not-an-email"]}), 400, "invalidContact", "update to a bad contact")
    expect_problem(A.post(A.url, {"contact": ["tel:+1555"]}), 400, "unsupportedContact", "update to a tel: contact")
    r = A.get_ok(A.url)
    check(r.json().get("contact") == ["mailto:neg-a2@example.com"], "a refused update changed the contact to %r" % r.json().get("contact"))
    r = A.post(A.url, {"contact": ["mailto:neg-a@example.com"]})
    expect_status(r, 200, "account update back")


def case_unsupported_contact():
    r = Account(c).register(contact=["tel:+1555"], expect=None)
    expect_problem(r, 400, "unsupportedContact")


def case_invalid_contact():
    r = Account(c).register(contact=["mailto:not-an-email"], expect=None)
    expect_problem(r, 400, "invalidContact")


# -------------------------------------------------------------------- JWS
def case_bad_signature():
    (A,) = need("A")
    expect_problem(A.get(A.url, flip_signature=True), 400, "malformed")


def case_replayed_nonce():
    (A,) = need("A")
    nonce = c.new_nonce()
    expect_status(A.get(A.url, nonce=nonce), 200, "first use of the nonce")
    r = A.get(A.url, nonce=nonce)
    expect_problem(r, 400, "badNonce", "replayed nonce")
    fresh = r.headers.get("Replay-Nonce")
    check(fresh and fresh != nonce, "badNonce response without a fresh Replay-Nonce (got %r)" % fresh)
    # and the fresh nonce works (RFC 8555 §6.5: the client retries with it)
    expect_status(A.get(A.url, nonce=fresh), 200, "retry with the nonce from the badNonce response")


def case_missing_nonce():
    (A,) = need("A")
    expect_problem(A.get(A.url, nonce=None), 400, "badNonce")


def case_unknown_nonce():
    (A,) = need("A")
    expect_problem(A.get(A.url, nonce="bm90LWEtcmVhbC1ub25jZQ"), 400, "badNonce")


def case_url_mismatch():
    (A,) = need("A")
    expect_problem(A.get(A.url, sign_url=c.url("newOrder")), 401, "unauthorized")


def case_alg_none():
    (A,) = need("A")
    p = expect_problem(A.get(A.url, alg="none", empty_signature=True), 400, "badSignatureAlgorithm")
    algs = p.get("algorithms")
    check(isinstance(algs, list) and "ES256" in algs,
          "badSignatureAlgorithm problem must list supported 'algorithms' (RFC 8555 §6.2), got %r" % algs)


def case_hs256():
    (A,) = need("A")
    expect_problem(A.get(A.url, alg="HS256", hs256_secret=b"0123456789abcdef0123456789abcdef"),
                   400, "badSignatureAlgorithm")


def case_jwk_and_kid():
    (A,) = need("A")
    expect_problem(c.post(A.url, POST_AS_GET, A.key, kid=A.url, jwk=True), 400, "malformed")


def case_unknown_kid():
    (A,) = need("A")
    fake = re.sub(r"/acme/acct/[^/]+$", "/acme/acct/999999999", A.url)
    check(fake != A.url, "account URL %r does not look like .../acme/acct/ID" % A.url)
    r = c.post(c.url("newOrder"), {"identifiers": [{"type": "dns", "value": n("kid")}]}, A.key, kid=fake)
    expect_problem(r, 400, "accountDoesNotExist")


def case_wrong_content_type():
    (A,) = need("A")
    r = A.post(c.url("newOrder"), {"identifiers": [{"type": "dns", "value": n("ctype")}]},
               ctype="application/json")
    expect_problem(r, 415, "malformed")


def case_padded_b64():
    (A,) = need("A")
    expect_problem(A.get(A.url, pad_protected=True), 400, "malformed")


def case_index_link():
    (A,) = need("A")
    for what, r in (("newNonce", c.s.head(c.url("newNonce"), timeout=10)), ("account", A.get(A.url))):
        idx = r.links.get("index", {}).get("url")
        check(idx == c.dir_url, "%s response: Link rel=\"index\" %r != directory %r (RFC 8555 §7.1)" %
              (what, idx, c.dir_url))


# ----------------------------------------------------------------- orders
def case_new_order():
    (A,) = need("A")
    r = A.new_order([n("get")])
    o = r.json()
    check(o.get("status") == "pending", "new order status %r" % o.get("status"))
    check(o.get("identifiers") == [{"type": "dns", "value": n("get")}], "identifiers %r" % o.get("identifiers"))
    check(len(o.get("authorizations", [])) == 1 and o.get("finalize"), "authorizations/finalize: %s" % r.text[:300])
    check(isinstance(o.get("expires"), str), "order lacks expires")
    S["order0_url"] = r.headers["Location"]
    S["order0"] = o
    a = A.get_ok(o["authorizations"][0], "GET authz").json()
    check(a.get("status") == "pending", "authz status %r" % a.get("status"))
    check(a.get("identifier") == {"type": "dns", "value": n("get")}, "authz identifier %r" % a.get("identifier"))
    types = sorted(ch.get("type") for ch in a.get("challenges", []))
    check("http-01" in types and "dns-01" in types, "non-wildcard authz challenge types %r" % types)
    for ch in a["challenges"]:
        check(ch.get("status") == "pending" and ch.get("url") and ch.get("token"), "challenge %r" % ch)
    # POST-as-GET on the challenge and on the order
    A.get_ok(a["challenges"][0]["url"], "POST-as-GET challenge")
    S["order0_chall"] = a["challenges"][0]["url"]
    A.get_ok(S["order0_url"], "POST-as-GET order")


def case_plain_get_order():
    (u,) = need("order0_url")
    r = c.get(u)
    expect_problem(r, 405, "malformed", "plain GET on order")


def case_new_order_bad_identifier():
    (A,) = need("A")
    r = A.new_order(None, expect=None, identifiers=[{"type": "dns", "value": "bad..name.example.com"}])
    expect_problem(r, 400, ["rejectedIdentifier", "malformed"], "dns name with an empty label")
    r = A.new_order(None, expect=None, identifiers=[{"type": "foo", "value": "bar"}])
    expect_problem(r, 400, ["unsupportedIdentifier", "malformed"], "identifier type foo")


def case_unknown_order():
    A, u = need("A", "order0_url")
    bad = re.sub(r"/acme/order/[^/]+$", "/acme/order/doesnotexist1234", u)
    check(bad != u, "order URL %r does not look like .../acme/order/ID" % u)
    r = A.get(bad)
    expect_problem(r, 404, ["malformed", "unauthorized"], "POST-as-GET of an unknown order")


def case_empty_identifiers():
    (A,) = need("A")
    r = A.new_order(None, expect=None, identifiers=[])
    expect_problem(r, 400, ["malformed", "rejectedIdentifier"], "newOrder without identifiers")


def case_payload_not_json():
    (A,) = need("A")
    r = A.post(c.url("newOrder"), b64u("this is not json"))
    expect_problem(r, 400, "malformed")


def case_body_not_json():
    (A,) = need("A")
    r = c.post_raw(c.url("newOrder"), "{not json")
    expect_problem(r, 400, "malformed")


def case_authz_deactivation():
    (A,) = need("A")
    r = A.new_order([n("deactz")])
    url, o = r.headers["Location"], r.json()
    az = o["authorizations"][0]
    r = A.post(az, {"status": "deactivated"})
    expect_status(r, 200, "deactivate authorization")
    check(r.json().get("status") == "deactivated", "authz status after deactivation %r" % r.json().get("status"))
    st = _order_status(A, url)
    check(st == "invalid", "order with a deactivated authorization has status %r (want invalid)" % st)
    r = A.new_order([n("deactz")])
    check(r.json()["authorizations"] != [az], "a new order reuses the deactivated authorization")


def case_finalize_not_ready():
    (A,) = need("A")
    r = A.new_order([n("notready")])
    o = r.json()
    r = A.post(o["finalize"], {"csr": b64u(make_csr(Key.ec256(), [n("notready")]))})
    expect_problem(r, 403, "orderNotReady")


def case_wildcard_dns01_only():
    (A,) = need("A")
    r = A.new_order(["*.wild." + SFX])
    o = r.json()
    a = A.get_ok(o["authorizations"][0], "GET wildcard authz").json()
    check(a.get("identifier") == {"type": "dns", "value": "wild." + SFX},
          "wildcard authz identifier %r (want value without '*.')" % a.get("identifier"))
    check(a.get("wildcard") is True, "wildcard authz lacks wildcard: true (%r)" % a.get("wildcard"))
    types = [ch.get("type") for ch in a.get("challenges", [])]
    # only DNS-based challenges prove a wildcard (RFC 8555 §7.1.3, draft-ietf-acme-dns-account-label)
    check(types == ["dns-01", "dns-account-01"],
          "wildcard authz challenge types %r (want dns-01 and dns-account-01)" % types)


def case_foreign_access_denied():
    A, u = need("A", "order0_url")
    B = Account(c)
    B.register(expect=201)
    for what, url in (("order", u), ("authz", S["order0"]["authorizations"][0]), ("account", A.url),
                      ("orders list", A.body["orders"]), ("challenge", S["order0_chall"])):
        r = B.get(url)
        check(r.status_code in (401, 403, 404),
              "another account's POST-as-GET of A's %s: want 401/403/404, got %s" % (what, describe(r)))


# ---------------------------------------------------- validation/issuance
def case_http01_ready():
    (A,) = need("A")
    r = A.new_order([n("issue")])
    url, o = r.headers["Location"], r.json()
    a = validate_http01(A, o["authorizations"][0], chall)
    check(a.get("status") == "valid", "authz ended %r: %s" % (a.get("status"), json.dumps(a)[:400]))
    ch = find_chall(a, "http-01")
    check(ch.get("status") == "valid" and ch.get("validated"), "challenge %r" % ch)
    o = A.poll(url, lambda x: x.get("status") != "pending", 15, what="order to ready")
    check(o.get("status") == "ready", "order status %r after its authz became valid" % o.get("status"))
    S["issue_url"], S["issue_order"] = url, o
    S["issue_authz"] = o["authorizations"][0]


def _order_status(A, url):
    return A.get_ok(url, "GET order").json().get("status")


def case_csr_extra_name():
    A, url, o = need("A", "issue_url", "issue_order")
    r = A.post(o["finalize"], {"csr": b64u(make_csr(Key.ec256(), [n("issue"), n("extra")]))})
    expect_problem(r, 400, "badCSR")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)


def case_csr_account_key():
    A, url, o = need("A", "issue_url", "issue_order")
    r = A.post(o["finalize"], {"csr": b64u(make_csr(A.key, [n("issue")]))})
    expect_problem(r, 400, "badCSR")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)


def _ready_order():
    """A new order for n("issue"): ready at once through authorization reuse."""
    A, _ = need("A", "issue_authz")
    r = A.new_order([n("issue")])
    url, o = r.headers["Location"], r.json()
    check(o.get("status") == "ready", "order for an authorized name is %r, want ready" % o.get("status"))
    return A, url, o


def case_csr_bad_signature():
    A, url, o = _ready_order()
    der = bytearray(make_csr(Key.ec256(), [n("issue")]))
    der[-5] ^= 0x01  # inside the signature BIT STRING (last element of the CSR)
    r = A.post(o["finalize"], {"csr": b64u(bytes(der))})
    p = expect_problem(r, 400, ["badCSR", "malformed"], "CSR with a broken self-signature")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)
    return p.get("type", "").rsplit(":", 1)[-1]


def case_csr_garbage():
    A, url, o = _ready_order()
    r = A.post(o["finalize"], {"csr": b64u(b"\x30\x03\x02\x01\x00 this is no CSR")})
    p = expect_problem(r, 400, ["badCSR", "malformed"], "CSR that is not DER PKCS#10")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)
    return p.get("type", "").rsplit(":", 1)[-1]


def case_csr_cn_not_in_sans():
    A, url, o = need("A", "issue_url", "issue_order")
    r = A.post(o["finalize"], {"csr": b64u(make_csr(Key.ec256(), [n("issue")], cn=n("other")))})
    expect_problem(r, 400, "badCSR", "CSR whose CN is not among its SANs")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)


def case_finalize_and_download():
    A, url, o = need("A", "issue_url", "issue_order")
    key = Key.ec256()
    r = A.post(o["finalize"], {"csr": b64u(make_csr(key, [n("issue")]))})
    expect_status(r, 200, "finalize")
    check(r.headers.get("Location") == url, "finalize response Location %r != order URL %r" %
          (r.headers.get("Location"), url))
    st = r.json().get("status")
    check(st in ("processing", "valid"), "finalize response status %r" % st)
    o = A.poll(url, lambda x: x.get("status") not in ("processing", "ready"), 30, what="order to valid")
    check(o.get("status") == "valid" and o.get("certificate"), "order after finalize: %s" % json.dumps(o)[:400])
    pem = download_cert(A, o["certificate"])
    certs = split_pem_certs(pem)
    check(len(certs) == 2, "chain has %d certificates (want leaf + intermediate)" % len(certs))
    leaf = x509.load_pem_x509_certificate(certs[0].encode())
    inter = x509.load_pem_x509_certificate(certs[1].encode())
    bc = lambda c_: c_.extensions.get_extension_for_class(x509.BasicConstraints).value.ca  # noqa: E731
    check(not bc(leaf) and bc(inter), "order is not leaf then intermediate")
    check(leaf.issuer == inter.subject, "leaf issuer != intermediate subject")
    check(cert_names(certs[0]) == [n("issue")], "leaf SANs %r" % cert_names(certs[0]))
    check(leaf.public_key().public_numbers() == key.priv.public_key().public_numbers(), "leaf key != CSR key")
    ok, out = openssl_verify(ROOT, certs[0], certs[1:])
    check(ok, "openssl verify: " + out)
    S["cert1"] = {"pem": certs[0], "der": leaf.public_bytes(serialization.Encoding.DER), "key": key}
    S["intermediate_pem"] = certs[1]


def case_finalize_valid_order():
    A, url, o = need("A", "issue_url", "issue_order")
    need("cert1")
    r = A.post(o["finalize"], {"csr": b64u(make_csr(Key.ec256(), [n("issue")]))})
    expect_problem(r, 403, "orderNotReady", "finalize of an order that is already valid")


def case_ca_files():
    (inter_pem,) = need("intermediate_pem")
    base = re.match(r"^(https://[^/]+)", c.dir_url).group(1)
    r = c.get(base + "/ca/intermediate.der")
    expect_status(r, 200, "GET /ca/intermediate.der")
    inter = x509.load_pem_x509_certificate(inter_pem.encode()).public_bytes(serialization.Encoding.DER)
    check(r.content == inter, "/ca/intermediate.der differs from the intermediate in the chain")
    r = c.get(base + "/ca/root.pem")
    expect_status(r, 200, "GET /ca/root.pem")
    served = x509.load_pem_x509_certificate(r.content)
    with open(ROOT, "rb") as f:
        local = x509.load_pem_x509_certificate(f.read())
    check(served == local, "/ca/root.pem differs from the data dir's root.pem")


def case_authz_reuse():
    A, az = need("A", "issue_authz")
    r = A.new_order([n("issue")])
    o = r.json()
    check(o.get("authorizations") == [az], "second order authorizations %r, want the valid %r" %
          (o.get("authorizations"), az))
    check(o.get("status") == "ready", "second order for an authorized name has status %r (want ready)" % o.get("status"))


def case_wrong_key_authorization():
    (A,) = need("A")
    r = A.new_order([n("wrong")])
    url, o = r.headers["Location"], r.json()
    az = o["authorizations"][0]
    a = validate_http01(A, az, chall, body="this-is-not-the-key-authorization")
    check(a.get("status") == "invalid", "authz status %r (want invalid)" % a.get("status"))
    ch = find_chall(a, "http-01")
    check(ch.get("status") == "invalid", "challenge status %r (want invalid)" % ch.get("status"))
    err = ch.get("error") or {}
    check(err.get("type") == "urn:ietf:params:acme:error:incorrectResponse",
          "challenge error %r (want type incorrectResponse)" % err)
    o = A.poll(url, lambda x: x.get("status") != "pending", 15, what="order to invalid")
    check(o.get("status") == "invalid", "order status %r (want invalid)" % o.get("status"))


def _dns01(A, name, value_for):
    """Order `name`, put value_for(key_authz_digest) into TXT, answer dns-01; final authz, order url."""
    import base64 as _b
    import hashlib as _h
    import requests as _rq
    check(args.cts_mgmt, "needs --cts-mgmt (pebble-challtestsrv management URL)")
    r = A.new_order([name])
    url, o = r.headers["Location"], r.json()
    az = o["authorizations"][0]
    a = A.get_ok(az, "GET authz").json()
    ch = find_chall(a, "dns-01")
    digest = _b.urlsafe_b64encode(_h.sha256(A.key.key_authorization(ch["token"]).encode()).digest()).rstrip(b"=").decode()
    host = "_acme-challenge.%s." % name.lstrip("*.")
    rr = _rq.post(args.cts_mgmt + "/set-txt", json={"host": host, "value": value_for(digest)}, timeout=5)
    check(rr.status_code == 200, "challtestsrv set-txt: %d" % rr.status_code)
    try:
        expect_status(A.post(ch["url"], {}), 200, "respond to dns-01")
        a = A.poll(az, lambda x: x.get("status") != "pending", 30, what="dns-01 authz")
    finally:
        _rq.post(args.cts_mgmt + "/clear-txt", json={"host": host}, timeout=5)
    return a, url


def case_dns01_valid():
    (A,) = need("A")
    a, url = _dns01(A, n("dns-ok"), lambda d: d)
    check(a.get("status") == "valid", "dns-01 authz ended %r: %s" % (a.get("status"), json.dumps(a)[:400]))
    o = A.poll(url, lambda x: x.get("status") != "pending", 15, what="order to ready")
    check(o.get("status") == "ready", "order %r" % o.get("status"))


def case_dns01_wrong_txt():
    (A,) = need("A")
    a, url = _dns01(A, n("dns-wrong"), lambda d: "wrong" + d[5:])
    check(a.get("status") == "invalid", "authz status %r (want invalid)" % a.get("status"))
    ch = find_chall(a, "dns-01")
    err = ch.get("error") or {}
    check(ch.get("status") == "invalid" and err.get("type") == "urn:ietf:params:acme:error:incorrectResponse",
          "challenge %s / error %r (want invalid, incorrectResponse)" % (ch.get("status"), err))
    o = A.poll(url, lambda x: x.get("status") != "pending", 15, what="order to invalid")
    check(o.get("status") == "invalid", "order status %r (want invalid)" % o.get("status"))


def case_dns01_wildcard_issue():
    (A,) = need("A")
    name = "*.wc." + SFX
    a, url = _dns01(A, name, lambda d: d)
    check(a.get("status") == "valid" and a.get("wildcard") is True, "wildcard authz: %s" % json.dumps(a)[:300])
    o = A.poll(url, lambda x: x.get("status") != "pending", 15, what="order to ready")
    from acmelib import finalize as _fin
    o = _fin(A, url, o, make_csr(Key.ec256(), [name]))
    certs = split_pem_certs(download_cert(A, o["certificate"]))
    check(cert_names(certs[0]) == [name], "SANs %r" % cert_names(certs[0]))
    ok, out = openssl_verify(ROOT, certs[0], certs[1:])
    check(ok, "openssl verify: " + out)


# ------------------------------------------------------------- revocation
def revoke(signer, der, reason=None, kid=None, jwk=False):
    payload = {"certificate": b64u(der)}
    if reason is not None:
        payload["reason"] = reason
    return c.post(c.url("revokeCert"), payload, signer, kid=kid, jwk=jwk)


def case_bad_revocation_reason():
    A, cert = need("A", "cert1")
    # 7 unassigned, 11 unknown, 6 (hold) and 8 (delta CRLs only) refused,
    # negatives and values that wrap to a valid code in 32 bits, non-integers
    for reason in (7, 11, 6, 8, -1, -4294967295, 4294967297, "1", 1.5):
        expect_problem(revoke(A.key, cert["der"], reason, kid=A.url), 400, "badRevocationReason",
                       "reason %r" % (reason,))


def case_revoke_twice():
    A, cert = need("A", "cert1")
    expect_status(revoke(A.key, cert["der"], 4, kid=A.url), 200, "first revocation")
    expect_problem(revoke(A.key, cert["der"], 4, kid=A.url), 400, "alreadyRevoked", "second revocation")
    S.setdefault("revoked", []).append(cert["pem"])


def _issue_more(label):
    (A,) = need("A")
    t = issue(A, [n("issue")], chall, root=ROOT)
    return {"pem": t["certs"][0], "der": t["der"], "key": t["key"]}


def case_revoke_by_cert_key():
    cert = _issue_more("c2")
    expect_status(revoke(cert["key"], cert["der"], 1, jwk=True), 200, "revocation signed by the certificate key")
    S.setdefault("revoked", []).append(cert["pem"])


def case_revoke_by_other_authorized_account():
    cert = _issue_more("c3")
    B = Account(c)
    B.register(expect=201)
    r = B.new_order([n("issue")])
    a = validate_http01(B, r.json()["authorizations"][0], chall)
    check(a.get("status") == "valid", "account B's authz ended %r" % a.get("status"))
    expect_status(revoke(B.key, cert["der"], 0, kid=B.url), 200, "revocation by an account holding valid authz")
    S.setdefault("revoked", []).append(cert["pem"])


def case_revoke_by_unrelated_account():
    cert = _issue_more("c4")
    C = Account(c)
    C.register(expect=201)
    expect_problem(revoke(C.key, cert["der"], 0, kid=C.url), 403, "unauthorized")
    S["not_revoked"] = cert["pem"]


def case_crl():
    (revoked,) = need("revoked")
    (inter_pem,) = need("intermediate_pem")
    base = re.match(r"^(https://[^/]+)", c.dir_url).group(1)
    want = {cert_serial_hex(p).lstrip("0") for p in revoked}
    not_want = {cert_serial_hex(S["not_revoked"]).lstrip("0")} if S.get("not_revoked") else set()
    end = time.monotonic() + 15
    with tempfile.TemporaryDirectory() as td:
        crl_path, ca_path = os.path.join(td, "crl.der"), os.path.join(td, "ca.pem")
        with open(ca_path, "w") as f:
            f.write(inter_pem)
        while True:
            r = c.get(base + "/ca/crl")
            expect_status(r, 200, "GET /ca/crl")
            with open(crl_path, "wb") as f:
                f.write(r.content)
            p = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", crl_path, "-noout", "-text",
                                "-CAfile", ca_path], capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, "openssl crl failed: %s" % (p.stdout + p.stderr)[-400:])
            check("verify OK" in p.stdout + p.stderr, "CRL signature does not verify with the intermediate: %s"
                  % (p.stdout + p.stderr)[-300:])
            got = {s.upper().lstrip("0") for s in re.findall(r"Serial Number:\s*([0-9A-Fa-f]+)", p.stdout)}
            if want <= got or time.monotonic() > end:
                break
            time.sleep(0.5)
    check(want <= got, "CRL lacks revoked serials %s (has %s)" % (sorted(want - got), sorted(got)))
    check(not (not_want & got), "CRL lists the certificate whose revocation was refused")


# ------------------------------------------------------- accounts, paging
def case_orders_paging():
    P = Account(c)
    r = P.register(expect=201)
    orders_url = r.json().get("orders")
    check(orders_url, "account object lacks orders URL")
    created = []
    for i in range(args.orders):
        created.append(P.new_order([n("page%d" % i)]).headers["Location"])
    seen, pages, url = [], 0, orders_url
    while url:
        pages += 1
        check(pages <= 50, "more than 50 pages; Link rel=next loops?")
        rr = P.get(url)
        expect_status(rr, 200, "orders list page %d" % pages)
        lst = rr.json().get("orders")
        check(isinstance(lst, list), "orders page without an orders array: %s" % rr.text[:300])
        seen.extend(lst)
        url = rr.links.get("next", {}).get("url")
    check(len(seen) == len(set(seen)), "duplicates across pages: %d listed, %d distinct" % (len(seen), len(set(seen))))
    missing = set(created) - set(seen)
    check(not missing, "orders missing from the list: %s" % sorted(missing))
    check(set(seen) <= set(created), "list has orders that are not this account's: %s" % sorted(set(seen) - set(created)))
    return "%d orders in %d pages" % (len(seen), pages)


# ------------------------------------------------------ more hostile JWS
def _foreign_host(url):
    return re.sub(r"^https://[^/]+", "https://evil.example.net", url)


def case_kid_foreign_host():
    (A,) = need("A")
    r = c.post(A.url, POST_AS_GET, A.key, kid=_foreign_host(A.url))
    check(r.status_code in (400, 401, 403) and r.headers.get("Content-Type", "").startswith("application/problem+json"),
          "kid naming the account under another host must be refused, got %s" % describe(r))
    return "%d %s" % (r.status_code, r.json().get("type", "").rsplit(":", 1)[-1])


def case_url_foreign_host():
    (A,) = need("A")
    expect_problem(A.get(A.url, sign_url=_foreign_host(A.url)), 401, "unauthorized",
                   "protected url with the right path but another host")


def case_crit_header():
    (A,) = need("A")
    r = A.get(A.url, extra={"crit": ["b64"], "b64": False})
    expect_problem(r, 400, "malformed", "JWS with crit/b64 (RFC 7515 §4.1.11, RFC 7797)")


def case_unprotected_header():
    (A,) = need("A")
    body = make_jws(POST_AS_GET, A.key, url=A.url, nonce=c.nonce(), kid=A.url)
    body["header"] = {"kid": A.url}
    expect_problem(c.post_raw(A.url, body), 400, "malformed", "JWS with an unprotected header (RFC 8555 §6.2)")


def case_multiple_signatures():
    (A,) = need("A")
    j = make_jws(POST_AS_GET, A.key, url=A.url, nonce=c.nonce(), kid=A.url)
    body = {"payload": j["payload"], "signatures": [{"protected": j["protected"], "signature": j["signature"]},
                                                     {"protected": j["protected"], "signature": j["signature"]}]}
    expect_problem(c.post_raw(A.url, body), 400, "malformed", "general JWS serialization with two signatures")


def case_compact_serialization():
    (A,) = need("A")
    j = make_jws(POST_AS_GET, A.key, url=A.url, nonce=c.nonce(), kid=A.url)
    body = "%s.%s.%s" % (j["protected"], j["payload"], j["signature"])
    expect_problem(c.post_raw(A.url, body), 400, "malformed", "compact JWS serialization")


def case_jwk_invalid_point():
    k = Key.ec256()
    bad = dict(k.jwk())
    bad["y"] = b64u(b"\x01" * 32)  # not on the curve
    r = c.post(c.url("newAccount"), {"termsOfServiceAgreed": True}, k, jwk=False, extra={"jwk": bad})
    p = expect_problem(r, 400, ["malformed", "badPublicKey"], "jwk with a point not on P-256")
    return p.get("type", "").rsplit(":", 1)[-1]


def case_rsa1024_account():
    k = Key(__import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["rsa"])
            .generate_private_key(public_exponent=65537, key_size=1024))
    r = c.post(c.url("newAccount"), {"termsOfServiceAgreed": True}, k)
    expect_problem(r, 400, "badPublicKey", "account key RSA-1024")


def case_oversized_body():
    (A,) = need("A")
    big = {"identifiers": [{"type": "dns", "value": n("big")}], "pad": "x" * (2 * 1024 * 1024)}
    try:
        r = A.post(c.url("newOrder"), big)
    except Exception as e:  # noqa: BLE001 - a closed connection is an acceptable refusal
        return "connection closed (%s)" % type(e).__name__
    check(r.status_code in (400, 413) and r.headers.get("Content-Type", "").startswith("application/problem+json"),
          "2 MiB request: want 400/413 problem, got %s" % describe(r))
    return "%d" % r.status_code


def case_too_many_identifiers():
    (A,) = need("A")
    ids = [{"type": "dns", "value": "m%d.%s" % (i, SFX)} for i in range(1000)]
    r = A.new_order(None, expect=None, identifiers=ids)
    p = expect_problem(r, 400, ["malformed", "rejectedIdentifier", "rateLimited"], "order with 1000 identifiers")
    return p.get("type", "").rsplit(":", 1)[-1]


def case_bad_wildcards():
    (A,) = need("A")
    for v in ("a.*." + SFX, "*.*." + SFX, "*" + SFX, "*"):
        r = A.new_order(None, expect=None, identifiers=[{"type": "dns", "value": v}])
        expect_problem(r, 400, ["rejectedIdentifier", "malformed"], "identifier %r" % v)


# ------------------------------------------------------------ races
def _fire(bodies, url, ctype=JOSE):
    """POSTs every body at once from its own thread and session; returns the responses."""
    barrier = threading.Barrier(len(bodies))

    def one(body):
        s = c.session()
        barrier.wait(timeout=10)
        return s.post(url, data=json.dumps(body), headers={"Content-Type": ctype}, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as ex:
        return list(ex.map(one, bodies))


def case_nonce_race():
    (A,) = need("A")
    nonce = c.new_nonce()
    bodies = [make_jws(POST_AS_GET, A.key, url=A.url, nonce=nonce, kid=A.url) for _ in range(8)]
    rs = _fire(bodies, A.url)
    codes = sorted(r.status_code for r in rs)
    ok = [r for r in rs if r.status_code == 200]
    check(len(ok) == 1, "one nonce used by 8 concurrent requests: %d accepted (statuses %s)" % (len(ok), codes))
    for r in rs:
        if r.status_code != 200:
            expect_problem(r, 400, "badNonce", "concurrent reuse of a nonce")


def case_finalize_race():
    A, url, o = _ready_order()
    bodies = [make_jws({"csr": b64u(make_csr(Key.ec256(), [n("issue")]))}, A.key, url=o["finalize"],
                       nonce=c.new_nonce(), kid=A.url) for _ in range(6)]
    rs = _fire(bodies, o["finalize"])
    ok = [r for r in rs if r.status_code == 200]
    check(len(ok) == 1, "6 concurrent finalize requests: %d succeeded (statuses %s)" %
          (len(ok), sorted(r.status_code for r in rs)))
    for r in rs:
        if r.status_code != 200:
            expect_problem(r, 403, "orderNotReady", "concurrent finalize")
    o2 = A.poll(url, lambda x: x.get("status") not in ("processing", "ready"), 30, what="order to valid")
    check(o2.get("status") == "valid", "order after concurrent finalize: %r" % o2.get("status"))
    leaf = split_pem_certs(download_cert(A, o2["certificate"]))[0]
    want = x509.load_pem_x509_certificate(leaf.encode()).public_key().public_numbers()
    keys = [b["payload"] for b, r in zip(bodies, rs) if r.status_code == 200]
    check(len(keys) == 1, "internal")
    import base64 as _b
    csr_der = _b.urlsafe_b64decode(json.loads(_b.urlsafe_b64decode(keys[0] + "==="))["csr"] + "===")
    got = x509.load_der_x509_csr(csr_der).public_key().public_numbers()
    check(want == got, "the certificate is not for the CSR of the finalize request that succeeded")


def case_csr_weak_key():
    A, url, o = _ready_order()
    k = Key(__import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["rsa"])
            .generate_private_key(public_exponent=65537, key_size=1024))
    r = A.post(o["finalize"], {"csr": b64u(make_csr(k, [n("issue")]))})
    expect_problem(r, 400, ["badCSR", "badPublicKey"], "CSR with an RSA-1024 key")
    st = _order_status(A, url)
    check(st == "ready", "order status after a rejected CSR is %r (want ready)" % st)


def case_replay_nonce_on_every_post():
    miss = sorted(set(re.sub(r"/[A-Za-z0-9_-]{8,}(?=/|$)", "/ID", m) for m in c.missing_nonce))
    check(not miss, "successful POST responses without Replay-Nonce (RFC 8555 §6.5 MUST): %s" % miss)


def case_index_link_everywhere():
    miss = sorted(set(re.sub(r"/[A-Za-z0-9_-]{8,}(?=/|$)", "/ID", m) for m in c.missing_index))
    check(not miss, "ACME responses without Link rel=\"index\" (RFC 8555 §7.1): %s" % miss)


def case_deactivate_account():
    D = Account(c)
    D.register(expect=201)
    r = D.post(D.url, {"status": "deactivated"})
    expect_status(r, 200, "deactivate")
    check(r.json().get("status") == "deactivated", "status after deactivation %r" % r.json().get("status"))
    expect_problem(D.get(D.url), 401, "unauthorized", "POST-as-GET of a deactivated account")
    expect_problem(D.new_order([n("deact")], expect=None), 401, "unauthorized", "newOrder by a deactivated account")
    r = c.post(c.url("newAccount"), {"onlyReturnExisting": True}, D.key)
    check(r.status_code != 200 or r.json().get("status") == "deactivated",
          "onlyReturnExisting for a deactivated account: %s" % describe(r))


CASES = [
    ("directory_meta", case_directory),
    ("new_nonce", case_new_nonce),
    ("new_account", case_new_account),
    ("new_account_existing_key", case_new_account_existing_key),
    ("account_post_as_get", case_account_post_as_get),
    ("only_return_existing_unknown", case_only_return_existing_unknown),
    ("only_return_existing_known", case_only_return_existing_known),
    ("account_update_contact", case_account_update_contact),
    ("unsupported_contact", case_unsupported_contact),
    ("invalid_contact", case_invalid_contact),
    ("bad_signature", case_bad_signature),
    ("replayed_nonce", case_replayed_nonce),
    ("missing_nonce", case_missing_nonce),
    ("unknown_nonce", case_unknown_nonce),
    ("url_mismatch", case_url_mismatch),
    ("alg_none", case_alg_none),
    ("alg_hs256", case_hs256),
    ("jwk_and_kid", case_jwk_and_kid),
    ("unknown_kid", case_unknown_kid),
    ("wrong_content_type", case_wrong_content_type),
    ("padded_base64", case_padded_b64),
    ("index_link", case_index_link),
    ("new_order", case_new_order),
    ("plain_get_order", case_plain_get_order),
    ("new_order_bad_identifier", case_new_order_bad_identifier),
    ("unknown_order", case_unknown_order),
    ("empty_identifiers", case_empty_identifiers),
    ("payload_not_json", case_payload_not_json),
    ("body_not_json", case_body_not_json),
    ("authz_deactivation", case_authz_deactivation),
    ("finalize_not_ready", case_finalize_not_ready),
    ("wildcard_dns01_only", case_wildcard_dns01_only),
    ("foreign_access_denied", case_foreign_access_denied),
    ("http01_ready", case_http01_ready),
    ("csr_extra_name", case_csr_extra_name),
    ("csr_account_key", case_csr_account_key),
    ("csr_cn_not_in_sans", case_csr_cn_not_in_sans),
    ("finalize_and_download", case_finalize_and_download),
    ("finalize_valid_order", case_finalize_valid_order),
    ("ca_files", case_ca_files),
    ("authz_reuse", case_authz_reuse),
    ("wrong_key_authorization", case_wrong_key_authorization),
    ("dns01_valid", case_dns01_valid),
    ("dns01_wrong_txt", case_dns01_wrong_txt),
    ("dns01_wildcard_issue", case_dns01_wildcard_issue),
    ("bad_revocation_reason", case_bad_revocation_reason),
    ("revoke_twice", case_revoke_twice),
    ("revoke_by_cert_key", case_revoke_by_cert_key),
    ("revoke_by_other_authorized_account", case_revoke_by_other_authorized_account),
    ("revoke_by_unrelated_account", case_revoke_by_unrelated_account),
    ("crl_lists_revoked", case_crl),
    ("orders_paging", case_orders_paging),
    ("deactivate_account", case_deactivate_account),
    ("kid_foreign_host", case_kid_foreign_host),
    ("url_foreign_host", case_url_foreign_host),
    ("crit_header", case_crit_header),
    ("unprotected_header", case_unprotected_header),
    ("multiple_signatures", case_multiple_signatures),
    ("compact_serialization", case_compact_serialization),
    ("jwk_invalid_point", case_jwk_invalid_point),
    ("rsa1024_account", case_rsa1024_account),
    ("oversized_body", case_oversized_body),
    ("too_many_identifiers", case_too_many_identifiers),
    ("bad_wildcards", case_bad_wildcards),
    ("nonce_race", case_nonce_race),
    ("finalize_race", case_finalize_race),
    ("replay_nonce_on_every_post", case_replay_nonce_on_every_post),
    ("index_link_everywhere", case_index_link_everywhere),
    ("head_without_body", case_head_without_body),
    # last: a server crash here must not hide the results above
    ("csr_bad_signature", case_csr_bad_signature),
    ("csr_garbage", case_csr_garbage),
    ("csr_weak_key", case_csr_weak_key),
]

if args.only:
    unknown = set(args.only) - {name for name, _ in CASES}
    if unknown:
        sys.exit("unknown case(s): %s" % " ".join(sorted(unknown)))
    # note: cases share state; name the prerequisites too (e.g. new_account http01_ready ...)
for name, fn in CASES:
    R.run(name, fn)
chall.close()
sys.exit(R.summary())
