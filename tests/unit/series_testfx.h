/*
 * series_testfx.h — the time series tests' fixture: a seeded random
 * generator and a series_db in its own LMDB environment (tests only).
 *
 * What it is for: test_series.c, test_series_model.c and test_sblock.c
 * share the seed (g_seed, set by each main() from LLMTAP_TEST_SEED), the
 * generator (rng_*), the time constants (T0, SEC, MIN, HOUR), the fixture
 * (struct fx: a fresh mkdtemp() directory, its LMDB environment and the
 * series_db; setup/teardown for cmocka) and the helpers that intern,
 * flush, read and compare samples.
 *
 * DESIGN: header-only, every function static inline, because
 * tests/CMakeLists.txt builds each tests/unit/test_*.c as its own binary
 * and links no shared test object; each test file includes it once.
 * Not thread-safe except where a test says so: a struct fx belongs to one
 * test at a time.
 */
#ifndef LLMTAP_SERIES_TESTFX_H
#define LLMTAP_SERIES_TESTFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sblock.h"
#include "series.h"

static uint64_t g_seed;

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
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

static inline int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static inline int env_open(struct fx *f)
{
    int rc;
    if ((rc = mdb_env_create(&f->env)) || (rc = mdb_env_set_maxdbs(f->env, 16)) ||
        (rc = mdb_env_set_mapsize(f->env, f->map ? f->map : (size_t)1 << 30)) ||
        (rc = mdb_env_open(f->env, f->dir, MDB_NOTLS | MDB_NOSYNC, 0640)))
        return rc;
    return 0;
}

static inline MDB_txn *wtxn(struct fx *f)
{
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &t), 0);
    return t;
}

static inline MDB_txn *rtxn(struct fx *f)
{
    MDB_txn *t;
    assert_int_equal(mdb_txn_begin(f->env, NULL, MDB_RDONLY, &t), 0);
    return t;
}

static inline void commit(MDB_txn *t)
{
    assert_int_equal(mdb_txn_commit(t), 0);
}

static inline int fx_open_rc(struct fx *f)
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

static inline void fx_open(struct fx *f)
{
    int rc = fx_open_rc(f);
    if (rc)
        fail_msg("open: %s", series_strerror(rc));
}

static inline void fx_close(struct fx *f)
{
    series_close(f->s);
    f->s = NULL;
    if (f->env)
        mdb_env_close(f->env);
    f->env = NULL;
}

static inline void fx_reopen(struct fx *f)
{
    fx_close(f);
    fx_open(f);
}

static inline struct fx *fx_new(const struct series_opts *o)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/llmtap-series-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (o)
        f->o = *o;
    return f;
}

static inline int setup(void **state)
{
    struct fx *f = fx_new(NULL);
    fx_open(f);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    fx_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

#define L(n, v) ((struct series_label){n, v})

static inline uint64_t intern(struct fx *f, const struct series_label *l, size_t n)
{
    uint64_t id = 0;
    MDB_txn *t = wtxn(f);
    assert_int_equal(series_id(f->s, t, l, n, &id), 0);
    assert_int_equal(series_flush(f->s, t, T0), 0);
    commit(t);
    return id;
}

static inline void flush_commit(struct fx *f, int64_t now)
{
    MDB_txn *t = wtxn(f);
    int rc = series_flush(f->s, t, now);
    if (rc)
        fail_msg("flush: %s", series_strerror(rc));
    commit(t);
}

static inline size_t readv(struct fx *f, uint64_t id, int64_t a, int64_t b, unsigned flags,
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

static inline void expect_samples(const struct series_sample *got, size_t n, const int64_t *t,
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

#endif
