/*
 * test_series_model.c — unit tests for storage/series.c against a naive
 * model (random events, late and future ones, aborted batches, reopens,
 * downsampling and retention, checked against the documented rules), and
 * the size figures quoted in docs/storage.md (24 h of 10 s data for ~100
 * series from a simulated event stream). The fixture is series_testfx.h.
 *
 * Each test gets its own LMDB environment in a fresh mkdtemp() directory,
 * removed after. Random tests print their seed; set LLMTAP_TEST_SEED to
 * replay a run.
 */
#include "series_testfx.h"

#include <math.h>
#include <zstd.h>

/* ---- randomized test against a naive model ------------------------------ */

/* The model keeps, per label set, the committed deltas per bucket; it
 * derives samples from the documented rules stated as sets, not as the
 * streaming code does. */
#define RM_SERIES  12
#define RM_BUCKETS 4096

struct mseries {
    uint64_t id; /* 0 = not interned */
    int64_t b[RM_BUCKETS];
    double d[RM_BUCKETS];
    size_t n;
};

struct model {
    struct mseries s[RM_SERIES];
    int64_t sealed; /* bucket index; INT64_MIN */
};

struct msample {
    int64_t t, blk_day;
    double v;
};

static const struct series_opts RM_OPTS = {
    .res_ms = 1000,
    .span_ms = 20000,
    .ds_res_ms = 5000,
    .ds_span_ms = 60000,
    .late_ms = 15000,
    .future_ms = 10000,
    .downsample_after_ms = 5000,
    .raw_retention_ms = 120000,
    .ds_retention_ms = 240000,
    .stale_ms = 8000,
};

static void m_add(struct mseries *m, int64_t b, double d)
{
    size_t i = 0;
    while (i < m->n && m->b[i] < b)
        i++;
    if (i < m->n && m->b[i] == b) {
        m->d[i] += d;
        return;
    }
    assert_true(m->n < RM_BUCKETS);
    memmove(m->b + i + 1, m->b + i, (m->n - i) * sizeof *m->b);
    memmove(m->d + i + 1, m->d + i, (m->n - i) * sizeof *m->d);
    m->b[i] = b;
    m->d[i] = d;
    m->n++;
}

/* Raw samples: each bucket with deltas gives (end, cumulative value);
 * a bucket whose predecessor has no sample gets a baseline at its start. */
static size_t m_raw(const struct mseries *m, struct msample *out)
{
    const int64_t R = RM_OPTS.res_ms, N = RM_OPTS.span_ms / R, DSPAN = RM_OPTS.ds_span_ms;
    size_t k = 0;
    double c = 0;
    for (size_t i = 0; i < m->n; i++) {
        int64_t b = m->b[i], day = (b / N) * N * R / DSPAN * DSPAN;
        if (i == 0 || m->b[i - 1] != b - 1)
            out[k++] = (struct msample){b * R, day, c};
        c += m->d[i];
        out[k++] = (struct msample){(b + 1) * R, day, c};
    }
    return k;
}

/* Downsampled: a point at the end of every 5 s with a raw sample, holding
 * the last raw value; a baseline before it when the 5 s before have none,
 * unless that baseline would fall before the ds span of its first sample. */
static size_t m_ds(const struct msample *r, size_t n, struct msample *out)
{
    const int64_t DS = RM_OPTS.ds_res_ms;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int64_t g = (r[i].t + DS - 1) / DS;
        size_t j = i;
        while (j + 1 < n && (r[j + 1].t + DS - 1) / DS == g)
            j++;
        int prev = k > 0 && out[k - 1].t == (g - 1) * DS;
        if (!prev && (g - 1) * DS >= r[i].blk_day)
            out[k++] = (struct msample){(g - 1) * DS, 0, r[i].v};
        out[k++] = (struct msample){g * DS, 0, r[j].v};
        i = j + 1;
    }
    return k;
}

static int g_gc_with_data; /* series removed by retention after having samples */

static void m_check(struct fx *f, struct model *m, int iter)
{
    static struct msample raw[2 * RM_BUCKETS + 2], ds[4 * RM_BUCKETS + 4];
    MDB_txn *t = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, t, &st), 0);
    for (int i = 0; i < RM_SERIES; i++) {
        struct mseries *ms = &m->s[i];
        if (!ms->id)
            continue;
        struct series_sample *o;
        size_t n;
        int rc = series_read(f->s, t, ms->id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o, &n);
        size_t nr = m_raw(ms, raw);
        if (rc == SERIES_ENOTFOUND) { /* retention removed it: every sample was past it */
            int64_t lim = st.raw_from_ms < st.ds_from_ms ? st.raw_from_ms : st.ds_from_ms;
            if (nr &&
                (st.raw_from_ms == INT64_MIN || st.ds_from_ms == INT64_MIN || raw[nr - 1].t > lim))
                fail_msg("seed %llu iter %d: series %d removed with samples up to %lld",
                         (unsigned long long)g_seed, iter, i, (long long)raw[nr - 1].t);
            g_gc_with_data += nr > 0;
            ms->id = 0;
            ms->n = 0;
            continue;
        }
        assert_int_equal(rc, 0);
        size_t j = 0;
        while (j < nr && st.raw_from_ms != INT64_MIN && raw[j].t <= st.raw_from_ms)
            j++;
        if (n != nr - j)
            fail_msg("seed %llu iter %d series %d: %zu raw samples, model %zu",
                     (unsigned long long)g_seed, iter, i, n, nr - j);
        for (size_t k = 0; k < n; k++)
            if (o[k].t_ms != raw[j + k].t || o[k].v != raw[j + k].v)
                fail_msg("seed %llu iter %d series %d raw %zu: (%lld, %.17g) model (%lld, %.17g)",
                         (unsigned long long)g_seed, iter, i, k, (long long)o[k].t_ms, o[k].v,
                         (long long)raw[j + k].t, raw[j + k].v);
        free(o);
        size_t nd = m_ds(raw, nr, ds);
        assert_int_equal(series_read(f->s, t, ms->id, INT64_MIN, INT64_MAX, SERIES_READ_DS, &o, &n),
                         0);
        j = 0;
        while (j < nd && st.ds_from_ms != INT64_MIN && ds[j].t <= st.ds_from_ms)
            j++;
        if (n != nd - j) {
            for (size_t k = 0; k < n; k++)
                print_message("  ds[%zu] (%lld, %g)\n", k, (long long)o[k].t_ms, o[k].v);
            for (size_t k = j; k < nd; k++)
                print_message("  model[%zu] (%lld, %g)\n", k, (long long)ds[k].t, ds[k].v);
            fail_msg("seed %llu iter %d series %d: %zu ds points, model %zu (done %lld)",
                     (unsigned long long)g_seed, iter, i, n, nd - j, (long long)st.ds_done_ms);
        }
        for (size_t k = 0; k < n; k++)
            if (o[k].t_ms != ds[j + k].t || o[k].v != ds[j + k].v)
                fail_msg("seed %llu iter %d series %d ds %zu: (%lld, %.17g) model (%lld, %.17g)",
                         (unsigned long long)g_seed, iter, i, k, (long long)o[k].t_ms, o[k].v,
                         (long long)ds[j + k].t, ds[j + k].v);
        free(o);
    }
    mdb_txn_abort(t);
}

static void test_random_model(void **state)
{
    (void)state;
    struct fx *f = fx_new(&RM_OPTS); /* its own grid: a fresh environment */
    fx_open(f);
    uint64_t rs = g_seed ^ 0x4D0DE1;
    print_message("    seed %llu (LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    struct model *m = calloc(1, sizeof *m);
    struct model *batch = calloc(1, sizeof *batch); /* the batch in progress */
    assert_non_null(m);
    assert_non_null(batch);
    m->sealed = INT64_MIN;
    const int64_t R = RM_OPTS.res_ms;
    int64_t now = 100 * 86400000LL; /* times near 0 are fine too, but be realistic */
    int aborts = 0, reopens = 0, late = 0, future = 0, regone = 0;
    for (int iter = 0; iter < 700; iter++) {
        now += 1 + (int64_t)rng_below(&rs, 4000);
        MDB_txn *t = wtxn(f);
        *batch = *m;
        int hot = (int)rng_below(&rs, RM_SERIES); /* some series go quiet for a while */
        int nev = (int)rng_below(&rs, 8);
        for (int e = 0; e < nev; e++) {
            int i = rng_below(&rs, 3) ? hot : (int)rng_below(&rs, RM_SERIES);
            if ((iter / 250) % 2 && i % 3 == 0)
                continue;
            struct mseries *ms = &batch->s[i];
            if (!ms->id) {
                char v[8];
                snprintf(v, sizeof v, "%d", i);
                struct series_label l[] = {L("__name__", "m"), L("i", v)};
                assert_int_equal(series_id(f->s, t, l, 2, &ms->id), 0);
            }
            int64_t te = now - 20000 + (int64_t)rng_below(&rs, 32000);
            if (te < 0)
                te = 0;
            double d = rng_below(&rs, 4) ? (double)rng_below(&rs, 100) : rng_unit(&rs);
            int rc = series_add(f->s, ms->id, te, d, now);
            if (rc == SERIES_ENOTFOUND) { /* retention removed it; its samples were all past it */
                struct series_stats st;
                static struct msample raw[2 * RM_BUCKETS + 2];
                assert_int_equal(series_stats(f->s, t, &st), 0);
                size_t nr = m_raw(ms, raw);
                g_gc_with_data += nr > 0;
                if (nr) /* a series that never had a sample may go at any time */
                    assert_true(st.raw_from_ms != INT64_MIN && st.ds_from_ms != INT64_MIN &&
                                raw[nr - 1].t <= st.raw_from_ms && raw[nr - 1].t <= st.ds_from_ms);
                char v[8];
                snprintf(v, sizeof v, "%d", i);
                struct series_label l[] = {L("__name__", "m"), L("i", v)};
                assert_int_equal(series_id(f->s, t, l, 2, &ms->id), 0);
                ms->n = 0;
                regone++;
                rc = series_add(f->s, ms->id, te, d, now);
            }
            int64_t b = te / R;
            if (te > now + RM_OPTS.future_ms) {
                assert_int_equal(rc, SERIES_EFUTURE);
                future++;
            } else if (batch->sealed != INT64_MIN && b < batch->sealed) {
                assert_int_equal(rc, SERIES_ELATE);
                late++;
            } else {
                if (rc)
                    fail_msg("seed %llu iter %d: add %s", (unsigned long long)g_seed, iter,
                             series_strerror(rc));
                m_add(ms, b, d);
            }
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        int64_t ns = (now - RM_OPTS.late_ms) / R;
        if (batch->sealed == INT64_MIN || ns > batch->sealed)
            batch->sealed = ns;
        if (rng_below(&rs, 4) == 0)
            assert_int_equal(series_downsample(f->s, t, now, 1 + rng_below(&rs, 5), NULL), 0);
        if (rng_below(&rs, 4) == 0)
            assert_int_equal(series_retention(f->s, t, now, 1 + rng_below(&rs, 20), NULL), 0);
        if (rng_below(&rs, 20) == 0) { /* the batch fails: nothing of it stays */
            mdb_txn_abort(t);
            t = rtxn(f);
            assert_int_equal(series_reload(f->s, t), 0);
            mdb_txn_abort(t);
            aborts++;
        } else {
            commit(t);
            *m = *batch;
        }
        if (rng_below(&rs, 50) == 0) {
            fx_reopen(f);
            reopens++;
        }
        if (iter % 25 == 0 || iter == 699)
            m_check(f, m, iter);
    }
    print_message("    700 batches: %d aborted, %d reopens, %d late and %d future deltas refused, "
                  "%d series re-created after retention (%d removed with samples)\n",
                  aborts, reopens, late, future, regone, g_gc_with_data);
    free(m);
    free(batch);
    fx_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

/* ---- size: 24 h x ~100 series from a simulated event stream -------------- */

struct simseries {
    uint64_t id;
};

static void test_bytes_per_sample(void **state)
{
    struct fx *f = *state;
    uint64_t rs = g_seed ^ 0x5A3B;
    static const char *const dur_le[] = {"0.25", "0.5", "1",  "2",  "3",  "5",
                                         "8",    "13",  "21", "30", "60", "+Inf"};
    static const double dur_v[] = {0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 30, 60, INFINITY};
    static const char *const tok_le[] = {"64",    "128",    "256",  "512",   "1024",
                                         "2048",  "4096",   "8192", "16384", "32768",
                                         "65536", "131072", "+Inf"};
    static const double tok_v[] = {64,   128,   256,   512,   1024,   2048,    4096,
                                   8192, 16384, 32768, 65536, 131072, INFINITY};
    static const char *const types[] = {"input", "output", "cached_input", "cache_write",
                                        "reasoning"};
    static const char *const combos[][2] = {{"support-bot", "gpt-4o-mini"},
                                            {"search", "claude-3-5-haiku"}};
    enum { NC = 2, PER = 1 + 5 + 1 + 14 + 14 + 15 };
    uint64_t id[NC][PER];
    MDB_txn *t = wtxn(f);
    for (int c = 0; c < NC; c++) {
        int k = 0;
        struct series_label base[] = {L("service", combos[c][0]), L("env", "prod"),
                                      L("provider", "openai"),    L("model", combos[c][1]),
                                      L("operation", "chat"),     L("status_class", "2xx")};
        struct series_label l[9];
        memcpy(l, base, sizeof base);
#define MK(nm, extra_n, extra_v)                                                                   \
    do {                                                                                           \
        size_t n_ = 6;                                                                             \
        l[n_++] = L("__name__", nm);                                                               \
        if (extra_n)                                                                               \
            l[n_++] = L(extra_n, extra_v);                                                         \
        assert_int_equal(series_id(f->s, t, l, n_, &id[c][k++]), 0);                               \
    } while (0)
        MK("llm_requests_total", NULL, NULL);
        for (int i = 0; i < 5; i++)
            MK("llm_tokens_total", "type", types[i]);
        MK("llm_cost_usd_total", NULL, NULL);
        for (int i = 0; i < 12; i++)
            MK("llm_request_duration_seconds_bucket", "le", dur_le[i]);
        MK("llm_request_duration_seconds_sum", NULL, NULL);
        MK("llm_request_duration_seconds_count", NULL, NULL);
        for (int i = 0; i < 12; i++)
            MK("llm_time_to_first_token_seconds_bucket", "le", dur_le[i]);
        MK("llm_time_to_first_token_seconds_sum", NULL, NULL);
        MK("llm_time_to_first_token_seconds_count", NULL, NULL);
        for (int i = 0; i < 13; i++)
            MK("llm_request_tokens_bucket", "le", tok_le[i]);
        MK("llm_request_tokens_sum", NULL, NULL);
        MK("llm_request_tokens_count", NULL, NULL);
#undef MK
        assert_int_equal(k, PER);
    }
    commit(t);

    /* 24 h, one ingest batch every 10 s; per combo a diurnal Poisson-ish
     * rate between 0.1 and 1 event/s; 1 % of events arrive up to 4 min late. */
    int64_t now = T0;
    uint64_t events = 0, adds = 0;
    double t_add = 0, t_flush = 0;
    struct timespec a, b;
    for (int step = 0; step < 8640; step++) {
        now += 10 * SEC;
        t = wtxn(f);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int c = 0; c < NC; c++) {
            double rate = 0.55 + 0.45 * sin(2 * M_PI * step / 8640.0 + c);
            int nev = 0;
            for (int k = 0; k < 20; k++)
                nev += rng_unit(&rs) < rate / 2;
            for (int e = 0; e < nev; e++) {
                int64_t te = now - 10 * SEC + (int64_t)rng_below(&rs, 10 * SEC);
                if (rng_below(&rs, 100) == 0)
                    te -= (int64_t)rng_below(&rs, 4 * MIN);
                double in = (double)(100 + rng_below(&rs, 4000)),
                       out = (double)(10 + rng_below(&rs, 1000));
                double tok[5] = {in, out, rng_below(&rs, 2) ? floor(in / 2) : 0,
                                 rng_below(&rs, 20) ? 0 : (double)rng_below(&rs, 2000),
                                 rng_below(&rs, 5) ? 0 : (double)rng_below(&rs, 2000)};
                double dur = exp(log(0.3) + rng_unit(&rs) * log(100.0)),
                       ttft = dur * rng_unit(&rs) / 3;
                double cost = in * 2.5e-6 + out * 1e-5;
                int k = 0;
#define ADD(v)                                                                                     \
    do {                                                                                           \
        assert_int_equal(series_add(f->s, id[c][k++], te, (v), now), 0);                           \
        adds++;                                                                                    \
    } while (0)
                ADD(1);
                for (int i = 0; i < 5; i++)
                    ADD(tok[i]);
                ADD(cost);
                for (int i = 0; i < 12; i++)
                    ADD(dur <= dur_v[i] ? 1 : 0);
                ADD(dur);
                ADD(1);
                for (int i = 0; i < 12; i++)
                    ADD(ttft <= dur_v[i] ? 1 : 0);
                ADD(ttft);
                ADD(1);
                for (int i = 0; i < 13; i++)
                    ADD(in + out <= tok_v[i] ? 1 : 0);
                ADD(in + out);
                ADD(1);
#undef ADD
                events++;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        t_add += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        assert_int_equal(series_flush(f->s, t, now), 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        t_flush += (double)(a.tv_sec - b.tv_sec) + (double)(a.tv_nsec - b.tv_nsec) / 1e9;
        commit(t);
    }
    /* Seal everything, then downsample the day. */
    flush_commit(f, now + 2 * HOUR);
    t = wtxn(f);
    assert_int_equal(series_downsample(f->s, t, now + 2 * HOUR, 100000, NULL), 0);
    commit(t);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    /* Try zstd on every base block, and on all of them together. */
    MDB_dbi raw;
    assert_int_equal(mdb_dbi_open(r, "series_raw", 0, &raw), 0);
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t z1 = 0, total = 0, n_int = 0, by[3] = {0}, sm[3] = {0};
    uint8_t zb[8192];
    uint8_t *all = malloc(st.block_bytes[0]);
    assert_int_equal(mdb_cursor_open(r, raw, &cur), 0);
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        size_t z = ZSTD_compress(zb, sizeof zb, v.mv_data, v.mv_size, 3);
        assert_false(ZSTD_isError(z));
        z1 += z < v.mv_size ? z : v.mv_size;
        memcpy(all + total, v.mv_data, v.mv_size);
        total += v.mv_size;
        uint8_t codec = ((uint8_t *)v.mv_data)[0];
        uint32_t cnt;
        assert_int_equal(sblock_count(v.mv_data, v.mv_size, &cnt), 0);
        n_int += codec == SBLOCK_INT;
        by[codec] += v.mv_size;
        sm[codec] += cnt;
    }
    mdb_cursor_close(cur);
    size_t zcap = ZSTD_compressBound(total);
    uint8_t *zall = malloc(zcap);
    size_t zt = ZSTD_compress(zall, zcap, all, total, 19);
    assert_false(ZSTD_isError(zt));
    free(all);
    free(zall);
    mdb_txn_abort(r);

    uint64_t series = NC * PER, grid = series * 8640;
    print_message(
        "    %llu series, 24 h: %llu events, %llu adds (%.2f us/add, flush %.1f us/batch)\n",
        (unsigned long long)series, (unsigned long long)events, (unsigned long long)adds,
        t_add * 1e6 / (double)adds, t_flush * 1e6 / 8640);
    print_message("    base: %llu blocks (%llu INT codec), %llu samples (%.1f %% of the %llu grid "
                  "points), %llu bytes\n",
                  (unsigned long long)st.blocks[0], (unsigned long long)n_int,
                  (unsigned long long)st.samples[0], 100.0 * (double)st.samples[0] / (double)grid,
                  (unsigned long long)grid, (unsigned long long)st.block_bytes[0]);
    print_message("    base bytes/sample: %.2f (block values), %.2f (+16-byte key, 8-byte node)\n",
                  (double)st.block_bytes[0] / (double)st.samples[0],
                  (double)(st.block_bytes[0] + 24 * st.blocks[0]) / (double)st.samples[0]);
    print_message(
        "    by codec: INT %.2f bytes/sample (%llu samples), FLOAT %.2f bytes/sample "
        "(%llu samples)\n",
        (double)by[SBLOCK_INT] / (double)sm[SBLOCK_INT], (unsigned long long)sm[SBLOCK_INT],
        (double)by[SBLOCK_FLOAT] / (double)sm[SBLOCK_FLOAT], (unsigned long long)sm[SBLOCK_FLOAT]);
    print_message("    zstd-3 per block: %.2f bytes/sample (%.1f %% saved); zstd-19 of all blocks "
                  "at once: %.2f\n",
                  (double)z1 / (double)st.samples[0],
                  100.0 * (1 - (double)z1 / (double)st.block_bytes[0]),
                  (double)zt / (double)st.samples[0]);
    print_message("    downsampled: %llu blocks, %llu samples, %.2f bytes/sample\n",
                  (unsigned long long)st.blocks[1], (unsigned long long)st.samples[1],
                  (double)st.block_bytes[1] / (double)st.samples[1]);
    print_message("    LMDB pages of all series databases: %llu bytes = %.2f bytes per stored "
                  "sample, %.2f per grid point; heads %llu bytes\n",
                  (unsigned long long)st.page_bytes,
                  (double)st.page_bytes / (double)(st.samples[0] + st.samples[1]),
                  (double)st.page_bytes / (double)grid, (unsigned long long)st.head_bytes);
    assert_true((double)st.block_bytes[0] / (double)st.samples[0] < 4.0);

    /* Reading it back: every series, the whole day, per resolution. */
    static const struct {
        const char *name;
        unsigned flags;
    } modes[] = {{"raw", SERIES_READ_RAW},
                 {"raw+fill", SERIES_READ_RAW | SERIES_READ_FILL},
                 {"downsampled", SERIES_READ_DS}};
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        uint64_t samples = 0;
        r = rtxn(f);
        struct series_matcher prod = {SERIES_MATCH_EQ, "env", "prod", NULL, NULL};
        uint64_t *sel;
        size_t nsel;
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(series_select(f->s, r, &prod, 1, T0, now, &sel, &nsel), 0);
        assert_int_equal(nsel, series);
        for (size_t i = 0; i < nsel; i++) {
            struct series_sample *o;
            size_t n;
            assert_int_equal(series_read(f->s, r, sel[i], T0, now, modes[mi].flags, &o, &n), 0);
            samples += n;
            free(o);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        free(sel);
        mdb_txn_abort(r);
        double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        print_message(
            "    read %s: %llu series x 24 h = %llu samples in %.1f ms (%.1f ns/sample)\n",
            modes[mi].name, (unsigned long long)series, (unsigned long long)samples, el * 1e3,
            el * 1e9 / (double)samples);
    }
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_series_model: seed %llu (set LLMTAP_TEST_SEED to replay)\n",
           (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_per_sample, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
