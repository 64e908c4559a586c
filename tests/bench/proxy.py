#!/usr/bin/env python3
"""tests/bench/proxy.py — the proxy benchmark (run through tests/bench/proxy.sh).

What it measures, on one machine, with the real binaries:

  The same request everywhere: POST /v1/chat/completions, an OpenAI chat
  request of BENCH_BODY_BYTES (default 4096) bytes of JSON (a support
  assistant's system prompt with retrieved documents, an earlier turn, a
  question), `Authorization: Bearer sk-bench-…`, x-llmtap-service. The
  upstream is `llmtap-sim upstream`, whose answer is a pure function of the
  body, so every configuration gets the same bytes back (checked once).

  Three configurations, all started before the first measurement and left
  running throughout, so each is measured with the same processes present:
    (1) direct: the client talks to llmtap-sim upstream;
    (2) nginx: `proxy_pass` to an upstream block with `keepalive 64`,
        HTTP/1.1 and `Connection ""` (kept-alive upstream connections),
        `proxy_buffering off` (so a stream is relayed as it arrives, as the
        agent does), access_log off, worker_processes BENCH_NGINX_WORKERS
        (default 1), run as the current user from a temporary prefix;
    (3) agent: llmtap-agent with capture on, shipping each call's event to
        Kafka; the broker is the embedded one of `llmtap-collector --dev`.

  1. One request at a time (BENCH_SERIAL, default 300 per configuration,
     the configurations taken in turn): a small client of its own (raw
     socket, time.perf_counter_ns) gives the latency of a lone call,
     i.e. what a proxy adds with no queueing.
  2. Streaming (BENCH_STREAMS, default 200 per configuration, in turn): the
     same request with "stream": true and x-sim-ttft-ms: 20,
     x-sim-chunks: 20, x-sim-chunk-interval-ms: 5. The client timestamps
     each SSE event as it is received: time to first token (first event
     with content) and the gaps between content events; median and p99 of
     each, and what (2) and (3) add to (1).
  3. wrk --latency, BENCH_CONNECTIONS (default 32) connections,
     BENCH_THREADS (default 2) threads, BENCH_DURATION (default 10s) after
     a BENCH_WARMUP (default 2s) warm-up run with the same settings, the
     request posted by a Lua script. Two comparisons of the three
     configurations, each giving rate, p50, p99, the latency (2) and (3) add
     to (1) at p50 and p99, and agent/nginx of those (the targets):
     a. paced: each connection pauses between an answer and its next
        request (wrk's delay()), so that every configuration is offered
        about BENCH_RATE (default 5100) req/s; the pause is calibrated on
        the warm-up. The same load for all three: the latencies compare
        the work per request, not how fast each saturates the CPUs.
     b. closed loop, as wrk usually runs: every connection sends its next
        request as soon as it has an answer, so each configuration runs at
        the rate it sustains, the CPUs are saturated, and p50 is roughly
        connections / rate: the added latency there is mostly the proxy's
        CPU cost per request, and p99 is the scheduler's.
  4. The agent under load: besides the runs of step 3, closed-loop runs at
     each of BENCH_LOAD_CONNECTIONS (default "128"), in ascending order.
     VmRSS from /proc/PID/status is sampled every 100 ms: its peak per run,
     VmHWM at the end, and the rate wrk achieved. "RSS at >= 5,000 req/s"
     is the run whose rate is the lowest of those at 5,000 req/s or more
     (normally the paced one); "at the max rate" is the fastest run. Idle
     RSS is read after start-up (once VmRSS has not moved for a second),
     before any request. CPU per request: utime+stime (/proc/PID/stat, all
     threads; for nginx the master and its workers) over a measured wrk run
     divided by the requests wrk completed.
  5. Capture check: the agent's /metrics llmtap_agent_proxy_captured_total
     against the number of requests sent to it (warm-ups included), the
     drops by reason, and (after waiting for the producer to drain) the
     events delivered to Kafka. A proxy that stopped capturing would make
     the latency figures meaningless, so this is printed with them.
  Noise: the CPU taken by processes outside the benchmark (/proc/stat
  user+nice+system+steal time minus that of the benchmark's processes, wrk
  and this driver) is measured for one second before the start and during
  each measured wrk run, and printed with a warning above 0.1 core.
  6. A table of the figures against the targets: added p50 of the agent
     <= nginx's; added p99 <= 1.5 x nginx's; agent RSS <= 8 MiB idle and
     <= 32 MiB at 5,000 req/s. Figures never fail the run: the exit status
     is 0 unless something broke (a process failed to start or exited
     early, a configuration answered something other than 200, an exit
     status on SIGTERM was not 0).

Environment:
  BENCH_DURATION          wrk measured run per configuration (10s; wrk syntax: 10s, 1m)
  BENCH_WARMUP            wrk warm-up run before each measured run (2s; 0 = none)
  BENCH_CONNECTIONS       wrk connections for the comparison (32)
  BENCH_THREADS           wrk threads (2)
  BENCH_RATE              offered rate of the paced runs, req/s (5100; 0 = no paced runs)
  BENCH_LOAD_CONNECTIONS  further closed-loop agent runs, blank-separated connection counts ("128")
  BENCH_SERIAL            one-at-a-time non-streaming requests per configuration (300)
  BENCH_STREAMS           streaming requests per configuration (200)
  BENCH_STREAM_TTFT_MS, BENCH_STREAM_CHUNKS, BENCH_STREAM_INTERVAL_MS
                          the upstream's pacing of a stream (20, 20, 5)
  BENCH_BODY_BYTES        size of the request body (4096)
  BENCH_NGINX_WORKERS     nginx worker_processes (1; "auto" = one per CPU)
  BENCH_STORE=1           the agent writes to the collector's topic, so the collector also parses
                          and stores every event on the same CPUs (default: a topic of its own on
                          the dev broker that nobody consumes; the broker still takes every event)
  BENCH_UPSTREAM_ARGS     extra llmtap-sim upstream flags (split on blanks)
  BENCH_AGENT_ARGS        extra llmtap-agent flags (split on blanks)
  BENCH_KEEP=1            keep the temporary directory (configs, logs, wrk output)

Standard library only. Waits are polls with deadlines, never fixed sleeps.
"""
import http.client
import json
import math
import os
import pwd
import grp
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_P50_RATIO = 1.0   # agent's added p50 <= nginx's added p50
TARGET_P99_RATIO = 1.5   # agent's added p99 <= 1.5 x nginx's added p99
TARGET_RSS_IDLE = 8.0    # MiB
TARGET_RSS_LOAD = 32.0   # MiB, at >= LOAD_RATE req/s
LOAD_RATE = 5000         # req/s
API_KEY = "sk-bench-" + "7Qm2xRk9Lw4Tz8Vb3Nc6Hd1Fp5Js0Gy"
SERVICE = "bench-proxy"
PATH = "/v1/chat/completions"
CONFIGS = ("direct", "nginx", "agent")


class Broke(Exception):
    """Something the benchmark needs failed (not a slow figure)."""


def say(*a):
    print(*a, flush=True)


def env_int(name, default, lo=0):
    v = os.environ.get(name, "").strip()
    try:
        x = int(v) if v else default
    except ValueError:
        raise Broke(f"{name}={v!r} is not an integer")
    if x < lo:
        raise Broke(f"{name} must be at least {lo}")
    return x


def env_duration(name, default):
    """A wrk duration (10, 10s, 2m, 1h); returns (wrk spelling, seconds)."""
    v = os.environ.get(name, "").strip() or default
    m = re.fullmatch(r"(\d+)([smh]?)", v)
    if not m:
        raise Broke(f"{name}={v!r}: want a wrk duration such as 10s, 90s or 2m")
    return v, int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, q):
    """Nearest-rank percentile of a list (q in 0..100)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def fmt_ms(x):
    if x is None or x != x:
        return "?"
    return f"{x:.3f} ms" if abs(x) < 10 else f"{x:.1f} ms"


def fmt_int(x):
    return f"{x:,.0f}"


# --------------------------------------------------------------------------- /proc

def proc_stat_cpu(pid):
    """utime+stime of every thread of pid, in seconds (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_tree(pid):
    """CPU seconds of pid and its child processes (nginx: master + workers)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        c = proc_stat_cpu(p)
        total += c or 0.0
    return total


def system_busy():
    """CPU seconds all CPUs have spent in processes since boot, plus steal
    (/proc/stat user, nice, system, steal). Interrupt and softirq time is
    left out: most of it is the loopback traffic of the benchmark itself,
    which no process is charged for."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[7]) / os.sysconf("SC_CLK_TCK")


def own_cpu(r):
    """CPU seconds of everything this benchmark runs: its processes (with
    children), itself and its waited-for children (wrk)."""
    import resource
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    return (sum(cpu_tree(p.pid) for p in r.procs.values()) + kids.ru_utime + kids.ru_stime
            + me.ru_utime + me.ru_stime)


def vm_status(pid):
    """{'VmRSS': KiB, 'VmHWM': KiB, ...} of pid, or {} if it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    out[k] = int(v.split()[0])
    except (OSError, ValueError):
        pass
    return out


# --------------------------------------------------------------------------- processes

class Proc:
    """A child in its own session (a terminal's Ctrl-C reaches only us), logging to a file."""

    def __init__(self, name, args, tmp, stdout_pipe=False):
        self.name = name
        self.args = args
        self.logname = os.path.join(tmp, f"{name}.log")
        self.logf = open(self.logname, "ab")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE if stdout_pipe else self.logf,
                                  stderr=self.logf, start_new_session=True)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=3000):
        try:
            with open(self.logname, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def check(self):
        if not self.alive():
            raise Broke(f"{self.name} exited ({self.p.returncode}):\n{self.tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals, waits; SIGKILL after timeout. Returns the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                self.logf.close()
                raise Broke(f"{self.name} did not exit within {timeout}s of signal {sig}")
        self.logf.close()
        return self.p.returncode


def wait_for(cond, timeout, what, procs=(), interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for p in procs:
            p.check()
        try:
            last = cond()
            if last:
                return last
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(interval)
    raise Broke(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http_get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def metrics(port):
    """{name: {labels: value}} from a Prometheus text page."""
    st, body = http_get(port, "/metrics")
    if st != 200:
        raise Broke(f"/metrics on port {port} answered {st}")
    out = {}
    for line in body.decode(errors="replace").splitlines():
        if not line or line[0] == "#":
            continue
        name, _, val = line.rpartition(" ")
        name, _, labels = name.partition("{")
        try:
            out.setdefault(name, {})[labels.rstrip("}")] = float(val)
        except ValueError:
            pass
    return out


def msum(m, name):
    return sum(m.get(name, {}).values())


# --------------------------------------------------------------------------- the request

# A support assistant's call as an application would make it: system prompt
# with retrieved documents, one earlier turn, a question. Written for this
# benchmark; the last document is cut to make the body exactly the size asked.
SYSTEM = (
    "You are Relay, the customer support assistant of Harbor Lane Freight, a parcel and pallet "
    "carrier. Answer only from the documents below; if they do not answer the question, say so "
    "and offer to open a ticket. Keep answers under 150 words, use plain language, never promise "
    "delivery dates that the tracking data does not show, and never ask for payment details in "
    "chat. Quote tracking numbers exactly as the customer wrote them."
)
DOCS = [
    ("kb-114", "tracking", "A parcel shows 'label created' until the first scan at a depot. This can "
     "take up to 24 hours after the sender prints the label. If there is no scan after 48 hours, the "
     "sender should confirm that the parcel was handed over; support can open a trace after 72 hours."),
    ("kb-207", "customs", "Shipments from outside the customs union may be held for duties and import "
     "VAT. The recipient receives an email with a payment link from Harbor Lane; the parcel moves again "
     "within one working day of payment. Unpaid charges after 14 days return the parcel to the sender."),
    ("kb-031", "delivery-options", "Recipients can redirect a parcel to a pickup point, choose a safe "
     "place, or pick another day up to 18:00 on the day before delivery. Pallets cannot be redirected "
     "to pickup points. Changes are free for the first request and 2.50 EUR for each later one."),
    ("kb-388", "damaged-goods", "Damage must be reported within 7 days of delivery with photos of the "
     "outer packaging, the inner packaging and the item. Keep all packaging until the claim is closed. "
     "Claims are decided within 10 working days; refunds go to the sender, who was the paying customer."),
]
PAD_SOURCE = (
    "Opening hours of the support line are 08:00 to 20:00 on working days and 09:00 to 14:00 on "
    "Saturdays. Depots scan parcels on arrival and on departure; a parcel that stays at one depot for "
    "more than two days is checked by the depot team, who add a note to the tracking history. "
    "Weekend deliveries are offered in large cities only, and only for parcels up to 20 kg. "
)
EARLIER_Q = "Hi, my parcel HL-4471-2290-DE has said 'in customs' since Monday. What do I do?"
EARLIER_A = ("Parcels from outside the customs union can be held for duties and import VAT. You should "
             "have an email from Harbor Lane with a payment link; once it is paid, the parcel moves "
             "again within one working day.")
QUESTION = ("I paid the import VAT yesterday afternoon but the tracking still says held in customs. "
            "Also, can I send it to the pickup point on Kastanienallee instead of my home address? "
            "I will be away on Thursday.")


def make_body(size, stream):
    def build(pad):
        ctx = "".join(f'\n<doc id="{i}" topic="{t}">{x}</doc>' for i, t, x in DOCS)
        ctx += f'\n<doc id="kb-512" topic="general">{pad}</doc>'
        body = {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": SYSTEM + "\n\nDocuments:" + ctx},
                {"role": "user", "content": EARLIER_Q},
                {"role": "assistant", "content": EARLIER_A},
                {"role": "user", "content": QUESTION},
            ],
            "temperature": 0.2,
            "max_tokens": 300,
            "user": "cust-88213",
        }
        if stream:
            body["stream"] = True
        return json.dumps(body, separators=(",", ":")).encode()

    need = size - len(build(""))
    if need < 0:
        raise Broke(f"BENCH_BODY_BYTES={size} is smaller than the request without padding ({size - need} B)")
    pad = (PAD_SOURCE * (need // len(PAD_SOURCE) + 1))[:need]
    out = build(pad)
    assert len(out) == size, (len(out), size)
    return out


def request_bytes(body, extra_headers=()):
    head = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: llmtap-bench-proxy",
            "Accept: application/json", "Content-Type: application/json",
            f"Authorization: Bearer {API_KEY}", f"x-llmtap-service: {SERVICE}",
            *extra_headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# --------------------------------------------------------------------------- the timing client

class Response:
    """An HTTP/1.1 response parsed as it arrives; SSE events timestamped by arrival."""

    def __init__(self):
        self.raw = bytearray()
        self.state = "head"
        self.status = None
        self.headers = {}
        self.body = bytearray()
        self.sse = False
        self.pending = bytearray()
        self.events = []  # (t_ns, event bytes)
        self.left = 0
        self.done = False
        self.t_head = self.t_end = None

    def body_data(self, b, t):
        self.body += b
        if self.sse:
            self.pending += b
            while True:
                i = self.pending.find(b"\n\n")
                if i < 0:
                    break
                self.events.append((t, bytes(self.pending[:i])))
                del self.pending[:i + 2]

    def feed(self, data, t):
        raw = self.raw
        raw += data
        while not self.done:
            if self.state == "head":
                i = raw.find(b"\r\n\r\n")
                if i < 0:
                    return
                lines = raw[:i].decode("latin-1").split("\r\n")
                del raw[:i + 4]
                self.status = int(lines[0].split()[1])
                if 100 <= self.status < 200:
                    continue
                self.headers = {k.strip().lower(): v.strip() for k, _, v in
                                (line.partition(":") for line in lines[1:])}
                self.t_head = t
                self.sse = self.headers.get("content-type", "").startswith("text/event-stream")
                if "chunked" in self.headers.get("transfer-encoding", "").lower():
                    self.state = "size"
                elif "content-length" in self.headers:
                    self.left = int(self.headers["content-length"])
                    self.state = "length"
                    if self.left == 0:
                        self.finish(t)
                else:
                    self.state = "close"
            elif self.state == "size":
                i = raw.find(b"\r\n")
                if i < 0:
                    return
                n = int(bytes(raw[:i]).split(b";")[0], 16)
                del raw[:i + 2]
                self.left, self.state = n, ("data" if n else "trailer")
            elif self.state == "data":
                if not raw:
                    return
                take = min(len(raw), self.left)
                self.body_data(bytes(raw[:take]), t)
                del raw[:take]
                self.left -= take
                if self.left:
                    return
                self.state = "crlf"
            elif self.state == "crlf":
                if len(raw) < 2:
                    return
                del raw[:2]
                self.state = "size"
            elif self.state == "trailer":
                i = raw.find(b"\r\n")
                if i < 0:
                    return
                del raw[:i + 2]
                if i == 0:
                    self.finish(t)
            elif self.state == "length":
                if not raw:
                    return
                take = min(len(raw), self.left)
                self.body_data(bytes(raw[:take]), t)
                del raw[:take]
                self.left -= take
                if not self.left:
                    self.finish(t)
            else:  # "close": until the server closes
                if raw:
                    self.body_data(bytes(raw), t)
                    raw.clear()
                return

    def finish(self, t):
        self.done, self.t_end = True, t


class Client:
    """One keep-alive connection; sends a prepared request and times the answer."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def exchange(self, req):
        for attempt in (0, 1):
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            r = Response()
            t0 = time.perf_counter_ns()
            try:
                self.sock.sendall(req)
                while not r.done:
                    data = self.sock.recv(1 << 16)
                    t = time.perf_counter_ns()
                    if not data:
                        if r.state == "close":
                            r.finish(t)
                            break
                        raise ConnectionError("connection closed mid-response" if r.status else
                                              "connection closed before a response")
                    r.feed(data, t)
            except (ConnectionError, socket.timeout, OSError) as e:
                self.close()
                if attempt or r.status is not None:  # a kept-alive connection closed idle: once
                    raise Broke(f"request to port {self.port} failed: {e}")
                continue
            if r.headers.get("connection", "").lower() == "close" or r.state == "close":
                self.close()
            r.t0 = t0
            return r


def content_times(r):
    """Arrival times of the SSE events of an OpenAI chat stream that carry content."""
    out = []
    for t, ev in r.events:
        for line in ev.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                continue
            try:
                d = json.loads(data)
            except ValueError:
                continue
            ch = d.get("choices") or []
            delta = (ch[0].get("delta") or {}) if ch and isinstance(ch[0], dict) else {}
            if delta.get("content") or delta.get("tool_calls"):
                out.append(t)
    return out


# --------------------------------------------------------------------------- the run

class Run:
    def __init__(self, bindir):
        self.bindir = bindir
        self.duration, self.duration_s = env_duration("BENCH_DURATION", "10s")
        self.warmup, self.warmup_s = env_duration("BENCH_WARMUP", "2s")
        self.conns = env_int("BENCH_CONNECTIONS", 32, 1)
        self.threads = env_int("BENCH_THREADS", 2, 1)
        if self.threads > self.conns:
            raise Broke("BENCH_THREADS must not exceed BENCH_CONNECTIONS (wrk needs a connection per thread)")
        lc = os.environ.get("BENCH_LOAD_CONNECTIONS")
        try:
            load = [int(x) for x in (lc if lc is not None else "128").split()]
        except ValueError:
            raise Broke(f"BENCH_LOAD_CONNECTIONS={lc!r}: want blank-separated integers")
        self.load_conns = sorted({c for c in load + [self.conns] if c >= self.threads})
        self.rate = env_int("BENCH_RATE", 5100)
        self.serial = env_int("BENCH_SERIAL", 300)
        self.streams = env_int("BENCH_STREAMS", 200)
        self.ttft = env_int("BENCH_STREAM_TTFT_MS", 20)
        self.chunks = env_int("BENCH_STREAM_CHUNKS", 20, 2)
        self.interval = env_int("BENCH_STREAM_INTERVAL_MS", 5)
        self.body_bytes = env_int("BENCH_BODY_BYTES", 4096, 1)
        self.store = os.environ.get("BENCH_STORE", "") not in ("", "0")
        self.nginx_workers = os.environ.get("BENCH_NGINX_WORKERS", "").strip() or "1"
        if not re.fullmatch(r"auto|[1-9]\d*", self.nginx_workers):
            raise Broke(f"BENCH_NGINX_WORKERS={self.nginx_workers!r}: want a number or auto")
        self.exe = {n: os.path.join(bindir, n) for n in ("llmtap-sim", "llmtap-collector", "llmtap-agent")}
        self.nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        self.tmp = None
        self.procs = {}
        self.port = {}
        self.sent_to_agent = 0   # requests the agent answered (wrk counts + our own)
        self.inflight_cut = 0    # requests wrk may have left in flight at the end of its runs
        self.wrk = {}            # (config, connections) -> result dict
        self.load = os.getloadavg()


def start_upstream(r):
    args = [r.exe["llmtap-sim"], "upstream", "--listen", "127.0.0.1:0", "--seed", "1",
            *shlex.split(os.environ.get("BENCH_UPSTREAM_ARGS", ""))]
    p = r.procs["upstream"] = Proc("upstream", args, r.tmp, stdout_pipe=True)
    line = p.p.stdout.readline().decode(errors="replace").strip()  # printed once it listens
    if not line.startswith("upstream: "):
        p.stop()
        raise Broke(f"llmtap-sim upstream printed {line!r} instead of 'upstream: HOST:PORT' "
                    f"(does this build have the upstream command?):\n{p.tail()}")
    r.port["direct"] = int(line.rsplit(":", 1)[1])


NGINX_CONF = """\
# written by tests/bench/proxy.py; nginx -p {prefix} -c nginx.conf -g 'daemon off;'
{user}worker_processes {workers};
pid nginx.pid;
lock_file nginx.lock;
error_log error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    client_max_body_size 32m;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    upstream llm {{
        server 127.0.0.1:{up_port};
        keepalive 64;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://llm;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
}}
"""


def start_nginx(r):
    prefix = os.path.join(r.tmp, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"))
    port = free_port()
    user = ""
    if os.geteuid() == 0:  # as root, nginx's workers would switch to its compiled-in user
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(prefix=prefix, user=user, workers=r.nginx_workers,
                                  up_port=r.port["direct"], port=port))
    r.nginx_version = subprocess.run([r.nginx_bin, "-v"], stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL).stderr.decode().strip().split("/")[-1]
    test = subprocess.run([r.nginx_bin, "-p", prefix, "-e", os.path.join(prefix, "error.log"),
                           "-c", "nginx.conf", "-t"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if test.returncode != 0:
        raise Broke(f"nginx -t rejected the configuration:\n{test.stdout.decode(errors='replace')}")
    r.procs["nginx"] = Proc("nginx", [r.nginx_bin, "-p", prefix, "-e", os.path.join(prefix, "error.log"),
                                      "-c", "nginx.conf", "-g", "daemon off;"], r.tmp)
    r.port["nginx"] = port


def start_collector(r):
    data = os.path.join(r.tmp, "collector-data")
    r.port["collector"] = free_port()
    r.procs["collector"] = Proc("collector", [r.exe["llmtap-collector"], "--dev", "--data-dir", data,
                                              "--listen", f"127.0.0.1:{r.port['collector']}"], r.tmp)
    addr = os.path.join(data, "dev-broker.addr")
    r.brokers = wait_for(lambda: os.path.exists(addr) and open(addr).read().strip(), 60,
                         "the dev broker's address", procs=[r.procs["collector"]])


def start_agent(r):
    r.port["agent"] = free_port()
    args = [r.exe["llmtap-agent"], "--listen", f"127.0.0.1:{r.port['agent']}", "--kafka-brokers", r.brokers,
            "--upstream", f"openai=http://127.0.0.1:{r.port['direct']}",
            # the collector consumes llmtap.events; any other topic is created by
            # the dev broker on first use and left alone (BENCH_STORE=1: store them)
            "--topic", "llmtap.events" if r.store else "llmtap.bench.proxy",
            "--spool-dir", os.path.join(r.tmp, "spool"),
            *shlex.split(os.environ.get("BENCH_AGENT_ARGS", ""))]
    r.agent_args = args[1:]
    r.procs["agent"] = Proc("agent", args, r.tmp)


def start_all(r):
    """Phase 1: every process, ready; idle RSS; one request per configuration."""
    r.tmp = tempfile.mkdtemp(prefix="llmtap-bench-proxy-")
    b0, t0 = system_busy(), time.monotonic()
    time.sleep(1.0)  # a measurement window, not a wait: the machine's CPU use before we start
    r.busy_before = (system_busy() - b0) / (time.monotonic() - t0)
    say(f"llmtap proxy benchmark: {os.cpu_count()} CPUs, {r.busy_before:.2f} busy before the start, load average "
        f"{' '.join(f'{x:.2f}' for x in r.load)}; tmp {r.tmp}")
    start_upstream(r)
    start_nginx(r)
    start_collector(r)
    start_agent(r)
    wait_for(lambda: http_get(r.port["direct"], "/sim/healthz")[0] == 200, 30, "upstream /sim/healthz",
             procs=[r.procs["upstream"]])
    wait_for(lambda: http_get(r.port["nginx"], "/sim/healthz")[0] == 200, 30, "nginx (upstream's /sim/healthz)",
             procs=list(r.procs.values()))
    wait_for(lambda: http_get(r.port["agent"], "/healthz")[0] == 200, 60, "agent /healthz",
             procs=list(r.procs.values()))
    if r.busy_before > 0.1:
        say(f"      WARNING: other processes were using {r.busy_before:.2f} cores before the start; "
            "the figures will be noisy")

    # idle: once VmRSS has not moved for a second (start-up threads settled)
    apid = r.procs["agent"].pid
    hist = []

    def steady():
        hist.append(vm_status(apid).get("VmRSS"))
        return len(hist) >= 10 and len(set(hist[-10:])) == 1 and hist[-1]
    wait_for(steady, 30, "the agent's RSS to settle", procs=[r.procs["agent"]], interval=0.1)
    r.idle = vm_status(apid)
    m = metrics(r.port["agent"])
    if "llmtap_agent_proxy_captured_total" not in m:
        raise Broke("the agent's /metrics has no llmtap_agent_proxy_captured_total: is the proxy enabled?")
    r.captured0 = msum(m, "llmtap_agent_proxy_captured_total")

    # one request each: 200, and the same answer through every path
    r.body = make_body(r.body_bytes, False)
    r.sbody = make_body(r.body_bytes, True)
    r.req = request_bytes(r.body)
    r.sreq = request_bytes(r.sbody, (f"x-sim-ttft-ms: {r.ttft}", f"x-sim-chunks: {r.chunks}",
                                     f"x-sim-chunk-interval-ms: {r.interval}"))
    with open(os.path.join(r.tmp, "body.json"), "wb") as f:
        f.write(r.body)
    answers = {}
    for name in CONFIGS:
        c = Client(r.port[name])
        resp = c.exchange(r.req)
        c.close()
        if resp.status != 200:
            raise Broke(f"{name}: POST {PATH} answered {resp.status}: {bytes(resp.body)[:500]!r}")
        answers[name] = bytes(resp.body)
        if name == "agent":
            r.sent_to_agent += 1
    r.answer_bytes = len(answers["direct"])
    r.same_answer = all(a == answers["direct"] for a in answers.values())
    for name, a in answers.items():
        if a != answers["direct"]:
            say(f"      WARNING: {name} answered other bytes than the upstream ({len(a)} B vs {r.answer_bytes} B)")
    say(f"[1/6] upstream :{r.port['direct']}, nginx {r.nginx_version} :{r.port['nginx']} "
        f"(worker_processes {r.nginx_workers}), collector --dev :{r.port['collector']} (broker {r.brokers}), "
        f"agent :{r.port['agent']} pid {apid}")
    say(f"      request {len(r.body)} B JSON, answer {r.answer_bytes} B"
        f"{', identical through every path' if r.same_answer else ''}; agent idle VmRSS "
        f"{r.idle.get('VmRSS', 0) / 1024:.1f} MiB, VmHWM {r.idle.get('VmHWM', 0) / 1024:.1f} MiB, "
        f"{r.idle.get('Threads', '?')} threads")


def serial(r):
    """Phase 2: one request at a time, the configurations in turn."""
    if r.serial == 0:
        r.serial_lat = None
        return
    clients = {n: Client(r.port[n]) for n in CONFIGS}
    lat = {n: [] for n in CONFIGS}
    for i in range(r.serial + 10):  # the first 10 rounds warm up and are not counted
        for n in CONFIGS:
            resp = clients[n].exchange(r.req)
            if resp.status != 200:
                raise Broke(f"{n}: answered {resp.status} during the one-at-a-time run")
            if i >= 10:
                lat[n].append(resp.t_end - resp.t0)
    r.sent_to_agent += r.serial + 10
    for c in clients.values():
        c.close()
    r.serial_lat = {n: (pct(v, 50) / 1e6, pct(v, 99) / 1e6) for n, v in lat.items()}
    say("[2/6] one at a time, " + f"{r.serial} each: " + ", ".join(
        f"{n} p50 {fmt_ms(a)} p99 {fmt_ms(b)}" for n, (a, b) in r.serial_lat.items()))


def streaming(r):
    """Phase 3: streams; TTFT and the gaps between content events."""
    if r.streams == 0:
        r.stream = None
        return
    clients = {n: Client(r.port[n]) for n in CONFIGS}
    ttft = {n: [] for n in CONFIGS}
    gaps = {n: [] for n in CONFIGS}
    events = {n: set() for n in CONFIGS}
    t_start = time.monotonic()
    for i in range(r.streams + 3):  # the first 3 rounds warm up
        for n in CONFIGS:
            resp = clients[n].exchange(r.sreq)
            if resp.status != 200:
                raise Broke(f"{n}: answered {resp.status} to a streaming request: {bytes(resp.body)[:300]!r}")
            ts = content_times(resp)
            if not ts:
                raise Broke(f"{n}: a streaming answer with no content events:\n{bytes(resp.body)[:600]!r}")
            events[n].add(len(ts))
            if i >= 3:
                ttft[n].append(ts[0] - resp.t0)
                gaps[n].extend(b - a for a, b in zip(ts, ts[1:]))
    r.sent_to_agent += r.streams + 3
    for c in clients.values():
        c.close()
    r.stream = {n: {"ttft50": statistics.median(ttft[n]) / 1e6, "ttft99": pct(ttft[n], 99) / 1e6,
                    "gap50": statistics.median(gaps[n]) / 1e6, "gap99": pct(gaps[n], 99) / 1e6,
                    "events": sorted(events[n]), "ngaps": len(gaps[n])} for n in CONFIGS}
    for n in CONFIGS:
        if r.stream[n]["events"] != r.stream["direct"]["events"]:
            say(f"      WARNING: {n} relayed {r.stream[n]['events']} content events per stream, "
                f"the upstream sent {r.stream['direct']['events']}")
    say(f"[3/6] {r.streams} streams each ({r.stream['direct']['events'][0]} content events, TTFT {r.ttft} ms, "
        f"interval {r.interval} ms) in {time.monotonic() - t_start:.0f}s: " + ", ".join(
            f"{n} TTFT {fmt_ms(s['ttft50'])}/{fmt_ms(s['ttft99'])} gap {fmt_ms(s['gap50'])}/{fmt_ms(s['gap99'])}"
            for n, s in r.stream.items()) + " (median/p99)")


WRK_LUA = """\
-- written by tests/bench/proxy.py
-- pause of each connection before its next request, ms (0: closed loop);
-- a fraction is drawn between the two whole milliseconds around it
local pause = {pause}
if pause > 0 then
  local lo = math.floor(pause)
  local frac = pause - lo
  function delay()
    if math.random() < frac then return lo + 1 end
    return lo
  end
end

local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.path = "{path}"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["x-llmtap-service"] = "{service}"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("BENCH p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f\\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def wrk_run(r, name, conns, duration, label, pause=None, sample_pid=None, cpu_pids=()):
    """One wrk run; returns its figures, with the RSS peak of sample_pid and
    the CPU seconds of cpu_pids (each with its children) over the run. With
    a pause (ms), each connection waits that long after an answer before
    its next request (wrk's delay(); the latency clock starts at the send)."""
    tag = f"{name}-{conns}c-{'paced' if pause is not None else 'closed'}-{label}"
    script = os.path.join(r.tmp, f"post-{tag}.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA.format(body=os.path.join(r.tmp, "body.json"), path=PATH, key=API_KEY,
                               service=SERVICE, pause=f"{pause or 0.0:.3f}"))
    out = os.path.join(r.tmp, f"wrk-{tag}.txt")
    args = ["wrk", "--latency", "-t", str(r.threads), "-c", str(conns), "-d", duration, "--timeout", "30s",
            "-s", script, f"http://127.0.0.1:{r.port[name]}{PATH}"]
    cpu0 = {p: cpu_tree(p) for p in cpu_pids}
    busy0, own0, t0 = system_busy(), own_cpu(r), time.monotonic()
    peak = 0
    with open(out, "wb") as f:
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        r.wrk_proc = p
        while p.poll() is None:
            if sample_pid:
                peak = max(peak, vm_status(sample_pid).get("VmRSS", 0))
            for q in r.procs.values():
                q.check()
            time.sleep(0.1)
        r.wrk_proc = None
    cpu = {p: cpu_tree(p) - c for p, c in cpu0.items()}
    # what the rest of the machine took meanwhile, in cores (the noise indicator)
    other = max(0.0, (system_busy() - busy0) - (own_cpu(r) - own0)) / max(time.monotonic() - t0, 1e-3)
    text = open(out, errors="replace").read()
    if p.returncode != 0:
        raise Broke(f"wrk failed (exit {p.returncode}): {shlex.join(args)}\n{text[-2000:]}")
    fig = {}
    for line in text.splitlines():
        if line.startswith("BENCH "):
            fig.update({k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)})
    if "requests" not in fig or "p99_us" not in fig:
        raise Broke(f"wrk printed no figures (see {out}):\n{text[-2000:]}")
    fig["rate"] = fig["requests"] / (fig["duration_us"] / 1e6)
    fig["errors"] = sum(fig[k] for k in ("connect", "read", "write", "status", "timeout"))
    fig["rss_peak"] = peak
    fig["cpu"] = cpu
    fig["other"] = other
    fig["conns"] = conns
    if name == "agent":
        r.sent_to_agent += int(fig["requests"])
        r.inflight_cut += conns
    if fig["requests"] == 0:
        raise Broke(f"wrk completed no requests against {name} (see {out})")
    return fig


def wrk_measure(r, name, conns, pause=None, **kw):
    """A warm-up and a measured run. pause=None: closed loop; else paced (the
    pause is recalibrated on the warm-up to reach BENCH_RATE)."""
    paced = pause is not None
    pause = pause or 0.0
    # a paced warm-up runs in two halves, each recalibrating the pause
    parts = [r.warmup] if not paced or r.warmup_s < 2 else [f"{r.warmup_s // 2}s", f"{r.warmup_s - r.warmup_s // 2}s"]
    for i, part in enumerate(parts if r.warmup_s > 0 else []):
        warm = wrk_run(r, name, conns, part, f"warmup{i + 1}" if len(parts) > 1 else "warmup",
                       pause if paced else None)
        if paced and warm["rate"] > 0:
            # a connection's cycle came out at conns/rate: longer than the pause
            # by the latency and the timer's lateness
            over = conns * 1000.0 / warm["rate"] - pause
            pause = max(0.0, conns * 1000.0 / r.rate - over)
    fig = wrk_run(r, name, conns, r.duration, "run", pause if paced else None, **kw)
    fig["paced"] = paced
    r.wrk[("paced" if paced else "closed", name, conns)] = fig
    errs = f", {fig['errors']:.0f} errors" if fig["errors"] else ""
    say(f"      {name:6} {conns:4} conns{f', paced, pause {pause:.2f} ms' if paced else ''}: "
        f"{fmt_int(fig['rate'])} req/s, p50 {fmt_ms(fig['p50_us'] / 1e3)}, "
        f"p99 {fmt_ms(fig['p99_us'] / 1e3)}{errs}"
        + (f", agent VmRSS peak {fig['rss_peak'] / 1024:.1f} MiB" if fig["rss_peak"] else "")
        + (f"; other processes took {fig['other']:.2f} cores" if fig["other"] >= 0.05 else ""))
    return fig


def load_runs(r):
    """Phase 4: wrk against each configuration, paced at BENCH_RATE and then
    closed-loop; then the agent closed-loop at more connection counts."""
    say(f"[4/6] wrk, {r.threads} threads, {r.duration} each after a {r.warmup} warm-up "
        f"(wrk, the upstream and the proxy share the CPUs):")
    ups, ngx, ag = r.procs["upstream"].pid, r.procs["nginx"].pid, r.procs["agent"].pid
    cpu = {"direct": (ups,), "nginx": (ngx, ups), "agent": (ag, ups)}
    if r.rate:
        # each connection pauses so that conns / (pause + latency) = rate; the
        # latency is the configuration's own one-at-a-time median
        for n in CONFIGS:
            lat = r.serial_lat[n][0] if r.serial_lat else 0.0
            pause = max(0.0, r.conns * 1000.0 / r.rate - lat)
            wrk_measure(r, n, r.conns, pause, sample_pid=ag if n == "agent" else None, cpu_pids=cpu[n])
    for n in ("direct", "nginx"):
        wrk_measure(r, n, r.conns, cpu_pids=cpu[n])
    for c in r.load_conns:
        wrk_measure(r, "agent", c, sample_pid=ag, cpu_pids=cpu["agent"])
    r.hwm = vm_status(ag)


def capture_check(r):
    """Phase 5: did the agent capture every call, and ship it?"""
    port = r.port["agent"]

    def drained():
        m = metrics(port)
        captured = msum(m, "llmtap_agent_proxy_captured_total")
        done = msum(m, "llmtap_agent_events_delivered_total") + msum(m, "llmtap_agent_events_delivery_failed_total")
        return m if (done >= captured and msum(m, "llmtap_agent_kafka_queue_depth") == 0) else None
    try:
        m = wait_for(drained, 60, "the agent's producer to drain", procs=[r.procs["agent"]], interval=0.2)
        r.drained = True
    except Broke:
        m, r.drained = metrics(port), False
    r.captured = msum(m, "llmtap_agent_proxy_captured_total") - r.captured0
    r.dropped = {lab or "-": v for lab, v in m.get("llmtap_agent_proxy_capture_dropped_total", {}).items() if v}
    r.delivered = msum(m, "llmtap_agent_events_delivered_total")
    r.failed = msum(m, "llmtap_agent_events_delivery_failed_total")
    r.stored = None
    if r.store:
        def stored():
            n = msum(metrics(r.port["collector"]), "llmtap_store_events")
            return n if n >= r.delivered else None
        try:
            r.stored = wait_for(stored, 300, "the collector to store the delivered events",
                                procs=[r.procs["collector"]], interval=0.5)
        except Broke:
            r.stored = msum(metrics(r.port["collector"]), "llmtap_store_events")
    say(f"[5/6] agent: {fmt_int(r.captured)} calls captured of {fmt_int(r.sent_to_agent)} answered "
        f"(+ up to {r.inflight_cut} cut off in flight by wrk's stop), dropped "
        f"{', '.join(f'{k} {v:.0f}' for k, v in r.dropped.items()) or '0'}; {fmt_int(r.delivered)} "
        f"delivered to Kafka, {fmt_int(r.failed)} failed{'' if r.drained else ' (producer not drained after 60s)'}"
        + (f"; {fmt_int(r.stored)} stored by the collector" if r.store else ""))


def stop_all(r, strict=True):
    """Stops every process, agent first (it flushes to the collector's broker);
    returns {name: exit status}."""
    rcs = {}
    if getattr(r, "wrk_proc", None) and r.wrk_proc.poll() is None:
        os.killpg(r.wrk_proc.pid, signal.SIGTERM)
        r.wrk_proc.wait()
    for name in ("agent", "collector", "nginx", "upstream"):
        p = r.procs.pop(name, None)
        if p is None:
            continue
        try:
            rcs[name] = p.stop(signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        except Broke as e:
            say(f"stop: {e}")
            rcs[name] = None
        if rcs[name] != 0 and strict:
            say(f"      {name} exited {rcs[name]} on SIGTERM:\n{p.tail()}")
    return rcs


def report(r):
    """Phase 6: the table."""
    rows = []

    def row(name, value, target="", met=None):
        rows.append((name, value, target, "" if met is None else met if isinstance(met, str) else
                     ("yes" if met else "no")))

    row("request", f"POST {PATH}, {len(r.body):,} B JSON; answer {r.answer_bytes:,} B")
    labels = {"direct": "(1) direct to llmtap-sim upstream",
              "nginx": f"(2) nginx {r.nginx_version} proxy_pass, worker_processes {r.nginx_workers}",
              "agent": "(3) llmtap-agent, capture + Kafka"}

    def comparison(mode, title):
        w = {n: r.wrk[(mode, n, r.conns)] for n in CONFIGS}
        row(title, "")
        for n in CONFIGS:
            f = w[n]
            errs = f", {f['errors']:.0f} errors" if f["errors"] else ""
            short = "  (saturated: below the offered rate)" if mode == "paced" and f["rate"] < 0.95 * r.rate else ""
            row(f"  {labels[n]}", f"{fmt_int(f['rate'])} req/s  p50 {fmt_ms(f['p50_us'] / 1e3)}  "
                f"p99 {fmt_ms(f['p99_us'] / 1e3)}{errs}{short}")
        add = {n: {q: (w[n][f"{q}_us"] - w["direct"][f"{q}_us"]) / 1e3 for q in ("p50", "p99")}
               for n in ("nginx", "agent")}
        for q, target in (("p50", TARGET_P50_RATIO), ("p99", TARGET_P99_RATIO)):
            ng, ag = add["nginx"][q], add["agent"][q]
            if ng > 0:
                ratio, met = f"{ag / ng:.2f}", ag <= target * ng
            else:  # nginx's run came out faster than the direct one: noise decides
                ratio, met = "n/a (nginx added nothing)", "n/a"
            row(f"  added {q} over (1): nginx / agent; agent/nginx",
                f"{fmt_ms(ng)} / {fmt_ms(ag)}; {ratio}", f"<= {target:.2f}", met)
        return w

    if r.rate:
        comparison("paced", f"wrk paced to ~{fmt_int(r.rate)} req/s offered, {r.conns} connections")
    w = comparison("closed", f"wrk closed loop (as fast as it goes), {r.conns} connections")
    if r.serial_lat:
        s = r.serial_lat
        row(f"one at a time ({r.serial}): p50 direct / nginx / agent",
            " / ".join(fmt_ms(s[n][0]) for n in CONFIGS), "(info)")
        row("  added p50 nginx / agent; p99 nginx / agent",
            f"{fmt_ms(s['nginx'][0] - s['direct'][0])} / {fmt_ms(s['agent'][0] - s['direct'][0])}; "
            f"{fmt_ms(s['nginx'][1] - s['direct'][1])} / {fmt_ms(s['agent'][1] - s['direct'][1])}", "(info)")
    if r.stream:
        s = r.stream
        row(f"stream ({r.streams} each): TTFT median / p99, direct",
            f"{fmt_ms(s['direct']['ttft50'])} / {fmt_ms(s['direct']['ttft99'])}  (upstream waits {r.ttft} ms)")
        for n in ("nginx", "agent"):
            row(f"  added TTFT median / p99, {n}",
                f"{fmt_ms(s[n]['ttft50'] - s['direct']['ttft50'])} / {fmt_ms(s[n]['ttft99'] - s['direct']['ttft99'])}",
                "(info)")
        row(f"stream: gap between chunks median / p99, direct",
            f"{fmt_ms(s['direct']['gap50'])} / {fmt_ms(s['direct']['gap99'])}  "
            f"({s['direct']['ngaps']:,} gaps; upstream waits {r.interval} ms)")
        for n in ("nginx", "agent"):
            row(f"  added gap median / p99, {n}",
                f"{fmt_ms(s[n]['gap50'] - s['direct']['gap50'])} / {fmt_ms(s[n]['gap99'] - s['direct']['gap99'])}",
                "(info)")
    idle = r.idle.get("VmRSS", 0) / 1024
    row("agent RSS idle (VmRSS; VmHWM)", f"{idle:.1f} MiB; {r.idle.get('VmHWM', 0) / 1024:.1f} MiB",
        f"<= {TARGET_RSS_IDLE:.0f} MiB", idle <= TARGET_RSS_IDLE)
    runs = [r.wrk[("closed", "agent", c)] for c in r.load_conns]
    if r.rate:
        runs.insert(0, r.wrk[("paced", "agent", r.conns)])
    for f in runs:
        row(f"  agent, {'paced' if f['paced'] else 'closed loop'}, {f['conns']} conns",
            f"{fmt_int(f['rate'])} req/s  VmRSS peak {f['rss_peak'] / 1024:.1f} MiB  "
            f"p50 {fmt_ms(f['p50_us'] / 1e3)}  p99 {fmt_ms(f['p99_us'] / 1e3)}")
    at5k = sorted((f for f in runs if f["rate"] >= LOAD_RATE), key=lambda f: f["rate"])
    if at5k:
        f = at5k[0]  # the run closest to the target rate
        rss = f["rss_peak"] / 1024
        row(f"agent RSS at >= {LOAD_RATE:,} req/s ({fmt_int(f['rate'])} req/s, "
            f"{'paced' if f['paced'] else 'closed loop'}, {f['conns']} conns)",
            f"{rss:.1f} MiB", f"<= {TARGET_RSS_LOAD:.0f} MiB", rss <= TARGET_RSS_LOAD)
    else:
        best = max(runs, key=lambda f: f["rate"])
        row(f"agent RSS at >= {LOAD_RATE:,} req/s", f"rate not reached (best {fmt_int(best['rate'])} req/s)",
            f"<= {TARGET_RSS_LOAD:.0f} MiB", "n/a")
    best = max(runs, key=lambda f: f["rate"])
    row(f"agent RSS at the max rate ({fmt_int(best['rate'])} req/s, {best['conns']} conns)",
        f"{best['rss_peak'] / 1024:.1f} MiB; peak of the whole run "
        f"{max([r.hwm.get('VmHWM', 0)] + [f['rss_peak'] for f in runs]) / 1024:.1f} MiB", "(info)")
    ag, ngx, ups = r.procs_pids["agent"], r.procs_pids["nginx"], r.procs_pids["upstream"]
    fa, fn, fd = w["agent"], w["nginx"], w["direct"]
    row("CPU per request, closed loop: agent; nginx (all processes)",
        f"{1e6 * fa['cpu'][ag] / fa['requests']:.1f} us; {1e6 * fn['cpu'][ngx] / fn['requests']:.1f} us", "(info)")
    if r.rate:
        pa, pn = r.wrk[("paced", "agent", r.conns)], r.wrk[("paced", "nginx", r.conns)]
        row("CPU per request, paced: agent; nginx",
            f"{1e6 * pa['cpu'][ag] / pa['requests']:.1f} us; {1e6 * pn['cpu'][ngx] / pn['requests']:.1f} us",
            "(info)")
    row("CPU per request: upstream, direct / via nginx / via agent",
        " / ".join(f"{1e6 * f['cpu'][ups] / f['requests']:.1f} us" for f in (fd, fn, fa)), "(info)")
    lo = r.sent_to_agent
    share = r.captured / lo if lo else 0.0
    dropped = sum(r.dropped.values())
    row("agent captured / calls answered (all runs)",
        f"{fmt_int(r.captured)} / {fmt_int(lo)} ({100 * share:.2f}%); dropped {fmt_int(dropped)}"
        + (f" ({', '.join(f'{k}: {v:.0f}' for k, v in r.dropped.items())})" if r.dropped else ""),
        "every call", r.captured >= lo and dropped <= r.inflight_cut)
    row("events delivered to Kafka / failed", f"{fmt_int(r.delivered)} / {fmt_int(r.failed)}"
        + ("" if r.drained else "  (producer had not drained after 60 s)")
        + (f"; stored by the collector {fmt_int(r.stored)}" if r.store else ""), "(info)")

    head = ("figure", "value", "target", "met")
    wd = [max(len(x[i]) for x in rows + [head]) for i in range(4)]
    rule = "-+-".join("-" * x for x in wd)
    say("")
    say(f"[6/6] llmtap proxy benchmark: {os.cpu_count()} CPUs shared by wrk ({r.threads} threads), "
        f"llmtap-sim upstream and the proxy; {r.busy_before:.2f} cores busy before the start")
    other = max(f["other"] for f in r.wrk.values())
    say(f"      wrk {r.threads} threads, {r.duration} per run after a {r.warmup} warm-up; latencies are "
        f"wrk's (send to last byte); CPU taken by processes outside the benchmark during a measured "
        f"run: at most {other:.2f} of {os.cpu_count()} cores")
    say(rule)
    say(" | ".join(h.ljust(x) for h, x in zip(head, wd)))
    say(rule)
    for x in rows:
        say(" | ".join(c.ljust(wi) for c, wi in zip(x, wd)).rstrip())
    say(rule)
    targets = [x for x in rows if x[3] in ("yes", "no")]
    say(f"targets met: {sum(x[3] == 'yes' for x in targets)} of {len(targets)} "
        "(a benchmark reports figures; it does not fail on them)")
    if other > 0.1:
        say(f"WARNING: other processes took up to {other:.2f} cores during the measured runs; "
            "the figures are noisy (run again on a quiet machine)")
    errs = [(k, f["errors"]) for k, f in r.wrk.items() if f["errors"]]
    if errs:
        say("WARNING: wrk saw errors (connect/read/write errors, timeouts, HTTP status >= 400) in: " +
            ", ".join(f"{m} {n} {c} conns: {e:.0f}" for (m, n, c), e in errs) + f"; see the wrk-*.txt files")
    if not (r.captured >= lo and dropped <= r.inflight_cut):
        say("WARNING: the agent did not capture every call it relayed; its figures are not those of a "
            "proxy doing its whole job")


def main():
    if len(sys.argv) != 2:
        print("usage: proxy.py BIN_DIR   (see the docstring for the BENCH_* environment)", file=sys.stderr)
        return 2

    interrupted = []

    def on_term(sig, frame):
        interrupted.append(sig)
        raise Broke(f"interrupted by signal {sig}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    r = None
    rc = 1
    try:
        r = Run(sys.argv[1])
        for exe in r.exe.values():
            if not os.access(exe, os.X_OK):
                raise Broke(f"{exe} missing (build first: make build)")
        if not shutil.which("wrk"):
            raise Broke("wrk is missing (Debian package 'wrk')")
        if not os.access(r.nginx_bin, os.X_OK):
            raise Broke("nginx is missing (Debian package 'nginx')")
        start_all(r)
        r.procs_pids = {n: p.pid for n, p in r.procs.items()}
        for phase in (serial, streaming, load_runs, capture_check):
            phase(r)
        rcs = stop_all(r)
        bad = {n: c for n, c in rcs.items() if c != 0}
        report(r)
        if bad:
            raise Broke(f"exit status on SIGTERM not 0: {bad}")
        rc = 0
    except Broke as e:
        say(f"proxy benchmark: error: {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let cleanup finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if r:
            if r.procs:
                stop_all(r, strict=False)
            if r.tmp:
                if os.environ.get("BENCH_KEEP") or (rc != 0 and not interrupted):  # logs of a failure
                    say(f"(kept {r.tmp})")
                else:
                    shutil.rmtree(r.tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
