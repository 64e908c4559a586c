"""Fault: SIGKILL the collector 10 times mid-ingest; nothing lost, nothing doubled.

N events (20,000) are produced first (llmtap-sim → agent → the real Kafka
broker of tests/kafka/kafka.sh: the dev broker lives inside the collector
and would die with it). Then the collector is started on one store and
killed with SIGKILL at random moments while it ingests (each time once the
store has passed a random number of events, plus a random few ms), and
restarted on the same store, 10 times. After the last restart it must hold
exactly the produced set: the store count is N, every id is served, a
sample is equal field for field, and `verify` exits 0.

The collectors use static group membership (group.instance.id), so a
restarted one takes its partitions back at once instead of waiting for the
killed one's session to expire. Random: the seed is printed; set
LLMTAP_TEST_SEED to replay.
"""
import os
import random
import shutil
import signal
import tempfile
import time
import types
import uuid

from llmtap_it import (BIN, Http, Proc, compare_all, free_port, kafka_broker, kafkatool, log, main,
                       metric, missing_ids, read_ndjson, run_sim, verify_store, wait_for)

N = int(os.environ.get("LLMTAP_IT_EVENTS", "20000"))
KILLS = 10


def test():
    seed = int(os.environ.get("LLMTAP_TEST_SEED") or random.SystemRandom().randrange(1 << 32))
    log(f"seed={seed} (set LLMTAP_TEST_SEED to replay) events={N} kills={KILLS}")
    rng = random.Random(seed)
    brokers = kafka_broker()
    run = uuid.uuid4().hex[:8]
    topic = f"llmtap.events.kill-{run}"
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic, "--partitions", "3")
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic + ".dlq", "--partitions", "1")
    tmp = tempfile.mkdtemp(prefix="llmtap-it-kill-")
    procs = []
    ok = False
    try:
        # 1. Produce everything first.
        aport = free_port()
        agent = Proc("agent", [f"{BIN}/llmtap-agent", "--listen", f"127.0.0.1:{aport}", "--kafka-brokers",
                               brokers, "--topic", topic, "--spool-dir", os.path.join(tmp, "spool")], tmp)
        procs.append(agent)
        a = Http(aport)
        wait_for(lambda: a.request("GET", "/healthz")[0] == 200, 30, "agent /healthz", procs=[agent])
        out = os.path.join(tmp, "sent.ndjson")
        run_sim(f"http://127.0.0.1:{aport}", N, seed & 0xFFFFFFFF, out, batch=200)
        sent = read_ndjson(out)
        ids = [e["id"] for e in sent]
        assert len(sent) == N and len(set(ids)) == N
        wait_for(lambda: a.metrics()["llmtap_agent_events_delivered_total"] >= N, 120,
                 "agent delivered everything", 0.2, procs=[agent])
        assert agent.stop() == 0
        procs.remove(agent)
        log(f"produced {N} events to {topic}")

        # 2. Kill the collector mid-ingest, again and again.
        data = os.path.join(tmp, "data")
        cport = free_port()
        cargs = [f"{BIN}/llmtap-collector", "--listen", f"127.0.0.1:{cport}", "--data-dir", data,
                 "--kafka-brokers", brokers, "--topic", topic, "--dlq-topic", topic + ".dlq",
                 "--batch-max-events", "500", "--kafka", f"group.id=it-kill-{run}",
                 "--kafka", f"group.instance.id=it-kill-{run}", "--kafka", "session.timeout.ms=6000"]
        c = Http(cport)
        targets = sorted(rng.sample(range(N // 20, N - N // 20), KILLS))
        for k, target in enumerate(targets):
            col = Proc(f"collector{k}", cargs, tmp)
            procs.append(col)
            wait_for(lambda: metric(c, "llmtap_store_events") >= target, 180,
                     f"store past {target} events", 0.01, procs=[col])
            time.sleep(rng.uniform(0, 0.03))
            col.p.send_signal(signal.SIGKILL)
            col.p.wait()
            procs.remove(col)
            c.conn = None
            rc, nums, text = verify_store(data)
            assert rc == 0, f"store damaged after kill {k + 1}:\n{text}"
            log(f"kill {k + 1}: target {target}, store held {nums['events']} events "
                f"(offsets {nums['offsets']}), verify clean")

        # 3. The last restart ingests the rest: exactly the produced set.
        col = Proc("collector-final", cargs, tmp)
        procs.append(col)
        wait_for(lambda: c.request("GET", "/readyz")[0] == 200, 60, "final collector ready", procs=[col])
        wait_for(lambda: metric(c, "llmtap_store_events") >= N, 300, f"{N} events stored", 0.2,
                 procs=[col])
        time.sleep(1)  # let anything extra show up if it were coming
        m = c.metrics()
        log(f"final: store events {m['llmtap_store_events']:.0f}, this run consumed "
            f"{m['llmtap_collector_events_consumed_total']:.0f}, stored "
            f"{m['llmtap_collector_events_stored_total']:.0f}, duplicates "
            f"{m['llmtap_collector_events_duplicate_total']:.0f}")
        assert m["llmtap_store_events"] == N, "the store must hold every event exactly once"
        gone = missing_ids(c, ids)
        log(f"ids: {N - len(gone)} of {N} served, {len(gone)} missing")
        assert not gone, gone[:5]
        sample = rng.sample(sent, 500)
        bad = compare_all(types.SimpleNamespace(c=c), sample)
        log(f"sample: {len(sample) - bad} of {len(sample)} equal field for field")
        assert bad == 0
        assert col.stop() == 0
        procs.remove(col)
        rc, nums, text = verify_store(data)
        log("verify:", text.strip().splitlines()[-1])
        assert rc == 0 and nums["events"] == N and nums["ids"] == N and nums["problems"] == 0, text
        ok = True
    finally:
        for p in procs:
            try:
                p.stop(signal.SIGKILL)
            except AssertionError:
                pass
            p.dump()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"logs and data kept in {tmp}")


if __name__ == "__main__":
    main(test)
