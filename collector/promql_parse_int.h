/*
 * promql_parse_int.h — what the PromQL parser's two files share (internal
 * to collector/promql_parse.c and collector/promql_check.c; nothing else
 * includes it; not an API).
 *
 * promql_parse.c owns the parser's state and the error helpers declared
 * here; promql_check.c, the static type checker run after a clean parse,
 * reports its errors through them. See promql_parse.c's DESIGN comment for
 * the parser and promql_check.h for the checker.
 *
 * DESIGN
 * - Only what the checker needs is shared: the state (struct parser) and
 *   the first-error helpers. Everything else of the parser stays static in
 *   promql_parse.c.
 * - The shared functions are prefixed pp_ (PromQL parser) since they have
 *   external linkage; they behave like the parser's other error helpers:
 *   only the first error is kept, so a call after one is a no-op.
 */
#ifndef LLMTAP_PROMQL_PARSE_INT_H
#define LLMTAP_PROMQL_PARSE_INT_H

#include <stddef.h>

#include "promql_ast.h"
#include "promql_lex.h"

/* Helpers kept out of line so that the recursive functions' frames stay
 * small: the parser may run on a 256 KiB HTTP thread stack. */
#define NOINLINE __attribute__((noinline))

struct parser {
    const char *in;
    size_t len;
    unsigned flags;
    struct promql_lexer lx;
    struct promql_token tok; /* the current token (comments skipped) */
    size_t prev_end;         /* end of the last consumed token */
    struct promql_ast *ast;
    int depth;  /* recursion depth of parse_expr */
    int in_agg; /* > 0 while inside an aggregation's arguments */
    int rc;     /* the first error (PROMQL_EPARSE / PROMQL_ENOMEM); 0 while none */
    /* The first error Prometheus would not make (it accepts a range below
     * 1ms, a NaN offset, and prints them unparseably): reported only when
     * the query is otherwise valid. SIZE_MAX: none. */
    size_t late_pos;
    const char *late_msg;
    size_t err_pos;
    char reason[1024];
};

/* Records the error printf(fmt, ...) at byte pos of the query, unless an
 * error is already recorded. Returns NULL. */
void *pp_fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records running out of memory, unless an error is already recorded.
 * Returns NULL. */
void *pp_oom(struct parser *p);

/* Go's %q of s[0, len), for messages; returns a buffer the caller frees
 * (NULL: out of memory). */
char *pp_quoted(const char *s, size_t len);

/* pp_fail with fmt's one %s replaced by Go's %q of s[0, len). Returns
 * NULL. */
void *pp_fail_quoted(struct parser *p, size_t pos, const char *fmt, const char *s, size_t len);

#endif
