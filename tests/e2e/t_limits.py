#!/usr/bin/python3
"""flintd's limits against a live server (run by t_limits.sh, which starts flintd
with --max-pending-authzs 3): the pending-authorization cap answers 429
rateLimited with Retry-After, deactivating an authorization makes room, and
orders reusing valid authorizations are not counted.

Prints "ok CASE" / "FAIL CASE: detail"; exit 1 when any case failed.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("FLINT_SRC", os.path.join(HERE, "..", "..")), "tests", "tools"))
from acmelib import Account, Client, Runner, check, expect_problem  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner()
A = Account(c)
S = {}


def case_cap():
    A.register()
    r = A.new_order(["l1.example.com", "l2.example.com"])
    S["authzs"] = r.json()["authorizations"]
    A.new_order(["l3.example.com"])  # 3 pending: at the cap
    r = A.new_order(["l4.example.com"], expect=None)
    expect_problem(r, 429, "rateLimited", "a 4th pending authorization")
    check(r.headers.get("Retry-After"), "rateLimited without Retry-After")
    # a name already pending in this account still makes a new authorization
    r = A.new_order(["l1.example.com"], expect=None)
    expect_problem(r, 429, "rateLimited", "a new authorization for a pending name")


def case_deactivation_makes_room():
    r = A.post(S["authzs"][0], {"status": "deactivated"})
    check(r.status_code == 200, "deactivate: %d" % r.status_code)
    A.new_order(["l5.example.com"])  # room for exactly one
    r = A.new_order(["l6.example.com"], expect=None)
    expect_problem(r, 429, "rateLimited", "cap reached again")


def case_other_accounts_unaffected():
    B = Account(c)
    B.register()
    B.new_order(["l1.example.com", "l2.example.com", "l3.example.com"])


R.run("cap", case_cap)
R.run("deactivation_makes_room", case_deactivation_makes_room)
R.run("other_accounts_unaffected", case_other_accounts_unaffected)
sys.exit(R.summary())
