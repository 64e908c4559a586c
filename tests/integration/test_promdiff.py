"""Differential test: llmtap's PromQL against a real Prometheus on the same points.

1. The stack (collector with the --dev broker, agent) takes 30 minutes of
   simulated traffic, sent now but dated in the past (the collector runs
   with --series-late-window 1h so that the old buckets still count):
   event bodies from `llmtap-sim generate` (several services, models,
   statuses 200/429/500), regrouped into label sets of which every one has
   at least one request in every 10-second bucket from T0 to T1.
2. `llmtap-collector export --format openmetrics` (beside the running
   collector) → `promtool tsdb create-blocks-from openmetrics` → a
   Prometheus server (Debian's prometheus 2.42) started on those blocks.
3. The same queries, instant and range, go to both over HTTP; result type,
   label sets and values (relative tolerance 1e-9) must agree. The test
   prints how many were compared and how many agreed, and fails on any
   disagreement.

Deliberate differences, and how the test deals with each (docs/query.md,
"Differential test"):

- Exact counters. llmtap's rate()/increase() take the change between the
  window's edges (baseline: the last sample at or before the start);
  Prometheus extrapolates. They agree when Prometheus has samples exactly
  at both edges: grid-aligned times (multiples of 10 s) on dense data,
  with Prometheus 2.x's closed window [t-r, t]. So rate-like queries
  (rate, increase, irate) are evaluated only at grid-aligned times. At the
  start of the data both agree too: the first sample of every series is a
  0 baseline, and Prometheus does not extrapolate below zero. Where they do
  differ (an off-grid time), the test checks the expected value instead:
  llmtap's increase(x[5m]) equals Prometheus's x - x offset 5m there, and
  Prometheus's own increase() differs (a control that the comparison sees
  differences at all).
- Window ends. llmtap follows Prometheus 3 (range windows (t-r, t] and the
  lookback left-open); Prometheus 2.42 closes them ([t-r, t]). Queries with
  range functions other than the rate family (*_over_time, delta, deriv,
  changes, resets, idelta, predict_linear, raw range vectors) are
  evaluated at off-grid times (t = grid + 5 s), where no sample lies on an
  edge and both read the same samples.
- Held values after the data. llmtap's API reads series with held values
  repeated on the grid for up to 5 minutes after each change (and up to the
  collector's clock); the export holds only stored points. Within [T0, T1]
  the data is dense, so both see the same points; all comparisons are
  inside it, except one check just after T1, where instant selectors agree
  (both hold the last value) and count_over_time differs by exactly the
  grid points llmtap holds after T1.
- Order of results. Compared as sets of label sets, except sort() and
  sort_desc(), whose order is compared. Among equal values, which series
  topk()/bottomk() keep and sort() puts first depends on the order the
  series come in (Prometheus: its storage's), so those queries run on
  values without ties (sums of durations and tokens, which are floats or
  large counts).
- Floating point: relative tolerance 1e-9 (Prometheus 2.42 sums without
  Kahan compensation, llmtap with it).
"""
import json
import math
import os
import random
import shutil
import subprocess
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

from llmtap_it import BIN, Http, Proc, Stack, collector_cmd, free_port, log, main, wait_for

STEP = 10          # the collector's grid, seconds
SPAN = 1800        # seconds of traffic
COMBOS = 10        # label sets
SEED = int(os.environ.get("LLMTAP_TEST_SEED", "0")) or random.randrange(1, 1 << 30)

# ---- traffic -----------------------------------------------------------------


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sim_events(n, seed, start):
    r = subprocess.run([f"{BIN}/llmtap-sim", "generate", "--count", str(n), "--seed", str(seed),
                        "--error-rate", "0.3", "--size-hint", "1100", "--start", str(start),
                        "--span", "600"], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


SIGNATURE = ("env", "provider", "operation", "request_model", "response_model", "prompt_version",
             "status", "latency_ms", "ttft_ms", "cost_usd")


def conform(ev, tmpl):
    """ev with the label-deciding fields and the set of optional numbers of
    tmpl, so that every event of a combination feeds the same series."""
    ev = json.loads(json.dumps(ev))
    for k in SIGNATURE:
        if k not in tmpl:
            ev.pop(k, None)
        elif k not in ev or k in ("env", "provider", "operation", "request_model",
                                   "response_model", "prompt_version", "status"):
            ev[k] = tmpl[k]
    if "ttft_ms" in ev and "latency_ms" in ev:
        ev["ttft_ms"] = min(ev["ttft_ms"], ev["latency_ms"])
    tu = tmpl.get("usage")
    if tu is None:
        ev.pop("usage", None)
    else:
        u = ev.get("usage") or {}
        ev["usage"] = {k: u.get(k, v) for k, v in tu.items()}
    return ev


def make_traffic(rng, t0, t1):
    """Events over [t0, t1): COMBOS label sets, each with 1-3 requests in
    every 10-second bucket."""
    pool = sim_events(3000, SEED, t0)
    by = {}
    for e in pool:
        by.setdefault((e["service"], e["request_model"], e["status"]), []).append(e)
    keys = sorted(by, key=lambda k: (-len(by[k]), k))
    chosen = [k for k in keys if k[2] == 200][:COMBOS - 3]
    chosen += [k for k in keys if k[2] == 429][:2] + [k for k in keys if k[2] == 500][:1]
    assert len(chosen) == COMBOS and len({k[0] for k in chosen}) >= 3, chosen
    log("label sets:", ", ".join(f"{s}/{m}/{st}" for s, m, st in chosen))
    out = []
    for b in range(t0, t1, STEP):
        for k in chosen:
            tmpl = by[k][0]
            for _ in range(1 + (rng.random() < 0.4) + (rng.random() < 0.1)):
                ev = conform(rng.choice(by[k]), tmpl)
                ev["id"] = str(uuid.uuid4())
                ev["time"] = rfc3339(b + rng.uniform(0.2, 9.8))
                out.append(ev)
    return out


# ---- the export and Prometheus -------------------------------------------------


def parse_export(path):
    """{series text: [(t, value)]} and the families' TYPE lines, checking
    the file's structure."""
    series, types, last = {}, {}, None
    with open(path) as f:
        for line in f:
            assert line.endswith("\n"), "unterminated line"
            last = line
            if line.startswith("# TYPE "):
                _, _, fam, typ = line.split()
                assert fam not in types, f"family {fam} twice"
                types[fam] = typ
            elif line.startswith("#"):
                continue
            else:
                s, v, ts = line.rsplit(" ", 2)
                series.setdefault(s, []).append((float(ts), float(v)))
    assert last == "# EOF\n", f"the export ends with {last!r}"
    return series, types


def start_prometheus(tmp, blocks):
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")  # scrapes nothing
    p = Proc("prometheus", ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={blocks}",
                            f"--web.listen-address=127.0.0.1:{port}",
                            "--storage.tsdb.retention.time=10y", "--log.level=warn"], tmp)
    h = Http(port)
    wait_for(lambda: h.request("GET", "/-/ready")[0] == 200, 60, "prometheus /-/ready", procs=[p])
    return p, h


# ---- comparing -------------------------------------------------------------------


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def key(m):
    return tuple(sorted(m.items()))


def diff(a, b, ordered):
    """Why two successful `data` objects differ, or None."""
    if a["resultType"] != b["resultType"]:
        return f"resultType {a['resultType']} vs {b['resultType']}"
    rt, ra, rb = a["resultType"], a["result"], b["result"]
    if rt == "scalar":
        return None if close(float(ra[1]), float(rb[1])) else f"scalar {ra[1]} vs {rb[1]}"
    if ordered and [key(x["metric"]) for x in ra] != [key(x["metric"]) for x in rb]:
        return f"order {[x['metric'] for x in ra]} vs {[x['metric'] for x in rb]}"
    ma, mb = {key(x["metric"]): x for x in ra}, {key(x["metric"]): x for x in rb}
    if len(ma) != len(ra) or len(mb) != len(rb):
        return "duplicate label sets"
    if ma.keys() != mb.keys():
        only_a, only_b = sorted(ma.keys() - mb.keys()), sorted(mb.keys() - ma.keys())
        return f"label sets: llmtap only {only_a[:3]} ({len(only_a)}), prometheus only " \
               f"{only_b[:3]} ({len(only_b)})"
    for k in ma:
        if rt == "vector":
            va, vb = float(ma[k]["value"][1]), float(mb[k]["value"][1])
            if not close(va, vb):
                return f"{dict(k)}: {va!r} vs {vb!r}"
        else:
            pa, pb = ma[k]["values"], mb[k]["values"]
            if [p[0] for p in pa] != [p[0] for p in pb]:
                return f"{dict(k)}: timestamps {[p[0] for p in pa][:5]}... ({len(pa)}) vs " \
                       f"{[p[0] for p in pb][:5]}... ({len(pb)})"
            for (t, x), (_, y) in zip(pa, pb):
                if not close(float(x), float(y)):
                    return f"{dict(k)} @{t}: {x} vs {y}"
    return None


class Diff:
    def __init__(self, llm, prom):
        self.llm, self.prom = llm, prom
        self.compared = self.agreed = self.nonempty = 0
        self.failures = []

    def get(self, h, path, **params):
        st, body = h.get_json(path + "?" + urllib.parse.urlencode(params))
        assert body is not None, (path, params, st)
        return st, body

    def one(self, q, path, ordered=False, prom_q=None, **params):
        """Evaluates q on llmtap and q (or prom_q) on Prometheus; records the
        outcome. Returns both answers."""
        sl, bl = self.get(self.llm, path, query=q, **params)
        sp, bp = self.get(self.prom, path, query=prom_q or q, **params)
        self.compared += 1
        why = None
        if bl["status"] != bp["status"]:
            why = f"status {sl} {bl} vs {sp} {bp}"
        elif bl["status"] != "success":
            why = None if bl.get("errorType") == bp.get("errorType") else \
                f"errors {bl} vs {bp}"
        else:
            why = diff(bl["data"], bp["data"], ordered)
            if bl["data"]["result"] and bl["data"]["resultType"] != "scalar":
                self.nonempty += 1
        if why:
            self.failures.append(f"{path} {q!r}{' vs ' + repr(prom_q) if prom_q else ''} "
                                 f"{params}: {why}")
        else:
            self.agreed += 1
        return bl, bp


# Instant-vector queries: any time. (name, query, ordered)
INSTANT = [
    "llm_requests_total",
    "sum by (model) (llm_requests_total)",
    "avg by (service) (llm_tokens_total)",
    "min by (status_class) (llm_requests_total)",
    "max by (model, type) (llm_tokens_total)",
    "count by (service) (llm_requests_total)",
    "count(llm_request_duration_seconds_bucket)",
    "sum without (le) (llm_request_duration_seconds_bucket)",
    "stddev by (model) (llm_requests_total)",
    "stdvar(llm_cost_usd_total)",
    "quantile by (service) (0.5, llm_requests_total)",
    "group by (service, model) (llm_requests_total)",
    "topk(3, llm_tokens_total)",
    "bottomk(2, sum by (model) (llm_tokens_total))",
    "topk by (service) (1, sum by (service, model) (llm_request_duration_seconds_sum))",
    'count_values("n", llm_requests_total)',
    'count_values by (service) ("requests", sum by (service, status_class) (llm_requests_total))',
    'label_replace(llm_requests_total, "svc", "$1", "service", "([a-z]+)-.*")',
    'label_replace(sum by (model) (llm_requests_total), "family", "$1", "model", "(gpt|claude|llama).*")',
    'label_join(llm_requests_total, "sm", "/", "service", "model", "status_class")',
    'absent(llm_requests_total{service="nope"})',
    "absent(nonexistent_metric)",
    "absent(llm_requests_total)",
    "sum by (model) (llm_cost_usd_total) / sum by (model) (llm_requests_total)",
    "llm_tokens_total / ignoring(type) group_left llm_requests_total",
    "sum by (service, model) (llm_tokens_total) / on(service) group_left "
    "sum by (service) (llm_requests_total)",
    "sum by (service) (llm_requests_total) * on(service) group_right "
    "sum by (service, model) (llm_cost_usd_total)",
    "llm_requests_total / on(service, model, status_class, env, provider, operation, "
    "prompt_version) llm_request_duration_seconds_count",
    "sum by (service, model) (llm_requests_total) > 100",
    "sum by (model) (llm_requests_total) > bool 200",
    'llm_requests_total unless llm_requests_total{status_class="2xx"}',
    'sum by (model) (llm_requests_total{status_class="2xx"}) or sum by (model) (llm_requests_total)',
    "llm_cost_usd_total and on(model) (sum by (model) (llm_requests_total) > 100)",
    "scalar(sum(llm_requests_total))",
    "sum(llm_requests_total) - scalar(count(llm_requests_total))",
    "vector(1) + sum(llm_requests_total)",
    "timestamp(llm_requests_total)",
    "histogram_quantile(0.9, sum by (le, model) (llm_request_duration_seconds_bucket))",
    "histogram_quantile(0.5, sum by (le) (llm_request_tokens_bucket{type=\"input\"}))",
    "clamp_max(llm_requests_total, 100) + abs(-llm_requests_total)",
    "round(sum by (service) (llm_cost_usd_total), 0.01)",
    "ln(sum by (model) (llm_tokens_total))",
    "sum by (model) (llm_requests_total offset 3m)",
    ("sort_desc(sum by (service, model, status_class) (llm_request_duration_seconds_sum))", True),
    ("sort(llm_request_duration_seconds_sum)", True),
]

# The rate family: only at grid-aligned times.
GRID = [
    "sum by (model) (rate(llm_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (le, model) (rate(llm_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, sum by (le, service) (increase(llm_time_to_first_token_seconds_bucket[10m])))",
    "sum by (service) (increase(llm_tokens_total[10m]))",
    "sum(rate(llm_request_duration_seconds_sum[5m])) / sum(rate(llm_request_duration_seconds_count[5m]))",
    'sum by (model) (rate(llm_requests_total{status_class!="2xx"}[5m])) / '
    "sum by (model) (rate(llm_requests_total[5m]))",
    "irate(llm_requests_total[1m])",
    "topk(3, sum by (service, model) (rate(llm_tokens_total[5m])))",
    "rate(llm_cost_usd_total[2m])",
    "increase(llm_requests_total[1m])",
    'label_replace(sum by (model, type) (rate(llm_tokens_total[5m])), "t", "$1", "type", "(.).*")',
    "sum by (model) (rate(llm_tokens_total[5m])) / ignoring(type) group_left "
    "sum by (model) (rate(llm_requests_total[5m]))",
    "sum(rate(llm_requests_total[5m] offset 2m))",
]

# Range functions other than the rate family: only at off-grid times.
OFFGRID = [
    "max_over_time(llm_requests_total[5m])",
    "min_over_time(llm_cost_usd_total[5m])",
    "avg_over_time(llm_tokens_total[2m])",
    "count_over_time(llm_requests_total[3m])",
    "sum by (model) (sum_over_time(llm_requests_total[1m]))",
    "last_over_time(llm_requests_total[1m])",
    "stddev_over_time(llm_request_duration_seconds_sum[5m])",
    "quantile_over_time(0.9, llm_requests_total[5m])",
    "present_over_time(llm_requests_total[1m])",
    "absent_over_time(nonexistent_metric[5m])",
    "changes(llm_requests_total[5m])",
    "resets(llm_requests_total[5m])",
    "delta(llm_requests_total[5m])",
    "idelta(llm_tokens_total[1m])",
    "deriv(llm_requests_total[5m])",
    "predict_linear(llm_requests_total[5m], 60)",
    "sum by (service) (max_over_time(llm_requests_total[10m]) - min_over_time(llm_requests_total[10m]))",
    "max_over_time(sum(rate(llm_requests_total[5m]))[10m:1m])",
]


def test():
    rng = random.Random(SEED)
    log(f"seed {SEED} (LLMTAP_TEST_SEED to replay)")
    for tool in ("prometheus", "promtool"):
        assert shutil.which(tool), f"{tool} not found: install the Debian package prometheus " \
                                   "(packaging/install-deps.sh)"
    started = time.monotonic()
    with Stack(collector_args=["--series-late-window", "1h"]) as s:
        t1 = int(time.time()) // STEP * STEP - 60
        t0 = t1 - SPAN
        evs = make_traffic(rng, t0, t1)
        log(f"{len(evs)} events from {rfc3339(t0)} to {rfc3339(t1)}")
        for i in range(0, len(evs), 400):
            st, r = s.a.post("/v1/events", json.dumps(evs[i:i + 400]))
            assert st == 202, (st, r)
        s.wait_stored(len(evs))
        late = s.c.metrics().get("llmtap_series_late_events_total", 0)
        assert late == 0, f"{late} events too late for the series"

        # export beside the running collector, then Prometheus on the same points
        om = os.path.join(s.tmp, "series.om")
        rc, out = collector_cmd("export", "--format", "openmetrics", "--start", str(t0 - 600),
                                "--end", rfc3339(time.time() + 60), "--data-dir",
                                os.path.join(s.tmp, "data"), "--output", om)
        log("export:", out.strip()[-300:])
        assert rc == 0, out
        series, types = parse_export(om)
        log(f"exported {len(series)} series, {sum(map(len, series.values()))} samples, "
            f"families {sorted(types.items())}")
        assert types.get("llm_requests") == "counter", types
        assert types.get("llm_request_duration_seconds") == "histogram", types
        # The precondition of the chosen windows: a sample at every grid step.
        grid = [float(t) for t in range(t0, t1 + 1, STEP)]
        sparse = [k for k, v in series.items() if [t for t, _ in v] != grid]
        assert not sparse, f"{len(sparse)} series are not dense on [T0, T1], e.g. {sparse[0]}: " \
                           f"{series[sparse[0]][:3]}"
        st, b = s.c.get_json("/api/v1/series?" + urllib.parse.urlencode(
            {"match[]": '{__name__=~"llm_.+"}'}))
        assert st == 200 and len(b["data"]) == len(series), (len(b["data"]), len(series))

        blocks = os.path.join(s.tmp, "prom-data")
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, blocks],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        log("promtool:", r.stdout.strip().splitlines()[-1][:200] if r.stdout.strip() else "")
        prom, ph = start_prometheus(s.tmp, blocks)
        try:
            d = Diff(s.c, ph)
            st, b = d.get(ph, "/api/v1/series", **{"match[]": '{__name__=~"llm_.+"}'})
            assert len(b["data"]) == len(series), (len(b["data"]), len(series))
            # The raw points themselves: every sample of (T0, T1] in both.
            d.one(f"llm_requests_total[{SPAN - 5}s]", "/api/v1/query", time=t1)
            d.one(f"llm_request_duration_seconds_bucket[{SPAN - 5}s]", "/api/v1/query", time=t1)

            grid_t = [t0 + 120, t0 + 300, t0 + 770, t0 + 1200, t1 - 300, t1]
            off_t = [t0 + 125, t0 + 305, t0 + 905, t1 - 295, t1 - 5]
            for q in INSTANT + GRID + OFFGRID:
                q, ordered = q if isinstance(q, tuple) else (q, False)
                times = grid_t if q in GRID else off_t if q in OFFGRID else grid_t[1:3] + off_t[2:4]
                for t in times:
                    d.one(q, "/api/v1/query", ordered, time=t)
                if not ordered:
                    start = t0 + 300 + (5 if q in OFFGRID else 0)
                    d.one(q, "/api/v1/query_range", start=start, end=start + 1200, step=60)
            d.one(GRID[0], "/api/v1/query_range", start=t0, end=t1, step=30)

            # Exact counters where they differ: llmtap's increase at an off-grid
            # time is Prometheus's x - x offset 5m; Prometheus's increase is not.
            q = "sum by (model) (increase(llm_requests_total[5m]))"
            for t in off_t[1:]:
                d.one(q, "/api/v1/query", prom_q="sum by (model) (llm_requests_total - "
                      "llm_requests_total offset 5m)", time=t)
            bl, bp = d.get(s.c, "/api/v1/query", query=q, time=t1 - 295)[1], \
                d.get(ph, "/api/v1/query", query=q, time=t1 - 295)[1]
            assert diff(bl["data"], bp["data"], False), \
                "llmtap's increase() agrees with Prometheus's extrapolated one off the grid: " \
                "exact counters are not in effect, or the comparison sees nothing"

            # After T1 llmtap holds the last values on the grid (up to 5 minutes
            # and its clock): instants agree, count_over_time counts the held
            # points (T1+10 .. T1+40) on top.
            ta = t1 + 45
            d.one("sum by (model) (llm_requests_total)", "/api/v1/query", time=ta)
            cl = d.get(s.c, "/api/v1/query", query="count_over_time(llm_requests_total[5m])",
                       time=ta)[1]
            cp = d.get(ph, "/api/v1/query", query="count_over_time(llm_requests_total[5m])",
                       time=ta)[1]
            held = {key(x["metric"]): float(x["value"][1]) for x in cl["data"]["result"]}
            raw = {key(x["metric"]): float(x["value"][1]) for x in cp["data"]["result"]}
            assert held.keys() == raw.keys() and held, (held, raw)
            bad = {k: (held[k], raw[k]) for k in held if held[k] - raw[k] != (ta - t1) // STEP}
            assert not bad, f"count_over_time after T1: llmtap vs Prometheus {bad}"

            log(f"promdiff: {d.compared} evaluations compared, {d.agreed} agree, "
                f"{d.compared - d.agreed} differ; {d.nonempty} with a non-empty result "
                f"({len(INSTANT) + len(GRID) + len(OFFGRID)} queries; "
                f"{time.monotonic() - started:.0f} s)")
            for f in d.failures[:25]:
                log("DIFF", f)
            assert not d.failures, f"{len(d.failures)} evaluations differ"
            assert d.nonempty >= d.compared * 0.8, "too many empty results: nothing compared"
        finally:
            rc = prom.stop()
            if rc:
                prom.dump()


if __name__ == "__main__":
    main(test)
