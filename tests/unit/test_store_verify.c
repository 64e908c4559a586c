/*
 * test_store_verify.c — unit tests for the event store's retention
 * (store_delete_before, in storage/store.c) and for storage/store_verify.c
 * (store_verify: a healthy store, then damage made through LMDB directly,
 * and a read-only open). The fixture is store_testfx.h.
 *
 * Each test gets its own store in a fresh mkdtemp() directory, removed after.
 * Events are generated deterministically from (seed, index); the seed is
 * printed; set LLMTAP_TEST_SEED to replay a run.
 */
#include "store_testfx.h"

/* ---- retention and verify ---------------------------------------------- */

struct vcol {
    size_t n;
    char all[2048];
};

static void vcol_fn(void *ud, const char *what)
{
    struct vcol *v = ud;
    v->n++;
    snprintf(v->all + strlen(v->all), sizeof v->all - strlen(v->all), "%s\n", what);
}

/* The stored JSON must carry the key's id (what the collector checks with cJSON). */
static int vjson_fn(void *ud, const char *json, size_t len, const char *id, char *msg, size_t ml)
{
    char want[STORE_ID_MAX + 16];
    snprintf(want, sizeof want, "\"id\":\"%s\"", id);
    if (len && json[0] == '{' && strstr(json, want))
        return 0;
    snprintf(msg, ml, "no %s", want);
    return 1;
}

static void test_retention(void **state)
{
    struct fx *fx = *state;
    assert_int_equal(append_range(fx->st, 0, 3000, NULL), 0);
    size_t n = 0, total = 0, calls = 0;
    assert_int_equal(store_delete_before(fx->st, ev_time(1000), 0, &n), STORE_EINVAL);
    do { /* events 0..999 are older than event 1000: 300, 300, 300, 100, then 0 */
        assert_int_equal(store_delete_before(fx->st, ev_time(1000), 300, &n), 0);
        total += n;
    } while (++calls < 5);
    assert_int_equal(total, 1000);
    assert_int_equal(n, 0);
    struct store_stats ss;
    assert_int_equal(store_stats(fx->st, &ss), 0);
    assert_true(ss.events == 2000 && ss.event_ids == 2000);
    struct tev t;
    char *json;
    for (size_t i = 0; i < 3000; i += 111) {
        gen_event(g_seed, i, ev_time(i), &t);
        if (i < 1000)
            assert_int_equal(store_get(fx->st, t.id, &json, NULL), STORE_ENOTFOUND);
        else
            assert_get(fx->st, &t);
    }
    /* A deleted id is not a duplicate any more: it is stored again. */
    struct store_append_result res;
    assert_int_equal(append_range(fx->st, 5, 6, &res), 0);
    assert_int_equal(res.stored, 1);
    struct store_verify_opts vo = {.check_json = vjson_fn};
    struct store_verify_result vr;
    assert_int_equal(store_verify(fx->st, &vo, &vr), 0);
    assert_int_equal(vr.problems, 0);
    assert_int_equal(vr.events, 2001);
    assert_int_equal(vr.oldest_us, ev_time(5));
}

static void test_verify(void **state)
{
    struct fx *fx = *state;
    struct tev t[12];
    for (size_t i = 0; i < 12; i++)
        gen_event(g_seed, i, ev_time(i), &t[i]);
    struct store_offset off[2] = {{"llmtap.events", 0, 7}, {"llmtap.events", 2, 5}};
    assert_int_equal(append_range(fx->st, 0, 12, NULL), 0);
    assert_int_equal(store_append(fx->st, NULL, 0, off, 2, NULL), 0);
    struct vcol vc = {0};
    struct store_verify_opts vo = {.check_json = vjson_fn, .problem = vcol_fn, .ud = &vc};
    struct store_verify_result vr;
    assert_int_equal(store_verify(fx->st, &vo, &vr), 0);
    if (vr.problems)
        fail_msg("clean store: %s", vc.all);
    assert_true(vr.events == 12 && vr.event_ids == 12 && vr.offsets == 2);
    assert_true(vr.records == 12 && vr.numbered == 12);
    store_close(fx->st);
    fx->st = NULL;

    /* Damage: event 3's zstd frame, event 5's id entry (moved to a time
     * where no event is), event 7's id in its JSON, event 9's record
     * number (to one that does not exist, leaving its record unnamed), an
     * offset's value. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi ids, events, meta;
    raw_open(fx->dir, &env, &txn);
    assert_int_equal(mdb_dbi_open(txn, "event_ids", 0, &ids), 0);
    assert_int_equal(mdb_dbi_open(txn, "events", 0, &events), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    for (int i = 3; i <= 9; i += 2) {
        MDB_val k = {strlen(t[i].id), t[i].id}, ek, v;
        assert_int_equal(mdb_get(txn, ids, &k, &ek), 0);
        uint8_t ekey[80], moved[8];
        memcpy(ekey, ek.mv_data, 8);
        memcpy(ekey + 8, t[i].id, strlen(t[i].id));
        if (i == 5) {
            memcpy(moved, ekey, 8);
            moved[7] ^= 1;
            MDB_val mv = {8, moved};
            assert_int_equal(mdb_put(txn, ids, &k, &mv, 0), 0);
            continue;
        }
        if (i == 9) {
            ek.mv_size = 8 + strlen(t[i].id);
            ek.mv_data = ekey;
            MDB_val nv = {8, "\0\0\0\0\0\x0f\x42\x3f"}; /* record 999999 */
            assert_int_equal(mdb_put(txn, events, &ek, &nv, 0), 0);
            continue;
        }
        MDB_dbi db;
        raw_record(txn, t[i].id, &db, &ek, ekey, &v);
        uint8_t *copy = malloc(v.mv_size + t[i].len);
        memcpy(copy, v.mv_data, v.mv_size);
        struct evrec r;
        assert_int_equal(evrec_parse(copy, v.mv_size, &r), 0);
        size_t body = (size_t)(r.body - copy);
        if (i == 3) {
            for (size_t j = body; j < body + 4; j++)
                copy[j] ^= 0xff; /* the zstd magic number */
        } else {                 /* a raw body whose JSON names another id */
            copy[1] = EVREC_F_RAW;
            memset(copy + 4, 0, 4);
            memcpy(copy + body, t[i].json, t[i].len);
            char *p = strstr((char *)copy + body, t[i].id);
            assert_non_null(p);
            p[0] = p[0] == 'Z' ? 'Y' : 'Z';
            v.mv_size = body + t[i].len;
        }
        v.mv_data = copy;
        assert_int_equal(mdb_put(txn, db, &ek, &v, 0), 0);
        free(copy);
    }
    uint8_t okey[32] = "offset/llmtap.events/\0\0\0\2";
    MDB_val ok = {21 + 4, okey}, ov = {3, "abc"};
    assert_int_equal(mdb_put(txn, meta, &ok, &ov, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    struct store_opts ro = {.dir = fx->dir, .read_only = 1};
    assert_int_equal(store_open(&ro, &fx->st), 0);
    memset(&vc, 0, sizeof vc);
    assert_int_equal(store_verify(fx->st, &vo, &vr), 0);
    print_message("    problems found:\n%s", vc.all);
    assert_true(vr.problems == 7 && vc.n == 7);
    char line[160];
    snprintf(line, sizeof line, "event %s: zstd body does not decompress", t[3].id);
    assert_non_null(strstr(vc.all, line));
    snprintf(line, sizeof line, "event %s (", t[5].id); /* no id entry pointing at it */
    assert_non_null(strstr(vc.all, line));
    snprintf(line, sizeof line, "id %s names an event", t[5].id); /* and one pointing nowhere */
    assert_non_null(strstr(vc.all, line));
    snprintf(line, sizeof line, "event %s: JSON: no", t[7].id);
    assert_non_null(strstr(vc.all, line));
    assert_non_null(strstr(vc.all, "meta: offset of llmtap.events/2 is 3 bytes"));
    snprintf(line, sizeof line, "event %s (", t[9].id);
    assert_non_null(strstr(vc.all, line));
    assert_non_null(strstr(vc.all, "names record 999999, which is not in records"));
    assert_non_null(strstr(vc.all, "counts: 12 records but 11 events numbering one"));
    /* Read-only: writes are refused by LMDB, reads work. */
    assert_int_not_equal(append_range(fx->st, 20, 21, NULL), 0);
    assert_get(fx->st, &t[4]);
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_store_verify: seed %llu (set LLMTAP_TEST_SEED to replay)\n",
           (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
