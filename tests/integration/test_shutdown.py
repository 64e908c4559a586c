"""The agent's staged shutdown.

With no broker reachable, queued events cannot be acknowledged:
- SIGTERM: the agent stops accepting, waits out the grace period for Kafka,
  reports what stayed unacknowledged, and exits 0 — not before the grace
  period, and not long after it.
- A request in progress when SIGTERM arrives is answered.
- SIGINT, then a second SIGINT during the grace period: it exits at once
  with status 130.
"""
import json
import os
import shutil
import signal
import socket
import tempfile
import time

from llmtap_it import BIN, Http, Proc, free_port, log, main, wait_for

GRACE_S = 3


def start_agent(tmp, name):
    port = free_port()
    dead = free_port()  # nothing listens here: the broker is unreachable
    p = Proc(name, [f"{BIN}/llmtap-agent", "--listen", f"127.0.0.1:{port}", "--kafka-brokers",
                    f"127.0.0.1:{dead}", "--shutdown-grace", f"{GRACE_S}s", "--service", "shut",
                    "--spool-dir", os.path.join(tmp, name + "-spool")], tmp)
    h = Http(port)
    wait_for(lambda: h.request("GET", "/healthz")[0] == 200, 30, "agent /healthz", procs=[p])
    ev = {"provider": "openai", "operation": "chat", "request_model": "m", "latency_ms": 1}
    st, r = h.post("/v1/events", json.dumps([ev, ev, ev]))
    assert st == 202 and r["accepted"] == 3, (st, r)
    wait_for(lambda: h.metrics()["llmtap_agent_events_pending"] == 3, 10, "3 events pending",
             procs=[p])
    wait_for(lambda: h.metrics()["llmtap_agent_kafka_queue_depth"] == 3, 10,
             "3 events handed to librdkafka", procs=[p])
    return p, port


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def test():
    tmp = tempfile.mkdtemp(prefix="llmtap-it-")
    p, port = start_agent(tmp, "agent-term")
    t0 = time.monotonic()
    p.p.send_signal(signal.SIGTERM)
    wait_for(lambda: refused(port), 5, "the listener to close", procs=[])
    rc = p.p.wait(GRACE_S + 15)
    took = time.monotonic() - t0
    out = p.output()
    log(f"SIGTERM: exit {rc} after {took:.2f}s (grace {GRACE_S}s)")
    assert rc == 0, out[-2000:]
    assert took >= GRACE_S - 0.5, f"exited after {took:.2f}s, before the grace period"
    assert "3 events still unacknowledged" in out and "stay in the spool" in out, out[-2000:]
    # ... and they are there: that agent's spool holds them for the next start.
    sd = os.path.join(tmp, "agent-term-spool")
    data = b"".join(open(os.path.join(sd, f), "rb").read() for f in os.listdir(sd)
                    if f.endswith(".log"))
    assert data.count(b'"service":"shut"') == 3, "the spool does not hold the 3 events"

    # A request in progress when SIGTERM arrives is finished, not cut off.
    p, port = start_agent(tmp, "agent-drain")
    body = json.dumps({"provider": "openai", "operation": "chat", "request_model": "m",
                       "latency_ms": 1}).encode()
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
    h = Http(port)
    wait_for(lambda: h.metrics()["llmtap_agent_http_in_flight"] >= 2, 10,
             "the partial request to be in progress", procs=[p])  # 2: it and this scrape
    h.conn.close()
    p.p.send_signal(signal.SIGTERM)
    wait_for(lambda: "shutting down" in p.output(), 5, "shutdown to start", procs=[p])
    c.sendall(body[10:])
    reply = c.recv(65536).decode(errors="replace")
    c.close()
    log("in-flight request during shutdown:", reply.splitlines()[0] if reply else "(none)")
    assert reply.startswith("HTTP/1.1 202"), reply[:300]
    assert p.p.wait(GRACE_S + 15) == 0

    p, port = start_agent(tmp, "agent-int")
    p.p.send_signal(signal.SIGINT)
    wait_for(lambda: "shutting down" in p.output(), 5, "shutdown to start", procs=[p])
    t0 = time.monotonic()
    p.p.send_signal(signal.SIGINT)
    rc = p.p.wait(GRACE_S + 15)
    took = time.monotonic() - t0
    log(f"second SIGINT: exit {rc} after {took:.2f}s")
    assert rc == 130, p.output()[-2000:]
    assert took < GRACE_S / 2, f"second SIGINT took {took:.2f}s"
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(test)
