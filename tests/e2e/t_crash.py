#!/usr/bin/python3
"""Crash safety (run by t_crash.sh): flintd is killed with SIGKILL at random
moments, KILLS times, under an issuance load, and restarted each time on the
same data directory and SQLite database.

- The load: acme-load rounds (a new round when one finishes) whose clients
  resend a request that fails at the transport level after a short pause, so
  they ride out each restart; every round must finish every issuance without
  an error.
- Meanwhile a revoker revokes certificates issued before the storm, one by
  one, each request resent until the server answers; an answer of 200 (or
  alreadyRevoked, when an earlier attempt's answer was lost) is an
  acknowledged revocation.
- After the storm, with flintd up: nothing stays in processing, every order
  and challenge is in a legal state, every valid order has its certificate,
  every certificate served (by acme-load, by the revoker's issuance) is in
  the store byte for byte, the revoker's can be downloaded again, no serial
  was used twice, and every acknowledged revocation is in the CRL, whose
  signature verifies.

Prints "ok CASE" / "FAIL CASE: detail"; exit 1 when any case failed.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("FLINT_SRC", os.path.join(HERE, "..", "..")), "tests", "tools"))
from acmelib import (ERR, Account, ChallServer, Client, Runner, TestFailure, b64u,  # noqa: E402
                     check, download_cert, issue, split_pem_certs)

ap = argparse.ArgumentParser()
ap.add_argument("--flintd", required=True)
ap.add_argument("--acme-load", required=True)
ap.add_argument("--data", required=True, help="flintd's data dir (the database is DATA/flintd.db)")
ap.add_argument("--work", required=True, help="a directory for logs and the load's output")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--dns", required=True, help="HOST:PORT of the test DNS server")
ap.add_argument("--kills", type=int, default=20)
ap.add_argument("--revocations", type=int, default=12)
ap.add_argument("--round-issuances", type=int, default=40)
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--seed", type=int, default=None)
args = ap.parse_args()

seed = args.seed if args.seed is not None else random.randrange(1 << 30)
rnd = random.Random(seed)
print("seed %d (--seed %d repeats the kill moments)" % (seed, seed), flush=True)

DIR_URL = "https://127.0.0.1:%d/directory" % args.port
ROOT = os.path.join(args.data, "root.pem")
DB = os.path.join(args.data, "flintd.db")
FLINTD_LOG = os.path.join(args.work, "flintd.log")
ISSUED = os.path.join(args.work, "issued.jsonl")
NET_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
R = Runner()


class Flintd:
    """The flintd process: started, killed and restarted on one data dir."""

    def __init__(self):
        self.p = None
        self.starts = 0

    def start(self):
        cmd = [args.flintd, "--listen", "127.0.0.1:%d" % args.port, "--data-dir", args.data,
               "--http01-port", str(args.http01_port), "--dns-server", args.dns,
               "--allow-loopback-targets", "--rate-new-orders", "off",
               "--rate-certs-per-domain", "off", "--rate-failed-validations", "off",
               "--rate-new-accounts-per-ip", "off", "--validation-workers", "4"]
        with open(FLINTD_LOG, "a") as log:
            log.write("+ start %d\n" % (self.starts + 1))
            log.flush()
            self.p = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.starts += 1
        end = time.monotonic() + 60
        while time.monotonic() < end:
            check(self.p.poll() is None, "flintd exited with status %s at start %d (see %s)"
                  % (self.p.returncode, self.starts, FLINTD_LOG))
            if os.path.exists(ROOT):
                try:
                    if requests.get(DIR_URL, verify=ROOT, timeout=2).status_code == 200:
                        return
                except NET_ERRORS:
                    pass
            time.sleep(0.1)
        raise TestFailure("flintd not ready within 60 s after start %d" % self.starts)

    def kill(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(10)

    def stop(self):
        """SIGTERM; returns the exit status (non-zero: a sanitizer report or a hang)."""
        if not self.p or self.p.poll() is not None:
            return self.p.returncode if self.p else 0
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(10)
            return "hung (killed)"


flintd = Flintd()


def db_rows(sql, params=()):
    """A read of flintd's database, as another process (WAL: never blocks flintd)."""
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def resend(fn, what, limit=90):
    """fn() until it returns, resending after transport errors (a restart) for up to limit s."""
    end = time.monotonic() + limit
    while True:
        try:
            return fn()
        except NET_ERRORS as e:
            if time.monotonic() > end:
                raise TestFailure("%s: no answer for %d s: %s" % (what, limit, e))
            time.sleep(0.2)


# ------------------------------------------------------------ before the storm
flintd.start()
client = Client(DIR_URL, ROOT)
acct = Account(client)
acct.register()
to_revoke = []  # dicts from acmelib.issue: order_url, order, pem, der ...


def case_issue_before():
    srv = ChallServer(args.http01_port)
    try:
        for i in range(args.revocations):
            to_revoke.append(issue(acct, ["revoke-%d.crash.example.com" % i], srv, root=ROOT))
    finally:
        srv.close()
    return "%d certificates to revoke during the storm" % len(to_revoke)


# ------------------------------------------------------------------- the storm
acknowledged = []  # serials (int) whose revocation flintd acknowledged
revoker_errors = []


def revoke_one(item):
    der = item["der"]
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            r = acct.post(client.url("revokeCert"), {"certificate": b64u(der), "reason": 4})
        except NET_ERRORS:
            time.sleep(0.2)
            continue
        if r.status_code == 200:
            return True
        t = ""
        try:
            t = r.json().get("type", "")
        except ValueError:
            pass
        if t == ERR + "alreadyRevoked":
            return True  # an earlier attempt was committed, its answer lost in a kill
        if t == ERR + "badNonce" or r.status_code == 503:
            continue
        revoker_errors.append("revoke %s: %d %s" % (item["order_url"], r.status_code, r.text[:200]))
        return False
    revoker_errors.append("revoke %s: no acknowledgement within 120 s" % item["order_url"])
    return False


def revoker(stop):
    for item in to_revoke:
        if stop.wait(rnd.uniform(0.2, 1.5)):
            break
        if revoke_one(item):
            acknowledged.append(x509.load_der_x509_certificate(item["der"]).serial_number)


def start_round(n):
    cmd = [args.acme_load, "-c", str(args.clients), "-n", str(args.round_issuances),
           "--http01-port", str(args.http01_port), "--http01-addr", "127.0.0.1",
           "--http01-delay-ms", "150", "--ca-bundle", ROOT,
           "--domain-suffix", "round%d.crash.example.com" % n,
           "--transport-retries", "600", "--transport-retry-ms", "100",
           "--timeout-ms", "5000", "--poll-timeout-ms", "90000", "--stall-s", "90",
           "--issued-out", ISSUED, "-v", DIR_URL]
    out = open(os.path.join(args.work, "load-%d.txt" % n), "w")
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), out


rounds = []  # (round, exit status)
in_flight_at_kill = []  # (orders processing, challenges processing) just after each kill


def case_storm():
    stop = threading.Event()
    rev = threading.Thread(target=revoker, args=(stop,), daemon=True)
    rev.start()
    n = 1
    load, out = start_round(n)
    try:
        for k in range(args.kills):
            time.sleep(rnd.uniform(0.3, 2.0))
            if load.poll() is not None:
                out.close()
                rounds.append((n, load.returncode))
                n += 1
                load, out = start_round(n)
                time.sleep(rnd.uniform(0.3, 1.0))
            flintd.kill()
            in_flight_at_kill.append(tuple(
                db_rows("SELECT count(*) FROM %s WHERE status = 'processing'" % t)[0][0]
                for t in ("orders", "challenges")))
            time.sleep(rnd.uniform(0.0, 0.5))  # clients meet a closed port for a while
            flintd.start()
        try:
            load.wait(240)
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait(10)
            raise TestFailure("acme-load round %d still running 240 s after the last kill" % n)
        rounds.append((n, load.returncode))
    finally:
        out.close()
        stop.set()
        rev.join(180)
    bad = ["round %d exited %s: %s" % (r, rc, tail(os.path.join(args.work, "load-%d.txt" % r)))
           for r, rc in rounds if rc != 0]
    check(not bad, "; ".join(bad))
    busy = sum(1 for o, c in in_flight_at_kill if o or c)
    return "%d kills, %d of them with orders or validations in processing; %d load rounds" % (
        len(in_flight_at_kill), busy, len(rounds))


def tail(path, n=6):
    try:
        with open(path) as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError as e:
        return str(e)


# ------------------------------------------------------------ after the storm
def case_nothing_left_processing():
    end = time.monotonic() + 60
    while True:
        left = [(t, db_rows("SELECT count(*) FROM %s WHERE status = 'processing'" % t)[0][0])
                for t in ("orders", "challenges")]
        if not any(n for _, n in left):
            return
        if time.monotonic() > end:
            raise TestFailure("still in processing 60 s after the last restart: %s" % left)
        time.sleep(0.5)


def case_legal_states():
    legal = {
        "orders": {"pending", "ready", "processing", "valid", "invalid"},
        "authzs": {"pending", "valid", "invalid", "deactivated", "expired", "revoked"},
        "challenges": {"pending", "processing", "valid", "invalid"},
    }
    for table, ok in legal.items():
        for status, n in db_rows("SELECT status, count(*) FROM %s GROUP BY status" % table):
            check(status in ok, "%d %s in status %r" % (n, table, status))
    orphans = db_rows("SELECT o.id, o.cert_id FROM orders o LEFT JOIN certificates c"
                      " ON c.id = o.cert_id WHERE o.status = 'valid' AND c.id IS NULL")
    check(not orphans, "valid orders without their certificate: %s" % orphans[:5])
    # a valid challenge makes its authorization valid; a valid order has only valid authorizations
    stale = db_rows("SELECT a.id, a.status FROM authzs a JOIN challenges c ON c.authz_id = a.id"
                    " WHERE c.status = 'valid' AND a.status NOT IN ('valid', 'deactivated', 'revoked')")
    check(not stale, "authorizations not valid although a challenge is: %s" % stale[:5])
    unready = db_rows("SELECT o.id FROM orders o JOIN order_authzs oa ON oa.order_id = o.id"
                      " JOIN authzs a ON a.id = oa.authz_id"
                      " WHERE o.status IN ('ready', 'processing', 'valid') AND a.status <> 'valid'"
                      " AND a.status NOT IN ('deactivated', 'revoked')")
    check(not unready, "orders past pending with an authorization that is not valid: %s" % unready[:5])
    counts = dict(db_rows("SELECT status, count(*) FROM orders GROUP BY status"))
    return "orders " + ", ".join("%s %d" % kv for kv in sorted(counts.items()))


def served():
    """Every certificate acme-load was served: (name, order URL, cert URL, leaf DER)."""
    out = []
    with open(ISSUED) as f:
        for line in f:
            j = json.loads(line)
            leaf = split_pem_certs(j["pem"])[0]
            der = x509.load_pem_x509_certificate(leaf.encode()).public_bytes(serialization.Encoding.DER)
            out.append((j["name"], j["order"], j["certificate"], der))
    return out


def case_served_in_store():
    got = served()
    want = sum(args.round_issuances for _ in rounds)
    check(len(got) == want, "acme-load served %d certificates, %d rounds of %d asked for"
          % (len(got), len(rounds), args.round_issuances))
    serials = set()
    for name, order_url, cert_url, der in got:
        cert = x509.load_der_x509_certificate(der)
        serial = cert.serial_number
        check(serial not in serials, "serial %x served twice" % serial)
        serials.add(serial)
        cert_id = cert_url.rstrip("/").rsplit("/", 1)[-1]
        rows = db_rows("SELECT der, order_id FROM certificates WHERE id = ?", (cert_id,))
        check(rows, "%s: certificate %s served but not in the store" % (name, cert_url))
        check(bytes(rows[0][0]) == der, "%s: the stored certificate differs from the one served" % name)
        order_id = order_url.rstrip("/").rsplit("/", 1)[-1]
        st = db_rows("SELECT status, cert_id FROM orders WHERE id = ?", (order_id,))
        check(st and st[0] == ("valid", cert_id),
              "%s: order %s is %s, want valid with certificate %s" % (name, order_url, st, cert_id))
    dup = db_rows("SELECT serial, count(*) FROM certificates GROUP BY serial HAVING count(*) > 1")
    check(not dup, "serials used twice in the store: %s" % dup[:5])
    return "%d certificates served, each in the store, serials unique" % len(got)


def case_download_again():
    for item in to_revoke:
        pem = resend(lambda: download_cert(acct, item["order"]["certificate"]), "download")
        check(pem == item["pem"], "certificate %s downloads differently after the storm"
              % item["order"]["certificate"])
    return "%d certificates downloaded again, unchanged" % len(to_revoke)


def case_revocations_in_crl():
    check(not revoker_errors, "; ".join(revoker_errors[:5]))
    check(len(acknowledged) == len(to_revoke), "%d of %d revocations acknowledged"
          % (len(acknowledged), len(to_revoke)))
    base = DIR_URL.rsplit("/", 1)[0]
    inter = x509.load_der_x509_certificate(
        resend(lambda: requests.get(base + "/ca/intermediate.der", verify=ROOT, timeout=10), "intermediate").content)
    r = resend(lambda: requests.get(base + "/ca/crl", verify=ROOT, timeout=10), "CRL")
    check(r.status_code == 200, "GET /ca/crl: %d" % r.status_code)
    crl = x509.load_der_x509_crl(r.content)
    check(crl.is_signature_valid(inter.public_key()), "the CRL's signature does not verify")
    listed = {e.serial_number for e in crl}
    missing = [s for s in acknowledged if s not in listed]
    check(not missing, "acknowledged revocations missing from the CRL: %s" % ["%x" % s for s in missing])
    stored = {int(s, 16) for (s,) in db_rows("SELECT serial FROM certificates WHERE revoked_at <> 0")}
    check(set(acknowledged) <= stored, "acknowledged revocations not in the store")
    return "%d acknowledged revocations, all in the CRL" % len(acknowledged)


try:
    R.run("issue_before_storm", case_issue_before)
    if not R.failed:
        R.run("storm", case_storm)
        R.run("nothing_left_processing", case_nothing_left_processing)
        R.run("legal_states", case_legal_states)
        R.run("served_certificates_in_store", case_served_in_store)
        R.run("download_again", case_download_again)
        R.run("revocations_in_crl", case_revocations_in_crl)
finally:
    rc = flintd.stop()
if rc == 0:
    print("ok flintd_clean_exit (after %d starts)" % flintd.starts, flush=True)
else:
    R.failed.append("flintd_clean_exit")
    print("FAIL flintd_clean_exit: status %s after SIGTERM (sanitizer report in %s)" % (rc, FLINTD_LOG),
          flush=True)
sys.exit(R.summary())
