#!/usr/bin/python3
"""Small ACME helper for flintd's shell e2e tests (built on acmelib).

  acme_tool.py --dir URL --ca ROOT account-info --key FILE
      prints the account object of FILE's key (onlyReturnExisting) with "url" added;
      FILE is a PEM private key (dehydrated, lego) or a private JWK JSON (certbot).
  acme_tool.py --dir URL --ca ROOT restart-phase1 --state FILE --http01-port N
      registers, leaves one order pending and issues one certificate; saves state.
  acme_tool.py --dir URL --ca ROOT restart-phase2 --state FILE --http01-port N
      after a restart: everything from phase 1 is still there and usable.

Phases print "ok STEP" / "FAIL STEP: detail"; exit 1 when anything failed.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (Account, ChallServer, Client, Key, Runner, TestFailure,  # noqa: E402
                     check, describe, download_cert, expect_status, issue, validate_http01,
                     make_csr, finalize, split_pem_certs, openssl_verify, cert_names)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--root", default=None)
sub = ap.add_subparsers(dest="cmd", required=True)
p = sub.add_parser("account-info")
p.add_argument("--key", required=True)
for name in ("restart-phase1", "restart-phase2"):
    p = sub.add_parser(name)
    p.add_argument("--state", required=True)
    p.add_argument("--http01-port", type=int, required=True)
    p.add_argument("--suffix", default="restart.example.com")
args = ap.parse_args()
ROOT = args.root or args.ca


def load_key(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"{"):
        return Key.from_jwk(json.loads(data))
    return Key.from_pem(data)


def account_info():
    c = Client(args.dir, args.ca)
    k = load_key(args.key)
    r = c.post(c.url("newAccount"), {"onlyReturnExisting": True}, k)
    if r.status_code != 200:
        print("onlyReturnExisting failed: " + describe(r), file=sys.stderr)
        return 1
    body = r.json()
    url = r.headers.get("Location")
    # the account resource itself (POST-as-GET), which must agree
    a = Account(c, k)
    a.url = url
    r2 = a.get(url)
    if r2.status_code != 200:
        print("POST-as-GET account failed: " + describe(r2), file=sys.stderr)
        return 1
    body = r2.json()
    body["url"] = url
    print(json.dumps(body))
    return 0


def phase1():
    R = Runner()
    c = Client(args.dir, args.ca)
    chall = ChallServer(args.http01_port)
    st = {}
    sfx = args.suffix

    def register():
        A = Account(c)
        A.register(contact=["mailto:restart@example.com"], expect=201)
        st["key_pem"], st["acct_url"] = A.key.pem(), A.url
        st["A"] = A

    def pending_order():
        A = st["A"]
        r = A.new_order(["pending." + sfx])
        st["pending_url"], st["pending_order"] = r.headers["Location"], r.json()

    def issued():
        A = st["A"]
        t = issue(A, ["issued." + sfx], chall, root=ROOT)
        st["valid_url"], st["valid_order"], st["cert_pem"] = t["order_url"], t["order"], t["pem"]

    def nonce():
        st["old_nonce"] = c.new_nonce()

    R.run("phase1_register", register)
    R.run("phase1_pending_order", pending_order) if "A" in st else None
    R.run("phase1_issue", issued) if "A" in st else None
    R.run("phase1_nonce", nonce)
    st.pop("A", None)
    with open(args.state, "w") as f:
        json.dump(st, f, indent=1)
    chall.close()
    return R.summary()


def phase2():
    R = Runner()
    with open(args.state) as f:
        st = json.load(f)
    c = Client(args.dir, args.ca)
    chall = ChallServer(args.http01_port)
    sfx = args.suffix
    A = Account(c, Key.from_pem(st["key_pem"]))
    A.url = st["acct_url"]

    def acct():
        r = A.get(A.url)
        expect_status(r, 200, "POST-as-GET account after restart")
        check(r.json().get("status") == "valid", "account status %r" % r.json().get("status"))
        check(r.json().get("contact") == ["mailto:restart@example.com"], "contact %r" % r.json().get("contact"))
        r = c.post(c.url("newAccount"), {"onlyReturnExisting": True}, A.key)
        expect_status(r, 200, "onlyReturnExisting after restart")
        check(r.headers.get("Location") == A.url, "account URL changed: %r != %r" % (r.headers.get("Location"), A.url))

    def pending():
        check("pending_url" in st, "phase 1 created no pending order")
        r = A.get(st["pending_url"])
        expect_status(r, 200, "POST-as-GET pending order after restart")
        o, old = r.json(), st["pending_order"]
        for k in ("status", "identifiers", "authorizations", "finalize", "expires"):
            check(o.get(k) == old.get(k), "order %s changed across restart: %r -> %r" % (k, old.get(k), o.get(k)))

    def valid():
        check("valid_url" in st, "phase 1 issued no certificate")
        r = A.get(st["valid_url"])
        expect_status(r, 200, "POST-as-GET valid order after restart")
        o = r.json()
        check(o.get("status") == "valid", "order status %r" % o.get("status"))
        check(o.get("certificate") == st["valid_order"]["certificate"], "certificate URL changed")
        pem = download_cert(A, o["certificate"])
        check(pem == st["cert_pem"], "certificate download differs after restart")
        certs = split_pem_certs(pem)
        ok, out = openssl_verify(ROOT, certs[0], certs[1:])
        check(ok, "issued-before-restart certificate no longer verifies against root.pem: " + out)

    def old_nonce():
        # a nonce issued before the restart must not be accepted twice; accepting it
        # once is allowed (persisted nonce store) but a second use must fail.
        n = st.get("old_nonce")
        check(n, "no nonce from phase 1")
        r1 = A.get(A.url, nonce=n)
        check(r1.status_code in (200, 400), "first use of a pre-restart nonce: %s" % describe(r1))
        if r1.status_code == 400:
            check(r1.json().get("type", "").endswith(":badNonce"), "pre-restart nonce: %s" % describe(r1))
            return "pre-restart nonce rejected with badNonce"
        r2 = A.get(A.url, nonce=n)
        check(r2.status_code == 400 and r2.json().get("type", "").endswith(":badNonce"),
              "second use of a pre-restart nonce: %s" % describe(r2))
        return "pre-restart nonce accepted once"

    def finish_pending():
        check("pending_url" in st, "phase 1 created no pending order")
        o = st["pending_order"]
        a = validate_http01(A, o["authorizations"][0], chall)
        check(a.get("status") == "valid", "authz after restart ended %r" % a.get("status"))
        o = A.poll(st["pending_url"], lambda x: x.get("status") != "pending", 15, what="order to ready")
        check(o.get("status") == "ready", "order status %r" % o.get("status"))
        k = Key.ec256()
        o = finalize(A, st["pending_url"], o, make_csr(k, ["pending." + sfx]))
        certs = split_pem_certs(download_cert(A, o["certificate"]))
        check(cert_names(certs[0]) == ["pending." + sfx], "SANs %r" % cert_names(certs[0]))
        ok, out = openssl_verify(ROOT, certs[0], certs[1:])
        check(ok, "post-restart certificate does not verify against root.pem: " + out)

    def new_order():
        issue(A, ["after." + sfx], chall, root=ROOT)

    R.run("restart_account", acct)
    R.run("restart_pending_order", pending)
    R.run("restart_valid_order_and_cert", valid)
    R.run("restart_old_nonce", old_nonce)
    R.run("restart_finish_pending_order", finish_pending)
    R.run("restart_new_issuance", new_order)
    chall.close()
    return R.summary()


try:
    if args.cmd == "account-info":
        sys.exit(account_info())
    if args.cmd == "restart-phase1":
        sys.exit(phase1())
    sys.exit(phase2())
except TestFailure as e:
    print("FAIL %s: %s" % (args.cmd, e))
    sys.exit(1)
