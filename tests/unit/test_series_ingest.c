/*
 * test_series_ingest.c — the store's batch hook (store_append_hook) and the
 * ingest side of the time series (collector/series_ingest.c): stored flags,
 * abort on a hook error, the deltas of an event (counters, tokens by type,
 * histogram buckets), the cardinality limit, and the rollback after an
 * aborted batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "series.h"
#include "series_ingest.h"
#include "store.h"

#define T0_US 1795000000000000LL /* event time; "now" is one second later */

struct fx {
    char dir[64];
    struct store *st;
    struct metrics *m;
    struct series_ingest *si;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int fx_open(struct fx *f, uint64_t max_per_metric)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/llmtap-si-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    struct store_opts o = {.dir = f->dir, .map_size = 64u << 20, .no_sync = 1};
    if (store_open(&o, &f->st) != 0)
        return -1;
    f->m = metrics_create();
    char err[256];
    return series_ingest_create(f->st, f->m, NULL, max_per_metric, &f->si, err, sizeof err);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || fx_open(f, 10000) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup_small(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || fx_open(f, 1) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    series_ingest_destroy(f->si);
    store_close(f->st);
    metrics_destroy(f->m);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct store_event event(const char *id, const char *model, double latency_ms)
{
    static const char json[] = "{}";
    return (struct store_event){.json = json,
                                .json_len = 2,
                                .id = id,
                                .time_us = T0_US,
                                .service = "svc",
                                .model = model,
                                .cost_usd = 0.5,
                                .latency_ms = latency_ms,
                                .status = 200,
                                .input_tokens = 10,
                                .output_tokens = 20};
}

/* ---- the hook ------------------------------------------------------------ */

struct rec {
    unsigned char stored[8];
    size_t n;
    int ret;
    struct fx *f;
    const struct series_event_extra *x;
};

static int rec_hook(void *ud, MDB_txn *txn, const struct store_event *evs,
                    const unsigned char *stored, size_t n)
{
    struct rec *r = ud;
    r->n = n;
    for (size_t i = 0; i < n && i < 8; i++)
        r->stored[i] = stored[i];
    if (r->f) {
        for (size_t i = 0; i < n; i++) {
            if (!stored[i])
                continue;
            int rc = series_ingest_event(r->f->si, txn, &evs[i], &r->x[i], T0_US / 1000 + 1000);
            if (rc)
                return rc;
        }
        int rc = series_ingest_flush(r->f->si, txn, T0_US / 1000 + 1000);
        if (rc)
            return rc;
    }
    return r->ret;
}

static void test_hook_stored_flags(void **state)
{
    struct fx *f = *state;
    struct store_event ev[3] = {event("id-1", "m", 100), event("id-2", "m", 100),
                                event("id-1", "m", 100)};
    struct rec r = {0};
    int ran = 0;
    struct store_append_result res;
    assert_int_equal(store_append_hook(f->st, ev, 3, NULL, 0, rec_hook, &r, &ran, &res), 0);
    assert_int_equal(ran, 1);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.stored[0], 1);
    assert_int_equal(r.stored[1], 1);
    assert_int_equal(r.stored[2], 0); /* the same id earlier in the batch */
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.duplicates, 1);
}

static void test_hook_error_aborts(void **state)
{
    struct fx *f = *state;
    struct store_event ev = event("id-x", "m", 100);
    struct store_offset off = {"topic", 0, 7};
    struct rec r = {.ret = 4242};
    int ran = 0;
    assert_int_equal(store_append_hook(f->st, &ev, 1, &off, 1, rec_hook, &r, &ran, NULL), 4242);
    assert_int_equal(ran, 1);
    char *json = NULL;
    assert_int_equal(store_get(f->st, "id-x", &json, NULL), STORE_ENOTFOUND);
    int64_t next;
    assert_int_equal(store_offset_get(f->st, "topic", 0, &next), STORE_ENOTFOUND);
}

/* ---- series values ------------------------------------------------------- */

/* The current value of name{svc, model, 2xx, extra label}; NAN when absent. */
static double value(struct fx *f, const char *name, const char *model, const char *xn,
                    const char *xv)
{
    struct series_label l[6] = {
        {"__name__", name}, {"service", "svc"}, {"model", model}, {"status_class", "2xx"}};
    size_t n = 4;
    if (xn)
        l[n++] = (struct series_label){xn, xv};
    MDB_txn *txn;
    assert_int_equal(store_txn_read(f->st, &txn), 0);
    uint64_t id;
    double v = NAN;
    if (series_lookup(series_ingest_db(f->si), txn, l, n, &id) == 0) {
        struct series_info info;
        assert_int_equal(series_info(series_ingest_db(f->si), txn, id, &info), 0);
        v = info.value;
    }
    store_txn_done(f->st, txn);
    return v;
}

static void append_series(struct fx *f, struct store_event *ev, size_t n, int ret, int *rc)
{
    struct series_event_extra x[4];
    for (size_t i = 0; i < n; i++)
        x[i] = (struct series_event_extra){.cached_input_tokens = -1,
                                           .cache_write_tokens = -1,
                                           .reasoning_tokens = 3,
                                           .ttft_ms = NAN,
                                           .has_latency = 1};
    struct rec r = {.f = f, .x = x, .ret = ret};
    int ran = 0;
    *rc = store_append_hook(f->st, ev, n, NULL, 0, rec_hook, &r, &ran, NULL);
    if (*rc && ran)
        assert_int_equal(series_ingest_rollback(f->si), 0);
}

static void test_event_deltas(void **state)
{
    struct fx *f = *state;
    struct store_event ev[2] = {event("a", "m", 100), event("b", "m", 1500)};
    int rc;
    append_series(f, ev, 2, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(value(f, "llm_requests_total", "m", NULL, NULL) == 2);
    assert_true(value(f, "llm_tokens_total", "m", "type", "input") == 20);
    assert_true(value(f, "llm_tokens_total", "m", "type", "output") == 40);
    assert_true(value(f, "llm_tokens_total", "m", "type", "reasoning") == 6);
    assert_true(isnan(value(f, "llm_tokens_total", "m", "type", "cached_input")));
    assert_true(value(f, "llm_cost_usd_total", "m", NULL, NULL) == 1.0);
    /* 0.1 s and 1.5 s: le=0.08 exists with 0, le=0.16 holds 1, le=2.56 and +Inf 2 */
    assert_true(value(f, "llm_request_duration_seconds_bucket", "m", "le", "0.08") == 0);
    assert_true(value(f, "llm_request_duration_seconds_bucket", "m", "le", "0.16") == 1);
    assert_true(value(f, "llm_request_duration_seconds_bucket", "m", "le", "2.56") == 2);
    assert_true(value(f, "llm_request_duration_seconds_bucket", "m", "le", "+Inf") == 2);
    assert_true(value(f, "llm_request_duration_seconds_count", "m", NULL, NULL) == 2);
    assert_true(fabs(value(f, "llm_request_duration_seconds_sum", "m", NULL, NULL) - 1.6) < 1e-12);
    assert_true(isnan(value(f, "llm_time_to_first_token_seconds_count", "m", NULL, NULL)));

    /* a duplicate adds nothing */
    struct store_event dup = event("a", "m", 100);
    append_series(f, &dup, 1, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(value(f, "llm_requests_total", "m", NULL, NULL) == 2);
}

static void test_rollback(void **state)
{
    struct fx *f = *state;
    struct store_event e1 = event("r1", "m", 100), e2 = event("r2", "m", 100),
                       e3 = event("r3", "m2", 100);
    int rc;
    append_series(f, &e1, 1, 0, &rc);
    assert_int_equal(rc, 0);
    /* the batch fails after its series were added: nothing of it remains */
    struct store_event bad[2] = {e2, e3};
    append_series(f, bad, 2, 99, &rc);
    assert_int_equal(rc, 99);
    assert_true(value(f, "llm_requests_total", "m", NULL, NULL) == 1);
    assert_true(isnan(value(f, "llm_requests_total", "m2", NULL, NULL)));
    /* and the same events commit afterwards */
    append_series(f, bad, 2, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(value(f, "llm_requests_total", "m", NULL, NULL) == 2);
    assert_true(value(f, "llm_requests_total", "m2", NULL, NULL) == 1);
}

static void test_overflow(void **state)
{
    struct fx *f = *state; /* max_per_metric = 1 */
    struct store_event ev[3] = {event("o1", "m1", 100), event("o2", "m2", 100),
                                event("o3", "m3", 100)};
    int rc;
    append_series(f, ev, 3, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(value(f, "llm_requests_total", "m1", NULL, NULL) == 1);
    assert_true(isnan(value(f, "llm_requests_total", "m2", NULL, NULL)));
    struct series_label l[4] = {{"__name__", "llm_requests_total"},
                                {"service", SERIES_OVERFLOW},
                                {"model", SERIES_OVERFLOW},
                                {"status_class", SERIES_OVERFLOW}};
    MDB_txn *txn;
    assert_int_equal(store_txn_read(f->st, &txn), 0);
    uint64_t id;
    assert_int_equal(series_lookup(series_ingest_db(f->si), txn, l, 4, &id), 0);
    struct series_info info;
    assert_int_equal(series_info(series_ingest_db(f->si), txn, id, &info), 0);
    assert_true(info.value == 2);
    /* histograms fold whole: the buckets of the overflow set exist */
    struct series_label b[5] = {{"__name__", "llm_request_duration_seconds_bucket"},
                                {"le", "+Inf"},
                                {"service", SERIES_OVERFLOW},
                                {"model", SERIES_OVERFLOW},
                                {"status_class", SERIES_OVERFLOW}};
    assert_int_equal(series_lookup(series_ingest_db(f->si), txn, b, 5, &id), 0);
    store_txn_done(f->st, txn);
}

static void test_label_set(void **state)
{
    struct fx *f = *state;
    unsigned mask;
    char err[256];
    assert_int_equal(
        series_ingest_parse_labels("service, model ,status_class", &mask, err, sizeof err), 0);
    assert_int_equal(mask, (1u << 0) | (1u << 3) | (1u << 5));
    assert_int_equal(series_ingest_parse_labels("", &mask, err, sizeof err), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(series_ingest_parse_labels("service,team", &mask, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown label \"team\""));

    /* Without status_class, an event's series lack it; with the default
     * they have it (value() looks up service, model, status_class). */
    assert_int_equal(series_ingest_parse_labels("service,model", &mask, err, sizeof err), 0);
    series_ingest_set_labels(f->si, mask);
    struct store_event e = event("l1", "m", 100);
    int rc;
    append_series(f, &e, 1, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(isnan(value(f, "llm_requests_total", "m", NULL, NULL)));
    struct series_label l[3] = {
        {"__name__", "llm_requests_total"}, {"service", "svc"}, {"model", "m"}};
    MDB_txn *txn;
    uint64_t id;
    assert_int_equal(store_txn_read(f->st, &txn), 0);
    assert_int_equal(series_lookup(series_ingest_db(f->si), txn, l, 3, &id), 0);
    store_txn_done(f->st, txn);
    series_ingest_set_labels(f->si, SERIES_INGEST_ALL_LABELS);
    struct store_event e2 = event("l2", "m", 100);
    append_series(f, &e2, 1, 0, &rc);
    assert_int_equal(rc, 0);
    assert_true(value(f, "llm_requests_total", "m", NULL, NULL) == 1);

    /* The exemplar side names the same series. */
    struct series_label out[SERIES_INGEST_DIMS];
    assert_int_equal(series_ingest_dims("svc", "prod", "", "m", NULL, 503, 0, "v2", mask, 0, out),
                     2);
    assert_string_equal(out[0].name, "service");
    assert_string_equal(out[1].value, "m");
    assert_int_equal(series_ingest_dims("svc", "prod", "", "m", NULL, 200, 1, "v2",
                                        SERIES_INGEST_ALL_LABELS, 1, out),
                     5);
    assert_string_equal(out[3].name, "status_class");
    assert_string_equal(out[3].value, SERIES_OVERFLOW);
    char le[16];
    series_ingest_duration_le(0.5, le, sizeof le);
    assert_string_equal(le, "0.64");
    series_ingest_duration_le(0.64, le, sizeof le);
    assert_string_equal(le, "0.64");
    series_ingest_duration_le(1e9, le, sizeof le);
    assert_string_equal(le, "+Inf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hook_stored_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_error_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_deltas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_label_set, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
