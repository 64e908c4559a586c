/*
 * promql_hist.c — classic histograms in the PromQL evaluator:
 * histogram_quantile(), histogram_quantiles() and histogram_fraction().
 * See promql_hist.h for the design.
 */
#include "promql_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

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
};

static int hout_cmp(const void *a, const void *b)
{
    const struct hout *x = *(const struct hout *const *)a, *y = *(const struct hout *const *)b;
    if (x->first_step != y->first_step)
        return x->first_step < y->first_step ? -1 : 1;
    return x->first_idx < y->first_idx ? -1 : x->first_idx > y->first_idx;
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
    size_t nsteps = (size_t)((st->end - st->start) / st->interval) + 1;
    struct hout *ho = pq_alloc(&c->heap, (h->ngrp ? h->ngrp : 1) * sizeof *ho);
    struct hout **ord = pq_alloc(&c->heap, (h->ngrp ? h->ngrp : 1) * sizeof *ord);
    if (!ho || !ord)
        return pq_oom(c);
    memset(ho, 0, (h->ngrp ? h->ngrp : 1) * sizeof *ho);
    const struct pq_series *qs = &qm->s[0];
    int rc;
    for (size_t g = 0; g < h->ngrp; g++) {
        struct hout *o = &ho[g];
        o->s = (struct pq_series){.m = h->gl[g], .last_t = INT64_MIN};
        const size_t *mem = h->mem + h->off[g];
        size_t nm = h->off[g + 1] - h->off[g], room = 0;
        for (size_t i = 0; i < nm; i++) {
            v->s[mem[i]].cur = 0;
            room += v->s[mem[i]].n;
        }
        if (pq_series_reserve(c, &o->s, room < nsteps ? (room ? room : 1) : nsteps))
            return pq_oom(c);
        size_t qc = 0, k = 0;
        bool sorted = h->sorted[g];
        PQ_FOR_STEPS(st, ts)
        {
            size_t step = k++;
            if ((rc = pq_tick(c)))
                return rc;
            while (qc < qs->n && qs->p[qc].t < ts)
                qc++;
            if (qc >= qs->n || qs->p[qc].t != ts)
                continue;
            double q = qs->p[qc].v;
            struct pq_bucket *b = h->bk;
            size_t n = 0, first = SIZE_MAX;
            for (size_t i = 0; i < nm; i++) {
                struct pq_series *s = &v->s[mem[i]];
                size_t cur = s->cur;
                while (cur < s->n && s->p[cur].t < ts)
                    cur++;
                if (cur < s->n && s->p[cur].t == ts) {
                    b[n++] = (struct pq_bucket){h->le[mem[i]], s->p[cur++].v};
                    if (mem[i] < first)
                        first = mem[i];
                }
                s->cur = cur;
            }
            if (!n)
                continue;
            if (!o->s.n) {
                o->first_step = step;
                o->first_idx = first;
            }
            if ((rc = pq_series_push(c, &o->s, ts, pq_bucket_quantile(q, b, n, sorted))))
                return rc;
        }
    }
    /* the general path's order of the output series */
    size_t no = 0;
    for (size_t g = 0; g < h->ngrp; g++) {
        if (ho[g].s.n)
            ord[no++] = &ho[g];
        else
            pq_free(&c->heap, ho[g].s.p);
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
    pq_free(&c->heap, ho);
    pq_matrix_free(c, &ops[0]);
    pq_matrix_free(c, &ops[1]);
    return 0;
}
