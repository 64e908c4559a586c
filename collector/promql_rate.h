/*
 * promql_rate.h — rate() and increase() over a range, walked while the
 * source reads each series (promql_rate.c).
 */
#ifndef LLMTAP_PROMQL_RATE_H
#define LLMTAP_PROMQL_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql_func.h"
#include "promql_value.h"

/* The room a whole-range rate() walk of n samples needs for its results:
 * each sample is in the windows of at most reach steps (and there is at
 * most one result a step). */
size_t pq_rate_room(size_t n, size_t nsteps, size_t reach);

/* The walks of one selector's series, done by the source's readers
 * (promql_select.prepare / visit). The evaluator fills proto (every field
 * but p, n, resets, no_resets and grid), reach, heap, and headroom: the
 * samples the evaluation may still hold. */
struct pq_rate_visit {
    struct pq_rate_steps proto;
    size_t reach;
    struct pq_heap *heap;
    uint64_t headroom;
    /* per slot, from prepare (on the evaluating thread); each visit
     * writes only its own slot's */
    size_t n;
    struct promql_sample **out; /* pq_blk_new blocks, until adopted */
    size_t *nout, *room;
    uint64_t *peak;
    bool *over, *took;
    bool ready; /* prepare agreed */
};

/* promql_select.prepare: agrees when the walks' results, at most one a
 * step for each of the n series, fit in the headroom (as exact rate()
 * over the query pool reserves its outputs only within the sample limit),
 * then makes the slots. Where a walk still holds more than the limit
 * leaves (a window of many samples), the evaluator reads the series again
 * without walks, to stop where the serial walk stops. */
bool pq_rate_prepare(void *ud, size_t n);
/* promql_select.visit: walks a series whose facts vouch for its order and
 * that has no staleness markers, into a block of its own; false (the
 * source keeps the samples) otherwise, or when out of memory. */
bool pq_rate_visit(void *ud, size_t slot, const struct promql_sample *p, size_t n,
                   const struct promql_facts *f);
/* Frees the slots' blocks not adopted and the slots. */
void pq_rate_visit_free(struct pq_rate_visit *rv);

#endif
