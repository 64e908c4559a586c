/*
 * main.c — llmtap-collector: consumes llmtap events from Kafka, stores each
 * exactly once (zstd, LMDB), and serves them over HTTP.
 *
 * DESIGN
 * - Start-up: daemon_start (config, logger, crash handler, signals blocked
 *   in every thread) → (with --dev) the embedded broker → store → HTTP server →
 *   ingest thread → store maintenance thread. The main thread waits in daemon_wait().
 * - Shutdown (SIGINT/SIGTERM): stop accepting HTTP → stop maintenance → stop
 *   ingest (its batch in hand is committed, the consumer leaves the group) → close the store →
 *   stop the dev broker. A second SIGINT during shutdown exits at once.
 * - SIGHUP (handled on the main thread, in daemon_wait): the configuration is
 *   loaded again from the same file, environment and flags; store.map_size
 *   and retention.events are applied, everything else needs a restart. The
 *   map is resized by store_set_map_size, which waits for the store's
 *   writer (ingest, retention) and readers (HTTP) to be outside a
 *   transaction, as LMDB requires.
 * - Subcommands `backup`, `verify` and `export` (first argument) open the
 *   store read-only and run once; they accept the daemon's settings (so
 *   `--config FILE` finds data_dir) plus their own. `export` (the stored
 *   time series as OpenMetrics text) lives in export.c; main.c only
 *   dispatches to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "cpus.h"
#include "daemon.h"
#include "devbroker.h"
#include "export.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "qpool.h"
#include "selfseries.h"
#include "series.h"
#include "series_ingest.h"
#include "store.h"
#include "store_verify.h"
#include "timeutil.h"
#include "ulid.h"

static const struct config_setting settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:7310", 0, 0, "HTTP listen address (HOST:PORT)"},
    {"data_dir", NULL, CONFIG_STRING, "./llmtap-data", 0, 0, "directory of the LMDB store"},
    {"store.map_size", NULL, CONFIG_BYTES, "16GiB", 1048576, 1099511627776.0 * 64,
     "LMDB map size: the most the store can hold (SIGHUP applies a new value)"},
    {"store.zstd_level", NULL, CONFIG_INT, "3", 1, 19, "zstd level for event bodies"},
    {"store.sync", NULL, CONFIG_BOOL, "true", 0, 0,
     "fsync each commit (false only for benchmarks: a crash may lose the last commits)"},
    {"store.dict_min_events", NULL, CONFIG_INT, "4000", 0, 1e12,
     "train a zstd dictionary once the store holds this many events (0 = never)"},
    {"store.dict_samples", NULL, CONFIG_INT, "4000", 100, 1000000,
     "events sampled to train a dictionary"},
    {"retention.events", NULL, CONFIG_DURATION, "30d", 0, 3650.0 * 86400000,
     "delete events older than this, by event time (0 = keep forever; SIGHUP applies a new value)"},
    {"retention.batch", NULL, CONFIG_INT, "1000", 1, 100000,
     "most events deleted per store transaction (bounds ingest's wait)"},
    {"brokers", "kafka-brokers", CONFIG_STRING, NULL, 0, 0,
     "Kafka bootstrap servers HOST:PORT,... (overrides kafka.bootstrap.servers)"},
    {"topic", NULL, CONFIG_STRING, "llmtap.events", 0, 0, "Kafka topic of events"},
    {"dlq.topic", NULL, CONFIG_STRING, "llmtap.events.dlq", 0, 0,
     "Kafka topic for events that fail validation"},
    {"dlq.max_value", NULL, CONFIG_BYTES, "512KiB", 1024, 16777216,
     "longer dead letters are cut to this many bytes (headers say so)"},
    {"batch.max_events", NULL, CONFIG_INT, "2000", 1, 1000000, "most events per store transaction"},
    {"batch.max_wait", NULL, CONFIG_DURATION, "100ms", 1, 60000,
     "longest a batch waits to fill before it is committed"},
    {"ingest.max_event", NULL, CONFIG_BYTES, "1MiB", 1024, 67108864.0, "largest event accepted"},
    {"ingest.max_depth", NULL, CONFIG_INT, "32", 4, 256, "deepest JSON nesting in an event"},
    {"http.threads", NULL, CONFIG_INT, "4", 1, 256, "HTTP worker threads"},
    {"series.max_per_metric", NULL, CONFIG_INT, "10000", 1, 1e9,
     "most series per metric name; label values of further ones fold into __overflow__"},
    {"series.late_window", NULL, CONFIG_DURATION, "5m", 10000, 86400000.0,
     "how far behind the collector's clock an event still counts in the time series"},
    {"series.raw_retention", NULL, CONFIG_DURATION, "7d", 3600000, 3650.0 * 86400000,
     "time series kept at 10-second resolution"},
    {"series.resolution", NULL, CONFIG_DURATION, "0", 0, 1800000.0,
     "base resolution of the time series, a divisor of 30m (0 = the store's, 10s for a new "
     "store; fixed once the series exist)"},
    {"series.ds_resolution", NULL, CONFIG_DURATION, "0", 0, 1800000.0,
     "downsampled resolution, a multiple of series.resolution dividing 30m (0 = the store's, "
     "5m for a new store; fixed once the series exist)"},
    {"series.downsample_after", NULL, CONFIG_DURATION, "1h", 600000, 30.0 * 86400000,
     "age (after the end of a 12-hour span) at which 10-second data is downsampled to 5 minutes"},
    {"series.ds_retention", NULL, CONFIG_DURATION, "90d", 3600000, 3650.0 * 86400000,
     "time series kept at 5-minute resolution (at least series.raw_retention)"},
    {"series.labels", NULL, CONFIG_STRING,
     "service,env,provider,model,operation,status_class,prompt_version", 0, 0,
     "labels of the time series, a comma-separated subset of the default (fewer labels, fewer "
     "series)"},
    {"query.timeout", NULL, CONFIG_DURATION, "2m", 100, 3600000.0,
     "longest one PromQL evaluation may run (503 `timeout` after it)"},
    {"query.max_samples", NULL, CONFIG_INT, "50000000", 1000, 1e12,
     "most samples one PromQL evaluation may hold in memory (422 `execution` past it)"},
    {"query.block_cache", NULL, CONFIG_BYTES, "128MiB", 0, 1099511627776.0,
     "memory for decoded sealed series blocks, shared by all queries (0 = no cache)"},
    {"query.parallelism", NULL, CONFIG_INT, "0", 0, 64,
     "threads that may work on one query's series, its own included (0 = one per CPU this "
     "process may use: affinity, cgroup quota; 1 = none but its own)"},
    {"series.staleness", NULL, CONFIG_DURATION, "5m", 10000, 86400000.0,
     "a series with no new events reads as flat (rate 0) this long after its last change, "
     "then ends"},
    {"series.self_retention", NULL, CONFIG_DURATION, "6h", 0, 7.0 * 86400000,
     "how long the collector's own llmtap_* metrics are kept as series, in memory (0 = not kept)"},
    {"auth.file", NULL, CONFIG_STRING, NULL, 0, 0,
     "YAML file of bearer tokens and basic auth users with scopes (mode 0600); unset = no auth"},
    {"tls.cert_file", NULL, CONFIG_STRING, NULL, 0, 0,
     "PEM certificate (chain) for HTTPS; with tls.key_file"},
    {"tls.key_file", NULL, CONFIG_STRING, NULL, 0, 0, "PEM private key of tls.cert_file"},
    {"api.max_limit", NULL, CONFIG_INT, "1000", 1, 1000000, "largest `limit` of /api/v1/events"},
    {"api.max_examined", NULL, CONFIG_INT, "200000", 1000, 1e12,
     "most records one /api/v1/events request examines (bounds its read transaction)"},
    {"dev", NULL, CONFIG_BOOL, "false", 0, 0,
     "start an embedded Kafka-protocol broker (development and demo only)"},
    {"dev_partitions", NULL, CONFIG_INT, "3", 1, 64, "partitions of the topic on the dev broker"},
    {"log.level", NULL, CONFIG_STRING, "info", 0, 0, "debug, info, warn or error"},
};

static const struct config_table table = {
    .component = "collector",
    .usage = "llmtap-collector [flags]   (any librdkafka property: --kafka NAME=VALUE)\n"
             "       llmtap-collector backup --to DIR [flags]   (see backup --help)\n"
             "       llmtap-collector verify [flags]            (see verify --help)\n"
             "       llmtap-collector export --format openmetrics --start T --end T [flags]"
             "   (see export --help)",
    .settings = settings,
    .n = sizeof settings / sizeof settings[0],
    .passthrough = "kafka",
};

static int write_file(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* The text of a PEM file (NUL-terminated, malloc'd), or NULL with err. */
static char *read_pem(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *t = malloc(cap + 1);
    if (t)
        n = fread(t, 1, cap + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (!t || bad || n > cap || n == 0) {
        snprintf(err, errlen, "%s %s: %s", what, path,
                 !t    ? "out of memory"
                 : bad ? "read error"
                 : n   ? "larger than 1 MiB"
                       : "empty");
        free(t);
        return NULL;
    }
    t[n] = 0;
    return t;
}

/* ---- SIGHUP -------------------------------------------------------------- */

struct reload {
    int argc;
    char **argv;
    struct store *st;
    struct maint *maint;
    int64_t retention_ms;
};

/* Loads the configuration again (same file, environment and flags) and
 * applies what can change at run time: store.map_size, retention.events. */
static void on_hup(void *ud)
{
    struct reload *r = ud;
    struct config *nc = NULL;
    char err[512] = "";
    int rc = config_load(&table, r->argc, r->argv, &nc, err, sizeof err);
    if (rc != CONFIG_OK) {
        log_error("collector", "SIGHUP: configuration not reloaded, keeping the current one: %s",
                  rc == CONFIG_EXIT ? "--help or --print-config on the command line" : err);
        config_destroy(nc);
        return;
    }
    struct store_stats ss;
    size_t want = (size_t)config_int(nc, "store.map_size"), applied = 0;
    if ((rc = store_stats(r->st, &ss)) != 0) {
        log_error("collector", "SIGHUP: cannot read the store's size: %s", store_strerror(rc));
    } else if (want == ss.map_size) {
        log_info("collector", "SIGHUP: store.map_size unchanged (%.1f MiB, %.1f MiB in use)",
                 (double)want / 1048576, (double)ss.used_bytes / 1048576);
    } else if ((rc = store_set_map_size(r->st, want, &applied)) == STORE_ETOOSMALL) {
        log_error("collector",
                  "SIGHUP: store.map_size %.1f MiB refused: the store already uses "
                  "%.1f MiB; keeping %.1f MiB",
                  (double)want / 1048576, (double)ss.used_bytes / 1048576,
                  (double)ss.map_size / 1048576);
    } else if (rc) {
        log_error("collector", "SIGHUP: store.map_size not changed: %s", store_strerror(rc));
    } else {
        log_msg(applied < ss.map_size ? LOG_WARN : LOG_INFO, "collector",
                "SIGHUP: store.map_size %.1f MiB -> %.1f MiB (%.1f MiB in use)%s",
                (double)ss.map_size / 1048576, (double)applied / 1048576,
                (double)ss.used_bytes / 1048576, applied < ss.map_size ? ": smaller map" : "");
    }
    int64_t keep = config_int(nc, "retention.events");
    if (keep != r->retention_ms) {
        maint_set_retention(r->maint, keep);
        log_info("collector", "SIGHUP: retention.events %lld ms -> %lld ms%s",
                 (long long)r->retention_ms, (long long)keep, keep ? "" : " (keep forever)");
        r->retention_ms = keep;
    }
    config_destroy(nc);
}

/* ---- subcommands: backup, verify ------------------------------------------ */

static const char backup_help[] =
    "usage: llmtap-collector backup --to DIR [--data-dir DIR] [--config FILE]\n"
    "\n"
    "Copies the store in data_dir (--data-dir, default ./llmtap-data) to DIR/data.mdb:\n"
    "a hot, compacting copy (free pages left out) taken in one read transaction,\n"
    "so it is safe while a collector runs on the store, and its events and Kafka\n"
    "offsets are of one instant. DIR is created; it must not hold a data.mdb.\n"
    "The daemon's settings are all accepted (so --config FILE finds data_dir).\n"
    "Restoring: docs/collector.md, \"Backup and restore\".\n"
    "\n"
    "  --to DIR          where to write the copy (required)\n"
    "  --data-dir DIR    the store to copy\n"
    "  --config FILE     the collector's configuration file\n"
    "\n"
    "Exit status: 0 copied, 1 failed, 2 usage error.\n";

static const char verify_help[] =
    "usage: llmtap-collector verify [--data-dir DIR] [--max-problems N] [--config FILE]\n"
    "\n"
    "Checks the store in data_dir (--data-dir, default ./llmtap-data) in one read\n"
    "transaction (safe while a collector runs on it): every event_ids entry names\n"
    "an existing event with that id and time and every event has its entry;\n"
    "records decode, name existing dictionaries, decompress to their length and\n"
    "hold a JSON object whose id is the key's; dictionaries, offsets and the\n"
    "format version are well formed; the counts agree. Prints a summary, the\n"
    "first problems, and a last line `verify: events=N ids=N dicts=N offsets=N problems=N`.\n"
    "The daemon's settings are all accepted (so --config FILE finds data_dir).\n"
    "\n"
    "  --data-dir DIR       the store to check\n"
    "  --max-problems N     problems listed (default 20; all are counted)\n"
    "  --config FILE        the collector's configuration file\n"
    "\n"
    "Exit status: 0 consistent, 1 damage found (or the store cannot be read),\n"
    "2 usage error (including no store in data_dir).\n";

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Loads the configuration of a subcommand: the daemon's settings plus
 * extra. Returns -1 to go on, or an exit status (help printed: 0; error: 2). */
static int sub_config(const char *cmd, const char *help, const struct config_setting *extra,
                      size_t nextra, int argc, char **argv, struct config **cfg)
{
    static struct config_setting all[NSETTINGS + 4];
    static struct config_table t;
    char err[512];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(help, stdout);
            return 0;
        }
    }
    memcpy(all, settings, sizeof settings);
    memcpy(all + NSETTINGS, extra, nextra * sizeof *extra);
    t = table;
    t.settings = all;
    t.n = NSETTINGS + nextra;
    int rc = config_load(&t, argc, argv, cfg, err, sizeof err);
    if (rc == CONFIG_EXIT)
        return 0;
    if (rc != CONFIG_OK) {
        fprintf(stderr, "llmtap-collector %s: %s\n", cmd, err);
        return 2;
    }
    enum log_level lvl;
    if (log_level_parse(config_str(*cfg, "log.level"), &lvl) == 0)
        log_set_level(lvl);
    return -1;
}

/* Opens the store of data_dir read-only. Returns 0, or an exit status. */
static int sub_open(const char *cmd, const char *dir, struct store **st)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "llmtap-collector %s: no store in %s (%s: %s)\n", cmd, dir, path,
                strerror(errno));
        return 2;
    }
    struct store_opts so = {.dir = dir, .read_only = 1};
    int rc = store_open(&so, st);
    if (rc) {
        fprintf(stderr, "llmtap-collector %s: cannot open the store in %s: %s%s\n", cmd, dir,
                store_strerror(rc), rc == EACCES ? " (lock.mdb must be writable)" : "");
        return 1;
    }
    return 0;
}

static int cmd_backup(int argc, char **argv)
{
    static const struct config_setting extra[] = {
        {"to", NULL, CONFIG_STRING, NULL, 0, 0, "directory to write the copy to"},
    };
    struct config *cfg = NULL;
    struct store *st = NULL, *copy = NULL;
    int rc = sub_config("backup", backup_help, extra, 1, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    const char *dir = config_str(cfg, "data_dir"), *to = config_str(cfg, "to");
    int exit_code = 2;
    if (!to || !*to) {
        fprintf(stderr, "llmtap-collector backup: --to DIR is required\n\n%s", backup_help);
        goto out;
    }
    if ((exit_code = sub_open("backup", dir, &st)) != 0)
        goto out;
    exit_code = 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = store_backup(st, to)) != 0) {
        fprintf(stderr, "llmtap-collector backup: copying %s to %s failed: %s%s\n", dir, to,
                store_strerror(rc), rc == EEXIST ? " (it already holds a data.mdb)" : "");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct store_stats src, dst;
    struct store_opts co = {.dir = to, .read_only = 1};
    if (store_stats(st, &src) != 0 || store_open(&co, &copy) != 0 || store_stats(copy, &dst) != 0) {
        fprintf(stderr, "llmtap-collector backup: the copy in %s cannot be read back\n", to);
        goto out;
    }
    printf("backup: %s -> %s/data.mdb: events=%llu bytes=%llu (source file %llu bytes) in %.1f s\n",
           dir, to, (unsigned long long)dst.events, (unsigned long long)dst.file_bytes,
           (unsigned long long)src.file_bytes,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    exit_code = 0;
out:
    store_close(copy);
    store_close(st);
    config_destroy(cfg);
    return exit_code;
}

struct vprint {
    size_t listed, max;
};

static void verify_problem(void *ud, const char *what)
{
    struct vprint *v = ud;
    if (v->listed++ < v->max)
        printf("problem: %s\n", what);
}

static void verify_offset(void *ud, const char *topic, int32_t partition, int64_t next)
{
    printf("offset: %s/%d next=%lld\n", topic, (int)partition, (long long)next);
}

/* The stored JSON is an object whose "id", in canonical case, is the key's. */
static int verify_json(void *ud, const char *json, size_t len, const char *id, char *msg,
                       size_t msglen)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    int bad = 1;
    const cJSON *jid = j ? cJSON_GetObjectItemCaseSensitive(j, "id") : NULL;
    if (!j)
        snprintf(msg, msglen, "does not parse");
    else if (!cJSON_IsObject(j))
        snprintf(msg, msglen, "not an object");
    else if (!cJSON_IsString(jid) || strlen(jid->valuestring) > STORE_ID_MAX)
        snprintf(msg, msglen, "no \"id\" string of at most %d bytes", STORE_ID_MAX);
    else {
        char c[STORE_ID_MAX + 1];
        snprintf(c, sizeof c, "%s", jid->valuestring);
        event_id_canonical(c);
        if (strcmp(c, id) != 0)
            snprintf(msg, msglen, "its id \"%.64s\" is not the key's", jid->valuestring);
        else
            bad = 0;
    }
    cJSON_Delete(j);
    return bad;
}

static int cmd_verify(int argc, char **argv)
{
    static const struct config_setting extra[] = {
        {"max_problems", NULL, CONFIG_INT, "20", 0, 1e9, "problems listed (all are counted)"},
    };
    struct config *cfg = NULL;
    struct store *st = NULL;
    int rc = sub_config("verify", verify_help, extra, 1, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    const char *dir = config_str(cfg, "data_dir");
    int exit_code = sub_open("verify", dir, &st);
    if (exit_code != 0)
        goto out;
    exit_code = 1;
    struct vprint vp = {.max = (size_t)config_int(cfg, "max_problems")};
    struct store_verify_opts vo = {
        .check_json = verify_json, .problem = verify_problem, .offset = verify_offset, .ud = &vp};
    struct store_verify_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = store_verify(st, &vo, &res)) != 0) {
        fprintf(stderr, "llmtap-collector verify: the walk stopped: %s\n", store_strerror(rc));
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (vp.listed > vp.max)
        printf("problem: ... %zu more not listed (--max-problems)\n", vp.listed - vp.max);
    char t_old[TIMEUTIL_RFC3339_LEN] = "-", t_new[TIMEUTIL_RFC3339_LEN] = "-";
    if (res.events) {
        timeutil_format_rfc3339(res.oldest_us, t_old);
        timeutil_format_rfc3339(res.newest_us, t_new);
    }
    printf("store %s: %llu events from %s to %s, %.1f MiB of JSON in %.1f MiB of records "
           "(%llu stored raw), checked in %.1f s\n",
           dir, (unsigned long long)res.events, t_old, t_new, (double)res.json_bytes / 1048576,
           (double)res.record_bytes / 1048576, (unsigned long long)res.raw_records,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    printf("verify: events=%llu ids=%llu records=%llu dicts=%llu offsets=%llu problems=%llu\n",
           (unsigned long long)res.events, (unsigned long long)res.event_ids,
           (unsigned long long)res.records, (unsigned long long)res.dicts,
           (unsigned long long)res.offsets, (unsigned long long)res.problems);
    exit_code = res.problems ? 1 : 0;
out:
    store_close(st);
    config_destroy(cfg);
    return exit_code;
}

/* export.c does the work; --match is repeatable, so it is taken out of
 * argv before the settings are loaded. */
static int cmd_export(int argc, char **argv)
{
    struct config *cfg = NULL;
    const char **match = NULL;
    size_t nmatch = 0;
    int rc = export_take_matches(&argc, argv, &match, &nmatch) != 0 ? 2 : -1;
    if (rc < 0)
        rc = sub_config("export", export_help, export_settings, EXPORT_NSETTINGS, argc, argv, &cfg);
    if (rc < 0)
        rc = export_run(cfg, match, nmatch, sub_open);
    free(match);
    config_destroy(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "backup") == 0)
        return cmd_backup(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    /* A query allocates its sample arrays afresh and frees them at the end;
     * with glibc's defaults the memory goes back to the kernel every time
     * and the next query takes page faults on all of it (~15% of a 24-hour
     * histogram query). Keep up to 128 MiB of freed heap, and serve blocks
     * up to 32 MiB (the most glibc allows) from the heap. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    struct config *cfg = NULL;
    char err[512];
    int rc = daemon_start(&table, "llmtap-collector", argc, argv, &cfg);
    if (rc >= 0)
        return rc;

    int exit_code = 1;
    struct devbroker *dev = NULL;
    struct store *st = NULL;
    struct ingest *g = NULL;
    struct series_ingest *si = NULL;
    struct httpd *http = NULL;
    struct maint *maint = NULL;
    struct auth *auth = NULL;
    struct selfseries *self = NULL;
    struct qpool *qpool = NULL;
    char *tls_cert = NULL, *tls_key = NULL;
    struct metrics *m = metrics_create();
    struct api api;
    const char *data_dir = config_str(cfg, "data_dir");
    char brokers[512] = "";
    if (config_str(cfg, "brokers"))
        snprintf(brokers, sizeof brokers, "%s", config_str(cfg, "brokers"));

    /* Credentials and certificates are configuration: refusing them is
     * exit status 2, like any other bad setting. */
    const char *af = config_str(cfg, "auth.file");
    const char *cf = config_str(cfg, "tls.cert_file"), *kf = config_str(cfg, "tls.key_file");
    if (af && *af && auth_load(af, m, &auth, err, sizeof err) != 0) {
        log_error("collector", "auth.file: %s", err);
        exit_code = 2;
        goto out;
    }
    if ((cf && *cf) != (kf && *kf)) {
        log_error("collector", "tls.cert_file and tls.key_file go together: set both or neither");
        exit_code = 2;
        goto out;
    }
    if (cf && *cf &&
        (!(tls_cert = read_pem("tls.cert_file", cf, err, sizeof err)) ||
         !(tls_key = read_pem("tls.key_file", kf, err, sizeof err)))) {
        log_error("collector", "%s", err);
        exit_code = 2;
        goto out;
    }
    if (mkdir(data_dir, 0750) != 0 && errno != EEXIST) {
        log_error("collector", "data_dir %s: %s", data_dir, strerror(errno));
        goto out;
    }
    if (config_bool(cfg, "dev")) {
        if (devbroker_start(config_str(cfg, "topic"), config_str(cfg, "dlq.topic"),
                            (int)config_int(cfg, "dev_partitions"), &dev, brokers, sizeof brokers,
                            err, sizeof err) != 0) {
            log_error("collector", "%s", err);
            goto out;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/dev-broker.addr", data_dir);
        if (write_file(path, brokers) != 0)
            log_warn("collector", "cannot write %s: %s", path, strerror(errno));
        printf("dev broker: %s\n", brokers);
        fflush(stdout);
        log_info("collector", "dev broker: %s (address written to %s)", brokers, path);
    }

    struct store_opts so = {
        .dir = data_dir,
        .map_size = (size_t)config_int(cfg, "store.map_size"),
        .zstd_level = (int)config_int(cfg, "store.zstd_level"),
        .no_sync = !config_bool(cfg, "store.sync"),
        /* one read transaction per HTTP thread and per query pool thread
         * at most (64 covers any query.parallelism), plus ingest and
         * maintenance; never below LMDB's default of 126 */
        .max_readers = (unsigned)config_int(cfg, "http.threads") + 64 + 16 > 126
                           ? (unsigned)config_int(cfg, "http.threads") + 64 + 16
                           : 126,
    };
    if ((rc = store_open(&so, &st)) != 0) {
        log_error("collector", "cannot open the store in %s: %s", data_dir, store_strerror(rc));
        goto out;
    }
    if (ingest_create(cfg, brokers[0] ? brokers : NULL, st, m, &g, err, sizeof err) != 0) {
        log_error("collector", "%s", err);
        goto out;
    }
    int64_t res = config_int(cfg, "series.resolution"),
            dsres = config_int(cfg, "series.ds_resolution");
    if ((res && (res % 1000 || 1800000 % res)) || (dsres && (dsres % 1000 || 1800000 % dsres)) ||
        (res && dsres && (dsres % res || dsres <= res))) {
        log_error("collector",
                  "series.resolution %lld ms, series.ds_resolution %lld ms: each must "
                  "be whole seconds dividing 30m, the second a larger multiple of the first",
                  (long long)res, (long long)dsres);
        exit_code = 2;
        goto out;
    }
    struct series_opts sopts = {
        .res_ms = res,
        .ds_res_ms = dsres,
        .late_ms = config_int(cfg, "series.late_window"),
        .raw_retention_ms = config_int(cfg, "series.raw_retention"),
        .ds_retention_ms = config_int(cfg, "series.ds_retention"),
        .stale_ms = config_int(cfg, "series.staleness"),
        .downsample_after_ms = config_int(cfg, "series.downsample_after"),
        .cache_bytes = (size_t)config_int(cfg, "query.block_cache"),
    };
    if (series_ingest_create(st, m, &sopts, (uint64_t)config_int(cfg, "series.max_per_metric"), &si,
                             err, sizeof err) != 0) {
        log_error("collector", "%s%s", err,
                  res || dsres ? " (series.resolution and series.ds_resolution cannot change once "
                                 "the series exist; 0 takes the store's)"
                               : "");
        goto out;
    }
    unsigned labels;
    if (series_ingest_parse_labels(config_str(cfg, "series.labels"), &labels, err, sizeof err)) {
        log_error("collector", "series.labels: %s", err);
        exit_code = 2;
        goto out;
    }
    series_ingest_set_labels(si, labels);
    ingest_set_series(g, si);
    api_init(&api, st, g, m, (size_t)config_int(cfg, "api.max_limit"),
             (size_t)config_int(cfg, "api.max_examined"));
    promapi_init(&api.prom, st, series_ingest_db(si), m);
    api.prom.max_examined = (size_t)config_int(cfg, "api.max_examined");
    api.prom.labels = labels;
    api.prom.timeout_ms = config_int(cfg, "query.timeout");
    api.prom.max_samples = (uint64_t)config_int(cfg, "query.max_samples");
    {
        long par = (long)config_int(cfg, "query.parallelism");
        if (par == 0)
            par = (long)cpus_usable();
        if (par > 64)
            par = 64;
        if (par > 1 && !(qpool = qpool_create((unsigned)(par - 1))))
            log_warn("collector",
                     "query.parallelism: cannot start %ld helper threads; "
                     "queries run on their own thread",
                     par - 1);
        api.prom.pool = qpool;
    }
    api.auth = auth;
    struct maint_opts mo = {
        .dict_min_events = (size_t)config_int(cfg, "store.dict_min_events"),
        .dict_samples = (size_t)config_int(cfg, "store.dict_samples"),
        .check_ms = 5000,
        .retention_ms = config_int(cfg, "retention.events"),
        .retention_batch = (size_t)config_int(cfg, "retention.batch"),
    };
    if (!(maint = maint_start(st, &mo, m))) {
        log_error("collector", "cannot start the store maintenance thread");
        goto out;
    }
    /* Every metric is registered by now: sample them all as series. */
    if (config_int(cfg, "series.self_retention") > 0) {
        int64_t grid, dsgrid;
        series_grid(series_ingest_db(si), &grid, &dsgrid);
        if (!(self = selfseries_create(m, grid, config_int(cfg, "series.self_retention"))) ||
            selfseries_start(self) != 0) {
            log_error("collector", "cannot start sampling the collector's own metrics");
            goto out;
        }
        api.prom.self = self;
    }
    struct httpd_opts ho = {
        .listen = config_str(cfg, "listen"),
        .threads = (unsigned)config_int(cfg, "http.threads"),
        .max_body = 1 << 20,
        .tls_cert_pem = tls_cert,
        .tls_key_pem = tls_key,
        .handler = api_handle,
        .ud = &api,
    };
    if (httpd_start(&ho, &http, err, sizeof err) != 0) {
        log_error("collector", "%s", err);
        goto out;
    }
    if (ingest_start(g) != 0) {
        log_error("collector", "cannot start the ingest thread");
        goto out;
    }
    if (auth) {
        size_t nt, nu;
        auth_counts(auth, &nt, &nu);
        log_info("collector", "auth: %zu token(s), %zu user(s) from %s", nt, nu, af);
    }
    log_info("collector", "llmtap-collector %s: store %s, listening on %s (port %u%s), topic %s",
             LLMTAP_VERSION, data_dir, ho.listen, httpd_port(http), tls_cert ? ", HTTPS" : "",
             config_str(cfg, "topic"));

    struct reload rl = {argc, argv, st, maint, mo.retention_ms};
    daemon_wait("collector", on_hup, &rl);
    exit_code = 0;
out:
    httpd_quiesce(http);
    httpd_drain(http, 5000);
    httpd_stop(http);
    qpool_destroy(qpool);
    selfseries_destroy(self);
    maint_stop(maint);
    ingest_destroy(g);
    series_ingest_destroy(si);
    store_close(st);
    devbroker_stop(dev);
    auth_free(auth);
    free(tls_cert);
    free(tls_key);
    metrics_destroy(m);
    config_destroy(cfg);
    if (exit_code == 0)
        log_info("collector", "stopped");
    return exit_code;
}
