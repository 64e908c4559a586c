/*
 * Unit tests for the PromQL evaluator (collector/promql_eval.c and its
 * modules promql_value.c, promql_func.c, promql_agg.c, promql_binop.c).
 *
 * The big table (cases[]) transcribes inputs from Prometheus's own test
 * scripts (promql/promqltest/testdata/<file>.test, cited per data set) into
 * llmtap's test notation; the expected results were produced by running
 * Prometheus's engine (v3.x, default flags: no delayed name removal) on the
 * same data and queries, and are compared here token by token (numbers may
 * differ in the last bits only where marked NEAR, for the C library's trig
 * functions). Instant cases are also re-run as a range query around the
 * same time, as Prometheus's test runner does, and must agree.
 *
 * The other tests are hand-computed: llmtap's exact counters, the JSON
 * output byte for byte, limits, timeouts, errors, and the source contract.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "promql_eval.h"
#include "promql_lex.h"
#include "promql_parse.h"
#include "promql_value.h"

/* --- an in-memory source ------------------------------------------------ */

struct mseries {
    struct promql_label *l;
    size_t nl;
    struct promql_sample *p;
    size_t n, cap;
};

struct store {
    struct mseries *s;
    size_t n;
    struct promql_series *view; /* select()'s answer */
    int selects;                /* calls to select() */
    int64_t last_start, last_end;
    int fail;            /* select() fails */
    int spin_ms;         /* select() burns this much time */
    bool unsorted_order; /* return the series in reverse */
};

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static int cmp_label(const void *a, const void *b)
{
    const struct promql_label *x = a, *y = b;
    return strcmp(x->name.p, y->name.p);
}

/* The series with these labels (sorted copy), created if new. */
static struct mseries *store_series(struct store *st, struct promql_label *l, size_t nl)
{
    qsort(l, nl, sizeof *l, cmp_label);
    for (size_t i = 0; i < st->n; i++) {
        struct mseries *s = &st->s[i];
        if (s->nl != nl)
            continue;
        size_t k = 0;
        for (; k < nl; k++)
            if (strcmp(s->l[k].name.p, l[k].name.p) || strcmp(s->l[k].value.p, l[k].value.p))
                break;
        if (k == nl) {
            for (k = 0; k < nl; k++) {
                free((char *)l[k].name.p);
                free((char *)l[k].value.p);
            }
            free(l);
            return s;
        }
    }
    st->s = realloc(st->s, (st->n + 1) * sizeof *st->s);
    assert_non_null(st->s);
    st->s[st->n] = (struct mseries){.l = l, .nl = nl};
    return &st->s[st->n++];
}

static void add_sample(struct mseries *s, int64_t t, double v)
{
    size_t i = s->n;
    while (i > 0 && s->p[i - 1].t >= t)
        i--;
    if (i < s->n && s->p[i].t == t) {
        s->p[i].v = v;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->p = realloc(s->p, s->cap * sizeof *s->p);
        assert_non_null(s->p);
    }
    memmove(&s->p[i + 1], &s->p[i], (s->n - i) * sizeof *s->p);
    s->p[i] = (struct promql_sample){t, v};
    s->n++;
}

static double stale_nan(void)
{
    uint64_t b = 0x7ff0000000000002ull;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* Parses a duration such as 5m, 10s53ms, 1h (Prometheus units). */
static int64_t dur(const char *s, const char **end)
{
    int64_t total = 0;
    while (*s >= '0' && *s <= '9') {
        int64_t n = strtoll(s, (char **)&s, 10);
        int64_t unit = 1;
        if (!strncmp(s, "ms", 2)) {
            s += 2;
        } else {
            switch (*s) {
            case 's': unit = 1000; break;
            case 'm': unit = 60000; break;
            case 'h': unit = 3600000; break;
            case 'd': unit = 86400000; break;
            default: unit = 0;
            }
            if (unit)
                s++;
            else
                unit = 1000; /* a bare number: seconds */
        }
        total += n * unit;
    }
    if (end)
        *end = s;
    return total;
}

/* Appends the values of one item of Prometheus's series notation: 1,
 * 1+2x3, 5-1x2, 7x2, _, _x3, stale, NaN, Inf. Returns how many steps it
 * covers. */
static size_t load_item(struct mseries *s, const char *tok, int64_t t0, int64_t step)
{
    const char *x = strrchr(tok, 'x');
    long times = -1;
    char base[128];
    snprintf(base, sizeof base, "%s", tok);
    if (x && x != tok && strcmp(tok, "Inf") && strcmp(tok, "+Inf") && strcmp(tok, "-Inf")) {
        times = strtol(x + 1, NULL, 10);
        base[x - tok] = 0;
    }
    if (!strcmp(base, "_"))
        return times < 0 ? 1 : (size_t)times;
    if (!strcmp(base, "stale")) {
        add_sample(s, t0, stale_nan());
        return 1;
    }
    /* a, a+b or a-b (an operator that is not the sign or an exponent's) */
    double a, b = 0;
    char *op = NULL;
    for (char *p = base + 1; *p; p++)
        if ((*p == '+' || *p == '-') && p[-1] != 'e' && p[-1] != 'E') {
            op = p;
            break;
        }
    if (op) {
        b = strtod(op, NULL);
        *op = 0;
    }
    a = strtod(base, NULL);
    if (times < 0) {
        add_sample(s, t0, a);
        return 1;
    }
    for (long i = 0; i <= times; i++) {
        add_sample(s, t0 + i * step, a);
        a += b;
    }
    return (size_t)times + 1;
}

/* Loads data in the notation of Prometheus's test scripts:
 *     load 5m
 *     metric{label="value"} 0+10x10 _ 5
 * Samples start at time 0. */
static void store_load(struct store *st, const char *text)
{
    int64_t step = 60000;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char *line = xstrndup(p, len);
        p += len + (eol != NULL);
        if (!strncmp(line, "load ", 5)) {
            step = dur(line + 5, NULL);
            free(line);
            continue;
        }
        if (!*line) {
            free(line);
            continue;
        }
        struct promql_label *l = calloc(32, sizeof *l);
        size_t nl = 0;
        const char *q = line;
        const char *name = q;
        while (*q && *q != '{' && *q != ' ')
            q++;
        if (q > name) {
            l[nl].name.p = xstrndup("__name__", 8);
            l[nl].name.len = 8;
            l[nl].value.p = xstrndup(name, (size_t)(q - name));
            l[nl++].value.len = (size_t)(q - name);
        }
        if (*q == '{') {
            q++;
            while (*q && *q != '}') {
                while (*q == ' ' || *q == ',')
                    q++;
                if (*q == '}')
                    break;
                const char *n = q;
                while (*q != '=')
                    q++;
                l[nl].name.p = xstrndup(n, (size_t)(q - n));
                l[nl].name.len = (size_t)(q - n);
                q += 2; /* =" */
                const char *v = q;
                while (*q != '"')
                    q++;
                l[nl].value.p = xstrndup(v, (size_t)(q - v));
                l[nl++].value.len = (size_t)(q - v);
                q++;
            }
            q++;
        }
        struct mseries *s = store_series(st, l, nl);
        int64_t t = 0;
        char tok[128];
        int n;
        while (sscanf(q, " %127s%n", tok, &n) == 1) {
            q += n;
            t += (int64_t)load_item(s, tok, t, step) * step;
        }
        free(line);
    }
}

static void store_free(struct store *st)
{
    for (size_t i = 0; i < st->n; i++) {
        for (size_t k = 0; k < st->s[i].nl; k++) {
            free((char *)st->s[i].l[k].name.p);
            free((char *)st->s[i].l[k].value.p);
        }
        free(st->s[i].l);
        free(st->s[i].p);
    }
    free(st->s);
    free(st->view);
    memset(st, 0, sizeof *st);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int store_select(void *ud, struct promql_select *sel, const struct promql_series **out,
                        size_t *n)
{
    struct store *st = ud;
    st->selects++;
    st->last_start = sel->start_ms;
    st->last_end = sel->end_ms;
    if (st->fail) {
        snprintf(sel->err, sizeof sel->err, "disk on fire");
        return -1;
    }
    if (st->spin_ms) { /* wait for the clock, not a fixed sleep */
        int64_t until = now_ms() + st->spin_ms;
        while (now_ms() < until)
            ;
    }
    free(st->view);
    st->view = calloc(st->n + 1, sizeof *st->view);
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct mseries *s = &st->s[st->unsorted_order ? st->n - 1 - i : i];
        bool ok = true;
        for (size_t m = 0; m < sel->nmatchers && ok; m++) {
            const struct promql_matcher *mt = &sel->matchers[m];
            const char *v = "";
            size_t vl = 0;
            for (size_t j = 0; j < s->nl; j++)
                if (!strcmp(s->l[j].name.p, mt->name.p)) {
                    v = s->l[j].value.p;
                    vl = s->l[j].value.len;
                }
            ok = promql_matcher_matches(mt, v, vl);
        }
        if (ok)
            st->view[k++] = (struct promql_series){s->l, s->nl, s->p, s->n};
    }
    *out = st->view;
    *n = k;
    return 0;
}

/* --- running queries ------------------------------------------------------ */

static struct promql_ast *parse(const char *q)
{
    struct promql_ast *a = NULL;
    struct promql_error err;
    int rc = promql_parse(q, strlen(q), PROMQL_PARSE_EXPERIMENTAL, &a, &err);
    if (rc != PROMQL_OK)
        fail_msg("parse %s: %s", q, err.msg);
    return a;
}

/* Runs q as an instant (range false) or range query; returns the result
 * or NULL with *err set. */
static struct promql_result *run(struct store *st, const char *q, bool range, int64_t a, int64_t b,
                                 int64_t step, const struct promql_eval_opts *o,
                                 struct promql_eval_error *err)
{
    struct promql_ast *ast = parse(q);
    struct promql_source src = {store_select, st};
    struct promql_result *r = NULL;
    int rc = range ? promql_eval_range(ast, a, b, step, &src, o, &r, err)
                   : promql_eval_instant(ast, a, &src, o, &r, err);
    promql_ast_free(ast);
    if (rc == PROMQL_OK) {
        assert_non_null(r);
        assert_int_equal(err->type, PROMQL_ERR_NONE);
    } else {
        assert_null(r);
        assert_int_not_equal(err->type, PROMQL_ERR_NONE);
    }
    return r;
}

/* Prometheus's test notation of a metric: name{a="b", c="d"}. */
static void put_metric(struct buf *b, const struct promql_series *s)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (!strcmp(s->labels[i].name.p, "__name__"))
            buf_append(b, s->labels[i].value.p, s->labels[i].value.len);
    buf_puts(b, "{");
    bool first = true;
    for (size_t i = 0; i < s->nlabels; i++) {
        if (!strcmp(s->labels[i].name.p, "__name__"))
            continue;
        if (!first)
            buf_puts(b, ", ");
        first = false;
        buf_append(b, s->labels[i].name.p, s->labels[i].name.len);
        buf_puts(b, "=");
        promql_quote_msg(b, s->labels[i].value.p, s->labels[i].value.len);
    }
    buf_puts(b, "}");
}

static void put_time(struct buf *b, int64_t t)
{
    if (t % 1000 == 0)
        buf_printf(b, "%lld", (long long)(t / 1000));
    else
        buf_printf(b, "%.3f", (double)t / 1000);
}

/* A result (or error) in the text form of the expectations: a first line
 * "vector", "matrix", "scalar <v>", "string <quoted>" or "error <type>:
 * <message>", then one line per series: the metric, then its values (a
 * range query's at each step, "_" where none; an instant query's matrix
 * as value@time). */
static char *result_text(const struct promql_result *r, const struct promql_eval_error *err,
                         bool range, int64_t a, int64_t b, int64_t step)
{
    struct buf o = {0};
    if (!r) {
        buf_printf(&o, "error %s: %s", promql_errtype_name(err->type), err->msg);
        return o.p;
    }
    switch (r->type) {
    case PROMQL_TYPE_SCALAR:
        buf_puts(&o, "scalar ");
        pq_format_value(&o, r->scalar.v);
        return o.p;
    case PROMQL_TYPE_STRING:
        buf_puts(&o, "string ");
        promql_quote_msg(&o, r->string.p, r->string.len);
        return o.p;
    default: break;
    }
    buf_puts(&o, r->type == PROMQL_TYPE_VECTOR ? "vector" : "matrix");
    for (size_t i = 0; i < r->nseries; i++) {
        const struct promql_series *s = &r->series[i];
        buf_puts(&o, "\n");
        put_metric(&o, s);
        if (range) {
            size_t k = 0;
            for (int64_t t = a; t <= b; t += step) {
                buf_puts(&o, " ");
                if (k < s->n && s->samples[k].t == t)
                    pq_format_value(&o, s->samples[k++].v);
                else
                    buf_puts(&o, "_");
            }
            assert_int_equal(k, s->n);
            continue;
        }
        for (size_t k = 0; k < s->n; k++) {
            buf_puts(&o, " ");
            pq_format_value(&o, s->samples[k].v);
            if (r->type == PROMQL_TYPE_MATRIX) {
                buf_puts(&o, "@");
                put_time(&o, s->samples[k].t);
            }
        }
    }
    return o.p;
}

/* Splits text into lines (in place). */
static size_t split_lines(char *s, char **lines, size_t max)
{
    size_t n = 0;
    while (s && n < max) {
        lines[n++] = s;
        s = strchr(s, '\n');
        if (s)
            *s++ = 0;
    }
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two values (or value@time) agree: same text, or numbers within a
 * relative 1e-13 (1e-9 when near: the C library's trigonometry). */
static bool same_value(const char *x, const char *y, size_t xl, size_t yl, bool near)
{
    if (xl == yl && !memcmp(x, y, xl))
        return true;
    char bx[64], by[64];
    if (xl >= sizeof bx || yl >= sizeof by)
        return false;
    memcpy(bx, x, xl);
    bx[xl] = 0;
    memcpy(by, y, yl);
    by[yl] = 0;
    char *ex, *ey;
    double a = strtod(bx, &ex), b = strtod(by, &ey);
    if (*ex == '@' || *ey == '@') {
        if (*ex != '@' || *ey != '@' || strcmp(ex, ey))
            return false;
    } else if (*ex || *ey)
        return false;
    if (!isfinite(a) || !isfinite(b))
        return false;
    return fabs(a - b) <= (near ? 1e-9 : 1e-13) * fmax(fabs(a), fabs(b));
}

/* A line: the metric up to its closing brace, then values. */
static bool same_line(const char *x, const char *y, bool near)
{
    const char *mx = strchr(x, '}'), *my = strchr(y, '}');
    if (!mx || !my)
        return !strcmp(x, y) || (!strncmp(x, "scalar ", 7) && !strncmp(y, "scalar ", 7) &&
                                 same_value(x + 7, y + 7, strlen(x + 7), strlen(y + 7), near));
    /* label values may hold '}' only inside quotes; the test data does not */
    if (mx - x != my - y || memcmp(x, y, (size_t)(mx - x)))
        return false;
    x = mx + 1;
    y = my + 1;
    for (;;) {
        while (*x == ' ')
            x++;
        while (*y == ' ')
            y++;
        if (!*x || !*y)
            return !*x && !*y;
        size_t xl = strcspn(x, " "), yl = strcspn(y, " ");
        if (!same_value(x, y, xl, yl, near))
            return false;
        x += xl;
        y += yl;
    }
}

/* Compares a result's text with the expectation; prints both when they
 * differ. ordered: the series' order matters. */
static bool same_text(const char *label, const char *got, const char *want, bool ordered, bool near)
{
    char *g = strdup(got), *w = strdup(want);
    char *gl[512], *wl[512];
    size_t gn = split_lines(g, gl, 512), wn = split_lines(w, wl, 512);
    bool ok = gn == wn && same_line(gl[0], wl[0], near);
    if (ok && !ordered) {
        qsort(gl + 1, gn - 1, sizeof *gl, cmp_str);
        qsort(wl + 1, wn - 1, sizeof *wl, cmp_str);
    }
    for (size_t i = 1; ok && i < gn; i++)
        ok = same_line(gl[i], wl[i], near);
    if (!ok)
        print_error("MISMATCH %s\n--- want\n%s\n--- got\n%s\n", label, want, got);
    free(g);
    free(w);
    return ok;
}

/* --- the cases transcribed from Prometheus's test scripts ----------------- */

enum { ORDERED = 1, NEAR = 2 };

struct tcase {
    const char *data;  /* the data set, in the notation of store_load() */
    const char *query; /* evaluated at a (instant), or from a to b by step */
    bool range;
    int64_t a, b, step;
    unsigned flags; /* ORDERED: the series' order matters; NEAR: last digits */
    const char *want;
};

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

/* Prometheus's labels.Compare over result series. */
static int series_cmp(const struct promql_series *a, const struct promql_series *b)
{
    for (size_t i = 0; i < a->nlabels && i < b->nlabels; i++) {
        int r = strcmp(a->labels[i].name.p, b->labels[i].name.p);
        if (!r)
            r = strcmp(a->labels[i].value.p, b->labels[i].value.p);
        if (r)
            return r;
    }
    return a->nlabels < b->nlabels ? -1 : a->nlabels > b->nlabels;
}

/* Prometheus's test runner also evaluates each instant query as a range
 * query from t-1m to t+1m by 1m, and the middle step must give the same
 * vector. Queries that use start() or end() mean something else then. */
static bool range_agrees(struct store *st, const struct tcase *c, const char *want)
{
    if (strncmp(want, "vector", 6) && strncmp(want, "scalar", 6))
        return true;
    if (strstr(c->query, "start()") || strstr(c->query, "end()"))
        return true;
    struct promql_eval_error err;
    struct promql_eval_opts opts;
    promql_eval_opts_init(&opts);
    opts.exact_counters = false;
    int64_t t = c->a;
    struct promql_result *r = run(st, c->query, true, t - 60000, t + 60000, 60000, &opts, &err);
    if (!r) {
        print_error("range mode of %s failed: %s\n", c->query, err.msg);
        return false;
    }
    assert_int_equal(r->type, PROMQL_TYPE_MATRIX);
    struct buf o = {0};
    bool scalar = !strncmp(want, "scalar", 6);
    buf_puts(&o, scalar ? "scalar" : "vector");
    for (size_t i = 0; i < r->nseries; i++) {
        const struct promql_series *s = &r->series[i];
        for (size_t k = 0; k < s->n; k++) {
            if (s->samples[k].t != t)
                continue;
            if (scalar) {
                buf_puts(&o, " ");
            } else {
                buf_puts(&o, "\n");
                put_metric(&o, s);
                buf_puts(&o, " ");
            }
            pq_format_value(&o, s->samples[k].v);
        }
        /* a range result is sorted by labels */
        if (i > 0 && series_cmp(&r->series[i - 1], s) >= 0) {
            print_error("range result of %s not sorted\n", c->query);
            buf_free(&o);
            promql_result_free(r);
            return false;
        }
    }
    char label[600];
    snprintf(label, sizeof label, "%s (range mode)", c->query);
    bool ok = same_text(label, o.p, want, false, c->flags & NEAR);
    buf_free(&o);
    promql_result_free(r);
    return ok;
}

static void test_prometheus_cases(void **state)
{
    (void)state;
    struct store st = {0};
    const char *loaded = NULL;
    size_t bad = 0, n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        const struct tcase *c = &cases[i];
        if (c->data != loaded) {
            store_free(&st);
            store_load(&st, c->data);
            loaded = c->data;
        }
        struct promql_eval_opts o;
        promql_eval_opts_init(&o);
        o.exact_counters = false; /* Prometheus's arithmetic */
        struct promql_eval_error err;
        struct promql_result *r = run(&st, c->query, c->range, c->a, c->b, c->step, &o, &err);
        char *got = result_text(r, &err, c->range, c->a, c->b, c->step);
        char label[600];
        snprintf(label, sizeof label, "%s %s at %lld", c->range ? "range" : "instant", c->query,
                 (long long)c->a);
        if (!same_text(label, got, c->want, c->flags & ORDERED, c->flags & NEAR))
            bad++;
        else if (!c->range && !range_agrees(&st, c, c->want))
            bad++;
        free(got);
        promql_result_free(r);
    }
    store_free(&st);
    print_message("%zu Prometheus cases, %zu failed\n", n, bad);
    assert_int_equal(bad, 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_cases),
        cmocka_unit_test(test_exact_counters),
        cmocka_unit_test(test_lookback_and_staleness),
        cmocka_unit_test(test_source_contract),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_misc),
        cmocka_unit_test(test_options_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
