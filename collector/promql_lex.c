/*
 * promql_lex.c — the PromQL lexer and literal syntax (see promql_lex.h).
 *
 * DESIGN
 * - The lexer is Prometheus's state machine (lex.go) transcribed: the same
 *   states (statements, inside braces, duration expression after '['), the
 *   same one-rune backup discipline, the same quirks, because which input is
 *   an error, and where, is part of what users see. Notable quirks kept:
 *   after the first number inside [...] lexing falls back to the statement
 *   state; an error after emitting a token (')' without '(') is reported at
 *   the end of that token; "fill" is a keyword only before '('.
 * - Runes are decoded like Go's utf8.DecodeRune: an invalid byte is U+FFFD
 *   of width 1, and a literal U+FFFD looks the same, so strings refuse both
 *   ("invalid UTF-8 rune").
 * - Tokens are positions into the caller's input; error messages live in the
 *   lexer (errbuf). The state is plain data, so the parser looks ahead by
 *   copying it.
 * - Literals: numbers follow Go's strconv (ParseInt with base 0, then
 *   ParseFloat), durations model.ParseDuration, quoting strconv.Quote and
 *   FormatFloat(v, 'f', -1, 64). Go's IsPrint is approximated by ranges (the
 *   controls, spaces and format characters that matter); unassigned code
 *   points print as themselves, which still reads back identically.
 */
#include "promql_lex.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

enum { ST_STATEMENTS, ST_BRACES, ST_DURATION, ST_DONE };

#define R_EOF   (-1)
#define R_ERROR 0xFFFD

/* --- token table --------------------------------------------------------- */

enum tok_class { C_OTHER, C_PUNCT, C_OP, C_AGGR, C_KEYWORD, C_PREPROC };

static const struct {
    const char *text;
    enum tok_class cls;
} tokinfo[PROMQL_TOK_COUNT_] = {
    [PROMQL_TOK_LEFT_PAREN] = {"(", C_PUNCT},
    [PROMQL_TOK_RIGHT_PAREN] = {")", C_PUNCT},
    [PROMQL_TOK_LEFT_BRACE] = {"{", C_PUNCT},
    [PROMQL_TOK_RIGHT_BRACE] = {"}", C_PUNCT},
    [PROMQL_TOK_LEFT_BRACKET] = {"[", C_PUNCT},
    [PROMQL_TOK_RIGHT_BRACKET] = {"]", C_PUNCT},
    [PROMQL_TOK_COMMA] = {",", C_PUNCT},
    [PROMQL_TOK_COLON] = {":", C_PUNCT},
    [PROMQL_TOK_EQL] = {"=", C_PUNCT},
    [PROMQL_TOK_ADD] = {"+", C_OP},
    [PROMQL_TOK_SUB] = {"-", C_OP},
    [PROMQL_TOK_MUL] = {"*", C_OP},
    [PROMQL_TOK_DIV] = {"/", C_OP},
    [PROMQL_TOK_MOD] = {"%", C_OP},
    [PROMQL_TOK_POW] = {"^", C_OP},
    [PROMQL_TOK_ATAN2] = {"atan2", C_OP},
    [PROMQL_TOK_EQLC] = {"==", C_OP},
    [PROMQL_TOK_NEQ] = {"!=", C_OP},
    [PROMQL_TOK_LSS] = {"<", C_OP},
    [PROMQL_TOK_LTE] = {"<=", C_OP},
    [PROMQL_TOK_GTR] = {">", C_OP},
    [PROMQL_TOK_GTE] = {">=", C_OP},
    [PROMQL_TOK_TRIM_UPPER] = {"</", C_OP},
    [PROMQL_TOK_TRIM_LOWER] = {">/", C_OP},
    [PROMQL_TOK_EQL_REGEX] = {"=~", C_OP},
    [PROMQL_TOK_NEQ_REGEX] = {"!~", C_OP},
    [PROMQL_TOK_LAND] = {"and", C_OP},
    [PROMQL_TOK_LOR] = {"or", C_OP},
    [PROMQL_TOK_LUNLESS] = {"unless", C_OP},
    [PROMQL_TOK_AT] = {"@", C_OP},
    [PROMQL_TOK_AVG] = {"avg", C_AGGR},
    [PROMQL_TOK_BOTTOMK] = {"bottomk", C_AGGR},
    [PROMQL_TOK_COUNT] = {"count", C_AGGR},
    [PROMQL_TOK_COUNT_VALUES] = {"count_values", C_AGGR},
    [PROMQL_TOK_GROUP] = {"group", C_AGGR},
    [PROMQL_TOK_MAX] = {"max", C_AGGR},
    [PROMQL_TOK_MIN] = {"min", C_AGGR},
    [PROMQL_TOK_QUANTILE] = {"quantile", C_AGGR},
    [PROMQL_TOK_STDDEV] = {"stddev", C_AGGR},
    [PROMQL_TOK_STDVAR] = {"stdvar", C_AGGR},
    [PROMQL_TOK_SUM] = {"sum", C_AGGR},
    [PROMQL_TOK_TOPK] = {"topk", C_AGGR},
    [PROMQL_TOK_LIMITK] = {"limitk", C_AGGR},
    [PROMQL_TOK_LIMIT_RATIO] = {"limit_ratio", C_AGGR},
    [PROMQL_TOK_BOOL] = {"bool", C_KEYWORD},
    [PROMQL_TOK_BY] = {"by", C_KEYWORD},
    [PROMQL_TOK_GROUP_LEFT] = {"group_left", C_KEYWORD},
    [PROMQL_TOK_GROUP_RIGHT] = {"group_right", C_KEYWORD},
    [PROMQL_TOK_FILL] = {"fill", C_KEYWORD},
    [PROMQL_TOK_FILL_LEFT] = {"fill_left", C_KEYWORD},
    [PROMQL_TOK_FILL_RIGHT] = {"fill_right", C_KEYWORD},
    [PROMQL_TOK_IGNORING] = {"ignoring", C_KEYWORD},
    [PROMQL_TOK_OFFSET] = {"offset", C_KEYWORD},
    [PROMQL_TOK_SMOOTHED] = {"smoothed", C_KEYWORD},
    [PROMQL_TOK_ANCHORED] = {"anchored", C_KEYWORD},
    [PROMQL_TOK_ON] = {"on", C_KEYWORD},
    [PROMQL_TOK_WITHOUT] = {"without", C_KEYWORD},
    [PROMQL_TOK_START] = {"start", C_PREPROC},
    [PROMQL_TOK_END] = {"end", C_PREPROC},
    [PROMQL_TOK_STEP] = {"step", C_PREPROC},
    [PROMQL_TOK_RANGE] = {"range", C_PREPROC},
    [PROMQL_TOK_MAX_OF] = {"max_of", C_PREPROC},
    [PROMQL_TOK_MIN_OF] = {"min_of", C_PREPROC},
};

bool promql_tok_is_operator(enum promql_tok t)
{
    return tokinfo[t].cls == C_OP;
}
bool promql_tok_is_aggregator(enum promql_tok t)
{
    return tokinfo[t].cls == C_AGGR;
}
bool promql_tok_is_keyword(enum promql_tok t)
{
    return tokinfo[t].cls == C_KEYWORD;
}

const char *promql_tok_text(enum promql_tok t)
{
    return (unsigned)t < PROMQL_TOK_COUNT_ && tokinfo[t].text ? tokinfo[t].text : "";
}

/* Words the lexer turns into keyword tokens (matched in lower case). */
static enum promql_tok keyword(const char *w, size_t n)
{
    char low[16];
    if (n >= sizeof low)
        return PROMQL_TOK_EOF;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
    low[n] = 0;
    if (strcmp(low, "inf") == 0 || strcmp(low, "nan") == 0)
        return PROMQL_TOK_NUMBER;
    for (int t = PROMQL_TOK_ATAN2; t < PROMQL_TOK_COUNT_; t++) {
        const char *s = tokinfo[t].text;
        if (s && (s[0] >= 'a' && s[0] <= 'z') && strcmp(s, low) == 0)
            return (enum promql_tok)t;
    }
    return PROMQL_TOK_EOF;
}

/* --- runes --------------------------------------------------------------- */

/* Decodes the rune at p (avail > 0 bytes) like Go's utf8.DecodeRune. */
static int32_t decode_rune(const unsigned char *p, size_t avail, size_t *width)
{
    size_t n = utf8_seq(p, avail);
    if (n == 0) {
        *width = 1;
        return R_ERROR;
    }
    *width = n;
    switch (n) {
    case 1: return p[0];
    case 2: return (int32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    case 3: return (int32_t)(p[0] & 0x0F) << 12 | (int32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    default:
        return (int32_t)(p[0] & 0x07) << 18 | (int32_t)(p[1] & 0x3F) << 12 |
               (int32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    }
}

/* Go's unicode.IsPrint, approximately (see DESIGN). */
static bool is_print(int32_t r)
{
    if (r < 0x20 || r == 0x7F)
        return false;
    if (r < 0x7F)
        return true;
    if (r <= 0xA0 || r == 0xAD)
        return false;
    if ((r >= 0x600 && r <= 0x605) || r == 0x61C || r == 0x6DD || r == 0x70F || r == 0x8E2 ||
        r == 0x180E || r == 0x1680)
        return false;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
        (r >= 0x205F && r <= 0x206F) || r == 0x3000)
        return false;
    if ((r >= 0xD800 && r <= 0xF8FF) || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
        r == 0xFFFE || r == 0xFFFF)
        return false;
    if (r == 0x110BD || r == 0x110CD || (r >= 0x13430 && r <= 0x1343F) ||
        (r >= 0x1BCA0 && r <= 0x1BCA3) || (r >= 0x1D173 && r <= 0x1D17A))
        return false;
    /* unassigned planes 3 (after CJK extension H) to 14, tags, private use */
    if ((r >= 0x323B0 && r <= 0xE00FF) || r >= 0xE01F0)
        return false;
    return true;
}

static void put_utf8(struct buf *b, int32_t r)
{
    char t[4];
    size_t n;
    if (r < 0x80) {
        t[0] = (char)r;
        n = 1;
    } else if (r < 0x800) {
        t[0] = (char)(0xC0 | (r >> 6));
        t[1] = (char)(0x80 | (r & 0x3F));
        n = 2;
    } else if (r < 0x10000) {
        t[0] = (char)(0xE0 | (r >> 12));
        t[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        t[2] = (char)(0x80 | (r & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (r >> 18));
        t[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((r >> 6) & 0x3F));
        t[3] = (char)(0x80 | (r & 0x3F));
        n = 4;
    }
    buf_append(b, t, n);
}

/* Appends the escape for an unprintable rune r (Go's appendEscapedRune). */
static void escape_rune(struct buf *b, int32_t r)
{
    switch (r) {
    case '\a': buf_puts(b, "\\a"); return;
    case '\b': buf_puts(b, "\\b"); return;
    case '\f': buf_puts(b, "\\f"); return;
    case '\n': buf_puts(b, "\\n"); return;
    case '\r': buf_puts(b, "\\r"); return;
    case '\t': buf_puts(b, "\\t"); return;
    case '\v': buf_puts(b, "\\v"); return;
    }
    if (r < ' ' || r == 0x7F)
        buf_printf(b, "\\x%02x", (unsigned)r);
    else if (r < 0x10000)
        buf_printf(b, "\\u%04x", (unsigned)r);
    else
        buf_printf(b, "\\U%08x", (unsigned)r);
}

static void quote(struct buf *b, const char *s, size_t len, bool escape_fffd);

void promql_quote(struct buf *b, const char *s, size_t len)
{
    quote(b, s, len, true);
}
void promql_quote_msg(struct buf *b, const char *s, size_t len)
{
    quote(b, s, len, false);
}

static void quote(struct buf *b, const char *s, size_t len, bool escape_fffd)
{
    const unsigned char *p = (const unsigned char *)s;
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < len;) {
        size_t w;
        int32_t r = decode_rune(p + i, len - i, &w);
        if (r == R_ERROR && w == 1) {
            buf_printf(b, "\\x%02x", p[i]);
        } else if (r == '"' || r == '\\') {
            buf_append(b, "\\", 1);
            buf_append(b, p + i, 1);
        } else if ((r != R_ERROR || !escape_fffd) && is_print(r)) {
            buf_append(b, p + i, w);
        } else {
            escape_rune(b, r);
        }
        i += w;
    }
    buf_append(b, "\"", 1);
}

void promql_quote_rune(struct buf *b, int32_t r)
{
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
        r = R_ERROR;
    buf_append(b, "'", 1);
    if (r == '\'' || r == '\\') {
        buf_append(b, "\\", 1);
        put_utf8(b, r);
    } else if (is_print(r)) {
        put_utf8(b, r);
    } else {
        escape_rune(b, r);
    }
    buf_append(b, "'", 1);
}

/* Go's %#U: U+0063 'c' (the quoted rune only when printable). */
static void format_U(struct buf *b, int32_t r)
{
    buf_printf(b, "U+%04X", (unsigned)r);
    if (is_print(r)) {
        buf_puts(b, " '");
        put_utf8(b, r);
        buf_puts(b, "'");
    }
}

/* --- the lexer ----------------------------------------------------------- */

static int32_t lx_next(struct promql_lexer *l)
{
    if (l->pos >= l->len) {
        l->width = 0;
        return R_EOF;
    }
    size_t w;
    int32_t r = decode_rune((const unsigned char *)l->in + l->pos, l->len - l->pos, &w);
    l->width = w;
    l->pos += w;
    return r;
}

static void lx_backup(struct promql_lexer *l)
{
    l->pos -= l->width;
}

static int32_t lx_peek(struct promql_lexer *l)
{
    int32_t r = lx_next(l);
    lx_backup(l);
    return r;
}

static bool in_set(int32_t r, const char *set)
{
    return r > 0 && r < 0x80 && strchr(set, (int)r) != NULL;
}

static bool lx_accept(struct promql_lexer *l, const char *set)
{
    if (in_set(lx_next(l), set))
        return true;
    lx_backup(l);
    return false;
}

static bool lx_is(struct promql_lexer *l, const char *set)
{
    return in_set(lx_peek(l), set);
}

static void lx_accept_run(struct promql_lexer *l, const char *set)
{
    while (in_set(lx_next(l), set))
        ;
    lx_backup(l);
}

static bool is_space(int32_t r)
{
    return r == ' ' || r == '\t' || r == '\n' || r == '\r';
}
static bool is_digit(int32_t r)
{
    return r >= '0' && r <= '9';
}
static bool is_alpha(int32_t r)
{
    return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
}
static bool is_alnum(int32_t r)
{
    return is_alpha(r) || is_digit(r);
}

static bool emit(struct promql_lexer *l, struct promql_token *t, enum promql_tok type)
{
    t->type = type;
    t->pos = l->start;
    t->len = l->pos - l->start;
    t->err = NULL;
    l->start = l->pos;
    return true;
}

/* Produces an error token at l->start and ends lexing. */
__attribute__((format(printf, 3, 0))) static bool
verrorf(struct promql_lexer *l, struct promql_token *t, const char *fmt, va_list ap)
{
    vsnprintf(l->errbuf, sizeof l->errbuf, fmt, ap);
    utf8_trim_tail(l->errbuf);
    t->type = PROMQL_TOK_ERROR;
    t->pos = l->start;
    t->len = 0;
    t->err = l->errbuf;
    l->state = ST_DONE;
    return true;
}

__attribute__((format(printf, 3, 4))) static bool
errorf(struct promql_lexer *l, struct promql_token *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verrorf(l, t, fmt, ap);
    va_end(ap);
    return true;
}

/* An error whose message ends with a quoted rune: "<prefix>'x'<suffix>". */
static bool error_rune(struct promql_lexer *l, struct promql_token *t, const char *prefix,
                       int32_t r, const char *suffix)
{
    struct buf b = {0};
    promql_quote_rune(&b, r);
    errorf(l, t, "%s%s%s", prefix, b.p ? b.p : "", suffix);
    buf_free(&b);
    return true;
}

static bool error_quoted(struct promql_lexer *l, struct promql_token *t, const char *prefix,
                         const char *s, size_t n)
{
    struct buf b = {0};
    promql_quote_msg(&b, s, n);
    errorf(l, t, "%s%s", prefix, b.p ? b.p : "");
    buf_free(&b);
    return true;
}

static void skip_spaces(struct promql_lexer *l)
{
    while (is_space(lx_peek(l)))
        lx_next(l);
    l->start = l->pos;
}

static bool lex_comment(struct promql_lexer *l, struct promql_token *t)
{
    l->pos += 1;
    int32_t r = lx_next(l);
    while (r != '\r' && r != '\n' && r != R_EOF)
        r = lx_next(l);
    lx_backup(l);
    return emit(l, t, PROMQL_TOK_COMMENT);
}

/* The part of lexEscape after the backslash; returns false on an error
 * (already produced into t). */
static bool lex_escape(struct promql_lexer *l, struct promql_token *t, int32_t quote)
{
    int n;
    uint32_t base, max;
    int32_t ch = lx_next(l);
    switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\': return true;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': n = 3, base = 8, max = 255; break;
    case 'x':
        ch = lx_next(l);
        n = 2, base = 16, max = 255;
        break;
    case 'u':
        ch = lx_next(l);
        n = 4, base = 16, max = 0x10FFFF;
        break;
    case 'U':
        ch = lx_next(l);
        n = 8, base = 16, max = 0x10FFFF;
        break;
    case R_EOF: errorf(l, t, "escape sequence not terminated"); return false;
    default:
        if (ch == quote)
            return true;
        {
            struct buf b = {0};
            format_U(&b, ch);
            errorf(l, t, "unknown escape sequence %s", b.p ? b.p : "");
            buf_free(&b);
        }
        return false;
    }
    uint32_t x = 0;
    while (n > 0) {
        uint32_t d = ch >= '0' && ch <= '9'   ? (uint32_t)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (uint32_t)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (uint32_t)(ch - 'A' + 10)
                                              : 16;
        if (d >= base) {
            if (ch == R_EOF) {
                errorf(l, t, "escape sequence not terminated");
            } else {
                struct buf b = {0};
                format_U(&b, ch);
                errorf(l, t, "illegal character %s in escape sequence", b.p ? b.p : "");
                buf_free(&b);
            }
            return false;
        }
        x = x * base + d;
        if (--n > 0)
            ch = lx_next(l);
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
        errorf(l, t, "escape sequence is an invalid Unicode code point");
        return false;
    }
    return true;
}

static bool lex_string(struct promql_lexer *l, struct promql_token *t, int32_t quote)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (r == '\\') {
            if (!lex_escape(l, t, quote))
                return true;
        } else if (r == R_ERROR) {
            return errorf(l, t, "invalid UTF-8 rune");
        } else if (r == R_EOF || r == '\n') {
            return errorf(l, t, "unterminated quoted string");
        } else if (r == quote) {
            break;
        }
    }
    l->state = ST_STATEMENTS;
    return emit(l, t, PROMQL_TOK_STRING);
}

static bool lex_raw_string(struct promql_lexer *l, struct promql_token *t)
{
    for (;;) {
        int32_t r = lx_next(l);
        if (r == R_ERROR)
            return errorf(l, t, "invalid UTF-8 rune");
        if (r == R_EOF)
            return errorf(l, t, "unterminated raw string");
        if (r == '`')
            break;
    }
    l->state = ST_STATEMENTS;
    return emit(l, t, PROMQL_TOK_STRING);
}

/* lex.go's scanNumber: true when a number was scanned. */
static bool scan_number(struct promql_lexer *l)
{
    size_t initial = l->pos;
    const char *digits = "0123456789";
    bool hex = false;
    if (lx_accept(l, "0") && lx_accept(l, "xX")) {
        lx_accept(l, "_");
        digits = "0123456789abcdefABCDEF";
        hex = true;
    }
    char all[40];
    snprintf(all, sizeof all, "%s._eE", digits);
    lx_accept(l, ".");
    lx_accept(l, digits);
    bool dot = false, exp = false;
    while (lx_is(l, all)) {
        if (lx_is(l, ".") && dot) {
            lx_accept(l, ".");
            return false;
        }
        if (lx_is(l, "eE") && exp) {
            lx_accept(l, "eE");
            return false;
        }
        if (lx_accept(l, ".")) {
            dot = true;
            if (lx_accept(l, "_."))
                return false;
            if (hex)
                return false;
            continue;
        }
        if (lx_accept(l, "eE")) {
            exp = true;
            lx_accept(l, "+-");
            if (lx_accept(l, "._eE") || lx_peek(l) == R_EOF)
                return false;
            continue;
        }
        if (lx_accept(l, "_")) {
            if (lx_accept(l, "._eE") || lx_peek(l) == R_EOF)
                return false;
            continue;
        }
        lx_accept_run(l, digits);
    }
    if (l->pos == initial)
        return false;
    return !is_alnum(lx_peek(l));
}

static bool accept_remaining_duration(struct promql_lexer *l)
{
    if (!lx_accept(l, "smhdwy"))
        return false;
    lx_accept(l, "s");
    while (lx_accept(l, "0123456789")) {
        while (lx_accept(l, "0123456789"))
            ;
        if (!lx_accept(l, "smhdw"))
            return false;
        lx_accept(l, "s");
    }
    return !is_alnum(lx_next(l));
}

static bool lex_number_or_duration(struct promql_lexer *l, struct promql_token *t)
{
    l->state = ST_STATEMENTS;
    if (scan_number(l))
        return emit(l, t, PROMQL_TOK_NUMBER);
    if (accept_remaining_duration(l)) {
        lx_backup(l);
        return emit(l, t, PROMQL_TOK_DURATION);
    }
    return error_quoted(l, t, "bad number or duration syntax: ", l->in + l->start,
                        l->pos - l->start);
}

static bool followed_by_left_paren(const struct promql_lexer *l)
{
    for (size_t p = l->pos; p < l->len; p++)
        if (!is_space((unsigned char)l->in[p]))
            return l->in[p] == '(';
    return false;
}

static bool lex_keyword_or_identifier(struct promql_lexer *l, struct promql_token *t)
{
    int32_t r;
    do
        r = lx_next(l);
    while (is_alnum(r) || r == ':');
    lx_backup(l);
    const char *w = l->in + l->start;
    size_t n = l->pos - l->start;
    enum promql_tok kw = keyword(w, n);
    if (kw != PROMQL_TOK_EOF) {
        if ((kw == PROMQL_TOK_FILL || kw == PROMQL_TOK_FILL_LEFT || kw == PROMQL_TOK_FILL_RIGHT) &&
            !followed_by_left_paren(l))
            kw = PROMQL_TOK_IDENTIFIER;
        return emit(l, t, kw);
    }
    return emit(l, t, memchr(w, ':', n) ? PROMQL_TOK_METRIC_IDENTIFIER : PROMQL_TOK_IDENTIFIER);
}

/* step, range, max_of, min_of inside [...] (a duration expression). */
static bool scan_duration_keyword(struct promql_lexer *l, struct promql_token *t)
{
    while (is_alpha(lx_next(l)))
        ;
    lx_backup(l);
    enum promql_tok kw = keyword(l->in + l->start, l->pos - l->start);
    if (kw == PROMQL_TOK_STEP || kw == PROMQL_TOK_RANGE || kw == PROMQL_TOK_MAX_OF ||
        kw == PROMQL_TOK_MIN_OF)
        return emit(l, t, kw);
    return false;
}

static bool is_duration_keyword_start(int32_t r)
{
    return r == 's' || r == 'S' || r == 'r' || r == 'R' || r == 'm' || r == 'M';
}

static bool lex_statements(struct promql_lexer *l, struct promql_token *t)
{
    if (l->brace_open) {
        l->state = ST_BRACES;
        return false;
    }
    if (l->pos < l->len && l->in[l->pos] == '#')
        return lex_comment(l, t);
    int32_t r = lx_next(l);
    switch (r) {
    case R_EOF:
        if (l->paren_depth != 0)
            return errorf(l, t, "unclosed left parenthesis");
        if (l->bracket_open)
            return errorf(l, t, "unclosed left bracket");
        l->state = ST_DONE;
        return emit(l, t, PROMQL_TOK_EOF);
    case ',': return emit(l, t, PROMQL_TOK_COMMA);
    case '*': return emit(l, t, PROMQL_TOK_MUL);
    case '/': return emit(l, t, PROMQL_TOK_DIV);
    case '%': return emit(l, t, PROMQL_TOK_MOD);
    case '+': return emit(l, t, PROMQL_TOK_ADD);
    case '-': return emit(l, t, PROMQL_TOK_SUB);
    case '^': return emit(l, t, PROMQL_TOK_POW);
    case '@': return emit(l, t, PROMQL_TOK_AT);
    case '=': {
        int32_t n = lx_peek(l);
        if (n == '=') {
            lx_next(l);
            return emit(l, t, PROMQL_TOK_EQLC);
        }
        if (n == '~')
            return error_rune(l, t, "unexpected character after '=': ", n, "");
        return emit(l, t, PROMQL_TOK_EQL);
    }
    case '!': {
        int32_t n = lx_next(l);
        if (n != '=')
            return error_rune(l, t, "unexpected character after '!': ", n, "");
        return emit(l, t, PROMQL_TOK_NEQ);
    }
    case '<':
    case '>': {
        int32_t n = lx_peek(l);
        if (n == '=') {
            lx_next(l);
            return emit(l, t, r == '<' ? PROMQL_TOK_LTE : PROMQL_TOK_GTE);
        }
        if (n == '/') {
            lx_next(l);
            return emit(l, t, r == '<' ? PROMQL_TOK_TRIM_UPPER : PROMQL_TOK_TRIM_LOWER);
        }
        return emit(l, t, r == '<' ? PROMQL_TOK_LSS : PROMQL_TOK_GTR);
    }
    case '"':
    case '\'': return lex_string(l, t, r);
    case '`': return lex_raw_string(l, t);
    case '(': l->paren_depth++; return emit(l, t, PROMQL_TOK_LEFT_PAREN);
    case ')':
        emit(l, t, PROMQL_TOK_RIGHT_PAREN);
        if (--l->paren_depth < 0)
            return error_rune(l, t, "unexpected right parenthesis ", r, "");
        return true;
    case '{':
        l->brace_open = true;
        l->state = ST_BRACES;
        return emit(l, t, PROMQL_TOK_LEFT_BRACE);
    case '[':
        if (l->bracket_open)
            return error_rune(l, t, "unexpected left bracket ", r, "");
        l->got_colon = false;
        emit(l, t, PROMQL_TOK_LEFT_BRACKET);
        if (is_space(lx_peek(l)))
            skip_spaces(l);
        l->bracket_open = true;
        l->state = ST_DURATION;
        return true;
    case ']':
        if (!l->bracket_open)
            return error_rune(l, t, "unexpected right bracket ", r, "");
        l->bracket_open = false;
        return emit(l, t, PROMQL_TOK_RIGHT_BRACKET);
    }
    if (is_space(r)) {
        skip_spaces(l);
        return false;
    }
    if (is_digit(r) || (r == '.' && is_digit(lx_peek(l)))) {
        lx_backup(l);
        return lex_number_or_duration(l, t);
    }
    if (is_alpha(r) || r == ':') {
        if (!l->bracket_open) {
            lx_backup(l);
            return lex_keyword_or_identifier(l, t);
        }
        if (r == ':') {
            if (l->got_colon)
                return error_rune(l, t, "unexpected colon ", r, "");
            l->got_colon = true;
            return emit(l, t, PROMQL_TOK_COLON);
        }
        if (is_duration_keyword_start(r) && scan_duration_keyword(l, t))
            return true;
        return error_rune(l, t, "unexpected character: ", r, ", expected ':'");
    }
    return error_rune(l, t, "unexpected character: ", r, "");
}

static bool lex_inside_braces(struct promql_lexer *l, struct promql_token *t)
{
    if (l->pos < l->len && l->in[l->pos] == '#')
        return lex_comment(l, t);
    int32_t r = lx_next(l);
    if (r == R_EOF)
        return errorf(l, t, "unexpected end of input inside braces");
    if (is_space(r)) {
        skip_spaces(l);
        return false;
    }
    if (is_alpha(r)) {
        while (is_alnum(lx_next(l)))
            ;
        lx_backup(l);
        return emit(l, t, PROMQL_TOK_IDENTIFIER);
    }
    switch (r) {
    case ',': return emit(l, t, PROMQL_TOK_COMMA);
    case '"':
    case '\'': return lex_string(l, t, r);
    case '`': return lex_raw_string(l, t);
    case '=':
        if (lx_next(l) == '~')
            return emit(l, t, PROMQL_TOK_EQL_REGEX);
        lx_backup(l);
        return emit(l, t, PROMQL_TOK_EQL);
    case '!': {
        int32_t n = lx_next(l);
        if (n == '~')
            return emit(l, t, PROMQL_TOK_NEQ_REGEX);
        if (n == '=')
            return emit(l, t, PROMQL_TOK_NEQ);
        return error_rune(l, t, "unexpected character after '!' inside braces: ", n, "");
    }
    case '{': return error_rune(l, t, "unexpected left brace ", r, "");
    case '}':
        l->brace_open = false;
        l->state = ST_STATEMENTS;
        return emit(l, t, PROMQL_TOK_RIGHT_BRACE);
    }
    return error_rune(l, t, "unexpected character inside braces: ", r, "");
}

static bool lex_duration_expr(struct promql_lexer *l, struct promql_token *t)
{
    int32_t r = lx_next(l);
    switch (r) {
    case R_EOF: return errorf(l, t, "unexpected end of input in duration expression");
    case ']':
        l->bracket_open = false;
        l->got_colon = false;
        l->state = ST_STATEMENTS;
        return emit(l, t, PROMQL_TOK_RIGHT_BRACKET);
    case ':':
        emit(l, t, PROMQL_TOK_COLON);
        if (!l->got_duration)
            return errorf(l, t, "unexpected colon before duration in duration expression");
        if (l->got_colon)
            return errorf(l, t, "unexpected repeated colon in duration expression");
        l->got_colon = true;
        return true;
    case '(': l->paren_depth++; return emit(l, t, PROMQL_TOK_LEFT_PAREN);
    case ')':
        emit(l, t, PROMQL_TOK_RIGHT_PAREN);
        if (--l->paren_depth < 0)
            return error_rune(l, t, "unexpected right parenthesis ", r, "");
        return true;
    case '+': return emit(l, t, PROMQL_TOK_ADD);
    case '-': return emit(l, t, PROMQL_TOK_SUB);
    case '*': return emit(l, t, PROMQL_TOK_MUL);
    case '/': return emit(l, t, PROMQL_TOK_DIV);
    case '%': return emit(l, t, PROMQL_TOK_MOD);
    case '^': return emit(l, t, PROMQL_TOK_POW);
    case ',': return emit(l, t, PROMQL_TOK_COMMA);
    }
    if (is_space(r)) {
        skip_spaces(l);
        return false;
    }
    if (is_duration_keyword_start(r)) {
        if (scan_duration_keyword(l, t))
            return true;
        return error_rune(l, t, "unexpected character in duration expression: ", r, "");
    }
    if (is_digit(r) || (r == '.' && is_digit(lx_peek(l)))) {
        lx_backup(l);
        l->got_duration = true;
        return lex_number_or_duration(l, t);
    }
    return error_rune(l, t, "unexpected character in duration expression: ", r, "");
}

void promql_lex_init(struct promql_lexer *l, const char *in, size_t len)
{
    memset(l, 0, sizeof *l);
    l->in = in;
    l->len = len;
    l->state = ST_STATEMENTS;
}

void promql_lex_next(struct promql_lexer *l, struct promql_token *t)
{
    for (;;) {
        bool done = false;
        switch (l->state) {
        case ST_DONE:
            t->type = PROMQL_TOK_EOF;
            t->pos = l->start;
            t->len = 0;
            t->err = NULL;
            return;
        case ST_STATEMENTS: done = lex_statements(l, t); break;
        case ST_BRACES: done = lex_inside_braces(l, t); break;
        case ST_DURATION: done = lex_duration_expr(l, t); break;
        }
        if (done)
            return;
    }
}

void promql_token_desc(const char *in, const struct promql_token *t, struct buf *out)
{
    const char *val = in + t->pos;
    size_t n = t->len;
    enum tok_class cls = tokinfo[t->type].cls;
    switch (t->type) {
    case PROMQL_TOK_EOF: buf_puts(out, "end of input"); return;
    case PROMQL_TOK_IDENTIFIER:
        buf_puts(out, "identifier ");
        promql_quote_msg(out, val, n);
        return;
    case PROMQL_TOK_METRIC_IDENTIFIER:
        buf_puts(out, "metric identifier ");
        promql_quote_msg(out, val, n);
        return;
    case PROMQL_TOK_NUMBER: buf_puts(out, "number "); break;
    case PROMQL_TOK_DURATION: buf_puts(out, "duration "); break;
    case PROMQL_TOK_STRING: buf_puts(out, "string "); break;
    case PROMQL_TOK_COMMENT: buf_puts(out, "comment "); break;
    case PROMQL_TOK_ERROR: buf_puts(out, t->err ? t->err : "error"); return;
    default: break;
    }
    if (cls == C_OP || cls == C_AGGR || cls == C_KEYWORD) {
        buf_puts(out, cls == C_OP ? "<op:" : cls == C_AGGR ? "<aggr:" : "<");
        buf_append(out, val, n);
        buf_puts(out, ">");
        return;
    }
    /* Go's %.10q: at most 10 runes of the value, then "..." */
    size_t runes = 0, cut = 0;
    while (cut < n && runes < 10) {
        size_t w;
        decode_rune((const unsigned char *)val + cut, n - cut, &w);
        cut += w;
        runes++;
    }
    if (n > 10) {
        promql_quote_msg(out, val, cut);
        buf_puts(out, "...");
    } else {
        promql_quote_msg(out, val, n);
    }
}

/* --- literals ------------------------------------------------------------ */

bool promql_unquote(const char *tok, size_t len, char *out, size_t *out_len)
{
    if (len < 2 || tok[0] != tok[len - 1])
        return false;
    char q = tok[0];
    const char *s = tok + 1;
    size_t n = len - 2, o = 0;
    if (q == '`') {
        if (memchr(s, '`', n))
            return false;
        memcpy(out, s, n);
        *out_len = n;
        return true;
    }
    if (q != '"' && q != '\'')
        return false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\n')
            return false;
        if (c != '\\') {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if (++i >= n)
            return false;
        c = (unsigned char)s[i++];
        int digits = 0, base = 16;
        bool bytewise = true;
        switch (c) {
        case 'a': out[o++] = '\a'; continue;
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'v': out[o++] = '\v'; continue;
        case '\\': out[o++] = '\\'; continue;
        case '\'':
        case '"':
            if (c != (unsigned char)q)
                return false;
            out[o++] = (char)c;
            continue;
        case 'x': digits = 2; break;
        case 'u': digits = 4, bytewise = false; break;
        case 'U': digits = 8, bytewise = false; break;
        default:
            if (c < '0' || c > '7')
                return false;
            digits = 3, base = 8;
            i--; /* the first octal digit is part of the value */
            break;
        }
        uint32_t v = 0;
        for (int k = 0; k < digits; k++, i++) {
            if (i >= n)
                return false;
            unsigned char d = (unsigned char)s[i];
            uint32_t dv = d >= '0' && d <= '9'   ? (uint32_t)(d - '0')
                          : d >= 'a' && d <= 'f' ? (uint32_t)(d - 'a' + 10)
                          : d >= 'A' && d <= 'F' ? (uint32_t)(d - 'A' + 10)
                                                 : 99;
            if (dv >= (uint32_t)base)
                return false;
            v = v * (uint32_t)base + dv;
        }
        if (bytewise) {
            if (v > 255)
                return false;
            out[o++] = (char)v;
        } else {
            if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
                return false;
            struct buf b = {0};
            put_utf8(&b, (int32_t)v);
            if (!b.p)
                return false;
            memcpy(out + o, b.p, b.len);
            o += b.len;
            buf_free(&b);
        }
    }
    *out_len = o;
    return true;
}

/* Go's strconv underscoreOK: '_' only between digits (or after a base prefix). */
static bool underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    bool hex = false;
    if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1])) {
        i = 2;
        saw = '0';
        hex = s[1] == 'x' || s[1] == 'X';
    }
    for (; i < n; i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) {
            saw = '0';
            continue;
        }
        if (c == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

/* Go's strconv.ParseInt(s, 0, 64) for the unsigned forms the lexer makes. */
static bool go_parse_int(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    const char *p = s;
    size_t m = n;
    unsigned base = 10;
    if (p[0] == '0') {
        if (m >= 3 && (p[1] == 'x' || p[1] == 'X'))
            base = 16, p += 2, m -= 2;
        else if (m >= 3 && (p[1] == 'b' || p[1] == 'B'))
            base = 2, p += 2, m -= 2;
        else if (m >= 3 && (p[1] == 'o' || p[1] == 'O'))
            base = 8, p += 2, m -= 2;
        else
            base = 8, p += 1, m -= 1;
    }
    uint64_t v = 0;
    bool underscores = false;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
        if (c == '_') {
            underscores = true;
            continue;
        } else if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
            d = (unsigned)((c | 0x20) - 'a' + 10);
        } else {
            return false;
        }
        if (d >= base)
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false; /* range error: fall back to ParseFloat */
        v = v * base + d;
    }
    if (underscores && !underscore_ok(s, n))
        return false;
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool ascii_ieq(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != w[i])
            return false;
    return true;
}

bool promql_parse_number(const char *s, size_t len, double *out, char *err, size_t errlen)
{
    int64_t iv;
    if (go_parse_int(s, len, &iv)) {
        *out = (double)iv;
        return true;
    }
    const char *why = "invalid syntax";
    /* Go's ParseFloat: Inf, Infinity, NaN (any case, optional sign), else
     * decimal float syntax with '_' separators; a hex mantissa needs a 'p'
     * exponent, which the lexer never produces, so hex fails here. */
    const char *b = s;
    size_t n = len;
    bool neg = false;
    if (n > 0 && (b[0] == '+' || b[0] == '-')) {
        neg = b[0] == '-';
        b++, n--;
    }
    if (ascii_ieq(b, n, "inf") || ascii_ieq(b, n, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (ascii_ieq(b, n, "nan")) {
        *out = NAN;
        return true;
    }
    bool ok = n > 0 && n < 4096 && underscore_ok(s, len) &&
              !(n >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X'));
    for (size_t i = 0; ok && i < n; i++)
        ok = strchr("0123456789._eE+-", b[i]) != NULL && b[i] != 0;
    if (ok) {
        char tmp[4096];
        size_t m = 0;
        for (size_t i = 0; i < len; i++)
            if (s[i] != '_')
                tmp[m++] = s[i];
        tmp[m] = 0;
        /* Go wants digits somewhere in the mantissa and after an exponent. */
        bool mant = false;
        for (size_t i = 0; i < m && tmp[i] != 'e' && tmp[i] != 'E'; i++)
            mant |= tmp[i] >= '0' && tmp[i] <= '9';
        char *end = NULL;
        errno = 0;
        double v = mant ? strtod(tmp, &end) : 0;
        if (mant && end == tmp + m) {
            if (errno == ERANGE && isinf(v)) {
                why = "value out of range";
            } else {
                *out = v;
                return true;
            }
        }
    }
    struct buf q = {0};
    promql_quote_msg(&q, s, len);
    snprintf(err, errlen, "error parsing number: strconv.ParseFloat: parsing %s: %s",
             q.p ? q.p : "\"\"", why);
    utf8_trim_tail(err);
    buf_free(&q);
    return false;
}

bool promql_parse_duration(const char *s, size_t len, int64_t *ms, char *err, size_t errlen)
{
    static const struct {
        const char *u;
        uint64_t mult; /* nanoseconds */
        int pos;
    } units[] = {
        {"y", 365ULL * 24 * 3600 * 1000000000ULL, 1},
        {"w", 7ULL * 24 * 3600 * 1000000000ULL, 2},
        {"d", 24ULL * 3600 * 1000000000ULL, 3},
        {"h", 3600ULL * 1000000000ULL, 4},
        {"m", 60ULL * 1000000000ULL, 5},
        {"s", 1000000000ULL, 6},
        {"ms", 1000000ULL, 7},
    };
    struct buf q = {0};
    promql_quote_msg(&q, s, len);
    const char *qs = q.p ? q.p : "\"\"";
    bool ok = false;
    if (len == 1 && s[0] == '0') {
        *ms = 0;
        ok = true;
        goto out;
    }
    if (len == 0) {
        snprintf(err, errlen, "empty duration string");
        goto out;
    }
    uint64_t dur = 0;
    int last = 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] < '0' || s[i] > '9')
            goto invalid;
        uint64_t v = 0;
        bool overflow = false;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
                overflow = true;
            else
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (overflow)
            goto invalid;
        size_t u0 = i;
        while (i < len && !(s[i] >= '0' && s[i] <= '9'))
            i++;
        if (i == u0)
            goto invalid;
        size_t k, ulen = i - u0;
        for (k = 0; k < sizeof units / sizeof units[0]; k++)
            if (strlen(units[k].u) == ulen && memcmp(units[k].u, s + u0, ulen) == 0)
                break;
        if (k == sizeof units / sizeof units[0]) {
            struct buf uq = {0};
            promql_quote_msg(&uq, s + u0, ulen);
            snprintf(err, errlen, "unknown unit %s in duration %s", uq.p ? uq.p : "\"\"", qs);
            buf_free(&uq);
            goto out;
        }
        if (units[k].pos <= last)
            goto invalid;
        last = units[k].pos;
        if (v > (1ULL << 63) / units[k].mult) {
            snprintf(err, errlen, "duration out of range");
            goto out;
        }
        dur += v * units[k].mult;
        if (dur > (uint64_t)INT64_MAX) {
            snprintf(err, errlen, "duration out of range");
            goto out;
        }
    }
    *ms = (int64_t)(dur / 1000000ULL);
    ok = true;
    goto out;
invalid:
    snprintf(err, errlen, "not a valid duration string: %s", qs);
out:
    if (!ok)
        utf8_trim_tail(err);
    buf_free(&q);
    return ok;
}

void promql_format_float(struct buf *b, double v)
{
    if (isnan(v)) {
        buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        buf_puts(b, signbit(v) ? "-0" : "0");
        return;
    }
    /* Shortest digits that read back to v: d.ddd × 10^exp. */
    char e[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    const char *p = e;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (neg)
        buf_append(b, "-", 1);
    if (exp < 0) {
        buf_puts(b, "0.");
        for (int i = 0; i < -exp - 1; i++)
            buf_append(b, "0", 1);
        buf_append(b, digits, nd);
        return;
    }
    size_t ip = (size_t)exp + 1; /* digits before the point */
    if (nd <= ip) {
        buf_append(b, digits, nd);
        for (size_t i = nd; i < ip; i++)
            buf_append(b, "0", 1);
    } else {
        buf_append(b, digits, ip);
        buf_append(b, ".", 1);
        buf_append(b, digits + ip, nd - ip);
    }
}

void promql_format_duration(struct buf *b, int64_t ms)
{
    if (ms <= 0) {
        buf_puts(b, "0s");
        return;
    }
    static const struct {
        const char *u;
        int64_t mult;
        bool exact;
    } units[] = {
        {"y", 365LL * 24 * 3600 * 1000, true},
        {"w", 7LL * 24 * 3600 * 1000, true},
        {"d", 24LL * 3600 * 1000, false},
        {"h", 3600LL * 1000, false},
        {"m", 60LL * 1000, false},
        {"s", 1000, false},
        {"ms", 1, false},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (units[i].exact && ms % units[i].mult != 0)
            continue;
        int64_t v = ms / units[i].mult;
        if (v > 0) {
            buf_printf(b, "%lld%s", (long long)v, units[i].u);
            ms -= v * units[i].mult;
        }
    }
}

bool promql_is_legacy_name(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

bool promql_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
