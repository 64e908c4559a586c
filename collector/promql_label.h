/*
 * promql_label.h — label_replace() and label_join() over an evaluated
 * matrix (promql_label.c).
 */
#ifndef LLMTAP_PROMQL_LABEL_H
#define LLMTAP_PROMQL_LABEL_H

#include "promql_value.h"

/* Evaluates expression e into out (the evaluator's, for the first
 * argument). */
typedef int (*pq_eval_arg_fn)(void *ud, const struct promql_expr *e, struct pq_matrix *out);

/* label_replace(v, dst, replacement, src, regex) and label_join(v, dst,
 * separator, src...) call e: its checks, then v evaluated by eval_arg into
 * out and every series' label rewritten. The caller then merges series
 * whose labels became equal. Errors as pq_fail. */
int pq_label_replace(struct pq_ctx *c, const struct promql_expr *e, pq_eval_arg_fn eval_arg,
                     void *ud, struct pq_matrix *out);
int pq_label_join(struct pq_ctx *c, const struct promql_expr *e, pq_eval_arg_fn eval_arg, void *ud,
                  struct pq_matrix *out);

#endif
