/*
 * promql_eval.c — evaluates a PromQL syntax tree against a series source:
 * instant and range queries, with Prometheus 3's semantics.
 *
 * DESIGN
 * - As Prometheus's engine: every expression is evaluated once for all the
 *   steps of the evaluation (start, start+interval, ... end) into a matrix
 *   whose series hold one sample per step at which they have a value; an
 *   instant query is a single step. Functions and operators then work step
 *   by step on the vectors gathered from their operands' matrices, and the
 *   vectors are collected back into series (pq_collect).
 * - A subquery evaluates its expression once, as a range evaluation of its
 *   own (steps aligned to multiples of its step), and the enclosing function
 *   reads each outer step's window from that; range selectors read windows
 *   straight out of the source's sample arrays (nothing is copied).
 * - @ fixes the time a selector or subquery looks at; it is applied where
 *   the data is read (the same window or lookup at every step) instead of
 *   Prometheus's rewriting of offsets and step-invariant subtrees: the tree
 *   stays read-only, so it can be shared between threads, and the values
 *   are the same.
 * - Metric names are dropped as Prometheus 3 does without its "delayed
 *   name removal" flag: by arithmetic, comparisons with bool, and every
 *   function except last_over_time, first_over_time, label_replace,
 *   label_join, sort*, and the few that return their input.
 * - Errors are return codes; memory comes from the context's tracked heap
 *   and arena (promql_value.h), so a failing evaluation just returns and the
 *   top level frees everything. Recursion depth is bounded by the parser
 *   (PROMQL_MAX_DEPTH).
 * - Where a loop over each series for all steps computes the same as the
 *   step loop, a range evaluation takes it: exact rate()/increase() of a
 *   selector or subquery (pq_fn_exact_rate_steps; of a selector, walked
 *   by the source's readers as they read each series when the source
 *   offers it, promql_rate.c) and histogram_quantile
 *   (promql_hist.c, which holds the histogram functions); the results
 *   are the same bit for bit, and opts.general_only turns them off for
 *   the tests that compare both.
 * - Timeout, cancellation and the sample limit are checked in the step and
 *   series loops (pq_tick: the clock is read every 64th check).
 * - This file walks the tree, reads the source (selectors, windows,
 *   subqueries) and runs the functions that need the tree (absent, sort).
 *   The arithmetic lives in promql_func.c, the operators in
 *   promql_binop.c, the aggregations in promql_agg.c, label_replace and
 *   label_join in promql_label.c, values and their memory in
 *   promql_value.c.
 */
#include "promql_eval.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "promql_agg.h"
#include "promql_binop.h"
#include "promql_func.h"
#include "qpool.h"
#include "promql_hist.h"
#include "promql_label.h"
#include "promql_rate.h"
#include "promql_lex.h"
#include "promql_value.h"

/* An evaluation over one range of steps (the query's, or a subquery's). */
struct ev {
    struct pq_ctx *c;
    struct pq_steps st;
};

/* The value of an expression: a matrix, or a string. */
struct val {
    bool is_string;
    struct promql_str str;
    struct pq_matrix m;
};

static int eval(struct ev *ev, const struct promql_expr *e, struct val *out);

static const struct promql_expr *unparen(const struct promql_expr *e)
{
    while (e && e->kind == PROMQL_PAREN)
        e = e->paren.expr;
    return e;
}

static bool is_stale(double v)
{
    return promql_is_stale_marker(v);
}

static int64_t at_time(struct pq_ctx *c, enum promql_at at, int64_t at_ms)
{
    return at == PROMQL_AT_START ? c->qstart : at == PROMQL_AT_END ? c->qend : at_ms;
}

static int same_labelset(struct pq_ctx *c)
{
    return pq_fail(c, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
}

/* Evaluates e, which must be an instant vector or scalar (a matrix). */
static int eval_matrix(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    struct val v = {0};
    int rc = eval(ev, e, &v);
    if (rc)
        return rc;
    if (v.is_string)
        return pq_fail(ev->c, PROMQL_ERR_INTERNAL, "unexpected string value");
    *out = v.m;
    return 0;
}

/* --- the source ---------------------------------------------------------- */

/* A series as read from the source, with interned labels. */
struct raw {
    const pq_labels *m;
    const struct promql_sample *p;
    size_t n;
    size_t nresets; /* samples lower than the one before; SIZE_MAX: not known */
    int64_t grid;   /* > 0: p[j].t == p[0].t + j * grid (promql_facts.grid); 0: not known */
    bool visited;   /* walked by the source's reader (pq_rate_visit): p is NULL */
    size_t slot;    /* its slot there */
};

struct rawset {
    struct raw *r;
    size_t n;
    bool redo; /* two series with one label set, one of them visited: read again */
};

static int cmp_raw(const void *a, const void *b)
{
    return pq_labels_cmp(((const struct raw *)a)->m, ((const struct raw *)b)->m);
}

/* Samples of two arrays merged by time (the first wins on equal times). */
static int merge_samples(struct pq_ctx *c, struct raw *a, const struct raw *b)
{
    struct promql_sample *p = pq_alloc(&c->heap, (a->n + b->n) * sizeof *p);
    if (!p)
        return pq_oom(c);
    size_t i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        if (j >= b->n || (i < a->n && a->p[i].t <= b->p[j].t)) {
            if (j < b->n && a->p[i].t == b->p[j].t)
                j++;
            p[k++] = a->p[i++];
        } else
            p[k++] = b->p[j++];
    }
    a->p = p;
    a->n = k;
    a->nresets = SIZE_MAX;
    a->grid = 0;
    return 0;
}

/* Drops the stale (> 0) staleness markers of r (range selectors skip
 * them). */
static int drop_stale(struct pq_ctx *c, struct raw *r, size_t stale)
{
    struct promql_sample *p = pq_alloc(&c->heap, (r->n - stale + 1) * sizeof *p);
    if (!p)
        return pq_oom(c);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!is_stale(r->p[i].v))
            p[k++] = r->p[i];
    r->p = p;
    r->n = k;
    return 0;
}

/* Asks the source for the series of vs with samples in [mint, maxt];
 * returns them sorted by labels, duplicates merged. */
static int fetch(struct ev *ev, const struct promql_vector_selector *vs, int64_t mint, int64_t maxt,
                 const char *func, int64_t range, bool matrix, struct pq_rate_visit *rv,
                 struct rawset *out)
{
    struct pq_ctx *c = ev->c;
    struct promql_select sel = {
        .matchers = vs->matchers,
        .nmatchers = vs->nmatchers,
        .start_ms = mint,
        .end_ms = maxt,
        .func = func,
        .range_ms = range,
        .step_ms = c->qstep,
        .deadline_ns = c->deadline_ns,
        .prepare = rv ? pq_rate_prepare : NULL,
        .visit = rv ? pq_rate_visit : NULL,
        .visit_ud = rv,
    };
    const struct promql_series *s = NULL;
    size_t n = 0;
    *out = (struct rawset){0};
    if (c->src->select(c->src->ud, &sel, &s, &n) != 0) {
        if (sel.timed_out)
            return pq_timeout(c);
        sel.err[sizeof sel.err - 1] = 0;
        return pq_fail(c, PROMQL_ERR_INTERNAL, "expanding series: %s",
                       sel.err[0] ? sel.err : "storage error");
    }
    if (n == 0)
        return 0;
    struct raw *r = pq_alloc(&c->heap, n * sizeof *r);
    if (!r)
        return pq_oom(c);
    struct promql_label tmp[32];
    for (size_t i = 0; i < n; i++) {
        const struct promql_label *l = s[i].labels;
        size_t nl = s[i].nlabels;
        bool sorted = true;
        for (size_t j = 1; j < nl && sorted; j++) {
            size_t a = l[j - 1].name.len, b = l[j].name.len;
            int cmp = memcmp(l[j - 1].name.p, l[j].name.p, a < b ? a : b);
            sorted = cmp < 0 || (cmp == 0 && a < b);
        }
        struct promql_label *sl = NULL;
        if (!sorted) { /* be lenient: sort a copy */
            sl = nl <= 32 ? tmp : pq_alloc(&c->heap, nl * sizeof *sl);
            if (!sl)
                return pq_oom(c);
            memcpy(sl, l, nl * sizeof *sl);
            for (size_t j = 1; j < nl; j++) {
                struct promql_label x = sl[j];
                size_t k = j;
                for (; k > 0; k--) {
                    size_t a = sl[k - 1].name.len, b = x.name.len;
                    int cmp = memcmp(sl[k - 1].name.p, x.name.p, a < b ? a : b);
                    if (cmp < 0 || (cmp == 0 && a <= b))
                        break;
                    sl[k] = sl[k - 1];
                }
                sl[k] = x;
            }
            l = sl;
        }
        r[i].m = pq_intern(c, l, nl);
        if (sl && sl != tmp)
            pq_free(&c->heap, sl);
        if (!r[i].m)
            return pq_oom(c);
        r[i].p = s[i].samples;
        r[i].n = s[i].n;
        r[i].nresets = SIZE_MAX;
        r[i].grid = 0;
        r[i].visited = rv && sel.facts && sel.facts[i].visited && sel.facts[i].checked;
        r[i].slot = r[i].visited ? sel.facts[i].slot : 0;
        if (r[i].visited && (r[i].slot >= rv->n || !rv->took[r[i].slot]))
            return pq_fail(c, PROMQL_ERR_INTERNAL, "expanding series: a visit the source made up");
        /* one pass: the order check and the staleness markers' count,
         * unless the source vouches for both */
        const struct promql_sample *p = r[i].p;
        size_t stale = 0, bad = 0;
        if (sel.facts && sel.facts[i].checked) {
            stale = sel.facts[i].nstale;
            if (!stale) {
                r[i].nresets = sel.facts[i].nresets;
                r[i].grid = sel.facts[i].grid;
            }
        } else {
            stale = r[i].n && is_stale(p[0].v);
            for (size_t j = 1; j < r[i].n; j++) {
                bad |= p[j].t <= p[j - 1].t;
                stale += is_stale(p[j].v);
            }
        }
        if (bad)
            return pq_fail(c, PROMQL_ERR_INTERNAL,
                           "expanding series: samples out of order in the source");
        int rc;
        if (matrix && stale && (rc = drop_stale(c, &r[i], stale)))
            return rc;
    }
    qsort(r, n, sizeof *r, cmp_raw);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && r[k - 1].m == r[i].m) {
            if (r[k - 1].visited || r[i].visited) { /* their samples are gone */
                pq_free(&c->heap, r);
                out->redo = true;
                return 0;
            }
            int rc = merge_samples(c, &r[k - 1], &r[i]);
            if (rc)
                return rc;
            continue;
        }
        r[k++] = r[i];
    }
    out->r = r;
    out->n = k;
    return 0;
}

/* --- selectors ----------------------------------------------------------- */

/* An instant selector at every step: the last sample at or before the
 * (offset) step time, if it is less than the lookback old and not a
 * staleness marker. With want_ts, the value is the sample's time in
 * seconds (for timestamp()). */
static int eval_vector_selector(struct ev *ev, const struct promql_expr *e, bool want_ts,
                                const char *func, struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    const struct promql_vector_selector *vs = &e->vs;
    bool at = vs->at != PROMQL_AT_NONE;
    int64_t t_at = at_time(c, vs->at, vs->at_ms), lb = c->o.lookback_ms, off = vs->offset_ms;
    int64_t lo = (at ? t_at : ev->st.start) - off, hi = (at ? t_at : ev->st.end) - off;
    struct rawset rs;
    int rc = fetch(ev, vs, lo - lb + 1, hi, func, 0, false, NULL, &rs);
    if (rc)
        return rc;
    *out = (struct pq_matrix){0};
    for (size_t i = 0; i < rs.n; i++) {
        const struct raw *r = &rs.r[i];
        struct pq_series *s = NULL;
        size_t j = 0;
        if ((rc = pq_tick(c)))
            return rc;
        PQ_FOR_STEPS(&ev->st, ts)
        {
            int64_t ref = (at ? t_at : ts) - off;
            while (j < r->n && r->p[j].t <= ref)
                j++;
            if (j == 0 || r->p[j - 1].t <= ref - lb || is_stale(r->p[j - 1].v))
                continue;
            if (!s && !(s = pq_matrix_add(c, out, r->m)))
                return pq_oom(c);
            double v = want_ts ? (double)r->p[j - 1].t / 1000 : r->p[j - 1].v;
            if ((rc = pq_series_push(c, s, ts, v)))
                return rc;
        }
    }
    pq_free(&c->heap, rs.r);
    return 0;
}

/* The series a range-vector argument provides: a range selector's samples
 * or a subquery's points, with where each step's window lies. */
struct windows {
    struct rawset rs;
    struct pq_matrix inner; /* a subquery's result (owns the samples) */
    int64_t range, off, t_at;
    bool at;
    const struct promql_expr *selector; /* for absent_over_time's labels */
};

static int subquery_inner(struct ev *ev, const struct promql_expr *e, int64_t extra,
                          struct pq_matrix *out);

/* Reads the windows of a range selector or subquery; extra widens them to
 * the left (exact counters look for the sample before the window). */
static int open_windows(struct ev *ev, const struct promql_expr *arg, const char *func,
                        int64_t extra, struct pq_rate_visit *rv, struct windows *w)
{
    struct pq_ctx *c = ev->c;
    *w = (struct windows){0};
    if (arg->kind == PROMQL_MATRIX_SELECTOR) {
        const struct promql_vector_selector *vs = &arg->matrix.vs->vs;
        w->range = arg->matrix.range_ms;
        w->off = vs->offset_ms;
        w->at = vs->at != PROMQL_AT_NONE;
        w->t_at = at_time(c, vs->at, vs->at_ms);
        w->selector = arg->matrix.vs;
        int64_t lo = (w->at ? w->t_at : ev->st.start) - w->off - w->range - extra;
        int64_t hi = (w->at ? w->t_at : ev->st.end) - w->off;
        return fetch(ev, vs, lo + 1, hi, func, w->range, true, rv, &w->rs);
    }
    w->range = arg->subquery.range_ms;
    w->off = arg->subquery.offset_ms;
    w->at = arg->subquery.at != PROMQL_AT_NONE;
    w->t_at = at_time(c, arg->subquery.at, arg->subquery.at_ms);
    int rc = subquery_inner(ev, arg, extra, &w->inner);
    if (rc)
        return rc;
    if (w->inner.n && !(w->rs.r = pq_alloc(&c->heap, w->inner.n * sizeof *w->rs.r)))
        return pq_oom(c);
    for (size_t i = 0; i < w->inner.n; i++)
        w->rs.r[i] =
            (struct raw){w->inner.s[i].m, w->inner.s[i].p, w->inner.s[i].n, SIZE_MAX, 0, false, 0};
    w->rs.n = w->inner.n;
    return 0;
}

static void close_windows(struct pq_ctx *c, struct windows *w)
{
    pq_free(&c->heap, w->rs.r);
    pq_matrix_free(c, &w->inner);
}

/* The steps of a subquery: aligned to its step, in (start - offset -
 * range - extra, end - offset], or at its @ time. */
static int subquery_inner(struct ev *ev, const struct promql_expr *e, int64_t extra,
                          struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    int64_t step = e->subquery.step_ms ? e->subquery.step_ms : c->o.default_step_ms;
    int64_t off = e->subquery.offset_ms, range = e->subquery.range_ms;
    int64_t from, to;
    if (e->subquery.at != PROMQL_AT_NONE) {
        from = to = at_time(c, e->subquery.at, e->subquery.at_ms);
    } else {
        from = ev->st.start;
        to = ev->st.start + (ev->st.end - ev->st.start) / ev->st.interval * ev->st.interval;
    }
    int64_t lowest = from - off - range - extra;
    int64_t start = step * (lowest / step);
    if (start <= lowest)
        start += step;
    struct ev sub = {c, {start, to - off, step}};
    *out = (struct pq_matrix){0};
    if (sub.st.end < sub.st.start)
        return 0;
    return eval_matrix(&sub, e->subquery.expr, out);
}

/* Series with the same labels (after a relabelling) are merged when their
 * samples do not collide in time. */
static int merge_same_labels(struct pq_ctx *c, struct pq_matrix *mx)
{
    struct pq_map map = {0};
    size_t k = 0;
    bool oom = false;
    for (size_t i = 0; i < mx->n; i++) {
        size_t *slot = pq_map_get(c, &map, mx->s[i].m, NULL, true, k, &oom);
        if (!slot)
            return pq_oom(c);
        if (*slot == k) {
            mx->s[k++] = mx->s[i];
            continue;
        }
        struct pq_series *d = &mx->s[*slot], *s = &mx->s[i];
        struct promql_sample *p = pq_alloc(&c->heap, (d->n + s->n) * sizeof *p);
        if (!p)
            return pq_oom(c);
        size_t a = 0, b = 0, n = 0;
        while (a < d->n || b < s->n) {
            if (a < d->n && b < s->n && d->p[a].t == s->p[b].t)
                return same_labelset(c);
            p[n++] = (b >= s->n || (a < d->n && d->p[a].t < s->p[b].t)) ? d->p[a++] : s->p[b++];
        }
        pq_free(&c->heap, d->p);
        pq_free(&c->heap, s->p);
        d->p = p;
        d->n = d->cap = n;
    }
    mx->n = k;
    pq_map_free(c, &map);
    return 0;
}

/* --- binary operators ---------------------------------------------------- */

static int eval_binary(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    struct pq_matrix ops[2] = {{0}};
    int rc;
    if ((rc = eval_matrix(ev, e->binary.lhs, &ops[0])) ||
        (rc = eval_matrix(ev, e->binary.rhs, &ops[1])))
        return rc;
    return pq_binop(ev->c, &ev->st, e, ops, out);
}

/* --- functions of instant vectors ----------------------------------------- */

struct call {
    const struct promql_expr *e;
    enum promql_func_id id;
    const pq_labels *absent; /* absent()'s labels */
    struct pq_hist h;        /* histogram_quantile(s) / histogram_fraction */
};

/* The labels absent() and absent_over_time() return: the equality
 * matchers of a selector argument, names other than __name__ that are
 * matched exactly once by "=". */
static const pq_labels *absent_labels(struct pq_ctx *c, const struct promql_expr *arg)
{
    arg = unparen(arg);
    if (arg && arg->kind == PROMQL_MATRIX_SELECTOR)
        arg = arg->matrix.vs;
    if (!arg || arg->kind != PROMQL_VECTOR_SELECTOR)
        return c->empty;
    const struct promql_vector_selector *vs = &arg->vs;
    const pq_labels *m = c->empty;
    for (size_t i = 0; m && i < vs->nmatchers; i++) {
        const struct promql_matcher *x = &vs->matchers[i];
        if (pq_streq(&x->name, "__name__", 8))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            if (pq_streq(&vs->matchers[j].name, x->name.p, x->name.len))
                seen = true;
        if (x->op == PROMQL_MATCH_EQ && !seen)
            m = pq_set(c, m, x->name.p, x->name.len, x->value.p, x->value.len);
        else
            m = pq_set(c, m, x->name.p, x->name.len, "", 0);
    }
    return m;
}

/* How sort(), sort_desc() and sort_by_label*() order samples. */
struct sort_key {
    enum promql_func_id id;
    const struct promql_expr *e; /* the call (sort_by_label's labels) */
};

static int sort_cmp(const struct pq_sample *a, const struct pq_sample *b, const struct sort_key *k)
{
    if (k->id == PROMQL_FN_SORT || k->id == PROMQL_FN_SORT_DESC) {
        /* ascending or descending, NaN last either way */
        if (isnan(a->v) || isnan(b->v))
            return isnan(a->v) - isnan(b->v);
        if (a->v == b->v)
            return 0;
        return (a->v < b->v) == (k->id == PROMQL_FN_SORT) ? -1 : 1;
    }
    int sign = k->id == PROMQL_FN_SORT_BY_LABEL ? 1 : -1;
    for (size_t i = 1; i < k->e->call.nargs; i++) {
        const struct promql_str *n = &unparen(k->e->call.args[i])->string;
        size_t al, bl;
        const char *av = pq_get(a->m, n->p, n->len, &al), *bv = pq_get(b->m, n->p, n->len, &bl);
        if (al == bl && (al == 0 || memcmp(av, bv, al) == 0))
            continue;
        return pq_natural_less(av ? av : "", al, bv ? bv : "", bl) ? -sign : sign;
    }
    return sign * pq_labels_cmp(a->m, b->m);
}

static void sort_vector(struct pq_sample *s, struct pq_sample *tmp, size_t n,
                        const struct sort_key *k)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_vector(s, tmp, h, k);
    sort_vector(s + h, tmp, n - h, k);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        tmp[o++] = sort_cmp(&s[j], &s[i], k) < 0 ? s[j++] : s[i++];
    while (i < h)
        tmp[o++] = s[i++];
    while (j < n)
        tmp[o++] = s[j++];
    memcpy(s, tmp, n * sizeof *s);
}

static int call_step(struct pq_ctx *c, void *ud, struct pq_vector *in, struct pq_vector *out,
                     int64_t ts)
{
    struct call *cl = ud;
    enum promql_func_id id = cl->id;
    size_t nargs = cl->e->call.nargs;
    int rc;
    if (pq_fn_is_simple(id) && !(nargs == 0)) {
        double args[2] = {1, 0};
        for (size_t i = 1; i < nargs && i <= 2; i++) {
            if (!in[i].n)
                return 0;
            args[i - 1] = in[i].s[0].v;
        }
        if (id == PROMQL_FN_CLAMP && args[1] < args[0])
            return 0;
        for (size_t i = 0; i < in[0].n; i++) {
            const pq_labels *m = pq_drop_name(c, in[0].s[i].m);
            if (!m)
                return pq_oom(c);
            if ((rc = pq_vector_push(c, out, m, pq_fn_simple(id, in[0].s[i].v, args), ts, 0)))
                return rc;
        }
        return 0;
    }
    double v;
    switch (id) {
    case PROMQL_FN_MINUTE:
    case PROMQL_FN_HOUR:
    case PROMQL_FN_DAY_OF_MONTH:
    case PROMQL_FN_DAY_OF_WEEK:
    case PROMQL_FN_DAY_OF_YEAR:
    case PROMQL_FN_DAYS_IN_MONTH:
    case PROMQL_FN_MONTH:
    case PROMQL_FN_YEAR: v = pq_fn_date(id, (double)(ts / 1000)); break;
    case PROMQL_FN_TIME: v = (double)ts / 1000; break;
    case PROMQL_FN_PI: v = M_PI; break;
    case PROMQL_FN_START: v = (double)c->qstart / 1000; break;
    case PROMQL_FN_END: v = (double)c->qend / 1000; break;
    case PROMQL_FN_RANGE: v = pq_seconds(c->qend - c->qstart); break;
    case PROMQL_FN_STEP: v = c->qstart == c->qend ? 0 : pq_seconds(c->qstep); break;
    case PROMQL_FN_MAX_OF:
    case PROMQL_FN_MIN_OF: {
        if (!in[0].n || !in[1].n)
            return 0;
        double a = in[0].s[0].v, b = in[1].s[0].v;
        if (isnan(a) || isnan(b))
            v = NAN;
        else if (id == PROMQL_FN_MAX_OF)
            v = (a == 0 && b == 0) ? (signbit(a) ? b : a) : (a > b ? a : b);
        else
            v = (a == 0 && b == 0) ? (signbit(a) ? a : b) : (a < b ? a : b);
        break;
    }
    case PROMQL_FN_VECTOR:
        if (!in[0].n)
            return 0;
        v = in[0].s[0].v;
        break;
    case PROMQL_FN_SCALAR: v = in[0].n == 1 ? in[0].s[0].v : NAN; break;
    case PROMQL_FN_ABSENT:
        if (in[0].n)
            return 0;
        return pq_vector_push(c, out, cl->absent, 1, ts, 0);
    case PROMQL_FN_TIMESTAMP:
        for (size_t i = 0; i < in[0].n; i++) {
            const pq_labels *m = pq_drop_name(c, in[0].s[i].m);
            if (!m)
                return pq_oom(c);
            /* a computed vector's samples carry the step time */
            if ((rc = pq_vector_push(c, out, m, (double)ts / 1000, ts, 0)))
                return rc;
        }
        return 0;
    case PROMQL_FN_SORT:
    case PROMQL_FN_SORT_DESC:
    case PROMQL_FN_SORT_BY_LABEL:
    case PROMQL_FN_SORT_BY_LABEL_DESC: {
        for (size_t i = 0; i < in[0].n; i++)
            if ((rc = pq_vector_push(c, out, in[0].s[i].m, in[0].s[i].v, ts, 0)))
                return rc;
        struct pq_sample *tmp = pq_alloc(&c->heap, (out->n + 1) * sizeof *tmp);
        if (!tmp)
            return pq_oom(c);
        struct sort_key key = {id, cl->e};
        sort_vector(out->s, tmp, out->n, &key);
        pq_free(&c->heap, tmp);
        return 0;
    }
    case PROMQL_FN_HISTOGRAM_QUANTILE:
    case PROMQL_FN_HISTOGRAM_QUANTILES:
    case PROMQL_FN_HISTOGRAM_FRACTION: return pq_hist_step(c, &cl->h, cl->e, in, out, ts);
    case PROMQL_FN_HISTOGRAM_AVG:
    case PROMQL_FN_HISTOGRAM_COUNT:
    case PROMQL_FN_HISTOGRAM_SUM:
    case PROMQL_FN_HISTOGRAM_STDDEV:
    case PROMQL_FN_HISTOGRAM_STDVAR:
    case PROMQL_FN_START_TIMESTAMP:
        return 0; /* native histograms and start timestamps: none here */
    default:
        return pq_fail(c, PROMQL_ERR_EXECUTION, "function %s is not supported by llmtap",
                       cl->e->call.func->name);
    }
    return pq_vector_push(c, out, c->empty, v, ts, 0);
}

/* timestamp() of a selector: the samples' own times. */
static int copy_step(struct pq_ctx *c, void *ud, struct pq_vector *in, struct pq_vector *out,
                     int64_t ts)
{
    (void)ud;
    for (size_t i = 0; i < in[0].n; i++) {
        const pq_labels *m = pq_drop_name(c, in[0].s[i].m);
        if (!m)
            return pq_oom(c);
        int rc = pq_vector_push(c, out, m, in[0].s[i].v, ts, 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* --- label_replace, label_join (promql_label.c) --------------------------- */

static int eval_arg(void *ud, const struct promql_expr *e, struct pq_matrix *out)
{
    return eval_matrix(ud, e, out);
}

static int eval_label_fn(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    int rc = e->call.func->id == PROMQL_FN_LABEL_REPLACE
                 ? pq_label_replace(ev->c, e, eval_arg, ev, out)
                 : pq_label_join(ev->c, e, eval_arg, ev, out);
    return rc ? rc : merge_same_labels(ev->c, out);
}

/* --- functions of range vectors ------------------------------------------- */

/* Exact counters' resets of r (r->n < UINT32_MAX): *none when there are
 * none (the count comes from the source's facts when known); otherwise
 * their prefix count per sample, so that a window without one is O(1)
 * (NULL when out of memory: the window is then walked). */
static uint32_t *count_resets(struct pq_ctx *c, const struct raw *r, bool *none)
{
    size_t nres = r->nresets;
    if (nres == SIZE_MAX) { /* not known from the source */
        nres = 0;
        for (size_t j = 1; j < r->n; j++)
            nres += r->p[j].v < r->p[j - 1].v;
    }
    *none = nres == 0;
    uint32_t *resets = nres ? pq_alloc(&c->heap, r->n * sizeof *resets) : NULL;
    if (resets) {
        resets[0] = 0;
        for (size_t j = 1; j < r->n; j++)
            resets[j] = resets[j - 1] + (r->p[j].v < r->p[j - 1].v);
    }
    return resets;
}

/* The whole-range exact rate() or increase() of every series of w, split
 * over the query pool's threads: what eval_range_call's series loop does
 * for each, in three passes. First, in order, on this thread (the
 * evaluator's memory is one thread's): the output series, their room and
 * the reset counts. Then the walks, in parallel, each with the budget left
 * before any of them. Then, in order again, the sample limit as the loop
 * applies it (a walk whose peak exceeds what the loop would have left it
 * is walked again with that budget, to stop where the loop stops) and the
 * series without a value dropped. Result and errors are the loop's. */
struct rate_all {
    struct pq_rate_steps *a;
    struct pq_series *outs;
    size_t *slot; /* series -> its output in outs; SIZE_MAX: none */
    size_t *n;
    uint64_t *peak;
    bool *over;
};

static void rate_one(void *ud, unsigned w, size_t i)
{
    struct rate_all *ra = ud;
    (void)w;
    if (ra->slot[i] != SIZE_MAX)
        ra->n[i] =
            pq_fn_exact_rate_steps(&ra->a[i], ra->outs[ra->slot[i]].p, &ra->over[i], &ra->peak[i]);
}

static int exact_rate_all(struct ev *ev, const struct windows *w, bool rate, size_t nsteps,
                          struct pq_matrix *out, bool *done)
{
    struct pq_ctx *c = ev->c;
    size_t ns = w->rs.n;
    int64_t lb = c->o.lookback_ms;
    struct rate_all ra = {0};
    uint64_t budget = c->samples < c->o.max_samples ? c->o.max_samples - c->samples : 0;
    size_t reach = (size_t)(w->range / ev->st.interval) + 1;
    /* The outputs are reserved before any walk: when their room is more
     * than the sample limit leaves, the series loop (which reserves one
     * at a time and stops at the limit) does it instead, so that memory
     * stays within the limit's reach. */
    uint64_t rooms = 0;
    for (size_t i = 0; i < ns; i++)
        rooms += w->rs.r[i].n ? pq_rate_room(w->rs.r[i].n, nsteps, reach) : 0;
    *done = rooms <= budget;
    if (!*done)
        return 0;
    uint32_t **resets = pq_alloc(&c->heap, ns * sizeof *resets);
    ra.a = pq_alloc(&c->heap, ns * sizeof *ra.a);
    ra.slot = pq_alloc(&c->heap, ns * sizeof *ra.slot);
    ra.n = pq_alloc(&c->heap, ns * sizeof *ra.n);
    ra.peak = pq_alloc(&c->heap, ns * sizeof *ra.peak);
    ra.over = pq_alloc(&c->heap, ns * sizeof *ra.over);
    if (!resets || !ra.a || !ra.slot || !ra.n || !ra.peak || !ra.over)
        return pq_oom(c);
    int rc;
    for (size_t i = 0; i < ns; i++) {
        const struct raw *r = &w->rs.r[i];
        resets[i] = NULL;
        ra.slot[i] = SIZE_MAX;
        ra.n[i] = 0;
        if (!r->n)
            continue;
        bool no_resets = false;
        if (r->n < UINT32_MAX)
            resets[i] = count_resets(c, r, &no_resets);
        const pq_labels *m = pq_drop_name(c, r->m);
        if (!m)
            return pq_oom(c);
        if ((rc = pq_tick(c)))
            return rc;
        struct pq_series *s = pq_matrix_add(c, out, m);
        if (!s || pq_series_reserve(c, s, pq_rate_room(r->n, nsteps, reach)))
            return pq_oom(c);
        s->on_steps = true;
        ra.slot[i] = out->n - 1;
        ra.a[i] = (struct pq_rate_steps){
            .p = r->p,
            .n = r->n,
            .resets = resets[i],
            .no_resets = no_resets,
            .grid = r->grid,
            .start = ev->st.start,
            .interval = ev->st.interval,
            .nsteps = nsteps,
            .off = w->off,
            .range_ms = w->range,
            .lookback_ms = lb,
            .rate = rate,
            .budget = budget,
        };
    }
    ra.outs = out->s;
    if (qpool_for(c->o.pool, &(struct qpool_loop){ns, rate_one, NULL, NULL, &ra, c->deadline_ns}))
        return pq_timeout(c);
    uint64_t held = c->samples;
    for (size_t i = 0; i < ns; i++) {
        if (ra.slot[i] == SIZE_MAX)
            continue;
        uint64_t left = held < c->o.max_samples ? c->o.max_samples - held : 0;
        if (ra.peak[i] > left) { /* the loop stops here: walk as it would */
            bool over;
            ra.a[i].budget = left;
            size_t n = pq_fn_exact_rate_steps(&ra.a[i], out->s[ra.slot[i]].p, &over, NULL);
            c->samples = held + n;
            return pq_hold_slow(c, (int64_t)(c->o.max_samples - c->samples) + 1);
        }
        held += ra.n[i];
        out->s[ra.slot[i]].n = ra.n[i];
    }
    c->samples = held;
    size_t k = 0;
    for (size_t j = 0; j < out->n; j++) {
        if (out->s[j].n)
            out->s[k++] = out->s[j];
        else
            pq_free(&c->heap, out->s[j].p);
    }
    out->n = k;
    for (size_t i = 0; i < ns; i++)
        pq_free(&c->heap, resets[i]);
    pq_free(&c->heap, resets);
    pq_free(&c->heap, ra.a);
    pq_free(&c->heap, ra.slot);
    pq_free(&c->heap, ra.n);
    pq_free(&c->heap, ra.peak);
    pq_free(&c->heap, ra.over);
    return 0;
}

/* The whole-range exact rate() or increase() of w's series when the
 * source's readers walked some of them (pq_rate_visit; their samples are
 * gone): exact_rate_all's output in its order — the series sorted, each
 * output made as it makes it (labels, tick, room), the ones with no value
 * dropped — taking the readers' results and walking the others here, with
 * the sample limit applied in that order as exact_rate_all applies it.
 * Where a walk the readers made held more than the limit leaves (the
 * serial walk would stop inside it, which takes its samples), *redo is
 * set and nothing is kept: the caller reads the series again. */
static int visited_rate_all(struct ev *ev, const struct windows *w, struct pq_rate_visit *rv,
                            size_t nsteps, struct pq_matrix *out, bool *redo)
{
    struct pq_ctx *c = ev->c;
    uint64_t held = c->samples;
    int rc;
    for (size_t i = 0; i < w->rs.n; i++) {
        const struct raw *r = &w->rs.r[i];
        if (!r->n)
            continue;
        uint32_t *resets = NULL;
        bool no_resets = false;
        if (!r->visited && r->n < UINT32_MAX)
            resets = count_resets(c, r, &no_resets);
        const pq_labels *m = pq_drop_name(c, r->m);
        if (!m)
            return pq_oom(c);
        if ((rc = pq_tick(c)))
            return rc;
        struct pq_series *s = pq_matrix_add(c, out, m);
        if (!s)
            return pq_oom(c);
        s->on_steps = true;
        uint64_t left = held < c->o.max_samples ? c->o.max_samples - held : 0;
        bool over = false;
        if (r->visited) {
            if (rv->peak[r->slot] > left) {
                for (size_t j = 0; j < out->n; j++)
                    pq_free(&c->heap, out->s[j].p);
                pq_free(&c->heap, out->s);
                *out = (struct pq_matrix){0};
                *redo = true;
                return 0;
            }
            pq_heap_adopt(&c->heap, rv->out[r->slot]);
            s->p = rv->out[r->slot];
            s->cap = rv->room[r->slot];
            s->n = rv->nout[r->slot];
            rv->out[r->slot] = NULL;
        } else {
            if (pq_series_reserve(c, s, pq_rate_room(r->n, nsteps, rv->reach)))
                return pq_oom(c);
            struct pq_rate_steps a = rv->proto;
            a.p = r->p;
            a.n = r->n;
            a.resets = resets;
            a.no_resets = no_resets;
            a.grid = r->grid;
            a.budget = left;
            s->n = pq_fn_exact_rate_steps(&a, s->p, &over, NULL);
            pq_free(&c->heap, resets);
            if (over) { /* where the serial loop stops */
                c->samples = held + s->n;
                return pq_hold_slow(c, (int64_t)(c->o.max_samples - c->samples) + 1);
            }
        }
        held += s->n;
    }
    c->samples = held;
    size_t k = 0;
    for (size_t j = 0; j < out->n; j++) {
        if (out->s[j].n)
            out->s[k++] = out->s[j];
        else
            pq_free(&c->heap, out->s[j].p);
    }
    out->n = k;
    return 0;
}

static int eval_range_call(struct ev *ev, const struct promql_expr *e, size_t mi,
                           struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    enum promql_func_id id = e->call.func->id;
    size_t nargs = e->call.nargs;
    struct pq_matrix sc[PROMQL_FUNC_MAX_ARGS] = {{0}};
    size_t nsc = 0;
    int rc;
    for (size_t i = 0; i < nargs && nsc < PROMQL_FUNC_MAX_ARGS; i++)
        if (i != mi && (rc = eval_matrix(ev, e->call.args[i], &sc[nsc++])))
            return rc;
    bool exact = c->o.exact_counters && (id == PROMQL_FN_RATE || id == PROMQL_FN_INCREASE);
    int64_t lb = c->o.lookback_ms, extra = exact ? lb : 0;
    size_t nsteps = (size_t)((ev->st.end - ev->st.start) / ev->st.interval) + 1;
    const struct promql_expr *arg = unparen(e->call.args[mi]);
    /* exact rate/increase of a range selector without @: the source's
     * readers may walk each series as they read it (promql_rate.c) */
    struct pq_rate_visit rv = {0}, *rvp = NULL;
    if (exact && nsc == 0 && !c->o.general_only && arg->kind == PROMQL_MATRIX_SELECTOR &&
        arg->matrix.vs->vs.at == PROMQL_AT_NONE) {
        rv.proto = (struct pq_rate_steps){
            .start = ev->st.start,
            .interval = ev->st.interval,
            .nsteps = nsteps,
            .off = arg->matrix.vs->vs.offset_ms,
            .range_ms = arg->matrix.range_ms,
            .lookback_ms = lb,
            .rate = id == PROMQL_FN_RATE,
            .budget = UINT64_MAX,
        };
        rv.reach = (size_t)(arg->matrix.range_ms / ev->st.interval) + 1;
        rv.heap = &c->heap;
        rv.headroom = c->samples < c->o.max_samples ? c->o.max_samples - c->samples : 0;
        rvp = &rv;
    }
    struct windows w;
    rc = open_windows(ev, arg, e->call.func->name, extra, rvp, &w);
    if (rc == 0 && w.rs.redo) { /* series the readers walked must be merged: again, unwalked */
        pq_rate_visit_free(&rv);
        rvp = NULL;
        rc = open_windows(ev, arg, e->call.func->name, extra, NULL, &w);
    }
    if (rc) {
        pq_rate_visit_free(&rv);
        return rc;
    }
    bool absent = id == PROMQL_FN_ABSENT_OVER_TIME;
    bool keep_name = id == PROMQL_FN_LAST_OVER_TIME || id == PROMQL_FN_FIRST_OVER_TIME;
    uint8_t *found = NULL;
    if (absent && !(found = pq_alloc(&c->heap, nsteps)))
        return pq_oom(c);
    if (found)
        memset(found, 0, nsteps);
    *out = (struct pq_matrix){0};
    char err[256] = "";
    /* exact rate/increase of a selector or subquery: each series' steps
     * in one pass (pq_fn_exact_rate_steps) */
    bool whole = exact && nsc == 0 && !w.at && !c->o.general_only;
    size_t i0 = 0;
    bool walked = rv.ready, redo = false;
    if (walked) {
        rc = visited_rate_all(ev, &w, &rv, nsteps, out, &redo);
        pq_rate_visit_free(&rv);
        if (rc)
            return rc;
        i0 = w.rs.n;
    }
    if (redo) { /* at the sample limit: read again, with no walks by the readers */
        close_windows(c, &w);
        if ((rc = open_windows(ev, arg, e->call.func->name, extra, NULL, &w)))
            return rc;
        i0 = 0;
    }
    if ((!walked || redo) && whole && c->o.pool && w.rs.n > 1 && !keep_name) {
        bool done;
        if ((rc = exact_rate_all(ev, &w, id == PROMQL_FN_RATE, nsteps, out, &done)))
            return rc;
        i0 = done ? w.rs.n : 0;
    }
    for (size_t i = i0; i < w.rs.n; i++) {
        const struct raw *r = &w.rs.r[i];
        const pq_labels *m = keep_name ? r->m : pq_drop_name(c, r->m);
        if (!m)
            return pq_oom(c);
        struct pq_series *s = NULL;
        size_t lo = 0, hi = 0, k = 0;
        for (size_t j = 0; j < nsc; j++)
            pq_rewind(&sc[j]);
        /* exact counters: count resets once, so that each step's window
         * without one is O(1) instead of a walk */
        uint32_t *resets = NULL;
        bool no_resets = false;
        if (exact && r->n < UINT32_MAX)
            resets = count_resets(c, r, &no_resets);
        if (whole && r->n) {
            /* every step in one pass, into a series sized once */
            size_t reach = (size_t)(w.range / ev->st.interval) + 1;
            if ((rc = pq_tick(c)))
                return rc;
            if (!(s = pq_matrix_add(c, out, m)) ||
                pq_series_reserve(c, s, pq_rate_room(r->n, nsteps, reach)))
                return pq_oom(c);
            s->on_steps = true;
            struct pq_rate_steps a = {
                .p = r->p,
                .n = r->n,
                .resets = resets,
                .no_resets = no_resets,
                .grid = r->grid,
                .start = ev->st.start,
                .interval = ev->st.interval,
                .nsteps = nsteps,
                .off = w.off,
                .range_ms = w.range,
                .lookback_ms = lb,
                .rate = id == PROMQL_FN_RATE,
                .budget = c->samples < c->o.max_samples ? c->o.max_samples - c->samples : 0,
            };
            bool over;
            s->n = pq_fn_exact_rate_steps(&a, s->p, &over, NULL);
            c->samples += s->n;
            if (over)
                return pq_hold_slow(c, (int64_t)(c->o.max_samples - c->samples) + 1);
            if (!s->n) {
                pq_free(&c->heap, s->p);
                out->n--;
            }
            pq_free(&c->heap, resets);
            continue;
        }
        PQ_FOR_STEPS(&ev->st, ts)
        {
            size_t step = k++;
            if ((rc = pq_tick(c)))
                return rc;
            int64_t ref = (w.at ? w.t_at : ts) - w.off, from = ref - w.range;
            while (hi < r->n && r->p[hi].t <= ref)
                hi++;
            while (lo < hi && r->p[lo].t <= from)
                lo++;
            if (lo >= hi)
                continue;
            if (absent) {
                found[step] = 1;
                continue;
            }
            double args[PROMQL_FUNC_MAX_ARGS];
            bool missing = false;
            for (size_t j = 0; j < nsc; j++) {
                struct pq_series *a = sc[j].n ? &sc[j].s[0] : NULL;
                while (a && a->cur < a->n && a->p[a->cur].t < ts)
                    a->cur++;
                if (!a || a->cur >= a->n || a->p[a->cur].t != ts)
                    missing = true;
                else
                    args[j] = a->p[a->cur].v;
            }
            if (missing)
                continue;
            struct pq_window win = {
                .p = r->p + lo,
                .n = hi - lo,
                .start = from,
                .end = ref,
                .range_ms = w.range,
                .ts = ts,
                .exact = exact,
                .resets = resets ? resets + lo : NULL,
                .no_resets = no_resets,
            };
            if (exact && lo > 0 && r->p[lo - 1].t > from - lb)
                win.pre = &r->p[lo - 1];
            if ((rc = pq_hold(c, (int64_t)(hi - lo))))
                return rc;
            pq_hold(c, -(int64_t)(hi - lo));
            double v;
            int got = pq_fn_range(id, &win, args, &v, err, sizeof err);
            if (got < 0)
                return got == -2 ? pq_oom(c) : pq_fail(c, PROMQL_ERR_EXECUTION, "%s", err);
            if (got == 0)
                continue;
            if (!s) {
                /* room for every step left, or for what the samples left
                 * can reach (each is in the windows of at most range /
                 * interval + 1 steps) */
                size_t left = nsteps - step, reach = (size_t)(w.range / ev->st.interval) + 1;
                size_t room = r->n - lo < left / reach + 1 ? (r->n - lo) * reach : left;
                if (!(s = pq_matrix_add(c, out, m)) || pq_series_reserve(c, s, room))
                    return pq_oom(c);
            }
            if ((rc = pq_series_push(c, s, ts, v)))
                return rc;
        }
        pq_free(&c->heap, resets);
    }
    if (absent) {
        /* One series, 1 at the steps where no series had samples. */
        struct pq_series *s = NULL;
        size_t k = 0;
        PQ_FOR_STEPS(&ev->st, ts)
        {
            if (found[k++])
                continue;
            if (!s) {
                const pq_labels *m = w.selector ? absent_labels(c, w.selector) : c->empty;
                if (!m || !(s = pq_matrix_add(c, out, m)))
                    return pq_oom(c);
            }
            if ((rc = pq_series_push(c, s, ts, 1)))
                return rc;
        }
        pq_free(&c->heap, found);
    } else {
        /* Dropped names must not make two series the same. */
        struct pq_map seen = {0};
        bool oom = false;
        for (size_t i = 0; i < out->n; i++) {
            size_t *slot = pq_map_get(c, &seen, out->s[i].m, NULL, true, i, &oom);
            if (!slot)
                return pq_oom(c);
            if (*slot != i)
                return same_labelset(c);
        }
        pq_map_free(c, &seen);
    }
    close_windows(c, &w);
    for (size_t j = 0; j < nsc; j++)
        pq_matrix_free(c, &sc[j]);
    return 0;
}

static int eval_call(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    enum promql_func_id id = e->call.func->id;
    size_t nargs = e->call.nargs;
    int rc;
    if (id == PROMQL_FN_TIMESTAMP && unparen(e->call.args[0])->kind == PROMQL_VECTOR_SELECTOR) {
        struct pq_matrix m;
        if ((rc = eval_vector_selector(ev, unparen(e->call.args[0]), true, "timestamp", &m)))
            return rc;
        return pq_range_eval(ev->c, &ev->st, &m, 1, copy_step, NULL, out);
    }
    for (size_t i = 0; i < nargs; i++) {
        enum promql_kind k = unparen(e->call.args[i])->kind;
        if (k == PROMQL_MATRIX_SELECTOR || k == PROMQL_SUBQUERY)
            return eval_range_call(ev, e, i, out);
    }
    switch (id) {
    case PROMQL_FN_LABEL_REPLACE:
    case PROMQL_FN_LABEL_JOIN: return eval_label_fn(ev, e, out);
    case PROMQL_FN_INFO:
        return pq_fail(c, PROMQL_ERR_EXECUTION, "function %s is not supported by llmtap",
                       e->call.func->name);
    default: break;
    }
    struct call cl = {.e = e, .id = id};
    struct pq_matrix small[16] = {{0}}, *ops = small;
    size_t nops = 0;
    if (nargs > 16 && !(ops = pq_alloc(&c->heap, nargs * sizeof *ops)))
        return pq_oom(c);
    for (size_t i = 0; i < nargs; i++) {
        if (promql_expr_type(e->call.args[i]) == PROMQL_TYPE_STRING)
            continue;
        if ((rc = eval_matrix(ev, e->call.args[i], &ops[nops++])))
            return rc;
    }
    if (id == PROMQL_FN_ABSENT && !(cl.absent = absent_labels(c, e->call.args[0])))
        return pq_oom(c);
    if ((id == PROMQL_FN_HISTOGRAM_QUANTILE || id == PROMQL_FN_HISTOGRAM_FRACTION) &&
        (rc = pq_hist_prepare(c, &cl.h, &ops[nops - 1])))
        return rc;
    if (id == PROMQL_FN_HISTOGRAM_QUANTILES && (rc = pq_hist_prepare(c, &cl.h, &ops[0])))
        return rc;
    /* histogram_quantile over a range: each group's buckets walked step by
     * step (pq_hist_quantile_range), unless that declines */
    rc = 1;
    if (id == PROMQL_FN_HISTOGRAM_QUANTILE && nops == 2 && !pq_instant(&ev->st) &&
        !c->o.general_only)
        rc = pq_hist_quantile_range(c, &cl.h, &ev->st, ops, out);
    if (rc == 1)
        rc = pq_range_eval(c, &ev->st, ops, nops, call_step, &cl, out);
    if (rc)
        return rc;
    pq_hist_free(c, &cl.h);
    if (ops != small)
        pq_free(&c->heap, ops);
    return 0;
}

/* --- aggregations, unary minus, literals ----------------------------------- */

static int eval_aggregate(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    struct pq_matrix param = {0}, in = {0};
    int rc;
    if (e->agg.param && promql_expr_type(e->agg.param) != PROMQL_TYPE_STRING &&
        (rc = eval_matrix(ev, e->agg.param, &param)))
        return rc;
    if ((rc = eval_matrix(ev, e->agg.expr, &in)))
        return rc;
    *out = (struct pq_matrix){0};
    if ((rc = pq_aggregate(c, &ev->st, e, &in, e->agg.param ? &param : NULL, out)))
        return rc;
    pq_matrix_free(c, &in);
    pq_matrix_free(c, &param);
    return 0;
}

static int eval_unary(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    int rc = eval_matrix(ev, e->unary.expr, out);
    if (rc || e->unary.op != '-')
        return rc;
    for (size_t i = 0; i < out->n; i++) {
        if (!(out->s[i].m = pq_drop_name(ev->c, out->s[i].m)))
            return pq_oom(ev->c);
        for (size_t j = 0; j < out->s[i].n; j++)
            out->s[i].p[j].v = -out->s[i].p[j].v;
    }
    return merge_same_labels(ev->c, out);
}

static int eval_number(struct ev *ev, double v, struct pq_matrix *out)
{
    *out = (struct pq_matrix){0};
    struct pq_series *s = pq_matrix_add(ev->c, out, ev->c->empty);
    if (!s)
        return pq_oom(ev->c);
    PQ_FOR_STEPS(&ev->st, ts)
    {
        int rc = pq_series_push(ev->c, s, ts, v);
        if (rc)
            return rc;
    }
    return 0;
}

/* A range selector as the query's value (instant queries only). */
static int eval_matrix_value(struct ev *ev, const struct promql_expr *e, struct pq_matrix *out)
{
    struct pq_ctx *c = ev->c;
    *out = (struct pq_matrix){0};
    if (!pq_instant(&ev->st))
        return pq_fail(c, PROMQL_ERR_EXECUTION, "cannot do range evaluation of matrix selector");
    struct windows w;
    int rc = open_windows(ev, e, NULL, 0, NULL, &w);
    if (rc)
        return rc;
    int64_t ref = (w.at ? w.t_at : ev->st.start) - w.off, from = ref - w.range;
    for (size_t i = 0; i < w.rs.n; i++) {
        const struct raw *r = &w.rs.r[i];
        struct pq_series *s = NULL;
        for (size_t j = 0; j < r->n; j++) {
            if (r->p[j].t <= from || r->p[j].t > ref)
                continue;
            if (!s && !(s = pq_matrix_add(c, out, r->m)))
                return pq_oom(c);
            if ((rc = pq_series_push(c, s, r->p[j].t, r->p[j].v)))
                return rc;
        }
    }
    close_windows(c, &w);
    return 0;
}

static int eval(struct ev *ev, const struct promql_expr *e, struct val *out)
{
    int rc = pq_tick(ev->c);
    *out = (struct val){0};
    if (rc)
        return rc;
    if (ev->st.end < ev->st.start)
        return 0;
    switch (e->kind) {
    case PROMQL_NUMBER: return eval_number(ev, e->number.value, &out->m);
    case PROMQL_STRING:
        out->is_string = true;
        out->str = e->string;
        return 0;
    case PROMQL_PAREN: return eval(ev, e->paren.expr, out);
    case PROMQL_UNARY: return eval_unary(ev, e, &out->m);
    case PROMQL_VECTOR_SELECTOR: return eval_vector_selector(ev, e, false, NULL, &out->m);
    case PROMQL_MATRIX_SELECTOR: return eval_matrix_value(ev, e, &out->m);
    case PROMQL_SUBQUERY: return subquery_inner(ev, e, 0, &out->m);
    case PROMQL_CALL: return eval_call(ev, e, &out->m);
    case PROMQL_AGGREGATE: return eval_aggregate(ev, e, &out->m);
    case PROMQL_BINARY: return eval_binary(ev, e, &out->m);
    }
    return pq_fail(ev->c, PROMQL_ERR_INTERNAL, "unhandled expression");
}

/* --- the API ---------------------------------------------------------------- */

void promql_eval_opts_init(struct promql_eval_opts *o)
{
    *o = (struct promql_eval_opts){
        .lookback_ms = 300000,
        .default_step_ms = 60000,
        .timeout_ms = 120000,
        .max_samples = 50000000,
        .max_points_per_series = 11000,
        .exact_counters = true,
    };
}

const char *promql_errtype_name(enum promql_errtype t)
{
    switch (t) {
    case PROMQL_ERR_NONE: return "";
    case PROMQL_ERR_BAD_DATA: return "bad_data";
    case PROMQL_ERR_EXECUTION:
    case PROMQL_ERR_TOO_MANY_SAMPLES: return "execution";
    case PROMQL_ERR_TIMEOUT: return "timeout";
    case PROMQL_ERR_CANCELED: return "canceled";
    case PROMQL_ERR_INTERNAL: return "internal";
    }
    return "internal";
}

int promql_errtype_http_status(enum promql_errtype t)
{
    switch (t) {
    case PROMQL_ERR_NONE: return 200;
    case PROMQL_ERR_BAD_DATA: return 400;
    case PROMQL_ERR_EXECUTION:
    case PROMQL_ERR_TOO_MANY_SAMPLES: return 422;
    case PROMQL_ERR_TIMEOUT: return 503;
    case PROMQL_ERR_CANCELED: return 499;
    case PROMQL_ERR_INTERNAL: return 500;
    }
    return 500;
}

static void ctx_free(struct pq_ctx *c)
{
    pq_heap_clear(&c->heap);
    arena_destroy(c->arena);
    c->arena = NULL;
}

static int run(const struct promql_ast *q, int64_t start, int64_t end, int64_t step, bool range,
               const struct promql_source *src, const struct promql_eval_opts *opts,
               struct promql_result **out, struct promql_eval_error *err)
{
    struct promql_eval_error dummy;
    if (!err)
        err = &dummy;
    *err = (struct promql_eval_error){0};
    if (out)
        *out = NULL;
    if (!q || !src || !src->select || !out || !promql_ast_root(q)) {
        err->type = PROMQL_ERR_INTERNAL;
        snprintf(err->msg, sizeof err->msg, "invalid argument");
        return PROMQL_EINVAL;
    }
    struct pq_ctx c = {.src = src, .err = err, .qstart = start, .qend = end};
    promql_eval_opts_init(&c.o);
    if (opts) {
        c.o = *opts;
        struct promql_eval_opts d;
        promql_eval_opts_init(&d);
        if (c.o.lookback_ms <= 0)
            c.o.lookback_ms = d.lookback_ms;
        if (c.o.default_step_ms <= 0)
            c.o.default_step_ms = d.default_step_ms;
        if (!c.o.max_samples)
            c.o.max_samples = d.max_samples;
        if (!c.o.max_points_per_series)
            c.o.max_points_per_series = d.max_points_per_series;
    }
    const struct promql_expr *root = promql_ast_root(q);
    enum promql_type type = promql_expr_type(root);
    if (range) {
        if (end < start)
            return pq_fail(&c, PROMQL_ERR_BAD_DATA,
                           "invalid parameter \"end\": end timestamp must not be before start "
                           "time");
        if (step <= 0)
            return pq_fail(&c, PROMQL_ERR_BAD_DATA,
                           "invalid parameter \"step\": zero or negative query resolution step "
                           "widths are not accepted. Try a positive integer");
        if ((uint64_t)(end - start) / (uint64_t)step > c.o.max_points_per_series) {
            char num[32];
            size_t m = c.o.max_points_per_series, k = 0;
            char digits[24];
            int nd = snprintf(digits, sizeof digits, "%zu", m);
            for (int i = 0; i < nd; i++) {
                if (i && (nd - i) % 3 == 0)
                    num[k++] = ',';
                num[k++] = digits[i];
            }
            num[k] = 0;
            return pq_fail(&c, PROMQL_ERR_BAD_DATA,
                           "exceeded maximum resolution of %s points per timeseries. Try "
                           "decreasing the query resolution (?step=XX)",
                           num);
        }
        if (type != PROMQL_TYPE_VECTOR && type != PROMQL_TYPE_SCALAR)
            return pq_fail(&c, PROMQL_ERR_BAD_DATA,
                           "invalid parameter \"query\": invalid expression type \"%s\" for range "
                           "query, must be Scalar or instant Vector",
                           promql_type_doc_name(type));
        c.qstep = step;
    }
    if (c.o.timeout_ms > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        c.deadline_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + c.o.timeout_ms * 1000000;
    }
    int rc;
    if (!(c.arena = arena_create(64 * 1024)) || !(c.empty = pq_intern(&c, NULL, 0))) {
        rc = pq_oom(&c);
        goto fail;
    }
    struct ev ev = {&c, {start, range ? end : start, range ? step : 1}};
    struct val v;
    if ((rc = eval(&ev, root, &v)))
        goto fail;
    struct promql_result *r;
    if (v.is_string) {
        struct pq_matrix none = {0};
        char *s = pq_arena_alloc(&c, v.str.len + 1);
        if (!s || !(r = pq_result_new(&c, PROMQL_TYPE_STRING, &none))) {
            rc = pq_oom(&c);
            goto fail;
        }
        memcpy(s, v.str.p, v.str.len);
        s[v.str.len] = 0;
        r->string = (struct promql_str){s, v.str.len};
        r->string_t = start;
    } else if (!range && type == PROMQL_TYPE_SCALAR) {
        double x = v.m.n && v.m.s[0].n ? v.m.s[0].p[0].v : NAN;
        pq_matrix_free(&c, &v.m);
        if (!(r = pq_result_new(&c, PROMQL_TYPE_SCALAR, &v.m))) {
            rc = pq_oom(&c);
            goto fail;
        }
        r->scalar = (struct promql_sample){start, x};
    } else {
        enum promql_type rt = range ? PROMQL_TYPE_MATRIX : type;
        if (rt == PROMQL_TYPE_MATRIX)
            pq_matrix_sort(&v.m);
        if (!(r = pq_result_new(&c, rt, &v.m))) {
            rc = pq_oom(&c);
            goto fail;
        }
    }
    ctx_free(&c);
    *out = r;
    return PROMQL_OK;
fail:
    ctx_free(&c);
    if (rc != PROMQL_ENOMEM && rc != PROMQL_EEVAL)
        rc = PROMQL_EEVAL;
    return rc;
}

int promql_eval_instant(const struct promql_ast *q, int64_t t_ms, const struct promql_source *src,
                        const struct promql_eval_opts *opts, struct promql_result **out,
                        struct promql_eval_error *err)
{
    return run(q, t_ms, t_ms, 0, false, src, opts, out, err);
}

int promql_eval_range(const struct promql_ast *q, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                      const struct promql_source *src, const struct promql_eval_opts *opts,
                      struct promql_result **out, struct promql_eval_error *err)
{
    return run(q, start_ms, end_ms, step_ms, true, src, opts, out, err);
}
