#!/usr/bin/python3
"""Account key rollover (RFC 8555 §7.3.5) against flintd; run by t_keychange.sh.

  /usr/bin/python3 tests/e2e/t_keychange.py --dir URL --ca DATA/root.pem

Prints "ok CASE" / "FAIL CASE: detail"; exit 1 when any case failed.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("FLINT_SRC", os.path.join(HERE, "..", "..")), "tests", "tools"))
from acmelib import (POST_AS_GET, Account, Client, Key, Runner, TestFailure, check,  # noqa: E402
                     describe, expect_problem, expect_status, make_jws)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner()
KC = c.url("keyChange")
S = {}


def need(*keys):
    for k in keys:
        if S.get(k) is None:
            raise TestFailure("depends on '%s', which is not available (an earlier case failed)" % k)
    return [S[k] for k in keys]


def inner_jws(new_key, account_url, old_key_jwk, url=KC, **kw):
    return make_jws({"account": account_url, "oldKey": old_key_jwk}, new_key, url=url, jwk=True, **kw)


def key_change(acct, inner, outer_key=None, **kw):
    """Outer JWS: kid of acct, signed by acct's current key (or outer_key)."""
    return c.post(KC, inner, outer_key or acct.key, kid=acct.url, **kw)


def lookup(key):
    return c.post(c.url("newAccount"), {"onlyReturnExisting": True}, key)


def still_works(acct, what):
    r = acct.get(acct.url)
    expect_status(r, 200, "%s: POST-as-GET with the account's current key" % what)


# -------------------------------------------------------------------- cases
def setup():
    A = Account(c, Key.ec256())
    A.register(contact=["mailto:kc-a@example.com"], expect=201)
    B = Account(c, Key.ec256())
    B.register(expect=201)
    S["A"], S["B"] = A, B


def case_rollover():
    (A,) = need("A")
    old, new = A.key, Key.ec256()
    r = key_change(A, inner_jws(new, A.url, old.jwk()))
    expect_status(r, 200, "keyChange")
    A.key = new
    S["old_key"] = old
    # new key: same account URL
    r = lookup(new)
    expect_status(r, 200, "onlyReturnExisting with the new key")
    check(r.headers.get("Location") == A.url, "new key maps to %r, want %r" % (r.headers.get("Location"), A.url))
    r = A.get(A.url)
    expect_status(r, 200, "POST-as-GET account with the new key")
    check(r.json().get("contact") == ["mailto:kc-a@example.com"], "account contact changed: %r" % r.json().get("contact"))
    expect_status(A.new_order(["kc.example.com"], expect=None), 201, "newOrder with the new key")


def case_old_key_lookup_fails():
    (old,) = need("old_key")
    expect_problem(lookup(old), 400, "accountDoesNotExist", "onlyReturnExisting with the old key")


def case_old_key_kid_fails():
    A, old = need("A", "old_key")
    r = c.post(A.url, POST_AS_GET, old, kid=A.url)
    p = expect_problem(r, [400, 401, 403], ["malformed", "unauthorized", "accountDoesNotExist"],
                       "kid request signed with the replaced key")
    return "%d %s" % (r.status_code, p.get("type", "").rsplit(":", 1)[-1])


def case_conflict():
    A, B = need("A", "B")
    r = key_change(A, inner_jws(B.key, A.url, A.key.jwk()))
    check(r.status_code == 409, "keyChange to another account's key: want 409, got %s" % describe(r))
    check(r.headers.get("Location") == B.url, "409 Location %r, want the other account %r" %
          (r.headers.get("Location"), B.url))
    check(r.headers.get("Content-Type", "").startswith("application/problem+json"),
          "409 response Content-Type %r" % r.headers.get("Content-Type"))
    still_works(A, "after the refused keyChange")
    r = lookup(B.key)
    check(r.status_code == 200 and r.headers.get("Location") == B.url, "B's key no longer maps to B: " + describe(r))


def case_inner_nonce():
    (A,) = need("A")
    new = Key.ec256()
    r = key_change(A, inner_jws(new, A.url, A.key.jwk(), nonce=c.new_nonce()))
    expect_problem(r, 400, "malformed", "inner JWS with a nonce")
    expect_problem(lookup(new), 400, "accountDoesNotExist", "the refused new key")


def case_inner_url_mismatch():
    (A,) = need("A")
    r = key_change(A, inner_jws(Key.ec256(), A.url, A.key.jwk(), url=c.url("newOrder")))
    p = expect_problem(r, [400, 401], ["malformed", "unauthorized"], "inner url != outer url")
    return p.get("type", "").rsplit(":", 1)[-1]


def case_old_key_mismatch():
    (A,) = need("A")
    r = key_change(A, inner_jws(Key.ec256(), A.url, Key.ec256().jwk()))
    expect_problem(r, 400, "malformed", "oldKey is not the account key")


def case_inner_account_mismatch():
    A, B = need("A", "B")
    r = key_change(A, inner_jws(Key.ec256(), B.url, A.key.jwk()))
    p = expect_problem(r, [400, 401, 403], ["malformed", "unauthorized"], "inner account != outer kid")
    return "%d %s" % (r.status_code, p.get("type", "").rsplit(":", 1)[-1])


def case_inner_bad_signature():
    (A,) = need("A")
    r = key_change(A, inner_jws(Key.ec256(), A.url, A.key.jwk(), flip_signature=True))
    expect_problem(r, 400, "malformed", "inner JWS with a bad signature")


def case_inner_signed_by_other_key():
    (A,) = need("A")
    new, other = Key.ec256(), Key.ec256()
    inner = make_jws({"account": A.url, "oldKey": A.key.jwk()}, other, url=KC, extra={"jwk": new.jwk()})
    r = key_change(A, inner)
    expect_problem(r, 400, "malformed", "inner JWS not signed by its jwk")


def case_inner_kid():
    (A,) = need("A")
    new = Key.ec256()
    inner = make_jws({"account": A.url, "oldKey": A.key.jwk()}, new, url=KC, kid=A.url)
    r = key_change(A, inner)
    expect_problem(r, 400, "malformed", "inner JWS with kid instead of jwk")


def case_outer_jwk():
    (A,) = need("A")
    r = c.post(KC, inner_jws(Key.ec256(), A.url, A.key.jwk()), A.key, jwk=True)
    p = expect_problem(r, [400, 401], ["malformed", "unauthorized"], "outer JWS with jwk instead of kid")
    return p.get("type", "").rsplit(":", 1)[-1]


def case_rsa_rollover_and_back():
    # to an RSA key (RS256), then back to the first key, which no account holds any more
    A, old = need("A", "old_key")
    rsa = Key.rsa2048()
    expect_status(key_change(A, inner_jws(rsa, A.url, A.key.jwk())), 200, "keyChange to an RSA key")
    A.key = rsa
    still_works(A, "after rolling over to RSA")
    expect_status(key_change(A, inner_jws(old, A.url, A.key.jwk())), 200, "keyChange back to the original key")
    A.key = old
    still_works(A, "after rolling back")
    r = lookup(old)
    check(r.status_code == 200 and r.headers.get("Location") == A.url, "original key lookup: " + describe(r))


R.run("setup", setup)
R.run("keychange_rollover", case_rollover)
R.run("old_key_lookup_fails", case_old_key_lookup_fails)
R.run("old_key_kid_request_fails", case_old_key_kid_fails)
R.run("keychange_conflict_409", case_conflict)
R.run("inner_nonce", case_inner_nonce)
R.run("inner_url_mismatch", case_inner_url_mismatch)
R.run("old_key_mismatch", case_old_key_mismatch)
R.run("inner_account_mismatch", case_inner_account_mismatch)
R.run("inner_bad_signature", case_inner_bad_signature)
R.run("inner_signed_by_other_key", case_inner_signed_by_other_key)
R.run("inner_kid_instead_of_jwk", case_inner_kid)
R.run("outer_jwk_instead_of_kid", case_outer_jwk)
R.run("rsa_rollover_and_back", case_rsa_rollover_and_back)
R.run("account_still_works", lambda: still_works(need("A")[0], "after all refused keyChanges"))
sys.exit(R.summary())
