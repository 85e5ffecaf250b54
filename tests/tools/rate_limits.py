#!/usr/bin/python3
"""Rate limits of a live flintd, one section per flintd run (t_rate_limits.sh starts flintd
with only that section's limit on):

accounts  --rate-new-accounts-per-ip 3/3h: 3 new accounts, the 4th is 429 rateLimited with
          Retry-After and the address in the detail; an existing key is not limited.
orders    --rate-new-orders 3/1h: the 4th newOrder of an account is 429; another account is not.
certs     --rate-certs-per-domain 2/7d: 2 certificates under rl.example, the 3rd order is 429
          naming rl.example; a renewal with replaces for exactly the same names is exempt and
          not counted; replaces with other names is not exempt; another domain is not limited.
failed    --rate-failed-validations 2/1h: after 2 failed validations for a name, newOrder and
          newAuthz for it are 429; another name is not limited.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (ERR, Account, ChallServer, Client, Key, Runner, b64u, check,  # noqa: E402
                     download_cert, expect_problem, expect_status, finalize, make_csr,
                     split_pem_certs, validate_http01)
from cryptography import x509  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--section", choices=("accounts", "orders", "certs", "failed"), required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner(None)


def new_order(acct, names, **extra):
    payload = {"identifiers": [{"type": "dns", "value": x} for x in names]}
    payload.update(extra)
    return acct.post(c.url("newOrder"), payload)


def expect_limited(r, what, key, max_after):
    p = expect_problem(r, 429, "rateLimited", what)
    ra = r.headers.get("Retry-After", "")
    check(ra.isdigit() and 1 <= int(ra) <= max_after, "%s: Retry-After %r (want 1..%d)" % (what, ra, max_after))
    check(key in p.get("detail", ""), "%s: the detail should name %s: %r" % (what, key, p.get("detail")))


def cert_id(pem):
    cert = x509.load_pem_x509_certificate(pem.encode())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    sn = cert.serial_number
    return "%s.%s" % (b64u(aki), b64u(sn.to_bytes((sn.bit_length() + 8) // 8, "big")))


def issue(acct, names, chall, **extra):
    r = new_order(acct, names, **extra)
    expect_status(r, 201, "newOrder %s %s" % (names, extra))
    url, order = r.headers["Location"], r.json()
    for az in order["authorizations"]:
        check(validate_http01(acct, az, chall).get("status") == "valid", "authz not valid")
    order = acct.poll(url, lambda o: o.get("status") != "pending", what="order to ready")
    order = finalize(acct, url, order, make_csr(Key.ec256(), names))
    return split_pem_certs(download_cert(acct, order["certificate"]))[0]


def registered(acct=None):
    a = acct or Account(c)
    a.register()
    return a


def section_accounts():
    keys = []
    for i in range(3):
        a = Account(c)
        expect_status(a.register(expect=None), 201, "new account %d" % (i + 1))
        keys.append(a.key)
    r = Account(c).register(expect=None)
    expect_limited(r, "4th new account from one address", "127.0.0.1", 3 * 3600)
    again = Account(c, keys[0])
    expect_status(again.register(expect=None), 200, "newAccount with an existing key")


def section_orders():
    a, b = registered(), registered()
    for i in range(3):
        expect_status(new_order(a, ["o%d.rl.example" % i]), 201, "order %d" % (i + 1))
    expect_limited(new_order(a, ["o3.rl.example"]), "4th order", "this account", 3600)
    expect_status(new_order(b, ["o4.rl.example"]), 201, "another account's order")


def section_certs():
    chall = ChallServer(args.http01_port)
    try:
        a = registered()
        first = issue(a, ["a.rl.example"], chall)
        second = issue(a, ["b.rl.example", "www.b.rl.example"], chall)
        expect_limited(new_order(a, ["c.rl.example"]), "3rd certificate under rl.example", "rl.example",
                       7 * 86400)
        # exactly the same names, replacing: exempt, and not counted
        issue(a, ["a.rl.example"], chall, replaces=cert_id(first))
        expect_limited(new_order(a, ["c.rl.example"]), "after an exempt renewal", "rl.example", 7 * 86400)
        # replacing with a name more: not exempt
        expect_limited(new_order(a, ["b.rl.example", "www.b.rl.example", "d.rl.example"],
                                 replaces=cert_id(second)), "replaces with other names", "rl.example",
                       7 * 86400)
        expect_status(new_order(a, ["x.other.example"]), 201, "another registered domain")
    finally:
        chall.close()


def section_failed():
    chall = ChallServer(args.http01_port)
    try:
        a = registered()
        for i in range(2):
            r = new_order(a, ["f.rl.example"])
            expect_status(r, 201, "order %d for f.rl.example" % (i + 1))
            got = validate_http01(a, r.json()["authorizations"][0], chall, body="wrong")
            check(got.get("status") == "invalid", "validation with a wrong answer ended %s" % got.get("status"))
        expect_limited(new_order(a, ["f.rl.example"]), "newOrder after 2 failures", "f.rl.example", 3600)
        r = a.post(c.url("newAuthz"), {"identifier": {"type": "dns", "value": "f.rl.example"}})
        expect_limited(r, "newAuthz after 2 failures", "f.rl.example", 3600)
        expect_status(new_order(a, ["g.rl.example"]), 201, "another name")
    finally:
        chall.close()


R.run(args.section, globals()["section_" + args.section])
sys.exit(R.summary())
