/*
 * parse_bench.c — llmtap-bench-parse: how fast one core parses the events
 * the ingest benchmark sends, as a yardstick for the collector's rate.
 *
 *   llmtap-bench-parse [--passes P] FILE.ndjson
 *
 * Loads FILE (one event per line) into memory, then times, P passes each
 * (default 3), the best pass reported:
 *   cjson_parse_only   cJSON_ParseWithLength + cJSON_Delete per event: the
 *                      floor of any pipeline that builds a cJSON tree.
 *   llmtap_parse       event_parse_json (scan + cJSON parse, the collector's
 *                      limits: 1 MiB, depth 32) + event_validate +
 *                      event_fields_get + cJSON_Delete: what the collector's
 *                      ingest thread does per message before the store.
 *
 * Output, one line per measurement, `key=value` words (ingest.py parses them):
 *   cjson_parse_only events=N json_bytes=B best_wall_s=… best_cpu_s=…
 *       events_per_s=… events_per_cpu_s=… mb_per_s=…
 * events_per_s is from the fastest pass by wall time, events_per_cpu_s from
 * the fastest by process CPU time (the tool is single-threaded, so the two
 * agree on an idle machine; CPU time is the steadier one on a busy one).
 * MB is 10^6 bytes of JSON (newlines excluded).
 *
 * Exit status: 0, or 1 when the file cannot be read or an event fails to
 * parse or validate (a benchmark of rejected events would measure the DLQ).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "ndjson.h"

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass of a measurement. Returns the number of events that failed; adds
 * a value derived from each result to *sink so nothing is optimized away. */
typedef size_t (*pass_fn)(const struct ndjson *nd, unsigned long long *sink);

static size_t pass_cjson(const struct ndjson *nd, unsigned long long *sink)
{
    size_t bad = 0;
    for (size_t i = 0; i < nd->n; i++) {
        cJSON *j = cJSON_ParseWithLength(nd->lines[i].p, nd->lines[i].len);
        if (!j) {
            bad++;
            continue;
        }
        *sink += (unsigned long long)(j->child != NULL);
        cJSON_Delete(j);
    }
    return bad;
}

static size_t pass_llmtap(const struct ndjson *nd, unsigned long long *sink)
{
    static const struct event_limits lim = {0, 0}; /* the defaults: 1 MiB, depth 32 */
    size_t bad = 0;
    for (size_t i = 0; i < nd->n; i++) {
        struct event_error err = {0};
        cJSON *ev = event_parse_json(nd->lines[i].p, nd->lines[i].len, &lim, 0, &err);
        if (!ev || event_validate(ev, &err) != EVENT_OK) {
            if (bad++ == 0)
                fprintf(stderr, "llmtap-bench-parse: event %zu rejected: %s: %s\n", i + 1,
                        event_reason_name(err.reason), err.msg);
            cJSON_Delete(ev);
            continue;
        }
        struct event_fields f;
        event_fields_get(ev, &f);
        *sink += (unsigned long long)f.time_us + (unsigned long long)f.input_tokens;
        cJSON_Delete(ev);
    }
    return bad;
}

static int measure(const char *name, pass_fn fn, const struct ndjson *nd, int passes)
{
    double best_wall = 0, best_cpu = 0;
    unsigned long long sink = 0;
    for (int p = 0; p < passes; p++) {
        double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        size_t bad = fn(nd, &sink);
        double wall = now_s(CLOCK_MONOTONIC) - w0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (bad) {
            fprintf(stderr, "llmtap-bench-parse: %s: %zu of %zu events failed\n", name, bad, nd->n);
            return -1;
        }
        if (p == 0 || wall < best_wall)
            best_wall = wall;
        if (p == 0 || cpu < best_cpu)
            best_cpu = cpu;
    }
    printf("%s events=%zu json_bytes=%zu passes=%d best_wall_s=%.6f best_cpu_s=%.6f "
           "events_per_s=%.0f events_per_cpu_s=%.0f mb_per_s=%.1f sink=%llu\n",
           name, nd->n, nd->json_bytes, passes, best_wall, best_cpu, (double)nd->n / best_wall,
           (double)nd->n / best_cpu, (double)nd->json_bytes / 1e6 / best_wall, sink % 1000);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int passes = 3;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc) {
            passes = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: llmtap-bench-parse [--passes P] FILE.ndjson\n");
            return 0;
        } else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            path = argv[i];
        } else {
            fprintf(stderr, "llmtap-bench-parse: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path || passes < 1) {
        fprintf(stderr, "usage: llmtap-bench-parse [--passes P] FILE.ndjson\n");
        return 2;
    }
    struct ndjson nd;
    if (ndjson_load(path, &nd) != 0) {
        fprintf(stderr, "llmtap-bench-parse: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (nd.n == 0) {
        fprintf(stderr, "llmtap-bench-parse: %s: no events\n", path);
        ndjson_free(&nd);
        return 1;
    }
    int rc = 0;
    if (measure("cjson_parse_only", pass_cjson, &nd, passes) != 0 ||
        measure("llmtap_parse", pass_llmtap, &nd, passes) != 0)
        rc = 1;
    ndjson_free(&nd);
    return rc;
}
