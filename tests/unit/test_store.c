/*
 * test_store.c — unit tests for storage/store.c and storage/evrec.c;
 * retention and storage/store_verify.c are tested in test_store_verify.c,
 * and the fixture both share is store_testfx.h.
 *
 * Each test gets its own store in a fresh mkdtemp() directory, removed after.
 * Events are generated deterministically from (seed, index), so any thread
 * can regenerate the exact JSON it expects. The seed is printed; set
 * LLMTAP_TEST_SEED to replay a run. LLMTAP_STORE_BENCH=1 also runs the
 * append benchmark (events/s and bytes per event, printed); =sync adds a run
 * with an fsync per batch.
 */
#include "store_testfx.h"
#include "store_verify.h"

/* ---- tests -------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
    struct fx *fx = *state;
    struct tev t[3];
    for (size_t i = 0; i < 3; i++)
        gen_event(g_seed, i, ev_time(i), &t[i]);
    /* A tiny event (stored raw: zstd cannot make it smaller) and an empty one. */
    static const char tiny[] = "{}";
    t[1].ev.json = tiny;
    t[1].ev.json_len = 2;
    memcpy(t[1].json, tiny, 3);
    t[1].len = 2;
    t[2].ev.json_len = 0;
    t[2].len = 0;
    struct store_event evs[3] = {t[0].ev, t[1].ev, t[2].ev};
    struct store_append_result res;
    assert_int_equal(store_append(fx->st, evs, 3, NULL, 0, &res), 0);
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 0);
    for (int i = 0; i < 3; i++)
        assert_get(fx->st, &t[i]);

    char *json = (char *)1;
    assert_int_equal(store_get(fx->st, "01NOSUCHEVENT0000000000000", &json, NULL), STORE_ENOTFOUND);
    assert_null(json);
    assert_int_equal(store_get(fx->st, "", &json, NULL), STORE_ENOTFOUND);
    char longid[STORE_ID_MAX + 2];
    memset(longid, 'A', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(store_get(fx->st, longid, &json, NULL), STORE_ENOTFOUND);
    assert_int_equal(store_get(fx->st, NULL, &json, NULL), STORE_EINVAL);

    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.events, 3);
    assert_int_equal(ss.event_ids, 3);
    assert_int_equal(ss.map_size, 64u << 20);
    assert_true(ss.used_bytes > 0);
    assert_true(ss.file_bytes >= ss.used_bytes);
    assert_int_equal(ss.dict_id, 0);
}

static void test_duplicates(void **state)
{
    struct fx *fx = *state;
    struct tev *t = malloc(6 * sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < 6; i++)
        gen_event(g_seed, i, ev_time(i), &t[i]);
    /* Batch 1: 0 1 0 2 1 — two in-batch duplicates; the first copy wins. */
    struct tev other;
    gen_event(g_seed, 99, ev_time(99), &other);
    struct store_event b1[5] = {t[0].ev, t[1].ev, t[0].ev, t[2].ev, t[1].ev};
    b1[2].json = other.json; /* same id, other content: must be skipped */
    b1[2].json_len = other.len;
    b1[2].time_us = ev_time(99); /* and another time: dedup is by id alone */
    struct store_append_result res;
    assert_int_equal(store_append(fx->st, b1, 5, NULL, 0, &res), 0);
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 2);
    /* Batch 2: 2 3 4 0 3 — 2 and 0 stored before, 3 twice in the batch. */
    struct store_event b2[5] = {t[2].ev, t[3].ev, t[4].ev, t[0].ev, t[3].ev};
    assert_int_equal(store_append(fx->st, b2, 5, NULL, 0, &res), 0);
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.duplicates, 3);
    /* A batch of only duplicates still commits (and records offsets). */
    struct store_offset off = {"llmtap.events", 0, 42};
    assert_int_equal(store_append(fx->st, b2, 5, &off, 1, &res), 0);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, 5);
    int64_t next;
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 0, &next), 0);
    assert_int_equal(next, 42);

    for (int i = 0; i < 5; i++)
        assert_get(fx->st, &t[i]);
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.events, 5);
    assert_int_equal(ss.event_ids, 5);
    struct col *c = calloc(1, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, 5);
    free(c);
    free(t);
}

static void test_offsets(void **state)
{
    struct fx *fx = *state;
    int64_t next = -7;
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 3, &next), STORE_ENOTFOUND);
    assert_int_equal(next, -7);

    struct tev t[2];
    gen_event(g_seed, 0, ev_time(0), &t[0]);
    gen_event(g_seed, 1, ev_time(1), &t[1]);
    struct store_event evs[2] = {t[0].ev, t[1].ev};
    struct store_offset offs[3] = {
        {"llmtap.events", 3, 1001}, {"llmtap.events", 12, 7}, {"other_topic-1", 3, 5}};
    assert_int_equal(store_append(fx->st, evs, 2, offs, 3, NULL), 0);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 3, &next), 0);
    assert_int_equal(next, 1001);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 12, &next), 0);
    assert_int_equal(next, 7);
    assert_int_equal(store_offset_get(fx->st, "other_topic-1", 3, &next), 0);
    assert_int_equal(next, 5);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 4, &next), STORE_ENOTFOUND);
    assert_int_equal(store_offset_get(fx->st, "llmtap.event", 3, &next), STORE_ENOTFOUND);

    /* Offsets alone; a later value replaces; big values survive. */
    struct store_offset o2 = {"llmtap.events", 3, INT64_MAX - 1};
    assert_int_equal(store_append(fx->st, NULL, 0, &o2, 1, NULL), 0);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 3, &next), 0);
    assert_int_equal(next, INT64_MAX - 1);

    /* Invalid offsets reject the whole batch before writing anything. */
    struct tev t3;
    gen_event(g_seed, 2, ev_time(2), &t3);
    struct store_offset bad[4] = {
        {"a/b", 0, 1}, {"", 0, 1}, {"llmtap.events", -1, 1}, {"llmtap.events", 0, -2}};
    for (int i = 0; i < 4; i++) {
        struct store_offset ob[2] = {{"llmtap.events", 3, 5}, bad[i]};
        assert_int_equal(store_append(fx->st, &t3.ev, 1, ob, 2, NULL), STORE_EINVAL);
    }
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 3, &next), 0);
    assert_int_equal(next, INT64_MAX - 1);
    char *json;
    assert_int_equal(store_get(fx->st, t3.id, &json, NULL), STORE_ENOTFOUND);
    assert_int_equal(store_offset_get(fx->st, "a/b", 0, &next), STORE_EINVAL);
    assert_int_equal(store_offset_get(fx->st, NULL, 0, &next), STORE_EINVAL);

    /* Offsets are in the same transaction as the data: a batch that fails
     * on a bad event records no offset either. */
    struct store_event bev = t3.ev;
    bev.id = "";
    struct store_offset o3 = {"llmtap.events", 3, 9};
    assert_int_equal(store_append(fx->st, &bev, 1, &o3, 1, NULL), STORE_EINVAL);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 3, &next), 0);
    assert_int_equal(next, INT64_MAX - 1);

    reopen(fx);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 12, &next), 0);
    assert_int_equal(next, 7);
}

static void test_scan(void **state)
{
    struct fx *fx = *state;
    enum { N = 300 };
    /* Times: negative, zero and positive, several events sharing a time. */
    struct tev *t = malloc(N * sizeof *t);
    struct store_event *evs = malloc(N * sizeof *evs);
    assert_non_null(t);
    assert_non_null(evs);
    for (size_t i = 0; i < N; i++) {
        int64_t tm = ((int64_t)(i / 2) - 50) * 1000; /* -50000 .. 99000, in pairs */
        gen_event(g_seed, i, tm, &t[i]);
        evs[i] = t[i].ev;
    }
    assert_int_equal(store_append(fx->st, evs, N, NULL, 0, NULL), 0);

    struct col *c = calloc(1, sizeof *c);
    assert_non_null(c);
    /* Everything, newest first, with ties broken by id descending. */
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, N);
    for (size_t i = 1; i < N; i++) {
        assert_true(c->times[i - 1] >= c->times[i]);
        if (c->times[i - 1] == c->times[i])
            assert_true(strcmp(c->ids[i - 1], c->ids[i]) > 0);
    }
    assert_int_equal(c->times[0], 99000);
    assert_int_equal(c->times[N - 1], -50000);

    /* [start, end): start inclusive, end exclusive, across zero. */
    struct store_filter f = {.start_us = -3000, .end_us = 2000};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    assert_int_equal(c->n, 10); /* times -3000 .. 1000, two each */
    assert_int_equal(c->times[0], 1000);
    assert_int_equal(c->times[9], -3000);

    /* max_examined bounds the records looked at, matching or not. */
    f = (struct store_filter){
        .start_us = INT64_MIN, .end_us = INT64_MAX, .service = "no-such", .max_examined = 50};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), STORE_EPARTIAL);
    assert_int_equal(c->n, 0);
    f = (struct store_filter){.start_us = INT64_MIN, .end_us = INT64_MAX, .max_examined = 50};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), STORE_EPARTIAL);
    assert_int_equal(c->n, 50);
    f = (struct store_filter){.start_us = -3000, .end_us = 2000, .max_examined = 50};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0); /* ended before the cap */
    assert_int_equal(c->n, 10);

    /* Empty and inverted ranges; range past either end. */
    f = (struct store_filter){.start_us = 5, .end_us = 5};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    assert_int_equal(c->n, 0);
    f = (struct store_filter){.start_us = 200000, .end_us = INT64_MAX};
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    assert_int_equal(c->n, 0);
    f = (struct store_filter){.start_us = INT64_MIN, .end_us = -50000};
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    assert_int_equal(c->n, 0);
    f = (struct store_filter){.start_us = INT64_MIN, .end_us = -49999};
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    assert_int_equal(c->n, 2);

    /* Service and model filters, and a limit, against a brute-force count. */
    for (int sv = 0; sv < 4; sv++) {
        for (int md = -1; md < 3; md++) {
            f = (struct store_filter){.start_us = -10000,
                                      .end_us = 100000,
                                      .service = SERVICES[sv],
                                      .model = md < 0 ? NULL : MODELS[md]};
            size_t want = 0;
            for (size_t i = 0; i < N; i++) {
                const struct store_event *e = &t[i].ev;
                if (e->time_us >= f.start_us && e->time_us < f.end_us &&
                    !strcmp(e->service, f.service) &&
                    (!f.model || (e->model && !strcmp(e->model, f.model))))
                    want++;
            }
            memset(c, 0, sizeof *c);
            assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
            assert_int_equal(c->n, want);
            for (size_t i = 0; i < c->n; i++) {
                assert_true(c->times[i] >= f.start_us && c->times[i] < f.end_us);
                if (i)
                    assert_true(c->times[i - 1] >= c->times[i]);
            }
            f.limit = 3;
            memset(c, 0, sizeof *c);
            assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
            assert_int_equal(c->n, want < 3 ? want : 3);
        }
    }
    /* Absent model is "" in the summary and matches the filter "". */
    f = (struct store_filter){.start_us = INT64_MIN, .end_us = INT64_MAX, .model = ""};
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, &f, col_fn, c), 0);
    size_t nomodel = 0;
    for (size_t i = 0; i < N; i++)
        nomodel += t[i].ev.model == NULL;
    assert_true(nomodel > 0);
    assert_int_equal(c->n, nomodel);
    assert_string_equal(c->last_model, "");

    /* The callback stops the scan. */
    memset(c, 0, sizeof *c);
    c->stop_after = 7;
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), STORE_EABORT);
    assert_int_equal(c->n, 7);
    assert_int_equal(store_scan(fx->st, NULL, NULL, c), STORE_EINVAL);
    free(c);
    free(evs);
    free(t);
}

struct sumcheck {
    const struct tev *t;
    size_t n, seen, bad;
};

static int sum_fn(void *ud, const struct store_summary *s)
{
    struct sumcheck *sc = ud;
    for (size_t i = 0; i < sc->n; i++) {
        const struct store_event *e = &sc->t[i].ev;
        if (strcmp(e->id, s->id) != 0)
            continue;
        sc->seen++;
        int ok = s->time_us == e->time_us && !strcmp(s->service, e->service) &&
                 !strcmp(s->model, e->model ? e->model : "") &&
                 !strcmp(s->provider, e->provider ? e->provider : "") &&
                 !strcmp(s->operation, e->operation ? e->operation : "") &&
                 (isnan(e->cost_usd) ? isnan(s->cost_usd) : s->cost_usd == e->cost_usd) &&
                 s->latency_ms == e->latency_ms && s->status == e->status &&
                 s->input_tokens == e->input_tokens && s->output_tokens == e->output_tokens &&
                 s->stored_bytes > 0 && s->stored_bytes < e->json_len + 200;
        if (!ok)
            sc->bad++;
    }
    return 0;
}

static void test_summaries(void **state)
{
    struct fx *fx = *state;
    enum { N = 40 };
    struct tev *t = malloc(N * sizeof *t);
    struct store_event evs[N];
    assert_non_null(t);
    for (size_t i = 0; i < N; i++) {
        gen_event(g_seed, i, ev_time(i), &t[i]);
        evs[i] = t[i].ev;
    }
    /* Edge values: absent strings, negative status, -1 tokens, NaN cost, inf. */
    evs[0].provider = NULL;
    evs[0].operation = NULL;
    evs[0].model = NULL;
    evs[0].cost_usd = NAN;
    evs[1].status = -1;
    evs[1].input_tokens = -1;
    evs[1].output_tokens = INT64_MAX;
    evs[2].latency_ms = INFINITY;
    evs[2].cost_usd = 0.0;
    for (size_t i = 0; i < 3; i++)
        t[i].ev = evs[i];
    assert_int_equal(store_append(fx->st, evs, N, NULL, 0, NULL), 0);
    struct sumcheck sc = {t, N, 0, 0};
    assert_int_equal(store_scan(fx->st, NULL, sum_fn, &sc), 0);
    assert_int_equal(sc.seen, N);
    assert_int_equal(sc.bad, 0);
    size_t nan_costs = 0;
    for (size_t i = 0; i < N; i++)
        nan_costs += isnan(t[i].ev.cost_usd) != 0;
    assert_true(nan_costs >= 2);
    free(t);
}

static void test_version_mismatch(void **state)
{
    struct fx *fx = *state;
    assert_int_equal(append_range(fx->st, 0, 3, NULL), 0);
    store_close(fx->st);
    fx->st = NULL;

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val k = {14, "format_version"}, v;
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_int_equal(v.mv_size, 4);
    assert_memory_equal(v.mv_data, "\0\0\0\2", 4);
    v.mv_data = "\0\0\0\3";
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    struct store *st = (struct store *)1;
    assert_int_equal(store_open(&fx->opts, &st), STORE_EVERSION);
    assert_null(st);
    const char *msg = store_strerror(STORE_EVERSION);
    assert_non_null(strstr(msg, "format version 3"));
    assert_non_null(strstr(msg, "versions 1 to 2"));
    /* read-only too (backup, verify) */
    struct store_opts ro = fx->opts;
    ro.read_only = 1;
    assert_int_equal(store_open(&ro, &st), STORE_EVERSION);

    /* A wrong-sized version value is corruption, not a version. */
    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    v.mv_size = 3;
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(store_open(&fx->opts, &st), STORE_ECORRUPT);

    /* Put version 2 back: the store opens and its data is intact. */
    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    v.mv_size = 4;
    v.mv_data = "\0\0\0\2";
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
    struct tev t;
    gen_event(g_seed, 2, ev_time(2), &t);
    assert_get(fx->st, &t);
}

/* A store of format version 1 (every record inline in `events`, no
 * `records`) is read as it is, read-only too; opened for writing it becomes
 * format 2 in place, its old records stay inline and readable, new ones go
 * to `records`, and retention and verify handle both kinds. */
static void test_format1(void **state)
{
    struct fx *fx = *state;
    enum { N = 12 };
    struct tev t[N];
    for (size_t i = 0; i < N; i++)
        gen_event(g_seed, i, ev_time(i), &t[i]);
    assert_int_equal(append_range(fx->st, 0, 6, NULL), 0);
    store_close(fx->st);
    fx->st = NULL;

    /* Rewrite it as version 1 wrote it. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, records, meta;
    MDB_cursor *cur;
    MDB_val k, v;
    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "events", 0, &events), 0);
    assert_int_equal(mdb_dbi_open(txn, "records", 0, &records), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_cursor_open(txn, events, &cur), 0);
    uint8_t keys[6][80], nums[6][8];
    size_t klen[6], nk = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        assert_true(nk < 6 && v.mv_size == 8 && k.mv_size <= 80);
        memcpy(keys[nk], k.mv_data, k.mv_size);
        klen[nk] = k.mv_size;
        memcpy(nums[nk++], v.mv_data, 8);
    }
    mdb_cursor_close(cur);
    assert_int_equal(nk, 6);
    for (size_t i = 0; i < nk; i++) {
        MDB_val rk = {8, nums[i]}, rv;
        assert_int_equal(mdb_get(txn, records, &rk, &rv), 0);
        uint8_t *copy = malloc(rv.mv_size);
        memcpy(copy, rv.mv_data, rv.mv_size);
        k = (MDB_val){klen[i], keys[i]};
        v = (MDB_val){rv.mv_size, copy};
        assert_int_equal(mdb_put(txn, events, &k, &v, 0), 0);
        free(copy);
    }
    assert_int_equal(mdb_drop(txn, records, 1), 0);
    MDB_val vk = {14, "format_version"}, vv = {4, "\0\0\0\1"};
    assert_int_equal(mdb_put(txn, meta, &vk, &vv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    /* Read-only: as it is (nothing created). */
    struct store_opts ro = fx->opts;
    ro.read_only = 1;
    assert_int_equal(store_open(&ro, &fx->st), 0);
    for (size_t i = 0; i < 6; i++)
        assert_get(fx->st, &t[i]);
    struct col *c = calloc(1, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, 6);
    struct store_verify_result vr;
    assert_int_equal(store_verify(fx->st, NULL, &vr), 0);
    assert_true(vr.problems == 0 && vr.events == 6 && vr.numbered == 0 && vr.records == 0);
    store_close(fx->st);
    fx->st = NULL;

    /* For writing: upgraded; old and new records side by side. */
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
    assert_int_equal(append_range(fx->st, 6, N, NULL), 0);
    for (size_t i = 0; i < N; i++)
        assert_get(fx->st, &t[i]);
    memset(c, 0, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, N);
    for (size_t i = 0; i < N; i++) /* newest first */
        assert_string_equal(c->ids[i], t[N - 1 - i].id);
    assert_int_equal(store_verify(fx->st, NULL, &vr), 0);
    assert_true(vr.problems == 0 && vr.events == N && vr.numbered == 6 && vr.records == 6);
    /* Retention takes both kinds, and the records of the numbered ones. */
    size_t deleted = 0;
    assert_int_equal(store_delete_before(fx->st, ev_time(8), 100, &deleted), 0);
    assert_int_equal(deleted, 8);
    char *json = NULL;
    assert_int_equal(store_get(fx->st, t[7].id, &json, NULL), STORE_ENOTFOUND);
    for (size_t i = 8; i < N; i++)
        assert_get(fx->st, &t[i]);
    assert_int_equal(store_verify(fx->st, NULL, &vr), 0);
    assert_true(vr.problems == 0 && vr.events == 4 && vr.numbered == 4 && vr.records == 4);
    free(c);
    store_close(fx->st);
    fx->st = NULL;

    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &vk, &vv), 0);
    assert_int_equal(vv.mv_size, 4);
    assert_memory_equal(vv.mv_data, "\0\0\0\2", 4);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
}

/* Writes a JSON string of n random printable bytes: zstd gains little. */
static void incompressible(uint64_t *s, const char *id, char *buf, size_t n, size_t *len)
{
    int off = snprintf(buf, n, "{\"id\":\"%s\",\"blob\":\"", id);
    size_t i = (size_t)off;
    for (; i + 2 < n; i++) {
        char c = (char)(0x23 + rng_next(s) % 90); /* '#'..'|': no '"' */
        buf[i] = c == '\\' ? '~' : c;
    }
    buf[i++] = '"';
    buf[i++] = '}';
    *len = i;
}

static void test_map_full(void **state)
{
    struct fx *fx = *state;
    store_close(fx->st);
    fx->st = NULL;
    nftw(fx->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    fx->opts.map_size = 128u << 10; /* 32 pages */
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);

    enum { BATCH = 3, MAXB = 64, SZ = 3000 };
    static char blobs[MAXB][BATCH][SZ];
    static char ids[MAXB][BATCH][32];
    size_t lens[MAXB][BATCH];
    uint64_t s = g_seed;
    int rc = 0, b;
    for (b = 0; b < MAXB; b++) {
        struct store_event evs[BATCH];
        for (int j = 0; j < BATCH; j++) {
            snprintf(ids[b][j], sizeof ids[b][j], "ev-%03d-%d", b, j);
            incompressible(&s, ids[b][j], blobs[b][j], SZ, &lens[b][j]);
            evs[j] = (struct store_event){.json = blobs[b][j],
                                          .json_len = lens[b][j],
                                          .id = ids[b][j],
                                          .time_us = ev_time((size_t)b),
                                          .service = "svc",
                                          .cost_usd = NAN,
                                          .input_tokens = -1,
                                          .output_tokens = -1};
        }
        struct store_offset off = {"llmtap.events", 0, b + 1};
        struct store_append_result res = {99, 99};
        rc = store_append(fx->st, evs, BATCH, &off, 1, &res);
        if (rc) {
            assert_int_equal(res.stored, 0);
            assert_int_equal(res.duplicates, 0);
            break;
        }
        assert_int_equal(res.stored, BATCH);
    }
    assert_int_equal(rc, MDB_MAP_FULL);
    assert_true(b >= 1);
    assert_non_null(strstr(store_strerror(rc), "MDB_MAP_FULL"));
    int full = b;

    /* Nothing of the failed batch is there; everything before it is. */
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.events, (uint64_t)full * BATCH);
    assert_int_equal(ss.event_ids, (uint64_t)full * BATCH);
    int64_t next;
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 0, &next), 0);
    assert_int_equal(next, full);
    char *json;
    size_t len;
    for (int j = 0; j < BATCH; j++)
        assert_int_equal(store_get(fx->st, ids[full][j], &json, &len), STORE_ENOTFOUND);
    for (int bb = 0; bb < full; bb++) {
        for (int j = 0; j < BATCH; j++) {
            assert_int_equal(store_get(fx->st, ids[bb][j], &json, &len), 0);
            assert_int_equal(len, lens[bb][j]);
            assert_memory_equal(json, blobs[bb][j], len);
            free(json);
        }
    }
    /* Still usable in place: scans work, and a batch of already stored
     * events (nothing new to write) goes through. */
    struct store_event dups[BATCH];
    for (int j = 0; j < BATCH; j++)
        dups[j] = (struct store_event){.json = blobs[0][j],
                                       .json_len = lens[0][j],
                                       .id = ids[0][j],
                                       .time_us = ev_time(0),
                                       .service = "svc",
                                       .cost_usd = NAN,
                                       .input_tokens = -1,
                                       .output_tokens = -1};
    struct store_append_result dres;
    assert_int_equal(store_append(fx->st, dups, BATCH, NULL, 0, &dres), 0);
    assert_int_equal(dres.duplicates, BATCH);
    print_message("    map full after %d batches of %d x %d B\n", full, BATCH, SZ);
    struct col *c = calloc(1, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, (size_t)full * BATCH);
    free(c);

    /* The operator's remedy, without a restart (SIGHUP): grow the map in
     * place; the batch then goes in. Below the data in use: refused. */
    assert_int_equal(store_set_map_size(fx->st, 4096, NULL), STORE_ETOOSMALL);
    size_t applied = 0;
    assert_int_equal(store_set_map_size(fx->st, 1u << 20, &applied), 0);
    assert_int_equal(applied, 1u << 20);
    struct store_stats ms;
    assert_int_equal(store_stats(fx->st, &ms), 0);
    assert_int_equal(ms.map_size, 1u << 20);
    struct store_event evs[BATCH];
    for (int j = 0; j < BATCH; j++)
        evs[j] = (struct store_event){.json = blobs[full][j],
                                      .json_len = lens[full][j],
                                      .id = ids[full][j],
                                      .time_us = ev_time((size_t)full),
                                      .service = "svc",
                                      .cost_usd = NAN,
                                      .input_tokens = -1,
                                      .output_tokens = -1};
    struct store_offset off = {"llmtap.events", 0, full + 1};
    struct store_append_result res;
    assert_int_equal(store_append(fx->st, evs, BATCH, &off, 1, &res), 0);
    assert_int_equal(res.stored, BATCH);
    fx->opts.map_size = 1u << 20; /* and the next open (a restart) with it */
    reopen(fx);
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 0, &next), 0);
    assert_int_equal(next, full + 1);
    for (int j = 0; j < BATCH; j++) {
        assert_int_equal(store_get(fx->st, ids[full][j], &json, &len), 0);
        assert_memory_equal(json, blobs[full][j], len);
        free(json);
    }
}

static void test_reopen(void **state)
{
    struct fx *fx = *state;
    struct store_offset off = {"llmtap.events", 1, 500};
    struct tev *t = malloc(500 * sizeof *t);
    struct store_event *evs = malloc(500 * sizeof *evs);
    assert_non_null(t);
    assert_non_null(evs);
    for (size_t i = 0; i < 500; i++) {
        gen_event(g_seed, i, ev_time(i), &t[i]);
        evs[i] = t[i].ev;
    }
    assert_int_equal(store_append(fx->st, evs, 500, &off, 1, NULL), 0);
    reopen(fx);
    for (size_t i = 0; i < 500; i += 37)
        assert_get(fx->st, &t[i]);
    int64_t next;
    assert_int_equal(store_offset_get(fx->st, "llmtap.events", 1, &next), 0);
    assert_int_equal(next, 500);
    /* Appending again after reopen: duplicates still detected. */
    struct store_append_result res;
    assert_int_equal(store_append(fx->st, evs, 500, NULL, 0, &res), 0);
    assert_int_equal(res.duplicates, 500);
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.events, 500);
    free(evs);
    free(t);
}

static void test_out_of_order(void **state)
{
    struct fx *fx = *state;
    enum { N = 400 };
    struct tev *t = malloc(N * sizeof *t);
    struct store_event *evs = malloc(N * sizeof *evs);
    assert_non_null(t);
    assert_non_null(evs);
    uint64_t s = g_seed;
    /* Shuffled times, written in 4 batches: every batch has keys below the
     * current last key (the MDB_APPEND fallback) and some above it. */
    for (size_t i = 0; i < N; i++) {
        int64_t tm = T0 + (int64_t)(rng_next(&s) % 100000) * 10;
        gen_event(g_seed, i, tm, &t[i]);
        evs[i] = t[i].ev;
    }
    for (size_t b = 0; b < 4; b++) {
        struct store_append_result res;
        assert_int_equal(store_append(fx->st, evs + b * 100, 100, NULL, 0, &res), 0);
        assert_int_equal(res.stored, 100);
    }
    /* Late arrival far in the past and an event in the same µs as another. */
    struct tev late, same;
    gen_event(g_seed, N, T0 - 86400000000LL, &late);
    gen_event(g_seed, N + 1, t[17].ev.time_us, &same);
    struct store_event two[2] = {late.ev, same.ev};
    assert_int_equal(store_append(fx->st, two, 2, NULL, 0, NULL), 0);

    for (size_t i = 0; i < N; i++)
        assert_get(fx->st, &t[i]);
    assert_get(fx->st, &late);
    assert_get(fx->st, &same);
    struct col *c = calloc(1, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), 0);
    assert_int_equal(c->n, N + 2);
    for (size_t i = 1; i < c->n; i++)
        assert_true(c->times[i - 1] >= c->times[i]);
    assert_int_equal(c->times[N + 1], late.ev.time_us);
    free(c);
    free(evs);
    free(t);
}

static void test_invalid(void **state)
{
    struct fx *fx = *state;
    struct store *st = (struct store *)1;
    struct store_opts o = {.dir = NULL};
    assert_int_equal(store_open(&o, &st), STORE_EINVAL);
    assert_null(st);
    assert_int_equal(store_open(NULL, &st), STORE_EINVAL);
    o.dir = fx->dir;
    o.zstd_level = 1000;
    assert_int_equal(store_open(&o, &st), STORE_EINVAL);
    store_close(NULL);

    /* A path through a regular file cannot be created. */
    char path[128];
    snprintf(path, sizeof path, "%s/file", fx->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/file/store", fx->dir);
    o = (struct store_opts){.dir = path};
    int rc = store_open(&o, &st);
    assert_int_equal(rc, ENOTDIR);
    assert_non_null(store_strerror(rc));

    /* mkdir -p of nested directories. */
    snprintf(path, sizeof path, "%s/a/b/c", fx->dir);
    o = (struct store_opts){.dir = path, .map_size = 1u << 20, .zstd_level = -5};
    assert_int_equal(store_open(&o, &st), 0);
    assert_int_equal(append_range(st, 0, 2, NULL), 0);
    store_close(st);

    struct tev t;
    gen_event(g_seed, 0, ev_time(0), &t);
    struct store_event e = t.ev;
    char longid[STORE_ID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    e.id = longid;
    assert_int_equal(store_append(fx->st, &e, 1, NULL, 0, NULL), STORE_EINVAL);
    longid[STORE_ID_MAX] = '\0'; /* exactly STORE_ID_MAX: fine */
    assert_int_equal(store_append(fx->st, &e, 1, NULL, 0, NULL), 0);
    e.id = NULL;
    assert_int_equal(store_append(fx->st, &e, 1, NULL, 0, NULL), STORE_EINVAL);
    e = t.ev;
    e.json = NULL;
    assert_int_equal(store_append(fx->st, &e, 1, NULL, 0, NULL), STORE_EINVAL);
    assert_int_equal(store_append(fx->st, NULL, 1, NULL, 0, NULL), STORE_EINVAL);
    assert_int_equal(store_append(NULL, &t.ev, 1, NULL, 0, NULL), STORE_EINVAL);
    assert_int_equal(store_append(fx->st, NULL, 0, NULL, 0, NULL), 0);

    assert_string_equal(store_strerror(STORE_ENOTFOUND), "not found");
    assert_non_null(strstr(store_strerror(ENOSPC), "space"));
    assert_int_equal(store_train_dict(fx->st, 0), STORE_EINVAL);
    assert_int_equal(store_train_dict(fx->st, 100), STORE_ETRAIN); /* 1 event */
}

static void test_corrupt(void **state)
{
    struct fx *fx = *state;
    assert_int_equal(append_range(fx->st, 0, 5, NULL), 0);
    struct tev t[5];
    for (size_t i = 0; i < 5; i++)
        gen_event(g_seed, i, ev_time(i), &t[i]);
    store_close(fx->st);
    fx->st = NULL;

    /* Truncate event 2's record; flip bytes in event 3's compressed body. */
    MDB_env *env;
    MDB_txn *txn;
    raw_open(fx->dir, &env, &txn);
    for (int i = 2; i <= 3; i++) {
        MDB_dbi db;
        MDB_val ek, v;
        uint8_t ekey[80];
        raw_record(txn, t[i].id, &db, &ek, ekey, &v);
        uint8_t *copy = malloc(v.mv_size);
        memcpy(copy, v.mv_data, v.mv_size);
        struct evrec r;
        assert_int_equal(evrec_parse(copy, v.mv_size, &r), 0);
        assert_int_equal(r.flags & EVREC_F_RAW, 0);
        if (i == 2) {
            v.mv_size = EVREC_FIXED + 10;
        } else {
            size_t body = (size_t)(r.body - copy);
            for (size_t j = body; j < v.mv_size; j += 3)
                copy[j] ^= 0x5a;
        }
        v.mv_data = copy;
        assert_int_equal(mdb_put(txn, db, &ek, &v, 0), 0);
        free(copy);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
    char *json = NULL;
    assert_int_equal(store_get(fx->st, t[2].id, &json, NULL), STORE_ECORRUPT);
    assert_null(json);
    assert_int_equal(store_get(fx->st, t[3].id, &json, NULL), STORE_ECORRUPT);
    assert_null(json);
    assert_get(fx->st, &t[4]);
    struct col *c = calloc(1, sizeof *c);
    assert_int_equal(store_scan(fx->st, NULL, col_fn, c), STORE_ECORRUPT);
    assert_int_equal(c->n, 2); /* 4 and 3 (its header is intact), then 2 fails */
    free(c);
}

static void test_evrec(void **state)
{
    (void)state;
    struct evrec r = {.flags = 0,
                      .dict_id = 7,
                      .time_us = -5,
                      .cost_usd = NAN,
                      .latency_ms = 1.5,
                      .status = 503,
                      .json_len = 100,
                      .input_tokens = -1,
                      .output_tokens = 1LL << 40};
    const char *s[EVREC_NSTR] = {"id-1", "svc", "", "openai", "chat"};
    for (int i = 0; i < EVREC_NSTR; i++) {
        r.str[i] = s[i];
        r.str_len[i] = (uint16_t)strlen(s[i]);
    }
    uint8_t buf[256];
    size_t head = evrec_put_head(buf, &r);
    assert_int_equal(head, evrec_head_size(&r));
    memset(buf + head, 0xab, 10); /* a 10-byte "body" */
    struct evrec p;
    assert_int_equal(evrec_parse(buf, head + 10, &p), 0);
    assert_int_equal(p.dict_id, 7);
    assert_int_equal(p.time_us, -5);
    assert_true(isnan(p.cost_usd));
    assert_true(p.latency_ms == 1.5);
    assert_int_equal(p.status, 503);
    assert_int_equal(p.input_tokens, -1);
    assert_int_equal(p.output_tokens, 1LL << 40);
    assert_int_equal(p.body_len, 10);
    for (int i = 0; i < EVREC_NSTR; i++) {
        assert_int_equal(p.str_len[i], strlen(s[i]));
        assert_memory_equal(p.str[i], s[i], p.str_len[i]);
    }
    /* Little-endian on any host: the dict id's bytes at offset 4. */
    assert_memory_equal(buf + 4, "\x07\0\0\0", 4);
    /* Every truncation fails (the body must not be empty when compressed). */
    for (size_t n = 0; n <= head; n++)
        assert_int_equal(evrec_parse(buf, n, &p), -1);
    /* Unknown version and unknown flags are refused. */
    buf[0] = 2;
    assert_int_equal(evrec_parse(buf, head + 10, &p), -1);
    buf[0] = EVREC_VERSION;
    buf[1] = 0x80;
    assert_int_equal(evrec_parse(buf, head + 10, &p), -1);
    /* Raw bodies must be exactly json_len long and have no dictionary. */
    buf[1] = EVREC_F_RAW;
    assert_int_equal(evrec_parse(buf, head + 10, &p), -1);

    /* Random mutations of a valid record: parse either fails or returns a
     * view inside the buffer (ASan checks the reads). */
    buf[1] = 0;
    uint64_t s2 = g_seed;
    for (int it = 0; it < 20000; it++) {
        uint8_t m[256];
        size_t n = head + 10;
        memcpy(m, buf, n);
        for (int k = 0; k < 4; k++)
            m[rng_next(&s2) % n] = (uint8_t)rng_next(&s2);
        n -= rng_next(&s2) % 4;
        uint8_t *heap = malloc(n); /* exact size, so ASan sees overreads */
        assert_non_null(heap);
        memcpy(heap, m, n);
        if (evrec_parse(heap, n, &p) == 0) {
            assert_true(p.body >= heap && p.body + p.body_len == heap + n);
            for (int i = 0; i < EVREC_NSTR; i++)
                assert_true((const uint8_t *)p.str[i] >= heap &&
                            (const uint8_t *)p.str[i] + p.str_len[i] <= p.body);
        }
        free(heap);
    }
}

/* Raw dictionary id of the record of event t. The store is closed around
 * the raw access: LMDB forbids opening one environment twice in a process. */
static uint32_t record_dict_id(struct fx *fx, const struct tev *t)
{
    store_close(fx->st);
    fx->st = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi db;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, fx->dir, MDB_RDONLY | MDB_NOTLS, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    MDB_val ek, v;
    uint8_t ekey[80];
    raw_record(txn, t->id, &db, &ek, ekey, &v);
    struct evrec r;
    assert_int_equal(evrec_parse(v.mv_data, v.mv_size, &r), 0);
    uint32_t id = r.dict_id;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
    return id;
}

struct bytes {
    uint64_t total;
    size_t n;
};

static int bytes_fn(void *ud, const struct store_summary *s)
{
    struct bytes *b = ud;
    b->total += s->stored_bytes;
    b->n++;
    return 0;
}

static void test_dict(void **state)
{
    struct fx *fx = *state;
    assert_int_equal(append_range(fx->st, 0, 1000, NULL), 0);
    assert_int_equal(store_train_dict(fx->st, 1000), 0);
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.dict_id, 1);
    assert_int_equal(append_range(fx->st, 1000, 2000, NULL), 0);

    struct tev t;
    gen_event(g_seed, 10, ev_time(10), &t);
    assert_int_equal(record_dict_id(fx, &t), 0);
    gen_event(g_seed, 1500, ev_time(1500), &t);
    assert_int_equal(record_dict_id(fx, &t), 1);

    /* Records with and without the dictionary all read back exactly. */
    for (size_t i = 0; i < 2000; i += 7) {
        gen_event(g_seed, i, ev_time(i), &t);
        assert_get(fx->st, &t);
    }
    /* The dictionary shrinks records of this size markedly. */
    struct bytes before = {0, 0}, after = {0, 0};
    struct store_filter f1 = {.start_us = ev_time(0), .end_us = ev_time(1000)};
    struct store_filter f2 = {.start_us = ev_time(1000), .end_us = ev_time(2000)};
    assert_int_equal(store_scan(fx->st, &f1, bytes_fn, &before), 0);
    assert_int_equal(store_scan(fx->st, &f2, bytes_fn, &after), 0);
    assert_int_equal(before.n, 1000);
    assert_int_equal(after.n, 1000);
    print_message("    record bytes/event: %.0f without dictionary, %.0f with\n",
                  (double)before.total / 1000, (double)after.total / 1000);
    assert_true(after.total < before.total * 3 / 4);

    /* After reopen the writer uses the newest dictionary; a second one gets
     * the next id and older records stay readable. */
    reopen(fx);
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.dict_id, 1);
    assert_int_equal(append_range(fx->st, 2000, 2100, NULL), 0);
    gen_event(g_seed, 2050, ev_time(2050), &t);
    assert_int_equal(record_dict_id(fx, &t), 1);
    assert_int_equal(store_train_dict(fx->st, 500), 0);
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.dict_id, 2);
    assert_int_equal(append_range(fx->st, 2100, 2200, NULL), 0);
    gen_event(g_seed, 2150, ev_time(2150), &t);
    assert_int_equal(record_dict_id(fx, &t), 2);
    for (size_t i = 0; i < 2200; i += 13) {
        gen_event(g_seed, i, ev_time(i), &t);
        assert_get(fx->st, &t);
    }
}

/* ---- concurrency -------------------------------------------------------- */

struct conc {
    struct store *st;
    atomic_size_t published; /* events [0, published) are committed */
    atomic_int done;
    atomic_int errors;
    atomic_size_t reads;
    size_t total;
    int seed_off;
    char msg[256];
};

static void conc_fail(struct conc *c, const char *what, int rc)
{
    if (atomic_fetch_add(&c->errors, 1) == 0)
        snprintf(c->msg, sizeof c->msg, "%s: %d %s", what, rc, store_strerror(rc));
}

static void *conc_writer(void *arg)
{
    struct conc *c = arg;
    size_t n = atomic_load(&c->published);
    int trained = 0;
    while (n < c->total) {
        size_t to = n + 100 < c->total ? n + 100 : c->total;
        int rc = append_range(c->st, n, to, NULL);
        if (rc) {
            conc_fail(c, "append", rc);
            break;
        }
        n = to;
        atomic_store(&c->published, n);
        if (!trained && n >= c->total / 2) {
            if ((rc = store_train_dict(c->st, 1000)) != 0)
                conc_fail(c, "train", rc);
            trained = 1;
        }
    }
    atomic_store(&c->done, 1);
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    uint64_t s = g_seed ^ (uint64_t)(uintptr_t)pthread_self();
    struct tev *t = malloc(sizeof *t);
    struct col *col = malloc(sizeof *col);
    if (!t || !col) {
        conc_fail(c, "malloc", STORE_ENOMEM);
        free(t);
        free(col);
        return NULL;
    }
    int last_round;
    do {
        last_round = atomic_load(&c->done);
        size_t pub = atomic_load(&c->published);
        size_t i = (size_t)(rng_next(&s) % pub);
        gen_event(g_seed, i, ev_time(i), t);
        char *json;
        size_t len;
        int rc = store_get(c->st, t->id, &json, &len);
        if (rc) {
            conc_fail(c, "get", rc);
            break;
        }
        if (len != t->len || memcmp(json, t->json, len) != 0)
            conc_fail(c, "get: content differs", 0);
        free(json);
        if ((rng_next(&s) & 15) == 0) {
            memset(col, 0, sizeof *col);
            struct store_filter f = {.start_us = INT64_MIN, .end_us = INT64_MAX, .limit = 200};
            if ((rc = store_scan(c->st, &f, col_fn, col)) != 0)
                conc_fail(c, "scan", rc);
            if (col->n != 200)
                conc_fail(c, "scan: short", (int)col->n);
            struct store_stats ss;
            if ((rc = store_stats(c->st, &ss)) != 0 || ss.events < pub)
                conc_fail(c, "stats", rc);
        }
        atomic_fetch_add(&c->reads, 1);
    } while (!last_round && atomic_load(&c->errors) == 0);
    free(col);
    free(t);
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *fx = *state;
    enum { READERS = 6 };
    struct conc *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->st = fx->st;
    c->total = 4000;
    assert_int_equal(append_range(fx->st, 0, 500, NULL), 0);
    atomic_store(&c->published, 500);
    pthread_t w, r[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, conc_reader, c), 0);
    assert_int_equal(pthread_create(&w, NULL, conc_writer, c), 0);
    /* Map size changes while they run: LMDB unmaps and remaps the file, so
     * this fails (a fault, or ASan) if any transaction overlapped one. */
    size_t resizes = 0, applied;
    while (!atomic_load(&c->done) && atomic_load(&c->errors) == 0) {
        size_t sz = ((size_t)64 << 20) + (resizes % 4 + 1) * ((size_t)1 << 20);
        assert_int_equal(store_set_map_size(fx->st, sz, &applied), 0);
        assert_int_equal(applied, sz);
        resizes++;
        usleep(1000);
    }
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    if (atomic_load(&c->errors))
        fail_msg("%d errors, first: %s", atomic_load(&c->errors), c->msg);
    print_message("    %zu concurrent reads during %zu appends and %zu map resizes\n",
                  atomic_load(&c->reads), c->total - 500, resizes);
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_int_equal(ss.events, c->total);
    assert_int_equal(ss.dict_id, 1);
    free(c);
}

/* ---- benchmark (LLMTAP_STORE_BENCH=1) ----------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_run(struct fx *fx, int level, int dict, int sync)
{
    enum { BATCH = 1000, NB = 100 };
    store_close(fx->st);
    fx->st = NULL;
    nftw(fx->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    fx->opts.map_size = (size_t)4 << 30;
    fx->opts.zstd_level = level;
    fx->opts.no_sync = !sync;
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);

    /* Pre-generate the events: measure the store, not the generator. */
    struct tev *t = malloc((size_t)BATCH * NB * sizeof *t);
    struct store_event *evs = malloc((size_t)BATCH * NB * sizeof *evs);
    assert_non_null(t);
    assert_non_null(evs);
    uint64_t json_bytes = 0;
    for (size_t i = 0; i < (size_t)BATCH * NB; i++) {
        gen_event(g_seed, i, ev_time(i), &t[i]);
        evs[i] = t[i].ev;
        json_bytes += t[i].len;
    }
    size_t first = 0;
    if (dict) { /* train on the first 5 batches, measure the rest */
        for (first = 0; first < 5 * BATCH; first += BATCH)
            assert_int_equal(store_append(fx->st, evs + first, BATCH, NULL, 0, NULL), 0);
        double tt = now_s();
        assert_int_equal(store_train_dict(fx->st, 5000), 0);
        print_message("    store_train_dict(5000 samples): %.3f s\n", now_s() - tt);
    }
    struct store_stats s0;
    assert_int_equal(store_stats(fx->st, &s0), 0);
    struct store_offset off = {"llmtap.events", 0, 0};
    double t0 = now_s();
    for (size_t i = first; i < (size_t)BATCH * NB; i += BATCH) {
        off.next_offset = (int64_t)(i + BATCH);
        assert_int_equal(store_append(fx->st, evs + i, BATCH, &off, 1, NULL), 0);
    }
    double el = now_s() - t0;
    size_t n = (size_t)BATCH * NB - first;
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    print_message("    level %d%s%s: %zu events (avg JSON %.0f B) in %.3f s = %.0f events/s; "
                  "disk %.0f B/event (used pages), file %.0f B/event\n",
                  level, dict ? " + dict" : "", sync ? ", fsync per batch" : ", MDB_NOSYNC", n,
                  (double)json_bytes / (BATCH * NB), el, (double)n / el,
                  (double)(ss.used_bytes - s0.used_bytes) / (double)n,
                  (double)ss.file_bytes / (double)(BATCH * NB));
    free(evs);
    free(t);
}

static void test_bench(void **state)
{
    const char *b = getenv("LLMTAP_STORE_BENCH");
    if (!b || !*b || *b == '0')
        skip();
    struct fx *fx = *state;
    bench_run(fx, 3, 0, 0);
    bench_run(fx, 3, 1, 0);
    bench_run(fx, 1, 0, 0);
    bench_run(fx, 1, 1, 0);
    if (!strcmp(b, "sync"))
        bench_run(fx, 3, 1, 1);
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_store: seed %llu (set LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evrec),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
