/*
 * test_series.c — unit tests for storage/series.c (time series store) and
 * the modules series.c is split into: interning, select, counters and late
 * events, blocks, downsampling and retention, crash and rollback,
 * concurrent readers. The block codec (storage/sblock.c) is tested in
 * test_sblock.c, the randomized model and the size figures in
 * test_series_model.c; the fixture all three share is series_testfx.h.
 *
 * Each test gets its own LMDB environment in a fresh mkdtemp() directory,
 * removed after. Random tests print their seed; set LLMTAP_TEST_SEED to
 * replay a run.
 */
#include "series_testfx.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <sys/wait.h>

/* ---- interning ---------------------------------------------------------- */

static void test_intern(void **state)
{
    struct fx *f = *state;
    struct series_label a[] = {L("__name__", "llm_requests_total"), L("service", "search"),
                               L("model", "gpt-4o")};
    struct series_label a2[] = {L("model", "gpt-4o"), L("__name__", "llm_requests_total"),
                                L("service", "search")};
    struct series_label b[] = {L("__name__", "llm_requests_total"), L("service", "search"),
                               L("model", "gpt-4o-mini")};
    uint64_t ia = intern(f, a, 3), ia2 = intern(f, a2, 3), ib = intern(f, b, 3);
    assert_int_equal(ia, 1);
    assert_int_equal(ia2, ia);
    assert_int_equal(ib, 2);
    fx_reopen(f);
    assert_int_equal(intern(f, a2, 3), ia);
    assert_int_equal(intern(f, b, 3), ib);
    struct series_label c[] = {L("__name__", "x"), L("le", "0.5")};
    assert_int_equal(intern(f, c, 2), 3);

    MDB_txn *t = rtxn(f);
    uint64_t id;
    assert_int_equal(series_lookup(f->s, t, b, 3, &id), 0);
    assert_int_equal(id, ib);
    struct series_label nope[] = {L("__name__", "x"), L("le", "1")};
    assert_int_equal(series_lookup(f->s, t, nope, 2, &id), SERIES_ENOTFOUND);
    struct series_label *lab;
    size_t n;
    assert_int_equal(series_labels(f->s, t, ia, &lab, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(lab[0].name, "__name__");
    assert_string_equal(lab[0].value, "llm_requests_total");
    assert_string_equal(lab[1].name, "model");
    assert_string_equal(lab[2].name, "service");
    assert_string_equal(lab[2].value, "search");
    free(lab);
    assert_int_equal(series_labels(f->s, t, 99, &lab, &n), SERIES_ENOTFOUND);
    uint64_t cnt;
    assert_int_equal(series_count(f->s, t, "llm_requests_total", &cnt), 0);
    assert_int_equal(cnt, 2);
    assert_int_equal(series_count(f->s, t, "nothing", &cnt), 0);
    assert_int_equal(cnt, 0);
    struct series_metric_count *mc;
    assert_int_equal(series_metric_counts(f->s, t, &mc, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(mc[0].name, "llm_requests_total");
    assert_int_equal(mc[0].series, 2);
    assert_string_equal(mc[1].name, "x");
    assert_int_equal(mc[1].series, 1);
    free(mc);
    mdb_txn_abort(t);

    /* Validation. */
    t = wtxn(f);
    struct series_label noname[] = {L("a", "b")};
    struct series_label dup[] = {L("__name__", "x"), L("a", "1"), L("a", "2")};
    struct series_label badname[] = {L("__name__", "x"), L("1a", "1")};
    struct series_label badname2[] = {L("__name__", "x"), L("a-b", "1")};
    struct series_label empty[] = {L("__name__", "x"), L("a", "")};
    struct series_label nullv[] = {L("__name__", "x"), L("a", NULL)};
    assert_int_equal(series_id(f->s, t, noname, 1, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, dup, 3, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, badname, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, badname2, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, empty, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, nullv, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, NULL, 0, &id), SERIES_EINVAL);
    struct series_label many[SERIES_LABELS_MAX + 1];
    char names[SERIES_LABELS_MAX + 1][8];
    for (int i = 0; i <= SERIES_LABELS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "l%d", i);
        many[i] = L(names[i], "v");
    }
    many[0] = L("__name__", "m");
    assert_int_equal(series_id(f->s, t, many, SERIES_LABELS_MAX + 1, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, many, SERIES_LABELS_MAX, &id), 0);
    char big[600];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct series_label toobig[] = {L("__name__", "x"), L("a", big)};
    assert_int_equal(series_id(f->s, t, toobig, 2, &id), SERIES_ETOOBIG);
    struct series_label utf8[] = {L("__name__", "x"), L("a", "caf\xc3\xa9 / \"quoted\" \\")};
    assert_int_equal(series_id(f->s, t, utf8, 2, &id), 0);
    commit(t);
    assert_string_not_equal(series_strerror(SERIES_ETOOBIG), series_strerror(SERIES_EINVAL));
    assert_non_null(series_strerror(MDB_MAP_FULL));
    assert_non_null(series_strerror(ENOMEM));
}

/* Another format version or grid is refused; the stored grid is adopted. */
static void test_version_and_grid(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    f->o.res_ms = 15000;
    assert_int_equal(fx_open_rc(f), SERIES_ECONFIG);
    fx_close(f);
    f->o.res_ms = 0;
    f->o.span_ms = 7;
    assert_int_equal(fx_open_rc(f), SERIES_ECONFIG);
    fx_close(f);
    f->o.span_ms = 0;
    f->o.raw_retention_ms = 10 * 86400000LL;
    f->o.ds_retention_ms = 86400000LL;
    assert_int_equal(fx_open_rc(f), SERIES_EINVAL);
    fx_close(f);
    f->o = (struct series_opts){0};
    fx_open(f);
    /* Bump the stored version behind its back. */
    MDB_txn *t = wtxn(f);
    MDB_dbi meta;
    assert_int_equal(mdb_dbi_open(t, "series_meta", 0, &meta), 0);
    uint8_t v[4] = {0, 0, 0, 2};
    MDB_val k = {14, "format_version"}, d = {4, v};
    assert_int_equal(mdb_put(t, meta, &k, &d, 0), 0);
    commit(t);
    fx_close(f);
    assert_int_equal(fx_open_rc(f), SERIES_EVERSION);
    fx_close(f);
    /* A bad grid for a fresh store. */
    struct fx *g = fx_new(&(struct series_opts){.res_ms = 10000, .ds_res_ms = 15000});
    assert_int_equal(fx_open_rc(g), SERIES_EINVAL);
    fx_close(g);
    nftw(g->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(g);
    /* Read-only transaction on an environment without series. */
    g = fx_new(NULL);
    assert_int_equal(env_open(g), 0);
    MDB_txn *rt = rtxn(g);
    struct series_db *s;
    assert_int_equal(series_open(rt, NULL, &s), SERIES_ENOTFOUND);
    mdb_txn_abort(rt);
    fx_close(g);
    nftw(g->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(g);
}

/* ---- select ------------------------------------------------------------- */

static int re_cb(void *ud, const char *v, size_t len)
{
    char buf[256];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, v, len);
    buf[len] = 0;
    return regexec((regex_t *)ud, buf, 0, NULL, 0) == 0;
}

static const char *const LN[] = {"__name__", "a", "b", "c"};
static const char *const LV[] = {"", "x", "y", "z", "xy", "v1", "v2"};

struct tseries {
    const char *v[4]; /* value per LN; "" = absent */
    uint64_t id;
};

static void select_check(struct fx *f, uint64_t seed)
{
    uint64_t rs = seed ^ 0x5E1EC7;
    enum { NS = 60 };
    struct tseries ts[NS];
    static const char *const metrics[] = {"m1", "m2", "m3"};
    MDB_txn *t = wtxn(f);
    for (int i = 0; i < NS; i++) {
        struct series_label l[4];
        size_t n = 0;
        ts[i].v[0] = metrics[i % 3];
        l[n++] = L("__name__", ts[i].v[0]);
        for (int j = 1; j < 4; j++) {
            ts[i].v[j] = LV[rng_below(&rs, 7)];
            if (*ts[i].v[j])
                l[n++] = L(LN[j], ts[i].v[j]);
        }
        assert_int_equal(series_id(f->s, t, l, n, &ts[i].id), 0);
        for (int j = 0; j < i; j++) /* a label set drawn twice is one series */
            if (ts[j].id == ts[i].id)
                ts[i].id = 0;
    }
    assert_int_equal(series_flush(f->s, t, T0), 0);
    commit(t);

    static const char *const RES[] = {"x|y", ".*", ".+", "v[12]", "x.*", "", "z", "nomatch"};
    regex_t re[8];
    for (int i = 0; i < 8; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "^(%s)$", RES[i]);
        assert_int_equal(regcomp(&re[i], pat, REG_EXTENDED | REG_NOSUB), 0);
    }
    t = rtxn(f);
    for (int iter = 0; iter < 400; iter++) {
        struct series_matcher m[3];
        int rix[3];
        size_t nm = 1 + rng_below(&rs, 3);
        for (size_t i = 0; i < nm; i++) {
            m[i].op = (enum series_match_op)rng_below(&rs, 4);
            m[i].name = rng_below(&rs, 8) ? LN[rng_below(&rs, 4)] : "absent";
            m[i].value = LV[rng_below(&rs, 7)];
            if (m[i].name == LN[0] && m[i].op < 2 && rng_below(&rs, 2))
                m[i].value = metrics[rng_below(&rs, 3)];
            rix[i] = (int)rng_below(&rs, 8);
            m[i].fn = re_cb;
            m[i].ud = &re[rix[i]];
        }
        uint64_t *ids;
        size_t n;
        assert_int_equal(series_select(f->s, t, m, nm, INT64_MIN, INT64_MAX, &ids, &n), 0);
        size_t k = 0;
        for (int s = 0; s < NS; s++) {
            int ok = 1;
            for (size_t i = 0; i < nm && ok; i++) {
                const char *v = "";
                for (int j = 0; j < 4; j++)
                    if (!strcmp(m[i].name, LN[j]))
                        v = ts[s].v[j];
                switch (m[i].op) {
                case SERIES_MATCH_EQ: ok = !strcmp(v, m[i].value); break;
                case SERIES_MATCH_NE: ok = !!strcmp(v, m[i].value); break;
                case SERIES_MATCH_RE: ok = re_cb(&re[rix[i]], v, strlen(v)); break;
                case SERIES_MATCH_NRE: ok = !re_cb(&re[rix[i]], v, strlen(v)); break;
                }
            }
            if (!ok || !ts[s].id)
                continue;
            if (k >= n || ids[k] != ts[s].id) {
                for (size_t i = 0; i < nm; i++)
                    print_message("  matcher %s op %d value '%s' re '%s'\n", m[i].name, m[i].op,
                                  m[i].value, RES[rix[i]]);
                for (size_t i = 0; i < n; i++)
                    print_message("  got %llu\n", (unsigned long long)ids[i]);
                fail_msg("iteration %d (seed %llu): series %llu expected at %zu", iter,
                         (unsigned long long)seed, (unsigned long long)ts[s].id, k);
            }
            k++;
        }
        if (k != n)
            fail_msg("iteration %d (seed %llu): %zu ids, expected %zu", iter,
                     (unsigned long long)seed, n, k);
        free(ids);

        /* Label values of `a` over the selection equal the naive set. */
        char **vals;
        size_t nv;
        assert_int_equal(series_label_values(f->s, t, "a", m, nm, INT64_MIN, INT64_MAX, &vals, &nv),
                         0);
        for (size_t i = 1; i < nv; i++)
            assert_true(strcmp(vals[i - 1], vals[i]) < 0);
        free(vals);
    }
    char **out;
    size_t n;
    assert_int_equal(series_label_names(f->s, t, NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(out[0], "__name__");
    assert_string_equal(out[1], "a");
    assert_string_equal(out[3], "c");
    free(out);
    assert_int_equal(
        series_label_values(f->s, t, "__name__", NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out[2], "m3");
    free(out);
    struct series_matcher m1 = {SERIES_MATCH_EQ, "__name__", "m1", NULL, NULL};
    assert_int_equal(
        series_label_values(f->s, t, "__name__", &m1, 1, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "m1");
    free(out);
    assert_int_equal(
        series_label_values(f->s, t, "nolabel", NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 0);
    assert_null(out);
    /* Time range: no series has a sample yet. */
    uint64_t *ids;
    assert_int_equal(series_select(f->s, t, &m1, 1, T0, T0 + HOUR, &ids, &n), 0);
    assert_int_equal(n, 0);
    struct series_matcher bad = {SERIES_MATCH_RE, "a", NULL, NULL, NULL};
    assert_int_equal(series_select(f->s, t, &bad, 1, INT64_MIN, INT64_MAX, &ids, &n),
                     SERIES_EINVAL);
    mdb_txn_abort(t);
    for (int i = 0; i < 8; i++)
        regfree(&re[i]);
}

static void test_select(void **state)
{
    select_check(*state, g_seed);
}

/* Seeds that once failed: 98627129472716 made LMDB's GET_MULTIPLE hand the
 * id of a one-id label value out again as an id of the next value
 * (postings_collect in storage/sindex.c). */
static void test_select_regression(void **state)
{
    select_check(*state, 98627129472716ull);
}

/* ---- counters and late events ------------------------------------------- */

static void test_counter_late(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "llm_requests_total"), L("service", "s")};
    uint64_t id = intern(f, l, 2);
    int64_t now = T0 + MIN;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 1 * SEC, 1, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 15 * SEC, 2, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 35 * SEC, 4, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);

    struct series_sample *o;
    size_t n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        /* baseline 0 at T0, then a run of two buckets, a gap, a baseline, one bucket */
        int64_t et[] = {T0, T0 + 10 * SEC, T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {0, 1, 3, 3, 7};
        expect_samples(o, n, et, ev, 5);
    }
    free(o);

    /* A late event inside the window lands in its bucket and every later sample. */
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 12 * SEC, 10, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 25 * SEC, 0.5, now), 0); /* fills the gap */
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0, T0 + 10 * SEC, T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {0, 1, 13, 13.5, 17.5};
        expect_samples(o, n, et, ev, 5);
    }
    free(o);

    /* Seal: the window passes. */
    now = T0 + 6 * MIN;
    flush_commit(f, now);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 59 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 60 * SEC, 1, now), 0); /* first open bucket */
    assert_int_equal(series_add(f->s, id, now + 10 * MIN + 1, 1, now), SERIES_EFUTURE);
    assert_int_equal(series_add(f->s, id, now + 10 * MIN, 1, now), 0);
    assert_int_equal(series_add(f->s, id, now, -1, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, now, NAN, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, now, INFINITY, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, -1, 1, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, 999, now, 1, now), SERIES_ENOTFOUND);
    assert_int_equal(series_add(f->s, 0, now, 1, now), SERIES_ENOTFOUND);
    flush_commit(f, now);
    n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0,
                        T0 + 10 * SEC,
                        T0 + 20 * SEC,
                        T0 + 30 * SEC,
                        T0 + 40 * SEC,
                        T0 + 60 * SEC,
                        T0 + 70 * SEC,
                        now + 10 * MIN,
                        now + 10 * MIN + 10 * SEC};
        double ev[] = {0, 1, 13, 13.5, 17.5, 17.5, 18.5, 18.5, 19.5};
        expect_samples(o, n, et, ev, 9);
    }
    free(o);
    /* Sub-ranges are exact. */
    n = readv(f, id, T0 + 20 * SEC, T0 + 40 * SEC, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {13, 13.5, 17.5};
        expect_samples(o, n, et, ev, 3);
    }
    free(o);
    struct series_info info;
    MDB_txn *r = rtxn(f);
    assert_int_equal(series_info(f->s, r, id, &info), 0);
    assert_int_equal(info.first_ms, T0);
    assert_int_equal(info.last_ms, now + 10 * MIN + 10 * SEC);
    assert_true(info.value == 19.5);
    assert_int_equal(info.open_buckets, 2);
    assert_int_equal(series_info(f->s, r, 12345, &info), SERIES_ENOTFOUND);
    uint64_t *ids;
    size_t ni;
    struct series_matcher m = {SERIES_MATCH_EQ, "service", "s", NULL, NULL};
    assert_int_equal(series_select(f->s, r, &m, 1, T0 + 30 * SEC, T0 + 30 * SEC, &ids, &ni), 0);
    assert_int_equal(ni, 1);
    free(ids);
    assert_int_equal(series_select(f->s, r, &m, 1, T0 - HOUR, T0 - SEC, &ids, &ni), 0);
    assert_int_equal(ni, 0);
    mdb_txn_abort(r);
    /* An earlier now seals nothing new and is harmless. */
    flush_commit(f, T0);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 1, now), SERIES_ELATE);
}

/* Samples across many blocks: sealed blocks, the open block and open
 * buckets read back as one series; reopening changes nothing. */
static void test_blocks(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "llm_tokens_total"), L("type", "input")};
    struct series_label lc[] = {L("__name__", "llm_cost_usd_total")};
    uint64_t id = intern(f, l, 2), ic = intern(f, lc, 1);
    uint64_t rs = g_seed ^ 0xB10C;
    int64_t now = T0;
    double tok = 0, cost = 0;
    enum { STEPS = 5 * 360 }; /* 5 h of 10 s steps */
    static int64_t et[STEPS * 2];
    static double ev[STEPS * 2], ec[STEPS * 2];
    size_t ne = 0;
    int64_t last_t = INT64_MIN;
    for (int i = 0; i < STEPS; i++) {
        now += 10 * SEC;
        MDB_txn *t = wtxn(f);
        if (rng_below(&rs, 5)) { /* some buckets stay empty */
            int64_t te = now - 10 * SEC + (int64_t)rng_below(&rs, 10 * SEC);
            int64_t b = te / (10 * SEC) * (10 * SEC);
            double d = (double)rng_below(&rs, 5000), dc = d * 2.5e-6;
            assert_int_equal(series_add(f->s, id, te, d, now), 0);
            assert_int_equal(series_add(f->s, ic, te, dc, now), 0);
            if (last_t != b) { /* baseline */
                et[ne] = b;
                ev[ne] = tok;
                ec[ne++] = cost;
            }
            tok += d;
            cost += dc;
            et[ne] = b + 10 * SEC;
            ev[ne] = tok;
            ec[ne++] = cost;
            last_t = b + 10 * SEC;
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
        if (i == STEPS / 2)
            fx_reopen(f);
    }
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    expect_samples(o, n, et, ev, ne);
    free(o);
    n = readv(f, ic, INT64_MIN, INT64_MAX, SERIES_READ_AUTO, &o);
    expect_samples(o, n, et, ec, ne);
    free(o);
    /* Windows at random positions. */
    for (int k = 0; k < 50; k++) {
        int64_t a = T0 + (int64_t)rng_below(&rs, 6 * HOUR),
                b = a + (int64_t)rng_below(&rs, 2 * HOUR);
        size_t i0 = 0, i1;
        while (i0 < ne && et[i0] < a)
            i0++;
        for (i1 = i0; i1 < ne && et[i1] <= b; i1++)
            ;
        n = readv(f, id, a, b, SERIES_READ_RAW, &o);
        expect_samples(o, n, et + i0, ev + i0, i1 - i0);
        free(o);
    }
    /* Once everything is sealed, every sample is in a block. */
    flush_commit(f, now + HOUR);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_int_equal(st.series, 2);
    assert_true(st.blocks[0] >= 2 * 10 && st.blocks[0] <= 2 * 11);
    assert_int_equal(st.samples[0], 2 * ne);
    assert_int_equal(st.head_samples, 0);
    assert_int_equal(st.heads, 2);
    n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    expect_samples(o, n, et, ev, ne);
    free(o);
}

/* series_read_to with a sink laid out as the read's own samples (dense runs
 * copied in one go) against one with another layout (sample by sample):
 * random series with gaps, random ranges, every mode, with and without
 * FILL. LLMTAP_TEST_SEED replays. */
struct wide {
    double v;
    int64_t pad, t;
};

static void *alloc_wide(void *ud, size_t n)
{
    (void)ud;
    return calloc(n ? n : 1, sizeof(struct wide));
}

/* series_read_to's facts agree with a pass over what it returned. */
static void check_facts_tv(const int64_t *t, const double *v, size_t stride, size_t n,
                           const struct series_read_facts *f, uint64_t seed)
{
    size_t drops = 0, nans = 0;
    int asc = 1, even = n > 1;
    int64_t gap = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t *ti = (const int64_t *)((const char *)t + i * stride);
        const double *vi = (const double *)((const char *)v + i * stride);
        nans += isnan(*vi) != 0;
        if (i) {
            int64_t d = *ti - *(const int64_t *)((const char *)ti - stride);
            drops += *vi < *(const double *)((const char *)vi - stride);
            asc &= d > 0;
            gap = i == 1 ? d : gap;
            even &= d == gap;
        }
    }
    int64_t grid = even && gap > 0 ? gap : 0;
    if (f->drops != drops || f->nans != nans || f->ascending != asc || f->grid != grid)
        fail_msg("facts: drops %zu nans %zu ascending %d grid %lld, a pass says %zu %zu %d %lld "
                 "(seed %llu)",
                 f->drops, f->nans, f->ascending, (long long)f->grid, drops, nans, asc,
                 (long long)grid, (unsigned long long)seed);
}

static void check_facts(const void *p, size_t n, const struct series_read_facts *f, uint64_t seed)
{
    const struct series_sample *x = p;
    check_facts_tv(n ? &x->t_ms : NULL, n ? &x->v : NULL, sizeof *x, n, f, seed);
}

/* A sink that allocates or adopts the one array a read returns. */
struct held {
    void *mem;
};

static void *alloc_held(void *ud, size_t n)
{
    struct held *h = ud;
    return h->mem = malloc(n * sizeof(struct series_sample));
}

static int adopt_held(void *ud, void *mem)
{
    ((struct held *)ud)->mem = mem;
    return 0;
}

static void test_read_layouts(void **state)
{
    struct fx *f = *state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_read_layouts: seed %llu (LLMTAP_TEST_SEED replays)\n", (unsigned long long)seed);
    uint64_t rs = seed;
#define NEXT() (rs = rs * 6364136223846793005ull + 1442695040888963407ull, rs >> 33)
    struct series_label l[] = {L("__name__", "lay")};
    uint64_t id = intern(f, l, 1);
    int64_t t = T0, now = T0;
    double v = 0;
    for (int m = 0; m < 90; m++) { /* 90 minutes, a transaction a minute */
        MDB_txn *tx = wtxn(f);
        for (int k = 0; k < 12; k++) {
            t += (int64_t)(1 + NEXT() % 10) * SEC;
            if (NEXT() % 40 == 0)
                t += (int64_t)(NEXT() % 12) * MIN; /* a gap */
            if (NEXT() % 3)
                v += (double)(NEXT() % 5);
            now = t;
            assert_int_equal(series_add(f->s, id, t, v, now), 0);
        }
        assert_int_equal(series_flush(f->s, tx, now), 0);
        commit(tx);
    }
    static const struct series_sink wide = {
        alloc_wide, NULL, sizeof(struct wide), offsetof(struct wide, t), offsetof(struct wide, v),
        NULL};
    /* the same store through a series_db with the block cache (small
     * enough to evict), read into a sink that adopts the reader's array */
    struct series_opts co = f->o;
    co.cache_bytes = NEXT() % 2 ? 4096 : 1 << 20;
    struct series_db *cs = NULL;
    MDB_txn *ot = wtxn(f);
    assert_int_equal(series_open(ot, &co, &cs), 0);
    commit(ot);
    struct held hd = {0};
    const struct series_sink adopting = {alloc_held,
                                         &hd,
                                         sizeof(struct series_sample),
                                         offsetof(struct series_sample, t_ms),
                                         offsetof(struct series_sample, v),
                                         adopt_held};
    size_t total = 0;
    for (int r = 0; r < 300; r++) {
        uint64_t span = (uint64_t)((t - T0) / SEC + 600);
        int64_t a = T0 + (int64_t)(NEXT() % span) * SEC - 300 * SEC;
        int64_t b = a + (int64_t)(NEXT() % 7200) * SEC;
        unsigned flags = (unsigned)(NEXT() % 3);
        if (NEXT() % 4)
            flags |= SERIES_READ_FILL;
        struct series_sample *o = NULL;
        void *w = NULL;
        size_t n = 0, nw = 0;
        MDB_txn *tx = rtxn(f);
        assert_int_equal(series_read(f->s, tx, id, a, b, flags, &o, &n), 0);
        struct series_read_facts fw;
        assert_int_equal(series_read_to(f->s, tx, id, a, b, flags, &wide, &w, &nw, &fw), 0);
        for (int rep = 0; rep < 2; rep++) { /* a miss, then (mostly) hits */
            void *cw = NULL;
            size_t cn = 0;
            hd.mem = NULL;
            struct series_read_facts fc;
            assert_int_equal(series_read_to(cs, tx, id, a, b, flags, &adopting, &cw, &cn, &fc), 0);
            check_facts(cw, cn, &fc, seed);
            if (cn != n)
                fail_msg("cached [%lld, %lld] flags %u: %zu vs %zu samples (seed %llu)",
                         (long long)a, (long long)b, flags, cn, n, (unsigned long long)seed);
            const struct series_sample *cx = cw;
            for (size_t i = 0; i < n; i++)
                if (o[i].t_ms != cx[i].t_ms || memcmp(&o[i].v, &cx[i].v, sizeof(double)) != 0)
                    fail_msg("cached sample %zu differs (seed %llu)", i, (unsigned long long)seed);
            free(hd.mem);
        }
        mdb_txn_abort(tx);
        if (n != nw)
            fail_msg("[%lld, %lld] flags %u: %zu vs %zu samples (seed %llu)", (long long)a,
                     (long long)b, flags, n, nw, (unsigned long long)seed);
        const struct wide *x = w;
        check_facts_tv(n ? &x->t : NULL, n ? &x->v : NULL, sizeof *x, n, &fw, seed);
        for (size_t i = 0; i < n; i++)
            if (o[i].t_ms != x[i].t || memcmp(&o[i].v, &x[i].v, sizeof(double)) != 0)
                fail_msg("sample %zu differs (seed %llu)", i, (unsigned long long)seed);
        total += n;
        free(o);
        free(w);
    }
#undef NEXT
    series_close(cs);
    assert_true(total > 1000);
}

/* Reads through the cache's whole chunks (blocks every bucket of which is
 * sealed, read as one entry) agree with uncached reads while the store
 * grows (chunks complete under blocks already cached one by one), while
 * retention deletes from the front (an entry built before keeps samples
 * that readers must filter out) and across a reopen of the cached
 * series_db. Short blocks (1 minute) so that chunks complete quickly. */
static void test_chunks(void **state)
{
    (void)state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_chunks: seed %llu (LLMTAP_TEST_SEED replays)\n", (unsigned long long)seed);
    uint64_t rs = seed;
#define NEXT() (rs = rs * 6364136223846793005ull + 1442695040888963407ull, rs >> 33)
    struct fx *f = fx_new(&(struct series_opts){.span_ms = MIN,
                                                .ds_res_ms = MIN,
                                                .late_ms = MIN,
                                                .ds_span_ms = HOUR,
                                                .downsample_after_ms = 10 * MIN,
                                                .raw_retention_ms = 3 * HOUR});
    fx_open(f);
    struct series_label l1[] = {L("__name__", "ch"), L("k", "1")};
    struct series_label l2[] = {L("__name__", "ch"), L("k", "2")};
    uint64_t ids[2] = {intern(f, l1, 2), intern(f, l2, 2)};
    struct series_opts co = f->o;
    co.cache_bytes = NEXT() % 3 == 0 ? 4096 : NEXT() % 2 ? (size_t)1 << 20 : (size_t)64 << 20;
    struct series_db *cs = NULL;
    MDB_txn *ot = wtxn(f);
    assert_int_equal(series_open(ot, &co, &cs), 0);
    commit(ot);
    int64_t now = T0, t[2] = {T0, T0};
    double v[2] = {0, 0};
    size_t reads = 0, samples = 0;
    struct held hd = {0};
    /* half the time handing over the read's own array */
    const struct series_sink chunk_sink = {alloc_held,
                                           &hd,
                                           sizeof(struct series_sample),
                                           offsetof(struct series_sample, t_ms),
                                           offsetof(struct series_sample, v),
                                           NEXT() % 2 ? adopt_held : NULL};
    for (int m = 1; m <= 10 * 60; m++) { /* 10 hours, a transaction a minute */
        int64_t end = T0 + (int64_t)m * MIN;
        MDB_txn *tx = wtxn(f);
        for (int i = 0; i < 2; i++) /* 1: irregular; 2: a sample every 10 s, as a busy
                                     * series has (the reader's dense case) */
            while (t[i] + 20 * SEC <= end) {
                t[i] += i ? 10 * SEC : (int64_t)(1 + NEXT() % 20) * SEC;
                if (NEXT() % (i ? 400 : 60) == 0)
                    t[i] += (int64_t)(NEXT() % 40) * MIN;                  /* a gap */
                v[i] = NEXT() % 50 == 0 ? 0 : v[i] + (double)(NEXT() % 5); /* some resets */
                if (t[i] <= end)
                    assert_int_equal(series_add(f->s, ids[i], t[i], v[i], end), 0);
            }
        now = end;
        assert_int_equal(series_flush(f->s, tx, now), 0);
        if (m % 10 == 0) {
            assert_int_equal(series_downsample(f->s, tx, now, 1000, NULL), 0);
            assert_int_equal(series_retention(f->s, tx, now, 1000, NULL), 0);
        }
        commit(tx);
        if (m == 300) { /* the cache's db reopened: its cache starts empty */
            series_close(cs);
            cs = NULL;
            ot = wtxn(f);
            assert_int_equal(series_open(ot, &co, &cs), 0);
            commit(ot);
        }
        if (m % 15)
            continue;
        for (int r = 0; r < 12; r++) {
            uint64_t id = ids[NEXT() % 2];
            int64_t a = now - (int64_t)(NEXT() % (4 * 3600)) * SEC;
            int64_t b = a + (int64_t)(NEXT() % (3 * 3600)) * SEC;
            unsigned flags = (unsigned)(NEXT() % 2) ? SERIES_READ_RAW : SERIES_READ_AUTO;
            if (NEXT() % 3)
                flags |= SERIES_READ_FILL;
            struct series_sample *o = NULL, *c = NULL;
            size_t n = 0, cn = 0;
            MDB_txn *rx = rtxn(f);
            assert_int_equal(series_read(f->s, rx, id, a, b, flags, &o, &n), 0);
            for (int rep = 0; rep < 2; rep++) { /* a miss, then (mostly) a hit */
                struct series_read_facts fc;
                void *cv = NULL;
                hd.mem = NULL;
                assert_int_equal(
                    series_read_to(cs, rx, id, a, b, flags, &chunk_sink, &cv, &cn, &fc), 0);
                c = cv;
                check_facts(c, cn, &fc, seed);
                if (cn != n)
                    fail_msg("minute %d [%lld, %lld] flags %u: %zu vs %zu samples (seed %llu)", m,
                             (long long)a, (long long)b, flags, cn, n, (unsigned long long)seed);
                for (size_t i = 0; i < n; i++)
                    if (o[i].t_ms != c[i].t_ms || memcmp(&o[i].v, &c[i].v, sizeof(double)) != 0)
                        fail_msg("minute %d: sample %zu differs (seed %llu)", m, i,
                                 (unsigned long long)seed);
                free(hd.mem);
            }
            mdb_txn_abort(rx);
            samples += n;
            reads++;
            free(o);
        }
    }
#undef NEXT
    struct series_cache_stats st;
    series_cache_stats(cs, &st);
    printf("test_chunks: %zu reads, %zu samples; cache %llu hits, %llu misses\n", reads, samples,
           (unsigned long long)st.hits, (unsigned long long)st.misses);
    assert_true(samples > 10000 && st.hits > 0);
    series_close(cs);
    fx_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

/* FILL repeats a held value on the grid for stale_ms after each change. */
static void test_fill(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "c")};
    uint64_t id = intern(f, l, 1);
    MDB_txn *t = wtxn(f);
    int64_t now = T0 + 20 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 5 * SEC, 1, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 10 * MIN + 5 * SEC, 2, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    struct series_sample *o;
    size_t n = readv(f, id, T0, T0 + 30 * MIN, SERIES_READ_RAW | SERIES_READ_FILL, &o);
    /* T0 (0), T0+10s (1), then 1 held every 10 s up to +5 min after the
     * change (T0+5m10s), a gap, baseline 1 at T0+10m, 3 at T0+10m10s, held
     * to T0+15m10s. */
    size_t k = 0;
    assert_int_equal(o[k].t_ms, T0);
    assert_true(o[k++].v == 0);
    for (int64_t tt = T0 + 10 * SEC; tt <= T0 + 5 * MIN + 10 * SEC; tt += 10 * SEC, k++) {
        assert_int_equal(o[k].t_ms, tt);
        assert_true(o[k].v == 1);
    }
    for (int64_t tt = T0 + 10 * MIN; tt <= T0 + 15 * MIN + 10 * SEC; tt += 10 * SEC, k++) {
        assert_int_equal(o[k].t_ms, tt);
        assert_true(o[k].v == (tt == T0 + 10 * MIN ? 1 : 3));
    }
    assert_int_equal(n, k);
    free(o);
    /* A range starting inside a held stretch begins with the held value. */
    n = readv(f, id, T0 + 2 * MIN, T0 + 2 * MIN + 20 * SEC, SERIES_READ_FILL, &o);
    assert_int_equal(n, 3);
    assert_int_equal(o[0].t_ms, T0 + 2 * MIN);
    assert_true(o[0].v == 1 && o[2].v == 1);
    free(o);
    /* Not beyond the writer's now, which only moves forward. */
    t = wtxn(f);
    now = T0 + 11 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 10 * MIN + 15 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 16 * MIN, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 + 16 * MIN + 10 * SEC, T0 + 30 * MIN, SERIES_READ_FILL, &o);
    assert_int_equal(n, 24); /* 16m10s .. 20m: the stored now stays T0+20m */
    assert_int_equal(o[n - 1].t_ms, T0 + 20 * MIN);
    assert_true(o[n - 1].v == 4);
    free(o);
    /* The horizon: nothing is filled past the writer's now. */
    t = wtxn(f);
    now = T0 + 40 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 39 * MIN, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 + 39 * MIN, T0 + HOUR, SERIES_READ_FILL, &o);
    assert_int_equal(o[n - 1].t_ms, T0 + 40 * MIN);
    free(o);
}

/* ---- downsampling and retention ----------------------------------------- */

/* Value of a counter at time T from the raw samples (the held value). */
static double held(const struct series_sample *r, size_t n, int64_t T, int *found)
{
    double v = 0;
    *found = 0;
    for (size_t i = 0; i < n && r[i].t_ms <= T; i++) {
        v = r[i].v;
        *found = 1;
    }
    return v;
}

static void test_downsample_retention(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    f->o.raw_retention_ms = 2 * 86400000LL;
    f->o.ds_retention_ms = 4 * 86400000LL;
    fx_open(f);
    /* A counter and a histogram's buckets, 3 days, bursts with gaps. */
    static const char *const les[] = {"0.5", "1", "5", "+Inf"};
    static const double lev[] = {0.5, 1, 5, INFINITY};
    struct series_label lr[] = {L("__name__", "llm_requests_total"), L("service", "a")};
    uint64_t ids[5];
    ids[0] = intern(f, lr, 2);
    for (int i = 0; i < 4; i++) {
        struct series_label lb[] = {L("__name__", "llm_request_duration_seconds_bucket"),
                                    L("service", "a"), L("le", les[i])};
        ids[i + 1] = intern(f, lb, 3);
    }
    uint64_t rs = g_seed ^ 0xD5;
    int64_t now = T0;
    for (int64_t step = 0; step < 3 * 8640; step++) {
        now += 10 * SEC;
        MDB_txn *t = wtxn(f);
        int64_t phase = (step / 60) % 7; /* 10-minute bursts and pauses */
        if (phase < 4 && rng_below(&rs, 3)) {
            int64_t te = now - (int64_t)rng_below(&rs, 2 * MIN); /* within the late window */
            double lat = rng_unit(&rs) * 8;
            assert_int_equal(series_add(f->s, ids[0], te, 1, now), 0);
            for (int i = 0; i < 4; i++)
                assert_int_equal(series_add(f->s, ids[i + 1], te, lat <= lev[i] ? 1 : 0, now), 0);
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
    }
    /* Before downsampling: keep the full-resolution truth and the
     * on-the-fly downsampled view. */
    struct series_sample *raw[5], *fly[5];
    size_t nraw[5], nfly[5];
    for (int i = 0; i < 5; i++) {
        nraw[i] = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &raw[i]);
        nfly[i] = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_DS, &fly[i]);
        assert_true(nraw[i] > 1000);
        /* Every 5 m point is the raw value held at its time. */
        for (size_t j = 0; j < nfly[i]; j++) {
            int found;
            double v = held(raw[i], nraw[i], fly[i][j].t_ms, &found); /* 0 before the first */
            if (v != fly[i][j].v)
                fail_msg("series %d point %zu at %lld: %g, raw %g", i, j, (long long)fly[i][j].t_ms,
                         fly[i][j].v, v);
            assert_int_equal(fly[i][j].t_ms % (5 * MIN), 0);
            if (j)
                assert_true(fly[i][j].t_ms > fly[i][j - 1].t_ms);
        }
        /* ... and every 5 minutes with a raw sample has a point. */
        for (size_t j = 0, k = 0; j < nraw[i]; j++) {
            int64_t T = (raw[i][j].t_ms + 5 * MIN - 1) / (5 * MIN) * (5 * MIN);
            while (k < nfly[i] && fly[i][k].t_ms < T)
                k++;
            assert_true(k < nfly[i] && fly[i][k].t_ms == T);
        }
    }
    /* Downsample in small steps, in separate transactions. */
    int more = 1, calls = 0;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_downsample(f->s, t, now, 3, &more), 0);
        commit(t);
        calls++;
    }
    assert_true(calls > 5);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_true(st.ds_done_ms >= now - 13 * HOUR - 12 * HOUR);
    assert_true(st.blocks[1] > 0);
    /* Stored + on the fly == on the fly before. */
    for (int i = 0; i < 5; i++) {
        struct series_sample *d;
        size_t n = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_DS, &d);
        int64_t et[20000];
        double ev[20000];
        assert_true(nfly[i] <= 20000);
        for (size_t j = 0; j < nfly[i]; j++) {
            et[j] = fly[i][j].t_ms;
            ev[j] = fly[i][j].v;
        }
        expect_samples(d, n, et, ev, nfly[i]);
        free(d);
    }
    /* Retention: 2 d of raw, 4 d of ds. At now + 1 d, raw before ~now-1d goes. */
    int64_t later = now + 86400000LL;
    more = 1;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_downsample(f->s, t, later, 1000, NULL), 0);
        assert_int_equal(series_retention(f->s, t, later, 7, &more), 0);
        commit(t);
    }
    r = rtxn(f);
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_true(st.raw_from_ms != INT64_MIN);
    assert_true(st.raw_from_ms <= st.ds_done_ms);
    assert_true(st.raw_from_ms > T0);
    for (int i = 0; i < 5; i++) {
        struct series_sample *a, *rr;
        size_t n = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_AUTO, &a);
        size_t nr = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &rr);
        /* raw: exactly the raw samples after raw_from */
        size_t j0 = 0;
        while (j0 < nraw[i] && raw[i][j0].t_ms <= st.raw_from_ms)
            j0++;
        assert_int_equal(nr, nraw[i] - j0);
        assert_memory_equal(rr, raw[i] + j0, nr * sizeof *rr);
        /* auto: ds up to raw_from, raw after */
        size_t k = 0, j0d = 0;
        while (j0d < nfly[i] && st.ds_from_ms != INT64_MIN && fly[i][j0d].t_ms <= st.ds_from_ms)
            j0d++;
        for (size_t j = j0d; j < nfly[i] && fly[i][j].t_ms <= st.raw_from_ms; j++, k++) {
            assert_int_equal(a[k].t_ms, fly[i][j].t_ms);
            assert_true(a[k].v == fly[i][j].v);
        }
        assert_int_equal(n - k, nr);
        assert_memory_equal(a + k, rr, nr * sizeof *rr);
        free(a);
        free(rr);
    }
    /* Far later: everything is past retention and the series go. */
    int64_t much_later = now + 10 * 86400000LL;
    more = 1;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_flush(f->s, t, much_later), 0);
        assert_int_equal(series_downsample(f->s, t, much_later, 1000, NULL), 0);
        assert_int_equal(series_retention(f->s, t, much_later, 50, &more), 0);
        commit(t);
    }
    r = rtxn(f);
    assert_int_equal(series_stats(f->s, r, &st), 0);
    assert_int_equal(st.series, 0);
    assert_int_equal(st.blocks[0] + st.blocks[1] + st.heads, 0);
    uint64_t *sel, cnt;
    size_t ns;
    assert_int_equal(series_select(f->s, r, NULL, 0, INT64_MIN, INT64_MAX, &sel, &ns), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(series_count(f->s, r, "llm_requests_total", &cnt), 0);
    assert_int_equal(cnt, 0);
    char **names;
    assert_int_equal(series_label_names(f->s, r, NULL, 0, INT64_MIN, INT64_MAX, &names, &ns), 0);
    assert_int_equal(ns, 0);
    uint64_t idx;
    assert_int_equal(series_lookup(f->s, r, lr, 2, &idx), SERIES_ENOTFOUND);
    mdb_txn_abort(r);
    assert_int_equal(series_add(f->s, ids[0], much_later, 1, much_later), SERIES_ENOTFOUND);
    /* Interning again gives a new id. */
    assert_true(intern(f, lr, 2) > ids[4]);
    for (int i = 0; i < 5; i++) {
        free(raw[i]);
        free(fly[i]);
    }
}

/* ---- crash and rollback ------------------------------------------------- */

static void test_abort_reload(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "c")};
    uint64_t id = intern(f, l, 1);
    int64_t now = T0 + MIN;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0, 5, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    /* A batch that aborts: a delta, a new series, a flush that seals. */
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 7, now), 0);
    struct series_label l2[] = {L("__name__", "d")};
    uint64_t id2;
    assert_int_equal(series_id(f->s, t, l2, 1, &id2), 0);
    assert_int_equal(series_add(f->s, id2, T0, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, T0 + HOUR), 0);
    mdb_txn_abort(t);
    t = rtxn(f);
    assert_int_equal(series_reload(f->s, t), 0);
    mdb_txn_abort(t);
    /* Back to the committed state: the late window is open again. */
    assert_int_equal(series_add(f->s, id2, T0, 1, now), SERIES_ENOTFOUND);
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), 0);
    uint64_t id3;
    assert_int_equal(series_id(f->s, t, l2, 1, &id3), 0);
    assert_int_equal(id3, id2); /* the aborted id is handed out again */
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    int64_t et[] = {T0 - 10 * SEC, T0 + 10 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
    double ev[] = {0, 5, 5, 6};
    /* T0 is a bucket start: bucket T0 has its sample at T0+10s, baseline at T0 */
    et[0] = T0;
    expect_samples(o, n, et, ev, 4);
    free(o);
    /* A write failure (map full) sets the reload flag. */
    fx_close(f);
    f->map = 1 << 20; /* 1 MiB */
    fx_open(f);
    t = wtxn(f);
    int rc = 0;
    char v[16];
    for (int i = 0; i < 100000 && rc == 0; i++) {
        snprintf(v, sizeof v, "%d", i);
        struct series_label lm[] = {L("__name__", "many"), L("i", v)};
        uint64_t x;
        rc = series_id(f->s, t, lm, 2, &x);
    }
    assert_int_equal(rc, MDB_MAP_FULL);
    mdb_txn_abort(t);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), SERIES_ERELOAD);
    t = wtxn(f);
    assert_int_equal(series_flush(f->s, t, now), SERIES_ERELOAD);
    assert_int_equal(series_reload(f->s, t), 0);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    f->map = 0;
}

/* A writer process killed between commits: on reopen, exactly what was
 * committed is there, open buckets included. */
static void test_crash(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct series_db *s;
        MDB_env *env;
        MDB_txn *t;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
            mdb_env_open(env, f->dir, MDB_NOTLS | MDB_NOSYNC, 0640) ||
            mdb_txn_begin(env, NULL, 0, &t) || series_open(t, NULL, &s) || mdb_txn_commit(t))
            _exit(2);
        struct series_label l[] = {L("__name__", "c"), L("k", "v")};
        uint64_t id;
        for (int b = 0; b < 100; b++) {
            int64_t now = T0 + b * 7 * SEC;
            if (mdb_txn_begin(env, NULL, 0, &t) || series_id(s, t, l, 2, &id) ||
                series_add(s, id, now - 3 * SEC, 1 + b % 3, now) || series_flush(s, t, now) ||
                mdb_txn_commit(t))
                _exit(3);
        }
        /* A batch in flight when the process dies. */
        if (mdb_txn_begin(env, NULL, 0, &t) ||
            series_add(s, id, T0 + 700 * SEC, 1000, T0 + 700 * SEC) ||
            series_flush(s, t, T0 + 2 * HOUR))
            _exit(4);
        _exit(0); /* no commit, no close */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fx_open(f);
    struct series_label l[] = {L("__name__", "c"), L("k", "v")};
    uint64_t id;
    MDB_txn *r = rtxn(f);
    assert_int_equal(series_lookup(f->s, r, l, 2, &id), 0);
    struct series_info info;
    assert_int_equal(series_info(f->s, r, id, &info), 0);
    mdb_txn_abort(r);
    double total = 0;
    for (int b = 0; b < 100; b++)
        total += 1 + b % 3;
    assert_true(info.value == total);
    assert_true(info.open_buckets > 0); /* the head survived */
    /* The late window continues where the committed flush left it. */
    int64_t now = T0 + 99 * 7 * SEC;
    assert_int_equal(series_add(f->s, id, now - 4 * MIN, 1, now), 0);
    flush_commit(f, now);
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    assert_true(n > 50);
    for (size_t i = 1; i < n; i++)
        assert_true(o[i].t_ms > o[i - 1].t_ms && o[i].v >= o[i - 1].v);
    assert_true(o[n - 1].v == total + 1);
    free(o);
}

/* ---- concurrent readers ------------------------------------------------- */

struct conc {
    struct fx *f;
    atomic_int stop;
    atomic_long reads;
    uint64_t ids[8];
};

static void *reader(void *arg)
{
    struct conc *c = arg;
    while (!atomic_load(&c->stop)) {
        MDB_txn *t;
        if (mdb_txn_begin(c->f->env, NULL, MDB_RDONLY, &t))
            abort();
        struct series_matcher m = {SERIES_MATCH_EQ, "__name__", "c", NULL, NULL};
        uint64_t *ids;
        size_t n;
        if (series_select(c->f->s, t, &m, 1, INT64_MIN, INT64_MAX, &ids, &n))
            abort();
        double sum = 0, sum_info = 0;
        for (size_t i = 0; i < n; i++) {
            struct series_sample *o;
            size_t k;
            struct series_info info;
            if (series_read(c->f->s, t, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o, &k) ||
                series_info(c->f->s, t, ids[i], &info))
                abort();
            for (size_t j = 1; j < k; j++)
                if (o[j].t_ms <= o[j - 1].t_ms || o[j].v < o[j - 1].v)
                    abort();
            if (k)
                sum += o[k - 1].v;
            sum_info += info.value;
            free(o);
        }
        /* One snapshot: every batch adds 1 to each of the 8 series. */
        if (sum != sum_info || (n && fmod(sum, 8) != 0))
            abort();
        free(ids);
        mdb_txn_abort(t);
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *f = *state;
    struct conc c = {.f = f};
    for (int i = 0; i < 8; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        struct series_label l[] = {L("__name__", "c"), L("i", v)};
        c.ids[i] = intern(f, l, 2);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &c), 0);
    int64_t now = T0;
    for (int b = 0; b < 1500 || atomic_load(&c.reads) < 20; b++) {
        now += 3 * SEC;
        MDB_txn *t = wtxn(f);
        for (int i = 0; i < 8; i++)
            assert_int_equal(series_add(f->s, c.ids[i], now - 2 * SEC, 1, now), 0);
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
        if (b % 200 == 0) {
            t = wtxn(f);
            assert_int_equal(series_downsample(f->s, t, now, 100, NULL), 0);
            commit(t);
        }
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    print_message("    %ld consistent snapshot reads during 1500 batches\n",
                  (long)atomic_load(&c.reads));
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_series: seed %llu (set LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_and_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_regression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_layouts, setup, teardown),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test_setup_teardown(test_downsample_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
