"""The collector's API behind bearer tokens, basic auth and TLS.

A self-signed certificate (openssl) and an auth file with a read token, a
write token and a basic-auth user; then, over HTTPS: /healthz and /readyz
open, everything else refused without credentials (401 with
WWW-Authenticate), with wrong ones (401), and allowed with each right one;
promtool (the Prometheus API client) with basic auth and the certificate
as its CA; refusals counted by reason; an
auth file readable by others refused at start-up.
"""
import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import urllib.parse

from llmtap_it import BIN, Proc, free_port, log, main, wait_for

READ_TOKEN = "read-0123456789abcdef"
WRITE_TOKEN = "write-0123456789abcdef"
USER, PASSWORD = "grafana", "correct horse battery"


class Https:
    def __init__(self, port, cafile):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)

    def request(self, path, headers=None, method="GET", body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def test():
    tmp = tempfile.mkdtemp(prefix="llmtap-it-auth-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    auth = os.path.join(tmp, "auth.yaml")
    write_private(auth, f"""tokens:
  - token: "{READ_TOKEN}"
    scope: read
  - token: "{WRITE_TOKEN}"
    scope: write
users:
  - username: {USER}
    password: "{PASSWORD}"
    scope: read
""")
    port = free_port()
    args = [f"{BIN}/llmtap-collector", "--dev", "--listen", f"127.0.0.1:{port}", "--data-dir",
            os.path.join(tmp, "data"), "--auth-file", auth, "--tls-cert-file", cert,
            "--tls-key-file", key]
    c = Proc("collector", args, tmp)
    procs = [c]
    try:
        h = Https(port, cert)
        wait_for(lambda: h.request("/healthz")[0] == 200, 30, "collector /healthz over TLS",
                 procs=procs)
        q = "/api/v1/query?" + urllib.parse.urlencode({"query": "1+1", "time": "4"})

        st, hdrs, body = h.request(q)
        log("no credentials:", st, body.decode().strip())
        assert st == 401 and "Basic" in hdrs.get("WWW-Authenticate", ""), (st, hdrs)
        assert h.request(q, bearer("read-0123456789abcdeX"))[0] == 401
        assert h.request(q, bearer("x"))[0] == 401
        assert h.request(q, basic(USER, PASSWORD + "x"))[0] == 401
        assert h.request(q, basic("nobody", PASSWORD))[0] == 401
        assert h.request(q, {"Authorization": "Basic !!!"})[0] == 401
        for name, hd in (("read token", bearer(READ_TOKEN)), ("write token", bearer(WRITE_TOKEN)),
                         ("basic user", basic(USER, PASSWORD))):
            st, _, body = h.request(q, hd)
            assert st == 200, (name, st, body)
            assert json.loads(body)["data"] == {"resultType": "scalar", "result": [4, "2"]}, body
        # Grafana's form POST with basic auth; the events API and /metrics need read too.
        st, _, body = h.request("/api/v1/query", {**basic(USER, PASSWORD), "Content-Type":
                                                  "application/x-www-form-urlencoded"},
                                "POST", "query=1%2B1&time=4")
        assert st == 200, (st, body)
        assert h.request("/api/v1/events?limit=1")[0] == 401
        assert h.request("/api/v1/events?limit=1", bearer(READ_TOKEN))[0] == 200
        assert h.request("/metrics")[0] == 401
        assert h.request("/readyz")[0] in (200, 503)

        # promtool, the Prometheus API client (2.42 takes basic auth in the
        # URL and, being Go, the CA from SSL_CERT_FILE).
        env = {**os.environ, "SSL_CERT_FILE": cert}
        pw = urllib.parse.quote(PASSWORD)
        r = subprocess.run(["promtool", "query", "instant", f"https://{USER}:{pw}@127.0.0.1:{port}",
                            "1+1"], capture_output=True, timeout=60, env=env)
        log("promtool (basic auth):", r.stdout.decode().strip(), r.stderr.decode().strip())
        assert r.returncode == 0 and r.stdout.decode().strip().startswith("scalar: 2 @"), r
        r = subprocess.run(["promtool", "query", "instant", f"https://127.0.0.1:{port}", "1+1"],
                           capture_output=True, timeout=60, env=env)
        log("promtool (no credentials):", r.returncode, r.stderr.decode().strip()[-200:])
        assert r.returncode != 0 and "401" in r.stderr.decode() + r.stdout.decode(), r
        r = subprocess.run(["promtool", "query", "instant", f"https://{USER}:{pw}@127.0.0.1:{port}",
                            "1+1"], capture_output=True, timeout=60)
        assert r.returncode != 0, r  # without the CA: the certificate is not trusted

        # Plain HTTP to the TLS port gets no answer.
        pc = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            pc.request("GET", "/healthz")
            plain = pc.getresponse().status
        except (ConnectionError, http.client.HTTPException, OSError):
            plain = None
        assert plain in (None, 400), plain

        st, _, body = h.request("/metrics", bearer(READ_TOKEN))
        m = {}
        for line in body.decode().splitlines():
            if line.startswith("llmtap_http_auth_failures_total{"):
                k, v = line.rsplit(" ", 1)
                m[k] = float(v)
        log("refusals:", m)
        assert m['llmtap_http_auth_failures_total{reason="missing"}'] == 4, m
        assert m['llmtap_http_auth_failures_total{reason="wrong"}'] == 5, m
        assert c.stop() == 0
        procs.remove(c)

        # An auth file others can read is refused at start-up, naming it.
        os.chmod(auth, 0o644)
        r = subprocess.run(args[:1] + ["--dev", "--listen", f"127.0.0.1:{free_port()}",
                                       "--data-dir", os.path.join(tmp, "data2"), "--auth-file",
                                       auth], capture_output=True, timeout=30)
        err = r.stderr.decode()
        log("world-readable auth file:", r.returncode, err.strip()[-300:])
        assert r.returncode == 2 and auth in err and "chmod 600" in err, (r.returncode, err)
        assert READ_TOKEN not in err and PASSWORD not in err
    except BaseException:
        for p in procs:
            p.stop()
            p.dump()
        log(f"logs kept in {tmp}")
        raise


if __name__ == "__main__":
    main(test)
