/*
 * promql_hist.c — classic histograms in the PromQL evaluator:
 * histogram_quantile(), histogram_quantiles() and histogram_fraction().
 * See promql_hist.h for the design.
 */
#include "promql_hist.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "qpool.h"

static const struct promql_expr *unparen(const struct promql_expr *e)
{
    while (e && e->kind == PROMQL_PAREN)
        e = e->paren.expr;
    return e;
}

/* OpenMetrics' float text (labels.FormatOpenMetricsFloat): Go's %g, with
 * ".0" when that looks like an integer. */
static void openmetrics_float(struct buf *b, double v)
{
    if (v == 0 || v == 1 || v == -1) {
        buf_puts(b, v == 0 ? "0.0" : v == 1 ? "1.0" : "-1.0");
        return;
    }
    size_t at = b->len;
    pq_format_go_v(b, v);
    if (isfinite(v) && b->p && !strpbrk(b->p + at, "e."))
        buf_puts(b, ".0");
}

int pq_hist_step(struct pq_ctx *c, struct pq_hist *cl, const struct promql_expr *e,
                 struct pq_vector *in, struct pq_vector *out, int64_t ts)
{
    enum promql_func_id id = e->call.func->id;
    size_t vi = id == PROMQL_FN_HISTOGRAM_FRACTION ? 2 : id == PROMQL_FN_HISTOGRAM_QUANTILE ? 1 : 0;
    size_t nq = id == PROMQL_FN_HISTOGRAM_QUANTILES ? e->call.nargs - 2 : 1;
    struct pq_vector *v = &in[vi];
    if (id != PROMQL_FN_HISTOGRAM_QUANTILES && (!in[0].n || (vi == 2 && !in[1].n)))
        return 0;
    /* The series present at this step, and the groups in order of first
     * appearance (the vector is in series order). */
    if (++cl->stamp == 0) { /* wrapped: forget every old stamp */
        memset(cl->sstamp, 0, cl->nin * sizeof *cl->sstamp);
        memset(cl->gstamp, 0, (cl->ngrp ? cl->ngrp : 1) * sizeof *cl->gstamp);
        cl->stamp = 1;
    }
    uint32_t stamp = cl->stamp;
    size_t ng = 0;
    for (size_t i = 0; i < v->n; i++) {
        uint32_t idx = v->s[i].idx;
        size_t g = cl->grp[idx];
        if (g == SIZE_MAX)
            continue;
        cl->val[idx] = v->s[i].v;
        cl->sstamp[idx] = stamp;
        if (cl->gstamp[g] != stamp) {
            cl->gstamp[g] = stamp;
            cl->order[ng++] = g;
        }
    }
    struct buf qs = {0};
    int rc = 0;
    for (size_t k = 0; k < nq && !rc; k++) {
        double q = id == PROMQL_FN_HISTOGRAM_QUANTILES ? (in[1 + k].n ? in[1 + k].s[0].v : NAN)
                                                       : in[0].s[0].v;
        const struct promql_str *label = NULL;
        if (id == PROMQL_FN_HISTOGRAM_QUANTILES) {
            label = &unparen(e->call.args[1])->string;
            buf_reset(&qs);
            openmetrics_float(&qs, q);
        }
        for (size_t j = 0; j < ng && !rc; j++) {
            size_t g = cl->order[j], n = 0;
            /* the group's buckets present now, in its member order; the
             * quantile functions sort and fix them in place */
            struct pq_bucket *b = cl->bk;
            for (size_t m = cl->off[g]; m < cl->off[g + 1]; m++) {
                size_t idx = cl->mem[m];
                if (cl->sstamp[idx] == stamp)
                    b[n++] = (struct pq_bucket){cl->le[idx], cl->val[idx]};
            }
            double r = id == PROMQL_FN_HISTOGRAM_FRACTION
                           ? pq_bucket_fraction(in[0].s[0].v, in[1].s[0].v, b, n, cl->sorted[g])
                           : pq_bucket_quantile(q, b, n, cl->sorted[g]);
            const pq_labels *m = cl->gl[g];
            if (label &&
                !(m = qs.oom ? NULL : pq_set(c, m, label->p, label->len, qs.p ? qs.p : "", qs.len)))
                rc = pq_oom(c);
            else
                rc = pq_vector_push(c, out, m, r, ts, 0);
        }
    }
    buf_free(&qs);
    return rc;
}

/* histogram_quantile/fraction: parse each input series' le once and map
 * it to its group (its labels without le; the output drops the name); list
 * each group's series, sorted by le when that order is unique. */
int pq_hist_prepare(struct pq_ctx *c, struct pq_hist *cl, struct pq_matrix *v)
{
    size_t n = v->n ? v->n : 1;
    cl->nin = v->n;
    cl->le = pq_alloc(&c->heap, n * sizeof *cl->le);
    cl->grp = pq_alloc(&c->heap, n * sizeof *cl->grp);
    cl->gl = pq_alloc(&c->heap, n * sizeof *cl->gl);
    cl->bk = pq_alloc(&c->heap, n * sizeof *cl->bk);
    cl->mem = pq_alloc(&c->heap, n * sizeof *cl->mem);
    cl->off = pq_alloc(&c->heap, (n + 1) * sizeof *cl->off);
    cl->sorted = pq_alloc(&c->heap, n * sizeof *cl->sorted);
    cl->val = pq_alloc(&c->heap, n * sizeof *cl->val);
    cl->sstamp = pq_alloc(&c->heap, n * sizeof *cl->sstamp);
    cl->gstamp = pq_alloc(&c->heap, n * sizeof *cl->gstamp);
    cl->order = pq_alloc(&c->heap, n * sizeof *cl->order);
    if (!cl->le || !cl->grp || !cl->gl || !cl->bk || !cl->mem || !cl->off || !cl->sorted ||
        !cl->val || !cl->sstamp || !cl->gstamp || !cl->order)
        return pq_oom(c);
    memset(cl->sstamp, 0, n * sizeof *cl->sstamp);
    memset(cl->gstamp, 0, n * sizeof *cl->gstamp);
    memset(cl->off, 0, (n + 1) * sizeof *cl->off);
    static const struct promql_str le = {"le", 2};
    struct pq_map map = {0};
    bool oom = false;
    for (size_t i = 0; i < v->n; i++) {
        size_t len;
        const char *s = pq_get(v->s[i].m, "le", 2, &len);
        cl->grp[i] = SIZE_MAX;
        if (!s || !pq_parse_float(s, len, &cl->le[i]))
            continue; /* Prometheus: a "bad bucket label" annotation */
        const pq_labels *g = pq_project(c, v->s[i].m, &le, 1, false, false);
        size_t *slot = g ? pq_map_get(c, &map, g, NULL, true, cl->ngrp, &oom) : NULL;
        if (!slot)
            return pq_oom(c);
        if (*slot == cl->ngrp) {
            if (!(cl->gl[cl->ngrp++] = pq_drop_name(c, g)))
                return pq_oom(c);
        }
        cl->grp[i] = *slot;
        cl->off[*slot + 1]++;
    }
    pq_map_free(c, &map);
    /* Members by group, in input order, then each group sorted by le
     * (insertion sort: groups are a histogram's buckets) when its le are
     * distinct numbers: the only order a sort can give them. */
    for (size_t g = 0; g < cl->ngrp; g++)
        cl->off[g + 1] += cl->off[g];
    for (size_t i = 0; i < v->n; i++)
        if (cl->grp[i] != SIZE_MAX)
            cl->mem[cl->off[cl->grp[i]] + cl->gstamp[cl->grp[i]]++] = i;
    memset(cl->gstamp, 0, n * sizeof *cl->gstamp);
    for (size_t g = 0; g < cl->ngrp; g++) {
        size_t *m = cl->mem + cl->off[g], k = cl->off[g + 1] - cl->off[g];
        bool ok = true;
        for (size_t i = 0; i < k && ok; i++)
            ok = !isnan(cl->le[m[i]]);
        size_t *tmp = ok ? pq_alloc(&c->heap, (k ? k : 1) * sizeof *tmp) : NULL;
        if (ok && !tmp)
            return pq_oom(c);
        if (ok) {
            memcpy(tmp, m, k * sizeof *tmp);
            for (size_t i = 1; i < k; i++) {
                size_t x = tmp[i], j = i;
                for (; j > 0 && cl->le[tmp[j - 1]] > cl->le[x]; j--)
                    tmp[j] = tmp[j - 1];
                tmp[j] = x;
            }
            for (size_t i = 1; i < k && ok; i++)
                ok = cl->le[tmp[i - 1]] < cl->le[tmp[i]];
            if (ok)
                memcpy(m, tmp, k * sizeof *m);
            pq_free(&c->heap, tmp);
        }
        cl->sorted[g] = ok;
    }
    return 0;
}

void pq_hist_free(struct pq_ctx *c, struct pq_hist *h)
{
    pq_free(&c->heap, h->le);
    pq_free(&c->heap, h->grp);
    pq_free(&c->heap, h->gl);
    pq_free(&c->heap, h->bk);
    pq_free(&c->heap, h->mem);
    pq_free(&c->heap, h->off);
    pq_free(&c->heap, h->sorted);
    pq_free(&c->heap, h->val);
    pq_free(&c->heap, h->sstamp);
    pq_free(&c->heap, h->gstamp);
    pq_free(&c->heap, h->order);
    *h = (struct pq_hist){0};
}

/* A group's result series and where the general path would have created
 * it: the first step with a value, and the first member present then. */
struct hout {
    struct pq_series s;
    size_t first_step, first_idx;
    size_t min_idx; /* the group's first member in input order */
};

static int hout_cmp(const void *a, const void *b)
{
    const struct hout *x = *(const struct hout *const *)a, *y = *(const struct hout *const *)b;
    if (x->first_step != y->first_step)
        return x->first_step < y->first_step ? -1 : 1;
    return x->first_idx < y->first_idx ? -1 : x->first_idx > y->first_idx;
}

/* Prometheus's util/almost.Equal, as promql_func.c has it (Go's math.Min
 * of a sum of magnitudes and DBL_MAX: NaN stays NaN). */
static bool almost_equal(double a, double b, double eps)
{
    if (isnan(a) && isnan(b))
        return true;
    if (a == b)
        return true;
    double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < DBL_MIN)
        return diff < eps * DBL_MIN;
    double m = isnan(abs_sum) ? abs_sum : abs_sum < DBL_MAX ? abs_sum : DBL_MAX;
    return diff / m < eps;
}

/* pq_bucket_quantile(q, b, n, true) (buckets sorted by le, le distinct),
 * inlined into the range walk: the same operations in the same order, so
 * the same value bit for bit (test_promql_fast compares it with the
 * general path, which calls pq_bucket_quantile). Forcing monotonicity
 * first tests the common case, a count clearly above the previous one:
 * prev a positive normal and cur - prev > 1e-11 (prev + cur), which
 * almost_equal can never call equal (its ratio is then > 1e-12 with a
 * wide margin for rounding), so it is skipped without a division. */
static inline double quantile_sorted(double q, struct pq_bucket *b, size_t n)
{
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    if (!(isinf(b[n - 1].le) && b[n - 1].le > 0))
        return NAN;
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double cur = b[i].count;
        if (prev >= DBL_MIN && cur - prev > (prev + cur) * 1e-11) {
            prev = cur;
            continue;
        }
        if (cur == prev)
            continue;
        if (almost_equal(prev, cur, 1e-12) || cur < prev) {
            b[i].count = prev;
            continue;
        }
        prev = cur;
    }
    if (n < 2)
        return NAN;
    double observations = b[n - 1].count;
    if (observations == 0)
        return NAN;
    double rank = q * observations;
    /* the first bucket with count >= rank, searching [0, n-1) (the same
     * halving as pq_bucket_quantile: counts may be out of order with NaN) */
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        bool ge = b[mid].count >= rank;
        hi = ge ? mid : hi;
        lo = ge ? lo : mid + 1;
    }
    size_t i = lo;
    if (i == n - 1)
        return b[n - 2].le;
    if (i == 0 && b[0].le <= 0)
        return b[0].le;
    double start = 0, end = b[i].le, count = b[i].count;
    if (i > 0) {
        start = b[i - 1].le;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

/* Member s's samples at steps t0, t0 + interval, ... (kn of them), as
 * pq_gather picks them at each step, into column col of a table of kn
 * rows of stride buckets: its bucket, a presence mark, and the row's
 * count of buckets present. */
static void gather_member(struct pq_series *s, double le, struct pq_bucket *col, uint8_t *pres,
                          uint32_t *cnt, size_t stride, const struct pq_steps *st, size_t k0,
                          size_t kn)
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
            col[j * stride] = (struct pq_bucket){le, p[k0 + j - first].v};
            pres[j * stride] = 1;
            cnt[j]++;
        }
        /* as the search leaves it: past the samples up to the last step */
        size_t past = k0 + kn > first ? k0 + kn - first : 0;
        s->cur = past < n ? past : n;
        return;
    }
    int64_t ts = t0;
    for (size_t j = 0; j < kn && cur < n; j++, ts += interval) {
        /* the members' arrays are read a short run each, in turn: fetch
         * ahead, across pages too (the hardware's prefetch stops there) */
        if (cur + 32 < n)
            __builtin_prefetch(p + cur + 32);
        while (cur < n && p[cur].t < ts)
            cur++;
        if (cur < n && p[cur].t == ts) {
            col[j * stride] = (struct pq_bucket){le, p[cur++].v};
            pres[j * stride] = 1;
            cnt[j]++;
        }
    }
    s->cur = cur;
}

/* Input samples from which histogram_quantile splits its groups over the
 * query pool: below, waking a pool thread costs about what it saves. */
#define PQ_HIST_PAR_MIN 4096

/* A histogram_quantile range evaluation, shared by its groups' walks, and
 * each worker's scratch (worker w's at w times the sizes). */
struct hrun {
    const struct pq_hist *h;
    const struct pq_steps *st;
    struct pq_series *in;       /* the bucket series */
    const struct pq_series *qs; /* q, one sample per step */
    struct hout *ho;
    size_t nsteps, ch, maxm; /* steps, a chunk of them, most members of a group */
    struct pq_bucket *rows;  /* per worker: ch rows of maxm */
    uint8_t *pres;           /* per worker: ch rows of maxm */
    uint32_t *cnt;           /* per worker: ch */
    struct pq_bucket *bk;    /* per worker: maxm */
};

/* Group g's output series, its members' cursors rewound and room reserved
 * for its results. */
static int hist_reserve(struct pq_ctx *c, const struct hrun *r, size_t g)
{
    const struct pq_hist *h = r->h;
    struct hout *o = &r->ho[g];
    o->s = (struct pq_series){.m = h->gl[g], .last_t = INT64_MIN};
    const size_t *mem = h->mem + h->off[g];
    size_t nm = h->off[g + 1] - h->off[g], room = 0;
    o->min_idx = SIZE_MAX;
    for (size_t i = 0; i < nm; i++) {
        r->in[mem[i]].cur = 0;
        room += r->in[mem[i]].n;
        if (mem[i] < o->min_idx)
            o->min_idx = mem[i];
    }
    /* at most one result per step at which a member has a sample */
    if (pq_series_reserve(c, &o->s, room < r->nsteps ? (room ? room : 1) : r->nsteps))
        return pq_oom(c);
    return 0;
}

/* Group g's quantiles at every step, with worker w's scratch, into its
 * reserved room. With c (the serial path) each step is ticked and each
 * chunk's results held as pq_series_push would (the limit fails the same
 * evaluations: the count only grows here), and an error returned; without
 * (a pool worker) only g's own series and w's scratch are touched, and
 * hist_replay does the ticks and holds afterwards. */
static int hist_walk(const struct hrun *r, unsigned w, size_t g, struct pq_ctx *c)
{
    const struct pq_hist *h = r->h;
    const struct promql_sample *qp = r->qs->p;
    struct hout *o = &r->ho[g];
    const size_t *mem = h->mem + h->off[g];
    size_t nm = h->off[g + 1] - h->off[g], ch = r->ch, nsteps = r->nsteps, qn = r->qs->n, qc = 0;
    size_t min_idx = o->min_idx;
    int64_t start = r->st->start, interval = r->st->interval;
    struct pq_bucket *rows = r->rows + w * ch * r->maxm, *bk = r->bk + w * r->maxm;
    uint8_t *pres = r->pres + w * ch * r->maxm;
    uint32_t *cnt = r->cnt + w * ch;
    bool sorted = h->sorted[g];
    int rc;
    for (size_t k0 = 0; k0 < nsteps; k0 += ch) {
        size_t kn = nsteps - k0 < ch ? nsteps - k0 : ch, n0 = o->s.n;
        int64_t t0 = start + (int64_t)k0 * interval;
        memset(cnt, 0, kn * sizeof *cnt);
        memset(pres, 0, kn * nm);
        for (size_t i = 0; i < nm; i++)
            gather_member(&r->in[mem[i]], h->le[mem[i]], rows + i, pres + i, cnt, nm, r->st, k0,
                          kn);
        struct promql_sample *op = o->s.p;
        size_t on = n0;
        for (size_t j = 0; j < kn; j++) {
            int64_t ts = t0 + (int64_t)j * interval;
            if (c && (rc = pq_tick(c)))
                return rc;
            while (qc < qn && qp[qc].t < ts)
                qc++;
            if (qc >= qn || qp[qc].t != ts || !cnt[j])
                continue;
            /* the buckets present, in member order */
            struct pq_bucket *b = rows + j * nm;
            size_t n = nm, first = min_idx;
            if (cnt[j] != nm) {
                const uint8_t *pr = pres + j * nm;
                n = 0;
                first = SIZE_MAX;
                for (size_t i = 0; i < nm; i++) {
                    if (!pr[i])
                        continue;
                    bk[n++] = b[i];
                    if (mem[i] < first)
                        first = mem[i];
                }
                b = bk;
            }
            if (!on) {
                o->first_step = k0 + j;
                o->first_idx = first;
            }
            double q = qp[qc].v;
            op[on++] = (struct promql_sample){ts, sorted ? quantile_sorted(q, b, n)
                                                         : pq_bucket_quantile(q, b, n, false)};
        }
        o->s.n = on;
        if (c && (rc = pq_hold(c, (int64_t)(on - n0))))
            return rc;
    }
    return 0;
}

static void hist_walk_fn(void *ud, unsigned w, size_t g)
{
    (void)hist_walk(ud, w, g, NULL);
}

/* After a pool's walk of group g: its ticks and holds, as hist_walk with c
 * makes them (a tick per step, then the chunk's results), so c->samples,
 * the tick count and the first hold that fails are the serial path's. */
static int hist_replay(struct pq_ctx *c, const struct hrun *r, size_t g)
{
    const struct pq_series *o = &r->ho[g].s;
    size_t k = 0;
    int rc;
    for (size_t k0 = 0; k0 < r->nsteps; k0 += r->ch) {
        size_t kn = r->nsteps - k0 < r->ch ? r->nsteps - k0 : r->ch, n0 = k;
        int64_t tl = r->st->start + (int64_t)(k0 + kn - 1) * r->st->interval;
        for (size_t j = 0; j < kn; j++)
            if ((rc = pq_tick(c)))
                return rc;
        while (k < o->n && o->p[k].t <= tl)
            k++;
        if ((rc = pq_hold(c, (int64_t)(k - n0))))
            return rc;
    }
    return 0;
}

int pq_hist_quantile_range(struct pq_ctx *c, struct pq_hist *h, const struct pq_steps *st,
                           struct pq_matrix *ops, struct pq_matrix *out)
{
    struct pq_matrix *qm = &ops[0], *v = &ops[1];
    if (qm->n != 1 || v->n != h->nin)
        return 1;
    /* two groups with one output label set: the general path decides */
    struct pq_map seen = {0};
    bool oom = false, dup = false;
    for (size_t g = 0; g < h->ngrp && !dup; g++) {
        size_t *slot = pq_map_get(c, &seen, h->gl[g], NULL, true, g, &oom);
        if (!slot)
            return pq_oom(c);
        dup = *slot != g;
    }
    pq_map_free(c, &seen);
    if (dup)
        return 1;
    struct hrun r = {.h = h, .st = st, .in = v->s, .qs = &qm->s[0], .maxm = 1};
    r.nsteps = (size_t)((st->end - st->start) / st->interval) + 1;
    for (size_t g = 0; g < h->ngrp; g++)
        if (h->off[g + 1] - h->off[g] > r.maxm)
            r.maxm = h->off[g + 1] - h->off[g];
    /* a chunk of steps at a time: a row of the group's buckets per step
     * (about 16 KB, in L1 while the chunk's quantiles read them; longer
     * chunks measured slower), at least 16 steps */
    r.ch = 1024 / r.maxm;
    r.ch = r.ch < 16 ? 16 : r.ch;
    if (r.ch > r.nsteps)
        r.ch = r.nsteps;
    /* the groups in parallel when there is a pool and enough to share */
    size_t work = 0;
    for (size_t i = 0; i < h->nin; i++)
        work += h->grp[i] != SIZE_MAX ? v->s[i].n : 0;
    bool par = c->o.pool && h->ngrp > 1 && work >= PQ_HIST_PAR_MIN;
    size_t nw = par ? qpool_threads(c->o.pool) + 1 : 1, ng = h->ngrp ? h->ngrp : 1;
    r.ho = pq_alloc(&c->heap, ng * sizeof *r.ho);
    struct hout **ord = pq_alloc(&c->heap, ng * sizeof *ord);
    r.rows = pq_alloc(&c->heap, nw * r.ch * r.maxm * sizeof *r.rows);
    r.pres = pq_alloc(&c->heap, nw * r.ch * r.maxm);
    r.cnt = pq_alloc(&c->heap, nw * r.ch * sizeof *r.cnt);
    r.bk = pq_alloc(&c->heap, nw * r.maxm * sizeof *r.bk);
    if (!r.ho || !ord || !r.rows || !r.pres || !r.cnt || !r.bk)
        return pq_oom(c);
    memset(r.ho, 0, ng * sizeof *r.ho);
    int rc;
    if (!par) {
        for (size_t g = 0; g < h->ngrp; g++)
            if ((rc = hist_reserve(c, &r, g)) || (rc = hist_walk(&r, 0, g, c)))
                return rc;
    } else {
        for (size_t g = 0; g < h->ngrp; g++)
            if ((rc = hist_reserve(c, &r, g)))
                return rc;
        if (qpool_for(c->o.pool,
                      &(struct qpool_loop){h->ngrp, hist_walk_fn, NULL, NULL, &r, c->deadline_ns}))
            return pq_timeout(c);
        for (size_t g = 0; g < h->ngrp; g++)
            if ((rc = hist_replay(c, &r, g)))
                return rc;
    }
    pq_free(&c->heap, r.bk);
    pq_free(&c->heap, r.cnt);
    pq_free(&c->heap, r.pres);
    pq_free(&c->heap, r.rows);
    /* the general path's order of the output series */
    size_t no = 0;
    for (size_t g = 0; g < h->ngrp; g++) {
        if (r.ho[g].s.n)
            ord[no++] = &r.ho[g];
        else
            pq_free(&c->heap, r.ho[g].s.p);
    }
    qsort(ord, no, sizeof *ord, hout_cmp);
    *out = (struct pq_matrix){0};
    for (size_t i = 0; i < no; i++) {
        struct pq_series *s = pq_matrix_add(c, out, ord[i]->s.m);
        if (!s)
            return pq_oom(c);
        *s = ord[i]->s;
    }
    pq_free(&c->heap, ord);
    pq_free(&c->heap, r.ho);
    pq_matrix_free(c, &ops[0]);
    pq_matrix_free(c, &ops[1]);
    return 0;
}
