"""A small hand-rolled ACME (RFC 8555) client for flintd's end-to-end tests.

Deliberately low level: every JWS field can be overridden so that tests can
send hostile requests (bad signatures, replayed nonces, wrong algorithms...).
Needs only requests + cryptography (Debian 12: /usr/bin/python3).

Nothing here retries: a well-formed request that fails is reported as is.
"""
import base64
import hashlib
import hmac
import http.server
import json
import re
import socketserver
import subprocess
import tempfile
import threading
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

ERR = "urn:ietf:params:acme:error:"
JOSE = "application/jose+json"
POST_AS_GET = None  # payload value meaning "empty payload" (RFC 8555 §6.3)


class TestFailure(Exception):
    """An assertion about the server's behaviour did not hold."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s)


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def _int_bytes(n, length=None):
    if length is None:
        length = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


# --------------------------------------------------------------------- keys
class Key:
    """An account or certificate key (EC P-256/P-384 or RSA)."""

    def __init__(self, priv):
        self.priv = priv
        if isinstance(priv, ec.EllipticCurvePrivateKey):
            name = priv.curve.name
            if name == "secp256r1":
                self.alg, self.crv, self.size, self.hash = "ES256", "P-256", 32, hashes.SHA256()
            elif name == "secp384r1":
                self.alg, self.crv, self.size, self.hash = "ES384", "P-384", 48, hashes.SHA384()
            else:
                raise ValueError("unsupported curve " + name)
        elif isinstance(priv, rsa.RSAPrivateKey):
            self.alg, self.hash = "RS256", hashes.SHA256()
        else:
            raise ValueError("unsupported key type")

    @classmethod
    def ec256(cls):
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def ec384(cls):
        return cls(ec.generate_private_key(ec.SECP384R1()))

    @classmethod
    def rsa2048(cls):
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, data):
        if isinstance(data, str):
            data = data.encode()
        return cls(serialization.load_pem_private_key(data, password=None))

    @classmethod
    def from_jwk(cls, jwk):
        """A private JWK (dict), e.g. certbot's accounts/.../private_key.json."""
        def i(name):
            return int.from_bytes(b64u_dec(jwk[name]), "big")
        if jwk["kty"] == "RSA":
            pub = rsa.RSAPublicNumbers(i("e"), i("n"))
            p, q, d = i("p"), i("q"), i("d")
            dp = i("dp") if "dp" in jwk else rsa.rsa_crt_dmp1(d, p)
            dq = i("dq") if "dq" in jwk else rsa.rsa_crt_dmq1(d, q)
            qi = i("qi") if "qi" in jwk else rsa.rsa_crt_iqmp(p, q)
            return cls(rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, pub).private_key())
        if jwk["kty"] == "EC":
            curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
            return cls(ec.derive_private_key(i("d"), curve))
        raise ValueError("unsupported JWK kty " + jwk["kty"])

    def pem(self):
        return self.priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode()

    def jwk(self):
        pub = self.priv.public_key().public_numbers()
        if self.alg.startswith("ES"):
            return {"crv": self.crv, "kty": "EC",
                    "x": b64u(_int_bytes(pub.x, self.size)),
                    "y": b64u(_int_bytes(pub.y, self.size))}
        return {"e": b64u(_int_bytes(pub.e)), "kty": "RSA", "n": b64u(_int_bytes(pub.n))}

    def thumbprint(self):
        return b64u(hashlib.sha256(jdump(self.jwk()).encode()).digest())

    def key_authorization(self, token):
        return token + "." + self.thumbprint()

    def sign(self, data):
        if self.alg.startswith("ES"):
            der = self.priv.sign(data, ec.ECDSA(self.hash))
            r, s = decode_dss_signature(der)
            return _int_bytes(r, self.size) + _int_bytes(s, self.size)
        return self.priv.sign(data, padding.PKCS1v15(), self.hash)


# ------------------------------------------------------------------ JWS
def make_jws(payload, key, url=None, nonce=None, kid=None, jwk=False, alg=None,
             extra=None, drop=(), pad_protected=False, flip_signature=False,
             hs256_secret=None, empty_signature=False):
    """Builds a flattened JWS (dict).

    payload: dict/list -> JSON; None -> "" (POST-as-GET); str -> used verbatim
    (already base64url, e.g. a nested JWS for keyChange is passed as dict).
    jwk=True puts key's JWK in the header; kid puts a kid; both may be set.
    extra: dict merged into the protected header (after the defaults).
    drop: header names removed from the protected header.
    pad_protected: encode the protected header with '=' padding (invalid).
    """
    prot = {"alg": alg or key.alg}
    if nonce is not None:
        prot["nonce"] = nonce
    if url is not None:
        prot["url"] = url
    if kid is not None:
        prot["kid"] = kid
    if jwk:
        prot["jwk"] = key.jwk()
    if extra:
        prot.update(extra)
    for d in drop:
        prot.pop(d, None)
    pjson = json.dumps(prot, separators=(",", ":"))
    if pad_protected:
        # make the encoding need padding: length not a multiple of 3
        while len(pjson.encode()) % 3 == 0:
            pjson += " "
        p64 = base64.urlsafe_b64encode(pjson.encode()).decode()
        assert p64.endswith("=")
    else:
        p64 = b64u(pjson)
    if payload is None:
        pl64 = ""
    elif isinstance(payload, str):
        pl64 = payload
    else:
        pl64 = b64u(json.dumps(payload, separators=(",", ":")))
    signing_input = (p64 + "." + pl64).encode()
    if empty_signature:
        sig = b""
    elif hs256_secret is not None:
        sig = hmac.new(hs256_secret, signing_input, hashlib.sha256).digest()
    else:
        sig = key.sign(signing_input)
    if flip_signature:
        b = bytearray(sig)
        b[len(b) // 2] ^= 0x01
        sig = bytes(b)
    return {"protected": p64, "payload": pl64, "signature": b64u(sig)}


# ---------------------------------------------------------------- client
class Client:
    def __init__(self, dir_url, ca, timeout=15):
        self.dir_url = dir_url
        self.ca = ca
        self.timeout = timeout
        self.s = requests.Session()
        # no REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (they would override verify) and no proxies
        self.s.trust_env = False
        self.s.verify = ca
        self.s.headers["User-Agent"] = "flint-e2e-acmelib/1"
        r = self.s.get(dir_url, timeout=timeout)
        check(r.status_code == 200, "GET directory: %d %s" % (r.status_code, r.text[:200]))
        self.directory = r.json()
        for k in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"):
            check(k in self.directory, "directory lacks %s: %s" % (k, r.text[:300]))
        self._nonce = None
        self.last = None
        self.missing_nonce = []  # successful POSTs answered without Replay-Nonce (RFC 8555 §6.5)
        self.missing_index = []  # ACME responses without Link rel="index" (RFC 8555 §7.1)

    def session(self):
        """A separate session (requests.Session is not shared between threads)."""
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca
        return s

    def url(self, name):
        return self.directory[name]

    def _track(self, r):
        self.last = r
        n = r.headers.get("Replay-Nonce")
        if n:
            self._nonce = n
        elif r.request.method == "POST" and 200 <= r.status_code < 300:
            self.missing_nonce.append("%s %d" % (r.request.url, r.status_code))
        if "/acme/" in r.request.url and r.status_code != 405 and "index" not in r.links:
            self.missing_index.append("%s %s %d" % (r.request.method, r.request.url, r.status_code))
        return r

    def new_nonce(self):
        r = self.s.head(self.directory["newNonce"], timeout=self.timeout)
        n = r.headers.get("Replay-Nonce")
        check(r.status_code == 200 and n, "HEAD newNonce: %d, Replay-Nonce=%r" % (r.status_code, n))
        return n

    def nonce(self):
        n, self._nonce = self._nonce, None
        return n or self.new_nonce()

    def get(self, url, **kw):
        return self._track(self.s.get(url, timeout=self.timeout, **kw))

    def head(self, url, **kw):
        return self._track(self.s.head(url, timeout=self.timeout, **kw))

    def post_raw(self, url, body, ctype=JOSE, headers=None):
        h = {"Content-Type": ctype}
        if headers:
            h.update(headers)
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self._track(self.s.post(url, data=data, headers=h, timeout=self.timeout))

    def post(self, url, payload, key, kid=None, jwk=None, nonce="auto", sign_url=None,
             ctype=JOSE, headers=None, **jws_kw):
        """Signed POST. kid=None and jwk=None -> jwk header. nonce="auto" fetches one."""
        if jwk is None:
            jwk = kid is None
        if nonce == "auto":
            nonce = self.nonce()
        body = make_jws(payload, key, url=sign_url or url, nonce=nonce, kid=kid, jwk=jwk, **jws_kw)
        return self.post_raw(url, body, ctype=ctype, headers=headers)


def problem(r):
    try:
        return r.json()
    except ValueError:
        return {}


def describe(r):
    return "%s %s -> %d %s %s" % (r.request.method, r.request.url, r.status_code,
                                  r.headers.get("Content-Type"), r.text[:300].replace("\n", " "))


def expect_problem(r, status, types, what=""):
    """Asserts an RFC 7807 problem response with one of `types` (short ACME names)."""
    if isinstance(types, str):
        types = [types]
    if isinstance(status, int):
        status = [status]
    p = problem(r)
    got_type = p.get("type", "")
    ct = r.headers.get("Content-Type", "")
    want_types = [ERR + t for t in types]
    check(r.status_code in status and got_type in want_types and
          ct.split(";")[0].strip().lower() == "application/problem+json",
          "%sexpected %s %s (application/problem+json), got %s" %
          (what + ": " if what else "", "/".join(map(str, status)), "|".join(types), describe(r)))
    return p


def expect_status(r, status, what=""):
    if isinstance(status, int):
        status = [status]
    check(r.status_code in status, "%sexpected HTTP %s, got %s" %
          (what + ": " if what else "", "/".join(map(str, status)), describe(r)))
    return r


# ----------------------------------------------------------------- account
class Account:
    def __init__(self, client, key=None):
        self.c = client
        self.key = key or Key.ec256()
        self.url = None
        self.body = None

    def register(self, contact=None, tos=True, expect=(200, 201), extra=None):
        payload = {"termsOfServiceAgreed": tos}
        if contact is not None:
            payload["contact"] = contact
        if extra:
            payload.update(extra)
        r = self.c.post(self.c.url("newAccount"), payload, self.key)
        if expect:
            expect_status(r, expect, "newAccount")
            loc = r.headers.get("Location")
            check(loc, "newAccount: no Location header: " + describe(r))
            self.url = loc
            self.body = r.json()
        return r

    def post(self, url, payload, **kw):
        return self.c.post(url, payload, self.key, kid=self.url, **kw)

    def get(self, url, **kw):
        return self.post(url, POST_AS_GET, **kw)

    def get_ok(self, url, what="POST-as-GET"):
        r = self.get(url)
        expect_status(r, 200, what + " " + url)
        return r

    def new_order(self, names, expect=201, identifiers=None):
        if identifiers is None:
            identifiers = [{"type": "dns", "value": n} for n in names]
        r = self.post(self.c.url("newOrder"), {"identifiers": identifiers})
        if expect:
            expect_status(r, expect, "newOrder %s" % names)
            check(r.headers.get("Location"), "newOrder: no Location: " + describe(r))
        return r

    def poll(self, url, done, timeout=30, interval=0.25, what="poll"):
        """POST-as-GET url until done(json) or timeout; returns the last json."""
        end = time.monotonic() + timeout
        last = None
        while True:
            r = self.get(url)
            expect_status(r, 200, what)
            last = r.json()
            if done(last):
                return last
            if time.monotonic() > end:
                raise TestFailure("%s: still %s after %ds: %s" %
                                  (what, last.get("status"), timeout, json.dumps(last)[:400]))
            time.sleep(interval)


# ----------------------------------------------------------- http-01 server
class _ChallHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server.owner
        pfx = "/.well-known/acme-challenge/"
        tok = self.path[len(pfx):] if self.path.startswith(pfx) else None
        with srv.lock:
            srv.requests.append((self.headers.get("Host"), self.path))
            body = srv.tokens.get(tok) if tok else None
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


class _TServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ChallServer:
    """Serves /.well-known/acme-challenge/TOKEN on 127.0.0.1:port (any Host)."""

    def __init__(self, port, host="127.0.0.1"):
        self.tokens = {}
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = _TServer((host, port), _ChallHandler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def set(self, token, body):
        with self.lock:
            self.tokens[token] = body

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# -------------------------------------------------------- issuance helpers
def make_csr(key, names, cn=None):
    b = x509.CertificateSigningRequestBuilder()
    b = b.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    csr = b.sign(key.priv, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def find_chall(authz, typ):
    for ch in authz.get("challenges", []):
        if ch.get("type") == typ:
            return ch
    raise TestFailure("authz has no %s challenge: %s" % (typ, json.dumps(authz)[:400]))


def validate_http01(acct, authz_url, chall_srv, body=None, timeout=30):
    """Answers the http-01 challenge of authz_url; returns the final authz json."""
    r = acct.get_ok(authz_url, "GET authz")
    authz = r.json()
    if authz.get("status") == "valid":
        return authz
    ch = find_chall(authz, "http-01")
    token = ch["token"]
    chall_srv.set(token, body if body is not None else acct.key.key_authorization(token))
    r = acct.post(ch["url"], {})
    expect_status(r, 200, "respond to challenge")
    return acct.poll(authz_url, lambda a: a.get("status") not in ("pending",), timeout,
                     what="authz " + authz_url)


def split_pem_certs(pem):
    return re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", pem, re.S)


def openssl_verify(root, leaf_pem, chain_pems):
    """openssl verify -CAfile root -untrusted chain leaf; returns (ok, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as lf, \
            tempfile.NamedTemporaryFile("w", suffix=".pem") as cf:
        lf.write(leaf_pem)
        lf.flush()
        cf.write("".join(chain_pems))
        cf.flush()
        args = ["openssl", "verify", "-CAfile", root]
        if chain_pems:
            args += ["-untrusted", cf.name]
        p = subprocess.run(args + [lf.name], capture_output=True, text=True, timeout=30)
        return p.returncode == 0, (p.stdout + p.stderr).strip()


def cert_names(pem):
    c = x509.load_pem_x509_certificate(pem.encode())
    try:
        san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted(san.get_values_for_type(x509.DNSName))


def finalize(acct, order_url, order, csr_der, timeout=30):
    """Finalizes a ready order and polls it to valid; returns the order json."""
    r = acct.post(order["finalize"], {"csr": b64u(csr_der)})
    expect_status(r, 200, "finalize")
    body = r.json()
    check(body.get("status") in ("processing", "valid"),
          "finalize response status %r (want processing|valid)" % body.get("status"))
    if body.get("status") != "valid":
        body = acct.poll(order_url, lambda o: o.get("status") != "processing", timeout,
                         what="order " + order_url)
    check(body.get("status") == "valid", "order ended %s: %s" % (body.get("status"), json.dumps(body)[:400]))
    check(body.get("certificate"), "valid order without certificate URL")
    return body


def download_cert(acct, cert_url):
    r = acct.post(cert_url, POST_AS_GET, headers={"Accept": "application/pem-certificate-chain"})
    expect_status(r, 200, "download certificate")
    ct = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
    check(ct == "application/pem-certificate-chain",
          "certificate Content-Type %r (want application/pem-certificate-chain)" % ct)
    return r.text


def issue(acct, names, chall_srv, root=None, cert_key=None, timeout=30):
    """Full issuance with http-01. Returns dict(order_url, order, pem, certs, key, der)."""
    cert_key = cert_key or Key.ec256()
    r = acct.new_order(names)
    order_url = r.headers["Location"]
    order = r.json()
    for az in order["authorizations"]:
        a = validate_http01(acct, az, chall_srv, timeout=timeout)
        check(a.get("status") == "valid", "authz %s ended %s: %s" % (az, a.get("status"), json.dumps(a)[:400]))
    order = acct.poll(order_url, lambda o: o.get("status") != "pending", timeout, what="order to ready")
    check(order.get("status") == "ready", "order not ready after authz valid: %s" % json.dumps(order)[:400])
    order = finalize(acct, order_url, order, make_csr(cert_key, names), timeout)
    pem = download_cert(acct, order["certificate"])
    certs = split_pem_certs(pem)
    check(len(certs) >= 2, "certificate chain has %d certificates (want leaf + intermediate)" % len(certs))
    check(cert_names(certs[0]) == sorted(names), "leaf SANs %s != %s" % (cert_names(certs[0]), sorted(names)))
    if root:
        ok, out = openssl_verify(root, certs[0], certs[1:])
        check(ok, "openssl verify failed: " + out)
    der = x509.load_pem_x509_certificate(certs[0].encode()).public_bytes(serialization.Encoding.DER)
    return {"order_url": order_url, "order": order, "pem": pem, "certs": certs, "key": cert_key, "der": der}


def cert_serial_hex(pem):
    return "%X" % x509.load_pem_x509_certificate(pem.encode()).serial_number


# ------------------------------------------------------------- case runner
class Runner:
    """Runs named cases; prints 'ok NAME' / 'FAIL NAME: detail'."""

    def __init__(self, only=None):
        self.failed = []
        self.passed = []
        self.only = set(only or [])

    def run(self, name, fn, *a, **kw):
        if self.only and name not in self.only:
            return None
        t0 = time.monotonic()
        try:
            res = fn(*a, **kw)
        except TestFailure as e:
            self.failed.append(name)
            print("FAIL %s: %s" % (name, e), flush=True)
            return None
        except Exception as e:  # noqa: BLE001 - report anything as a failure of the case
            self.failed.append(name)
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            return None
        note = ""
        if isinstance(res, str) and res:
            note = " (%s)" % res
        print("ok %s%s [%.2fs]" % (name, note, time.monotonic() - t0), flush=True)
        self.passed.append(name)
        return res if res is not None else True

    def summary(self):
        print("summary: %d passed, %d failed%s" % (len(self.passed), len(self.failed),
              (": " + " ".join(self.failed)) if self.failed else ""), flush=True)
        return 1 if self.failed else 0
