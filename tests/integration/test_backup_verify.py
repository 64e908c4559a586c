"""Backup while ingesting, verify the copy, restore it, corrupt a copy.

A collector (dev broker) ingests events posted at a steady rate; in the
middle, `llmtap-collector backup` copies its live store. The copy verifies
clean. It is restored into a new data directory (data.mdb copied in) and a
second collector is started on it against the same broker: it serves the
backup's events and consumes from Kafka exactly what came after the
backup's offsets, ending with every event once. Then a copy of the backup
has one record's body damaged: `verify` exits 1 and names the event.
"""
import os
import shutil
import threading
import types

from llmtap_it import (BIN, Http, Proc, Stack, collector_cmd, compare_all, corrupt_record,
                       free_port, log, main, metric, read_ndjson, run_sim, verify_store, wait_for)

N = int(os.environ.get("LLMTAP_IT_EVENTS", "6000"))
SEED = int(os.environ.get("LLMTAP_IT_SEED", "11"))
RATE = 1500  # events/s: the backup lands in the middle of the ingest


def test():
    log(f"events={N} rate={RATE}/s seed={SEED}")
    with Stack(collector_args=["--batch-max-events", "200"]) as s:
        data = os.path.join(s.tmp, "data")
        bk = os.path.join(s.tmp, "backup")
        out = os.path.join(s.tmp, "sent.ndjson")
        sim = threading.Thread(target=run_sim, args=(f"http://127.0.0.1:{s.aport}", N, SEED, out),
                               kwargs={"rate": RATE})
        sim.start()
        try:
            s.wait_stored(N // 4)
            rc, text = collector_cmd("backup", "--data-dir", data, "--to", bk)
            log(text.strip())
            assert rc == 0, text
        finally:
            sim.join()
        sent = read_ndjson(out)
        assert len(sent) == N
        s.wait_stored(N)

        rc, nums, text = verify_store(bk)
        log("verify backup:", text.strip().splitlines()[-1])
        assert rc == 0 and nums["problems"] == 0, text
        k = nums["events"]
        assert 0 < k < N, f"the backup should be of the middle of the ingest: {k} of {N}"
        rc, text = collector_cmd("backup", "--data-dir", data, "--to", bk)
        assert rc == 1 and "already holds" in text, (rc, text)

        # Restore into a new data dir; a collector on it catches up from Kafka.
        restored = os.path.join(s.tmp, "restored")
        os.makedirs(restored)
        shutil.copyfile(os.path.join(bk, "data.mdb"), os.path.join(restored, "data.mdb"))
        port = free_port()
        c2 = Proc("collector-restored", [f"{BIN}/llmtap-collector", "--listen", f"127.0.0.1:{port}",
                                         "--data-dir", restored, "--kafka-brokers", s.brokers,
                                         "--kafka", "group.id=llmtap-restored"], s.tmp)
        s.procs.append(c2)
        h2 = Http(port)
        wait_for(lambda: h2.request("GET", "/readyz")[0] == 200, 60, "restored collector ready",
                 procs=[c2])
        wait_for(lambda: metric(h2, "llmtap_store_events") >= N, 120, "restored collector caught up",
                 0.2, procs=[c2])
        m = h2.metrics()
        log(f"restored: backup held {k}, consumed from Kafka "
            f"{m['llmtap_collector_events_consumed_total']:.0f}, stored "
            f"{m['llmtap_collector_events_stored_total']:.0f}, duplicates "
            f"{m['llmtap_collector_events_duplicate_total']:.0f}, store events {m['llmtap_store_events']:.0f}")
        assert m["llmtap_store_events"] == N
        assert m["llmtap_collector_events_consumed_total"] == N - k, "re-read more than came after the backup"
        assert m["llmtap_collector_events_duplicate_total"] == 0
        bad = compare_all(types.SimpleNamespace(c=h2), sent)
        log(f"restored collector serves {N - bad} of {N} events equal, {bad} missing or different")
        assert bad == 0
        assert c2.stop() == 0
        s.procs.remove(c2)
        rc, nums, text = verify_store(restored)
        assert rc == 0 and nums["events"] == N, text

        # Damage one record of a copy: verify names it and exits 1.
        bad_dir = os.path.join(s.tmp, "damaged")
        os.makedirs(bad_dir)
        shutil.copyfile(os.path.join(bk, "data.mdb"), os.path.join(bad_dir, "data.mdb"))
        hit = corrupt_record(os.path.join(bad_dir, "data.mdb"), [e["id"] for e in sent])
        rc, nums, text = verify_store(bad_dir)
        log(f"damaged record of {hit}:\n" + text.strip())
        assert rc == 1 and nums["problems"] >= 1, text
        assert any(hit in l and ("does not decompress" in l or "JSON" in l)
                   for l in text.splitlines() if l.startswith("problem:")), text

        # Usage errors.
        rc, text = collector_cmd("verify", "--data-dir", os.path.join(s.tmp, "nothing-here"))
        assert rc == 2 and "no store" in text, (rc, text)
        rc, text = collector_cmd("verify", "--help")
        assert rc == 0 and "Exit status" in text
        rc, text = collector_cmd("backup", "--data-dir", data)
        assert rc == 2 and "--to" in text, (rc, text)


if __name__ == "__main__":
    main(test)
