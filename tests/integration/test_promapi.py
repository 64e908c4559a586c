"""The Prometheus HTTP API of the collector over the time series ingest derives.

Events with known values are posted through the agent (dev broker stack);
once stored, PromQL queries must give the hand-computed values: requests by
model, tokens by type, cost, a histogram quantile; then Grafana's health
probe, label and series listings, metadata, buildinfo, format_query and the
error envelope.
"""
import json
import shutil
import subprocess
import math
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone

from llmtap_it import Stack, log, main, metric


def ev(model, status, latency_ms, inp, out, cost, ttft=None, cached=None, env="prod"):
    e = {"schema": "llmtap.event/1", "service": "svc-prom", "env": env, "provider": "openai",
         "operation": "chat", "request_model": model, "status": status, "latency_ms": latency_ms,
         "usage": {"input_tokens": inp, "output_tokens": out}, "cost_usd": cost}
    if cached is not None:
        e["usage"]["cached_input_tokens"] = cached
    if ttft is not None:
        e["ttft_ms"] = ttft
    return e


EVENTS = [
    ev("gpt-a", 200, 100, 10, 20, 0.5, ttft=30, cached=4),
    ev("gpt-a", 200, 300, 30, 40, 0.25),
    ev("gpt-a", 500, 1500, 5, 0, 0.125),
    ev("gpt-b", 200, 50, 100, 200, 1.0, ttft=20),
    ev("gpt-b", 429, 70, 1, 0, 0.0),
]


def q(s, path, **params):
    st, body = s.c.get_json(path + "?" + urllib.parse.urlencode(params))
    return st, body


def vec(body):
    assert body["status"] == "success", body
    assert body["data"]["resultType"] == "vector", body
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in body["data"]["result"]}


def test():
    with Stack() as s:
        st, r = s.a.post("/v1/events", json.dumps(EVENTS))
        assert st == 202, (st, r)
        s.wait_stored(len(EVENTS))
        # A sample is stamped at the end of its 10-second bucket: wait for it.
        time.sleep(math.floor(time.time() / 10) * 10 + 10.5 - time.time())
        now = time.time()

        st, b = q(s, "/api/v1/query", query="sum by (model) (increase(llm_requests_total[5m]))",
                  time=f"{now:.3f}")
        assert st == 200, (st, b)
        got = vec(b)
        log("requests by model:", got)
        assert got == {(("model", "gpt-a"),): 3.0, (("model", "gpt-b"),): 2.0}, got

        st, b = q(s, "/api/v1/query", query="sum by (type) (llm_tokens_total)", time=f"{now:.3f}")
        got = vec(b)
        log("tokens by type:", got)
        assert got == {(("type", "input"),): 146.0, (("type", "output"),): 260.0,
                       (("type", "cached_input"),): 4.0}, got

        st, b = q(s, "/api/v1/query", query="sum(llm_cost_usd_total)", time=f"{now:.3f}")
        got = vec(b)
        assert abs(got[()] - 1.875) < 1e-9, got

        st, b = q(s, "/api/v1/query", query='sum by (status_class) (llm_requests_total)')
        got = vec(b)
        assert got == {(("status_class", "2xx"),): 3.0, (("status_class", "4xx"),): 1.0,
                       (("status_class", "5xx"),): 1.0}, got

        # durations 0.05, 0.07, 0.1, 0.3, 1.5 s: rank 0.5 * 5 = 2.5 falls in
        # (0.08, 0.16] (cumulative 2 at 0.08, 3 at 0.16): 0.08 + 0.08 * 0.5
        st, b = q(s, "/api/v1/query",
                  query="histogram_quantile(0.5, sum by (le) (increase(llm_request_duration_seconds_bucket[5m])))",
                  time=f"{now:.3f}")
        got = vec(b)
        log("p50 duration:", got)
        assert abs(got[()] - 0.12) < 1e-9, got
        st, b = q(s, "/api/v1/query", query="sum(llm_request_duration_seconds_count)")
        assert vec(b)[()] == 5.0
        st, b = q(s, "/api/v1/query", query="sum(llm_time_to_first_token_seconds_count)")
        assert vec(b)[()] == 2.0
        st, b = q(s, "/api/v1/query", query='sum(llm_request_tokens_bucket{type="input",le="16"})')
        assert vec(b)[()] == 3.0, b  # 10, 5, 1

        # range query: a matrix, steps as a duration and as float seconds
        for step in ("15s", "15"):
            st, b = q(s, "/api/v1/query_range", query="sum(llm_requests_total)",
                      start=f"{now - 120:.3f}", end=f"{now:.3f}", step=step)
            assert st == 200 and b["data"]["resultType"] == "matrix", b
            vals = b["data"]["result"][0]["values"]
            assert float(vals[-1][1]) == 5.0, vals

        # the cache of decoded blocks reports itself (these series are all in
        # their open blocks yet: nothing is cached; the cache's own tests are
        # test_scache and test_series)
        m = s.c.metrics()
        for name in ("llmtap_query_block_cache_hits_total", "llmtap_query_block_cache_misses_total",
                     "llmtap_query_block_cache_evictions_total", "llmtap_query_block_cache_bytes"):
            assert name in m, (name, sorted(m))
        assert m["llmtap_query_block_cache_bytes"] == 0, m

        # Grafana's health probe: POST form query=1+1&time=4
        st, b = s.c.post("/api/v1/query", "query=1%2B1&time=4",
                         content_type="application/x-www-form-urlencoded")
        assert st == 200 and b == {"status": "success",
                                   "data": {"resultType": "scalar", "result": [4, "2"]}}, b

        st, b = s.c.get_json("/api/v1/label/__name__/values")
        assert st == 200 and "llm_requests_total" in b["data"] and \
            "llm_request_duration_seconds_bucket" in b["data"], b
        st, b = s.c.get_json("/api/v1/labels")
        for name in ("__name__", "service", "env", "provider", "model", "operation", "status_class",
                     "type", "le"):
            assert name in b["data"], (name, b)
        st, b = s.c.post("/api/v1/labels", "match[]=llm_cost_usd_total",
                         content_type="application/x-www-form-urlencoded")
        assert st == 200 and "le" not in b["data"] and "model" in b["data"], b
        st, b = q(s, "/api/v1/series", **{"match[]": 'llm_requests_total{model="gpt-b"}'})
        assert st == 200 and len(b["data"]) == 2, b  # 2xx and 4xx
        assert all(x["__name__"] == "llm_requests_total" and x["model"] == "gpt-b"
                   for x in b["data"]), b
        st, b = s.c.get_json("/api/v1/series")
        assert st == 400 and b["errorType"] == "bad_data", b
        st, b = s.c.get_json("/api/v1/metadata")
        assert b["data"]["llm_request_duration_seconds"][0]["type"] == "histogram", b
        st, b = s.c.get_json("/api/v1/status/buildinfo")
        v = b["data"]["version"]
        assert st == 200 and len(v.split(".")) == 3 and all(p.isdigit() for p in v.split(".")), b
        st, b = q(s, "/api/v1/format_query", query="sum(rate(x[5m]))by(a)")
        assert b["data"] == "sum by (a) (rate(x[5m]))", b

        # errors: Prometheus's envelope and statuses
        st, b = q(s, "/api/v1/query", query="sum(")
        log("bad query:", st, b)
        assert st == 400 and b["status"] == "error" and b["errorType"] == "bad_data", b
        assert "1:5: parse error" in b["error"], b
        st, b = q(s, "/api/v1/query", query="1", time="yesterday")
        assert st == 400 and b["errorType"] == "bad_data", b
        st, b = q(s, "/api/v1/query_range", query="1", start="0", end="100000", step="1")
        assert st == 400 and "11,000" in b["error"], b
        st, b = q(s, "/api/v1/query", query='label_replace(llm_requests_total, "x", "1", "", "")'
                  ' + on() group_left llm_requests_total')
        assert st in (200, 422), (st, b)
        assert metric(s.c, "llmtap_series_late_events_total") == 0

        # promtool (Debian's prometheus package) speaks to the collector as to Prometheus
        if shutil.which("promtool"):
            u = f"http://127.0.0.1:{s.cport}"

            def promtool(*args):
                p = subprocess.run(["promtool", "query", *args], capture_output=True, text=True,
                                   timeout=60)
                log("promtool query", args[0], "->", p.returncode, p.stdout.strip()[:300],
                    p.stderr.strip()[:300])
                assert p.returncode == 0, p
                return p.stdout

            out = promtool("instant", "--time", f"{now:.3f}", u, "sum by (model) (llm_requests_total)")
            assert '{model="gpt-a"} => 3 @' in out and '{model="gpt-b"} => 2 @' in out, out
            out = promtool("range", "--start", f"{now - 60:.0f}", "--end", f"{now:.0f}", "--step",
                           "15s", u, "sum(llm_requests_total)")
            assert out.strip().splitlines()[-1].startswith("5 @"), out
            out = promtool("series", "--match", "llm_cost_usd_total", u)
            assert out.count("llm_cost_usd_total") == 4, out
            out = promtool("labels", u, "model")
            assert out.split() == ["gpt-a", "gpt-b"], out
        else:
            log("promtool not installed (Debian package prometheus): its checks skipped")

    # Cardinality limit, late events, duplicates.
    with Stack(collector_args=["--series-max-per-metric", "2"]) as s:
        dup = dict(ev("m0", 200, 10, 1, 1, 0.0), id=str(uuid.uuid4()))
        late = dict(ev("m0", 200, 10, 1, 1, 0.0),
                    time=(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat())
        batch = [ev(f"m{i}", 200, 10, 1, 1, 0.0) for i in (1, 2, 3, 4)] + [dup, late]
        st, r = s.a.post("/v1/events", json.dumps(batch))
        assert st == 202, (st, r)
        s.wait_stored(len(batch))
        st, r = s.a.post("/v1/events", json.dumps([dup]))  # the same id again
        assert st == 202, (st, r)
        wait_for_metric = time.time() + 30
        while metric(s.c, "llmtap_collector_events_duplicate_total") < 1:
            assert time.time() < wait_for_metric, "duplicate not seen"
            time.sleep(0.2)
        time.sleep(math.floor(time.time() / 10) * 10 + 10.5 - time.time())
        st, b = q(s, "/api/v1/query", query="sum by (model) (llm_requests_total)")
        got = vec(b)
        log("with max_per_metric=2:", got)
        # m1 and the duplicate's m0 (or m2) get series; the rest fold into __overflow__;
        # the late event is stored but not counted, the duplicate counted once
        assert sum(got.values()) == 5.0, got
        assert got.get((("model", "__overflow__"),)) == 3.0, got
        st, b = q(s, "/api/v1/query", query="count(llm_requests_total)")
        assert vec(b)[()] == 3.0, b
        st, b = q(s, "/api/v1/series", **{"match[]": 'llm_requests_total{model="__overflow__"}'})
        assert all(v == "__overflow__" for k, v in b["data"][0].items() if k != "__name__"), b
        assert metric(s.c, "llmtap_series_overflow_total") >= 3  # events with any series folded
        assert metric(s.c, "llmtap_series_late_events_total") == 1
        assert s.stored_count() == len(batch)
        log("overflow, late and duplicate events: ok")
        log("promapi: all checks passed")


if __name__ == "__main__":
    main(test)
