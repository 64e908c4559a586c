"""Integration (4): bad payloads written straight to the events topic.

They must go to the dead-letter topic with their reason in a header, be
counted by reason, and never stop the partition: valid events before,
between and after them are stored. With --kafka the broker is a real
Apache Kafka; otherwise the collector's dev broker.
"""
import json
import sys
import uuid

from test_pipeline import kafka_broker
from llmtap_it import Stack, consume, kafkatool, log, main, produce_raw, wait_for


def ev(i):
    return json.dumps({"schema": "llmtap.event/1", "id": f"01JDQ6Z8V6M9T3K2W4X5Y6Z{i:03d}",
                       "time": "2026-11-23T10:15:02.123456Z", "service": "dlq-test",
                       "provider": "openai", "operation": "chat", "request_model": "m",
                       "latency_ms": 3}).encode()


BAD = [
    (b'{"schema":"llmtap.event/1","id":', "invalid_json"),
    (ev(900).replace(b'"latency_ms": 3', b'"latency_ms": "3"'), "wrong_type"),
    (ev(901).replace(b'"provider": "openai", ', b""), "missing_field"),
    (ev(902).replace(b'"m"', b'"\xc3\x28"'), "invalid_utf8"),
    (b'{"a":1}\x00', "control_character"),
    (b"[" * 10000 + b"]" * 10000, "too_deep"),
    (b"", "invalid_json"),
    (b'["an array"]', "not_an_object"),
    (ev(903).replace(b'"latency_ms": 3', b'"latency_ms": 3, "big": "' + b"y" * 70000 + b'"'), "too_large"),
    (b'{"x":"' + b"z" * 600000 + b'"}', "too_large"),  # over dlq.max_value: cut, and said so
]
DLQ_MAX = 512 * 1024


def test():
    real = "--kafka" in sys.argv
    # The events carry a fixed time: keep them whatever today's date (retention).
    brokers, cargs = None, ["--ingest-max-event", "64KiB", "--retention-events", "0"]
    topic = "llmtap.events"
    if real:
        brokers = kafka_broker()
        run = uuid.uuid4().hex[:8]
        topic = f"llmtap.events.dlq-it-{run}"
        kafkatool("create-topic", "--brokers", brokers, "--topic", topic, "--partitions", "1")
        kafkatool("create-topic", "--brokers", brokers, "--topic", topic + ".dlq", "--partitions", "1")
        cargs += ["--topic", topic, "--dlq-topic", topic + ".dlq", "--kafka", f"group.id=dlq-{run}"]
    with Stack(brokers=brokers, agent=False, collector_args=cargs) as s:
        dlq = topic + ".dlq"
        payloads = [ev(1)] + [b for b, _ in BAD[:5]] + [ev(2)] + [b for b, _ in BAD[5:]] + [ev(3)]
        produce_raw(s.brokers, topic, payloads)
        s.wait_stored(3, 60)
        msgs = consume(s.brokers, dlq, len(BAD), 60)
        assert len(msgs) == len(BAD), f"{len(msgs)} dead letters, want {len(BAD)}"
        for (payload, reason), m in zip(BAD, msgs):
            h = m["headers"]
            log(f"dead letter: reason={h.get('llmtap-error-reason')} error={h.get('llmtap-error')!r:.80}")
            assert h.get("llmtap-error-reason") == reason, (reason, h)
            assert h.get("llmtap-error"), h
            assert h.get("llmtap-source", "").startswith(topic + "/"), h
            if len(payload) > DLQ_MAX:
                assert m["value"] == payload[:DLQ_MAX], "a long dead letter is cut at dlq.max_value"
                assert h.get("llmtap-truncated") == "true", h
                assert h.get("llmtap-original-bytes") == str(len(payload)), h
            else:
                assert m["value"] == payload, "the dead letter must carry the original bytes"
                assert "llmtap-truncated" not in h, h
        cm = s.c.metrics()
        for _, reason in BAD:
            assert cm[f'llmtap_collector_events_invalid_total{{reason="{reason}"}}'] >= 1, reason
        assert cm["llmtap_collector_dlq_total"] == len(BAD)
        # The partition keeps flowing.
        produce_raw(s.brokers, topic, [ev(4)])
        s.wait_stored(4, 60)
        for i in (1, 2, 3, 4):
            assert s.c.get_json(f"/api/v1/events/01JDQ6Z8V6M9T3K2W4X5Y6Z{i:03d}")[0] == 200
        assert s.c.request("GET", "/readyz")[0] == 200
        log("dead letters:", len(BAD), "valid events stored:", s.stored_count())

    if real:
        dlq_unavailable(brokers)


def dlq_unavailable(brokers):
    """A dead letter that cannot be written is never skipped: the batch is
    consumed again (the collector is not ready meanwhile) and nothing of it
    is committed; a collector with a working DLQ then delivers everything."""
    run = uuid.uuid4().hex[:8]
    topic = f"llmtap.events.dlqdown-{run}"
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic, "--partitions", "1")
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic + ".dlq", "--partitions", "1")
    base = ["--topic", topic, "--kafka", f"group.id=dlqdown-{run}", "--retention-events", "0"]
    # Kafka refuses this topic name: every dead letter fails.
    with Stack(brokers=brokers, agent=False, collector_args=base + ["--dlq-topic", "no such topic!"]) as s:
        produce_raw(brokers, topic, [ev(11), b'{"broken"', ev(12)])
        wait_for(lambda: s.c.metrics()["llmtap_collector_dlq_failed_total"] >= 2, 60,
                 "dead-letter failures", procs=s.procs)
        assert s.c.request("GET", "/readyz")[0] == 503
        cm = s.c.metrics()
        assert cm["llmtap_store_events"] == 0, "a batch whose dead letter failed must not commit"
        log("DLQ unavailable: not ready, batch consumed again",
            int(cm["llmtap_collector_events_consumed_total"]), "times-messages, nothing committed")
    # With a working DLQ, everything arrives.
    with Stack(brokers=brokers, agent=False, collector_args=base + ["--dlq-topic", topic + ".dlq"]) as s:
        s.wait_stored(2, 60)
        msgs = consume(brokers, topic + ".dlq", 1, 60)
        assert msgs[0]["value"] == b'{"broken"', msgs
        for i in (11, 12):
            assert s.c.get_json(f"/api/v1/events/01JDQ6Z8V6M9T3K2W4X5Y6Z{i:03d}")[0] == 200
        assert s.c.request("GET", "/readyz")[0] == 200
        log("DLQ back: both events stored, the dead letter written")


if __name__ == "__main__":
    main(test)
