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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "daemon.h"
#include "devbroker.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "store.h"

static const struct config_setting settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:7310", 0, 0, "HTTP listen address (HOST:PORT)"},
    {"data_dir", NULL, CONFIG_STRING, "./llmtap-data", 0, 0, "directory of the LMDB store"},
    {"store.map_size", NULL, CONFIG_BYTES, "16GiB", 1048576, 1099511627776.0 * 64,
     "LMDB map size: the most the store can hold"},
    {"store.zstd_level", NULL, CONFIG_INT, "3", 1, 19, "zstd level for event bodies"},
    {"store.sync", NULL, CONFIG_BOOL, "true", 0, 0,
     "fsync each commit (false only for benchmarks: a crash may lose the last commits)"},
    {"store.dict_min_events", NULL, CONFIG_INT, "4000", 0, 1e12,
     "train a zstd dictionary once the store holds this many events (0 = never)"},
    {"store.dict_samples", NULL, CONFIG_INT, "4000", 100, 1000000,
     "events sampled to train a dictionary"},
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
    .usage = "llmtap-collector [flags]   (any librdkafka property: --kafka NAME=VALUE)",
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

int main(int argc, char **argv)
{
    struct config *cfg = NULL;
    char err[512];
    int rc = daemon_start(&table, "llmtap-collector", argc, argv, &cfg);
    if (rc >= 0)
        return rc;

    int exit_code = 1;
    struct devbroker *dev = NULL;
    struct store *st = NULL;
    struct ingest *g = NULL;
    struct httpd *http = NULL;
    struct maint *maint = NULL;
    struct metrics *m = metrics_create();
    struct api api;
    const char *data_dir = config_str(cfg, "data_dir");
    char brokers[512] = "";
    if (config_str(cfg, "brokers"))
        snprintf(brokers, sizeof brokers, "%s", config_str(cfg, "brokers"));

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
        /* one read transaction per HTTP thread at most, plus ingest and
         * maintenance; never below LMDB's default of 126 */
        .max_readers = (unsigned)config_int(cfg, "http.threads") + 16 > 126
                           ? (unsigned)config_int(cfg, "http.threads") + 16
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
    api_init(&api, st, g, m, (size_t)config_int(cfg, "api.max_limit"),
             (size_t)config_int(cfg, "api.max_examined"));
    struct httpd_opts ho = {
        .listen = config_str(cfg, "listen"),
        .threads = (unsigned)config_int(cfg, "http.threads"),
        .max_body = 1 << 20,
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
    struct maint_opts mo = {
        .dict_min_events = (size_t)config_int(cfg, "store.dict_min_events"),
        .dict_samples = (size_t)config_int(cfg, "store.dict_samples"),
        .check_ms = 5000,
    };
    if (!(maint = maint_start(st, &mo, m))) {
        log_error("collector", "cannot start the store maintenance thread");
        goto out;
    }
    log_info("collector", "llmtap-collector %s: store %s, listening on %s (port %u), topic %s",
             LLMTAP_VERSION, data_dir, ho.listen, httpd_port(http), config_str(cfg, "topic"));

    daemon_wait("collector", NULL, NULL);
    exit_code = 0;
out:
    httpd_quiesce(http);
    httpd_drain(http, 5000);
    httpd_stop(http);
    maint_stop(maint);
    ingest_destroy(g);
    store_close(st);
    devbroker_stop(dev);
    metrics_destroy(m);
    config_destroy(cfg);
    if (exit_code == 0)
        log_info("collector", "stopped");
    return exit_code;
}
