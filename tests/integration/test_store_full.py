"""Fault: the store fills up (MDB_MAP_FULL), then the map is grown by SIGHUP.

The collector starts with a 4 MiB map (from its config file) and the dev
broker; the agent posts events until the store refuses a batch. Then:
ingest is paused (gauge, counter, /readyz 503 with the reason), nothing
crashes, the agent keeps accepting (the events wait in Kafka), and `verify`
finds the full store consistent. The config file is rewritten with a 64 MiB
map and the collector gets SIGHUP: ingest resumes by itself, /readyz is 200,
every posted event is stored exactly once (ids compared), and `verify`
exits 0.
"""
import os
import shutil
import signal
import tempfile

from llmtap_it import (Stack, compare_all, log, main, metric, read_ndjson, run_sim, verify_store,
                       wait_for)

N1 = int(os.environ.get("LLMTAP_IT_EVENTS", "4000"))  # enough to fill 4 MiB
N2 = 500                                               # posted while ingest is paused
SEED = int(os.environ.get("LLMTAP_IT_SEED", "7"))


def write_config(path, map_size):
    with open(path + ".tmp", "w") as f:
        f.write(f"store:\n  map_size: {map_size}\nbatch:\n  max_events: 200\n")
    os.rename(path + ".tmp", path)


def test():
    cfgdir = tempfile.mkdtemp(prefix="llmtap-it-cfg-")
    cfg = os.path.join(cfgdir, "collector.yaml")
    write_config(cfg, "4MiB")
    log(f"events={N1}+{N2} seed={SEED} map 4MiB -> 64MiB")
    try:
        with Stack(collector_args=["--config", cfg]) as s:
            data = os.path.join(s.tmp, "data")
            out1 = os.path.join(s.tmp, "sent1.ndjson")
            run_sim(f"http://127.0.0.1:{s.aport}", N1, SEED, out1)
            wait_for(lambda: metric(s.c, "llmtap_collector_ingest_paused") == 1, 120,
                     "ingest paused on a full store", 0.2, procs=s.procs)
            st, body = s.c.request("GET", "/readyz")
            log("/readyz:", st, body.decode().strip())
            assert st == 503 and b"store full" in body and b"SIGHUP" in body, (st, body)
            m = s.c.metrics()
            stored_full = int(m["llmtap_store_events"])
            log(f"paused: store holds {stored_full} events, store_full_total "
                f"{m['llmtap_collector_store_full_total']}, store_errors_total "
                f"{m['llmtap_collector_store_errors_total']}, map {m['llmtap_store_map_size_bytes']:.0f} B, "
                f"used {m['llmtap_store_used_bytes']:.0f} B")
            assert m["llmtap_collector_store_full_total"] >= 1
            assert m["llmtap_collector_ready"] == 0
            assert 0 < stored_full < N1, stored_full
            assert "store full" in s.collector.output()

            # The agent keeps accepting: the events wait in Kafka.
            out2 = os.path.join(s.tmp, "sent2.ndjson")
            run_sim(f"http://127.0.0.1:{s.aport}", N2, SEED + 1, out2)
            sent = read_ndjson(out1) + read_ndjson(out2)
            assert len(sent) == N1 + N2 and len({e["id"] for e in sent}) == N1 + N2
            wait_for(lambda: s.a.metrics()["llmtap_agent_events_delivered_total"] >= N1 + N2, 60,
                     "agent delivered everything to Kafka", 0.2, procs=s.procs)
            assert metric(s.c, "llmtap_collector_ingest_paused") == 1
            assert int(metric(s.c, "llmtap_store_events")) == stored_full
            assert s.collector.alive()

            # The full store is consistent (verify runs read-only beside the collector).
            rc, nums, out = verify_store(data)
            log("verify while full:", out.strip().splitlines()[-1])
            assert rc == 0 and nums["events"] == stored_full and nums["problems"] == 0, out

            # Grow the map through the config file and SIGHUP: ingest resumes by itself.
            write_config(cfg, "64MiB")
            s.collector.p.send_signal(signal.SIGHUP)
            wait_for(lambda: s.c.request("GET", "/readyz")[0] == 200, 60, "/readyz 200 after SIGHUP",
                     0.2, procs=s.procs)
            s.wait_stored(N1 + N2)
            m = s.c.metrics()
            log(f"resumed: store events {m['llmtap_store_events']:.0f}, stored_total "
                f"{m['llmtap_collector_events_stored_total']:.0f}, duplicates "
                f"{m['llmtap_collector_events_duplicate_total']:.0f}, map "
                f"{m['llmtap_store_map_size_bytes']:.0f} B")
            assert m["llmtap_collector_ingest_paused"] == 0
            assert m["llmtap_store_map_size_bytes"] == 64 << 20
            assert m["llmtap_store_events"] == N1 + N2
            assert m["llmtap_collector_events_stored_total"] == N1 + N2
            assert m["llmtap_collector_events_duplicate_total"] == 0
            assert "SIGHUP: store.map_size 4.0 MiB -> 64.0 MiB" in s.collector.output()

            bad = compare_all(s, sent)
            log(f"by id: {N1 + N2 - bad} of {N1 + N2} stored once and equal, {bad} missing or different")
            assert bad == 0

            rc, nums, out = verify_store(data)
            log("verify after resume:", out.strip().splitlines()[-1])
            assert rc == 0 and nums["events"] == N1 + N2 and nums["problems"] == 0, out
    finally:
        shutil.rmtree(cfgdir, ignore_errors=True)


if __name__ == "__main__":
    main(test)
