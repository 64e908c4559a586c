/*
 * otlp_join.h — the retrieval-span join of the OTLP intake: documents of a
 * trace's retrieval spans become `context` of the LLM calls of that trace.
 *
 * What it is for: RAG applications retrieve in one span (a GenAI
 * `retrieval` operation, an OpenInference RETRIEVER) and call the model in
 * another, a sibling or a cousin in the same trace. The LLM span carries no
 * documents; the retrieval span carries no model call. The intake hands each
 * decoded batch with its mapped events to otlp_join_batch, which adds the
 * documents of the retrieval spans of the same trace, from the same request
 * or buffered from earlier ones within the window, to each LLM event.
 *
 * Which retrieval joins which call: the documents of retrieval span R go to
 * every event E of the same trace whose operation is not `embeddings` and
 * that did not start before R ended (E.start >= R.end; either time unknown
 * counts as "after"): the model can only have read documents already
 * retrieved, and calls made inside the retrieval (query embedding, a
 * re-ranker) are not given the documents they helped find.
 *
 * What is buffered: only retrieval documents, never events. docs/otlp.md
 * ("The retrieval join") says why; in short, exporters send spans in the
 * order they end, so a retrieval span arrives with or before the calls that
 * used it, and holding events would delay every event and put acknowledged
 * events at risk in memory. The buffer also remembers, for the window, the
 * trace and start time of LLM events already spooled, so that a retrieval
 * span arriving after a call it would have joined is counted as missed.
 *
 * Threads: every function is thread-safe (one mutex); the intake calls
 * otlp_join_batch from the HTTP server's connection threads.
 */
#ifndef LLMTAP_AGENT_OTLP_JOIN_H
#define LLMTAP_AGENT_OTLP_JOIN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"

struct metrics;

#define OTLP_JOIN_WINDOW_DEFAULT_MS 2000
#define OTLP_JOIN_MAX_BYTES_DEFAULT (16u * 1024 * 1024)
#define OTLP_JOIN_MAX_SPANS_DEFAULT 10000
#define OTLP_JOIN_MAX_CONTEXT       256 /* documents on one event (as the proxy's capture) */

struct otlp_join_opts {
    int64_t window_us; /* how long documents wait for calls of their trace; 0 = no join */
    size_t max_bytes;  /* buffered documents (estimated in-memory bytes); 0 = default */
    int max_spans;     /* buffered retrieval spans + remembered LLM calls; 0 = default */
    size_t text_cap;   /* documents of one retrieval span are cut to this (capture.max_text)
                          before they are buffered; 0 = not cut */
};

struct otlp_join_stats {
    uint64_t joined;  /* events given documents */
    uint64_t expired; /* retrieval spans whose window passed without joining an event */
    uint64_t evicted; /* retrieval spans dropped before their window ended: buffer full */
    uint64_t missed;  /* retrieval spans that came after an LLM event they would have joined
                         had already been spooled */
    size_t spans;     /* entries buffered now (retrieval spans + remembered calls) */
    size_t bytes;     /* estimated bytes of buffered documents now */
};

struct otlp_join;

/* A join with its metrics registered in m (may be NULL: no metrics).
 * Returns NULL on allocation failure. With window_us 0 the join is off:
 * otlp_join_batch does nothing. */
struct otlp_join *otlp_join_create(const struct otlp_join_opts *o, struct metrics *m);
/* Frees the buffer (documents only: no event is ever held here). Accepts NULL. */
void otlp_join_destroy(struct otlp_join *j);

/* Joins the batch b: events[i] is the mapped event of b->spans[i] (NULL for
 * a span that is not an LLM call). Documents of b's retrieval spans and of
 * buffered ones go into the `context` arrays of the matching events (a
 * document equal to one already there, or with the same id, is not added
 * twice; at most OTLP_JOIN_MAX_CONTEXT per event; an event given documents
 * that were cut is marked truncated). Then b's retrieval spans are buffered
 * for the window and its LLM events remembered. now_us is a monotonic clock
 * (timeutil_mono_us) and drives expiry. Returns the number of events given
 * documents. Allocation failures cost documents, never events. */
int otlp_join_batch(struct otlp_join *j, const struct otlp_batch *b, cJSON *const *events,
                    int64_t now_us);

/* Counters since creation and the buffer's size now (entries expired by
 * now_us are dropped first). */
void otlp_join_stats(struct otlp_join *j, int64_t now_us, struct otlp_join_stats *out);

#endif
