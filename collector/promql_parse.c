/*
 * promql_parse.c — PromQL parser (see promql_parse.h). The static type
 * checker it runs after a clean parse is in promql_check.c; the state and
 * error helpers the two share are in promql_parse_int.h.
 *
 * DESIGN
 * - Reference: Prometheus 3.x promql/parser (generated_parser.y, parse.go).
 *   That is an LALR grammar run by goyacc; this is a hand-written recursive
 *   descent parser with precedence climbing that builds the same trees and
 *   reports the same first error. Prometheus collects errors and prints only
 *   the first, so here parsing stops at the first one.
 * - Precedence, lowest first: or; and unless; == != <= < >= > </ >/;
 *   + -; * / % atan2; unary + -; ^ (right-associative); then the postfix
 *   modifiers [range], [range:step], offset, @, which bind to the operand
 *   just before them (so -a offset 1m is -(a offset 1m) and a + b[5m] is
 *   a + (b[5m])). A unary minus applied directly to a number literal is
 *   folded into it, as Prometheus does; nothing else is folded.
 * - Keywords are context-sensitive as in Prometheus: `sum` followed by '('
 *   or by/without is an aggregation, otherwise a metric name; likewise
 *   and/or/unless/by/offset/start/... may name metrics.
 * - Errors: syntax errors are "unexpected <token>[ in <context>][, expected
 *   <what>]" where goyacc's error rules would put them; a syntax error
 *   anywhere inside an aggregation's arguments says "in aggregation" (the
 *   aggregation's error rule is the nearest on goyacc's stack). Semantic
 *   errors made while parsing (unknown function, offset placement, ranges)
 *   are raised where goyacc reduces the rule; type errors come from a
 *   separate pass (promql_check.c) in Prometheus's order, after a clean
 *   parse.
 * - Lexical errors are kept in the current token and reported when the
 *   parser looks at that token, like goyacc reading its lookahead; where
 *   goyacc must read the next token before reducing a rule (lookahead()),
 *   a lexical error there comes before the rule's semantic errors.
 * - Errors Prometheus does not make (a range below 1ms, a NaN offset: it
 *   accepts them but prints them unreadably) are held back and reported
 *   only when the query is otherwise valid, so the first error is always
 *   the one Prometheus would give.
 * - Not supported (refused with Prometheus's own message for its default
 *   flags): duration arithmetic in [...] and after offset (step(),
 *   range(), min_of(), (...)), anchored/smoothed, fill() modifiers.
 *   Experimental functions and limitk/limit_ratio need
 *   PROMQL_PARSE_EXPERIMENTAL.
 * - Limits: the tree depth is at most PROMQL_MAX_DEPTH; recursion follows
 *   the tree, so stack use is bounded; helpers with large locals are kept
 *   out of line (NOINLINE) so the recursive frames stay small (measured
 *   under ASan: depth 128 fits a 200 KiB stack; the HTTP threads have 256
 *   KiB). Durations are kept in milliseconds:
 *   a positive range or step below 1ms is refused (Prometheus keeps
 *   nanoseconds but would print it as 0s, which does not parse back), and
 *   @ timestamps must lie within ±2^50 ms (about ±35,000 years) so that
 *   they print and read back exactly.
 * - Memory: everything goes into the tree's arena; a failed parse frees it.
 */
#include "promql_parse.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "promql_check.h"
#include "promql_lex.h"
#include "promql_parse_int.h"
#include "utf8.h"

/* A growable array in the tree's arena (old copies are left behind). */
struct vec {
    void *items;
    size_t n, cap;
};

enum { PREC_OR = 1, PREC_AND, PREC_CMP, PREC_ADD, PREC_MUL, PREC_POW };

/* What each token can be: a binary operator (precedence, operator), an
 * aggregation, the start of an expression, a label name in by(...) and
 * the like, a metric name (Prometheus's metric_identifier keywords). */
#define OP(prec_, op_)                                                                             \
    {                                                                                              \
        .prec = prec_, .op = op_                                                                   \
    }
#define AGG(a)                                                                                     \
    {                                                                                              \
        .agg = a + 1, .starts = true, .label = true, .metric = true                                \
    }
#define KW                                                                                         \
    {                                                                                              \
        .starts = true, .label = true, .metric = true                                              \
    }
static const struct {
    unsigned char prec, op, agg;
    bool starts, label, metric;
} tokinfo[PROMQL_TOK_COUNT_] = {
    [PROMQL_TOK_NUMBER] = {.starts = true},
    [PROMQL_TOK_DURATION] = {.starts = true},
    [PROMQL_TOK_STRING] = {.starts = true},
    [PROMQL_TOK_LEFT_PAREN] = {.starts = true},
    [PROMQL_TOK_LEFT_BRACE] = {.starts = true},
    [PROMQL_TOK_IDENTIFIER] = KW,
    [PROMQL_TOK_METRIC_IDENTIFIER] = KW,
    [PROMQL_TOK_ADD] = {.prec = PREC_ADD, .op = PROMQL_OP_ADD, .starts = true},
    [PROMQL_TOK_SUB] = {.prec = PREC_ADD, .op = PROMQL_OP_SUB, .starts = true},
    [PROMQL_TOK_MUL] = OP(PREC_MUL, PROMQL_OP_MUL),
    [PROMQL_TOK_DIV] = OP(PREC_MUL, PROMQL_OP_DIV),
    [PROMQL_TOK_MOD] = OP(PREC_MUL, PROMQL_OP_MOD),
    [PROMQL_TOK_ATAN2] = {.prec = PREC_MUL, .op = PROMQL_OP_ATAN2, .label = true},
    [PROMQL_TOK_POW] = OP(PREC_POW, PROMQL_OP_POW),
    [PROMQL_TOK_EQLC] = OP(PREC_CMP, PROMQL_OP_EQLC),
    [PROMQL_TOK_NEQ] = OP(PREC_CMP, PROMQL_OP_NEQ),
    [PROMQL_TOK_LSS] = OP(PREC_CMP, PROMQL_OP_LSS),
    [PROMQL_TOK_LTE] = OP(PREC_CMP, PROMQL_OP_LTE),
    [PROMQL_TOK_GTR] = OP(PREC_CMP, PROMQL_OP_GTR),
    [PROMQL_TOK_GTE] = OP(PREC_CMP, PROMQL_OP_GTE),
    [PROMQL_TOK_TRIM_UPPER] = OP(PREC_CMP, PROMQL_OP_TRIM_UPPER),
    [PROMQL_TOK_TRIM_LOWER] = OP(PREC_CMP, PROMQL_OP_TRIM_LOWER),
    [PROMQL_TOK_LAND] =
        {.prec = PREC_AND, .op = PROMQL_OP_AND, .starts = true, .label = true, .metric = true},
    [PROMQL_TOK_LUNLESS] =
        {.prec = PREC_AND, .op = PROMQL_OP_UNLESS, .starts = true, .label = true, .metric = true},
    [PROMQL_TOK_LOR] =
        {.prec = PREC_OR, .op = PROMQL_OP_OR, .starts = true, .label = true, .metric = true},
    [PROMQL_TOK_AVG] = AGG(PROMQL_AGG_AVG),
    [PROMQL_TOK_BOTTOMK] = AGG(PROMQL_AGG_BOTTOMK),
    [PROMQL_TOK_COUNT] = AGG(PROMQL_AGG_COUNT),
    [PROMQL_TOK_COUNT_VALUES] = AGG(PROMQL_AGG_COUNT_VALUES),
    [PROMQL_TOK_GROUP] = AGG(PROMQL_AGG_GROUP),
    [PROMQL_TOK_MAX] = AGG(PROMQL_AGG_MAX),
    [PROMQL_TOK_MIN] = AGG(PROMQL_AGG_MIN),
    [PROMQL_TOK_QUANTILE] = AGG(PROMQL_AGG_QUANTILE),
    [PROMQL_TOK_STDDEV] = AGG(PROMQL_AGG_STDDEV),
    [PROMQL_TOK_STDVAR] = AGG(PROMQL_AGG_STDVAR),
    [PROMQL_TOK_SUM] = AGG(PROMQL_AGG_SUM),
    [PROMQL_TOK_TOPK] = AGG(PROMQL_AGG_TOPK),
    [PROMQL_TOK_LIMITK] = AGG(PROMQL_AGG_LIMITK),
    [PROMQL_TOK_LIMIT_RATIO] = AGG(PROMQL_AGG_LIMIT_RATIO),
    [PROMQL_TOK_BOOL] = {.label = true},
    [PROMQL_TOK_GROUP_LEFT] = {.label = true},
    [PROMQL_TOK_GROUP_RIGHT] = {.label = true},
    [PROMQL_TOK_IGNORING] = {.label = true},
    [PROMQL_TOK_ON] = {.label = true},
    [PROMQL_TOK_BY] = KW,
    [PROMQL_TOK_WITHOUT] = KW,
    [PROMQL_TOK_OFFSET] = KW,
    [PROMQL_TOK_ANCHORED] = KW,
    [PROMQL_TOK_SMOOTHED] = KW,
    [PROMQL_TOK_FILL] = KW,
    [PROMQL_TOK_FILL_LEFT] = KW,
    [PROMQL_TOK_FILL_RIGHT] = KW,
    [PROMQL_TOK_START] = KW,
    [PROMQL_TOK_END] = KW,
    [PROMQL_TOK_STEP] = KW,
    [PROMQL_TOK_RANGE] = KW,
    [PROMQL_TOK_MAX_OF] = KW,
    [PROMQL_TOK_MIN_OF] = KW,
};
#undef OP
#undef AGG
#undef KW

static bool starts_expr(enum promql_tok t)
{
    return tokinfo[t].starts;
}

/* --- errors -------------------------------------------------------------- */

/* pp_fail, pp_oom, pp_quoted and pp_fail_quoted are shared with the type
 * checker (promql_check.c); promql_parse_int.h describes them. */

/* Records the first error, whose text is already in p->reason. Only called
 * while no error is recorded (parsing stops at the first). */
static void set_failed(struct parser *p, size_t pos)
{
    p->rc = PROMQL_EPARSE;
    p->err_pos = pos;
    utf8_trim_tail(p->reason);
}

NOINLINE void *pp_fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->rc)
        return NULL;
    p->rc = PROMQL_EPARSE;
    p->err_pos = pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    utf8_trim_tail(p->reason);
    return NULL;
}

void *pp_oom(struct parser *p)
{
    if (!p->rc)
        p->rc = PROMQL_ENOMEM;
    return NULL;
}

/* Go's %q of s, for messages; returns a buffer the caller frees. */
char *pp_quoted(const char *s, size_t len)
{
    struct buf b = {0};
    promql_quote_msg(&b, s, len);
    return b.p;
}

NOINLINE void *pp_fail_quoted(struct parser *p, size_t pos, const char *fmt, const char *s,
                              size_t len)
{
    char *q = pp_quoted(s, len);
    if (!q)
        return pp_oom(p);
    pp_fail(p, pos, fmt, q);
    free(q);
    return NULL;
}

/* "unexpected <current token>[ in ctx][, expected what]"; a lexical error
 * token reports itself instead. */
NOINLINE static void *unexpected(struct parser *p, const char *ctx, const char *expected)
{
    if (p->tok.type == PROMQL_TOK_ERROR)
        return pp_fail(p, p->tok.pos, "%s", p->tok.err);
    struct buf d = {0};
    promql_token_desc(p->in, &p->tok, &d);
    if (d.oom)
        return pp_oom(p);
    pp_fail(p, p->tok.pos, "unexpected %s%s%s%s%s", d.p ? d.p : "", ctx ? " in " : "",
            ctx ? ctx : "", expected ? ", expected " : "", expected ? expected : "");
    buf_free(&d);
    return NULL;
}

static void *unexpected_here(struct parser *p)
{
    return unexpected(p, p->in_agg ? "aggregation" : NULL, NULL);
}

/* --- tokens -------------------------------------------------------------- */

static void advance(struct parser *p)
{
    p->prev_end = p->tok.pos + p->tok.len;
    do
        promql_lex_next(&p->lx, &p->tok);
    while (p->tok.type == PROMQL_TOK_COMMENT);
}

/* The type of the token after the current one. */
NOINLINE static enum promql_tok peek(const struct parser *p)
{
    struct promql_lexer l = p->lx;
    struct promql_token t;
    do
        promql_lex_next(&l, &t);
    while (t.type == PROMQL_TOK_COMMENT);
    return t.type;
}

static bool is(const struct parser *p, enum promql_tok t)
{
    return p->tok.type == t;
}

/* Where goyacc must read the next token before it can reduce a rule (and
 * raise the rule's semantic errors), a lexical error in that token comes
 * first. Returns false after reporting it. */
static bool lookahead(struct parser *p)
{
    if (p->tok.type != PROMQL_TOK_ERROR)
        return true;
    pp_fail(p, p->tok.pos, "%s", p->tok.err);
    return false;
}
static const char *tok_text(const struct parser *p)
{
    return p->in + p->tok.pos;
}
static size_t tok_end(const struct parser *p)
{
    return p->tok.pos + p->tok.len;
}

/* --- allocation ---------------------------------------------------------- */

static bool vec_push(struct parser *p, struct vec *v, const void *item, size_t size)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void *items = promql_ast_alloc(p->ast, cap * size);
        if (!items) {
            pp_oom(p);
            return false;
        }
        if (v->n)
            memcpy(items, v->items, v->n * size);
        v->items = items;
        v->cap = cap;
    }
    memcpy((char *)v->items + v->n * size, item, size);
    v->n++;
    return true;
}

static struct promql_expr *node(struct parser *p, enum promql_kind kind, size_t pos, size_t end)
{
    struct promql_expr *e = promql_ast_alloc(p->ast, sizeof *e);
    if (!e)
        return pp_oom(p);
    e->kind = kind;
    e->pos = pos;
    e->end = end;
    e->depth = 1;
    return e;
}

/* Records that child hangs below e; refuses trees deeper than the limit. */
static bool below(struct parser *p, struct promql_expr *e, const struct promql_expr *child)
{
    if (child && child->depth + 1 > e->depth)
        e->depth = child->depth + 1;
    if (e->depth > PROMQL_MAX_DEPTH) {
        pp_fail(p, e->pos, "query is too deeply nested (more than %d levels)", PROMQL_MAX_DEPTH);
        return false;
    }
    return true;
}

static bool copy_str(struct parser *p, const char *s, size_t len, struct promql_str *out)
{
    if (!promql_ast_strdup(p->ast, s, len, out)) {
        pp_oom(p);
        return false;
    }
    return true;
}

/* The value of the current string token, in the tree. */
static bool unquote_tok(struct parser *p, struct promql_str *out)
{
    char *v = promql_ast_alloc(p->ast, p->tok.len + 1);
    size_t n = 0;
    if (!v) {
        pp_oom(p);
        return false;
    }
    if (!promql_unquote(tok_text(p), p->tok.len, v, &n)) {
        pp_fail_quoted(p, p->tok.pos, "error unquoting string %s: invalid syntax", tok_text(p),
                       p->tok.len);
        return false;
    }
    v[n] = 0;
    out->p = v;
    out->len = n;
    return true;
}

/* --- literals ------------------------------------------------------------ */

/* The value of the current NUMBER or DURATION token, in seconds; *ms gets
 * the exact milliseconds of a duration. */
NOINLINE static bool number_value(struct parser *p, double *v, int64_t *ms)
{
    char *err = p->reason; /* the message goes straight to where errors live */
    if (is(p, PROMQL_TOK_DURATION)) {
        int64_t d;
        if (!promql_parse_duration(tok_text(p), p->tok.len, &d, err, sizeof p->reason)) {
            set_failed(p, p->tok.pos);
            return false;
        }
        *ms = d;
        *v = (double)(d / 1000) + (double)(d % 1000) / 1000.0;
        return true;
    }
    if (!promql_parse_number(tok_text(p), p->tok.len, v, err, sizeof p->reason)) {
        set_failed(p, p->tok.pos);
        return false;
    }
    *ms = 0;
    return true;
}

/* Seconds to milliseconds as Prometheus goes: round to nanoseconds, then
 * truncate to milliseconds. v must be finite and within ±2^63 ns. */
static int64_t seconds_to_ms(double v)
{
    double ns = round(v * 1e9);
    if (ns >= 9223372036854774784.0)
        ns = 9223372036854774784.0;
    if (ns <= -9223372036854774784.0)
        ns = -9223372036854774784.0;
    return (int64_t)ns / 1000000;
}

NOINLINE static struct promql_expr *parse_string(struct parser *p)
{
    struct promql_expr *e = node(p, PROMQL_STRING, p->tok.pos, tok_end(p));
    if (!e || !unquote_tok(p, &e->string))
        return NULL;
    advance(p);
    return e;
}

NOINLINE static struct promql_expr *parse_number(struct parser *p)
{
    double v;
    int64_t ms;
    if (!number_value(p, &v, &ms))
        return NULL;
    struct promql_expr *e = node(p, PROMQL_NUMBER, p->tok.pos, tok_end(p));
    if (!e)
        return NULL;
    e->number.value = v;
    e->number.duration = is(p, PROMQL_TOK_DURATION);
    e->number.duration_ms = ms;
    advance(p);
    return e;
}

/* Duration expressions (Prometheus's duration_expr: arithmetic, step(),
 * range(), min_of(), max_of(), parentheses) are experimental in Prometheus;
 * only a signed number or duration is accepted. The rest is parsed just far
 * enough to refuse it where Prometheus would: at the first construct it
 * reduces (inner first, left to right). Syntax errors inside report ctx. */
struct dur {
    size_t start; /* where the expression starts (its sign, if any) */
    bool plain;   /* a number or duration with signs only */
    bool is_dur;  /* written as a duration */
    double v;     /* plain: the value in seconds (signs applied) */
    int64_t ms;   /* plain duration: exact milliseconds (signs applied) */
};

static void *experimental(struct parser *p, size_t pos)
{
    return pp_fail(p, pos, "experimental duration expression is not enabled");
}

static bool is_dur_op(enum promql_tok t)
{
    return t == PROMQL_TOK_ADD || t == PROMQL_TOK_SUB || t == PROMQL_TOK_MUL ||
           t == PROMQL_TOK_DIV || t == PROMQL_TOK_MOD || t == PROMQL_TOK_POW;
}

#define MAX_DURATION_SECONDS 9223372036.854775808 /* 2^63 ns */

static bool dur_expr(struct parser *p, int min_prec, const char *ctx, const char *exp,
                     struct dur *x);

/* A number or duration literal; out_of_range_pos is where Prometheus
 * reports "duration out of range" for it. */
static bool dur_literal(struct parser *p, size_t out_of_range_pos, struct dur *x)
{
    x->start = p->tok.pos;
    x->plain = true;
    x->is_dur = is(p, PROMQL_TOK_DURATION);
    if (!number_value(p, &x->v, &x->ms))
        return false;
    if (!x->is_dur && fabs(x->v) > MAX_DURATION_SECONDS) {
        pp_fail(p, out_of_range_pos, "duration out of range");
        return false;
    }
    advance(p);
    return true;
}

static bool expect_tok(struct parser *p, enum promql_tok t, const char *ctx, const char *exp)
{
    if (is(p, t)) {
        advance(p);
        return true;
    }
    unexpected(p, ctx, exp);
    return false;
}

/* own_pos: where to report the construct's own refusal when it is not
 * where Prometheus's node starts (-step() in an offset); SIZE_MAX: there. */
static bool dur_atom(struct parser *p, const char *ctx, const char *exp, size_t own_pos,
                     struct dur *x)
{
    size_t start = p->tok.pos;
    switch (p->tok.type) {
    case PROMQL_TOK_NUMBER:
    case PROMQL_TOK_DURATION: return dur_literal(p, start, x);
    case PROMQL_TOK_STEP:
    case PROMQL_TOK_RANGE:
        advance(p);
        if (!expect_tok(p, PROMQL_TOK_LEFT_PAREN, ctx, exp) ||
            !expect_tok(p, PROMQL_TOK_RIGHT_PAREN, ctx, exp))
            return false;
        return experimental(p, own_pos != SIZE_MAX ? own_pos : start), false;
    case PROMQL_TOK_MAX_OF:
    case PROMQL_TOK_MIN_OF: {
        struct dur a, b;
        advance(p);
        if (!expect_tok(p, PROMQL_TOK_LEFT_PAREN, ctx, exp) || !dur_expr(p, 0, ctx, exp, &a) ||
            !expect_tok(p, PROMQL_TOK_COMMA, ctx, exp) || !dur_expr(p, 0, ctx, exp, &b) ||
            !expect_tok(p, PROMQL_TOK_RIGHT_PAREN, ctx, exp))
            return false;
        /* Prometheus's min_of/max_of node starts at its first argument */
        return experimental(p, own_pos != SIZE_MAX ? own_pos : a.start), false;
    }
    case PROMQL_TOK_LEFT_PAREN: {
        struct dur in;
        advance(p);
        if (!dur_expr(p, 0, ctx, exp, &in) || !expect_tok(p, PROMQL_TOK_RIGHT_PAREN, ctx, exp))
            return false;
        return experimental(p, in.start), false;
    }
    default: unexpected(p, ctx, exp); return false;
    }
}

static bool dur_unary(struct parser *p, const char *ctx, const char *exp, struct dur *x)
{
    if (!is(p, PROMQL_TOK_ADD) && !is(p, PROMQL_TOK_SUB))
        return dur_atom(p, ctx, exp, SIZE_MAX, x);
    size_t start = p->tok.pos;
    bool neg = is(p, PROMQL_TOK_SUB);
    advance(p);
    if (!dur_expr(p, PREC_POW, ctx, exp, x))
        return false;
    if (neg)
        x->v = -x->v, x->ms = -x->ms;
    x->start = start;
    return true;
}

static bool dur_expr(struct parser *p, int min_prec, const char *ctx, const char *exp,
                     struct dur *x)
{
    if (++p->depth > PROMQL_MAX_DEPTH) {
        pp_fail(p, p->tok.pos, "query is too deeply nested (more than %d levels)",
                PROMQL_MAX_DEPTH);
        p->depth--;
        return false;
    }
    bool ok = dur_unary(p, ctx, exp, x);
    while (ok && is_dur_op(p->tok.type)) {
        int prec = is(p, PROMQL_TOK_POW)                            ? PREC_POW
                   : is(p, PROMQL_TOK_ADD) || is(p, PROMQL_TOK_SUB) ? PREC_ADD
                                                                    : PREC_MUL;
        if (prec < min_prec)
            break;
        struct dur rhs;
        advance(p);
        ok = dur_expr(p, prec == PREC_POW ? prec : prec + 1, ctx, exp, &rhs) && lookahead(p);
        if (ok) {
            experimental(p, x->start);
            ok = false;
        }
    }
    p->depth--;
    return ok;
}

/* A range or step in [...]: positive, at least 1ms. */
static bool parse_bracket_duration(struct parser *p, const char *ctx, const char *exp, int64_t *out)
{
    struct dur x;
    if (!dur_expr(p, 0, ctx, exp, &x) || !lookahead(p))
        return false;
    if (x.v <= 0) {
        pp_fail(p, x.start, "duration must be greater than 0");
        return false;
    }
    int64_t ms = x.is_dur ? x.ms : seconds_to_ms(x.v);
    if (ms <= 0 && p->late_pos == SIZE_MAX)
        p->late_pos = x.start, p->late_msg = "duration must be at least 1ms";
    *out = ms;
    return true;
}

/* The duration after `offset`. Prometheus ends it right after a number with
 * at most one sign, and also accepts a sign before a parenthesized number,
 * -(5m) (printed here as -5m). */
static bool parse_offset_duration(struct parser *p, int64_t *out)
{
    static const char ctx[] = "offset", exp[] = "number, duration, step(), or range()";
    struct dur x;
    size_t start = p->tok.pos;
    if (is(p, PROMQL_TOK_NUMBER) || is(p, PROMQL_TOK_DURATION)) {
        if (!dur_literal(p, start, &x))
            return false;
    } else if (is(p, PROMQL_TOK_ADD) || is(p, PROMQL_TOK_SUB)) {
        bool neg = is(p, PROMQL_TOK_SUB);
        enum promql_tok next = peek(p);
        if (next == PROMQL_TOK_NUMBER || next == PROMQL_TOK_DURATION) {
            advance(p);
            if (!dur_literal(p, start, &x))
                return false;
        } else if (next == PROMQL_TOK_STEP || next == PROMQL_TOK_RANGE ||
                   next == PROMQL_TOK_MAX_OF || next == PROMQL_TOK_MIN_OF) {
            /* -step() and the like: refused at the sign */
            advance(p);
            dur_atom(p, ctx, exp, start, &x);
            return false;
        } else if (next == PROMQL_TOK_LEFT_PAREN) {
            advance(p);
            advance(p);
            if (!dur_expr(p, 0, ctx, exp, &x) || !expect_tok(p, PROMQL_TOK_RIGHT_PAREN, ctx, exp))
                return false;
        } else {
            neg = false; /* two or more signs: a general duration expression */
            if (!dur_expr(p, 0, ctx, exp, &x) || !lookahead(p))
                return false;
        }
        if (neg)
            x.v = -x.v, x.ms = -x.ms;
    } else if (!dur_unary(p, ctx, exp, &x)) {
        return false;
    }
    if (isnan(x.v)) { /* Prometheus makes a garbage offset of it */
        if (p->late_pos == SIZE_MAX)
            p->late_pos = start, p->late_msg = "offset must be a number, not NaN";
        *out = INT64_MIN / 1000000; /* set, like Prometheus's, so a second offset errs */
        return true;
    }
    *out = x.is_dur ? x.ms : seconds_to_ms(x.v);
    return true;
}

/* --- labels -------------------------------------------------------------- */

/* ( label, ... ) — a trailing comma is allowed. */
static bool parse_grouping(struct parser *p, struct vec *labels)
{
    if (!is(p, PROMQL_TOK_LEFT_PAREN)) {
        unexpected(p, "grouping opts", "\"(\"");
        return false;
    }
    advance(p);
    if (is(p, PROMQL_TOK_RIGHT_PAREN)) {
        advance(p);
        return true;
    }
    for (;;) {
        struct promql_str l;
        if (tokinfo[p->tok.type].label) {
            if (!copy_str(p, tok_text(p), p->tok.len, &l))
                return false;
        } else if (is(p, PROMQL_TOK_STRING)) {
            if (!unquote_tok(p, &l))
                return false;
            if (l.len == 0 || !promql_utf8_valid(l.p, l.len)) {
                pp_fail_quoted(p, p->tok.pos, "invalid label name for grouping: %s", l.p, l.len);
                return false;
            }
        } else {
            unexpected(p, "grouping opts", "label");
            return false;
        }
        if (!vec_push(p, labels, &l, sizeof l))
            return false;
        advance(p);
        if (is(p, PROMQL_TOK_COMMA)) {
            advance(p);
            if (is(p, PROMQL_TOK_RIGHT_PAREN)) {
                advance(p);
                return true;
            }
            continue;
        }
        if (is(p, PROMQL_TOK_RIGHT_PAREN)) {
            advance(p);
            return true;
        }
        unexpected(p, "grouping opts", "\",\" or \")\"");
        return false;
    }
}

static bool match_op(enum promql_tok t, enum promql_match_op *op)
{
    switch (t) {
    case PROMQL_TOK_EQL: *op = PROMQL_MATCH_EQ; return true;
    case PROMQL_TOK_NEQ: *op = PROMQL_MATCH_NE; return true;
    case PROMQL_TOK_EQL_REGEX: *op = PROMQL_MATCH_RE; return true;
    case PROMQL_TOK_NEQ_REGEX: *op = PROMQL_MATCH_NRE; return true;
    default: return false;
    }
}

/* Completes a matcher whose value is the current string token. */
NOINLINE static bool finish_matcher(struct parser *p, struct promql_matcher *m, size_t label_pos)
{
    if (!unquote_tok(p, &m->value))
        return false;
    if (m->op == PROMQL_MATCH_RE || m->op == PROMQL_MATCH_NRE) {
        int rc = promql_ast_compile_regex(p->ast, m, p->reason, sizeof p->reason);
        if (rc == PROMQL_ENOMEM) {
            pp_oom(p);
            return false;
        }
        if (rc != PROMQL_OK) {
            set_failed(p, label_pos);
            return false;
        }
    }
    advance(p);
    return true;
}

/* { matcher, ... } after the current '{'. */
static bool parse_matchers(struct parser *p, struct vec *ms, size_t *end)
{
    advance(p);
    if (is(p, PROMQL_TOK_RIGHT_BRACE)) {
        *end = tok_end(p);
        advance(p);
        return true;
    }
    for (;;) {
        struct promql_matcher m = {0};
        size_t label_pos = p->tok.pos;
        if (is(p, PROMQL_TOK_IDENTIFIER)) {
            if (!copy_str(p, tok_text(p), p->tok.len, &m.name))
                return false;
            advance(p);
            if (!match_op(p->tok.type, &m.op)) {
                unexpected(p, "label matching", "label matching operator");
                return false;
            }
            advance(p);
            if (!is(p, PROMQL_TOK_STRING)) {
                unexpected(p, "label matching", "string");
                return false;
            }
            if (!finish_matcher(p, &m, label_pos))
                return false;
        } else if (is(p, PROMQL_TOK_STRING)) {
            struct promql_str name;
            if (!unquote_tok(p, &name))
                return false;
            advance(p);
            if (match_op(p->tok.type, &m.op)) {
                m.name = name;
                advance(p);
                if (!is(p, PROMQL_TOK_STRING)) {
                    unexpected(p, "label matching", "string");
                    return false;
                }
                if (!finish_matcher(p, &m, label_pos))
                    return false;
            } else { /* {"metric.name"}: a quoted metric name */
                m.op = PROMQL_MATCH_EQ;
                m.value = name;
                if (!copy_str(p, "__name__", 8, &m.name))
                    return false;
            }
        } else {
            unexpected(p, "label matching", "identifier or \"}\"");
            return false;
        }
        if (!vec_push(p, ms, &m, sizeof m))
            return false;
        if (is(p, PROMQL_TOK_COMMA)) {
            advance(p);
            if (!is(p, PROMQL_TOK_RIGHT_BRACE))
                continue;
        }
        if (is(p, PROMQL_TOK_RIGHT_BRACE)) {
            *end = tok_end(p);
            advance(p);
            return true;
        }
        unexpected(p, "label matching", "\",\" or \"}\"");
        return false;
    }
}

/* metric_name, metric_name{...} or {...}; `named` when the current token is
 * the metric name. */
NOINLINE static struct promql_expr *parse_selector(struct parser *p, bool named)
{
    size_t pos = p->tok.pos, end = tok_end(p);
    struct promql_str name = {"", 0};
    struct vec ms = {0};
    if (named) {
        if (!copy_str(p, tok_text(p), p->tok.len, &name))
            return NULL;
        advance(p);
    }
    if (is(p, PROMQL_TOK_LEFT_BRACE) && !parse_matchers(p, &ms, &end))
        return NULL;
    if (named) {
        struct promql_matcher m = {.op = PROMQL_MATCH_EQ, .value = name};
        if (!copy_str(p, "__name__", 8, &m.name) || !vec_push(p, &ms, &m, sizeof m))
            return NULL;
    }
    struct promql_expr *e = node(p, PROMQL_VECTOR_SELECTOR, pos, end);
    if (!e)
        return NULL;
    e->vs.name = name;
    e->vs.matchers = ms.items;
    e->vs.nmatchers = ms.n;
    return e;
}

/* --- expressions --------------------------------------------------------- */

static struct promql_expr *parse_expr(struct parser *p, int min_prec);

/* ( expr, ... ) after which *end is the end of ')'. A comma not followed
 * by an expression is a "trailing comma" (goyacc reduces it by default). */
static bool parse_args(struct parser *p, struct vec *args, size_t *end)
{
    advance(p); /* ( */
    if (is(p, PROMQL_TOK_RIGHT_PAREN)) {
        *end = tok_end(p);
        advance(p);
        return true;
    }
    for (;;) {
        struct promql_expr *a = parse_expr(p, 0);
        if (!a || !vec_push(p, args, &a, sizeof a))
            return false;
        if (is(p, PROMQL_TOK_COMMA)) {
            size_t comma = p->tok.pos;
            advance(p);
            if (!is(p, PROMQL_TOK_ERROR) && !starts_expr(p->tok.type)) {
                pp_fail(p, comma, "trailing commas not allowed in function call args");
                return false;
            }
            continue;
        }
        if (is(p, PROMQL_TOK_RIGHT_PAREN)) {
            *end = tok_end(p);
            advance(p);
            return true;
        }
        unexpected_here(p);
        return false;
    }
}

NOINLINE static struct promql_expr *parse_call(struct parser *p)
{
    size_t pos = p->tok.pos, namelen = p->tok.len, end = 0;
    const char *name = tok_text(p);
    struct vec args = {0};
    advance(p);
    if (!parse_args(p, &args, &end))
        return NULL;
    char cname[64];
    const struct promql_func *f = NULL;
    if (namelen < sizeof cname) {
        memcpy(cname, name, namelen);
        cname[namelen] = 0;
        f = promql_func_lookup(cname);
    }
    if (!f)
        return pp_fail_quoted(p, pos, "unknown function with name %s", name, namelen);
    if (f->experimental && !(p->flags & PROMQL_PARSE_EXPERIMENTAL))
        return pp_fail_quoted(p, pos, "function %s is not enabled", name, namelen);
    struct promql_expr *e = node(p, PROMQL_CALL, pos, end);
    if (!e)
        return NULL;
    e->call.func = f;
    e->call.args = args.items;
    e->call.nargs = args.n;
    for (size_t i = 0; i < args.n; i++)
        if (!below(p, e, e->call.args[i]))
            return NULL;
    return e;
}

/* sum [by|without (labels)] (args) [by|without (labels)] */
NOINLINE static struct promql_expr *parse_aggregate(struct parser *p)
{
    size_t pos = p->tok.pos, end = 0;
    enum promql_aggop op = (enum promql_aggop)(tokinfo[p->tok.type].agg - 1);
    struct vec grouping = {0}, args = {0};
    bool without = false, modifier = false;
    advance(p);
    p->in_agg++;
    if (is(p, PROMQL_TOK_BY) || is(p, PROMQL_TOK_WITHOUT)) {
        without = is(p, PROMQL_TOK_WITHOUT);
        modifier = true;
        advance(p);
        if (!parse_grouping(p, &grouping))
            return NULL;
    }
    if (!is(p, PROMQL_TOK_LEFT_PAREN))
        return unexpected(p, "aggregation", NULL);
    if (!parse_args(p, &args, &end))
        return NULL;
    p->in_agg--;
    if (!modifier && !lookahead(p))
        return NULL;
    if (!modifier && (is(p, PROMQL_TOK_BY) || is(p, PROMQL_TOK_WITHOUT))) {
        without = is(p, PROMQL_TOK_WITHOUT);
        advance(p);
        if (!parse_grouping(p, &grouping))
            return NULL;
        end = p->prev_end;
    }
    if (args.n == 0)
        return pp_fail(p, pos, "no arguments for aggregate expression provided");
    size_t want = 1;
    struct promql_expr **a = args.items;
    if (promql_aggop_has_param(op)) {
        if ((op == PROMQL_AGG_LIMITK || op == PROMQL_AGG_LIMIT_RATIO) &&
            !(p->flags & PROMQL_PARSE_EXPERIMENTAL))
            return pp_fail(p, pos,
                           "%s() is experimental and must be enabled with "
                           "--enable-feature=promql-experimental-functions",
                           promql_aggop_name(op));
        want = 2;
    }
    if (args.n != want)
        return pp_fail(p, pos,
                       "wrong number of arguments for aggregate expression provided, expected %zu, "
                       "got %zu",
                       want, args.n);
    struct promql_expr *e = node(p, PROMQL_AGGREGATE, pos, end);
    if (!e)
        return NULL;
    e->agg.op = op;
    e->agg.param = want == 2 ? a[0] : NULL;
    e->agg.expr = a[want - 1];
    e->agg.grouping = grouping.items;
    e->agg.ngrouping = grouping.n;
    e->agg.without = without;
    if (!below(p, e, e->agg.expr) || !below(p, e, e->agg.param))
        return NULL;
    return e;
}

/* [range] or [range:step] after e. */
NOINLINE static struct promql_expr *parse_range(struct parser *p, struct promql_expr *e)
{
    size_t lb = p->tok.pos;
    int64_t range = 0, step = 0;
    advance(p);
    if (!parse_bracket_duration(p, "subquery or range selector",
                                "number, duration, step(), or range()", &range))
        return NULL;
    if (is(p, PROMQL_TOK_RIGHT_BRACKET)) {
        if (e->kind != PROMQL_VECTOR_SELECTOR)
            return pp_fail(p, lb, "ranges only allowed for vector selectors");
        if (e->vs.offset_ms != 0)
            return pp_fail(p, lb, "no offset modifiers allowed before range");
        if (e->vs.at != PROMQL_AT_NONE)
            return pp_fail(p, lb, "no @ modifiers allowed before range");
        struct promql_expr *m = node(p, PROMQL_MATRIX_SELECTOR, e->pos, tok_end(p));
        if (!m || !below(p, m, e))
            return NULL;
        m->matrix.vs = e;
        m->matrix.range_ms = range;
        advance(p);
        return m;
    }
    if (!is(p, PROMQL_TOK_COLON))
        return unexpected(p, "subquery or range", "\":\" or \"]\"");
    advance(p);
    if (!is(p, PROMQL_TOK_RIGHT_BRACKET)) {
        if (!parse_bracket_duration(p, "subquery selector",
                                    "number, duration, step(), range(), or \"]\"", &step))
            return NULL;
        if (!is(p, PROMQL_TOK_RIGHT_BRACKET))
            return unexpected(p, "subquery selector", "\"]\"");
    }
    struct promql_expr *s = node(p, PROMQL_SUBQUERY, e->pos, tok_end(p));
    if (!s || !below(p, s, e))
        return NULL;
    s->subquery.expr = e;
    s->subquery.range_ms = range;
    s->subquery.step_ms = step;
    advance(p);
    return s;
}

/* offset [+-]duration after e. */
NOINLINE static struct promql_expr *parse_offset(struct parser *p, struct promql_expr *e)
{
    int64_t ms;
    advance(p);
    if (!parse_offset_duration(p, &ms))
        return NULL;
    int64_t *target;
    switch (e->kind) {
    case PROMQL_VECTOR_SELECTOR: target = &e->vs.offset_ms; break;
    case PROMQL_MATRIX_SELECTOR: target = &e->matrix.vs->vs.offset_ms; break;
    case PROMQL_SUBQUERY: target = &e->subquery.offset_ms; break;
    default:
        return pp_fail(p, e->pos,
                       "offset modifier must be preceded by an instant vector selector or range "
                       "vector selector or a subquery");
    }
    if (*target != 0)
        return pp_fail(p, e->pos, "offset may not be set multiple times");
    *target = ms;
    e->end = p->prev_end;
    return e;
}

/* @ timestamp | @ start() | @ end() after e. */
NOINLINE static struct promql_expr *parse_at(struct parser *p, struct promql_expr *e)
{
    enum promql_at at;
    int64_t at_ms = 0;
    advance(p);
    if (is(p, PROMQL_TOK_START) || is(p, PROMQL_TOK_END)) {
        at = is(p, PROMQL_TOK_START) ? PROMQL_AT_START : PROMQL_AT_END;
        advance(p);
        if (!is(p, PROMQL_TOK_LEFT_PAREN))
            return unexpected(p, "@", "timestamp");
        advance(p);
        if (!is(p, PROMQL_TOK_RIGHT_PAREN))
            return unexpected(p, "@", "timestamp");
        advance(p);
    } else {
        bool neg = false;
        if (is(p, PROMQL_TOK_ADD) || is(p, PROMQL_TOK_SUB)) {
            neg = is(p, PROMQL_TOK_SUB);
            advance(p);
        }
        if (!is(p, PROMQL_TOK_NUMBER) && !is(p, PROMQL_TOK_DURATION))
            return unexpected(p, "@", "timestamp");
        double v;
        int64_t ms;
        if (!number_value(p, &v, &ms))
            return NULL;
        advance(p);
        if (neg)
            v = -v;
        /* Prometheus refuses non-finite values and values beyond int64
         * milliseconds; the tighter bound keeps printing exact. */
        if (!(fabs(v) * 1000.0 <= 1125899906842624.0)) {
            if (isnan(v) || isinf(v))
                return pp_fail(p, e->pos, "timestamp out of bounds for @ modifier: %s",
                               isnan(v) ? "NaN"
                               : v > 0  ? "+Inf"
                                        : "-Inf");
            return pp_fail(p, e->pos, "timestamp out of bounds for @ modifier: %f", v);
        }
        at = PROMQL_AT_TIME;
        at_ms = (int64_t)round(v * 1000.0);
    }
    enum promql_at *tat;
    int64_t *tms;
    switch (e->kind) {
    case PROMQL_VECTOR_SELECTOR: tat = &e->vs.at, tms = &e->vs.at_ms; break;
    case PROMQL_MATRIX_SELECTOR: tat = &e->matrix.vs->vs.at, tms = &e->matrix.vs->vs.at_ms; break;
    case PROMQL_SUBQUERY: tat = &e->subquery.at, tms = &e->subquery.at_ms; break;
    default:
        return pp_fail(p, e->pos,
                       "@ modifier must be preceded by an instant vector selector or range vector "
                       "selector or a subquery");
    }
    if (*tat != PROMQL_AT_NONE)
        return pp_fail(p, e->pos, "@ <timestamp> may not be set multiple times");
    *tat = at;
    *tms = at_ms;
    e->end = p->prev_end;
    return e;
}

static struct promql_expr *parse_postfix(struct parser *p, struct promql_expr *e)
{
    while (e) {
        switch (p->tok.type) {
        case PROMQL_TOK_LEFT_BRACKET: e = parse_range(p, e); break;
        case PROMQL_TOK_OFFSET: e = parse_offset(p, e); break;
        case PROMQL_TOK_AT: e = parse_at(p, e); break;
        case PROMQL_TOK_ANCHORED:
            return pp_fail(p, e->pos, "anchored modifier is experimental and not enabled");
        case PROMQL_TOK_SMOOTHED:
            return pp_fail(p, e->pos, "smoothed modifier is experimental and not enabled");
        default: return e;
        }
    }
    return NULL;
}

static struct promql_expr *parse_primary(struct parser *p)
{
    enum promql_tok t = p->tok.type;
    switch (t) {
    case PROMQL_TOK_NUMBER:
    case PROMQL_TOK_DURATION: return parse_number(p);
    case PROMQL_TOK_STRING: return parse_string(p);
    case PROMQL_TOK_LEFT_PAREN: {
        size_t pos = p->tok.pos;
        advance(p);
        struct promql_expr *in = parse_expr(p, 0);
        if (!in)
            return NULL;
        if (!is(p, PROMQL_TOK_RIGHT_PAREN))
            return unexpected_here(p);
        struct promql_expr *e = node(p, PROMQL_PAREN, pos, tok_end(p));
        if (!e || !below(p, e, in))
            return NULL;
        e->paren.expr = in;
        advance(p);
        return e;
    }
    case PROMQL_TOK_LEFT_BRACE: return parse_selector(p, false);
    case PROMQL_TOK_IDENTIFIER:
    case PROMQL_TOK_START:
    case PROMQL_TOK_END:
    case PROMQL_TOK_STEP:
    case PROMQL_TOK_RANGE:
    case PROMQL_TOK_MAX_OF:
    case PROMQL_TOK_MIN_OF: /* a function call, else a metric name */
        return peek(p) == PROMQL_TOK_LEFT_PAREN ? parse_call(p) : parse_selector(p, true);
    default: break;
    }
    if (tokinfo[t].agg) {
        enum promql_tok n = peek(p);
        if (n == PROMQL_TOK_LEFT_PAREN || n == PROMQL_TOK_BY || n == PROMQL_TOK_WITHOUT)
            return parse_aggregate(p);
    }
    if (tokinfo[t].metric)
        return parse_selector(p, true);
    return unexpected_here(p);
}

static struct promql_expr *parse_unary(struct parser *p)
{
    if (!is(p, PROMQL_TOK_ADD) && !is(p, PROMQL_TOK_SUB))
        return parse_postfix(p, parse_primary(p));
    size_t pos = p->tok.pos;
    char op = is(p, PROMQL_TOK_SUB) ? '-' : '+';
    advance(p);
    struct promql_expr *x = parse_expr(p, PREC_POW);
    if (!x)
        return NULL;
    if (x->kind == PROMQL_NUMBER) { /* -1 is a number, not an operation */
        if (op == '-') {
            x->number.value = -x->number.value;
            x->number.duration_ms = -x->number.duration_ms;
        }
        x->pos = pos;
        return x;
    }
    struct promql_expr *e = node(p, PROMQL_UNARY, pos, x->end);
    if (!e || !below(p, e, x))
        return NULL;
    e->unary.op = op;
    e->unary.expr = x;
    return e;
}

/* fill(v), fill_left(v), fill_right(v) [fill_right|fill_left(v)]: parsed
 * so the error is Prometheus's ("... not enabled"), never accepted. */
NOINLINE static bool parse_fill(struct parser *p)
{
    for (int i = 0; i < 2; i++) {
        enum promql_tok kw = p->tok.type;
        advance(p);
        if (!is(p, PROMQL_TOK_LEFT_PAREN))
            return unexpected_here(p), false;
        advance(p);
        if (is(p, PROMQL_TOK_ADD) || is(p, PROMQL_TOK_SUB))
            advance(p);
        if (!is(p, PROMQL_TOK_NUMBER) && !is(p, PROMQL_TOK_DURATION))
            return unexpected_here(p), false;
        double v;
        int64_t ms;
        if (!number_value(p, &v, &ms))
            return false;
        advance(p);
        if (!is(p, PROMQL_TOK_RIGHT_PAREN))
            return unexpected_here(p), false;
        advance(p);
        if (!((kw == PROMQL_TOK_FILL_LEFT && is(p, PROMQL_TOK_FILL_RIGHT)) ||
              (kw == PROMQL_TOK_FILL_RIGHT && is(p, PROMQL_TOK_FILL_LEFT))))
            break;
    }
    return true;
}

static struct promql_expr *parse_expr(struct parser *p, int min_prec)
{
    struct promql_expr *lhs = NULL;
    if (++p->depth > PROMQL_MAX_DEPTH) {
        pp_fail(p, p->tok.pos, "query is too deeply nested (more than %d levels)",
                PROMQL_MAX_DEPTH);
        goto out;
    }
    lhs = parse_unary(p);
    while (lhs) {
        int prec = tokinfo[p->tok.type].prec;
        if (!prec || prec < min_prec)
            break;
        enum promql_binop op = (enum promql_binop)tokinfo[p->tok.type].op;
        struct promql_matching *m = promql_ast_alloc(p->ast, sizeof *m);
        struct vec labels = {0}, include = {0};
        bool ret_bool = false, fill = false;
        if (!m) {
            lhs = pp_oom(p);
            break;
        }
        advance(p);
        if (is(p, PROMQL_TOK_BOOL)) {
            ret_bool = true;
            advance(p);
        }
        if (is(p, PROMQL_TOK_ON) || is(p, PROMQL_TOK_IGNORING)) {
            m->on = is(p, PROMQL_TOK_ON);
            advance(p);
            if (!parse_grouping(p, &labels)) {
                lhs = NULL;
                break;
            }
            if (is(p, PROMQL_TOK_GROUP_LEFT) || is(p, PROMQL_TOK_GROUP_RIGHT)) {
                m->card = is(p, PROMQL_TOK_GROUP_LEFT) ? PROMQL_CARD_MANY_TO_ONE
                                                       : PROMQL_CARD_ONE_TO_MANY;
                advance(p);
                /* the label list is optional: '(' starts it; a token that
                 * cannot begin the right operand either is its error */
                if ((is(p, PROMQL_TOK_LEFT_PAREN) ||
                     (!is(p, PROMQL_TOK_ERROR) && !starts_expr(p->tok.type))) &&
                    !parse_grouping(p, &include)) {
                    lhs = NULL;
                    break;
                }
            }
        }
        if (is(p, PROMQL_TOK_FILL) || is(p, PROMQL_TOK_FILL_LEFT) || is(p, PROMQL_TOK_FILL_RIGHT)) {
            if (!parse_fill(p)) {
                lhs = NULL;
                break;
            }
            fill = true;
        }
        struct promql_expr *rhs = parse_expr(p, op == PROMQL_OP_POW ? prec : prec + 1);
        if (!rhs) {
            lhs = NULL;
            break;
        }
        if (fill) {
            lhs = pp_fail(p, lhs->pos, "binop fill modifiers are experimental and not enabled");
            break;
        }
        struct promql_expr *e = node(p, PROMQL_BINARY, lhs->pos, rhs->end);
        if (!e || !below(p, e, lhs) || !below(p, e, rhs)) {
            lhs = NULL;
            break;
        }
        m->labels = labels.items;
        m->nlabels = labels.n;
        m->include = include.items;
        m->ninclude = include.n;
        e->binary.op = op;
        e->binary.lhs = lhs;
        e->binary.rhs = rhs;
        e->binary.return_bool = ret_bool;
        e->binary.matching = m;
        lhs = e;
    }
out:
    p->depth--;
    return lhs;
}

/* --- entry point --------------------------------------------------------- */

static void set_error(const struct parser *p, struct promql_error *err)
{
    if (!err)
        return;
    if (p->rc == PROMQL_ENOMEM) {
        snprintf(err->reason, sizeof err->reason, "out of memory");
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return;
    }
    size_t pos = p->err_pos > p->len ? p->len : p->err_pos;
    unsigned line = 1;
    size_t last_nl = (size_t)-1; /* col = pos - index of the last '\n' before it */
    for (size_t i = 0; i < pos; i++)
        if (p->in[i] == '\n') {
            line++;
            last_nl = i;
        }
    err->pos = pos;
    err->line = line;
    err->col = (unsigned)(pos - last_nl);
    snprintf(err->reason, sizeof err->reason, "%s", p->reason);
    if (p->len == 0)
        snprintf(err->msg, sizeof err->msg, "unknown position: parse error: %s", p->reason);
    else
        snprintf(err->msg, sizeof err->msg, "%u:%u: parse error: %s", line, err->col, p->reason);
    utf8_trim_tail(err->msg);
}

int promql_parse(const char *query, size_t len, unsigned flags, struct promql_ast **out,
                 struct promql_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!out || (!query && len))
        return PROMQL_EINVAL;
    *out = NULL;
    struct parser *p = calloc(1, sizeof *p);
    if (!p)
        return PROMQL_ENOMEM;
    p->in = query ? query : "";
    p->len = len;
    p->flags = flags;
    p->late_pos = SIZE_MAX;
    p->ast = promql_ast_new();
    if (!p->ast) {
        free(p);
        return PROMQL_ENOMEM;
    }
    promql_lex_init(&p->lx, p->in, len);
    advance(p);
    struct promql_expr *root = NULL;
    if (is(p, PROMQL_TOK_EOF)) {
        pp_fail(p, 0, "no expression found in input");
    } else {
        root = parse_expr(p, 0);
        if (root && !is(p, PROMQL_TOK_EOF))
            unexpected_here(p);
        if (root && !p->rc)
            pp_check(p, root);
        if (!p->rc && p->late_pos != SIZE_MAX)
            pp_fail(p, p->late_pos, "%s", p->late_msg);
    }
    int rc = p->rc;
    if (rc) {
        set_error(p, err);
        promql_ast_free(p->ast);
    } else {
        promql_ast_set_root(p->ast, root);
        *out = p->ast;
    }
    free(p);
    return rc;
}
