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
from acmelib import (ERR, Account, ChallServer, Client, Runner, b64u, check, expect_status,  # noqa: E402
                     find_chall, validate_http01)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--cts-mgmt", required=True)
ap.add_argument("--suffix", default="caa.example.com")
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


for case, host, records, name, method, allowed in ROWS:
    R.run(case, make_case(host, records, name, method, allowed))


def case_servfail():
    cts("/set-servfail", {"host": n("broken") + "."})
    expect("www." + n("broken"), "http-01", False)


R.run("caa_lookup_servfail", case_servfail)
chall.close()
sys.exit(R.summary())
