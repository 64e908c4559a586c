#!/usr/bin/env python3
"""Self-check of `llmtap-sim upstream` (Python stdlib only).

Starts the upstream on a free port, sends every kind of request and checks:
the JSON / SSE parses and has the providers' shapes, the same request gets
the same bytes (and its streamed form the same text and usage), stream_options.include_usage behaves as OpenAI's does, error
bodies have each provider's shape, the x-sim-* controls work, /sim/requests
records what was sent, and SIGTERM stops the server promptly with status 0.

    tests/sim/check_upstream.py [--bin PATH] [--seed K] [--sdk]

--bin defaults to build/bin/llmtap-sim, then build-asan/bin/llmtap-sim.

--sdk also drives the server with the official `openai` and `anthropic`
Python SDKs (they must be importable, e.g. run this script with
/tmp/sdkvenv/bin/python after `python3 -m venv /tmp/sdkvenv &&
/tmp/sdkvenv/bin/pip install openai anthropic`). Exits 0 when every check
passes, 1 otherwise; prints the seed either way.
"""
import argparse
import base64
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import time

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)
    return cond


def find_bin():
    """The repository's build trees (make build / make build-asan), else PATH."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for d in ("build", "build-asan"):
        c = os.path.normpath(os.path.join(root, d, "bin", "llmtap-sim"))
        if os.path.exists(c):
            return c
    return "llmtap-sim"


class Upstream:
    def __init__(self, binary, *args):
        self.p = subprocess.Popen([binary, "upstream", "--listen", "127.0.0.1:0", *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        if not line.startswith("upstream: 127.0.0.1:"):
            raise SystemExit("upstream did not start: %r %s" % (line, self.p.stderr.read()))
        self.port = int(line.rsplit(":", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self, timeout=5):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        return rc


def request(up, method, path, body=None, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=timeout)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


OA = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
AN = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01", "Content-Type": "application/json"}


def post(up, path, body, headers=None):
    return request(up, "POST", path, body, headers or (AN if path == "/v1/messages" else OA))


def sse(data):
    """Parse an SSE body into [(event or None, data string)]; checks framing."""
    text = data.decode("utf-8")
    check(text.endswith("\n\n"), "SSE body ends with a blank line")
    out = []
    for block in text.split("\n\n"):
        if not block:
            continue
        ev, dat = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                dat.append(line[6:])
            else:
                check(False, "SSE line %r" % line[:80])
        out.append((ev, "\n".join(dat)))
    return out


def sse_json(data):
    evs = []
    for ev, d in sse(data):
        if d == "[DONE]":
            evs.append((ev, "[DONE]"))
        else:
            evs.append((ev, json.loads(d)))
    return evs


def same_twice(up, path, body, headers=None):
    a = post(up, path, body, headers)
    b = post(up, path, body, headers)
    check(a[0] == b[0] and a[2] == b[2], "determinism: %s %s" % (path, json.dumps(body)[:60]))
    return a


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": "How do I reset my password?"}]}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object", "properties": {
                                               "city": {"type": "string"},
                                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                                               "days": {"type": "integer", "minimum": 1, "maximum": 7}},
                                               "required": ["city"]}}}]


def check_usage_chat(u, what):
    check(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], what + ": total = prompt + completion")
    check("cached_tokens" in u["prompt_tokens_details"], what + ": cached_tokens")
    check("reasoning_tokens" in u["completion_tokens_details"], what + ": reasoning_tokens")


def test_chat(up):
    st, h, d = same_twice(up, "/v1/chat/completions", CHAT)
    check(st == 200 and h["content-type"].startswith("application/json"), "chat 200 json")
    o = json.loads(d)
    check(o["object"] == "chat.completion" and o["id"].startswith("chatcmpl-"), "chat object/id")
    check(o["model"] == "gpt-4o-mini-2024-07-18", "chat dated model")
    m = o["choices"][0]["message"]
    check(m["role"] == "assistant" and isinstance(m["content"], str) and m["content"], "chat message")
    check(o["choices"][0]["finish_reason"] == "stop", "chat finish stop")
    check_usage_chat(o["usage"], "chat")
    check(h.get("x-request-id", "").startswith("req_"), "chat x-request-id")

    # max_tokens cuts
    o = json.loads(post(up, "/v1/chat/completions", dict(CHAT, max_tokens=5))[2])
    check(o["choices"][0]["finish_reason"] == "length" and o["usage"]["completion_tokens"] == 5, "chat length")

    # stream without include_usage: no usage member anywhere
    body = dict(CHAT, stream=True)
    st, h, d = same_twice(up, "/v1/chat/completions", body)
    check(h["content-type"].startswith("text/event-stream"), "chat stream content type")
    evs = sse_json(d)
    check(evs[-1][1] == "[DONE]", "chat stream ends with [DONE]")
    chunks = [e[1] for e in evs[:-1]]
    check(all(c["object"] == "chat.completion.chunk" for c in chunks), "chunk objects")
    check(all("usage" not in c for c in chunks), "no usage without include_usage")
    check(chunks[0]["choices"][0]["delta"].get("role") == "assistant", "first chunk has the role")
    check(chunks[-1]["choices"][0]["finish_reason"] == "stop", "last chunk finish_reason")
    check(len({c["id"] for c in chunks}) == 1, "one id per stream")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    plain = json.loads(post(up, "/v1/chat/completions", CHAT)[2])
    check(text == plain["choices"][0]["message"]["content"] and chunks[0]["id"] == plain["id"],
          "stream and non-stream give the same text and id")

    # include_usage: usage null on every chunk, one last chunk with choices [] and the usage
    body = dict(CHAT, stream=True, stream_options={"include_usage": True})
    evs = sse_json(post(up, "/v1/chat/completions", body)[2])
    chunks = [e[1] for e in evs[:-1]]
    check(all("usage" in c for c in chunks), "usage member on every chunk")
    check(all(c["usage"] is None for c in chunks[:-1]), "usage null before the last chunk")
    last = chunks[-1]
    check(last["choices"] == [] and last["usage"]["completion_tokens"] > 0, "usage chunk")
    check_usage_chat(last["usage"], "chat stream usage")
    check(last["usage"] == plain["usage"], "stream usage = non-stream usage")

    # tool call, both ways
    body = dict(CHAT, tools=TOOLS)
    o = json.loads(same_twice(up, "/v1/chat/completions", body)[2])
    ch = o["choices"][0]
    check(ch["finish_reason"] == "tool_calls", "tool finish_reason")
    tc = ch["message"]["tool_calls"][0]
    check(tc["id"].startswith("call_") and tc["type"] == "function" and tc["function"]["name"] == "get_weather",
          "tool call")
    args = json.loads(tc["function"]["arguments"])
    check(isinstance(args.get("city"), str) and args.get("unit") in ("celsius", "fahrenheit")
          and 1 <= args.get("days", 0) <= 7, "tool arguments follow the schema")
    evs = sse_json(post(up, "/v1/chat/completions", dict(body, stream=True))[2])
    chunks = [e[1] for e in evs[:-1]]
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    check(first["index"] == 0 and first["id"].startswith("call_") and first["function"]["name"] == "get_weather"
          and first["function"]["arguments"] == "", "first tool_calls delta")
    streamed = "".join(c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                       for c in chunks[1:-1])
    check(json.loads(streamed) is not None, "streamed arguments parse")
    check(chunks[-1]["choices"][0]["finish_reason"] == "tool_calls", "stream tool finish")
    # after a tool result: text again
    msgs = CHAT["messages"] + [{"role": "assistant", "content": None, "tool_calls": [tc]},
                               {"role": "tool", "tool_call_id": tc["id"], "content": "{\"temp\": 21}"}]
    o = json.loads(post(up, "/v1/chat/completions", dict(CHAT, messages=msgs, tools=TOOLS))[2])
    check(o["choices"][0]["finish_reason"] == "stop", "no tool call after a tool result")

    # reasoning model, long prompt: reasoning and (usually) cached tokens
    long = " ".join(["The quarterly report covers revenue, churn and support volume by region."] * 80)
    cached_seen = False
    for i in range(6):
        body = {"model": "o3-mini", "messages": [{"role": "user", "content": "%d %s" % (i, long)}]}
        u = json.loads(post(up, "/v1/chat/completions", body)[2])["usage"]
        check(u["completion_tokens_details"]["reasoning_tokens"] > 0, "reasoning tokens for o3-mini")
        check(u["prompt_tokens"] > 1024, "long prompt counted")
        c = u["prompt_tokens_details"]["cached_tokens"]
        check(c % 128 == 0 and c <= u["prompt_tokens"], "cached tokens in 128 steps")
        cached_seen |= c > 0
    check(cached_seen, "cached tokens on long prompts")

    # n > 1
    o = json.loads(post(up, "/v1/chat/completions", dict(CHAT, n=3))[2])
    check([c["index"] for c in o["choices"]] == [0, 1, 2], "n=3 choices")


def test_completions(up):
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Write a haiku about Kafka", "max_tokens": 40}
    o = json.loads(same_twice(up, "/v1/completions", body)[2])
    check(o["object"] == "text_completion" and o["id"].startswith("cmpl-"), "completion object")
    check(isinstance(o["choices"][0]["text"], str) and o["choices"][0]["finish_reason"] in ("stop", "length"),
          "completion choice")
    u = o["usage"]
    check(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], "completion usage")
    body["stream"] = True
    evs = sse_json(post(up, "/v1/completions", body)[2])
    check(evs[-1][1] == "[DONE]" and all("usage" not in e[1] for e in evs[:-1]), "completion stream")
    text = "".join(e[1]["choices"][0]["text"] for e in evs[:-1])
    check(text == o["choices"][0]["text"], "completion stream text = non-stream text")
    body["stream_options"] = {"include_usage": True}
    evs = sse_json(post(up, "/v1/completions", body)[2])
    check(evs[-2][1]["choices"] == [] and evs[-2][1]["usage"]["total_tokens"] > 0, "completion usage chunk")
    check(all(e[1]["usage"] is None for e in evs[:-2]), "completion usage null")
    o = json.loads(post(up, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"]})[2])
    check(len(o["choices"]) == 2, "two prompts, two choices")


def test_embeddings(up):
    body = {"model": "text-embedding-3-small", "input": ["hello world", "second text"]}
    o = json.loads(same_twice(up, "/v1/embeddings", body)[2])
    check(o["object"] == "list" and len(o["data"]) == 2, "embeddings list")
    e = o["data"][0]
    check(e["object"] == "embedding" and e["index"] == 0 and len(e["embedding"]) == 1536, "1536 floats")
    n = sum(x * x for x in e["embedding"])
    check(abs(n - 1) < 1e-3, "unit vector")
    check(o["usage"]["prompt_tokens"] == o["usage"]["total_tokens"] > 0, "embedding usage")
    o2 = json.loads(post(up, "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello world",
                                                 "encoding_format": "base64", "dimensions": 256})[2])
    raw = base64.b64decode(o2["data"][0]["embedding"])
    v = struct.unpack("<256f", raw)
    check(len(raw) == 1024, "base64 of 256 float32")
    o3 = json.loads(post(up, "/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello world",
                                                 "dimensions": 256})[2])
    check(all(abs(a - b) < 1e-6 for a, b in zip(v, o3["data"][0]["embedding"])), "base64 = float form")
    st, _, d = post(up, "/v1/embeddings", {"model": "text-embedding-3-small", "input": ""})
    check(st == 400 and "error" in json.loads(d), "empty input 400")


def test_responses(up):
    body = {"model": "gpt-4.1", "instructions": "Be concise.", "input": "Summarize the release notes."}
    o = json.loads(same_twice(up, "/v1/responses", body)[2])
    check(o["object"] == "response" and o["id"].startswith("resp_") and o["status"] == "completed", "response")
    msg = o["output"][0]
    check(msg["type"] == "message" and msg["content"][0]["type"] == "output_text", "output_text")
    u = o["usage"]
    check(u["total_tokens"] == u["input_tokens"] + u["output_tokens"] and "cached_tokens" in u["input_tokens_details"]
          and "reasoning_tokens" in u["output_tokens_details"], "responses usage")
    body["stream"] = True
    st, h, d = same_twice(up, "/v1/responses", body)
    evs = sse_json(d)
    check(all(ev == data["type"] for ev, data in evs), "event: line = data.type")
    check([e[1]["sequence_number"] for e in evs] == list(range(len(evs))), "sequence numbers")
    check(evs[0][0] == "response.created" and evs[-1][0] == "response.completed", "created ... completed")
    text = "".join(e[1]["delta"] for e in evs if e[0] == "response.output_text.delta")
    final = evs[-1][1]["response"]
    check(final["output"][0]["content"][0]["text"] == text, "deltas = final text")
    check(text == msg["content"][0]["text"] and final["usage"] == u, "responses stream = non-stream")
    check(final["usage"]["output_tokens"] > 0, "final usage")
    # function call, reasoning model, max_output_tokens
    tools = [dict(type="function", **TOOLS[0]["function"])]
    o = json.loads(post(up, "/v1/responses", {"model": "o4-mini", "input": "Weather in Lisbon?", "tools": tools})[2])
    check(o["output"][0]["type"] == "reasoning" and o["output"][1]["type"] == "function_call", "reasoning + call")
    check(json.loads(o["output"][1]["arguments"]) is not None and o["output"][1]["call_id"].startswith("call_"),
          "function_call arguments")
    check(o["usage"]["output_tokens_details"]["reasoning_tokens"] > 0, "responses reasoning tokens")
    evs = sse_json(post(up, "/v1/responses", {"model": "o4-mini", "input": "Weather?", "tools": tools,
                                              "stream": True})[2])
    args = "".join(e[1]["delta"] for e in evs if e[0] == "response.function_call_arguments.delta")
    done = [e[1] for e in evs if e[0] == "response.function_call_arguments.done"]
    check(done and done[0]["arguments"] == args, "function_call_arguments deltas")
    o = json.loads(post(up, "/v1/responses", {"model": "gpt-4.1", "input": "x", "max_output_tokens": 16})[2])
    check(o["status"] == "incomplete" and o["incomplete_details"]["reason"] == "max_output_tokens", "incomplete")


def test_messages(up):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "You are terse.",
            "messages": [{"role": "user", "content": "Explain the refund policy."}]}
    st, h, d = same_twice(up, "/v1/messages", body)
    o = json.loads(d)
    check(o["type"] == "message" and o["id"].startswith("msg_") and o["role"] == "assistant", "message")
    check(o["content"][0]["type"] == "text" and o["stop_reason"] == "end_turn", "text block")
    u = o["usage"]
    check(all(k in u for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                "cache_read_input_tokens")), "anthropic usage")
    check(h.get("request-id", "").startswith("req_"), "request-id header")
    body["stream"] = True
    evs = sse_json(same_twice(up, "/v1/messages", body)[2])
    names = [e[0] for e in evs]
    check(all(ev == data["type"] for ev, data in evs), "anthropic event: = type")
    check(names[:3] == ["message_start", "content_block_start", "ping"] and names[-2:] == ["message_delta",
                                                                                         "message_stop"],
          "anthropic event order")
    text = "".join(e[1]["delta"]["text"] for e in evs if e[0] == "content_block_delta")
    check(text == o["content"][0]["text"], "anthropic stream text = non-stream text")
    md = [e[1] for e in evs if e[0] == "message_delta"][0]
    check(md["delta"]["stop_reason"] == "end_turn" and md["usage"]["output_tokens"] > 1, "message_delta")
    # tools
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": TOOLS[0]["function"]["parameters"]}]
    o = json.loads(post(up, "/v1/messages", dict(body, stream=False, tools=tools))[2])
    check(o["stop_reason"] == "tool_use" and o["content"][1]["type"] == "tool_use"
          and o["content"][1]["id"].startswith("toolu_") and isinstance(o["content"][1]["input"], dict),
          "tool_use block")
    evs = sse_json(post(up, "/v1/messages", dict(body, tools=tools))[2])
    pj = "".join(e[1]["delta"]["partial_json"] for e in evs
                 if e[0] == "content_block_delta" and e[1]["delta"]["type"] == "input_json_delta")
    check(isinstance(json.loads(pj), dict), "input_json_delta pieces parse")
    # cache tokens on a long prompt
    long = " ".join(["Refunds are issued to the original payment method within ten days."] * 90)
    seen = False
    for i in range(6):
        o = json.loads(post(up, "/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 100,
                                                 "messages": [{"role": "user", "content": "%d %s" % (i, long)}]})[2])
        seen |= o["usage"]["cache_read_input_tokens"] > 0 or o["usage"]["cache_creation_input_tokens"] > 0
        check(o["stop_reason"] in ("end_turn", "max_tokens"), "stop reason")
    check(seen, "anthropic cache tokens on long prompts")
    # missing version / key, bad json, missing max_tokens
    st, _, d = request(up, "POST", "/v1/messages", body, {"x-api-key": "k"})
    e = json.loads(d)
    check(st == 400 and e["type"] == "error" and e["error"]["type"] == "invalid_request_error", "no version 400")
    st, _, d = request(up, "POST", "/v1/messages", body, {"anthropic-version": "2023-06-01"})
    check(st == 401 and json.loads(d)["error"]["type"] == "authentication_error", "no key 401")
    st, _, d = post(up, "/v1/messages", "{not json")
    check(st == 400 and json.loads(d)["type"] == "error", "anthropic bad json")
    st, _, d = post(up, "/v1/messages", {"model": "claude-haiku-4-5", "messages": body["messages"]})
    check(st == 400 and "max_tokens" in json.loads(d)["error"]["message"], "max_tokens required")


def test_errors(up):
    st, _, d = request(up, "POST", "/v1/chat/completions", CHAT)
    e = json.loads(d)["error"]
    check(st == 401 and set(e) == {"message", "type", "param", "code"}, "openai 401 shape")
    st, _, d = post(up, "/v1/chat/completions", "not json")
    check(st == 400 and json.loads(d)["error"]["type"] == "invalid_request_error", "openai 400")
    st, _, d = request(up, "GET", "/v1/unknown", None, OA)
    check(st == 404 and "error" in json.loads(d), "openai 404")
    for code, otype, atype in ((429, "requests", "rate_limit_error"), (500, "server_error", "api_error"),
                               (503, "server_error", "overloaded_error")):
        st, _, d = post(up, "/v1/chat/completions", CHAT, dict(OA, **{"x-sim-status": str(code)}))
        check(st == code and json.loads(d)["error"]["type"] == otype, "openai forced %d" % code)
        st, _, d = post(up, "/v1/messages", {"model": "m"}, dict(AN, **{"x-sim-status": str(code)}))
        e = json.loads(d)
        check(st == code and e["type"] == "error" and e["error"]["type"] == atype, "anthropic forced %d" % code)
    st, _, d = request(up, "GET", "/v1/models", None, OA)
    check(st == 200 and json.loads(d)["object"] == "list", "openai models")
    st, _, d = request(up, "GET", "/v1/models", None, AN)
    check(st == 200 and json.loads(d)["data"][0]["type"] == "model", "anthropic models")


def test_controls(up):
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
    t0 = time.monotonic()
    c.request("POST", "/v1/chat/completions", json.dumps(dict(CHAT, stream=True)),
              dict(OA, **{"x-sim-delay-ms": "100", "x-sim-ttft-ms": "200", "x-sim-chunk-interval-ms": "30",
                          "x-sim-chunks": "4"}))
    r = c.getresponse()
    t_head = time.monotonic() - t0
    times = []
    while True:
        line = r.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            times.append((time.monotonic() - t0, line))
    c.close()
    check(0.1 <= t_head < 0.3, "x-sim-delay-ms before headers (%.3f)" % t_head)
    check(times[0][0] < 0.25, "role chunk right after headers")
    check(0.3 <= times[1][0] < 0.5, "first content after ttft (%.3f)" % times[1][0])
    content = [t for t, l in times if b'"content":"' in l and b'"content":""' not in l]
    check(len(content) == 4, "x-sim-chunks: 4 content events (%d)" % len(content))
    check(content[-1] - content[0] >= 0.085, "chunk interval")
    # drop
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    c.request("POST", "/v1/chat/completions", json.dumps(CHAT), dict(OA, **{"x-sim-drop": "50"}))
    r = c.getresponse()
    try:
        r.read()
        check(False, "x-sim-drop closes early")
    except http.client.IncompleteRead as e:
        check(len(e.partial) == 50, "x-sim-drop after 50 bytes")
    c.close()
    # hang: headers, then nothing
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=0.5)
    c.request("POST", "/v1/chat/completions", json.dumps(CHAT), dict(OA, **{"x-sim-hang": "1"}))
    r = c.getresponse()
    check(r.status == 200, "hang sends headers")
    try:
        r.read()
        check(False, "hang never finishes")
    except (TimeoutError, OSError):
        pass
    c.close()


def test_recording(up):
    request(up, "DELETE", "/sim/requests")
    body = json.dumps(dict(CHAT, user="ünïcode"))
    post(up, "/v1/chat/completions", body, dict(OA, **{"X-Custom": "yes"}))
    st, _, d = request(up, "GET", "/sim/requests?n=1")
    recs = json.loads(d)
    check(st == 200 and len(recs) == 1, "one record")
    r = recs[0]
    check(r["method"] == "POST" and r["path"] == "/v1/chat/completions", "record method/path")
    check(r["headers"].get("authorization") == "Bearer sk-test" and r["headers"].get("x-custom") == "yes",
          "record headers")
    check(r["body"] == body and r["body_bytes"] == len(body.encode()), "record body")
    post(up, "/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"})
    recs = json.loads(request(up, "GET", "/sim/requests")[2])
    check(len(recs) == 2 and recs[1]["path"] == "/v1/embeddings" and recs[1]["seq"] > recs[0]["seq"],
          "records in order")


def test_error_rate(binary, seed):
    up = Upstream(binary, "--seed", str(seed), "--error-rate", "1")
    try:
        codes = set()
        for i in range(20):
            st, _, d = post(up, "/v1/chat/completions", CHAT)
            codes.add(st)
            check("error" in json.loads(d), "injected error shape")
            st, _, d = post(up, "/v1/messages", {"model": "m", "max_tokens": 5,
                                                 "messages": [{"role": "user", "content": "x"}]})
            codes.add(st)
            check(json.loads(d)["type"] == "error", "injected anthropic error shape")
        check(codes <= {429, 500, 503} and len(codes) >= 2, "error-rate statuses %s" % codes)
    finally:
        check(up.stop() == 0, "error-rate server exit 0")


def test_shutdown(binary):
    up = Upstream(binary)
    c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
    c.request("POST", "/v1/chat/completions", json.dumps(CHAT), dict(OA, **{"x-sim-hang": "1"}))
    c.getresponse()
    t0 = time.monotonic()
    rc = up.stop()
    check(rc == 0 and time.monotonic() - t0 < 3, "SIGTERM with a hung request: exit %s in %.2fs" %
          (rc, time.monotonic() - t0))


# ---- official SDKs ------------------------------------------------------------

def test_sdk_types(up):
    """Validate raw bodies and events against the SDKs' pydantic types (the
    clients themselves build objects without validation, so this is the
    strict part)."""
    import pydantic
    from anthropic.types import Message, RawMessageStreamEvent
    from openai.types import Completion, CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from openai.types.responses import Response, ResponseStreamEvent

    def valid(model, obj, what):
        try:
            if isinstance(model, type):
                model.model_validate(obj, strict=False)
            else:
                pydantic.TypeAdapter(model).validate_python(obj)
        except pydantic.ValidationError as ex:
            check(False, "sdk type %s: %s" % (what, str(ex)[:400]))

    tools_r = [dict(type="function", **TOOLS[0]["function"])]
    tools_a = [{"name": "get_weather", "description": "W", "input_schema": TOOLS[0]["function"]["parameters"]}]
    for extra in ({}, {"tools": TOOLS}, {"n": 2}):
        valid(ChatCompletion, json.loads(post(up, "/v1/chat/completions", dict(CHAT, **extra))[2]), "chat")
        for _, c in sse_json(post(up, "/v1/chat/completions", dict(CHAT, stream=True, stream_options={
                "include_usage": True}, **extra))[2])[:-1]:
            valid(ChatCompletionChunk, c, "chat chunk")
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"}
    valid(Completion, json.loads(post(up, "/v1/completions", body)[2]), "completion")
    for _, c in sse_json(post(up, "/v1/completions", dict(body, stream=True, stream_options={
            "include_usage": True}))[2])[:-1]:
        for ch in c["choices"]:  # streamed chunks carry null until the end; the type does not allow it
            ch["finish_reason"] = ch["finish_reason"] or "stop"
        valid(Completion, c, "completion chunk")
    for fmt in ("float",):  # base64 strings are decoded by the SDK before its type applies
        valid(CreateEmbeddingResponse, json.loads(post(up, "/v1/embeddings", {
            "model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": fmt})[2]), "embeddings")
    for extra in ({"model": "gpt-4.1"}, {"model": "o4-mini", "tools": tools_r}, {"model": "gpt-4.1",
                                                                                 "max_output_tokens": 16}):
        body = dict(input="Weather in Lisbon?", **extra)
        valid(Response, json.loads(post(up, "/v1/responses", body)[2]), "response")
        for _, e in sse_json(post(up, "/v1/responses", dict(body, stream=True))[2]):
            valid(ResponseStreamEvent, e, "response event " + e["type"])
    for extra in ({}, {"tools": tools_a}, {"max_tokens": 5}):
        body = dict({"model": "claude-haiku-4-5", "max_tokens": 300,
                     "messages": [{"role": "user", "content": "Hi"}]}, **extra)
        valid(Message, json.loads(post(up, "/v1/messages", body)[2]), "message")
        for _, e in sse_json(post(up, "/v1/messages", dict(body, stream=True))[2]):
            if e["type"] != "ping":  # the SDK consumes pings before its types
                valid(RawMessageStreamEvent, e, "message event " + e["type"])


def test_sdk(up):
    import anthropic
    import openai
    print("sdk: openai %s, anthropic %s" % (openai.__version__, anthropic.__version__))
    test_sdk_types(up)
    oc = openai.OpenAI(base_url=up.url + "/v1", api_key="sk-test", max_retries=0)
    msgs = CHAT["messages"]
    r = oc.chat.completions.create(model="gpt-4o-mini", messages=msgs)
    check(r.choices[0].message.content and r.usage.prompt_tokens > 0, "sdk chat")
    r = oc.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=TOOLS)
    check(r.choices[0].message.tool_calls[0].function.name == "get_weather", "sdk chat tool call")
    last = None
    text = ""
    for ch in oc.chat.completions.create(model="o3-mini", messages=msgs, stream=True,
                                         stream_options={"include_usage": True}):
        if ch.choices:
            text += ch.choices[0].delta.content or ""
        last = ch
    check(text and last.usage and last.usage.completion_tokens_details.reasoning_tokens > 0, "sdk chat stream")
    with oc.chat.completions.stream(model="gpt-4o-mini", messages=msgs, tools=TOOLS) as s:
        for _ in s:
            pass
        fc = s.get_final_completion()
    check(fc.choices[0].message.tool_calls[0].function.parsed_arguments is not None
          or fc.choices[0].message.tool_calls[0].function.arguments, "sdk chat stream helper")
    e = oc.embeddings.create(model="text-embedding-3-small", input=["a", "b"])  # base64 on the wire
    check(len(e.data) == 2 and len(e.data[0].embedding) == 1536, "sdk embeddings (base64)")
    e = oc.embeddings.create(model="text-embedding-3-small", input="a", encoding_format="float", dimensions=64)
    check(len(e.data[0].embedding) == 64, "sdk embeddings (float)")
    c = oc.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=20)
    check(c.choices[0].text is not None, "sdk completions")
    n = sum(1 for _ in oc.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True))
    check(n > 1, "sdk completions stream")
    r = oc.responses.create(model="gpt-4.1", input="Hello", instructions="Be brief")
    check(r.output_text and r.usage.input_tokens > 0, "sdk responses")
    r = oc.responses.create(model="o4-mini", input="Weather?", tools=[dict(type="function",
                                                                         **TOOLS[0]["function"])])
    check(any(i.type == "function_call" for i in r.output), "sdk responses function_call")
    types = [ev.type for ev in oc.responses.create(model="gpt-4.1", input="Hello", stream=True)]
    check(types[0] == "response.created" and types[-1] == "response.completed", "sdk responses stream")
    with oc.responses.stream(model="gpt-4.1", input="Hello") as s:
        for _ in s:
            pass
        fr = s.get_final_response()
    check(fr.output_text, "sdk responses stream helper")
    check(len(list(oc.models.list())) > 0, "sdk models")
    try:
        oc.with_options(default_headers={"x-sim-status": "429"}).chat.completions.create(
            model="gpt-4o-mini", messages=msgs)
        check(False, "sdk 429 raises")
    except openai.RateLimitError as ex:
        check(ex.code == "rate_limit_exceeded", "sdk RateLimitError")

    ac = anthropic.Anthropic(base_url=up.url, api_key="sk-ant-test", max_retries=0)
    amsgs = [{"role": "user", "content": "Explain the refund policy."}]
    m = ac.messages.create(model="claude-haiku-4-5", max_tokens=512, messages=amsgs, system="Be terse.")
    check(m.content[0].text and m.usage.output_tokens > 0, "sdk messages")
    atools = [{"name": "get_weather", "description": "Weather", "input_schema": TOOLS[0]["function"]["parameters"]}]
    m = ac.messages.create(model="claude-haiku-4-5", max_tokens=512, messages=amsgs, tools=atools)
    check(m.stop_reason == "tool_use" and m.content[-1].type == "tool_use", "sdk messages tool_use")
    with ac.messages.stream(model="claude-haiku-4-5", max_tokens=512, messages=amsgs, tools=atools) as s:
        streamed = "".join(s.text_stream)
        fm = s.get_final_message()
    check(streamed and fm.content[-1].type == "tool_use" and isinstance(fm.content[-1].input, dict)
          and fm.usage.output_tokens > 1, "sdk messages stream helper")
    evs = [e.type for e in ac.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=amsgs, stream=True)]
    check(evs[0] == "message_start" and evs[-1] == "message_stop", "sdk messages raw stream")
    check(len(list(ac.models.list())) > 0, "sdk anthropic models")
    try:
        ac.with_options(default_headers={"x-sim-status": "529"}).messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=amsgs)
        check(False, "sdk 529 raises")
    except anthropic.APIStatusError as ex:
        check(ex.status_code == 529, "sdk anthropic overloaded error")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=find_bin())
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--sdk", action="store_true", help="also check with the openai/anthropic SDKs")
    a = ap.parse_args()
    print("check_upstream: bin=%s seed=%d" % (a.bin, a.seed))
    up = Upstream(a.bin, "--seed", str(a.seed))
    try:
        for t in (test_chat, test_completions, test_embeddings, test_responses, test_messages, test_errors,
                  test_controls, test_recording):
            n = len(FAILS)
            try:
                t(up)
            except Exception as ex:  # a crash in one group should not hide the others
                check(False, "%s raised %r" % (t.__name__, ex))
            print("%-18s %s" % (t.__name__, "ok" if len(FAILS) == n else "FAILED"))
        if a.sdk:
            try:
                test_sdk(up)
            except Exception as ex:
                check(False, "test_sdk raised %r" % (ex,))
            print("%-18s %s" % ("test_sdk", "ok" if not any("sdk" in f for f in FAILS) else "FAILED"))
        # another seed, other bytes
        other = Upstream(a.bin, "--seed", str(a.seed + 1))
        d1 = post(up, "/v1/chat/completions", CHAT)[2]
        d2 = post(other, "/v1/chat/completions", CHAT)[2]
        check(d1 != d2, "the seed changes the response")
        check(other.stop() == 0, "second server exit 0")
    finally:
        rc = up.stop()
        check(rc == 0, "SIGTERM: exit status %s" % rc)
        err = up.p.stderr.read()
        check("ERROR" not in err and "runtime error" not in err, "no sanitizer reports: %s" % err[-2000:])
    test_error_rate(a.bin, a.seed)
    test_shutdown(a.bin)
    print("check_upstream: %s (seed %d)" % ("FAILED: %d checks" % len(FAILS) if FAILS else "all checks passed",
                                            a.seed))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
