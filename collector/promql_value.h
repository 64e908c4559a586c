/*
 * promql_value.h — the evaluator's values and their memory (internal to
 * promql_eval.c, promql_binop.c, promql_agg.c and promql_func.c; not an
 * API).
 *
 * What it is for: the PromQL evaluator works on label sets, series of
 * samples, matrices (many series) and vectors (one sample per series at one
 * step). This module holds them for the length of one evaluation, and turns
 * the final value into a struct promql_result and its JSON.
 *
 * DESIGN
 * - One struct pq_ctx per evaluation. Label sets and strings live in an
 *   arena (freed with the result); sample arrays are malloc'd but tracked
 *   in the context's heap list, so intermediate matrices are freed as soon
 *   as they are consumed, and on any error everything left is freed at once
 *   — evaluation code just returns the error.
 * - Label sets are interned: one canonical, immutable struct pq_labels per
 *   distinct set, so equality is pointer equality and maps key on pointers.
 *   A set caches its form without the metric name.
 * - Not thread-safe: a context belongs to the evaluating thread.
 */
#ifndef LLMTAP_PROMQL_VALUE_H
#define LLMTAP_PROMQL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql_eval.h"

struct arena;

/* --- tracked heap -------------------------------------------------------- */

struct pq_blk;
struct pq_heap {
    struct pq_blk *head;
};
/* NULL when out of memory. pq_realloc(h, NULL, n) allocates; n must be > 0. */
void *pq_alloc(struct pq_heap *h, size_t n);
void *pq_realloc(struct pq_heap *h, void *p, size_t n);
void pq_free(struct pq_heap *h, void *p); /* accepts NULL */
void pq_heap_clear(struct pq_heap *h);    /* frees every block */
/* A block of n > 0 bytes made on any thread, in no heap yet (NULL when
 * out of memory): pq_heap_adopt then puts it in h (on h's thread), or
 * pq_blk_drop frees it. */
void *pq_blk_new(size_t n);
void pq_heap_adopt(struct pq_heap *h, void *p);
void pq_blk_drop(void *p); /* accepts NULL */

/* --- label sets ---------------------------------------------------------- */

typedef struct pq_labels {
    uint64_t hash;
    const struct pq_labels *noname_; /* cache: the set without __name__ */
    size_t n;
    struct promql_label l[];
} pq_labels;

struct pq_intern {
    const pq_labels **slot;
    size_t cap, count;
};

/* Per-evaluation state shared by the evaluator's modules. */
struct pq_ctx {
    struct arena *arena;
    struct pq_heap heap;
    struct pq_intern intern;
    const pq_labels *empty; /* the empty label set */
    const struct promql_source *src;
    struct promql_eval_opts o;
    int64_t qstart, qend, qstep; /* the query's range (for @ start()/end()) */
    uint64_t samples;            /* held now, against o.max_samples */
    int64_t deadline_ns;         /* CLOCK_MONOTONIC; 0 = none */
    unsigned ticks;
    struct promql_eval_error *err;
};

/* Sets the error (printf-style message) and returns PROMQL_EEVAL. */
int pq_fail(struct pq_ctx *c, enum promql_errtype t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an out-of-memory failure and returns PROMQL_ENOMEM. */
int pq_oom(struct pq_ctx *c);
/* Checks the deadline and cancellation (cheaply: the clock is read every
 * 64th call). Returns 0 or the error. */
int pq_tick(struct pq_ctx *c);
/* The timeout error pq_tick gives, for work that found the deadline
 * passed itself (a query pool loop stopped by it: qpool_for's -1). */
int pq_timeout(struct pq_ctx *c);
/* Adds n samples held (n may be negative to release); fails when the
 * total would exceed o.max_samples. */
int pq_hold_slow(struct pq_ctx *c, int64_t n);
static inline int pq_hold(struct pq_ctx *c, int64_t n)
{
    if (n >= 0 && c->samples <= c->o.max_samples && (uint64_t)n <= c->o.max_samples - c->samples) {
        c->samples += (uint64_t)n;
        return 0;
    }
    if (n < 0 && (uint64_t)0 - (uint64_t)n <= c->samples) {
        c->samples -= (uint64_t)0 - (uint64_t)n;
        return 0;
    }
    return pq_hold_slow(c, n);
}

void *pq_arena_alloc(struct pq_ctx *c, size_t n);

/* The interned set of l[0, n). l must be sorted by name, names unique;
 * labels with empty values are skipped. Strings are copied when the set is
 * new. NULL when out of memory. */
const pq_labels *pq_intern(struct pq_ctx *c, const struct promql_label *l, size_t n);
/* The same set without __name__ (and Prometheus's other reserved metadata
 * labels __type__ and __unit__). */
const pq_labels *pq_drop_name(struct pq_ctx *c, const pq_labels *ls);
/* Only the labels named in names (keep = true) or all but those (keep =
 * false; also_name additionally drops __name__). */
const pq_labels *pq_project(struct pq_ctx *c, const pq_labels *ls, const struct promql_str *names,
                            size_t nn, bool keep, bool also_name);
/* The set with name=value (an empty value removes the label). */
const pq_labels *pq_set(struct pq_ctx *c, const pq_labels *ls, const char *name, size_t nlen,
                        const char *value, size_t vlen);
/* The value of label name in ls, or NULL (and *len 0). */
const char *pq_get(const pq_labels *ls, const char *name, size_t nlen, size_t *len);
/* Prometheus's labels.Compare: bytewise by name then value, shorter last. */
int pq_labels_cmp(const pq_labels *a, const pq_labels *b);
/* Appends ls as Prometheus's Labels.String(): {a="b", c="d"}. */
void pq_labels_str(struct buf *b, const pq_labels *ls);

bool pq_streq(const struct promql_str *a, const char *s, size_t len);

/* --- pointer map --------------------------------------------------------- */

/* Maps a pair of pointers to a size_t. */
struct pq_map {
    struct pq_map_ent *e;
    size_t cap, count;
};
/* Looks (a, b) up; when absent and create, inserts it with value v. Returns
 * the entry's value slot, NULL when absent (or out of memory: *oom). */
size_t *pq_map_get(struct pq_ctx *c, struct pq_map *m, const void *a, const void *b, bool create,
                   size_t v, bool *oom);
void pq_map_free(struct pq_ctx *c, struct pq_map *m);

/* --- series, matrices, vectors ------------------------------------------- */

struct pq_series {
    const pq_labels *m;
    struct promql_sample *p; /* tracked heap */
    size_t n, cap;
    size_t cur; /* cursor of the step loop */
    int64_t last_t;
    /* Set by a producer that writes samples at step times only (a range
     * evaluation's start + k * interval): then pq_series_first_step can
     * tell when they are on consecutive steps. */
    bool on_steps;
};

struct pq_matrix {
    struct pq_series *s; /* tracked heap */
    size_t n, cap;
};

struct pq_sample {
    const pq_labels *m;
    double v;
    int64_t t;
    uint32_t idx; /* index of the series in its input matrix */
};

struct pq_vector {
    struct pq_sample *s; /* tracked heap */
    size_t n, cap;
};

/* Appends a sample; counts it against the sample limit. */
int pq_series_push_slow(struct pq_ctx *c, struct pq_series *s, int64_t t, double v);
static inline int pq_series_push(struct pq_ctx *c, struct pq_series *s, int64_t t, double v)
{
    if (s->n < s->cap && c->samples < c->o.max_samples) {
        s->p[s->n++] = (struct promql_sample){t, v};
        c->samples++;
        return 0;
    }
    return pq_series_push_slow(c, s, t, v);
}
/* Appends a series (labels m, no samples); returns it or NULL (oom). */
struct pq_series *pq_matrix_add(struct pq_ctx *c, struct pq_matrix *mx, const pq_labels *m);

/* Makes room for at least n samples in all (allocates, counts nothing):
 * for a caller that knows a bound of what it will push. Returns 0 or
 * PROMQL_ENOMEM (the series is unchanged). */
int pq_series_reserve(struct pq_ctx *c, struct pq_series *s, size_t n);
/* Frees the samples and series (and releases their count). */
void pq_matrix_free(struct pq_ctx *c, struct pq_matrix *mx);
int pq_vector_push(struct pq_ctx *c, struct pq_vector *v, const pq_labels *m, double val, int64_t t,
                   uint32_t idx);
void pq_vector_free(struct pq_ctx *c, struct pq_vector *v);
/* Sorts the series by labels (stable). */
void pq_matrix_sort(struct pq_matrix *mx);

/* --- the step loop ------------------------------------------------------- */

/* The times an evaluator computes: start, start + interval, ... <= end.
 * An instant query is one step (start == end, interval 1). */
struct pq_steps {
    int64_t start, end, interval;
};
#define PQ_FOR_STEPS(st, ts) for (int64_t ts = (st)->start; ts <= (st)->end; ts += (st)->interval)
/* When s's samples are on consecutive steps of st (s->on_steps, and one
 * for every step from the first's to the last's), the index of the first's
 * step: sample j is then at step k + j, so a consumer can index instead of
 * searching. SIZE_MAX otherwise (or when s is empty). */
static inline size_t pq_series_first_step(const struct pq_series *s, const struct pq_steps *st)
{
    if (!s->on_steps || !s->n || st->interval <= 0)
        return SIZE_MAX;
    int64_t span = s->p[s->n - 1].t - s->p[0].t;
    if (span != (int64_t)(s->n - 1) * st->interval || s->p[0].t < st->start)
        return SIZE_MAX;
    return (size_t)((s->p[0].t - st->start) / st->interval);
}
static inline bool pq_instant(const struct pq_steps *st)
{
    return st->start == st->end;
}

/* Rewinds the cursors of mx's series. */
void pq_rewind(struct pq_matrix *mx);
/* The samples of mx at time ts (advancing the series' cursors, which must
 * not be past ts): appends them to out (cleared first), idx = series. */
int pq_gather(struct pq_ctx *c, struct pq_matrix *mx, int64_t ts, struct pq_vector *out);

/* Turns the vectors computed at successive steps into series. In an
 * instant evaluation the order of the samples is kept; in a range
 * evaluation series are keyed by labels. Two samples with the same labels
 * at one step fail with "vector cannot contain metrics with the same
 * labelset". */
struct pq_collect {
    struct pq_matrix *out;
    struct pq_map map;
    bool instant;
};
void pq_collect_init(struct pq_collect *col, struct pq_matrix *out, bool instant);
int pq_collect(struct pq_ctx *c, struct pq_collect *col, const struct pq_vector *v, int64_t ts);
void pq_collect_done(struct pq_ctx *c, struct pq_collect *col);

/* The function applied at each step of pq_range_eval(): in holds the
 * operands' samples at time ts; it appends its result to out. */
typedef int (*pq_step_fn)(struct pq_ctx *c, void *ud, struct pq_vector *in, struct pq_vector *out,
                          int64_t ts);
/* Calls fn at every step with the vectors of the nops operands at that
 * step (a scalar operand is a one-series matrix), and collects the vectors
 * it returns into out (pq_collect). The operands are freed. */
int pq_range_eval(struct pq_ctx *c, const struct pq_steps *st, struct pq_matrix *ops, size_t nops,
                  pq_step_fn fn, void *ud, struct pq_matrix *out);

/* --- results ------------------------------------------------------------- */

/* Moves the context's arena and heap into a new result (mx's arrays become
 * the result's; the context is left empty). NULL when out of memory. */
struct promql_result *pq_result_new(struct pq_ctx *c, enum promql_type type, struct pq_matrix *mx);

/* Go's strconv.FormatFloat(v, 'f', -1, 64) when 1e-6 <= |v| < 1e21 or v is
 * 0, else 'e' (as Prometheus's API writes values). */
void pq_format_value(struct buf *b, double v);
/* Appends t (ms) as Prometheus's JSON timestamp: seconds, '.', and the
 * milliseconds as three digits when not zero (1435781451.781). */
void pq_json_time(struct buf *b, int64_t t);
/* Go's fmt %v of a float64 (for messages). */
void pq_format_go_v(struct buf *b, double v);

#endif
