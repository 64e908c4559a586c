/*
 * qpool.c — the query worker pool. API and design: qpool.h.
 */
#include "qpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 64 /* one bit each in struct job's declined */

struct job {
    const struct qpool_loop *loop;
    /* the indices not handed out yet, [front, back): front in the low 32
     * bits, back in the high 32 */
    _Atomic uint64_t left;
    atomic_bool expired; /* the deadline stopped it */
    unsigned inside;     /* pool threads in the loop (under mu) */
    uint64_t declined;   /* pool threads whose join failed (under mu) */
    struct job *link;    /* the pool's list of loops (under mu) */
};

struct worker {
    struct qpool *p;
    unsigned w;
    pthread_t th;
};

struct qpool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a loop was listed, or stop */
    pthread_cond_t left; /* a pool thread left a loop */
    struct job *head;
    bool stop;
    unsigned nthreads;
    struct worker *wk;
};

static void unlist(struct qpool *p, struct job *j)
{
    for (struct job **pp = &p->head; *pp; pp = &(*pp)->link)
        if (*pp == j) {
            *pp = j->link;
            return;
        }
}

/* Takes the next index from the front (the calling thread) or the back
 * (pool threads); false when none is left. */
static bool take(struct job *j, bool front, size_t *i)
{
    uint64_t cur = atomic_load_explicit(&j->left, memory_order_relaxed), nxt;
    do {
        uint32_t f = (uint32_t)cur, b = (uint32_t)(cur >> 32);
        if (f >= b)
            return false;
        if (front) {
            *i = f;
            nxt = ((uint64_t)b << 32) | (f + 1);
        } else {
            *i = b - 1u;
            nxt = ((uint64_t)(b - 1u) << 32) | f;
        }
    } while (!atomic_compare_exchange_weak_explicit(&j->left, &cur, nxt, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static bool none_left(struct job *j)
{
    uint64_t cur = atomic_load_explicit(&j->left, memory_order_relaxed);
    return (uint32_t)cur >= (uint32_t)(cur >> 32);
}

static bool passed(int64_t deadline_ns)
{
    struct timespec ts;
    if (!deadline_ns)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec > deadline_ns;
}

/* The deadline has passed: takes every index left. */
static void expire(struct job *j)
{
    uint64_t cur = atomic_load_explicit(&j->left, memory_order_relaxed), nxt;
    do {
        uint32_t f = (uint32_t)cur, b = (uint32_t)(cur >> 32);
        if (f >= b)
            break;
        nxt = ((uint64_t)b << 32) | b;
    } while (!atomic_compare_exchange_weak_explicit(&j->left, &cur, nxt, memory_order_relaxed,
                                                    memory_order_relaxed));
    atomic_store_explicit(&j->expired, true, memory_order_relaxed);
}

/* Takes indices of j until none is left (or the deadline passed). */
static void run(struct job *j, unsigned w)
{
    const struct qpool_loop *l = j->loop;
    size_t i;
    while (take(j, w == 0, &i)) {
        if (passed(l->deadline_ns)) {
            expire(j);
            break;
        }
        l->fn(l->ud, w, i);
    }
}

/* The oldest listed loop with indices left that w has not declined. */
static struct job *pick(struct qpool *p, unsigned w)
{
    for (struct job *j = p->head; j; j = j->link)
        if (!(j->declined & ((uint64_t)1 << (w - 1))) && !none_left(j))
            return j;
    return NULL;
}

static void *thread_main(void *arg)
{
    struct worker *wk = arg;
    struct qpool *p = wk->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct job *j = NULL;
        while (!p->stop && !(j = pick(p, wk->w)))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        j->inside++;
        pthread_mutex_unlock(&p->mu);
        const struct qpool_loop *l = j->loop;
        bool joined = !l->join || l->join(l->ud, wk->w) == 0;
        if (joined) {
            run(j, wk->w);
            if (l->leave)
                l->leave(l->ud, wk->w);
        }
        pthread_mutex_lock(&p->mu);
        if (!joined)
            j->declined |= (uint64_t)1 << (wk->w - 1);
        j->inside--;
        pthread_cond_broadcast(&p->left);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct qpool *qpool_create(unsigned threads)
{
    if (!threads)
        return NULL;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    struct qpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->wk = calloc(threads, sizeof *p->wk))) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->left, NULL);
    for (unsigned i = 0; i < threads; i++) {
        p->wk[i] = (struct worker){.p = p, .w = i + 1};
        if (pthread_create(&p->wk[i].th, NULL, thread_main, &p->wk[i]) != 0) {
            qpool_destroy(p);
            return NULL;
        }
        p->nthreads = i + 1;
    }
    return p;
}

void qpool_destroy(struct qpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->wk[i].th, NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->left);
    pthread_mutex_destroy(&p->mu);
    free(p->wk);
    free(p);
}

unsigned qpool_threads(const struct qpool *p)
{
    return p ? p->nthreads : 0;
}

int qpool_for(struct qpool *p, const struct qpool_loop *loop)
{
    if (loop->n > UINT32_MAX) { /* beyond the index counters: alone */
        for (size_t i = 0; i < loop->n; i++) {
            if (passed(loop->deadline_ns))
                return -1;
            loop->fn(loop->ud, 0, i);
        }
        return 0;
    }
    struct job j = {.loop = loop};
    atomic_init(&j.left, (uint64_t)loop->n << 32);
    atomic_init(&j.expired, false);
    if (p && loop->n > 1) {
        pthread_mutex_lock(&p->mu);
        struct job **pp = &p->head;
        while (*pp)
            pp = &(*pp)->link;
        *pp = &j;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
    }
    run(&j, 0);
    if (p && loop->n > 1) {
        pthread_mutex_lock(&p->mu);
        unlist(p, &j);
        while (j.inside)
            pthread_cond_wait(&p->left, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    /* every thread is out of the loop (the mutex ordered their stores
     * before this load, or this thread made them) */
    return atomic_load_explicit(&j.expired, memory_order_relaxed) ? -1 : 0;
}
