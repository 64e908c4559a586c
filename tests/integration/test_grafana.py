"""Grafana's own calls to a Prometheus datasource, replayed against the collector.

Each request below has the method, path and parameter forms Grafana's
built-in Prometheus datasource sends (form-encoded POST for queries, the
default "HTTP method: POST"; float-second times): Save & test, the metric
browser, label autocomplete, the `label_values(...)` and `query_result(...)`
template variables, an annotation query, and the exemplars request that
links a latency or cost spike to the stored event. Events with known times,
latencies, costs and trace ids are posted through the agent, so every answer
is checked against values computed by hand.
"""
import json
import math
import time
import urllib.parse
from datetime import datetime, timezone

from llmtap_it import Stack, log, main, wait_for

FORM = "application/x-www-form-urlencoded"


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def post_form(s, path, **params):
    st, body = s.c.post(path, urllib.parse.urlencode(params), FORM)
    return st, body


def get(s, path, params):
    return s.c.get_json(path + "?" + urllib.parse.urlencode(params, doseq=True))


def ok(st, body):
    assert st == 200 and body["status"] == "success", (st, body)
    return body["data"]


def test():
    now = time.time()
    t1, t2 = now - 200, now - 100  # two times, 100 s apart: different exemplar slices

    def ev(i, t, model, env, latency_ms, cost, status=200):
        return {"schema": "llmtap.event/1", "service": "svc-graf", "env": env,
                "provider": "openai", "operation": "chat", "request_model": model,
                "status": status, "latency_ms": latency_ms, "time": rfc3339(t),
                "trace_id": f"{i:032x}", "usage": {"input_tokens": 10, "output_tokens": 5},
                "cost_usd": cost}

    events = [
        # gpt-a, prod, at t1: three calls in the 0.64 s bucket; the largest (0.60 s) is the exemplar
        ev(1, t1, "gpt-a", "prod", 500, 0.01),
        ev(2, t1 + 0.1, "gpt-a", "prod", 600, 0.03),
        ev(3, t1 + 0.2, "gpt-a", "prod", 550, 0.02),
        # gpt-a, prod, at t2: another slice of the same series
        ev(4, t2, "gpt-a", "prod", 620, 0.05),
        # gpt-b, staging, at t2: a slow failed call (le 2.56)
        ev(5, t2 + 0.5, "gpt-b", "staging", 2000, 0.40, status=500),
    ]
    # A small query.max_samples: Grafana's queries below stay under it.
    with Stack(collector_args=["--query-max-samples", "2000"]) as s:
        st, r = s.a.post("/v1/events", json.dumps(events))
        assert st == 202 and r["accepted"] == len(events), (st, r)
        s.wait_stored(len(events))
        time.sleep(max(0.0, math.floor(time.time() / 10) * 10 + 10.5 - time.time()))
        end = time.time()
        start = end - 3600
        rng = {"start": f"{start:.3f}", "end": f"{end:.3f}"}

        # Save & test: Grafana's health query, as a form POST, then the
        # buildinfo it reads to detect the Prometheus flavour.
        d = ok(*post_form(s, "/api/v1/query", query="1+1", time="4"))
        assert d == {"resultType": "scalar", "result": [4, "2"]}, d
        d = ok(*s.c.get_json("/api/v1/status/buildinfo"))
        assert d["version"].count(".") == 2, d

        # Metric browser: metric names with start/end/limit.
        names = ok(*get(s, "/api/v1/label/__name__/values", {**rng, "limit": "40000"}))
        for n in ("llm_requests_total", "llm_cost_usd_total",
                  "llm_request_duration_seconds_bucket"):
            assert n in names, names
        st, b = get(s, "/api/v1/label/__name__/values", {**rng, "limit": "2"})
        assert ok(st, b) == sorted(names)[:2], b
        log("metric names:", len(names))

        # Label autocomplete: label names of a metric.
        lbls = ok(*post_form(s, "/api/v1/labels", **{"match[]": "llm_requests_total"}, **rng))
        assert {"__name__", "service", "env", "model", "provider", "operation",
                "status_class"} <= set(lbls), lbls

        # label_values(llm_requests_total, model): the label values endpoint
        # with match[] (Prometheus >= 2.24), and the series form older
        # settings use.
        vals = ok(*get(s, "/api/v1/label/model/values", {"match[]": "llm_requests_total", **rng}))
        assert vals == ["gpt-a", "gpt-b"], vals
        ser = ok(*get(s, "/api/v1/series", {"match[]": "llm_requests_total", **rng}))
        assert sorted((x["model"], x["env"]) for x in ser) == [("gpt-a", "prod"),
                                                               ("gpt-b", "staging")], ser

        # query_result(...): an instant query at the dashboard's end time.
        d = ok(*post_form(s, "/api/v1/query", query="topk(1, sum by (model) (llm_requests_total))",
                          time=f"{end:.3f}"))
        assert d["resultType"] == "vector" and len(d["result"]) == 1, d
        assert d["result"][0]["metric"] == {"model": "gpt-a"} and d["result"][0]["value"][1] == "4", d

        # Annotation query: a range query over the dashboard, step 60 s;
        # the 5xx call shows in the steps whose 5-minute window holds it.
        d = ok(*post_form(s, "/api/v1/query_range",
                          query='sum(increase(llm_requests_total{status_class="5xx"}[5m])) > 0',
                          start=f"{start:.3f}", end=f"{end:.3f}", step="60"))
        assert d["resultType"] == "matrix" and len(d["result"]) == 1, d
        pts = d["result"][0]["values"]
        assert pts and all(v == "1" for _, v in pts), pts
        assert all(t2 - 1 <= t <= t2 + 301 for t, _ in pts), (t2, pts)
        log("annotation steps:", len(pts))

        # Exemplars for a latency panel: one per series and slice, the largest.
        q = "histogram_quantile(0.95, sum by (le) (rate(llm_request_duration_seconds_bucket[5m])))"
        ex = ok(*get(s, "/api/v1/query_exemplars", {"query": q, **rng}))
        by = {(e["seriesLabels"]["model"], e["seriesLabels"]["le"]): e for e in ex}
        assert set(by) == {("gpt-a", "0.64"), ("gpt-b", "2.56")}, ex
        a = by[("gpt-a", "0.64")]
        assert a["seriesLabels"]["__name__"] == "llm_request_duration_seconds_bucket", a
        got = [(x["labels"]["trace_id"], x["value"]) for x in a["exemplars"]]
        assert got == [(f"{2:032x}", "0.6"), (f"{4:032x}", "0.62")], a
        assert abs(a["exemplars"][0]["timestamp"] - (t1 + 0.1)) < 0.002, a
        b5 = by[("gpt-b", "2.56")]
        assert b5["seriesLabels"]["status_class"] == "5xx" and b5["seriesLabels"]["env"] == "staging"
        eid = b5["exemplars"][0]["labels"]["event_id"]
        st, stored = s.c.get_json("/api/v1/events/" + urllib.parse.quote(eid))
        assert st == 200 and stored["latency_ms"] == 2000, (st, stored)
        log("latency exemplars:", [(k, len(e["exemplars"])) for k, e in sorted(by.items())])

        # Selectors filter, on header fields and on env (read from the event).
        ex = ok(*get(s, "/api/v1/query_exemplars",
                     {"query": 'rate(llm_cost_usd_total{env="staging"}[5m])', **rng}))
        assert len(ex) == 1 and ex[0]["seriesLabels"]["model"] == "gpt-b", ex
        assert [x["value"] for x in ex[0]["exemplars"]] == ["0.4"], ex
        ex = ok(*get(s, "/api/v1/query_exemplars",
                     {"query": 'sum(rate(llm_cost_usd_total{model="gpt-a"}[5m]))', **rng}))
        assert [[x["value"] for x in e["exemplars"]] for e in ex] == [["0.03", "0.05"]], ex
        # A narrower range keeps only the calls inside it.
        ex = ok(*get(s, "/api/v1/query_exemplars",
                     {"query": 'llm_cost_usd_total{model="gpt-a"}', "start": f"{t2 - 1:.3f}",
                      "end": f"{end:.3f}"}))
        assert [[x["value"] for x in e["exemplars"]] for e in ex] == [["0.05"]], ex
        # Metrics without exemplars, and a bad query.
        ex = ok(*get(s, "/api/v1/query_exemplars", {"query": "llm_requests_total", **rng}))
        assert ex == [], ex
        st, b = get(s, "/api/v1/query_exemplars", {"query": "sum(", **rng})
        assert st == 400 and b["errorType"] == "bad_data", (st, b)
        # query.max_samples: 30 bucket series x their subquery points (~4,800) > 2000.
        st, b = post_form(s, "/api/v1/query", query="llm_request_duration_seconds_bucket[1h:1s]",
                          time=f"{end:.3f}")
        assert st == 422 and b["errorType"] == "execution" and "too many samples" in b["error"], b

        # The collector's own metrics are series too (sampled every 10 s).
        def stored_series():
            d = ok(*post_form(s, "/api/v1/query", query="max_over_time(llmtap_store_events[5m])",
                              time=f"{time.time():.3f}"))
            return d["result"] and float(d["result"][0]["value"][1]) == len(events)
        wait_for(stored_series, 30, "llmtap_store_events as a series", procs=s.procs)
        names = ok(*get(s, "/api/v1/label/__name__/values", {}))
        assert "llmtap_store_events" in names and "llmtap_collector_events_stored_total" in names
        d = ok(*get(s, "/api/v1/series", {"match[]": 'llmtap_collector_events_invalid_total'}))
        assert d and all(x["__name__"] == "llmtap_collector_events_invalid_total" for x in d), d
        d = ok(*get(s, "/api/v1/metadata", {"metric": "llmtap_store_events"}))
        assert d["llmtap_store_events"][0]["type"] == "gauge", d
        m = s.c.metrics()
        assert m["llmtap_exemplar_queries_total"] >= 5, m
        log("exemplar queries:", m["llmtap_exemplar_queries_total"],
            "events read:", m["llmtap_exemplar_events_read_total"])


if __name__ == "__main__":
    main(test)
