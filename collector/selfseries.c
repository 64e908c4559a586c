/*
 * selfseries.c — rings of samples of the collector's own metrics (see
 * selfseries.h). One timestamp ring shared by all metrics (they are
 * sampled together) and one value ring per metric.
 */
#include "selfseries.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "series.h"
#include "timeutil.h"

#define MAX_LABELS 8 /* __name__ + fixed labels */

struct sser {
    struct metric *mt;
    struct series_label l[MAX_LABELS];
    size_t nl;
    char *strs; /* the label names and values (owned) */
    double *v;  /* ring, cap slots */
};

struct selfseries {
    int64_t res, keep;
    size_t cap, head, count; /* ring: next slot, valid slots */
    int64_t *t;
    struct sser *s;
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    bool started, stop;
};

/* Parses a fixed label string (a="x",b="y\"z") into s->l after __name__. */
static int parse_labels(struct sser *s)
{
    const char *p = s->mt->labels;
    size_t len = strlen(p), nm = strlen(s->mt->name);
    char *w = s->strs = malloc(nm + 1 + len + 1 + 2 * MAX_LABELS);
    if (!w)
        return ENOMEM;
    memcpy(w, s->mt->name, nm + 1);
    s->l[0] = (struct series_label){"__name__", w};
    w += nm + 1;
    s->nl = 1;
    while (*p && s->nl < MAX_LABELS) {
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"')
            break;
        s->l[s->nl].name = w;
        memcpy(w, p, (size_t)(eq - p));
        w += eq - p;
        *w++ = 0;
        s->l[s->nl].value = w;
        p = eq + 2;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) {
                p++;
                *w++ = *p == 'n' ? '\n' : *p;
            } else {
                *w++ = *p;
            }
            p++;
        }
        *w++ = 0;
        s->nl++;
        if (*p == '"')
            p++;
        if (*p == ',')
            p++;
    }
    return 0;
}

struct selfseries *selfseries_create(struct metrics *m, int64_t res_ms, int64_t keep_ms)
{
    if (res_ms <= 0 || keep_ms <= 0)
        return NULL;
    struct selfseries *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->res = res_ms;
    s->keep = keep_ms;
    s->cap = (size_t)(keep_ms / res_ms) + 1;
    s->n = metrics_count(m);
    s->t = malloc(s->cap * sizeof *s->t);
    s->s = calloc(s->n ? s->n : 1, sizeof *s->s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (!s->t || !s->s) {
        selfseries_destroy(s);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        s->s[i].mt = metrics_at(m, i);
        if (parse_labels(&s->s[i]) != 0 || !(s->s[i].v = malloc(s->cap * sizeof(double)))) {
            selfseries_destroy(s);
            return NULL;
        }
    }
    return s;
}

void selfseries_sample(struct selfseries *s, int64_t now_ms)
{
    int64_t t = now_ms - ((now_ms % s->res) + s->res) % s->res;
    /* Read the values outside the lock (callbacks may take their own). */
    double *vals = malloc((s->n ? s->n : 1) * sizeof *vals);
    if (!vals)
        return;
    for (size_t i = 0; i < s->n; i++)
        vals[i] = metric_value(s->s[i].mt);
    pthread_mutex_lock(&s->mu);
    size_t slot;
    size_t last = (s->head + s->cap - 1) % s->cap;
    if (s->count && s->t[last] == t) {
        slot = last;
    } else if (s->count && s->t[last] > t) {
        slot = SIZE_MAX; /* the clock went back: keep the ring in order */
    } else {
        slot = s->head;
        s->head = (s->head + 1) % s->cap;
        if (s->count < s->cap)
            s->count++;
    }
    if (slot != SIZE_MAX) {
        s->t[slot] = t;
        for (size_t i = 0; i < s->n; i++)
            s->s[i].v[slot] = vals[i];
    }
    pthread_mutex_unlock(&s->mu);
    free(vals);
}

static void *run(void *ud)
{
    struct selfseries *s = ud;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        int64_t now = timeutil_now_us() / 1000;
        selfseries_sample(s, now);
        int64_t next = now - now % s->res + s->res; /* the next grid point */
        struct timespec ts = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
        pthread_mutex_lock(&s->mu);
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int selfseries_start(struct selfseries *s)
{
    int rc = pthread_create(&s->th, NULL, run, s);
    if (rc == 0)
        s->started = true;
    return rc;
}

void selfseries_destroy(struct selfseries *s)
{
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
    }
    for (size_t i = 0; s->s && i < s->n; i++) {
        free(s->s[i].strs);
        free(s->s[i].v);
    }
    free(s->s);
    free(s->t);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int selfseries_select(struct selfseries *s, int64_t start_ms, int64_t end_ms,
                      selfseries_match_fn match, void *match_ud, selfseries_each_fn fn, void *ud)
{
    if (!s)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    size_t first = (s->head + s->cap - s->count) % s->cap, a = 0, b = 0;
    int64_t *t = malloc((s->count ? s->count : 1) * sizeof *t);
    double *v = malloc((s->count ? s->count : 1) * sizeof *v);
    if (!t || !v)
        rc = ENOMEM;
    /* The ring's slots [a, b) in age order fall in the range. */
    while (a < s->count && s->t[(first + a) % s->cap] < start_ms)
        a++;
    b = a;
    while (b < s->count && s->t[(first + b) % s->cap] <= end_ms)
        b++;
    for (size_t k = a; rc == 0 && k < b; k++)
        t[k - a] = s->t[(first + k) % s->cap];
    for (size_t i = 0; rc == 0 && b > a && i < s->n; i++) {
        struct sser *x = &s->s[i];
        if (match && !match(match_ud, x->l, x->nl))
            continue;
        for (size_t k = a; k < b; k++)
            v[k - a] = x->v[(first + k) % s->cap];
        rc = fn(ud, x->l, x->nl, t, v, b - a);
    }
    pthread_mutex_unlock(&s->mu);
    free(t);
    free(v);
    return rc;
}
