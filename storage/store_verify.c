/*
 * store_verify.c — walks every database of a store and reports what is
 * inconsistent (what is checked: store_verify.h).
 *
 * DESIGN
 *   One read transaction for the whole walk, so the counts and cross
 *   references are of one snapshot even while a collector keeps writing
 *   (from this process or another). The walk never stops at a problem: each
 *   is described (database, event id, what is wrong) and the next entry is
 *   checked, so one run lists all the damage; only an error that makes
 *   going on pointless (LMDB failing, memory) ends it early. Ids found in
 *   the store are printed with non-printable bytes replaced by '?', since
 *   damage may have reached them. Nothing is allocated per event: one JSON
 *   buffer grows to the largest event.
 */
#include "store_verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "evrec.h"
#include "store_int.h"

struct vctx {
    struct store *st;
    MDB_txn *txn;
    const struct store_verify_opts *o;
    struct store_verify_result *res;
    uint32_t *dict_ids; /* ids present in `dicts`, ascending */
    size_t ndicts;
};

static void problem(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct vctx *v, const char *fmt, ...)
{
    v->res->problems++;
    if (!v->o || !v->o->problem)
        return;
    char buf[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v->o->problem(v->o->ud, buf);
}

/* Copies n bytes as printable text (at most STORE_ID_MAX of them). */
static const char *printable(char dst[STORE_ID_MAX + 4], const void *src, size_t n)
{
    const unsigned char *s = src;
    size_t i = 0;
    for (; i < n && i < STORE_ID_MAX; i++)
        dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (n > STORE_ID_MAX)
        dst[i++] = '+';
    dst[i] = '\0';
    return dst;
}

static const char *fmt_time(char buf[40], int64_t us)
{
    time_t s = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    if (frac < 0) {
        s--;
        frac += 1000000;
    }
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(buf, 40, "%" PRId64 "us", us);
        return buf;
    }
    snprintf(buf + strlen(buf), 16, ".%06ldZ", frac);
    return buf;
}

static int topic_ok(const uint8_t *t, size_t n)
{
    if (n == 0 || n > STORE_TOPIC_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int check_meta(struct vctx *v)
{
    MDB_cursor *cur;
    MDB_val key, val;
    const size_t plen = sizeof STORE_OFFSET_PREFIX - 1, vlen = sizeof STORE_KEY_FORMAT_VERSION - 1;
    int have_version = 0;
    int rc = mdb_cursor_open(v->txn, v->st->meta, &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const uint8_t *k = key.mv_data;
        if (key.mv_size == vlen && memcmp(k, STORE_KEY_FORMAT_VERSION, vlen) == 0) {
            have_version = 1;
            uint32_t fv = val.mv_size == 4 ? store_get_be32(val.mv_data) : 0;
            if (fv < STORE_FORMAT_VERSION_MIN || fv > STORE_FORMAT_VERSION)
                problem(v, "meta: format_version is not %d to %d (value of %zu bytes)",
                        STORE_FORMAT_VERSION_MIN, STORE_FORMAT_VERSION, val.mv_size);
            continue;
        }
        if (key.mv_size < plen || memcmp(k, STORE_OFFSET_PREFIX, plen) != 0)
            continue; /* not ours to judge: later modules may keep keys here */
        v->res->offsets++;
        char t[STORE_ID_MAX + 4];
        size_t tl = key.mv_size >= plen + 6 ? key.mv_size - plen - 5 : 0;
        if (tl == 0 || k[key.mv_size - 5] != '/' || !topic_ok(k + plen, tl)) {
            problem(v, "meta: malformed offset key \"%s\" (%zu bytes)",
                    printable(t, k, key.mv_size), key.mv_size);
            continue;
        }
        uint32_t part = store_get_be32(k + key.mv_size - 4);
        char topic[STORE_TOPIC_MAX + 1]; /* checked by topic_ok: printable */
        memcpy(topic, k + plen, tl);
        topic[tl] = '\0';
        if (part > INT32_MAX)
            problem(v, "meta: offset of %s has partition %" PRIu32 " (above 2^31-1)", topic, part);
        if (val.mv_size != 8)
            problem(v, "meta: offset of %s/%" PRIu32 " is %zu bytes, not 8", topic, part,
                    val.mv_size);
        else if (store_get_be64(val.mv_data) > INT64_MAX)
            problem(v, "meta: offset of %s/%" PRIu32 " is negative", topic, part);
        else if (part <= INT32_MAX && v->o && v->o->offset)
            v->o->offset(v->o->ud, topic, (int32_t)part, (int64_t)store_get_be64(val.mv_data));
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    if (!have_version)
        problem(v, "meta: format_version is missing");
    return 0;
}

static int check_dicts(struct vctx *v)
{
    MDB_cursor *cur;
    MDB_val key, val;
    MDB_stat ms;
    int rc = mdb_stat(v->txn, v->st->dicts, &ms);
    if (rc)
        return rc;
    v->dict_ids = calloc(ms.ms_entries ? ms.ms_entries : 1, sizeof *v->dict_ids);
    if (!v->dict_ids)
        return STORE_ENOMEM;
    if ((rc = mdb_cursor_open(v->txn, v->st->dicts, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        v->res->dicts++;
        if (key.mv_size != 4 || store_get_be32(key.mv_data) == 0) {
            problem(v, "dicts: malformed key of %zu bytes", key.mv_size);
            continue;
        }
        uint32_t id = store_get_be32(key.mv_data);
        const uint8_t *d = val.mv_data;
        /* zstd dictionary magic 0xEC30A437, little-endian */
        if (val.mv_size < 8 || d[0] != 0x37 || d[1] != 0xa4 || d[2] != 0x30 || d[3] != 0xec) {
            problem(v, "dicts: dictionary %" PRIu32 " is not a zstd dictionary", id);
            continue; /* records naming it are reported as naming a missing one */
        }
        if (v->ndicts < ms.ms_entries)
            v->dict_ids[v->ndicts++] = id;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int dict_known(const struct vctx *v, uint32_t id)
{
    size_t lo = 0, hi = v->ndicts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->dict_ids[mid] == id)
            return 1;
        if (v->dict_ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int check_events(struct vctx *v)
{
    MDB_cursor *cur;
    MDB_val key, val;
    char *json = NULL;
    size_t jcap = 0;
    char id[STORE_ID_MAX + 4], t1[40], t2[40], msg[256];
    int rc = mdb_cursor_open(v->txn, v->st->events, &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const uint8_t *k = key.mv_data;
        v->res->events++;
        if (key.mv_size < 9 || key.mv_size > STORE_EVKEY_MAX) {
            problem(v, "events: key of %zu bytes (want 9..%d)", key.mv_size, STORE_EVKEY_MAX);
            continue;
        }
        size_t idl = key.mv_size - 8;
        int64_t kt = store_get_time_key(k);
        printable(id, k + 8, idl);
        if (v->res->events == 1)
            v->res->oldest_us = kt;
        v->res->newest_us = kt;
        uint64_t seq;
        int r = store_record_of(v->st, v->txn, &val, &seq);
        if (r == STORE_ECORRUPT) {
            problem(v, "events: event %s (%s) names record %" PRIu64 ", which is not in records",
                    id, fmt_time(t1, kt), seq);
            continue;
        }
        if (r) {
            rc = r;
            break;
        }
        if (seq)
            v->res->numbered++;
        v->res->record_bytes += val.mv_size;

        MDB_val ik = {idl, (void *)(k + 8)}, iv;
        r = mdb_get(v->txn, v->st->event_ids, &ik, &iv);
        if (r == MDB_NOTFOUND)
            problem(v, "events: event %s (%s) has no event_ids entry", id, fmt_time(t1, kt));
        else if (r) {
            rc = r;
            break;
        } else if (iv.mv_size != 8 || memcmp(iv.mv_data, k, 8) != 0)
            problem(v, "events: event %s (%s): its event_ids entry names another time", id,
                    fmt_time(t1, kt));

        struct evrec rec;
        if (evrec_parse(val.mv_data, val.mv_size, &rec) != 0) {
            problem(v,
                    "events: event %s (%s): record of %zu bytes does not decode (short, "
                    "unknown version or flags, bad lengths)",
                    id, fmt_time(t1, kt), val.mv_size);
            continue;
        }
        if (rec.time_us != kt)
            problem(v, "events: event %s: record time %s differs from its key's %s", id,
                    fmt_time(t1, rec.time_us), fmt_time(t2, kt));
        if (rec.str_len[EVREC_ID] != idl || memcmp(rec.str[EVREC_ID], k + 8, idl) != 0) {
            char rid[STORE_ID_MAX + 4];
            problem(v, "events: event %s: record id \"%s\" differs from its key", id,
                    printable(rid, rec.str[EVREC_ID], rec.str_len[EVREC_ID]));
        }
        if (rec.flags & EVREC_F_RAW)
            v->res->raw_records++;
        if (rec.dict_id && !dict_known(v, rec.dict_id)) {
            problem(v, "events: event %s: names dictionary %" PRIu32 ", which does not exist", id,
                    rec.dict_id);
            continue;
        }
        if ((size_t)rec.json_len + 1 > jcap) {
            size_t cap = jcap ? jcap : 4096;
            while (cap < (size_t)rec.json_len + 1)
                cap *= 2;
            char *b = realloc(json, cap);
            if (!b) {
                rc = STORE_ENOMEM;
                break;
            }
            json = b;
            jcap = cap;
        }
        r = store_record_body(v->st, v->txn, &rec, json);
        if (r == STORE_ECORRUPT) {
            problem(v,
                    "events: event %s: %s body does not decompress to its %" PRIu32 " bytes "
                    "of JSON (dictionary %" PRIu32 ")",
                    id, rec.flags & EVREC_F_RAW ? "raw" : "zstd", rec.json_len, rec.dict_id);
            continue;
        }
        if (r) {
            rc = r;
            break;
        }
        json[rec.json_len] = '\0';
        v->res->json_bytes += rec.json_len;
        if (v->o && v->o->check_json) {
            char sid[STORE_ID_MAX + 1];
            memcpy(sid, k + 8, idl);
            sid[idl] = '\0';
            msg[0] = '\0';
            if (v->o->check_json(v->o->ud, json, rec.json_len, sid, msg, sizeof msg) != 0)
                problem(v, "events: event %s: JSON: %s", id, msg[0] ? msg : "rejected");
        }
    }
    mdb_cursor_close(cur);
    free(json);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int check_ids(struct vctx *v)
{
    MDB_cursor *cur;
    MDB_val key, val;
    char id[STORE_ID_MAX + 4], t1[40];
    int rc = mdb_cursor_open(v->txn, v->st->event_ids, &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        v->res->event_ids++;
        printable(id, key.mv_data, key.mv_size);
        if (key.mv_size < 1 || key.mv_size > STORE_ID_MAX || val.mv_size != 8) {
            problem(v, "event_ids: id %s: key of %zu bytes, value of %zu (want 1..%d and 8)", id,
                    key.mv_size, val.mv_size, STORE_ID_MAX);
            continue;
        }
        uint8_t ek[STORE_EVKEY_MAX];
        memcpy(ek, val.mv_data, 8);
        memcpy(ek + 8, key.mv_data, key.mv_size);
        MDB_val k = {8 + key.mv_size, ek}, d;
        int r = mdb_get(v->txn, v->st->events, &k, &d);
        if (r == MDB_NOTFOUND)
            problem(v, "event_ids: id %s names an event at %s that is not in events", id,
                    fmt_time(t1, store_get_time_key(ek)));
        else if (r) {
            rc = r;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Counts `records` (no walk: every record an event numbers was read by
 * check_events, so one that none numbers, whatever its key, shows as a
 * count above res->numbered). */
static int check_records(struct vctx *v)
{
    MDB_stat ms;
    if (!v->st->has_records) /* read-only open of a format 1 store */
        return 0;
    int rc = mdb_stat(v->txn, v->st->records, &ms);
    if (rc == 0)
        v->res->records = ms.ms_entries;
    return rc;
}

int store_verify(struct store *st, const struct store_verify_opts *opts,
                 struct store_verify_result *res)
{
    struct store_verify_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (!st)
        return STORE_EINVAL;
    struct vctx v = {.st = st, .o = opts, .res = res};
    int rc = store_txn_read(st, &v.txn);
    if (rc)
        return rc;
    if ((rc = check_meta(&v)) == 0 && (rc = check_dicts(&v)) == 0 && (rc = check_events(&v)) == 0 &&
        (rc = check_ids(&v)) == 0 && (rc = check_records(&v)) == 0) {
        if (res->events != res->event_ids)
            problem(&v, "counts: %" PRIu64 " events but %" PRIu64 " event_ids entries", res->events,
                    res->event_ids);
        if (res->records != res->numbered)
            problem(&v, "counts: %" PRIu64 " records but %" PRIu64 " events numbering one",
                    res->records, res->numbered);
    }
    store_txn_done(st, v.txn);
    free(v.dict_ids);
    return rc;
}
