/*
 * maint.c — the "store-maint" thread: dictionary training.
 *
 * DESIGN: one thread that wakes every check_ms (or at once on stop, through
 * a condition variable), reads the store's stats, and trains when the
 * policy in maint.h says so. Training reads in its own LMDB read
 * transaction and takes the write lock only to store the dictionary, so
 * ingest is not stalled by it.
 */
#include "maint.h"

#include <errno.h>
#include <pthread.h>
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
    struct metric *trainings, *train_failures, *dict_id;
};

static void maybe_train(struct maint *mt)
{
    struct store_stats s;
    if (store_stats(mt->st, &s) != 0)
        return;
    metric_set(mt->dict_id, s.dict_id);
    if (mt->o.dict_min_events == 0 || s.events < mt->o.dict_min_events)
        return;
    if (s.dict_id != 0 && mt->events_at_training == 0)
        mt->events_at_training = s.events; /* trained by an earlier run */
    if (s.dict_id != 0 && s.events < 8 * mt->events_at_training)
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
    metric_inc(mt->trainings);
    metric_set(mt->dict_id, s.dict_id);
    log_info("collector:maint", "trained zstd dictionary %u on %zu events in %.0f ms", s.dict_id,
             mt->o.dict_samples, (double)(timeutil_mono_us() - t0) / 1000);
}

static void *maint_main(void *arg)
{
    struct maint *mt = arg;
    crash_thread_init();
    pthread_mutex_lock(&mt->mu);
    while (!mt->stop) {
        pthread_mutex_unlock(&mt->mu);
        maybe_train(mt);
        pthread_mutex_lock(&mt->mu);
        /* Until the first dictionary exists every record is compressed
         * without one: look often. */
        int wait_ms = mt->events_at_training ? mt->o.check_ms : 250;
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += wait_ms / 1000;
        dl.tv_nsec += (long)(wait_ms % 1000) * 1000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        while (!mt->stop && pthread_cond_timedwait(&mt->cv, &mt->mu, &dl) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&mt->mu);
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
    mt->dict_id = metrics_gauge(m, "llmtap_store_dict_id",
                                "Id of the zstd dictionary new records use (0 = none).", NULL);
    if (pthread_create(&mt->thread, NULL, maint_main, mt) != 0) {
        pthread_cond_destroy(&mt->cv);
        pthread_mutex_destroy(&mt->mu);
        free(mt);
        return NULL;
    }
    pthread_setname_np(mt->thread, "store-maint");
    return mt;
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
