"""Fault injection at the agent: a 202 means durably queued, whatever fails.

  --kill            the agent is SIGKILLed 10 times under load and restarted
                    on the same spool; the load generator retries each event
                    with the SAME id until it gets a 202 (so the spool may
                    hold an event twice); afterwards the store holds every
                    event exactly once.
  --corrupt-spool   events wait in the spool of an agent whose broker is
                    unreachable; the agent is stopped, the spool damaged (a
                    flipped byte inside one record, a torn last record); a
                    new agent on that spool ships the rest: the damaged
                    records are counted as corrupt, every other event
                    arrives.
  --broker-outage   (real Apache Kafka) the broker is stopped for 30 s under
                    steady load: the agent keeps answering 202, /readyz says
                    degraded, and after the broker is back the store holds
                    every accepted event exactly once.

Each prints what it counted. LLMTAP_TEST_SEED repeats a run.
"""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

from llmtap_it import BIN, SRC, Http, Stack, free_port, log, main, wait_for

SEED = int(os.environ.get("LLMTAP_TEST_SEED", str(random.randrange(1 << 30))))
random.seed(SEED)


def event(i, service="faults"):
    return {"id": str(uuid.UUID(int=random.getrandbits(128), version=4)), "service": service,
            "provider": "openai", "operation": "chat", "request_model": "gpt-4o-mini",
            "latency_ms": 12.5, "usage": {"input_tokens": i, "output_tokens": 7},
            "request": {"messages": [{"role": "user", "content": f"question {i} " + "x" * 200}]}}


class Loader:
    """Posts events in small batches to the agent at `port()`, retrying a
    batch (same ids) until it is answered 202; records the ids answered 202."""

    def __init__(self, port_fn, batch=10):
        self.port_fn = port_fn
        self.batch = batch
        self.accepted = set()
        self.sent = set()
        self.attempts = 0
        self.failures = 0
        self.stop = False
        self.i = 0
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            evs = [event(self.i + k) for k in range(self.batch)]
            self.i += self.batch
            body = json.dumps(evs)
            for e in evs:
                self.sent.add(e["id"])
            while not self.stop:
                self.attempts += 1
                try:
                    h = Http(self.port_fn())
                    st, r = h.post("/v1/events", body)
                    h.conn.close()
                    if st == 202 and r["accepted"] == len(evs):
                        self.accepted.update(e["id"] for e in evs)
                        break
                except Exception:
                    pass
                self.failures += 1
                time.sleep(0.05)
            time.sleep(0.01)

    def start(self):
        self.t.start()
        return self

    def finish(self):
        self.stop = True
        self.t.join(30)


def agent_args(port, brokers, spool, *extra):
    return [f"{BIN}/llmtap-agent", "--listen", f"127.0.0.1:{port}", "--kafka-brokers", brokers,
            "--spool-dir", spool, "--service", "faults", *extra]


def wait_healthy(port, proc):
    wait_for(lambda: Http(port).request("GET", "/healthz")[0] == 200, 30, "agent /healthz",
             procs=[proc])


def check_exactly_once(s, ids):
    """Every id is stored once, and the store holds nothing else."""
    s.wait_stored(len(ids), timeout=180)
    time.sleep(1)  # anything extra would arrive now
    stored = s.stored_count()
    missing = [i for i in ids if s.c.request("GET", f"/api/v1/events/{i}")[0] != 200]
    log(f"store holds {stored} events; {len(ids)} ids expected; missing {len(missing)}")
    assert not missing, f"{len(missing)} accepted events missing, e.g. {missing[:3]}"
    assert stored == len(ids), f"store holds {stored} events, want exactly {len(ids)}"
    cm = s.c.metrics()
    log("collector duplicates dropped:", cm.get("llmtap_collector_events_duplicate_total"))
    return cm


def test_kill():
    rnd = random.Random(SEED)
    log(f"seed {SEED}")
    with Stack(agent=False) as s:
        spool = os.path.join(s.tmp, "spool")
        port = free_port()
        procs = []

        def start(n):
            p = s._start(f"agent-{n}", agent_args(port, s.brokers, spool))
            procs.append(p)
            wait_healthy(port, p)
            return p

        p = start(0)
        load = Loader(lambda: port).start()
        kills = 0
        for n in range(1, 11):
            time.sleep(rnd.uniform(0.3, 1.5))
            p.p.send_signal(signal.SIGKILL)
            p.p.wait(10)
            s.procs.remove(p)  # its end was intended
            kills += 1
            p = start(n)
        time.sleep(1)
        load.finish()
        log(f"kills {kills}; events sent {len(load.sent)}, answered 202 {len(load.accepted)}, "
            f"post attempts {load.attempts}, failed attempts {load.failures}")
        assert load.accepted == load.sent, "the loader stopped with unanswered events"
        cm = check_exactly_once(s, sorted(load.accepted))
        am = Http(port).metrics()
        log("agent (last run): spool replayed", am.get("llmtap_agent_spool_replayed_total"),
            "corrupt", am.get("llmtap_agent_spool_corrupt_total"))


def test_corrupt_spool():
    with Stack(agent=False) as s:
        spool = os.path.join(s.tmp, "spool")
        port = free_port()
        dead = free_port()  # nothing listens: the broker is unreachable
        a = s._start("agent-offline", agent_args(port, f"127.0.0.1:{dead}", spool,
                                                 "--shutdown-grace", "1s"))
        wait_healthy(port, a)
        evs = [event(i) for i in range(300)]
        h = Http(port)
        for k in range(0, len(evs), 50):
            st, r = h.post("/v1/events", json.dumps(evs[k:k + 50]))
            assert st == 202 and r["accepted"] == 50, (st, r)
        assert a.stop() == 0
        s.procs.remove(a)
        segs = sorted(f for f in os.listdir(spool) if f.endswith(".log"))
        assert segs, "no spool segment"
        path = os.path.join(spool, segs[-1])
        data = bytearray(open(path, "rb").read())
        # A flipped byte inside one event's payload (its id is damaged too).
        victim = evs[100]["id"].encode()
        at = data.find(victim)
        assert at > 0, "event 100 not found in the spool"
        data[at + 5] ^= 0x20
        # A torn last record: cut in the middle of the last event.
        last = evs[-1]["id"].encode()
        cut = data.find(last)
        assert cut > at, "last event not found after event 100"
        data = data[:cut + 10]
        open(path, "wb").write(bytes(data))
        log(f"damaged {path}: byte flipped at {at + 5}, cut at {cut + 10}")

        b = s._start("agent-online", agent_args(port, s.brokers, spool))
        wait_healthy(port, b)
        want = [e["id"] for e in evs if e["id"] not in (evs[100]["id"], evs[-1]["id"])]
        check_exactly_once(s, want)
        am = Http(port).metrics()
        corrupt = am.get("llmtap_agent_spool_corrupt_total", 0)
        log(f"spool: corrupt spans {corrupt}, replayed {am.get('llmtap_agent_spool_replayed_total')}")
        assert corrupt >= 2, f"corrupt records counted: {corrupt}, want >= 2"
        assert "corrupt" in b.output().lower() or "damaged" in b.output().lower(), \
            "the damage was not logged"


def kafka(*args):
    r = subprocess.run([os.path.join(SRC, "tests/kafka/kafka.sh"), *args], capture_output=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return r.stdout.decode().strip().splitlines()[-1] if r.stdout.strip() else ""


def test_broker_outage():
    brokers = kafka("start")
    run = uuid.uuid4().hex[:8]
    topic = f"llmtap.events.outage-{run}"
    from llmtap_it import kafkatool
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic, "--partitions", "3")
    kafkatool("create-topic", "--brokers", brokers, "--topic", topic + ".dlq", "--partitions", "1")
    cargs = ["--topic", topic, "--dlq-topic", topic + ".dlq", "--kafka", f"group.id=outage-{run}"]
    with Stack(brokers=brokers, collector_args=cargs, agent=False) as s:
        port = free_port()
        a = s._start("agent", agent_args(port, brokers, os.path.join(s.tmp, "spool"),
                                         "--topic", topic))
        wait_healthy(port, a)
        load = Loader(lambda: port).start()
        time.sleep(3)
        before = len(load.accepted)
        kafka("stop")
        t0 = time.monotonic()
        try:
            wait_for(lambda: Http(port).request("GET", "/readyz")[0] == 503, 60,
                     "agent /readyz to report the outage", procs=[a])
            st, body = Http(port).request("GET", "/readyz")
            log("during the outage /readyz:", st, body[:200])
            mid = len(load.accepted)
            time.sleep(max(0, 30 - (time.monotonic() - t0)))
            during = len(load.accepted) - mid
            assert Http(port).request("GET", "/healthz")[0] == 200, "agent unhealthy in an outage"
        finally:
            kafka("start")
        log(f"broker down {time.monotonic() - t0:.1f}s; accepted before {before}, "
            f"while down (after /readyz said so) {during}")
        assert during > 0, "the agent did not accept events while the broker was down"
        wait_for(lambda: Http(port).request("GET", "/readyz")[0] == 200, 120,
                 "agent /readyz to recover", procs=[a])
        time.sleep(2)
        load.finish()
        assert load.accepted == load.sent
        check_exactly_once(s, sorted(load.accepted))
        am = Http(port).metrics()
        log("agent: delivered", am["llmtap_agent_events_delivered_total"], "failed attempts",
            am["llmtap_agent_events_delivery_failed_total"], "pending", am["llmtap_agent_events_pending"])


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "--kill"
    main({"--kill": test_kill, "--corrupt-spool": test_corrupt_spool,
          "--broker-outage": test_broker_outage}[which])
