/*
 * maint.c — the "store-maint" thread: retention and dictionary training.
 *
 * DESIGN: one thread that wakes every check_ms (or at once on stop, through
 * a condition variable), deletes what retention says is too old, reads the
 * store's stats, and trains when the policy in maint.h says so. Training
 * reads in its own LMDB read transaction and takes the write lock only to
 * store the dictionary, so ingest is not stalled by it. Retention deletes in
 * small write transactions (store_delete_before) with a pause of
 * RETENTION_GAP_MS between them, in which ingest, waiting on the store's
 * writer lock, gets it; LMDB allows one writer at a time, so what bounds
 * ingest's wait is the size of one retention transaction. A transaction
 * that fails with MDB_MAP_FULL (deleting copies pages, and a completely full
 * map has none to spare) is retried with fewer events.
 * retention_ms is atomic: SIGHUP changes it from the main thread.
 */
#include "maint.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "crash.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "timeutil.h"

struct maint {
    struct store *st;
    struct maint_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    uint64_t events_at_training;
    uint32_t dict_id; /* the newest dictionary, as last seen */
    _Atomic int64_t retention_ms;
    struct metric *trainings, *train_failures, *dict_id_metric;
    struct metric *retention_deleted, *retention_failures;
};

#define RETENTION_GAP_MS 5 /* between two retention transactions: ingest's turn */

/* A new dictionary when the store has grown this many times since the
 * last training. The first one is trained on the few thousand events of
 * whichever partitions were consumed first (a collector catching up on a
 * backlog consumes them at different paces), so it can fit the other
 * services' events poorly (bench-ingest: records of 477 to 757 bytes with
 * it, from run to run); a quick second one, on a sample spread over four
 * times as many events, mends that early. Trainings stay rare: about
 * log4 of the store's size, each ~0.1-0.3 s of this thread's CPU and a
 * dictionary of at most 64 KiB kept. */
#define DICT_GROWTH 4

/* Waits up to ms on the condition variable; false once stop is set. */
static bool wait_ms(struct maint *mt, int ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mt->mu);
    while (!mt->stop && pthread_cond_timedwait(&mt->cv, &mt->mu, &dl) != ETIMEDOUT)
        ;
    bool go_on = !mt->stop;
    pthread_mutex_unlock(&mt->mu);
    return go_on;
}

static void retention(struct maint *mt)
{
    int64_t keep_ms = atomic_load(&mt->retention_ms);
    if (keep_ms <= 0)
        return;
    int64_t t0 = timeutil_mono_us();
    int64_t cutoff = timeutil_now_us() - keep_ms * 1000;
    size_t chunk = mt->o.retention_batch ? mt->o.retention_batch : 1000, total = 0, txns = 0;
    for (;;) {
        size_t n = 0;
        int rc = store_delete_before(mt->st, cutoff, chunk, &n);
        if (rc == MDB_MAP_FULL && chunk > 1) {
            chunk = chunk / 8 ? chunk / 8 : 1;
            continue;
        }
        if (rc) {
            metric_inc(mt->retention_failures);
            log_warn("collector:maint",
                     "retention: deleting events failed: %s; retrying at the "
                     "next check",
                     store_strerror(rc));
            break;
        }
        total += n;
        txns++;
        metric_add(mt->retention_deleted, n);
        if (n < chunk || !wait_ms(mt, RETENTION_GAP_MS))
            break;
    }
    if (total) { /* steady state deletes a little at every check: no log line each time */
        char t[TIMEUTIL_RFC3339_LEN];
        timeutil_format_rfc3339(cutoff, t);
        double ms = (double)(timeutil_mono_us() - t0) / 1000;
        log_msg(total >= 10000 || ms >= 1000 ? LOG_INFO : LOG_DEBUG, "collector:maint",
                "retention: deleted %zu events older than %s in %zu transactions, %.0f ms", total,
                t, txns, ms);
    }
}

static void maybe_train(struct maint *mt)
{
    struct store_stats s;
    if (store_stats(mt->st, &s) != 0)
        return;
    metric_set(mt->dict_id_metric, s.dict_id);
    mt->dict_id = s.dict_id;
    if (mt->o.dict_min_events == 0 || s.events < mt->o.dict_min_events)
        return;
    if (s.dict_id != 0 && mt->events_at_training == 0)
        mt->events_at_training = s.events; /* trained by an earlier run */
    if (s.dict_id != 0 && s.events < DICT_GROWTH * mt->events_at_training)
        return;
    int64_t t0 = timeutil_mono_us();
    int rc = store_train_dict(mt->st, mt->o.dict_samples);
    if (rc != 0) {
        metric_inc(mt->train_failures);
        log_warn("collector:maint", "zstd dictionary training failed: %s", store_strerror(rc));
        mt->events_at_training = s.events; /* do not retry before the store grows */
        return;
    }
    store_stats(mt->st, &s);
    mt->events_at_training = s.events;
    mt->dict_id = s.dict_id;
    metric_inc(mt->trainings);
    metric_set(mt->dict_id_metric, s.dict_id);
    log_info("collector:maint", "trained zstd dictionary %u on %zu events in %.0f ms", s.dict_id,
             mt->o.dict_samples, (double)(timeutil_mono_us() - t0) / 1000);
}

static void *maint_main(void *arg)
{
    struct maint *mt = arg;
    crash_thread_init();
    int64_t last_retention = 0;
    bool first = true;
    do {
        if (first || timeutil_mono_us() - last_retention >= (int64_t)mt->o.check_ms * 1000) {
            first = false;
            retention(mt);
            last_retention = timeutil_mono_us();
        }
        maybe_train(mt);
        /* Until the first dictionary exists every record is compressed
         * without one, at ~2.5 times the size and ~3 times the CPU: look
         * often (a store_stats is a few microseconds); until the second,
         * which mends the first's skew (DICT_GROWTH), still often enough
         * for a collector catching up on a backlog at tens of thousands
         * of events a second. */
    } while (wait_ms(mt, !mt->o.dict_min_events || mt->dict_id >= 2 ? mt->o.check_ms
                         : mt->dict_id == 0                         ? 50
                                                                    : 250));
    return NULL;
}

struct maint *maint_start(struct store *st, const struct maint_opts *o, struct metrics *m)
{
    struct maint *mt = calloc(1, sizeof *mt);
    if (!mt)
        return NULL;
    mt->st = st;
    mt->o = *o;
    pthread_mutex_init(&mt->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mt->cv, &ca);
    pthread_condattr_destroy(&ca);
    mt->trainings = metrics_counter(m, "llmtap_store_dict_trainings_total",
                                    "zstd dictionaries trained for event records.", NULL);
    mt->train_failures = metrics_counter(m, "llmtap_store_dict_training_failures_total",
                                         "zstd dictionary trainings that failed.", NULL);
    mt->dict_id_metric = metrics_gauge(
        m, "llmtap_store_dict_id", "Id of the zstd dictionary new records use (0 = none).", NULL);
    mt->retention_deleted = metrics_counter(m, "llmtap_store_retention_deleted_total",
                                            "Events deleted by retention.", NULL);
    mt->retention_failures = metrics_counter(m, "llmtap_store_retention_failures_total",
                                             "Retention transactions that failed.", NULL);
    atomic_store(&mt->retention_ms, o->retention_ms);
    if (pthread_create(&mt->thread, NULL, maint_main, mt) != 0) {
        pthread_cond_destroy(&mt->cv);
        pthread_mutex_destroy(&mt->mu);
        free(mt);
        return NULL;
    }
    pthread_setname_np(mt->thread, "store-maint");
    return mt;
}

void maint_set_retention(struct maint *mt, int64_t retention_ms)
{
    if (mt)
        atomic_store(&mt->retention_ms, retention_ms);
}

void maint_stop(struct maint *mt)
{
    if (!mt)
        return;
    pthread_mutex_lock(&mt->mu);
    mt->stop = true;
    pthread_cond_signal(&mt->cv);
    pthread_mutex_unlock(&mt->mu);
    pthread_join(mt->thread, NULL);
    pthread_cond_destroy(&mt->cv);
    pthread_mutex_destroy(&mt->mu);
    free(mt);
}
