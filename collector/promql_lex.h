/*
 * promql_lex.h — PromQL tokens and literal syntax: the lexer, and the
 * string, number and duration literals read and written back.
 *
 * What it is for: promql_parse.c reads queries with it, promql_ast.c prints
 * literals with it; tests reach it directly. Everything here mirrors
 * Prometheus 3.x (promql/parser/lex.go, strconv, model.ParseDuration) down to
 * the wording of error messages, because Grafana users see those verbatim.
 *
 * Nothing here allocates; nothing keeps global state; every function is
 * safe to call from any thread on its own objects.
 */
#ifndef LLMTAP_PROMQL_LEX_H
#define LLMTAP_PROMQL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Token types, grouped as Prometheus groups them (the group decides how a
 * token is described in "unexpected ..." errors). */
enum promql_tok {
    PROMQL_TOK_EOF,
    PROMQL_TOK_ERROR, /* a lexical error; promql_token.err says what */
    PROMQL_TOK_COMMENT,
    PROMQL_TOK_IDENTIFIER,        /* [a-zA-Z_][a-zA-Z0-9_]* that is not a keyword */
    PROMQL_TOK_METRIC_IDENTIFIER, /* the same with at least one ':' */
    PROMQL_TOK_NUMBER,            /* also Inf and NaN (any case) */
    PROMQL_TOK_DURATION,
    PROMQL_TOK_STRING, /* with its quotes, escapes not decoded */
    /* punctuation */
    PROMQL_TOK_LEFT_PAREN,
    PROMQL_TOK_RIGHT_PAREN,
    PROMQL_TOK_LEFT_BRACE,
    PROMQL_TOK_RIGHT_BRACE,
    PROMQL_TOK_LEFT_BRACKET,
    PROMQL_TOK_RIGHT_BRACKET,
    PROMQL_TOK_COMMA,
    PROMQL_TOK_COLON,
    PROMQL_TOK_EQL, /* '=' (in label matchers) */
    /* operators */
    PROMQL_TOK_ADD,
    PROMQL_TOK_SUB,
    PROMQL_TOK_MUL,
    PROMQL_TOK_DIV,
    PROMQL_TOK_MOD,
    PROMQL_TOK_POW,
    PROMQL_TOK_ATAN2,
    PROMQL_TOK_EQLC, /* == */
    PROMQL_TOK_NEQ,
    PROMQL_TOK_LSS,
    PROMQL_TOK_LTE,
    PROMQL_TOK_GTR,
    PROMQL_TOK_GTE,
    PROMQL_TOK_TRIM_UPPER, /* </ (native histogram trim) */
    PROMQL_TOK_TRIM_LOWER, /* >/ */
    PROMQL_TOK_EQL_REGEX,
    PROMQL_TOK_NEQ_REGEX,
    PROMQL_TOK_LAND,
    PROMQL_TOK_LOR,
    PROMQL_TOK_LUNLESS,
    PROMQL_TOK_AT,
    /* aggregators */
    PROMQL_TOK_AVG,
    PROMQL_TOK_BOTTOMK,
    PROMQL_TOK_COUNT,
    PROMQL_TOK_COUNT_VALUES,
    PROMQL_TOK_GROUP,
    PROMQL_TOK_MAX,
    PROMQL_TOK_MIN,
    PROMQL_TOK_QUANTILE,
    PROMQL_TOK_STDDEV,
    PROMQL_TOK_STDVAR,
    PROMQL_TOK_SUM,
    PROMQL_TOK_TOPK,
    PROMQL_TOK_LIMITK,
    PROMQL_TOK_LIMIT_RATIO,
    /* keywords */
    PROMQL_TOK_BOOL,
    PROMQL_TOK_BY,
    PROMQL_TOK_GROUP_LEFT,
    PROMQL_TOK_GROUP_RIGHT,
    PROMQL_TOK_FILL, /* fill, fill_left, fill_right: keywords only before '(' */
    PROMQL_TOK_FILL_LEFT,
    PROMQL_TOK_FILL_RIGHT,
    PROMQL_TOK_IGNORING,
    PROMQL_TOK_OFFSET,
    PROMQL_TOK_SMOOTHED,
    PROMQL_TOK_ANCHORED,
    PROMQL_TOK_ON,
    PROMQL_TOK_WITHOUT,
    /* preprocessors (@ start(), end(); duration expressions) */
    PROMQL_TOK_START,
    PROMQL_TOK_END,
    PROMQL_TOK_STEP,
    PROMQL_TOK_RANGE,
    PROMQL_TOK_MAX_OF,
    PROMQL_TOK_MIN_OF,
    PROMQL_TOK_COUNT_ /* number of token types */
};

bool promql_tok_is_operator(enum promql_tok t);
bool promql_tok_is_aggregator(enum promql_tok t);
bool promql_tok_is_keyword(enum promql_tok t);
/* Canonical spelling of a fixed token ("sum", "==", "("); "" for the others. */
const char *promql_tok_text(enum promql_tok t);

struct promql_token {
    enum promql_tok type;
    size_t pos, len; /* the token's bytes: input[pos, pos+len) */
    const char *err; /* PROMQL_TOK_ERROR only: the message, owned by the lexer,
                        valid until its next promql_lex_next() */
};

/* The lexer's state. Plain data: copying it (to look ahead) is allowed. */
struct promql_lexer {
    const char *in;
    size_t len;
    size_t pos, start, width;
    int state;
    int paren_depth;
    bool brace_open, bracket_open, got_colon, got_duration;
    char errbuf[1024];
};

/* Starts lexing in[0, len). `in` is not copied: it must outlive the lexer
 * and the tokens. Bytes are arbitrary (NUL, invalid UTF-8 are lexed into
 * error tokens where Prometheus would refuse them). */
void promql_lex_init(struct promql_lexer *l, const char *in, size_t len);
/* The next token. After an EOF or ERROR token it returns EOF forever.
 * Comments are returned as PROMQL_TOK_COMMENT (the parser skips them). */
void promql_lex_next(struct promql_lexer *l, struct promql_token *t);

/* Appends how Prometheus names token t in an "unexpected ..." error:
 * `<op:+>`, `<aggr:sum>`, `<by>`, `identifier "foo"`, `"("`, `end of input`. */
void promql_token_desc(const char *in, const struct promql_token *t, struct buf *out);

/* --- literals ------------------------------------------------------------ */

/* Decodes a string token (with its quotes, as the lexer returned it) into
 * out, which must have room for len bytes (the value is never longer than
 * its quoted form); sets *out_len. Returns false when the token is not a
 * well-formed string literal (the lexer never returns such a one). The
 * value may hold any byte, NUL included (from \x00 or \000). */
bool promql_unquote(const char *tok, size_t len, char *out, size_t *out_len);

/* Parses a number token as Prometheus does: an integer in Go syntax with
 * base prefix (0x.., 0.. octal, '_' separators) first, else a float; Inf,
 * NaN. On error returns false and writes Prometheus's message ("error
 * parsing number: strconv.ParseFloat: parsing \"…\": invalid syntax") into
 * err. */
bool promql_parse_number(const char *s, size_t len, double *out, char *err, size_t errlen);

/* Parses a duration token (model.ParseDuration: units y w d h m s ms, each
 * at most once, largest first; "0" alone). Returns false with the message
 * in err. *ms gets the duration in milliseconds (every unit is a whole
 * number of them). */
bool promql_parse_duration(const char *s, size_t len, int64_t *ms, char *err, size_t errlen);

/* Appends s as a Go double-quoted literal (strconv.Quote): printable UTF-8
 * as is, \" \\ \n \t …, \xNN for bytes that are not UTF-8, \uNNNN for
 * unprintable code points. U+FFFD is always escaped (the lexer refuses a
 * literal one, so escaping it keeps printed queries parseable). */
void promql_quote(struct buf *b, const char *s, size_t len);
/* The same, exactly as Go's %q (U+FFFD as is): for error messages. */
void promql_quote_msg(struct buf *b, const char *s, size_t len);
/* Appends r as a Go rune literal ('x', '\n', '\x00'); r < 0 means U+FFFD. */
void promql_quote_rune(struct buf *b, int32_t r);
/* Appends v as Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest
 * digits that read back to v, never an exponent; +Inf, -Inf, NaN. */
void promql_format_float(struct buf *b, double v);
/* Appends ms as model.Duration prints it ("1h30m", "90d", "0s"); y and w
 * only when they divide it exactly. ms must be >= 0. */
void promql_format_duration(struct buf *b, int64_t ms);

/* True when s is a name Prometheus writes bare: [a-zA-Z_][a-zA-Z0-9_]*. */
bool promql_is_legacy_name(const char *s, size_t len);
/* True when s is valid UTF-8 (what Prometheus 3 requires of label names). */
bool promql_utf8_valid(const char *s, size_t len);

#endif
