#!/usr/bin/python3
"""ARI (RFC 9773) and certificate profiles (draft-ietf-acme-profiles) against a live flintd.

phase "main" (flintd with its shipped profiles):
  the directory advertises renewalInfo and meta.profiles; orders reflect the profile chosen
  (or the default); unknown/non-string profiles are refused; each shipped profile yields
  the certificate contents it promises (lifetime, EKUs, subject CN); renewalInfo answers an
  unauthenticated GET by certID (computed here from the certificate) with a window that
  follows the profile's lifetime and Retry-After, refuses malformed/unknown certIDs;
  "replaces": reflected, refused for another account's certificate, without a shared
  identifier, when malformed, and a second time (409 alreadyReplaced), allowed again once
  the replacing order failed; a revoked certificate's window lies in the past.
  It leaves a ready order under profile "shortlived" in --state for phase "withdrawn".
phase "withdrawn" (flintd restarted without "shortlived"): the directory no longer offers
  it, newOrder with it gets invalidProfile, and finalizing the ready order does too.
"""
import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from acmelib import (ERR, Account, ChallServer, Client, Key, Runner, TestFailure, b64u,  # noqa: E402
                     check, describe, download_cert, expect_problem, expect_status, find_chall,
                     finalize, make_csr, split_pem_certs, validate_http01)
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--state", required=True, help="file handing the ready order to phase withdrawn")
ap.add_argument("--phase", choices=("main", "withdrawn"), required=True)
ap.add_argument("--suffix", default="ari.example.com")
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner(None)
S = {}
HOUR, DAY = 3600, 86400
LIFETIMES = {"classic": 90 * DAY, "tlsserver": 90 * DAY, "shortlived": 160 * HOUR}


def n(label):
    return "%s.%s" % (label, args.suffix)


def need(*keys):
    for k in keys:
        if S.get(k) is None:
            raise TestFailure("depends on '%s', which is not available (an earlier case failed)" % k)
    return [S[k] for k in keys]


def new_order(acct, names, **extra):
    payload = {"identifiers": [{"type": "dns", "value": x} for x in names]}
    payload.update(extra)
    return acct.post(c.url("newOrder"), payload)


def issue(acct, names, chall, **extra):
    """http-01 issuance with extra newOrder fields; returns (order, leaf x509, leaf pem)."""
    r = new_order(acct, names, **extra)
    expect_status(r, 201, "newOrder %s %s" % (names, extra))
    order_url, order = r.headers["Location"], r.json()
    for az in order["authorizations"]:
        a = validate_http01(acct, az, chall)
        check(a.get("status") == "valid", "authz %s ended %s" % (az, a.get("status")))
    order = acct.poll(order_url, lambda o: o.get("status") != "pending", what="order to ready")
    order = finalize(acct, order_url, order, make_csr(Key.ec256(), names))
    pem = split_pem_certs(download_cert(acct, order["certificate"]))[0]
    return order, x509.load_pem_x509_certificate(pem.encode()), pem


def cert_id(cert):
    """RFC 9773 §4.1, computed independently of flintd: AKI keyid . DER serial content."""
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    sn = cert.serial_number
    content = sn.to_bytes((sn.bit_length() + 8) // 8, "big")  # DER: a leading 0 if the top bit is set
    return "%s.%s" % (b64u(aki), b64u(content))


def renewal_info(cid, method="GET"):
    return c.s.request(method, "%s/%s" % (c.url("renewalInfo"), cid), timeout=15)


def rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def validity(cert):
    nb = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()
    na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
    return nb, na


# ------------------------------------------------------------------ main phase
def case_directory():
    d = c.directory
    check(isinstance(d.get("renewalInfo"), str) and d["renewalInfo"].startswith("https://"),
          "directory renewalInfo: %r" % d.get("renewalInfo"))
    profiles = d.get("meta", {}).get("profiles")
    check(isinstance(profiles, dict) and set(LIFETIMES) <= set(profiles),
          "meta.profiles %r lacks %s" % (profiles, sorted(LIFETIMES)))
    check(all(isinstance(v, str) and v for v in profiles.values()), "profile descriptions: %r" % profiles)


def case_accounts():
    S["chall"] = ChallServer(args.http01_port)
    for k in ("a", "b"):
        acct = Account(c)
        acct.register()
        S[k] = acct


def case_profile_default_reflected():
    a, = need("a")
    r = new_order(a, [n("default")])
    expect_status(r, 201, "newOrder without profile")
    check(r.json().get("profile") == "classic",
          "order without profile shows profile %r (want the default, classic)" % r.json().get("profile"))
    r = a.get_ok(r.headers["Location"], "order")
    check(r.json().get("profile") == "classic", "fetched order profile %r" % r.json().get("profile"))


def case_profile_unknown():
    a, = need("a")
    p = expect_problem(new_order(a, [n("unknown")], profile="no-such-profile"), 400, "invalidProfile")
    check("no-such-profile" in p.get("detail", "") and "classic" in p.get("detail", ""),
          "invalidProfile detail should name the profile and those offered: %r" % p.get("detail"))


def case_profile_not_string():
    a, = need("a")
    expect_problem(new_order(a, [n("notstring")], profile=5), 400, "malformed")


def case_profile_contents():
    a, chall = need("a", "chall")
    for name, life in LIFETIMES.items():
        names = [n("p-" + name)]
        order, cert, _ = issue(a, names, chall, profile=name)
        check(order.get("profile") == name, "order profile %r (want %s)" % (order.get("profile"), name))
        nb, na = validity(cert)
        check(abs((na - nb) - life) <= 60, "%s: lifetime %d s (want %d)" % (name, na - nb, life))
        ekus = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        want = {ExtendedKeyUsageOID.SERVER_AUTH}
        if name == "classic":
            want.add(ExtendedKeyUsageOID.CLIENT_AUTH)
        check(ekus == want, "%s: EKUs %s (want %s)" % (name, ekus, want))
        cns = [x.value for x in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        check(cns == (names if name == "classic" else []), "%s: subject CN %r" % (name, cns))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        check(san.critical == (name != "classic"), "%s: SAN critical=%s with subject %r" %
              (name, san.critical, cns))
        S["cert_" + name] = cert


def case_renewal_info():
    for name in LIFETIMES:
        cert, = need("cert_" + name)
        r = renewal_info(cert_id(cert))
        check(r.status_code == 200, "GET renewalInfo (no JWS): %s" % describe(r))
        w = r.json().get("suggestedWindow", {})
        start, end = rfc3339(w["start"]), rfc3339(w["end"])
        nb, na = validity(cert)
        check(nb < start < end <= na, "%s: window %s..%s outside the validity" % (name, w["start"], w["end"]))
        # the window follows the lifetime: a third left (half for <= 10 days)
        left = (na - nb) / (2 if na - nb <= 10 * DAY else 3)
        check(abs(start - (na - left)) <= 120, "%s: window starts %s, %.0f s before notAfter (want %.0f)" %
              (name, w["start"], na - start, left))
        ra = r.headers.get("Retry-After", "")
        check(ra.isdigit() and 60 <= int(ra) <= 6 * HOUR, "%s: Retry-After %r" % (name, ra))
    # HEAD works too, POST does not
    expect_status(renewal_info(cert_id(S["cert_classic"]), "HEAD"), 200, "HEAD renewalInfo")
    check(renewal_info(cert_id(S["cert_classic"]), "POST").status_code == 405, "POST renewalInfo: not 405")


def case_renewal_info_bad():
    cert, = need("cert_classic")
    cid = cert_id(cert)
    kid, serial = cid.split(".")
    expect_problem(renewal_info("not-a-cert-id"), 400, "malformed", "garbage certID")
    expect_problem(renewal_info(cid + "="), 400, "malformed", "padded certID")
    expect_problem(renewal_info(kid + "." + b64u(b"\x01\x02\x03")), 404, "malformed", "unknown serial")
    expect_problem(renewal_info(b64u(b"\x00" * 20) + "." + serial), 404, "malformed", "another CA's AKI")


def case_replaces_foreign_account():
    b, cert = need("b", "cert_classic")
    expect_problem(new_order(b, [n("p-classic")], replaces=cert_id(cert)), 403, "unauthorized",
                   "replacing another account's certificate")


def case_replaces_no_shared_identifier():
    a, cert = need("a", "cert_classic")
    p = expect_problem(new_order(a, [n("unrelated")], replaces=cert_id(cert)), 400, "malformed")
    check("identifier" in p.get("detail", ""), "detail should say no identifier is shared: %r" % p)


def case_replaces_malformed():
    a, = need("a")
    expect_problem(new_order(a, [n("p-classic")], replaces="abc"), 400, "malformed", "replaces=abc")
    expect_problem(new_order(a, [n("p-classic")], replaces=7), 400, "malformed", "replaces=7")


def case_replaces_ok_then_409():
    a, chall, cert = need("a", "chall", "cert_classic")
    cid = cert_id(cert)
    order, new_cert, _ = issue(a, [n("p-classic")], chall, replaces=cid)
    check(order.get("replaces") == cid, "order replaces %r (want %s)" % (order.get("replaces"), cid))
    check(new_cert.serial_number != cert.serial_number, "same serial after replacement")
    p = expect_problem(new_order(a, [n("p-classic")], replaces=cid), 409, "alreadyReplaced",
                       "replacing twice")
    check(cid in p.get("detail", ""), "alreadyReplaced detail should name the certID: %r" % p)


def case_replaces_again_after_invalid():
    a, chall, cert = need("a", "chall", "cert_tlsserver")
    cid = cert_id(cert)
    # the replacing order also names a fresh name (the shared one's authorization is
    # reused, valid) and fails: a wrong http-01 answer makes that authorization invalid
    r = new_order(a, [n("p-tlsserver"), n("fails")], replaces=cid)
    expect_status(r, 201, "replacing order")
    order = r.json()
    failed = 0
    for az in order["authorizations"]:
        if a.get_ok(az, "authz").json().get("status") == "pending":
            got = validate_http01(a, az, chall, body="wrong")
            check(got.get("status") == "invalid", "authz with a wrong answer ended %s" % got.get("status"))
            failed += 1
    check(failed == 1, "%d pending authorizations in the replacing order (want 1)" % failed)
    r = a.get_ok(r.headers["Location"], "failed order")
    check(r.json().get("status") == "invalid", "order with an invalid authz is %s" % r.json().get("status"))
    r = new_order(a, [n("p-tlsserver")], replaces=cid)
    expect_status(r, 201, "replacing again after the replacing order failed")
    check(r.json().get("replaces") == cid, "order replaces %r" % r.json().get("replaces"))


def case_revoked_window_in_past():
    a, chall = need("a", "chall")
    _, cert, pem = issue(a, [n("revoked")], chall)
    from cryptography.hazmat.primitives import serialization
    der = cert.public_bytes(serialization.Encoding.DER)
    expect_status(a.post(c.url("revokeCert"), {"certificate": b64u(der), "reason": 4}), 200, "revoke")
    r = renewal_info(cert_id(cert))
    expect_status(r, 200, "renewalInfo of a revoked certificate")
    end = rfc3339(r.json()["suggestedWindow"]["end"])
    check(end <= time.time() + 1, "revoked certificate: window ends %s, not in the past" %
          r.json()["suggestedWindow"]["end"])


def case_leave_ready_shortlived_order():
    a, chall = need("a", "chall")
    r = new_order(a, [n("withdrawn")], profile="shortlived")
    expect_status(r, 201, "newOrder shortlived")
    order_url, order = r.headers["Location"], r.json()
    for az in order["authorizations"]:
        check(validate_http01(a, az, chall).get("status") == "valid", "authz not valid")
    order = a.poll(order_url, lambda o: o.get("status") != "pending", what="order to ready")
    check(order.get("status") == "ready", "order %s" % order.get("status"))
    with open(args.state, "w") as f:
        json.dump({"key": a.key.pem(),
                   "account": a.url, "order_url": order_url, "finalize": order["finalize"]}, f)


# ------------------------------------------------------------- withdrawn phase
def case_withdrawn():
    with open(args.state) as f:
        st = json.load(f)
    profiles = c.directory.get("meta", {}).get("profiles", {})
    check("shortlived" not in profiles, "shortlived still offered: %r" % profiles)
    a = Account(c, Key.from_pem(st["key"].encode()))
    a.url = st["account"]
    expect_problem(new_order(a, [n("withdrawn")], profile="shortlived"), 400, "invalidProfile",
                   "newOrder with a withdrawn profile")
    p = expect_problem(a.post(st["finalize"], {"csr": b64u(make_csr(Key.ec256(), [n("withdrawn")]))}),
                       400, "invalidProfile", "finalize under a withdrawn profile")
    check("shortlived" in p.get("detail", ""), "detail should name the profile: %r" % p)
    r = a.get_ok(st["order_url"], "order")
    check(r.json().get("status") == "ready", "the order should stay ready, is %s" % r.json().get("status"))


if args.phase == "main":
    CASES = [
        ("directory", case_directory),
        ("accounts", case_accounts),
        ("profile_default_reflected", case_profile_default_reflected),
        ("profile_unknown", case_profile_unknown),
        ("profile_not_string", case_profile_not_string),
        ("profile_contents", case_profile_contents),
        ("renewal_info", case_renewal_info),
        ("renewal_info_bad", case_renewal_info_bad),
        ("replaces_foreign_account", case_replaces_foreign_account),
        ("replaces_no_shared_identifier", case_replaces_no_shared_identifier),
        ("replaces_malformed", case_replaces_malformed),
        ("replaces_ok_then_409", case_replaces_ok_then_409),
        ("replaces_again_after_invalid", case_replaces_again_after_invalid),
        ("revoked_window_in_past", case_revoked_window_in_past),
        ("leave_ready_shortlived_order", case_leave_ready_shortlived_order),
    ]
else:
    CASES = [("withdrawn", case_withdrawn)]
for name, fn in CASES:
    R.run(name, fn)
if S.get("chall"):
    S["chall"].close()
sys.exit(R.summary())
