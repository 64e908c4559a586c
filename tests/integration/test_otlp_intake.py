"""OTLP intake: POST /v1/traces and POST /v1/logs on the agent, OTLP/JSON
and OTLP/protobuf, plain and gzip.

A GenAI span (OTel GenAI semantic conventions) becomes an event the
collector stores with the right model, tokens, latency, trace ids and
service; a non-GenAI span in the same body is ignored and counted. A GenAI
inference log record (gen_ai.client.inference.operation.details) becomes an
event too; other records are ignored and counted. Bodies that do not decode
(malformed JSON or protobuf, corrupt gzip) get 400 with the reason and are
counted, a gzip body inflating past the body limit 413, other content types
or encodings 415; the agent stays healthy. A retrieval span sent in one
request gives its documents to the LLM span of its trace sent in the next.
The protobuf trace bodies are the fuzz corpus's valid seeds
(tests/fuzz/corpus/otlp, first byte = format selector); the others are
encoded here (a few lines of protobuf wire format).
"""
import gzip
import http.client
import json
import os
import struct
import subprocess
import time
import uuid

from llmtap_it import SRC, Stack, events_of, log, main, wait_for

CORPUS = os.path.join(SRC, "tests", "fuzz", "corpus", "otlp")


def post_raw(port, data, headers, path="/v1/traces"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", path, body=data, headers=headers)
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


# --- protobuf wire format, just enough for OTLP requests ---------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_len(num, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def f_varint(num, v):
    return varint(num << 3 | 0) + varint(v)


def f_fixed64(num, v):
    return varint(num << 3 | 1) + struct.pack("<Q", v)


def pb_any(v):
    if isinstance(v, str):
        return f_len(1, v)
    if isinstance(v, int):
        return f_varint(3, v)
    if isinstance(v, list):  # ArrayValue (5) of AnyValue
        return f_len(5, b"".join(f_len(1, pb_any(e)) for e in v))
    if isinstance(v, dict):  # KeyValueList (6)
        return f_len(6, b"".join(f_len(1, pb_kv(k, e)) for k, e in v.items()))
    raise TypeError(v)


def pb_kv(k, v):
    return f_len(1, k) + f_len(2, pb_any(v))


def pb_logs(service, records):
    """ExportLogsServiceRequest with one resource and one scope."""
    res = f_len(1, f_len(1, pb_kv("service.name", service)))
    scope = f_len(2, b"".join(f_len(2, r) for r in records))
    return f_len(1, res + scope)


def pb_log(trace, span, t_ns, attrs, event_name=None):
    r = f_fixed64(1, t_ns) + b"".join(f_len(6, pb_kv(k, v)) for k, v in attrs.items())
    r += f_len(9, bytes.fromhex(trace)) + f_len(10, bytes.fromhex(span))
    if event_name:
        r += f_len(12, event_name)
    return r


def json_log(trace, span, t_ns, attrs, event_name=None, body=None):
    r = {"timeUnixNano": str(t_ns), "traceId": trace, "spanId": span,
         "attributes": [attr_any(k, v) for k, v in attrs.items()]}
    if event_name:
        r["eventName"] = event_name
    if body is not None:
        r["body"] = any_value(body)
    return r


def any_value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [any_value(e) for e in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": any_value(e)} for k, e in v.items()]}}
    return {"stringValue": v}


def attr_any(k, v):
    return {"key": k, "value": any_value(v)}


def json_logs(service, records):
    return {"resourceLogs": [{"resource": {"attributes": [attr("service.name", service)]},
                              "scopeLogs": [{"logRecords": records}]}]}


DETAILS = "gen_ai.client.inference.operation.details"


def curl_post(port, path, data, ctype, encoding=None):
    """POSTs with curl (another client than Python's); returns (status, body)."""
    cmd = ["curl", "-sS", "-X", "POST", "-H", f"Content-Type: {ctype}", "--data-binary", "@-",
           "-w", "\\n%{http_code}"]
    if encoding:
        cmd += ["-H", f"Content-Encoding: {encoding}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    r = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


def test_gzip_and_curl(s):
    """JSON with curl, gzip bodies (JSON and protobuf), corrupt gzip, a bomb."""
    svc = "otlp-gz-" + uuid.uuid4().hex[:6]
    start = time.time_ns()
    st, reply = curl_post(s.aport, "/v1/traces", json.dumps(body(svc, uuid.uuid4().hex, start)).encode(),
                          "application/json")
    assert st == 200 and json.loads(reply) == {}, (st, reply)
    gz = gzip.compress(json.dumps(body(svc, uuid.uuid4().hex, start)).encode())
    st, reply = curl_post(s.aport, "/v1/traces", gz, "application/json", "gzip")
    assert st == 200 and json.loads(reply) == {}, (st, reply)
    seed = open(os.path.join(CORPUS, "pb-semconv"), "rb").read()[1:]
    st, hdrs, reply = post_raw(s.aport, gzip.compress(seed), {"Content-Type": "application/x-protobuf",
                                                             "Content-Encoding": "gzip"})
    assert st == 200 and hdrs["content-type"].startswith("application/x-protobuf"), (st, reply)
    evs = events_of(s, svc, 2)
    assert len(evs) == 2 and all(e["usage"]["input_tokens"] == 412 for e in evs), evs
    m0 = s.a.metrics()
    # Corrupt gzip: a flipped byte in the deflate data, a cut stream, not gzip at all.
    bad = bytearray(gz)
    bad[len(bad) // 2] ^= 0xFF
    for data in (bytes(bad), gz[:len(gz) // 2], b"not gzip at all"):
        st, _, reply = post_raw(s.aport, data, {"Content-Type": "application/json",
                                                "Content-Encoding": "gzip"})
        log(f"corrupt gzip -> {st} {reply[:100]!r}")
        assert st == 400 and b"gzip" in reply, (st, reply)
    # A bomb: 64 MiB of zeros in ~64 KiB, over the 16 MiB body limit once inflated.
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    t0 = time.monotonic()
    st, _, reply = post_raw(s.aport, bomb, {"Content-Type": "application/x-protobuf",
                                            "Content-Encoding": "gzip"})
    log(f"gzip bomb of {len(bomb)} bytes -> {st} {reply[:100]!r} in {time.monotonic() - t0:.3f}s")
    assert st == 413 and b"limit" in reply, (st, reply)
    st, _, reply = post_raw(s.aport, b"{}", {"Content-Type": "application/json",
                                             "Content-Encoding": "br"})
    assert st == 415 and b"br" in reply, (st, reply)
    m = s.a.metrics()
    R = "llmtap_agent_otlp_bodies_rejected_total"
    assert m[R + '{reason="bad_gzip"}'] - m0[R + '{reason="bad_gzip"}'] == 3, m
    assert m[R + '{reason="too_large"}'] - m0[R + '{reason="too_large"}'] == 1, m
    assert m["llmtap_agent_otlp_gzip_bodies_total"] - m0["llmtap_agent_otlp_gzip_bodies_total"] == 4
    assert s.a.request("GET", "/healthz")[0] == 200


def test_malformed_protobuf(s):
    """Truncated, wrong wire types, huge lengths: 400 each, counted, agent healthy."""
    good = open(os.path.join(CORPUS, "pb-semconv"), "rb").read()[1:]
    cases = {
        "truncated": good[:len(good) // 3],
        "wrong wire type (resource_spans as varint)": f_varint(1, 5),
        "wrong wire type (start time as varint)":
            f_len(1, f_len(2, f_len(2, f_len(1, b"\x01" * 16) + f_varint(7, 3)))),
        "huge length": b"\x0a" + varint(1 << 40) + b"xx",
        "huge nested length": f_len(1, b"\x12" + varint(0xFFFFFFFF)),
        "group wire type": varint(1 << 3 | 3) + b"\x00",
        "field number 0": b"\x02\x00",
        "truncated varint": b"\x0a\xff\xff",
    }
    m0 = s.a.metrics()
    for path, build in (("/v1/traces", None), ("/v1/logs", None)):
        for name, data in cases.items():
            st, hdrs, reply = post_raw(s.aport, data, {"Content-Type": "application/x-protobuf"}, path)
            log(f"{path} {name}: {st} {reply[:90]!r}")
            assert st == 400, (path, name, st, reply)
            assert hdrs["content-type"].startswith("application/x-protobuf"), hdrs
    m = s.a.metrics()
    R = 'llmtap_agent_otlp_bodies_rejected_total{reason="undecodable"}'
    assert m[R] - m0[R] == 2 * len(cases), (m[R], m0[R])
    assert s.a.request("GET", "/healthz")[0] == 200


def test_logs(s):
    """GenAI inference log records, JSON and protobuf; other records ignored."""
    svc = "otlp-logs-" + uuid.uuid4().hex[:6]
    trace, t = uuid.uuid4().hex, time.time_ns()
    details = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
               "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 120,
               "gen_ai.usage.output_tokens": 9,
               "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text",
                                                                     "content": "Hi there"}]}],
               "gen_ai.output.messages": [{"role": "assistant", "finish_reason": "stop",
                                           "parts": [{"type": "text", "content": "Hello!"}]}]}
    recs = [json_log(trace, "1111111111111111", t, details, event_name=DETAILS),
            json_log(trace, "2222222222222222", t, {"gen_ai.system": "openai"},
                     event_name="gen_ai.user.message", body={"content": "Hi there"}),
            json_log(trace, "3333333333333333", t, {"http.route": "/x"}, body="plain log line")]
    m0 = s.a.metrics()
    st, reply = s.a.post("/v1/logs", json.dumps(json_logs(svc, recs)))
    assert st == 200 and reply == {}, (st, reply)
    # protobuf: the event name as an attribute (event.name), not field 12
    pb = pb_logs(svc, [pb_log(trace, "4444444444444444", t + 1000,
                              {**details, "gen_ai.request.model": "gpt-4o", "event.name": DETAILS}),
                       pb_log(trace, "5555555555555555", t, {"x": "y"}, event_name="app.event")])
    st, hdrs, reply = post_raw(s.aport, pb, {"Content-Type": "application/x-protobuf"}, "/v1/logs")
    assert st == 200 and hdrs["content-type"].startswith("application/x-protobuf"), (st, reply)
    assert reply == b"", reply  # ExportLogsServiceResponse without partial_success
    evs = {e["span_id"]: e for e in events_of(s, svc, 2)}
    assert set(evs) == {"1111111111111111", "4444444444444444"}, evs
    e = evs["1111111111111111"]
    assert e["request_model"] == "gpt-4o-mini" and e["usage"]["input_tokens"] == 120, e
    assert e["request"]["messages"] == [{"role": "user", "content": "Hi there"}], e
    assert e["response"]["text"] == "Hello!" and e["trace_id"] == trace and e["source"] == "otlp", e
    assert evs["4444444444444444"]["request_model"] == "gpt-4o", evs
    m = s.a.metrics()
    d = {k: m.get(k, 0) - m0.get(k, 0) for k in m if "log_records" in k or "log_requests" in k}
    log("logs metrics:", d)
    assert d["llmtap_agent_otlp_log_requests_total"] == 2, d
    assert d["llmtap_agent_otlp_log_records_total"] == 5, d
    assert d["llmtap_agent_otlp_log_records_accepted_total"] == 2, d
    assert d['llmtap_agent_otlp_log_records_ignored_total{reason="per_message_event"}'] == 1, d
    assert d['llmtap_agent_otlp_log_records_ignored_total{reason="not_genai"}'] == 2, d
    # Partial success: one record whose event is over intake.max_event (1 MiB; identifiers
    # such as a document id or a tool-call name are not subject to the text cap), one fine.
    huge = {**details, "gen_ai.retrieval.documents": json.dumps([{"id": "d" * 900_000}]),
            "gen_ai.output.messages": [{"role": "assistant", "parts": [
                {"type": "tool_call", "id": "c1", "name": "n" * 900_000, "arguments": "{}"}]}]}
    recs = [json_log(trace, "6666666666666666", t, huge, event_name=DETAILS),
            json_log(trace, "7777777777777777", t, details, event_name=DETAILS)]
    st, reply = s.a.post("/v1/logs", json.dumps(json_logs(svc, recs)))
    log("logs, one oversized record:", st, str(reply)[:200])
    ps = reply.get("partialSuccess", {}) if isinstance(reply, dict) else {}
    assert st == 200 and ps.get("rejectedLogRecords") == "1", (st, reply)
    assert "6666666666666666" in ps["errorMessage"] and "limit" in ps["errorMessage"], ps
    assert len(events_of(s, svc, 3)) == 3


def test_join_across_requests(s):
    """The retrieval span in one request, the LLM span of its trace in the next."""
    svc = "otlp-join-" + uuid.uuid4().hex[:6]
    trace, t = uuid.uuid4().hex, time.time_ns()
    docs = [{"id": "kb-1", "score": 0.8, "content": "Refunds within 30 days.", "source": "policies"}]
    retr = {"traceId": trace, "spanId": "aaaaaaaaaaaaaaaa", "name": "retrieve",
            "startTimeUnixNano": str(t), "endTimeUnixNano": str(t + 5_000_000),
            "attributes": [attr("gen_ai.operation.name", "retrieval"),
                           attr("gen_ai.retrieval.documents", json.dumps(docs))]}
    m0 = s.a.metrics()
    st, reply = s.a.post("/v1/traces", json.dumps(
        {"resourceSpans": [{"resource": {"attributes": [attr("service.name", svc)]},
                            "scopeSpans": [{"spans": [retr]}]}]}))
    assert st == 200, (st, reply)
    llm = body(svc, trace, t + 10_000_000)
    st, reply = s.a.post("/v1/traces", json.dumps(llm))
    assert st == 200, (st, reply)
    ev = events_of(s, svc, 1)[0]
    log("joined event context:", ev.get("context"))
    assert ev.get("context") == [{"id": "kb-1", "source": "policies", "score": 0.8,
                                  "text": "Refunds within 30 days."}], ev
    m = s.a.metrics()
    assert m["llmtap_agent_otlp_join_events_total"] - m0.get("llmtap_agent_otlp_join_events_total", 0) == 1


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
                                                    "Content-Encoding": "deflate"})
        assert st == 415 and b"deflate" in reply, (st, reply)
        m = s.a.metrics()
        log("agent otlp metrics:", {k: v for k, v in m.items() if "otlp" in k})
        assert m['llmtap_agent_otlp_bodies_rejected_total{reason="undecodable"}'] == 2
        assert s.a.request("GET", "/healthz")[0] == 200
        test_gzip_and_curl(s)
        test_malformed_protobuf(s)
        test_logs(s)
        test_join_across_requests(s)
        assert s.a.request("GET", "/healthz")[0] == 200


if __name__ == "__main__":
    main(test)
