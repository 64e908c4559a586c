/*
 * Unit tests for the PromQL evaluator's binary operators
 * (collector/promql_binop.c, through promql_eval.c): arithmetic,
 * comparisons, set operators and vector matching, as transcribed from
 * Prometheus's operators.test. Selectors and the hand-computed tests are
 * in test_promql_eval.c, functions and aggregations in test_promql_funcs.c.
 *
 * The table (cases[]) transcribes inputs from Prometheus's own test
 * scripts (promql/promqltest/testdata/<file>.test, cited per data set) into
 * llmtap's test notation; the expected results were produced by running
 * Prometheus's engine (v3.x, default flags: no delayed name removal) on the
 * same data and queries, and are compared token by token. Instant cases
 * are also re-run as a range query around the same time, as Prometheus's
 * test runner does, and must agree. The source and the runner are in
 * promql_testsrc.h.
 */
#include "promql_testsrc.h"

/* --- the cases transcribed from Prometheus's test scripts ----------------- */

/* operators.test */
static const char D_OPS[] =
    "load 5m\n"
    "http_requests_total{job=\"api-server\", instance=\"0\", group=\"production\"} 0+10x10\n"
    "http_requests_total{job=\"api-server\", instance=\"1\", group=\"production\"} 0+20x10\n"
    "http_requests_total{job=\"api-server\", instance=\"0\", group=\"canary\"} 0+30x10\n"
    "http_requests_total{job=\"api-server\", instance=\"1\", group=\"canary\"} 0+40x10\n"
    "http_requests_total{job=\"app-server\", instance=\"0\", group=\"production\"} 0+50x10\n"
    "http_requests_total{job=\"app-server\", instance=\"1\", group=\"production\"} 0+60x10\n"
    "http_requests_total{job=\"app-server\", instance=\"0\", group=\"canary\"} 0+70x10\n"
    "http_requests_total{job=\"app-server\", instance=\"1\", group=\"canary\"} 0+80x10\n"
    "vector_matching_a{l=\"x\"} 0+1x100\n"
    "vector_matching_a{l=\"y\"} 0+2x50\n"
    "vector_matching_b{l=\"x\"} 0+4x25\n";

/* operators.test */
static const char D_OPS_MANY[] = "load 5m\n"
                                 "many_side{label=\"foo\",job=\"test\"} 1\n"
                                 "many_side{label=\"bar\",job=\"test\"} 1\n"
                                 "one_side{job=\"test\"} 1\n"
                                 "node_var{instance=\"abc\",job=\"node\"} 2\n"
                                 "node_role{instance=\"abc\",job=\"node\",role=\"prometheus\"} 1\n"
                                 "node_cpu{instance=\"abc\",job=\"node\",mode=\"idle\"} 3\n"
                                 "node_cpu{instance=\"abc\",job=\"node\",mode=\"user\"} 1\n"
                                 "node_cpu{instance=\"def\",job=\"node\",mode=\"idle\"} 8\n"
                                 "node_cpu{instance=\"def\",job=\"node\",mode=\"user\"} 2\n"
                                 "random{foo=\"bar\"} 1\n"
                                 "threshold{instance=\"abc\",job=\"node\",target=\"a@b.com\"} 0\n"
                                 "metricA{baz=\"meh\"} 3\n"
                                 "metricB{baz=\"meh\"} 4\n"
                                 "test_total{instance=\"localhost\"} 50\n"
                                 "test_smaller{instance=\"localhost\"} 10\n"
                                 "trigy{} 10\n"
                                 "trigx{} 20\n"
                                 "trigNaN{} NaN\n";

/* operators.test */
static const char D_CMP_FLOATS[] = "load 6m\n"
                                   "left_floats 1 2 _ _ 3 stale 4 5 NaN Inf -Inf\n"
                                   "right_floats 4 _ _ 5 3 7 -1 20 NaN Inf -Inf\n";

static const struct tcase cases[] = {
    {D_OPS, "SUM(http_requests_total) BY (job) - COUNT(http_requests_total) BY (job)", false,
     3000000, 0, 0, 0, "vector\n{job=\"api-server\"} 996\n{job=\"app-server\"} 2596"},
    {D_OPS, "2 - SUM(http_requests_total) BY (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} -998\n{job=\"app-server\"} -2598"},
    {D_OPS, "-http_requests_total{job=\"api-server\",instance=\"0\",group=\"production\"}", false,
     3000000, 0, 0, 0, "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} -100"},
    {D_OPS, "+http_requests_total{job=\"api-server\",instance=\"0\",group=\"production\"}", false,
     3000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} 100"},
    {D_OPS, "- - - SUM(http_requests_total) BY (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} -1000\n{job=\"app-server\"} -2600"},
    {D_OPS, "2/-2^---1*3+2", false, 3000000, 0, 0, 0, "scalar -10"},
    {D_OPS, "SUM(http_requests_total) BY (job) ^ 2", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1000000\n{job=\"app-server\"} 6760000"},
    {D_OPS, "SUM(http_requests_total) BY (job) % 2 ^ 3 ^ 2", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 488\n{job=\"app-server\"} 40"},
    {D_OPS, "SUM(http_requests_total) BY (job) / 0", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} +Inf\n{job=\"app-server\"} +Inf"},
    {D_OPS, "0 * http_requests_total{group=\"canary\", instance=\"0\", job=\"api-server\"} / 0",
     false, 3000000, 0, 0, 0, "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} NaN"},
    {D_OPS, "(SUM((http_requests_total)) BY (job)) + SUM(http_requests_total) BY (job)", false,
     3000000, 0, 0, 0, "vector\n{job=\"api-server\"} 2000\n{job=\"app-server\"} 5200"},
    {D_OPS, "rate(http_requests_total[25m]) * 25 * 60", false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 150\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 350\n{group=\"canary\", instance=\"1\", "
     "job=\"api-server\"} 200\n{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "400\n{group=\"production\", instance=\"0\", job=\"api-server\"} 50\n{group=\"production\", "
     "instance=\"0\", job=\"app-server\"} 250.00000000000003\n{group=\"production\", "
     "instance=\"1\", job=\"api-server\"} 100\n{group=\"production\", instance=\"1\", "
     "job=\"app-server\"} 300"},
    {D_OPS, "(http_requests_total{group=\"canary\"} + 1) and http_requests_total{instance=\"0\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701"},
    {D_OPS,
     "(http_requests_total{group=\"canary\"} + 1) and ignoring(group) "
     "http_requests_total{instance=\"0\", group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701"},
    {D_OPS,
     "(http_requests_total{group=\"canary\"} + 1) and on(instance, job) "
     "http_requests_total{instance=\"0\", group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701"},
    {D_OPS, "(http_requests_total{group=\"canary\"} + 1) or http_requests_total{instance=\"1\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701\n{group=\"canary\", instance=\"1\", "
     "job=\"api-server\"} 401\n{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "801\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} "
     "200\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"app-server\"} 600"},
    {D_OPS,
     "(http_requests_total{group=\"canary\"} + 1) or on(instance) (http_requests_total or "
     "cpu_count or vector_matching_a)",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701\n{group=\"canary\", instance=\"1\", "
     "job=\"api-server\"} 401\n{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "801\nvector_matching_a{l=\"x\"} 10\nvector_matching_a{l=\"y\"} 20"},
    {D_OPS,
     "(http_requests_total{group=\"canary\"} + 1) or ignoring(l, group, job) (http_requests_total "
     "or cpu_count or vector_matching_a)",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"canary\", instance=\"0\", job=\"api-server\"} 301\n{group=\"canary\", "
     "instance=\"0\", job=\"app-server\"} 701\n{group=\"canary\", instance=\"1\", "
     "job=\"api-server\"} 401\n{group=\"canary\", instance=\"1\", job=\"app-server\"} "
     "801\nvector_matching_a{l=\"x\"} 10\nvector_matching_a{l=\"y\"} 20"},
    {D_OPS, "http_requests_total{group=\"canary\"} unless http_requests_total{instance=\"0\"}",
     false, 3000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "400\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"app-server\"} 800"},
    {D_OPS,
     "http_requests_total{group=\"canary\"} unless on(job) http_requests_total{instance=\"0\"}",
     false, 3000000, 0, 0, 0, "vector"},
    {D_OPS,
     "http_requests_total{group=\"canary\"} unless on(job, instance) "
     "http_requests_total{instance=\"0\"}",
     false, 3000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"api-server\"} "
     "400\nhttp_requests_total{group=\"canary\", instance=\"1\", job=\"app-server\"} 800"},
    {D_OPS,
     "http_requests_total{group=\"canary\"} / on(instance,job) "
     "http_requests_total{group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{instance=\"0\", job=\"api-server\"} 3\n{instance=\"0\", job=\"app-server\"} "
     "1.4\n{instance=\"1\", job=\"api-server\"} 2\n{instance=\"1\", job=\"app-server\"} "
     "1.3333333333333333"},
    {D_OPS,
     "http_requests_total{group=\"canary\"} unless ignoring(group, instance) "
     "http_requests_total{instance=\"0\"}",
     false, 3000000, 0, 0, 0, "vector"},
    {D_OPS,
     "http_requests_total{group=\"canary\"} / ignoring(group) "
     "http_requests_total{group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{instance=\"0\", job=\"api-server\"} 3\n{instance=\"0\", job=\"app-server\"} "
     "1.4\n{instance=\"1\", job=\"api-server\"} 2\n{instance=\"1\", job=\"app-server\"} "
     "1.3333333333333333"},
    {D_OPS,
     "sum by (group) (http_requests_total) / on(group) group_left sum by (group, job) "
     "(http_requests_total)",
     false, 3000000, 0, 0, 0,
     "error execution: found duplicate series for the match group {group=\"canary\"} on the right "
     "hand-side of the operation: [{group=\"canary\", job=\"api-server\"}, {group=\"canary\", "
     "job=\"app-server\"}];many-to-many matching not allowed: matching labels must be unique on "
     "one side"},
    {D_OPS, "SUM(http_requests_total) BY (job) > 1000", false, 3000000, 0, 0, 0,
     "vector\n{job=\"app-server\"} 2600"},
    {D_OPS, "1000 < SUM(http_requests_total) BY (job)", false, 3000000, 0, 0, 0,
     "vector\n{job=\"app-server\"} 2600"},
    {D_OPS, "SUM(http_requests_total) BY (job) <= 1000", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1000"},
    {D_OPS, "SUM(http_requests_total) BY (job) != 1000", false, 3000000, 0, 0, 0,
     "vector\n{job=\"app-server\"} 2600"},
    {D_OPS, "SUM(http_requests_total) BY (job) == 1000", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1000"},
    {D_OPS, "SUM(http_requests_total) BY (job) == bool 1000", false, 3000000, 0, 0, 0,
     "vector\n{job=\"api-server\"} 1\n{job=\"app-server\"} 0"},
    {D_OPS, "SUM(http_requests_total) BY (job) == bool SUM(http_requests_total) BY (job)", false,
     3000000, 0, 0, 0, "vector\n{job=\"api-server\"} 1\n{job=\"app-server\"} 1"},
    {D_OPS, "SUM(http_requests_total) BY (job) != bool SUM(http_requests_total) BY (job)", false,
     3000000, 0, 0, 0, "vector\n{job=\"api-server\"} 0\n{job=\"app-server\"} 0"},
    {D_OPS, "0 == bool 1", false, 3000000, 0, 0, 0, "scalar 0"},
    {D_OPS, "1 == bool 1", false, 3000000, 0, 0, 0, "scalar 1"},
    {D_OPS,
     "http_requests_total{job=\"api-server\", instance=\"0\", group=\"production\"} == bool 100",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 1"},
    {D_OPS, "vector_matching_a > on(l) group_left vector_matching_b", false, 3000000, 0, 0, 0,
     "vector"},
    {D_OPS, "vector_matching_a + vector_matching_b", false, 3000000, 0, 0, 0,
     "vector\n{l=\"x\"} 50"},
    {D_OPS, "vector_matching_a - on() group_left vector_matching_b", false, 3000000, 0, 0, 0,
     "vector\n{l=\"x\"} -30\n{l=\"y\"} -20"},
    {D_OPS, "vector_matching_a >= ignoring(l) vector_matching_b", false, 3000000, 0, 0, 0,
     "error execution: multiple matches for labels: many-to-one matching must be explicit "
     "(group_left/group_right)"},
    {D_OPS, "http_requests_total + on(job) http_requests_total", false, 3000000, 0, 0, 0,
     "error execution: found duplicate series for the match group {job=\"api-server\"} on the "
     "right hand-side of the operation: [{__name__=\"http_requests_total\", group=\"canary\", "
     "instance=\"0\", job=\"api-server\"}, {__name__=\"http_requests_total\", group=\"canary\", "
     "instance=\"1\", job=\"api-server\"}];many-to-many matching not allowed: matching labels must "
     "be unique on one side"},
    {D_OPS, "http_requests_total + on(job) group_left http_requests_total", false, 3000000, 0, 0, 0,
     "error execution: found duplicate series for the match group {job=\"api-server\"} on the "
     "right hand-side of the operation: [{__name__=\"http_requests_total\", group=\"canary\", "
     "instance=\"0\", job=\"api-server\"}, {__name__=\"http_requests_total\", group=\"canary\", "
     "instance=\"1\", job=\"api-server\"}];many-to-many matching not allowed: matching labels must "
     "be unique on one side"},
    {D_OPS, "http_requests_total atan2 vector_matching_a", false, 3000000, 0, 0, 0, "vector"},
    {D_OPS, "http_requests_total{instance=\"0\"} </ 2", false, 3000000, 0, 0, 0, "vector"},
    {D_OPS, "1 - http_requests_total{job=\"api-server\",instance=\"0\",group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} -99"},
    {D_OPS, "http_requests_total{job=\"api-server\",instance=\"0\",group=\"production\"} > bool 50",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 1"},
    {D_OPS, "50 < bool http_requests_total{job=\"api-server\",instance=\"0\",group=\"production\"}",
     false, 3000000, 0, 0, 0,
     "vector\n{group=\"production\", instance=\"0\", job=\"api-server\"} 1"},
    {D_OPS, "300 > http_requests_total{job=\"api-server\"}", false, 3000000, 0, 0, 0,
     "vector\nhttp_requests_total{group=\"production\", instance=\"0\", job=\"api-server\"} "
     "100\nhttp_requests_total{group=\"production\", instance=\"1\", job=\"api-server\"} 200"},
    {D_OPS, "vector_matching_a / on(l) vector_matching_b", true, 0, 600000, 120000, 0,
     "matrix\n{l=\"x\"} NaN NaN NaN 0.25 0.25 0.25"},
    {D_OPS, "(vector_matching_a > 5) or vector_matching_b", true, 0, 2400000, 600000, 0,
     "matrix\nvector_matching_a{l=\"x\"} _ _ _ 6 8\nvector_matching_a{l=\"y\"} _ _ 8 12 "
     "16\nvector_matching_b{l=\"x\"} 0 8 16 _ _"},
    {D_OPS_MANY, "many_side > on(job) one_side", false, 60000, 0, 0, 0,
     "error execution: multiple matches for labels: many-to-one matching must be explicit "
     "(group_left/group_right)"},
    {D_OPS_MANY, "many_side >= on(job) one_side", false, 60000, 0, 0, 0,
     "error execution: multiple matches for labels: many-to-one matching must be explicit "
     "(group_left/group_right)"},
    {D_OPS_MANY, "one_side < on(job) many_side", false, 60000, 0, 0, 0,
     "error execution: found duplicate series for the match group {job=\"test\"} on the right "
     "hand-side of the operation: [{__name__=\"many_side\", job=\"test\", label=\"bar\"}, "
     "{__name__=\"many_side\", job=\"test\", label=\"foo\"}];many-to-many matching not allowed: "
     "matching labels must be unique on one side"},
    {D_OPS_MANY, "many_side * on(job) group_left one_side", false, 60000, 0, 0, 0,
     "vector\n{job=\"test\", label=\"bar\"} 1\n{job=\"test\", label=\"foo\"} 1"},
    {D_OPS_MANY, "one_side * on(job) group_right many_side", false, 60000, 0, 0, 0,
     "vector\n{job=\"test\", label=\"bar\"} 1\n{job=\"test\", label=\"foo\"} 1"},
    {D_OPS_MANY, "one_side * on(job) group_left many_side", false, 60000, 0, 0, 0,
     "error execution: found duplicate series for the match group {job=\"test\"} on the right "
     "hand-side of the operation: [{__name__=\"many_side\", job=\"test\", label=\"bar\"}, "
     "{__name__=\"many_side\", job=\"test\", label=\"foo\"}];many-to-many matching not allowed: "
     "matching labels must be unique on one side"},
    {D_OPS_MANY, "many_side * on(job) group_right one_side", false, 60000, 0, 0, 0,
     "error execution: found duplicate series for the match group {job=\"test\"} on the left "
     "hand-side of the operation: [{__name__=\"many_side\", job=\"test\", label=\"bar\"}, "
     "{__name__=\"many_side\", job=\"test\", label=\"foo\"}];many-to-many matching not allowed: "
     "matching labels must be unique on one side"},
    {D_OPS_MANY, "node_role * on (instance) group_right (role) node_var", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", role=\"prometheus\"} 2"},
    {D_OPS_MANY, "node_var * on (instance) group_left (role) node_role", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", role=\"prometheus\"} 2"},
    {D_OPS_MANY, "node_var * ignoring (role) group_left (role) node_role", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", role=\"prometheus\"} 2"},
    {D_OPS_MANY, "node_role * ignoring (role) group_right (role) node_var", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", role=\"prometheus\"} 2"},
    {D_OPS_MANY, "node_cpu * ignoring (role, mode) group_left (role) node_role", false, 60000, 0, 0,
     0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\", role=\"prometheus\"} "
     "3\n{instance=\"abc\", job=\"node\", mode=\"user\", role=\"prometheus\"} 1"},
    {D_OPS_MANY, "node_cpu * on (instance) group_left (role) node_role", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\", role=\"prometheus\"} "
     "3\n{instance=\"abc\", job=\"node\", mode=\"user\", role=\"prometheus\"} 1"},
    {D_OPS_MANY, "node_cpu / on (instance) group_left sum by (instance,job)(node_cpu)", false,
     60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\"} 0.75\n{instance=\"abc\", "
     "job=\"node\", mode=\"user\"} 0.25\n{instance=\"def\", job=\"node\", mode=\"idle\"} "
     "0.8\n{instance=\"def\", job=\"node\", mode=\"user\"} 0.2"},
    {D_OPS_MANY, "node_cpu / ignoring (mode) group_left sum without (mode)(node_cpu)", false, 60000,
     0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\"} 0.75\n{instance=\"abc\", "
     "job=\"node\", mode=\"user\"} 0.25\n{instance=\"def\", job=\"node\", mode=\"idle\"} "
     "0.8\n{instance=\"def\", job=\"node\", mode=\"user\"} 0.2"},
    {D_OPS_MANY,
     "sum(sum without (instance)(node_cpu) / ignoring (mode) group_left sum without (instance, "
     "mode)(node_cpu))",
     false, 60000, 0, 0, 0, "vector\n{} 1"},
    {D_OPS_MANY,
     "node_cpu > on(job, instance) group_left(target) (threshold or on (job, instance) (sum by "
     "(job, instance)(node_cpu) * 0 + 1))",
     false, 60000, 0, 0, 0,
     "vector\nnode_cpu{instance=\"abc\", job=\"node\", mode=\"idle\", target=\"a@b.com\"} "
     "3\nnode_cpu{instance=\"abc\", job=\"node\", mode=\"user\", target=\"a@b.com\"} "
     "1\nnode_cpu{instance=\"def\", job=\"node\", mode=\"idle\"} 8\nnode_cpu{instance=\"def\", "
     "job=\"node\", mode=\"user\"} 2"},
    {D_OPS_MANY, "node_cpu / 2", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\"} 1.5\n{instance=\"abc\", "
     "job=\"node\", mode=\"user\"} 0.5\n{instance=\"def\", job=\"node\", mode=\"idle\"} "
     "4\n{instance=\"def\", job=\"node\", mode=\"user\"} 1"},
    {D_OPS_MANY, "node_cpu % 2", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\"} 1\n{instance=\"abc\", job=\"node\", "
     "mode=\"user\"} 1\n{instance=\"def\", job=\"node\", mode=\"idle\"} 0\n{instance=\"def\", "
     "job=\"node\", mode=\"user\"} 0"},
    {D_OPS_MANY, "node_cpu * on(instance) group_left(nonexistent) node_var", false, 60000, 0, 0, 0,
     "vector\n{instance=\"abc\", job=\"node\", mode=\"idle\"} 6\n{instance=\"abc\", job=\"node\", "
     "mode=\"user\"} 2"},
    {D_OPS_MANY, "random + on() metricA", false, 60000, 0, 0, 0, "vector\n{} 4"},
    {D_OPS_MANY, "metricA + ignoring() metricB", false, 60000, 0, 0, 0, "vector\n{baz=\"meh\"} 7"},
    {D_OPS_MANY, "metricA + metricB", false, 60000, 0, 0, 0, "vector\n{baz=\"meh\"} 7"},
    {D_OPS_MANY, "test_total > bool test_smaller", false, 60000, 0, 0, 0,
     "vector\n{instance=\"localhost\"} 1"},
    {D_OPS_MANY, "test_total > test_smaller", false, 60000, 0, 0, 0,
     "vector\ntest_total{instance=\"localhost\"} 50"},
    {D_OPS_MANY, "test_total < bool test_smaller", false, 60000, 0, 0, 0,
     "vector\n{instance=\"localhost\"} 0"},
    {D_OPS_MANY, "test_total < test_smaller", false, 60000, 0, 0, 0, "vector"},
    {D_OPS_MANY, "trigy atan2 trigx", false, 60000, 0, 0, 0, "vector\n{} 0.4636476090008061"},
    {D_OPS_MANY, "trigy atan2 trigNaN", false, 60000, 0, 0, 0, "vector\n{} NaN"},
    {D_OPS_MANY, "10 atan2 20", false, 60000, 0, 0, 0, "scalar 0.4636476090008061"},
    {D_OPS_MANY, "node_cpu{mode=\"idle\"} + on(instance) group_left node_cpu", false, 60000, 0, 0,
     0,
     "error execution: found duplicate series for the match group {instance=\"abc\"} on the right "
     "hand-side of the operation: [{__name__=\"node_cpu\", instance=\"abc\", job=\"node\", "
     "mode=\"idle\"}, {__name__=\"node_cpu\", instance=\"abc\", job=\"node\", "
     "mode=\"user\"}];many-to-many matching not allowed: matching labels must be unique on one "
     "side"},
    {D_OPS_MANY, "node_cpu + on(job) node_var", false, 60000, 0, 0, 0,
     "error execution: multiple matches for labels: many-to-one matching must be explicit "
     "(group_left/group_right)"},
    {D_CMP_FLOATS, "left_floats == right_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} _ _ _ _ 3 _ _ _ _ +Inf -Inf"},
    {D_CMP_FLOATS, "left_floats == bool right_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} 0 _ _ _ 1 _ 0 0 0 1 1"},
    {D_CMP_FLOATS, "left_floats == does_not_match", true, 0, 3600000, 360000, 0, "matrix"},
    {D_CMP_FLOATS, "left_floats != right_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} 1 _ _ _ _ _ 4 5 NaN _ _"},
    {D_CMP_FLOATS, "left_floats > right_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} _ _ _ _ _ _ 4 _ _ _ _"},
    {D_CMP_FLOATS, "left_floats >= bool right_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} 0 _ _ _ 1 _ 1 0 0 1 1"},
    {D_CMP_FLOATS, "left_floats < right_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} 1 _ _ _ _ _ _ 5 _ _ _"},
    {D_CMP_FLOATS, "left_floats <= bool right_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} 1 _ _ _ 1 _ 0 1 0 1 1"},
    {D_CMP_FLOATS, "left_floats > 3", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} _ _ _ _ _ _ 4 5 _ +Inf _"},
    {D_CMP_FLOATS, "left_floats <= 3", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} 1 2 _ _ 3 _ _ _ _ _ -Inf"},
    {D_CMP_FLOATS, "left_floats == bool Inf", true, 0, 3600000, 360000, 0,
     "matrix\n{} 0 0 _ _ 0 _ 0 0 0 1 0"},
    {D_CMP_FLOATS, "3 == left_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} _ _ _ _ 3 _ _ _ _ _ _"},
    {D_CMP_FLOATS, "3 <= left_floats", true, 0, 3600000, 360000, 0,
     "matrix\nleft_floats{} _ _ _ _ 3 _ 4 5 _ +Inf _"},
    {D_CMP_FLOATS, "3 == bool left_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} 0 0 _ _ 1 _ 0 0 0 0 0"},
    {D_CMP_FLOATS, "NaN == left_floats", true, 0, 3600000, 360000, 0, "matrix"},
    {D_CMP_FLOATS, "NaN != bool left_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} 1 1 _ _ 1 _ 1 1 1 1 1"},
    {D_CMP_FLOATS, "-left_floats or -right_floats", true, 0, 3600000, 360000, 0,
     "matrix\n{} -1 -2 _ -5 -3 -7 -4 -5 NaN -Inf +Inf"},
};

static void test_prometheus_binop_cases(void **state)
{
    (void)state;
    promql_testsrc_run_cases(cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_binop_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
