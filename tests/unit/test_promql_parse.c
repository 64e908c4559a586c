/*
 * Unit tests for the PromQL lexer, parser, AST and printer
 * (collector/promql_lex.c, promql_parse.c, promql_check.c, promql_ast.c).
 *
 * The expected printings and error messages in the two big tables were
 * produced by Prometheus's own parser (promql/parser at v3.x, default
 * feature flags) from the same inputs; test_deliberate_differences lists
 * the few places where llmtap answers differently on purpose (see
 * docs/query.md). Regex error texts come from PCRE2, not Go's RE2.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "promql_ast.h"
#include "promql_lex.h"
#include "promql_parse.h"

/* Parses q (whole string) and returns its canonical printing (caller
 * frees), or NULL with *err filled. */
static char *print_of(const char *q, size_t len, unsigned flags, struct promql_error *err,
                      enum promql_type *type)
{
    struct promql_ast *a = NULL;
    int rc = promql_parse(q, len, flags, &a, err);
    if (rc != PROMQL_OK) {
        assert_null(a);
        return NULL;
    }
    struct buf b = {0};
    assert_int_equal(promql_print(promql_ast_root(a), &b), PROMQL_OK);
    if (type)
        *type = promql_expr_type(promql_ast_root(a));
    promql_ast_free(a);
    return b.p ? b.p : strdup("");
}

static const struct {
    const char *query, *print;
    enum promql_type type;
} valid[] = {
    {"1+1", "1 + 1", PROMQL_TYPE_SCALAR},
    {"1", "1", PROMQL_TYPE_SCALAR},
    {"+Inf", "+Inf", PROMQL_TYPE_SCALAR},
    {"-Inf", "-Inf", PROMQL_TYPE_SCALAR},
    {"NaN", "NaN", PROMQL_TYPE_SCALAR},
    {".5", "0.5", PROMQL_TYPE_SCALAR},
    {"5.", "5", PROMQL_TYPE_SCALAR},
    {"123.4567", "123.4567", PROMQL_TYPE_SCALAR},
    {"5e-3", "0.005", PROMQL_TYPE_SCALAR},
    {"5e3", "5000", PROMQL_TYPE_SCALAR},
    {"0xc", "12", PROMQL_TYPE_SCALAR},
    {"0755", "493", PROMQL_TYPE_SCALAR},
    {"08", "8", PROMQL_TYPE_SCALAR},
    {"1_000_000", "1000000", PROMQL_TYPE_SCALAR},
    {"0x_1F", "31", PROMQL_TYPE_SCALAR},
    {"1e308",
     "100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000",
     PROMQL_TYPE_SCALAR},
    {"4.9e-324",
     "0."
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000005",
     PROMQL_TYPE_SCALAR},
    {"0.1", "0.1", PROMQL_TYPE_SCALAR},
    {"-0.0", "-0", PROMQL_TYPE_SCALAR},
    {"- - 1", "1", PROMQL_TYPE_SCALAR},
    {"-(1)", "-(1)", PROMQL_TYPE_SCALAR},
    {"+foo", "+foo", PROMQL_TYPE_VECTOR},
    {"-foo", "-foo", PROMQL_TYPE_VECTOR},
    {"- -foo", "--foo", PROMQL_TYPE_VECTOR},
    {"-1 ^ 2", "-1 ^ 2", PROMQL_TYPE_SCALAR},
    {"(-1) ^ 2", "(-1) ^ 2", PROMQL_TYPE_SCALAR},
    {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2", PROMQL_TYPE_SCALAR},
    {"(2 ^ 3) ^ 2", "(2 ^ 3) ^ 2", PROMQL_TYPE_SCALAR},
    {"2 * 3 + 4", "2 * 3 + 4", PROMQL_TYPE_SCALAR},
    {"2 + 3 * 4", "2 + 3 * 4", PROMQL_TYPE_SCALAR},
    {"(2 + 3) * 4", "(2 + 3) * 4", PROMQL_TYPE_SCALAR},
    {"1 - 2 - 3", "1 - 2 - 3", PROMQL_TYPE_SCALAR},
    {"1 - (2 - 3)", "1 - (2 - 3)", PROMQL_TYPE_SCALAR},
    {"8 / 4 / 2", "8 / 4 / 2", PROMQL_TYPE_SCALAR},
    {"7 % 3 * 2", "7 % 3 * 2", PROMQL_TYPE_SCALAR},
    {"2 atan2 3", "2 atan2 3", PROMQL_TYPE_SCALAR},
    {"a atan2 b", "a atan2 b", PROMQL_TYPE_VECTOR},
    {"-a * b", "-a * b", PROMQL_TYPE_VECTOR},
    {"-a ^ b", "-a ^ b", PROMQL_TYPE_VECTOR},
    {"a * -b ^ c", "a * -b ^ c", PROMQL_TYPE_VECTOR},
    {"a + -b * c", "a + -b * c", PROMQL_TYPE_VECTOR},
    {"a ^ -b * c", "a ^ -b * c", PROMQL_TYPE_VECTOR},
    {"a < b == c", "a < b == c", PROMQL_TYPE_VECTOR},
    {"a and b or c", "a and b or c", PROMQL_TYPE_VECTOR},
    {"a or b and c", "a or b and c", PROMQL_TYPE_VECTOR},
    {"a unless b or c and d", "a unless b or c and d", PROMQL_TYPE_VECTOR},
    {"a or b unless c", "a or b unless c", PROMQL_TYPE_VECTOR},
    {"a + b > bool c * d", "a + b > bool c * d", PROMQL_TYPE_VECTOR},
    {"1 == bool 1", "1 == bool 1", PROMQL_TYPE_SCALAR},
    {"1 >= bool 2", "1 >= bool 2", PROMQL_TYPE_SCALAR},
    {"a </ 0.5", "a </ 0.5", PROMQL_TYPE_VECTOR},
    {"a >/ 0.5", "a >/ 0.5", PROMQL_TYPE_VECTOR},
    {"\"string\"", "\"string\"", PROMQL_TYPE_STRING},
    {"'single'", "\"single\"", PROMQL_TYPE_STRING},
    {"`raw \\n`", "\"raw \\\\n\"", PROMQL_TYPE_STRING},
    {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", PROMQL_TYPE_STRING},
    {"'\\''", "\"'\"", PROMQL_TYPE_STRING},
    {"\"\\x41\\101\\u00e9\\U0001F600\"", "\"AAé😀\"", PROMQL_TYPE_STRING},
    {"\"é ü 中文\"", "\"é ü 中文\"", PROMQL_TYPE_STRING},
    {"\"\\u00a0\\u200b\"", "\"\\u00a0\\u200b\"", PROMQL_TYPE_STRING},
    {"\"\\x00\"", "\"\\x00\"", PROMQL_TYPE_STRING},
    {"\"\\xff\"", "\"\\xff\"", PROMQL_TYPE_STRING},
    {"foo", "foo", PROMQL_TYPE_VECTOR},
    {"foo:bar:baz", "foo:bar:baz", PROMQL_TYPE_VECTOR},
    {":a", ":a", PROMQL_TYPE_VECTOR},
    {"_x", "_x", PROMQL_TYPE_VECTOR},
    {"foo{}", "foo", PROMQL_TYPE_VECTOR},
    {"foo{a=\"b\"}", "foo{a=\"b\"}", PROMQL_TYPE_VECTOR},
    {"foo{a=\"b\",}", "foo{a=\"b\"}", PROMQL_TYPE_VECTOR},
    {"foo{a!=\"b\"}", "foo{a!=\"b\"}", PROMQL_TYPE_VECTOR},
    {"foo{a=~\"b.*\"}", "foo{a=~\"b.*\"}", PROMQL_TYPE_VECTOR},
    {"foo{a!~\"b|c\"}", "foo{a!~\"b|c\"}", PROMQL_TYPE_VECTOR},
    {"foo{b=\"2\", a=\"1\", c=\"3\"}", "foo{a=\"1\",b=\"2\",c=\"3\"}", PROMQL_TYPE_VECTOR},
    {"foo{a=\"x\", a=\"y\"}", "foo{a=\"x\",a=\"y\"}", PROMQL_TYPE_VECTOR},
    {"{__name__=\"foo\"}", "{__name__=\"foo\"}", PROMQL_TYPE_VECTOR},
    {"{__name__=~\"foo|bar\", job=\"x\"}", "{__name__=~\"foo|bar\",job=\"x\"}", PROMQL_TYPE_VECTOR},
    {"{\"foo.bar\"}", "{__name__=\"foo.bar\"}", PROMQL_TYPE_VECTOR},
    {"{\"foo.bar\", job=\"x\"}", "{__name__=\"foo.bar\",job=\"x\"}", PROMQL_TYPE_VECTOR},
    {"{\"a.b\"=\"c\"}", "{\"a.b\"=\"c\"}", PROMQL_TYPE_VECTOR},
    {"{\"0\"=\"1\"}", "{\"0\"=\"1\"}", PROMQL_TYPE_VECTOR},
    {"{\"_0\"=\"1\"}", "{_0=\"1\"}", PROMQL_TYPE_VECTOR},
    {"{\"\"=\"0\"}", "{\"\"=\"0\"}", PROMQL_TYPE_VECTOR},
    {"{``=\"0\"}", "{\"\"=\"0\"}", PROMQL_TYPE_VECTOR},
    {"foo{\"label with space\"=\"v\"}", "foo{\"label with space\"=\"v\"}", PROMQL_TYPE_VECTOR},
    {"foo{job=~\".+\"}", "foo{job=~\".+\"}", PROMQL_TYPE_VECTOR},
    {"{job=~\".+\"}", "{job=~\".+\"}", PROMQL_TYPE_VECTOR},
    {"foo{a=~\".*\", b=\"x\"}", "foo{a=~\".*\",b=\"x\"}", PROMQL_TYPE_VECTOR},
    {"sum", "sum", PROMQL_TYPE_VECTOR},
    {"by", "by", PROMQL_TYPE_VECTOR},
    {"offset", "offset", PROMQL_TYPE_VECTOR},
    {"and", "and", PROMQL_TYPE_VECTOR},
    {"start", "start", PROMQL_TYPE_VECTOR},
    {"end", "end", PROMQL_TYPE_VECTOR},
    {"avg{a=\"b\"}", "avg{a=\"b\"}", PROMQL_TYPE_VECTOR},
    {"SUM", "SUM", PROMQL_TYPE_VECTOR},
    {"foo[5m]", "foo[5m]", PROMQL_TYPE_MATRIX},
    {"foo[1h30m]", "foo[1h30m]", PROMQL_TYPE_MATRIX},
    {"foo[90s]", "foo[1m30s]", PROMQL_TYPE_MATRIX},
    {"foo[300]", "foo[5m]", PROMQL_TYPE_MATRIX},
    {"foo[1.5]", "foo[1s500ms]", PROMQL_TYPE_MATRIX},
    {"foo[1d]", "foo[1d]", PROMQL_TYPE_MATRIX},
    {"foo[1w]", "foo[1w]", PROMQL_TYPE_MATRIX},
    {"foo[1y]", "foo[1y]", PROMQL_TYPE_MATRIX},
    {"foo[2w]", "foo[2w]", PROMQL_TYPE_MATRIX},
    {"foo[14d]", "foo[2w]", PROMQL_TYPE_MATRIX},
    {"foo[365d]", "foo[1y]", PROMQL_TYPE_MATRIX},
    {"foo[366d]", "foo[366d]", PROMQL_TYPE_MATRIX},
    {"foo[100ms]", "foo[100ms]", PROMQL_TYPE_MATRIX},
    {"foo[1s100ms]", "foo[1s100ms]", PROMQL_TYPE_MATRIX},
    {"foo[1y1w1d1h1m1s1ms]", "foo[373d1h1m1s1ms]", PROMQL_TYPE_MATRIX},
    {"foo[--5m]", "foo[5m]", PROMQL_TYPE_MATRIX},
    {"foo[+5m]", "foo[5m]", PROMQL_TYPE_MATRIX},
    {"foo{a=\"b\"}[5m]", "foo{a=\"b\"}[5m]", PROMQL_TYPE_MATRIX},
    {"foo offset 5m", "foo offset 5m", PROMQL_TYPE_VECTOR},
    {"foo offset -5m", "foo offset -5m", PROMQL_TYPE_VECTOR},
    {"foo offset 0", "foo", PROMQL_TYPE_VECTOR},
    {"foo offset 1h30m", "foo offset 1h30m", PROMQL_TYPE_VECTOR},
    {"foo offset 90", "foo offset 1m30s", PROMQL_TYPE_VECTOR},
    {"foo offset -1.5", "foo offset -1s500ms", PROMQL_TYPE_VECTOR},
    {"foo[5m] offset 1m", "foo[5m] offset 1m", PROMQL_TYPE_MATRIX},
    {"foo[5m] offset -1m", "foo[5m] offset -1m", PROMQL_TYPE_MATRIX},
    {"foo offset --5m", "foo offset 5m", PROMQL_TYPE_VECTOR},
    {"foo offset 5m + 1", "foo offset 5m + 1", PROMQL_TYPE_VECTOR},
    {"foo offset 5m * 2", "foo offset 5m * 2", PROMQL_TYPE_VECTOR},
    {"foo @ 1609746000", "foo @ 1609746000.000", PROMQL_TYPE_VECTOR},
    {"foo @ 1609746000.5", "foo @ 1609746000.500", PROMQL_TYPE_VECTOR},
    {"foo @ -5", "foo @ -5.000", PROMQL_TYPE_VECTOR},
    {"foo @ +5", "foo @ 5.000", PROMQL_TYPE_VECTOR},
    {"foo @ 5m", "foo @ 300.000", PROMQL_TYPE_VECTOR},
    {"foo @ 0", "foo @ 0.000", PROMQL_TYPE_VECTOR},
    {"foo @ start()", "foo @ start()", PROMQL_TYPE_VECTOR},
    {"foo @ end()", "foo @ end()", PROMQL_TYPE_VECTOR},
    {"foo @ START()", "foo @ start()", PROMQL_TYPE_VECTOR},
    {"foo[5m] @ 100", "foo[5m] @ 100.000", PROMQL_TYPE_MATRIX},
    {"foo[5m] @ end()", "foo[5m] @ end()", PROMQL_TYPE_MATRIX},
    {"foo @ 100 offset 5m", "foo @ 100.000 offset 5m", PROMQL_TYPE_VECTOR},
    {"foo offset 5m @ 100", "foo @ 100.000 offset 5m", PROMQL_TYPE_VECTOR},
    {"foo[5m] offset 1m @ end()", "foo[5m] @ end() offset 1m", PROMQL_TYPE_MATRIX},
    {"foo[5m:]", "foo[5m:]", PROMQL_TYPE_MATRIX},
    {"foo[5m:1m]", "foo[5m:1m]", PROMQL_TYPE_MATRIX},
    {"foo[5m:30s]", "foo[5m:30s]", PROMQL_TYPE_MATRIX},
    {"foo[1h:5m] offset 1m", "foo[1h:5m] offset 1m", PROMQL_TYPE_MATRIX},
    {"foo[1h:5m] @ 100", "foo[1h:5m] @ 100.000", PROMQL_TYPE_MATRIX},
    {"foo[1h:] @ start() offset -1m", "foo[1h:] @ start() offset -1m", PROMQL_TYPE_MATRIX},
    {"rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]", PROMQL_TYPE_MATRIX},
    {"sum(rate(foo[5m]))[30m:1m]", "sum(rate(foo[5m]))[30m:1m]", PROMQL_TYPE_MATRIX},
    {"(foo + bar)[5m:]", "(foo + bar)[5m:]", PROMQL_TYPE_MATRIX},
    {"foo offset 5m[1h:]", "foo offset 5m[1h:]", PROMQL_TYPE_MATRIX},
    {"rate(foo[5m])", "rate(foo[5m])", PROMQL_TYPE_VECTOR},
    {"irate(foo[5m])", "irate(foo[5m])", PROMQL_TYPE_VECTOR},
    {"increase(foo[1h])", "increase(foo[1h])", PROMQL_TYPE_VECTOR},
    {"delta(foo[5m])", "delta(foo[5m])", PROMQL_TYPE_VECTOR},
    {"idelta(foo[5m])", "idelta(foo[5m])", PROMQL_TYPE_VECTOR},
    {"deriv(foo[5m])", "deriv(foo[5m])", PROMQL_TYPE_VECTOR},
    {"predict_linear(foo[1h], 3600)", "predict_linear(foo[1h], 3600)", PROMQL_TYPE_VECTOR},
    {"changes(foo[5m])", "changes(foo[5m])", PROMQL_TYPE_VECTOR},
    {"resets(foo[5m])", "resets(foo[5m])", PROMQL_TYPE_VECTOR},
    {"histogram_quantile(0.95, rate(foo_bucket[5m]))",
     "histogram_quantile(0.95, rate(foo_bucket[5m]))", PROMQL_TYPE_VECTOR},
    {"avg_over_time(foo[5m])", "avg_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"sum_over_time(foo[5m])", "sum_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"min_over_time(foo[5m])", "min_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"max_over_time(foo[5m])", "max_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"count_over_time(foo[5m])", "count_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"quantile_over_time(0.9, foo[5m])", "quantile_over_time(0.9, foo[5m])", PROMQL_TYPE_VECTOR},
    {"last_over_time(foo[5m])", "last_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"stddev_over_time(foo[5m])", "stddev_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"stdvar_over_time(foo[5m])", "stdvar_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"present_over_time(foo[5m])", "present_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"absent_over_time(foo[5m])", "absent_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"first_over_time(foo[5m])", "first_over_time(foo[5m])", PROMQL_TYPE_VECTOR},
    {"abs(foo)", "abs(foo)", PROMQL_TYPE_VECTOR},
    {"ceil(foo)", "ceil(foo)", PROMQL_TYPE_VECTOR},
    {"floor(foo)", "floor(foo)", PROMQL_TYPE_VECTOR},
    {"round(foo)", "round(foo)", PROMQL_TYPE_VECTOR},
    {"round(foo, 5)", "round(foo, 5)", PROMQL_TYPE_VECTOR},
    {"clamp(foo, 0, 1)", "clamp(foo, 0, 1)", PROMQL_TYPE_VECTOR},
    {"clamp_min(foo, 0)", "clamp_min(foo, 0)", PROMQL_TYPE_VECTOR},
    {"clamp_max(foo, 1)", "clamp_max(foo, 1)", PROMQL_TYPE_VECTOR},
    {"exp(foo)", "exp(foo)", PROMQL_TYPE_VECTOR},
    {"ln(foo)", "ln(foo)", PROMQL_TYPE_VECTOR},
    {"log2(foo)", "log2(foo)", PROMQL_TYPE_VECTOR},
    {"log10(foo)", "log10(foo)", PROMQL_TYPE_VECTOR},
    {"sqrt(foo)", "sqrt(foo)", PROMQL_TYPE_VECTOR},
    {"sgn(foo)", "sgn(foo)", PROMQL_TYPE_VECTOR},
    {"time()", "time()", PROMQL_TYPE_SCALAR},
    {"pi()", "pi()", PROMQL_TYPE_SCALAR},
    {"timestamp(foo)", "timestamp(foo)", PROMQL_TYPE_VECTOR},
    {"vector(1)", "vector(1)", PROMQL_TYPE_VECTOR},
    {"scalar(foo)", "scalar(foo)", PROMQL_TYPE_SCALAR},
    {"absent(foo)", "absent(foo)", PROMQL_TYPE_VECTOR},
    {"sort(foo)", "sort(foo)", PROMQL_TYPE_VECTOR},
    {"sort_desc(foo)", "sort_desc(foo)", PROMQL_TYPE_VECTOR},
    {"minute()", "minute()", PROMQL_TYPE_VECTOR},
    {"hour(foo)", "hour(foo)", PROMQL_TYPE_VECTOR},
    {"day_of_month()", "day_of_month()", PROMQL_TYPE_VECTOR},
    {"day_of_week(foo)", "day_of_week(foo)", PROMQL_TYPE_VECTOR},
    {"days_in_month()", "days_in_month()", PROMQL_TYPE_VECTOR},
    {"month()", "month()", PROMQL_TYPE_VECTOR},
    {"year(foo)", "year(foo)", PROMQL_TYPE_VECTOR},
    {"day_of_year()", "day_of_year()", PROMQL_TYPE_VECTOR},
    {"label_replace(foo, \"dst\", \"$1\", \"src\", \"(.*)\")",
     "label_replace(foo, \"dst\", \"$1\", \"src\", \"(.*)\")", PROMQL_TYPE_VECTOR},
    {"label_join(foo, \"dst\", \",\", \"a\", \"b\", \"c\")",
     "label_join(foo, \"dst\", \",\", \"a\", \"b\", \"c\")", PROMQL_TYPE_VECTOR},
    {"label_join(foo, \"dst\", \",\")", "label_join(foo, \"dst\", \",\")", PROMQL_TYPE_VECTOR},
    {"histogram_fraction(0, 0.2, foo)", "histogram_fraction(0, 0.2, foo)", PROMQL_TYPE_VECTOR},
    {"histogram_count(foo)", "histogram_count(foo)", PROMQL_TYPE_VECTOR},
    {"histogram_sum(foo)", "histogram_sum(foo)", PROMQL_TYPE_VECTOR},
    {"histogram_avg(foo)", "histogram_avg(foo)", PROMQL_TYPE_VECTOR},
    {"vector(time())", "vector(time())", PROMQL_TYPE_VECTOR},
    {"scalar(sum(foo))", "scalar(sum(foo))", PROMQL_TYPE_SCALAR},
    {"sum(foo)", "sum(foo)", PROMQL_TYPE_VECTOR},
    {"sum by (a) (foo)", "sum by (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (a, b) (foo)", "sum by (a, b) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (a,) (foo)", "sum by (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by () (foo)", "sum(foo)", PROMQL_TYPE_VECTOR},
    {"sum without (a) (foo)", "sum without (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum without () (foo)", "sum without () (foo)", PROMQL_TYPE_VECTOR},
    {"sum(foo) by (a)", "sum by (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum(foo) without (a, b)", "sum without (a, b) (foo)", PROMQL_TYPE_VECTOR},
    {"SUM BY (a) (foo)", "sum by (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (by, on, bool, offset, sum, group_left, and, atan2, start) (foo)",
     "sum by (by, on, bool, offset, sum, group_left, and, atan2, start) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (\"foo.bar\") (foo)", "sum by (\"foo.bar\") (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (\"a\") (foo)", "sum by (a) (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (a:b) (foo)", "sum by (\"a:b\") (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (\"inf\") (foo)", "sum by (\"inf\") (foo)", PROMQL_TYPE_VECTOR},
    {"sum by (le) (rate(foo_bucket[5m]))", "sum by (le) (rate(foo_bucket[5m]))",
     PROMQL_TYPE_VECTOR},
    {"avg(foo)", "avg(foo)", PROMQL_TYPE_VECTOR},
    {"count(foo)", "count(foo)", PROMQL_TYPE_VECTOR},
    {"min(foo)", "min(foo)", PROMQL_TYPE_VECTOR},
    {"max(foo)", "max(foo)", PROMQL_TYPE_VECTOR},
    {"group(foo)", "group(foo)", PROMQL_TYPE_VECTOR},
    {"stddev(foo)", "stddev(foo)", PROMQL_TYPE_VECTOR},
    {"stdvar(foo)", "stdvar(foo)", PROMQL_TYPE_VECTOR},
    {"topk(5, foo)", "topk(5, foo)", PROMQL_TYPE_VECTOR},
    {"bottomk(3, foo)", "bottomk(3, foo)", PROMQL_TYPE_VECTOR},
    {"quantile(0.9, foo)", "quantile(0.9, foo)", PROMQL_TYPE_VECTOR},
    {"count_values(\"value\", foo)", "count_values(\"value\", foo)", PROMQL_TYPE_VECTOR},
    {"topk by (a) (5, foo)", "topk by (a) (5, foo)", PROMQL_TYPE_VECTOR},
    {"topk(5, foo) by (a)", "topk by (a) (5, foo)", PROMQL_TYPE_VECTOR},
    {"topk(scalar(bar), foo)", "topk(scalar(bar), foo)", PROMQL_TYPE_VECTOR},
    {"count_values without (a) (\"v\", foo)", "count_values without (a) (\"v\", foo)",
     PROMQL_TYPE_VECTOR},
    {"sum(sum by (a) (foo))", "sum(sum by (a) (foo))", PROMQL_TYPE_VECTOR},
    {"foo + on (a) bar", "foo + on (a) bar", PROMQL_TYPE_VECTOR},
    {"foo + on () bar", "foo + on () bar", PROMQL_TYPE_VECTOR},
    {"foo + ignoring (a) bar", "foo + ignoring (a) bar", PROMQL_TYPE_VECTOR},
    {"foo + ignoring () bar", "foo + bar", PROMQL_TYPE_VECTOR},
    {"foo * on (a) group_left bar", "foo * on (a) group_left () bar", PROMQL_TYPE_VECTOR},
    {"foo * on (a) group_left () bar", "foo * on (a) group_left () bar", PROMQL_TYPE_VECTOR},
    {"foo * on (a) group_left (b, c) bar", "foo * on (a) group_left (b, c) bar",
     PROMQL_TYPE_VECTOR},
    {"foo * ignoring (a) group_right (b) bar", "foo * ignoring (a) group_right (b) bar",
     PROMQL_TYPE_VECTOR},
    {"foo * on (a) group_left() (bar)", "foo * on (a) group_left () (bar)", PROMQL_TYPE_VECTOR},
    {"foo > bool on (a) bar", "foo > bool on (a) bar", PROMQL_TYPE_VECTOR},
    {"foo and on (a) bar", "foo and on (a) bar", PROMQL_TYPE_VECTOR},
    {"foo or ignoring (a) bar", "foo or ignoring (a) bar", PROMQL_TYPE_VECTOR},
    {"foo unless bar", "foo unless bar", PROMQL_TYPE_VECTOR},
    {"foo + 1", "foo + 1", PROMQL_TYPE_VECTOR},
    {"1 + foo", "1 + foo", PROMQL_TYPE_VECTOR},
    {"foo == bool 1", "foo == bool 1", PROMQL_TYPE_VECTOR},
    {"foo == 1", "foo == 1", PROMQL_TYPE_VECTOR},
    {"foo / on(\"äää\") bar", "foo / on (\"äää\") bar", PROMQL_TYPE_VECTOR},
    {"1 + 2 # comment", "1 + 2", PROMQL_TYPE_SCALAR},
    {"# comment\nfoo", "foo", PROMQL_TYPE_VECTOR},
    {"sum(\n  rate(foo[5m]) # per second\n)", "sum(rate(foo[5m]))", PROMQL_TYPE_VECTOR},
    {"  foo  ", "foo", PROMQL_TYPE_VECTOR},
    {"foo\t+\tbar", "foo + bar", PROMQL_TYPE_VECTOR},
    {"sum by (model) (rate(llm_requests_total[5m]))",
     "sum by (model) (rate(llm_requests_total[5m]))", PROMQL_TYPE_VECTOR},
    {"histogram_quantile(0.95, sum by (le, model) (rate(llm_request_duration_seconds_bucket[5m])))",
     "histogram_quantile(0.95, sum by (le, model) (rate(llm_request_duration_seconds_bucket[5m])))",
     PROMQL_TYPE_VECTOR},
    {"topk(5, sum by (model) (rate(llm_tokens_total{kind=\"output\"}[1h])))",
     "topk(5, sum by (model) (rate(llm_tokens_total{kind=\"output\"}[1h])))", PROMQL_TYPE_VECTOR},
    {"label_replace(up, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")",
     "label_replace(up, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")", PROMQL_TYPE_VECTOR},
    {"sum by (model) (increase(llm_cost_usd_total[24h])) / ignoring (model) group_left "
     "sum(increase(llm_cost_usd_total[24h]))",
     "sum by (model) (increase(llm_cost_usd_total[1d])) / ignoring (model) group_left () "
     "sum(increase(llm_cost_usd_total[1d]))",
     PROMQL_TYPE_VECTOR},
    {"rate(llm_errors_total[5m]) / rate(llm_requests_total[5m]) > 0.05",
     "rate(llm_errors_total[5m]) / rate(llm_requests_total[5m]) > 0.05", PROMQL_TYPE_VECTOR},
    {"max_over_time(rate(foo[5m])[1h:1m])", "max_over_time(rate(foo[5m])[1h:1m])",
     PROMQL_TYPE_VECTOR},
    {"sum(rate(http_requests_total{job=\"api\", status=~\"5..\"}[5m])) by (instance) / "
     "sum(rate(http_requests_total{job=\"api\"}[5m])) by (instance)",
     "sum by (instance) (rate(http_requests_total{job=\"api\",status=~\"5..\"}[5m])) / sum by "
     "(instance) (rate(http_requests_total{job=\"api\"}[5m]))",
     PROMQL_TYPE_VECTOR},
    {"avg(1 - rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) by (instance) * 100",
     "avg by (instance) (1 - rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100",
     PROMQL_TYPE_VECTOR},
    {"100 * (1 - avg by (instance) (irate(node_cpu_seconds_total{mode=\"idle\"}[5m])))",
     "100 * (1 - avg by (instance) (irate(node_cpu_seconds_total{mode=\"idle\"}[5m])))",
     PROMQL_TYPE_VECTOR},
    {"absent(up{job=\"x\"} == 1)", "absent(up{job=\"x\"} == 1)", PROMQL_TYPE_VECTOR},
    {"count by (le) (foo_bucket)", "count by (le) (foo_bucket)", PROMQL_TYPE_VECTOR},
    {"sum(foo) / ignoring(a) group_left sum(bar)", "sum(foo) / ignoring (a) group_left () sum(bar)",
     PROMQL_TYPE_VECTOR},
};

static const struct {
    const char *query, *msg;
} invalid[] = {
    {"{a=\"\"}[5m:]",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo[5m:][1h:]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"foo + on (a) 1", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"", "unknown position: parse error: no expression found in input"},
    {"# just a comment", "1:1: parse error: no expression found in input"},
    {"1+", "1:3: parse error: unexpected end of input"},
    {"1 +", "1:4: parse error: unexpected end of input"},
    {".", "1:1: parse error: unexpected character: '.'"},
    {"2.5.", "1:1: parse error: bad number or duration syntax: \"2.5.\""},
    {"100..4", "1:1: parse error: bad number or duration syntax: \"100..\""},
    {"0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""},
    {"1 /", "1:4: parse error: unexpected end of input"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"(", "1:2: parse error: unclosed left parenthesis"},
    {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"1 unless 1",
     "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"},
    {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
    {"-\"string\"", "1:1: parse error: unary expression only allowed on expressions of type scalar "
                    "or instant vector, got \"string\""},
    {"-test[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar "
                  "or instant vector, got \"range vector\""},
    {"@@", "1:1: parse error: unexpected <op:@>"},
    {"1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector "
                    "selector or range vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"1 or foo", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo and on(bar) group_left(baz) bar",
     "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"foo or on(bar) group_right(baz) bar",
     "1:1: parse error: no grouping allowed for \"or\" operation"},
    {"http_requests{group=\"production\"} + on(instance) group_left(job,instance) "
     "cpu_count{type=\"smp\"}",
     "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once"},
    {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"{", "1:2: parse error: unexpected end of input inside braces"},
    {"}", "1:1: parse error: unexpected character: '}'"},
    {"some{", "1:6: parse error: unexpected end of input inside braces"},
    {"some}", "1:5: parse error: unexpected character: '}'"},
    {"some_metric{a=b}",
     "1:15: parse error: unexpected identifier \"b\" in label matching, expected string"},
    {"some_metric{a:b=\"b\"}", "1:14: parse error: unexpected character inside braces: ':'"},
    {"foo{a*\"b\"}", "1:6: parse error: unexpected character inside braces: '*'"},
    {"foo{a>=\"b\"}", "1:6: parse error: unexpected character inside braces: '>'"},
    {"foo{gibberish}",
     "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x=~\".*\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x!~\".+\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x!=\"a\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo{__name__=\"bar\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{__name__= =}", "1:15: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{,}",
     "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{__name__ == \"bar\"}",
     "1:15: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{__name__=\"bar\" lol}",
     "1:20: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or \"}\""},
    {"foo{\"a\"=}", "1:9: parse error: unexpected \"}\" in label matching, expected string"},
    {"foo{\"a\" \"b\"}", "1:9: parse error: unexpected string \"\\\"b\\\"\" in label matching, "
                         "expected \",\" or \"}\""},
    {"foo{a=\"b\",,}",
     "1:11: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"},
    {"foo[5mm]", "1:5: parse error: bad number or duration syntax: \"5mm\""},
    {"foo[5m1]", "1:5: parse error: bad number or duration syntax: \"5m1\""},
    {"foo[5m:1m1]", "1:8: parse error: bad number or duration syntax: \"1m1\""},
    {"foo[5y1hs]", "1:5: parse error: unknown unit \"hs\" in duration \"5y1hs\""},
    {"foo[5m1h]", "1:5: parse error: not a valid duration string: \"5m1h\""},
    {"foo[5m1m]", "1:5: parse error: not a valid duration string: \"5m1m\""},
    {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[\"5m\"]", "1:5: parse error: unexpected character in duration expression: '\"'"},
    {"foo[]", "1:5: parse error: unexpected \"]\" in subquery or range selector, expected number, "
              "duration, step(), or range()"},
    {"foo[-1]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"foo[5m:1m", "1:10: parse error: unclosed left bracket"},
    {"foo[5m 1m]",
     "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""},
    {"foo[5m:1m 2]",
     "1:11: parse error: unexpected number \"2\" in subquery selector, expected \"]\""},
    {"foo[5m:,]", "1:8: parse error: unexpected \",\" in subquery selector, expected number, "
                  "duration, step(), range(), or \"]\""},
    {"foo[:5m]", "1:6: parse error: unexpected colon before duration in duration expression"},
    {"some_metric[5m] OFFSET 1mm", "1:24: parse error: bad number or duration syntax: \"1mm\""},
    {"some_metric[5m] OFFSET", "1:23: parse error: unexpected end of input in offset, expected "
                               "number, duration, step(), or range()"},
    {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
    {"some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"},
    {"some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"},
    {"some_metric @ start() [5m]", "1:23: parse error: no @ modifiers allowed before range"},
    {"foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ - -5", "1:9: parse error: unexpected <op:-> in @, expected timestamp"},
    {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
    {"rate(foo[5m])[1h]", "1:14: parse error: ranges only allowed for vector selectors"},
    {"sum by (\"foo)(some_metric{})", "1:9: parse error: unterminated quoted string"},
    {"sum without(==)(some_metric)",
     "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum without(,)(some_metric)",
     "1:13: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum without(foo,,)(some_metric)",
     "1:17: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum without(foo bar)(some_metric)",
     "1:17: parse error: unexpected identifier \"bar\" in grouping opts, expected \",\" or \")\""},
    {"sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\""},
    {"sum (some_metric) by test",
     "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""},
    {"sum (some_metric) by",
     "1:21: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
    {"MIN keep_common (some_metric)", "1:5: parse error: unexpected identifier \"keep_common\""},
    {"MIN (some_metric) keep_common", "1:19: parse error: unexpected identifier \"keep_common\""},
    {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum by (a) foo", "1:12: parse error: unexpected identifier \"foo\" in aggregation"},
    {"sum(foo bar)", "1:9: parse error: unexpected identifier \"bar\" in aggregation"},
    {"sum(foo +)", "1:10: parse error: unexpected \")\" in aggregation"},
    {"sum(rate(foo bar))", "1:14: parse error: unexpected identifier \"bar\" in aggregation"},
    {"rate(foo bar)", "1:10: parse error: unexpected identifier \"bar\""},
    {"sum(foo, bar)", "1:1: parse error: wrong number of arguments for aggregate expression "
                      "provided, expected 1, got 2"},
    {"sum by (\"\") (foo)", "1:9: parse error: invalid label name for grouping: \"\""},
    {"topk(some_metric)", "1:1: parse error: wrong number of arguments for aggregate expression "
                          "provided, expected 2, got 1"},
    {"topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"},
    {"topk(some_metric, other_metric)",
     "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(5, other_metric)",
     "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"quantile(\"a\", foo)",
     "1:10: parse error: expected type scalar in aggregation parameter, got string"},
    {"limitk(5, foo)", "1:1: parse error: limitk() is experimental and must be enabled with "
                       "--enable-feature=promql-experimental-functions"},
    {"rate(some_metric[5m]) @ 1234", "1:1: parse error: @ modifier must be preceded by an instant "
                                     "vector selector or range vector selector or a subquery"},
    {"floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"},
    {"floor(some_metric, other_metric)",
     "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
    {"floor(1)",
     "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar"},
    {"hour(some_metric, some_metric, some_metric)",
     "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3"},
    {"time(some_metric)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
    {"label_join(foo, \"a\")",
     "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"},
    {"non_existent_function_far_bar()",
     "1:1: parse error: unknown function with name \"non_existent_function_far_bar\""},
    {"Rate(foo[5m])", "1:1: parse error: unknown function with name \"Rate\""},
    {"rate(some_metric)", "1:6: parse error: expected type range vector in call to function "
                          "\"rate\", got instant vector"},
    {"rate(foo[5m], 1)", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"},
    {"label_replace(foo, 1, \"a\", \"b\", \"c\")",
     "1:20: parse error: expected type string in call to function \"label_replace\", got scalar"},
    {"sort_by_label(foo, \"a\")", "1:1: parse error: function \"sort_by_label\" is not enabled"},
    {"mad_over_time(foo[5m])", "1:1: parse error: function \"mad_over_time\" is not enabled"},
    {"start()", "1:1: parse error: function \"start\" is not enabled"},
    {"-=", "1:2: parse error: unexpected \"=\""},
    {"++-++-+-+-<", "1:11: parse error: unexpected <op:<>"},
    {"e-+=/(0)", "1:4: parse error: unexpected \"=\""},
    {"a>b()", "1:3: parse error: unknown function with name \"b\""},
    {"rate(avg)", "1:6: parse error: expected type range vector in call to function \"rate\", got "
                  "instant vector"},
    {"`\\``", "1:4: parse error: unterminated raw string"},
    {"\"\\", "1:1: parse error: escape sequence not terminated"},
    {"\"\\c\"", "1:1: parse error: unknown escape sequence U+0063 'c'"},
    {"\"\\x.\"", "1:1: parse error: illegal character U+002E '.' in escape sequence"},
    {"\"\\x1\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\u12\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\ud800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\777\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"abc", "1:1: parse error: unterminated quoted string"},
    {"'abc", "1:1: parse error: unterminated quoted string"},
    {"\"a\nb\"", "1:1: parse error: unterminated quoted string"},
    {"foo{bar=\"baz\"}[", "1:16: parse error: unexpected end of input in duration expression"},
    {"test[5d] OFFSET 10s [10m:5s]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"(foo + bar{nm=\"val\"})[5m:][10m:5s]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"},
    {"foo[step]", "1:9: parse error: unexpected \"]\" in subquery or range selector, expected "
                  "number, duration, step(), or range()"},
    {"foo[step()]", "1:5: parse error: experimental duration expression is not enabled"},
    {"foo[5m+1m]", "1:5: parse error: experimental duration expression is not enabled"},
    {"foo offset (5m)", "1:13: parse error: experimental duration expression is not enabled"},
    {"foo offset 9.5e10", "1:12: parse error: duration out of range"},
    {"foo[9.5e10]", "1:5: parse error: duration out of range"},
    {"sum(", "1:5: parse error: unclosed left parenthesis"},
    {"sum(rate(", "1:10: parse error: unclosed left parenthesis"},
    {"foo[5s x 5s]", "1:8: parse error: unexpected character: 'x', expected ':'"},
    {"foo[5s s 5s]", "1:8: parse error: unexpected character: 's', expected ':'"},
    {"foo anchored", "1:1: parse error: anchored modifier is experimental and not enabled"},
    {"foo[5m] smoothed", "1:1: parse error: smoothed modifier is experimental and not enabled"},
    {"a + fill(0) b", "1:1: parse error: binop fill modifiers are experimental and not enabled"},
    {"foo{a=~\"(\"}",
     "1:5: parse error: error parsing regexp: missing closing parenthesis at offset 1: `(`"},
    {"foo{a=~\"*\"}", "1:5: parse error: error parsing regexp: quantifier does not follow a "
                      "repeatable item at offset 0: `*`"},
    {"foo{a!~\"[a-\"}", "1:5: parse error: error parsing regexp: missing terminating ] for "
                        "character class at offset 3: `[a-`"},
    {"\"foo\" + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"foo + \"bar\"",
     "1:7: parse error: binary expression must contain only scalar and instant vector types"},
    {"sum(\"foo\")",
     "1:5: parse error: expected type instant vector in aggregation expression, got string"},
    {"1 + foo[5m]",
     "1:5: parse error: binary expression must contain only scalar and instant vector types"},
    {"foo[5m] + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"abs(foo[5m])", "1:5: parse error: expected type instant vector in call to function \"abs\", "
                     "got range vector"},
    {"vector(\"a\")",
     "1:8: parse error: expected type scalar in call to function \"vector\", got string"},
    {"foo $ bar", "1:5: parse error: unexpected character: '$'"},
    {"foo ] bar", "1:5: parse error: unexpected right bracket ']'"},
    {"foo, bar", "1:4: parse error: unexpected \",\""},
    {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
    {"sum(foo) $", "1:10: parse error: unexpected character: '$'"},
    {"\"\\xff\" == 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1 > 2 > bool 3", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"a:b(foo)", "1:4: parse error: unexpected \"(\""},
    {"foo @ 1e20",
     "1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000"},
    {"foo[min_of(2, 4)]", "1:12: parse error: experimental duration expression is not enabled"},
    {"foo offset -min_of(1s, 2s)",
     "1:12: parse error: experimental duration expression is not enabled"},
    {"foo offset max_of(step(), 1s)",
     "1:19: parse error: experimental duration expression is not enabled"},
    {"foo[-(10s-5s)+20s]", "1:7: parse error: experimental duration expression is not enabled"},
    {"foo offset -step()", "1:12: parse error: experimental duration expression is not enabled"},
    {"+oom[( ( 2 *3", "1:14: parse error: unclosed left parenthesis"},
    {"changes(bar, atan2{})",
     "1:12: parse error: trailing commas not allowed in function call args"},
    {"a * on(b) group_left atan2",
     "1:22: parse error: unexpected <op:atan2> in grouping opts, expected \"(\""},
    {"sum(x) )", "1:9: parse error: unexpected right parenthesis ')'"},
    {"5\n[-0xffffffff", "2:13: parse error: unclosed left bracket"},
    {"1 offset -5 $", "1:1: parse error: offset modifier must be preceded by an instant vector "
                      "selector or range vector selector or a subquery"},
    {"1 offset --5 $", "1:14: parse error: unexpected character: '$'"},
    {"limit_ratio(x) 1by", "1:16: parse error: bad number or duration syntax: \"1\""},
};

static void test_valid_print(void **state)
{
    size_t failed = 0;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        struct promql_error err;
        enum promql_type t = PROMQL_TYPE_NONE;
        char *got = print_of(valid[i].query, strlen(valid[i].query), 0, &err, &t);
        if (!got) {
            print_message("valid[%zu] %s: parse failed: %s\n", i, valid[i].query, err.msg);
            failed++;
            continue;
        }
        if (strcmp(got, valid[i].print) != 0 || t != valid[i].type) {
            print_message("valid[%zu] %s:\n  got  %s (%s)\n  want %s (%s)\n", i, valid[i].query,
                          got, promql_type_name(t), valid[i].print,
                          promql_type_name(valid[i].type));
            failed++;
        }
        free(got);
    }
    assert_int_equal(failed, 0);
}

/* print(parse(print(parse(q)))) == print(parse(q)) for every valid query. */
static void test_fixed_point(void **state)
{
    size_t failed = 0;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        struct promql_error err;
        enum promql_type t1 = PROMQL_TYPE_NONE, t2 = PROMQL_TYPE_NONE;
        char *p1 = print_of(valid[i].query, strlen(valid[i].query), 0, &err, &t1);
        assert_non_null(p1);
        char *p2 = print_of(p1, strlen(p1), 0, &err, &t2);
        if (!p2 || strcmp(p1, p2) != 0 || t1 != t2) {
            print_message("fixed point broken for %s:\n  1: %s\n  2: %s\n", valid[i].query, p1,
                          p2 ? p2 : err.msg);
            failed++;
        }
        free(p1);
        free(p2);
    }
    assert_int_equal(failed, 0);
}

static void test_invalid_errors(void **state)
{
    size_t failed = 0;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        struct promql_error err;
        char *got = print_of(invalid[i].query, strlen(invalid[i].query), 0, &err, NULL);
        if (got) {
            print_message("invalid[%zu] %s: parsed as %s\n", i, invalid[i].query, got);
            failed++;
            free(got);
            continue;
        }
        if (strcmp(err.msg, invalid[i].msg) != 0) {
            print_message("invalid[%zu] %s:\n  got  %s\n  want %s\n", i, invalid[i].query, err.msg,
                          invalid[i].msg);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

static void expect_print(const char *q, const char *want)
{
    struct promql_error err;
    char *got = print_of(q, strlen(q), 0, &err, NULL);
    if (!got)
        fail_msg("%s: %s", q, err.msg);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got %s, want %s", q, got, want);
    free(got);
}

static void expect_error(const char *q, size_t len, unsigned flags, const char *want)
{
    struct promql_error err;
    char *got = print_of(q, len, flags, &err, NULL);
    if (got)
        fail_msg("%s: parsed as %s, want error %s", q, got, want);
    if (strcmp(err.msg, want) != 0)
        fail_msg("%s: got %s, want %s", q, err.msg, want);
}

/* Where llmtap differs from Prometheus on purpose (docs/query.md). */
static void test_deliberate_differences(void **state)
{
    /* U+FFFD is escaped when printed (the lexer refuses it raw) */
    expect_print("\"\\ufffd\"", "\"\\ufffd\"");
    /* a grouping label spelled Inf/NaN stays quoted (bare it is a number) */
    expect_print("sum by (\"Inf\", \"nan\") (foo)", "sum by (\"Inf\", \"nan\") (foo)");
    /* "+Inf ^ 2" would read back as +(Inf ^ 2) */
    expect_print("Inf ^ 2", "Inf ^ 2");
    expect_print("+Inf * 2", "+Inf * 2");
    /* offset -(5m) is accepted as Prometheus does, printed without parens */
    expect_print("foo offset -(5m)", "foo offset -5m");
    expect_print("foo offset +(90)", "foo offset 1m30s");
    /* durations print from exact milliseconds */
    expect_print("1h1ms", "1h1ms");
    /* Prometheus accepts these but prints them so they cannot be read back */
    expect_error("foo[0.0001]", 11, 0, "1:5: parse error: duration must be at least 1ms");
    expect_error("foo[1m:0.0001]", 14, 0, "1:8: parse error: duration must be at least 1ms");
    expect_error("foo offset NaN", 14, 0, "1:12: parse error: offset must be a number, not NaN");
    /* ...but every error Prometheus makes comes first */
    expect_error("1[0.0001]", 9, 0, "1:2: parse error: ranges only allowed for vector selectors");
    /* @ timestamps within ±2^50 ms, so they print exactly */
    expect_print("foo @ 1e12", "foo @ 1000000000000.000");
    expect_error("foo @ 1e13", 10, 0,
                 "1:1: parse error: timestamp out of bounds for @ modifier: 10000000000000.000000");
    expect_print("foo @ 1.0005", "foo @ 1.001");
    expect_print("foo @ -1.5", "foo @ -1.500");
    expect_print("foo @ -0.25", "foo @ -0.250");
    /* regexes are PCRE2: accepted where RE2 would refuse */
    expect_print("foo{a=~\"(a)\\\\1\"}", "foo{a=~\"(a)\\\\1\"}");
    expect_print("foo{a=~\"x{1001}\"}", "foo{a=~\"x{1001}\"}");
}

static struct promql_ast *parse_ok(const char *q, unsigned flags)
{
    struct promql_ast *a = NULL;
    struct promql_error err;
    int rc = promql_parse(q, strlen(q), flags, &a, &err);
    if (rc != PROMQL_OK)
        fail_msg("%s: %s (%s)", q, err.msg, promql_strerror(rc));
    return a;
}

static void test_ast_selectors(void **state)
{
    struct promql_ast *a = parse_ok("foo{b=\"2\", a=~\"x|y\"} offset -5m @ 100.5", 0);
    const struct promql_expr *e = promql_ast_root(a);
    assert_int_equal(e->kind, PROMQL_VECTOR_SELECTOR);
    assert_string_equal(e->vs.name.p, "foo");
    assert_int_equal(e->vs.nmatchers, 3);
    assert_string_equal(e->vs.matchers[0].name.p, "b");
    assert_int_equal(e->vs.matchers[0].op, PROMQL_MATCH_EQ);
    assert_null(e->vs.matchers[0].re);
    assert_int_equal(e->vs.matchers[1].op, PROMQL_MATCH_RE);
    assert_non_null(e->vs.matchers[1].re);
    assert_string_equal(e->vs.matchers[2].name.p, "__name__"); /* the name, last */
    assert_string_equal(e->vs.matchers[2].value.p, "foo");
    assert_int_equal(e->vs.offset_ms, -300000);
    assert_int_equal(e->vs.at, PROMQL_AT_TIME);
    assert_int_equal(e->vs.at_ms, 100500);
    assert_int_equal(e->pos, 0);
    promql_ast_free(a);

    a = parse_ok("{\"metric.with.dots\", job=\"x\"}", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->vs.name.len, 0);
    assert_int_equal(e->vs.nmatchers, 2);
    assert_string_equal(e->vs.matchers[0].name.p, "__name__");
    assert_string_equal(e->vs.matchers[0].value.p, "metric.with.dots");
    promql_ast_free(a);

    /* values keep NUL bytes and any escape */
    a = parse_ok("foo{a=\"x\\x00y\", b=`\\d`}", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->vs.matchers[0].value.len, 3);
    assert_memory_equal(e->vs.matchers[0].value.p, "x\0y", 3);
    assert_string_equal(e->vs.matchers[1].value.p, "\\d");
    promql_ast_free(a);

    a = parse_ok("rate(foo[1h30m] offset 1d @ end())", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->kind, PROMQL_CALL);
    assert_int_equal(e->call.func->id, PROMQL_FN_RATE);
    assert_int_equal(e->call.nargs, 1);
    const struct promql_expr *m = e->call.args[0];
    assert_int_equal(m->kind, PROMQL_MATRIX_SELECTOR);
    assert_int_equal(m->matrix.range_ms, 5400000);
    assert_int_equal(m->matrix.vs->vs.offset_ms, 86400000);
    assert_int_equal(m->matrix.vs->vs.at, PROMQL_AT_END);
    assert_int_equal(promql_expr_type(m), PROMQL_TYPE_MATRIX);
    assert_int_equal(m->pos, 5);
    assert_int_equal(m->end, 33);
    promql_ast_free(a);

    a = parse_ok("max_over_time(rate(x[5m])[1h:30s] offset 5m)", 0);
    e = promql_ast_root(a)->call.args[0];
    assert_int_equal(e->kind, PROMQL_SUBQUERY);
    assert_int_equal(e->subquery.range_ms, 3600000);
    assert_int_equal(e->subquery.step_ms, 30000);
    assert_int_equal(e->subquery.offset_ms, 300000);
    assert_int_equal(e->subquery.expr->kind, PROMQL_CALL);
    promql_ast_free(a);

    a = parse_ok("foo[5m:]", 0);
    assert_int_equal(promql_ast_root(a)->subquery.step_ms, 0);
    promql_ast_free(a);
}

static void test_ast_operators(void **state)
{
    /* precedence: a + b * c ^ d ^ e  ==  a + (b * (c ^ (d ^ e))) */
    struct promql_ast *a = parse_ok("a + b * c ^ d ^ e", 0);
    const struct promql_expr *e = promql_ast_root(a);
    assert_int_equal(e->binary.op, PROMQL_OP_ADD);
    e = e->binary.rhs;
    assert_int_equal(e->binary.op, PROMQL_OP_MUL);
    e = e->binary.rhs;
    assert_int_equal(e->binary.op, PROMQL_OP_POW);
    assert_int_equal(e->binary.lhs->kind, PROMQL_VECTOR_SELECTOR);
    assert_int_equal(e->binary.rhs->binary.op, PROMQL_OP_POW); /* right-assoc */
    promql_ast_free(a);

    /* left-assoc: a - b - c == (a - b) - c */
    a = parse_ok("a - b - c", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->binary.lhs->kind, PROMQL_BINARY);
    assert_int_equal(e->binary.rhs->kind, PROMQL_VECTOR_SELECTOR);
    promql_ast_free(a);

    /* unary minus binds looser than ^, tighter than * */
    a = parse_ok("-a ^ b * c", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->binary.op, PROMQL_OP_MUL);
    assert_int_equal(e->binary.lhs->kind, PROMQL_UNARY);
    assert_int_equal(e->binary.lhs->unary.op, '-');
    assert_int_equal(e->binary.lhs->unary.expr->binary.op, PROMQL_OP_POW);
    promql_ast_free(a);

    /* a unary minus on a number literal is folded; nothing else is */
    a = parse_ok("-5 + -(5) + 2 * 3", 0);
    e = promql_ast_root(a);
    const struct promql_expr *l = e->binary.lhs;
    assert_int_equal(l->binary.lhs->kind, PROMQL_NUMBER);
    assert_true(l->binary.lhs->number.value == -5);
    assert_int_equal(l->binary.rhs->kind, PROMQL_UNARY);
    assert_int_equal(l->binary.rhs->unary.expr->kind, PROMQL_PAREN);
    assert_int_equal(e->binary.rhs->kind, PROMQL_BINARY);
    promql_ast_free(a);

    /* or < and/unless < comparisons */
    a = parse_ok("a or b and c > d", 0);
    e = promql_ast_root(a);
    assert_int_equal(e->binary.op, PROMQL_OP_OR);
    assert_int_equal(e->binary.rhs->binary.op, PROMQL_OP_AND);
    assert_int_equal(e->binary.rhs->binary.rhs->binary.op, PROMQL_OP_GTR);
    promql_ast_free(a);

    a = parse_ok("a / on (x, y) group_left (z) b", 0);
    e = promql_ast_root(a);
    const struct promql_matching *mt = e->binary.matching;
    assert_non_null(mt);
    assert_true(mt->on);
    assert_int_equal(mt->card, PROMQL_CARD_MANY_TO_ONE);
    assert_int_equal(mt->nlabels, 2);
    assert_string_equal(mt->labels[1].p, "y");
    assert_int_equal(mt->ninclude, 1);
    assert_string_equal(mt->include[0].p, "z");
    promql_ast_free(a);

    a = parse_ok("a and b", 0);
    assert_int_equal(promql_ast_root(a)->binary.matching->card, PROMQL_CARD_MANY_TO_MANY);
    promql_ast_free(a);

    /* matching is only kept between two instant vectors */
    a = parse_ok("a > bool 1", 0);
    e = promql_ast_root(a);
    assert_null(e->binary.matching);
    assert_true(e->binary.return_bool);
    assert_int_equal(promql_expr_type(e), PROMQL_TYPE_VECTOR);
    promql_ast_free(a);

    a = parse_ok("1 > bool 2", 0);
    assert_int_equal(promql_expr_type(promql_ast_root(a)), PROMQL_TYPE_SCALAR);
    promql_ast_free(a);
}

static void test_ast_aggregations(void **state)
{
    struct promql_ast *a = parse_ok("topk(5, foo) without (a, \"b.c\")", 0);
    const struct promql_expr *e = promql_ast_root(a);
    assert_int_equal(e->kind, PROMQL_AGGREGATE);
    assert_int_equal(e->agg.op, PROMQL_AGG_TOPK);
    assert_true(e->agg.without);
    assert_int_equal(e->agg.ngrouping, 2);
    assert_string_equal(e->agg.grouping[1].p, "b.c");
    assert_int_equal(e->agg.param->kind, PROMQL_NUMBER);
    assert_int_equal(e->agg.expr->kind, PROMQL_VECTOR_SELECTOR);
    promql_ast_free(a);

    a = parse_ok("sum(foo)", 0);
    e = promql_ast_root(a);
    assert_null(e->agg.param);
    assert_false(e->agg.without);
    assert_int_equal(e->agg.ngrouping, 0);
    promql_ast_free(a);

    /* aggregation names and keywords are metric names elsewhere */
    a = parse_ok("sum + by - offset", 0);
    e = promql_ast_root(a);
    assert_string_equal(e->binary.lhs->binary.lhs->vs.name.p, "sum");
    promql_ast_free(a);

    /* experimental aggregations need the flag */
    a = parse_ok("limitk(2, foo)", PROMQL_PARSE_EXPERIMENTAL);
    assert_int_equal(promql_ast_root(a)->agg.op, PROMQL_AGG_LIMITK);
    promql_ast_free(a);
    a = parse_ok("sort_by_label(foo, \"a\", \"b\")", PROMQL_PARSE_EXPERIMENTAL);
    assert_int_equal(promql_ast_root(a)->call.func->id, PROMQL_FN_SORT_BY_LABEL);
    promql_ast_free(a);
    a = parse_ok("info(rate(x[5m]), {k8s_cluster=~\".*\"})", PROMQL_PARSE_EXPERIMENTAL);
    promql_ast_free(a);
    expect_error("info(x, y)", 10, PROMQL_PARSE_EXPERIMENTAL,
                 "1:9: parse error: expected label selectors only, got vector selector instead");
    /* still refused with the flag: duration arithmetic */
    expect_error("foo[5m+1m]", 10, PROMQL_PARSE_EXPERIMENTAL,
                 "1:5: parse error: experimental duration expression is not enabled");
}

static void test_functions(void **state)
{
    const struct promql_func *f = promql_func_lookup("histogram_quantile");
    assert_non_null(f);
    assert_int_equal(f->id, PROMQL_FN_HISTOGRAM_QUANTILE);
    assert_int_equal(f->nargs, 2);
    assert_int_equal(f->arg_types[0], PROMQL_TYPE_SCALAR);
    assert_int_equal(f->arg_types[1], PROMQL_TYPE_VECTOR);
    assert_int_equal(f->ret, PROMQL_TYPE_VECTOR);
    assert_false(f->experimental);
    f = promql_func_lookup("label_join");
    assert_int_equal(f->variadic, -1);
    assert_int_equal(f->nargs, 4);
    f = promql_func_lookup("round");
    assert_int_equal(f->variadic, 1);
    f = promql_func_lookup("time");
    assert_int_equal(f->nargs, 0);
    assert_int_equal(f->ret, PROMQL_TYPE_SCALAR);
    assert_null(promql_func_lookup("holt_winters")); /* gone in Prometheus 3 */
    assert_null(promql_func_lookup("Rate"));
    assert_null(promql_func_lookup(NULL));
    assert_true(promql_func_lookup("mad_over_time")->experimental);

    size_t n = 0;
    const struct promql_func *all = promql_funcs(&n);
    assert_int_equal(n, PROMQL_FN_COUNT_);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i].id, i);
        assert_ptr_equal(promql_func_lookup(all[i].name), &all[i]);
        assert_true(all[i].nargs <= PROMQL_FUNC_MAX_ARGS);
        for (int k = 0; k < all[i].nargs; k++)
            assert_int_not_equal(all[i].arg_types[k], PROMQL_TYPE_NONE);
    }
}

static void test_matchers(void **state)
{
    struct promql_ast *a =
        parse_ok("foo{a=~\"b.*\", c!~\"x|y\", d=\"\", e!=\"v\", f=~\"(?i)abc\"}", 0);
    const struct promql_vector_selector *vs = &promql_ast_root(a)->vs;
    const struct promql_matcher *re = &vs->matchers[0], *nre = &vs->matchers[1];
    /* anchored at both ends */
    assert_true(promql_matcher_matches(re, "bcd", 3));
    assert_false(promql_matcher_matches(re, "abc", 3));
    /* '.' matches newlines, $ is end of text */
    assert_true(promql_matcher_matches(re, "b\n\n", 3));
    /* invalid UTF-8 values do not break matching */
    assert_true(promql_matcher_matches(re, "b\xff", 2));
    assert_false(promql_matcher_matches(nre, "x", 1));
    assert_true(promql_matcher_matches(nre, "xy", 2));
    assert_true(promql_matcher_matches(nre, "", 0));
    assert_true(promql_matcher_matches(&vs->matchers[2], "", 0));
    assert_false(promql_matcher_matches(&vs->matchers[2], "x", 1));
    assert_true(promql_matcher_matches(&vs->matchers[3], "w", 1));
    assert_false(promql_matcher_matches(&vs->matchers[3], "v", 1));
    assert_true(promql_matcher_matches(&vs->matchers[4], "ABC", 3));
    promql_ast_free(a);

    /* a literal alternation may hold invalid UTF-8 (Prometheus compares strings) */
    a = parse_ok("foo{a=~\"\\xff|b\"}", 0);
    vs = &promql_ast_root(a)->vs;
    assert_true(promql_matcher_matches(&vs->matchers[0], "\xff", 1));
    assert_true(promql_matcher_matches(&vs->matchers[0], "b", 1));
    assert_false(promql_matcher_matches(&vs->matchers[0],
                                        "\xff"
                                        "b",
                                        2));
    promql_ast_free(a);
    /* alternatives are anchored as a whole; a pattern cannot unbalance them */
    a = parse_ok("foo{a=~\"a|bc\"}", 0);
    vs = &promql_ast_root(a)->vs;
    assert_true(promql_matcher_matches(&vs->matchers[0], "bc", 2));
    assert_false(promql_matcher_matches(&vs->matchers[0], "ab", 2));
    assert_false(promql_matcher_matches(&vs->matchers[0], "xa", 2));
    promql_ast_free(a);
    expect_error("foo{a=~\"a)|(b\"}", 15, 0,
                 "1:5: parse error: error parsing regexp: unmatched closing parenthesis at offset "
                 "1: `a)|(b`");
}

static void test_errors(void **state)
{
    struct promql_ast *a = (struct promql_ast *)1;
    struct promql_error err;
    /* positions: byte offset, line and column */
    const char *q = "sum(rate(foo[5m]))\n  + on(a)\n  bar{a=~\"(\"}";
    assert_int_equal(promql_parse(q, strlen(q), 0, &a, &err), PROMQL_EPARSE);
    assert_null(a);
    assert_int_equal(err.pos, 35);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 7);
    assert_string_equal(err.msg, "3:7: parse error: error parsing regexp: missing closing "
                                 "parenthesis at offset 1: `(`");
    assert_string_equal(err.reason,
                        "error parsing regexp: missing closing parenthesis at offset 1: `(`");

    /* the length is what counts: NUL bytes are input like any other */
    expect_error("foo\0bar", 7, 0, "1:4: parse error: unexpected character: '\\x00'");
    char *nul = print_of("foo{a=\"\0\"}", 10, 0, &err, NULL);
    assert_non_null(nul);
    assert_string_equal(nul, "foo{a=\"\\x00\"}");
    free(nul);
    assert_int_equal(promql_parse("1+1garbage", 3, 0, &a, &err), PROMQL_OK);
    promql_ast_free(a);
    /* invalid UTF-8 and a literal U+FFFD */
    expect_error("foo\xc3", 4, 0, "1:4: parse error: unexpected character: '\xef\xbf\xbd'");
    expect_error("\"\xef\xbf\xbd\"", 5, 0, "1:1: parse error: invalid UTF-8 rune");
    expect_error("`\x80`", 3, 0, "1:1: parse error: invalid UTF-8 rune");
    /* long tokens are cut in messages like Go's %.10q */
    expect_error("foo \"abcdefghijklmnop\"", 22, 0,
                 "1:5: parse error: unexpected string \"\\\"abcdefghi\"...");
    expect_error("foo 123456789012", 16, 0,
                 "1:5: parse error: unexpected number \"1234567890\"...");

    /* arguments */
    assert_int_equal(promql_parse(NULL, 1, 0, &a, &err), PROMQL_EINVAL);
    assert_int_equal(promql_parse("1", 1, 0, NULL, &err), PROMQL_EINVAL);
    assert_int_equal(promql_parse("1", 1, 0, &a, NULL), PROMQL_OK);
    promql_ast_free(a);
    assert_int_equal(promql_parse("(", 1, 0, &a, NULL), PROMQL_EPARSE);
    promql_ast_free(NULL);
    assert_string_equal(promql_strerror(PROMQL_EPARSE), "invalid query");
    struct buf b = {0};
    assert_int_equal(promql_print(NULL, &b), PROMQL_EINVAL);
}

static void test_depth_limit(void **state)
{
    struct buf q = {0};
    for (int i = 0; i < PROMQL_MAX_DEPTH - 1; i++)
        buf_puts(&q, "(");
    buf_puts(&q, "1");
    for (int i = 0; i < PROMQL_MAX_DEPTH - 1; i++)
        buf_puts(&q, ")");
    struct promql_ast *a = parse_ok(q.p, 0);
    assert_int_equal(promql_ast_root(a)->depth, PROMQL_MAX_DEPTH);
    promql_ast_free(a);
    buf_reset(&q);
    /* a long chain is deep too (every evaluator recursion follows the tree) */
    for (int i = 0; i < 1000; i++)
        buf_puts(&q, "a or ");
    buf_puts(&q, "a");
    struct promql_error err;
    assert_int_equal(promql_parse(q.p, q.len, 0, &a, &err), PROMQL_EPARSE);
    assert_non_null(strstr(err.msg, "too deeply nested"));
    buf_reset(&q);
    for (int i = 0; i < 100000; i++)
        buf_puts(&q, "-");
    buf_puts(&q, "1");
    assert_int_equal(promql_parse(q.p, q.len, 0, &a, &err), PROMQL_EPARSE);
    buf_reset(&q);
    for (int i = 0; i < 100000; i++)
        buf_puts(&q, "abs(");
    assert_int_equal(promql_parse(q.p, q.len, 0, &a, &err), PROMQL_EPARSE);
    buf_free(&q);
}

static void test_lexer(void **state)
{
    static const char q[] = "sum by (le) (rate(x{a=~\"b\"}[5m:1m])) # c\n>= bool 1e3";
    static const enum promql_tok want[] = {
        PROMQL_TOK_SUM,           PROMQL_TOK_BY,          PROMQL_TOK_LEFT_PAREN,
        PROMQL_TOK_IDENTIFIER,    PROMQL_TOK_RIGHT_PAREN, PROMQL_TOK_LEFT_PAREN,
        PROMQL_TOK_IDENTIFIER,    PROMQL_TOK_LEFT_PAREN,  PROMQL_TOK_IDENTIFIER,
        PROMQL_TOK_LEFT_BRACE,    PROMQL_TOK_IDENTIFIER,  PROMQL_TOK_EQL_REGEX,
        PROMQL_TOK_STRING,        PROMQL_TOK_RIGHT_BRACE, PROMQL_TOK_LEFT_BRACKET,
        PROMQL_TOK_DURATION,      PROMQL_TOK_COLON,       PROMQL_TOK_DURATION,
        PROMQL_TOK_RIGHT_BRACKET, PROMQL_TOK_RIGHT_PAREN, PROMQL_TOK_RIGHT_PAREN,
        PROMQL_TOK_COMMENT,       PROMQL_TOK_GTE,         PROMQL_TOK_BOOL,
        PROMQL_TOK_NUMBER,        PROMQL_TOK_EOF,         PROMQL_TOK_EOF,
    };
    struct promql_lexer l;
    struct promql_token t;
    promql_lex_init(&l, q, strlen(q));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        promql_lex_next(&l, &t);
        if (t.type != want[i])
            fail_msg("token %zu: got %d want %d", i, (int)t.type, (int)want[i]);
    }
    promql_lex_init(&l, "Inf nan:x FILL fill (", 21);
    promql_lex_next(&l, &t);
    assert_int_equal(t.type, PROMQL_TOK_NUMBER);
    promql_lex_next(&l, &t);
    assert_int_equal(t.type, PROMQL_TOK_METRIC_IDENTIFIER);
    promql_lex_next(&l, &t);
    assert_int_equal(t.type, PROMQL_TOK_IDENTIFIER); /* fill is a keyword only before ( */
    promql_lex_next(&l, &t);
    assert_int_equal(t.type, PROMQL_TOK_FILL);
    assert_true(promql_tok_is_keyword(PROMQL_TOK_OFFSET));
    assert_true(promql_tok_is_aggregator(PROMQL_TOK_TOPK));
    assert_true(promql_tok_is_operator(PROMQL_TOK_LAND));
    assert_string_equal(promql_tok_text(PROMQL_TOK_COUNT_VALUES), "count_values");
}

static void test_literals(void **state)
{
    double v;
    char err[256];
    assert_true(promql_parse_number("0755", 4, &v, err, sizeof err));
    assert_true(v == 493);
    assert_true(promql_parse_number("0x1F", 4, &v, err, sizeof err));
    assert_true(v == 31);
    assert_true(promql_parse_number("1_000.5", 7, &v, err, sizeof err));
    assert_true(v == 1000.5);
    assert_true(promql_parse_number("09", 2, &v, err, sizeof err));
    assert_true(v == 9);
    assert_true(promql_parse_number("nAn", 3, &v, err, sizeof err) && isnan(v));
    assert_true(promql_parse_number("99999999999999999999", 20, &v, err, sizeof err));
    assert_true(v == 1e20);
    assert_false(promql_parse_number("1__0", 4, &v, err, sizeof err));
    assert_string_equal(
        err, "error parsing number: strconv.ParseFloat: parsing \"1__0\": invalid syntax");
    assert_false(promql_parse_number("1e999", 5, &v, err, sizeof err));
    assert_string_equal(
        err, "error parsing number: strconv.ParseFloat: parsing \"1e999\": value out of range");
    assert_false(promql_parse_number("0xffffffffffffffffff", 20, &v, err, sizeof err));

    int64_t ms;
    assert_true(promql_parse_duration("1y2w3d4h5m6s7ms", 15, &ms, err, sizeof err));
    assert_int_equal(ms, ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000LL + 7);
    assert_true(promql_parse_duration("0", 1, &ms, err, sizeof err));
    assert_int_equal(ms, 0);
    assert_false(promql_parse_duration("1m1h", 4, &ms, err, sizeof err));
    assert_string_equal(err, "not a valid duration string: \"1m1h\"");
    assert_false(promql_parse_duration("1x", 2, &ms, err, sizeof err));
    assert_string_equal(err, "unknown unit \"x\" in duration \"1x\"");
    assert_false(promql_parse_duration("300y", 4, &ms, err, sizeof err));
    assert_string_equal(err, "duration out of range");

    char out[64];
    size_t n;
    static const char sq[] = "'a\\'\"\\x41\\101\\u00e9'";
    assert_true(promql_unquote(sq, strlen(sq), out, &n));
    assert_int_equal(n, 7);
    assert_memory_equal(out, "a'\"AA\xc3\xa9", 7);
    assert_true(promql_unquote("`\\n`", 4, out, &n));
    assert_int_equal(n, 2);
    assert_false(promql_unquote("\"a", 2, out, &n));

    struct buf b = {0};
    static const char raw[] = "a\"\\\n\x01\x7f\xff\xc2\xa0\xe2\x80\x8b\xef\xbf\xbd\xf0\x9f\x98\x80";
    promql_quote(&b, raw, sizeof raw - 1);
    assert_string_equal(b.p,
                        "\"a\\\"\\\\\\n\\x01\\x7f\\xff\\u00a0\\u200b\\ufffd\xf0\x9f\x98\x80\"");
    buf_reset(&b);
    static const struct {
        double v;
        const char *s;
    } floats[] = {
        {0, "0"},
        {1, "1"},
        {-1.5, "-1.5"},
        {0.1, "0.1"},
        {1e21, "1000000000000000000000"},
        {1.5e-7, "0.00000015"},
        {123456789.125, "123456789.125"},
        {1.0 / 3, "0.3333333333333333"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        buf_reset(&b);
        promql_format_float(&b, floats[i].v);
        assert_string_equal(b.p, floats[i].s);
    }
    /* the smallest denormal: "0." then 323 zeros then 5 */
    buf_reset(&b);
    promql_format_float(&b, 5e-324);
    assert_int_equal(b.len, 2 + 323 + 1);
    assert_memory_equal(b.p, "0.000", 5);
    assert_int_equal(b.p[b.len - 1], '5');
    assert_int_equal(strspn(b.p + 2, "0"), 323);
    static const struct {
        int64_t ms;
        const char *s;
    } durs[] = {
        {0, "0s"},          {1, "1ms"},          {1500, "1s500ms"},     {60000, "1m"},
        {5400000, "1h30m"}, {86400000, "1d"},    {604800000, "1w"},     {1209600000, "2w"},
        {691200000, "8d"},  {31536000000, "1y"}, {31622400000, "366d"}, {63072000000, "2y"},
    };
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        buf_reset(&b);
        promql_format_duration(&b, durs[i].ms);
        assert_string_equal(b.p, durs[i].s);
    }
    buf_free(&b);
    assert_true(promql_is_legacy_name("a_1", 3));
    assert_false(promql_is_legacy_name("1a", 2));
    assert_false(promql_is_legacy_name("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_print),      cmocka_unit_test(test_fixed_point),
        cmocka_unit_test(test_invalid_errors),   cmocka_unit_test(test_deliberate_differences),
        cmocka_unit_test(test_ast_selectors),    cmocka_unit_test(test_ast_operators),
        cmocka_unit_test(test_ast_aggregations), cmocka_unit_test(test_functions),
        cmocka_unit_test(test_matchers),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_limit),      cmocka_unit_test(test_lexer),
        cmocka_unit_test(test_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
