/*
 * test_series.c — unit tests for storage/series.c (time series store),
 * storage/sblock.c (block codec) and the modules series.c is split into.
 *
 * Each test gets its own LMDB environment in a fresh mkdtemp() directory,
 * removed after. Random tests print their seed; set LLMTAP_TEST_SEED to
 * replay a run. test_bytes_per_sample prints the size figures quoted in
 * docs/storage.md (24 h of 10 s data for ~100 series from a simulated
 * event stream).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "sblock.h"
#include "series.h"

static uint64_t g_seed;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return n ? rng_next(s) % n : 0;
}

/* A day boundary and a 12 h boundary: 2027-01-15T04:00:00Z. */
static const int64_t T0 = 1800014400000;
#define SEC  1000
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    char dir[64];
    MDB_env *env;
    struct series_db *s;
    struct series_opts o;
    size_t map;
};

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int env_open(struct fx *f)
{
    int rc;
    if ((rc = mdb_env_create(&f->env)) || (rc = mdb_env_set_maxdbs(f->env, 16)) ||
        (rc = mdb_env_set_mapsize(f->env, f->map ? f->map : (size_t)1 << 30)) ||
        (rc = mdb_env_open(f->env, f->dir, MDB_NOTLS | MDB_NOSYNC, 0640)))
        return rc;
    return 0;
}

static MDB_txn *wtxn(struct fx *f)
{
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &t), 0);
    return t;
}

static MDB_txn *rtxn(struct fx *f)
{
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->env, NULL, MDB_RDONLY, &t), 0);
    return t;
}

static void commit(MDB_txn *t)
{
    assert_int_equal(mdb_txn_commit(t), 0);
}

static int fx_open_rc(struct fx *f)
{
    int rc = env_open(f);
    if (rc)
        return rc;
    MDB_txn *t = wtxn(f);
    rc = series_open(t, &f->o, &f->s);
    if (rc) {
        mdb_txn_abort(t);
        return rc;
    }
    commit(t);
    return 0;
}

static void fx_open(struct fx *f)
{
    int rc = fx_open_rc(f);
    if (rc)
        fail_msg("open: %s", series_strerror(rc));
}

static void fx_close(struct fx *f)
{
    series_close(f->s);
    f->s = NULL;
    if (f->env)
        mdb_env_close(f->env);
    f->env = NULL;
}

static void fx_reopen(struct fx *f)
{
    fx_close(f);
    fx_open(f);
}

static struct fx *fx_new(const struct series_opts *o)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/llmtap-series-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (o)
        f->o = *o;
    return f;
}

static int setup(void **state)
{
    struct fx *f = fx_new(NULL);
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define L(n, v) ((struct series_label){n, v})

static uint64_t intern(struct fx *f, const struct series_label *l, size_t n)
{
    uint64_t id = 0;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_id(f->s, t, l, n, &id), 0);
    assert_int_equal(series_flush(f->s, t, T0), 0);
    commit(t);
    return id;
}

static void flush_commit(struct fx *f, int64_t now)
{
    MDB_txn *t = wtxn(f);
    int rc = series_flush(f->s, t, now);
    if (rc)
        fail_msg("flush: %s", series_strerror(rc));
    commit(t);
}

static size_t readv(struct fx *f, uint64_t id, int64_t a, int64_t b, unsigned flags,
                    struct series_sample **out)
{
    size_t n = 0;
    MDB_txn *t = rtxn(f);
    int rc = series_read(f->s, t, id, a, b, flags, out, &n);
    mdb_txn_abort(t);
    if (rc)
        fail_msg("read: %s", series_strerror(rc));
    return n;
}

static void expect_samples(const struct series_sample *got, size_t n, const int64_t *t,
                           const double *v, size_t m)
{
    if (n != m) {
        for (size_t i = 0; i < n; i++)
            print_message("  got[%zu] = (%lld, %g)\n", i, (long long)got[i].t_ms, got[i].v);
        fail_msg("%zu samples, expected %zu", n, m);
    }
    for (size_t i = 0; i < n; i++) {
        if (got[i].t_ms != t[i] || got[i].v != v[i])
            fail_msg("sample %zu: (%lld, %.17g), expected (%lld, %.17g)", i, (long long)got[i].t_ms,
                     got[i].v, (long long)t[i], v[i]);
    }
}

/* ---- codec -------------------------------------------------------------- */

static void codec_roundtrip(uint64_t *rs, int kind, uint32_t maxu)
{
    struct sblock_enc e = {0}, e2 = {0};
    uint32_t us[2000];
    double vs[2000];
    size_t n = 1 + rng_below(rs, 1500);
    uint32_t u = (uint32_t)rng_below(rs, 3);
    double v = kind == 2 ? 1e15 : 0;
    size_t k = 0;
    for (size_t i = 0; i < n && u <= maxu; i++) {
        us[k] = u;
        switch (kind) {
        case 0: v += (double)rng_below(rs, 3); break;       /* small integer deltas */
        case 1: v += (double)rng_below(rs, 50000); break;   /* tokens */
        case 2: v -= (double)rng_below(rs, 1000000); break; /* negative, large */
        case 3: v += rng_unit(rs) * 0.01; break;            /* dollars */
        case 4: v = (i == 700) ? 0.5 : v + 1; break;        /* INT then FLOAT */
        default: {
            static const double odd[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 1e308, 5e-324, -1.5};
            v = odd[rng_below(rs, 8)];
        }
        }
        vs[k++] = v;
        assert_int_equal(sblock_enc_append(&e, u, v), 0);
        u += 1 + (uint32_t)(rng_below(rs, 4) ? 0 : rng_below(rs, 300));
    }
    assert_int_equal(sblock_enc_append(&e, us[k - 1], 1), SBLOCK_EINVAL);
    size_t sz = sblock_enc_size(&e);
    uint8_t *buf = malloc(sz);
    assert_non_null(buf);
    sblock_enc_write(&e, buf);
    struct sblock_dec d;
    assert_int_equal(sblock_dec_init(&d, buf, sz, maxu), 0);
    uint32_t cnt;
    assert_int_equal(sblock_count(buf, sz, &cnt), 0);
    assert_int_equal(cnt, k);
    for (size_t i = 0; i < k; i++) {
        uint32_t gu;
        double gv;
        assert_int_equal(sblock_dec_next(&d, &gu, &gv), 1);
        assert_int_equal(gu, us[i]);
        assert_memory_equal(&gv, &vs[i], sizeof gv); /* bit for bit (NaN, -0.0) */
    }
    uint32_t gu;
    double gv;
    assert_int_equal(sblock_dec_next(&d, &gu, &gv), 0);
    /* A loaded encoder continues the block exactly as the original. */
    assert_int_equal(sblock_enc_load(&e2, buf, sz, maxu), 0);
    assert_int_equal(sblock_enc_size(&e2), sz);
    if (us[k - 1] < maxu) {
        assert_int_equal(sblock_enc_append(&e, us[k - 1] + 1, vs[k - 1] + 3), 0);
        assert_int_equal(sblock_enc_append(&e2, us[k - 1] + 1, vs[k - 1] + 3), 0);
        size_t s1 = sblock_enc_size(&e), s2 = sblock_enc_size(&e2);
        assert_int_equal(s1, s2);
        uint8_t *b1 = malloc(s1), *b2 = malloc(s2);
        sblock_enc_write(&e, b1);
        sblock_enc_write(&e2, b2);
        assert_memory_equal(b1, b2, s1);
        free(b1);
        free(b2);
    }
    /* Every truncation and many bit flips decode to an error or to
     * something, never past the buffer (ASan watches). */
    for (size_t cut = 0; cut < sz; cut += 1 + sz / 64) {
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, buf, cut);
        if (sblock_dec_init(&d, t, cut, maxu) == 0)
            while (sblock_dec_next(&d, &gu, &gv) == 1)
                ;
        free(t);
    }
    for (int i = 0; i < 64; i++) {
        size_t at = rng_below(rs, sz);
        buf[at] ^= (uint8_t)(1u << rng_below(rs, 8));
        if (sblock_dec_init(&d, buf, sz, maxu) == 0)
            while (sblock_dec_next(&d, &gu, &gv) == 1)
                assert_true(gu <= maxu);
    }
    free(buf);
    sblock_enc_free(&e);
    sblock_enc_free(&e2);
}

static void test_codec(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 0xC0DEC;
    for (int kind = 0; kind < 6; kind++)
        for (int rep = 0; rep < 20; rep++)
            codec_roundtrip(&rs, kind, rep % 2 ? 180 : SBLOCK_U_MAX);
    /* A dense unchanged run costs 2 bits a sample. */
    struct sblock_enc e = {0};
    for (uint32_t u = 1; u <= 1000; u++)
        assert_int_equal(sblock_enc_append(&e, u, 42), 0);
    assert_true(sblock_enc_size(&e) <= 8 + 1000 * 2 / 8);
    assert_int_equal(sblock_enc_append(&e, SBLOCK_U_MAX + 1, 1), SBLOCK_EINVAL);
    sblock_enc_free(&e);
    struct sblock_dec d;
    uint8_t junk[] = {9, 1, 0};
    assert_int_equal(sblock_dec_init(&d, junk, sizeof junk, 10), SBLOCK_ECORRUPT);
}

/* ---- interning ---------------------------------------------------------- */

static void test_intern(void **state)
{
    struct fx *f = *state;
    struct series_label a[] = {L("__name__", "llm_requests_total"), L("service", "search"),
                               L("model", "gpt-4o")};
    struct series_label a2[] = {L("model", "gpt-4o"), L("__name__", "llm_requests_total"),
                                L("service", "search")};
    struct series_label b[] = {L("__name__", "llm_requests_total"), L("service", "search"),
                               L("model", "gpt-4o-mini")};
    uint64_t ia = intern(f, a, 3), ia2 = intern(f, a2, 3), ib = intern(f, b, 3);
    assert_int_equal(ia, 1);
    assert_int_equal(ia2, ia);
    assert_int_equal(ib, 2);
    fx_reopen(f);
    assert_int_equal(intern(f, a2, 3), ia);
    assert_int_equal(intern(f, b, 3), ib);
    struct series_label c[] = {L("__name__", "x"), L("le", "0.5")};
    assert_int_equal(intern(f, c, 2), 3);

    MDB_txn *t = rtxn(f);
    uint64_t id;
    assert_int_equal(series_lookup(f->s, t, b, 3, &id), 0);
    assert_int_equal(id, ib);
    struct series_label nope[] = {L("__name__", "x"), L("le", "1")};
    assert_int_equal(series_lookup(f->s, t, nope, 2, &id), SERIES_ENOTFOUND);
    struct series_label *lab;
    size_t n;
    assert_int_equal(series_labels(f->s, t, ia, &lab, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(lab[0].name, "__name__");
    assert_string_equal(lab[0].value, "llm_requests_total");
    assert_string_equal(lab[1].name, "model");
    assert_string_equal(lab[2].name, "service");
    assert_string_equal(lab[2].value, "search");
    free(lab);
    assert_int_equal(series_labels(f->s, t, 99, &lab, &n), SERIES_ENOTFOUND);
    uint64_t cnt;
    assert_int_equal(series_count(f->s, t, "llm_requests_total", &cnt), 0);
    assert_int_equal(cnt, 2);
    assert_int_equal(series_count(f->s, t, "nothing", &cnt), 0);
    assert_int_equal(cnt, 0);
    struct series_metric_count *mc;
    assert_int_equal(series_metric_counts(f->s, t, &mc, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(mc[0].name, "llm_requests_total");
    assert_int_equal(mc[0].series, 2);
    assert_string_equal(mc[1].name, "x");
    assert_int_equal(mc[1].series, 1);
    free(mc);
    mdb_txn_abort(t);

    /* Validation. */
    t = wtxn(f);
    struct series_label noname[] = {L("a", "b")};
    struct series_label dup[] = {L("__name__", "x"), L("a", "1"), L("a", "2")};
    struct series_label badname[] = {L("__name__", "x"), L("1a", "1")};
    struct series_label badname2[] = {L("__name__", "x"), L("a-b", "1")};
    struct series_label empty[] = {L("__name__", "x"), L("a", "")};
    struct series_label nullv[] = {L("__name__", "x"), L("a", NULL)};
    assert_int_equal(series_id(f->s, t, noname, 1, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, dup, 3, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, badname, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, badname2, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, empty, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, nullv, 2, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, NULL, 0, &id), SERIES_EINVAL);
    struct series_label many[SERIES_LABELS_MAX + 1];
    char names[SERIES_LABELS_MAX + 1][8];
    for (int i = 0; i <= SERIES_LABELS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "l%d", i);
        many[i] = L(names[i], "v");
    }
    many[0] = L("__name__", "m");
    assert_int_equal(series_id(f->s, t, many, SERIES_LABELS_MAX + 1, &id), SERIES_EINVAL);
    assert_int_equal(series_id(f->s, t, many, SERIES_LABELS_MAX, &id), 0);
    char big[600];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct series_label toobig[] = {L("__name__", "x"), L("a", big)};
    assert_int_equal(series_id(f->s, t, toobig, 2, &id), SERIES_ETOOBIG);
    struct series_label utf8[] = {L("__name__", "x"), L("a", "caf\xc3\xa9 / \"quoted\" \\")};
    assert_int_equal(series_id(f->s, t, utf8, 2, &id), 0);
    commit(t);
    assert_string_not_equal(series_strerror(SERIES_ETOOBIG), series_strerror(SERIES_EINVAL));
    assert_non_null(series_strerror(MDB_MAP_FULL));
    assert_non_null(series_strerror(ENOMEM));
}

/* Another format version or grid is refused; the stored grid is adopted. */
static void test_version_and_grid(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    f->o.res_ms = 15000;
    assert_int_equal(fx_open_rc(f), SERIES_ECONFIG);
    fx_close(f);
    f->o.res_ms = 0;
    f->o.span_ms = 7;
    assert_int_equal(fx_open_rc(f), SERIES_ECONFIG);
    fx_close(f);
    f->o.span_ms = 0;
    f->o.raw_retention_ms = 10 * 86400000LL;
    f->o.ds_retention_ms = 86400000LL;
    assert_int_equal(fx_open_rc(f), SERIES_EINVAL);
    fx_close(f);
    f->o = (struct series_opts){0};
    fx_open(f);
    /* Bump the stored version behind its back. */
    MDB_txn *t = wtxn(f);
    MDB_dbi meta;
    assert_int_equal(mdb_dbi_open(t, "series_meta", 0, &meta), 0);
    uint8_t v[4] = {0, 0, 0, 2};
    MDB_val k = {14, "format_version"}, d = {4, v};
    assert_int_equal(mdb_put(t, meta, &k, &d, 0), 0);
    commit(t);
    fx_close(f);
    assert_int_equal(fx_open_rc(f), SERIES_EVERSION);
    fx_close(f);
    /* A bad grid for a fresh store. */
    struct fx *g = fx_new(&(struct series_opts){.res_ms = 10000, .ds_res_ms = 15000});
    assert_int_equal(fx_open_rc(g), SERIES_EINVAL);
    fx_close(g);
    nftw(g->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(g);
    /* Read-only transaction on an environment without series. */
    g = fx_new(NULL);
    assert_int_equal(env_open(g), 0);
    MDB_txn *rt = rtxn(g);
    struct series_db *s;
    assert_int_equal(series_open(rt, NULL, &s), SERIES_ENOTFOUND);
    mdb_txn_abort(rt);
    fx_close(g);
    nftw(g->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(g);
}

/* ---- select ------------------------------------------------------------- */

static int re_cb(void *ud, const char *v, size_t len)
{
    char buf[256];
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, v, len);
    buf[len] = 0;
    return regexec((regex_t *)ud, buf, 0, NULL, 0) == 0;
}

static const char *const LN[] = {"__name__", "a", "b", "c"};
static const char *const LV[] = {"", "x", "y", "z", "xy", "v1", "v2"};

struct tseries {
    const char *v[4]; /* value per LN; "" = absent */
    uint64_t id;
};

static void test_select(void **state)
{
    struct fx *f = *state;
    uint64_t rs = g_seed ^ 0x5E1EC7;
    enum { NS = 60 };
    struct tseries ts[NS];
    static const char *const metrics[] = {"m1", "m2", "m3"};
    MDB_txn *t = wtxn(f);
    for (int i = 0; i < NS; i++) {
        struct series_label l[4];
        size_t n = 0;
        ts[i].v[0] = metrics[i % 3];
        l[n++] = L("__name__", ts[i].v[0]);
        for (int j = 1; j < 4; j++) {
            ts[i].v[j] = LV[rng_below(&rs, 7)];
            if (*ts[i].v[j])
                l[n++] = L(LN[j], ts[i].v[j]);
        }
        assert_int_equal(series_id(f->s, t, l, n, &ts[i].id), 0);
        for (int j = 0; j < i; j++) /* a label set drawn twice is one series */
            if (ts[j].id == ts[i].id)
                ts[i].id = 0;
    }
    assert_int_equal(series_flush(f->s, t, T0), 0);
    commit(t);

    static const char *const RES[] = {"x|y", ".*", ".+", "v[12]", "x.*", "", "z", "nomatch"};
    regex_t re[8];
    for (int i = 0; i < 8; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "^(%s)$", RES[i]);
        assert_int_equal(regcomp(&re[i], pat, REG_EXTENDED | REG_NOSUB), 0);
    }
    t = rtxn(f);
    for (int iter = 0; iter < 400; iter++) {
        struct series_matcher m[3];
        int rix[3];
        size_t nm = 1 + rng_below(&rs, 3);
        for (size_t i = 0; i < nm; i++) {
            m[i].op = (enum series_match_op)rng_below(&rs, 4);
            m[i].name = rng_below(&rs, 8) ? LN[rng_below(&rs, 4)] : "absent";
            m[i].value = LV[rng_below(&rs, 7)];
            if (m[i].name == LN[0] && m[i].op < 2 && rng_below(&rs, 2))
                m[i].value = metrics[rng_below(&rs, 3)];
            rix[i] = (int)rng_below(&rs, 8);
            m[i].fn = re_cb;
            m[i].ud = &re[rix[i]];
        }
        uint64_t *ids;
        size_t n;
        assert_int_equal(series_select(f->s, t, m, nm, INT64_MIN, INT64_MAX, &ids, &n), 0);
        size_t k = 0;
        for (int s = 0; s < NS; s++) {
            int ok = 1;
            for (size_t i = 0; i < nm && ok; i++) {
                const char *v = "";
                for (int j = 0; j < 4; j++)
                    if (!strcmp(m[i].name, LN[j]))
                        v = ts[s].v[j];
                switch (m[i].op) {
                case SERIES_MATCH_EQ: ok = !strcmp(v, m[i].value); break;
                case SERIES_MATCH_NE: ok = !!strcmp(v, m[i].value); break;
                case SERIES_MATCH_RE: ok = re_cb(&re[rix[i]], v, strlen(v)); break;
                case SERIES_MATCH_NRE: ok = !re_cb(&re[rix[i]], v, strlen(v)); break;
                }
            }
            if (!ok || !ts[s].id)
                continue;
            if (k >= n || ids[k] != ts[s].id) {
                for (size_t i = 0; i < nm; i++)
                    print_message("  matcher %s op %d value '%s' re '%s'\n", m[i].name, m[i].op,
                                  m[i].value, RES[rix[i]]);
                for (size_t i = 0; i < n; i++)
                    print_message("  got %llu\n", (unsigned long long)ids[i]);
                fail_msg("iteration %d (seed %llu): series %llu expected at %zu", iter,
                         (unsigned long long)g_seed, (unsigned long long)ts[s].id, k);
            }
            k++;
        }
        if (k != n)
            fail_msg("iteration %d (seed %llu): %zu ids, expected %zu", iter,
                     (unsigned long long)g_seed, n, k);
        free(ids);

        /* Label values of `a` over the selection equal the naive set. */
        char **vals;
        size_t nv;
        assert_int_equal(series_label_values(f->s, t, "a", m, nm, INT64_MIN, INT64_MAX, &vals, &nv),
                         0);
        for (size_t i = 1; i < nv; i++)
            assert_true(strcmp(vals[i - 1], vals[i]) < 0);
        free(vals);
    }
    char **out;
    size_t n;
    assert_int_equal(series_label_names(f->s, t, NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(out[0], "__name__");
    assert_string_equal(out[1], "a");
    assert_string_equal(out[3], "c");
    free(out);
    assert_int_equal(
        series_label_values(f->s, t, "__name__", NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(out[2], "m3");
    free(out);
    struct series_matcher m1 = {SERIES_MATCH_EQ, "__name__", "m1", NULL, NULL};
    assert_int_equal(
        series_label_values(f->s, t, "__name__", &m1, 1, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "m1");
    free(out);
    assert_int_equal(
        series_label_values(f->s, t, "nolabel", NULL, 0, INT64_MIN, INT64_MAX, &out, &n), 0);
    assert_int_equal(n, 0);
    assert_null(out);
    /* Time range: no series has a sample yet. */
    uint64_t *ids;
    assert_int_equal(series_select(f->s, t, &m1, 1, T0, T0 + HOUR, &ids, &n), 0);
    assert_int_equal(n, 0);
    struct series_matcher bad = {SERIES_MATCH_RE, "a", NULL, NULL, NULL};
    assert_int_equal(series_select(f->s, t, &bad, 1, INT64_MIN, INT64_MAX, &ids, &n),
                     SERIES_EINVAL);
    mdb_txn_abort(t);
    for (int i = 0; i < 8; i++)
        regfree(&re[i]);
}

/* ---- counters and late events ------------------------------------------- */

static void test_counter_late(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "llm_requests_total"), L("service", "s")};
    uint64_t id = intern(f, l, 2);
    int64_t now = T0 + MIN;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 1 * SEC, 1, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 15 * SEC, 2, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 35 * SEC, 4, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);

    struct series_sample *o;
    size_t n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        /* baseline 0 at T0, then a run of two buckets, a gap, a baseline, one bucket */
        int64_t et[] = {T0, T0 + 10 * SEC, T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {0, 1, 3, 3, 7};
        expect_samples(o, n, et, ev, 5);
    }
    free(o);

    /* A late event inside the window lands in its bucket and every later sample. */
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 12 * SEC, 10, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 25 * SEC, 0.5, now), 0); /* fills the gap */
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0, T0 + 10 * SEC, T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {0, 1, 13, 13.5, 17.5};
        expect_samples(o, n, et, ev, 5);
    }
    free(o);

    /* Seal: the window passes. */
    now = T0 + 6 * MIN;
    flush_commit(f, now);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 59 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 60 * SEC, 1, now), 0); /* first open bucket */
    assert_int_equal(series_add(f->s, id, now + 10 * MIN + 1, 1, now), SERIES_EFUTURE);
    assert_int_equal(series_add(f->s, id, now + 10 * MIN, 1, now), 0);
    assert_int_equal(series_add(f->s, id, now, -1, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, now, NAN, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, now, INFINITY, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, id, -1, 1, now), SERIES_EINVAL);
    assert_int_equal(series_add(f->s, 999, now, 1, now), SERIES_ENOTFOUND);
    assert_int_equal(series_add(f->s, 0, now, 1, now), SERIES_ENOTFOUND);
    flush_commit(f, now);
    n = readv(f, id, T0 - HOUR, T0 + HOUR, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0,
                        T0 + 10 * SEC,
                        T0 + 20 * SEC,
                        T0 + 30 * SEC,
                        T0 + 40 * SEC,
                        T0 + 60 * SEC,
                        T0 + 70 * SEC,
                        now + 10 * MIN,
                        now + 10 * MIN + 10 * SEC};
        double ev[] = {0, 1, 13, 13.5, 17.5, 17.5, 18.5, 18.5, 19.5};
        expect_samples(o, n, et, ev, 9);
    }
    free(o);
    /* Sub-ranges are exact. */
    n = readv(f, id, T0 + 20 * SEC, T0 + 40 * SEC, SERIES_READ_RAW, &o);
    {
        int64_t et[] = {T0 + 20 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
        double ev[] = {13, 13.5, 17.5};
        expect_samples(o, n, et, ev, 3);
    }
    free(o);
    struct series_info info;
    MDB_txn *r = rtxn(f);
    assert_int_equal(series_info(f->s, r, id, &info), 0);
    assert_int_equal(info.first_ms, T0);
    assert_int_equal(info.last_ms, now + 10 * MIN + 10 * SEC);
    assert_true(info.value == 19.5);
    assert_int_equal(info.open_buckets, 2);
    assert_int_equal(series_info(f->s, r, 12345, &info), SERIES_ENOTFOUND);
    uint64_t *ids;
    size_t ni;
    struct series_matcher m = {SERIES_MATCH_EQ, "service", "s", NULL, NULL};
    assert_int_equal(series_select(f->s, r, &m, 1, T0 + 30 * SEC, T0 + 30 * SEC, &ids, &ni), 0);
    assert_int_equal(ni, 1);
    free(ids);
    assert_int_equal(series_select(f->s, r, &m, 1, T0 - HOUR, T0 - SEC, &ids, &ni), 0);
    assert_int_equal(ni, 0);
    mdb_txn_abort(r);
    /* An earlier now seals nothing new and is harmless. */
    flush_commit(f, T0);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 1, now), SERIES_ELATE);
}

/* Samples across many blocks: sealed blocks, the open block and open
 * buckets read back as one series; reopening changes nothing. */
static void test_blocks(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "llm_tokens_total"), L("type", "input")};
    struct series_label lc[] = {L("__name__", "llm_cost_usd_total")};
    uint64_t id = intern(f, l, 2), ic = intern(f, lc, 1);
    uint64_t rs = g_seed ^ 0xB10C;
    int64_t now = T0;
    double tok = 0, cost = 0;
    enum { STEPS = 5 * 360 }; /* 5 h of 10 s steps */
    static int64_t et[STEPS * 2];
    static double ev[STEPS * 2], ec[STEPS * 2];
    size_t ne = 0;
    int64_t last_t = INT64_MIN;
    for (int i = 0; i < STEPS; i++) {
        now += 10 * SEC;
        MDB_txn *t = wtxn(f);
        if (rng_below(&rs, 5)) { /* some buckets stay empty */
            int64_t te = now - 10 * SEC + (int64_t)rng_below(&rs, 10 * SEC);
            int64_t b = te / (10 * SEC) * (10 * SEC);
            double d = (double)rng_below(&rs, 5000), dc = d * 2.5e-6;
            assert_int_equal(series_add(f->s, id, te, d, now), 0);
            assert_int_equal(series_add(f->s, ic, te, dc, now), 0);
            if (last_t != b) { /* baseline */
                et[ne] = b;
                ev[ne] = tok;
                ec[ne++] = cost;
            }
            tok += d;
            cost += dc;
            et[ne] = b + 10 * SEC;
            ev[ne] = tok;
            ec[ne++] = cost;
            last_t = b + 10 * SEC;
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
        if (i == STEPS / 2)
            fx_reopen(f);
    }
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    expect_samples(o, n, et, ev, ne);
    free(o);
    n = readv(f, ic, INT64_MIN, INT64_MAX, SERIES_READ_AUTO, &o);
    expect_samples(o, n, et, ec, ne);
    free(o);
    /* Windows at random positions. */
    for (int k = 0; k < 50; k++) {
        int64_t a = T0 + (int64_t)rng_below(&rs, 6 * HOUR),
                b = a + (int64_t)rng_below(&rs, 2 * HOUR);
        size_t i0 = 0, i1;
        while (i0 < ne && et[i0] < a)
            i0++;
        for (i1 = i0; i1 < ne && et[i1] <= b; i1++)
            ;
        n = readv(f, id, a, b, SERIES_READ_RAW, &o);
        expect_samples(o, n, et + i0, ev + i0, i1 - i0);
        free(o);
    }
    /* Once everything is sealed, every sample is in a block. */
    flush_commit(f, now + HOUR);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_int_equal(st.series, 2);
    assert_true(st.blocks[0] >= 2 * 10 && st.blocks[0] <= 2 * 11);
    assert_int_equal(st.samples[0], 2 * ne);
    assert_int_equal(st.head_samples, 0);
    assert_int_equal(st.heads, 2);
    n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    expect_samples(o, n, et, ev, ne);
    free(o);
}

/* FILL repeats a held value on the grid for stale_ms after each change. */
static void test_fill(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "c")};
    uint64_t id = intern(f, l, 1);
    MDB_txn *t = wtxn(f);
    int64_t now = T0 + 20 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 5 * SEC, 1, now), 0);
    assert_int_equal(series_add(f->s, id, T0 + 10 * MIN + 5 * SEC, 2, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    struct series_sample *o;
    size_t n = readv(f, id, T0, T0 + 30 * MIN, SERIES_READ_RAW | SERIES_READ_FILL, &o);
    /* T0 (0), T0+10s (1), then 1 held every 10 s up to +5 min after the
     * change (T0+5m10s), a gap, baseline 1 at T0+10m, 3 at T0+10m10s, held
     * to T0+15m10s. */
    size_t k = 0;
    assert_int_equal(o[k].t_ms, T0);
    assert_true(o[k++].v == 0);
    for (int64_t tt = T0 + 10 * SEC; tt <= T0 + 5 * MIN + 10 * SEC; tt += 10 * SEC, k++) {
        assert_int_equal(o[k].t_ms, tt);
        assert_true(o[k].v == 1);
    }
    for (int64_t tt = T0 + 10 * MIN; tt <= T0 + 15 * MIN + 10 * SEC; tt += 10 * SEC, k++) {
        assert_int_equal(o[k].t_ms, tt);
        assert_true(o[k].v == (tt == T0 + 10 * MIN ? 1 : 3));
    }
    assert_int_equal(n, k);
    free(o);
    /* A range starting inside a held stretch begins with the held value. */
    n = readv(f, id, T0 + 2 * MIN, T0 + 2 * MIN + 20 * SEC, SERIES_READ_FILL, &o);
    assert_int_equal(n, 3);
    assert_int_equal(o[0].t_ms, T0 + 2 * MIN);
    assert_true(o[0].v == 1 && o[2].v == 1);
    free(o);
    /* Not beyond the writer's now, which only moves forward. */
    t = wtxn(f);
    now = T0 + 11 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 10 * MIN + 15 * SEC, 1, now), SERIES_ELATE);
    assert_int_equal(series_add(f->s, id, T0 + 16 * MIN, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 + 16 * MIN + 10 * SEC, T0 + 30 * MIN, SERIES_READ_FILL, &o);
    assert_int_equal(n, 24); /* 16m10s .. 20m: the stored now stays T0+20m */
    assert_int_equal(o[n - 1].t_ms, T0 + 20 * MIN);
    assert_true(o[n - 1].v == 4);
    free(o);
    /* The horizon: nothing is filled past the writer's now. */
    t = wtxn(f);
    now = T0 + 40 * MIN;
    assert_int_equal(series_add(f->s, id, T0 + 39 * MIN, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    n = readv(f, id, T0 + 39 * MIN, T0 + HOUR, SERIES_READ_FILL, &o);
    assert_int_equal(o[n - 1].t_ms, T0 + 40 * MIN);
    free(o);
}

/* ---- downsampling and retention ----------------------------------------- */

/* Value of a counter at time T from the raw samples (the held value). */
static double held(const struct series_sample *r, size_t n, int64_t T, int *found)
{
    double v = 0;
    *found = 0;
    for (size_t i = 0; i < n && r[i].t_ms <= T; i++) {
        v = r[i].v;
        *found = 1;
    }
    return v;
}

static void test_downsample_retention(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    f->o.raw_retention_ms = 2 * 86400000LL;
    f->o.ds_retention_ms = 4 * 86400000LL;
    fx_open(f);
    /* A counter and a histogram's buckets, 3 days, bursts with gaps. */
    static const char *const les[] = {"0.5", "1", "5", "+Inf"};
    static const double lev[] = {0.5, 1, 5, INFINITY};
    struct series_label lr[] = {L("__name__", "llm_requests_total"), L("service", "a")};
    uint64_t ids[5];
    ids[0] = intern(f, lr, 2);
    for (int i = 0; i < 4; i++) {
        struct series_label lb[] = {L("__name__", "llm_request_duration_seconds_bucket"),
                                    L("service", "a"), L("le", les[i])};
        ids[i + 1] = intern(f, lb, 3);
    }
    uint64_t rs = g_seed ^ 0xD5;
    int64_t now = T0;
    for (int64_t step = 0; step < 3 * 8640; step++) {
        now += 10 * SEC;
        MDB_txn *t = wtxn(f);
        int64_t phase = (step / 60) % 7; /* 10-minute bursts and pauses */
        if (phase < 4 && rng_below(&rs, 3)) {
            int64_t te = now - (int64_t)rng_below(&rs, 2 * MIN); /* within the late window */
            double lat = rng_unit(&rs) * 8;
            assert_int_equal(series_add(f->s, ids[0], te, 1, now), 0);
            for (int i = 0; i < 4; i++)
                assert_int_equal(series_add(f->s, ids[i + 1], te, lat <= lev[i] ? 1 : 0, now), 0);
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
    }
    /* Before downsampling: keep the full-resolution truth and the
     * on-the-fly downsampled view. */
    struct series_sample *raw[5], *fly[5];
    size_t nraw[5], nfly[5];
    for (int i = 0; i < 5; i++) {
        nraw[i] = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &raw[i]);
        nfly[i] = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_DS, &fly[i]);
        assert_true(nraw[i] > 1000);
        /* Every 5 m point is the raw value held at its time. */
        for (size_t j = 0; j < nfly[i]; j++) {
            int found;
            double v = held(raw[i], nraw[i], fly[i][j].t_ms, &found); /* 0 before the first */
            if (v != fly[i][j].v)
                fail_msg("series %d point %zu at %lld: %g, raw %g", i, j, (long long)fly[i][j].t_ms,
                         fly[i][j].v, v);
            assert_int_equal(fly[i][j].t_ms % (5 * MIN), 0);
            if (j)
                assert_true(fly[i][j].t_ms > fly[i][j - 1].t_ms);
        }
        /* ... and every 5 minutes with a raw sample has a point. */
        for (size_t j = 0, k = 0; j < nraw[i]; j++) {
            int64_t T = (raw[i][j].t_ms + 5 * MIN - 1) / (5 * MIN) * (5 * MIN);
            while (k < nfly[i] && fly[i][k].t_ms < T)
                k++;
            assert_true(k < nfly[i] && fly[i][k].t_ms == T);
        }
    }
    /* Downsample in small steps, in separate transactions. */
    int more = 1, calls = 0;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_downsample(f->s, t, now, 3, &more), 0);
        commit(t);
        calls++;
    }
    assert_true(calls > 5);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_true(st.ds_done_ms >= now - 13 * HOUR - 12 * HOUR);
    assert_true(st.blocks[1] > 0);
    /* Stored + on the fly == on the fly before. */
    for (int i = 0; i < 5; i++) {
        struct series_sample *d;
        size_t n = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_DS, &d);
        int64_t et[20000];
        double ev[20000];
        assert_true(nfly[i] <= 20000);
        for (size_t j = 0; j < nfly[i]; j++) {
            et[j] = fly[i][j].t_ms;
            ev[j] = fly[i][j].v;
        }
        expect_samples(d, n, et, ev, nfly[i]);
        free(d);
    }
    /* Retention: 2 d of raw, 4 d of ds. At now + 1 d, raw before ~now-1d goes. */
    int64_t later = now + 86400000LL;
    more = 1;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_downsample(f->s, t, later, 1000, NULL), 0);
        assert_int_equal(series_retention(f->s, t, later, 7, &more), 0);
        commit(t);
    }
    r = rtxn(f);
    assert_int_equal(series_stats(f->s, r, &st), 0);
    mdb_txn_abort(r);
    assert_true(st.raw_from_ms != INT64_MIN);
    assert_true(st.raw_from_ms <= st.ds_done_ms);
    assert_true(st.raw_from_ms > T0);
    for (int i = 0; i < 5; i++) {
        struct series_sample *a, *rr;
        size_t n = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_AUTO, &a);
        size_t nr = readv(f, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &rr);
        /* raw: exactly the raw samples after raw_from */
        size_t j0 = 0;
        while (j0 < nraw[i] && raw[i][j0].t_ms <= st.raw_from_ms)
            j0++;
        assert_int_equal(nr, nraw[i] - j0);
        assert_memory_equal(rr, raw[i] + j0, nr * sizeof *rr);
        /* auto: ds up to raw_from, raw after */
        size_t k = 0, j0d = 0;
        while (j0d < nfly[i] && st.ds_from_ms != INT64_MIN && fly[i][j0d].t_ms <= st.ds_from_ms)
            j0d++;
        for (size_t j = j0d; j < nfly[i] && fly[i][j].t_ms <= st.raw_from_ms; j++, k++) {
            assert_int_equal(a[k].t_ms, fly[i][j].t_ms);
            assert_true(a[k].v == fly[i][j].v);
        }
        assert_int_equal(n - k, nr);
        assert_memory_equal(a + k, rr, nr * sizeof *rr);
        free(a);
        free(rr);
    }
    /* Far later: everything is past retention and the series go. */
    int64_t much_later = now + 10 * 86400000LL;
    more = 1;
    while (more) {
        MDB_txn *t = wtxn(f);
        assert_int_equal(series_flush(f->s, t, much_later), 0);
        assert_int_equal(series_downsample(f->s, t, much_later, 1000, NULL), 0);
        assert_int_equal(series_retention(f->s, t, much_later, 50, &more), 0);
        commit(t);
    }
    r = rtxn(f);
    assert_int_equal(series_stats(f->s, r, &st), 0);
    assert_int_equal(st.series, 0);
    assert_int_equal(st.blocks[0] + st.blocks[1] + st.heads, 0);
    uint64_t *sel, cnt;
    size_t ns;
    assert_int_equal(series_select(f->s, r, NULL, 0, INT64_MIN, INT64_MAX, &sel, &ns), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(series_count(f->s, r, "llm_requests_total", &cnt), 0);
    assert_int_equal(cnt, 0);
    char **names;
    assert_int_equal(series_label_names(f->s, r, NULL, 0, INT64_MIN, INT64_MAX, &names, &ns), 0);
    assert_int_equal(ns, 0);
    uint64_t idx;
    assert_int_equal(series_lookup(f->s, r, lr, 2, &idx), SERIES_ENOTFOUND);
    mdb_txn_abort(r);
    assert_int_equal(series_add(f->s, ids[0], much_later, 1, much_later), SERIES_ENOTFOUND);
    /* Interning again gives a new id. */
    assert_true(intern(f, lr, 2) > ids[4]);
    for (int i = 0; i < 5; i++) {
        free(raw[i]);
        free(fly[i]);
    }
}

/* ---- crash and rollback ------------------------------------------------- */

static void test_abort_reload(void **state)
{
    struct fx *f = *state;
    struct series_label l[] = {L("__name__", "c")};
    uint64_t id = intern(f, l, 1);
    int64_t now = T0 + MIN;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0, 5, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    /* A batch that aborts: a delta, a new series, a flush that seals. */
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 20 * SEC, 7, now), 0);
    struct series_label l2[] = {L("__name__", "d")};
    uint64_t id2;
    assert_int_equal(series_id(f->s, t, l2, 1, &id2), 0);
    assert_int_equal(series_add(f->s, id2, T0, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, T0 + HOUR), 0);
    mdb_txn_abort(t);
    t = rtxn(f);
    assert_int_equal(series_reload(f->s, t), 0);
    mdb_txn_abort(t);
    /* Back to the committed state: the late window is open again. */
    assert_int_equal(series_add(f->s, id2, T0, 1, now), SERIES_ENOTFOUND);
    t = wtxn(f);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), 0);
    uint64_t id3;
    assert_int_equal(series_id(f->s, t, l2, 1, &id3), 0);
    assert_int_equal(id3, id2); /* the aborted id is handed out again */
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    int64_t et[] = {T0 - 10 * SEC, T0 + 10 * SEC, T0 + 30 * SEC, T0 + 40 * SEC};
    double ev[] = {0, 5, 5, 6};
    /* T0 is a bucket start: bucket T0 has its sample at T0+10s, baseline at T0 */
    et[0] = T0;
    expect_samples(o, n, et, ev, 4);
    free(o);
    /* A write failure (map full) sets the reload flag. */
    fx_close(f);
    f->map = 1 << 20; /* 1 MiB */
    fx_open(f);
    t = wtxn(f);
    int rc = 0;
    char v[16];
    for (int i = 0; i < 100000 && rc == 0; i++) {
        snprintf(v, sizeof v, "%d", i);
        struct series_label lm[] = {L("__name__", "many"), L("i", v)};
        uint64_t x;
        rc = series_id(f->s, t, lm, 2, &x);
    }
    assert_int_equal(rc, MDB_MAP_FULL);
    mdb_txn_abort(t);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), SERIES_ERELOAD);
    t = wtxn(f);
    assert_int_equal(series_flush(f->s, t, now), SERIES_ERELOAD);
    assert_int_equal(series_reload(f->s, t), 0);
    assert_int_equal(series_add(f->s, id, T0 + 30 * SEC, 1, now), 0);
    assert_int_equal(series_flush(f->s, t, now), 0);
    commit(t);
    f->map = 0;
}

/* A writer process killed between commits: on reopen, exactly what was
 * committed is there, open buckets included. */
static void test_crash(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct series_db *s;
        MDB_env *env;
        MDB_txn *t;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
            mdb_env_open(env, f->dir, MDB_NOTLS | MDB_NOSYNC, 0640) ||
            mdb_txn_begin(env, NULL, 0, &t) || series_open(t, NULL, &s) || mdb_txn_commit(t))
            _exit(2);
        struct series_label l[] = {L("__name__", "c"), L("k", "v")};
        uint64_t id;
        for (int b = 0; b < 100; b++) {
            int64_t now = T0 + b * 7 * SEC;
            if (mdb_txn_begin(env, NULL, 0, &t) || series_id(s, t, l, 2, &id) ||
                series_add(s, id, now - 3 * SEC, 1 + b % 3, now) || series_flush(s, t, now) ||
                mdb_txn_commit(t))
                _exit(3);
        }
        /* A batch in flight when the process dies. */
        if (mdb_txn_begin(env, NULL, 0, &t) ||
            series_add(s, id, T0 + 700 * SEC, 1000, T0 + 700 * SEC) ||
            series_flush(s, t, T0 + 2 * HOUR))
            _exit(4);
        _exit(0); /* no commit, no close */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fx_open(f);
    struct series_label l[] = {L("__name__", "c"), L("k", "v")};
    uint64_t id;
    MDB_txn *r = rtxn(f);
    assert_int_equal(series_lookup(f->s, r, l, 2, &id), 0);
    struct series_info info;
    assert_int_equal(series_info(f->s, r, id, &info), 0);
    mdb_txn_abort(r);
    double total = 0;
    for (int b = 0; b < 100; b++)
        total += 1 + b % 3;
    assert_true(info.value == total);
    assert_true(info.open_buckets > 0); /* the head survived */
    /* The late window continues where the committed flush left it. */
    int64_t now = T0 + 99 * 7 * SEC;
    assert_int_equal(series_add(f->s, id, now - 4 * MIN, 1, now), 0);
    flush_commit(f, now);
    struct series_sample *o;
    size_t n = readv(f, id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o);
    assert_true(n > 50);
    for (size_t i = 1; i < n; i++)
        assert_true(o[i].t_ms > o[i - 1].t_ms && o[i].v >= o[i - 1].v);
    assert_true(o[n - 1].v == total + 1);
    free(o);
}

/* ---- concurrent readers ------------------------------------------------- */

struct conc {
    struct fx *f;
    atomic_int stop;
    atomic_long reads;
    uint64_t ids[8];
};

static void *reader(void *arg)
{
    struct conc *c = arg;
    while (!atomic_load(&c->stop)) {
        MDB_txn *t;
        if (mdb_txn_begin(c->f->env, NULL, MDB_RDONLY, &t))
            abort();
        struct series_matcher m = {SERIES_MATCH_EQ, "__name__", "c", NULL, NULL};
        uint64_t *ids;
        size_t n;
        if (series_select(c->f->s, t, &m, 1, INT64_MIN, INT64_MAX, &ids, &n))
            abort();
        double sum = 0, sum_info = 0;
        for (size_t i = 0; i < n; i++) {
            struct series_sample *o;
            size_t k;
            struct series_info info;
            if (series_read(c->f->s, t, ids[i], INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o, &k) ||
                series_info(c->f->s, t, ids[i], &info))
                abort();
            for (size_t j = 1; j < k; j++)
                if (o[j].t_ms <= o[j - 1].t_ms || o[j].v < o[j - 1].v)
                    abort();
            if (k)
                sum += o[k - 1].v;
            sum_info += info.value;
            free(o);
        }
        /* One snapshot: every batch adds 1 to each of the 8 series. */
        if (sum != sum_info || (n && fmod(sum, 8) != 0))
            abort();
        free(ids);
        mdb_txn_abort(t);
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *f = *state;
    struct conc c = {.f = f};
    for (int i = 0; i < 8; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        struct series_label l[] = {L("__name__", "c"), L("i", v)};
        c.ids[i] = intern(f, l, 2);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &c), 0);
    int64_t now = T0;
    for (int b = 0; b < 1500 || atomic_load(&c.reads) < 20; b++) {
        now += 3 * SEC;
        MDB_txn *t = wtxn(f);
        for (int i = 0; i < 8; i++)
            assert_int_equal(series_add(f->s, c.ids[i], now - 2 * SEC, 1, now), 0);
        assert_int_equal(series_flush(f->s, t, now), 0);
        commit(t);
        if (b % 200 == 0) {
            t = wtxn(f);
            assert_int_equal(series_downsample(f->s, t, now, 100, NULL), 0);
            commit(t);
        }
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    print_message("    %ld consistent snapshot reads during 1500 batches\n",
                  (long)atomic_load(&c.reads));
}

/* ---- randomized test against a naive model ------------------------------ */

/* The model keeps, per label set, the committed deltas per bucket; it
 * derives samples from the documented rules stated as sets, not as the
 * streaming code does. */
#define RM_SERIES  12
#define RM_BUCKETS 4096

struct mseries {
    uint64_t id; /* 0 = not interned */
    int64_t b[RM_BUCKETS];
    double d[RM_BUCKETS];
    size_t n;
};

struct model {
    struct mseries s[RM_SERIES];
    int64_t sealed; /* bucket index; INT64_MIN */
};

struct msample {
    int64_t t, blk_day;
    double v;
};

static const struct series_opts RM_OPTS = {
    .res_ms = 1000,
    .span_ms = 20000,
    .ds_res_ms = 5000,
    .ds_span_ms = 60000,
    .late_ms = 15000,
    .future_ms = 10000,
    .downsample_after_ms = 5000,
    .raw_retention_ms = 120000,
    .ds_retention_ms = 240000,
    .stale_ms = 8000,
};

static void m_add(struct mseries *m, int64_t b, double d)
{
    size_t i = 0;
    while (i < m->n && m->b[i] < b)
        i++;
    if (i < m->n && m->b[i] == b) {
        m->d[i] += d;
        return;
    }
    assert_true(m->n < RM_BUCKETS);
    memmove(m->b + i + 1, m->b + i, (m->n - i) * sizeof *m->b);
    memmove(m->d + i + 1, m->d + i, (m->n - i) * sizeof *m->d);
    m->b[i] = b;
    m->d[i] = d;
    m->n++;
}

/* Raw samples: each bucket with deltas gives (end, cumulative value);
 * a bucket whose predecessor has no sample gets a baseline at its start. */
static size_t m_raw(const struct mseries *m, struct msample *out)
{
    const int64_t R = RM_OPTS.res_ms, N = RM_OPTS.span_ms / R, DSPAN = RM_OPTS.ds_span_ms;
    size_t k = 0;
    double c = 0;
    for (size_t i = 0; i < m->n; i++) {
        int64_t b = m->b[i], day = (b / N) * N * R / DSPAN * DSPAN;
        if (i == 0 || m->b[i - 1] != b - 1)
            out[k++] = (struct msample){b * R, day, c};
        c += m->d[i];
        out[k++] = (struct msample){(b + 1) * R, day, c};
    }
    return k;
}

/* Downsampled: a point at the end of every 5 s with a raw sample, holding
 * the last raw value; a baseline before it when the 5 s before have none,
 * unless that baseline would fall before the ds span of its first sample. */
static size_t m_ds(const struct msample *r, size_t n, struct msample *out)
{
    const int64_t DS = RM_OPTS.ds_res_ms;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int64_t g = (r[i].t + DS - 1) / DS;
        size_t j = i;
        while (j + 1 < n && (r[j + 1].t + DS - 1) / DS == g)
            j++;
        int prev = k > 0 && out[k - 1].t == (g - 1) * DS;
        if (!prev && (g - 1) * DS >= r[i].blk_day)
            out[k++] = (struct msample){(g - 1) * DS, 0, r[i].v};
        out[k++] = (struct msample){g * DS, 0, r[j].v};
        i = j + 1;
    }
    return k;
}

static int g_gc_with_data; /* series removed by retention after having samples */

static void m_check(struct fx *f, struct model *m, int iter)
{
    static struct msample raw[2 * RM_BUCKETS + 2], ds[4 * RM_BUCKETS + 4];
    MDB_txn *t = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, t, &st), 0);
    for (int i = 0; i < RM_SERIES; i++) {
        struct mseries *ms = &m->s[i];
        if (!ms->id)
            continue;
        struct series_sample *o;
        size_t n;
        int rc = series_read(f->s, t, ms->id, INT64_MIN, INT64_MAX, SERIES_READ_RAW, &o, &n);
        size_t nr = m_raw(ms, raw);
        if (rc == SERIES_ENOTFOUND) { /* retention removed it: every sample was past it */
            int64_t lim = st.raw_from_ms < st.ds_from_ms ? st.raw_from_ms : st.ds_from_ms;
            if (nr &&
                (st.raw_from_ms == INT64_MIN || st.ds_from_ms == INT64_MIN || raw[nr - 1].t > lim))
                fail_msg("seed %llu iter %d: series %d removed with samples up to %lld",
                         (unsigned long long)g_seed, iter, i, (long long)raw[nr - 1].t);
            g_gc_with_data += nr > 0;
            ms->id = 0;
            ms->n = 0;
            continue;
        }
        assert_int_equal(rc, 0);
        size_t j = 0;
        while (j < nr && st.raw_from_ms != INT64_MIN && raw[j].t <= st.raw_from_ms)
            j++;
        if (n != nr - j)
            fail_msg("seed %llu iter %d series %d: %zu raw samples, model %zu",
                     (unsigned long long)g_seed, iter, i, n, nr - j);
        for (size_t k = 0; k < n; k++)
            if (o[k].t_ms != raw[j + k].t || o[k].v != raw[j + k].v)
                fail_msg("seed %llu iter %d series %d raw %zu: (%lld, %.17g) model (%lld, %.17g)",
                         (unsigned long long)g_seed, iter, i, k, (long long)o[k].t_ms, o[k].v,
                         (long long)raw[j + k].t, raw[j + k].v);
        free(o);
        size_t nd = m_ds(raw, nr, ds);
        assert_int_equal(series_read(f->s, t, ms->id, INT64_MIN, INT64_MAX, SERIES_READ_DS, &o, &n),
                         0);
        j = 0;
        while (j < nd && st.ds_from_ms != INT64_MIN && ds[j].t <= st.ds_from_ms)
            j++;
        if (n != nd - j) {
            for (size_t k = 0; k < n; k++)
                print_message("  ds[%zu] (%lld, %g)\n", k, (long long)o[k].t_ms, o[k].v);
            for (size_t k = j; k < nd; k++)
                print_message("  model[%zu] (%lld, %g)\n", k, (long long)ds[k].t, ds[k].v);
            fail_msg("seed %llu iter %d series %d: %zu ds points, model %zu (done %lld)",
                     (unsigned long long)g_seed, iter, i, n, nd - j, (long long)st.ds_done_ms);
        }
        for (size_t k = 0; k < n; k++)
            if (o[k].t_ms != ds[j + k].t || o[k].v != ds[j + k].v)
                fail_msg("seed %llu iter %d series %d ds %zu: (%lld, %.17g) model (%lld, %.17g)",
                         (unsigned long long)g_seed, iter, i, k, (long long)o[k].t_ms, o[k].v,
                         (long long)ds[j + k].t, ds[j + k].v);
        free(o);
    }
    mdb_txn_abort(t);
}

static void test_random_model(void **state)
{
    (void)state;
    struct fx *f = fx_new(&RM_OPTS); /* its own grid: a fresh environment */
    fx_open(f);
    uint64_t rs = g_seed ^ 0x4D0DE1;
    print_message("    seed %llu (LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    struct model *m = calloc(1, sizeof *m);
    struct model *batch = calloc(1, sizeof *batch); /* the batch in progress */
    assert_non_null(m);
    assert_non_null(batch);
    m->sealed = INT64_MIN;
    const int64_t R = RM_OPTS.res_ms;
    int64_t now = 100 * 86400000LL; /* times near 0 are fine too, but be realistic */
    int aborts = 0, reopens = 0, late = 0, future = 0, regone = 0;
    for (int iter = 0; iter < 700; iter++) {
        now += 1 + (int64_t)rng_below(&rs, 4000);
        MDB_txn *t = wtxn(f);
        *batch = *m;
        int hot = (int)rng_below(&rs, RM_SERIES); /* some series go quiet for a while */
        int nev = (int)rng_below(&rs, 8);
        for (int e = 0; e < nev; e++) {
            int i = rng_below(&rs, 3) ? hot : (int)rng_below(&rs, RM_SERIES);
            if ((iter / 250) % 2 && i % 3 == 0)
                continue;
            struct mseries *ms = &batch->s[i];
            if (!ms->id) {
                char v[8];
                snprintf(v, sizeof v, "%d", i);
                struct series_label l[] = {L("__name__", "m"), L("i", v)};
                assert_int_equal(series_id(f->s, t, l, 2, &ms->id), 0);
            }
            int64_t te = now - 20000 + (int64_t)rng_below(&rs, 32000);
            if (te < 0)
                te = 0;
            double d = rng_below(&rs, 4) ? (double)rng_below(&rs, 100) : rng_unit(&rs);
            int rc = series_add(f->s, ms->id, te, d, now);
            if (rc == SERIES_ENOTFOUND) { /* retention removed it; its samples were all past it */
                struct series_stats st;
                static struct msample raw[2 * RM_BUCKETS + 2];
                assert_int_equal(series_stats(f->s, t, &st), 0);
                size_t nr = m_raw(ms, raw);
                g_gc_with_data += nr > 0;
                if (nr) /* a series that never had a sample may go at any time */
                    assert_true(st.raw_from_ms != INT64_MIN && st.ds_from_ms != INT64_MIN &&
                                raw[nr - 1].t <= st.raw_from_ms && raw[nr - 1].t <= st.ds_from_ms);
                char v[8];
                snprintf(v, sizeof v, "%d", i);
                struct series_label l[] = {L("__name__", "m"), L("i", v)};
                assert_int_equal(series_id(f->s, t, l, 2, &ms->id), 0);
                ms->n = 0;
                regone++;
                rc = series_add(f->s, ms->id, te, d, now);
            }
            int64_t b = te / R;
            if (te > now + RM_OPTS.future_ms) {
                assert_int_equal(rc, SERIES_EFUTURE);
                future++;
            } else if (batch->sealed != INT64_MIN && b < batch->sealed) {
                assert_int_equal(rc, SERIES_ELATE);
                late++;
            } else {
                if (rc)
                    fail_msg("seed %llu iter %d: add %s", (unsigned long long)g_seed, iter,
                             series_strerror(rc));
                m_add(ms, b, d);
            }
        }
        assert_int_equal(series_flush(f->s, t, now), 0);
        int64_t ns = (now - RM_OPTS.late_ms) / R;
        if (batch->sealed == INT64_MIN || ns > batch->sealed)
            batch->sealed = ns;
        if (rng_below(&rs, 4) == 0)
            assert_int_equal(series_downsample(f->s, t, now, 1 + rng_below(&rs, 5), NULL), 0);
        if (rng_below(&rs, 4) == 0)
            assert_int_equal(series_retention(f->s, t, now, 1 + rng_below(&rs, 20), NULL), 0);
        if (rng_below(&rs, 20) == 0) { /* the batch fails: nothing of it stays */
            mdb_txn_abort(t);
            t = rtxn(f);
            assert_int_equal(series_reload(f->s, t), 0);
            mdb_txn_abort(t);
            aborts++;
        } else {
            commit(t);
            *m = *batch;
        }
        if (rng_below(&rs, 50) == 0) {
            fx_reopen(f);
            reopens++;
        }
        if (iter % 25 == 0 || iter == 699)
            m_check(f, m, iter);
    }
    print_message("    700 batches: %d aborted, %d reopens, %d late and %d future deltas refused, "
                  "%d series re-created after retention (%d removed with samples)\n",
                  aborts, reopens, late, future, regone, g_gc_with_data);
    free(m);
    free(batch);
    fx_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

/* ---- size: 24 h x ~100 series from a simulated event stream -------------- */

struct simseries {
    uint64_t id;
};

static void test_bytes_per_sample(void **state)
{
    struct fx *f = *state;
    uint64_t rs = g_seed ^ 0x5A3B;
    static const char *const dur_le[] = {"0.25", "0.5", "1",  "2",  "3",  "5",
                                         "8",    "13",  "21", "30", "60", "+Inf"};
    static const double dur_v[] = {0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 30, 60, INFINITY};
    static const char *const tok_le[] = {"64",    "128",    "256",  "512",   "1024",
                                         "2048",  "4096",   "8192", "16384", "32768",
                                         "65536", "131072", "+Inf"};
    static const double tok_v[] = {64,   128,   256,   512,   1024,   2048,    4096,
                                   8192, 16384, 32768, 65536, 131072, INFINITY};
    static const char *const types[] = {"input", "output", "cached_input", "cache_write",
                                        "reasoning"};
    static const char *const combos[][2] = {{"support-bot", "gpt-4o-mini"},
                                            {"search", "claude-3-5-haiku"}};
    enum { NC = 2, PER = 1 + 5 + 1 + 14 + 14 + 15 };
    uint64_t id[NC][PER];
    MDB_txn *t = wtxn(f);
    for (int c = 0; c < NC; c++) {
        int k = 0;
        struct series_label base[] = {L("service", combos[c][0]), L("env", "prod"),
                                      L("provider", "openai"),    L("model", combos[c][1]),
                                      L("operation", "chat"),     L("status_class", "2xx")};
        struct series_label l[9];
        memcpy(l, base, sizeof base);
#define MK(nm, extra_n, extra_v)                                                                   \
    do {                                                                                           \
        size_t n_ = 6;                                                                             \
        l[n_++] = L("__name__", nm);                                                               \
        if (extra_n)                                                                               \
            l[n_++] = L(extra_n, extra_v);                                                         \
        assert_int_equal(series_id(f->s, t, l, n_, &id[c][k++]), 0);                               \
    } while (0)
        MK("llm_requests_total", NULL, NULL);
        for (int i = 0; i < 5; i++)
            MK("llm_tokens_total", "type", types[i]);
        MK("llm_cost_usd_total", NULL, NULL);
        for (int i = 0; i < 12; i++)
            MK("llm_request_duration_seconds_bucket", "le", dur_le[i]);
        MK("llm_request_duration_seconds_sum", NULL, NULL);
        MK("llm_request_duration_seconds_count", NULL, NULL);
        for (int i = 0; i < 12; i++)
            MK("llm_time_to_first_token_seconds_bucket", "le", dur_le[i]);
        MK("llm_time_to_first_token_seconds_sum", NULL, NULL);
        MK("llm_time_to_first_token_seconds_count", NULL, NULL);
        for (int i = 0; i < 13; i++)
            MK("llm_request_tokens_bucket", "le", tok_le[i]);
        MK("llm_request_tokens_sum", NULL, NULL);
        MK("llm_request_tokens_count", NULL, NULL);
#undef MK
        assert_int_equal(k, PER);
    }
    commit(t);

    /* 24 h, one ingest batch every 10 s; per combo a diurnal Poisson-ish
     * rate between 0.1 and 1 event/s; 1 % of events arrive up to 4 min late. */
    int64_t now = T0;
    uint64_t events = 0, adds = 0;
    double t_add = 0, t_flush = 0;
    struct timespec a, b;
    for (int step = 0; step < 8640; step++) {
        now += 10 * SEC;
        t = wtxn(f);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int c = 0; c < NC; c++) {
            double rate = 0.55 + 0.45 * sin(2 * M_PI * step / 8640.0 + c);
            int nev = 0;
            for (int k = 0; k < 20; k++)
                nev += rng_unit(&rs) < rate / 2;
            for (int e = 0; e < nev; e++) {
                int64_t te = now - 10 * SEC + (int64_t)rng_below(&rs, 10 * SEC);
                if (rng_below(&rs, 100) == 0)
                    te -= (int64_t)rng_below(&rs, 4 * MIN);
                double in = (double)(100 + rng_below(&rs, 4000)),
                       out = (double)(10 + rng_below(&rs, 1000));
                double tok[5] = {in, out, rng_below(&rs, 2) ? floor(in / 2) : 0,
                                 rng_below(&rs, 20) ? 0 : (double)rng_below(&rs, 2000),
                                 rng_below(&rs, 5) ? 0 : (double)rng_below(&rs, 2000)};
                double dur = exp(log(0.3) + rng_unit(&rs) * log(100.0)),
                       ttft = dur * rng_unit(&rs) / 3;
                double cost = in * 2.5e-6 + out * 1e-5;
                int k = 0;
#define ADD(v)                                                                                     \
    do {                                                                                           \
        assert_int_equal(series_add(f->s, id[c][k++], te, (v), now), 0);                           \
        adds++;                                                                                    \
    } while (0)
                ADD(1);
                for (int i = 0; i < 5; i++)
                    ADD(tok[i]);
                ADD(cost);
                for (int i = 0; i < 12; i++)
                    ADD(dur <= dur_v[i] ? 1 : 0);
                ADD(dur);
                ADD(1);
                for (int i = 0; i < 12; i++)
                    ADD(ttft <= dur_v[i] ? 1 : 0);
                ADD(ttft);
                ADD(1);
                for (int i = 0; i < 13; i++)
                    ADD(in + out <= tok_v[i] ? 1 : 0);
                ADD(in + out);
                ADD(1);
#undef ADD
                events++;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        t_add += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        assert_int_equal(series_flush(f->s, t, now), 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        t_flush += (double)(a.tv_sec - b.tv_sec) + (double)(a.tv_nsec - b.tv_nsec) / 1e9;
        commit(t);
    }
    /* Seal everything, then downsample the day. */
    flush_commit(f, now + 2 * HOUR);
    t = wtxn(f);
    assert_int_equal(series_downsample(f->s, t, now + 2 * HOUR, 100000, NULL), 0);
    commit(t);
    MDB_txn *r = rtxn(f);
    struct series_stats st;
    assert_int_equal(series_stats(f->s, r, &st), 0);
    /* Try zstd on every base block, and on all of them together. */
    MDB_dbi raw;
    assert_int_equal(mdb_dbi_open(r, "series_raw", 0, &raw), 0);
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t z1 = 0, total = 0, n_int = 0, by[3] = {0}, sm[3] = {0};
    uint8_t zb[8192];
    uint8_t *all = malloc(st.block_bytes[0]);
    assert_int_equal(mdb_cursor_open(r, raw, &cur), 0);
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        size_t z = ZSTD_compress(zb, sizeof zb, v.mv_data, v.mv_size, 3);
        assert_false(ZSTD_isError(z));
        z1 += z < v.mv_size ? z : v.mv_size;
        memcpy(all + total, v.mv_data, v.mv_size);
        total += v.mv_size;
        uint8_t codec = ((uint8_t *)v.mv_data)[0];
        uint32_t cnt;
        assert_int_equal(sblock_count(v.mv_data, v.mv_size, &cnt), 0);
        n_int += codec == SBLOCK_INT;
        by[codec] += v.mv_size;
        sm[codec] += cnt;
    }
    mdb_cursor_close(cur);
    size_t zcap = ZSTD_compressBound(total);
    uint8_t *zall = malloc(zcap);
    size_t zt = ZSTD_compress(zall, zcap, all, total, 19);
    assert_false(ZSTD_isError(zt));
    free(all);
    free(zall);
    mdb_txn_abort(r);

    uint64_t series = NC * PER, grid = series * 8640;
    print_message(
        "    %llu series, 24 h: %llu events, %llu adds (%.2f us/add, flush %.1f us/batch)\n",
        (unsigned long long)series, (unsigned long long)events, (unsigned long long)adds,
        t_add * 1e6 / (double)adds, t_flush * 1e6 / 8640);
    print_message("    base: %llu blocks (%llu INT codec), %llu samples (%.1f %% of the %llu grid "
                  "points), %llu bytes\n",
                  (unsigned long long)st.blocks[0], (unsigned long long)n_int,
                  (unsigned long long)st.samples[0], 100.0 * (double)st.samples[0] / (double)grid,
                  (unsigned long long)grid, (unsigned long long)st.block_bytes[0]);
    print_message("    base bytes/sample: %.2f (block values), %.2f (+16-byte key, 8-byte node)\n",
                  (double)st.block_bytes[0] / (double)st.samples[0],
                  (double)(st.block_bytes[0] + 24 * st.blocks[0]) / (double)st.samples[0]);
    print_message(
        "    by codec: INT %.2f bytes/sample (%llu samples), FLOAT %.2f bytes/sample "
        "(%llu samples)\n",
        (double)by[SBLOCK_INT] / (double)sm[SBLOCK_INT], (unsigned long long)sm[SBLOCK_INT],
        (double)by[SBLOCK_FLOAT] / (double)sm[SBLOCK_FLOAT], (unsigned long long)sm[SBLOCK_FLOAT]);
    print_message("    zstd-3 per block: %.2f bytes/sample (%.1f %% saved); zstd-19 of all blocks "
                  "at once: %.2f\n",
                  (double)z1 / (double)st.samples[0],
                  100.0 * (1 - (double)z1 / (double)st.block_bytes[0]),
                  (double)zt / (double)st.samples[0]);
    print_message("    downsampled: %llu blocks, %llu samples, %.2f bytes/sample\n",
                  (unsigned long long)st.blocks[1], (unsigned long long)st.samples[1],
                  (double)st.block_bytes[1] / (double)st.samples[1]);
    print_message("    LMDB pages of all series databases: %llu bytes = %.2f bytes per stored "
                  "sample, %.2f per grid point; heads %llu bytes\n",
                  (unsigned long long)st.page_bytes,
                  (double)st.page_bytes / (double)(st.samples[0] + st.samples[1]),
                  (double)st.page_bytes / (double)grid, (unsigned long long)st.head_bytes);
    assert_true((double)st.block_bytes[0] / (double)st.samples[0] < 4.0);

    /* Reading it back: every series, the whole day, per resolution. */
    static const struct {
        const char *name;
        unsigned flags;
    } modes[] = {{"raw", SERIES_READ_RAW},
                 {"raw+fill", SERIES_READ_RAW | SERIES_READ_FILL},
                 {"downsampled", SERIES_READ_DS}};
    for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
        uint64_t samples = 0;
        r = rtxn(f);
        struct series_matcher prod = {SERIES_MATCH_EQ, "env", "prod", NULL, NULL};
        uint64_t *sel;
        size_t nsel;
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(series_select(f->s, r, &prod, 1, T0, now, &sel, &nsel), 0);
        assert_int_equal(nsel, series);
        for (size_t i = 0; i < nsel; i++) {
            struct series_sample *o;
            size_t n;
            assert_int_equal(series_read(f->s, r, sel[i], T0, now, modes[mi].flags, &o, &n), 0);
            samples += n;
            free(o);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        free(sel);
        mdb_txn_abort(r);
        double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        print_message(
            "    read %s: %llu series x 24 h = %llu samples in %.1f ms (%.1f ns/sample)\n",
            modes[mi].name, (unsigned long long)series, (unsigned long long)samples, el * 1e3,
            el * 1e9 / (double)samples);
    }
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_series: seed %llu (set LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
        cmocka_unit_test_setup_teardown(test_intern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_and_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downsample_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_per_sample, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
