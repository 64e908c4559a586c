/*
 * promql_check.c — the PromQL parser's static type checker (Prometheus's
 * checkAST, same order of errors). See promql_check.h for the design.
 */
#include "promql_check.h"

#include <stdlib.h>
#include <string.h>

#include "promql_parse_int.h"

static enum promql_type check(struct parser *p, struct promql_expr *e);

static void expect_type(struct parser *p, struct promql_expr *e, enum promql_type want,
                        const char *ctx)
{
    enum promql_type t = check(p, e);
    if (!p->rc && t != want)
        pp_fail(p, e->pos, "expected type %s in %s, got %s", promql_type_doc_name(want), ctx,
                promql_type_doc_name(t));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void check_binary(struct parser *p, struct promql_expr *e)
{
    struct promql_expr *l = e->binary.lhs, *r = e->binary.rhs;
    struct promql_matching *m = e->binary.matching;
    enum promql_binop op = e->binary.op;
    enum promql_type lt = check(p, l);
    enum promql_type rt = check(p, r);
    if (p->rc)
        return;
    size_t op_pos = l->end; /* the operator: first non-space after the LHS */
    while (op_pos < p->len && is_space(p->in[op_pos]))
        op_pos++;
    bool cmp = promql_binop_is_comparison(op), set = promql_binop_is_set(op);
    if (e->binary.return_bool && !cmp) {
        pp_fail(p, op_pos, "bool modifier can only be used on comparison operators");
        return;
    }
    if (cmp && !e->binary.return_bool && lt == PROMQL_TYPE_SCALAR && rt == PROMQL_TYPE_SCALAR) {
        pp_fail(p, op_pos, "comparisons between scalars must use BOOL modifier");
        return;
    }
    if (set && m->card == PROMQL_CARD_ONE_TO_ONE)
        m->card = PROMQL_CARD_MANY_TO_MANY;
    if (m->on)
        for (size_t i = 0; i < m->nlabels; i++)
            for (size_t j = 0; j < m->ninclude; j++)
                if (m->labels[i].len == m->include[j].len &&
                    memcmp(m->labels[i].p, m->include[j].p, m->labels[i].len) == 0) {
                    pp_fail_quoted(p, op_pos,
                                   "label %s must not occur in ON and GROUP clause at once",
                                   m->labels[i].p, m->labels[i].len);
                    return;
                }
    if (lt != PROMQL_TYPE_SCALAR && lt != PROMQL_TYPE_VECTOR) {
        pp_fail(p, l->pos, "binary expression must contain only scalar and instant vector types");
        return;
    }
    if (rt != PROMQL_TYPE_SCALAR && rt != PROMQL_TYPE_VECTOR) {
        pp_fail(p, r->pos, "binary expression must contain only scalar and instant vector types");
        return;
    }
    if (lt != PROMQL_TYPE_VECTOR || rt != PROMQL_TYPE_VECTOR) {
        if (m->nlabels > 0) {
            pp_fail(p, e->pos, "vector matching only allowed between instant vectors");
            return;
        }
        e->binary.matching = NULL;
    } else if (set) {
        if (m->card == PROMQL_CARD_ONE_TO_MANY || m->card == PROMQL_CARD_MANY_TO_ONE) {
            pp_fail(p, e->pos, "no grouping allowed for \"%s\" operation", promql_binop_name(op));
            return;
        }
        if (m->card != PROMQL_CARD_MANY_TO_MANY) {
            pp_fail(p, e->pos, "set operations must always be many-to-many");
            return;
        }
    }
    if ((lt == PROMQL_TYPE_SCALAR || rt == PROMQL_TYPE_SCALAR) && set)
        pp_fail(p, e->pos, "set operator \"%s\" not allowed in binary scalar expression",
                promql_binop_name(op));
}

NOINLINE static void check_call(struct parser *p, struct promql_expr *e)
{
    const struct promql_func *f = e->call.func;
    size_t n = e->call.nargs;
    if (f->variadic == 0) {
        if ((size_t)f->nargs != n) {
            pp_fail(p, e->pos, "expected %d argument(s) in call to \"%s\", got %zu", f->nargs,
                    f->name, n);
            return;
        }
    } else {
        size_t na = (size_t)f->nargs - 1;
        if (na > n) {
            pp_fail(p, e->pos, "expected at least %zu argument(s) in call to \"%s\", got %zu", na,
                    f->name, n);
            return;
        }
        if (f->variadic > 0 && na + (size_t)f->variadic < n) {
            pp_fail(p, e->pos, "expected at most %zu argument(s) in call to \"%s\", got %zu",
                    na + (size_t)f->variadic, f->name, n);
            return;
        }
    }
    if (f->id == PROMQL_FN_INFO && n > 1) {
        /* info(v, {labels}): the second argument selects info series by
         * labels only, and may match everything */
        struct promql_expr *a = e->call.args[1];
        enum promql_type t = promql_expr_type(a);
        if (t != PROMQL_TYPE_VECTOR) {
            pp_fail(p, e->pos, "expected type instant vector in call to function \"info\", got %s",
                    promql_type_doc_name(t));
            return;
        }
        if (a->kind != PROMQL_VECTOR_SELECTOR) {
            pp_fail(p, a->pos, "expected label selectors only");
            return;
        }
        if (a->vs.name.len) {
            pp_fail(p, a->pos, "expected label selectors only, got vector selector instead");
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = i;
        if (f->id == PROMQL_FN_INFO && i == 1)
            continue; /* checked above; exempt from the non-empty matcher rule */
        if (i >= (size_t)f->nargs) {
            if (f->variadic == 0)
                break;
            k = (size_t)f->nargs - 1;
        }
        struct promql_expr *a = e->call.args[i];
        enum promql_type t = check(p, a);
        if (p->rc)
            return;
        if (t != f->arg_types[k]) {
            pp_fail(p, a->pos, "expected type %s in call to function \"%s\", got %s",
                    promql_type_doc_name(f->arg_types[k]), f->name, promql_type_doc_name(t));
            return;
        }
    }
}

NOINLINE static void check_selector(struct parser *p, struct promql_expr *e)
{
    const struct promql_vector_selector *vs = &e->vs;
    if (vs->name.len) {
        /* the last matcher is the name's own */
        for (size_t i = 0; i + 1 < vs->nmatchers; i++) {
            const struct promql_matcher *m = &vs->matchers[i];
            if (m->name.len == 8 && memcmp(m->name.p, "__name__", 8) == 0) {
                char *a = pp_quoted(vs->name.p, vs->name.len),
                     *b = pp_quoted(m->value.p, m->value.len);
                if (a && b)
                    pp_fail(p, e->pos, "metric name must not be set twice: %s or %s", a, b);
                else
                    pp_oom(p);
                free(a);
                free(b);
                return;
            }
        }
        return;
    }
    /* At least one matcher must not match the empty value, so that a typo
     * cannot select every series. */
    for (size_t i = 0; i < vs->nmatchers; i++)
        if (!promql_matcher_matches(&vs->matchers[i], "", 0))
            return;
    pp_fail(p, e->pos, "vector selector must contain at least one non-empty matcher");
}

static enum promql_type check(struct parser *p, struct promql_expr *e)
{
    if (p->rc)
        return PROMQL_TYPE_NONE;
    switch (e->kind) {
    case PROMQL_AGGREGATE:
        expect_type(p, e->agg.expr, PROMQL_TYPE_VECTOR, "aggregation expression");
        if (e->agg.param)
            expect_type(p, e->agg.param,
                        e->agg.op == PROMQL_AGG_COUNT_VALUES ? PROMQL_TYPE_STRING
                                                             : PROMQL_TYPE_SCALAR,
                        "aggregation parameter");
        break;
    case PROMQL_BINARY: check_binary(p, e); break;
    case PROMQL_CALL: check_call(p, e); break;
    case PROMQL_PAREN: check(p, e->paren.expr); break;
    case PROMQL_UNARY: {
        enum promql_type t = check(p, e->unary.expr);
        if (!p->rc && t != PROMQL_TYPE_SCALAR && t != PROMQL_TYPE_VECTOR)
            pp_fail(p, e->pos,
                    "unary expression only allowed on expressions of type scalar or instant "
                    "vector, got \"%s\"",
                    promql_type_doc_name(t));
        break;
    }
    case PROMQL_SUBQUERY: {
        enum promql_type t = check(p, e->subquery.expr);
        if (!p->rc && t != PROMQL_TYPE_VECTOR)
            pp_fail(p, e->pos, "subquery is only allowed on instant vector, got %s instead",
                    promql_type_name(t));
        break;
    }
    case PROMQL_MATRIX_SELECTOR: check(p, e->matrix.vs); break;
    case PROMQL_VECTOR_SELECTOR: check_selector(p, e); break;
    case PROMQL_NUMBER:
    case PROMQL_STRING: break;
    }
    return promql_expr_type(e);
}

void pp_check(struct parser *p, struct promql_expr *root)
{
    check(p, root);
}
