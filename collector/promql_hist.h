/*
 * promql_hist.h — classic histograms in the PromQL evaluator:
 * histogram_quantile(), histogram_quantiles() and histogram_fraction()
 * over the bucket series of an evaluation (internal to promql_eval.c; not
 * an API).
 *
 * DESIGN
 * - The bucket series are grouped once (pq_hist_prepare): each input
 *   series' le parsed, its group (its labels without le) and the group's
 *   output labels (without the name); each group's members listed, sorted
 *   by le when the group's le are distinct numbers (the only order a sort
 *   can give them; a step then needs no sort).
 * - pq_hist_step is the step function of the general path (the step loop
 *   of pq_range_eval with the operands gathered into vectors).
 * - pq_hist_quantile_range computes histogram_quantile over a range in one
 *   pass per group, without a vector of every series per step nor the
 *   collector's map: a chunk of steps at a time, each member's samples of
 *   the chunk are read in one run into a table of a row per step (its
 *   buckets in member order, and which are present), then each row's
 *   quantile is taken; a sorted group's with an inlined copy of
 *   pq_bucket_quantile's sorted path (promql_hist.c: the same operations).
 *   The output series come in the order the general path would create them
 *   (first step, then first member present), with the same buckets in the
 *   same order at every step, so the values are the same bit for bit.
 * - With the query pool (opts.pool), more than one group and enough input,
 *   the groups' walks run in parallel (a group's results depend on its own
 *   members only): their output room and each worker's table are allocated
 *   on the evaluating thread first, a worker touches only its group's
 *   series and its own table, and neither allocates, ticks nor counts.
 *   Then the evaluating thread replays, group by group, the ticks and the
 *   pq_hold calls the serial walk makes (a tick per step, a hold per chunk
 *   of its results), so the sample limit fails for exactly the same
 *   max_samples as serially, and the walk's arithmetic is the serial one,
 *   so the series, order and values are too.
 */
#ifndef LLMTAP_PROMQL_HIST_H
#define LLMTAP_PROMQL_HIST_H

#include "promql_func.h"
#include "promql_value.h"

struct pq_hist {
    /* per input series, its le and group (ordinal; SIZE_MAX when le is
     * not a number) */
    double *le;
    size_t *grp;
    const pq_labels **gl; /* per group, the output labels */
    size_t ngrp;
    struct pq_bucket *bk;
    /* Per group, its series (mem[off[g], off[g+1])): sorted by le when the
     * group's le are distinct numbers (sorted[g]; its buckets then need no
     * sort at any step), else in input order, as the vector has them. */
    size_t *mem, *off;
    bool *sorted;
    /* Per step: the value of each series present (stamped with the step),
     * groups stamped when seen, and their order of first appearance. */
    double *val;
    uint32_t *sstamp, *gstamp, stamp;
    size_t *order, nin;
};

/* Groups the bucket series v (the function's histogram argument). Returns
 * 0 or PROMQL_ENOMEM. */
int pq_hist_prepare(struct pq_ctx *c, struct pq_hist *h, struct pq_matrix *v);
/* One step of call e (histogram_quantile, histogram_quantiles or
 * histogram_fraction) with its operands' vectors in: appends the results
 * to out. */
int pq_hist_step(struct pq_ctx *c, struct pq_hist *h, const struct promql_expr *e,
                 struct pq_vector *in, struct pq_vector *out, int64_t ts);
/* histogram_quantile(ops[0], ops[1]) at every step of st into out, the
 * operands freed: 0, an error, or 1 when it declines (two groups with
 * the same output labels, q not one series), leaving everything as it
 * was for the general path. Uses c->o.pool's threads for the groups when
 * there is a pool (call it from the evaluating thread only). */
int pq_hist_quantile_range(struct pq_ctx *c, struct pq_hist *h, const struct pq_steps *st,
                           struct pq_matrix *ops, struct pq_matrix *out);
/* Frees what pq_hist_prepare allocated. */
void pq_hist_free(struct pq_ctx *c, struct pq_hist *h);

#endif
