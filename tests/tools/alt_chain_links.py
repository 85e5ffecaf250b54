#!/usr/bin/python3
"""Certificate download links (RFC 8555 §7.4.2) against a live flintd.

--expect alternate: the default chain links ".../1" with rel="alternate" and that chain links
  back; the two chains share the leaf and differ above it; a bogus chain index is 404.
--expect none: no rel="alternate" link, and ".../1" is 404.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (Account, ChallServer, Client, Runner, check, describe, expect_problem,  # noqa: E402
                     issue, split_pem_certs)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--expect", choices=("alternate", "none"), required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner(None)


def fetch(acct, url):
    r = acct.post(url, None, headers={"Accept": "application/pem-certificate-chain"})
    return r


def case_links():
    chall = ChallServer(args.http01_port)
    try:
        acct = Account(c)
        acct.register()
        got = issue(acct, ["links-%s.example.com" % args.expect], chall)
    finally:
        chall.close()
    url = got["order"]["certificate"]
    r = fetch(acct, url)
    check(r.status_code == 200, "default chain: " + describe(r))
    alt = r.links.get("alternate", {}).get("url")
    if args.expect == "none":
        check(alt is None, "a single-chain CA links an alternate: %s" % r.headers.get("Link"))
        expect_problem(fetch(acct, url + "/1"), 404, "malformed", "alternate chain of a single-chain CA")
        return
    check(alt == url + "/1", "Link rel=alternate %r (want %s/1): %s" % (alt, url, r.headers.get("Link")))
    r2 = fetch(acct, alt)
    check(r2.status_code == 200, "alternate chain: " + describe(r2))
    back = r2.links.get("alternate", {}).get("url")
    check(back == url, "the alternate chain links %r back (want %s)" % (back, url))
    a, b = split_pem_certs(r.text), split_pem_certs(r2.text)
    check(len(a) == 2 and len(b) == 2, "chains of %d and %d certificates (want 2 and 2)" % (len(a), len(b)))
    check(a[0] == b[0], "the two chains do not share the leaf")
    check(a[1] != b[1], "the two chains carry the same intermediate")
    expect_problem(fetch(acct, url + "/2"), 404, "malformed", "chain index 2")


R.run("links_" + args.expect, case_links)
sys.exit(R.summary())
