/*
 * export.h — `llmtap-collector export`: the stored time series as
 * OpenMetrics text, for `promtool tsdb create-blocks-from openmetrics`
 * (docs/collector.md, "export").
 *
 * What it is for. The series ingest derives from events (series_ingest.h)
 * live in the store; export writes them out so that a Prometheus server can
 * be filled with exactly the same points (a differential test, a migration,
 * a second opinion). It writes the samples the store holds — base
 * resolution where kept, 5-minute points before that (SERIES_READ_AUTO),
 * baselines included — not the grid the Prometheus API fills in.
 *
 * Output. One OpenMetrics MetricFamily per metric: `# TYPE`, `# UNIT`
 * (only when the family name ends with _<unit>), `# HELP` from
 * series_ingest_metrics; counters as `counter` families (family name
 * without `_total`, samples with it), histograms as `histogram` families
 * (`_bucket{le}`, `_count`, `_sum`), other names as `unknown`. Within a
 * family, series are grouped by their labels without `le` (one OpenMetrics
 * Metric), groups sorted by labels, and a group's samples written by
 * timestamp: at each time the buckets by ascending le, then _count, _sum.
 * Every sample carries its timestamp in seconds; `# EOF` ends the text.
 *
 * Threads: export_openmetrics() uses only its own read transactions; any
 * thread, beside a live writer (in this or another process).
 */
#ifndef LLMTAP_EXPORT_H
#define LLMTAP_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct series_db;
struct store;

struct export_opts {
    int64_t start_ms, end_ms; /* samples with start_ms <= t <= end_ms */
    const char *const *match; /* PromQL series selectors; the union is exported */
    size_t nmatch;            /* 0: every series */
    int64_t chunk_ms;         /* time read per series per transaction; 0 = 6 h */
    FILE *warn;               /* where skipped series are reported; NULL = not */
};

struct export_stats {
    uint64_t families; /* MetricFamilies written */
    uint64_t series;   /* series with at least one sample written */
    uint64_t samples;
    uint64_t skipped; /* series left out: a name or label value OpenMetrics cannot carry */
};

/* Writes the series of db (in st's environment) with samples in the range
 * to out as OpenMetrics text ending with "# EOF\n". Memory is bounded by one
 * chunk of one Metric (its series' samples over chunk_ms) plus the ids and
 * labels of one family; read transactions last one listing or one chunk.
 * Returns 0; -1 with err set for a bad selector (a usage error); or a
 * positive error (series.h / LMDB code, EIO when out failed) with err set.
 * stats may be NULL. */
int export_openmetrics(struct store *st, struct series_db *db, const struct export_opts *o,
                       FILE *out, struct export_stats *stats, char *err, size_t errlen);

/* ---- the subcommand (collector/main.c dispatches to these) -------------- */

/* Its own settings (format, start, end, output), added to the daemon's. */
extern const struct config_setting export_settings[];
#define EXPORT_NSETTINGS 4
extern const char export_help[];

/* Takes every `--match SEL` / `--match=SEL` out of argv (repeatable, so not
 * a config setting), in place: *argc shrinks, the selectors go to *match (a
 * malloc'd array of pointers into argv; free it). Returns 0, or -1 with a
 * message on stderr when --match has no value (a usage error). */
int export_take_matches(int *argc, char **argv, const char ***match, size_t *nmatch);

/* Runs the export with the loaded configuration: checks the flags, opens
 * the store with open_store (the subcommands' common opener: returns 0 or
 * an exit status, having said why), then writes. Returns the exit status:
 * 0 written, 1 failed, 2 usage error. */
int export_run(const struct config *cfg, const char *const *match, size_t nmatch,
               int (*open_store)(const char *cmd, const char *dir, struct store **st));

/* ---- formatting (exported for the unit tests) --------------------------- */

#define EXPORT_NUM_MAX 40

/* An OpenMetrics value: integers as integers, other finite values in the
 * shortest text that reads back exactly, "+Inf", "-Inf", "NaN". Returns
 * the length written (NUL-terminated). */
size_t export_format_value(double v, char out[EXPORT_NUM_MAX]);

/* A timestamp in seconds for ms, chosen so that Prometheus's reading of it
 * (a float64 of seconds, times 1000, truncated to int64) gives ms back. */
size_t export_format_timestamp(int64_t ms, char out[EXPORT_NUM_MAX]);

/* Appends s[0, len) escaped for a quoted label value or a HELP text
 * (backslash, double quote, line feed) to dst, which has room for 2 * len
 * bytes; returns the bytes written (not NUL-terminated). */
size_t export_escape(const char *s, size_t len, char *dst);

/* True when name can be an OpenMetrics metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
int export_name_ok(const char *name);

#endif
