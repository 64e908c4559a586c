/*
 * gen.h — the llmtap-sim event generator: deterministic, plausible
 * `llmtap.event/1` events (see EVENT_SCHEMA.md) for demos, tests and the
 * ingest benchmark.
 *
 * Determinism: for a given seed and options, the n-th event's content is
 * always the same. Only `time` and the 48-bit time part of `id` depend on
 * the time the caller passes in; pass the same times (llmtap-sim generate
 * --start) and the output is byte-for-byte identical.
 *
 * Thread rules: a struct gen is not thread-safe; use one per thread.
 */
#ifndef LLMTAP_SIM_GEN_H
#define LLMTAP_SIM_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"

/* Default mean event size in bytes (what --size-hint adjusts), and the
 * range of means the generator can produce. */
#define GEN_DEFAULT_SIZE 2048
#define GEN_MIN_SIZE     1100
#define GEN_MAX_SIZE     (64 * 1024)

struct gen_opts {
    uint64_t seed;
    size_t size_hint;   /* target mean event size in bytes; 0 = GEN_DEFAULT_SIZE */
    double pii_rate;    /* fraction of events whose user message carries an
                         * e-mail address, phone or card number (for redaction
                         * tests); 0 = none */
    double error_rate;  /* fraction of events with status 429/500; < 0 = default (3.5 %) */
    const char *source; /* the `source` field; NULL = "agent-intake" */
    bool time_is_end;   /* the time given to gen_event() is when the call
                         * ended: `time` = t - latency (traffic mode) */
};

struct gen;

/* Create a generator. Returns 0, or -1 with errno = EINVAL for bad options
 * (size_hint outside [GEN_MIN_SIZE, GEN_MAX_SIZE],
 * rates outside [0,1]) or ENOMEM. */
int gen_create(const struct gen_opts *o, struct gen **out);

/* Destroy; accepts NULL. */
void gen_destroy(struct gen *g);

/*
 * Append the next event as one JSON object (no trailing newline) to `out`.
 * `t_us` is a time in microseconds since the Unix epoch (see time_is_end).
 * Returns the number of bytes appended.
 */
size_t gen_event(struct gen *g, int64_t t_us, struct jbuf *out);

/* Events generated so far. */
uint64_t gen_count(const struct gen *g);

#endif
