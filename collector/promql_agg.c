/*
 * promql_agg.c — PromQL's aggregation operators over all steps of an
 * evaluation.
 *
 * DESIGN
 * - As Prometheus's rangeEvalAgg: input series are mapped to groups once
 *   (the group key is the interned output label set: `by` keeps the listed
 *   labels, `without` drops them and __name__), then each step folds the
 *   samples present at that step into per-group accumulators and appends
 *   one sample per group that saw any. Every operator but quantile folds
 *   series by series over chunks of steps instead (fold_by_series: an
 *   accumulator per group and step of the chunk), which visits the same
 *   values in the same order per accumulator without building a vector
 *   per step; sum's accumulators are plain arrays, and a sum group of one
 *   series is that series' samples at the steps, plus 0, made in place in
 *   that input series' own array, which the output takes over (the input
 *   matrix is the aggregation's to consume; its samples stay counted
 *   against the limit until the whole output is, then are released).
 * - With the query pool (opts.pool) and enough input, sum splits its work
 *   by group (sum_by_group): each group's output depends on its own
 *   members only, so a worker folds one group's members, in input order,
 *   into its own scratch accumulators and the group's reserved room (or
 *   takes the one series over). Every accumulator sees the same values in
 *   the same order as in the chunked fold, so the values are the same bit
 *   for bit. Memory (the room, each worker's scratch) is allocated on the
 *   evaluating thread first, as the evaluator's heap and label tables are
 *   one thread's; workers neither allocate, tick nor count. Afterwards the
 *   evaluating thread replays the serial code's pq_hold and pq_tick calls
 *   with the counts the workers produced, in the serial order, so the
 *   sample limit fails (TOO_MANY_SAMPLES) for exactly the same max_samples
 *   and c->samples ends the same; only the work done before a failure
 *   differs.
 * - topk/bottomk keep a binary heap of k samples per group with the same
 *   ordering and the same sift operations as Go's container/heap, so ties
 *   and NaN select the same series Prometheus selects; instant results are
 *   ordered per group, best first. Output series keep their full labels.
 * - count_values builds its label sets per step (its labels depend on the
 *   values) and goes through the shared collector (pq_collect).
 */
#include "promql_agg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "promql_func.h"
#include "promql_lex.h"
#include "qpool.h"

/* Input samples from which sum splits its groups over the query pool:
 * below, waking a pool thread costs about what it saves. */
#define PQ_AGG_PAR_MIN 4096

struct group {
    double value, mean, kahan, count;
    bool seen, incremental;
    struct pq_series *out;
    /* quantile: values at this step; topk/bottomk/limitk: heap of sample
     * indexes into the step's vector */
    size_t nval;
};

/* Output labels of a series' group. */
static const pq_labels *group_labels(struct pq_ctx *c, const struct promql_expr *e,
                                     const pq_labels *m)
{
    if (e->agg.without)
        return pq_project(c, m, e->agg.grouping, e->agg.ngrouping, false, true);
    if (e->agg.ngrouping == 0)
        return c->empty;
    return pq_project(c, m, e->agg.grouping, e->agg.ngrouping, true, false);
}

/* The parameter's value at each step, and its extremes (Go's math.Max /
 * math.Min: NaN propagates). */
struct params {
    const struct pq_series *s;
    size_t cur;
    double min, max;
    bool any_nan;
};

static void params_init(struct params *p, struct pq_matrix *param)
{
    *p = (struct params){.min = 1.7976931348623157e308, .max = -1.7976931348623157e308};
    if (!param || param->n == 0) {
        p->min = p->max = 0;
        return;
    }
    p->s = &param->s[0];
    for (size_t i = 0; i < p->s->n; i++) {
        double v = p->s->p[i].v;
        if (isnan(v)) {
            p->any_nan = true;
            p->min = p->max = NAN;
        } else if (!isnan(p->max)) {
            if (v > p->max)
                p->max = v;
            if (v < p->min)
                p->min = v;
        }
    }
}

static double params_at(struct params *p, int64_t ts)
{
    if (!p->s)
        return 0;
    while (p->cur < p->s->n && p->s->p[p->cur].t < ts)
        p->cur++;
    return p->cur < p->s->n && p->s->p[p->cur].t == ts ? p->s->p[p->cur].v : 0;
}

/* --- sum, avg, count, min, max, group, stddev, stdvar, quantile ---------- */

/* Folds f into a group's accumulator (Prometheus's aggregation step; qv:
 * the group's quantile values). */
static inline __attribute__((always_inline)) void fold(enum promql_aggop op, struct group *gr,
                                                       double f, double *qv)
{
    if (!gr->seen) {
        gr->seen = true;
        gr->value = f;
        gr->mean = f;
        gr->kahan = 0;
        gr->count = 1;
        gr->incremental = false;
        gr->nval = 0;
        switch (op) {
        case PROMQL_AGG_STDDEV:
        case PROMQL_AGG_STDVAR: gr->value = isnan(f) || isinf(f) ? NAN : 0; break;
        case PROMQL_AGG_QUANTILE: qv[gr->nval++] = f; break;
        case PROMQL_AGG_GROUP: gr->value = 1; break;
        default: break;
        }
        return;
    }
    switch (op) {
    case PROMQL_AGG_SUM: pq_kahan_inc(f, &gr->value, &gr->kahan); break;
    case PROMQL_AGG_AVG:
        gr->count++;
        if (!gr->incremental) {
            double nv = gr->value, nc = gr->kahan;
            pq_kahan_inc(f, &nv, &nc);
            if (!isinf(nv)) {
                gr->value = nv;
                gr->kahan = nc;
                break;
            }
            gr->incremental = true;
            gr->mean = gr->value / (gr->count - 1);
            gr->kahan /= gr->count - 1;
        }
        {
            double qq = (gr->count - 1) / gr->count;
            double m = qq * gr->mean, mc = qq * gr->kahan;
            pq_kahan_inc(f / gr->count, &m, &mc);
            gr->mean = m;
            gr->kahan = mc;
        }
        break;
    case PROMQL_AGG_MAX:
        if (gr->value < f || isnan(gr->value))
            gr->value = f;
        break;
    case PROMQL_AGG_MIN:
        if (gr->value > f || isnan(gr->value))
            gr->value = f;
        break;
    case PROMQL_AGG_COUNT: gr->count++; break;
    case PROMQL_AGG_STDDEV:
    case PROMQL_AGG_STDVAR: {
        gr->count++;
        double delta = f - gr->mean;
        gr->mean += delta / gr->count;
        gr->value += delta * (f - gr->mean);
        break;
    }
    case PROMQL_AGG_QUANTILE: qv[gr->nval++] = f; break;
    default: break;
    }
}

/* A group's result from its accumulator (q: quantile's parameter). */
static inline double fold_result(enum promql_aggop op, const struct group *gr, double q, double *qv)
{
    switch (op) {
    case PROMQL_AGG_AVG:
        return gr->incremental ? gr->mean + gr->kahan
                               : gr->value / gr->count + gr->kahan / gr->count;
    case PROMQL_AGG_COUNT: return gr->count;
    case PROMQL_AGG_STDVAR: return gr->value / gr->count;
    case PROMQL_AGG_STDDEV: return sqrt(gr->value / gr->count);
    case PROMQL_AGG_QUANTILE: return pq_quantile(q, qv, gr->nval);
    case PROMQL_AGG_SUM: return gr->value + gr->kahan;
    default: return gr->value;
    }
}

/* Folds the samples of s at steps t0, t0 + interval, ... (kn of them)
 * into ga[0, kn), as pq_gather picks them at each step. */
static inline __attribute__((always_inline)) void fold_run(enum promql_aggop op,
                                                           struct pq_series *s, struct group *ga,
                                                           int64_t t0, int64_t interval, size_t kn)
{
    const struct promql_sample *p = s->p;
    size_t cur = s->cur, n = s->n;
    int64_t ts = t0;
    for (size_t j = 0; j < kn && cur < n; j++, ts += interval) {
        while (cur < n && p[cur].t < ts)
            cur++;
        if (cur < n && p[cur].t == ts)
            fold(op, &ga[j], p[cur++].v, NULL);
    }
    s->cur = cur;
}

/* sum's fold of a run (as fold_run): accumulators as arrays of value,
 * compensation and seen, the first value taken as is, then
 * Kahan-Neumaier additions — fold()'s arithmetic for sum. */
static void sum_run(struct pq_series *s, double *sv, double *sk, uint8_t *seen,
                    const struct pq_steps *st, size_t k0, size_t kn)
{
    const struct promql_sample *p = s->p;
    size_t cur = s->cur, n = s->n, first = pq_series_first_step(s, st);
    int64_t interval = st->interval, t0 = st->start + (int64_t)k0 * interval;
    if (first != SIZE_MAX) {
        /* on consecutive steps (pq_series_first_step): sample k - first
         * is step k's, no search */
        size_t j0 = first > k0 ? first - k0 : 0, j1 = first + n > k0 ? first + n - k0 : 0;
        j1 = j1 < kn ? j1 : kn;
        for (size_t j = j0; j < j1; j++) {
            double f = p[k0 + j - first].v;
            if (!seen[j]) {
                seen[j] = 1;
                sv[j] = f;
                sk[j] = 0;
            } else {
                pq_kahan_inc(f, &sv[j], &sk[j]);
            }
        }
        /* as the search leaves it: past the samples up to the last step */
        size_t past = k0 + kn > first ? k0 + kn - first : 0;
        s->cur = past < n ? past : n;
        return;
    }
    int64_t ts = t0;
    for (size_t j = 0; j < kn && cur < n; j++, ts += interval) {
        while (cur < n && p[cur].t < ts)
            cur++;
        if (cur < n && p[cur].t == ts) {
            double f = p[cur++].v;
            if (!seen[j]) {
                seen[j] = 1;
                sv[j] = f;
                sk[j] = 0;
            } else {
                pq_kahan_inc(f, &sv[j], &sk[j]);
            }
        }
    }
    s->cur = cur;
}

/* A group of one series s, summed: its samples at the steps, plus 0 (the
 * fold's value + compensation: -0 becomes +0), kept in place in s's own
 * array (samples only move down). Returns how many. */
static size_t sum_single(struct pq_series *s, const struct pq_steps *st)
{
    struct promql_sample *p = s->p;
    size_t n = s->n, k = 0;
    /* next: the first step at or after the last sample looked at (the
     * samples ascend), so that a sample on it — nearly all — costs no
     * division */
    int64_t next = st->start, end = st->end, iv = st->interval;
    for (size_t j = 0; j < n; j++) {
        int64_t t = p[j].t;
        if (t > end)
            break;
        if (t != next) {
            if (t < next)
                continue;
            int64_t d = t - st->start; /* > 0: t > next >= start */
            next = st->start + (d + iv - 1) / iv * iv;
            if (t != next)
                continue;
        }
        next += iv;
        p[k].t = t;
        p[k++].v = p[j].v + 0.0;
    }
    return k;
}

/* sum_by_series's chunk of steps: an accumulator per group of more than
 * one series (nacc of them) and step of the chunk, about 32K of them. */
static size_t sum_chunk(size_t nacc, size_t nsteps)
{
    size_t ch = nacc ? ((size_t)1 << 15) / nacc : nsteps;
    ch = ch < 16 ? 16 : ch > 1024 ? 1024 : ch;
    return ch > nsteps ? nsteps : ch;
}

/* The sum split by group over the query pool (sum_by_series with one):
 * each group's output from its members alone, on any worker, then the
 * sample limit and the ticks applied on this thread in sum_by_series's
 * order. */
struct sum_par {
    const struct pq_steps *st;
    struct pq_series *in, *out;
    const size_t *off, *mem; /* group g's members in input order: mem[off[g], off[g + 1]) */
    size_t nsteps, ch;       /* steps, and a worker's chunk of them */
    double *sv;              /* per worker: ch values, then ch compensations */
    uint8_t *seen;           /* per worker: ch marks */
};

/* Group g's sum (a qpool loop's fn): a group of one series taken over as
 * sum_by_series does; the others folded member by member, in input order,
 * into the reserved room — per step the same additions in the same order
 * as sum_by_series's chunks (which add every series in input order), so
 * the same values bit for bit. Touches only g's own series. */
static void sum_group(void *ud, unsigned w, size_t g)
{
    const struct sum_par *sp = ud;
    const struct pq_steps *st = sp->st;
    const size_t *m = sp->mem + sp->off[g];
    size_t nm = sp->off[g + 1] - sp->off[g];
    struct pq_series *o = &sp->out[g];
    if (nm == 1) {
        struct pq_series *s = &sp->in[m[0]];
        o->n = sum_single(s, st);
        o->p = s->p;
        o->cap = s->cap;
        s->p = NULL;
        s->n = s->cap = s->cur = 0;
        return;
    }
    size_t ch = sp->ch, on = 0;
    double *sv = sp->sv + 2 * ch * w, *sk = sv + ch;
    uint8_t *seen = sp->seen + ch * w;
    struct promql_sample *op = o->p;
    for (size_t k0 = 0; k0 < sp->nsteps; k0 += ch) {
        size_t kn = sp->nsteps - k0 < ch ? sp->nsteps - k0 : ch;
        int64_t t0 = st->start + (int64_t)k0 * st->interval;
        memset(seen, 0, kn);
        for (size_t i = 0; i < nm; i++)
            sum_run(&sp->in[m[i]], sv, sk, seen, st, k0, kn);
        for (size_t j = 0; j < kn; j++)
            if (seen[j])
                op[on++] = (struct promql_sample){t0 + (int64_t)j * st->interval, sv[j] + sk[j]};
    }
    o->n = on;
}

/* sum_by_series over the pool: acc as sum_by_series made it (SIZE_MAX for
 * a group of one series; room reserved for the others). The groups run in
 * parallel, then this thread holds their samples and ticks exactly as
 * sum_by_series's loops would — the taken-over groups' counts in input
 * order, then per chunk of sum_chunk's steps its ticks and each group's
 * samples of the chunk in group order — so c->samples, the tick count and
 * the first hold that fails (TOO_MANY_SAMPLES) are the serial code's;
 * only the work done before a failure is not. */
static int sum_by_group(struct pq_ctx *c, const struct pq_steps *st, struct pq_matrix *in,
                        const size_t *to_group, size_t ngroups, size_t nsteps, const size_t *acc,
                        size_t nacc, struct pq_matrix *out)
{
    size_t nw = qpool_threads(c->o.pool) + 1, ch = nsteps < 1024 ? nsteps : 1024;
    size_t *off = pq_alloc(&c->heap, (ngroups + 1 + in->n) * sizeof *off), *mem = off + ngroups + 1;
    struct sum_par sp = {
        .st = st,
        .in = in->s,
        .out = out->s,
        .off = off,
        .mem = mem,
        .nsteps = nsteps,
        .ch = ch,
        .sv = pq_alloc(&c->heap, nw * 2 * ch * sizeof *sp.sv),
        .seen = pq_alloc(&c->heap, nw * ch),
    };
    if (!off || !sp.sv || !sp.seen)
        return pq_oom(c);
    /* members by group, in input order (off[g] moves to g's end as its
     * members are placed, then everything back one) */
    memset(off, 0, (ngroups + 1) * sizeof *off);
    for (size_t i = 0; i < in->n; i++)
        off[to_group[i] + 1]++;
    for (size_t g = 1; g < ngroups; g++)
        off[g + 1] += off[g];
    for (size_t i = 0; i < in->n; i++)
        mem[off[to_group[i]]++] = i;
    memmove(off + 1, off, ngroups * sizeof *off);
    off[0] = 0;
    uint64_t taken = 0;
    for (size_t i = 0; i < in->n; i++)
        if (acc[to_group[i]] == SIZE_MAX)
            taken += in->s[i].n;
    pq_rewind(in);
    if (qpool_for(c->o.pool,
                  &(struct qpool_loop){ngroups, sum_group, NULL, NULL, &sp, c->deadline_ns}))
        return pq_timeout(c);
    /* the serial loops' holds and ticks; off[g] becomes g's cursor in its
     * output (its samples up to the chunk's last step) */
    int rc;
    for (size_t i = 0; i < in->n; i++)
        if (acc[to_group[i]] == SIZE_MAX && (rc = pq_hold(c, (int64_t)out->s[to_group[i]].n)))
            return rc;
    memset(off, 0, ngroups * sizeof *off);
    size_t sch = sum_chunk(nacc, nsteps);
    for (size_t k0 = 0; k0 < nsteps; k0 += sch) {
        size_t kn = nsteps - k0 < sch ? nsteps - k0 : sch;
        int64_t tl = st->start + (int64_t)(k0 + kn - 1) * st->interval;
        for (size_t j = 0; j < kn; j++)
            if ((rc = pq_tick(c)))
                return rc;
        for (size_t g = 0; g < ngroups; g++) {
            if (acc[g] == SIZE_MAX)
                continue;
            const struct pq_series *o = &out->s[g];
            size_t k = off[g];
            while (k < o->n && o->p[k].t <= tl)
                k++;
            if ((rc = pq_hold(c, (int64_t)(k - off[g]))))
                return rc;
            off[g] = k;
        }
    }
    pq_hold(c, -(int64_t)taken);
    pq_free(&c->heap, sp.seen);
    pq_free(&c->heap, sp.sv);
    pq_free(&c->heap, off);
    return 0;
}

/* fold_by_series for sum (the common case): the same order of additions
 * per group and step, in arrays instead of struct group. A group of one
 * series takes that series' sample array over (sum_single), leaving the
 * input series empty; the others are reserved room here. With a query
 * pool and enough work, the groups are summed in parallel (sum_by_group). */
static int sum_by_series(struct pq_ctx *c, const struct pq_steps *st, struct pq_matrix *in,
                         const size_t *to_group, size_t ngroups, size_t nsteps,
                         struct pq_matrix *out)
{
    /* Per group, its member count, then its accumulator slot (acc[g]) for
     * groups of more than one, SIZE_MAX for the others; room: the
     * members' samples. */
    size_t *acc = pq_alloc(&c->heap, 2 * ngroups * sizeof *acc), nacc = 0;
    if (!acc)
        return pq_oom(c);
    size_t *room = acc + ngroups;
    memset(acc, 0, 2 * ngroups * sizeof *acc);
    for (size_t i = 0; i < in->n; i++) {
        acc[to_group[i]]++;
        room[to_group[i]] += in->s[i].n;
    }
    size_t work = 0; /* input samples */
    for (size_t g = 0; g < ngroups; g++) {
        work += room[g];
        if (acc[g] < 2) {
            acc[g] = SIZE_MAX;
            continue;
        }
        acc[g] = nacc++;
        if (pq_series_reserve(c, &out->s[g], room[g] < nsteps ? room[g] : nsteps))
            return pq_oom(c);
    }
    int rc;
    if (c->o.pool && ngroups > 1 && work >= PQ_AGG_PAR_MIN) {
        rc = sum_by_group(c, st, in, to_group, ngroups, nsteps, acc, nacc, out);
        pq_free(&c->heap, acc);
        return rc;
    }
    /* The taken samples stay counted as the input's until every output
     * sample is counted (a sample limit fails the same evaluations as
     * when they are copied), then are released once. */
    uint64_t taken = 0;
    pq_rewind(in);
    for (size_t i = 0; i < in->n; i++) {
        size_t g = to_group[i];
        if (acc[g] != SIZE_MAX)
            continue;
        struct pq_series *s = &in->s[i], *o = &out->s[g];
        size_t k = sum_single(s, st);
        if ((rc = pq_hold(c, (int64_t)k)))
            return rc;
        o->p = s->p;
        o->n = k;
        o->cap = s->cap;
        taken += s->n;
        s->p = NULL;
        s->n = s->cap = s->cur = 0;
    }
    size_t ch = sum_chunk(nacc, nsteps), na = nacc * ch;
    double *sv = pq_alloc(&c->heap, (2 * na + 1) * sizeof *sv);
    uint8_t *seen = pq_alloc(&c->heap, na + 1);
    if (!sv || !seen)
        return pq_oom(c);
    double *sk = sv + na;
    for (size_t k0 = 0; k0 < nsteps; k0 += ch) {
        size_t kn = nsteps - k0 < ch ? nsteps - k0 : ch;
        int64_t t0 = st->start + (int64_t)k0 * st->interval;
        if (nacc) {
            memset(seen, 0, na);
            for (size_t i = 0; i < in->n; i++) {
                size_t a = acc[to_group[i]];
                if (a != SIZE_MAX)
                    sum_run(&in->s[i], sv + a * ch, sk + a * ch, seen + a * ch, st, k0, kn);
            }
        }
        for (size_t j = 0; j < kn; j++)
            if ((rc = pq_tick(c))) /* as often as the step-by-step fold */
                return rc;
        for (size_t g = 0; g < ngroups; g++) {
            if (acc[g] == SIZE_MAX)
                continue;
            /* at most one sample per step at which a member has one: the
             * room reserved holds them; counted as pq_series_push would */
            size_t x = acc[g] * ch;
            struct pq_series *o = &out->s[g];
            struct promql_sample *op = o->p;
            size_t on = o->n, n0 = on;
            for (size_t j = 0; j < kn; j++)
                if (seen[x + j])
                    op[on++] = (struct promql_sample){t0 + (int64_t)j * st->interval,
                                                      sv[x + j] + sk[x + j]};
            o->n = on;
            if ((rc = pq_hold(c, (int64_t)(on - n0))))
                return rc;
        }
    }
    pq_hold(c, -(int64_t)taken);
    pq_free(&c->heap, seen);
    pq_free(&c->heap, sv);
    pq_free(&c->heap, acc);
    return 0;
}

/* The fold over series rather than steps, for every operator but quantile:
 * steps are taken in chunks with an accumulator per group and step of the
 * chunk, and each series' samples of the chunk are folded in one run. The
 * series still come in their order at each step, so every accumulator sees
 * the same values in the same order as the step-by-step fold would. */
static int fold_by_series(struct pq_ctx *c, const struct pq_steps *st, enum promql_aggop op,
                          struct pq_matrix *in, const size_t *to_group, size_t ngroups,
                          struct pq_matrix *out)
{
    size_t nsteps = (size_t)((st->end - st->start) / st->interval) + 1;
    if (op == PROMQL_AGG_SUM && !c->o.general_only) {
        /* its outputs are at step times: a group of one keeps its
         * input's samples at steps (sum_single), the others are written
         * per step */
        for (size_t g = 0; g < ngroups; g++)
            out->s[g].on_steps = true;
        return sum_by_series(c, st, in, to_group, ngroups, nsteps, out);
    }
    size_t ch = ((size_t)1 << 15) / ngroups;
    ch = ch < 16 ? 16 : ch > 1024 ? 1024 : ch;
    if (ch > nsteps)
        ch = nsteps;
    struct group *acc = pq_alloc(&c->heap, ngroups * ch * sizeof *acc);
    if (!acc)
        return pq_oom(c);
    /* room in each output series for at most its members' samples */
    size_t *room = pq_alloc(&c->heap, ngroups * sizeof *room);
    if (!room)
        return pq_oom(c);
    memset(room, 0, ngroups * sizeof *room);
    for (size_t i = 0; i < in->n; i++)
        room[to_group[i]] += in->s[i].n;
    for (size_t k = 0; k < ngroups; k++)
        if (pq_series_reserve(c, &out->s[k], room[k] < nsteps ? room[k] : nsteps))
            return pq_oom(c);
    pq_free(&c->heap, room);
    pq_rewind(in);
    int rc;
    for (size_t k0 = 0; k0 < nsteps; k0 += ch) {
        size_t kn = nsteps - k0 < ch ? nsteps - k0 : ch;
        int64_t t0 = st->start + (int64_t)k0 * st->interval;
        for (size_t g = 0; g < ngroups; g++)
            for (size_t j = 0; j < kn; j++)
                acc[g * ch + j].seen = false;
        for (size_t i = 0; i < in->n; i++) {
            struct pq_series *s = &in->s[i];
            struct group *ga = &acc[to_group[i] * ch];
            if (op == PROMQL_AGG_SUM) /* the common case, with op a constant */
                fold_run(PROMQL_AGG_SUM, s, ga, t0, st->interval, kn);
            else
                fold_run(op, s, ga, t0, st->interval, kn);
        }
        for (size_t j = 0; j < kn; j++) {
            int64_t ts = t0 + (int64_t)j * st->interval;
            if ((rc = pq_tick(c))) /* as often as the step-by-step fold */
                return rc;
            for (size_t g = 0; g < ngroups; g++) {
                const struct group *gr = &acc[g * ch + j];
                if (gr->seen &&
                    (rc = pq_series_push(c, &out->s[g], ts, fold_result(op, gr, 0, NULL))))
                    return rc;
            }
        }
    }
    pq_free(&c->heap, acc);
    return 0;
}

static int simple_agg(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
                      struct pq_matrix *in, struct params *par, struct pq_matrix *out)
{
    enum promql_aggop op = e->agg.op;
    int rc = 0;
    size_t *to_group = pq_alloc(&c->heap, (in->n ? in->n : 1) * sizeof *to_group);
    struct group *g = NULL;
    double **vals = NULL;
    struct pq_map map = {0};
    struct pq_vector v = {0};
    if (!to_group)
        return pq_oom(c);
    size_t ngroups = 0;
    const pq_labels **glabels = pq_alloc(&c->heap, (in->n ? in->n : 1) * sizeof *glabels);
    if (!glabels)
        return pq_oom(c);
    bool oom = false;
    for (size_t i = 0; i < in->n; i++) {
        const pq_labels *gl = group_labels(c, e, in->s[i].m);
        size_t *slot = gl ? pq_map_get(c, &map, gl, NULL, true, ngroups, &oom) : NULL;
        if (!slot)
            return pq_oom(c);
        if (*slot == ngroups)
            glabels[ngroups++] = gl;
        to_group[i] = *slot;
    }
    pq_map_free(c, &map);
    /* Output series in group order; empty ones are dropped at the end. */
    for (size_t k = 0; k < ngroups; k++)
        if (!pq_matrix_add(c, out, glabels[k]))
            return pq_oom(c);
    if (op != PROMQL_AGG_QUANTILE && ngroups) {
        if ((rc = fold_by_series(c, st, op, in, to_group, ngroups, out)))
            return rc;
        goto done;
    }
    g = pq_alloc(&c->heap, (ngroups ? ngroups : 1) * sizeof *g);
    if (!g)
        return pq_oom(c);
    memset(g, 0, (ngroups ? ngroups : 1) * sizeof *g);
    if (op == PROMQL_AGG_QUANTILE) {
        /* per group, room for all its series */
        size_t *cnt = pq_alloc(&c->heap, (ngroups ? ngroups : 1) * sizeof *cnt);
        if (!cnt || !(vals = pq_alloc(&c->heap, (ngroups ? ngroups : 1) * sizeof *vals)))
            return pq_oom(c);
        memset(cnt, 0, (ngroups ? ngroups : 1) * sizeof *cnt);
        for (size_t i = 0; i < in->n; i++)
            cnt[to_group[i]]++;
        for (size_t k = 0; k < ngroups; k++)
            if (!(vals[k] = pq_alloc(&c->heap, cnt[k] * sizeof **vals)))
                return pq_oom(c);
        pq_free(&c->heap, cnt);
    }
    for (size_t k = 0; k < ngroups; k++)
        g[k].out = &out->s[k];
    pq_rewind(in);
    PQ_FOR_STEPS(st, ts)
    {
        double q = params_at(par, ts);
        if ((rc = pq_tick(c)) || (rc = pq_gather(c, in, ts, &v)))
            return rc;
        for (size_t k = 0; k < ngroups; k++)
            g[k].seen = false;
        for (size_t i = 0; i < v.n; i++) {
            size_t k = to_group[v.s[i].idx];
            fold(op, &g[k], v.s[i].v, vals ? vals[k] : NULL);
        }
        for (size_t k = 0; k < ngroups; k++) {
            struct group *gr = &g[k];
            double r = gr->seen ? fold_result(op, gr, q, vals ? vals[k] : NULL) : 0;
            if (gr->seen && (rc = pq_series_push(c, gr->out, ts, r)))
                return rc;
        }
    }
done:
    /* Remove empty result rows. */
    {
        size_t dst = 0;
        for (size_t k = 0; k < out->n; k++) {
            if (out->s[k].n)
                out->s[dst++] = out->s[k];
            else
                pq_free(&c->heap, out->s[k].p);
        }
        out->n = dst;
    }
    if (vals)
        for (size_t k = 0; k < ngroups; k++)
            pq_free(&c->heap, vals[k]);
    pq_free(&c->heap, vals);
    pq_free(&c->heap, g);
    pq_free(&c->heap, glabels);
    pq_free(&c->heap, to_group);
    pq_vector_free(c, &v);
    return 0;
}

/* --- topk, bottomk, limitk ----------------------------------------------- */

struct kheap {
    const struct pq_sample **e;
    size_t n;
    bool bottom;
};

/* container/heap's Less of vectorByValueHeap (topk: smallest on top) or
 * vectorByReverseValueHeap (bottomk: largest on top); NaN is "less". */
static bool k_less(const struct kheap *h, size_t i, size_t j)
{
    double a = h->e[i]->v, b = h->e[j]->v;
    if (isnan(a))
        return true;
    return h->bottom ? a > b : a < b;
}

static void k_swap(struct kheap *h, size_t i, size_t j)
{
    const struct pq_sample *t = h->e[i];
    h->e[i] = h->e[j];
    h->e[j] = t;
}

static void k_up(struct kheap *h, size_t j)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!k_less(h, j, i))
            break;
        k_swap(h, i, j);
        j = i;
    }
}

static bool k_down(struct kheap *h, size_t i0, size_t n)
{
    size_t i = i0;
    for (;;) {
        size_t j1 = 2 * i + 1;
        if (j1 >= n)
            break;
        size_t j = j1;
        if (j1 + 1 < n && k_less(h, j1 + 1, j1))
            j = j1 + 1;
        if (!k_less(h, j, i))
            break;
        k_swap(h, i, j);
        i = j;
    }
    return i > i0;
}

static void k_fix0(struct kheap *h)
{
    if (!k_down(h, 0, h->n))
        k_up(h, 0);
}

/* Best first: descending for topk, ascending for bottomk, NaN last. */
static bool k_before(const struct pq_sample *a, const struct pq_sample *b, bool bottom)
{
    if (isnan(a->v))
        return false;
    if (isnan(b->v))
        return true;
    return bottom ? a->v < b->v : a->v > b->v;
}

static void k_sort(const struct pq_sample **e, size_t n, bool bottom)
{
    for (size_t i = 1; i < n; i++) { /* stable insertion sort; k is small */
        const struct pq_sample *x = e[i];
        size_t j = i;
        for (; j > 0 && k_before(x, e[j - 1], bottom); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static int k_agg(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
                 struct pq_matrix *in, struct params *par, struct pq_matrix *out)
{
    enum promql_aggop op = e->agg.op;
    int rc;
    if (par->max < 1)
        return 0;
    if (par->any_nan)
        return pq_fail(c, PROMQL_ERR_EXECUTION, "Parameter value is NaN");
    if (par->min <= -9223372036854775808.0) {
        struct buf b = {0};
        pq_format_go_v(&b, par->min);
        rc = pq_fail(c, PROMQL_ERR_EXECUTION, "Scalar value %s underflows int64", b.p ? b.p : "");
        buf_free(&b);
        return rc;
    }
    if (par->max >= 9223372036854775807.0) {
        struct buf b = {0};
        pq_format_go_v(&b, par->max);
        rc = pq_fail(c, PROMQL_ERR_EXECUTION, "Scalar value %s overflows int64", b.p ? b.p : "");
        buf_free(&b);
        return rc;
    }
    size_t n = in->n ? in->n : 1;
    size_t *to_group = pq_alloc(&c->heap, n * sizeof *to_group);
    struct pq_map map = {0};
    if (!to_group)
        return pq_oom(c);
    size_t ngroups = 0;
    bool oom = false;
    for (size_t i = 0; i < in->n; i++) {
        const pq_labels *gl = group_labels(c, e, in->s[i].m);
        size_t *slot = gl ? pq_map_get(c, &map, gl, NULL, true, ngroups, &oom) : NULL;
        if (!slot)
            return pq_oom(c);
        if (*slot == ngroups)
            ngroups++;
        to_group[i] = *slot;
    }
    pq_map_free(c, &map);
    /* Each group's heap lives in one array, at an offset of the group's
     * series count. */
    size_t *off = pq_alloc(&c->heap, (ngroups + 1) * sizeof *off);
    struct kheap *h = pq_alloc(&c->heap, (ngroups ? ngroups : 1) * sizeof *h);
    const struct pq_sample **slots = pq_alloc(&c->heap, n * sizeof *slots);
    if (!off || !h || !slots)
        return pq_oom(c);
    memset(off, 0, (ngroups + 1) * sizeof *off);
    for (size_t i = 0; i < in->n; i++)
        off[to_group[i] + 1]++;
    for (size_t k = 0; k < ngroups; k++)
        off[k + 1] += off[k];
    /* The kept samples' series are their input series: when those have
     * distinct labels (always, but for a malformed input) each input series
     * maps to at most one output series, created in the order pq_collect
     * would create it, without a vector per step nor a map lookup per
     * sample. */
    size_t *oidx = NULL;
    if (!c->o.general_only) {
        struct pq_map ms = {0};
        bool distinct = true;
        for (size_t i = 0; i < in->n && distinct; i++) {
            size_t *slot = pq_map_get(c, &ms, in->s[i].m, NULL, true, i, &oom);
            if (!slot) {
                pq_map_free(c, &ms);
                return pq_oom(c);
            }
            distinct = *slot == i;
        }
        pq_map_free(c, &ms);
        if (distinct && !(oidx = pq_alloc(&c->heap, n * sizeof *oidx)))
            return pq_oom(c);
        for (size_t i = 0; oidx && i < in->n; i++)
            oidx[i] = SIZE_MAX;
    }
    struct pq_vector v = {0}, res = {0};
    struct pq_collect col;
    pq_collect_init(&col, out, pq_instant(st));
    pq_rewind(in);
    PQ_FOR_STEPS(st, ts)
    {
        double fk = params_at(par, ts);
        if ((rc = pq_tick(c)) || (rc = pq_gather(c, in, ts, &v)))
            return rc;
        int64_t k = (int64_t)fk;
        if (k > (int64_t)in->n)
            k = (int64_t)in->n;
        if (k < 1)
            continue;
        for (size_t g = 0; g < ngroups; g++)
            h[g] = (struct kheap){slots + off[g], 0, op == PROMQL_AGG_BOTTOMK};
        for (size_t i = 0; i < v.n; i++) {
            const struct pq_sample *s = &v.s[i];
            struct kheap *hp = &h[to_group[s->idx]];
            if (op == PROMQL_AGG_LIMITK) {
                if ((int64_t)hp->n < k)
                    hp->e[hp->n++] = s;
                continue;
            }
            if ((int64_t)hp->n < k) {
                hp->e[hp->n++] = s;
                k_up(hp, hp->n - 1);
                continue;
            }
            double top = hp->e[0]->v;
            bool replace = op == PROMQL_AGG_TOPK ? top < s->v : top > s->v;
            if (replace || (isnan(top) && !isnan(s->v))) {
                hp->e[0] = s;
                if (k > 1)
                    k_fix0(hp);
            }
        }
        res.n = 0;
        for (size_t g = 0; g < ngroups; g++) {
            if (op != PROMQL_AGG_LIMITK)
                k_sort(h[g].e, h[g].n, op == PROMQL_AGG_BOTTOMK);
            if (oidx) {
                for (size_t j = 0; j < h[g].n; j++) {
                    const struct pq_sample *x = h[g].e[j];
                    if (oidx[x->idx] == SIZE_MAX) {
                        if (!pq_matrix_add(c, out, x->m))
                            return pq_oom(c);
                        oidx[x->idx] = out->n - 1;
                    }
                    if ((rc = pq_series_push(c, &out->s[oidx[x->idx]], ts, x->v)))
                        return rc;
                }
                continue;
            }
            for (size_t j = 0; j < h[g].n; j++)
                if ((rc = pq_vector_push(c, &res, h[g].e[j]->m, h[g].e[j]->v, ts, 0)))
                    return rc;
        }
        if ((rc = pq_collect(c, &col, &res, ts)))
            return rc;
    }
    pq_collect_done(c, &col);
    pq_free(&c->heap, oidx);
    pq_vector_free(c, &v);
    pq_vector_free(c, &res);
    pq_free(&c->heap, slots);
    pq_free(&c->heap, h);
    pq_free(&c->heap, off);
    pq_free(&c->heap, to_group);
    return 0;
}

/* --- count_values -------------------------------------------------------- */

static int count_values(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
                        struct pq_matrix *in, struct pq_matrix *out)
{
    const struct promql_expr *pe = e->agg.param;
    while (pe->kind == PROMQL_PAREN)
        pe = pe->paren.expr;
    const struct promql_str *label = &pe->string;
    int rc;
    if (label->len == 0 || !promql_utf8_valid(label->p, label->len)) {
        struct buf b = {0};
        promql_quote_msg(&b, label->p, label->len);
        rc = pq_fail(c, PROMQL_ERR_EXECUTION, "invalid label name %s", b.p ? b.p : "");
        buf_free(&b);
        return rc;
    }
    /* The grouping, plus the value label when grouping by. */
    size_t ng = e->agg.ngrouping;
    struct promql_str *names = pq_alloc(&c->heap, (ng + 1) * sizeof *names);
    if (!names)
        return pq_oom(c);
    if (ng)
        memcpy(names, e->agg.grouping, ng * sizeof *names);
    if (!e->agg.without)
        names[ng++] = *label;
    struct pq_vector v = {0}, res = {0};
    struct pq_map map = {0};
    struct pq_collect col;
    struct buf num = {0};
    pq_collect_init(&col, out, pq_instant(st));
    pq_rewind(in);
    PQ_FOR_STEPS(st, ts)
    {
        if ((rc = pq_tick(c)) || (rc = pq_gather(c, in, ts, &v)))
            goto done;
        res.n = 0;
        for (size_t i = 0; i < v.n; i++) {
            buf_reset(&num);
            promql_format_float(&num, v.s[i].v);
            if (num.oom) {
                rc = pq_oom(c);
                goto done;
            }
            const pq_labels *m = pq_set(c, v.s[i].m, label->p, label->len, num.p, num.len);
            const pq_labels *gl = NULL;
            if (m)
                gl = e->agg.without ? pq_project(c, m, names, ng, false, true)
                                    : pq_project(c, m, names, ng, true, false);
            bool oom = false;
            size_t *slot = gl ? pq_map_get(c, &map, gl, NULL, true, res.n, &oom) : NULL;
            if (!slot) {
                rc = pq_oom(c);
                goto done;
            }
            if (*slot == res.n) {
                if ((rc = pq_vector_push(c, &res, gl, 0, ts, 0)))
                    goto done;
            }
            res.s[*slot].v++;
        }
        pq_map_free(c, &map);
        if ((rc = pq_collect(c, &col, &res, ts)))
            goto done;
    }
    rc = 0;
done:
    pq_collect_done(c, &col);
    pq_map_free(c, &map);
    pq_vector_free(c, &v);
    pq_vector_free(c, &res);
    pq_free(&c->heap, names);
    buf_free(&num);
    return rc;
}

int pq_aggregate(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
                 struct pq_matrix *in, struct pq_matrix *param, struct pq_matrix *out)
{
    struct params par;
    params_init(&par, param);
    switch (e->agg.op) {
    case PROMQL_AGG_COUNT_VALUES: return count_values(c, st, e, in, out);
    case PROMQL_AGG_TOPK:
    case PROMQL_AGG_BOTTOMK:
    case PROMQL_AGG_LIMITK: return k_agg(c, st, e, in, &par, out);
    case PROMQL_AGG_LIMIT_RATIO:
        return pq_fail(c, PROMQL_ERR_EXECUTION, "limit_ratio is not supported by llmtap");
    default: return simple_agg(c, st, e, in, &par, out);
    }
}
