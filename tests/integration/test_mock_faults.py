"""Fine-grained broker faults (librdkafka's mock cluster, driven by
`llmtap-kafkatool mock`): produce, fetch, offset-commit and coordinator
request errors, a broker down and back, high round-trip times and a leader
move, all while the agent takes a steady load and the collector consumes.
Afterwards the store holds every accepted event exactly once.
"""
import os
import subprocess
import time

from llmtap_it import BIN, Http, Stack, free_port, log, main, wait_for
from test_agent_faults import Loader, agent_args, check_exactly_once, wait_healthy

TOPIC = "llmtap.events"


class Mock:
    def __init__(self):
        self.p = subprocess.Popen([f"{BIN}/llmtap-kafkatool", "mock", "--brokers-count", "3",
                                   "--partitions", "3", "--topic", TOPIC, "--partitions", "1",
                                   "--topic", TOPIC + ".dlq"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline().strip()
        assert line.startswith("mock: "), line
        self.brokers = line.split(" ", 1)[1]

    def do(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        r = self.p.stdout.readline().strip()
        assert r == "ok", f"mock: {cmd}: {r}"
        log("fault:", cmd)

    def stop(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.flush()
        self.p.wait(30)


def test():
    m = Mock()
    try:
        with Stack(brokers=m.brokers, agent=False) as s:
            port = free_port()
            a = s._start("agent", agent_args(port, m.brokers, os.path.join(s.tmp, "spool")))
            wait_healthy(port, a)
            load = Loader(lambda: port).start()
            steps = [
                "errors Produce 5 NOT_LEADER_FOR_PARTITION",
                "errors Produce 5 REQUEST_TIMED_OUT",
                "errors Produce 3 NOT_ENOUGH_REPLICAS",
                "errors Fetch 5 NOT_LEADER_FOR_PARTITION",
                "errors OffsetCommit 3 COORDINATOR_NOT_AVAILABLE",
                "errors FindCoordinator 3 COORDINATOR_NOT_AVAILABLE",
                "rtt 1 400", "rtt 2 400",
                "down 3", "up 3",
                "rtt 1 0", "rtt 2 0",
                "leader llmtap.events 0 2", "leader llmtap.events 1 3",
                "errors Produce 3 NETWORK_EXCEPTION",
                "down 1", "up 1",
            ]
            for st in steps:
                time.sleep(1.5)
                m.do(st)
            time.sleep(3)
            load.finish()
            log(f"events sent {len(load.sent)}, answered 202 {len(load.accepted)}, "
                f"failed post attempts {load.failures}")
            assert load.accepted == load.sent
            check_exactly_once(s, sorted(load.accepted))
            am = Http(port).metrics()
            log("agent: delivered", am["llmtap_agent_events_delivered_total"], "failed attempts",
                am["llmtap_agent_events_delivery_failed_total"])
    finally:
        m.stop()


if __name__ == "__main__":
    main(test)
