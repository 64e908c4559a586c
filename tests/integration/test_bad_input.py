"""Integration (3): hostile bodies at the agent's intake.

Each bad payload gets the right status and reason, the matching counter
moves, valid events in the same body still arrive at the collector, and the
agent stays healthy (and exits 0 on SIGTERM).
"""
import json

from llmtap_it import Stack, log, main


def ev(**kw):
    e = {"schema": "llmtap.event/1", "service": "bad-input-test", "provider": "openai",
         "operation": "chat", "request_model": "gpt-4o-mini", "latency_ms": 12.5}
    e.update(kw)
    return e


def test():
    with Stack() as s:
        a = s.a
        good_ids = []

        def rejected(reason):
            return a.metrics().get(f'llmtap_agent_events_rejected_total{{reason="{reason}"}}', 0)

        def body_rejected(reason):
            return a.metrics().get(f'llmtap_agent_bodies_rejected_total{{reason="{reason}"}}', 0)

        def check(name, body, status, expect_in, ctype="application/json", counter=None):
            before = counter() if counter else None
            st, r = a.post("/v1/events", body, ctype)
            text = json.dumps(r) if isinstance(r, (dict, list)) else repr(r)
            log(f"{name}: {st} {text[:160]}")
            assert st == status, f"{name}: status {st}, want {status}: {text[:300]}"
            assert expect_in in text, f"{name}: {expect_in!r} not in {text[:300]}"
            if counter:
                after = counter()
                assert after > before, f"{name}: counter did not move ({before} -> {after})"
            return r

        check("truncated JSON", '{"schema":"llmtap.event/1","service":', 400, "not JSON",
              counter=lambda: body_rejected("invalid_json"))
        check("wrong type", json.dumps(ev(usage={"input_tokens": "12"})), 400,
              "usage.input_tokens: must be a non-negative integer",
              counter=lambda: rejected("wrong_type"))
        check("negative tokens", json.dumps(ev(usage={"output_tokens": -1})), 400,
              "usage.output_tokens: must be a non-negative integer",
              counter=lambda: rejected("invalid_value"))
        e = ev()
        del e["provider"]
        check("missing field", json.dumps(e), 400, "provider: required",
              counter=lambda: rejected("missing_field"))
        big = json.dumps(ev(response={"text": "x" * (2 * 1024 * 1024)}))
        check("2 MiB event", big, 413, "over the limit", counter=lambda: body_rejected("too_large"))
        check("2 MiB NDJSON line", big + "\n", 400, "", ctype="application/x-ndjson",
              counter=lambda: rejected("too_large"))
        bad_utf8 = b'{"schema":"llmtap.event/1","service":"s","provider":"p","operation":"chat",' \
                   b'"request_model":"m","latency_ms":1,"response":{"text":"\xc3\x28"}}'
        check("invalid UTF-8", bad_utf8, 400, "invalid UTF-8",
              counter=lambda: body_rejected("invalid_json"))
        check("NUL byte", b'{"schema":"llmtap.event/1",\x00"x":1}', 400, "NUL byte")
        check("NUL escape", json.dumps(ev(user="a\u0000b")), 400, "\\\\u0000",
              counter=lambda: body_rejected("invalid_json"))
        check("10,000-deep nesting", "[" * 10000 + "]" * 10000, 400, "nesting deeper")
        check("deep inside an event", json.dumps(ev()).replace('"latency_ms"', '"x":' + "[" * 100 +
                                                               "]" * 100 + ',"latency_ms"'), 400, "nesting deeper")
        check("empty body", b"", 400, "empty body", counter=lambda: body_rejected("empty"))
        check("wrong content type", json.dumps(ev()), 415, "Content-Type",
              ctype="text/plain", counter=lambda: body_rejected("unsupported_media_type"))
        check("a number", "42", 400, "must be an event object")

        # Mixed batches: valid items are accepted even when others are not.
        g1, g2, g3, g4 = (ev(id=f"01JDQ6Z8V6M9T3K2W4X5Y6Z7{i}0", user=f"u{i}") for i in "ABCD")
        r = check("array with bad items", json.dumps([g1, ev(latency_ms="slow"), g2, 7]), 202,
                  '"accepted": 2')
        assert r["rejected"] == 2 and [x["index"] for x in r["errors"]] == [1, 3], r
        assert r["errors"][0]["error"] == "latency_ms: must be a number", r
        nd = (json.dumps(g3) + "\n" + '{"broken": \n' + "\n" + '{"x":"\xff"}\n').encode("utf-8")
        nd = nd.replace("\xff".encode("utf-8"), b"\xff") + json.dumps(g4).encode() + b"\r\n"
        r = check("NDJSON with bad lines", nd, 202, '"accepted": 2', ctype="application/x-ndjson")
        assert r["rejected"] == 2 and [x["index"] for x in r["errors"]] == [1, 2], r
        assert "invalid UTF-8" in r["errors"][1]["error"], r
        good_ids += [g1["id"], g2["id"], g3["id"], g4["id"]]

        # A large, valid batch still works after all that.
        batch = [ev(user=f"bulk{i}") for i in range(500)]
        r = check("valid batch", json.dumps(batch), 202, '"accepted": 500')

        assert a.request("GET", "/healthz")[0] == 200, "agent must stay healthy"
        # Error bodies are valid UTF-8 JSON even when they quote invalid bytes.
        st, raw = s.c.request("GET", "/api/v1/events/%FF%FE")
        assert st == 404 and "\ufffd" in json.loads(raw.decode("utf-8"))["error"], raw
        s.wait_stored(len(good_ids) + 500, 60)
        for i in good_ids:
            st, got = s.c.get_json(f"/api/v1/events/{i}")
            assert st == 200, (i, st)
        log("valid events in mixed bodies arrived:", len(good_ids))
        m = a.metrics()
        assert m["llmtap_agent_events_accepted_total"] == len(good_ids) + 500
        log("rejections:", {k: v for k, v in m.items() if "rejected" in k and v})


if __name__ == "__main__":
    main(test)
