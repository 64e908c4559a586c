/*
 * Unit tests for the PromQL evaluator (collector/promql_eval.c and its
 * modules promql_value.c, promql_func.c, promql_agg.c, promql_binop.c):
 * selectors, lookback and staleness, subqueries, @, range queries, name
 * dropping and literals, plus the hand-computed tests. Functions and
 * aggregations are tested in test_promql_funcs.c, operators in
 * test_promql_binop.c; the in-memory source, the query runner and the
 * comparison all three use are in promql_testsrc.h.
 *
 * The table (cases[]) transcribes inputs from Prometheus's own test
 * scripts (promql/promqltest/testdata/<file>.test, cited per data set) into
 * llmtap's test notation; the expected results were produced by running
 * Prometheus's engine (v3.x, default flags: no delayed name removal) on the
 * same data and queries, and are compared token by token (see
 * promql_testsrc.h). Instant cases are also re-run as a range query around
 * the same time, as Prometheus's test runner does, and must agree.
 *
 * The other tests are hand-computed: llmtap's exact counters, the JSON
 * output byte for byte, limits, timeouts, errors, and the source contract.
 */
#include "qpool.h"
#include "promql_testsrc.h"

/* --- the cases transcribed from Prometheus's test scripts ----------------- */

/* subquery.test */
static const char D_SUBQ[] =
    "load 10s\n"
    "metric 1 2\n"
    "metric_total 0+1x1000\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"production\"} 0+50x1000 0+60x1000\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+30x1000 0+70x1000\n";

/* selectors.test */
static const char D_SEL[] =
    "load 10s\n"
    "http_requests_total{job=\"api-server\", instance=\"0\", group=\"production\"} 0+10x1000 "
    "100+30x1000\n"
    "http_requests_total{job=\"api-server\", instance=\"1\", group=\"production\"} 0+20x1000 "
    "200+30x1000\n"
    "http_requests_total{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+30x1000 "
    "300+80x1000\n"
    "http_requests_total{job=\"api-server\", instance=\"1\", group=\"canary\"} 0+40x2000\n";

/* staleness.test */
static const char D_STALE[] =
    "load 10s\n"
    "metric 0 1 stale 2\n"
    "gappy 1 _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 2\n";

/* at_modifier.test */
static const char D_AT[] = "load 10s\n"
                           "metric{job=\"1\"} 0+1x1000\n"
                           "metric{job=\"2\"} 0+2x1000\n"
                           "metric_topk{instance=\"1\"} 0+1x1000\n"
                           "metric_topk{instance=\"2\"} 0+2x1000\n"
                           "metric_topk{instance=\"3\"} 1000-1x1000\n";

/* range_queries.test */
static const char D_RQ[] = "load 30s\n"
                           "some_metric{env=\"a\"} 1+1x5\n"
                           "some_metric{env=\"b\"} 2+2x5\n"
                           "some_metric_gap{env=\"a\"} 1 _ _ 4\n"
                           "some_metric_nan 1 2 NaN 4\n";

/* name_label_dropping.test */
static const char D_NAMES[] = "load 5m\n"
                              "metric_total{env=\"1\"} 0 60 120\n"
                              "another_metric_total{env=\"1\"} 60 120 180\n";

/* literals.test */
static const char D_LIT[] = "load 5m\n";

static const struct tcase cases[] = {
    {D_SUBQ, "count_over_time(metric[1m:10s])", false, 10000, 0, 0, 0, "vector\n{} 2"},
    {D_SUBQ, "sum_over_time(metric[50s:5s])", false, 10000, 0, 0, 0, "vector\n{} 4"},
    {D_SUBQ, "sum_over_time(metric[50s:10s])", false, 60000, 0, 0, 0, "vector\n{} 10"},
    {D_SUBQ, "sum_over_time(metric[50s:1s] offset 30s)", false, 60000, 0, 0, 0, "vector\n{} 52"},
    {D_SUBQ, "sum_over_time(metric[50s:1s] offset -10s)", false, 20000, 0, 0, 0, "vector\n{} 52"},
    {D_SUBQ, "sum_over_time(metric[10s:1s])", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_SUBQ, "rate(metric_total[20s:10s])", false, 80000, 0, 0, 0, "vector\n{} 0.1"},
    {D_SUBQ, "rate(metric_total[20s:5s])", false, 80000, 0, 0, 0, "vector\n{} 0.13333333333333333"},
    {D_SUBQ, "max_over_time(rate(http_requests[1m])[5m:1m])", false, 8000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 5"},
    {D_SUBQ, "min_over_time(rate(http_requests[1m])[15m:1m] offset 1m)", false, 8000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 5"},
    {D_SUBQ, "avg_over_time(rate(http_requests[1m])[5m:])", false, 8000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 5"},
    {D_SUBQ, "max_over_time(sum(rate(http_requests[1m]))[10m:30s])", false, 8000000, 0, 0, 0,
     "vector\n{} 8"},
    {D_SUBQ, "rate(rate(metric_total[30s])[20s:10s])", false, 80000, 0, 0, 0, "vector\n{} 0"},
    {D_SUBQ, "last_over_time(metric_total[1m:7s])", false, 80000, 0, 0, 0,
     "vector\nmetric_total{} 7"},
    {D_SUBQ, "metric_total[30s:10s]", false, 80000, 0, 0, 0,
     "matrix\nmetric_total{} 6@60 7@70 8@80"},
    {D_SUBQ, "metric_total[30s:10s] offset 20s", false, 80000, 0, 0, 0,
     "matrix\nmetric_total{} 4@40 5@50 6@60"},
    {D_SUBQ, "metric_total[30s:10s] @ 50", false, 80000, 0, 0, 0,
     "matrix\nmetric_total{} 3@30 4@40 5@50"},
    {D_SUBQ, "rate(metric_total[1m500ms:10s])", false, 80000, 0, 0, 0, "vector\n{} 0.1"},
    {D_SUBQ, "rate(metric_total[1m1s:10s])", false, 80000, 0, 0, 0, "vector\n{} 0.1"},
    {D_SUBQ, "(metric_total + 1)[1m:15s]", false, 90000, 0, 0, 0,
     "matrix\n{} 5@45 7@60 8@75 10@90"},
    {D_SUBQ, "max_over_time((metric_total @ 30)[1m:15s])", false, 90000, 0, 0, 0, "vector\n{} 3"},
    {D_SUBQ, "max_over_time(metric_total[1m:15s] @ 40)", false, 90000, 0, 0, 0, "vector\n{} 3"},
    {D_SUBQ, "max_over_time(metric_total[1m:15s] @ start())", false, 90000, 0, 0, 0,
     "vector\n{} 9"},
    {D_SUBQ, "sum_over_time(sum_over_time(metric_total[20s:5s])[30s:10s])", false, 100000, 0, 0, 0,
     "vector\n{} 96"},
    {D_SUBQ, "max_over_time(rate(http_requests[1m])[5m:1m])", true, 7000000, 8000000, 250000, 0,
     "matrix\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3 3 3 3 "
     "3\n{group=\"production\", instance=\"1\", job=\"api-server\"} 5 5 5 5 5"},
    {D_SUBQ, "sum_over_time(metric_total[50s:7s])", true, 0, 120000, 13000, 0,
     "matrix\n{} 0 0 3 8 16 26 36 50 51 61"},
    {D_SUBQ, "last_over_time(metric_total[20s:15s] offset 10s)", true, 30000, 180000, 45000, 0,
     "matrix\nmetric_total{} 1 6 10 15"},
    {D_SUBQ, "max_over_time(metric_total[1m:15s] @ end())", true, 30000, 180000, 45000, 0,
     "matrix\n{} 18 18 18 18"},
    {D_SEL, "http_requests_total", false, 8000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "24000\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "32000\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "8000\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 16000"},
    {D_SEL, "rate(http_requests_total[1m])", false, 8000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3\n{group=\"canary\", "
     "instance=\"1\", job=\"api-server\"} 4\n{group=\"production\", instance=\"0\", "
     "job=\"api-server\"} 1\n{group=\"production\", instance=\"1\", job=\"api-server\"} 2"},
    {D_SEL, "rate(http_requests_total{group=~\"pro.*\"}[1m])", false, 8000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 1\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 2"},
    {D_SEL, "rate(http_requests_total{group=~\".*ry\", instance=\"1\"}[1m])", false, 18000000, 0, 0,
     0, "vector\n{group=\"canary\", instance=\"1\", job=\"api-server\"} 4"},
    {D_SEL, "rate(http_requests_total{group!=\"production\", instance!~\"0\"}[1m])", false,
     18000000, 0, 0, 0, "vector\n{group=\"canary\", instance=\"1\", job=\"api-server\"} 4"},
    {D_SEL, "http_requests_total offset 5m", false, 8000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "23100\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "30800\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "7700\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 15400"},
    {D_SEL, "http_requests_total offset -5m", false, 8000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "24900\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "33200\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "8300\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 16600"},
    {D_SEL, "rate(http_requests_total[1m] offset 5m)", false, 8000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 3\n{group=\"canary\", "
     "instance=\"1\", job=\"api-server\"} 4\n{group=\"production\", instance=\"0\", "
     "job=\"api-server\"} 1\n{group=\"production\", instance=\"1\", job=\"api-server\"} 2"},
    {D_SEL, "{__name__=~\"http_requests.*\", job=\"api-server\", instance=\"1\"}", false, 10000, 0,
     0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "40\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 20"},
    {D_SEL, "http_requests_total{job=\"api-server\", instance=\"0\"}[30s]", false, 25000, 0, 0, 0,
     "matrix\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} 0@0 30@10 "
     "60@20\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} 0@0 "
     "10@10 20@20"},
    {D_SEL, "http_requests_total{instance=\"0\"}[30s] offset 10s", false, 35000, 0, 0, 0,
     "matrix\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} 0@0 30@10 "
     "60@20\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} 0@0 "
     "10@10 20@20"},
    {D_SEL, "http_requests_total{job=\"api-server\", instance=\"0\", group=\"production\"}[1m]",
     false, 60000, 0, 0, 0,
     "matrix\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} 10@10 "
     "20@20 30@30 40@40 50@50 60@60"},
    {D_SEL, "{__name__=\"http_requests_total\", group=~\"c.*|p.*\", instance=~\"1\"}", false, 10000,
     0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "40\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 20"},
    {D_SEL, "http_requests_total{group=~\"(?i)CANARY\"}", false, 10000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "30\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} 40"},
    {D_SEL, "http_requests_total{instance=~\"0|\", group!~\"canary\"}", false, 10000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} 10"},
    {D_STALE, "metric", false, 0, 0, 0, 0, "vector\nmetric{} 0"},
    {D_STALE, "metric", false, 10000, 0, 0, 0, "vector\nmetric{} 1"},
    {D_STALE, "metric", false, 20000, 0, 0, 0, "vector"},
    {D_STALE, "metric", false, 30000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "metric", false, 40000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "metric", false, 300000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "metric", false, 320000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "metric", false, 330000, 0, 0, 0, "vector"},
    {D_STALE, "metric", false, 340000, 0, 0, 0, "vector"},
    {D_STALE, "count_over_time(metric[1m])", false, 10000, 0, 0, 0, "vector\n{} 2"},
    {D_STALE, "last_over_time(metric[1m])", false, 10000, 0, 0, 0, "vector\nmetric{} 1"},
    {D_STALE, "count_over_time(metric[1m])", false, 20000, 0, 0, 0, "vector\n{} 2"},
    {D_STALE, "last_over_time(metric[1m])", false, 20000, 0, 0, 0, "vector\nmetric{} 1"},
    {D_STALE, "count_over_time(metric[1m])", false, 30000, 0, 0, 0, "vector\n{} 3"},
    {D_STALE, "last_over_time(metric[1m])", false, 30000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "count_over_time(metric[1m])", false, 40000, 0, 0, 0, "vector\n{} 3"},
    {D_STALE, "last_over_time(metric[1m])", false, 40000, 0, 0, 0, "vector\nmetric{} 2"},
    {D_STALE, "gappy", true, 0, 360000, 30000, 0, "matrix\ngappy{} 1 1 1 1 1 1 1 1 1 1 _ _ 2"},
    {D_STALE, "count_over_time(metric[30s])", true, 0, 60000, 10000, 0, "matrix\n{} 1 2 2 2 1 1 _"},
    {D_AT, "metric @ 100", false, 0, 0, 0, 0, "vector\nmetric{job=\"1\"} 10\nmetric{job=\"2\"} 20"},
    {D_AT, "metric @ 100", false, 10000000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 10\nmetric{job=\"2\"} 20"},
    {D_AT, "metric @ 100s", false, 25000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 10\nmetric{job=\"2\"} 20"},
    {D_AT, "metric @ 100.1", false, 25000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 10\nmetric{job=\"2\"} 20"},
    {D_AT, "metric @ 100 offset 50s", false, 25000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 5\nmetric{job=\"2\"} 10"},
    {D_AT, "metric offset 50s @ 100", false, 25000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 5\nmetric{job=\"2\"} 10"},
    {D_AT, "metric @ 0 offset -50s", false, 25000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 5\nmetric{job=\"2\"} 10"},
    {D_AT, "metric @ start()", false, 50000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 5\nmetric{job=\"2\"} 10"},
    {D_AT, "metric @ end()", false, 50000, 0, 0, 0,
     "vector\nmetric{job=\"1\"} 5\nmetric{job=\"2\"} 10"},
    {D_AT, "sum(metric{job=\"1\"} @ 100)", false, 25000, 0, 0, 0, "vector\n{} 10"},
    {D_AT, "rate(metric{job=\"1\"}[100s] @ 100)", false, 25000, 0, 0, 0, "vector\n{job=\"1\"} 0.1"},
    {D_AT, "sum_over_time(metric{job=\"1\"}[100s] @ 100)", false, 25000, 0, 0, 0,
     "vector\n{job=\"1\"} 55"},
    {D_AT, "sum_over_time(metric{job=\"1\"}[100s] @ 100 offset 50s)", false, 25000, 0, 0, 0,
     "vector\n{job=\"1\"} 15"},
    {D_AT,
     "rate(metric{job=\"1\"}[100s] @ 100) + label_replace(rate(metric{job=\"2\"}[123s] @ 200), "
     "\"job\", \"1\", \"\", \"\")",
     false, 25000, 0, 0, 0, "vector\n{job=\"1\"} 0.30000000000000004"},
    {D_AT, "topk(1, metric_topk) and on () metric_topk @ 5000", false, 5000000, 0, 0, 0,
     "vector\nmetric_topk{instance=\"2\"} 1000"},
    {D_AT, "max_over_time(metric[10s:5s] @ 200)", false, 1000000, 0, 0, 0,
     "vector\n{job=\"1\"} 20\n{job=\"2\"} 40"},
    {D_AT, "metric{job=\"1\"} @ 100", true, 0, 60000, 20000, 0,
     "matrix\nmetric{job=\"1\"} 10 10 10 10"},
    {D_AT, "metric{job=\"1\"} @ start()", true, 10000, 60000, 20000, 0,
     "matrix\nmetric{job=\"1\"} 1 1 1"},
    {D_AT, "metric{job=\"1\"} @ end()", true, 10000, 60000, 20000, 0,
     "matrix\nmetric{job=\"1\"} 6 6 6"},
    {D_AT, "rate(metric{job=\"1\"}[100s] @ 100)", true, 0, 60000, 20000, 0,
     "matrix\n{job=\"1\"} 0.1 0.1 0.1 0.1"},
    {D_AT, "sum_over_time(metric{job=\"1\"}[10s:5s] @ 100) + time()", true, 0, 60000, 20000, 0,
     "matrix\n{job=\"1\"} 19 39 59 79"},
    {D_AT, "topk(1, metric_topk) and on () metric_topk @ end()", true, 100000, 1000000, 300000, 0,
     "matrix\nmetric_topk{instance=\"3\"} 990 960 930 900"},
    {D_RQ, "some_metric", true, 0, 120000, 60000, 0,
     "matrix\nsome_metric{env=\"a\"} 1 3 5\nsome_metric{env=\"b\"} 2 6 10"},
    {D_RQ, "some_metric", true, 0, 120000, 61000, 0,
     "matrix\nsome_metric{env=\"a\"} 1 3\nsome_metric{env=\"b\"} 2 6"},
    {D_RQ, "sum(some_metric)", true, 0, 60000, 10000, 0, "matrix\n{} 3 3 3 6 6 6 9"},
    {D_RQ, "some_metric_gap", true, 0, 120000, 10000, 0,
     "matrix\nsome_metric_gap{env=\"a\"} 1 1 1 1 1 1 1 1 1 4 4 4 4"},
    {D_RQ, "some_metric_nan", true, 0, 120000, 30000, 0, "matrix\nsome_metric_nan{} 1 2 NaN 4 4"},
    {D_RQ, "some_metric_nan > 1", true, 0, 120000, 30000, 0, "matrix\nsome_metric_nan{} _ 2 _ 4 4"},
    {D_RQ, "1", true, 0, 120000, 60000, 0, "matrix\n{} 1 1 1"},
    {D_RQ, "scalar(some_metric{env=\"a\"})", true, 0, 120000, 60000, 0, "matrix\n{} 1 3 5"},
    {D_RQ, "sum by (env) (some_metric) * on() group_left scalar(sum(some_metric))", true, 0, 120000,
     60000, 0, "matrix\n{env=\"a\"} 3 27 75\n{env=\"b\"} 6 54 150"},
    {D_NAMES, "metric_total", false, 600000, 0, 0, 0, "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "metric_total{env=\"1\"} * 1", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 120"},
    {D_NAMES, "metric_total > 10", false, 600000, 0, 0, 0, "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "metric_total > bool 10", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 1"},
    {D_NAMES, "metric_total == metric_total", false, 600000, 0, 0, 0,
     "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "metric_total == bool metric_total", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 1"},
    {D_NAMES, "abs(metric_total)", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 120"},
    {D_NAMES, "last_over_time(metric_total[5m])", false, 600000, 0, 0, 0,
     "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "first_over_time(metric_total[5m])", false, 600000, 0, 0, 0,
     "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "rate(metric_total[5m])", false, 600000, 0, 0, 0, "vector"},
    {D_NAMES, "sum_over_time(metric_total[5m])", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 120"},
    {D_NAMES, "-metric_total", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} -120"},
    {D_NAMES, "+metric_total", false, 600000, 0, 0, 0, "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "sort(metric_total)", false, 600000, 0, 0, 0, "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "label_replace(metric_total, \"env\", \"2\", \"\", \"\")", false, 600000, 0, 0, 0,
     "vector\nmetric_total{env=\"2\"} 120"},
    {D_NAMES,
     "label_replace(rate(metric_total[5m]), \"__name__\", \"rate_metric_total\", \"\", \"\")",
     false, 600000, 0, 0, 0, "vector"},
    {D_NAMES, "metric_total or another_metric_total", false, 600000, 0, 0, 0,
     "vector\nmetric_total{env=\"1\"} 120"},
    {D_NAMES, "metric_total + another_metric_total", false, 600000, 0, 0, 0,
     "vector\n{env=\"1\"} 300"},
    {D_NAMES, "clamp(metric_total, 0, 1)", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 1"},
    {D_NAMES, "timestamp(metric_total)", false, 600000, 0, 0, 0, "vector\n{env=\"1\"} 600"},
    {D_NAMES, "{__name__=~\".*_total\"} offset 5m", false, 600000, 0, 0, 0,
     "vector\nanother_metric_total{env=\"1\"} 120\nmetric_total{env=\"1\"} 60"},
    {D_NAMES, "metric_total unless another_metric_total", false, 600000, 0, 0, 0, "vector"},
    {D_NAMES, "rate({__name__=~\".*_total\"}[10m])", false, 600000, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_NAMES, "topk(1, {__name__=~\".*_total\"})", false, 600000, 0, 0, 0,
     "vector\nanother_metric_total{env=\"1\"} 180"},
    {D_NAMES, "max by (__name__) ({__name__=~\".*_total\"})", false, 600000, 0, 0, 0,
     "vector\nanother_metric_total{} 180\nmetric_total{} 120"},
    {D_LIT, "12.34e6", false, 0, 0, 0, 0, "scalar 12340000"},
    {D_LIT, "12.34e+6", false, 0, 0, 0, 0, "scalar 12340000"},
    {D_LIT, "12.34e-6", false, 0, 0, 0, 0, "scalar 0.00001234"},
    {D_LIT, "1+1", false, 0, 0, 0, 0, "scalar 2"},
    {D_LIT, "1-1", false, 0, 0, 0, 0, "scalar 0"},
    {D_LIT, "1 - -1", false, 0, 0, 0, 0, "scalar 2"},
    {D_LIT, ".2", false, 0, 0, 0, 0, "scalar 0.2"},
    {D_LIT, "+0.2", false, 0, 0, 0, 0, "scalar 0.2"},
    {D_LIT, "-0.2e-6", false, 0, 0, 0, 0, "scalar -2e-07"},
    {D_LIT, "+Inf", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_LIT, "inF", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_LIT, "-inf", false, 0, 0, 0, 0, "scalar -Inf"},
    {D_LIT, "NaN", false, 0, 0, 0, 0, "scalar NaN"},
    {D_LIT, "nan", false, 0, 0, 0, 0, "scalar NaN"},
    {D_LIT, "2.", false, 0, 0, 0, 0, "scalar 2"},
    {D_LIT, "1 / 0", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_LIT, "((1) / (0))", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_LIT, "-1 / 0", false, 0, 0, 0, 0, "scalar -Inf"},
    {D_LIT, "0 / 0", false, 0, 0, 0, 0, "scalar NaN"},
    {D_LIT, "1 % 0", false, 0, 0, 0, 0, "scalar NaN"},
    {D_LIT, "0x1F", false, 0, 0, 0, 0, "scalar 31"},
    {D_LIT, "1_000", false, 0, 0, 0, 0, "scalar 1000"},
    {D_LIT, "1e308 * 10", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_LIT, "2 ^ 0.5", false, 0, 0, 0, 0, "scalar 1.4142135623730951"},
};

static void test_prometheus_cases(void **state)
{
    (void)state;
    promql_testsrc_run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* --- hand-computed tests -------------------------------------------------- */

/* Evaluates and returns the text form (caller frees). */
static char *eval_text(struct store *st, const char *q, bool range, int64_t a, int64_t b,
                       int64_t step, const struct promql_eval_opts *o)
{
    struct promql_eval_error err;
    struct promql_result *r = run(st, q, range, a, b, step, o, &err);
    char *t = result_text(r, &err, range, a, b, step);
    promql_result_free(r);
    return t;
}

static void expect(struct store *st, const char *q, bool range, int64_t a, int64_t b, int64_t step,
                   const struct promql_eval_opts *o, const char *want)
{
    char *got = eval_text(st, q, range, a, b, step, o);
    bool ok = same_text(q, got, want, true, false);
    free(got);
    assert_true(ok);
}

/* A counter with a reset, a series born inside the windows, and a gap. */
static const char EXACT_DATA[] = "load 10s\n"
                                 "req_total{model=\"a\"} 0 1 3 3 7 10 2 5 5 9\n"
                                 "req_total{model=\"b\"} _ _ _ _ 4 6 9\n"
                                 "gap_total 1 2 _x33 5 6\n";

static void test_exact_counters(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, EXACT_DATA);
    /* (60s, 90s]: 5 5 9 after the baseline 2 at 60s: 3 + 0 + 4 */
    expect(&st, "increase(req_total{model=\"a\"}[30s])", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 7");
    /* (30s, 60s]: 3 -> 7 -> 10 -> reset -> 2: 4 + 3 + 2 */
    expect(&st, "increase(req_total{model=\"a\"}[30s])", false, 60000, 0, 0, NULL,
           "vector\n{model=\"a\"} 9");
    expect(&st, "rate(req_total{model=\"a\"}[30s])", false, 60000, 0, 0, NULL,
           "vector\n{model=\"a\"} 0.3");
    /* b has no sample before its window: it counts from its first one */
    expect(&st, "increase(req_total[1m])", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 16\n{model=\"b\"} 5");
    expect(&st, "sum(increase(req_total[1m]))", false, 90000, 0, 0, NULL, "vector\n{} 21");
    /* one sample and nothing before it: no value */
    expect(&st, "increase(req_total{model=\"a\"}[10s])", false, 0, 0, 0, NULL, "vector");
    expect(&st, "increase(req_total{model=\"a\"}[10s])", false, 10000, 0, 0, NULL,
           "vector\n{model=\"a\"} 1");
    /* the baseline is looked for within the lookback before the window */
    expect(&st, "increase(gap_total[1m])", false, 360000, 0, 0, NULL, "vector\n{} 4");
    expect(&st, "increase(gap_total[1m])", false, 400000, 0, 0, NULL, "vector\n{} 1");
    /* every step of a range query */
    expect(&st, "increase(req_total{model=\"a\"}[20s])", true, 20000, 90000, 10000, NULL,
           "matrix\n{model=\"a\"} 3 2 4 7 5 5 3 4");
    /* windows of a subquery: the same points */
    expect(&st, "increase(req_total{model=\"a\"}[30s:10s])", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 7");
    /* offset and @ move the window and its baseline together */
    expect(&st, "increase(req_total{model=\"a\"}[30s] offset 30s)", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 9");
    expect(&st, "increase(req_total{model=\"a\"}[30s] @ 60)", false, 0, 0, 0, NULL,
           "vector\n{model=\"a\"} 9");
    /* delta and irate are not counters' exact functions: unchanged */
    expect(&st, "delta(req_total{model=\"a\"}[30s])", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 6");
    expect(&st, "irate(req_total{model=\"a\"}[30s])", false, 90000, 0, 0, NULL,
           "vector\n{model=\"a\"} 0.4");
    /* the same with Prometheus's extrapolation */
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    o.exact_counters = false;
    /* 5 5 9 over 20s of the 30s window, extended by 10s to the left: 4 * 30/20 */
    expect(&st, "increase(req_total{model=\"a\"}[30s])", false, 90000, 0, 0, &o,
           "vector\n{model=\"a\"} 6");
    expect(&st, "increase(req_total{model=\"a\"}[10s])", false, 10000, 0, 0, &o, "vector");
    /* docs/query.md's example: 100 until 5m before, then 150 */
    store_load(&st, "load 10s\njump_total 100x30 150x30\n");
    expect(&st, "increase(jump_total[5m])", false, 600000, 0, 0, NULL, "vector\n{} 50");
    expect(&st, "increase(jump_total[5m])", false, 600000, 0, 0, &o, "vector\n{} 0");
    store_free(&st);
}

static void test_lookback_and_staleness(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, EXACT_DATA);
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    expect(&st, "req_total{model=\"b\"}", false, 100000, 0, 0, NULL,
           "vector\nreq_total{model=\"b\"} 9");
    o.lookback_ms = 30000; /* 60s is 40s before 100s */
    expect(&st, "req_total{model=\"b\"}", false, 100000, 0, 0, &o, "vector");
    o.lookback_ms = 40001;
    expect(&st, "req_total{model=\"b\"}", false, 100000, 0, 0, &o,
           "vector\nreq_total{model=\"b\"} 9");
    o.lookback_ms = 40000; /* exactly the lookback old: gone */
    expect(&st, "req_total{model=\"b\"}", false, 100000, 0, 0, &o, "vector");
    /* default 5m: 5m after the last sample it is gone */
    expect(&st, "gap_total", false, 10000 + 299999, 0, 0, NULL, "vector\ngap_total{} 2");
    expect(&st, "gap_total", false, 10000 + 300000, 0, 0, NULL, "vector");
    /* a staleness marker ends a series at once */
    store_load(&st, "load 10s\nm 1 stale 3\n");
    expect(&st, "m", true, 0, 30000, 5000, NULL, "matrix\nm{} 1 1 _ _ 3 3 3");
    expect(&st, "count_over_time(m[30s])", false, 20000, 0, 0, NULL, "vector\n{} 2");
    /* the range of a range selector is left-open: (t-30s, t] */
    expect(&st, "m[20s]", false, 20000, 0, 0, NULL, "matrix\nm{} 3@20");
    expect(&st, "m[21s]", false, 20000, 0, 0, NULL, "matrix\nm{} 1@0 3@20");
    store_free(&st);
}

/* A source that returns fixed series whatever the matchers: one with
 * unsorted labels and an empty value, and the same series again. */
static const struct promql_label FIX_L1[] = {
    {{"b", 1}, {"2", 1}}, {{"a", 1}, {"1", 1}}, {{"z", 1}, {"", 0}}};
static const struct promql_label FIX_L2[] = {{{"a", 1}, {"1", 1}}, {{"b", 1}, {"2", 1}}};
static const struct promql_sample FIX_P1[] = {{0, 1}, {10000, 2}};
static const struct promql_sample FIX_P2[] = {{10000, 5}, {20000, 3}, {30000, 4}};
static const struct promql_sample FIX_BAD[] = {{20000, 3}, {10000, 4}};

static int fixed_select(void *ud, struct promql_select *sel, const struct promql_series **out,
                        size_t *n)
{
    static struct promql_series s[2];
    (void)sel;
    s[0] = (struct promql_series){FIX_L1, 3, FIX_P1, 2};
    s[1] = *(int *)ud ? (struct promql_series){FIX_L2, 2, FIX_BAD, 2}
                      : (struct promql_series){FIX_L2, 2, FIX_P2, 3};
    *out = s;
    *n = 2;
    return 0;
}

static void test_source_contract(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, "load 10s\nx{b=\"2\", a=\"1\"} 1 2 3\nx{a=\"0\"} 5\n");
    /* the selection covers the lookback (minus 1ms) and the offset */
    expect(&st, "x offset 1m", false, 100000, 0, 0, NULL,
           "vector\nx{a=\"0\"} 5\nx{a=\"1\", b=\"2\"} 3");
    assert_int_equal(st.selects, 1);
    assert_int_equal(st.last_start, 100000 - 60000 - 300000 + 1);
    assert_int_equal(st.last_end, 100000 - 60000);
    /* a range selector: (start - range, end] */
    expect(&st, "count_over_time(x[1m])", true, 60000, 120000, 30000, NULL,
           "matrix\n{a=\"1\", b=\"2\"} 2 _ _");
    assert_int_equal(st.last_start, 1);
    assert_int_equal(st.last_end, 120000);
    /* exact counters also read the lookback before the first window */
    expect(&st, "increase(x[1m])", false, 60000, 0, 0, NULL, "vector\n{a=\"1\", b=\"2\"} 2");
    assert_int_equal(st.last_start, 1 - 300000);
    /* series in any order come back sorted by labels (Prometheus keeps its
     * storage's order for instant vectors; llmtap sorts them) */
    st.unsorted_order = true;
    expect(&st, "x", false, 20000, 0, 0, NULL, "vector\nx{a=\"0\"} 5\nx{a=\"1\", b=\"2\"} 3");
    store_free(&st);
    /* unsorted labels are sorted, empty values dropped, the same series
     * twice merged (the first one's sample wins a tie) */
    int bad = 0;
    struct promql_source src = {fixed_select, &bad};
    struct promql_ast *a = parse("count_over_time(x[1m]) + 0 * sum_over_time(x[1m])");
    struct promql_result *r = NULL;
    struct promql_eval_error err;
    assert_int_equal(promql_eval_instant(a, 30000, &src, NULL, &r, &err), PROMQL_OK);
    char *t = result_text(r, &err, false, 30000, 0, 0);
    assert_string_equal(t, "vector\n{a=\"1\", b=\"2\"} 4");
    free(t);
    promql_result_free(r);
    promql_ast_free(a);
    a = parse("sum_over_time(x[1m])");
    assert_int_equal(promql_eval_instant(a, 30000, &src, NULL, &r, &err), PROMQL_OK);
    t = result_text(r, &err, false, 30000, 0, 0);
    assert_string_equal(t, "vector\n{a=\"1\", b=\"2\"} 10");
    free(t);
    promql_result_free(r);
    /* samples out of order are the source's bug: an internal error */
    bad = 1;
    assert_int_equal(promql_eval_instant(a, 30000, &src, NULL, &r, &err), PROMQL_EEVAL);
    assert_int_equal(err.type, PROMQL_ERR_INTERNAL);
    assert_string_equal(err.msg, "expanding series: samples out of order in the source");
    promql_ast_free(a);
    /* a failing source */
    st.fail = 1;
    expect(&st, "x", false, 0, 0, 0, NULL, "error internal: expanding series: disk on fire");
    store_free(&st);
}

static const char *json_of(struct store *st, const char *q, bool range, int64_t a, int64_t b,
                           int64_t step, struct buf *out)
{
    struct promql_eval_error err;
    struct promql_result *r = run(st, q, range, a, b, step, NULL, &err);
    if (!r)
        fail_msg("%s: %s", q, err.msg);
    buf_reset(out);
    assert_int_equal(promql_result_json(r, out), PROMQL_OK);
    promql_result_free(r);
    return out->p;
}

static void test_json(void **state)
{
    (void)state;
    struct store st = {0};
    struct buf b = {0};
    store_load(&st, "load 1s\n"
                    "v{k=\"a<b>&c\"} 1 NaN Inf -Inf -0 0.1 1e-7 1e21 123456789012345678\n"
                    "w{x=\"1\"} 0.000001 999999999999999900000 2.5e-308 5e-324\n");
    assert_string_equal(json_of(&st, "1", false, 1435781451781, 0, 0, &b),
                        "{\"resultType\":\"scalar\",\"result\":[1435781451.781,\"1\"]}");
    assert_string_equal(json_of(&st, "-1/0", false, 1000, 0, 0, &b),
                        "{\"resultType\":\"scalar\",\"result\":[1,\"-Inf\"]}");
    assert_string_equal(json_of(&st, "0/0", false, -1500, 0, 0, &b),
                        "{\"resultType\":\"scalar\",\"result\":[-1.500,\"NaN\"]}");
    assert_string_equal(json_of(&st, "1/0", false, 50, 0, 0, &b),
                        "{\"resultType\":\"scalar\",\"result\":[0.050,\"+Inf\"]}");
    assert_string_equal(json_of(&st, "\"a\\\"<\\x01\\n\\u2028é\"", false, 0, 0, 0, &b),
                        "{\"resultType\":\"string\",\"result\":[0,"
                        "\"a\\\"\\u003c\\u0001\\n\\u2028é\"]}");
    /* one value per second: each number form of Prometheus's writer */
    static const char *const want[] = {
        "1", "NaN", "+Inf", "-Inf", "-0", "0.1", "1e-07", "1e+21", "123456789012345680"};
    for (int i = 0; i < 9; i++) {
        char q[64], exp[256];
        snprintf(q, sizeof q, "v @ %d", i);
        snprintf(exp, sizeof exp,
                 "{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"v\","
                 "\"k\":\"a\\u003cb\\u003e\\u0026c\"},\"value\":[2,\"%s\"]}]}",
                 want[i]);
        assert_string_equal(json_of(&st, q, false, 2000, 0, 0, &b), exp);
    }
    static const char *const want_w[] = {"0.000001", "999999999999999900000", "2.5e-308", "5e-324"};
    for (int i = 0; i < 4; i++) {
        char q[64], exp[256];
        snprintf(q, sizeof q, "w @ %d", i);
        snprintf(exp, sizeof exp,
                 "{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"w\","
                 "\"x\":\"1\"},\"value\":[0,\"%s\"]}]}",
                 want_w[i]);
        assert_string_equal(json_of(&st, q, false, 0, 0, 0, &b), exp);
    }
    assert_string_equal(json_of(&st, "v offset 1h", false, 9000, 0, 0, &b),
                        "{\"resultType\":\"vector\",\"result\":[]}");
    assert_string_equal(json_of(&st, "w[2s]", false, 2000, 0, 0, &b),
                        "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"w\","
                        "\"x\":\"1\"},\"values\":[[1,\"999999999999999900000\"],[2,\"2.5e-308\"]"
                        "]}]}");
    assert_string_equal(json_of(&st, "w * 2", true, 0, 1500, 500, &b),
                        "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"x\":\"1\"},"
                        "\"values\":[[0,\"0.000002\"],[0.500,\"0.000002\"],[1,"
                        "\"1.9999999999999997e+21\"],[1.500,\"1.9999999999999997e+21\"]]}]}");
    assert_string_equal(json_of(&st, "vector(1) > 2", true, 0, 1000, 1000, &b),
                        "{\"resultType\":\"matrix\",\"result\":[]}");
    buf_free(&b);
    store_free(&st);
}

/* The JSON of hand-built results against one written point by point with
 * pq_json_time and pq_format_value: promql_result_json writes a range
 * query's timestamps by adding the step to the text of the last one, and
 * writes points in batches straight into the buffer. Times cross digit
 * counts (9 -> 10, 99 -> 100, 9999999985 + 15, carries through nines),
 * fractional steps, zero from below, negative times, jumps back and far
 * ahead, the int64 extremes; series longer than a batch; a buffer that
 * starts empty and one that does not. Deterministic (fixed seed). */
static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void json_want(struct buf *w, const struct promql_result *r)
{
    buf_puts(w, r->type == PROMQL_TYPE_VECTOR ? "{\"resultType\":\"vector\",\"result\":["
                                              : "{\"resultType\":\"matrix\",\"result\":[");
    for (size_t i = 0; i < r->nseries; i++) {
        const struct promql_series *s = &r->series[i];
        buf_puts(w, i ? ",{\"metric\":{}" : "{\"metric\":{}");
        if (s->n)
            buf_puts(w, r->type == PROMQL_TYPE_VECTOR ? ",\"value\":" : ",\"values\":[");
        for (size_t j = 0; j < s->n; j++) {
            buf_puts(w, j ? ",[" : "[");
            pq_json_time(w, s->samples[j].t);
            buf_puts(w, ",\"");
            pq_format_value(w, s->samples[j].v);
            buf_puts(w, "\"]");
        }
        if (s->n && r->type == PROMQL_TYPE_MATRIX)
            buf_puts(w, "]");
        buf_puts(w, "}");
    }
    buf_puts(w, "]}");
}

static void test_json_points(void **state)
{
    (void)state;
    enum { NS = 12, MAXN = 9000 };
    static struct promql_sample pts[NS][MAXN];
    struct promql_series ser[NS] = {{0}};
    uint64_t rs = 12345;
    static const double special[] = {0, -0.0, NAN, INFINITY, -INFINITY, 1e-7, 1e21, 0.1, 1, -2.5};
    /* first time (ms), step (ms), count */
    static const struct {
        int64_t t0, step;
        size_t n;
    } runs[NS] = {
        {0, 1000, 150},               /* 0 .. 149: 1 -> 2 -> 3 digits */
        {0, 15000, 800},              /* 15 s from 0 */
        {9999999985000, 15000, 20},   /* 10 -> 11 digits */
        {1999999970000, 15000, 10},   /* a carry through the nines */
        {1795372365000, 15000, MAXN}, /* a day-long query: more than a batch */
        {1795372365500, 7250, 600},   /* fractional step */
        {98500, 333, 700},            /* ms step across 99 -> 100 */
        {-20500, 1500, 40},           /* negative, through zero */
        {-999999999999, 99999, 30},   /* negative, large */
        {1795372365000, 99000, 30},   /* step near the limit of the addition */
        {1795372365000, 100000, 30},  /* and past it */
        {0, 0, 200},                  /* random times (below) */
    };
    for (size_t i = 0; i < NS; i++) {
        for (size_t j = 0; j < runs[i].n; j++) {
            int64_t t = runs[i].t0 + (int64_t)j * runs[i].step;
            if (i == NS - 1) { /* jumps back and ahead, the extremes */
                uint64_t x = rng_next(&rs);
                t = j == 0   ? INT64_MIN
                    : j == 1 ? INT64_MAX
                    : j % 3  ? (int64_t)(x >> (x % 64))
                             : (int64_t)x;
            }
            uint64_t x = rng_next(&rs);
            double v = x % 5 == 0 ? special[x / 5 % 10]
                                  : (double)(x >> 40) / (double)(1 + (x & 0xfff)) *
                                        (x & (1ull << 20) ? -1 : 1);
            pts[i][j] = (struct promql_sample){t, v};
        }
        ser[i] = (struct promql_series){NULL, 0, pts[i], runs[i].n};
    }
    struct buf got = {0}, want = {0};
    struct promql_result r = {.type = PROMQL_TYPE_MATRIX, .series = ser, .nseries = NS};
    for (int pre = 0; pre < 2; pre++) { /* into an empty buffer, then after a prefix */
        buf_reset(&got);
        buf_reset(&want);
        if (pre) {
            buf_puts(&got, "{\"data\":");
            buf_puts(&want, "{\"data\":");
        }
        assert_int_equal(promql_result_json(&r, &got), PROMQL_OK);
        json_want(&want, &r);
        assert_int_equal(got.len, want.len);
        assert_int_equal(strlen(got.p), got.len);
        assert_string_equal(got.p, want.p);
    }
    /* with a pool: pieces of at most 4096 points written by several
     * threads (the day-long series spans three), an empty series among
     * them; the same bytes */
    struct qpool *pool = qpool_create(2);
    assert_non_null(pool);
    struct promql_series many[2 * NS + 1];
    for (size_t i = 0; i < 2 * NS + 1; i++)
        many[i] = i == NS ? (struct promql_series){NULL, 0, NULL, 0} : ser[i % NS];
    struct promql_result mr = {.type = PROMQL_TYPE_MATRIX, .series = many, .nseries = 2 * NS + 1};
    for (int rep = 0; rep < 20; rep++) {
        buf_reset(&got);
        buf_reset(&want);
        assert_int_equal(promql_result_json_pool(rep % 2 ? &mr : &r, &got, pool), PROMQL_OK);
        json_want(&want, rep % 2 ? &mr : &r);
        assert_int_equal(got.len, want.len);
        assert_string_equal(got.p, want.p);
    }
    qpool_destroy(pool);
    /* each series alone (the clock starts afresh), and as vectors */
    for (size_t i = 0; i < NS; i++) {
        struct promql_result one = {.type = PROMQL_TYPE_MATRIX, .series = &ser[i], .nseries = 1};
        buf_reset(&got);
        buf_reset(&want);
        assert_int_equal(promql_result_json(&one, &got), PROMQL_OK);
        json_want(&want, &one);
        assert_string_equal(got.p, want.p);
    }
    struct promql_series vec[NS];
    for (size_t i = 0; i < NS; i++)
        vec[i] = (struct promql_series){NULL, 0, &pts[NS - 1 - i][i % 3], 1};
    struct promql_result vr = {.type = PROMQL_TYPE_VECTOR, .series = vec, .nseries = NS};
    buf_reset(&got);
    buf_reset(&want);
    assert_int_equal(promql_result_json(&vr, &got), PROMQL_OK);
    json_want(&want, &vr);
    assert_string_equal(got.p, want.p);
    buf_free(&got);
    buf_free(&want);
}

static void test_query_errors(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, EXACT_DATA);
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    expect(&st, "1", true, 10, 0, 1, NULL,
           "error bad_data: invalid parameter \"end\": end timestamp must not be before start "
           "time");
    expect(&st, "1", true, 0, 10, 0, NULL,
           "error bad_data: invalid parameter \"step\": zero or negative query resolution step "
           "widths are not accepted. Try a positive integer");
    struct promql_eval_error err;
    struct promql_result *r = run(&st, "1", true, 0, 11000000, 1000, NULL, &err);
    assert_int_equal(r->nseries, 1);
    assert_int_equal(r->series[0].n, 11001);
    promql_result_free(r);
    char *t = eval_text(&st, "1", true, 0, 11001000, 1000, NULL);
    assert_string_equal(t, "error bad_data: exceeded maximum resolution of 11,000 points per "
                           "timeseries. Try decreasing the query resolution (?step=XX)");
    free(t);
    o.max_points_per_series = 1234567;
    t = eval_text(&st, "1", true, 0, 1234568, 1, &o);
    assert_string_equal(t, "error bad_data: exceeded maximum resolution of 1,234,567 points per "
                           "timeseries. Try decreasing the query resolution (?step=XX)");
    free(t);
    expect(&st, "req_total[1m]", true, 0, 10, 1, NULL,
           "error bad_data: invalid parameter \"query\": invalid expression type \"range vector\" "
           "for range query, must be Scalar or instant Vector");
    expect(&st, "\"s\"", true, 0, 10, 1, NULL,
           "error bad_data: invalid parameter \"query\": invalid expression type \"string\" for "
           "range query, must be Scalar or instant Vector");
    expect(&st, "topk(NaN, req_total)", false, 0, 0, 0, NULL,
           "error execution: Parameter value is NaN");
    expect(&st, "info(req_total)", false, 0, 0, 0, NULL,
           "error execution: function info is not supported by llmtap");
    /* the API's error types and HTTP statuses */
    assert_string_equal(promql_errtype_name(PROMQL_ERR_BAD_DATA), "bad_data");
    assert_string_equal(promql_errtype_name(PROMQL_ERR_TOO_MANY_SAMPLES), "execution");
    assert_string_equal(promql_errtype_name(PROMQL_ERR_TIMEOUT), "timeout");
    assert_string_equal(promql_errtype_name(PROMQL_ERR_CANCELED), "canceled");
    assert_int_equal(promql_errtype_http_status(PROMQL_ERR_BAD_DATA), 400);
    assert_int_equal(promql_errtype_http_status(PROMQL_ERR_EXECUTION), 422);
    assert_int_equal(promql_errtype_http_status(PROMQL_ERR_TOO_MANY_SAMPLES), 422);
    assert_int_equal(promql_errtype_http_status(PROMQL_ERR_TIMEOUT), 503);
    assert_int_equal(promql_errtype_http_status(PROMQL_ERR_INTERNAL), 500);
    /* bad arguments */
    r = (void *)1;
    struct promql_source src = {store_select, &st};
    assert_int_equal(promql_eval_instant(NULL, 0, &src, NULL, &r, &err), PROMQL_EINVAL);
    assert_null(r);
    struct promql_ast *a = parse("1");
    assert_int_equal(promql_eval_instant(a, 0, NULL, NULL, &r, NULL), PROMQL_EINVAL);
    assert_int_equal(promql_eval_range(a, 0, 0, 1, &src, NULL, NULL, &err), PROMQL_EINVAL);
    promql_ast_free(a);
    promql_result_free(NULL);
    store_free(&st);
}

static bool cancel_now(void *ud)
{
    return ++*(int *)ud > 3;
}

static void test_limits(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, "load 1s\nm{i=\"1\"} 0+1x100\nm{i=\"2\"} 0+1x100\n");
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    /* 2 series x 50 steps = 100 samples */
    o.max_samples = 100;
    struct buf want = {0};
    buf_puts(&want, "matrix");
    for (int i = 1; i <= 2; i++) {
        buf_printf(&want, "\nm{i=\"%d\"}", i);
        for (int k = 0; k < 50; k++)
            buf_printf(&want, " %d", k);
    }
    expect(&st, "m", true, 0, 49000, 1000, &o, want.p);
    buf_free(&want);
    o.max_samples = 99;
    expect(&st, "m", true, 0, 49000, 1000, &o,
           "error execution: query processing would load too many samples into memory in query "
           "execution");
    struct promql_eval_error err;
    assert_null(run(&st, "sum(m)", true, 0, 99000, 1000, &o, &err));
    assert_int_equal(err.type, PROMQL_ERR_TOO_MANY_SAMPLES);
    /* a range selector's window counts too */
    o.max_samples = 50;
    assert_null(run(&st, "sum_over_time(m[60s])", false, 99000, 0, 0, &o, &err));
    assert_int_equal(err.type, PROMQL_ERR_TOO_MANY_SAMPLES);
    o.max_samples = 200;
    expect(&st, "sum_over_time(m[60s])", false, 99000, 0, 0, &o,
           "vector\n{i=\"1\"} 4170\n{i=\"2\"} 4170");
    /* timeout: the source takes 5ms of a 1ms budget */
    promql_eval_opts_init(&o);
    o.timeout_ms = 1;
    st.spin_ms = 5;
    assert_null(run(&st, "sum(m)", true, 0, 99000, 100, &o, &err));
    assert_int_equal(err.type, PROMQL_ERR_TIMEOUT);
    assert_string_equal(err.msg, "query timed out in expression evaluation");
    st.spin_ms = 0;
    /* cancellation is polled */
    int polls = 0;
    promql_eval_opts_init(&o);
    o.canceled = cancel_now;
    o.cancel_ud = &polls;
    assert_null(run(&st, "sum(m)", true, 0, 99000, 10, &o, &err));
    assert_int_equal(err.type, PROMQL_ERR_CANCELED);
    assert_string_equal(err.msg, "query was canceled in expression evaluation");
    store_free(&st);
}

/* Things the differential table cannot show: default subquery step,
 * experimental functions, results' types and times. */
static void test_misc(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, "load 30s\n"
                    "c_total 0+1x100\n"
                    "node{instance=\"10\"} 1\nnode{instance=\"9\"} 2\nnode{instance=\"a1\"} 3\n");
    struct promql_eval_error err;
    /* a subquery without a step uses opts.default_step_ms (1m) */
    expect(&st, "count_over_time(c_total[10m:])", false, 3000000, 0, 0, NULL, "vector\n{} 10");
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    o.default_step_ms = 30000;
    expect(&st, "count_over_time(c_total[10m:])", false, 3000000, 0, 0, &o, "vector\n{} 20");
    /* experimental functions, when the parser accepts them */
    expect(&st, "sort_by_label(node, \"instance\")", false, 0, 0, 0, NULL,
           "vector\nnode{instance=\"9\"} 2\nnode{instance=\"10\"} 1\nnode{instance=\"a1\"} 3");
    expect(&st, "sort_by_label_desc(node, \"instance\")", false, 0, 0, 0, NULL,
           "vector\nnode{instance=\"a1\"} 3\nnode{instance=\"10\"} 1\nnode{instance=\"9\"} 2");
    expect(&st, "mad_over_time(c_total[2m])", false, 3000000, 0, 0, NULL, "vector\n{} 1");
    expect(&st, "ts_of_max_over_time(c_total[2m])", false, 3000000, 0, 0, NULL, "vector\n{} 3000");
    /* results: a vector's samples are at the evaluation time; a string's too */
    struct promql_result *r = run(&st, "c_total", false, 3000001, 0, 0, NULL, &err);
    assert_int_equal(r->type, PROMQL_TYPE_VECTOR);
    assert_int_equal(r->nseries, 1);
    assert_int_equal(r->series[0].n, 1);
    assert_int_equal(r->series[0].samples[0].t, 3000001);
    assert_int_equal(r->series[0].nlabels, 1);
    assert_string_equal(r->series[0].labels[0].name.p, "__name__");
    promql_result_free(r);
    r = run(&st, "\"x\\x00y\"", false, 7000, 0, 0, NULL, &err);
    assert_int_equal(r->type, PROMQL_TYPE_STRING);
    assert_int_equal(r->string.len, 3);
    assert_memory_equal(r->string.p, "x\0y", 3);
    assert_int_equal(r->string_t, 7000);
    promql_result_free(r);
    r = run(&st, "scalar(c_total)", false, 60000, 0, 0, NULL, &err);
    assert_int_equal(r->type, PROMQL_TYPE_SCALAR);
    assert_int_equal(r->scalar.t, 60000);
    assert_true(r->scalar.v == 2);
    promql_result_free(r);
    /* label_replace may put a NUL byte into a value */
    r = run(&st, "label_replace(vector(1), \"l\", \"a\\x00b\", \"\", \"\")", false, 0, 0, 0, NULL,
            &err);
    assert_int_equal(r->series[0].nlabels, 1);
    assert_int_equal(r->series[0].labels[0].value.len, 3);
    promql_result_free(r);
    store_free(&st);
}

/* The evaluator may run on many threads at once over one tree. */
static void test_options_defaults(void **state)
{
    (void)state;
    struct promql_eval_opts o;
    promql_eval_opts_init(&o);
    assert_int_equal(o.lookback_ms, 300000);
    assert_int_equal(o.default_step_ms, 60000);
    assert_int_equal(o.timeout_ms, 120000);
    assert_int_equal(o.max_samples, 50000000);
    assert_int_equal(o.max_points_per_series, 11000);
    assert_true(o.exact_counters);
    assert_null(o.canceled);
    /* zeros mean defaults */
    struct store st = {0};
    store_load(&st, "load 1m\nx 1\n");
    struct promql_eval_opts z = {0};
    expect(&st, "x", false, 299999, 0, 0, &z, "vector\nx{} 1");
    expect(&st, "x", false, 300000, 0, 0, &z, "vector");
    store_free(&st);
}

/* The evaluator's fast paths against hand-computed values: histograms
 * whose buckets come out of label order unsorted by le, with a bucket
 * missing at a step, with two spellings of one le (the sort then decides)
 * and with a le that is NaN; aggregations folded series by series, with
 * series missing at steps, off-grid and duplicate samples. */
static void test_fast_paths(void **state)
{
    (void)state;
    struct store st = {0};
    store_load(&st, "load 10s\n"
                    "b{g=\"a\",le=\"0.5\"} 1 2 _\n"
                    "b{g=\"a\",le=\"1\"} 2 4 4\n"
                    "b{g=\"a\",le=\"10\"} 3 8 8\n"
                    "b{g=\"a\",le=\"2\"} 3 6 6\n"
                    "b{g=\"a\",le=\"+Inf\"} 4 8 10\n"
                    "b{g=\"b\",le=\"1\"} 1 1 3\n"
                    "b{g=\"b\",le=\"1.0\"} 1 1 1\n"
                    "b{g=\"b\",le=\"+Inf\"} 4 4 8\n"
                    "b{g=\"c\",le=\"NaN\"} 1 1 1\n"
                    "b{g=\"c\",le=\"1\"} 2 2 2\n"
                    "b{g=\"c\",le=\"+Inf\"} 4 4 4\n");
    /* a: rank 2 of 4 in (0.5, 1]; 4 of 8 at 1; without 0.5, 5 of 10 in
     * (1, 2]. b: le 1 coalesced (2, 2, 4): 1, 1, 1. c: NaN sorts as
     * qsort leaves it, here first: the quantile lands in (NaN, 1]. */
    expect(&st, "histogram_quantile(0.5, b)", true, 0, 20000, 10000, NULL,
           "matrix\n{g=\"a\"} 1 1 1.5\n{g=\"b\"} 1 1 1\n{g=\"c\"} NaN NaN NaN");
    /* a: 3.6 of 4 in (2, 10]: 2 + 8 * 0.6 (Go's float too); b: in +Inf,
     * so the last finite le */
    expect(&st, "histogram_quantile(0.9, b)", true, 0, 20000, 10000, NULL,
           "matrix\n{g=\"a\"} 10 6.800000000000001 10\n{g=\"b\"} 1 1 1\n{g=\"c\"} NaN NaN "
           "NaN");
    expect(&st, "histogram_fraction(0, 2, b{g=\"a\"})", true, 0, 20000, 10000, NULL,
           "matrix\n{g=\"a\"} 0.75 0.75 0.6");
    store_free(&st);

    store_load(&st, "load 10s\n"
                    "x{g=\"a\",i=\"1\"} 1 _ 3 4\n"
                    "x{g=\"a\",i=\"2\"} 10 20 _ 40\n"
                    "x{g=\"b\",i=\"1\"} _ _ 5 _\n"
                    "x{g=\"b\",i=\"2\"} 1e300 -1e300 1 NaN\n");
    /* gaps are held by the lookback; NaN and infinities fold as they do */
    expect(&st, "sum by (g) (x)", true, 0, 30000, 10000, NULL,
           "matrix\n{g=\"a\"} 11 21 23 44\n{g=\"b\"} 1e+300 -1e+300 6 NaN");
    expect(&st, "max by (g) (x)", true, 0, 30000, 10000, NULL,
           "matrix\n{g=\"a\"} 10 20 20 40\n{g=\"b\"} 1e+300 -1e+300 5 5");
    expect(&st, "count by (g) (x)", true, 0, 30000, 10000, NULL,
           "matrix\n{g=\"a\"} 2 2 2 2\n{g=\"b\"} 1 1 2 2");
    expect(&st, "avg by (g) (x)", true, 0, 30000, 10000, NULL,
           "matrix\n{g=\"a\"} 5.5 10.5 11.5 22\n{g=\"b\"} 1e+300 -1e+300 3 NaN");
    /* series missing at steps (filtered out), a group with none at one */
    expect(&st, "sum by (g) (x > 3)", true, 0, 30000, 10000, NULL,
           "matrix\n{g=\"a\"} 10 20 20 44\n{g=\"b\"} 1e+300 _ 5 5");
    /* steps off the samples' grid: only the lookback holds them */
    expect(&st, "sum(x{g=\"a\"})", true, 5000, 35000, 10000, NULL, "matrix\n{} 11 21 23 44");
    /* the same range in chunks of many steps (a 1 s step: 31 steps) */
    expect(&st, "count(x)", true, 0, 30000, 1000, NULL,
           "matrix\n{} 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 4 4 4 4 4 4 4 4 4 4 4");
    store_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_paths),       cmocka_unit_test(test_prometheus_cases),
        cmocka_unit_test(test_exact_counters),   cmocka_unit_test(test_lookback_and_staleness),
        cmocka_unit_test(test_source_contract),  cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_points),      cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_misc),
        cmocka_unit_test(test_options_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
