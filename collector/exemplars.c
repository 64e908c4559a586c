/*
 * exemplars.c — /api/v1/query_exemplars from the stored events (see
 * exemplars.h for what is answered and the design).
 */
#include "exemplars.h"

#include <lmdb.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "promql_ast.h"
#include "promql_value.h"
#include "series.h"
#include "series_ingest.h"
#include "store.h"

enum { M_DUR, M_COST, NMETRICS };
static const char *const metric_name[NMETRICS] = {"llm_request_duration_seconds_bucket",
                                                  "llm_cost_usd_total"};

/* The header fields phase 1 can match on, in the order of a group key. */
enum { H_SERVICE, H_MODEL, H_PROVIDER, H_OPERATION, NHDR };
static const char *const hdr_name[NHDR] = {"service", "model", "provider", "operation"};

struct sel {
    const struct promql_matcher *m;
    size_t n;
};

struct sels {
    struct sel *v;
    size_t n, cap;
    bool oom;
    unsigned labels; /* the series' label mask (series_ingest.h) */
};

static void collect(const struct promql_expr *e, struct sels *s)
{
    if (!e)
        return;
    switch (e->kind) {
    case PROMQL_NUMBER:
    case PROMQL_STRING: return;
    case PROMQL_VECTOR_SELECTOR:
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 4;
            struct sel *nv = realloc(s->v, cap * sizeof *nv);
            if (!nv) {
                s->oom = true;
                return;
            }
            s->v = nv;
            s->cap = cap;
        }
        s->v[s->n++] = (struct sel){e->vs.matchers, e->vs.nmatchers};
        return;
    case PROMQL_MATRIX_SELECTOR: collect(e->matrix.vs, s); return;
    case PROMQL_SUBQUERY: collect(e->subquery.expr, s); return;
    case PROMQL_CALL:
        for (size_t i = 0; i < e->call.nargs; i++)
            collect(e->call.args[i], s);
        return;
    case PROMQL_AGGREGATE:
        collect(e->agg.expr, s);
        collect(e->agg.param, s);
        return;
    case PROMQL_BINARY:
        collect(e->binary.lhs, s);
        collect(e->binary.rhs, s);
        return;
    case PROMQL_UNARY: collect(e->unary.expr, s); return;
    case PROMQL_PAREN: collect(e->paren.expr, s); return;
    }
}

static bool name_is(const struct promql_matcher *m, const char *name)
{
    return strcmp(m->name.p, name) == 0;
}

/* Whether selector s can select metric k (its __name__ matchers accept
 * the name; the other matchers are decided later). */
static bool sel_metric(const struct sel *s, int k)
{
    for (size_t i = 0; i < s->n; i++)
        if (name_is(&s->m[i], "__name__") &&
            !promql_matcher_matches(&s->m[i], metric_name[k], strlen(metric_name[k])))
            return false;
    return true;
}

/* Whether the matchers of s on header fields accept the header values h. */
static bool sel_header(const struct sel *s, const char *const h[NHDR])
{
    for (size_t i = 0; i < s->n; i++)
        for (int f = 0; f < NHDR; f++)
            if (name_is(&s->m[i], hdr_name[f]) &&
                !promql_matcher_matches(&s->m[i], h[f], strlen(h[f])))
                return false;
    return true;
}

/* ---- phase 1: candidates from record headers ---------------------------- */

struct cand {
    double v;
    int64_t t_us;
    int32_t status;
    int metric, slice;
    char id[STORE_ID_MAX + 1];
    char *hdr; /* service\0model\0provider\0operation\0 (owned) */
};

struct group {
    uint64_t h;
    char *key; /* metric byte + header strings + status class byte */
    size_t klen;
    struct cand top[EXEMPLARS_KEEP]; /* largest first */
    int n;
};

struct scan {
    const struct sels *sels;
    bool want[NMETRICS];
    int64_t start_ms;
    double span_ms;
    int slice;
    struct group *g;
    size_t ng, capg;
    struct cand *c; /* all candidates of finished slices */
    size_t nc, capc;
    size_t examined;
    bool oom;
};

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void groups_flush(struct scan *sc)
{
    for (size_t i = 0; i < sc->ng; i++) {
        struct group *g = &sc->g[i];
        for (int j = 0; j < g->n; j++) {
            if (sc->nc == sc->capc) {
                size_t cap = sc->capc ? sc->capc * 2 : 64;
                struct cand *nc = realloc(sc->c, cap * sizeof *nc);
                if (!nc) {
                    sc->oom = true;
                    free(g->top[j].hdr);
                    continue;
                }
                sc->c = nc;
                sc->capc = cap;
            }
            sc->c[sc->nc++] = g->top[j];
        }
        free(g->key);
    }
    sc->ng = 0;
}

static struct group *group_get(struct scan *sc, const char *key, size_t klen)
{
    uint64_t h = fnv(key, klen);
    for (size_t i = 0; i < sc->ng; i++)
        if (sc->g[i].h == h && sc->g[i].klen == klen && memcmp(sc->g[i].key, key, klen) == 0)
            return &sc->g[i];
    if (sc->ng == sc->capg) {
        size_t cap = sc->capg ? sc->capg * 2 : 16;
        struct group *ng = realloc(sc->g, cap * sizeof *ng);
        if (!ng)
            return NULL;
        sc->g = ng;
        sc->capg = cap;
    }
    char *k = malloc(klen);
    if (!k)
        return NULL;
    memcpy(k, key, klen);
    struct group *g = &sc->g[sc->ng++];
    *g = (struct group){.h = h, .key = k, .klen = klen};
    return g;
}

/* Offers one call to the group's top list. */
static void group_offer(struct scan *sc, struct group *g, const struct store_summary *s, int k,
                        double v, const char *const h[NHDR])
{
    int pos = g->n;
    while (pos > 0 && g->top[pos - 1].v < v)
        pos--;
    if (pos >= EXEMPLARS_KEEP)
        return;
    size_t hl = 0;
    for (int f = 0; f < NHDR; f++)
        hl += strlen(h[f]) + 1;
    char *hdr = malloc(hl), *w = hdr;
    if (!hdr) {
        sc->oom = true;
        return;
    }
    for (int f = 0; f < NHDR; f++) {
        size_t l = strlen(h[f]) + 1;
        memcpy(w, h[f], l);
        w += l;
    }
    if (g->n == EXEMPLARS_KEEP)
        free(g->top[--g->n].hdr);
    memmove(&g->top[pos + 1], &g->top[pos], (size_t)(g->n - pos) * sizeof g->top[0]);
    struct cand *c = &g->top[pos];
    *c = (struct cand){.v = v,
                       .t_us = s->time_us,
                       .status = s->status,
                       .metric = k,
                       .slice = sc->slice,
                       .hdr = hdr};
    snprintf(c->id, sizeof c->id, "%s", s->id);
    g->n++;
}

static int on_summary(void *ud, const struct store_summary *s)
{
    struct scan *sc = ud;
    sc->examined++;
    double t_ms = (double)s->time_us / 1000.0;
    int slice = (int)((t_ms - (double)sc->start_ms) * EXEMPLARS_SLICES / sc->span_ms);
    if (slice < 0)
        slice = 0;
    if (slice >= EXEMPLARS_SLICES)
        slice = EXEMPLARS_SLICES - 1;
    if (slice != sc->slice) {
        groups_flush(sc);
        sc->slice = slice;
    }
    const char *h[NHDR] = {s->service, s->model, s->provider, s->operation};
    for (int k = 0; k < NMETRICS; k++) {
        if (!sc->want[k])
            continue;
        double v = k == M_DUR ? s->latency_ms / 1000.0 : s->cost_usd;
        if (!isfinite(v) || v < 0)
            continue;
        bool any = false;
        for (size_t i = 0; i < sc->sels->n && !any; i++)
            any = sel_metric(&sc->sels->v[i], k) && sel_header(&sc->sels->v[i], h);
        if (!any)
            continue;
        size_t need = 2;
        for (int f = 0; f < NHDR; f++)
            need += strlen(h[f]) + 1;
        char kbuf[512], *key = need <= sizeof kbuf ? kbuf : malloc(need);
        if (!key) {
            sc->oom = true;
            return 1;
        }
        size_t kl = 0;
        key[kl++] = (char)k;
        for (int f = 0; f < NHDR; f++) {
            size_t l = strlen(h[f]) + 1;
            memcpy(key + kl, h[f], l);
            kl += l;
        }
        key[kl++] = (char)(s->status >= 500 ? 5 : s->status >= 400 ? 4 : 0);
        struct group *g = group_get(sc, key, kl);
        if (key != kbuf)
            free(key);
        if (!g) {
            sc->oom = true;
            return 1;
        }
        group_offer(sc, g, s, k, v, h);
    }
    return sc->oom ? 1 : 0;
}

static int cmp_cand_value(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    return (a->v < b->v) - (a->v > b->v);
}

/* ---- phase 2: full labels, series, selection ---------------------------- */

struct hit {
    char *skey; /* the series' labels, sorted: name\0value\0... (owned) */
    size_t sklen;
    int slice;
    double v;
    int64_t t_us;
    char id[STORE_ID_MAX + 1];
    char trace[64];
};

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const struct series_label *)a)->name, ((const struct series_label *)b)->name);
}

static bool sel_labels(const struct sel *s, const struct series_label *l, size_t n)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *v = "";
        for (size_t j = 0; j < n; j++)
            if (name_is(&s->m[i], l[j].name)) {
                v = l[j].value;
                break;
            }
        if (!promql_matcher_matches(&s->m[i], v, strlen(v)))
            return false;
    }
    return true;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Resolves candidate c (its event parsed as ev) to a hit: *selected = 1
 * when a selector selects its series. Returns 0 or an error. */
static int resolve(struct series_db *db, MDB_txn *txn, const struct sels *sels,
                   const struct cand *c, const cJSON *ev, struct hit *out, int *selected)
{
    *selected = 0;
    const char *h[NHDR], *p = c->hdr;
    for (int f = 0; f < NHDR; f++) {
        h[f] = p;
        p += strlen(p) + 1;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(ev, "error");
    char le[32];
    struct series_label l[SERIES_INGEST_DIMS + 2];
    size_t n = 0;
    int rc = SERIES_ENOTFOUND;
    for (int fold = 0; fold <= 1 && rc == SERIES_ENOTFOUND; fold++) {
        n = 0;
        l[n++] = (struct series_label){"__name__", metric_name[c->metric]};
        if (c->metric == M_DUR) {
            series_ingest_duration_le(c->v, le, sizeof le);
            l[n++] = (struct series_label){"le", le};
        }
        n += series_ingest_dims(h[H_SERVICE], jstr(ev, "env"), h[H_PROVIDER], h[H_MODEL],
                                h[H_OPERATION], c->status, err && !cJSON_IsNull(err),
                                jstr(ev, "prompt_version"), sels->labels, fold, l + n);
        uint64_t id;
        rc = series_lookup(db, txn, l, n, &id);
    }
    if (rc == SERIES_ENOTFOUND || rc == SERIES_EINVAL || rc == SERIES_ETOOBIG)
        return 0; /* no such series (removed by retention, or never made) */
    if (rc)
        return rc;
    bool any = false;
    for (size_t i = 0; i < sels->n && !any; i++)
        any = sel_labels(&sels->v[i], l, n);
    if (!any)
        return 0;
    *selected = 1;
    qsort(l, n, sizeof l[0], cmp_label);
    size_t kl = 0;
    for (size_t i = 0; i < n; i++)
        kl += strlen(l[i].name) + strlen(l[i].value) + 2;
    char *k = malloc(kl), *w = k;
    if (!k)
        return SERIES_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(l[i].name) + 1, b = strlen(l[i].value) + 1;
        memcpy(w, l[i].name, a);
        memcpy(w + a, l[i].value, b);
        w += a + b;
    }
    *out = (struct hit){.skey = k, .sklen = kl, .slice = c->slice, .v = c->v, .t_us = c->t_us};
    memcpy(out->id, c->id, sizeof out->id);
    const char *tr = jstr(ev, "trace_id");
    snprintf(out->trace, sizeof out->trace, "%s", tr ? tr : "");
    return 0;
}

static int cmp_skey(const struct hit *a, const struct hit *b)
{
    size_t m = a->sklen < b->sklen ? a->sklen : b->sklen;
    int c = memcmp(a->skey, b->skey, m);
    return c ? c : (a->sklen > b->sklen) - (a->sklen < b->sklen);
}

/* Series, slice, largest value first. */
static int cmp_pick(const void *pa, const void *pb)
{
    const struct hit *a = pa, *b = pb;
    int c = cmp_skey(a, b);
    if (c)
        return c;
    if (a->slice != b->slice)
        return a->slice - b->slice;
    return (a->v < b->v) - (a->v > b->v);
}

/* Series, then time. */
static int cmp_emit(const void *pa, const void *pb)
{
    const struct hit *a = pa, *b = pb;
    int c = cmp_skey(a, b);
    return c ? c : (a->t_us > b->t_us) - (a->t_us < b->t_us);
}

static void emit(struct buf *out, struct hit *h, size_t n)
{
    buf_puts(out, "[");
    for (size_t i = 0; i < n;) {
        size_t j = i;
        buf_puts(out, i ? ",{\"seriesLabels\":{" : "{\"seriesLabels\":{");
        for (const char *p = h[i].skey, *e = h[i].skey + h[i].sklen; p < e;) {
            const char *v = p + strlen(p) + 1;
            if (p != h[i].skey)
                buf_puts(out, ",");
            buf_json_str(out, p);
            buf_puts(out, ":");
            buf_json_str(out, v);
            p = v + strlen(v) + 1;
        }
        buf_puts(out, "},\"exemplars\":[");
        for (; j < n && cmp_skey(&h[i], &h[j]) == 0; j++) {
            buf_puts(out, j > i ? ",{\"labels\":{\"event_id\":" : "{\"labels\":{\"event_id\":");
            buf_json_str(out, h[j].id);
            if (h[j].trace[0]) {
                buf_puts(out, ",\"trace_id\":");
                buf_json_str(out, h[j].trace);
            }
            buf_puts(out, "},\"value\":\"");
            pq_format_value(out, h[j].v);
            buf_puts(out, "\",\"timestamp\":");
            int64_t t = h[j].t_us / 1000 - (h[j].t_us % 1000 < 0);
            pq_json_time(out, t);
            buf_puts(out, "}");
        }
        buf_puts(out, "]}");
        i = j;
    }
    buf_puts(out, "]");
}

int exemplars_query(struct store *st, struct series_db *db, const struct promql_expr *root,
                    int64_t start_ms, int64_t end_ms, size_t max_examined, unsigned labels,
                    struct buf *out, struct exemplars_result *res)
{
    *res = (struct exemplars_result){0};
    struct sels sels = {.labels = labels};
    collect(root, &sels);
    struct scan sc = {.sels = &sels,
                      .start_ms = start_ms,
                      .slice = -1,
                      .span_ms = (double)end_ms - (double)start_ms + 1};
    int rc = sels.oom ? STORE_ENOMEM : 0;
    bool want = false;
    for (int k = 0; k < NMETRICS; k++)
        for (size_t i = 0; i < sels.n; i++)
            want |= sc.want[k] |= sel_metric(&sels.v[i], k);
    if (rc == 0 && want && end_ms >= start_ms) {
        struct store_filter f = {
            .start_us = start_ms <= INT64_MIN / 1000 ? INT64_MIN : start_ms * 1000,
            .end_us = end_ms >= INT64_MAX / 1000 - 1 ? INT64_MAX : (end_ms + 1) * 1000,
            .max_examined = max_examined,
        };
        rc = store_scan(st, &f, on_summary, &sc);
        groups_flush(&sc);
        if (rc == STORE_EPARTIAL)
            res->partial = 1, rc = 0;
        if (sc.oom)
            rc = STORE_ENOMEM;
    }
    res->examined = sc.examined;
    free(sc.g);

    /* Too many candidates (many label combinations over a long range):
     * the largest values win. */
    if (sc.nc > EXEMPLARS_MAX_CANDIDATES) {
        qsort(sc.c, sc.nc, sizeof *sc.c, cmp_cand_value);
        for (size_t i = EXEMPLARS_MAX_CANDIDATES; i < sc.nc; i++)
            free(sc.c[i].hdr);
        sc.nc = EXEMPLARS_MAX_CANDIDATES;
        res->partial = 1;
    }

    /* Phase 2, in batches: read the batch's events (store_get takes its own
     * transaction), then resolve them in one read transaction. */
    struct hit *hits = sc.nc ? calloc(sc.nc, sizeof *hits) : NULL;
    size_t nh = 0;
    if (sc.nc && !hits)
        rc = STORE_ENOMEM;
    enum { BATCH = 256 };
    for (size_t b0 = 0; rc == 0 && b0 < sc.nc; b0 += BATCH) {
        size_t bn = sc.nc - b0 < BATCH ? sc.nc - b0 : BATCH;
        cJSON *evs[BATCH] = {0};
        for (size_t i = 0; rc == 0 && i < bn; i++) {
            char *json = NULL;
            size_t len = 0;
            int g = store_get(st, sc.c[b0 + i].id, &json, &len);
            if (g == 0)
                evs[i] = cJSON_ParseWithLength(json, len);
            else if (g != STORE_ENOTFOUND) /* ENOTFOUND: deleted by retention meanwhile */
                rc = g;
            free(json);
            res->candidates++;
        }
        MDB_txn *txn = NULL;
        if (rc == 0 && (rc = store_txn_read(st, &txn)) == 0) {
            for (size_t i = 0; rc == 0 && i < bn; i++) {
                int selected = 0;
                if (evs[i] && (rc = resolve(db, txn, &sels, &sc.c[b0 + i], evs[i], &hits[nh],
                                            &selected)) == 0)
                    nh += (size_t)selected;
            }
            store_txn_done(st, txn);
        }
        for (size_t i = 0; i < bn; i++)
            cJSON_Delete(evs[i]);
    }
    if (rc == 0 && nh) {
        qsort(hits, nh, sizeof *hits, cmp_pick);
        size_t w = 0;
        for (size_t i = 0; i < nh; i++) {
            if (w && cmp_skey(&hits[w - 1], &hits[i]) == 0 && hits[w - 1].slice == hits[i].slice) {
                free(hits[i].skey);
                continue;
            }
            hits[w++] = hits[i];
        }
        nh = w;
        qsort(hits, nh, sizeof *hits, cmp_emit);
    }
    if (rc == 0)
        emit(out, hits, nh);
    for (size_t i = 0; i < nh; i++)
        free(hits[i].skey);
    for (size_t i = 0; i < sc.nc; i++)
        free(sc.c[i].hdr);
    free(hits);
    free(sc.c);
    free(sels.v);
    return rc;
}
