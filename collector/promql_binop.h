/*
 * promql_binop.h — PromQL's binary operators (internal to the evaluator,
 * promql_eval.c).
 *
 * What it is for: + - * / % ^ atan2, the comparisons (== != > < >= <=,
 * filtering or with bool), and and/or/unless, between scalars and instant
 * vectors, with on/ignoring and group_left/group_right, as Prometheus 3
 * evaluates them — values, result labels, and error messages.
 *
 * Not thread-safe beyond its context (see promql_value.h).
 */
#ifndef LLMTAP_PROMQL_BINOP_H
#define LLMTAP_PROMQL_BINOP_H

#include "promql_ast.h"
#include "promql_value.h"

/* Applies e (a PROMQL_BINARY node) to its evaluated operands ops[0] (left)
 * and ops[1] (right), step-aligned matrices, at every step of st; the
 * result goes to out. The operands are consumed (freed). Returns 0, or an
 * error recorded in c (PROMQL_EEVAL / PROMQL_ENOMEM). */
int pq_binop(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
             struct pq_matrix ops[2], struct pq_matrix *out);

#endif
