/*
 * Unit tests for the PromQL evaluator's functions and aggregations
 * (collector/promql_func.c, promql_agg.c, through promql_eval.c): the
 * cases transcribed from Prometheus's functions.test, aggregators.test,
 * histograms.test and their kin. Selectors and the hand-computed tests
 * are in test_promql_eval.c, operators in test_promql_binop.c.
 *
 * The table (cases[]) transcribes inputs from Prometheus's own test
 * scripts (promql/promqltest/testdata/<file>.test, cited per data set) into
 * llmtap's test notation; the expected results were produced by running
 * Prometheus's engine (v3.x, default flags: no delayed name removal) on the
 * same data and queries, and are compared token by token (numbers may
 * differ in the last bits only where marked NEAR, for the C library's trig
 * functions). Instant cases are also re-run as a range query around the
 * same time, as Prometheus's test runner does, and must agree. The source
 * and the runner are in promql_testsrc.h.
 */
#include "promql_testsrc.h"

#include "promql_func.h"

/* --- the cases transcribed from Prometheus's test scripts ----------------- */

/* functions.test */
static const char D_RESETS[] = "load 5m\n"
                               "http_requests{path=\"/foo\"} 1 2 3 0 1 0 0 1 2 0\n"
                               "http_requests{path=\"/bar\"} 1 2 3 4 5 1 2 3 4 5\n"
                               "http_requests{path=\"/biz\"} 0 0 0 0 0 1 1 1 1 1\n";

/* functions.test */
static const char D_CHANGES_NAN[] = "load 5m\n"
                                    "x{a=\"b\"} NaN NaN NaN\n"
                                    "x{a=\"c\"} 0 NaN 0\n";

/* functions.test */
static const char D_INCREASE[] = "load 5m\n"
                                 "http_requests_total{path=\"/foo\"} 0+10x10\n"
                                 "http_requests_total{path=\"/bar\"} 0+18x5 0+18x5\n"
                                 "http_requests_total{path=\"/dings\"} 10+10x10\n"
                                 "http_requests_total{path=\"/bumms\"} 1+10x10\n";

/* functions.test */
static const char D_INCREASE_RESET[] = "load 5m\n"
                                       "http_requests_total{path=\"/foo\"} 0 1 2 3 2 3 4\n";

/* functions.test */
static const char D_RATE_RESET[] = "load 5m\n"
                                   "testcounter_reset_middle_total 0+27x4 0+27x5\n"
                                   "testcounter_reset_end_total 0+10x9 0 10\n";

/* functions.test */
static const char D_RATE_OFFSET[] = "load 5m\n"
                                    "calculate_rate_offset_total{x=\"a\"} 0+10x10\n"
                                    "calculate_rate_offset_total{x=\"b\"} 0+20x10\n"
                                    "calculate_rate_window_total 0+80x10\n";

/* functions.test */
static const char D_ZERO_CUTOFF[] = "load 4m\n"
                                    "testcounter_zero_cutoff_total{start=\"0m\"} 0+240x10\n"
                                    "testcounter_zero_cutoff_total{start=\"1m\"} 60+240x10\n"
                                    "testcounter_zero_cutoff_total{start=\"2m\"} 120+240x10\n"
                                    "testcounter_zero_cutoff_total{start=\"3m\"} 180+240x10\n"
                                    "testcounter_zero_cutoff_total{start=\"4m\"} 240+240x10\n"
                                    "testcounter_zero_cutoff_total{start=\"5m\"} 300+240x10\n";

/* functions.test */
static const char D_IRATE[] = "load 5m\n"
                              "http_requests_total{path=\"/foo\"} 0+10x10\n"
                              "http_requests_total{path=\"/bar\"} 0+10x5 0+10x5\n"
                              "http_requests_nan{} 1 NaN NaN 5 11\n";

/* functions.test */
static const char D_DELTA[] = "load 5m\n"
                              "http_requests{path=\"/foo\"} 0 50 100 150 200\n"
                              "http_requests{path=\"/bar\"} 200 150 100 50 0\n";

/* functions.test */
static const char D_IDELTA[] = "load 5m\n"
                               "http_requests{path=\"/foo\"} 0 50 100 150\n"
                               "http_requests{path=\"/bar\"} 0 50 100 50\n";

/* functions.test */
static const char D_DERIV[] =
    "load 5m\n"
    "testcounter_reset_middle_total 0+10x4 0+10x5\n"
    "http_requests_total{job=\"app-server\", instance=\"1\", group=\"canary\"} 0+80x10\n"
    "http_requests_inf{job=\"app-server\", instance=\"1\", group=\"canary\"} -Inf 0+80x10 Inf\n";

/* functions.test */
static const char D_LABEL_REPLACE[] =
    "load 5m\n"
    "testmetric{src=\"source-value-10\",dst=\"original-destination-value\"} 0\n"
    "testmetric{src=\"source-value-20\",dst=\"original-destination-value\"} 1\n";

/* functions.test */
static const char D_TIMESTAMP[] = "load 10s\n"
                                  "metric 1 1\n";

/* functions.test */
static const char D_LABEL_JOIN[] =
    "load 5m\n"
    "testmetric{src=\"a\",src1=\"b\",src2=\"c\",dst=\"original-destination-value\"} 0\n"
    "testmetric{src=\"d\",src1=\"e\",src2=\"f\",dst=\"original-destination-value\"} 1\n"
    "testmetric1{src=\"foo\",src1=\"bar\",src2=\"foobar\"} 0\n"
    "testmetric1{src=\"fizz\",src1=\"buzz\",src2=\"fizzbuzz\"} 1\n"
    "dup{label=\"a\", this=\"a\"} 1.0\n"
    "dup{label=\"b\", this=\"a\"} 1.0\n";

/* functions.test */
static const char D_EMPTY[] = "load 5m\n";

/* functions.test */
static const char D_CLAMP[] = "load 5m\n"
                              "test_clamp{src=\"clamp-a\"} -50\n"
                              "test_clamp{src=\"clamp-b\"} 0\n"
                              "test_clamp{src=\"clamp-c\"} 100\n";

/* functions.test */
static const char D_SGN[] = "load 5m\n"
                            "test_sgn{src=\"sgn-a\"} -Inf\n"
                            "test_sgn{src=\"sgn-b\"} Inf\n"
                            "test_sgn{src=\"sgn-c\"} NaN\n"
                            "test_sgn{src=\"sgn-d\"} -50\n"
                            "test_sgn{src=\"sgn-e\"} 0\n"
                            "test_sgn{src=\"sgn-f\"} 100\n";

/* functions.test */
static const char D_SORT[] =
    "load 5m\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"production\"} 0+10x10\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"production\"} 0+20x10\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+30x10\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"canary\"} 0+40x10\n"
    "http_requests{job=\"api-server\", instance=\"2\", group=\"canary\"} NaN NaN NaN NaN NaN NaN "
    "NaN NaN NaN NaN NaN\n"
    "http_requests{job=\"app-server\", instance=\"0\", group=\"production\"} 0+50x10\n"
    "http_requests{job=\"app-server\", instance=\"1\", group=\"production\"} 0+60x10\n"
    "http_requests{job=\"app-server\", instance=\"0\", group=\"canary\"} 0+70x10\n"
    "http_requests{job=\"app-server\", instance=\"1\", group=\"canary\"} 0+80x10\n";

/* functions.test */
static const char D_AVG_OVER_TIME[] =
    "load 10s\n"
    "metric 1 2 3 4 5\n"
    "metric2 1 2 3 4 Inf\n"
    "metric3 1 2 3 4 -Inf\n"
    "metric4 1 2 3 Inf -Inf\n"
    "metric5 Inf 0 Inf\n"
    "metric5c Inf Inf Inf -Inf\n"
    "metric6 1 2 3 -Inf -Inf\n"
    "metric7 1 2 -Inf -Inf Inf\n"
    "metric8 9.988465674311579e+307 9.988465674311579e+307\n"
    "metric9 -9.988465674311579e+307 -9.988465674311579e+307 -9.988465674311579e+307\n"
    "metric10 -9.988465674311579e+307 9.988465674311579e+307\n"
    "metric11 1 2 3 NaN NaN\n";

/* functions.test */
static const char D_BIGSMALL[] =
    "load 10s\n"
    "metric 1 1e100 1 -1e100\n"
    "load 5s\n"
    "metric1 1e10 1e-6 1e-6 1e-6 1e-6 1e-6\n"
    "metric2 5.30921651659898 0.961118537914768 1.62091361305318 0.865089463758091 "
    "0.323055185914577 0.951811357687154\n"
    "metric3 1.78264e50 0.76342771 1.9592258 7.69805412 458.90154\n"
    "metric5 1.78264E+50 0.76342771 1.9592258 2.258E+220 7.69805412 458.90154\n"
    "metric9 -1.78264E+215 0.76342771 1.9592258 2.258E+220 7.69805412 1.78264E+215 -458.90154\n";

/* functions.test */
static const char D_DENSE[] = "load 1ms\n"
                              "metric 1+0x4000\n";

/* functions.test */
static const char D_STDDEV_OVER_TIME[] =
    "load 10s\n"
    "metric 0 8 8 2 3\n"
    "metric_const 1.5990505637277868 1.5990505637277868 1.5990505637277868\n";

/* functions.test */
static const char D_QUANTILE_OVER_TIME[] = "load 10s\n"
                                           "data{test=\"two samples\"} 0 1\n"
                                           "data{test=\"three samples\"} 0 1 2\n"
                                           "data{test=\"uneven samples\"} 0 1 4\n";

/* functions.test */
static const char D_OVER_TIME[] = "load 10s\n"
                                  "data{type=\"numbers\"} 2 0 3\n"
                                  "data{type=\"some_nan\"} 2 0 NaN\n"
                                  "data{type=\"some_nan2\"} 2 NaN 1\n"
                                  "data{type=\"some_nan3\"} NaN 0 1\n"
                                  "data{type=\"only_nan\"} NaN NaN NaN\n"
                                  "data_sparse{type=\"sparse_numbers\"} _ 5 2 _ 4 _\n";

/* functions.test */
static const char D_ROUND[] = "load 5m\n"
                              "data{type=\"positive\"} 2.5\n"
                              "data{type=\"whole\"} 2\n"
                              "data{type=\"negative\"} -2.5\n"
                              "data{type=\"nwhole\"} -2\n"
                              "data{type=\"zero\"} 0\n"
                              "data{type=\"nzero\"} -0\n"
                              "data{type=\"inf\"} +Inf\n"
                              "data{type=\"ninf\"} -Inf\n"
                              "data{type=\"nan\"} NaN\n";

/* trig_functions.test */
static const char D_TRIG[] = "load 5m\n"
                             "trig{l=\"x\"} 10\n"
                             "trig{l=\"y\"} 20\n"
                             "trig{l=\"NaN\"} NaN\n";

/* functions.test */
static const char D_DUP[] = "load 5m\n"
                            "testmetric1{src=\"a\",dst=\"b\"} 0\n"
                            "testmetric2{src=\"a\",dst=\"b\"} 1\n";

/* aggregators.test */
static const char D_AGG[] =
    "load 5m\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"production\"} 0+10x10\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"production\"} 0+20x10\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+30x10\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"canary\"} 0+40x10\n"
    "http_requests{job=\"app-server\", instance=\"0\", group=\"production\"} 0+50x10\n"
    "http_requests{job=\"app-server\", instance=\"1\", group=\"production\"} 0+60x10\n"
    "http_requests{job=\"app-server\", instance=\"0\", group=\"canary\"} 0+70x10\n"
    "http_requests{job=\"app-server\", instance=\"1\", group=\"canary\"} 0+80x10\n"
    "foo{job=\"api-server\", instance=\"0\", region=\"europe\"} 0+90x10\n"
    "foo{job=\"api-server\"} 0+100x10\n";

/* aggregators.test */
static const char D_AGG_NAN[] =
    "load 5m\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"production\"} 1\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"production\"} 2\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"canary\"} NaN\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"canary\"} 3\n"
    "http_requests{job=\"api-server\", instance=\"2\", group=\"canary\"} 4\n";

/* aggregators.test */
static const char D_AGG_INF[] = "load 5m\n"
                                "data{test=\"ten\",point=\"a\"} 8\n"
                                "data{test=\"ten\",point=\"b\"} 10\n"
                                "data{test=\"ten\",point=\"c\"} 12\n"
                                "data{test=\"inf\",point=\"a\"} 0\n"
                                "data{test=\"inf\",point=\"b\"} Inf\n"
                                "data{test=\"inf\",point=\"d\"} Inf\n"
                                "data{test=\"inf\",point=\"c\"} 0\n"
                                "data{test=\"-inf\",point=\"a\"} -Inf\n"
                                "data{test=\"-inf\",point=\"b\"} -Inf\n"
                                "data{test=\"-inf\",point=\"c\"} 0\n"
                                "data{test=\"inf2\",point=\"a\"} Inf\n"
                                "data{test=\"inf2\",point=\"b\"} 0\n"
                                "data{test=\"inf2\",point=\"c\"} Inf\n"
                                "data{test=\"inf3\",point=\"b\"} Inf\n"
                                "data{test=\"inf3\",point=\"c\"} Inf\n"
                                "data{test=\"inf3\",point=\"d\"} -Inf\n"
                                "data{test=\"nan\",point=\"a\"} -Inf\n"
                                "data{test=\"nan\",point=\"b\"} 0\n"
                                "data{test=\"nan\",point=\"c\"} Inf\n"
                                "data{test=\"big\",point=\"a\"} 9.988465674311579e+307\n"
                                "data{test=\"big\",point=\"b\"} 9.988465674311579e+307\n"
                                "data{test=\"big\",point=\"c\"} 9.988465674311579e+307\n"
                                "data{test=\"big\",point=\"d\"} 9.988465674311579e+307\n"
                                "data{test=\"-big\",point=\"a\"} -9.988465674311579e+307\n"
                                "data{test=\"-big\",point=\"b\"} -9.988465674311579e+307\n"
                                "data{test=\"bigzero\",point=\"a\"} -9.988465674311579e+307\n"
                                "data{test=\"bigzero\",point=\"b\"} -9.988465674311579e+307\n"
                                "data{test=\"bigzero\",point=\"c\"} 9.988465674311579e+307\n"
                                "data{test=\"bigzero\",point=\"d\"} 9.988465674311579e+307\n"
                                "data{test=\"value is nan\"} NaN\n"
                                "data{test=\"kahan\",point=\"a\"} 1\n"
                                "data{test=\"kahan\",point=\"b\"} 1e100\n"
                                "data{test=\"kahan\",point=\"c\"} 1\n"
                                "data{test=\"kahan\",point=\"d\"} -1e100\n";

/* aggregators.test */
static const char D_AGG_PRECISION[] =
    "load 5m\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"production\"} 0+1.33x10\n"
    "http_requests{job=\"api-server\", instance=\"1\", group=\"production\"} 0+1.33x10\n"
    "http_requests{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+1.33x10\n"
    "label_grouping_test{a=\"aa\", b=\"bb\"} 0+10x10\n"
    "label_grouping_test{a=\"a\", b=\"abb\"} 0+20x10\n";

/* histograms.test */
static const char D_HIST[] =
    "load 5m\n"
    "testhistogram_bucket{le=\"0.1\", start=\"positive\"} 0+5x10\n"
    "testhistogram_bucket{le=\".2\", start=\"positive\"} 0+7x10\n"
    "testhistogram_bucket{le=\"1e0\", start=\"positive\"} 0+11x10\n"
    "testhistogram_bucket{le=\"+Inf\", start=\"positive\"} 0+12x10\n"
    "testhistogram_bucket{le=\"-.2\", start=\"negative\"} 0+1x10\n"
    "testhistogram_bucket{le=\"-0.1\", start=\"negative\"} 0+2x10\n"
    "testhistogram_bucket{le=\"0.3\", start=\"negative\"} 0+2x10\n"
    "testhistogram_bucket{le=\"+Inf\", start=\"negative\"} 0+3x10\n"
    "testhistogram2_bucket{le=\"0\"} 0+0x10\n"
    "testhistogram2_bucket{le=\"2\"} 0+1x10\n"
    "testhistogram2_bucket{le=\"4\"} 0+2x10\n"
    "testhistogram2_bucket{le=\"6\"} 0+3x10\n"
    "testhistogram2_bucket{le=\"+Inf\"} 0+3x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins1\", le=\"0.1\"} 0+1x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins1\", le=\"0.2\"} 0+3x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins1\", le=\"+Inf\"} 0+4x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins2\", le=\"0.1\"} 0+2x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins2\", le=\"0.2\"} 0+5x10\n"
    "request_duration_seconds_bucket{job=\"job1\", instance=\"ins2\", le=\"+Inf\"} 0+6x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins1\", le=\"0.1\"} 0+3x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins1\", le=\"0.2\"} 0+4x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins1\", le=\"+Inf\"} 0+6x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins2\", le=\"0.1\"} 0+4x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins2\", le=\"0.2\"} 0+7x10\n"
    "request_duration_seconds_bucket{job=\"job2\", instance=\"ins2\", le=\"+Inf\"} 0+9x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins1\", le=\"0.1\"} 0+1x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins1\", le=\"0.2\"} 0+1x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins1\", le=\"2e-1\"} 0+1x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins1\", le=\"2.0e-1\"} 0+1x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins1\", le=\"+Inf\"} 0+4x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins2\", le=\"+inf\"} 0+0x10\n"
    "mixed_bucket{job=\"job1\", instance=\"ins2\", le=\"+Inf\"} 0+0x10\n"
    "nonmonotonic_bucket{le=\"0.1\"} 0+2x10\n"
    "nonmonotonic_bucket{le=\"1\"} 0+1x10\n"
    "nonmonotonic_bucket{le=\"10\"} 0+5x10\n"
    "nonmonotonic_bucket{le=\"100\"} 0+4x10\n"
    "nonmonotonic_bucket{le=\"1000\"} 0+9x10\n"
    "nonmonotonic_bucket{le=\"+Inf\"} 0+8x10\n"
    "noinf_bucket{le=\"0.1\"} 0+1x10\n"
    "noinf_bucket{le=\"1\"} 0+2x10\n"
    "bad_bucket{le=\"foo\"} 0+1x10\n"
    "bad_bucket{le=\"+Inf\"} 0+1x10\n"
    "one_bucket{le=\"+Inf\"} 0+1x10\n";

static const struct tcase cases[] = {
    {D_RESETS, "resets(http_requests[5m])", false, 3000000, 0, 0, 0, "vector"},
    {D_RESETS, "resets(http_requests[10m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 0\n{path=\"/biz\"} 0\n{path=\"/foo\"} 0"},
    {D_RESETS, "resets(http_requests[20m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 0\n{path=\"/biz\"} 0\n{path=\"/foo\"} 1"},
    {D_RESETS, "resets(http_requests[32m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 1\n{path=\"/biz\"} 0\n{path=\"/foo\"} 2"},
    {D_RESETS, "resets(http_requests[50m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 1\n{path=\"/biz\"} 0\n{path=\"/foo\"} 3"},
    {D_RESETS, "changes(http_requests[5m])", false, 3000000, 0, 0, 0, "vector"},
    {D_RESETS, "changes(http_requests[6m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 0\n{path=\"/biz\"} 0\n{path=\"/foo\"} 0"},
    {D_RESETS, "changes(http_requests[20m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 2\n{path=\"/biz\"} 0\n{path=\"/foo\"} 2"},
    {D_RESETS, "changes(http_requests[30m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 4\n{path=\"/biz\"} 0\n{path=\"/foo\"} 3"},
    {D_RESETS, "changes(http_requests[50m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 8\n{path=\"/biz\"} 1\n{path=\"/foo\"} 7"},
    {D_RESETS, "changes((http_requests[50m]))", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 8\n{path=\"/biz\"} 1\n{path=\"/foo\"} 7"},
    {D_RESETS, "changes(nonexistent_metric[50m])", false, 3000000, 0, 0, 0, "vector"},
    {D_CHANGES_NAN, "changes(x[20m])", false, 900000, 0, 0, 0, "vector\n{a=\"b\"} 0\n{a=\"c\"} 2"},
    {D_INCREASE, "increase(http_requests_total[50m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 160\n{path=\"/bumms\"} 100\n{path=\"/dings\"} 100\n{path=\"/foo\"} "
     "100"},
    {D_INCREASE, "increase(http_requests_total[100m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 162\n{path=\"/bumms\"} 101\n{path=\"/dings\"} 105\n{path=\"/foo\"} "
     "100"},
    {D_INCREASE, "increase(http_requests_total[20m])", true, 0, 3000000, 300000, 0,
     "matrix\n{path=\"/bar\"} _ 18 36 54 72 72 48 48 48 54 72\n{path=\"/bumms\"} _ 11 21 "
     "31.000000000000004 40 40 40 40 40 40 40\n{path=\"/dings\"} _ 15 25 40 40 40 40 40 40 40 "
     "40\n{path=\"/foo\"} _ 10 20 30 40 40 40 40 40 40 40"},
    {D_INCREASE_RESET, "increase(http_requests_total[30m])", false, 1800000, 0, 0, 0,
     "vector\n{path=\"/foo\"} 7"},
    {D_RATE_RESET, "rate(testcounter_reset_middle_total[50m])", false, 3000000, 0, 0, 0,
     "vector\n{} 0.08"},
    {D_RATE_RESET, "rate(testcounter_reset_end_total[5m])", false, 3000000, 0, 0, 0, "vector"},
    {D_RATE_RESET, "rate(testcounter_reset_end_total[6m])", false, 3000000, 0, 0, 0,
     "vector\n{} 0"},
    {D_RATE_OFFSET, "rate(calculate_rate_window_total[50m])", false, 3000000, 0, 0, 0,
     "vector\n{} 0.2666666666666667"},
    {D_RATE_OFFSET, "rate(calculate_rate_offset_total[10m] offset 5m)", false, 3000000, 0, 0, 0,
     "vector\n{x=\"a\"} 0.03333333333333333\n{x=\"b\"} 0.06666666666666667"},
    {D_ZERO_CUTOFF, "rate(testcounter_zero_cutoff_total[20m])", false, 600000, 0, 0, 0,
     "vector\n{start=\"0m\"} 0.5\n{start=\"1m\"} 0.55\n{start=\"2m\"} 0.6\n{start=\"3m\"} "
     "0.6\n{start=\"4m\"} 0.6\n{start=\"5m\"} 0.6"},
    {D_ZERO_CUTOFF, "rate(testcounter_zero_cutoff_total[20m])", false, 3000000, 0, 0, 0,
     "vector\n{start=\"0m\"} 0.6\n{start=\"1m\"} 0.6\n{start=\"2m\"} 0.6\n{start=\"3m\"} "
     "0.6\n{start=\"4m\"} 0.6\n{start=\"5m\"} 0.6"},
    {D_IRATE, "irate(http_requests_total[50m])", false, 3000000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 0.03333333333333333\n{path=\"/foo\"} 0.03333333333333333"},
    {D_IRATE, "irate(http_requests_total[50m])", false, 1800000, 0, 0, 0,
     "vector\n{path=\"/bar\"} 0\n{path=\"/foo\"} 0.03333333333333333"},
    {D_IRATE, "irate(http_requests_nan[15m1s])", true, 0, 1200000, 300000, 0,
     "matrix\n{} _ NaN NaN NaN 0.02"},
    {D_IRATE, "idelta(http_requests_nan[15m1s])", true, 0, 1200000, 300000, 0,
     "matrix\n{} _ NaN NaN NaN 6"},
    {D_DELTA, "delta(http_requests[20m])", false, 1200000, 0, 0, 0,
     "vector\n{path=\"/bar\"} -200\n{path=\"/foo\"} 200"},
    {D_DELTA, "delta(http_requests[7m])", false, 1200000, 0, 0, 0,
     "vector\n{path=\"/bar\"} -70\n{path=\"/foo\"} 70"},
    {D_IDELTA, "idelta(http_requests[20m])", false, 1200000, 0, 0, 0,
     "vector\n{path=\"/bar\"} -50\n{path=\"/foo\"} 50"},
    {D_DERIV,
     "rate(http_requests_total{group=\"canary\", instance=\"1\", job=\"app-server\"}[50m])", false,
     3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} 0.2666666666666667"},
    {D_DERIV,
     "deriv(http_requests_total{group=\"canary\", instance=\"1\", job=\"app-server\"}[50m])", false,
     3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} 0.26666666666666666"},
    {D_DERIV, "deriv(testcounter_reset_middle_total[100m])", false, 3000000, 0, 0, 0,
     "vector\n{} 0.010606060606060607"},
    {D_DERIV, "deriv(http_requests_inf[100m])", false, 6000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} NaN"},
    {D_DERIV, "predict_linear(testcounter_reset_middle_total[50m], 3600)", false, 3000000, 0, 0, 0,
     "vector\n{} 70"},
    {D_DERIV, "predict_linear(testcounter_reset_middle_total[50m], 1h)", false, 3000000, 0, 0, 0,
     "vector\n{} 70"},
    {D_DERIV, "predict_linear(testcounter_reset_middle_total[55m] @ 3000, 3600)", false, 3000000, 0,
     0, 0, "vector\n{} 76.81818181818181"},
    {D_DERIV, "predict_linear(testcounter_reset_middle_total[55m] @ 3000, 3600)", false, 600000, 0,
     0, 0, "vector\n{} 51.36363636363637"},
    {D_DERIV, "predict_linear(testcounter_reset_middle_total[55m] @ 3000, 3600)", false, 4200000, 0,
     0, 0, "vector\n{} 89.54545454545455"},
    {D_DERIV, "predict_linear(http_requests_inf[100m], 6000)", false, 6000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} NaN"},
    {D_DERIV,
     "predict_linear(http_requests_total[50m], 3600) - (http_requests_total + "
     "deriv(http_requests_total[50m]) * 3600)",
     false, 3000000, 0, 0, 0, "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} 0"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"destination-value-$1\", \"src\", \"source-value-(.*)\")",
     false, 0, 0, 0, 0,
     "vector\ntestmetric{dst=\"destination-value-10\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"destination-value-20\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"destination-value-$1\", \"src\", \"value-(.*)\")", false,
     0, 0, 0, 0,
     "vector\ntestmetric{dst=\"original-destination-value\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"original-destination-value\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"$1-value-$2\", \"src\", \"(.*)-value-(.*)\")", false, 0,
     0, 0, 0,
     "vector\ntestmetric{dst=\"source-value-10\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"source-value-20\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"value-$1\", \"nonexistent-src\", \"source-value-(.*)\")",
     false, 0, 0, 0, 0,
     "vector\ntestmetric{dst=\"original-destination-value\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"original-destination-value\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"value-$1\", \"nonexistent-src\", \"(.*)\")", false, 0, 0,
     0, 0,
     "vector\ntestmetric{dst=\"value-\", src=\"source-value-10\"} 0\ntestmetric{dst=\"value-\", "
     "src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"value-$1\", \"src\", \"non-matching-regex\")", false, 0,
     0, 0, 0,
     "vector\ntestmetric{dst=\"original-destination-value\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"original-destination-value\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace((((testmetric))), ((\"dst\")), ((\"value-$1\")), ((\"src\")), "
     "((\"non-matching-regex\")))",
     false, 0, 0, 0, 0,
     "vector\ntestmetric{dst=\"original-destination-value\", src=\"source-value-10\"} "
     "0\ntestmetric{dst=\"original-destination-value\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE, "label_replace(testmetric, \"dst\", \"\", \"dst\", \".*\")", false, 0, 0, 0,
     0, "vector\ntestmetric{src=\"source-value-10\"} 0\ntestmetric{src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE, "label_replace(testmetric, \"dst\", \"value-$1\", \"src\", \"(.*\")", false,
     0, 0, 0, 0, "error execution: invalid regular expression in label_replace(): (.*"},
    {D_LABEL_REPLACE, "label_replace(testmetric, \"\", \"\", \"src\", \"(.*)\")", false, 0, 0, 0, 0,
     "error execution: invalid destination label name in label_replace(): "},
    {D_LABEL_REPLACE, "label_replace(testmetric, \"src\", \"\", \"\", \"\")", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"${1}x $1x $$1 $name ${name}\", \"src\", "
     "\"(?P<name>.*)-(.*)\")",
     false, 0, 0, 0, 0,
     "vector\ntestmetric{dst=\"source-valuex  $1 source-value source-value\", "
     "src=\"source-value-10\"} 0\ntestmetric{dst=\"source-valuex  $1 source-value source-value\", "
     "src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE,
     "label_replace(testmetric, \"dst\", \"$01 $2 $99 $ ${x\", \"src\", \"source-(value)-(.*)\")",
     false, 0, 0, 0, 0,
     "vector\ntestmetric{dst=\" 10  $ ${x\", src=\"source-value-10\"} 0\ntestmetric{dst=\" 20  $ "
     "${x\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE, "label_replace(testmetric, \"__name__\", \"renamed\", \"\", \"\")", false, 0,
     0, 0, 0,
     "vector\nrenamed{dst=\"original-destination-value\", src=\"source-value-10\"} "
     "0\nrenamed{dst=\"original-destination-value\", src=\"source-value-20\"} 1"},
    {D_LABEL_REPLACE, "label_replace(rate(testmetric[5m]), \"__name__\", \"back\", \"\", \"\")",
     false, 0, 0, 0, 0, "vector"},
    {D_TIMESTAMP, "timestamp(metric)", false, 0, 0, 0, 0, "vector\n{} 0"},
    {D_TIMESTAMP, "timestamp(metric)", false, 5000, 0, 0, 0, "vector\n{} 0"},
    {D_TIMESTAMP, "timestamp(metric)", false, 10000, 0, 0, 0, "vector\n{} 10"},
    {D_TIMESTAMP, "timestamp(metric)", false, 20000, 0, 0, 0, "vector\n{} 10"},
    {D_TIMESTAMP, "timestamp(((metric)))", false, 10000, 0, 0, 0, "vector\n{} 10"},
    {D_TIMESTAMP, "timestamp(metric @ 5)", false, 20000, 0, 0, 0, "vector\n{} 0"},
    {D_TIMESTAMP, "timestamp(abs(metric))", false, 15000, 0, 0, 0, "vector\n{} 15"},
    {D_TIMESTAMP, "timestamp(metric)", true, 0, 20000, 5000, 0, "matrix\n{} 0 0 10 10 10"},
    {D_TIMESTAMP, "timestamp(metric @ 5)", true, 0, 20000, 5000, 0, "matrix\n{} 0 0 0 0 0"},
    {D_TIMESTAMP, "timestamp(metric offset 5s)", true, 0, 20000, 5000, 0, "matrix\n{} _ 0 0 10 10"},
    {D_LABEL_JOIN, "label_join(testmetric, \"dst\", \"-\", \"src\", \"src1\", \"src2\")", false, 0,
     0, 0, 0,
     "vector\ntestmetric{dst=\"a-b-c\", src=\"a\", src1=\"b\", src2=\"c\"} "
     "0\ntestmetric{dst=\"d-e-f\", src=\"d\", src1=\"e\", src2=\"f\"} 1"},
    {D_LABEL_JOIN, "label_join(testmetric, \"dst\", \"-\", \"src\", \"src3\", \"src1\")", false, 0,
     0, 0, 0,
     "vector\ntestmetric{dst=\"a--b\", src=\"a\", src1=\"b\", src2=\"c\"} "
     "0\ntestmetric{dst=\"d--e\", src=\"d\", src1=\"e\", src2=\"f\"} 1"},
    {D_LABEL_JOIN,
     "label_join(testmetric, \"dst\", \"\", \"emptysrc\", \"emptysrc1\", \"emptysrc2\")", false, 0,
     0, 0, 0,
     "vector\ntestmetric{src=\"a\", src1=\"b\", src2=\"c\"} 0\ntestmetric{src=\"d\", src1=\"e\", "
     "src2=\"f\"} 1"},
    {D_LABEL_JOIN, "label_join(testmetric, \"dst\", \", \")", false, 0, 0, 0, 0,
     "vector\ntestmetric{src=\"a\", src1=\"b\", src2=\"c\"} 0\ntestmetric{src=\"d\", src1=\"e\", "
     "src2=\"f\"} 1"},
    {D_LABEL_JOIN, "label_join(testmetric1, \"dst\", \", \", \"src\", \"src1\", \"src2\")", false,
     0, 0, 0, 0,
     "vector\ntestmetric1{dst=\"fizz, buzz, fizzbuzz\", src=\"fizz\", src1=\"buzz\", "
     "src2=\"fizzbuzz\"} 1\ntestmetric1{dst=\"foo, bar, foobar\", src=\"foo\", src1=\"bar\", "
     "src2=\"foobar\"} 0"},
    {D_LABEL_JOIN, "label_join(dup, \"label\", \"\", \"this\")", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_LABEL_JOIN, "label_join(testmetric, \"dst\", \"-\", \"\")", false, 0, 0, 0, 0,
     "error execution: invalid source label name in label_join(): "},
    {D_LABEL_JOIN, "label_join(testmetric, \"\", \"-\", \"src\")", false, 0, 0, 0, 0,
     "error execution: invalid destination label name in label_join(): "},
    {D_EMPTY, "vector(1)", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "vector(time())", false, 0, 0, 0, 0, "vector\n{} 0"},
    {D_EMPTY, "vector(time())", false, 5000, 0, 0, 0, "vector\n{} 5"},
    {D_EMPTY, "vector(time())", false, 3600000, 0, 0, 0, "vector\n{} 3600"},
    {D_EMPTY, "time()", false, 1, 0, 0, 0, "scalar 0.001"},
    {D_EMPTY, "time()", false, 3000000, 0, 0, 0, "scalar 3000"},
    {D_EMPTY, "year()", false, 0, 0, 0, 0, "vector\n{} 1970"},
    {D_EMPTY, "year(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 2006"},
    {D_EMPTY, "month()", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "month(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "day_of_month()", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "day_of_month(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 2"},
    {D_EMPTY, "day_of_year()", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "day_of_year(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 2"},
    {D_EMPTY, "day_of_week()", false, 0, 0, 0, 0, "vector\n{} 4"},
    {D_EMPTY, "day_of_week(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "hour()", false, 0, 0, 0, 0, "vector\n{} 0"},
    {D_EMPTY, "hour(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 22"},
    {D_EMPTY, "minute()", false, 0, 0, 0, 0, "vector\n{} 0"},
    {D_EMPTY, "minute(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 4"},
    {D_EMPTY, "days_in_month()", false, 0, 0, 0, 0, "vector\n{} 31"},
    {D_EMPTY, "days_in_month(vector(1136239445))", false, 0, 0, 0, 0, "vector\n{} 31"},
    {D_EMPTY, "year(vector(1230767999))", false, 0, 0, 0, 0, "vector\n{} 2008"},
    {D_EMPTY, "year(vector(1230768000))", false, 0, 0, 0, 0, "vector\n{} 2009"},
    {D_EMPTY, "month(vector(1456790399)) + day_of_month(vector(1456790399)) / 100", false, 0, 0, 0,
     0, "vector\n{} 2.29"},
    {D_EMPTY, "month(vector(1456790400)) + day_of_month(vector(1456790400)) / 100", false, 0, 0, 0,
     0, "vector\n{} 3.01"},
    {D_EMPTY, "day_of_year(vector(1483191420))", false, 0, 0, 0, 0, "vector\n{} 366"},
    {D_EMPTY, "day_of_year(vector(1672493820))", false, 0, 0, 0, 0, "vector\n{} 365"},
    {D_EMPTY, "days_in_month(vector(1454284800))", false, 0, 0, 0, 0, "vector\n{} 29"},
    {D_EMPTY, "days_in_month(vector(1485907200))", false, 0, 0, 0, 0, "vector\n{} 28"},
    {D_EMPTY, "year(vector(-1))", false, 0, 0, 0, 0, "vector\n{} 1969"},
    {D_EMPTY, "day_of_week(vector(-86400))", false, 0, 0, 0, 0, "vector\n{} 3"},
    {D_EMPTY, "hour(vector(NaN))", false, 0, 0, 0, 0, "vector\n{} 15"},
    {D_EMPTY, "year(vector(Inf))", false, 0, 0, 0, 0, "vector\n{} 292277026596"},
    {D_EMPTY, "minute(vector(1700000000.9))", false, 0, 0, 0, 0, "vector\n{} 13"},
    {D_EMPTY, "pi()", false, 0, 0, 0, 0, "scalar 3.141592653589793"},
    {D_EMPTY, "scalar(vector(3))", false, 0, 0, 0, 0, "scalar 3"},
    {D_EMPTY, "vector(scalar(vector(1) or vector(2)))", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_EMPTY, "1 + 2 * 3", false, 0, 0, 0, 0, "scalar 7"},
    {D_EMPTY, "2 ^ 3 ^ 2", false, 0, 0, 0, 0, "scalar 512"},
    {D_EMPTY, "-2 ^ 2", false, 0, 0, 0, 0, "scalar -4"},
    {D_EMPTY, "5 % 3", false, 0, 0, 0, 0, "scalar 2"},
    {D_EMPTY, "-5 % 3", false, 0, 0, 0, 0, "scalar -2"},
    {D_EMPTY, "5.5 % -2", false, 0, 0, 0, 0, "scalar 1.5"},
    {D_EMPTY, "1 / 0", false, 0, 0, 0, 0, "scalar +Inf"},
    {D_EMPTY, "-1 / 0", false, 0, 0, 0, 0, "scalar -Inf"},
    {D_EMPTY, "0 / 0", false, 0, 0, 0, 0, "scalar NaN"},
    {D_EMPTY, "2 atan2 3", false, 0, 0, 0, 0, "scalar 0.5880026035475675"},
    {D_EMPTY, "1 == bool 1", false, 0, 0, 0, 0, "scalar 1"},
    {D_EMPTY, "1 != bool 1", false, 0, 0, 0, 0, "scalar 0"},
    {D_EMPTY, "2 > bool 1", false, 0, 0, 0, 0, "scalar 1"},
    {D_EMPTY, "NaN == bool NaN", false, 0, 0, 0, 0, "scalar 0"},
    {D_EMPTY, "Inf > bool 1e308", false, 0, 0, 0, 0, "scalar 1"},
    {D_EMPTY, "\"a\\tstring\"", false, 0, 0, 0, 0, "string \"a\\tstring\""},
    {D_EMPTY, "10 atan2 NaN", false, 0, 0, 0, 0, "scalar NaN"},
    {D_EMPTY, "time()", true, 0, 180000, 60000, 0, "matrix\n{} 0 60 120 180"},
    {D_EMPTY, "hour()", true, 0, 10800000, 3600000, 0, "matrix\n{} 0 1 2 3"},
    {D_EMPTY, "vector(time()) > 60", true, 0, 180000, 60000, 0, "matrix\n{} _ _ 120 180"},
    {D_CLAMP, "clamp_max(test_clamp, 75)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} -50\n{src=\"clamp-b\"} 0\n{src=\"clamp-c\"} 75"},
    {D_CLAMP, "clamp_min(test_clamp, -25)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} -25\n{src=\"clamp-b\"} 0\n{src=\"clamp-c\"} 100"},
    {D_CLAMP, "clamp(test_clamp, -25, 75)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} -25\n{src=\"clamp-b\"} 0\n{src=\"clamp-c\"} 75"},
    {D_CLAMP, "clamp_max(clamp_min(test_clamp, -20), 70)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} -20\n{src=\"clamp-b\"} 0\n{src=\"clamp-c\"} 70"},
    {D_CLAMP, "clamp_max((clamp_min(test_clamp, (-20))), (70))", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} -20\n{src=\"clamp-b\"} 0\n{src=\"clamp-c\"} 70"},
    {D_CLAMP, "clamp(test_clamp, 0, NaN)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} NaN\n{src=\"clamp-b\"} NaN\n{src=\"clamp-c\"} NaN"},
    {D_CLAMP, "clamp(test_clamp, NaN, 0)", false, 0, 0, 0, 0,
     "vector\n{src=\"clamp-a\"} NaN\n{src=\"clamp-b\"} NaN\n{src=\"clamp-c\"} NaN"},
    {D_CLAMP, "clamp(test_clamp, 5, -5)", false, 0, 0, 0, 0, "vector"},
    {D_SGN, "sgn(test_sgn)", false, 0, 0, 0, 0,
     "vector\n{src=\"sgn-a\"} -1\n{src=\"sgn-b\"} 1\n{src=\"sgn-c\"} NaN\n{src=\"sgn-d\"} "
     "-1\n{src=\"sgn-e\"} 0\n{src=\"sgn-f\"} 1"},
    {D_SORT, "sort(http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} "
     "200\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "300\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "400\nhttp_requests{group=\"production\", instance=\"0\", job=\"app-server\"} "
     "500\nhttp_requests{group=\"production\", instance=\"1\", job=\"app-server\"} "
     "600\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} "
     "700\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"2\", job=\"api-server\"} NaN"},
    {D_SORT, "sort_desc(http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} "
     "700\nhttp_requests{group=\"production\", instance=\"1\", job=\"app-server\"} "
     "600\nhttp_requests{group=\"production\", instance=\"0\", job=\"app-server\"} "
     "500\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "400\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "300\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} "
     "200\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\nhttp_requests{group=\"canary\", instance=\"2\", job=\"api-server\"} NaN"},
    {D_SORT, "sort(-http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\n{group=\"canary\", instance=\"1\", job=\"app-server\"} -800\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} -700\n{group=\"production\", instance=\"1\", "
     "job=\"app-server\"} -600\n{group=\"production\", instance=\"0\", job=\"app-server\"} "
     "-500\n{group=\"canary\", instance=\"1\", job=\"api-server\"} -400\n{group=\"canary\", "
     "instance=\"0\", job=\"api-server\"} -300\n{group=\"production\", instance=\"1\", "
     "job=\"api-server\"} -200\n{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "-100\n{group=\"canary\", instance=\"2\", job=\"api-server\"} NaN"},
    {D_SORT, "sort_desc(http_requests{job=\"api-server\"})", true, 2400000, 3000000, 300000, 0,
     "matrix\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} 240 270 "
     "300\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} 320 360 "
     "400\nhttp_requests{group=\"canary\", instance=\"2\", job=\"api-server\"} NaN NaN "
     "NaN\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} 80 90 "
     "100\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} 160 180 200"},
    {D_AVG_OVER_TIME, "avg_over_time(metric[10s])", false, 55000, 0, 0, 0, "vector"},
    {D_AVG_OVER_TIME, "avg_over_time(metric[20s])", false, 55000, 0, 0, 0, "vector\n{} 5"},
    {D_AVG_OVER_TIME, "avg_over_time(metric[1m])", false, 55000, 0, 0, 0, "vector\n{} 3"},
    {D_AVG_OVER_TIME, "sum_over_time(metric[1m])/count_over_time(metric[1m])", false, 55000, 0, 0,
     0, "vector\n{} 3"},
    {D_AVG_OVER_TIME, "avg_over_time(metric2[1m])", false, 55000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AVG_OVER_TIME, "sum_over_time(metric2[1m])/count_over_time(metric2[1m])", false, 55000, 0, 0,
     0, "vector\n{} +Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric3[1m])", false, 55000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AVG_OVER_TIME, "sum_over_time(metric3[1m])/count_over_time(metric3[1m])", false, 55000, 0, 0,
     0, "vector\n{} -Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric4[1m])", false, 55000, 0, 0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "sum_over_time(metric4[1m])/count_over_time(metric4[1m])", false, 55000, 0, 0,
     0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "avg_over_time(metric5[1m])", false, 55000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AVG_OVER_TIME, "sum_over_time(metric5[1m])/count_over_time(metric5[1m])", false, 55000, 0, 0,
     0, "vector\n{} +Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric5c[1m])", false, 55000, 0, 0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "sum_over_time(metric5c[1m])/count_over_time(metric5c[1m])", false, 55000, 0,
     0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "avg_over_time(metric6[1m])", false, 55000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AVG_OVER_TIME, "sum_over_time(metric6[1m])/count_over_time(metric6[1m])", false, 55000, 0, 0,
     0, "vector\n{} -Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric7[1m])", false, 55000, 0, 0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "sum_over_time(metric7[1m])/count_over_time(metric7[1m])", false, 55000, 0, 0,
     0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "avg_over_time(metric8[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 9.98846567431158e+307"},
    {D_AVG_OVER_TIME, "sum_over_time(metric8[1m])/count_over_time(metric8[1m])", false, 55000, 0, 0,
     0, "vector\n{} +Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric9[1m])", false, 55000, 0, 0, 0,
     "vector\n{} -9.98846567431158e+307"},
    {D_AVG_OVER_TIME, "sum_over_time(metric9[1m])/count_over_time(metric9[1m])", false, 55000, 0, 0,
     0, "vector\n{} -Inf"},
    {D_AVG_OVER_TIME, "avg_over_time(metric10[1m])", false, 55000, 0, 0, 0, "vector\n{} 0"},
    {D_AVG_OVER_TIME, "sum_over_time(metric10[1m])/count_over_time(metric10[1m])", false, 55000, 0,
     0, 0, "vector\n{} 0"},
    {D_AVG_OVER_TIME, "avg_over_time(metric11[1m])", false, 55000, 0, 0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "sum_over_time(metric11[1m])/count_over_time(metric11[1m])", false, 55000, 0,
     0, 0, "vector\n{} NaN"},
    {D_AVG_OVER_TIME, "avg_over_time(metric11[1m])", false, 20000, 0, 0, 0, "vector\n{} 2"},
    {D_AVG_OVER_TIME, "avg_over_time(metric11[1m])", false, 30000, 0, 0, 0, "vector\n{} NaN"},
    {D_BIGSMALL, "sum_over_time(metric[2m])", false, 60000, 0, 0, 0, "vector\n{} 2"},
    {D_BIGSMALL, "avg_over_time(metric[2m])", false, 60000, 0, 0, 0, "vector\n{} 0.5"},
    {D_BIGSMALL, "avg_over_time(metric1[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 1666666666.6666675"},
    {D_BIGSMALL, "avg_over_time(metric2[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 1.671867445821125"},
    {D_BIGSMALL, "avg_over_time(metric3[1m])", false, 55000, 0, 0, 0, "vector\n{} 3.56528e+49"},
    {D_BIGSMALL, "avg_over_time(metric5[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 3.7633333333333335e+219"},
    {D_BIGSMALL, "avg_over_time(metric9[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 3.225714285714286e+219"},
    {D_DENSE, "sum_over_time(metric[1000ms])", false, 4000, 0, 0, 0, "vector\n{} 1000"},
    {D_DENSE, "sum_over_time(metric[1001ms])", false, 4000, 0, 0, 0, "vector\n{} 1001"},
    {D_DENSE, "sum_over_time(metric[2003ms])", false, 4000, 0, 0, 0, "vector\n{} 2003"},
    {D_DENSE, "sum_over_time(metric[3000ms])", false, 4000, 0, 0, 0, "vector\n{} 3000"},
    {D_STDDEV_OVER_TIME, "stdvar_over_time(metric[2m])", false, 60000, 0, 0, 0,
     "vector\n{} 10.559999999999999"},
    {D_STDDEV_OVER_TIME, "stddev_over_time(metric[2m])", false, 60000, 0, 0, 0,
     "vector\n{} 3.249615361854384"},
    {D_STDDEV_OVER_TIME, "stddev_over_time((metric[2m]))", false, 60000, 0, 0, 0,
     "vector\n{} 3.249615361854384"},
    {D_STDDEV_OVER_TIME, "stdvar_over_time(metric_const[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 0"},
    {D_STDDEV_OVER_TIME, "stddev_over_time(metric_const[1m])", false, 55000, 0, 0, 0,
     "vector\n{} 0"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(0, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} 0\n{test=\"two samples\"} 0\n{test=\"uneven samples\"} 0"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(0.5, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} 1\n{test=\"two samples\"} 0.5\n{test=\"uneven samples\"} 1"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(0.75, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} 1.5\n{test=\"two samples\"} 0.75\n{test=\"uneven samples\"} "
     "2.5"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(0.8, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} 1.6\n{test=\"two samples\"} 0.8\n{test=\"uneven samples\"} "
     "2.8000000000000003"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(1, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} 2\n{test=\"two samples\"} 1\n{test=\"uneven samples\"} 4"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(-1, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} -Inf\n{test=\"two samples\"} -Inf\n{test=\"uneven "
     "samples\"} -Inf"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(2, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} +Inf\n{test=\"two samples\"} +Inf\n{test=\"uneven "
     "samples\"} +Inf"},
    {D_QUANTILE_OVER_TIME, "quantile_over_time(NaN, data[2m])", false, 60000, 0, 0, 0,
     "vector\n{test=\"three samples\"} NaN\n{test=\"two samples\"} NaN\n{test=\"uneven samples\"} "
     "NaN"},
    {D_OVER_TIME, "min_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\n{type=\"numbers\"} 0\n{type=\"only_nan\"} NaN\n{type=\"some_nan\"} "
     "0\n{type=\"some_nan2\"} 1\n{type=\"some_nan3\"} 0\n{type=\"sparse_numbers\"} 2"},
    {D_OVER_TIME, "max_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\n{type=\"numbers\"} 3\n{type=\"only_nan\"} NaN\n{type=\"some_nan\"} "
     "2\n{type=\"some_nan2\"} 2\n{type=\"some_nan3\"} 1\n{type=\"sparse_numbers\"} 5"},
    {D_OVER_TIME, "last_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\ndata{type=\"numbers\"} 3\ndata{type=\"only_nan\"} NaN\ndata{type=\"some_nan\"} "
     "NaN\ndata{type=\"some_nan2\"} 1\ndata{type=\"some_nan3\"} "
     "1\ndata_sparse{type=\"sparse_numbers\"} 4"},
    {D_OVER_TIME, "first_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\ndata{type=\"numbers\"} 2\ndata{type=\"only_nan\"} NaN\ndata{type=\"some_nan\"} "
     "2\ndata{type=\"some_nan2\"} 2\ndata{type=\"some_nan3\"} "
     "NaN\ndata_sparse{type=\"sparse_numbers\"} 5"},
    {D_OVER_TIME, "count_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\n{type=\"numbers\"} 3\n{type=\"only_nan\"} 3\n{type=\"some_nan\"} "
     "3\n{type=\"some_nan2\"} 3\n{type=\"some_nan3\"} 3\n{type=\"sparse_numbers\"} 3"},
    {D_OVER_TIME, "present_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\n{type=\"numbers\"} 1\n{type=\"only_nan\"} 1\n{type=\"some_nan\"} "
     "1\n{type=\"some_nan2\"} 1\n{type=\"some_nan3\"} 1\n{type=\"sparse_numbers\"} 1"},
    {D_OVER_TIME, "sum_over_time({__name__=~\"data(_sparse)?\"}[2m])", false, 60000, 0, 0, 0,
     "vector\n{type=\"numbers\"} 5\n{type=\"only_nan\"} NaN\n{type=\"some_nan\"} "
     "NaN\n{type=\"some_nan2\"} NaN\n{type=\"some_nan3\"} NaN\n{type=\"sparse_numbers\"} 11"},
    {D_OVER_TIME, "absent_over_time(data[2m])", false, 60000, 0, 0, 0, "vector"},
    {D_OVER_TIME, "absent_over_time(nonexistent{job=\"a\", a=~\"b\", c=\"d\", c=\"e\"}[2m])", false,
     60000, 0, 0, 0, "vector\n{job=\"a\"} 1"},
    {D_OVER_TIME, "absent_over_time(data_sparse[15s])", true, 0, 60000, 10000, 0,
     "matrix\n{} 1 _ _ _ _ _ 1"},
    {D_OVER_TIME, "present_over_time(data_sparse[15s])", true, 0, 60000, 10000, 0,
     "matrix\n{type=\"sparse_numbers\"} _ 1 1 1 1 1 _"},
    {D_OVER_TIME, "last_over_time(data_sparse[2m] offset 20s)", false, 60000, 0, 0, 0,
     "vector\ndata_sparse{type=\"sparse_numbers\"} 4"},
    {D_ROUND, "abs(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} 2.5\n{type=\"ninf\"} "
     "+Inf\n{type=\"nwhole\"} 2\n{type=\"nzero\"} 0\n{type=\"positive\"} 2.5\n{type=\"whole\"} "
     "2\n{type=\"zero\"} 0"},
    {D_ROUND, "ceil(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} -2\n{type=\"ninf\"} "
     "-Inf\n{type=\"nwhole\"} -2\n{type=\"nzero\"} -0\n{type=\"positive\"} 3\n{type=\"whole\"} "
     "2\n{type=\"zero\"} 0"},
    {D_ROUND, "floor(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} -3\n{type=\"ninf\"} "
     "-Inf\n{type=\"nwhole\"} -2\n{type=\"nzero\"} -0\n{type=\"positive\"} 2\n{type=\"whole\"} "
     "2\n{type=\"zero\"} 0"},
    {D_ROUND, "round(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} -2\n{type=\"ninf\"} "
     "-Inf\n{type=\"nwhole\"} -2\n{type=\"nzero\"} 0\n{type=\"positive\"} 3\n{type=\"whole\"} "
     "2\n{type=\"zero\"} 0"},
    {D_ROUND, "sqrt(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} NaN\n{type=\"ninf\"} "
     "NaN\n{type=\"nwhole\"} NaN\n{type=\"nzero\"} -0\n{type=\"positive\"} "
     "1.5811388300841898\n{type=\"whole\"} 1.4142135623730951\n{type=\"zero\"} 0"},
    {D_ROUND, "exp(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} "
     "0.0820849986238988\n{type=\"ninf\"} 0\n{type=\"nwhole\"} "
     "0.1353352832366127\n{type=\"nzero\"} 1\n{type=\"positive\"} "
     "12.182493960703473\n{type=\"whole\"} 7.38905609893065\n{type=\"zero\"} 1"},
    {D_ROUND, "ln(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} NaN\n{type=\"ninf\"} "
     "NaN\n{type=\"nwhole\"} NaN\n{type=\"nzero\"} -Inf\n{type=\"positive\"} "
     "0.9162907318741551\n{type=\"whole\"} 0.6931471805599453\n{type=\"zero\"} -Inf"},
    {D_ROUND, "log2(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} NaN\n{type=\"ninf\"} "
     "NaN\n{type=\"nwhole\"} NaN\n{type=\"nzero\"} -Inf\n{type=\"positive\"} "
     "1.3219280948873622\n{type=\"whole\"} 1\n{type=\"zero\"} -Inf"},
    {D_ROUND, "log10(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} NaN\n{type=\"ninf\"} "
     "NaN\n{type=\"nwhole\"} NaN\n{type=\"nzero\"} -Inf\n{type=\"positive\"} "
     "0.3979400086720376\n{type=\"whole\"} 0.3010299956639812\n{type=\"zero\"} -Inf"},
    {D_ROUND, "-(data)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} -Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} 2.5\n{type=\"ninf\"} "
     "+Inf\n{type=\"nwhole\"} 2\n{type=\"nzero\"} 0\n{type=\"positive\"} -2.5\n{type=\"whole\"} "
     "-2\n{type=\"zero\"} -0"},
    {D_ROUND, "round(data, 0.3)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} -2.4\n{type=\"ninf\"} "
     "-Inf\n{type=\"nwhole\"} -2.1\n{type=\"nzero\"} 0\n{type=\"positive\"} 2.4\n{type=\"whole\"} "
     "2.1\n{type=\"zero\"} 0"},
    {D_ROUND, "round(data, 5)", false, 0, 0, 0, 0,
     "vector\n{type=\"inf\"} +Inf\n{type=\"nan\"} NaN\n{type=\"negative\"} 0\n{type=\"ninf\"} "
     "-Inf\n{type=\"nwhole\"} 0\n{type=\"nzero\"} 0\n{type=\"positive\"} 5\n{type=\"whole\"} "
     "0\n{type=\"zero\"} 0"},
    {D_TRIG, "sin(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} -0.5440211108893699\n{l=\"y\"} 0.9129452507276277"},
    {D_TRIG, "cos(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} -0.8390715290764524\n{l=\"y\"} 0.40808206181339196"},
    {D_TRIG, "tan(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 0.6483608274590867\n{l=\"y\"} 2.2371609442247427"},
    {D_TRIG, "asin(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} NaN\n{l=\"y\"} NaN"},
    {D_TRIG, "acos(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} NaN\n{l=\"y\"} NaN"},
    {D_TRIG, "atan(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 1.4711276743037345\n{l=\"y\"} 1.5208379310729538"},
    {D_TRIG, "sinh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 11013.232874703393\n{l=\"y\"} 242582597.70489514"},
    {D_TRIG, "cosh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 11013.232920103324\n{l=\"y\"} 242582597.70489514"},
    {D_TRIG, "tanh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 0.9999999958776927\n{l=\"y\"} 1"},
    {D_TRIG, "asinh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 2.99822295029797\n{l=\"y\"} 3.6895038689889055"},
    {D_TRIG, "acosh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 2.993222846126381\n{l=\"y\"} 3.6882538673612966"},
    {D_TRIG, "atanh(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} NaN\n{l=\"y\"} NaN"},
    {D_TRIG, "rad(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 0.17453292519943295\n{l=\"y\"} 0.3490658503988659"},
    {D_TRIG, "deg(trig)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 572.9577951308232\n{l=\"y\"} 1145.9155902616465"},
    {D_TRIG, "asin(trig - 10.1)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} -0.10016742116155944\n{l=\"y\"} NaN"},
    {D_TRIG, "atanh(trig - 10.1)", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} -0.10033534773107522\n{l=\"y\"} NaN"},
    {D_TRIG, "deg(rad(trig))", false, 60000, 0, 0, NEAR,
     "vector\n{l=\"NaN\"} NaN\n{l=\"x\"} 10\n{l=\"y\"} 20"},
    {D_DUP, "changes({__name__=~'testmetric1|testmetric2'}[5m])", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_DUP, "-{__name__=~'testmetric1|testmetric2'}", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_DUP, "ceil({__name__=~'testmetric1|testmetric2'})", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_DUP, "last_over_time({__name__=~'testmetric1|testmetric2'}[5m])", false, 0, 0, 0, 0,
     "vector\ntestmetric1{dst=\"b\", src=\"a\"} 0\ntestmetric2{dst=\"b\", src=\"a\"} 1"},
    {D_DUP, "{__name__=~'testmetric1|testmetric2'} + 0", false, 0, 0, 0, 0,
     "error execution: vector cannot contain metrics with the same labelset"},
    {D_AGG, "SUM BY (group) (http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\"} 700\n{group=\"production\"} 300"},
    {D_AGG, "avg by (group) (http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\"} 350\n{group=\"production\"} 150"},
    {D_AGG, "count by (group) (http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\"} 2\n{group=\"production\"} 2"},
    {D_AGG, "sum without (instance) (http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", job=\"api-server\"} 700\n{group=\"production\", "
     "job=\"api-server\"} 300"},
    {D_AGG, "sum by () (http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\n{} 1000"},
    {D_AGG, "sum(http_requests{job=\"api-server\"})", false, 3000000, 0, 0, 0, "vector\n{} 1000"},
    {D_AGG, "sum without () (http_requests{job=\"api-server\",group=\"production\"})", false,
     3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\n{group=\"production\", instance=\"1\", job=\"api-server\"} 200"},
    {D_AGG, "sum without (instance) (http_requests{job=\"api-server\"} or foo)", false, 3000000, 0,
     0, 0,
     "vector\n{group=\"canary\", job=\"api-server\"} 700\n{group=\"production\", "
     "job=\"api-server\"} 300\n{job=\"api-server\", region=\"europe\"} 900\n{job=\"api-server\"} "
     "1000"},
    {D_AGG,
     "sum(http_requests) by (job) + min(http_requests) by (job) + max(http_requests) by (job) + "
     "avg(http_requests) by (job)",
     false, 3000000, 0, 0, 0, "vector\n{job=\"api-server\"} 1750\n{job=\"app-server\"} 4550"},
    {D_AGG, "sum(sum by (group) (http_requests{job=\"api-server\"})) by (job)", false, 3000000, 0,
     0, 0, "vector\n{} 1000"},
    {D_AGG, "SUM(http_requests) BY (job, nonexistent)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1000\n{job=\"app-server\"} 2600"},
    {D_AGG, "SUM(http_requests) BY (job, group)", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", job=\"api-server\"} 700\n{group=\"canary\", job=\"app-server\"} "
     "1500\n{group=\"production\", job=\"api-server\"} 300\n{group=\"production\", "
     "job=\"app-server\"} 1100"},
    {D_AGG, "MIN(http_requests) BY (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 100\n{job=\"app-server\"} 500"},
    {D_AGG, "MAX(http_requests) BY (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 400\n{job=\"app-server\"} 800"},
    {D_AGG, "group(http_requests) by (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1\n{job=\"app-server\"} 1"},
    {D_AGG, "group without (instance) (http_requests)", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", job=\"api-server\"} 1\n{group=\"canary\", job=\"app-server\"} "
     "1\n{group=\"production\", job=\"api-server\"} 1\n{group=\"production\", job=\"app-server\"} "
     "1"},
    {D_AGG, "sum by (__name__) ({job=\"api-server\"})", false, 3000000, 0, 0, 0,
     "vector\nfoo{} 1900\nhttp_requests{} 1000"},
    {D_AGG, "count({__name__=~\".+\"}) by (__name__)", false, 3000000, 0, 0, 0,
     "vector\nfoo{} 2\nhttp_requests{} 8"},
    {D_AGG, "round(0.004 * http_requests{group=\"production\",job=\"api-server\"})", false, 3000000,
     0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 0\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 1"},
    {D_AGG, "round(-1 * (0.005 * http_requests{group=\"production\",job=\"api-server\"}))", false,
     3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 0\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} -1"},
    {D_AGG, "round(5.2 + 0.0005 * http_requests{group=\"production\",job=\"api-server\"}, 0.1)",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "5.3\n{group=\"production\", instance=\"1\", job=\"api-server\"} 5.3"},
    {D_AGG,
     "round(-1 * (5.2 + 0.0005 * http_requests{group=\"production\",job=\"api-server\"}), 0.1)",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "-5.2\n{group=\"production\", instance=\"1\", job=\"api-server\"} -5.3"},
    {D_AGG, "round(0.045 * http_requests{group=\"production\",job=\"api-server\"}, 5)", false,
     3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 5\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 10"},
    {D_AGG, "stddev(http_requests)", false, 3000000, 0, 0, 0, "vector\n{} 229.128784747792"},
    {D_AGG, "stddev by (instance)(http_requests)", false, 3000000, 0, 0, 0,
     "vector\n{instance=\"0\"} 223.60679774997897\n{instance=\"1\"} 223.60679774997897"},
    {D_AGG, "stdvar(http_requests)", false, 3000000, 0, 0, 0, "vector\n{} 52499.99999999999"},
    {D_AGG, "stdvar by (instance)(http_requests)", false, 3000000, 0, 0, 0,
     "vector\n{instance=\"0\"} 50000\n{instance=\"1\"} 50000"},
    {D_AGG, "quantile(0.5, http_requests)", false, 3000000, 0, 0, 0, "vector\n{} 450"},
    {D_AGG, "quantile by (group) (0.25, http_requests)", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\"} 375\n{group=\"production\"} 175"},
    {D_AGG, "quantile(-1, http_requests)", false, 3000000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AGG, "quantile(2, http_requests)", false, 3000000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG, "quantile(NaN, http_requests)", false, 3000000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG, "quantile(0.9, http_requests{job=\"none\"})", false, 3000000, 0, 0, 0, "vector"},
    {D_AGG, "count_values(\"value\", http_requests)", false, 3000000, 0, 0, 0,
     "vector\n{value=\"100\"} 1\n{value=\"500\"} 1\n{value=\"200\"} 1\n{value=\"600\"} "
     "1\n{value=\"300\"} 1\n{value=\"700\"} 1\n{value=\"400\"} 1\n{value=\"800\"} 1"},
    {D_AGG, "count_values by (job) (\"value\", floor(http_requests / 300))", false, 3000000, 0, 0,
     0,
     "vector\n{job=\"api-server\", value=\"1\"} 2\n{job=\"app-server\", value=\"2\"} "
     "3\n{job=\"api-server\", value=\"0\"} 2\n{job=\"app-server\", value=\"1\"} 1"},
    {D_AGG, "count_values without (instance) (\"job\", http_requests / 100 > 5)", false, 3000000, 0,
     0, 0,
     "vector\n{group=\"canary\", job=\"8\"} 1\n{group=\"production\", job=\"6\"} "
     "1\n{group=\"canary\", job=\"7\"} 1"},
    {D_AGG, "count_values(\"\", http_requests)", false, 3000000, 0, 0, 0,
     "error execution: invalid label name \"\""},
    {D_AGG, "topk(3, http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} "
     "700\nhttp_requests{group=\"production\", instance=\"1\", job=\"app-server\"} 600"},
    {D_AGG, "topk((3), (http_requests))", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} "
     "700\nhttp_requests{group=\"production\", instance=\"1\", job=\"app-server\"} 600"},
    {D_AGG, "topk(5, http_requests{group=\"canary\",job=\"app-server\"})", false, 3000000, 0, 0,
     ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} 700"},
    {D_AGG, "bottomk(3, http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} "
     "200\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} 300"},
    {D_AGG, "bottomk(5, http_requests{group=\"canary\",job=\"app-server\"})", false, 3000000, 0, 0,
     ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} "
     "700\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} 800"},
    {D_AGG, "topk by (group) (1, http_requests)", false, 3000000, 0, 0, 0,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"production\", instance=\"1\", job=\"app-server\"} 600"},
    {D_AGG, "bottomk by (group) (2, http_requests)", false, 3000000, 0, 0, 0,
     "vector\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "300\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "400\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} 200"},
    {D_AGG, "topk(0, http_requests)", false, 3000000, 0, 0, ORDERED, "vector"},
    {D_AGG, "topk(-1, http_requests)", false, 3000000, 0, 0, ORDERED, "vector"},
    {D_AGG, "topk(NaN, http_requests)", false, 3000000, 0, 0, ORDERED,
     "error execution: Parameter value is NaN"},
    {D_AGG, "topk(1e20, http_requests)", false, 3000000, 0, 0, ORDERED,
     "error execution: Scalar value 1e+20 overflows int64"},
    {D_AGG, "bottomk(-1e20, http_requests)", false, 3000000, 0, 0, ORDERED, "vector"},
    {D_AGG, "topk(scalar(count(foo)), http_requests)", false, 3000000, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "800\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} 700"},
    {D_AGG, "limitk(2, http_requests)", false, 3000000, 0, 0, 0,
     "vector\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} "
     "300\nhttp_requests{group=\"canary\", instance=\"0\", job=\"app-server\"} 700"},
    {D_AGG, "topk(2, http_requests{job=\"api-server\"})", true, 0, 600000, 300000, 0,
     "matrix\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} 0 30 "
     "60\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} 0 40 80"},
    {D_AGG, "sum by (group) (rate(http_requests[10m]))", true, 600000, 3000000, 600000, 0,
     "matrix\n{group=\"canary\"} 0.7333333333333334 0.7333333333333334 0.7333333333333334 "
     "0.7333333333333334 0.7333333333333334\n{group=\"production\"} 0.4666666666666667 "
     "0.4666666666666667 0.4666666666666667 0.4666666666666667 0.4666666666666667"},
    {D_AGG, "count_values(\"v\", http_requests{job=\"api-server\"} / 100)", true, 2400000, 3000000,
     300000, 0,
     "matrix\n{v=\"0.8\"} 1 _ _\n{v=\"0.9\"} _ 1 _\n{v=\"1\"} _ _ 1\n{v=\"1.6\"} 1 _ "
     "_\n{v=\"1.8\"} _ 1 _\n{v=\"2\"} _ _ 1\n{v=\"2.4\"} 1 _ _\n{v=\"2.7\"} _ 1 _\n{v=\"3\"} _ _ "
     "1\n{v=\"3.2\"} 1 _ _\n{v=\"3.6\"} _ 1 _\n{v=\"4\"} _ _ 1"},
    {D_AGG, "absent(nonexistent)", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(nonexistent{job=\"testjob\", instance=\"testinstance\", method=~\".x\"})",
     false, 3000000, 0, 0, 0, "vector\n{instance=\"testinstance\", job=\"testjob\"} 1"},
    {D_AGG, "absent(nonexistent{job=\"testjob\",job=\"testjob2\",foo=\"bar\"})", false, 3000000, 0,
     0, 0, "vector\n{foo=\"bar\"} 1"},
    {D_AGG, "absent(nonexistent{job=\"testjob\",job=\"testjob2\",job=\"three\",foo=\"bar\"})",
     false, 3000000, 0, 0, 0, "vector\n{foo=\"bar\"} 1"},
    {D_AGG, "absent(nonexistent{job=\"testjob\",job=~\"testjob2\",foo=\"bar\"})", false, 3000000, 0,
     0, 0, "vector\n{foo=\"bar\"} 1"},
    {D_AGG, "absent(http_requests)", false, 3000000, 0, 0, 0, "vector"},
    {D_AGG, "absent(sum(http_requests))", false, 3000000, 0, 0, 0, "vector"},
    {D_AGG, "absent(sum(nonexistent{job=\"testjob\", instance=\"testinstance\"}))", false, 3000000,
     0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(max(nonexistent))", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(nonexistent > 1)", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(a + b)", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(a and b)", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(rate(nonexistent[5m]))", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent(rate(http_requests[5m]))", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent((nonexistent{job=\"a\"}))", false, 3000000, 0, 0, 0, "vector\n{job=\"a\"} 1"},
    {D_AGG, "absent(nonexistent{job=\"\"})", false, 3000000, 0, 0, 0, "vector\n{} 1"},
    {D_AGG, "absent_over_time(http_requests[5m])", false, 3000000, 0, 0, 0, "vector"},
    {D_AGG, "absent_over_time(rate(nonexistent[5m])[5m:])", false, 3000000, 0, 0, 0,
     "vector\n{} 1"},
    {D_AGG, "absent_over_time(nonexistent{job=\"x\"}[5m] offset 1h)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"x\"} 1"},
    {D_AGG, "absent(http_requests{instance=\"1\"} > 400)", true, 1800000, 3000000, 300000, 0,
     "matrix"},
    {D_AGG, "absent_over_time(http_requests{instance=\"9\"}[5m])", true, 1800000, 3000000, 300000,
     0, "matrix\n{instance=\"9\"} 1 1 1 1 1"},
    {D_AGG_NAN, "max(http_requests)", false, 0, 0, 0, 0, "vector\n{} 4"},
    {D_AGG_NAN, "min(http_requests)", false, 0, 0, 0, 0, "vector\n{} 1"},
    {D_AGG_NAN, "max by (group) (http_requests)", false, 0, 0, 0, 0,
     "vector\n{group=\"canary\"} 4\n{group=\"production\"} 2"},
    {D_AGG_NAN, "min by (group) (http_requests)", false, 0, 0, 0, 0,
     "vector\n{group=\"canary\"} 3\n{group=\"production\"} 1"},
    {D_AGG_NAN, "topk(2, http_requests)", false, 0, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"2\", job=\"api-server\"} "
     "4\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} 3"},
    {D_AGG_NAN, "bottomk(2, http_requests)", false, 0, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "1\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} 2"},
    {D_AGG_NAN, "topk(5, http_requests)", false, 0, 0, 0, ORDERED,
     "vector\nhttp_requests{group=\"canary\", instance=\"2\", job=\"api-server\"} "
     "4\nhttp_requests{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "3\nhttp_requests{group=\"production\", instance=\"1\", job=\"api-server\"} "
     "2\nhttp_requests{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "1\nhttp_requests{group=\"canary\", instance=\"0\", job=\"api-server\"} NaN"},
    {D_AGG_NAN, "sum(http_requests)", false, 0, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_NAN, "avg(http_requests)", false, 0, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_NAN, "stddev(http_requests)", false, 0, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_NAN, "quantile(0.5, http_requests)", false, 0, 0, 0, 0, "vector\n{} 2"},
    {D_AGG_NAN, "count_values(\"v\", http_requests)", false, 0, 0, 0, 0,
     "vector\n{v=\"1\"} 1\n{v=\"2\"} 1\n{v=\"NaN\"} 1\n{v=\"3\"} 1\n{v=\"4\"} 1"},
    {D_AGG_INF, "avg(data{test=\"ten\"})", false, 60000, 0, 0, 0, "vector\n{} 10"},
    {D_AGG_INF, "sum(data{test=\"ten\"})", false, 60000, 0, 0, 0, "vector\n{} 30"},
    {D_AGG_INF, "stddev(data{test=\"ten\"})", false, 60000, 0, 0, 0,
     "vector\n{} 1.632993161855452"},
    {D_AGG_INF, "avg(data{test=\"inf\"})", false, 60000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG_INF, "sum(data{test=\"inf\"})", false, 60000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG_INF, "stddev(data{test=\"inf\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"-inf\"})", false, 60000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AGG_INF, "sum(data{test=\"-inf\"})", false, 60000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AGG_INF, "stddev(data{test=\"-inf\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"inf2\"})", false, 60000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG_INF, "sum(data{test=\"inf2\"})", false, 60000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG_INF, "stddev(data{test=\"inf2\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"inf3\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "sum(data{test=\"inf3\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "stddev(data{test=\"inf3\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "sum(data{test=\"nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "stddev(data{test=\"nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"big\"})", false, 60000, 0, 0, 0,
     "vector\n{} 9.98846567431158e+307"},
    {D_AGG_INF, "sum(data{test=\"big\"})", false, 60000, 0, 0, 0, "vector\n{} +Inf"},
    {D_AGG_INF, "stddev(data{test=\"big\"})", false, 60000, 0, 0, 0, "vector\n{} 0"},
    {D_AGG_INF, "avg(data{test=\"-big\"})", false, 60000, 0, 0, 0,
     "vector\n{} -9.98846567431158e+307"},
    {D_AGG_INF, "sum(data{test=\"-big\"})", false, 60000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AGG_INF, "stddev(data{test=\"-big\"})", false, 60000, 0, 0, 0, "vector\n{} 0"},
    {D_AGG_INF, "avg(data{test=\"bigzero\"})", false, 60000, 0, 0, 0, "vector\n{} 0"},
    {D_AGG_INF, "sum(data{test=\"bigzero\"})", false, 60000, 0, 0, 0, "vector\n{} -Inf"},
    {D_AGG_INF, "stddev(data{test=\"bigzero\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"value is nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "sum(data{test=\"value is nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "stddev(data{test=\"value is nan\"})", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_AGG_INF, "avg(data{test=\"kahan\"})", false, 60000, 0, 0, 0, "vector\n{} 0.5"},
    {D_AGG_INF, "sum(data{test=\"kahan\"})", false, 60000, 0, 0, 0, "vector\n{} 2"},
    {D_AGG_INF, "stddev(data{test=\"kahan\"})", false, 60000, 0, 0, 0,
     "vector\n{} 7.071067811865476e+99"},
    {D_AGG_INF, "avg by (test) (data)", false, 60000, 0, 0, 0,
     "vector\n{test=\"-big\"} -9.98846567431158e+307\n{test=\"-inf\"} -Inf\n{test=\"big\"} "
     "9.98846567431158e+307\n{test=\"bigzero\"} 0\n{test=\"inf\"} +Inf\n{test=\"inf2\"} "
     "+Inf\n{test=\"kahan\"} 0.5\n{test=\"nan\"} NaN\n{test=\"ten\"} 10\n{test=\"inf3\"} "
     "NaN\n{test=\"value is nan\"} NaN"},
    {D_AGG_PRECISION, "stddev(http_requests)", false, 3000000, 0, 0, 0, "vector\n{} 0"},
    {D_AGG_PRECISION, "stdvar(http_requests)", false, 3000000, 0, 0, 0, "vector\n{} 0"},
    {D_AGG_PRECISION, "sum(label_grouping_test) by (a, b)", false, 3000000, 0, 0, 0,
     "vector\n{a=\"a\", b=\"abb\"} 200\n{a=\"aa\", b=\"bb\"} 100"},
    {D_HIST, "histogram_quantile(0, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -0.2\n{start=\"positive\"} 0"},
    {D_HIST, "histogram_quantile(0.2, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -0.2\n{start=\"positive\"} 0.048"},
    {D_HIST, "histogram_quantile(0.5, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -0.15000000000000002\n{start=\"positive\"} 0.15000000000000002"},
    {D_HIST, "histogram_quantile(0.75, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} 0.3\n{start=\"positive\"} 0.6000000000000001"},
    {D_HIST, "histogram_quantile(1, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} 0.3\n{start=\"positive\"} 1"},
    {D_HIST, "histogram_quantile(-0.1, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -Inf\n{start=\"positive\"} -Inf"},
    {D_HIST, "histogram_quantile(1.01, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} +Inf\n{start=\"positive\"} +Inf"},
    {D_HIST, "histogram_quantile(NaN, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} NaN\n{start=\"positive\"} NaN"},
    {D_HIST, "histogram_quantile(0.3, rate(testhistogram_bucket[10m]))", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -0.2\n{start=\"positive\"} 0.072"},
    {D_HIST, "histogram_quantile(0.5, rate(testhistogram_bucket[10m]))", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} -0.15000000000000002\n{start=\"positive\"} 0.15000000000000002"},
    {D_HIST, "histogram_quantile(0.5, testhistogram2_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 3"},
    {D_HIST, "histogram_quantile(0.75, testhistogram2_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 4.5"},
    {D_HIST, "histogram_quantile(0.5, sum(rate(request_duration_seconds_bucket[10m])) by (le))",
     false, 3000000, 0, 0, 0, "vector\n{} 0.1277777777777778"},
    {D_HIST,
     "histogram_quantile(0.5, sum(rate(request_duration_seconds_bucket[10m])) by (le, instance))",
     false, 3000000, 0, 0, 0,
     "vector\n{instance=\"ins1\"} 0.13333333333333333\n{instance=\"ins2\"} 0.125"},
    {D_HIST,
     "histogram_quantile(0.5, sum(rate(request_duration_seconds_bucket[10m])) by (le, job))", false,
     3000000, 0, 0, 0, "vector\n{job=\"job1\"} 0.14\n{job=\"job2\"} 0.11250000000000002"},
    {D_HIST,
     "histogram_quantile(0.3, sum(rate(request_duration_seconds_bucket[10m])) by (le, job, "
     "instance))",
     false, 3000000, 0, 0, 0,
     "vector\n{instance=\"ins1\", job=\"job1\"} 0.11\n{instance=\"ins1\", job=\"job2\"} "
     "0.06\n{instance=\"ins2\", job=\"job1\"} 0.09\n{instance=\"ins2\", job=\"job2\"} 0.0675"},
    {D_HIST, "histogram_quantile(0.5, rate(request_duration_seconds_bucket[10m]))", false, 3000000,
     0, 0, 0,
     "vector\n{instance=\"ins1\", job=\"job1\"} 0.15000000000000002\n{instance=\"ins1\", "
     "job=\"job2\"} 0.1\n{instance=\"ins2\", job=\"job1\"} "
     "0.13333333333333336\n{instance=\"ins2\", job=\"job2\"} 0.11666666666666667"},
    {D_HIST, "histogram_quantile(0.5, rate(mixed_bucket[10m]))", false, 3000000, 0, 0, 0,
     "vector\n{instance=\"ins1\", job=\"job1\"} 0.15000000000000002\n{instance=\"ins2\", "
     "job=\"job1\"} NaN"},
    {D_HIST, "histogram_quantile(0.99, nonmonotonic_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 979.7499999999999"},
    {D_HIST, "histogram_quantile(0.5, nonmonotonic_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 8.5"},
    {D_HIST, "histogram_quantile(0.5, noinf_bucket)", false, 3000000, 0, 0, 0, "vector\n{} NaN"},
    {D_HIST, "histogram_quantile(0.5, bad_bucket)", false, 3000000, 0, 0, 0, "vector\n{} NaN"},
    {D_HIST, "histogram_quantile(0.5, one_bucket)", false, 3000000, 0, 0, 0, "vector\n{} NaN"},
    {D_HIST,
     "histogram_quantile(0.5, "
     "{__name__=~\"request_duration_seconds_bucket|testhistogram2_bucket\"})",
     false, 3000000, 0, 0, 0,
     "vector\n{instance=\"ins1\", job=\"job1\"} 0.15000000000000002\n{instance=\"ins1\", "
     "job=\"job2\"} 0.1\n{instance=\"ins2\", job=\"job1\"} "
     "0.13333333333333333\n{instance=\"ins2\", job=\"job2\"} 0.11666666666666667\n{} 3"},
    {D_HIST, "histogram_quantile(0.5, request_duration_seconds_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{instance=\"ins1\", job=\"job1\"} 0.15000000000000002\n{instance=\"ins1\", "
     "job=\"job2\"} 0.1\n{instance=\"ins2\", job=\"job1\"} "
     "0.13333333333333333\n{instance=\"ins2\", job=\"job2\"} 0.11666666666666667"},
    {D_HIST, "histogram_fraction(0, 0.2, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} 0\n{start=\"positive\"} 0.5833333333333334"},
    {D_HIST, "histogram_fraction(0.1, 0.5, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} 0\n{start=\"positive\"} 0.2916666666666667"},
    {D_HIST, "histogram_fraction(-Inf, 0.1, testhistogram_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{start=\"negative\"} 0.6666666666666666\n{start=\"positive\"} 0.4166666666666667"},
    {D_HIST, "histogram_fraction(0, +Inf, testhistogram2_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 1"},
    {D_HIST, "histogram_fraction(3, 1, testhistogram2_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} 0"},
    {D_HIST, "histogram_fraction(NaN, 1, testhistogram2_bucket)", false, 3000000, 0, 0, 0,
     "vector\n{} NaN"},
    {D_HIST, "histogram_fraction(1, 3, rate(testhistogram2_bucket[10m]))", false, 3000000, 0, 0, 0,
     "vector\n{} 0.3333333333333333"},
    {D_HIST, "histogram_count(testhistogram_bucket)", false, 3000000, 0, 0, 0, "vector"},
    {D_HIST, "histogram_sum(testhistogram_bucket)", false, 3000000, 0, 0, 0, "vector"},
    {D_HIST, "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[10m])))",
     true, 600000, 3000000, 600000, 0, "matrix\n{} 0.2 0.2 0.2 0.2 0.2"},
};

static void test_prometheus_func_cases(void **state)
{
    (void)state;
    promql_testsrc_run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Exact rate/increase with counted resets (the evaluator's O(1) path)
 * against the walk of every window, bit for bit: random counters with
 * resets, equal values and NaN, random windows with and without a
 * baseline. LLMTAP_TEST_SEED replays. */
static void test_exact_rate_resets(void **state)
{
    (void)state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_exact_rate_resets: seed %llu (LLMTAP_TEST_SEED replays)\n",
           (unsigned long long)seed);
    uint64_t rs = seed;
#define NEXT() (rs = rs * 6364136223846793005ull + 1442695040888963407ull, rs >> 33)
    enum { N = 400 };
    struct promql_sample p[N];
    uint32_t resets[N];
    size_t windows = 0, with_resets = 0;
    for (int round = 0; round < 300; round++) {
        double v = 0;
        for (size_t i = 0; i < N; i++) {
            uint64_t r = NEXT() % 100;
            if (r < 3)
                v = (double)(NEXT() % 5); /* reset (or not) */
            else if (r < 4)
                v = NAN;
            else if (r < 40)
                v = isnan(v) ? 1 : v; /* unchanged */
            else
                v = (isnan(v) ? 0 : v) + (double)(NEXT() % 1000) / 7;
            p[i] = (struct promql_sample){(int64_t)i * 10000, v};
        }
        size_t nres = 0;
        resets[0] = 0;
        for (size_t i = 1; i < N; i++) {
            resets[i] = resets[i - 1] + (p[i].v < p[i - 1].v);
            nres += p[i].v < p[i - 1].v;
        }
        for (int k = 0; k < 200; k++) {
            size_t lo = NEXT() % N, n = 1 + NEXT() % 40;
            if (lo + n > N)
                n = N - lo;
            bool rate = NEXT() % 2;
            struct pq_window a = {
                .p = p + lo, .n = n, .start = 0, .end = 0, .range_ms = 300000, .exact = true};
            if (lo > 0 && NEXT() % 4)
                a.pre = &p[lo - 1];
            struct pq_window b = a;
            b.resets = resets + lo;
            b.no_resets = nres == 0;
            double va = 0, vb = 0;
            enum promql_func_id id = rate ? PROMQL_FN_RATE : PROMQL_FN_INCREASE;
            char err[64];
            int ga = pq_fn_range(id, &a, NULL, &va, err, sizeof err);
            int gb = pq_fn_range(id, &b, NULL, &vb, err, sizeof err);
            assert_int_equal(ga, gb);
            if (ga == 1 && memcmp(&va, &vb, sizeof va) != 0)
                fail_msg("window %zu+%zu: walk %.17g, counted %.17g (seed %llu)", lo, n, va, vb,
                         (unsigned long long)seed);
            windows++;
            with_resets += resets[lo + n - 1] != resets[lo ? lo - 1 : 0];
        }
    }
#undef NEXT
    assert_true(with_resets > windows / 10 && with_resets < windows);
}

/* The whole-range exact rate() on a grid (the window's ends by
 * arithmetic) against the same walk without the grid, bit for bit, with
 * the same held-samples peak and stop: random grids (1 ms to 40 s, from
 * times before and after zero, off the steps or on them), counters with
 * resets, steps before, inside and after the samples, any step, range,
 * offset and lookback, and budgets that stop the walk. LLMTAP_TEST_SEED
 * replays. */
static void test_exact_rate_grid(void **state)
{
    (void)state;
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_exact_rate_grid: seed %llu (LLMTAP_TEST_SEED replays)\n",
           (unsigned long long)seed);
    uint64_t rs = seed ^ 0x9e3779b97f4a7c15ull;
#define NEXT() (rs = rs * 6364136223846793005ull + 1442695040888963407ull, rs >> 33)
    enum { N = 600, STEPS = 500 };
    static struct promql_sample p[N], oa[STEPS], ob[STEPS];
    static uint32_t resets[N];
    size_t values = 0, stops = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + NEXT() % N;
        int64_t grid = NEXT() % 3 ? 10000 : 1 + (int64_t)(NEXT() % 40000);
        int64_t t0 = (int64_t)(NEXT() % 2000000) - 1000000;
        if (NEXT() % 2)
            t0 -= t0 % 1000;
        double v = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = NEXT() % 100;
            v = r < 3 ? (double)(NEXT() % 5) : r < 40 ? v : v + (double)(NEXT() % 1000) / 7;
            p[i] = (struct promql_sample){t0 + (int64_t)i * grid, v};
        }
        resets[0] = 0;
        for (size_t i = 1; i < n; i++)
            resets[i] = resets[i - 1] + (p[i].v < p[i - 1].v);
        int64_t span = (int64_t)n * grid;
        /* each draw in its own statement: an initializer list's order of
         * evaluation is unspecified */
        bool with_resets = NEXT() % 4;
        int64_t start = t0 - span / 4 + (int64_t)(NEXT() % (uint64_t)(span + 1)) - span / 2;
        uint64_t iv_max = NEXT() % 2 ? 60000 : 3 * (uint64_t)grid;
        int64_t interval = 1 + (int64_t)(NEXT() % iv_max);
        size_t nsteps = 1 + NEXT() % STEPS;
        int64_t off = NEXT() % 3 ? 0 : (int64_t)(NEXT() % 600000) - 300000;
        uint64_t range_max = NEXT() % 2 ? 600000 : 4 * (uint64_t)grid;
        int64_t range = 1 + (int64_t)(NEXT() % range_max);
        int64_t lookback = 1 + (int64_t)(NEXT() % 600000);
        bool rate = NEXT() % 2;
        uint64_t budget = NEXT() % 4 ? UINT64_MAX : NEXT() % 400;
        struct pq_rate_steps a = {
            .p = p,
            .n = n,
            .resets = with_resets ? resets : NULL,
            .no_resets = resets[n - 1] == 0,
            .start = start,
            .interval = interval,
            .nsteps = nsteps,
            .off = off,
            .range_ms = range,
            .lookback_ms = lookback,
            .rate = rate,
            .budget = budget,
        };
        bool over_a, over_b;
        uint64_t peak_a, peak_b;
        if (NEXT() % 3 == 0) { /* a budget around the most the walk holds */
            a.budget = UINT64_MAX;
            (void)pq_fn_exact_rate_steps(&a, oa, &over_a, &peak_a);
            a.budget = peak_a + 1 - NEXT() % 3;
        }
        struct pq_rate_steps b = a;
        b.grid = grid;
        size_t na = pq_fn_exact_rate_steps(&a, oa, &over_a, &peak_a);
        size_t nb = pq_fn_exact_rate_steps(&b, ob, &over_b, &peak_b);
        if (na != nb || over_a != over_b || peak_a != peak_b ||
            (na && memcmp(oa, ob, na * sizeof *oa) != 0))
            fail_msg("round %d: walk %zu values (over %d, peak %llu), grid %zu (over %d, peak "
                     "%llu) or other values (seed %llu)",
                     round, na, over_a, (unsigned long long)peak_a, nb, over_b,
                     (unsigned long long)peak_b, (unsigned long long)seed);
        values += na;
        stops += over_a;
    }
#undef NEXT
    /* the rounds reach values and stops, not only empty walks */
    assert_true(values > 100000 && stops > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_func_cases),
        cmocka_unit_test(test_exact_rate_resets),
        cmocka_unit_test(test_exact_rate_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
