#!/usr/bin/python3
"""CAA (RFC 8659, RFC 8657) at validation against a live flintd whose caa-identities is
flint.invalid, with record sets served by pebble-challtestsrv (--cts-mgmt).

Each row: CAA records at a name (or its parent), the challenge used, and whether the
authorization must end valid or invalid with a caa problem naming the identifier.
(challtestsrv cannot set the critical flag: critical unknown tags are unit-tested.)
"""
import argparse
import hashlib
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (ERR, Account, ChallServer, Client, Key, Runner, b64u, check,  # noqa: E402
                     expect_status, find_chall, make_csr, validate_http01)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--cts-mgmt", required=True)
ap.add_argument("--suffix", default="caa.example.com")
ap.add_argument("--section", choices=("validation", "reuse", "recheck", "flags"), default="validation",
                help="validation: the table; reuse (default caa-reuse): a CAA change after "
                     "validation does not stop issuance; recheck (flintd --caa-reuse 0): it does")
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner(None)
chall = ChallServer(args.http01_port)
acct = Account(c)
acct.register()
ACCT = acct.url


def cts(path, body):
    r = requests.post(args.cts_mgmt + path, json=body, timeout=5)
    check(r.status_code == 200, "challtestsrv %s: %d" % (path, r.status_code))


def add_caa(host, *policies):
    cts("/add-caa", {"host": host + ".", "policies": [{"tag": t, "value": v} for t, v in policies]})


def authz_for(name):
    r = acct.post(c.url("newOrder"), {"identifiers": [{"type": "dns", "value": name}]})
    expect_status(r, 201, "newOrder " + name)
    return r.json()["authorizations"][0]


def via_dns01(az_url):
    az = acct.get_ok(az_url, "authz").json()
    ch = find_chall(az, "dns-01")
    digest = b64u(hashlib.sha256(acct.key.key_authorization(ch["token"]).encode()).digest())
    cts("/set-txt", {"host": "_acme-challenge.%s." % az["identifier"]["value"], "value": digest})
    expect_status(acct.post(ch["url"], {}), 200, "respond dns-01")
    return acct.poll(az_url, lambda a: a.get("status") != "pending", what="authz " + az_url)


def expect(name, method, allowed):
    az_url = authz_for(name)
    final = validate_http01(acct, az_url, chall) if method == "http-01" else via_dns01(az_url)
    if allowed:
        check(final.get("status") == "valid", "%s by %s: %s, want valid: %s" %
              (name, method, final.get("status"), final.get("challenges")))
        return
    check(final.get("status") == "invalid", "%s by %s: %s, want invalid (CAA)" % (name, method, final.get("status")))
    errs = [ch.get("error") for ch in final.get("challenges", []) if ch.get("error")]
    check(errs and errs[0].get("type") == ERR + "caa", "%s: error %r, want caa" % (name, errs))
    bare = name[2:] if name.startswith("*.") else name
    check(bare in errs[0].get("detail", ""), "caa detail should name %s: %r" % (bare, errs[0].get("detail")))


def n(label):
    return "%s.%s" % (label, args.suffix)


ROWS = [
    # (case, host of the records, records, name asked, method, allowed)
    ("no_caa", None, [], n("none"), "http-01", True),
    ("issue_this_ca", n("allow"), [("issue", "flint.invalid")], n("allow"), "http-01", True),
    ("issue_other_ca", n("deny"), [("issue", "letsencrypt.org")], n("deny"), "http-01", False),
    ("issue_empty_forbids", n("empty"), [("issue", ";")], n("empty"), "http-01", False),
    ("parent_denies", n("parent"), [("issue", "letsencrypt.org")], "www." + n("parent"), "http-01", False),
    ("leaf_overrides_parent", "ok." + n("parent"), [("issue", "flint.invalid")], "ok." + n("parent"),
     "http-01", True),
    ("issuewild_only_plain", n("wildonly"), [("issuewild", "letsencrypt.org")], n("wildonly"), "http-01", True),
    ("issuewild_only_wildcard", n("wildonly2"), [("issuewild", "letsencrypt.org")], "*." + n("wildonly2"),
     "dns-01", False),
    ("issuewild_this_ca", n("wildok"), [("issue", ";"), ("issuewild", "flint.invalid")], "*." + n("wildok"),
     "dns-01", True),
    ("accounturi_match", n("acctok"), [("issue", "flint.invalid; accounturi=" + ACCT)], n("acctok"),
     "http-01", True),
    ("accounturi_mismatch", n("acctbad"), [("issue", "flint.invalid; accounturi=" + ACCT + "x")],
     n("acctbad"), "http-01", False),
    ("validationmethods_match", n("vmok"), [("issue", "flint.invalid; validationmethods=dns-01,http-01")],
     n("vmok"), "http-01", True),
    ("validationmethods_mismatch", n("vmbad"), [("issue", "flint.invalid; validationmethods=dns-01")],
     n("vmbad"), "http-01", False),
    ("validationmethods_dns01", n("vmdns"), [("issue", "flint.invalid; validationmethods=dns-01")],
     n("vmdns"), "dns-01", True),
]


def make_case(host, records, name, method, allowed):
    def run():
        if host and records:
            add_caa(host, *records)
        expect(name, method, allowed)
    return run


def case_servfail():
    cts("/set-servfail", {"host": n("broken") + "."})
    expect("www." + n("broken"), "http-01", False)


def ready_order(name):
    """An order for name whose authorization validated (CAA allowed then)."""
    r = acct.post(c.url("newOrder"), {"identifiers": [{"type": "dns", "value": name}]})
    expect_status(r, 201, "newOrder " + name)
    url, order = r.headers["Location"], r.json()
    check(validate_http01(acct, order["authorizations"][0], chall).get("status") == "valid",
          "%s: authorization not valid" % name)
    order = acct.poll(url, lambda o: o.get("status") != "pending", what="order to ready")
    check(order.get("status") == "ready", "%s: order %s" % (name, order.get("status")))
    return url, order


def finalize_until_done(url, order, name):
    r = acct.post(order["finalize"], {"csr": b64u(make_csr(Key.ec256(), [name]))})
    expect_status(r, 200, "finalize " + name)
    return acct.poll(url, lambda o: o.get("status") not in ("processing",), what="order " + name)


def case_issue_after_caa_change(recheck):
    def run():
        name = n("later-deny-%s" % ("recheck" if recheck else "reuse"))
        url, order = ready_order(name)
        add_caa(name, ("issue", "letsencrypt.org"))
        done = finalize_until_done(url, order, name)
        if not recheck:
            check(done.get("status") == "valid", "within caa-reuse the CAA change must not matter: %s"
                  % done.get("status"))
            return
        check(done.get("status") == "invalid", "with caa-reuse 0 the order must fail: %s" % done.get("status"))
        err = done.get("error") or {}
        check(err.get("type") == ERR + "caa" and name in err.get("detail", ""),
              "order error %r, want caa naming %s" % (err, name))
    return run


def case_recheck_allows():
    name = n("recheck-ok")
    add_caa(name, ("issue", "flint.invalid"))
    url, order = ready_order(name)
    done = finalize_until_done(url, order, name)
    check(done.get("status") == "valid" and done.get("certificate"),
          "issuance after a passing re-check: %s" % done.get("status"))


if args.section == "validation":
    for case, host, records, name, method, allowed in ROWS:
        R.run(case, make_case(host, records, name, method, allowed))
    R.run("caa_lookup_servfail", case_servfail)
elif args.section == "reuse":
    R.run("caa_change_within_reuse", case_issue_after_caa_change(False))
elif args.section == "recheck":
    R.run("caa_recheck_refuses", case_issue_after_caa_change(True))
    R.run("caa_recheck_allows", case_recheck_allows)
else:
    # records served by an authoritative server the test filled (t_caa.sh, Knot): flags
    R.run("critical_unknown_tag", lambda: expect("crit.caa.example", "http-01", False))
    R.run("noncritical_unknown_tag", lambda: expect("noncrit.caa.example", "http-01", True))
    R.run("critical_known_tag", lambda: expect("critissue.caa.example", "http-01", True))
chall.close()
sys.exit(R.summary())
