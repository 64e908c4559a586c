"""OTLP intake with real OpenTelemetry software (pinned in
requirements-sdk.txt, in the SDK virtualenv this script re-runs itself in).

(a) The official `opentelemetry-sdk` with its OTLP/HTTP protobuf span
    exporter, gzip on, exports hand-built GenAI spans to the agent: a
    retrieval span (gen_ai.retrieval.documents) and, after it, an LLM span
    in the same trace. The collector must hold one event with the LLM span's
    model, tokens, messages and exact latency, and the retrieval span's
    documents as `context`; the retrieval span itself is no event.
(b) OpenLLMetry's `opentelemetry-instrumentation-openai` instruments the
    official `openai` SDK, which calls `llmtap-sim upstream` directly (not
    through the agent's proxy); the spans go to the agent. Before the call, an
    OpenInference RETRIEVER span in the same trace carries documents. The
    event must have what the SDK got back (model, token counts, answer text),
    the prompt, a latency, and the documents.
"""
import json
import time
import uuid

from llmtap_it import SimUpstream, Stack, events_of, in_sdk_venv, log, main

in_sdk_venv()
import openai  # noqa: E402
from opentelemetry.exporter.otlp.proto.http import Compression  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.instrumentation.openai import OpenAIInstrumentor  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402


def provider(aport, service):
    tp = TracerProvider(resource=Resource.create({"service.name": service}))
    exp = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{aport}/v1/traces",
                           compression=Compression.Gzip, timeout=30)
    tp.add_span_processor(BatchSpanProcessor(exp))
    return tp


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def hand_built(s):
    svc = "otlp-sdk-" + uuid.uuid4().hex[:6]
    tp = provider(s.aport, svc)
    tracer = tp.get_tracer("llmtap.test")
    docs = [{"id": "kb-7", "score": 0.91, "content": "Reset it under Settings, then Security.",
             "source": "helpcenter"},
            {"id": 12, "score": 0.4, "content": "Passwords expire every 90 days."}]
    inputs = [{"role": "user", "parts": [{"type": "text", "content": "How do I reset my password?"}]}]
    outputs = [{"role": "assistant", "finish_reason": "stop",
                "parts": [{"type": "text", "content": "Open Settings, then Security."}]}]
    with tracer.start_as_current_span("rag answer") as root:
        with tracer.start_as_current_span("retrieve kb") as r:
            r.set_attribute("gen_ai.operation.name", "retrieval")
            r.set_attribute("gen_ai.retrieval.documents", json.dumps(docs))
        with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.provider.name", "openai")
            llm.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            llm.set_attribute("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
            llm.set_attribute("gen_ai.usage.input_tokens", 412)
            llm.set_attribute("gen_ai.usage.output_tokens", 38)
            llm.set_attribute("gen_ai.input.messages", json.dumps(inputs))
            llm.set_attribute("gen_ai.output.messages", json.dumps(outputs))
            time.sleep(0.05)
    trace = format(root.get_span_context().trace_id, "032x")
    span_id = format(llm.get_span_context().span_id, "016x")
    want_latency = (llm.end_time - llm.start_time) / 1e6
    check(tp.force_flush(30_000), "the exporter flushed")
    tp.shutdown()
    # force_flush returned: the agent answered the export, so every span is
    # counted by now; only the LLM span may have become an event.
    m = s.a.metrics()
    check(m["llmtap_agent_otlp_spans_total"] == 3 and m["llmtap_agent_otlp_spans_accepted_total"] == 1
          and m["llmtap_agent_otlp_spans_ignored_total"] == 2, m)
    evs = events_of(s, svc, 1)
    check(len(evs) == 1, f"one event for three spans: {[e.get('operation') for e in evs]}")
    ev = evs[0]
    log("hand-built event:", json.dumps(ev)[:600])
    check(ev["source"] == "otlp" and ev["trace_id"] == trace and ev["span_id"] == span_id, ev)
    check(ev["request_model"] == "gpt-4o-mini", ev["request_model"])
    check(ev["response_model"] == "gpt-4o-mini-2024-07-18", ev["response_model"])
    check(ev["usage"]["input_tokens"] == 412 and ev["usage"]["output_tokens"] == 38, ev["usage"])
    check(abs(ev["latency_ms"] - want_latency) < 0.01 and ev["latency_ms"] >= 50,
          (ev["latency_ms"], want_latency))
    check(ev["request"]["messages"] == [{"role": "user", "content": "How do I reset my password?"}],
          ev["request"])
    check(ev["response"]["text"] == "Open Settings, then Security.", ev["response"])
    ctx = {d["id"]: d for d in ev.get("context", [])}
    check(set(ctx) == {"kb-7", "12"}, f"retrieval documents joined: {ev.get('context')}")
    check(ctx["kb-7"]["text"] == docs[0]["content"] and ctx["kb-7"]["source"] == "helpcenter"
          and abs(ctx["kb-7"]["score"] - 0.91) < 1e-9, ctx["kb-7"])
    m = s.a.metrics()
    check(m.get("llmtap_agent_otlp_gzip_bodies_total", 0) >= 1, "the exporter sent gzip")
    check(m.get("llmtap_agent_otlp_join_events_total", 0) >= 1, "join counted")
    return "hand-built spans via opentelemetry-sdk + OTLPSpanExporter (gzip)"


def instrumented(s, up):
    svc = "otlp-oai-" + uuid.uuid4().hex[:6]
    tp = provider(s.aport, svc)
    inst = OpenAIInstrumentor()
    inst.instrument(tracer_provider=tp)
    try:
        tracer = tp.get_tracer("llmtap.test")
        client = openai.OpenAI(base_url=f"http://{up.addr}/v1", api_key="sk-test-otlp",
                               max_retries=0, timeout=60)
        question = "What is the refund window? " + uuid.uuid4().hex[:8]
        with tracer.start_as_current_span("rag") as root:
            with tracer.start_as_current_span("retriever") as r:
                r.set_attribute("openinference.span.kind", "RETRIEVER")
                r.set_attribute("retrieval.documents.0.document.id", "policy-3")
                r.set_attribute("retrieval.documents.0.document.content",
                                "Refunds are accepted within 30 days.")
                r.set_attribute("retrieval.documents.0.document.score", 0.77)
                r.set_attribute("retrieval.documents.0.document.metadata",
                                json.dumps({"source": "policies"}))
            t0 = time.monotonic()
            resp = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}],
                temperature=0.3)
            took_ms = (time.monotonic() - t0) * 1000
        trace = format(root.get_span_context().trace_id, "032x")
    finally:
        inst.uninstrument()
    check(tp.force_flush(30_000), "the exporter flushed")
    tp.shutdown()
    ev = events_of(s, svc, 1)[0]
    log("instrumented event:", json.dumps(ev)[:800])
    check(ev["source"] == "otlp" and ev["trace_id"] == trace, ev)
    check(ev["request_model"] == "gpt-4o-mini", ev["request_model"])
    check(ev.get("response_model") == resp.model, (ev.get("response_model"), resp.model))
    check(ev["usage"]["input_tokens"] == resp.usage.prompt_tokens, (ev["usage"], resp.usage))
    check(ev["usage"]["output_tokens"] == resp.usage.completion_tokens, (ev["usage"], resp.usage))
    check(ev["provider"] == "openai", ev["provider"])
    check(any(m.get("role") == "user" and question in json.dumps(m.get("content"))
              for m in ev["request"]["messages"]), ev["request"])
    check(ev["response"]["text"] == resp.choices[0].message.content, ev.get("response"))
    check(0 < ev["latency_ms"] <= took_ms + 1, (ev["latency_ms"], took_ms))
    check(ev.get("cost_usd", 0) > 0, "priced from the table")
    ctx = ev.get("context", [])
    check(len(ctx) == 1 and ctx[0]["id"] == "policy-3" and ctx[0]["source"] == "policies"
          and ctx[0]["text"] == "Refunds are accepted within 30 days.", ctx)
    return "OpenLLMetry's opentelemetry-instrumentation-openai around the openai SDK"


def test():
    with Stack() as s:
        up = SimUpstream(s.tmp)
        try:
            log("ok:", hand_built(s))
            log("ok:", instrumented(s, up))
        finally:
            up.stop()
        m = s.a.metrics()
        log("agent otlp metrics:", {k: v for k, v in m.items() if "otlp" in k and v})
        check(m["llmtap_agent_otlp_spans_rejected_total"] == 0, "no span refused")


if __name__ == "__main__":
    main(test)
