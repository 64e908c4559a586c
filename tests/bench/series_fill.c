/*
 * series_fill.c — llmtap-bench-fill: writes simulated time series into a
 * fresh llmtap store, as the collector's ingest would have written them
 * over a day, for the query benchmark (tests/bench/query.py).
 *
 *   llmtap-bench-fill fill --data-dir DIR [--hours H] [--end UNIX_S] [--seed N]
 *   llmtap-bench-fill stats --data-dir DIR
 *
 * fill: creates the store (store.h) and its series (series.h) in DIR and
 * writes H hours (default 24) of 10-second data ending at --end (default:
 * now, rounded down to 10 s) for 100 series: 5 (service, model) label sets
 * x 20 series each, labelled as series_ingest.c labels them (service, env,
 * provider, model, operation, status_class) — llm_requests_total,
 * llm_tokens_total{type="input"|"output"} and the classic histogram
 * llm_request_duration_seconds (15 buckets with the collector's bounds,
 * _sum, _count). Every 10-second bucket of every label set gets at least
 * one simulated request (Poisson, on a daily curve of 1 to 8 per bucket;
 * log-normal latencies and token counts per model), so every series has a
 * sample every 10 s, as a busy service's would. The clock is fake and
 * advances with the data: each minute of data is one write transaction
 * (series_add at the events' times, then series_flush at the minute's end,
 * which seals buckets older than the 5-minute late window), and every 10
 * minutes of data the transaction also downsamples and applies retention
 * as the collector's maintenance does. Events older than the collector's
 * late window could not be sent through the collector, hence this tool.
 * The store is written without fsync (a benchmark's data).
 *
 * stats: opens DIR read-only and prints the series store's own figures
 * (series_stats): blocks, samples and bytes, and the bytes per stored
 * sample — all LMDB pages of the series databases over the samples held
 * (sealed blocks plus open heads). fill prints the same at its end.
 *
 * Output: `key=value` words on one line per figure (query.py parses them).
 * Exit status: 0, 1 on a store error, 2 on a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "series.h"
#include "store.h"
#include "store_series.h"
#include "timeutil.h"

#define R_MS       10000LL /* the collector's grid */
#define NCOMBO     5
#define NBOUNDS    14
#define PER_COMBO  (3 + NBOUNDS + 1 + 2) /* requests, 2 token types, buckets, +Inf, sum, count */
#define BATCH_MS   60000LL
#define MAINT_MS   600000LL
#define MAINT_WORK 500

static const double bounds[NBOUNDS] = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                       1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};

static const struct combo {
    const char *service, *provider, *model;
    double rate;       /* requests per bucket at the daily peak */
    double lat_median; /* seconds */
    double in_median, out_median;
} combos[NCOMBO] = {
    {"checkout", "openai", "gpt-4o", 8, 1.2, 900, 250},
    {"checkout", "openai", "gpt-4o-mini", 6, 0.6, 700, 180},
    {"search", "anthropic", "claude-sonnet-4", 5, 2.0, 2400, 400},
    {"support", "openai", "gpt-4o", 3, 1.6, 1500, 320},
    {"support", "vllm", "llama-3.1-70b", 2, 0.9, 1100, 200},
};

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static double rng_normal(struct rng *r)
{
    double u = rng_unit(r), v = rng_unit(r);
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static int rng_poisson(struct rng *r, double lambda)
{
    double l = exp(-lambda), p = 1;
    int k = 0;
    do {
        k++;
        p *= rng_unit(r);
    } while (p > l && k < 1000);
    return k - 1;
}

struct fill {
    struct series_db *db;
    uint64_t ids[NCOMBO][PER_COMBO];
    struct rng r;
    int64_t from_ms, to_ms, next_maint;
    int created;
};

static int intern(struct fill *f, MDB_txn *txn)
{
    char le[NBOUNDS + 1][32];
    for (int b = 0; b < NBOUNDS; b++) /* the collector's shortest text that reads back */
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(le[b], sizeof le[b], "%.*g", prec, bounds[b]);
            if (strtod(le[b], NULL) == bounds[b])
                break;
        }
    snprintf(le[NBOUNDS], sizeof le[NBOUNDS], "+Inf");
    for (int c = 0; c < NCOMBO; c++) {
        for (int k = 0; k < PER_COMBO; k++) {
            struct series_label l[9] = {{"service", combos[c].service},
                                        {"env", "prod"},
                                        {"provider", combos[c].provider},
                                        {"model", combos[c].model},
                                        {"operation", "chat"},
                                        {"status_class", "2xx"}};
            size_t n = 6;
            if (k == 0) {
                l[n++] = (struct series_label){"__name__", "llm_requests_total"};
            } else if (k <= 2) {
                l[n++] = (struct series_label){"__name__", "llm_tokens_total"};
                l[n++] = (struct series_label){"type", k == 1 ? "input" : "output"};
            } else if (k < 3 + NBOUNDS + 1) {
                l[n++] = (struct series_label){"__name__", "llm_request_duration_seconds_bucket"};
                l[n++] = (struct series_label){"le", le[k - 3]};
            } else {
                l[n++] = (struct series_label){
                    "__name__", k == PER_COMBO - 2 ? "llm_request_duration_seconds_sum"
                                                   : "llm_request_duration_seconds_count"};
            }
            int rc = series_id(f->db, txn, l, n, &f->ids[c][k]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Requests per bucket: a daily curve, busiest mid-afternoon UTC. */
static double load(const struct combo *c, int64_t t_ms)
{
    double day = (double)(t_ms % 86400000) / 86400000.0;
    return c->rate * (0.55 + 0.45 * sin(2 * M_PI * (day - 0.375)));
}

/* One batch: the buckets in [a, b), then a flush at b (+ maintenance). */
static int batch_fn(void *ud, MDB_txn *txn)
{
    struct fill *f = ud;
    int rc = 0;
    if (!f->created) {
        if ((rc = intern(f, txn)) != 0)
            return rc;
        f->created = 1;
    }
    int64_t a = f->from_ms, b = f->to_ms, now = b + 1000;
    for (int64_t t = a; t < b && rc == 0; t += R_MS) {
        for (int c = 0; c < NCOMBO && rc == 0; c++) {
            const struct combo *cb = &combos[c];
            int k = rng_poisson(&f->r, load(cb, t));
            if (k < 1)
                k = 1; /* every bucket of every series gets a sample */
            double d[PER_COMBO] = {0};
            d[0] = k;
            for (int e = 0; e < k; e++) {
                double lat = cb->lat_median * exp(0.6 * rng_normal(&f->r));
                d[1] += floor(cb->in_median * exp(0.5 * rng_normal(&f->r)));
                d[2] += floor(cb->out_median * exp(0.7 * rng_normal(&f->r)));
                for (int i = 0; i < NBOUNDS; i++)
                    d[3 + i] += lat <= bounds[i];
                d[3 + NBOUNDS] += 1;
                d[PER_COMBO - 2] += lat;
                d[PER_COMBO - 1] += 1;
            }
            int64_t te = t + (int64_t)(rng_unit(&f->r) * (R_MS - 1));
            for (int i = 0; i < PER_COMBO && rc == 0; i++)
                rc = series_add(f->db, f->ids[c][i], te, d[i], now);
        }
    }
    if (rc == 0)
        rc = series_flush(f->db, txn, now);
    if (rc == 0 && now >= f->next_maint) {
        int more = 1;
        for (int i = 0; i < 100 && more && rc == 0; i++)
            rc = series_downsample(f->db, txn, now, MAINT_WORK, &more);
        more = 1;
        for (int i = 0; i < 100 && more && rc == 0; i++)
            rc = series_retention(f->db, txn, now, MAINT_WORK, &more);
        f->next_maint = now + MAINT_MS;
    }
    return rc;
}

static int open_fn(void *ud, MDB_txn *txn)
{
    return series_open(txn, NULL, ud);
}

static int print_stats(struct store *st, struct series_db *db)
{
    MDB_txn *txn;
    struct series_stats s;
    int rc = store_txn_read(st, &txn);
    if (rc)
        return rc;
    rc = series_stats(db, txn, &s);
    store_txn_done(st, txn);
    if (rc)
        return rc;
    uint64_t held = s.samples[0] + s.head_samples;
    printf("stats series=%llu base_blocks=%llu base_samples=%llu base_block_bytes=%llu "
           "ds_blocks=%llu ds_points=%llu ds_block_bytes=%llu heads=%llu head_samples=%llu "
           "head_bytes=%llu page_bytes=%llu block_bytes_per_sample=%.3f "
           "bytes_per_stored_sample=%.3f\n",
           (unsigned long long)s.series, (unsigned long long)s.blocks[0],
           (unsigned long long)s.samples[0], (unsigned long long)s.block_bytes[0],
           (unsigned long long)s.blocks[1], (unsigned long long)s.samples[1],
           (unsigned long long)s.block_bytes[1], (unsigned long long)s.heads,
           (unsigned long long)s.head_samples, (unsigned long long)s.head_bytes,
           (unsigned long long)s.page_bytes,
           s.samples[0] ? (double)s.block_bytes[0] / (double)s.samples[0] : 0.0,
           held ? (double)s.page_bytes / (double)held : 0.0);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: llmtap-bench-fill fill --data-dir DIR [--hours H] [--end UNIX_S] "
                    "[--seed N]\n       llmtap-bench-fill stats --data-dir DIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    int fill = strcmp(argv[1], "fill") == 0;
    if (!fill && strcmp(argv[1], "stats") != 0)
        return usage();
    const char *dir = NULL;
    double hours = 24;
    int64_t end_ms = timeutil_now_us() / 1000 / R_MS * R_MS;
    uint64_t seed = 1;
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (strcmp(argv[i], "--data-dir") == 0)
            dir = v;
        else if (strcmp(argv[i], "--hours") == 0)
            hours = atof(v);
        else if (strcmp(argv[i], "--end") == 0)
            end_ms = (int64_t)(atof(v) * 1000) / R_MS * R_MS;
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else
            return usage();
        i++;
    }
    if (!dir || hours <= 0 || hours > 24 * 30)
        return usage();

    struct store *st = NULL;
    struct store_opts so = {.dir = dir, .no_sync = 1, .read_only = !fill};
    struct fill f = {.r = {seed}};
    int rc = store_open(&so, &st);
    if (rc) {
        fprintf(stderr, "llmtap-bench-fill: store %s: %s\n", dir, store_strerror(rc));
        return 1;
    }
    if (!fill) {
        rc = store_series_open(st, NULL, &f.db);
        if (rc == 0)
            rc = print_stats(st, f.db);
        goto out;
    }
    if ((rc = store_write_txn(st, open_fn, &f.db)) != 0)
        goto out;
    int64_t start_ms = end_ms - (int64_t)(hours * 3600000) / R_MS * R_MS;
    int64_t t0 = timeutil_mono_us();
    f.next_maint = start_ms;
    for (int64_t a = start_ms; a < end_ms && rc == 0; a += BATCH_MS) {
        f.from_ms = a;
        f.to_ms = a + BATCH_MS < end_ms ? a + BATCH_MS : end_ms;
        rc = store_write_txn(st, batch_fn, &f);
    }
    if (rc)
        goto out;
    char a_txt[TIMEUTIL_RFC3339_LEN], b_txt[TIMEUTIL_RFC3339_LEN];
    timeutil_format_rfc3339(start_ms * 1000, a_txt);
    timeutil_format_rfc3339(end_ms * 1000, b_txt);
    printf("fill start_ms=%lld end_ms=%lld start=%s end=%s series=%d seconds=%.1f\n",
           (long long)start_ms, (long long)end_ms, a_txt, b_txt, NCOMBO * PER_COMBO,
           (double)(timeutil_mono_us() - t0) / 1e6);
    rc = print_stats(st, f.db);
out:
    if (rc)
        fprintf(stderr, "llmtap-bench-fill: %s\n", series_strerror(rc));
    series_close(f.db);
    store_close(st);
    return rc ? 1 : 0;
}
