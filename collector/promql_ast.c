/*
 * promql_ast.c — PromQL tree storage, the function table, types, label
 * matching and the printer (see promql_ast.h).
 *
 * DESIGN
 * - A tree lives in one arena (common/arena.c): nodes, arrays and strings
 *   are bump-allocated and freed together. Compiled regexes are the only
 *   outside allocations; a list in the arena remembers them for
 *   promql_ast_free().
 * - The function table is Prometheus's (promql/parser/functions.go), same
 *   names, argument types, optional and variadic arguments, and the same
 *   experimental flags. It is sorted by name in the stable and the
 *   experimental part; lookup is a linear scan (90 entries, once per call
 *   site at parse time).
 * - The printer is Prometheus's String() (printer.go) with three deliberate
 *   differences, each so that printed text always parses back to the same
 *   tree: durations and @ timestamps are printed from exact milliseconds
 *   (Prometheus goes through float seconds and can drop a millisecond); a
 *   grouping label spelled Inf or NaN is quoted (bare it would lex as a
 *   number); U+FFFD in strings is escaped (see promql_quote). And +Inf as
 *   the left operand of ^ prints as Inf, since "+Inf ^ 2" means +(Inf ^ 2).
 * - Regex dialect: Prometheus uses Go's RE2 syntax; we compile with PCRE2,
 *   anchored at both ends (PCRE2_ANCHORED | PCRE2_ENDANCHORED, not by
 *   wrapping the pattern, so `a)|(b` or a trailing \Q cannot escape the
 *   anchors), with PCRE2_DOTALL (RE2's (?s) that Prometheus adds),
 *   PCRE2_DOLLAR_ENDONLY (RE2's $ is end of text), PCRE2_UTF with
 *   PCRE2_MATCH_INVALID_UTF (label values need not be UTF-8), and
 *   PCRE2_NEVER_BACKSLASH_C. The common syntax (classes, \d \w \s \b,
 *   (?i), \pL, [[:alpha:]], \Q..\E, repetition, non-greedy, named groups)
 *   means the same in both. PCRE2 accepts more than RE2: backreferences,
 *   lookaround, possessive and atomic groups, recursion, (*VERB)s, repeat
 *   counts above 1000; queries using those work here but would be refused
 *   by Prometheus. RE2 matching is linear-time; PCRE2 backtracks, so the
 *   evaluator should bound matching with a match context.
 */
#include "promql_ast.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "buf.h"
#include "promql_lex.h"
#include "utf8.h"

struct re_node {
    pcre2_code *re;
    struct re_node *next;
};

struct promql_ast {
    struct arena *arena;
    struct promql_expr *root;
    struct re_node *regexes;
};

const char *promql_strerror(int rc)
{
    switch (rc) {
    case PROMQL_OK: return "ok";
    case PROMQL_EPARSE: return "invalid query";
    case PROMQL_ENOMEM: return "out of memory";
    case PROMQL_EINVAL: return "invalid argument";
    }
    return "unknown error";
}

/* --- types, operators ---------------------------------------------------- */

const char *promql_type_name(enum promql_type t)
{
    switch (t) {
    case PROMQL_TYPE_SCALAR: return "scalar";
    case PROMQL_TYPE_VECTOR: return "vector";
    case PROMQL_TYPE_MATRIX: return "matrix";
    case PROMQL_TYPE_STRING: return "string";
    case PROMQL_TYPE_NONE: break;
    }
    return "none";
}

const char *promql_type_doc_name(enum promql_type t)
{
    switch (t) {
    case PROMQL_TYPE_VECTOR: return "instant vector";
    case PROMQL_TYPE_MATRIX: return "range vector";
    default: return promql_type_name(t);
    }
}

const char *promql_binop_name(enum promql_binop op)
{
    static const char *const names[] = {
        [PROMQL_OP_ADD] = "+",         [PROMQL_OP_SUB] = "-",         [PROMQL_OP_MUL] = "*",
        [PROMQL_OP_DIV] = "/",         [PROMQL_OP_MOD] = "%",         [PROMQL_OP_POW] = "^",
        [PROMQL_OP_ATAN2] = "atan2",   [PROMQL_OP_EQLC] = "==",       [PROMQL_OP_NEQ] = "!=",
        [PROMQL_OP_GTR] = ">",         [PROMQL_OP_LSS] = "<",         [PROMQL_OP_GTE] = ">=",
        [PROMQL_OP_LTE] = "<=",        [PROMQL_OP_AND] = "and",       [PROMQL_OP_OR] = "or",
        [PROMQL_OP_UNLESS] = "unless", [PROMQL_OP_TRIM_UPPER] = "</", [PROMQL_OP_TRIM_LOWER] = ">/",
    };
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

bool promql_binop_is_comparison(enum promql_binop op)
{
    return op == PROMQL_OP_EQLC || op == PROMQL_OP_NEQ || op == PROMQL_OP_GTR ||
           op == PROMQL_OP_LSS || op == PROMQL_OP_GTE || op == PROMQL_OP_LTE;
}

bool promql_binop_is_set(enum promql_binop op)
{
    return op == PROMQL_OP_AND || op == PROMQL_OP_OR || op == PROMQL_OP_UNLESS;
}

const char *promql_aggop_name(enum promql_aggop op)
{
    static const char *const names[] = {
        [PROMQL_AGG_SUM] = "sum",           [PROMQL_AGG_AVG] = "avg",
        [PROMQL_AGG_COUNT] = "count",       [PROMQL_AGG_MIN] = "min",
        [PROMQL_AGG_MAX] = "max",           [PROMQL_AGG_GROUP] = "group",
        [PROMQL_AGG_STDDEV] = "stddev",     [PROMQL_AGG_STDVAR] = "stdvar",
        [PROMQL_AGG_TOPK] = "topk",         [PROMQL_AGG_BOTTOMK] = "bottomk",
        [PROMQL_AGG_QUANTILE] = "quantile", [PROMQL_AGG_COUNT_VALUES] = "count_values",
        [PROMQL_AGG_LIMITK] = "limitk",     [PROMQL_AGG_LIMIT_RATIO] = "limit_ratio",
    };
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

bool promql_aggop_has_param(enum promql_aggop op)
{
    return op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK || op == PROMQL_AGG_QUANTILE ||
           op == PROMQL_AGG_COUNT_VALUES || op == PROMQL_AGG_LIMITK || op == PROMQL_AGG_LIMIT_RATIO;
}

/* --- functions ----------------------------------------------------------- */

#define S PROMQL_TYPE_SCALAR
#define V PROMQL_TYPE_VECTOR
#define M PROMQL_TYPE_MATRIX
#define T PROMQL_TYPE_STRING
#define FN(id, name, ret, variadic, exp, ...)                                                      \
    {                                                                                              \
        PROMQL_FN_##id, name, {__VA_ARGS__},                                                       \
            sizeof((enum promql_type[]){PROMQL_TYPE_NONE, __VA_ARGS__}) /                          \
                    sizeof(enum promql_type) -                                                     \
                1,                                                                                 \
            variadic, ret, exp                                                                     \
    }
#define FN0(id, name, ret, exp)                                                                    \
    {                                                                                              \
        PROMQL_FN_##id, name, {PROMQL_TYPE_NONE}, 0, 0, ret, exp                                   \
    }

static const struct promql_func funcs[] = {
    FN(ABS, "abs", V, 0, false, V),
    FN(ABSENT, "absent", V, 0, false, V),
    FN(ABSENT_OVER_TIME, "absent_over_time", V, 0, false, M),
    FN(ACOS, "acos", V, 0, false, V),
    FN(ACOSH, "acosh", V, 0, false, V),
    FN(ASIN, "asin", V, 0, false, V),
    FN(ASINH, "asinh", V, 0, false, V),
    FN(ATAN, "atan", V, 0, false, V),
    FN(ATANH, "atanh", V, 0, false, V),
    FN(AVG_OVER_TIME, "avg_over_time", V, 0, false, M),
    FN(CEIL, "ceil", V, 0, false, V),
    FN(CHANGES, "changes", V, 0, false, M),
    FN(CLAMP, "clamp", V, 0, false, V, S, S),
    FN(CLAMP_MAX, "clamp_max", V, 0, false, V, S),
    FN(CLAMP_MIN, "clamp_min", V, 0, false, V, S),
    FN(COS, "cos", V, 0, false, V),
    FN(COSH, "cosh", V, 0, false, V),
    FN(COUNT_OVER_TIME, "count_over_time", V, 0, false, M),
    FN(DAYS_IN_MONTH, "days_in_month", V, 1, false, V),
    FN(DAY_OF_MONTH, "day_of_month", V, 1, false, V),
    FN(DAY_OF_WEEK, "day_of_week", V, 1, false, V),
    FN(DAY_OF_YEAR, "day_of_year", V, 1, false, V),
    FN(DEG, "deg", V, 0, false, V),
    FN(DELTA, "delta", V, 0, false, M),
    FN(DERIV, "deriv", V, 0, false, M),
    FN(EXP, "exp", V, 0, false, V),
    FN(FIRST_OVER_TIME, "first_over_time", V, 0, false, M),
    FN(FLOOR, "floor", V, 0, false, V),
    FN(HISTOGRAM_AVG, "histogram_avg", V, 0, false, V),
    FN(HISTOGRAM_COUNT, "histogram_count", V, 0, false, V),
    FN(HISTOGRAM_FRACTION, "histogram_fraction", V, 0, false, S, S, V),
    FN(HISTOGRAM_QUANTILE, "histogram_quantile", V, 0, false, S, V),
    FN(HISTOGRAM_STDDEV, "histogram_stddev", V, 0, false, V),
    FN(HISTOGRAM_STDVAR, "histogram_stdvar", V, 0, false, V),
    FN(HISTOGRAM_SUM, "histogram_sum", V, 0, false, V),
    FN(HOUR, "hour", V, 1, false, V),
    FN(IDELTA, "idelta", V, 0, false, M),
    FN(INCREASE, "increase", V, 0, false, M),
    FN(IRATE, "irate", V, 0, false, M),
    FN(LABEL_JOIN, "label_join", V, -1, false, V, T, T, T),
    FN(LABEL_REPLACE, "label_replace", V, 0, false, V, T, T, T, T),
    FN(LAST_OVER_TIME, "last_over_time", V, 0, false, M),
    FN(LN, "ln", V, 0, false, V),
    FN(LOG10, "log10", V, 0, false, V),
    FN(LOG2, "log2", V, 0, false, V),
    FN(MAX_OVER_TIME, "max_over_time", V, 0, false, M),
    FN(MIN_OVER_TIME, "min_over_time", V, 0, false, M),
    FN(MINUTE, "minute", V, 1, false, V),
    FN(MONTH, "month", V, 1, false, V),
    FN0(PI, "pi", S, false),
    FN(PREDICT_LINEAR, "predict_linear", V, 0, false, M, S),
    FN(PRESENT_OVER_TIME, "present_over_time", V, 0, false, M),
    FN(QUANTILE_OVER_TIME, "quantile_over_time", V, 0, false, S, M),
    FN(RAD, "rad", V, 0, false, V),
    FN(RATE, "rate", V, 0, false, M),
    FN(RESETS, "resets", V, 0, false, M),
    FN(ROUND, "round", V, 1, false, V, S),
    FN(SCALAR, "scalar", S, 0, false, V),
    FN(SGN, "sgn", V, 0, false, V),
    FN(SIN, "sin", V, 0, false, V),
    FN(SINH, "sinh", V, 0, false, V),
    FN(SORT, "sort", V, 0, false, V),
    FN(SORT_DESC, "sort_desc", V, 0, false, V),
    FN(SQRT, "sqrt", V, 0, false, V),
    FN(STDDEV_OVER_TIME, "stddev_over_time", V, 0, false, M),
    FN(STDVAR_OVER_TIME, "stdvar_over_time", V, 0, false, M),
    FN(SUM_OVER_TIME, "sum_over_time", V, 0, false, M),
    FN(TAN, "tan", V, 0, false, V),
    FN(TANH, "tanh", V, 0, false, V),
    FN0(TIME, "time", S, false),
    FN(TIMESTAMP, "timestamp", V, 0, false, V),
    FN(VECTOR, "vector", V, 0, false, S),
    FN(YEAR, "year", V, 1, false, V),
    /* experimental */
    FN(DOUBLE_EXPONENTIAL_SMOOTHING, "double_exponential_smoothing", V, 0, true, M, S, S),
    FN0(END, "end", S, true),
    FN(HISTOGRAM_QUANTILES, "histogram_quantiles", V, 9, true, V, T, S, S),
    FN(INFO, "info", V, 1, true, V, V),
    FN(MAD_OVER_TIME, "mad_over_time", V, 0, true, M),
    FN(MAX_OF, "max_of", S, 0, true, S, S),
    FN(MIN_OF, "min_of", S, 0, true, S, S),
    FN0(RANGE, "range", S, true),
    FN(SORT_BY_LABEL, "sort_by_label", V, -1, true, V, T),
    FN(SORT_BY_LABEL_DESC, "sort_by_label_desc", V, -1, true, V, T),
    FN0(START, "start", S, true),
    FN(START_TIMESTAMP, "start_timestamp", V, 0, true, V),
    FN0(STEP, "step", S, true),
    FN(TS_OF_FIRST_OVER_TIME, "ts_of_first_over_time", V, 0, true, M),
    FN(TS_OF_LAST_OVER_TIME, "ts_of_last_over_time", V, 0, true, M),
    FN(TS_OF_MAX_OVER_TIME, "ts_of_max_over_time", V, 0, true, M),
    FN(TS_OF_MIN_OVER_TIME, "ts_of_min_over_time", V, 0, true, M),
};
#undef S
#undef V
#undef M
#undef T
#undef FN
#undef FN0

_Static_assert(sizeof funcs / sizeof funcs[0] == PROMQL_FN_COUNT_,
               "every PROMQL_FUNCS entry has a row in the table");

const struct promql_func *promql_func_lookup(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    return NULL;
}

const struct promql_func *promql_funcs(size_t *count)
{
    *count = sizeof funcs / sizeof funcs[0];
    return funcs;
}

/* --- the tree ------------------------------------------------------------ */

struct promql_ast *promql_ast_new(void)
{
    struct arena *ar = arena_create(8192);
    if (!ar)
        return NULL;
    struct promql_ast *a = arena_alloc(ar, sizeof *a);
    if (!a) {
        arena_destroy(ar);
        return NULL;
    }
    memset(a, 0, sizeof *a);
    a->arena = ar;
    return a;
}

void promql_ast_free(struct promql_ast *a)
{
    if (!a)
        return;
    for (struct re_node *n = a->regexes; n; n = n->next)
        pcre2_code_free(n->re);
    arena_destroy(a->arena); /* a itself lives in the arena */
}

void *promql_ast_alloc(struct promql_ast *a, size_t n)
{
    void *p = arena_alloc(a->arena, n ? n : 1);
    if (p)
        memset(p, 0, n);
    return p;
}

bool promql_ast_strdup(struct promql_ast *a, const char *s, size_t len, struct promql_str *out)
{
    char *p = arena_alloc(a->arena, len + 1);
    if (!p)
        return false;
    if (len)
        memcpy(p, s, len);
    p[len] = 0;
    out->p = p;
    out->len = len;
    return true;
}

void promql_ast_set_root(struct promql_ast *a, struct promql_expr *root)
{
    a->root = root;
}

const struct promql_expr *promql_ast_root(const struct promql_ast *a)
{
    return a ? a->root : NULL;
}

/* Appends s for a message: in backquotes as Go writes regexps in errors,
 * or Go-quoted when it holds anything that would not read cleanly. */
static void put_pattern(struct buf *b, const char *s, size_t len)
{
    bool plain = promql_utf8_valid(s, len);
    for (size_t i = 0; plain && i < len; i++)
        plain = (unsigned char)s[i] >= 0x20 && s[i] != 0x7F && s[i] != '`';
    if (plain) {
        buf_append(b, "`", 1);
        buf_append(b, s, len);
        buf_append(b, "`", 1);
    } else {
        promql_quote_msg(b, s, len);
    }
}

/* True when s has none of RE2's metacharacters but '|' (Go's QuoteMeta
 * leaves each alternative unchanged). */
static bool literal_alternation(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] && strchr("\\.+*?()[]{}^$", s[i]))
            return false;
    return true;
}

int promql_ast_compile_regex(struct promql_ast *a, struct promql_matcher *m, char *err,
                             size_t errlen)
{
    struct re_node *n = promql_ast_alloc(a, sizeof *n);
    if (!n)
        return PROMQL_ENOMEM;
    int code;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
                    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_BACKSLASH_C;
    /* Prometheus never compiles a plain alternation of literals (a|b|c): it
     * compares strings, so any bytes are fine there. Such a pattern means
     * the same byte-wise, which lets it hold invalid UTF-8 too. */
    if (!promql_utf8_valid(m->value.p, m->value.len) &&
        literal_alternation(m->value.p, m->value.len))
        opts &= ~(uint32_t)(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->value.p, m->value.len, opts, &code, &off, NULL);
    if (!re) {
        if (code == PCRE2_ERROR_NOMEMORY || code == PCRE2_ERROR_HEAPLIMIT)
            return PROMQL_ENOMEM;
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        struct buf b = {0};
        buf_printf(&b, "error parsing regexp: %s at offset %zu: ", (char *)msg, (size_t)off);
        put_pattern(&b, m->value.p, m->value.len);
        snprintf(err, errlen, "%s", b.p ? b.p : "error parsing regexp");
        utf8_trim_tail(err);
        buf_free(&b);
        return PROMQL_EPARSE;
    }
    n->re = re;
    n->next = a->regexes;
    a->regexes = n;
    m->re = (struct pcre2_real_code_8 *)re;
    return PROMQL_OK;
}

bool promql_matcher_matches(const struct promql_matcher *m, const char *s, size_t len)
{
    switch (m->op) {
    case PROMQL_MATCH_EQ: return len == m->value.len && memcmp(s, m->value.p, len) == 0;
    case PROMQL_MATCH_NE: return !(len == m->value.len && memcmp(s, m->value.p, len) == 0);
    case PROMQL_MATCH_RE:
    case PROMQL_MATCH_NRE: {
        pcre2_code *re = (pcre2_code *)m->re;
        if (!re)
            return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        if (!md)
            return false;
        int rc = pcre2_match(re, (PCRE2_SPTR)(s ? s : ""), len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return (rc >= 0) == (m->op == PROMQL_MATCH_RE);
    }
    }
    return false;
}

/* --- types --------------------------------------------------------------- */

enum promql_type promql_expr_type(const struct promql_expr *e)
{
    switch (e->kind) {
    case PROMQL_NUMBER: return PROMQL_TYPE_SCALAR;
    case PROMQL_STRING: return PROMQL_TYPE_STRING;
    case PROMQL_VECTOR_SELECTOR:
    case PROMQL_AGGREGATE: return PROMQL_TYPE_VECTOR;
    case PROMQL_MATRIX_SELECTOR:
    case PROMQL_SUBQUERY: return PROMQL_TYPE_MATRIX;
    case PROMQL_CALL: return e->call.func ? e->call.func->ret : PROMQL_TYPE_NONE;
    case PROMQL_BINARY:
        return promql_expr_type(e->binary.lhs) == PROMQL_TYPE_SCALAR &&
                       promql_expr_type(e->binary.rhs) == PROMQL_TYPE_SCALAR
                   ? PROMQL_TYPE_SCALAR
                   : PROMQL_TYPE_VECTOR;
    case PROMQL_UNARY: return promql_expr_type(e->unary.expr);
    case PROMQL_PAREN: return promql_expr_type(e->paren.expr);
    }
    return PROMQL_TYPE_NONE;
}

/* --- the printer --------------------------------------------------------- */

static void print_expr(const struct promql_expr *e, struct buf *b);

/* Grouping and matching labels: bare when a legacy name, else quoted. */
static void print_labels(struct buf *b, const struct promql_str *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ", ");
        bool bare = promql_is_legacy_name(l[i].p, l[i].len) && strcasecmp(l[i].p, "inf") != 0 &&
                    strcasecmp(l[i].p, "nan") != 0;
        if (bare)
            buf_append(b, l[i].p, l[i].len);
        else
            promql_quote(b, l[i].p, l[i].len);
    }
}

static void print_at_offset(struct buf *b, enum promql_at at, int64_t at_ms, int64_t offset_ms)
{
    switch (at) {
    case PROMQL_AT_TIME: {
        /* Go: %.3f of ms/1000, here exact from the integer */
        uint64_t u = at_ms < 0 ? (uint64_t)0 - (uint64_t)at_ms : (uint64_t)at_ms;
        buf_printf(b, " @ %s%llu.%03llu", at_ms < 0 ? "-" : "", (unsigned long long)(u / 1000),
                   (unsigned long long)(u % 1000));
        break;
    }
    case PROMQL_AT_START: buf_puts(b, " @ start()"); break;
    case PROMQL_AT_END: buf_puts(b, " @ end()"); break;
    case PROMQL_AT_NONE: break;
    }
    if (offset_ms > 0) {
        buf_puts(b, " offset ");
        promql_format_duration(b, offset_ms);
    } else if (offset_ms < 0) {
        buf_puts(b, " offset -");
        promql_format_duration(b, -offset_ms);
    }
}

static int cmp_str(const void *x, const void *y)
{
    const struct buf *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void print_matcher(struct buf *b, const struct promql_matcher *m)
{
    if (promql_is_legacy_name(m->name.p, m->name.len))
        buf_append(b, m->name.p, m->name.len);
    else
        promql_quote(b, m->name.p, m->name.len);
    static const char *const ops[] = {"=", "!=", "=~", "!~"};
    buf_puts(b, ops[m->op]);
    promql_quote(b, m->value.p, m->value.len);
}

/* The selector without its modifiers (name and sorted matchers). */
__attribute__((noinline)) static void print_selector(struct buf *b,
                                                     const struct promql_vector_selector *vs)
{
    buf_append(b, vs->name.p, vs->name.len);
    struct buf one[8], *ms = one;
    size_t n = 0;
    if (vs->nmatchers > 8) {
        ms = calloc(vs->nmatchers, sizeof *ms);
        if (!ms) {
            b->oom = true;
            return;
        }
    } else {
        memset(one, 0, sizeof one);
    }
    for (size_t i = 0; i < vs->nmatchers; i++) {
        const struct promql_matcher *m = &vs->matchers[i];
        if (m->op == PROMQL_MATCH_EQ && strcmp(m->name.p, "__name__") == 0 && m->name.len == 8 &&
            m->value.len > 0 && m->value.len == vs->name.len &&
            memcmp(m->value.p, vs->name.p, m->value.len) == 0)
            continue;
        print_matcher(&ms[n], m);
        if (ms[n].oom)
            b->oom = true;
        n++;
    }
    if (n) {
        qsort(ms, n, sizeof *ms, cmp_str);
        buf_append(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_append(b, ",", 1);
            buf_append(b, ms[i].p, ms[i].len);
        }
        buf_append(b, "}", 1);
    }
    for (size_t i = 0; i < n; i++)
        buf_free(&ms[i]);
    if (ms != one)
        free(ms);
}

static void print_expr(const struct promql_expr *e, struct buf *b)
{
    switch (e->kind) {
    case PROMQL_NUMBER:
        if (!e->number.duration) {
            promql_format_float(b, e->number.value);
        } else if (e->number.duration_ms < 0) {
            buf_append(b, "-", 1);
            promql_format_duration(b, -e->number.duration_ms);
        } else {
            promql_format_duration(b, e->number.duration_ms);
        }
        break;
    case PROMQL_STRING: promql_quote(b, e->string.p, e->string.len); break;
    case PROMQL_VECTOR_SELECTOR:
        print_selector(b, &e->vs);
        print_at_offset(b, e->vs.at, e->vs.at_ms, e->vs.offset_ms);
        break;
    case PROMQL_MATRIX_SELECTOR: {
        const struct promql_vector_selector *vs = &e->matrix.vs->vs;
        print_selector(b, vs);
        buf_append(b, "[", 1);
        promql_format_duration(b, e->matrix.range_ms);
        buf_append(b, "]", 1);
        print_at_offset(b, vs->at, vs->at_ms, vs->offset_ms);
        break;
    }
    case PROMQL_SUBQUERY:
        print_expr(e->subquery.expr, b);
        buf_append(b, "[", 1);
        promql_format_duration(b, e->subquery.range_ms);
        buf_append(b, ":", 1);
        if (e->subquery.step_ms)
            promql_format_duration(b, e->subquery.step_ms);
        buf_append(b, "]", 1);
        print_at_offset(b, e->subquery.at, e->subquery.at_ms, e->subquery.offset_ms);
        break;
    case PROMQL_CALL:
        buf_puts(b, e->call.func->name);
        buf_append(b, "(", 1);
        for (size_t i = 0; i < e->call.nargs; i++) {
            if (i)
                buf_puts(b, ", ");
            print_expr(e->call.args[i], b);
        }
        buf_append(b, ")", 1);
        break;
    case PROMQL_AGGREGATE:
        buf_puts(b, promql_aggop_name(e->agg.op));
        if (e->agg.without || e->agg.ngrouping) {
            buf_puts(b, e->agg.without ? " without (" : " by (");
            print_labels(b, e->agg.grouping, e->agg.ngrouping);
            buf_puts(b, ") ");
        }
        buf_append(b, "(", 1);
        if (e->agg.param) {
            print_expr(e->agg.param, b);
            buf_puts(b, ", ");
        }
        print_expr(e->agg.expr, b);
        buf_append(b, ")", 1);
        break;
    case PROMQL_BINARY: {
        const struct promql_matching *m = e->binary.matching;
        const struct promql_expr *l = e->binary.lhs;
        if (e->binary.op == PROMQL_OP_POW && l->kind == PROMQL_NUMBER && !l->number.duration &&
            isinf(l->number.value) && l->number.value > 0)
            buf_puts(b, "Inf"); /* "+Inf ^ x" would read back as +(Inf ^ x) */
        else
            print_expr(l, b);
        buf_append(b, " ", 1);
        buf_puts(b, promql_binop_name(e->binary.op));
        if (e->binary.return_bool)
            buf_puts(b, " bool");
        if (m) {
            bool group = m->card == PROMQL_CARD_MANY_TO_ONE || m->card == PROMQL_CARD_ONE_TO_MANY;
            if (m->nlabels || m->on || group) {
                buf_puts(b, m->on ? " on (" : " ignoring (");
                print_labels(b, m->labels, m->nlabels);
                buf_append(b, ")", 1);
            }
            if (group) {
                buf_puts(b,
                         m->card == PROMQL_CARD_MANY_TO_ONE ? " group_left (" : " group_right (");
                print_labels(b, m->include, m->ninclude);
                buf_append(b, ")", 1);
            }
        }
        buf_append(b, " ", 1);
        print_expr(e->binary.rhs, b);
        break;
    }
    case PROMQL_UNARY:
        buf_append(b, &e->unary.op, 1);
        print_expr(e->unary.expr, b);
        break;
    case PROMQL_PAREN:
        buf_append(b, "(", 1);
        print_expr(e->paren.expr, b);
        buf_append(b, ")", 1);
        break;
    }
}

int promql_print(const struct promql_expr *e, struct buf *out)
{
    if (!e || !out)
        return PROMQL_EINVAL;
    print_expr(e, out);
    return out->oom ? PROMQL_ENOMEM : PROMQL_OK;
}
