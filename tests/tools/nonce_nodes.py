#!/usr/bin/python3
"""Replay-Nonces across two flintd processes on one SQLite database (RFC 8555
§6.5: each nonce accepted once, whichever node issued it and whichever node
it is sent to), and an account changed at one node as the other reads it
(each keeps the accounts it read). Driven by tests/e2e/t_sqlite_nodes.sh.

  /usr/bin/python3 tests/tools/nonce_nodes.py --dir URL --ca ROOT \
      --node1 https://127.0.0.1:P1 --node2 https://127.0.0.1:P2

Both nodes share one base URL (node 1's): a request signed for that URL is
sent to either node. Prints "ok CASE" or "FAIL CASE: detail" per case. Half
way it prints "restart" and waits for a line on standard input (the test
restarts node 2 meanwhile).
"""
import argparse
import concurrent.futures
import json
import os
import sys
import threading

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (JOSE, POST_AS_GET, Account, Client, TestFailure, check,  # noqa: E402
                     expect_problem, make_jws)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--node1", required=True)
ap.add_argument("--node2", required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
base = args.node1


def at(node, url):
    """url (under the shared base URL) as sent to node."""
    check(url.startswith(base), "%s is not under %s" % (url, base))
    return node + url[len(base):]


def nonce_from(node):
    r = c.s.head(at(node, c.url("newNonce")), timeout=15)
    n = r.headers.get("Replay-Nonce")
    check(r.status_code == 200 and n, "HEAD newNonce at %s: %d" % (node, r.status_code))
    return n


def post_as_get(acct, node, nonce, session=None):
    body = make_jws(POST_AS_GET, acct.key, url=acct.url, nonce=nonce, kid=acct.url)
    s = session or c.s
    return s.post(at(node, acct.url), data=json.dumps(body), headers={"Content-Type": JOSE},
                  timeout=15)


def expect_ok(r, what):
    check(r.status_code == 200, "%s: %d %s" % (what, r.status_code, r.text[:200]))


A = Account(c)
N1, N2 = args.node1, args.node2


def case_used_elsewhere():
    for issuer, first, second in ((N1, N1, N2), (N1, N2, N1), (N2, N2, N1), (N2, N1, N2)):
        n = nonce_from(issuer)
        expect_ok(post_as_get(A, first, n), "nonce of %s used at %s" % (issuer, first))
        expect_problem(post_as_get(A, second, n), 400, "badNonce",
                       "nonce of %s used at %s, replayed at %s" % (issuer, first, second))
        expect_problem(post_as_get(A, first, n), 400, "badNonce", "replayed where it was used")


def case_race_both_nodes():
    n = nonce_from(N2)
    barrier = threading.Barrier(8)

    def one(i):
        s = c.session()
        barrier.wait(timeout=10)
        return post_as_get(A, N1 if i % 2 else N2, n, session=s)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(one, range(8)))
    codes = sorted(r.status_code for r in rs)
    check(codes.count(200) == 1, "one nonce sent 8 times to both nodes at once: statuses %s" % codes)
    for r in rs:
        if r.status_code != 200:
            expect_problem(r, 400, "badNonce", "concurrent reuse across nodes")


def signed_post(acct, node, url, payload):
    body = make_jws(payload, acct.key, url=url, nonce=nonce_from(node), kid=acct.url)
    return c.s.post(at(node, url), data=json.dumps(body), headers={"Content-Type": JOSE},
                    timeout=15)


def case_account_changed_elsewhere():
    b = Account(c)
    b.register(contact=["mailto:before@example.com"])
    for node in (N1, N2):  # each node reads the account (and keeps it)
        expect_ok(signed_post(b, node, b.url, POST_AS_GET), "account at %s" % node)
    expect_ok(signed_post(b, N2, b.url, {"contact": ["mailto:after@example.com"]}),
              "contact update at node 2")
    r = signed_post(b, N1, b.url, POST_AS_GET)
    expect_ok(r, "account at node 1 after the update")
    check(r.json().get("contact") == ["mailto:after@example.com"],
          "node 1 still shows contact %s" % r.json().get("contact"))
    expect_ok(signed_post(b, N2, b.url, {"status": "deactivated"}), "deactivation at node 2")
    expect_problem(signed_post(b, N1, b.url, POST_AS_GET), 401, "unauthorized",
                   "the deactivated account at node 1")


def case_across_restart(used, unused):
    expect_problem(post_as_get(A, N2, used), 400, "badNonce", "used nonce after node 2 restarted")
    expect_ok(post_as_get(A, N2, unused), "unused nonce of node 1 at the restarted node 2")
    expect_problem(post_as_get(A, N1, unused), 400, "badNonce", "it again, at node 1")


def run(name, fn, *a):
    try:
        fn(*a)
        print("ok " + name, flush=True)
        return True
    except (TestFailure, requests.RequestException) as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        return False


failed = 0
if not run("account", A.register):
    sys.exit(1)
failed += not run("used_elsewhere", case_used_elsewhere)
failed += not run("race_both_nodes", case_race_both_nodes)
failed += not run("account_changed_elsewhere", case_account_changed_elsewhere)
try:
    used, unused = nonce_from(N1), nonce_from(N2)
    expect_ok(post_as_get(A, N1, used), "nonce used before the restart")
except (TestFailure, requests.RequestException) as e:
    print("FAIL before_restart: %s" % e, flush=True)
    sys.exit(1)
print("restart", flush=True)
sys.stdin.readline()
failed += not run("across_restart", case_across_restart, used, unused)
sys.exit(1 if failed else 0)
