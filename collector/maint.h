/*
 * maint.h — background store maintenance of the collector.
 *
 * Today: training the zstd dictionary that event records are compressed
 * with. Small JSON documents compress poorly on their own; a dictionary
 * trained on recent events roughly halves the bytes per stored event (see
 * docs/storage.md). Policy: train once the store holds `store.dict_min_events`
 * events, then again whenever it has grown 4-fold since the last training
 * (so the dictionary follows the traffic while training stays rare).
 *
 * Retention: events older than `retention.events` (by their own time) are
 * deleted at every check, oldest first, in transactions of at most
 * `retention_batch` events with a short pause between them, so ingest takes
 * the store's writer lock between any two of them and is never stalled for
 * longer than one small transaction.
 */
#ifndef LLMTAP_MAINT_H
#define LLMTAP_MAINT_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct store;
struct maint;

struct maint_opts {
    size_t dict_min_events; /* 0 disables training */
    size_t dict_samples;    /* events sampled per training */
    int check_ms;           /* how often the policy is checked */
    int64_t retention_ms;   /* keep events this long (by event time); 0 = forever */
    size_t retention_batch; /* most events deleted per transaction; 0 = 1000 */
};

/* Starts the maintenance thread. Returns NULL on failure. */
struct maint *maint_start(struct store *st, const struct maint_opts *o, struct metrics *m);
/* Changes the retention period (e.g. on SIGHUP); applies from the next check. */
void maint_set_retention(struct maint *mt, int64_t retention_ms);
/* Stops and joins the thread (a training in progress finishes first). Accepts NULL. */
void maint_stop(struct maint *mt);

#endif
