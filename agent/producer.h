/*
 * producer.h — the agent's path to Kafka: a disk spool in front of an
 * idempotent librdkafka producer.
 *
 * A 202 (or a captured proxy call) means the event is durably queued: every
 * event is appended to the spool (agent/spool.h) before producer_send
 * returns, and leaves it only when the broker has acknowledged it. A
 * shipper thread hands spooled events to librdkafka in order; delivery
 * reports acknowledge them (success) or put them back (failure), so a
 * broker outage, a message timeout, a shutdown before the flush ends or a
 * crash of the agent (even SIGKILL) loses nothing: what is not acknowledged
 * is replayed, after a restart too. Replays can deliver an event twice; the
 * collector drops duplicates by event id.
 *
 * Kafka: idempotent, acks=all, zstd (defaults; any kafka.* property
 * overrides). Key = service, header `llmtap-schema: llmtap.event/1`. An
 * event counts as delivered only when the broker acknowledged it.
 */
#ifndef LLMTAP_AGENT_PRODUCER_H
#define LLMTAP_AGENT_PRODUCER_H

#include <stddef.h>

struct config;
struct metrics;
struct producer;

/* producer_send errors. */
enum {
    PRODUCER_EFULL = -1,   /* the spool cannot take the event (disk full): retry later */
    PRODUCER_EFAILED = -2, /* the spool failed (I/O error, closing): the event is not kept */
};

/* Opens the spool (spool.* settings) and creates the producer, its poll
 * thread (delivery reports) and its shipper thread. Events left in the spool
 * by an earlier run are shipped first. Returns 0, or -1 with err set (e.g.
 * the spool directory is locked by another agent). */
int producer_create(const struct config *c, struct metrics *m, struct producer **out, char *err,
                    size_t errlen);

/* Appends one event to the spool. On success (0) the event is on disk
 * (page cache; the fsync policy says when it is on stable storage) and
 * `json` is freed. On failure returns PRODUCER_EFULL or PRODUCER_EFAILED
 * and the caller still owns `json`. Never blocks on Kafka. Thread-safe. */
int producer_send(struct producer *p, const char *key, char *json, size_t len);
/* The same, but `json` stays the caller's (the spool copies it): for a
 * caller that writes events into a buffer it reuses. */
int producer_send_copy(struct producer *p, const char *key, const char *json, size_t len);

/* A short description of a producer_send error. */
const char *producer_strerror(int e);

/* NULL while the producer works; after a fatal librdkafka error, its
 * description (events are still spooled, but none is shipped). */
const char *producer_failure(struct producer *p);

/* NULL when deliveries succeed; otherwise why the agent is degraded (the
 * last delivery failed, or every broker is down, and no delivery succeeded
 * since).
 * The agent keeps accepting events meanwhile (they wait in the spool). */
const char *producer_degraded(struct producer *p, char *buf, size_t len);

/* Events accepted and not yet acknowledged by the broker. */
long producer_pending(struct producer *p);

/* Waits up to timeout_ms for every pending event to be acknowledged.
 * Returns how many are still pending (they stay in the spool and are
 * shipped at the next start). */
long producer_flush(struct producer *p, int timeout_ms);

/* Stops the threads, closes the spool (syncing it) and destroys the
 * handle. Accepts NULL. */
void producer_destroy(struct producer *p);

#endif
