"""Integration (1) and (2): agent → Kafka → collector → events API.

10,000 events from llmtap-sim are posted to the agent; every one must be
readable from the collector by id, equal field for field, exactly once.
With --kafka the broker is a real Apache Kafka (tests/kafka/kafka.sh);
otherwise the collector's embedded dev broker. The Kafka run also restarts
the collector on its store and checks nothing is ingested twice.
"""
import json
import os
import subprocess
import sys
import uuid

from llmtap_it import (SRC, Stack, kafkatool, log, main, read_ndjson, run_sim, compare_all,
                       wait_for)

N = int(os.environ.get("LLMTAP_IT_EVENTS", "10000"))
SEED = int(os.environ.get("LLMTAP_IT_SEED", "42"))


def kafka_broker():
    out = subprocess.run([os.path.join(SRC, "tests/kafka/kafka.sh"), "start"], capture_output=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    return out.stdout.decode().strip().splitlines()[-1]


def test():
    real = "--kafka" in sys.argv
    log(f"events={N} seed={SEED} broker={'Apache Kafka' if real else 'dev (mock cluster)'}")
    cargs, aargs, brokers = [], [], None
    if real:
        brokers = kafka_broker()
        run = uuid.uuid4().hex[:8]
        topic = f"llmtap.events.it-{run}"
        kafkatool("create-topic", "--brokers", brokers, "--topic", topic, "--partitions", "3")
        kafkatool("create-topic", "--brokers", brokers, "--topic", topic + ".dlq", "--partitions", "1")
        cargs = ["--topic", topic, "--dlq-topic", topic + ".dlq", "--kafka", f"group.id=it-{run}"]
        aargs = ["--topic", topic]
    with Stack(brokers=brokers, collector_args=cargs, agent_args=aargs) as s:
        out = os.path.join(s.tmp, "sent.ndjson")
        run_sim(f"http://127.0.0.1:{s.aport}", N, SEED, out)
        sent = read_ndjson(out)
        assert len(sent) == N, f"sim reports {len(sent)} accepted events, want {N}"
        assert len({e["id"] for e in sent}) == N, "sim produced duplicate ids"

        s.wait_stored(N)
        am = wait_for(lambda: (m := s.a.metrics())["llmtap_agent_events_delivered_total"] >= N and m,
                      60, "agent delivery reports")
        log("agent: accepted", am["llmtap_agent_events_accepted_total"], "delivered",
            am["llmtap_agent_events_delivered_total"], "failed",
            am["llmtap_agent_events_delivery_failed_total"])
        assert am["llmtap_agent_events_accepted_total"] == N
        assert am["llmtap_agent_events_delivered_total"] == N
        assert am["llmtap_agent_events_delivery_failed_total"] == 0

        cm = s.c.metrics()
        log("collector: stored", cm["llmtap_collector_events_stored_total"], "duplicates",
            cm["llmtap_collector_events_duplicate_total"], "store events", cm["llmtap_store_events"],
            "store bytes", cm["llmtap_store_used_bytes"])
        assert cm["llmtap_store_events"] == N, "store must hold every event exactly once"
        assert cm["llmtap_collector_events_stored_total"] == N

        bad = compare_all(s, sent)
        log(f"field-for-field: {N - bad} equal, {bad} different")
        assert bad == 0

        # The list API: newest first, filters, limit.
        services = sorted({e["service"] for e in sent})
        for svc in services[:3]:
            want = sorted((e for e in sent if e["service"] == svc), key=lambda e: e["time"], reverse=True)
            st, got = s.c.get_json(f"/api/v1/events?service={svc}&limit=1000")
            assert st == 200
            assert len(got) == min(1000, len(want)), (svc, len(got), len(want))
            assert all(g["service"] == svc for g in got)
            times = [g["time"] for g in got]
            assert times == sorted(times, reverse=True), "events must be newest first"
        st, got = s.c.get_json("/api/v1/events?limit=5")
        assert st == 200 and len(got) == 5
        newest = max(e["time"] for e in sent)
        assert got[0]["time"] == newest, (got[0], newest)  # both RFC 3339 with microseconds
        st, _ = s.c.get_json("/api/v1/events?limit=0")
        assert st == 400
        st, _ = s.c.get_json("/api/v1/events/01JDQ6Z8V6M9T3K2W4X5Y6Z7A8")
        assert st == 404

        if real:
            # Restart the collector on the same store: nothing is consumed twice.
            rc = s.collector.stop()
            assert rc == 0, rc
            s.procs.remove(s.collector)
            s.collector = s._start("collector2", s.collector.p.args)
            wait_for(lambda: s.c.request("GET", "/readyz")[0] == 200, 60, "collector restarted")
            # One new event per service (so every partition gets one): once all are
            # stored, each partition has been read past its old messages.
            for svc in services:
                st, r = s.a.post("/v1/events", json.dumps({"schema": "llmtap.event/1", "service": svc,
                                                "provider": "openai", "operation": "chat",
                                                "request_model": "gpt-4o-mini", "latency_ms": 1}))
                assert st == 202, (st, r)
            s.wait_stored(N + len(services))
            cm = s.c.metrics()
            assert cm["llmtap_store_events"] == N + len(services)
            assert cm["llmtap_collector_events_consumed_total"] == len(services), \
                f"consumed {cm['llmtap_collector_events_consumed_total']} after restart: re-read old messages"
            log("restart: resumed from stored offsets, nothing re-ingested")


if __name__ == "__main__":
    main(test)
