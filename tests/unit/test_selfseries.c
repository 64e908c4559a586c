/* Unit tests for collector/selfseries.c: sampling on the grid, the ring's
 * window, label parsing, selection by range and matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "metrics.h"
#include "selfseries.h"
#include "series.h"

struct got {
    char labels[8][128];
    int64_t t[64];
    double v[64];
    size_t nseries, ns[8];
    int64_t first_t[8];
    double last_v[8];
};

static int collect(void *ud, const struct series_label *l, size_t n, const int64_t *t,
                   const double *v, size_t ns)
{
    struct got *g = ud;
    char *w = g->labels[g->nseries];
    w[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(w + strlen(w), 128 - strlen(w), "%s%s=%s", i ? "," : "", l[i].name, l[i].value);
    g->ns[g->nseries] = ns;
    g->first_t[g->nseries] = t[0];
    g->last_v[g->nseries] = v[ns - 1];
    for (size_t i = 0; i < ns && i < 64; i++) {
        g->t[i] = t[i];
        g->v[i] = v[i];
    }
    g->nseries++;
    return 0;
}

static bool only(void *ud, const struct series_label *l, size_t n)
{
    return strcmp(l[0].value, ud) == 0;
}

static double seven(void *ud)
{
    return 7.5;
}

static void test_sample_select(void **state)
{
    struct metrics *m = metrics_create();
    struct metric *c = metrics_counter(m, "llmtap_x_total", "x", NULL);
    struct metric *g = metrics_gauge(m, "llmtap_g", "g", "reason=\"a \\\"q\\\"\",k=\"v\"");
    metrics_gauge_fn(m, "llmtap_fn", "fn", NULL, seven, NULL);
    struct selfseries *s = selfseries_create(m, 10000, 60000); /* 7 slots */
    assert_non_null(s);
    for (int i = 0; i < 10; i++) {
        metric_add(c, 2);
        metric_set(g, -i);
        selfseries_sample(s, 1000000 + i * 10000 + 3); /* stamped on the 10 s grid */
    }
    /* The ring keeps the last 7 samples: t = 1030000 .. 1090000. */
    struct got all = {0};
    assert_int_equal(selfseries_select(s, 0, INT64_MAX, NULL, NULL, collect, &all), 0);
    assert_int_equal(all.nseries, 3);
    assert_string_equal(all.labels[0], "__name__=llmtap_x_total");
    assert_string_equal(all.labels[1], "__name__=llmtap_g,reason=a \"q\",k=v");
    assert_string_equal(all.labels[2], "__name__=llmtap_fn");
    assert_int_equal(all.ns[0], 7);
    assert_int_equal(all.first_t[0], 1030000);
    assert_true(all.last_v[0] == 20);
    assert_true(all.last_v[1] == -9);
    assert_true(all.last_v[2] == 7.5);

    /* Range (inclusive) and matcher. */
    struct got r = {0};
    assert_int_equal(selfseries_select(s, 1050000, 1070000, only, "llmtap_x_total", collect, &r),
                     0);
    assert_int_equal(r.nseries, 1);
    assert_int_equal(r.ns[0], 3);
    assert_int_equal(r.t[0], 1050000);
    assert_int_equal(r.t[2], 1070000);
    assert_true(r.v[0] == 12 && r.v[2] == 16);

    /* A second sample in the same slot replaces the first; an older time is
     * ignored (the ring stays in time order). */
    metric_add(c, 100);
    selfseries_sample(s, 1099999);
    selfseries_sample(s, 1000000);
    struct got z = {0};
    assert_int_equal(selfseries_select(s, 1090000, 1090000, only, "llmtap_x_total", collect, &z),
                     0);
    assert_int_equal(z.ns[0], 1);
    assert_true(z.v[0] == 120);

    /* Nothing in range: no series at all. */
    struct got none = {0};
    assert_int_equal(selfseries_select(s, 0, 1000000, NULL, NULL, collect, &none), 0);
    assert_int_equal(none.nseries, 0);
    selfseries_destroy(s);
    metrics_destroy(m);
}

static void test_thread(void **state)
{
    struct metrics *m = metrics_create();
    metrics_counter(m, "llmtap_y_total", "y", NULL);
    struct selfseries *s = selfseries_create(m, 10000, 3600000);
    assert_int_equal(selfseries_start(s), 0);
    /* The thread samples at once; give it a moment, then stop it. */
    struct got g = {0};
    for (int i = 0; i < 200 && g.nseries == 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        selfseries_select(s, 0, INT64_MAX, NULL, NULL, collect, &g);
    }
    assert_int_equal(g.nseries, 1);
    selfseries_destroy(s); /* joins the thread */
    assert_null(selfseries_create(m, 0, 10));
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_select),
        cmocka_unit_test(test_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
