/*
 * promql_check.h — the PromQL parser's static type checker: Prometheus's
 * checkAST over a freshly parsed tree (internal to promql_parse.c; not an
 * API).
 *
 * What it is for: after a clean parse, promql_parse() refuses what is
 * well-formed but ill-typed (sum("a"), 1 < 2 without bool, rate(x) on an
 * instant vector, {a=""} matching everything, ...) with Prometheus's
 * messages at Prometheus's positions.
 *
 * DESIGN
 * - Reference: Prometheus 3.x promql/parser/parse.go (checkAST). The tree
 *   is walked in the same order, so the first error is the one Prometheus
 *   reports; like the parser, the checker stops at the first error (the
 *   error helpers of promql_parse_int.h keep only the first).
 * - It runs only on a tree that parsed without error, and changes it where
 *   Prometheus's check does: a set operation's one-to-one matching becomes
 *   many-to-many, and the vector matching of a binary expression with a
 *   scalar side is dropped.
 * - Limits: recursion follows the tree, whose depth the parser bounds
 *   (PROMQL_MAX_DEPTH); the helpers with large frames are kept out of line
 *   (NOINLINE) so the recursive frames stay small, as in the parser.
 */
#ifndef LLMTAP_PROMQL_CHECK_H
#define LLMTAP_PROMQL_CHECK_H

#include "promql_ast.h"

struct parser;

/* Type-checks the tree below root, which p has just parsed without error;
 * a type error is recorded in p as the parser's errors are (p->rc,
 * p->err_pos, p->reason). Does nothing when p already holds an error. */
void pp_check(struct parser *p, struct promql_expr *root);

#endif
