/*
 * promql_rate.c — rate() and increase() over a range, walked while the
 * source reads each series.
 *
 * What it is for. A day-long range query over many series is bound by
 * memory traffic more than by arithmetic: reading every series into an
 * array of its own and only then walking them all writes and reads the
 * whole selection (16 bytes a sample) through main memory. When the source
 * offers it (promql_select.visit), the exact whole-range rate() of a
 * selector is walked by the reader right after it has read a series,
 * while its samples are in the core's cache, and the source then need not
 * keep them: the next series is read into the same memory.
 *
 * DESIGN
 * - The walk is pq_fn_exact_rate_steps, with the reset counts and grid the
 *   evaluator would use (from the source's facts), so the results are the
 *   same bit for bit; the evaluator then takes them in its own order
 *   (sorted by labels) as it takes the pool's walks.
 * - The sample limit: each walk runs to its end and notes the most it
 *   held; the evaluator then applies the limit in series order as it does
 *   for the pool's walks. A serial walk stops inside a series, and
 *   telling where needs the samples: when a walk held more than the limit
 *   leaves, the evaluator reads the series again, without walks, and
 *   fails where the serial loop fails. The readers walk at all only when
 *   the results (one a step at most) fit within the limit
 *   (pq_rate_prepare), so memory stays within the limit's reach.
 * - Memory: each walk's results go to a pq_blk_new block (malloc; a
 *   reader thread must not touch the evaluator's heap), which the
 *   evaluator adopts into its heap; the slots' arrays come from the
 *   evaluator's heap in prepare, on its own thread.
 */
#include "promql_rate.h"

#include <stdlib.h>
#include <string.h>

#include "promql_eval.h"

size_t pq_rate_room(size_t n, size_t nsteps, size_t reach)
{
    size_t room = n < nsteps / reach + 1 ? n * reach : nsteps;
    return room < nsteps ? room : nsteps;
}

bool pq_rate_prepare(void *ud, size_t n)
{
    struct pq_rate_visit *rv = ud;
    uint64_t steps = rv->proto.nsteps;
    if (rv->ready || n == 0 || steps == 0 || n > UINT64_MAX / steps ||
        (uint64_t)n * steps > rv->headroom)
        return false;
    rv->out = pq_alloc(rv->heap, n * sizeof *rv->out);
    rv->nout = pq_alloc(rv->heap, 2 * n * sizeof *rv->nout);
    rv->peak = pq_alloc(rv->heap, n * sizeof *rv->peak);
    rv->over = pq_alloc(rv->heap, 2 * n * sizeof *rv->over);
    if (!rv->out || !rv->nout || !rv->peak || !rv->over) {
        pq_rate_visit_free(rv);
        return false;
    }
    memset(rv->out, 0, n * sizeof *rv->out);
    memset(rv->over, 0, 2 * n * sizeof *rv->over);
    rv->room = rv->nout + n;
    rv->took = rv->over + n;
    rv->n = n;
    rv->ready = true;
    return true;
}

bool pq_rate_visit(void *ud, size_t slot, const struct promql_sample *p, size_t n,
                   const struct promql_facts *f)
{
    struct pq_rate_visit *rv = ud;
    if (!rv->ready || slot >= rv->n || rv->took[slot] || !n || !f->checked || f->nstale)
        return false;
    size_t room = pq_rate_room(n, rv->proto.nsteps, rv->reach);
    struct promql_sample *out = pq_blk_new(room * sizeof *out);
    if (!out)
        return false;
    /* the reset counts as the evaluator makes them (count_resets): a
     * prefix count when there are any, so a window without one is O(1) */
    uint32_t *resets = NULL;
    if (f->nresets && n < UINT32_MAX) {
        if (!(resets = malloc(n * sizeof *resets))) {
            pq_blk_drop(out);
            return false;
        }
        resets[0] = 0;
        for (size_t j = 1; j < n; j++)
            resets[j] = resets[j - 1] + (p[j].v < p[j - 1].v);
    }
    struct pq_rate_steps a = rv->proto;
    a.p = p;
    a.n = n;
    a.resets = resets;
    a.no_resets = f->nresets == 0 && n < UINT32_MAX;
    a.grid = f->grid;
    rv->nout[slot] = pq_fn_exact_rate_steps(&a, out, &rv->over[slot], &rv->peak[slot]);
    free(resets);
    rv->out[slot] = out;
    rv->room[slot] = room;
    rv->took[slot] = true;
    return true;
}

void pq_rate_visit_free(struct pq_rate_visit *rv)
{
    if (rv->out)
        for (size_t i = 0; i < rv->n; i++)
            pq_blk_drop(rv->out[i]);
    pq_free(rv->heap, rv->out);
    pq_free(rv->heap, rv->nout);
    pq_free(rv->heap, rv->peak);
    pq_free(rv->heap, rv->over);
    rv->out = NULL;
    rv->nout = rv->room = NULL;
    rv->peak = NULL;
    rv->over = rv->took = NULL;
    rv->n = 0;
    rv->ready = false;
}
