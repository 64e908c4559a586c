/*
 * Unit tests for the evaluator's whole-range paths (exact rate over a
 * series in one pass, the sum's fold in arrays and its groups of one
 * series taken over in place, histogram_quantile's walk of each group's
 * buckets and its inlined quantile), with and without a worker pool (which
 * splits rate() by series, sum and histogram_quantile by group) and the
 * source's facts, and at every sample limit around where a query fails,
 * against the step-by-step reference (promql_eval_opts.general_only): random
 * stores and queries, evaluated both ways, must give the same series in
 * the same order with the same values bit for bit, or the same error.
 * The seed is printed; LLMTAP_TEST_SEED replays.
 */
#include "promql_testsrc.h"
#include "qpool.h"

static uint64_t rs;
static unsigned rnd(unsigned n)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rs >> 33) % n);
}

static struct promql_label *labels(size_t *nl, const char *name, const char *k1, const char *v1,
                                   const char *k2, const char *v2, const char *k3, const char *v3)
{
    struct promql_label *l = calloc(4, sizeof *l);
    assert_non_null(l);
    const char *kv[8] = {"__name__", name, k1, v1, k2, v2, k3, v3};
    size_t n = 0;
    for (size_t i = 0; i < 8; i += 2)
        if (kv[i] && kv[i + 1]) {
            l[n].name = (struct promql_str){xstrndup(kv[i], strlen(kv[i])), strlen(kv[i])};
            l[n].value =
                (struct promql_str){xstrndup(kv[i + 1], strlen(kv[i + 1])), strlen(kv[i + 1])};
            n++;
        }
    *nl = n;
    return l;
}

/* Samples every 10 s (some 5 s or 20 s apart, gaps) over [0, 3600 s];
 * or, half the time, on a grid (every 1 to 40 s from a time that may be
 * off the steps, no gaps), as the store's series usually are. */
static void fill(struct mseries *s, bool counter)
{
    double v = rnd(10);
    int64_t t = (int64_t)rnd(10) * 1000;
    int64_t grid = rnd(2) ? 0 : rnd(3) ? 10000 : 1000 * (1 + (int64_t)rnd(40));
    if (grid && rnd(2))
        t += 1 + rnd(999);
    while (t <= 3600000) {
        unsigned r = rnd(1000);
        if (r < 15 && !grid)
            t += (int64_t)(60 + rnd(600)) * 1000; /* a gap */
        if (counter) {
            if (r < 20)
                v = rnd(4); /* reset */
            else if (r < 23)
                v = NAN;
            else if (r < 25) { /* a staleness marker (range selectors skip it) */
                uint64_t bits = 0x7ff0000000000002ull;
                memcpy(&v, &bits, sizeof v);
            } else if (r < 300)
                v = isnan(v) ? 1 : v;
            else
                v = (isnan(v) ? 0 : v) + rnd(1000) / 7.0;
        } else {
            v = r < 10 ? NAN : rnd(100000) / 3.0;
        }
        add_sample(s, t, v);
        t += grid ? grid : rnd(8) == 0 ? 5000 : rnd(8) == 0 ? 20000 : 10000;
    }
}

/* Gauges with the values that tell sums apart: -0, ±Inf, NaN, tiny and
 * huge numbers (every 10 s, some 5 s apart: off the steps). */
static void fill_special(struct mseries *s)
{
    static const double vals[] = {-0.0,  0.0,    INFINITY, -INFINITY, 1e-310, -5e-324,
                                  1e308, -1e308, 0.1,      -0.3,      7,      1e-12};
    int64_t t = (int64_t)rnd(10) * 1000;
    while (t <= 3600000) {
        add_sample(s, t, rnd(15) == 0 ? NAN : vals[rnd(sizeof vals / sizeof *vals)]);
        t += rnd(6) == 0 ? 5000 : rnd(10) == 0 ? 60000 : 10000;
    }
}

/* The buckets of one histogram (le 0.1 ... +Inf) sampled together, their
 * counts each the one below times 1 + a relative step around the 1e-12 of
 * histogram_quantile's "almost equal" (and some equal, lower, negated,
 * zero, subnormal, NaN or infinite); a bucket now and then skips a
 * sample. */
static void fill_close(struct store *st, const char *g)
{
    static const char *les[] = {"0.1", "0.5", "1", "2.5", "10", "+Inf"};
    static const double rel[] = {0,     1e-13,   5e-13, 1.9e-12, 2e-12, 2.1e-12, 9e-12,
                                 2e-11, 2.2e-11, 1e-10, 1e-3,    1,     -1e-13,  -0.5};
    enum { NB = sizeof les / sizeof *les };
    size_t idx[NB], nl;
    for (size_t k = 0; k < NB; k++) {
        struct promql_label *l = labels(&nl, "hc_bucket", "le", les[k], "g", g, NULL, NULL);
        idx[k] = (size_t)(store_series(st, l, nl) - st->s);
    }
    for (int64_t t = (int64_t)rnd(10) * 1000; t <= 3600000; t += 10000) {
        unsigned u = rnd(40);
        double v = u == 0 ? 0 : u == 1 ? 5e-324 : u == 2 ? 2.2250738585072014e-308 : 1 + rnd(1000);
        for (size_t k = 0; k < NB; k++) {
            if (k) {
                unsigned x = rnd(60);
                double r = rel[rnd(sizeof rel / sizeof *rel)];
                if (x < 5) /* a subnormal after a zero; a fall below the one before */
                    v = x == 0 ? NAN : x == 1 ? INFINITY : x == 2 ? 0 : x == 3 ? 5e-324 : -v;
                else
                    v += v * r;
            }
            if (rnd(30))
                add_sample(&st->s[idx[k]], t, v);
        }
    }
}

static void build(struct store *st)
{
    static const char *les[] = {"0.1", "0.5", "1", "1.0", "2.5", "10", "+Inf", "+Inf", "NaN", "x"};
    static const char *gs[] = {"a", "b", "c"};
    static const char *is[] = {"0", "1", "2", "3"};
    size_t nl;
    for (size_t i = 0; i < 4; i++)
        for (size_t g = 0; g < 3; g++)
            if (rnd(5)) {
                struct promql_label *l = labels(&nl, "c", "i", is[i], "g", gs[g], NULL, NULL);
                fill(store_series(st, l, nl), rnd(6) != 0);
            }
    for (size_t g = 0; g < 3; g++)
        for (size_t j = 0; j < 2; j++)
            for (size_t k = 0; k < sizeof les / sizeof *les; k++) {
                /* most groups have distinct numeric le; some spell one
                 * twice, have a NaN or a bad le, or miss a bucket */
                if ((k == 3 || k == 7 || k == 8 || k == 9) && rnd(3))
                    continue;
                if (rnd(10) == 0)
                    continue;
                const char *name = rnd(12) ? "h_bucket" : "h2_bucket";
                char jv[2] = {(char)('0' + j), 0};
                struct promql_label *l = labels(&nl, name, "le", les[k], "g", gs[g], "j", jv);
                fill(store_series(st, l, nl), true);
            }
    for (size_t i = 0; i < 4; i++)
        for (size_t g = 0; g < 3; g++)
            if (rnd(4)) {
                struct promql_label *l = labels(&nl, "d", "i", is[i], "g", gs[g], NULL, NULL);
                fill_special(store_series(st, l, nl));
            }
    for (size_t g = 0; g < 3; g++)
        fill_close(st, gs[g]);
}

static const char *queries[] = {
    "rate(c[1m])",
    "increase(c[45s] offset 20s)",
    "rate(c[2m:15s])",
    "sum by (g) (rate(c[1m]))",
    "sum(increase(c[3m]))",
    "sum without (i) (c)",
    "sum by (g) (c offset 1m)",
    "histogram_quantile(0.9, sum by (le, g) (rate(h_bucket[1m])))",
    "histogram_quantile(0.5, h_bucket)",
    "histogram_quantile(0.5, h2_bucket)",
    "limitk(2, histogram_quantile(0.75, h_bucket))",
    "limitk(1, histogram_quantile(0.75, rate({__name__=~\"h_bucket|h2_bucket\"}[1m])))",
    "histogram_quantile(0.5, {__name__=~\"h_bucket|h2_bucket\"})",
    "histogram_quantile(scalar(c{i=\"0\",g=\"a\"}) / 100, h_bucket)",
    "histogram_quantile(2, rate(h_bucket[2m]))",
    "topk(2, rate(c[1m]))",
    "bottomk(1, sum by (i) (c))",
    "topk by (g) (1, c)",
    "topk(scalar(c{i=\"1\",g=\"b\"}) / 200, c)",
    "limitk(3, sum by (i, g) (rate(c[1m])))",
    "bottomk by (i) (2, rate(c[30s]))",
    "sum by (i, g, le) (h_bucket)",
    "sum by (le) (rate(h_bucket[1m] offset 10s))",
    "topk(3, -c)",
    "bottomk by (le) (2, h_bucket)",
    "limitk(4, {__name__=~\"h_bucket|h2_bucket\"})",
    /* sum groups of one series (taken over in place) and of several,
     * mixed, over -0, ±Inf, NaN and samples off the steps */
    "sum by (i, g) (d)",
    "sum by (g) (d)",
    "sum by (i) (d offset 30s) + 0",
    "sum by (g, le) (h_bucket) or sum by (i, g) (d)",
    "sum by (i, g) (rate(c[1m]))",
    /* groups of one over rate()'s outputs (marked on steps), whose
     * values include -0: increase() of -0 after 0 */
    "sum by (i, g) (increase(d[1m]))",
    "sum by (g) (increase(d[30s]))",
    /* quantiles of counts close to "almost equal", with missing buckets */
    "histogram_quantile(0.9, hc_bucket)",
    "histogram_quantile(0, hc_bucket)", /* 0 times an infinite count is NaN */
    "histogram_quantile(0.5, sum by (le, g) (hc_bucket))",
    "histogram_quantile(scalar(c{i=\"2\",g=\"c\"}) / 50 - 0.5, hc_bucket)",
    "histogram_quantile(0.99, sum by (le) (rate(hc_bucket[1m])))",
    /* the benchmark's shape: a sum of groups of one and of two series,
     * then several histograms (both split by group over a pool) */
    "histogram_quantile(0.95, sum by (le, g, j) (rate({__name__=~\"h_bucket|h2_bucket\"}[5m])))",
    "histogram_quantile(0.95, sum by (le, j) (rate(h_bucket[5m])))",
    "sum by (le, g, j) (rate({__name__=~\"h_bucket|h2_bucket\"}[2m]))",
};

static void same(const char *q, const struct promql_result *a, const struct promql_result *b,
                 const struct promql_eval_error *ea, const struct promql_eval_error *eb,
                 uint64_t seed)
{
    if (!a || !b) {
        if (a || b || ea->type != eb->type || strcmp(ea->msg, eb->msg) != 0)
            fail_msg("%s: errors differ: %s / %s (seed %llu)", q, a ? "ok" : ea->msg,
                     b ? "ok" : eb->msg, (unsigned long long)seed);
        return;
    }
    if (a->nseries != b->nseries)
        fail_msg("%s: %zu series vs %zu (seed %llu)", q, a->nseries, b->nseries,
                 (unsigned long long)seed);
    for (size_t i = 0; i < a->nseries; i++) {
        const struct promql_series *x = &a->series[i], *y = &b->series[i];
        bool ok = x->nlabels == y->nlabels && x->n == y->n;
        for (size_t k = 0; ok && k < x->nlabels; k++)
            ok = x->labels[k].name.len == y->labels[k].name.len &&
                 x->labels[k].value.len == y->labels[k].value.len &&
                 !memcmp(x->labels[k].name.p, y->labels[k].name.p, x->labels[k].name.len) &&
                 !memcmp(x->labels[k].value.p, y->labels[k].value.p, x->labels[k].value.len);
        for (size_t k = 0; ok && k < x->n; k++)
            ok = x->samples[k].t == y->samples[k].t &&
                 !memcmp(&x->samples[k].v, &y->samples[k].v, sizeof(double));
        if (!ok)
            fail_msg("%s: series %zu differs (seed %llu)", q, i, (unsigned long long)seed);
    }
}

static void test_fast_paths_agree(void **state)
{
    (void)state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_fast_paths_agree: seed %llu (LLMTAP_TEST_SEED replays)\n",
           (unsigned long long)seed);
    rs = seed;
    struct qpool *pool = qpool_create(3);
    assert_non_null(pool);
    size_t compared = 0, errors = 0, points = 0;
    int visits = 0;
    for (int round = 0; round < 12; round++) {
        struct store st = {0};
        build(&st);
        for (size_t qi = 0; qi < sizeof queries / sizeof *queries; qi++) {
            /* wrapped in an outer aggregation half the time: the order of
             * an inner result's series then matters */
            char q[512];
            const char *wrap = rnd(2) ? "%s" : rnd(2) ? "sum(%s)" : "limitk(1, %s)";
            snprintf(q, sizeof q, wrap, queries[qi]);
            struct promql_eval_opts o;
            promql_eval_opts_init(&o);
            static const uint64_t limits[] = {0, 0, 0, 40, 400, 4000};
            if (limits[rnd(6)])
                o.max_samples = limits[rnd(6)] ? limits[rnd(6)] : 1000;
            int64_t step = (int64_t)(1 + rnd(30)) * 1000;
            int64_t a = (int64_t)rnd(600) * 1000, b = a + (int64_t)rnd(3600) * 1000;
            bool range = rnd(8) != 0;
            struct promql_eval_error ea = {0}, eb = {0};
            /* the fast paths with the source's facts and a worker pool
             * half the time each */
            st.facts = rnd(2);
            /* and rate()'s series walked as they are read (all, some or
             * none of them) when the facts are given */
            st.visit_every = rnd(4);
            st.visit_from = rnd(3);
            o.pool = rnd(2) ? pool : NULL;
            struct promql_result *ra = run(&st, q, range, a, b, step, &o, &ea);
            o.general_only = true;
            o.pool = NULL;
            st.facts = false;
            st.visit_every = 0;
            struct promql_result *rb = run(&st, q, range, a, b, step, &o, &eb);
            same(q, ra, rb, &ea, &eb, seed);
            compared++;
            errors += ra == NULL;
            for (size_t i = 0; ra && i < ra->nseries; i++)
                points += ra->series[i].n;
            promql_result_free(ra);
            promql_result_free(rb);
        }
        visits += st.visits;
        store_free(&st);
    }
    qpool_destroy(pool);
    /* the readers' walks ran, and not only on a few series */
    printf("test_fast_paths_agree: %d series walked as read\n", visits);
    assert_true(visits > 100);
    printf("test_fast_paths_agree: %zu queries, %zu errors, %zu points\n", compared, errors,
           points);
    assert_true(points > 10000);
    assert_true(errors < compared / 2);
}

/* Sums and histograms with groups enough to split over a pool (fine steps:
 * a few thousand input samples or more), at random ranges and limits,
 * against the step by step reference. */
static void test_groups_split_with_pool(void **state)
{
    (void)state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) + 1;
    printf("test_groups_split_with_pool: seed %llu (LLMTAP_TEST_SEED replays)\n",
           (unsigned long long)seed);
    rs = seed;
    struct qpool *pool = qpool_create(1 + rnd(3));
    assert_non_null(pool);
    static const char *qs[] = {
        "sum by (g) (d)",
        "sum by (i, g) (d offset 7s)",
        "sum by (le, g) (h_bucket)",
        "sum by (le, g, j) ({__name__=~\"h_bucket|h2_bucket\"})",
        "sum by (le, g, j) (rate({__name__=~\"h_bucket|h2_bucket\"}[30s]))",
        "histogram_quantile(0.5, h_bucket)",
        "histogram_quantile(0.9, hc_bucket)",
        "histogram_quantile(0, hc_bucket)", /* 0 times an infinite count is NaN */
        "histogram_quantile(scalar(c{i=\"2\",g=\"c\"}) / 50 - 0.5, hc_bucket)",
        "histogram_quantile(0.9, sum by (le, g) (rate(h_bucket[1m])))",
        "histogram_quantile(0.95, sum by (le, g, j) "
        "(rate({__name__=~\"h_bucket|h2_bucket\"}[5m])))",
        "histogram_quantile(0.5, sum by (le, j) (hc_bucket or h_bucket))",
    };
    size_t compared = 0, errors = 0, unlimited = 0, unlimited_errors = 0;
    for (int round = 0; round < 4; round++) {
        struct store st = {0};
        build(&st);
        for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++)
            for (int k = 0; k < 4; k++) {
                struct promql_eval_opts o;
                promql_eval_opts_init(&o);
                bool limited = rnd(2);
                if (limited)
                    o.max_samples = 1 + rnd(40000);
                int64_t step = (int64_t)(1 + rnd(5)) * 1000;
                int64_t a = (int64_t)rnd(600) * 1000, b = a + (int64_t)(1800 + rnd(1800)) * 1000;
                struct promql_eval_error ea = {0}, eb = {0};
                st.facts = rnd(2);
                st.visit_every = rnd(3);
                st.visit_from = rnd(2);
                o.pool = pool;
                struct promql_result *ra = run(&st, qs[qi], true, a, b, step, &o, &ea);
                o.general_only = true;
                o.pool = NULL;
                st.facts = false;
                st.visit_every = 0;
                struct promql_result *rb = run(&st, qs[qi], true, a, b, step, &o, &eb);
                same(qs[qi], ra, rb, &ea, &eb, seed);
                compared++;
                errors += ra == NULL;
                unlimited += !limited;
                unlimited_errors += !limited && ra == NULL;
                promql_result_free(ra);
                promql_result_free(rb);
            }
        store_free(&st);
    }
    qpool_destroy(pool);
    printf("test_groups_split_with_pool: %zu queries, %zu errors; %zu without a sample limit, "
           "%zu errors\n",
           compared, errors, unlimited, unlimited_errors);
    /* not a comparison of errors only: without a sample limit most queries
     * have an answer (a few fail on the random store's clashing label sets;
     * how many of the limited ones fail depends on the seed: counting them
     * made this check fail on some seeds) */
    assert_true(unlimited > 0 && unlimited_errors < unlimited / 2);
}

/* The query timeout with a pool: a query whose deadline passes while the
 * pool walks rate() (on this store, the work before the walks takes a
 * fraction of the 1 ms timeout and the walks many times it, so that is
 * where the release build stops these) fails with the timeout error and
 * frees everything (the sanitizer build checks leaks); one that finished
 * in time gives the reference's answer. test_qpool checks that a loop
 * stops at its deadline. */
static void test_timeout_with_pool(void **state)
{
    (void)state;
    rs = 777;
    struct qpool *pool = qpool_create(2);
    assert_non_null(pool);
    struct store st = {0};
    static const char *les[] = {"0.1", "1", "10", "+Inf"};
    char gv[8], iv[8];
    size_t nl;
    for (int g = 0; g < 8; g++)
        for (int i = 0; i < 6; i++) {
            snprintf(gv, sizeof gv, "%d", g);
            snprintf(iv, sizeof iv, "%d", i);
            for (size_t k = 0; k < sizeof les / sizeof *les; k++) {
                struct promql_label *l = labels(&nl, "h_bucket", "le", les[k], "g", gv, "i", iv);
                struct mseries *m = store_series(&st, l, nl);
                double v = 0;
                for (int64_t t = 0; t <= 7200000; t += 10000) {
                    v += (double)(rnd(5) * (k + 1));
                    add_sample(m, t, v);
                }
            }
        }
    static const char *qs[] = {
        "rate(h_bucket[1m])",
        "sum by (g, le) (rate(h_bucket[5m]))",
        "histogram_quantile(0.9, sum by (le, g, i) (rate(h_bucket[5m])))",
    };
    size_t timeouts = 0;
    for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++)
        for (int k = 0; k < 3; k++) {
            struct promql_eval_opts o;
            promql_eval_opts_init(&o);
            o.pool = pool;
            o.timeout_ms = 1;
            st.facts = k < 2;
            struct promql_eval_error ea = {0}, eb = {0};
            struct promql_result *ra = run(&st, qs[qi], true, 0, 7200000, 1000, &o, &ea);
            if (!ra) {
                if (ea.type != PROMQL_ERR_TIMEOUT ||
                    strcmp(ea.msg, "query timed out in expression evaluation") != 0)
                    fail_msg("%s: %s", qs[qi], ea.msg);
                timeouts++;
                continue;
            }
            promql_eval_opts_init(&o);
            st.facts = false;
            struct promql_result *rb = run(&st, qs[qi], true, 0, 7200000, 1000, &o, &eb);
            same(qs[qi], ra, rb, &ea, &eb, 777);
            promql_result_free(ra);
            promql_result_free(rb);
        }
    store_free(&st);
    qpool_destroy(pool);
    printf("test_timeout_with_pool: %zu of 9 queries timed out\n", timeouts);
}

/* Query qs at limit lim with the fast paths and a pool, and the step by
 * step reference without one: the same result or error. Returns whether
 * the reference succeeded. */
static bool agree_at(struct store *st, struct qpool *pool, const char *q, int64_t step,
                     uint64_t lim)
{
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    struct promql_eval_error ea = {0}, eb = {0};
    o.max_samples = lim;
    o.pool = pool;
    st->facts = lim % 2;
    st->visit_every = lim % 3 ? 1 : 2;
    struct promql_result *ra = run(st, q, true, 0, 1800000, step, &o, &ea);
    o.general_only = true;
    o.pool = NULL;
    st->facts = false;
    st->visit_every = 0;
    struct promql_result *rb = run(st, q, true, 0, 1800000, step, &o, &eb);
    same(q, ra, rb, &ea, &eb, 12345);
    bool ok = rb != NULL;
    promql_result_free(ra);
    promql_result_free(rb);
    return ok;
}

/* The sample limit at every value around where a query reaches it: the
 * pool's parallel work (rate()'s walks, sum's and histogram_quantile's
 * groups) must fail exactly where the serial loops fail (a rate walk holds
 * its results plus a window; sum holds its taken-over groups' samples
 * twice until the end). Coarsely over the whole range, then at every
 * value around the least limit the reference passes with (found by
 * halving), where a count off by one shows. */
static void test_limit_sweep_with_pool(void **state)
{
    (void)state;
    rs = 12345;
    struct qpool *pool = qpool_create(2);
    assert_non_null(pool);
    struct store st = {0};
    build(&st);
    static const struct {
        const char *q;
        int64_t step;
    } qs[] = {
        {"rate(c[1m])", 15000},
        {"sum by (g) (rate(c[3m]))", 15000},
        {"increase(h_bucket[2m])", 15000},
        /* sums of groups of one and of several series, in parallel */
        {"sum by (g) (d)", 2000},
        {"sum by (i, g) (d)", 2000},
        {"sum by (le, g, j) ({__name__=~\"h_bucket|h2_bucket\"})", 5000},
        /* holds the most after the sum (its count must end right) */
        {"sum by (i, g) (d) or rate(c[1m])", 2000},
        /* histograms of sums, and straight from the buckets (the last
         * holds the most while histogram_quantile holds its results) */
        {"histogram_quantile(0.9, sum by (le, g) (rate(h_bucket[1m])))", 5000},
        {"histogram_quantile(0.95, sum by (le, j) (rate(h_bucket[5m])))", 5000},
        {"histogram_quantile(0.5, h_bucket)", 5000},
        {"histogram_quantile(0.9, hc_bucket)", 3000},
    };
    size_t agree = 0;
    for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++) {
        const char *q = qs[qi].q;
        struct promql_eval_opts o;
        promql_eval_opts_init(&o);
        struct promql_eval_error e0 = {0};
        struct promql_result *r0 = run(&st, q, true, 0, 1800000, qs[qi].step, &o, &e0);
        assert_non_null(r0);
        size_t total = 0;
        for (size_t i = 0; i < r0->nseries; i++)
            total += r0->series[i].n;
        promql_result_free(r0);
        for (uint64_t lim = 1; lim <= total + 200; lim += 1 + lim / 64, agree++)
            agree_at(&st, pool, q, qs[qi].step, lim);
        /* the least limit the reference passes with (it holds at least
         * its result), and every limit near it */
        uint64_t lo = total ? total - 1 : 0, hi = lo + 1;
        while (!agree_at(&st, pool, q, qs[qi].step, hi))
            lo = hi, hi *= 2;
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (agree_at(&st, pool, q, qs[qi].step, mid))
                hi = mid;
            else
                lo = mid;
        }
        for (uint64_t lim = hi > 40 ? hi - 40 : 1; lim <= hi + 40; lim++, agree++)
            agree_at(&st, pool, q, qs[qi].step, lim);
    }
    store_free(&st);
    qpool_destroy(pool);
    assert_true(agree > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_paths_agree),
        cmocka_unit_test(test_groups_split_with_pool),
        cmocka_unit_test(test_timeout_with_pool),
        cmocka_unit_test(test_limit_sweep_with_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
