#!/usr/bin/python3
"""External account binding (RFC 8555 §7.3.4) and pre-authorization (§7.4.1)
over HTTP against a flintd started with --external-account-required; run by
t_eab.sh, which creates the keys with `flintd admin eab-add`.

  /usr/bin/python3 tests/e2e/t_eab.py --dir URL --ca ROOT --http01 PORT \
      --kid KID --hmac KEY [--kid512 KID --hmac512 KEY]

Prints "ok CASE" / "FAIL CASE: detail"; exit 1 when any case failed.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("FLINT_SRC", os.path.join(HERE, "..", "..")), "tests", "tools"))
from acmelib import (Account, ChallServer, Client, Key, Runner, TestFailure, b64u, check,  # noqa: E402
                     describe, expect_problem, expect_status, validate_http01)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01", type=int, required=True)
ap.add_argument("--kid", required=True)
ap.add_argument("--hmac", required=True)
ap.add_argument("--kid512", required=True)
ap.add_argument("--hmac512", required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner()
NA = c.url("newAccount")
S = {}
MDS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def binding(key, kid, mac_key, alg="HS256", url=NA, payload=None, extra=None, drop=()):
    """The externalAccountBinding for key: MAC-signed JWS over its JWK."""
    prot = {"alg": alg, "kid": kid, "url": url}
    prot.update(extra or {})
    for d in drop:
        prot.pop(d, None)
    p64 = b64u(json.dumps(prot, separators=(",", ":")))
    pl64 = b64u(json.dumps(payload if payload is not None else key.jwk(), separators=(",", ":")))
    md = MDS.get(alg, hashlib.sha256)
    sig = hmac.new(mac_key, (p64 + "." + pl64).encode(), md).digest()
    return {"protected": p64, "payload": pl64, "signature": b64u(sig)}


def register(key, eab=None, extra=None):
    payload = {"termsOfServiceAgreed": True}
    if eab is not None:
        payload["externalAccountBinding"] = eab
    payload.update(extra or {})
    return c.post(NA, payload, key)


KEY = unb64(args.hmac)
KEY512 = unb64(args.hmac512)


def directory():
    d = c.directory
    check(d.get("meta", {}).get("externalAccountRequired") is True,
          "meta.externalAccountRequired is %r" % d.get("meta", {}).get("externalAccountRequired"))
    check(d.get("newAuthz", "").endswith("/acme/new-authz"), "newAuthz is %r" % d.get("newAuthz"))


def required():
    r = register(Key.ec256())
    p = expect_problem(r, 400, "externalAccountRequired", "newAccount without a binding")
    check("externalAccountBinding" in p.get("detail", ""), "detail: %r" % p.get("detail"))


def hostile():
    k = Key.ec256()
    other = Key.ec256()
    cases = [
        ("bad MAC", binding(k, args.kid, b"x" * 32), 401, "unauthorized", "MAC"),
        ("unknown kid", binding(k, "no-such-kid", KEY), 401, "unauthorized", "unknown"),
        ("wrong url", binding(k, args.kid, KEY, url=c.url("newOrder")), 401, "unauthorized", "url"),
        ("payload is another key", binding(k, args.kid, KEY, payload=other.jwk()), 401,
         "unauthorized", "another key"),
        ("alg of another size", binding(k, args.kid, KEY, alg="HS512"), 401, "unauthorized",
         "HS256 key"),
        ("nonce present", binding(k, args.kid, KEY, extra={"nonce": c.new_nonce()}), 400,
         "malformed", "nonce"),
        ("alg none", binding(k, args.kid, KEY, alg="none"), 400, "malformed", "HS256"),
        ("alg RS256", binding(k, args.kid, KEY, alg="RS256"), 400, "malformed", "HS256"),
        ("no kid", binding(k, args.kid, KEY, drop=("kid",)), 400, "malformed", "kid"),
        ("not an object", "x", 400, "malformed", "externalAccountBinding"),
    ]
    for name, eab, status, typ, words in cases:
        r = register(k, eab)
        p = expect_problem(r, status, typ, name)
        check(words in p.get("detail", ""), "%s: detail %r lacks %r" % (name, p.get("detail"), words))
    # none of that consumed the key: the right binding now works, and only once
    r = register(k, binding(k, args.kid, KEY))
    expect_status(r, 201, "the valid binding after the hostile ones")
    body = r.json()
    check(body.get("externalAccountBinding") == binding(k, args.kid, KEY),
          "account object does not show the binding as sent: %r" % body.get("externalAccountBinding"))
    S["acct"] = Account(c, k)
    S["acct"].url = r.headers["Location"]
    # the same key again: the existing account, 200, no new key used
    r = register(k, binding(k, args.kid, KEY))
    expect_status(r, 200, "newAccount again with the same key")
    check(r.headers.get("Location") == S["acct"].url, "another account URL: " + describe(r))
    # another account key with the used kid
    k2 = Key.ec256()
    r = register(k2, binding(k2, args.kid, KEY))
    p = expect_problem(r, 401, "unauthorized", "a used kid")
    check("already bound" in p.get("detail", ""), "detail: %r" % p.get("detail"))
    return "account " + S["acct"].url


def existing_does_not_consume():
    # onlyReturnExisting with a binding for a key that has no account: accountDoesNotExist,
    # and the HS512 key stays usable
    k = Key.ec256()
    r = register(k, binding(k, args.kid512, KEY512, alg="HS512"), {"onlyReturnExisting": True})
    expect_problem(r, 400, "accountDoesNotExist", "onlyReturnExisting")
    r = register(k, binding(k, args.kid512, KEY512, alg="HS512"))
    expect_status(r, 201, "HS512 binding after onlyReturnExisting")
    # the account's fetch shows the binding
    a = Account(c, k)
    a.url = r.headers["Location"]
    body = a.get_ok(a.url, "account fetch").json()
    check(body.get("externalAccountBinding", {}).get("protected"), "fetched account lacks the binding")


def new_authz():
    a = S.get("acct")
    if not a:
        raise TestFailure("depends on the hostile case's account")
    na = c.url("newAuthz")
    r = a.post(na, {"identifier": {"type": "dns", "value": "*.pre.example.com"}})
    expect_problem(r, 400, "malformed", "a wildcard pre-authorization")
    r = a.post(na, {"identifier": {"type": "dns", "value": "bad..name"}})
    expect_problem(r, 400, ["rejectedIdentifier", "malformed"], "a bad name")
    r = a.post(na, {"identifiers": [{"type": "dns", "value": "pre.example.com"}]})
    expect_problem(r, 400, "malformed", "no identifier member")
    r = a.get(na)
    expect_problem(r, 400, "malformed", "POST-as-GET to newAuthz")
    # jwk instead of kid
    r = c.post(na, {"identifier": {"type": "dns", "value": "pre.example.com"}}, a.key)
    expect_problem(r, 400, "malformed", "newAuthz signed with a jwk")

    # deactivation (§7.5.2) of a pre-authorization
    r = a.post(na, {"identifier": {"type": "dns", "value": "pre-deact.example.com"}})
    expect_status(r, 201, "newAuthz")
    url = r.headers.get("Location")
    check(url and r.json().get("status") == "pending", "201 without Location or pending: " + describe(r))
    check(r.json().get("identifier") == {"type": "dns", "value": "pre-deact.example.com"}, describe(r))
    r = a.post(url, {"status": "deactivated"})
    expect_status(r, 200, "deactivate the pre-authorization")
    check(r.json().get("status") == "deactivated", describe(r))

    # validated, then reused by newOrder: the order is ready at once
    r = a.post(na, {"identifier": {"type": "dns", "value": "pre.example.com"}})
    expect_status(r, 201, "newAuthz")
    url = r.headers["Location"]
    srv = ChallServer(args.http01)
    try:
        az = validate_http01(a, url, srv)
    finally:
        srv.close()
    check(az.get("status") == "valid", "pre-authorization ended %s" % az.get("status"))
    r = a.new_order(["pre.example.com"])
    o = r.json()
    check(o.get("authorizations") == [url], "the order did not reuse %s: %r" % (url, o.get("authorizations")))
    check(o.get("status") == "ready", "order status %r, want ready" % o.get("status"))
    return url


R.run("eab_directory", directory)
R.run("eab_required", required)
R.run("eab_hostile_then_valid_once", hostile)
R.run("eab_only_return_existing_keeps_key", existing_does_not_consume)
R.run("new_authz", new_authz)
sys.exit(R.summary())
