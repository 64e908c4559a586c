/*
 * promql_ast.h — the PromQL syntax tree, its function table, and the
 * printer (canonical text, as Prometheus's Expr.String()).
 *
 * What it is for: promql_parse() builds a tree of struct promql_expr; the
 * evaluator walks it; /api/v1/format_query prints it. The tree mirrors
 * Prometheus's promql/parser AST node for node, so evaluation rules written
 * against Prometheus's documentation map one to one.
 *
 * OWNERSHIP: every node, string and array of a tree, and every compiled
 * regular expression in it, belongs to its struct promql_ast and is freed by
 * promql_ast_free(). Pointers into a tree are valid until then. A finished
 * tree is never modified, so any number of threads may read one tree at the
 * same time (promql_matcher_matches included).
 *
 * Strings (struct promql_str) carry a length and are NUL-terminated too:
 * values may contain NUL bytes ("\x00" in a query), so code that must be
 * exact uses .len; code that only compares with ordinary names may use .p.
 *
 * Times: durations, offsets and @ timestamps are whole milliseconds.
 */
#ifndef LLMTAP_PROMQL_AST_H
#define LLMTAP_PROMQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct pcre2_real_code_8; /* pcre2_code with PCRE2_CODE_UNIT_WIDTH 8 */

/* Project error codes of the PromQL modules. */
enum {
    PROMQL_OK = 0,
    PROMQL_EPARSE = -31001, /* the query is invalid; the promql_error says why */
    PROMQL_ENOMEM = -31002,
    PROMQL_EINVAL = -31003, /* bad argument (NULL query, ...) */
};
const char *promql_strerror(int rc);

/* The deepest expression tree a query may build (nesting of parentheses,
 * calls and operands, and the length of a chain like `a or b or c ...`).
 * Deeper queries are refused with a parse error, so that parsing, checking
 * and printing — which recurse — use bounded stack (under 200 KiB with
 * ASan; the collector's HTTP threads have 256 KiB). An evaluator that
 * recurses over the tree may rely on e->depth <= PROMQL_MAX_DEPTH too. */
#define PROMQL_MAX_DEPTH 128

/* The value types of expressions (the API's resultType). */
enum promql_type {
    PROMQL_TYPE_NONE = 0,
    PROMQL_TYPE_SCALAR,
    PROMQL_TYPE_VECTOR, /* instant vector */
    PROMQL_TYPE_MATRIX, /* range vector */
    PROMQL_TYPE_STRING,
};
/* "scalar", "vector", "matrix", "string" (as in API responses), "none". */
const char *promql_type_name(enum promql_type t);
/* "scalar", "instant vector", "range vector", "string" (as in errors). */
const char *promql_type_doc_name(enum promql_type t);

struct promql_str {
    const char *p; /* NUL-terminated; never NULL in a parsed tree */
    size_t len;
};

enum promql_match_op {
    PROMQL_MATCH_EQ,  /* =  */
    PROMQL_MATCH_NE,  /* != */
    PROMQL_MATCH_RE,  /* =~ */
    PROMQL_MATCH_NRE, /* !~ */
};

struct promql_matcher {
    enum promql_match_op op;
    struct promql_str name, value;
    /* For =~ and !~: value compiled with PCRE2, anchored at both ends and
     * with '.' matching newlines (as Prometheus's ^(?s:value)$). Owned by
     * the tree. NULL for = and !=. */
    struct pcre2_real_code_8 *re;
};

/* True when a label value s[0, len) satisfies m (for =~ a full match, for
 * !~ no full match). Any bytes are accepted (invalid UTF-8 never matches a
 * character class that needs a valid character). Allocates PCRE2 match data
 * per call for regex matchers; returns false when that fails (an evaluator
 * matching many values should keep its own match data for m->re). */
bool promql_matcher_matches(const struct promql_matcher *m, const char *s, size_t len);

/* How an @ modifier fixes evaluation time. */
enum promql_at {
    PROMQL_AT_NONE,
    PROMQL_AT_TIME,  /* at_ms */
    PROMQL_AT_START, /* @ start() */
    PROMQL_AT_END,   /* @ end() */
};

enum promql_binop {
    PROMQL_OP_ADD,
    PROMQL_OP_SUB,
    PROMQL_OP_MUL,
    PROMQL_OP_DIV,
    PROMQL_OP_MOD,
    PROMQL_OP_POW,
    PROMQL_OP_ATAN2,
    PROMQL_OP_EQLC, /* == */
    PROMQL_OP_NEQ,
    PROMQL_OP_GTR,
    PROMQL_OP_LSS,
    PROMQL_OP_GTE,
    PROMQL_OP_LTE,
    PROMQL_OP_AND,
    PROMQL_OP_OR,
    PROMQL_OP_UNLESS,
    PROMQL_OP_TRIM_UPPER, /* </  (native histograms only) */
    PROMQL_OP_TRIM_LOWER, /* >/ */
};
const char *promql_binop_name(enum promql_binop op); /* "+", "==", "and", ... */
bool promql_binop_is_comparison(enum promql_binop op);
bool promql_binop_is_set(enum promql_binop op); /* and, or, unless */

enum promql_aggop {
    PROMQL_AGG_SUM,
    PROMQL_AGG_AVG,
    PROMQL_AGG_COUNT,
    PROMQL_AGG_MIN,
    PROMQL_AGG_MAX,
    PROMQL_AGG_GROUP,
    PROMQL_AGG_STDDEV,
    PROMQL_AGG_STDVAR,
    PROMQL_AGG_TOPK,         /* param: scalar */
    PROMQL_AGG_BOTTOMK,      /* param: scalar */
    PROMQL_AGG_QUANTILE,     /* param: scalar */
    PROMQL_AGG_COUNT_VALUES, /* param: string */
    PROMQL_AGG_LIMITK,       /* param: scalar; experimental */
    PROMQL_AGG_LIMIT_RATIO,  /* param: scalar; experimental */
};
const char *promql_aggop_name(enum promql_aggop op);
bool promql_aggop_has_param(enum promql_aggop op);

enum promql_card {
    PROMQL_CARD_ONE_TO_ONE,
    PROMQL_CARD_MANY_TO_ONE,  /* group_left */
    PROMQL_CARD_ONE_TO_MANY,  /* group_right */
    PROMQL_CARD_MANY_TO_MANY, /* and, or, unless */
};

/* Vector matching of a binary operation between two instant vectors. */
struct promql_matching {
    enum promql_card card;
    bool on;                   /* on(labels) rather than ignoring(labels) */
    struct promql_str *labels; /* the on/ignoring list */
    size_t nlabels;
    struct promql_str *include; /* the group_left/group_right list */
    size_t ninclude;
};

/* The functions, as X(id, name), in the order of the table in promql_ast.c
 * (which holds their types): stable ones, then the experimental ones that
 * promql_parse() refuses unless PROMQL_PARSE_EXPERIMENTAL. */
// clang-format off
#define PROMQL_FUNCS(X) \
    X(ABS, "abs") \
    X(ABSENT, "absent") \
    X(ABSENT_OVER_TIME, "absent_over_time") \
    X(ACOS, "acos") \
    X(ACOSH, "acosh") \
    X(ASIN, "asin") \
    X(ASINH, "asinh") \
    X(ATAN, "atan") \
    X(ATANH, "atanh") \
    X(AVG_OVER_TIME, "avg_over_time") \
    X(CEIL, "ceil") \
    X(CHANGES, "changes") \
    X(CLAMP, "clamp") \
    X(CLAMP_MAX, "clamp_max") \
    X(CLAMP_MIN, "clamp_min") \
    X(COS, "cos") \
    X(COSH, "cosh") \
    X(COUNT_OVER_TIME, "count_over_time") \
    X(DAYS_IN_MONTH, "days_in_month") \
    X(DAY_OF_MONTH, "day_of_month") \
    X(DAY_OF_WEEK, "day_of_week") \
    X(DAY_OF_YEAR, "day_of_year") \
    X(DEG, "deg") \
    X(DELTA, "delta") \
    X(DERIV, "deriv") \
    X(EXP, "exp") \
    X(FIRST_OVER_TIME, "first_over_time") \
    X(FLOOR, "floor") \
    X(HISTOGRAM_AVG, "histogram_avg") \
    X(HISTOGRAM_COUNT, "histogram_count") \
    X(HISTOGRAM_FRACTION, "histogram_fraction") \
    X(HISTOGRAM_QUANTILE, "histogram_quantile") \
    X(HISTOGRAM_STDDEV, "histogram_stddev") \
    X(HISTOGRAM_STDVAR, "histogram_stdvar") \
    X(HISTOGRAM_SUM, "histogram_sum") \
    X(HOUR, "hour") \
    X(IDELTA, "idelta") \
    X(INCREASE, "increase") \
    X(IRATE, "irate") \
    X(LABEL_JOIN, "label_join") \
    X(LABEL_REPLACE, "label_replace") \
    X(LAST_OVER_TIME, "last_over_time") \
    X(LN, "ln") \
    X(LOG10, "log10") \
    X(LOG2, "log2") \
    X(MAX_OVER_TIME, "max_over_time") \
    X(MIN_OVER_TIME, "min_over_time") \
    X(MINUTE, "minute") \
    X(MONTH, "month") \
    X(PI, "pi") \
    X(PREDICT_LINEAR, "predict_linear") \
    X(PRESENT_OVER_TIME, "present_over_time") \
    X(QUANTILE_OVER_TIME, "quantile_over_time") \
    X(RAD, "rad") \
    X(RATE, "rate") \
    X(RESETS, "resets") \
    X(ROUND, "round") \
    X(SCALAR, "scalar") \
    X(SGN, "sgn") \
    X(SIN, "sin") \
    X(SINH, "sinh") \
    X(SORT, "sort") \
    X(SORT_DESC, "sort_desc") \
    X(SQRT, "sqrt") \
    X(STDDEV_OVER_TIME, "stddev_over_time") \
    X(STDVAR_OVER_TIME, "stdvar_over_time") \
    X(SUM_OVER_TIME, "sum_over_time") \
    X(TAN, "tan") \
    X(TANH, "tanh") \
    X(TIME, "time") \
    X(TIMESTAMP, "timestamp") \
    X(VECTOR, "vector") \
    X(YEAR, "year") \
    X(DOUBLE_EXPONENTIAL_SMOOTHING, "double_exponential_smoothing") \
    X(END, "end") \
    X(HISTOGRAM_QUANTILES, "histogram_quantiles") \
    X(INFO, "info") \
    X(MAD_OVER_TIME, "mad_over_time") \
    X(MAX_OF, "max_of") \
    X(MIN_OF, "min_of") \
    X(RANGE, "range") \
    X(SORT_BY_LABEL, "sort_by_label") \
    X(SORT_BY_LABEL_DESC, "sort_by_label_desc") \
    X(START, "start") \
    X(START_TIMESTAMP, "start_timestamp") \
    X(STEP, "step") \
    X(TS_OF_FIRST_OVER_TIME, "ts_of_first_over_time") \
    X(TS_OF_LAST_OVER_TIME, "ts_of_last_over_time") \
    X(TS_OF_MAX_OVER_TIME, "ts_of_max_over_time") \
    X(TS_OF_MIN_OVER_TIME, "ts_of_min_over_time")
// clang-format on

#define PROMQL_FUNC_ENUM_(id, name) PROMQL_FN_##id,
enum promql_func_id { PROMQL_FUNCS(PROMQL_FUNC_ENUM_) PROMQL_FN_COUNT_ };
#undef PROMQL_FUNC_ENUM_

#define PROMQL_FUNC_MAX_ARGS 5

struct promql_func {
    enum promql_func_id id;
    const char *name;
    /* Argument types in order; a call passes exactly nargs arguments when
     * variadic is 0. Otherwise the last listed argument is optional and may
     * repeat: nargs-1 .. nargs-1+variadic arguments (variadic > 0), or
     * nargs-1 or more (variadic < 0); the extra ones have the last type. */
    enum promql_type arg_types[PROMQL_FUNC_MAX_ARGS];
    int nargs;
    int variadic;
    enum promql_type ret;
    bool experimental;
};

/* The function called `name` (exact, case-sensitive), or NULL. The result
 * is static. */
const struct promql_func *promql_func_lookup(const char *name);
/* The whole table (in name order within stable and experimental). */
const struct promql_func *promql_funcs(size_t *count);

enum promql_kind {
    PROMQL_NUMBER,
    PROMQL_STRING,
    PROMQL_VECTOR_SELECTOR,
    PROMQL_MATRIX_SELECTOR,
    PROMQL_SUBQUERY,
    PROMQL_CALL,
    PROMQL_AGGREGATE,
    PROMQL_BINARY,
    PROMQL_UNARY,
    PROMQL_PAREN,
};

struct promql_vector_selector {
    struct promql_str name; /* the metric name written before '{' ("" if none) */
    /* All matchers in query order. When the name was written before '{', a
     * last matcher __name__="name" is added (as Prometheus does), so the
     * matchers alone select the series. */
    struct promql_matcher *matchers;
    size_t nmatchers;
    int64_t offset_ms; /* offset modifier; 0 = none; negative allowed */
    enum promql_at at;
    int64_t at_ms; /* PROMQL_AT_TIME: milliseconds since the epoch */
};

struct promql_expr {
    enum promql_kind kind;
    size_t pos, end; /* the expression's bytes in the query: [pos, end) */
    unsigned depth;  /* height of this subtree (1 for a leaf) */
    union {
        struct {
            double value;
            bool duration;       /* written as a duration (5m): printed as one */
            int64_t duration_ms; /* when duration: the value in ms */
        } number;
        struct promql_str string;
        struct promql_vector_selector vs;
        struct {
            struct promql_expr *vs; /* a PROMQL_VECTOR_SELECTOR; its offset and
                                       @ apply to the range */
            int64_t range_ms;       /* > 0 */
        } matrix;
        struct {
            struct promql_expr *expr;
            int64_t range_ms; /* > 0 */
            int64_t step_ms;  /* 0: the default evaluation interval */
            int64_t offset_ms;
            enum promql_at at;
            int64_t at_ms;
        } subquery;
        struct {
            const struct promql_func *func;
            struct promql_expr **args;
            size_t nargs;
        } call;
        struct {
            enum promql_aggop op;
            struct promql_expr *expr;
            struct promql_expr *param; /* NULL unless promql_aggop_has_param */
            struct promql_str *grouping;
            size_t ngrouping;
            bool without;
        } agg;
        struct {
            enum promql_binop op;
            struct promql_expr *lhs, *rhs;
            bool return_bool;
            /* Non-NULL exactly when both sides are instant vectors. */
            struct promql_matching *matching;
        } binary;
        struct {
            char op; /* '-' or '+'; -<number> is folded into the number */
            struct promql_expr *expr;
        } unary;
        struct {
            struct promql_expr *expr;
        } paren;
    };
};

struct promql_ast;

const struct promql_expr *promql_ast_root(const struct promql_ast *a);
/* Frees the tree, its strings and compiled regexes. Accepts NULL. */
void promql_ast_free(struct promql_ast *a);

/* The value type e evaluates to (Prometheus's Expr.Type()). */
enum promql_type promql_expr_type(const struct promql_expr *e);

/* Appends the canonical text of e, as Prometheus's Expr.String() writes it:
 * single spaces around binary operators, `sum by (a) (x)`, sorted label
 * matchers, durations as 1h30m, @ timestamps with three decimals, numbers in
 * shortest form. Parsing the output gives the same tree. Returns 0 or
 * PROMQL_ENOMEM (out->oom set). */
int promql_print(const struct promql_expr *e, struct buf *out);

/* --- for the parser (promql_parse.c) -------------------------------------- */

struct promql_ast *promql_ast_new(void); /* NULL when out of memory */
/* Zeroed, 16-byte aligned memory owned by the tree; NULL when out of memory. */
void *promql_ast_alloc(struct promql_ast *a, size_t n);
/* A NUL-terminated copy of s[0, len) owned by the tree. */
bool promql_ast_strdup(struct promql_ast *a, const char *s, size_t len, struct promql_str *out);
void promql_ast_set_root(struct promql_ast *a, struct promql_expr *root);
/* Compiles m->value into m->re (owned by the tree). Returns PROMQL_OK,
 * PROMQL_ENOMEM, or PROMQL_EPARSE with Prometheus-style text in err
 * ("error parsing regexp: ..."). */
int promql_ast_compile_regex(struct promql_ast *a, struct promql_matcher *m, char *err,
                             size_t errlen);

#endif
