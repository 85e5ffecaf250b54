#!/usr/bin/python3
"""A finalization that a dead node left behind is finished by another (run by
t_cluster.sh against its nodes on one PostgreSQL database).

An order is made ready (account, order, http-01), then the database gets
exactly the state flintd writes when finalize begins (api/finalize.c:
order_start_finalize: status processing, the CSR, a claim by a node) with a
node that no longer exists as the holder, as if it had died right after. A
live node must claim it once the claim expires and issue the certificate for
that CSR; the client sees the order go valid and downloads it.

Prints "ok CASE" / "FAIL CASE: detail"; exit 1 when any case failed.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("FLINT_SRC", os.path.join(HERE, "..", "..")), "tests", "tools"))
from acmelib import (Account, ChallServer, Client, Key, Runner, b64u, cert_names,  # noqa: E402
                     check, download_cert, make_csr, validate_http01)

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--http01-port", type=int, required=True)
ap.add_argument("--psql", required=True, help="psql command line (split on spaces)")
ap.add_argument("--dead-node", required=True, help="a node id no running node has")
ap.add_argument("--claim-seconds", type=int, default=3, help="how long the dead claim lasts")
args = ap.parse_args()

c = Client(args.dir, args.ca)
R = Runner()
NAME = "resume.cluster.example.com"


def psql(sql):
    p = subprocess.run(args.psql.split() + ["-c", sql], capture_output=True, text=True, timeout=20)
    check(p.returncode == 0, "psql failed: %s" % p.stderr.strip())
    return p.stdout.strip()


def case_resume_finalization():
    a = Account(c)
    a.register()
    r = a.new_order([NAME])
    order_url = r.headers["Location"]
    order = r.json()
    srv = ChallServer(args.http01_port)
    try:
        for authz_url in order["authorizations"]:
            validate_http01(a, authz_url, srv)
    finally:
        srv.close()
    order = a.poll(order_url, lambda o: o["status"] != "pending", what="order ready")
    check(order["status"] == "ready", "order is %s, not ready" % order["status"])
    order_id = order_url.rstrip("/").rsplit("/", 1)[1]
    check(order_id.replace("-", "").replace("_", "").isalnum(), "odd order id %r" % order_id)

    # the state a node leaves when it dies right after finalize began
    csr = make_csr(Key.ec256(), [NAME])
    until = int(time.time()) + args.claim_seconds
    n = psql("UPDATE orders SET status = 'processing', csr = decode('%s', 'hex'),"
             " claimed_by = '%s', claim_until = %d WHERE id = '%s' AND status = 'pending'"
             % (csr.hex(), args.dead_node, until, order_id))
    check(n.endswith("1") or n == "", "planting the dead node's claim: %r" % n)
    holder = psql("SELECT claimed_by FROM orders WHERE id = '%s'" % order_id)
    check(holder == args.dead_node, "the order is claimed by %r, not the dead node" % holder)

    # a finalize now is refused: the order is being finalized
    r = a.post(order["finalize"], {"csr": b64u(csr)})
    check(r.status_code == 403, "finalize of a processing order: %d (want 403)" % r.status_code)

    done = a.poll(order_url, lambda o: o["status"] in ("valid", "invalid"), timeout=40,
                  what="order finished by a live node")
    check(done["status"] == "valid", "order ended %s: %s" % (done["status"], done.get("error")))
    check(time.time() >= until, "taken over before the dead node's claim expired")
    holder = psql("SELECT claimed_by FROM orders WHERE id = '%s'" % order_id)
    check(holder and holder != args.dead_node, "finished under claim %r" % holder)
    pem = download_cert(a, done["certificate"])
    names = cert_names(pem)
    check(names == [NAME], "certificate names %r" % names)
    print("  order %s finished by %s" % (order_id, holder))


R.run("resume_finalization", case_resume_finalization)
sys.exit(R.summary())
