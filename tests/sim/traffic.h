/*
 * traffic.h — `llmtap-sim traffic`: post generated events to an agent's
 * intake endpoint (POST <target>/v1/events) at a steady rate.
 */
#ifndef LLMTAP_SIM_TRAFFIC_H
#define LLMTAP_SIM_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "gen.h"

enum traffic_body {
    TRAFFIC_BODY_AUTO,   /* batch 1: one object; batch > 1: alternate array / NDJSON */
    TRAFFIC_BODY_OBJECT, /* only valid with batch 1 */
    TRAFFIC_BODY_ARRAY,
    TRAFFIC_BODY_NDJSON,
};

struct traffic_opts {
    const char *target; /* agent base URL, e.g. http://127.0.0.1:7311 */
    double rate;        /* events per second; 0 = as fast as possible */
    double duration;    /* seconds; 0 = no time limit */
    uint64_t count;     /* events; 0 = no count limit */
    int batch;          /* events per request, >= 1 */
    enum traffic_body body;
    const char *out;     /* NDJSON file of accepted events, or NULL */
    bool allow_errors;   /* exit 0 even after rejections / HTTP errors */
    double connect_wait; /* seconds to wait for the agent at start */
    long timeout_ms;     /* per request */
    double progress;     /* seconds between progress lines; 0 = none */
    struct gen_opts gen;
};

/*
 * Run until the duration or count is reached, or SIGINT/SIGTERM (a second
 * one kills the process). Prints progress to stderr and a one-line summary to
 * stdout. Returns the process exit code: 0 = every event accepted (or
 * allow_errors), 1 = rejections, HTTP/transport errors, or the agent never
 * became reachable.
 */
int traffic_run(const struct traffic_opts *o);

#endif
