#!/usr/bin/python3
"""ACME issuance load generator (python3-acme; Debian 12: acme 2.1.0, josepy 1.13).

Issues --count certificates against any RFC 8555 server given by its directory
URL. Each issuance is the whole flow: (with --account-per-order, the default of
bench/issuance.sh) a fresh client with a fresh ES256 key fetches the directory
and a nonce and creates an account; then newOrder for one name, http-01 answered
by a built-in loopback challenge server, polling the authorization, finalize
with a fresh P-256 CSR, polling the order, and downloading the certificate.
Without --account-per-order each thread registers one account at its start and
reuses it (and its HTTPS connection) for all its orders.

Concurrency = --procs processes x --threads threads (python3-acme is GIL-bound,
so processes are what use more than one core). The challenge files live in a
temp dir shared by all processes, served from the parent process. Everything
is bounded: per-poll --order-timeout, --stall (no issuance for that long) and
an overall --deadline; worker processes die with the parent (PR_SET_PDEATHSIG).

  /usr/bin/python3 bench/acme_load.py --dir https://127.0.0.1:23000/directory \
      --ca DATA/root.pem --http-port 23001 --count 200 --procs 2 --threads 8 \
      --account-per-order --out result.json

Prints one JSON object (and writes it to --out if given). Latency is per
issuance (including the account creation with --account-per-order); wall_s runs
from the release of the workers to the last result.

Exit status: 0 every certificate was issued; 3 the run finished but some
issuances failed or it stalled (details in the JSON); 1 or 2 the generator
itself failed (bad arguments, challenge port busy, crash).
"""
import argparse, ctypes, http.server, json, multiprocessing as mp, os, queue, resource, shutil
import signal, socketserver, statistics, sys, tempfile, threading, time

import josepy as jose
import OpenSSL.crypto as oc
from acme import challenges, client, messages, crypto_util
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--dir", required=True, help="ACME directory URL")
ap.add_argument("--ca", default=None, help="CA bundle for the server's HTTPS (default: system)")
ap.add_argument("--insecure", action="store_true", help="do not verify the server's HTTPS cert")
ap.add_argument("--http-port", type=int, default=23001,
                help="port the CA's VA uses for http-01; 0 = no challenge server (always-valid CAs)")
ap.add_argument("--count", type=int, default=200)
ap.add_argument("--procs", type=int, default=2)
ap.add_argument("--threads", type=int, default=8, help="threads per process")
ap.add_argument("--account-per-order", action="store_true",
                help="every issuance uses a new client, key and account (default: one per thread)")
ap.add_argument("--suffix", default="load.example.com", help="names are <run>-<n>.<suffix>")
ap.add_argument("--poll", type=float, default=0.05, help="seconds between status polls")
ap.add_argument("--order-timeout", type=float, default=60, help="cap on each poll loop (s)")
ap.add_argument("--deadline", type=float, default=600, help="overall wall-clock cap (s)")
ap.add_argument("--stall", type=float, default=45,
                help="give up if no certificate is issued for this many seconds")
ap.add_argument("--alg", choices=["ES256", "RS256"], default="ES256", help="account key type")
ap.add_argument("--out", default=None)
args = ap.parse_args()
if args.count < 0 or args.procs < 1 or args.threads < 1 or args.http_port < 0:
    ap.error("--count >= 0, --procs >= 1, --threads >= 1, --http-port >= 0")

VERIFY = False if args.insecure else (args.ca or True)
TOKDIR = tempfile.mkdtemp(prefix="acme-load-")
RUN = "r%x" % int(time.time() * 1000 % 0xFFFFFFF)
CHALL_PREFIX = "/.well-known/acme-challenge/"


class ChallHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        tok = self.path[len(CHALL_PREFIX):] if self.path.startswith(CHALL_PREFIX) else ""
        p = os.path.join(TOKDIR, tok)
        if tok and "/" not in tok and ".." not in tok and os.path.isfile(p):
            with open(p, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *a):
        pass


class TServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def poll(fn, done, timeout):
    end = time.monotonic() + timeout
    while True:
        r = fn()
        if done(r):
            return r
        if time.monotonic() >= end:
            raise TimeoutError("poll timeout after %.0fs" % timeout)
        time.sleep(args.poll)


def new_client():
    """A fresh client: key, ClientNetwork (own HTTPS session), directory, nonce, account."""
    if args.alg == "ES256":
        acct_key, alg = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1())), jose.ES256
    else:
        acct_key, alg = jose.JWKRSA(key=rsa.generate_private_key(65537, 2048)), jose.RS256
    net = client.ClientNetwork(acct_key, alg=alg, verify_ssl=VERIFY, user_agent="flint-bench-load",
                               timeout=30)
    directory = client.ClientV2.get_directory(args.dir, net)
    c = client.ClientV2(directory, net)
    regr = c.new_account(messages.NewRegistration.from_data(terms_of_service_agreed=True))
    net.account = regr
    return c, acct_key


def one_order(c, acct_key, name):
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    csr_pem = crypto_util.make_csr(key_pem, [name])
    order = c.new_order(csr_pem)
    tokfiles = []
    try:
        for authzr in order.authorizations:
            if authzr.body.status == messages.STATUS_VALID:
                continue
            chall = next(ch for ch in authzr.body.challenges if isinstance(ch.chall, challenges.HTTP01))
            resp, validation = chall.response_and_validation(acct_key)
            p = os.path.join(TOKDIR, chall.chall.encode("token"))
            with open(p, "w") as f:
                f.write(validation)
            tokfiles.append(p)
            c.answer_challenge(chall, resp)
        for authzr in order.authorizations:
            a = poll(lambda: messages.Authorization.from_json(c._post_as_get(authzr.uri).json()),
                     lambda a: a.status != messages.STATUS_PENDING, args.order_timeout)
            if a.status != messages.STATUS_VALID:
                raise RuntimeError("authz %s: %s" % (a.status, [ch.error for ch in a.challenges if ch.error]))
    finally:
        for p in tokfiles:
            try:
                os.unlink(p)
            except OSError:
                pass
    csr = oc.load_certificate_request(oc.FILETYPE_PEM, csr_pem)
    c._post(order.body.finalize, messages.CertificateRequest(csr=jose.ComparableX509(csr)))
    body = poll(lambda: messages.Order.from_json(c._post_as_get(order.uri).json()),
                lambda b: b.status in (messages.STATUS_VALID, messages.STATUS_INVALID), args.order_timeout)
    if body.status != messages.STATUS_VALID or not body.certificate:
        raise RuntimeError("order %s %s" % (body.status, body.error))
    pem = c._post_as_get(body.certificate).text
    if "BEGIN CERTIFICATE" not in pem:
        raise RuntimeError("no PEM in certificate response")
    return pem


def worker_thread(counter, lock, results, t_end):
    c = acct_key = None
    if not args.account_per_order:
        try:
            c, acct_key = new_client()
        except Exception as e:
            results.put(("acct_err", 0.0, repr(e)[:300]))
            return
    while time.monotonic() < t_end:
        with lock:
            i = counter.value
            if i >= args.count:
                return
            counter.value = i + 1
        t0 = time.monotonic()
        try:
            if args.account_per_order:
                c, acct_key = new_client()
            one_order(c, acct_key, "%s-%d.%s" % (RUN, i, args.suffix))
            results.put(("ok", time.monotonic() - t0, ""))
        except Exception as e:
            results.put(("err", time.monotonic() - t0, repr(e)[:300]))
        finally:
            if args.account_per_order and c is not None:
                try:
                    c.net.session.close()
                except Exception:
                    pass
                c = None


def worker_proc(counter, lock, results, t_end, gate):
    try:  # die with the parent, whatever kills it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if not gate.wait(30):
        return
    ts = [threading.Thread(target=worker_thread, args=(counter, lock, results, t_end), daemon=True)
          for _ in range(args.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(max(0.0, t_end - time.monotonic()) + 5)
    # CPU this worker used, for the client-side cost in the report
    ru = resource.getrusage(resource.RUSAGE_SELF)
    results.put(("cpu", ru.ru_utime + ru.ru_stime, ""))


def main():
    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    # Bind the challenge port first (fail fast), but fork the workers BEFORE any thread exists in
    # this process: forking a threaded process can copy a held lock into the child and hang it.
    srv = None
    if args.http_port:
        srv = TServer(("127.0.0.1", args.http_port), ChallHandler)
    counter, lock, results = mp.Value("i", 0), mp.Lock(), mp.Queue()
    gate = mp.Event()
    t_deadline = time.monotonic() + args.deadline
    procs = [mp.Process(target=worker_proc, args=(counter, lock, results, t_deadline, gate), daemon=True)
             for _ in range(args.procs)]
    ok, lat, errs, acct_errs, worker_cpu = 0, [], [], [], 0.0
    stalled = timed_out = False
    wall = 0.0
    try:
        for p in procs:
            p.start()
        if srv:
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        t_start = last = time.monotonic()
        gate.set()
        got = 0
        while got < args.count:
            if time.monotonic() > t_deadline + 10:
                timed_out = True
                break
            try:
                kind, dt, msg = results.get(timeout=1)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                if time.monotonic() - last > args.stall:
                    stalled = True   # server stopped answering (seen with pebble 2.4.0 under load)
                    break
                continue
            if kind == "cpu":
                worker_cpu += dt
                continue
            if kind == "acct_err":
                acct_errs.append(msg)
                continue
            got += 1
            if kind == "ok":
                last = time.monotonic()
                ok += 1
                lat.append(dt)
            else:
                errs.append(msg)
                if time.monotonic() - last > args.stall:
                    stalled = True   # only errors (e.g. read timeouts) for --stall seconds
                    break
        wall = time.monotonic() - t_start
        if not stalled and not timed_out:
            end = time.monotonic() + 10
            for p in procs:
                p.join(max(0.0, end - time.monotonic()))
            # the workers' CPU reports
            while True:
                try:
                    kind, dt, msg = results.get_nowait()
                except queue.Empty:
                    break
                if kind == "cpu":
                    worker_cpu += dt
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
        if srv:
            srv.shutdown()
        shutil.rmtree(TOKDIR, ignore_errors=True)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    lat.sort()
    q = lambda f: round(lat[min(len(lat) - 1, int(f * len(lat)))], 4) if lat else None
    out = {
        "directory": args.dir, "requested": args.count, "issued": ok, "failed": len(errs),
        "account_errors": len(acct_errs), "account_per_order": args.account_per_order,
        "concurrency": args.procs * args.threads, "procs": args.procs, "threads": args.threads,
        "wall_s": round(wall, 3), "certs_per_s": round(ok / wall, 2) if wall > 0 else None,
        "latency_s": {"p50": q(0.5), "p90": q(0.9), "p95": q(0.95), "p99": q(0.99), "max": q(1.0),
                      "mean": round(statistics.mean(lat), 4) if lat else None},
        "client_cpu_s": round(worker_cpu + ru.ru_utime + ru.ru_stime, 2),
        "stalled": stalled, "timed_out": timed_out, "error_samples": (errs + acct_errs)[:5],
        "alg": args.alg, "poll_s": args.poll,
    }
    s = json.dumps(out, indent=1)
    print(s)
    if args.out:
        with open(args.out, "w") as f:
            f.write(s + "\n")
    return 0 if ok == args.count else 3


if __name__ == "__main__":
    sys.exit(main())
