/*
 * fuzz_promql.c — fuzz target for the PromQL parser and printer
 * (collector/promql_lex.c, promql_parse.c, promql_check.c, promql_ast.c).
 *
 * What it is for: every query string that reaches the collector's
 * Prometheus API goes through promql_parse(), and /api/v1/format_query
 * answers with promql_print(); this target feeds arbitrary bytes to both and
 * checks what must hold for every input.
 *
 * DESIGN
 * - One input = one query, all of its bytes (NUL and invalid UTF-8
 *   included), parsed twice: with default flags and with
 *   PROMQL_PARSE_EXPERIMENTAL.
 * - Invariants (a violation calls abort() after printing what broke, so
 *   libFuzzer and the replay driver both report it as a crash):
 *   1. A refusal is PROMQL_EPARSE with no tree, a position within the
 *      input, line:col that agree with the position, and a message that is
 *      non-empty, valid UTF-8 (it is sent back in JSON) and formatted as
 *      "L:C: parse error: <reason>" ("unknown position: ..." for an empty
 *      query).
 *   2. An accepted query prints to non-empty valid UTF-8 without NUL bytes;
 *      the printing parses again, to the same type, and prints identically
 *      (print is a fixed point after one round).
 *   3. Every node of an accepted tree lies within the input (pos <= end <=
 *      size) and the tree is no deeper than PROMQL_MAX_DEPTH.
 *   4. The experimental flag only adds: what parses without it parses with
 *      it, to the same printing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "promql_parse.h"

#define FUZZ_NAME "fuzz_promql"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (i + k >= n || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t j = 2; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

/* Invariant 3 over the whole tree; returns the tree's height. */
static unsigned check_tree(const struct promql_expr *e, size_t size)
{
    FUZZ_ASSERT(e->pos <= e->end && e->end <= size, "node kind %d at [%zu, %zu) outside [0, %zu)",
                (int)e->kind, e->pos, e->end, size);
    unsigned h = 0, c;
#define SUB(x)                                                                                     \
    do {                                                                                           \
        if ((x) && (c = check_tree((x), size)) > h)                                                \
            h = c;                                                                                 \
    } while (0)
    switch (e->kind) {
    case PROMQL_MATRIX_SELECTOR: SUB(e->matrix.vs); break;
    case PROMQL_SUBQUERY: SUB(e->subquery.expr); break;
    case PROMQL_CALL:
        for (size_t i = 0; i < e->call.nargs; i++)
            SUB(e->call.args[i]);
        break;
    case PROMQL_AGGREGATE:
        SUB(e->agg.param);
        SUB(e->agg.expr);
        break;
    case PROMQL_BINARY:
        SUB(e->binary.lhs);
        SUB(e->binary.rhs);
        break;
    case PROMQL_UNARY: SUB(e->unary.expr); break;
    case PROMQL_PAREN: SUB(e->paren.expr); break;
    default: break;
    }
#undef SUB
    FUZZ_ASSERT(e->depth == h + 1, "node kind %d: depth %u, height %u", (int)e->kind, e->depth,
                h + 1);
    return h + 1;
}

static void check_error(const char *in, size_t size, int rc, const struct promql_error *err)
{
    FUZZ_ASSERT(rc == PROMQL_EPARSE, "promql_parse returned %d (%s)", rc, promql_strerror(rc));
    FUZZ_ASSERT(err->pos <= size, "error position %zu beyond the input (%zu bytes)", err->pos,
                size);
    FUZZ_ASSERT(memchr(err->msg, 0, sizeof err->msg) && memchr(err->reason, 0, sizeof err->reason),
                "message not terminated");
    FUZZ_ASSERT(err->reason[0] != 0, "empty reason");
    FUZZ_ASSERT(utf8_valid(err->msg, strlen(err->msg)), "message is not UTF-8: %s", err->msg);
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < err->pos; i++) {
        if (in[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    FUZZ_ASSERT(err->line == line && err->col == col, "position %zu is %u:%u, error says %u:%u",
                err->pos, line, col, err->line, err->col);
    char prefix[64];
    if (size == 0)
        snprintf(prefix, sizeof prefix, "unknown position: parse error: ");
    else
        snprintf(prefix, sizeof prefix, "%u:%u: parse error: ", line, col);
    FUZZ_ASSERT(strncmp(err->msg, prefix, strlen(prefix)) == 0, "message %s lacks prefix %s",
                err->msg, prefix);
}

/* Parses and, when accepted, returns the printing (caller frees). */
static char *parse_print(const char *in, size_t size, unsigned flags, enum promql_type *type,
                         bool first)
{
    struct promql_ast *a = (struct promql_ast *)&a; /* must be overwritten */
    struct promql_error err;
    int rc = promql_parse(in, size, flags, &a, &err);
    if (rc == PROMQL_ENOMEM)
        return NULL;
    if (rc != PROMQL_OK) {
        FUZZ_ASSERT(a == NULL, "no tree expected after an error");
        if (first)
            check_error(in, size, rc, &err);
        return NULL;
    }
    const struct promql_expr *root = promql_ast_root(a);
    FUZZ_ASSERT(root != NULL, "accepted without a tree");
    if (first)
        FUZZ_ASSERT(check_tree(root, size) <= PROMQL_MAX_DEPTH, "tree deeper than the limit");
    *type = promql_expr_type(root);
    struct buf b = {0};
    rc = promql_print(root, &b);
    promql_ast_free(a);
    if (rc != PROMQL_OK) {
        buf_free(&b);
        return NULL;
    }
    FUZZ_ASSERT(b.len > 0 && strlen(b.p) == b.len, "printing is empty or holds NUL bytes");
    FUZZ_ASSERT(utf8_valid(b.p, b.len), "printing is not UTF-8: %s", b.p);
    return b.p;
}

static void run(const char *in, size_t size, unsigned flags, char **out)
{
    enum promql_type t1 = PROMQL_TYPE_NONE, t2 = PROMQL_TYPE_NONE;
    char *p1 = parse_print(in, size, flags, &t1, true);
    *out = p1;
    if (!p1)
        return;
    struct promql_error err;
    struct promql_ast *a = NULL;
    int rc = promql_parse(p1, strlen(p1), flags, &a, &err);
    FUZZ_ASSERT(rc == PROMQL_OK || rc == PROMQL_ENOMEM,
                "the printing does not parse: %s\n  input:    %.*s\n  printing: %s", err.msg,
                (int)(size > 2000 ? 2000 : size), in, p1);
    promql_ast_free(a);
    char *p2 = parse_print(p1, strlen(p1), flags, &t2, false);
    FUZZ_ASSERT(!p2 || (strcmp(p1, p2) == 0 && t1 == t2),
                "print is not a fixed point:\n  1: %s\n  2: %s", p1, p2 ? p2 : "");
    free(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading past the query is caught. */
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    char *plain = NULL, *exp = NULL;
    run(in, size, 0, &plain);
    run(in, size, PROMQL_PARSE_EXPERIMENTAL, &exp);
    FUZZ_ASSERT(!plain || (exp && strcmp(plain, exp) == 0),
                "accepted without the experimental flag but not the same with it:\n"
                "  plain: %s\n  exp:   %s",
                plain, exp ? exp : "(refused)");
    free(plain);
    free(exp);
    free(in);
    return 0;
}
