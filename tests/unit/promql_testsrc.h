/*
 * promql_testsrc.h — the PromQL evaluator tests' in-memory source, query
 * runner and result comparison (tests only).
 *
 * What it is for: test_promql_eval.c, test_promql_funcs.c and
 * test_promql_binop.c share one way to load data in the notation of
 * Prometheus's test scripts (store_load), to serve it to the evaluator as
 * a struct promql_source (store_select), to print a result in the text
 * form of the expectations (result_text) and to compare it (same_text),
 * and one table runner for the cases transcribed from Prometheus
 * (struct tcase, promql_testsrc_run_cases).
 *
 * DESIGN: header-only, every function static inline, because
 * tests/CMakeLists.txt builds each tests/unit/test_*.c as its own binary
 * and links no shared test object; each test file includes it once and
 * the compiler drops what that file does not call. Not thread-safe: a
 * struct store belongs to one test at a time.
 */
#ifndef LLMTAP_PROMQL_TESTSRC_H
#define LLMTAP_PROMQL_TESTSRC_H

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
    bool facts;          /* also answer promql_select.facts */
    /* with facts: take promql_select.visit when asked, letting it walk
     * every visit_every-th series (from visit_from) while the others keep
     * their samples (0: never) */
    unsigned visit_every, visit_from;
    int visits; /* series the evaluator's visit took */
    struct promql_facts *fview;
};

static inline char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static inline int cmp_label(const void *a, const void *b)
{
    const struct promql_label *x = a, *y = b;
    return strcmp(x->name.p, y->name.p);
}

/* The series with these labels (sorted copy), created if new. */
static inline struct mseries *store_series(struct store *st, struct promql_label *l, size_t nl)
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

static inline void add_sample(struct mseries *s, int64_t t, double v)
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

static inline double stale_nan(void)
{
    uint64_t b = 0x7ff0000000000002ull;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* Parses a duration such as 5m, 10s53ms, 1h (Prometheus units). */
static inline int64_t dur(const char *s, const char **end)
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
static inline size_t load_item(struct mseries *s, const char *tok, int64_t t0, int64_t step)
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
static inline void store_load(struct store *st, const char *text)
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

static inline void store_free(struct store *st)
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
    free(st->fview);
    memset(st, 0, sizeof *st);
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int store_select(void *ud, struct promql_select *sel,
                               const struct promql_series **out, size_t *n)
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
    free(st->fview);
    st->fview = NULL;
    if (st->facts) { /* as the collector's source finds them */
        st->fview = calloc(k + 1, sizeof *st->fview);
        for (size_t i = 0; i < k; i++) {
            const struct promql_sample *p = st->view[i].samples;
            size_t ns = st->view[i].n, stale = ns && promql_is_stale_marker(p[0].v), res = 0;
            bool asc = true, even = ns > 1;
            for (size_t j = 1; j < ns; j++) {
                asc &= p[j].t > p[j - 1].t;
                stale += promql_is_stale_marker(p[j].v);
                res += p[j].v < p[j - 1].v;
                even &= p[j].t - p[j - 1].t == p[1].t - p[0].t;
            }
            int64_t grid = even && p[1].t > p[0].t ? p[1].t - p[0].t : 0;
            st->fview[i] = (struct promql_facts){
                .checked = asc, .nstale = stale, .nresets = res, .slot = i, .grid = grid};
        }
        sel->facts = st->fview;
        /* as the collector's source: prepare once with the count, then a
         * visit per series while its samples are at hand; those it takes
         * are returned without samples */
        if (st->visit_every && sel->visit && sel->prepare && k && sel->prepare(sel->visit_ud, k))
            for (size_t i = 0; i < k; i++) {
                if ((i + st->visit_from) % st->visit_every)
                    continue;
                if (sel->visit(sel->visit_ud, i, st->view[i].samples, st->view[i].n,
                               &st->fview[i])) {
                    st->fview[i].visited = true;
                    st->view[i].samples = NULL;
                    st->visits++;
                }
            }
    }
    *out = st->view;
    *n = k;
    return 0;
}

/* --- running queries ------------------------------------------------------ */

static inline struct promql_ast *parse(const char *q)
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
static inline struct promql_result *run(struct store *st, const char *q, bool range, int64_t a,
                                        int64_t b, int64_t step, const struct promql_eval_opts *o,
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
static inline void put_metric(struct buf *b, const struct promql_series *s)
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

static inline void put_time(struct buf *b, int64_t t)
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
static inline char *result_text(const struct promql_result *r, const struct promql_eval_error *err,
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
static inline size_t split_lines(char *s, char **lines, size_t max)
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

static inline int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two values (or value@time) agree: same text, or numbers within a
 * relative 1e-13 (1e-9 when near: the C library's trigonometry). */
static inline bool same_value(const char *x, const char *y, size_t xl, size_t yl, bool near)
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
static inline bool same_line(const char *x, const char *y, bool near)
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
static inline bool same_text(const char *label, const char *got, const char *want, bool ordered,
                             bool near)
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

/* Prometheus's labels.Compare over result series. */
static inline int series_cmp(const struct promql_series *a, const struct promql_series *b)
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
static inline bool range_agrees(struct store *st, const struct tcase *c, const char *want)
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

/* Runs every case of cases[0..n) and fails the test if any disagrees
 * (each disagreement is printed first). */
static inline void promql_testsrc_run_cases(const struct tcase *cases, size_t n)
{
    struct store st = {0};
    const char *loaded = NULL;
    size_t bad = 0;
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

#endif
