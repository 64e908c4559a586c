"""Shared helpers for llmtap's integration tests (standard library only).

Each test starts the real binaries from the build's bin/ directory (given
as LLMTAP_BIN), on free loopback ports, with a fresh data directory, and
stops them at the end. Waits are polls on a condition with a deadline,
never fixed sleeps.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = os.environ.get("LLMTAP_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))


def log(*a):
    print(*a, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, interval=0.05, procs=()):
    """Polls cond() until it returns a truthy value; fails after timeout seconds,
    or at once when one of procs has exited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for p in procs:
            if not p.alive():
                raise AssertionError(f"{p.name} exited ({p.p.returncode}) while waiting for {what}:\n"
                                     f"{p.output()[-3000:]}")
        try:
            last = cond()
            if last:
                return last
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Http:
    """A keep-alive HTTP client for one host:port."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def get_json(self, path):
        st, data = self.request("GET", path)
        return st, json.loads(data) if data else None

    def post(self, path, body, content_type="application/json"):
        hdrs = {"Content-Type": content_type} if content_type else {}
        if isinstance(body, str):
            body = body.encode()
        st, data = self.request("POST", path, body=body, headers=hdrs)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def metrics(self):
        st, data = self.request("GET", "/metrics")
        assert st == 200, st
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, val = line.rpartition(" ")
                out[name] = float(val)
        return out


class Proc:
    def __init__(self, name, args, logdir, env=None):
        self.name = name
        self.logname = os.path.join(logdir, f"{name}.log")
        with open(self.logname, "ab") as logf:
            self.p = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                      env={**os.environ, **(env or {})})

    def output(self):
        with open(self.logname, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError(f"{self.name} did not stop within {timeout}s\n{self.output()[-3000:]}")
        return self.p.returncode

    def dump(self):
        log(f"----- {self.name} log (last 4000 bytes) -----")
        log(self.output()[-4000:])


class Stack:
    """A collector (with --dev, or pointed at brokers) plus an agent."""

    def __init__(self, brokers=None, agent=True, collector_args=(), agent_args=()):
        self.tmp = tempfile.mkdtemp(prefix="llmtap-it-")
        self.procs = []
        self.cport = free_port()
        cargs = [f"{BIN}/llmtap-collector", "--listen", f"127.0.0.1:{self.cport}",
                 "--data-dir", os.path.join(self.tmp, "data"), *collector_args]
        if brokers:
            cargs += ["--kafka-brokers", brokers]
        else:
            cargs += ["--dev"]
        self.collector = self._start("collector", cargs)
        self.c = Http(self.cport)
        wait_for(lambda: self.c.request("GET", "/healthz")[0] == 200, 30, "collector /healthz",
                 procs=[self.collector])
        if not brokers:
            addr_file = os.path.join(self.tmp, "data", "dev-broker.addr")
            brokers = wait_for(lambda: os.path.exists(addr_file) and open(addr_file).read().strip(),
                               30, "dev-broker.addr")
        self.brokers = brokers
        self.agent = None
        if agent:
            self.aport = free_port()
            self.agent = self._start("agent", [f"{BIN}/llmtap-agent", "--listen",
                                               f"127.0.0.1:{self.aport}", "--kafka-brokers",
                                               brokers, "--spool-dir",
                                               os.path.join(self.tmp, "spool"), *agent_args])
            self.a = Http(self.aport)
            wait_for(lambda: self.a.request("GET", "/healthz")[0] == 200, 30, "agent /healthz",
                     procs=[self.agent])

    def _start(self, name, args):
        p = Proc(name, args, self.tmp)
        self.procs.append(p)
        return p

    def stored_count(self):
        return int(self.c.metrics().get("llmtap_store_events", 0))

    def wait_stored(self, n, timeout=120):
        return wait_for(lambda: self.stored_count() >= n, timeout, f"{n} events stored", 0.2,
                        procs=self.procs)

    def stop(self, failed=False):
        rcs = {}
        for p in reversed(self.procs):
            try:
                rcs[p.name] = p.stop()
            except AssertionError as e:
                log(e)
                failed = True
            if failed or rcs.get(p.name):
                p.dump()
        if failed:
            log(f"logs and data kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return rcs

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        rcs = self.stop(failed=et is not None)
        if et is None:
            for name, rc in rcs.items():
                assert rc == 0, f"{name} exited with {rc}"


def kafkatool(*args, stdin=None):
    r = subprocess.run([f"{BIN}/llmtap-kafkatool", *args], input=stdin, capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"kafkatool {args} failed: {r.stderr.decode()[-2000:]}")
    return r.stdout


def produce_raw(brokers, topic, payloads, key="test"):
    lines = b"".join(base64.b64encode(p) + b"\n" for p in payloads)
    kafkatool("produce", "--brokers", brokers, "--topic", topic, "--key", key, stdin=lines)


def consume(brokers, topic, count, timeout=60):
    out = kafkatool("consume", "--brokers", brokers, "--topic", topic, "--count", str(count),
                    "--timeout", str(timeout))
    msgs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    for m in msgs:
        m["value"] = base64.b64decode(m.pop("value_b64"))
    return msgs


def run_sim(target, count, seed, out, batch=100, rate=0):
    r = subprocess.run([f"{BIN}/llmtap-sim", "traffic", "--target", target, "--count", str(count),
                        "--rate", str(rate), "--duration", "600", "--seed", str(seed), "--batch",
                        str(batch), "--out", out], capture_output=True, timeout=600)
    log(r.stdout.decode().strip()[-500:], r.stderr.decode().strip()[-500:])
    assert r.returncode == 0, f"llmtap-sim failed ({r.returncode})"


def read_ndjson(path):
    with open(path, "rb") as f:
        return [json.loads(l) for l in f if l.strip()]


def compare_all(stack, sent):
    """Every sent event is readable by id and equal field for field."""
    mismatches = 0
    for ev in sent:
        st, got = stack.c.get_json("/api/v1/events/" + urllib.parse.quote(ev["id"]))
        if st != 200 or got != ev:
            mismatches += 1
            if mismatches <= 3:
                log("MISMATCH", ev["id"], st, json.dumps(got)[:300], "\nwant", json.dumps(ev)[:300])
    return mismatches


SDK_VENV = os.path.join(SRC, "tests", ".venv-sdk")


def sdk_python():
    """A virtualenv with the pinned official SDKs (tests/integration/
    requirements-sdk.txt), created once and reused while the pins are
    unchanged. Returns its python."""
    import fcntl
    req = os.path.join(SRC, "tests", "integration", "requirements-sdk.txt")
    want = open(req).read()
    stamp = os.path.join(SDK_VENV, "requirements.txt")
    py = os.path.join(SDK_VENV, "bin", "python")
    os.makedirs(os.path.dirname(SDK_VENV), exist_ok=True)
    with open(SDK_VENV + ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if not (os.path.exists(stamp) and open(stamp).read() == want and os.path.exists(py)):
            log("creating", SDK_VENV, "with", " ".join(l for l in want.splitlines()
                                                        if l and not l.startswith("#")))
            subprocess.run([sys.executable, "-m", "venv", "--clear", SDK_VENV], check=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "-r", req], check=True, timeout=900)
            with open(stamp, "w") as f:
                f.write(want)
    return py


def in_sdk_venv():
    """Re-runs the calling script under the SDK virtualenv's python (once)."""
    if os.environ.get("LLMTAP_IN_SDK_VENV") == "1":
        return
    py = sdk_python()
    sys.stdout.flush()
    os.execve(py, [py, *sys.argv], {**os.environ, "LLMTAP_IN_SDK_VENV": "1"})


def main(test):
    """Runs test() and prints the plain closing line."""
    try:
        test()
    except Exception:
        import traceback
        traceback.print_exc()
        print("0 passed, 1 failed")
        sys.exit(1)
    print("1 passed, 0 failed")


# ---- helpers for the store's fault, backup and verify tests ----------------

def kafka_broker():
    """Starts (or finds running) the real Kafka broker of tests/kafka/kafka.sh;
    returns its bootstrap address."""
    out = subprocess.run([os.path.join(SRC, "tests/kafka/kafka.sh"), "start"], capture_output=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    return out.stdout.decode().strip().splitlines()[-1]


def collector_cmd(*args, timeout=600):
    """Runs `llmtap-collector ARGS` (a subcommand: backup, verify); returns
    (exit status, stdout + stderr as text)."""
    r = subprocess.run([f"{BIN}/llmtap-collector", *args], capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def verify_store(data_dir, *args):
    """Runs `llmtap-collector verify` on data_dir; returns (exit status, the
    numbers of its last line as a dict, the whole output)."""
    rc, out = collector_cmd("verify", "--data-dir", data_dir, *args)
    nums = {}
    for line in out.splitlines():
        if line.startswith("verify: "):
            nums = {k: int(v) for k, v in (kv.split("=") for kv in line[8:].split())}
    return rc, nums, out


def metric(http, name, default=0.0):
    return http.metrics().get(name, default)


def missing_ids(http, ids):
    """The ids that GET /api/v1/events/{id} does not answer with 200."""
    return [i for i in ids if http.request("GET", "/api/v1/events/" + urllib.parse.quote(i))[0] != 200]


def corrupt_record(path, ids):
    """Flips the first 4 bytes of the body of the records of the first id
    among ids found in the LMDB file path (a record: version 1, flags, 2
    zero bytes, …, 56 fixed bytes, then the id as LE u16 length + bytes,
    then service, model, provider, operation the same way, then the body;
    see docs/storage.md). For a zstd body that destroys the frame's magic;
    for a raw one the JSON's opening brace. Every copy of that record in
    the file is hit: LMDB leaves stale copies of moved nodes in the unused
    part of a page, and the first copy found may be such a leftover, which
    nothing reads. Returns the id whose record was hit."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    for ev_id in ids:
        b = ev_id.encode()
        pos = data.find(b)
        hits = 0
        while pos >= 0:
            h = pos - 58
            if (h >= 0 and data[h] == 1 and data[h + 1] in (0, 1) and data[h + 2:h + 4] == b"\0\0"
                    and data[pos - 2:pos] == len(b).to_bytes(2, "little")):
                o = pos + len(b)
                for _ in range(4):
                    o += 2 + int.from_bytes(data[o:o + 2], "little")
                for j in range(o, min(o + 4, len(data))):
                    data[j] ^= 0xFF
                hits += 1
            pos = data.find(b, pos + 1)
        if hits:
            with open(path, "r+b") as f:
                f.write(data)
            return ev_id
    raise AssertionError("no record of the given ids found in " + path)


# ---- helpers for the OTLP tests ---------------------------------------------

class SimUpstream:
    """`llmtap-sim upstream` on a free loopback port (an OpenAI/Anthropic
    simulator whose answers are a pure function of seed, path and body);
    .addr is its HOST:PORT. Its log goes to tmp/upstream.log."""

    def __init__(self, tmp, seed=7):
        self.log = open(os.path.join(tmp, "upstream.log"), "wb")
        self.p = subprocess.Popen([f"{BIN}/llmtap-sim", "upstream", "--listen", "127.0.0.1:0",
                                   "--seed", str(seed)], stdout=subprocess.PIPE, stderr=self.log)
        line = self.p.stdout.readline().decode().strip()
        assert line.startswith("upstream: "), f"llmtap-sim upstream said {line!r}"
        self.addr = line.split(" ", 1)[1]

    def stop(self):
        self.p.terminate()
        self.p.wait(30)
        self.log.close()


def events_of(stack, service, n, timeout=60):
    """Waits until the collector holds at least n events of service; returns
    them in full (GET /api/v1/events/{id}), as a list."""
    def listed():
        code, lst = stack.c.get_json(f"/api/v1/events?service={urllib.parse.quote(service)}"
                                     "&limit=100")
        return code == 200 and lst and len(lst) >= n and lst
    lst = wait_for(listed, timeout, f"{n} events of {service}", 0.1, procs=stack.procs)
    out = []
    for item in lst:
        st, ev = stack.c.get_json("/api/v1/events/" + urllib.parse.quote(item["id"]))
        assert st == 200, (st, item)
        out.append(ev)
    return out
