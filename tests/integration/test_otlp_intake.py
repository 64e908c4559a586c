"""OTLP intake: POST /v1/traces on the agent, OTLP/JSON and OTLP/protobuf.

A GenAI span (OTel GenAI semantic conventions) becomes an event the
collector stores with the right model, tokens, latency, trace ids and
service; a non-GenAI span in the same body is ignored and counted. Bodies
that do not decode get 400 with the reason, other content types or
encodings 415; the agent stays healthy. The protobuf bodies are the fuzz
corpus's valid seeds (tests/fuzz/corpus/otlp, first byte = format selector).
"""
import http.client
import json
import os
import time
import uuid

from llmtap_it import SRC, Stack, log, main, wait_for

CORPUS = os.path.join(SRC, "tests", "fuzz", "corpus", "otlp")


def post_raw(port, data, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/v1/traces", body=data, headers=headers)
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, out


def attr(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def body(service, trace, start_ns):
    genai = {"traceId": trace, "spanId": "00f067aa0ba902b7", "name": "chat gpt-4o-mini", "kind": 3,
             "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 842_500_000),
             "attributes": [attr("gen_ai.operation.name", "chat"),
                            attr("gen_ai.provider.name", "openai"),
                            attr("gen_ai.request.model", "gpt-4o-mini"),
                            attr("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                            attr("gen_ai.usage.input_tokens", 412),
                            attr("gen_ai.usage.output_tokens", 38)],
             "status": {"code": 1}}
    http = {"traceId": trace, "spanId": "a3ce929d0e0e4736", "name": "GET /health", "kind": 2,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(start_ns + 1000),
            "attributes": [attr("http.request.method", "GET")]}
    return {"resourceSpans": [{"resource": {"attributes": [attr("service.name", service)]},
                               "scopeSpans": [{"spans": [genai, http]}]}]}


def test():
    with Stack() as s:
        svc = "otlp-" + uuid.uuid4().hex[:6]
        trace = uuid.uuid4().hex
        start = time.time_ns()
        st, r = s.a.post("/v1/traces", json.dumps(body(svc, trace, start)))
        log("json export:", st, r)
        assert st == 200 and r == {}, (st, r)

        def stored():
            code, lst = s.c.get_json(f"/api/v1/events?service={svc}&limit=10")
            return code == 200 and lst and lst
        lst = wait_for(stored, 60, "the OTLP event", procs=s.procs)
        assert len(lst) == 1, lst
        _, ev = s.c.get_json(f"/api/v1/events/{lst[0]['id']}")
        log("event:", json.dumps(ev)[:300])
        assert ev["source"] == "otlp" and ev["service"] == svc, ev
        assert ev["request_model"] == "gpt-4o-mini" and ev["operation"] == "chat", ev
        assert ev["usage"]["input_tokens"] == 412 and ev["usage"]["output_tokens"] == 38, ev
        assert abs(ev["latency_ms"] - 842.5) < 0.01, ev["latency_ms"]
        assert ev["trace_id"] == trace and ev["span_id"] == "00f067aa0ba902b7", ev
        assert ev.get("cost_usd", 0) > 0, "cost filled from the price table"
        m = s.a.metrics()
        assert m["llmtap_agent_otlp_spans_ignored_total"] == 1, m
        # Re-sending the same span does not double it (its id derives from trace + span id).
        st, _ = s.a.post("/v1/traces", json.dumps(body(svc, trace, start)))
        assert st == 200
        time.sleep(2)
        _, lst = s.c.get_json(f"/api/v1/events?service={svc}&limit=10")
        assert len(lst) == 1, f"a re-sent span was stored twice: {lst}"

        # Protobuf: the corpus's valid seeds (first byte 0x00/0x02: protobuf).
        seeds = [f for f in sorted(os.listdir(CORPUS)) if f.startswith("pb-") and f != "pb-truncated"]
        for f in seeds:
            raw = open(os.path.join(CORPUS, f), "rb").read()
            if raw[0] & 1 or raw[0] & 2:
                continue
            st, hdrs, data = post_raw(s.aport, raw[1:], {"Content-Type": "application/x-protobuf"})
            log(f"protobuf {f}: {st}, {len(data)} bytes back")
            assert st == 200, (f, st, data[:200])
            assert hdrs.get("content-type", "").startswith("application/x-protobuf"), hdrs
        # Malformed and refused bodies.
        cases = [
            ("application/json", b'{"resourceSpans": [', 400),
            ("application/x-protobuf", b"\x0a\xff\xff\xff\xff\x0f", 400),
            ("text/plain", b"hello", 415),
        ]
        for ctype, data, want in cases:
            st, _, reply = post_raw(s.aport, data, {"Content-Type": ctype})
            log(f"{ctype} {data[:20]!r} -> {st} {reply[:120]!r}")
            assert st == want, (ctype, data, st, reply)
        st, _, reply = post_raw(s.aport, b"\x1f\x8b", {"Content-Type": "application/json",
                                                    "Content-Encoding": "gzip"})
        assert st == 415 and b"gzip" in reply, (st, reply)
        m = s.a.metrics()
        log("agent otlp metrics:", {k: v for k, v in m.items() if "otlp" in k})
        assert m['llmtap_agent_otlp_bodies_rejected_total{reason="undecodable"}'] == 2
        assert s.a.request("GET", "/healthz")[0] == 200


if __name__ == "__main__":
    main(test)
