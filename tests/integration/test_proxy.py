"""Zero-code capture: the agent as an OpenAI/Anthropic proxy, driven by the
official `openai` and `anthropic` Python SDKs (pinned in
requirements-sdk.txt, installed in a virtualenv this script creates).

The upstream is `llmtap-sim upstream`, whose answers are a pure function of
(seed, path, request body), so a request replayed straight to it gives the
bytes the proxy must have relayed. For each kind of call the test checks:
the client got byte for byte what the upstream sent (minus only the usage
chunk the proxy itself asked for), and the collector holds an event with the
exact token counts, cost, TTFT and fields. At the end the raw LMDB file and
the logs are searched for the API keys used: they must appear nowhere.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

from llmtap_it import BIN, SRC, Http, Stack, free_port, in_sdk_venv, log, main, wait_for

in_sdk_venv()
import anthropic  # noqa: E402
import openai  # noqa: E402

OPENAI_KEY = "sk-proj-LLMTAPTEST" + uuid.uuid4().hex
ANTHROPIC_KEY = "sk-ant-api03-LLMTAPTEST" + uuid.uuid4().hex
TRACE = uuid.uuid4().hex
PARENT = uuid.uuid4().hex[:16]


class Upstream:
    def __init__(self, tmp):
        self.log = open(os.path.join(tmp, "upstream.log"), "wb")
        self.p = subprocess.Popen([f"{BIN}/llmtap-sim", "upstream", "--listen", "127.0.0.1:0",
                                   "--seed", "7"], stdout=subprocess.PIPE, stderr=self.log)
        line = self.p.stdout.readline().decode().strip()
        assert line.startswith("upstream: "), f"llmtap-sim upstream said {line!r}"
        self.addr = line.split(" ", 1)[1]
        self.port = int(self.addr.rsplit(":", 1)[1])

    def requests(self, n=1):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", f"/sim/requests?n={n}")
        r = c.getresponse()
        return json.loads(r.read())

    def stop(self):
        self.p.terminate()
        self.p.wait(30)


def raw(port, method, path, body=b"", headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def sse_events(body):
    return [e for e in body.replace(b"\r\n", b"\n").split(b"\n\n") if e.strip()]


def is_usage_chunk(ev):
    for line in ev.split(b"\n"):
        if line.startswith(b"data:"):
            try:
                d = json.loads(line[5:])
            except ValueError:
                return False
            return isinstance(d, dict) and d.get("choices") == [] and d.get("usage") is not None
    return False


def without_usage_chunk(body):
    out, dropped = [], 0
    for ev in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        if ev.strip() and is_usage_chunk(ev):
            dropped += 1
            continue
        out.append(ev)
    assert dropped == 1, f"expected one usage chunk upstream, found {dropped}"
    return b"\n\n".join(out)


class Case:
    """Looks up the event of one call by its unique service name."""

    def __init__(self, stack, name):
        self.s = stack
        self.service = f"t-{name}-{uuid.uuid4().hex[:6]}"
        self.headers = {"x-llmtap-service": self.service}

    def event(self, timeout=60):
        def find():
            st, lst = self.s.c.get_json(f"/api/v1/events?service={self.service}&limit=10")
            return st == 200 and lst and lst
        lst = wait_for(find, timeout, f"event of {self.service}", 0.1, procs=self.s.procs)
        assert len(lst) == 1, f"{self.service}: {len(lst)} events, want 1"
        st, ev = self.s.c.get_json(f"/api/v1/events/{lst[0]['id']}")
        assert st == 200, st
        return ev


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def common_checks(ev, provider, operation, ok=True):
    eq(ev["source"], "agent-proxy", "source")
    if ok:
        eq(ev.get("error"), None, "error")
    eq(ev["provider"], provider, "provider")
    eq(ev["operation"], operation, "operation")
    check(ev["latency_ms"] > 0, "latency_ms > 0")
    blob = json.dumps(ev)
    check(OPENAI_KEY not in blob and ANTHROPIC_KEY not in blob, "API key in the event")


# --------------------------------------------------------------------------- cases

def chat_non_stream(s, up, oai):
    c = Case(s, "chat")
    msgs = [{"role": "system", "content": "Answer from the context only.\n"
             '<context id="kb-1" source="helpcenter" score="0.83">Reset it under Settings, '
             "then Security.</context>"},
            {"role": "user", "content": "How do I reset my password? Mail me at jane.doe@example.com"}]
    hdrs = {**c.headers, "x-llmtap-prompt-template": "support-answer",
            "x-llmtap-prompt-version": "7", "x-llmtap-user": "u_5f2c", "x-llmtap-session": "s_93a1",
            "x-llmtap-tags": "tenant=acme,deployment=canary",
            "traceparent": f"00-{TRACE}-{PARENT}-01"}
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, temperature=0.2,
                                    max_tokens=300, extra_headers=hdrs)
    fwd = up.requests(1)[0]
    fh = {k.lower(): v for k, v in fwd["headers"].items()}
    eq(fh.get("authorization"), f"Bearer {OPENAI_KEY}", "Authorization forwarded unchanged")
    check(not any(k.startswith("x-llmtap-") for k in fh), f"x-llmtap-* stripped: {sorted(fh)}")
    tp = fh.get("traceparent", "")
    check(tp.startswith(f"00-{TRACE}-") and PARENT not in tp, f"traceparent propagated: {tp}")
    ev = c.event()
    common_checks(ev, "openai", "chat")
    eq(ev["request_model"], "gpt-4o-mini", "request_model")
    eq(ev["response_model"], r.model, "response_model")
    eq(ev["stream"], False, "stream")
    eq(ev["status"], 200, "status")
    eq(ev["usage"]["input_tokens"], r.usage.prompt_tokens, "input_tokens")
    eq(ev["usage"]["output_tokens"], r.usage.completion_tokens, "output_tokens")
    cached = (r.usage.prompt_tokens_details.cached_tokens
              if r.usage.prompt_tokens_details else None)
    eq(ev["usage"].get("cached_input_tokens"), cached or ev["usage"].get("cached_input_tokens"),
       "cached_input_tokens")
    eq(ev["response"]["text"], r.choices[0].message.content, "response.text")
    eq(ev["response"]["finish_reason"], "stop", "finish_reason")
    eq(ev["prompt_template"], "support-answer", "prompt_template")
    eq(ev["prompt_version"], "7", "prompt_version")
    eq(ev["user"], "u_5f2c", "user")
    eq(ev["session"], "s_93a1", "session")
    eq(ev["tags"], {"tenant": "acme", "deployment": "canary"}, "tags")
    eq(ev["trace_id"], TRACE, "trace_id")
    eq(ev["parent_span_id"], PARENT, "parent_span_id")
    check(ev["span_id"] in tp, "span_id is the one sent upstream")
    check(ev.get("cost_usd", 0) > 0, f"cost_usd: {ev.get('cost_usd')}")
    check(any(d.get("id") == "kb-1" and "Settings" in d.get("text", "") for d in ev.get("context", [])),
          f"context from the delimited passage: {ev.get('context')}")
    blob = json.dumps(ev["request"])
    check("jane.doe@example.com" not in blob and "[REDACTED:EMAIL]" in blob, "email redacted")
    check(ev.get("redactions", 0) >= 1, "redactions counted")
    return "chat non-stream"


def chat_stream(s, up, oai, agent_port, client_usage):
    c = Case(s, "chatstream" + ("-u" if client_usage else ""))
    kw = {"stream_options": {"include_usage": True}} if client_usage else {}
    stream = oai.chat.completions.create(
        model="gpt-4o-mini", stream=True, extra_headers=c.headers,
        messages=[{"role": "user", "content": "Write three paragraphs about observability."}], **kw)
    text, usage, usage_chunks = "", None, 0
    for ch in stream:
        if ch.choices and ch.choices[0].delta.content:
            text += ch.choices[0].delta.content
        if ch.usage:
            usage = ch.usage
            usage_chunks += 1
    fwd = up.requests(1)[0]
    sent = json.loads(fwd["body"])
    eq(sent.get("stream_options", {}).get("include_usage"), True, "upstream asked for usage")
    # The same bytes, straight from the upstream: what the client must have got.
    hdr = {"content-type": "application/json", "authorization": f"Bearer {OPENAI_KEY}"}
    _, _, direct = raw(up.port, "POST", "/v1/chat/completions", fwd["body"].encode(), hdr)
    _, _, via = raw(agent_port, "POST", "/v1/chat/completions", json.dumps(
        {"model": "gpt-4o-mini", "stream": True, **kw,
         "messages": [{"role": "user", "content": "Write three paragraphs about observability."}]}).encode(),
        {**hdr, **c.headers, "x-llmtap-service": c.service + "-raw"})
    # (the raw request's body is serialised differently from the SDK's, so it is
    # compared with a direct call of what the proxy forwarded for it)
    fwd2 = up.requests(1)[0]
    _, _, direct2 = raw(up.port, "POST", "/v1/chat/completions", fwd2["body"].encode(), hdr)
    if client_usage:
        eq(usage_chunks, 1, "client that asked for usage gets the usage chunk")
        eq(via, direct2, "stream relayed byte for byte")
    else:
        eq(usage_chunks, 0, "client that did not ask gets no usage chunk")
        eq(via, without_usage_chunk(direct2), "stream relayed byte for byte minus the usage chunk")
    want_usage = None
    for e in sse_events(direct):
        if is_usage_chunk(e):
            want_usage = json.loads(e.split(b"data:", 1)[1])["usage"]
    ev = c.event()
    common_checks(ev, "openai", "chat")
    eq(ev["stream"], True, "stream")
    eq(ev["response"]["text"], text, "response.text assembled from deltas")
    eq(ev["usage"]["input_tokens"], want_usage["prompt_tokens"], "input_tokens")
    eq(ev["usage"]["output_tokens"], want_usage["completion_tokens"], "output_tokens")
    check(ev.get("ttft_ms") is not None and 0 <= ev["ttft_ms"] <= ev["latency_ms"], "ttft_ms")
    check(ev.get("cost_usd", 0) > 0, "cost_usd")
    return f"chat stream ({'client asked for usage' if client_usage else 'usage injected'})"


def completions(s, up, oai):
    c = Case(s, "completion")
    r = oai.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hello", max_tokens=20,
                               extra_headers=c.headers)
    ev = c.event()
    common_checks(ev, "openai", "completion")
    eq(ev["response"]["text"], r.choices[0].text, "response.text")
    eq(ev["usage"]["input_tokens"], r.usage.prompt_tokens, "input_tokens")
    eq(ev["usage"]["output_tokens"], r.usage.completion_tokens, "output_tokens")
    c2 = Case(s, "completion-stream")
    text = "".join(ch.choices[0].text for ch in oai.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hello", stream=True, extra_headers=c2.headers)
        if ch.choices)
    ev2 = c2.event()
    eq(ev2["response"]["text"], text, "streamed completion text")
    check(ev2["usage"]["output_tokens"] > 0, "streamed completion usage (injected)")
    return "completions"


def embeddings(s, up, oai):
    c = Case(s, "emb")
    r = oai.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"],
                              extra_headers=c.headers)
    ev = c.event()
    common_checks(ev, "openai", "embeddings")
    eq(ev["usage"]["input_tokens"], r.usage.prompt_tokens, "input_tokens")
    check(ev.get("cost_usd", 0) > 0, "cost_usd")
    check("embedding" not in json.dumps(ev.get("response", {})) or
          len(json.dumps(ev)) < 20000, "vectors not kept by default")
    return "embeddings"


def responses(s, up, oai):
    c = Case(s, "resp")
    r = oai.responses.create(model="gpt-4o-mini", input="Name two colours.",
                             instructions="Be brief.", extra_headers=c.headers)
    ev = c.event()
    common_checks(ev, "openai", "responses")
    eq(ev["response"]["text"], r.output_text, "response.text")
    eq(ev["usage"]["input_tokens"], r.usage.input_tokens, "input_tokens")
    eq(ev["usage"]["output_tokens"], r.usage.output_tokens, "output_tokens")
    c2 = Case(s, "resp-stream")
    text, final = "", None
    for e in oai.responses.create(model="gpt-4o-mini", input="Name two colours.", stream=True,
                                  extra_headers=c2.headers):
        if e.type == "response.output_text.delta":
            text += e.delta
        if e.type == "response.completed":
            final = e.response
    ev2 = c2.event()
    eq(ev2["response"]["text"], text, "streamed responses text")
    eq(ev2["usage"]["output_tokens"], final.usage.output_tokens, "streamed responses usage")
    check(ev2.get("ttft_ms") is not None, "ttft_ms")
    return "responses"


def anthropic_calls(s, up, ant):
    c = Case(s, "ant")
    long_sys = "You are a support agent. " * 200
    r = ant.messages.create(model="claude-sonnet-4-5", max_tokens=300, system=long_sys,
                            messages=[{"role": "user", "content": "Hello there"}],
                            extra_headers=c.headers)
    fwd = up.requests(1)[0]
    fh = {k.lower(): v for k, v in fwd["headers"].items()}
    # (the SDK sends its key as x-api-key or, in recent versions, as a bearer token)
    check(fh.get("x-api-key") == ANTHROPIC_KEY or fh.get("authorization") == f"Bearer {ANTHROPIC_KEY}",
          f"the Anthropic key forwarded unchanged: {sorted(fh)}")
    check("anthropic-version" in fh, "anthropic-version forwarded")
    ev = c.event()
    common_checks(ev, "anthropic", "chat")
    u = r.usage
    total_in = u.input_tokens + (u.cache_creation_input_tokens or 0) + (u.cache_read_input_tokens or 0)
    eq(ev["usage"]["input_tokens"], total_in, "input_tokens (all input, cache included)")
    eq(ev["usage"].get("cached_input_tokens", 0), u.cache_read_input_tokens or 0, "cache read")
    eq(ev["usage"].get("cache_write_tokens", 0), u.cache_creation_input_tokens or 0, "cache write")
    eq(ev["usage"]["output_tokens"], u.output_tokens, "output_tokens")
    eq(ev["response"]["text"], "".join(b.text for b in r.content if b.type == "text"), "text")
    check(ev.get("cost_usd", 0) > 0, "cost_usd")
    c2 = Case(s, "ant-stream")
    with ant.messages.stream(model="claude-haiku-4-5", max_tokens=300,
                             messages=[{"role": "user", "content": "Tell me a story"}],
                             extra_headers=c2.headers) as st:
        text = st.get_final_text()
        final = st.get_final_message()
    ev2 = c2.event()
    common_checks(ev2, "anthropic", "chat")
    eq(ev2["stream"], True, "stream")
    eq(ev2["response"]["text"], text, "streamed text")
    eq(ev2["usage"]["output_tokens"], final.usage.output_tokens, "streamed output_tokens")
    check(ev2.get("ttft_ms") is not None, "ttft_ms")
    return "anthropic messages"


def tools(s, up, oai):
    c = Case(s, "tools")
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=[tool],
                                    extra_headers=c.headers)
    tc = r.choices[0].message.tool_calls
    check(tc, "the simulator answered with a tool call")
    ev = c.event()
    got = ev["response"]["tool_calls"][0]
    check(json.dumps(got).find(tc[0].function.name) >= 0, f"tool call name: {got}")
    c2 = Case(s, "tool-result")
    msgs2 = msgs + [r.choices[0].message.model_dump(exclude_none=True),
                    {"role": "tool", "tool_call_id": tc[0].id, "content": "Sunny, 21 C"}]
    oai.chat.completions.create(model="gpt-4o-mini", messages=msgs2, tools=[tool],
                                extra_headers=c2.headers)
    ev2 = c2.event()
    check(any(d.get("id") == tc[0].id and "Sunny" in d.get("text", "")
              for d in ev2.get("context", [])), f"tool result as context: {ev2.get('context')}")
    return "tool calls and tool results"


def upstream_error(s, up, oai, agent_port):
    c = Case(s, "err")
    try:
        oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                    extra_headers={**c.headers, "x-sim-status": "500"})
        raise AssertionError("expected an error")
    except openai.InternalServerError:
        pass
    ev = c.event()
    eq(ev["status"], 500, "status")
    check(ev.get("error") and ev["error"].get("message"), f"error captured: {ev.get('error')}")
    # Malformed client JSON goes to the provider, which decides.
    c2 = Case(s, "badjson")
    hdr = {"content-type": "application/json", "authorization": f"Bearer {OPENAI_KEY}"}
    st, _, body = raw(agent_port, "POST", "/v1/chat/completions", b'{"model": "gpt-4o-mini", "mess',
                      {**hdr, **c2.headers})
    st2, _, body2 = raw(up.port, "POST", "/v1/chat/completions", b'{"model": "gpt-4o-mini", "mess', hdr)
    eq((st, body), (st2, body2), "malformed body relayed, provider's answer returned")
    ev2 = c2.event()
    eq(ev2["status"], st2, "status of the malformed call")
    return "upstream errors and malformed client JSON"


def timeouts_and_unreachable(s, up, slow, dead):
    c = Case(s, "timeout")
    t0 = time.monotonic()
    try:
        slow.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                     extra_headers={**c.headers, "x-sim-delay-ms": "8000"})
        raise AssertionError("expected a timeout error")
    except openai.APIStatusError as e:
        eq(e.status_code, 504, "status for an upstream timeout")
        check("timed out" in str(e.body), f"error body: {e.body}")
    check(time.monotonic() - t0 < 7, "the agent's 2 s upstream timeout applied")
    ev = c.event()
    eq(ev["status"], 0, "status when no response came")
    eq(ev["error"]["type"], "upstream_timeout", "error.type")
    c2 = Case(s, "unreachable")
    try:
        dead.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                     extra_headers=c2.headers)
        raise AssertionError("expected an error")
    except openai.APIStatusError as e:
        eq(e.status_code, 502, "status for an unreachable upstream")
        check(isinstance(e.body, dict) and "message" in e.body, f"OpenAI-shaped error: {e.body}")
    ev2 = c2.event()
    eq(ev2["status"], 0, "status")
    eq(ev2["error"]["type"], "upstream_unreachable", "error.type")
    return "upstream timeout (504) and unreachable (502)"


def client_disconnect(s, up, agent_port):
    c = Case(s, "disc")
    body = json.dumps({"model": "gpt-4o-mini", "stream": True,
                       "messages": [{"role": "user", "content": "A long story please"}]}).encode()
    sk = socket.create_connection(("127.0.0.1", agent_port))
    sk.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               + f"Authorization: Bearer {OPENAI_KEY}\r\nx-llmtap-service: {c.service}\r\n".encode()
               + b"x-sim-chunks: 200\r\nx-sim-chunk-interval-ms: 50\r\n"
               + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    got = b""
    while got.count(b"data:") < 3:
        got += sk.recv(4096)
    sk.close()
    ev = c.event()
    eq(ev["error"]["type"], "client_disconnect", "error.type")
    check(ev["latency_ms"] < 8000, "the upstream request was abandoned, not waited for")
    return "client disconnect mid-stream"


def price_reload(s, oai, prices):
    """SIGHUP reloads the price table; a broken file keeps the old one."""
    def cost_of_call():
        c = Case(s, "price")
        oai.chat.completions.create(model="gpt-4o-mini", extra_headers=c.headers,
                                    messages=[{"role": "user", "content": "The same question."}])
        return c.event()["cost_usd"]
    before = cost_of_call()
    table = json.load(open(prices))
    for k in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost"):
        if k in table["gpt-4o-mini"]:
            table["gpt-4o-mini"][k] *= 2
    with open(prices, "w") as f:
        json.dump(table, f)
    s.agent.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded" in s.agent.output(), 10, "price table reloaded")
    after = cost_of_call()
    check(abs(after - 2 * before) < 1e-12, f"cost after reload {after}, want {2 * before}")
    with open(prices, "w") as f:
        f.write("{ not json")
    s.agent.p.send_signal(signal.SIGHUP)
    wait_for(lambda: "not reloaded" in s.agent.output(), 10, "failed reload logged")
    kept = cost_of_call()
    check(abs(kept - after) < 1e-12, f"cost after a failed reload {kept}, want {after}")
    return "price table reload on SIGHUP (and a broken file keeps the old table)"


def models(s, oai):
    lst = oai.models.list()
    check(len(lst.data) > 0, "models listed")
    return "GET /v1/models passed through"


def no_secrets(s, up):
    data = os.path.join(s.tmp, "data", "data.mdb")
    blob = open(data, "rb").read()
    for k in (OPENAI_KEY, ANTHROPIC_KEY):
        check(k.encode() not in blob, "an API key is in the store")
        # zstd-compressed records: also check the decompressed events via the API
    for p in s.procs:
        check(OPENAI_KEY not in p.output() and ANTHROPIC_KEY not in p.output(),
              f"an API key is in the {p.name} log")
    return f"no API key in {len(blob)} bytes of LMDB nor in the logs"


def test():
    with Stack(agent=False) as probe:
        tmp = probe.tmp
        up = Upstream(tmp)
        prices = os.path.join(tmp, "prices.json")
        shutil.copy(os.path.join(SRC, "packaging", "model_prices.json"), prices)
        dead_port = free_port()
        aport = free_port()
        probe.agent = probe._start("agent", [
            f"{BIN}/llmtap-agent", "--listen", f"127.0.0.1:{aport}", "--kafka-brokers",
            probe.brokers, "--service", "proxy-test", "--prices-file", prices,
            "--spool-dir", os.path.join(tmp, "spool"),
            "--upstream", f"openai=http://{up.addr}", "--upstream", f"anthropic=http://{up.addr}",
            "--upstream", f"slow=http://{up.addr}", "--upstream", "slow.timeout=2s",
            "--upstream", f"dead=http://127.0.0.1:{dead_port}",
            "--upstream", "dead.connect_timeout=2s"])
        probe.a = Http(aport)
        probe.aport = aport
        wait_for(lambda: probe.a.request("GET", "/healthz")[0] == 200, 30, "agent /healthz",
                 procs=[probe.agent])
        s = probe
        base = f"http://127.0.0.1:{aport}"
        oai = openai.OpenAI(base_url=base + "/v1", api_key=OPENAI_KEY, max_retries=0, timeout=60)
        slow = openai.OpenAI(base_url=base + "/slow/v1", api_key=OPENAI_KEY, max_retries=0,
                             timeout=60)
        dead = openai.OpenAI(base_url=base + "/dead/v1", api_key=OPENAI_KEY, max_retries=0,
                             timeout=60)
        ant = anthropic.Anthropic(base_url=base, api_key=ANTHROPIC_KEY, max_retries=0, timeout=60)
        done, failed = [], []
        cases = [lambda: chat_non_stream(s, up, oai),
                 lambda: chat_stream(s, up, oai, aport, True),
                 lambda: chat_stream(s, up, oai, aport, False),
                 lambda: completions(s, up, oai),
                 lambda: embeddings(s, up, oai),
                 lambda: responses(s, up, oai),
                 lambda: anthropic_calls(s, up, ant),
                 lambda: tools(s, up, oai),
                 lambda: upstream_error(s, up, oai, aport),
                 lambda: timeouts_and_unreachable(s, up, slow, dead),
                 lambda: client_disconnect(s, up, aport),
                 lambda: price_reload(s, oai, prices),
                 lambda: models(s, oai)]
        for i, case in enumerate(cases):
            try:
                done.append(case())
                log("ok  ", done[-1])
            except Exception as e:
                import traceback
                traceback.print_exc()
                failed.append(f"case {i}: {e}")
                log("FAIL", f"case {i}: {e}")
        try:
            log("ok  ", no_secrets(s, up))
        except Exception as e:
            failed.append(str(e))
        m = s.a.metrics()
        log("agent metrics:", {k: v for k, v in m.items() if "proxy" in k or "cost" in k})
        up.stop()
        if failed:
            raise AssertionError(f"{len(failed)} proxy case(s) failed: {failed}")


if __name__ == "__main__":
    main(test)
