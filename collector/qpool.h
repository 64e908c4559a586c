/*
 * qpool.h — the query worker pool: lets one query use the machine's other
 * cores for the parts of its work that split by series (reading and
 * decoding the series a selector matches, rate() over each of them).
 *
 * What it is for. A Grafana panel over a day is one query touching
 * hundreds of thousands of samples; on an idle collector only the HTTP
 * thread serving it would work. qpool_for() spreads the indices of a loop
 * over the calling thread and the pool threads that are idle.
 *
 * DESIGN
 * - The calling thread always works on its own loop: it takes indices
 *   from a shared counter until none is left, so a loop completes even
 *   when every pool thread is busy with other queries (no waiting for a
 *   free thread, no deadlock between queries), and a pool thread that
 *   joins late simply finds fewer indices.
 * - A pool thread about to join a loop first calls the loop's join(),
 *   where it acquires what it needs (its own LMDB read transaction, at the
 *   caller's snapshot); a join that fails leaves the loop to the others.
 *   leave() is called after its last index.
 * - Loops in progress are kept in a list; a pool thread serves the oldest
 *   one with indices left. The caller unlists its loop once every index is
 *   taken and waits for the pool threads still inside it, so nothing of the
 *   loop (its context lives on the caller's stack) is used after
 *   qpool_for returns.
 * - Indices are handed out one at a time (the work per index, a series, is
 *   large against an atomic update): the calling thread takes them from the
 *   front, pool threads from the back. Two loops over the same series then
 *   split them alike, so a series read by one thread is mostly walked by
 *   the same thread, whose core may still cache it. (On the 2-vCPU test
 *   machine this made no measurable difference either way.)
 *
 * - A loop may carry a deadline (the query's timeout): each index is
 *   started only while it has not passed; the first thread to find it
 *   passed takes every index left, so the loop ends after the indices
 *   already running, and qpool_for says so.
 *
 * Threads: qpool_for may be called from any number of threads at once.
 * qpool_create/qpool_destroy must not race with qpool_for.
 */
#ifndef LLMTAP_QPOOL_H
#define LLMTAP_QPOOL_H

#include <stddef.h>
#include <stdint.h>

struct qpool;

/* A pool of `threads` pool threads (0: NULL, and qpool_for runs loops on
 * the calling thread alone). NULL also when threads cannot be started. */
struct qpool *qpool_create(unsigned threads);
/* Stops and joins the pool threads. NULL is accepted. */
void qpool_destroy(struct qpool *p);
/* Pool threads (0 for NULL). */
unsigned qpool_threads(const struct qpool *p);

struct qpool_loop {
    size_t n; /* indices 0..n-1 */
    /* fn(ud, w, i): index i, on worker w (0: the calling thread, 1..threads:
     * a pool thread; each w runs its indices in order, one at a time) */
    void (*fn)(void *ud, unsigned w, size_t i);
    /* optional: a pool thread w joining (nonzero: it takes no index) and
     * leaving (only after a successful join) */
    int (*join)(void *ud, unsigned w);
    void (*leave)(void *ud, unsigned w);
    void *ud;
    /* optional: CLOCK_MONOTONIC in ns (0: none); once it has passed, no
     * further index is started (the query's timeout, so that a large
     * loop does not run on long after it) */
    int64_t deadline_ns;
};

/* Runs the loop with the calling thread and any idle pool threads;
 * returns when every index started has finished: 0 when every index ran,
 * -1 when the deadline stopped the loop first (some did not run). */
int qpool_for(struct qpool *p, const struct qpool_loop *loop);

#endif
