#!/usr/bin/env python3
"""tests/bench/query.py — the query benchmark (run through tests/bench/query.sh).

What it measures, on one machine, with the real binaries:

  1. `llmtap-bench-fill fill`: a fresh store with BENCH_HOURS (24) hours of
     10-second data for 100 series (5 label sets x requests, 2 token types
     and a 15-bucket duration histogram with _sum and _count), ending now,
     written through storage/series.h with a fake clock (the collector would
     refuse events that old). Its series_stats give the bytes per stored
     sample.
  2. llmtap-collector (--dev, so no Kafka is needed; nothing is ingested)
     serving that store on a free port.
  3. `llmtap-collector export --format openmetrics` of the whole day, beside
     the running collector; `promtool tsdb create-blocks-from openmetrics`;
     Prometheus (Debian's 2.42) started on the blocks, scraping nothing.
  4. The same range queries over the whole day at BENCH_STEP (15s) to both:
       sum by (model) (rate(llm_requests_total[5m]))
       histogram_quantile(0.95, sum by (le, model) (rate(llm_request_duration_seconds_bucket[5m])))
       topk(5, sum by (service, model) (rate(llm_tokens_total[5m])))
     BENCH_WARMUP (5) unmeasured runs each, then BENCH_REPS (50) measured
     runs, llmtap and Prometheus alternating (so both see the same machine).
     A run is one GET /api/v1/query_range on a kept-alive connection, timed
     from sending the request to the last byte of the answer
     (time.perf_counter_ns); the JSON is parsed afterwards, outside the
     timing, to check that it succeeded.
  5. A table: p50 and p99 for each, llmtap / Prometheus, against the
     targets (llmtap p50 <= 5 ms; faster than Prometheus on every query).
     Figures never fail the run: the exit status is 0 unless something
     broke (a tool failed, a query failed, a process did not start or did
     not exit 0 on SIGTERM).

Environment: BENCH_HOURS (24), BENCH_REPS (50), BENCH_WARMUP (5), BENCH_STEP
(15s), BENCH_SEED (1, the fill's), BENCH_KEEP=1 (keep the temporary
directory), BENCH_PERF=FILE (`perf record -g` the collector over its measured
runs into FILE and print where its time goes), BENCH_COLLECTOR_ARGS (extra
collector flags, split on blanks).

Standard library only. Waits are polls with deadlines, never fixed sleeps.
"""
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

TARGET_P50_MS = 5.0

QUERIES = [
    ("rate by model", "sum by (model) (rate(llm_requests_total[5m]))"),
    ("p95 by model",
     "histogram_quantile(0.95, sum by (le, model) (rate(llm_request_duration_seconds_bucket[5m])))"),
    ("topk(5) tokens", "topk(5, sum by (service, model) (rate(llm_tokens_total[5m])))"),
]


class Broke(Exception):
    """Something the benchmark needs failed (not a slow figure)."""


def say(*a):
    print(*a, flush=True)


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        raise Broke(f"{name}={v!r} is not an integer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, what, **kw):
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise Broke(f"{what} failed (exit {r.returncode}): {shlex.join(map(str, args))}\n"
                    f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r, time.monotonic() - t0


def words(line):
    """key=value words of a line, numbers converted."""
    out = {}
    for w in line.split():
        k, eq, v = w.partition("=")
        if eq:
            try:
                out[k] = float(v) if any(c in v for c in ".e") else int(v)
            except ValueError:
                out[k] = v
    return out


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    i = int(k)
    return xs[i] if i + 1 >= len(xs) else xs[i] + (xs[i + 1] - xs[i]) * (k - i)


class Server:
    """A process with an HTTP port, a log file, a keep-alive client."""

    def __init__(self, name, args, port, logdir, ready_path):
        self.name, self.port = name, port
        self.logname = os.path.join(logdir, f"{name}.log")
        with open(self.logname, "wb") as logf:
            self.p = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
        self.conn = None
        deadline = time.monotonic() + 60
        while True:
            if self.p.poll() is not None:
                raise Broke(f"{name} exited ({self.p.returncode}) at start:\n{self.log_tail()}")
            try:
                if self.get(ready_path)[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                self.conn = None
            if time.monotonic() > deadline:
                raise Broke(f"{name} not ready after 60 s:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self):
        with open(self.logname, errors="replace") as f:
            return f.read()[-3000:]

    def get(self, path):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def timed(self, path):
        t0 = time.perf_counter_ns()
        st, body = self.get(path)
        return (time.perf_counter_ns() - t0) / 1e6, st, body

    def stop(self, sig=signal.SIGTERM):
        if self.conn:
            self.conn.close()
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise Broke(f"{self.name} did not stop within 60 s")
        return self.p.returncode


def check(name, st, body, q):
    if st != 200:
        raise Broke(f"{name} answered {st} to {q}: {body[:500]!r}")
    j = json.loads(body)
    if j.get("status") != "success" or j["data"]["resultType"] != "matrix":
        raise Broke(f"{name}: {q}: {body[:500]!r}")
    return j["data"]["result"]


def perf_report(path):
    r = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children",
                        "--percent-limit", "1.5", "--sort", "dso,symbol", "-g", "none"],
                       capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")]
    say(f"perf profile of llmtap-collector over its measured runs ({path}):")
    for l in lines[:40]:
        say("   ", l)


def bench(bin_dir, tmp):
    hours = env_int("BENCH_HOURS", 24)
    reps, warm = env_int("BENCH_REPS", 50), env_int("BENCH_WARMUP", 5)
    step = os.environ.get("BENCH_STEP", "15s")
    data = os.path.join(tmp, "data")
    say(f"query benchmark: {hours} h of 10 s data, 100 series; {reps} runs after {warm} warm-up "
        f"runs; step {step}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    r, secs = run([f"{bin_dir}/llmtap-bench-fill", "fill", "--data-dir", data, "--hours",
                   str(hours), "--seed", str(env_int("BENCH_SEED", 1))], "llmtap-bench-fill")
    fill = next(words(l) for l in r.stdout.splitlines() if l.startswith("fill "))
    stats = next(words(l) for l in r.stdout.splitlines() if l.startswith("stats "))
    say(f"fill: {fill['start']} .. {fill['end']}, {stats['series']} series, "
        f"{stats['base_samples'] + stats['head_samples']} samples, in {secs:.1f} s")
    end = fill["end_ms"] // 1000
    start = end - hours * 3600

    cport = free_port()
    cargs = [f"{bin_dir}/llmtap-collector", "--dev", "--data-dir", data, "--listen",
             f"127.0.0.1:{cport}", "--log-level", "warn",
             *shlex.split(os.environ.get("BENCH_COLLECTOR_ARGS", ""))]
    coll = Server("collector", cargs, cport, tmp, "/healthz")
    servers = [coll]
    try:
        om = os.path.join(tmp, "series.om")
        r, t_export = run([f"{bin_dir}/llmtap-collector", "export", "--format", "openmetrics",
                           "--start", str(start - 600), "--end", str(end + 600), "--data-dir",
                           data, "--output", om], "llmtap-collector export")
        exp = words(r.stderr.strip().splitlines()[-1])
        say(f"export: {exp.get('samples')} samples, {os.path.getsize(om) / 1e6:.0f} MB of "
            f"OpenMetrics in {t_export:.1f} s")
        blocks = os.path.join(tmp, "prometheus")
        r, t_promtool = run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", om,
                             blocks], "promtool tsdb create-blocks-from openmetrics")
        say(f"promtool: blocks in {t_promtool:.1f} s")
        os.unlink(om)
        pport = free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1h\n")
        prom = Server("prometheus", ["prometheus", f"--config.file={cfg}",
                                     f"--storage.tsdb.path={blocks}",
                                     f"--web.listen-address=127.0.0.1:{pport}",
                                     "--storage.tsdb.retention.time=10y", "--log.level=warn"],
                      pport, tmp, "/-/ready")
        servers.append(prom)

        results = []
        perf_path = os.environ.get("BENCH_PERF", "")
        perf = None
        for name, q in QUERIES:
            path = "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": q, "start": start, "end": end, "step": step})
            shapes, first = {}, {}
            for srv in (coll, prom):
                for i in range(max(1, warm)):
                    ms, st, body = srv.timed(path)
                    res = check(srv.name, st, body, q)
                    if i == 0:  # cold: the collector's block cache has none of it yet
                        first[srv.name] = ms
                shapes[srv.name] = (len(res), sum(len(x["values"]) for x in res))
            if perf_path and perf is None:
                perf = subprocess.Popen(["perf", "record", "-q", "-g", "-F", "2999", "-o",
                                         perf_path, "-p", str(coll.p.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)  # perf attaches asynchronously
            times = {"collector": [], "prometheus": []}
            for _ in range(reps):
                for srv in (coll, prom):
                    ms, st, body = srv.timed(path)
                    check(srv.name, st, body, q)
                    times[srv.name].append(ms)
            results.append((name, q, times, shapes))
            say(f"{name}: llmtap {shapes['collector'][0]} series / {shapes['collector'][1]} "
                f"points, prometheus {shapes['prometheus'][0]} / {shapes['prometheus'][1]}; "
                f"p50 {percentile(times['collector'], 50):.2f} ms vs "
                f"{percentile(times['prometheus'], 50):.2f} ms; first run {first['collector']:.2f} "
                f"ms vs {first['prometheus']:.2f} ms")
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        prom_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(blocks)
                         for f in fs)
    finally:
        rcs = {}
        for srv in reversed(servers):
            rcs[srv.name] = srv.stop()
    for name, rc in rcs.items():
        if rc != 0:
            raise Broke(f"{name} exited {rc} on SIGTERM")
    r, _ = run([f"{bin_dir}/llmtap-bench-fill", "stats", "--data-dir", data],
               "llmtap-bench-fill stats")
    after = words(r.stdout.strip().splitlines()[-1])

    say("")
    say(f"{'query':<16} {'llmtap p50':>10} {'p99':>8} {'prom p50':>10} {'p99':>8} "
        f"{'llmtap/prom':>11}  {'p50<=5ms':>8}  {'faster':>6}")
    for name, q, t, _ in results:
        lp50, lp99 = percentile(t["collector"], 50), percentile(t["collector"], 99)
        pp50, pp99 = percentile(t["prometheus"], 50), percentile(t["prometheus"], 99)
        say(f"{name:<16} {lp50:>8.2f}ms {lp99:>6.2f}ms {pp50:>8.2f}ms {pp99:>6.2f}ms "
            f"{lp50 / pp50:>11.2f}  {'yes' if lp50 <= TARGET_P50_MS else 'no':>8}  "
            f"{'yes' if lp50 < pp50 else 'no':>6}")
    say("")
    say("figure                                  value       target")
    say(f"llmtap bytes per stored sample          {after['bytes_per_stored_sample']:.2f}        "
        f"(LMDB pages of the series databases / {after['base_samples'] + after['head_samples']} "
        f"samples held)")
    say(f"llmtap block bytes per sample           {after['block_bytes_per_sample']:.2f}        "
        f"(values and times only)")
    say(f"prometheus TSDB bytes per sample        {prom_bytes / max(1, exp.get('samples', 1)):.2f}"
        f"        (the backfilled blocks' files / samples exported; for comparison)")
    say(f"export + promtool                       {t_export:.1f} s + {t_promtool:.1f} s")
    if perf_path:
        perf_report(perf_path)


def main():
    if len(sys.argv) != 2:
        print("usage: query.py BIN_DIR", file=sys.stderr)
        return 2
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="llmtap-bench-query-")
    ok = False
    try:
        bench(bin_dir, tmp)
        ok = True
    except Broke as e:
        say(f"query benchmark broke: {e}")
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        if os.environ.get("BENCH_KEEP") == "1" or not ok:
            say(f"temporary directory kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
