/*
 * promapi.c — Prometheus HTTP API over the series store (see promapi.h).
 *
 * DESIGN
 * - Parameters come from the query string and, for POST with
 *   application/x-www-form-urlencoded, from the body (both, as Go's
 *   ParseForm merges them); repeated keys (match[]) are all kept. Unknown
 *   parameters are ignored.
 * - One read transaction per request: a query sees one committed state of
 *   the series. The PromQL source (promql_eval.h) selects ids with
 *   series_select (regex matchers through promql_matcher_matches), then
 *   reads labels and samples (SERIES_READ_FILL, so a counter looks as if
 *   scraped; downsampled data for steps of 5 minutes and more). Everything
 *   handed to the evaluator lives in a per-query list freed after the
 *   evaluation.
 */
#include "promapi.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <lmdb.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exemplars.h"
#include "metrics.h"
#include "promql_ast.h"
#include "promql_eval.h"
#include "promql_parse.h"
#include "qpool.h"
#include "series.h"
#include "selfseries.h"
#include "series_ingest.h"
#include "store.h"
#include "timeutil.h"

/* The block cache's figures for /metrics (series_cache_stats). */
static double cache_hits(void *ud)
{
    struct series_cache_stats cs;
    series_cache_stats(ud, &cs);
    return (double)cs.hits;
}

static double cache_misses(void *ud)
{
    struct series_cache_stats cs;
    series_cache_stats(ud, &cs);
    return (double)cs.misses;
}

static double cache_evictions(void *ud)
{
    struct series_cache_stats cs;
    series_cache_stats(ud, &cs);
    return (double)cs.evictions;
}

static double cache_bytes(void *ud)
{
    struct series_cache_stats cs;
    series_cache_stats(ud, &cs);
    return (double)cs.bytes;
}

void promapi_init(struct promapi *p, struct store *st, struct series_db *db, struct metrics *m)
{
    p->st = st;
    p->db = db;
    p->self = NULL;
    p->pool = NULL;
    int64_t res;
    p->ds_step_ms = 5 * 60 * 1000;
    if (db)
        series_grid(db, &res, &p->ds_step_ms);
    p->metrics = m;
    p->max_examined = 200000;
    p->labels = SERIES_INGEST_ALL_LABELS;
    struct promql_eval_opts eo;
    promql_eval_opts_init(&eo);
    p->timeout_ms = eo.timeout_ms;
    p->max_samples = eo.max_samples;
    p->queries = metrics_counter(m, "llmtap_promql_queries_total",
                                 "PromQL queries evaluated (/api/v1/query and query_range).", NULL);
    p->query_errors =
        metrics_counter(m, "llmtap_promql_query_errors_total", "PromQL queries that failed.", NULL);
    p->exemplar_queries =
        metrics_counter(m, "llmtap_exemplar_queries_total",
                        "Exemplar queries answered (/api/v1/query_exemplars).", NULL);
    p->exemplar_events =
        metrics_counter(m, "llmtap_exemplar_events_read_total",
                        "Events read to build exemplars (candidates of phase 2).", NULL);
    if (db) {
        metrics_counter_fn(
            m, "llmtap_query_block_cache_hits_total",
            "Sealed series blocks (or chunks of 8) read from the cache of decoded blocks.", NULL,
            cache_hits, db);
        metrics_counter_fn(
            m, "llmtap_query_block_cache_misses_total",
            "Sealed series blocks (or chunks of 8) decoded because the cache did not hold them.",
            NULL, cache_misses, db);
        metrics_counter_fn(
            m, "llmtap_query_block_cache_evictions_total",
            "Decoded blocks (or chunks) dropped from the cache to stay within its budget.", NULL,
            cache_evictions, db);
        metrics_gauge_fn(m, "llmtap_query_block_cache_bytes",
                         "Memory held by the cache of decoded blocks (query.block_cache is its "
                         "budget).",
                         NULL, cache_bytes, db);
    }
}

/* ---- parameters --------------------------------------------------------- */

struct param {
    char *k, *v;
};

struct params {
    struct param *p;
    size_t n, cap;
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *url_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *w++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
                   hexval((unsigned char)s[i + 2]) >= 0) {
            *w++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return o;
}

static int params_parse(struct params *ps, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=')
                eq++;
            if (ps->n == ps->cap) {
                size_t cap = ps->cap ? ps->cap * 2 : 8;
                struct param *np = realloc(ps->p, cap * sizeof *np);
                if (!np)
                    return -1;
                ps->p = np;
                ps->cap = cap;
            }
            char *k = url_decode(s + i, eq - i);
            char *v = eq < j ? url_decode(s + eq + 1, j - eq - 1) : url_decode("", 0);
            if (!k || !v) {
                free(k);
                free(v);
                return -1;
            }
            ps->p[ps->n++] = (struct param){k, v};
        }
        i = j + 1;
    }
    return 0;
}

static void params_free(struct params *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->p[i].k);
        free(ps->p[i].v);
    }
    free(ps->p);
}

/* The first value of key, or NULL. */
static const char *param(const struct params *ps, const char *key)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].k, key) == 0)
            return ps->p[i].v;
    return NULL;
}

/* ---- responses ---------------------------------------------------------- */

static void send_buf(struct httpd_resp *resp, int status, struct buf *b)
{
    if (b->oom) {
        buf_free(b);
        httpd_error(resp, 503, "out of memory");
        return;
    }
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = buf_steal(b, &resp->len);
}

static void api_error(struct httpd_resp *resp, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void api_error(struct httpd_resp *resp, int status, const char *type, const char *fmt, ...)
{
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf b = {0};
    buf_puts(&b, "{\"status\":\"error\",\"errorType\":");
    buf_json_str(&b, type);
    buf_puts(&b, ",\"error\":");
    buf_json_str(&b, msg);
    buf_puts(&b, "}");
    send_buf(resp, status, &b);
}

static void bad_data(struct httpd_resp *resp, const char *fmt, const char *a)
{
    api_error(resp, 400, "bad_data", fmt, a);
}

static void begin_ok(struct buf *b)
{
    buf_puts(b, "{\"status\":\"success\",\"data\":");
}

/* ---- time and durations ------------------------------------------------- */

/* "15s", "1m30s", "250ms", "2h", "1d", "1w", "1y", or float seconds. */
static int parse_duration_ms(const char *s, int64_t *ms)
{
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*s && end != s && !*end) {
        if (errno || !isfinite(v) || fabs(v) > 9.2e12)
            return -1;
        *ms = (int64_t)llround(v * 1000);
        return 0;
    }
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > INT64_MAX / 10 - 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        int64_t unit;
        if (p[0] == 'm' && p[1] == 's') {
            unit = 1;
            p += 2;
        } else {
            switch (*p) {
            case 's': unit = 1000; break;
            case 'm': unit = 60000; break;
            case 'h': unit = 3600000; break;
            case 'd': unit = 86400000; break;
            case 'w': unit = 7 * 86400000LL; break;
            case 'y': unit = 365 * 86400000LL; break;
            default: return -1;
            }
            p++;
        }
        if (n > INT64_MAX / unit || total > INT64_MAX - n * unit)
            return -1;
        total += n * unit;
    }
    *ms = total;
    return 0;
}

/* ---- the PromQL source over the series store ---------------------------- */

struct qctx {
    struct series_db *db;
    struct store *st;
    struct qpool *pool; /* helper threads for reading series; NULL: none */
    int64_t ds_step_ms; /* steps this long read downsampled data */
    struct selfseries *self;
    MDB_txn *txn;
    pthread_mutex_t mu; /* allocs, from helper threads too */
    void **allocs;      /* everything handed to the evaluator */
    size_t nallocs, capallocs;
};

/* Keeps p (from malloc) to be freed with the query; -1: no memory. */
static int qkeep(struct qctx *q, void *p)
{
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    if (q->nallocs == q->capallocs) {
        size_t cap = q->capallocs ? q->capallocs * 2 : 32;
        void **na = realloc(q->allocs, cap * sizeof *na);
        if (!na)
            rc = -1;
        else {
            q->allocs = na;
            q->capallocs = cap;
        }
    }
    if (rc == 0)
        q->allocs[q->nallocs++] = p;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static void *qalloc(struct qctx *q, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p && qkeep(q, p) != 0) {
        free(p);
        p = NULL;
    }
    return p;
}

/* series_sink.alloc: n promql_samples, freed with the query */
static void *qalloc_samples(void *ud, size_t n)
{
    struct qctx *q = ud;
    if (n > SIZE_MAX / sizeof(struct promql_sample))
        return NULL;
    return qalloc(q, n * sizeof(struct promql_sample));
}

/* series_sink.adopt: a malloc'd sample array, freed with the query */
static int qadopt(void *ud, void *mem)
{
    return qkeep(ud, mem);
}

static void qfree(struct qctx *q)
{
    for (size_t i = 0; i < q->nallocs; i++)
        free(q->allocs[i]);
    free(q->allocs);
    q->allocs = NULL;
    q->nallocs = q->capallocs = 0;
}

/* series_match_fn: the positive regex test of a PromQL matcher (ud is a
 * copy with op =~; the store negates for !~). */
static int re_match(void *ud, const char *value, size_t len)
{
    return promql_matcher_matches(ud, value, len);
}

/* Converts PromQL matchers; pos[] holds =~ copies of the regex matchers. */
static void conv_matchers(const struct promql_matcher *m, size_t n, struct series_matcher *out,
                          struct promql_matcher *pos)
{
    for (size_t i = 0; i < n; i++) {
        pos[i] = m[i];
        out[i] = (struct series_matcher){.name = m[i].name.p, .value = m[i].value.p};
        switch (m[i].op) {
        case PROMQL_MATCH_EQ: out[i].op = SERIES_MATCH_EQ; break;
        case PROMQL_MATCH_NE: out[i].op = SERIES_MATCH_NE; break;
        case PROMQL_MATCH_RE:
        case PROMQL_MATCH_NRE:
            out[i].op = m[i].op == PROMQL_MATCH_RE ? SERIES_MATCH_RE : SERIES_MATCH_NRE;
            pos[i].op = PROMQL_MATCH_RE;
            out[i].fn = re_match;
            out[i].ud = &pos[i];
            break;
        }
    }
}

/* ---- the collector's own series (selfseries.h) --------------------------- */

struct self_match {
    const struct promql_matcher *m;
    size_t n;
};

/* selfseries_match_fn: every matcher holds (an absent label is ""). */
static bool self_matches(void *ud, const struct series_label *l, size_t n)
{
    const struct self_match *sm = ud;
    for (size_t i = 0; i < sm->n; i++) {
        const char *v = "";
        for (size_t j = 0; j < n; j++)
            if (strcmp(sm->m[i].name.p, l[j].name) == 0) {
                v = l[j].value;
                break;
            }
        if (!promql_matcher_matches(&sm->m[i], v, strlen(v)))
            return false;
    }
    return true;
}

struct self_add {
    struct qctx *q;
    struct promql_series *v;
    size_t n, cap;
};

/* selfseries_each_fn for the evaluator: copies into the query's memory. */
static int self_add_series(void *ud, const struct series_label *l, size_t nl, const int64_t *t,
                           const double *v, size_t ns)
{
    struct self_add *a = ud;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct promql_series *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv)
            return ENOMEM;
        a->v = nv;
        a->cap = cap;
    }
    size_t bytes = nl * sizeof(struct promql_label);
    for (size_t j = 0; j < nl; j++)
        bytes += strlen(l[j].name) + strlen(l[j].value) + 2;
    struct promql_label *pl = qalloc(a->q, bytes);
    struct promql_sample *ps = qalloc(a->q, ns * sizeof *ps);
    if (!pl || !ps)
        return ENOMEM;
    char *w = (char *)(pl + nl);
    for (size_t j = 0; j < nl; j++) {
        size_t x = strlen(l[j].name), y = strlen(l[j].value);
        memcpy(w, l[j].name, x + 1);
        pl[j].name = (struct promql_str){w, x};
        w += x + 1;
        memcpy(w, l[j].value, y + 1);
        pl[j].value = (struct promql_str){w, y};
        w += y + 1;
    }
    for (size_t j = 0; j < ns; j++)
        ps[j] = (struct promql_sample){t[j], v[j]};
    a->v[a->n++] = (struct promql_series){pl, nl, ps, ns};
    return 0;
}

/* Appends the own series matching sel to the n series at *ser (an array
 * from qalloc), replacing *ser with a larger one when there are any. */
static int self_select(struct qctx *q, const struct promql_select *sel, struct promql_series **ser,
                       size_t *n)
{
    struct self_match sm = {sel->matchers, sel->nmatchers};
    struct self_add a = {.q = q};
    int rc = selfseries_select(q->self, sel->start_ms, sel->end_ms, self_matches, &sm,
                               self_add_series, &a);
    if (rc == 0 && a.n) {
        struct promql_series *all = qalloc(q, (*n + a.n) * sizeof *all);
        if (!all) {
            rc = ENOMEM;
        } else {
            if (*n)
                memcpy(all, *ser, *n * sizeof *all);
            memcpy(all + *n, a.v, a.n * sizeof *all);
            *ser = all;
            *n += a.n;
        }
    }
    free(a.v);
    return rc;
}

/* Reading a selector's series on the calling thread (worker 0, the
 * query's transaction) and idle pool threads, each in a read transaction
 * of its own at the same snapshot (a pool thread that cannot have one
 * takes no series). Results by index: the order stays the ids'. */
struct pread {
    struct qctx *q;
    const struct promql_select *sel;
    const uint64_t *ids;
    unsigned flags;
    struct series_sink sink;
    MDB_txn **txns; /* by worker */
    struct pread_out {
        void *p;
        size_t n;
        int rc;
        bool ascending;
        size_t nstale, nresets;
        int64_t grid;
        bool visited; /* the evaluator's visit took it; p is NULL */
    } * out;
    bool visit; /* the evaluator's prepare agreed: visit each series read */
};

/* With a visit, a series' samples are plain malloc'd memory until the
 * visit has seen them: freed at once when it took them (so the next read
 * on this thread reuses memory still in its cache), else kept with the
 * query. The read's own array (adopted) or the sink's (alloc), noted per
 * thread. */
static _Thread_local void *visit_mem;

static void *visit_alloc(void *ud, size_t n)
{
    (void)ud;
    visit_mem = n <= SIZE_MAX / sizeof(struct promql_sample)
                    ? malloc(n * sizeof(struct promql_sample))
                    : NULL;
    return visit_mem;
}

static int visit_adopt(void *ud, void *mem)
{
    (void)ud;
    visit_mem = mem;
    return 0;
}

static int pread_join(void *ud, unsigned w)
{
    struct pread *pr = ud;
    MDB_txn *t;
    if (store_txn_read_try(pr->q->st, &t) != 0)
        return -1;
    if (mdb_txn_id(t) != mdb_txn_id(pr->q->txn)) { /* a commit in between */
        store_txn_done(pr->q->st, t);
        return -1;
    }
    pr->txns[w] = t;
    return 0;
}

static void pread_leave(void *ud, unsigned w)
{
    struct pread *pr = ud;
    store_txn_done(pr->q->st, pr->txns[w]);
}

static void pread_one(void *ud, unsigned w, size_t i)
{
    struct pread *pr = ud;
    struct pread_out *o = &pr->out[i];
    struct series_read_facts f;
    static const struct series_sink vsink = {visit_alloc,
                                             NULL,
                                             sizeof(struct promql_sample),
                                             offsetof(struct promql_sample, t),
                                             offsetof(struct promql_sample, v),
                                             visit_adopt};
    visit_mem = NULL;
    o->rc = series_read_to(pr->q->db, pr->txns[w], pr->ids[i], pr->sel->start_ms, pr->sel->end_ms,
                           pr->flags, pr->visit ? &vsink : &pr->sink, &o->p, &o->n, &f);
    if (pr->visit && (o->rc || !o->n)) {
        free(visit_mem);
        o->p = NULL;
    }
    if (o->rc || !o->n)
        return;
    /* the evaluator's checks (promql_series.checked), as the read noted
     * them; staleness markers are NaNs, counted only when there are any */
    o->ascending = f.ascending;
    o->nresets = f.drops;
    o->grid = f.grid;
    o->nstale = 0;
    if (f.nans) {
        const struct promql_sample *p = o->p;
        for (size_t j = 0; j < o->n; j++)
            o->nstale += promql_is_stale_marker(p[j].v);
    }
    if (!pr->visit)
        return;
    const struct promql_facts pf = {o->ascending, o->nstale, o->nresets, false, i, o->grid};
    if (pr->sel->visit(pr->sel->visit_ud, i, o->p, o->n, &pf)) {
        free(visit_mem);
        o->p = NULL;
        o->visited = true;
    } else if (qkeep(pr->q, visit_mem) != 0) {
        free(visit_mem);
        o->p = NULL;
        o->rc = SERIES_ENOMEM;
    }
}

static int src_select(void *ud, struct promql_select *sel, const struct promql_series **out,
                      size_t *nout)
{
    struct qctx *q = ud;
    *out = NULL;
    *nout = 0;
    size_t nm = sel->nmatchers;
    struct series_matcher sm[nm ? nm : 1];
    struct promql_matcher pm[nm ? nm : 1];
    conv_matchers(sel->matchers, nm, sm, pm);
    uint64_t *ids = NULL;
    size_t nids = 0;
    int rc = series_select(q->db, q->txn, sm, nm, sel->start_ms, sel->end_ms, &ids, &nids);
    if (rc) {
        snprintf(sel->err, sizeof sel->err, "series: %s", series_strerror(rc));
        return -1;
    }
    struct promql_series *ser = nids ? qalloc(q, nids * sizeof *ser) : NULL;
    struct promql_facts *facts = nids ? qalloc(q, nids * sizeof *facts) : NULL;
    if (nids && (!ser || !facts)) {
        free(ids);
        snprintf(sel->err, sizeof sel->err, "out of memory");
        return -1;
    }
    unsigned flags =
        (sel->step_ms >= q->ds_step_ms ? SERIES_READ_DS : SERIES_READ_AUTO) | SERIES_READ_FILL;
    /* samples are decoded straight into the arrays handed to the evaluator,
     * series by series in parallel (pread_one) */
    struct pread pr = {.q = q,
                       .sel = sel,
                       .ids = ids,
                       .flags = flags,
                       .sink = {qalloc_samples, q, sizeof(struct promql_sample),
                                offsetof(struct promql_sample, t),
                                offsetof(struct promql_sample, v), qadopt}};
    unsigned nw = qpool_threads(q->pool) + 1;
    MDB_txn *txns[nw];
    txns[0] = q->txn;
    pr.txns = txns;
    if (nids && !(pr.out = calloc(nids, sizeof *pr.out))) {
        free(ids);
        snprintf(sel->err, sizeof sel->err, "out of memory");
        return -1;
    }
    pr.visit = sel->visit && sel->prepare && nids && sel->prepare(sel->visit_ud, nids);
    struct qpool_loop loop = {nids, pread_one, pread_join, pread_leave, &pr, sel->deadline_ns};
    if (qpool_for(nids > 1 ? q->pool : NULL, &loop)) { /* what was read goes with the query */
        free(pr.out);
        free(ids);
        sel->timed_out = true;
        snprintf(sel->err, sizeof sel->err, "query timed out");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nids && rc == 0; i++) {
        rc = pr.out[i].rc;
        if (rc == SERIES_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc || pr.out[i].n == 0)
            continue;
        struct series_label *sl = NULL;
        size_t nl = 0;
        rc = series_labels(q->db, q->txn, ids[i], &sl, &nl);
        if (rc == SERIES_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc)
            break;
        /* labels: one block holding the array and the strings */
        size_t bytes = nl * sizeof(struct promql_label);
        for (size_t j = 0; j < nl; j++)
            bytes += strlen(sl[j].name) + strlen(sl[j].value) + 2;
        struct promql_label *pl = qalloc(q, bytes);
        if (!pl) {
            free(sl);
            rc = SERIES_ENOMEM;
            break;
        }
        char *w = (char *)(pl + nl);
        for (size_t j = 0; j < nl; j++) {
            size_t a = strlen(sl[j].name), b = strlen(sl[j].value);
            memcpy(w, sl[j].name, a + 1);
            pl[j].name = (struct promql_str){w, a};
            w += a + 1;
            memcpy(w, sl[j].value, b + 1);
            pl[j].value = (struct promql_str){w, b};
            w += b + 1;
        }
        free(sl);
        const struct pread_out *o = &pr.out[i];
        facts[k] =
            (struct promql_facts){o->ascending, o->nstale, o->nresets, o->visited, i, o->grid};
        ser[k++] = (struct promql_series){pl, nl, o->p, o->n};
    }
    free(pr.out);
    free(ids);
    if (rc) {
        snprintf(sel->err, sizeof sel->err, "series: %s", series_strerror(rc));
        return -1;
    }
    size_t nstore = k;
    if (q->self && self_select(q, sel, &ser, &k) != 0) {
        snprintf(sel->err, sizeof sel->err, "own series: out of memory");
        return -1;
    }
    if (k > nstore) { /* own series appended: facts not known for them */
        struct promql_facts *f = qalloc(q, k * sizeof *f);
        if (!f) {
            snprintf(sel->err, sizeof sel->err, "out of memory");
            return -1;
        }
        if (nstore)
            memcpy(f, facts, nstore * sizeof *f);
        memset(f + nstore, 0, (k - nstore) * sizeof *f);
        facts = f;
    }
    sel->facts = facts;
    *out = ser;
    *nout = k;
    return 0;
}

/* ---- /api/v1/query and /api/v1/query_range ------------------------------ */

/* promql_eval_opts.canceled: the client hung up (the evaluation stops, as
 * Prometheus's does when its request context is canceled). */
static bool client_gone(void *ud)
{
    int fd = *(const int *)ud;
    if (fd < 0)
        return false;
    struct pollfd pf = {.fd = fd, .events = POLLRDHUP};
    return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int begin_read(struct promapi *p, struct httpd_resp *resp, MDB_txn **txn)
{
    if (!p->db) {
        api_error(resp, 503, "unavailable", "the time series store is not open");
        return -1;
    }
    int rc = store_txn_read(p->st, txn);
    if (rc) {
        api_error(resp, 500, "internal", "store: %s", store_strerror(rc));
        return -1;
    }
    return 0;
}

static void do_query(struct promapi *p, const struct params *ps, bool range, int fd,
                     struct httpd_resp *resp)
{
    const char *qs = param(ps, "query");
    if (!qs)
        qs = "";
    int64_t now = timeutil_now_us() / 1000, t = now, start = 0, end = 0, step = 0;
    struct promql_eval_opts eo;
    promql_eval_opts_init(&eo);
    eo.canceled = client_gone;
    eo.cancel_ud = &fd;
    eo.pool = p->pool;
    eo.timeout_ms = p->timeout_ms;
    eo.max_samples = p->max_samples;
    const char *v;
    if (range) {
        if (!(v = param(ps, "start")) || timeutil_parse_time(v, 1000, &start) != 0) {
            bad_data(resp, "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp",
                     v ? v : "");
            return;
        }
        if (!(v = param(ps, "end")) || timeutil_parse_time(v, 1000, &end) != 0) {
            bad_data(resp, "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp",
                     v ? v : "");
            return;
        }
        if (end < start) {
            bad_data(resp, "%s",
                     "invalid parameter \"end\": end timestamp must not be before start time");
            return;
        }
        if (!(v = param(ps, "step")) || parse_duration_ms(v, &step) != 0) {
            bad_data(resp, "invalid parameter \"step\": cannot parse \"%s\" to a valid duration",
                     v ? v : "");
            return;
        }
        if (step <= 0) {
            bad_data(resp, "%s",
                     "invalid parameter \"step\": zero or negative query resolution step "
                     "widths are not accepted. Try a positive integer");
            return;
        }
        if ((end - start) / step > 11000) {
            bad_data(resp, "%s",
                     "exceeded maximum resolution of 11,000 points per timeseries. Try "
                     "decreasing the query resolution (?step=XX)");
            return;
        }
    } else if ((v = param(ps, "time")) && *v && timeutil_parse_time(v, 1000, &t) != 0) {
        bad_data(resp, "invalid parameter \"time\": cannot parse \"%s\" to a valid timestamp", v);
        return;
    }
    if ((v = param(ps, "timeout")) && *v) {
        int64_t to;
        if (parse_duration_ms(v, &to) != 0) {
            bad_data(resp, "invalid parameter \"timeout\": cannot parse \"%s\" to a valid duration",
                     v);
            return;
        }
        if (to > 0 && (eo.timeout_ms == 0 || to < eo.timeout_ms))
            eo.timeout_ms = to;
    }
    struct promql_ast *ast = NULL;
    struct promql_error perr;
    int rc = promql_parse(qs, strlen(qs), 0, &ast, &perr);
    if (rc == PROMQL_EPARSE) {
        metric_inc(p->query_errors);
        bad_data(resp, "invalid parameter \"query\": %s", perr.msg);
        return;
    }
    if (rc) {
        api_error(resp, 500, "internal", "%s", promql_strerror(rc));
        return;
    }
    metric_inc(p->queries);
    MDB_txn *txn;
    if (begin_read(p, resp, &txn) != 0) {
        promql_ast_free(ast);
        return;
    }
    struct qctx q = {.db = p->db,
                     .st = p->st,
                     .pool = p->pool,
                     .ds_step_ms = p->ds_step_ms,
                     .self = p->self,
                     .txn = txn};
    pthread_mutex_init(&q.mu, NULL);
    struct promql_source src = {src_select, &q};
    struct promql_result *res = NULL;
    struct promql_eval_error ee;
    if (range)
        rc = promql_eval_range(ast, start, end, step, &src, &eo, &res, &ee);
    else
        rc = promql_eval_instant(ast, t, &src, &eo, &res, &ee);
    store_txn_done(p->st, txn);
    qfree(&q);
    pthread_mutex_destroy(&q.mu);
    promql_ast_free(ast);
    if (rc) {
        metric_inc(p->query_errors);
        enum promql_errtype et = rc == PROMQL_EEVAL ? ee.type : PROMQL_ERR_INTERNAL;
        api_error(resp, promql_errtype_http_status(et), promql_errtype_name(et), "%s",
                  rc == PROMQL_EEVAL ? ee.msg : promql_strerror(rc));
        return;
    }
    struct buf b = {0};
    /* Room for the whole answer up front: a day-long range query writes
     * megabytes, which growing by doubling would copy several times. About
     * 32 bytes a point ([1795453712.649,"0.0123"],) plus the labels. */
    size_t points = 0;
    for (size_t i = 0; i < res->nseries; i++)
        points += res->series[i].n;
    buf_reserve(&b, 256 + points * 32 + res->nseries * 256);
    begin_ok(&b);
    promql_result_json_pool(res, &b, p->pool);
    buf_puts(&b, "}");
    promql_result_free(res);
    send_buf(resp, 200, &b);
}

static void do_format(const struct params *ps, struct httpd_resp *resp)
{
    const char *qs = param(ps, "query");
    if (!qs)
        qs = "";
    struct promql_ast *ast = NULL;
    struct promql_error perr;
    int rc = promql_parse(qs, strlen(qs), 0, &ast, &perr);
    if (rc == PROMQL_EPARSE) {
        bad_data(resp, "invalid parameter \"query\": %s", perr.msg);
        return;
    }
    if (rc) {
        api_error(resp, 500, "internal", "%s", promql_strerror(rc));
        return;
    }
    struct buf text = {0}, b = {0};
    promql_print(promql_ast_root(ast), &text);
    promql_ast_free(ast);
    buf_append(&text, "", 1); /* NUL-terminated */
    begin_ok(&b);
    buf_json_str(&b, text.p && !text.oom ? text.p : "");
    buf_puts(&b, "}");
    buf_free(&text);
    send_buf(resp, 200, &b);
}

/* ---- exemplars ---------------------------------------------------------- */

static int time_range(const struct params *ps, int64_t *start, int64_t *end,
                      struct httpd_resp *resp);

static void do_exemplars(struct promapi *p, const struct params *ps, struct httpd_resp *resp)
{
    const char *qs = param(ps, "query");
    if (!qs)
        qs = "";
    int64_t start, end;
    if (time_range(ps, &start, &end, resp) != 0)
        return;
    if (end < start) {
        bad_data(resp, "%s", "end timestamp must not be before start time");
        return;
    }
    struct promql_ast *ast = NULL;
    struct promql_error perr;
    int rc = promql_parse(qs, strlen(qs), 0, &ast, &perr);
    if (rc == PROMQL_EPARSE) {
        bad_data(resp, "%s", perr.msg);
        return;
    }
    if (rc) {
        api_error(resp, 500, "internal", "%s", promql_strerror(rc));
        return;
    }
    /* Unbounded ends (Prometheus's defaults) are clamped to what the
     * store can hold, so the range's slices stay meaningful. */
    int64_t now = timeutil_now_us() / 1000;
    if (start < 0)
        start = 0;
    if (end > now + 86400000)
        end = now + 86400000;
    metric_inc(p->exemplar_queries);
    struct buf data = {0}, b = {0};
    struct exemplars_result er;
    rc = exemplars_query(p->st, p->db, promql_ast_root(ast), start, end, p->max_examined, p->labels,
                         &data, &er);
    promql_ast_free(ast);
    metric_add(p->exemplar_events, er.candidates);
    if (rc) {
        buf_free(&data);
        api_error(resp, rc == STORE_ENOMEM || rc == SERIES_ENOMEM ? 503 : 500, "internal",
                  "reading exemplars: %s",
                  rc <= SERIES_ENOTFOUND && rc >= SERIES_ERELOAD ? series_strerror(rc)
                                                                 : store_strerror(rc));
        return;
    }
    begin_ok(&b);
    if (data.len)
        buf_append(&b, data.p, data.len);
    else
        buf_puts(&b, "[]");
    b.oom |= data.oom;
    buf_free(&data);
    if (er.partial) {
        buf_puts(&b, ",\"warnings\":[");
        buf_json_str(&b, "exemplars: the range holds more events than one request examines "
                         "(api.max_examined) or more candidates than it reads; narrow the "
                         "range or the selectors for all of them");
        buf_puts(&b, "]");
    }
    buf_puts(&b, "}");
    send_buf(resp, 200, &b);
}

/* ---- series, labels, label values --------------------------------------- */

/* The selectors of every match[]; NULL + error sent when one is bad. */
struct sel_list {
    struct promql_ast **asts;
    size_t n;
};

static void sels_free(struct sel_list *s)
{
    for (size_t i = 0; i < s->n; i++)
        promql_ast_free(s->asts[i]);
    free(s->asts);
}

static int parse_matches(const struct params *ps, struct sel_list *out, struct httpd_resp *resp)
{
    out->asts = NULL;
    out->n = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < ps->n; i++)
        cnt += strcmp(ps->p[i].k, "match[]") == 0;
    if (!cnt)
        return 0;
    if (!(out->asts = calloc(cnt, sizeof *out->asts))) {
        api_error(resp, 500, "internal", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].k, "match[]") != 0)
            continue;
        struct promql_error perr;
        const char *v = ps->p[i].v;
        struct promql_ast *a = NULL;
        int rc = promql_parse(v, strlen(v), 0, &a, &perr);
        if (rc == PROMQL_EPARSE) {
            bad_data(resp, "invalid parameter \"match[]\": %s", perr.msg);
            sels_free(out);
            return -1;
        }
        if (rc) {
            api_error(resp, 500, "internal", "%s", promql_strerror(rc));
            sels_free(out);
            return -1;
        }
        out->asts[out->n++] = a;
        if (promql_ast_root(a)->kind != PROMQL_VECTOR_SELECTOR) {
            bad_data(resp, "invalid parameter \"match[]\": %s",
                     "1:1: parse error: expected type instant vector selector");
            sels_free(out);
            return -1;
        }
    }
    return 0;
}

/* Own series matching any match[] selector (all when there is none). */
struct self_any {
    struct self_match *m;
    size_t n;
};

static bool self_any_match(void *ud, const struct series_label *l, size_t n)
{
    const struct self_any *a = ud;
    if (a->n == 0)
        return true;
    for (size_t i = 0; i < a->n; i++)
        if (self_matches(&a->m[i], l, n))
            return true;
    return false;
}

/* Fills a's matchers from the selectors of sl (m has room for sl->n). */
static void self_any_init(struct self_any *a, struct self_match *m, const struct sel_list *sl)
{
    for (size_t i = 0; i < sl->n; i++) {
        const struct promql_vector_selector *vs = &promql_ast_root(sl->asts[i])->vs;
        m[i] = (struct self_match){vs->matchers, vs->nmatchers};
    }
    *a = (struct self_any){m, sl->n};
}

/* Label names (name NULL) or values of name, of own series: strdup'd. */
struct self_strs {
    const char *name;
    char **v;
    size_t n, cap;
};

static int self_push(struct self_strs *x, const char *str)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 32;
        char **nv = realloc(x->v, cap * sizeof *nv);
        if (!nv)
            return ENOMEM;
        x->v = nv;
        x->cap = cap;
    }
    if (!(x->v[x->n] = strdup(str)))
        return ENOMEM;
    x->n++;
    return 0;
}

static int self_collect(void *ud, const struct series_label *l, size_t nl, const int64_t *t,
                        const double *v, size_t ns)
{
    struct self_strs *x = ud;
    for (size_t j = 0; j < nl; j++) {
        int rc = 0;
        if (!x->name)
            rc = self_push(x, l[j].name);
        else if (strcmp(x->name, l[j].name) == 0)
            rc = self_push(x, l[j].value);
        if (rc)
            return rc;
    }
    return 0;
}

/* /api/v1/series: appends own series as label objects. */
struct self_emit {
    struct buf *b;
    size_t *nout, limit;
    bool *cut;
};

static int self_emit_series(void *ud, const struct series_label *l, size_t nl, const int64_t *t,
                            const double *v, size_t ns)
{
    struct self_emit *e = ud;
    if (*e->nout == e->limit) {
        *e->cut = true;
        return 1;
    }
    buf_puts(e->b, (*e->nout)++ ? ",{" : "{");
    for (size_t j = 0; j < nl; j++) {
        if (j)
            buf_puts(e->b, ",");
        buf_json_str(e->b, l[j].name);
        buf_puts(e->b, ":");
        buf_json_str(e->b, l[j].value);
    }
    buf_puts(e->b, "}");
    return 0;
}

static int time_range(const struct params *ps, int64_t *start, int64_t *end,
                      struct httpd_resp *resp)
{
    *start = INT64_MIN;
    *end = INT64_MAX;
    const char *v;
    if ((v = param(ps, "start")) && *v && timeutil_parse_time(v, 1000, start) != 0) {
        bad_data(resp, "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", v);
        return -1;
    }
    if ((v = param(ps, "end")) && *v && timeutil_parse_time(v, 1000, end) != 0) {
        bad_data(resp, "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", v);
        return -1;
    }
    return 0;
}

/* `limit` of series, labels and label values: empty or 0 = none. */
static int parse_limit(const struct params *ps, size_t *limit, struct httpd_resp *resp)
{
    *limit = SIZE_MAX;
    const char *v = param(ps, "limit");
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || errno || n < 0) {
        bad_data(resp, "invalid parameter \"limit\": cannot parse \"%s\" to a valid limit", v);
        return -1;
    }
    if (n > 0)
        *limit = (size_t)n;
    return 0;
}

static const char truncated[] = ",\"warnings\":[\"results truncated due to limit\"]";

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void do_series(struct promapi *p, const struct params *ps, struct httpd_resp *resp)
{
    struct sel_list sl;
    int64_t start, end;
    size_t limit;
    if (time_range(ps, &start, &end, resp) != 0 || parse_limit(ps, &limit, resp) != 0 ||
        parse_matches(ps, &sl, resp) != 0)
        return;
    if (sl.n == 0) {
        bad_data(resp, "%s", "no match[] parameter provided");
        return;
    }
    MDB_txn *txn;
    if (begin_read(p, resp, &txn) != 0) {
        sels_free(&sl);
        return;
    }
    uint64_t *all = NULL;
    size_t nall = 0;
    int rc = 0;
    for (size_t i = 0; i < sl.n && rc == 0; i++) {
        const struct promql_vector_selector *vs = &promql_ast_root(sl.asts[i])->vs;
        size_t nm = vs->nmatchers;
        struct series_matcher sm[nm ? nm : 1];
        struct promql_matcher pm[nm ? nm : 1];
        conv_matchers(vs->matchers, nm, sm, pm);
        uint64_t *ids = NULL;
        size_t n = 0;
        if ((rc = series_select(p->db, txn, sm, nm, start, end, &ids, &n)) != 0)
            break;
        uint64_t *na = n ? realloc(all, (nall + n) * sizeof *na) : all;
        if (n && !na) {
            free(ids);
            rc = SERIES_ENOMEM;
            break;
        }
        all = na;
        if (n)
            memcpy(all + nall, ids, n * sizeof *ids);
        nall += n;
        free(ids);
    }
    struct buf b = {0};
    begin_ok(&b);
    buf_puts(&b, "[");
    size_t nout = 0;
    bool cut = false;
    if (rc == 0 && nall) {
        qsort(all, nall, sizeof *all, cmp_u64);
        size_t w = 0;
        for (size_t i = 0; i < nall; i++)
            if (i == 0 || all[i] != all[i - 1])
                all[w++] = all[i];
        nall = w;
        for (size_t i = 0; i < nall && rc == 0; i++) {
            struct series_label *l = NULL;
            size_t nl = 0;
            rc = series_labels(p->db, txn, all[i], &l, &nl);
            if (rc == SERIES_ENOTFOUND) {
                rc = 0;
                continue;
            }
            if (rc)
                break;
            if (nout == limit) {
                free(l);
                cut = true;
                break;
            }
            buf_puts(&b, nout++ ? ",{" : "{");
            for (size_t j = 0; j < nl; j++) {
                if (j)
                    buf_puts(&b, ",");
                buf_json_str(&b, l[j].name);
                buf_puts(&b, ":");
                buf_json_str(&b, l[j].value);
            }
            buf_puts(&b, "}");
            free(l);
        }
    }
    store_txn_done(p->st, txn);
    free(all);
    if (rc == 0 && !cut && p->self) {
        struct self_match sm[sl.n];
        struct self_any any;
        self_any_init(&any, sm, &sl);
        struct self_emit e = {&b, &nout, limit, &cut};
        selfseries_select(p->self, start, end, self_any_match, &any, self_emit_series, &e);
    }
    sels_free(&sl);
    if (rc) {
        buf_free(&b);
        api_error(resp, 500, "internal", "series: %s", series_strerror(rc));
        return;
    }
    buf_puts(&b, "]");
    if (cut)
        buf_puts(&b, truncated);
    buf_puts(&b, "}");
    send_buf(resp, 200, &b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* label names (name == NULL) or values of name. */
static void do_labels(struct promapi *p, const struct params *ps, const char *name,
                      struct httpd_resp *resp)
{
    struct sel_list sl;
    int64_t start, end;
    size_t limit;
    if (time_range(ps, &start, &end, resp) != 0 || parse_limit(ps, &limit, resp) != 0 ||
        parse_matches(ps, &sl, resp) != 0)
        return;
    MDB_txn *txn;
    if (begin_read(p, resp, &txn) != 0) {
        sels_free(&sl);
        return;
    }
    char ***lists = calloc(sl.n ? sl.n : 1, sizeof *lists);
    size_t *counts = calloc(sl.n ? sl.n : 1, sizeof *counts);
    size_t nl = sl.n ? sl.n : 1, total = 0;
    int rc = lists && counts ? 0 : SERIES_ENOMEM;
    for (size_t i = 0; i < nl && rc == 0; i++) {
        const struct promql_vector_selector *vs = sl.n ? &promql_ast_root(sl.asts[i])->vs : NULL;
        size_t nm = vs ? vs->nmatchers : 0;
        struct series_matcher sm[nm ? nm : 1];
        struct promql_matcher pm[nm ? nm : 1];
        if (vs)
            conv_matchers(vs->matchers, nm, sm, pm);
        rc = name ? series_label_values(p->db, txn, name, sm, nm, start, end, &lists[i], &counts[i])
                  : series_label_names(p->db, txn, sm, nm, start, end, &lists[i], &counts[i]);
        total += counts[i];
    }
    store_txn_done(p->st, txn);
    struct self_strs own = {.name = name};
    if (rc == 0 && p->self) {
        struct self_match sm[sl.n ? sl.n : 1];
        struct self_any any;
        self_any_init(&any, sm, &sl);
        if (selfseries_select(p->self, start, end, self_any_match, &any, self_collect, &own))
            rc = SERIES_ENOMEM;
        total += own.n;
    }
    sels_free(&sl);
    struct buf b = {0};
    if (rc == 0) {
        char **all = malloc((total ? total : 1) * sizeof *all);
        if (!all) {
            rc = SERIES_ENOMEM;
        } else {
            size_t k = 0;
            for (size_t i = 0; i < nl; i++)
                for (size_t j = 0; j < counts[i]; j++)
                    all[k++] = lists[i][j];
            for (size_t i = 0; i < own.n; i++)
                all[k++] = own.v[i];
            qsort(all, k, sizeof *all, cmp_str);
            begin_ok(&b);
            buf_puts(&b, "[");
            size_t out = 0;
            bool cut = false;
            for (size_t i = 0; i < k; i++) {
                if (i && strcmp(all[i], all[i - 1]) == 0)
                    continue;
                if (out == limit) {
                    cut = true;
                    break;
                }
                if (out++)
                    buf_puts(&b, ",");
                buf_json_str(&b, all[i]);
            }
            buf_puts(&b, "]");
            if (cut)
                buf_puts(&b, truncated);
            buf_puts(&b, "}");
            free(all);
        }
    }
    for (size_t i = 0; lists && i < nl; i++)
        free(lists[i]);
    for (size_t i = 0; i < own.n; i++)
        free(own.v[i]);
    free(own.v);
    free(lists);
    free(counts);
    if (rc) {
        buf_free(&b);
        api_error(resp, 500, "internal", "series: %s", series_strerror(rc));
        return;
    }
    send_buf(resp, 200, &b);
}

static void do_metadata(struct promapi *p, const struct params *ps, struct httpd_resp *resp)
{
    const char *metric = param(ps, "metric");
    struct buf b = {0};
    begin_ok(&b);
    buf_puts(&b, "{");
    size_t n = 0;
    for (const struct series_metric_meta *m = series_ingest_metrics; m->name; m++) {
        if (metric && *metric && strcmp(metric, m->name) != 0)
            continue;
        if (n++)
            buf_puts(&b, ",");
        buf_json_str(&b, m->name);
        buf_puts(&b, ":[{\"type\":");
        buf_json_str(&b, m->type);
        buf_puts(&b, ",\"help\":");
        buf_json_str(&b, m->help);
        buf_puts(&b, ",\"unit\":");
        buf_json_str(&b, m->unit);
        buf_puts(&b, "}]");
    }
    /* The collector's own metrics, when they are kept as series. */
    size_t nm = p->self ? metrics_count(p->metrics) : 0;
    for (size_t i = 0; i < nm; i++) {
        struct metric *mt = metrics_at(p->metrics, i);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(metrics_at(p->metrics, j)->name, mt->name) == 0;
        if (seen || (metric && *metric && strcmp(metric, mt->name) != 0))
            continue;
        if (n++)
            buf_puts(&b, ",");
        buf_json_str(&b, mt->name);
        buf_puts(&b, ":[{\"type\":");
        buf_json_str(&b, mt->type == METRIC_COUNTER ? "counter" : "gauge");
        buf_puts(&b, ",\"help\":");
        buf_json_str(&b, mt->help);
        buf_puts(&b, ",\"unit\":\"\"}]");
    }
    buf_puts(&b, "}}");
    send_buf(resp, 200, &b);
}

static void do_buildinfo(struct httpd_resp *resp)
{
    struct buf b = {0};
    begin_ok(&b);
    buf_puts(&b, "{\"version\":");
    buf_json_str(&b, LLMTAP_VERSION);
    buf_puts(&b, ",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
                 "\"goVersion\":\"\"}}");
    send_buf(resp, 200, &b);
}

/* ---- dispatch ------------------------------------------------------------ */

static bool is_form(const struct httpd_req *req)
{
    const char *ct = httpd_header(req, "Content-Type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

bool promapi_handle(struct promapi *p, const struct httpd_req *req, struct httpd_resp *resp)
{
    static const char pre[] = "/api/v1/";
    const char *path = req->path;
    if (strncmp(path, pre, sizeof pre - 1) != 0)
        return false;
    const char *r = path + sizeof pre - 1;
    enum { Q, QR, SER, LBL, LVAL, META, BUILD, FMT, EXEMPLARS } ep;
    bool post_ok = true;
    const char *lname = NULL;
    size_t lname_len = 0;
    if (strcmp(r, "query") == 0)
        ep = Q;
    else if (strcmp(r, "query_range") == 0)
        ep = QR;
    else if (strcmp(r, "series") == 0)
        ep = SER;
    else if (strcmp(r, "labels") == 0)
        ep = LBL;
    else if (strcmp(r, "format_query") == 0)
        ep = FMT;
    else if (strcmp(r, "query_exemplars") == 0)
        ep = EXEMPLARS;
    else if (strcmp(r, "metadata") == 0)
        ep = META, post_ok = false;
    else if (strcmp(r, "status/buildinfo") == 0)
        ep = BUILD, post_ok = false;
    else if (strncmp(r, "label/", 6) == 0 && strlen(r) > 6 + 7 &&
             strcmp(r + strlen(r) - 7, "/values") == 0) {
        ep = LVAL, post_ok = false;
        lname = r + 6;
        lname_len = strlen(lname) - 7;
    } else
        return false;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    if (!get && !(post && post_ok)) {
        api_error(resp, 405, "bad_data", "method %s not allowed here", req->method);
        return true;
    }
    struct params ps = {0};
    const char *qm = strchr(req->uri ? req->uri : "", '?');
    int rc = qm ? params_parse(&ps, qm + 1, strlen(qm + 1)) : 0;
    if (rc == 0 && post && req->body && is_form(req))
        rc = params_parse(&ps, req->body, req->body_len);
    if (rc != 0) {
        params_free(&ps);
        api_error(resp, 500, "internal", "out of memory");
        return true;
    }
    if (post && req->body_too_large) {
        params_free(&ps);
        api_error(resp, 413, "bad_data", "request body too large");
        return true;
    }
    switch (ep) {
    case Q: do_query(p, &ps, false, httpd_client_fd(req), resp); break;
    case QR: do_query(p, &ps, true, httpd_client_fd(req), resp); break;
    case SER: do_series(p, &ps, resp); break;
    case LBL: do_labels(p, &ps, NULL, resp); break;
    case LVAL: {
        char *name = url_decode(lname, lname_len);
        if (!name)
            api_error(resp, 500, "internal", "out of memory");
        else
            do_labels(p, &ps, name, resp);
        free(name);
        break;
    }
    case META: do_metadata(p, &ps, resp); break;
    case BUILD: do_buildinfo(resp); break;
    case FMT: do_format(&ps, resp); break;
    case EXEMPLARS: do_exemplars(p, &ps, resp); break;
    }
    params_free(&ps);
    return true;
}
