#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/{event,intake,otlp}/seed-*.

Seeds are the hand-written starting points; libFuzzer grows them. Files not
named seed-* (reproducers of bugs found, `crash-*`, `repro-*`) are left
alone. Run it after editing the lists below; the output is checked in.

intake inputs start with one "shape" byte (see fuzz_intake.c):
  bits 0-1 Content-Type (0 JSON, 1 NDJSON, 2 none, 3 text/plain),
  bit 2 the small-limits intake without a default service,
  bits 3-6 the producer failure pattern, bit 7 the failure (queue full or not).

otlp inputs start with one selector byte (see fuzz_otlp.c): bit 0 JSON,
bit 1 small limits, bit 2 a logs body, bit 3 gzip. Only the seed-* files
are written here; the older hand-made ones (json-*, pb-*) and reproducers
(repro-*) stay.
"""
import gzip
import json
import struct
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MINIMAL = {
    "schema": "llmtap.event/1",
    "id": "01JDQ6Z8V6M9T3K2W4X5Y6Z7A8",
    "time": "2026-11-23T10:15:02.123456Z",
    "service": "support-bot",
    "provider": "openai",
    "operation": "chat",
    "request_model": "gpt-4o-mini",
    "latency_ms": 842.5,
}

RICH = {
    "schema": "llmtap.event/1",
    "id": "01JDQ6Z8V6M9T3K2W4X5Y6Z7A8",
    "time": "2026-11-23T10:15:02.123456Z",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
    "parent_span_id": "a3ce929d0e0e4736",
    "service": "support-bot",
    "env": "prod",
    "host": "support-bot-7c9f-xk2lp",
    "source": "agent-proxy",
    "provider": "openai",
    "operation": "chat",
    "request_model": "gpt-4o-mini",
    "response_model": "gpt-4o-mini-2024-07-18",
    "prompt_template": "support-answer",
    "prompt_version": "7",
    "stream": True,
    "request": {
        "messages": [
            {"role": "system", "content": "You answer from the context only."},
            {"role": "user", "content": [{"type": "text", "text": "How do I reset my password?"}]},
        ],
        "params": {"temperature": 0.2, "max_tokens": 512},
    },
    "context": [{"id": "kb-112", "source": "helpcenter", "score": 0.83,
                 "text": "To reset your password, open Settings > Security ..."}],
    "response": {"text": "Open Settings, then Security, and choose Reset password.",
                 "finish_reason": "stop", "tool_calls": []},
    "usage": {"input_tokens": 412, "output_tokens": 38, "cached_input_tokens": 256,
              "reasoning_tokens": 0},
    "latency_ms": 842.5,
    "ttft_ms": 211.0,
    "status": 200,
    "error": None,
    "cost_usd": 0.0000846,
    "user": "u_5f2c",
    "session": "s_93a1",
    "tags": {"tenant": "acme", "deployment": "canary"},
    "truncated": False,
    "redactions": 0,
}


def j(obj, **kw):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, **kw).encode()


def with_(base, **changes):
    d = dict(base)
    for k, v in changes.items():
        if v is KeyError:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def splice(base, raw):
    """MINIMAL-like object text with raw JSON text appended as the last member."""
    return j(base)[:-1] + b"," + raw + b"}"


def deep(n, leaf=b"0"):
    return b"[" * n + leaf + b"]" * n


def event_seeds():
    m = MINIMAL
    s = {}
    s["valid-minimal"] = j(m)
    s["valid-rich"] = json.dumps(RICH, indent=2).encode()
    s["valid-uuid-offset"] = j(with_(m, id="3f0c2a8e-1b7d-4c55-9a1e-5d2f7c0b9e41",
                                     time="2026-11-23t12:15:02+02:00"))
    s["valid-nulls"] = j(with_(m, env=None, usage=None, error=None, tags=None, cost_usd=None,
                               response_model=None, status=None))
    s["valid-response-model-only"] = j(with_(m, request_model=KeyError, response_model="gpt-x"))
    s["valid-unicode"] = j(with_(m, user="ünïcødé ☃ 😀", tags={"k\n": "v\"\\"}))
    s["valid-escapes"] = splice(m, rb'"x":"\ud83d\ude00\u00e9\/\b\f\n\r\t\u001f"')
    s["valid-unknown-fields"] = j(with_(m, future={"kept": [1, 2.5, -3e-7, True, None, {}]}))
    s["valid-numbers"] = splice(m, b'"n":[0,-0,1e15,1E-5,123456789012,0.1,-0.0,1.7976931348623156e308]')
    s["valid-whitespace"] = b" \r\n\t" + j(m) + b"\n \t"
    s["dup-keys"] = splice(m, b'"service":"other","latency_ms":"x"')
    s["empty"] = b""
    s["whitespace-only"] = b" \n\t\r "
    s["truncated"] = j(m)[:57]
    s["truncated-string"] = b'{"schema":"llmtap.ev'
    s["trailing-garbage"] = j(m) + b" x"
    s["two-values"] = j(m) + j(m)
    s["not-object-array"] = j([m])
    s["not-object-scalar"] = b'"llmtap.event/1"'
    s["wrong-type-latency"] = j(with_(m, latency_ms="842"))
    s["wrong-type-stream"] = j(with_(m, stream="yes"))
    s["wrong-type-status"] = j(with_(m, status=200.5))
    s["wrong-type-messages"] = j(with_(m, request={"messages": {"role": "user"}}))
    s["wrong-type-message-content"] = j(with_(m, request={"messages": [{"role": "u", "content": 5}]}))
    s["wrong-type-context-score"] = j(with_(m, context=[{"id": "a", "score": "high"}]))
    s["wrong-type-tags"] = j(with_(m, tags={"a": 1}))
    s["wrong-type-error"] = j(with_(m, error="boom"))
    s["wrong-type-error-message"] = j(with_(m, error={"type": "x", "message": 5}))
    s["valid-error-object"] = j(with_(m, status=429, error={"type": "rate_limit", "message": "slow down"}))
    s["wrong-type-context-item"] = j(with_(m, context=[1]))
    s["wrong-type-request"] = j(with_(m, request="x"))
    s["wrong-type-usage"] = j(with_(m, usage=[1]))
    s["wrong-type-response"] = j(with_(m, response=1))
    s["wrong-type-tool-calls"] = j(with_(m, response={"tool_calls": {}}))
    s["bad-value-usage"] = j(with_(m, usage={"input_tokens": -1}))
    s["bad-value-usage-fraction"] = j(with_(m, usage={"input_tokens": 1.5}))
    s["bad-value-schema"] = j(with_(m, schema="llmtap.event/2"))
    s["bad-value-id"] = j(with_(m, id="not-an-id"))
    s["bad-value-time"] = j(with_(m, time="2026-02-30T10:15:02Z"))
    s["bad-value-trace-id"] = j(with_(m, trace_id="4bf92f35"))
    s["bad-value-service"] = j(with_(m, service="support bot"))
    s["bad-value-status"] = j(with_(m, status=1000))
    s["bad-value-long-env"] = j(with_(m, env="e" * 129))
    s["missing-schema"] = j(with_(m, schema=KeyError))
    s["missing-id"] = j(with_(m, id=KeyError))
    s["missing-service"] = j(with_(m, service=None))
    s["missing-model"] = j(with_(m, request_model=KeyError))
    s["missing-latency"] = j(with_(m, latency_ms=KeyError))
    s["utf8-overlong"] = splice(m, b'"x":"\xc0\xaf"')
    s["utf8-surrogate"] = splice(m, b'"x":"\xed\xa0\x80"')
    s["utf8-truncated"] = splice(m, b'"x":"\xe2\x82"')
    s["utf8-too-big"] = splice(m, b'"x":"\xf4\x90\x80\x80"')
    s["utf8-in-key"] = splice(m, b'"\xff":1')
    s["nul-raw"] = splice(m, b'"x":"a\x00b"')
    s["nul-escaped"] = splice(m, rb'"x":"a\u0000b"')
    s["control-raw"] = splice(m, b'"x":"a\x01b"')
    s["deep-100"] = splice(m, b'"x":' + deep(100))
    s["deep-32"] = splice(m, b'"x":' + deep(31))
    s["deep-33"] = splice(m, b'"x":' + deep(32))
    s["deep-brackets-in-string"] = splice(m, b'"x":"' + b"[" * 100 + b'"')
    s["huge-latency"] = j(m)[:-1].replace(b'"latency_ms":842.5', b'"latency_ms":1e400') + b"}"
    s["huge-int-tokens"] = splice(m, b'"usage":{"input_tokens":123456789012345678901234567890}')
    s["long-number"] = splice(m, b'"x":0.' + b"0" * 70 + b"1")
    s["lone-high-surrogate"] = splice(m, rb'"x":"\ud800"')
    s["lone-low-surrogate"] = splice(m, rb'"x":"\udc00"')
    s["bad-pair"] = splice(m, rb'"x":"\ud800\u0041"')
    s["bad-escape"] = splice(m, rb'"x":"\q"')
    return s


def intake_seeds():
    m = MINIMAL
    bare = {k: v for k, v in m.items() if k not in ("schema", "id", "time", "service")}
    JSON, NDJSON, NONE, TEXT = 0, 1, 2, 3
    SMALL = 4

    def qf(mask):
        return mask << 3

    s = {}
    s["json-valid"] = (JSON, j(m))
    s["json-rich"] = (JSON, json.dumps(RICH, indent=1).encode())
    s["json-filled"] = (JSON, j(bare))
    s["json-filled-no-service"] = (JSON | SMALL, j(bare))
    s["none-valid"] = (NONE, j(m))
    s["text-plain"] = (TEXT, j(m))
    s["json-array"] = (JSON, j([m, bare, with_(m, latency_ms=-1), 7, None]))
    s["json-array-empty"] = (JSON, b"[]")
    s["json-array-non-objects"] = (JSON, b'[1,"x",null,[],true]')
    s["json-array-150-bad"] = (JSON, j([{}] * 150))
    s["json-scalar"] = (JSON, b"42")
    s["json-truncated"] = (JSON, j([m, m])[:90])
    s["json-trailing"] = (JSON, j(m) + b"}")
    s["json-nul"] = (JSON, j(m)[:20] + b"\x00" + j(m)[20:])
    s["json-bad-utf8"] = (JSON, splice(m, b'"x":"\xff"'))
    s["json-deep"] = (JSON, splice(m, b'"x":' + deep(100)))
    s["json-array-deep-small"] = (JSON | SMALL, j([with_(bare, service="s", x=[[[[[[[1]]]]]]])]))
    s["empty"] = (JSON, b"")
    s["whitespace"] = (NDJSON, b" \r\n\t\n")
    s["ndjson"] = (NDJSON, j(m) + b"\n\n" + j(bare) + b"\r\n  \t\n" + b"{broken\n" + j(m))
    s["ndjson-bad-utf8-line"] = (NDJSON, j(m) + b"\n\xc3\x28\n" + j(m) + b"\n")
    s["ndjson-all-broken"] = (NDJSON, b"{\n[\n\xff\n")
    s["ndjson-array-line"] = (NDJSON, j([m]) + b"\n" + b"null\n")
    s["ndjson-crlf"] = (NDJSON, j(m) + b"\r\n" + j(m) + b"\r\n")
    s["queue-full-all"] = (JSON | qf(0b1111), j([m, m]))
    s["queue-full-some"] = (JSON | qf(0b0101), j([m, m, m, m]))
    s["queue-full-ndjson"] = (NDJSON | qf(0b1111), j(m) + b"\n{}\n")
    s["kafka-error-all"] = (JSON | qf(0b11111), j([m, m]))
    s["kafka-error-some"] = (NDJSON | qf(0b10010), j(m) + b"\n" + j(m) + b"\n")
    s["small-single-too-large"] = (JSON | SMALL, j(with_(m, pad="p" * 2100)))
    s["small-item-too-large"] = (JSON | SMALL, j([with_(m, pad="p" * 2100), m]))
    s["small-item-grows"] = (JSON | SMALL, b"[" + splice(m, b'"n":[' + b",".join([b"1e15"] * 170) + b"]") + b"]")
    s["small-body-too-large"] = (JSON | SMALL, j([m] * 80))
    s["dup-service"] = (JSON, splice(m, b'"service":"x y"'))
    s["huge-number"] = (JSON, splice(m, b'"x":1e400'))
    s["lone-surrogate"] = (NDJSON, splice(m, rb'"x":"\ud800"') + b"\n" + j(m))
    s["escaped-nul"] = (JSON, splice(m, rb'"x":"\u0000"'))
    return s


# --- OTLP: protobuf wire format, just enough to write requests ---------------

def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_len(num, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload


def pb_any(v):
    if isinstance(v, str):
        return pb_len(1, v)
    if isinstance(v, bool):
        return pb_varint(2 << 3) + pb_varint(int(v))
    if isinstance(v, int):
        return pb_varint(3 << 3) + pb_varint(v)
    if isinstance(v, float):
        return pb_varint(4 << 3 | 1) + struct.pack("<d", v)
    if isinstance(v, list):
        return pb_len(5, b"".join(pb_len(1, pb_any(e)) for e in v))
    return pb_len(6, b"".join(pb_len(1, pb_kv(k, e)) for k, e in v.items()))


def pb_kv(k, v):
    return pb_len(1, k) + pb_len(2, pb_any(v))


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = 1700000000000000000
DETAILS = "gen_ai.client.inference.operation.details"
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 412,
        "gen_ai.usage.output_tokens": 38,
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "finish_reason": "stop",
                                               "parts": [{"type": "text", "content": "Hello"}]}])}
RETRIEVAL = {"gen_ai.operation.name": "retrieval",
             "gen_ai.retrieval.documents": json.dumps([{"id": "kb-1", "score": 0.8,
                                                        "content": "Reset under Settings."}])}


def pb_log(span, attrs, event_name=None, t=T0, body=None):
    r = pb_varint(1 << 3 | 1) + struct.pack("<Q", t)
    if body is not None:
        r += pb_len(5, pb_any(body))
    r += b"".join(pb_len(6, pb_kv(k, v)) for k, v in attrs.items())
    r += pb_len(9, bytes.fromhex(TRACE)) + pb_len(10, bytes.fromhex(span))
    if event_name:
        r += pb_len(12, event_name)
    return r


def pb_logs(records, service="support-bot"):
    res = pb_len(1, pb_len(1, pb_kv("service.name", service)))
    return pb_len(1, res + pb_len(2, b"".join(pb_len(2, r) for r in records)))


def pb_span(span, attrs, start, end):
    return (pb_len(1, bytes.fromhex(TRACE)) + pb_len(2, bytes.fromhex(span)) + pb_len(5, "s")
            + pb_varint(7 << 3 | 1) + struct.pack("<Q", start)
            + pb_varint(8 << 3 | 1) + struct.pack("<Q", end)
            + b"".join(pb_len(9, pb_kv(k, v)) for k, v in attrs.items()))


def pb_traces(spans, service="support-bot"):
    res = pb_len(1, pb_len(1, pb_kv("service.name", service)))
    return pb_len(1, res + pb_len(2, b"".join(pb_len(2, sp) for sp in spans)))


def j_any(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [j_any(e) for e in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": j_any(e)} for k, e in v.items()]}}
    return {"stringValue": v}


def j_attrs(d):
    return [{"key": k, "value": j_any(v)} for k, v in d.items()]


def j_logs(records):
    return {"resourceLogs": [{"resource": {"attributes": j_attrs({"service.name": "support-bot"})},
                              "scopeLogs": [{"logRecords": records}]}]}


def otlp_seeds():
    JSON, SMALL, LOGS, GZ = 1, 2, 4, 8
    s = {}
    details = pb_log("00f067aa0ba902b7", CHAT, DETAILS)
    by_attr = pb_log("00f067aa0ba902b8", {**CHAT, "event.name": DETAILS, "error.type": "timeout"},
                     body={"gen_ai.response.model": "gpt-4o-mini-2024-07-18"})
    per_msg = pb_log("00f067aa0ba902b9", {"gen_ai.system": "openai"}, "gen_ai.user.message",
                     body={"content": "Hi"})
    plain = pb_log("00f067aa0ba902ba", {"http.route": "/x"}, body="a plain log line")
    s["logs-pb"] = (LOGS, pb_logs([details, by_attr, per_msg, plain]))
    s["logs-pb-small"] = (LOGS | SMALL, pb_logs([details, by_attr, per_msg, plain, details]))
    s["logs-pb-gzip"] = (LOGS | GZ, gzip.compress(pb_logs([details, plain]), mtime=0))
    s["logs-pb-truncated"] = (LOGS, pb_logs([details])[:97])
    s["logs-pb-wrong-wire-type"] = (LOGS, pb_len(1, pb_len(2, pb_len(2, b"\x08\x05"))))
    recs = [{"timeUnixNano": str(T0), "eventName": DETAILS, "traceId": TRACE,
             "spanId": "00f067aa0ba902b7", "attributes": j_attrs(CHAT)},
            {"observedTimeUnixNano": str(T0), "attributes": j_attrs({"event.name": DETAILS,
                                                                     "gen_ai.request.model": "m"}),
             "body": j_any({"gen_ai.usage.input_tokens": 3})},
            {"eventName": "gen_ai.choice", "body": j_any({"index": 0})}, 7]
    s["logs-json"] = (LOGS | JSON, j(j_logs(recs)))
    s["logs-json-gzip-small"] = (LOGS | JSON | GZ | SMALL, gzip.compress(j(j_logs(recs)), mtime=0))
    llm = pb_span("00f067aa0ba902b7", CHAT, T0 + 2_000_000, T0 + 9_000_000)
    retr = pb_span("00f067aa0ba902b6", RETRIEVAL, T0, T0 + 1_000_000)
    s["traces-pb-join"] = (0, pb_traces([llm, retr]))
    s["traces-pb-gzip"] = (GZ, gzip.compress(pb_traces([retr, llm]), mtime=0))
    big = {**CHAT, "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
        {"type": "text", "content": "p" * 3000}, {"type": "tool_call_response", "id": "c",
                                                  "response": "r" * 3000}]}])}
    s["traces-pb-cap-small"] = (SMALL, pb_traces([pb_span("00f067aa0ba902b7", big, T0, T0 + 1)]))
    gz = gzip.compress(pb_traces([llm]), mtime=0)
    s["gzip-corrupt"] = (GZ, gz[:20] + bytes([gz[20] ^ 0xFF]) + gz[21:])
    s["gzip-truncated"] = (GZ, gz[: len(gz) // 2])
    s["gzip-trailing"] = (GZ, gz + b"garbage")
    s["gzip-two-members"] = (GZ, gzip.compress(pb_traces([retr]), mtime=0)
                             + gzip.compress(pb_traces([llm]), mtime=0))
    s["gzip-not-gzip"] = (GZ | JSON, b'{"resourceSpans":[]}')
    s["gzip-bomb-small"] = (GZ | SMALL, gzip.compress(b"\0" * (1 << 20), compresslevel=9, mtime=0))
    return s


def write(dirname, seeds):
    d = os.path.join(HERE, "corpus", dirname)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for name, data in seeds.items():
        if isinstance(data, tuple):
            data = bytes([data[0]]) + data[1]
        with open(os.path.join(d, "seed-" + name), "wb") as fh:
            fh.write(data)
    print(f"{d}: {len(seeds)} seeds", file=sys.stderr)


if __name__ == "__main__":
    write("event", event_seeds())
    write("intake", intake_seeds())
    write("otlp", otlp_seeds())
