/*
 * export.c — the stored time series as OpenMetrics text (see export.h) and
 * the `llmtap-collector export` subcommand around it.
 *
 * DESIGN
 * - Families. The metric names come from series_metric_counts (sorted).
 *   series_ingest_metrics maps a name to its family: a counter NAME_total
 *   is the counter family NAME; F_bucket, F_count and F_sum are the
 *   histogram family F; any other name is an `unknown` family of its own.
 *   Families are written in the order of their first name.
 * - Selection. Without --match every series is written; with selectors,
 *   the ids each one selects (series_select, regexes decided by
 *   promql_matcher_matches) are collected once, sorted, and each family's
 *   ids are kept when they are among them. Series without samples in the
 *   range are left out by series_select's time bounds.
 * - Metrics. A family's series are listed in one read transaction (ids,
 *   labels, first and last sample time) and sorted by their labels without
 *   __name__ (and without le in a histogram), which groups them into
 *   OpenMetrics Metrics; inside a histogram Metric, buckets by ascending le,
 *   then _count, then _sum. A histogram family with a Metric that lacks its
 *   +Inf bucket, _count or _sum (a --match that took part of it, a bucket
 *   without a numeric le) is not a valid OpenMetrics histogram: each of its
 *   names is written as an `unknown` family instead, with the same samples.
 * - Streaming. A Metric is read in time chunks (export_opts.chunk_ms, 6 h):
 *   one read transaction reads every member series' samples in the chunk
 *   (SERIES_READ_AUTO: base resolution where kept, 5-minute points before),
 *   then the members are merged by timestamp, so a histogram's buckets,
 *   count and sum at one time are written together, as OpenMetrics wants a
 *   MetricPoint. Memory: the listing of one family and one chunk of one
 *   Metric; every read transaction is one listing or one chunk, so a long
 *   export never pins old pages of a live store. Successive chunks may see
 *   successive committed states; data older than the late window no longer
 *   changes, except that retention may remove it from the front.
 * - Text. Lines are built in a scratch buffer and written with one fwrite;
 *   the sample's prefix (name and escaped labels) is formatted once per
 *   series; integer values and whole-second timestamps take a fast path.
 *   Names OpenMetrics cannot carry (not [a-zA-Z_:][a-zA-Z0-9_:]*) and label
 *   values that are not valid UTF-8 (Prometheus refuses them) are skipped
 *   and counted, with a warning.
 */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "promql_ast.h"
#include "promql_parse.h"
#include "series.h"
#include "series_ingest.h"
#include "store.h"
#include "store_series.h"
#include "timeutil.h"
#include "utf8.h"

#define DEFAULT_CHUNK_MS (6 * 3600 * 1000LL)
/* A downsampled point may lie up to one 5-minute step outside the times
 * series_info reports (the point at the end of the step holding the last
 * change; a baseline point one step before the first): the range read
 * around a Metric is widened by this much (well above the collector's
 * 5-minute grid). */
#define EDGE_MARGIN_MS (3600 * 1000LL)
#define WARN_MAX       10 /* skipped series named on the warning stream */

/* ---- formatting ---------------------------------------------------------- */

static size_t fmt_i64(int64_t v, char *out)
{
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = 0;
    return k;
}

/* The shortest %.*g text (from min_prec digits) that reads back as v. */
static size_t fmt_shortest(double v, int min_prec, char *out)
{
    int n = 0;
    for (int prec = min_prec; prec <= 17; prec++) {
        n = snprintf(out, EXPORT_NUM_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

size_t export_format_value(double v, char out[EXPORT_NUM_MAX])
{
    const char *s = NULL;
    if (isnan(v))
        s = "NaN";
    else if (isinf(v))
        s = v > 0 ? "+Inf" : "-Inf";
    else if (v == 0 && signbit(v))
        s = "-0";
    if (s) {
        size_t n = strlen(s);
        memcpy(out, s, n + 1);
        return n;
    }
    if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) /* 2^53 */
        return fmt_i64((int64_t)v, out);
    return fmt_shortest(v, 15, out);
}

size_t export_format_timestamp(int64_t ms, char out[EXPORT_NUM_MAX])
{
    if (ms % 1000 == 0)
        return fmt_i64(ms / 1000, out);
    /* Prometheus reads seconds as a float64 and takes int64(ts * 1000),
     * which truncates: step the double away from zero until that gives ms
     * back (one or two ulps at most), then print it exactly. */
    double d = (double)ms / 1000.0;
    for (int i = 0; i < 64 && (int64_t)(d * 1000.0) != ms; i++)
        d = nextafter(d, ms > 0 ? INFINITY : -INFINITY);
    return fmt_shortest(d, 1, out);
}

size_t export_escape(const char *s, size_t len, char *dst)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\\' || ch == '"') {
            dst[k++] = '\\';
            dst[k++] = ch;
        } else if (ch == '\n') {
            dst[k++] = '\\';
            dst[k++] = 'n';
        } else {
            dst[k++] = ch;
        }
    }
    return k;
}

int export_name_ok(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
                 (p > name && ch >= '0' && ch <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static int utf8_ok(const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

/* ---- families ------------------------------------------------------------ */

enum ftype { FT_COUNTER, FT_HISTOGRAM, FT_UNKNOWN };
static const char *const ftype_name[] = {"counter", "histogram", "unknown"};

enum kind { K_BUCKET, K_COUNT, K_SUM, K_PLAIN }; /* also the order inside a Metric */

struct family {
    char name[128];
    enum ftype type;
    const struct series_metric_meta *meta; /* HELP and UNIT; NULL for none */
    const char *names[3];                  /* the metric names of its samples */
    enum kind kinds[3];
    size_t nnames;
};

struct member {
    uint64_t id;
    enum kind kind;
    double le;
    char *key; /* labels without __name__ (and le in a histogram): name\0value\0... */
    size_t klen;
    char *prefix; /* `name{label="value",...}` */
    size_t plen;
    int64_t first_ms, last_ms;
    struct series_sample *s;
    size_t n, i;
    int wrote;
};

struct ctx {
    struct store *st;
    struct series_db *db;
    const struct export_opts *o;
    FILE *out;
    struct export_stats stats;
    const uint64_t *sel; /* sorted ids the selectors matched; unused when !have_sel */
    size_t nsel;
    int have_sel;
    const struct family *pending; /* family whose header is not written yet */
    char *line;
    size_t linecap;
    char *err;
    size_t errlen;
};

static const char *suffix_of(const char *name, const char *base)
{
    size_t n = strlen(base);
    return strncmp(name, base, n) == 0 ? name + n : NULL;
}

/* The family a metric name belongs to: its type, name and kind. */
static void classify(const char *name, struct family *f, enum kind *kind)
{
    memset(f, 0, sizeof *f);
    for (const struct series_metric_meta *m = series_ingest_metrics; m->name; m++) {
        const char *sfx = suffix_of(name, m->name);
        if (!sfx)
            continue;
        size_t bl = strlen(m->name);
        if (strcmp(m->type, "counter") == 0 && !*sfx && bl > 6 &&
            strcmp(m->name + bl - 6, "_total") == 0 && bl - 6 < sizeof f->name) {
            f->type = FT_COUNTER;
            f->meta = m;
            memcpy(f->name, m->name, bl - 6);
            *kind = K_PLAIN;
            return;
        }
        if (strcmp(m->type, "histogram") == 0 && bl < sizeof f->name) {
            enum kind k = strcmp(sfx, "_bucket") == 0  ? K_BUCKET
                          : strcmp(sfx, "_count") == 0 ? K_COUNT
                          : strcmp(sfx, "_sum") == 0   ? K_SUM
                                                       : K_PLAIN;
            if (k == K_PLAIN)
                continue;
            f->type = FT_HISTOGRAM;
            f->meta = m;
            memcpy(f->name, m->name, bl + 1);
            *kind = k;
            return;
        }
    }
    f->type = FT_UNKNOWN;
    snprintf(f->name, sizeof f->name, "%s", name);
    *kind = K_PLAIN;
}

/* ---- output -------------------------------------------------------------- */

static char *line_room(struct ctx *c, size_t n)
{
    if (n > c->linecap) {
        size_t cap = c->linecap ? c->linecap : 1024;
        while (cap < n)
            cap *= 2;
        char *p = realloc(c->line, cap);
        if (!p)
            return NULL;
        c->line = p;
        c->linecap = cap;
    }
    return c->line;
}

static int put(struct ctx *c, const char *s, size_t n)
{
    return fwrite(s, 1, n, c->out) == n ? 0 : EIO;
}

static int write_header(struct ctx *c, const struct family *f)
{
    char *w = line_room(c, 3 * sizeof f->name + 64);
    if (!w)
        return SERIES_ENOMEM;
    int n = snprintf(w, c->linecap, "# TYPE %s %s\n", f->name, ftype_name[f->type]);
    int rc = put(c, w, (size_t)n);
    const char *unit = f->meta ? f->meta->unit : "";
    size_t ul = strlen(unit), nl = strlen(f->name);
    if (rc == 0 && ul && nl > ul + 1 && f->name[nl - ul - 1] == '_' &&
        strcmp(f->name + nl - ul, unit) == 0) {
        n = snprintf(w, c->linecap, "# UNIT %s %s\n", f->name, unit);
        rc = put(c, w, (size_t)n);
    }
    if (rc == 0 && f->meta && f->meta->help && *f->meta->help) {
        size_t hl = strlen(f->meta->help);
        if (!(w = line_room(c, nl + 2 * hl + 16)))
            return SERIES_ENOMEM;
        n = snprintf(w, c->linecap, "# HELP %s ", f->name);
        size_t k = (size_t)n + export_escape(f->meta->help, hl, w + n);
        w[k++] = '\n';
        rc = put(c, w, k);
    }
    c->stats.families++;
    return rc;
}

/* Writes one line: prefix, value, timestamp (ts already formatted). */
static int write_sample(struct ctx *c, const struct member *m, double v, const char *ts, size_t tl)
{
    if (c->pending) {
        int rc = write_header(c, c->pending);
        c->pending = NULL;
        if (rc)
            return rc;
    }
    char *w = line_room(c, m->plen + tl + EXPORT_NUM_MAX + 4);
    if (!w)
        return SERIES_ENOMEM;
    memcpy(w, m->prefix, m->plen);
    size_t k = m->plen;
    w[k++] = ' ';
    k += export_format_value(v, w + k);
    w[k++] = ' ';
    memcpy(w + k, ts, tl);
    k += tl;
    w[k++] = '\n';
    c->stats.samples++;
    return put(c, w, k);
}

/* ---- listing a family ---------------------------------------------------- */

static void members_free(struct member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].prefix);
        free(m[i].s);
    }
    free(m);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int keycmp(const struct member *a, const struct member *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int r = memcmp(a->key, b->key, n);
    return r ? r : (a->klen > b->klen) - (a->klen < b->klen);
}

static int cmp_member(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int r = keycmp(a, b);
    if (r)
        return r;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return (a->le > b->le) - (a->le < b->le);
}

static void warn_skip(struct ctx *c, uint64_t id, const char *name, const char *why)
{
    if (c->o->warn && c->stats.skipped < WARN_MAX)
        fprintf(c->o->warn, "export: series %llu (%s) left out: %s\n", (unsigned long long)id, name,
                why);
    c->stats.skipped++;
}

/* Builds the member of series id (labels l[0..nl), sorted by name) of
 * family f; returns 0, 1 when the series is skipped, or an error. */
static int member_make(struct ctx *c, const struct family *f, enum kind kind, uint64_t id,
                       const struct series_label *l, size_t nl, struct member *m)
{
    const char *name = NULL;
    size_t plen = 0, klen = 0;
    memset(m, 0, sizeof *m);
    m->id = id;
    m->kind = kind;
    for (size_t i = 0; i < nl; i++) {
        if (strcmp(l[i].name, "__name__") == 0) {
            name = l[i].value;
            continue;
        }
        if (!utf8_ok(l[i].value)) {
            warn_skip(c, id, l[i].name, "a label value is not valid UTF-8");
            return 1;
        }
        size_t a = strlen(l[i].name), b = strlen(l[i].value);
        plen += a + 2 * b + 4;
        klen += a + b + 2;
    }
    if (!name || !export_name_ok(name)) {
        warn_skip(c, id, name ? name : "?", "not an OpenMetrics metric name");
        return 1;
    }
    plen += strlen(name) + 2;
    if (!(m->prefix = malloc(plen + 1)) || !(m->key = malloc(klen + 1)))
        return SERIES_ENOMEM;
    size_t p = strlen(name), k = 0, nlab = 0;
    memcpy(m->prefix, name, p);
    int have_le = 0;
    for (size_t i = 0; i < nl; i++) {
        if (strcmp(l[i].name, "__name__") == 0)
            continue;
        size_t a = strlen(l[i].name), b = strlen(l[i].value);
        m->prefix[p++] = nlab++ ? ',' : '{';
        memcpy(m->prefix + p, l[i].name, a);
        p += a;
        m->prefix[p++] = '=';
        m->prefix[p++] = '"';
        p += export_escape(l[i].value, b, m->prefix + p);
        m->prefix[p++] = '"';
        if (f->type == FT_HISTOGRAM && strcmp(l[i].name, "le") == 0) {
            char *end;
            m->le = strtod(l[i].value, &end);
            have_le = *l[i].value && !*end && !isnan(m->le);
            continue;
        }
        memcpy(m->key + k, l[i].name, a + 1);
        k += a + 1;
        memcpy(m->key + k, l[i].value, b + 1);
        k += b + 1;
    }
    if (nlab)
        m->prefix[p++] = '}';
    m->prefix[p] = 0;
    m->plen = p;
    m->klen = k;
    if (kind == K_BUCKET && !have_le)
        m->le = NAN; /* makes the family incomplete */
    return 0;
}

static int selected(const struct ctx *c, uint64_t id)
{
    return !c->have_sel || (c->nsel && bsearch(&id, c->sel, c->nsel, sizeof id, cmp_u64) != NULL);
}

/* Lists the series of family f with samples possibly in the range. */
static int list_family(struct ctx *c, const struct family *f, struct member **out, size_t *nout)
{
    struct member *ms = NULL;
    size_t n = 0, cap = 0;
    MDB_txn *txn;
    int rc = store_txn_read(c->st, &txn);
    if (rc)
        return rc;
    for (size_t j = 0; j < f->nnames && rc == 0; j++) {
        struct series_matcher sm = {
            .op = SERIES_MATCH_EQ, .name = "__name__", .value = f->names[j]};
        uint64_t *ids = NULL;
        size_t nids = 0;
        if ((rc = series_select(c->db, txn, &sm, 1, c->o->start_ms, c->o->end_ms, &ids, &nids)) !=
            0)
            break;
        for (size_t i = 0; i < nids && rc == 0; i++) {
            if (!selected(c, ids[i]))
                continue;
            struct series_label *l = NULL;
            size_t nl = 0;
            struct series_info inf;
            rc = series_labels(c->db, txn, ids[i], &l, &nl);
            if (rc == 0)
                rc = series_info(c->db, txn, ids[i], &inf);
            if (rc == SERIES_ENOTFOUND) { /* removed meanwhile */
                free(l);
                rc = 0;
                continue;
            }
            if (rc == 0 && n == cap) {
                size_t ncap = cap ? 2 * cap : 64;
                struct member *nm = realloc(ms, ncap * sizeof *nm);
                if (!nm)
                    rc = SERIES_ENOMEM;
                else
                    ms = nm, cap = ncap;
            }
            if (rc == 0) {
                rc = member_make(c, f, f->kinds[j], ids[i], l, nl, &ms[n]);
                if (rc == 0) {
                    ms[n].first_ms = inf.first_ms;
                    ms[n].last_ms = inf.last_ms;
                    n++;
                } else {
                    free(ms[n].key);
                    free(ms[n].prefix);
                    rc = rc == 1 ? 0 : rc; /* 1: skipped */
                }
            }
            free(l);
        }
        free(ids);
    }
    store_txn_done(c->st, txn);
    if (rc) {
        members_free(ms, n);
        return rc;
    }
    if (n)
        qsort(ms, n, sizeof *ms, cmp_member);
    *out = ms;
    *nout = n;
    return 0;
}

/* Every Metric of a histogram family has buckets with distinct numeric le,
 * +Inf among them, one _count and one _sum. */
static int histogram_complete(const struct member *m, size_t n)
{
    for (size_t g = 0; g < n;) {
        size_t e = g, buckets = 0, count = 0, sum = 0;
        int inf = 0;
        for (; e < n && keycmp(&m[g], &m[e]) == 0; e++) {
            if (m[e].kind == K_BUCKET) {
                if (isnan(m[e].le) || (buckets && m[e].le == m[e - 1].le))
                    return 0;
                buckets++;
                inf |= isinf(m[e].le) && m[e].le > 0;
            }
            count += m[e].kind == K_COUNT;
            sum += m[e].kind == K_SUM;
        }
        if (!buckets || !inf || count != 1 || sum != 1)
            return 0;
        g = e;
    }
    return 1;
}

/* ---- writing a Metric ------------------------------------------------------ */

static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Reads the chunk [a, b] of every member in one read transaction. */
static int read_chunk(struct ctx *c, struct member *m, size_t n, int64_t a, int64_t b)
{
    MDB_txn *txn;
    int rc = store_txn_read(c->st, &txn);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        free(m[i].s);
        m[i].s = NULL;
        m[i].n = m[i].i = 0;
        rc = series_read(c->db, txn, m[i].id, a, b, SERIES_READ_AUTO, &m[i].s, &m[i].n);
        if (rc == SERIES_ENOTFOUND) /* removed by retention meanwhile */
            rc = 0;
    }
    store_txn_done(c->st, txn);
    return rc;
}

/* Merges the members' samples by time: at each time, the members that have
 * a sample then, in member order. */
static int merge_chunk(struct ctx *c, struct member *m, size_t n)
{
    for (;;) {
        int64_t t = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (m[i].i < m[i].n && m[i].s[m[i].i].t_ms < t)
                t = m[i].s[m[i].i].t_ms;
        if (t == INT64_MAX)
            return 0;
        char ts[EXPORT_NUM_MAX];
        size_t tl = export_format_timestamp(t, ts);
        for (size_t i = 0; i < n; i++) {
            if (m[i].i >= m[i].n || m[i].s[m[i].i].t_ms != t)
                continue;
            int rc = write_sample(c, &m[i], m[i].s[m[i].i].v, ts, tl);
            if (rc)
                return rc;
            m[i].i++;
            if (!m[i].wrote) {
                m[i].wrote = 1;
                c->stats.series++;
            }
        }
    }
}

static int write_metric(struct ctx *c, struct member *m, size_t n)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (m[i].first_ms == INT64_MIN)
            continue;
        lo = m[i].first_ms < lo ? m[i].first_ms : lo;
        hi = m[i].last_ms > hi ? m[i].last_ms : hi;
    }
    if (lo > hi)
        return 0;
    lo = add_sat(lo, -EDGE_MARGIN_MS);
    hi = add_sat(hi, EDGE_MARGIN_MS);
    lo = lo < c->o->start_ms ? c->o->start_ms : lo;
    hi = hi > c->o->end_ms ? c->o->end_ms : hi;
    int64_t chunk = c->o->chunk_ms > 0 ? c->o->chunk_ms : DEFAULT_CHUNK_MS;
    for (int64_t a = lo; a <= hi;) {
        int64_t b = hi - a >= chunk ? a + chunk - 1 : hi;
        int rc = read_chunk(c, m, n, a, b);
        if (rc == 0)
            rc = merge_chunk(c, m, n);
        for (size_t i = 0; i < n; i++) {
            free(m[i].s);
            m[i].s = NULL;
            m[i].n = m[i].i = 0;
        }
        if (rc)
            return rc;
        if (ferror(c->out))
            return EIO;
        if (b == hi)
            break;
        a = b + 1;
    }
    return 0;
}

static int write_family(struct ctx *c, const struct family *f)
{
    struct member *m = NULL;
    size_t n = 0;
    int rc = list_family(c, f, &m, &n);
    if (rc)
        return rc;
    if (f->type == FT_HISTOGRAM && n && !histogram_complete(m, n)) {
        members_free(m, n);
        for (size_t j = 0; j < f->nnames && rc == 0; j++) { /* each name on its own */
            struct family u = {.type = FT_UNKNOWN, .meta = f->meta, .nnames = 1};
            snprintf(u.name, sizeof u.name, "%s", f->names[j]);
            u.names[0] = f->names[j];
            u.kinds[0] = K_PLAIN;
            rc = write_family(c, &u);
        }
        return rc;
    }
    c->pending = f; /* the header goes out with the first sample */
    for (size_t g = 0; g < n && rc == 0;) {
        size_t e = g + 1;
        while (e < n && keycmp(&m[g], &m[e]) == 0)
            e++;
        if (f->type != FT_HISTOGRAM) /* a counter or unknown Metric is one series */
            e = g + 1;
        rc = write_metric(c, m + g, e - g);
        g = e;
    }
    c->pending = NULL;
    members_free(m, n);
    return rc;
}

/* ---- selection ------------------------------------------------------------- */

/* series_match_fn over a PromQL matcher (ud: a copy with op =~). */
static int re_match(void *ud, const char *value, size_t len)
{
    return promql_matcher_matches(ud, value, len);
}

/* Collects the sorted, distinct ids the selectors match in the range. */
static int select_ids(struct ctx *c, MDB_txn *txn, struct promql_ast *const *asts, size_t na,
                      uint64_t **out, size_t *nout)
{
    uint64_t *all = NULL;
    size_t nall = 0;
    int rc = 0;
    for (size_t i = 0; i < na && rc == 0; i++) {
        const struct promql_vector_selector *vs = &promql_ast_root(asts[i])->vs;
        size_t nm = vs->nmatchers;
        struct series_matcher sm[nm ? nm : 1];
        struct promql_matcher pos[nm ? nm : 1];
        for (size_t j = 0; j < nm; j++) {
            const struct promql_matcher *pm = &vs->matchers[j];
            pos[j] = *pm;
            sm[j] = (struct series_matcher){.name = pm->name.p, .value = pm->value.p};
            switch (pm->op) {
            case PROMQL_MATCH_EQ: sm[j].op = SERIES_MATCH_EQ; break;
            case PROMQL_MATCH_NE: sm[j].op = SERIES_MATCH_NE; break;
            case PROMQL_MATCH_RE:
            case PROMQL_MATCH_NRE:
                sm[j].op = pm->op == PROMQL_MATCH_RE ? SERIES_MATCH_RE : SERIES_MATCH_NRE;
                pos[j].op = PROMQL_MATCH_RE; /* the store negates !~ itself */
                sm[j].fn = re_match;
                sm[j].ud = &pos[j];
                break;
            }
        }
        uint64_t *ids = NULL;
        size_t n = 0;
        if ((rc = series_select(c->db, txn, sm, nm, c->o->start_ms, c->o->end_ms, &ids, &n)) != 0)
            break;
        if (n) {
            uint64_t *na2 = realloc(all, (nall + n) * sizeof *na2);
            if (!na2) {
                free(ids);
                rc = SERIES_ENOMEM;
                break;
            }
            all = na2;
            memcpy(all + nall, ids, n * sizeof *ids);
            nall += n;
        }
        free(ids);
    }
    if (rc) {
        free(all);
        return rc;
    }
    if (nall)
        qsort(all, nall, sizeof *all, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < nall; i++)
        if (i == 0 || all[i] != all[i - 1])
            all[w++] = all[i];
    *out = all;
    *nout = w;
    return 0;
}

static int parse_selectors(const struct export_opts *o, struct promql_ast **asts, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < o->nmatch; i++) {
        struct promql_error perr;
        const char *s = o->match[i];
        int rc = promql_parse(s, strlen(s), 0, &asts[i], &perr);
        if (rc == PROMQL_EPARSE) {
            snprintf(err, errlen, "--match %s: %s", s, perr.msg);
            return -1;
        }
        if (rc) {
            snprintf(err, errlen, "--match %s: %s", s, promql_strerror(rc));
            return rc == PROMQL_ENOMEM ? SERIES_ENOMEM : -1;
        }
        if (promql_ast_root(asts[i])->kind != PROMQL_VECTOR_SELECTOR) {
            snprintf(err, errlen, "--match %s: not a series selector (metric{label=\"value\"})", s);
            return -1;
        }
    }
    return 0;
}

/* ---- the export ------------------------------------------------------------ */

int export_openmetrics(struct store *st, struct series_db *db, const struct export_opts *o,
                       FILE *out, struct export_stats *stats, char *err, size_t errlen)
{
    struct ctx c = {.st = st, .db = db, .o = o, .out = out, .err = err, .errlen = errlen};
    struct promql_ast **asts = NULL;
    struct series_metric_count *names = NULL;
    struct family *fams = NULL;
    uint64_t *sel = NULL;
    size_t nnames = 0, nfams = 0;
    MDB_txn *txn = NULL;
    int rc = 0;

    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!st || !db || !o || !out || o->start_ms > o->end_ms || (o->nmatch && !o->match)) {
        snprintf(err, errlen, "invalid arguments");
        return SERIES_EINVAL;
    }
    if (o->nmatch) {
        if (!(asts = calloc(o->nmatch, sizeof *asts))) {
            rc = SERIES_ENOMEM;
            goto fail;
        }
        if ((rc = parse_selectors(o, asts, err, errlen)) != 0)
            goto out;
    }
    /* the names and the selection, from one snapshot */
    if ((rc = store_txn_read(st, &txn)) != 0)
        goto fail;
    rc = series_metric_counts(db, txn, &names, &nnames);
    if (rc == 0 && o->nmatch) {
        rc = select_ids(&c, txn, asts, o->nmatch, &sel, &c.nsel);
        c.sel = sel;
        c.have_sel = 1;
    }
    store_txn_done(st, txn);
    if (rc)
        goto fail;
    if (nnames && !(fams = calloc(nnames, sizeof *fams))) {
        rc = SERIES_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nnames; i++) {
        struct family f;
        enum kind kind;
        classify(names[i].name, &f, &kind);
        size_t j = 0;
        if (f.type == FT_HISTOGRAM)
            while (j < nfams && !(fams[j].type == FT_HISTOGRAM && fams[j].meta == f.meta))
                j++;
        else
            j = nfams;
        if (j == nfams)
            fams[nfams++] = f;
        fams[j].names[fams[j].nnames] = names[i].name;
        fams[j].kinds[fams[j].nnames++] = kind;
    }
    for (size_t i = 0; i < nfams && rc == 0; i++)
        rc = write_family(&c, &fams[i]);
    if (rc == 0)
        rc = put(&c, "# EOF\n", 6);
    if (rc == 0 && ferror(out))
        rc = EIO;
    if (rc)
        goto fail;
    goto out;
fail:
    if (rc == EIO)
        snprintf(err, errlen, "writing the output failed: %s", strerror(errno ? errno : EIO));
    else if (rc > 0 || rc < -1)
        snprintf(err, errlen, "reading the series failed: %s", series_strerror(rc));
out:
    for (size_t i = 0; asts && i < o->nmatch; i++)
        promql_ast_free(asts[i]);
    free(asts);
    free(names);
    free(fams);
    free(sel);
    free(c.line);
    if (stats)
        *stats = c.stats;
    return rc;
}

/* ---- the subcommand -------------------------------------------------------- */

const struct config_setting export_settings[] = {
    {"format", NULL, CONFIG_STRING, NULL, 0, 0, "output format: openmetrics (required)"},
    {"start", NULL, CONFIG_STRING, NULL, 0, 0,
     "first sample time, RFC 3339 or Unix seconds (required)"},
    {"end", NULL, CONFIG_STRING, NULL, 0, 0,
     "last sample time, RFC 3339 or Unix seconds (required)"},
    {"output", NULL, CONFIG_STRING, NULL, 0, 0, "file to write (default: standard output)"},
};
_Static_assert(sizeof export_settings / sizeof export_settings[0] == EXPORT_NSETTINGS,
               "EXPORT_NSETTINGS");

const char export_help[] =
    "usage: llmtap-collector export --format openmetrics --start TIME --end TIME\n"
    "                               [--match SELECTOR]... [--output FILE]\n"
    "                               [--data-dir DIR] [--config FILE]\n"
    "\n"
    "Writes the time series stored in data_dir (--data-dir, default ./llmtap-data)\n"
    "with samples from --start to --end (both included) as OpenMetrics text, for\n"
    "`promtool tsdb create-blocks-from openmetrics FILE DIR`. The stored samples\n"
    "are written (10-second points where kept, 5-minute points before), each with\n"
    "its timestamp; counters as counter families, histograms as histogram\n"
    "families. Safe while a collector runs on the store: it reads in short\n"
    "read transactions. The daemon's settings are all accepted (so --config FILE\n"
    "finds data_dir). See docs/collector.md, \"export\".\n"
    "\n"
    "  --format openmetrics  the output format (the only one)\n"
    "  --start TIME          RFC 3339 (2026-11-23T10:00:00Z) or Unix seconds\n"
    "  --end TIME            likewise\n"
    "  --match SELECTOR      only the series a PromQL selector matches, e.g.\n"
    "                        'llm_requests_total{service=\"checkout\"}'; repeatable\n"
    "                        (the union); default: every series\n"
    "  --output FILE         write to FILE (removed again on failure); default stdout\n"
    "  --data-dir DIR        the store to read\n"
    "  --config FILE         the collector's configuration file\n"
    "\n"
    "A summary line goes to stderr:\n"
    "  export: families=F series=N samples=M skipped=K in T s\n"
    "Exit status: 0 written, 1 failed, 2 usage error (including no store in data_dir).\n";

int export_take_matches(int *argc, char **argv, const char ***match, size_t *nmatch)
{
    *match = NULL;
    *nmatch = 0;
    const char **m = calloc((size_t)*argc + 1, sizeof *m);
    if (!m) {
        fprintf(stderr, "llmtap-collector export: out of memory\n");
        return -1;
    }
    int w = 0;
    size_t n = 0;
    for (int i = 0; i < *argc; i++) {
        if (i > 0 && strcmp(argv[i], "--match") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "llmtap-collector export: --match needs a selector\n");
                free(m);
                return -1;
            }
            m[n++] = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--match=", 8) == 0) {
            m[n++] = argv[i] + 8;
        } else {
            argv[w++] = argv[i];
        }
    }
    argv[w] = NULL;
    *argc = w;
    *match = m;
    *nmatch = n;
    return 0;
}

int export_run(const struct config *cfg, const char *const *match, size_t nmatch,
               int (*open_store)(const char *cmd, const char *dir, struct store **st))
{
    const char *fmt = config_str(cfg, "format"), *ts = config_str(cfg, "start"),
               *te = config_str(cfg, "end"), *path = config_str(cfg, "output");
    struct export_opts o = {.match = match, .nmatch = nmatch, .warn = stderr};
    if (!fmt || strcmp(fmt, "openmetrics") != 0) {
        fprintf(stderr, "llmtap-collector export: %s%s%s\n\n%s",
                fmt ? "unknown --format \"" : "--format openmetrics is required", fmt ? fmt : "",
                fmt ? "\" (the only format is openmetrics)" : "", export_help);
        return 2;
    }
    if (timeutil_parse_time(ts, 1000, &o.start_ms) != 0 ||
        timeutil_parse_time(te, 1000, &o.end_ms) != 0) {
        fprintf(stderr,
                "llmtap-collector export: --start and --end are required, as RFC 3339 "
                "(2026-11-23T10:00:00Z) or Unix seconds (got \"%s\", \"%s\")\n",
                ts ? ts : "", te ? te : "");
        return 2;
    }
    if (o.start_ms > o.end_ms) {
        fprintf(stderr, "llmtap-collector export: --end is before --start\n");
        return 2;
    }
    int to_file = path && *path && strcmp(path, "-") != 0;
    struct store *st = NULL;
    struct series_db *db = NULL;
    FILE *out = NULL;
    char err[1400] = "";
    struct export_stats s;
    int64_t t0 = timeutil_mono_us();
    int exit_code = open_store("export", config_str(cfg, "data_dir"), &st);
    if (exit_code)
        goto done;
    exit_code = 1;
    int rc = store_series_open(st, NULL, &db);
    if (rc) {
        fprintf(stderr, "llmtap-collector export: %s\n",
                rc == SERIES_ENOTFOUND ? "the store holds no time series" : series_strerror(rc));
        goto done;
    }
    if (!(out = to_file ? fopen(path, "w") : stdout)) {
        fprintf(stderr, "llmtap-collector export: %s: %s\n", path, strerror(errno));
        goto done;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20);
    rc = export_openmetrics(st, db, &o, out, &s, err, sizeof err);
    if (rc == 0 && fflush(out) != 0) {
        rc = EIO;
        snprintf(err, sizeof err, "writing the output failed: %s", strerror(errno));
    }
    if (to_file) {
        if (rc == 0 && (fsync(fileno(out)) != 0 || fclose(out) != 0)) {
            rc = EIO;
            snprintf(err, sizeof err, "writing %s failed: %s", path, strerror(errno));
        } else if (rc) {
            fclose(out);
        }
        if (rc)
            unlink(path);
    }
    if (rc) {
        fprintf(stderr, "llmtap-collector export: %s\n", err);
        exit_code = rc == -1 ? 2 : 1;
        goto done;
    }
    if (s.skipped > WARN_MAX)
        fprintf(stderr, "export: ... %llu more series left out\n",
                (unsigned long long)(s.skipped - WARN_MAX));
    fprintf(stderr, "export: families=%llu series=%llu samples=%llu skipped=%llu in %.1f s\n",
            (unsigned long long)s.families, (unsigned long long)s.series,
            (unsigned long long)s.samples, (unsigned long long)s.skipped,
            (double)(timeutil_mono_us() - t0) / 1e6);
    exit_code = 0;
done:
    series_close(db);
    store_close(st);
    return exit_code;
}
