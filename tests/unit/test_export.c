/*
 * test_export.c — unit tests for collector/export.c (the stored time series
 * as OpenMetrics text) and storage/store_series.c (opening the series of a
 * read-only store).
 *
 * The formatting helpers are checked one by one (values, timestamps as
 * Prometheus reads them back, escaping, names); then a store in a fresh
 * mkdtemp() directory gets a counter, a float counter with a unit, a
 * histogram, an `unknown` metric and a series with a label value that is
 * not UTF-8, and the whole export is compared with the expected text, also
 * with --match selections, a tiny read chunk, a time range and a read-only
 * reopen. The random timestamp test prints its seed; set LLMTAP_TEST_SEED
 * to replay it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "series.h"
#include "store.h"
#include "store_series.h"

/* ---- formatting ---------------------------------------------------------- */

static const char *val(double v)
{
    static char b[EXPORT_NUM_MAX];
    size_t n = export_format_value(v, b);
    assert_int_equal(n, strlen(b));
    return b;
}

static void test_format_value(void **state)
{
    (void)state;
    assert_string_equal(val(0), "0");
    assert_string_equal(val(-0.0), "-0");
    assert_string_equal(val(42), "42");
    assert_string_equal(val(-7), "-7");
    assert_string_equal(val(9007199254740991.0), "9007199254740991");
    assert_string_equal(val(0.1), "0.1");
    assert_string_equal(val(0.25), "0.25");
    assert_string_equal(val(1.0 / 3), "0.3333333333333333");
    assert_string_equal(val(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(val(1e20), "1e+20");
    assert_string_equal(val(1.5e-7), "1.5e-07");
    assert_string_equal(val(NAN), "NaN");
    assert_string_equal(val(INFINITY), "+Inf");
    assert_string_equal(val(-INFINITY), "-Inf");
    /* every finite value reads back exactly */
    double xs[] = {123.456, 1e-300, 5e-324, 1.7976931348623157e308, 2.5e15 + 0.5, -3.75e-3};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        assert_true(strtod(val(xs[i]), NULL) == xs[i]);
}

/* What Prometheus does with a timestamp: float64 seconds, * 1000, truncated. */
static int64_t prom_ms(const char *s)
{
    return (int64_t)(strtod(s, NULL) * 1000.0);
}

static void test_format_timestamp(void **state)
{
    (void)state;
    char b[EXPORT_NUM_MAX];
    export_format_timestamp(1700000000000, b);
    assert_string_equal(b, "1700000000");
    export_format_timestamp(0, b);
    assert_string_equal(b, "0");
    export_format_timestamp(-5000, b);
    assert_string_equal(b, "-5");
    export_format_timestamp(1700000000500, b);
    assert_string_equal(b, "1700000000.5");
    int64_t fixed[] = {1,  10,    999,           1700000000001,  1700000000010, 1700000000999,
                       -1, -1001, 4102444800123, 253402300799999};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        export_format_timestamp(fixed[i], b);
        assert_int_equal(prom_ms(b), fixed[i]);
    }
    const char *env = getenv("LLMTAP_TEST_SEED");
    unsigned seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("test_format_timestamp: seed %u (LLMTAP_TEST_SEED to replay)\n", seed);
    srand(seed);
    for (int i = 0; i < 200000; i++) {
        int64_t ms = ((int64_t)rand() << 20 ^ rand()) % 4102444800000;
        export_format_timestamp(ms, b);
        if (prom_ms(b) != ms)
            fail_msg("ms %lld printed as %s reads back as %lld (seed %u)", (long long)ms, b,
                     (long long)prom_ms(b), seed);
    }
}

static void test_escape_and_names(void **state)
{
    (void)state;
    char d[64];
    const char *s = "a\"b\\c\nd";
    size_t n = export_escape(s, strlen(s), d);
    d[n] = 0;
    assert_string_equal(d, "a\\\"b\\\\c\\nd");
    n = export_escape("plain é", strlen("plain é"), d);
    d[n] = 0;
    assert_string_equal(d, "plain é");
    assert_true(export_name_ok("llm_requests_total"));
    assert_true(export_name_ok("job:rate5m"));
    assert_true(export_name_ok("_x9"));
    assert_false(export_name_ok("9x"));
    assert_false(export_name_ok("llm.requests"));
    assert_false(export_name_ok(""));
    assert_false(export_name_ok(NULL));
}

/* ---- a store ------------------------------------------------------------- */

#define T0 1700000000000LL /* a multiple of the 10 s grid */

struct fx {
    char dir[64];
    struct store *st;
    struct series_db *db;
};

struct lbl {
    const char *name, *value;
};

static int open_fn(void *ud, MDB_txn *txn)
{
    return series_open(txn, NULL, ud);
}

static int rm_fn(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

struct add {
    const struct lbl *l;
    size_t n;
    int64_t t_ms;
    double delta;
};

struct write_ctx {
    struct series_db *db;
    const struct add *adds;
    size_t n;
    int64_t now;
};

static int write_fn(void *ud, MDB_txn *txn)
{
    struct write_ctx *w = ud;
    for (size_t i = 0; i < w->n; i++) {
        struct series_label l[8];
        for (size_t j = 0; j < w->adds[i].n; j++)
            l[j] = (struct series_label){w->adds[i].l[j].name, w->adds[i].l[j].value};
        uint64_t id;
        int rc = series_id(w->db, txn, l, w->adds[i].n, &id);
        if (rc == 0)
            rc = series_add(w->db, id, w->adds[i].t_ms, w->adds[i].delta, w->now);
        if (rc)
            return rc;
    }
    return series_flush(w->db, txn, w->now);
}

static const struct lbl REQ[] = {{"__name__", "llm_requests_total"}, {"model", "a\"b\nc"}};
static const struct lbl BAD[] = {{"__name__", "llm_requests_total"}, {"model", "\xff\xfe"}};
static const struct lbl COST[] = {{"__name__", "llm_cost_usd_total"}, {"model", "m"}};
static const struct lbl UNK[] = {{"__name__", "foo:bar"}, {"x", "1"}};
static const struct lbl B01[] = {
    {"__name__", "llm_request_duration_seconds_bucket"}, {"le", "0.1"}, {"model", "m"}};
static const struct lbl B1[] = {
    {"__name__", "llm_request_duration_seconds_bucket"}, {"le", "1"}, {"model", "m"}};
static const struct lbl BINF[] = {
    {"__name__", "llm_request_duration_seconds_bucket"}, {"le", "+Inf"}, {"model", "m"}};
static const struct lbl CNT[] = {{"__name__", "llm_request_duration_seconds_count"},
                                 {"model", "m"}};
static const struct lbl SUM[] = {{"__name__", "llm_request_duration_seconds_sum"}, {"model", "m"}};

#define A(l, t, d)                                                                                 \
    {                                                                                              \
        l, sizeof l / sizeof l[0], T0 + (t), d                                                     \
    }

/* The events of the docs' example (storage.md): +1 at 3 s, +2 at 15 s, +4
 * at 35 s; observations 0.05 s at 3 s and 0.5 s at 25 s. */
static const struct add ADDS[] = {
    A(REQ, 3000, 1),     A(REQ, 15000, 2),   A(REQ, 35000, 4), A(BAD, 3000, 1), A(COST, 3000, 0.25),
    A(COST, 25000, 0.5), A(UNK, 1000, 3),    A(B01, 3000, 1),  A(B1, 3000, 1),  A(BINF, 3000, 1),
    A(CNT, 3000, 1),     A(SUM, 3000, 0.05), A(B01, 25000, 0), A(B1, 25000, 1), A(BINF, 25000, 1),
    A(CNT, 25000, 1),    A(SUM, 25000, 0.5),
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/llmtap-test-export-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    struct store_opts so = {.dir = f->dir, .no_sync = 1, .map_size = 64 << 20};
    assert_int_equal(store_open(&so, &f->st), 0);
    assert_int_equal(store_write_txn(f->st, open_fn, &f->db), 0);
    struct write_ctx w = {f->db, ADDS, sizeof ADDS / sizeof ADDS[0], T0 + 60000};
    assert_int_equal(store_write_txn(f->st, write_fn, &w), 0);
    /* seal everything: now well past the late window */
    w.n = 0;
    w.now = T0 + 3600000;
    assert_int_equal(store_write_txn(f->st, write_fn, &w), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    series_close(f->db);
    store_close(f->st);
    nftw(f->dir, rm_fn, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Runs the export into memory; returns the text (free it). */
static char *run(struct fx *f, const struct export_opts *o, int want_rc, struct export_stats *st)
{
    char *text = NULL, err[512] = "";
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    int rc = export_openmetrics(f->st, f->db, o, m, st, err, sizeof err);
    fclose(m);
    if (rc != want_rc)
        fail_msg("export returned %d (%s), wanted %d", rc, err, want_rc);
    return text;
}

static const char FULL[] =
    "# TYPE foo:bar unknown\n"
    "foo:bar{x=\"1\"} 0 1700000000\n"
    "foo:bar{x=\"1\"} 3 1700000010\n"
    "# TYPE llm_cost_usd counter\n"
    "# UNIT llm_cost_usd usd\n"
    "# HELP llm_cost_usd Cost of the requests in US dollars.\n"
    "llm_cost_usd_total{model=\"m\"} 0 1700000000\n"
    "llm_cost_usd_total{model=\"m\"} 0.25 1700000010\n"
    "llm_cost_usd_total{model=\"m\"} 0.25 1700000020\n"
    "llm_cost_usd_total{model=\"m\"} 0.75 1700000030\n"
    "# TYPE llm_request_duration_seconds histogram\n"
    "# UNIT llm_request_duration_seconds seconds\n"
    "# HELP llm_request_duration_seconds Duration of the requests.\n"
    "llm_request_duration_seconds_bucket{le=\"0.1\",model=\"m\"} 0 1700000000\n"
    "llm_request_duration_seconds_bucket{le=\"1\",model=\"m\"} 0 1700000000\n"
    "llm_request_duration_seconds_bucket{le=\"+Inf\",model=\"m\"} 0 1700000000\n"
    "llm_request_duration_seconds_count{model=\"m\"} 0 1700000000\n"
    "llm_request_duration_seconds_sum{model=\"m\"} 0 1700000000\n"
    "llm_request_duration_seconds_bucket{le=\"0.1\",model=\"m\"} 1 1700000010\n"
    "llm_request_duration_seconds_bucket{le=\"1\",model=\"m\"} 1 1700000010\n"
    "llm_request_duration_seconds_bucket{le=\"+Inf\",model=\"m\"} 1 1700000010\n"
    "llm_request_duration_seconds_count{model=\"m\"} 1 1700000010\n"
    "llm_request_duration_seconds_sum{model=\"m\"} 0.05 1700000010\n"
    "llm_request_duration_seconds_bucket{le=\"0.1\",model=\"m\"} 1 1700000020\n"
    "llm_request_duration_seconds_bucket{le=\"1\",model=\"m\"} 1 1700000020\n"
    "llm_request_duration_seconds_bucket{le=\"+Inf\",model=\"m\"} 1 1700000020\n"
    "llm_request_duration_seconds_count{model=\"m\"} 1 1700000020\n"
    "llm_request_duration_seconds_sum{model=\"m\"} 0.05 1700000020\n"
    "llm_request_duration_seconds_bucket{le=\"0.1\",model=\"m\"} 1 1700000030\n"
    "llm_request_duration_seconds_bucket{le=\"1\",model=\"m\"} 2 1700000030\n"
    "llm_request_duration_seconds_bucket{le=\"+Inf\",model=\"m\"} 2 1700000030\n"
    "llm_request_duration_seconds_count{model=\"m\"} 2 1700000030\n"
    "llm_request_duration_seconds_sum{model=\"m\"} 0.55 1700000030\n"
    "# TYPE llm_requests counter\n"
    "# HELP llm_requests LLM requests recorded.\n"
    "llm_requests_total{model=\"a\\\"b\\nc\"} 0 1700000000\n"
    "llm_requests_total{model=\"a\\\"b\\nc\"} 1 1700000010\n"
    "llm_requests_total{model=\"a\\\"b\\nc\"} 3 1700000020\n"
    "llm_requests_total{model=\"a\\\"b\\nc\"} 3 1700000030\n"
    "llm_requests_total{model=\"a\\\"b\\nc\"} 7 1700000040\n"
    "# EOF\n";

static void test_export_all(void **state)
{
    struct fx *f = *state;
    struct export_opts o = {.start_ms = 0, .end_ms = T0 + 86400000};
    struct export_stats st;
    char *text = run(f, &o, 0, &st);
    assert_string_equal(text, FULL);
    free(text);
    assert_int_equal(st.families, 4);
    assert_int_equal(st.series, 8);
    assert_int_equal(st.samples, 2 + 4 + 20 + 5);
    assert_int_equal(st.skipped, 1); /* the label value that is not UTF-8 */

    /* Chunks of 10 s read the same text: the merge carries across chunks. */
    o.chunk_ms = 10000;
    text = run(f, &o, 0, NULL);
    assert_string_equal(text, FULL);
    free(text);
    o.chunk_ms = 7000;
    text = run(f, &o, 0, NULL);
    assert_string_equal(text, FULL);
    free(text);
}

static void test_export_range_and_match(void **state)
{
    struct fx *f = *state;
    /* the range is inclusive at both ends */
    struct export_opts o = {.start_ms = T0 + 20000, .end_ms = T0 + 30000};
    const char *m1[] = {"llm_requests_total", "foo:bar"};
    o.match = m1;
    o.nmatch = 2;
    char *text = run(f, &o, 0, NULL);
    assert_string_equal(text, "# TYPE llm_requests counter\n"
                              "# HELP llm_requests LLM requests recorded.\n"
                              "llm_requests_total{model=\"a\\\"b\\nc\"} 3 1700000020\n"
                              "llm_requests_total{model=\"a\\\"b\\nc\"} 3 1700000030\n"
                              "# EOF\n");
    free(text);

    /* Part of a histogram is not an OpenMetrics histogram: unknown families. */
    const char *m2[] = {"llm_request_duration_seconds_bucket{le=~\"0.1|\\\\+Inf\"}",
                        "llm_request_duration_seconds_sum"};
    o.match = m2;
    o.start_ms = T0 + 30000;
    o.end_ms = T0 + 30000;
    text = run(f, &o, 0, NULL);
    assert_string_equal(
        text, "# TYPE llm_request_duration_seconds_bucket unknown\n"
              "# HELP llm_request_duration_seconds_bucket Duration of the requests.\n"
              /* an unknown family's series sort by their labels as text */
              "llm_request_duration_seconds_bucket{le=\"+Inf\",model=\"m\"} 2 1700000030\n"
              "llm_request_duration_seconds_bucket{le=\"0.1\",model=\"m\"} 1 1700000030\n"
              "# TYPE llm_request_duration_seconds_sum unknown\n"
              "# HELP llm_request_duration_seconds_sum Duration of the requests.\n"
              "llm_request_duration_seconds_sum{model=\"m\"} 0.55 1700000030\n"
              "# EOF\n");
    free(text);

    /* a whole histogram Metric selected by its labels stays a histogram */
    const char *m3[] = {"{__name__=~\"llm_request_duration_seconds_.*\", model=\"m\"}"};
    o.match = m3;
    o.nmatch = 1;
    text = run(f, &o, 0, NULL);
    assert_non_null(strstr(text, "# TYPE llm_request_duration_seconds histogram\n"));
    assert_null(strstr(text, "llm_requests_total"));
    free(text);

    /* nothing matches: only the end */
    const char *m4[] = {"llm_requests_total{model=\"none\"}"};
    o.match = m4;
    text = run(f, &o, 0, NULL);
    assert_string_equal(text, "# EOF\n");
    free(text);

    /* bad selectors are usage errors (-1) */
    const char *bad[] = {"sum(x)", "x{", "{a=~\".*\"}"};
    for (size_t i = 0; i < 3; i++) {
        o.match = &bad[i];
        text = run(f, &o, -1, NULL);
        free(text);
    }
}

static void test_read_only(void **state)
{
    struct fx *f = *state;
    struct store_opts so = {.dir = f->dir, .read_only = 1};
    struct store *ro = NULL;
    struct series_db *db = NULL;
    assert_int_equal(store_open(&so, &ro), 0);
    assert_int_equal(store_series_open(ro, NULL, &db), 0);
    struct export_opts o = {.start_ms = 0, .end_ms = T0 + 86400000};
    char *text = NULL, err[256];
    size_t len;
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(export_openmetrics(ro, db, &o, m, NULL, err, sizeof err), 0);
    fclose(m);
    assert_string_equal(text, FULL);
    free(text);
    series_close(db);
    store_close(ro);

    /* a store without time series */
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/llmtap-test-export-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct store_opts wo = {.dir = dir, .no_sync = 1, .map_size = 16 << 20};
    assert_int_equal(store_open(&wo, &ro), 0);
    store_close(ro);
    so.dir = dir;
    assert_int_equal(store_open(&so, &ro), 0);
    assert_int_equal(store_series_open(ro, NULL, &db), SERIES_ENOTFOUND);
    assert_null(db);
    store_close(ro);
    nftw(dir, rm_fn, 8, FTW_DEPTH | FTW_PHYS);
}

/* Old data is exported as the store keeps it: 5-minute points before the
 * base data's retention, 10-second points after, in one increasing run. */
struct ds_ctx {
    struct series_db *db;
    int64_t from, to, now;
};

static int ds_fn(void *ud, MDB_txn *txn)
{
    struct ds_ctx *d = ud;
    struct series_label l[] = {{"__name__", "llm_requests_total"}, {"model", "m"}};
    uint64_t id;
    int rc = series_id(d->db, txn, l, 2, &id);
    for (int64_t t = d->from; t < d->to && rc == 0; t += 10000)
        rc = series_add(d->db, id, t + 3000, 1, d->now);
    if (rc == 0)
        rc = series_flush(d->db, txn, d->now);
    int more = 1;
    while (rc == 0 && more)
        rc = series_downsample(d->db, txn, d->now, 1000, &more);
    more = 1;
    while (rc == 0 && more)
        rc = series_retention(d->db, txn, d->now, 1000, &more);
    return rc;
}

static int open_opts_fn(void *ud, MDB_txn *txn)
{
    static const struct series_opts o = {
        .downsample_after_ms = 1, .raw_retention_ms = 3600000, .ds_retention_ms = 86400000};
    return series_open(txn, &o, ud);
}

static void test_downsampled(void **state)
{
    (void)state;
    struct fx f = {0};
    snprintf(f.dir, sizeof f.dir, "/tmp/llmtap-test-export-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    struct store_opts so = {.dir = f.dir, .no_sync = 1, .map_size = 64 << 20};
    assert_int_equal(store_open(&so, &f.st), 0);
    assert_int_equal(store_write_txn(f.st, open_opts_fn, &f.db), 0);
    int64_t end = T0 + 4 * 3600000;
    for (int64_t a = T0; a < end; a += 600000) { /* 10 minutes a transaction */
        struct ds_ctx d = {f.db, a, a + 600000, a + 600000 + 1000};
        assert_int_equal(store_write_txn(f.st, ds_fn, &d), 0);
    }
    struct ds_ctx fin = {f.db, end, end, end + 3600000}; /* seal, downsample, retain */
    assert_int_equal(store_write_txn(f.st, ds_fn, &fin), 0);

    struct export_opts o = {.start_ms = 0, .end_ms = end + 86400000, .chunk_ms = 1800000};
    char *text = run(&f, &o, 0, NULL), *save = NULL;
    int64_t prev = -1, n5 = 0, n10 = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        double v, ts;
        char *sp = strrchr(line, ' ');
        ts = strtod(sp + 1, NULL);
        *sp = 0;
        v = strtod(strrchr(line, ' ') + 1, NULL);
        int64_t t = (int64_t)(ts * 1000);
        if (t <= prev)
            fail_msg("time %lld after %lld", (long long)t, (long long)prev);
        if (prev >= 0 && t - prev == 10000)
            n10++;
        else if (prev >= 0)
            n5++;
        prev = t;
        /* the value at t counts the events (one at 3 s into each 10 s) before t */
        double want = t <= T0 ? 0 : (double)((t - T0 + 9999) / 10000);
        if (want > (double)((end - T0) / 10000))
            want = (double)((end - T0) / 10000);
        if (v != want)
            fail_msg("value %g at %lld, want %g", v, (long long)t, want);
    }
    printf("test_downsampled: %lld 5-minute steps, %lld 10-second steps\n", (long long)n5,
           (long long)n10);
    assert_true(n5 >= 15);   /* before the end of the 12-hour span that ends 1.8 h in */
    assert_true(n10 >= 300); /* the last hour or more at 10 s */
    free(text);
    struct fx *fp = malloc(sizeof *fp);
    *fp = f;
    void *st = fp;
    teardown(&st);
}

static void test_take_matches(void **state)
{
    (void)state;
    char a0[] = "export", a1[] = "--match", a2[] = "x{a=\"1\"}", a3[] = "--start", a4[] = "0",
         a5[] = "--match=y", a6[] = "--match";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    int argc = 6;
    const char **m;
    size_t n;
    assert_int_equal(export_take_matches(&argc, argv, &m, &n), 0);
    assert_int_equal(argc, 3);
    assert_int_equal(n, 2);
    assert_string_equal(m[0], "x{a=\"1\"}");
    assert_string_equal(m[1], "y");
    assert_string_equal(argv[1], "--start");
    assert_string_equal(argv[2], "0");
    assert_null(argv[3]);
    free(m);
    char *argv2[] = {a0, a6, NULL};
    argc = 2;
    assert_int_equal(export_take_matches(&argc, argv2, &m, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_value),
        cmocka_unit_test(test_format_timestamp),
        cmocka_unit_test(test_escape_and_names),
        cmocka_unit_test(test_take_matches),
        cmocka_unit_test_setup_teardown(test_export_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_range_and_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test(test_downsampled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
