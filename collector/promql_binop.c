/*
 * promql_binop.c — PromQL's binary operators: arithmetic, comparisons
 * (filtering or with bool), and the set operators and/or/unless, between
 * scalars and instant vectors, with on/ignoring matching and
 * group_left/group_right.
 *
 * DESIGN
 * - As Prometheus's VectorBinop: each side's series get the ordinal of
 *   their matching signature once (the label set projected by on(...), or
 *   without ignoring(...) and __name__); each step then pairs samples by
 *   ordinal through arrays stamped with a per-step generation number, so
 *   nothing is cleared or hashed per sample.
 * - One-to-many matching swaps the sides and swaps the operands back for
 *   the arithmetic; result labels (drop __name__ for arithmetic and bool,
 *   keep/remove the matching labels for one-to-one, copy group_x labels
 *   from the "one" side) are cached per pair of input label sets.
 * - Errors read as Prometheus's: duplicate series on the "one" side,
 *   many-to-one matches without group_left/right, non-unique results.
 */
#include "promql_binop.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

static bool changes_schema(enum promql_binop op)
{
    return op <= PROMQL_OP_ATAN2; /* + - * / % ^ atan2 */
}

static double scalar_binop(enum promql_binop op, double l, double r)
{
    switch (op) {
    case PROMQL_OP_ADD: return l + r;
    case PROMQL_OP_SUB: return l - r;
    case PROMQL_OP_MUL: return l * r;
    case PROMQL_OP_DIV: return l / r;
    case PROMQL_OP_POW: return pow(l, r);
    case PROMQL_OP_MOD: return fmod(l, r);
    case PROMQL_OP_ATAN2: return atan2(l, r);
    case PROMQL_OP_EQLC: return l == r;
    case PROMQL_OP_NEQ: return l != r;
    case PROMQL_OP_GTR: return l > r;
    case PROMQL_OP_LSS: return l < r;
    case PROMQL_OP_GTE: return l >= r;
    case PROMQL_OP_LTE: return l <= r;
    default: return NAN;
    }
}

/* Between two floats: the value and whether to keep it (comparisons keep
 * the left value when true; trim operators never apply to floats). */
static double elem_binop(enum promql_binop op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case PROMQL_OP_EQLC: *keep = l == r; return l;
    case PROMQL_OP_NEQ: *keep = l != r; return l;
    case PROMQL_OP_GTR: *keep = l > r; return l;
    case PROMQL_OP_LSS: *keep = l < r; return l;
    case PROMQL_OP_GTE: *keep = l >= r; return l;
    case PROMQL_OP_LTE: *keep = l <= r; return l;
    case PROMQL_OP_TRIM_UPPER:
    case PROMQL_OP_TRIM_LOWER: *keep = false; return 0;
    default: return scalar_binop(op, l, r);
    }
}

struct binop {
    const struct promql_expr *e;
    enum promql_binop op;
    bool swap; /* scalar on the left of a vector */
    /* vector matching */
    const struct promql_matching *mt;
    size_t *sig[2]; /* per series of each side: its signature ordinal */
    size_t nsig;
    /* per signature, per step: a generation stamp and the rhs sample */
    uint64_t *stamp, *matched, gen;
    size_t *right;
    struct pq_map result;   /* (lhs, rhs) labels -> result labels */
    struct pq_map inserted; /* many-to-one: (result labels, ordinal) -> gen */
};

static int scalar_scalar_step(struct pq_ctx *c, void *ud, struct pq_vector *in,
                              struct pq_vector *out, int64_t ts)
{
    struct binop *b = ud;
    if (!in[0].n || !in[1].n)
        return 0;
    double v = scalar_binop(b->op, in[0].s[0].v, in[1].s[0].v);
    return pq_vector_push(c, out, c->empty, v, ts, 0);
}

static int vector_scalar_step(struct pq_ctx *c, void *ud, struct pq_vector *in,
                              struct pq_vector *out, int64_t ts)
{
    struct binop *b = ud;
    struct pq_vector *vec = &in[b->swap ? 1 : 0], *sc = &in[b->swap ? 0 : 1];
    if (!sc->n)
        return 0;
    double s = sc->s[0].v;
    bool cmp = promql_binop_is_comparison(b->op), rb = b->e->binary.return_bool;
    for (size_t i = 0; i < vec->n; i++) {
        double l = vec->s[i].v, r = s;
        if (b->swap) {
            l = s;
            r = vec->s[i].v;
        }
        bool keep;
        double v = elem_binop(b->op, l, r, &keep);
        if (cmp && b->swap)
            v = r;
        if (rb) {
            v = keep ? 1 : 0;
            keep = true;
        }
        if (!keep)
            continue;
        const pq_labels *m = vec->s[i].m;
        if ((changes_schema(b->op) || rb) && !(m = pq_drop_name(c, m)))
            return pq_oom(c);
        int rc = pq_vector_push(c, out, m, v, ts, 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* The labels of a vector-vector result (Prometheus's resultMetric). */
static const pq_labels *result_metric(struct pq_ctx *c, struct binop *b, const pq_labels *l,
                                      const pq_labels *r)
{
    bool oom = false;
    size_t *slot = pq_map_get(c, &b->result, l, r, false, 0, &oom);
    if (slot)
        return (const pq_labels *)(uintptr_t)*slot;
    const pq_labels *m = l;
    const struct promql_matching *mt = b->mt;
    if (m && (b->e->binary.return_bool || changes_schema(b->op)))
        m = pq_drop_name(c, m);
    if (m && mt->card == PROMQL_CARD_ONE_TO_ONE)
        m = pq_project(c, m, mt->labels, mt->nlabels, mt->on, false);
    for (size_t i = 0; m && i < mt->ninclude; i++) {
        size_t vl;
        const char *v = pq_get(r, mt->include[i].p, mt->include[i].len, &vl);
        m = pq_set(c, m, mt->include[i].p, mt->include[i].len, v ? v : "", vl);
    }
    if (!m || !(slot = pq_map_get(c, &b->result, l, r, true, (uintptr_t)m, &oom)))
        return NULL;
    return m;
}

static int duplicate_error(struct pq_ctx *c, struct binop *b, const pq_labels *x,
                           const pq_labels *y)
{
    const struct promql_matching *mt = b->mt;
    const pq_labels *ml = mt->on ? pq_project(c, x, mt->labels, mt->nlabels, true, false)
                                 : pq_project(c, x, mt->labels, mt->nlabels, false, true);
    if (!ml)
        return pq_oom(c);
    struct buf s1 = {0}, s2 = {0}, g = {0};
    pq_labels_str(&s1, x);
    pq_labels_str(&s2, y);
    pq_labels_str(&g, ml);
    const char *a = s1.p ? s1.p : "", *bb = s2.p ? s2.p : "";
    if (strcmp(a, bb) > 0) {
        const char *t = a;
        a = bb;
        bb = t;
    }
    int rc = pq_fail(c, PROMQL_ERR_EXECUTION,
                     "found duplicate series for the match group %s on the %s hand-side of the "
                     "operation: [%s, %s];many-to-many matching not allowed: matching labels must "
                     "be unique on one side",
                     g.p ? g.p : "", mt->card == PROMQL_CARD_ONE_TO_MANY ? "left" : "right", a, bb);
    buf_free(&s1);
    buf_free(&s2);
    buf_free(&g);
    return rc;
}

static int vector_vector_step(struct pq_ctx *c, void *ud, struct pq_vector *in,
                              struct pq_vector *out, int64_t ts)
{
    struct binop *b = ud;
    const struct promql_matching *mt = b->mt;
    struct pq_vector *lhs = &in[0], *rhs = &in[1];
    size_t *lsig = b->sig[0], *rsig = b->sig[1];
    uint64_t gen = ++b->gen;
    int rc;
    switch (b->op) {
    case PROMQL_OP_AND:
    case PROMQL_OP_UNLESS: {
        bool and = b->op == PROMQL_OP_AND;
        if (lhs->n == 0 || rhs->n == 0) {
            if (and)
                return 0;
            for (size_t i = 0; i < lhs->n; i++)
                if ((rc = pq_vector_push(c, out, lhs->s[i].m, lhs->s[i].v, ts, 0)))
                    return rc;
            return 0;
        }
        for (size_t j = 0; j < rhs->n; j++)
            b->stamp[rsig[rhs->s[j].idx]] = gen;
        for (size_t i = 0; i < lhs->n; i++)
            if ((b->stamp[lsig[lhs->s[i].idx]] == gen) ==
                and&&(rc = pq_vector_push(c, out, lhs->s[i].m, lhs->s[i].v, ts, 0)))
                return rc;
        return 0;
    }
    case PROMQL_OP_OR:
        for (size_t i = 0; i < lhs->n; i++) {
            b->stamp[lsig[lhs->s[i].idx]] = gen;
            if ((rc = pq_vector_push(c, out, lhs->s[i].m, lhs->s[i].v, ts, 0)))
                return rc;
        }
        for (size_t j = 0; j < rhs->n; j++)
            if (b->stamp[rsig[rhs->s[j].idx]] != gen &&
                (rc = pq_vector_push(c, out, rhs->s[j].m, rhs->s[j].v, ts, 0)))
                return rc;
        return 0;
    default: break;
    }
    if (lhs->n == 0 || rhs->n == 0)
        return 0;
    bool swapped = mt->card == PROMQL_CARD_ONE_TO_MANY;
    if (swapped) {
        struct pq_vector *t = lhs;
        lhs = rhs;
        rhs = t;
        size_t *ts2 = lsig;
        lsig = rsig;
        rsig = ts2;
    }
    for (size_t j = 0; j < rhs->n; j++) {
        size_t o = rsig[rhs->s[j].idx];
        if (b->stamp[o] == gen)
            return duplicate_error(c, b, rhs->s[j].m, rhs->s[b->right[o]].m);
        b->stamp[o] = gen;
        b->right[o] = j;
    }
    bool rb = b->e->binary.return_bool;
    for (size_t i = 0; i < lhs->n; i++) {
        size_t o = lsig[lhs->s[i].idx];
        if (b->stamp[o] != gen)
            continue;
        const struct pq_sample *ls = &lhs->s[i], *rs = &rhs->s[b->right[o]];
        double fl = ls->v, fr = rs->v;
        if (swapped) {
            fl = rs->v;
            fr = ls->v;
        }
        bool keep;
        double v = elem_binop(b->op, fl, fr, &keep);
        if (rb)
            v = keep ? 1 : 0;
        const pq_labels *m = result_metric(c, b, ls->m, rs->m);
        if (!m)
            return pq_oom(c);
        if (mt->card == PROMQL_CARD_ONE_TO_ONE) {
            if (b->matched[o] == gen)
                return pq_fail(c, PROMQL_ERR_EXECUTION,
                               "multiple matches for labels: many-to-one matching must be "
                               "explicit (group_left/group_right)");
            b->matched[o] = gen;
        } else {
            bool oom = false;
            size_t *slot =
                pq_map_get(c, &b->inserted, m, (const void *)(uintptr_t)(o + 1), true, 0, &oom);
            if (!slot)
                return pq_oom(c);
            if (*slot == gen)
                return pq_fail(c, PROMQL_ERR_EXECUTION,
                               "multiple matches for labels: grouping labels must ensure unique "
                               "matches");
            *slot = gen;
        }
        if (!keep && !rb)
            continue;
        if ((rc = pq_vector_push(c, out, m, v, ts, 0)))
            return rc;
    }
    return 0;
}

/* Signature ordinals of both sides' series under the matching. */
static int signatures(struct pq_ctx *c, struct binop *b, struct pq_matrix *ops)
{
    const struct promql_matching *mt = b->mt;
    struct pq_map map = {0};
    bool oom = false;
    for (int k = 0; k < 2; k++) {
        if (!(b->sig[k] = pq_alloc(&c->heap, (ops[k].n + 1) * sizeof(size_t))))
            return pq_oom(c);
        for (size_t i = 0; i < ops[k].n; i++) {
            const pq_labels *m = ops[k].s[i].m;
            const pq_labels *sg = mt->on ? pq_project(c, m, mt->labels, mt->nlabels, true, false)
                                         : pq_project(c, m, mt->labels, mt->nlabels, false, true);
            size_t *slot = sg ? pq_map_get(c, &map, sg, NULL, true, b->nsig, &oom) : NULL;
            if (!slot)
                return pq_oom(c);
            if (*slot == b->nsig)
                b->nsig++;
            b->sig[k][i] = *slot;
        }
    }
    pq_map_free(c, &map);
    size_t n = b->nsig ? b->nsig : 1;
    b->stamp = pq_alloc(&c->heap, n * sizeof *b->stamp);
    b->matched = pq_alloc(&c->heap, n * sizeof *b->matched);
    b->right = pq_alloc(&c->heap, n * sizeof *b->right);
    if (!b->stamp || !b->matched || !b->right)
        return pq_oom(c);
    memset(b->stamp, 0, n * sizeof *b->stamp);
    memset(b->matched, 0, n * sizeof *b->matched);
    return 0;
}

int pq_binop(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
             struct pq_matrix ops[2], struct pq_matrix *out)
{
    struct binop b = {.e = e, .op = e->binary.op, .mt = e->binary.matching};
    int rc;
    enum promql_type lt = promql_expr_type(e->binary.lhs), rt = promql_expr_type(e->binary.rhs);
    pq_step_fn fn;
    if (lt == PROMQL_TYPE_SCALAR && rt == PROMQL_TYPE_SCALAR) {
        if (b.op == PROMQL_OP_TRIM_UPPER || b.op == PROMQL_OP_TRIM_LOWER ||
            promql_binop_is_set(b.op))
            return pq_fail(c, PROMQL_ERR_EXECUTION,
                           "operator \"%s\" not allowed for Scalar operations",
                           promql_binop_name(b.op));
        fn = scalar_scalar_step;
    } else if (lt == PROMQL_TYPE_VECTOR && rt == PROMQL_TYPE_VECTOR) {
        if (!b.mt)
            return pq_fail(c, PROMQL_ERR_INTERNAL, "vector matching missing");
        if ((rc = signatures(c, &b, ops)))
            return rc;
        fn = vector_vector_step;
    } else {
        b.swap = lt == PROMQL_TYPE_SCALAR;
        fn = vector_scalar_step;
    }
    if ((rc = pq_range_eval(c, st, ops, 2, fn, &b, out)))
        return rc;
    pq_map_free(c, &b.result);
    pq_map_free(c, &b.inserted);
    pq_free(&c->heap, b.sig[0]);
    pq_free(&c->heap, b.sig[1]);
    pq_free(&c->heap, b.stamp);
    pq_free(&c->heap, b.matched);
    pq_free(&c->heap, b.right);
    return 0;
}
