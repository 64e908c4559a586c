/*
 * series_ingest.c — events → time series deltas, inside the ingest batch's
 * store transaction (see series_ingest.h).
 *
 * DESIGN
 * - Label sets are interned once (series_id) and cached: key = metric name,
 *   the extra label (type / le) and the dimension values, NUL-separated.
 *   The cache is dropped whenever series_reload runs (ids of an aborted
 *   transaction are handed out again).
 * - Cardinality: before creating a new label set, the metric's series
 *   count is compared with max_per_metric; past it the dimension values are
 *   replaced by __overflow__ (type and le kept, so sums and histograms stay
 *   whole). A histogram decides once per observation, on its _count series,
 *   so its buckets always fold together.
 * - Histograms: every observation adds 1 to each bucket with le >= value
 *   and +Inf, 0 to the others (so all buckets share timestamps), and the
 *   value to _sum, 1 to _count.
 * - A late event (its bucket sealed: SERIES_ELATE) or one too far in the
 *   future is counted and skipped; the event itself is still stored. A
 *   label set the series store refuses (too long) is counted and skipped.
 */
#include "series_ingest.h"

#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "series.h"
#include "store.h"

const struct series_metric_meta series_ingest_metrics[] = {
    {"llm_requests_total", "counter", "LLM requests recorded.", ""},
    {"llm_tokens_total", "counter",
     "Tokens, by type (input, output, cached_input, cache_write, reasoning).", ""},
    {"llm_cost_usd_total", "counter", "Cost of the requests in US dollars.", "usd"},
    {"llm_request_duration_seconds", "histogram", "Duration of the requests.", "seconds"},
    {"llm_time_to_first_token_seconds", "histogram",
     "Time to the first token of streamed responses.", "seconds"},
    {"llm_request_tokens", "histogram", "Tokens per request, by type (input, output).", ""},
    {NULL, NULL, NULL, NULL},
};

static const double sec_bounds[] = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                    1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
static const double tok_bounds[] = {1,     4,     16,     64,      256,     1024,     4096,
                                    16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
#define NBOUNDS 14

enum { NDIMS = SERIES_INGEST_DIMS };
static const char *const dim_names[NDIMS] = {"service",   "env",          "provider",      "model",
                                             "operation", "status_class", "prompt_version"};

/* A classic histogram: its series names and the text of its `le` values,
 * made once (formatting a float per bucket per event was the ingest
 * thread's largest cost). */
struct hist {
    const char *count, *sum, *bucket;
    const double *bounds;
    char le[NBOUNDS + 1][24]; /* the shortest text that reads back; "+Inf" last */
};

enum { H_DURATION, H_TTFT, H_TOKENS, NHIST };
static struct hist hists[NHIST] = {
    {"llm_request_duration_seconds_count",
     "llm_request_duration_seconds_sum",
     "llm_request_duration_seconds_bucket",
     sec_bounds,
     {{0}}},
    {"llm_time_to_first_token_seconds_count",
     "llm_time_to_first_token_seconds_sum",
     "llm_time_to_first_token_seconds_bucket",
     sec_bounds,
     {{0}}},
    {"llm_request_tokens_count",
     "llm_request_tokens_sum",
     "llm_request_tokens_bucket",
     tok_bounds,
     {{0}}},
};
static pthread_once_t hists_once = PTHREAD_ONCE_INIT;

static void hists_init(void)
{
    for (int h = 0; h < NHIST; h++) {
        for (int i = 0; i < NBOUNDS; i++) {
            char *le = hists[h].le[i];
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(le, sizeof hists[h].le[i], "%.*g", prec, hists[h].bounds[i]);
                if (strtod(le, NULL) == hists[h].bounds[i])
                    break;
            }
        }
        snprintf(hists[h].le[NBOUNDS], sizeof hists[h].le[NBOUNDS], "+Inf");
    }
}

#define CACHE_MAX (1u << 20) /* label sets cached before the cache is emptied */

/* The series an event adds to, numbered: requests, 5 token types, cost,
 * then count, sum and the NBOUNDS+1 buckets of each histogram observation
 * (duration, time to first token, input tokens, output tokens). */
enum {
    SLOT_REQUESTS = 0,
    SLOT_TOKENS = 1, /* 5 */
    SLOT_COST = 6,
    SLOT_HIST = 7, /* 4 x (NBOUNDS + 3) */
    NSLOTS = SLOT_HIST + 4 * (NBOUNDS + 3),
};

/* First-level cache: one entry per distinct label set of events (their
 * dims), holding the id of each of its series once resolved, so an event
 * costs one hash of its labels instead of one per series. */
#define DIMSETS_MAX (1u << 18)
struct dimset {
    char *key;
    size_t klen;
    uint64_t h;
    uint64_t id[NSLOTS];
    signed char ovf[NSLOTS]; /* -1: not resolved yet */
};

struct cache_ent {
    char *key; /* NULL: empty slot */
    size_t klen;
    uint64_t id;
    int ovf;
};

struct series_ingest {
    struct store *st;
    struct series_db *db;
    uint64_t max_per_metric;
    struct cache_ent *tab;
    size_t cap, used;
    struct dimset **ds; /* the label sets of events seen: slot ids (open addressing) */
    size_t dscap, dsused;
    unsigned labels; /* mask of dim_names kept */
    struct metric *late, *future, *overflow, *refused, *created, *maint_failures;
    int64_t maint_next_ms;
};

struct series_db *series_ingest_db(struct series_ingest *si)
{
    return si ? si->db : NULL;
}

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void dimsets_drop(struct series_ingest *si)
{
    for (size_t i = 0; i < si->dscap; i++)
        if (si->ds[i]) {
            free(si->ds[i]->key);
            free(si->ds[i]);
        }
    free(si->ds);
    si->ds = NULL;
    si->dscap = si->dsused = 0;
}

static void keys_drop(struct series_ingest *si)
{
    for (size_t i = 0; i < si->cap; i++)
        free(si->tab[i].key);
    free(si->tab);
    si->tab = NULL;
    si->cap = si->used = 0;
}

/* Forgets every cached id (both levels). */
static void cache_drop(struct series_ingest *si)
{
    keys_drop(si);
    dimsets_drop(si);
}

static struct cache_ent *cache_find(struct series_ingest *si, const char *k, size_t n)
{
    if (!si->cap)
        return NULL;
    for (size_t i = hash(k, n) & (si->cap - 1);; i = (i + 1) & (si->cap - 1)) {
        struct cache_ent *e = &si->tab[i];
        if (!e->key)
            return NULL;
        if (e->klen == n && memcmp(e->key, k, n) == 0)
            return e;
    }
}

static void cache_put(struct series_ingest *si, const char *k, size_t n, uint64_t id, int ovf)
{
    struct cache_ent *e = cache_find(si, k, n);
    if (e) {
        e->id = id;
        e->ovf = ovf;
        return;
    }
    if (si->used >= CACHE_MAX)
        keys_drop(si); /* raw label sets past the limit are unbounded: start over */
    if ((si->used + 1) * 2 > si->cap) {
        size_t ncap = si->cap ? si->cap * 2 : 1024;
        struct cache_ent *nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return; /* a cache miss later costs a lookup, nothing more */
        for (size_t i = 0; i < si->cap; i++) {
            if (!si->tab[i].key)
                continue;
            size_t j = hash(si->tab[i].key, si->tab[i].klen) & (ncap - 1);
            while (nt[j].key)
                j = (j + 1) & (ncap - 1);
            nt[j] = si->tab[i];
        }
        free(si->tab);
        si->tab = nt;
        si->cap = ncap;
    }
    char *kc = malloc(n);
    if (!kc)
        return;
    memcpy(kc, k, n);
    size_t j = hash(k, n) & (si->cap - 1);
    while (si->tab[j].key)
        j = (j + 1) & (si->cap - 1);
    si->tab[j] = (struct cache_ent){kc, n, id, ovf};
    si->used++;
}

struct open_ctx {
    struct series_ingest *si;
    const struct series_opts *opts;
};

static int open_fn(void *ud, MDB_txn *txn)
{
    struct open_ctx *o = ud;
    struct series_opts def = {0};
    return series_open(txn, o->opts ? o->opts : &def, &o->si->db);
}

int series_ingest_create(struct store *st, struct metrics *m, const struct series_opts *opts,
                         uint64_t max_per_metric, struct series_ingest **out, char *err,
                         size_t errlen)
{
    pthread_once(&hists_once, hists_init);
    *out = NULL;
    struct series_ingest *si = calloc(1, sizeof *si);
    if (!si) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    si->st = st;
    si->max_per_metric = max_per_metric ? max_per_metric : 10000;
    si->labels = SERIES_INGEST_ALL_LABELS;
    struct open_ctx oc = {si, opts};
    int rc = store_write_txn(st, open_fn, &oc);
    if (rc != 0) {
        series_close(si->db); /* the open's transaction was aborted */
        snprintf(err, errlen, "opening the series databases: %s", series_strerror(rc));
        free(si);
        return -1;
    }
    si->late = metrics_counter(
        m, "llmtap_series_late_events_total",
        "Events too late for their series buckets (stored, not counted in series).", NULL);
    si->future =
        metrics_counter(m, "llmtap_series_future_events_total",
                        "Events too far in the future for the series (stored, not counted).", NULL);
    si->overflow = metrics_counter(
        m, "llmtap_series_overflow_total",
        "Events with a series folded into __overflow__ label values (series.max_per_metric).",
        NULL);
    si->refused =
        metrics_counter(m, "llmtap_series_refused_total",
                        "Observations whose label set the series store refused (too long).", NULL);
    si->created = metrics_counter(m, "llmtap_series_created_total", "Series created.", NULL);
    si->maint_failures = metrics_counter(m, "llmtap_series_maintenance_failures_total",
                                         "Failed series maintenance transactions (sealing, "
                                         "downsampling, retention); retried later.",
                                         NULL);
    *out = si;
    return 0;
}

void series_ingest_destroy(struct series_ingest *si)
{
    if (!si)
        return;
    cache_drop(si);
    series_close(si->db);
    free(si);
}

/* The dimension values of one event; NULL = absent. */
struct dims {
    const char *v[NDIMS];
};

static size_t build_key(char *k, size_t cap, const char *metric, const char *xn, const char *xv,
                        const char *yn, const char *yv, const struct dims *d, int ovf)
{
    size_t n = 0;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        const char *s_ = (s) ? (s) : "";                                                           \
        size_t l_ = strlen(s_) + 1;                                                                \
        if (n + l_ > cap)                                                                          \
            return 0;                                                                              \
        memcpy(k + n, s_, l_);                                                                     \
        n += l_;                                                                                   \
    } while (0)
    PUT(metric);
    PUT(xn);
    PUT(xv);
    PUT(yn);
    PUT(yv);
    for (int i = 0; i < NDIMS; i++)
        PUT(ovf && d->v[i] ? SERIES_OVERFLOW : d->v[i]);
#undef PUT
    return n;
}

enum { R_SKIP = 1 }; /* the label set was refused: skip this observation */

/* The id of metric{dims, xn=xv}. *ovf: -1 = decide (cardinality check),
 * else 0/1 as decided by the caller; set to the decision. */
static int resolve(struct series_ingest *si, MDB_txn *txn, const char *metric, const char *xn,
                   const char *xv, const char *yn, const char *yv, const struct dims *d, int *ovf,
                   uint64_t *id)
{
    char key[2048];
    size_t kl = build_key(key, sizeof key, metric, xn, xv, yn, yv, d, 0);
    if (kl == 0) {
        metric_inc(si->refused);
        return R_SKIP;
    }
    struct cache_ent *e = cache_find(si, key, kl);
    if (e && (*ovf < 0 || *ovf == e->ovf)) {
        *ovf = e->ovf;
        *id = e->id;
        return 0;
    }
    struct series_label l[NDIMS + 3];
    size_t n = 0;
    l[n++] = (struct series_label){"__name__", metric};
    if (xn)
        l[n++] = (struct series_label){xn, xv};
    if (yn)
        l[n++] = (struct series_label){yn, yv};
    int fold = *ovf > 0;
    for (;;) {
        size_t nl = n;
        for (int i = 0; i < NDIMS; i++)
            if (d->v[i])
                l[nl++] = (struct series_label){dim_names[i], fold ? SERIES_OVERFLOW : d->v[i]};
        int rc = series_lookup(si->db, txn, l, nl, id);
        if (rc == 0)
            break;
        if (rc != SERIES_ENOTFOUND)
            return rc == SERIES_ETOOBIG || rc == SERIES_EINVAL ? (metric_inc(si->refused), R_SKIP)
                                                               : rc;
        if (!fold && *ovf < 0) {
            uint64_t cnt = 0;
            if ((rc = series_count(si->db, txn, metric, &cnt)) != 0)
                return rc;
            if (cnt >= si->max_per_metric) {
                fold = 1;
                continue;
            }
        }
        rc = series_id(si->db, txn, l, nl, id);
        if (rc == SERIES_ETOOBIG || rc == SERIES_EINVAL) {
            metric_inc(si->refused);
            return R_SKIP;
        }
        if (rc)
            return rc;
        metric_inc(si->created);
        break;
    }
    *ovf = fold;
    cache_put(si, key, kl, *id, fold);
    return 0;
}

struct ev_ctx {
    struct series_ingest *si;
    MDB_txn *txn;
    int64_t t_ms, now_ms;
    const struct dims *d;
    struct dimset *ds; /* the event's label set (NULL: none, use the key cache only) */
    int late, future, folded;
};

/* The first-level cache entry of label set d, created if new (NULL when
 * out of memory: the event then resolves through the key cache). */
static struct dimset *dimset_get(struct series_ingest *si, const struct dims *d)
{
    char key[NDIMS * 260];
    size_t kl = 0;
    for (int i = 0; i < NDIMS; i++) {
        size_t l = d->v[i] ? strlen(d->v[i]) : 0;
        if (kl + l + 1 > sizeof key)
            return NULL;
        if (l)
            memcpy(key + kl, d->v[i], l);
        kl += l;
        key[kl++] = 0;
    }
    uint64_t h = hash(key, kl);
    if (si->dscap) {
        for (size_t i = h & (si->dscap - 1);; i = (i + 1) & (si->dscap - 1)) {
            struct dimset *x = si->ds[i];
            if (!x)
                break;
            if (x->h == h && x->klen == kl && memcmp(x->key, key, kl) == 0)
                return x;
        }
    }
    if (si->dsused >= DIMSETS_MAX)
        dimsets_drop(si);
    if ((si->dsused + 1) * 2 > si->dscap) {
        size_t ncap = si->dscap ? si->dscap * 2 : 256;
        struct dimset **nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return NULL;
        for (size_t i = 0; i < si->dscap; i++) {
            if (!si->ds[i])
                continue;
            size_t j = si->ds[i]->h & (ncap - 1);
            while (nt[j])
                j = (j + 1) & (ncap - 1);
            nt[j] = si->ds[i];
        }
        free(si->ds);
        si->ds = nt;
        si->dscap = ncap;
    }
    struct dimset *x = malloc(sizeof *x);
    char *kc = malloc(kl);
    if (!x || !kc) {
        free(x);
        free(kc);
        return NULL;
    }
    memcpy(kc, key, kl);
    x->key = kc;
    x->klen = kl;
    x->h = h;
    memset(x->ovf, -1, sizeof x->ovf);
    size_t j = h & (si->dscap - 1);
    while (si->ds[j])
        j = (j + 1) & (si->dscap - 1);
    si->ds[j] = x;
    si->dsused++;
    return x;
}

/* Adds delta to metric{dims, xn=xv, yn=yv}, series number slot of the
 * event. Returns 0 or an error aborting the batch. */
static int add2(struct ev_ctx *c, int slot, const char *metric, const char *xn, const char *xv,
                const char *yn, const char *yv, double delta, int *ovf)
{
    if (c->late || c->future)
        return 0;
    int o = ovf ? *ovf : -1;
    uint64_t id;
    int rc;
    struct dimset *ds = c->ds;
    if (ds && ds->ovf[slot] >= 0 && (o < 0 || o == ds->ovf[slot])) {
        id = ds->id[slot];
        o = ds->ovf[slot];
    } else {
        rc = resolve(c->si, c->txn, metric, xn, xv, yn, yv, c->d, &o, &id);
        if (rc == R_SKIP)
            return 0;
        if (rc)
            return rc;
        if (ds) {
            ds->id[slot] = id;
            ds->ovf[slot] = (signed char)o;
        }
    }
    if (ovf)
        *ovf = o;
    if (o)
        c->folded = 1;
    rc = series_add(c->si->db, id, c->t_ms, delta, c->now_ms);
    if (rc == SERIES_ENOTFOUND) { /* removed by retention: intern again */
        cache_drop(c->si);
        c->ds = NULL;
        o = ovf ? *ovf : -1;
        if ((rc = resolve(c->si, c->txn, metric, xn, xv, yn, yv, c->d, &o, &id)) != 0)
            return rc == R_SKIP ? 0 : rc;
        rc = series_add(c->si->db, id, c->t_ms, delta, c->now_ms);
    }
    if (rc == SERIES_ELATE) {
        c->late = 1;
        return 0;
    }
    if (rc == SERIES_EFUTURE) {
        c->future = 1;
        return 0;
    }
    return rc;
}

static int add(struct ev_ctx *c, int slot, const char *metric, const char *xn, const char *xv,
               double delta, int *ovf)
{
    return add2(c, slot, metric, xn, xv, NULL, NULL, delta, ovf);
}

void series_ingest_duration_le(double seconds, char *out, size_t cap)
{
    pthread_once(&hists_once, hists_init);
    int i = 0;
    while (i < NBOUNDS && !(seconds <= sec_bounds[i]))
        i++;
    snprintf(out, cap, "%s", hists[H_DURATION].le[i]);
}

/* One observation of histogram h; which (0..3) numbers its slots. */
static int observe(struct ev_ctx *c, int which, const struct hist *h, double v, const char *xn,
                   const char *xv)
{
    int base = SLOT_HIST + which * (NBOUNDS + 3), ovf = -1, rc;
    if ((rc = add(c, base, h->count, xn, xv, 1, &ovf)) != 0)
        return rc;
    if ((rc = add(c, base + 1, h->sum, xn, xv, v, &ovf)) != 0)
        return rc;
    for (int i = 0; i <= NBOUNDS && rc == 0; i++) {
        double delta = i == NBOUNDS || v <= h->bounds[i] ? 1 : 0;
        rc = add2(c, base + 2 + i, h->bucket, xn, xv, "le", h->le[i], delta, &ovf);
    }
    return rc;
}

static const char *status_class(int32_t status, int has_error)
{
    if (status >= 500)
        return "5xx";
    if (status >= 400)
        return "4xx";
    if (has_error)
        return "error";
    return "2xx";
}

static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

int series_ingest_parse_labels(const char *list, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n)
            break;
        int i = 0;
        while (i < NDIMS && !(strlen(dim_names[i]) == n && strncmp(p, dim_names[i], n) == 0))
            i++;
        if (i == NDIMS) {
            snprintf(err, errlen,
                     "unknown label \"%.*s\" (service, env, provider, model, operation, "
                     "status_class, prompt_version)",
                     (int)(n > 64 ? 64 : n), p);
            return -1;
        }
        *mask |= 1u << i;
        p += n;
    }
    return 0;
}

void series_ingest_set_labels(struct series_ingest *si, unsigned mask)
{
    si->labels = mask & SERIES_INGEST_ALL_LABELS;
    cache_drop(si);
}

size_t series_ingest_dims(const char *service, const char *env, const char *provider,
                          const char *model, const char *operation, int32_t status, int has_error,
                          const char *prompt_version, unsigned mask, int fold,
                          struct series_label *out)
{
    const char *v[NDIMS] = {nz(service),       nz(env),       nz(provider),
                            nz(model),         nz(operation), status_class(status, has_error),
                            nz(prompt_version)};
    size_t n = 0;
    for (int i = 0; i < NDIMS; i++)
        if (v[i] && (mask & (1u << i)))
            out[n++] = (struct series_label){dim_names[i], fold ? SERIES_OVERFLOW : v[i]};
    return n;
}

int series_ingest_event(struct series_ingest *si, MDB_txn *txn, const struct store_event *e,
                        const struct series_event_extra *x, int64_t now_ms)
{
    struct dims d = {{nz(e->service), nz(x->env), nz(e->provider), nz(e->model), nz(e->operation),
                      status_class(e->status, x->has_error), nz(x->prompt_version)}};
    for (int i = 0; i < NDIMS; i++)
        if (!(si->labels & (1u << i)))
            d.v[i] = NULL;
    int64_t t_ms = e->time_us >= 0 ? e->time_us / 1000 : 0;
    struct ev_ctx c = {si, txn, t_ms, now_ms, &d, dimset_get(si, &d), 0, 0, 0};
    int rc = add(&c, SLOT_REQUESTS, "llm_requests_total", NULL, NULL, 1, NULL);
    const struct {
        const char *type;
        int64_t n;
    } tok[] = {{"input", e->input_tokens},
               {"output", e->output_tokens},
               {"cached_input", x->cached_input_tokens},
               {"cache_write", x->cache_write_tokens},
               {"reasoning", x->reasoning_tokens}};
    for (size_t i = 0; i < sizeof tok / sizeof tok[0] && rc == 0; i++)
        if (tok[i].n >= 0)
            rc = add(&c, SLOT_TOKENS + (int)i, "llm_tokens_total", "type", tok[i].type,
                     (double)tok[i].n, NULL);
    if (rc == 0 && isfinite(e->cost_usd) && e->cost_usd >= 0)
        rc = add(&c, SLOT_COST, "llm_cost_usd_total", NULL, NULL, e->cost_usd, NULL);
    if (rc == 0 && x->has_latency && isfinite(e->latency_ms) && e->latency_ms >= 0)
        rc = observe(&c, 0, &hists[H_DURATION], e->latency_ms / 1000, NULL, NULL);
    if (rc == 0 && isfinite(x->ttft_ms) && x->ttft_ms >= 0)
        rc = observe(&c, 1, &hists[H_TTFT], x->ttft_ms / 1000, NULL, NULL);
    if (rc == 0 && e->input_tokens >= 0)
        rc = observe(&c, 2, &hists[H_TOKENS], (double)e->input_tokens, "type", "input");
    if (rc == 0 && e->output_tokens >= 0)
        rc = observe(&c, 3, &hists[H_TOKENS], (double)e->output_tokens, "type", "output");
    if (c.late)
        metric_inc(si->late);
    if (c.future)
        metric_inc(si->future);
    if (c.folded)
        metric_inc(si->overflow);
    return rc;
}

int series_ingest_flush(struct series_ingest *si, MDB_txn *txn, int64_t now_ms)
{
    return series_flush(si->db, txn, now_ms);
}

int series_ingest_rollback(struct series_ingest *si)
{
    cache_drop(si);
    MDB_txn *txn;
    int rc = store_txn_read(si->st, &txn);
    if (rc)
        return rc;
    rc = series_reload(si->db, txn);
    store_txn_done(si->st, txn);
    return rc;
}

struct maint_ctx {
    struct series_ingest *si;
    int64_t now_ms;
    int more;
};

#define MAINT_WORK 500 /* units per transaction: keeps it short */

static int maint_fn(void *ud, MDB_txn *txn)
{
    struct maint_ctx *c = ud;
    int more1 = 0, more2 = 0;
    int rc = series_flush(c->si->db, txn, c->now_ms);
    if (rc == 0)
        rc = series_downsample(c->si->db, txn, c->now_ms, MAINT_WORK, &more1);
    if (rc == 0)
        rc = series_retention(c->si->db, txn, c->now_ms, MAINT_WORK, &more2);
    c->more = more1 || more2;
    return rc;
}

void series_ingest_maint(struct series_ingest *si, int64_t now_ms)
{
    if (now_ms < si->maint_next_ms)
        return;
    struct maint_ctx c = {si, now_ms, 0};
    int rc = store_write_txn(si->st, maint_fn, &c);
    if (rc) {
        metric_inc(si->maint_failures);
        series_ingest_rollback(si); /* its writes were aborted */
        si->maint_next_ms = now_ms + 10000;
        return;
    }
    si->maint_next_ms = now_ms + (c.more ? 1000 : 10000);
}
