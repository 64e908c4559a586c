/*
 * sindex.c — the label index of the series store. What and how: sindex.h;
 * keys: docs/storage.md ("series", "series_ids", "series_postings").
 *
 * DESIGN
 *
 * Nothing returned points into the map: strings are gathered as (pointer,
 * length) pairs while the transaction is live, sorted, made distinct and
 * copied into one malloc'd block. Key buffers live on the stack
 * (SINDEX_KEY_MAX + 1 bytes); no allocation per label.
 */
#include "sindex.h"

#include <stdlib.h>
#include <string.h>

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q)
        return SERIES_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int sindex_open(struct sindex *ix, MDB_txn *txn, int create)
{
    unsigned c = create ? MDB_CREATE : 0;
    int rc;
    int ks = mdb_env_get_maxkeysize(mdb_txn_env(txn));
    ix->maxkey = ks > 0 && ks < SINDEX_KEY_MAX ? (size_t)ks : SINDEX_KEY_MAX;
    if ((rc = mdb_dbi_open(txn, "series", c, &ix->series)) ||
        (rc = mdb_dbi_open(txn, "series_ids", c, &ix->ids)) ||
        (rc = mdb_dbi_open(txn, "series_postings", c | MDB_DUPSORT | MDB_DUPFIXED, &ix->postings)))
        return rc;
    return 0;
}

/* ---- keys --------------------------------------------------------------- */

static int name_ok(const char *n)
{
    if (!n || !((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || *n == '_'))
        return 0;
    for (const char *p = n + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return 1;
}

int sindex_key(const struct sindex *ix, const struct series_label *l, size_t n, uint8_t *key,
               size_t *klen)
{
    const struct series_label *v[SERIES_LABELS_MAX];
    int has_name = 0;
    if ((n && !l) || n > SERIES_LABELS_MAX)
        return SERIES_EINVAL;
    for (size_t i = 0; i < n; i++) { /* insertion sort by name; duplicates refused */
        if (!name_ok(l[i].name) || !l[i].value || !*l[i].value)
            return SERIES_EINVAL;
        size_t j = i;
        while (j > 0 && strcmp(v[j - 1]->name, l[i].name) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        if (j > 0 && !strcmp(v[j - 1]->name, l[i].name))
            return SERIES_EINVAL;
        v[j] = &l[i];
        has_name |= !strcmp(l[i].name, "__name__");
    }
    if (!has_name)
        return SERIES_EINVAL;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(v[i]->name), b = strlen(v[i]->value);
        if (pos + a + b + 2 > ix->maxkey)
            return SERIES_ETOOBIG;
        memcpy(key + pos, v[i]->name, a + 1);
        memcpy(key + pos + a + 1, v[i]->value, b + 1);
        pos += a + b + 2;
    }
    *klen = pos;
    return 0;
}

/* Splits the label at key[pos..len) into name (length *a) and value
 * (length *b); SERIES_ECORRUPT when it is not name \0 value \0. */
static int key_next(const uint8_t *key, size_t len, size_t pos, size_t *a, size_t *b)
{
    const char *p = (const char *)key + pos;
    *a = strnlen(p, len - pos);
    if (*a == 0 || pos + *a + 1 >= len)
        return SERIES_ECORRUPT;
    *b = strnlen(p + *a + 1, len - pos - *a - 1);
    if (*b == 0 || pos + *a + *b + 2 > len)
        return SERIES_ECORRUPT;
    return 0;
}

int sindex_get(const struct sindex *ix, MDB_txn *txn, const uint8_t *key, size_t klen, uint64_t *id)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, ix->series, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? SERIES_ENOTFOUND : rc;
    if (v.mv_size != 8)
        return SERIES_ECORRUPT;
    *id = get_be64(v.mv_data);
    return 0;
}

int sindex_put(const struct sindex *ix, MDB_txn *txn, const uint8_t *key, size_t klen, uint64_t id)
{
    uint8_t idb[8];
    size_t a, b;
    int rc;
    put_be64(idb, id);
    MDB_val k = {klen, (void *)key}, v = {8, idb};
    if ((rc = mdb_put(txn, ix->series, &k, &v, MDB_NOOVERWRITE)) != 0 ||
        (rc = mdb_put(txn, ix->ids, &v, &k, MDB_APPEND)) != 0) /* ids only grow */
        return rc == MDB_KEYEXIST ? SERIES_ECORRUPT : rc;
    for (size_t pos = 0; pos < klen; pos += a + b + 2) {
        if ((rc = key_next(key, klen, pos, &a, &b)) != 0)
            return rc;
        MDB_val pk = {a + 1 + b, (void *)(key + pos)};
        if ((rc = mdb_put(txn, ix->postings, &pk, &v, MDB_NODUPDATA)) != 0)
            return rc == MDB_KEYEXIST ? SERIES_ECORRUPT : rc;
    }
    return 0;
}

int sindex_del(const struct sindex *ix, MDB_txn *txn, uint64_t id)
{
    uint8_t k[8], lab[SINDEX_KEY_MAX + 1];
    size_t a, b;
    put_be64(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, ix->ids, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? SERIES_ECORRUPT : rc;
    size_t len = val.mv_size;
    if (len > sizeof lab || len < 4)
        return SERIES_ECORRUPT;
    memcpy(lab, val.mv_data, len); /* our deletes may move the map's pages */
    for (size_t pos = 0; pos < len; pos += a + b + 2) {
        if ((rc = key_next(lab, len, pos, &a, &b)) != 0)
            return rc;
        MDB_val pk = {a + 1 + b, lab + pos};
        if ((rc = mdb_del(txn, ix->postings, &pk, &key)) != 0)
            return rc == MDB_NOTFOUND ? SERIES_ECORRUPT : rc;
    }
    MDB_val sk = {len, lab};
    if ((rc = mdb_del(txn, ix->series, &sk, NULL)) != 0 || (rc = mdb_del(txn, ix->ids, &key, NULL)))
        return rc == MDB_NOTFOUND ? SERIES_ECORRUPT : rc;
    return 0;
}

/* ---- select ------------------------------------------------------------- */

void sindex_ids_free(struct sindex_ids *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int ids_push(struct sindex_ids *s, uint64_t id)
{
    if (s->n == s->cap) {
        void *p = s->v;
        if (grow(&p, &s->cap, s->n + 1, sizeof *s->v))
            return SERIES_ENOMEM;
        s->v = p;
    }
    s->v[s->n++] = id;
    return 0;
}

/* Appends the ids of name=value (value non-NULL), or of every value of
 * name whose m->fn verdict equals want. */
static int postings_collect(const struct sindex *ix, MDB_txn *txn, const char *name,
                            const char *value, const struct series_matcher *m, int want,
                            struct sindex_ids *out)
{
    uint8_t k[SINDEX_KEY_MAX + 1];
    size_t nl = strlen(name), vl = value ? strlen(value) : 0;
    MDB_cursor *c;
    MDB_val key, val;
    int rc;
    if (nl + 1 + vl > ix->maxkey)
        return 0; /* no such key can exist */
    memcpy(k, name, nl + 1);
    if (value)
        memcpy(k + nl + 1, value, vl);
    if ((rc = mdb_cursor_open(txn, ix->postings, &c)) != 0)
        return rc;
    key.mv_size = nl + 1 + vl;
    key.mv_data = k;
    rc = mdb_cursor_get(c, &key, &val, value ? MDB_SET_KEY : MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size < nl + 1 || memcmp(key.mv_data, k, nl + 1))
            break; /* past this name */
        int take = 1;
        if (!value)
            take =
                (!!m->fn(m->ud, (const char *)key.mv_data + nl + 1, key.mv_size - nl - 1)) == want;
        if (take) { /* every id of this value, a page at a time */
            /* A value with one id is stored without a duplicate subtree,
             * and LMDB's GET_MULTIPLE then neither fills val nor resets a
             * stale sub-cursor left by an earlier value: it can hand back
             * that value's ids. So: one id is read as is, and several are
             * read from their first duplicate on. */
            size_t cnt = 0;
            if ((rc = mdb_cursor_count(c, &cnt)) != 0)
                break;
            if (cnt == 1) {
                if ((rc = mdb_cursor_get(c, &key, &val, MDB_GET_CURRENT)) != 0)
                    break;
                if (val.mv_size != 8) {
                    rc = SERIES_ECORRUPT;
                    break;
                }
                if ((rc = ids_push(out, get_be64(val.mv_data))) != 0)
                    goto done;
                rc = MDB_NOTFOUND; /* this value is done */
            } else if ((rc = mdb_cursor_get(c, &key, &val, MDB_FIRST_DUP)) == 0) {
                rc = mdb_cursor_get(c, &key, &val, MDB_GET_MULTIPLE);
            }
            while (rc == 0) {
                if (val.mv_size % 8) {
                    rc = SERIES_ECORRUPT;
                    break;
                }
                for (size_t i = 0; i < val.mv_size; i += 8)
                    if ((rc = ids_push(out, get_be64((uint8_t *)val.mv_data + i))) != 0)
                        goto done;
                rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_MULTIPLE);
            }
            if (rc != MDB_NOTFOUND)
                break;
        }
        if (value)
            break;
        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_NODUP);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
done:
    mdb_cursor_close(c);
    return rc;
}

static int all_ids(const struct sindex *ix, MDB_txn *txn, struct sindex_ids *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, ix->ids, &c);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            rc = SERIES_ECORRUPT;
            break;
        }
        if ((rc = ids_push(out, get_be64(k.mv_data))) != 0)
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int match_any(void *ud, const char *v, size_t len)
{
    (void)ud, (void)v, (void)len;
    return 1;
}

/* a := a ∩ b (sub = 0) or a \ b (sub = 1); both sorted. */
static void ids_merge(struct sindex_ids *a, const struct sindex_ids *b, int sub)
{
    size_t j = 0, k = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && b->v[j] < a->v[i])
            j++;
        int in_b = j < b->n && b->v[j] == a->v[i];
        if (in_b != sub)
            a->v[k++] = a->v[i];
    }
    a->n = k;
}

static void ids_sort(struct sindex_ids *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_u64);
}

int sindex_select(const struct sindex *ix, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                  struct sindex_ids *out)
{
    struct sindex_ids neg = {0}, cur = {0};
    int have_pos = 0, rc = 0;
    out->n = 0;
    for (size_t i = 0; i < nm; i++) {
        const struct series_matcher *x = &m[i];
        struct series_matcher any = {SERIES_MATCH_RE, x->name, NULL, match_any, NULL};
        int pos; /* the matcher selects cur (pos) or everything but cur */
        if (!x->name || x->op > SERIES_MATCH_NRE ||
            ((x->op == SERIES_MATCH_EQ || x->op == SERIES_MATCH_NE) && !x->value) ||
            ((x->op == SERIES_MATCH_RE || x->op == SERIES_MATCH_NRE) && !x->fn)) {
            rc = SERIES_EINVAL;
            goto done;
        }
        cur.n = 0;
        if (x->op == SERIES_MATCH_EQ || x->op == SERIES_MATCH_NE) {
            if (*x->value)
                rc = postings_collect(ix, txn, x->name, x->value, NULL, 1, &cur);
            else /* = "": lacks the label; != "": has it */
                rc = postings_collect(ix, txn, x->name, NULL, &any, 1, &cur);
            pos = (x->op == SERIES_MATCH_EQ) == (*x->value != 0);
        } else {
            /* Series lacking the label match iff the regex matches "" (for
             * =~) or does not (for !~); collect the values that decide the
             * rest: those that match (want 1) or those that do not. */
            int empty = !!x->fn(x->ud, "", 0), re = x->op == SERIES_MATCH_RE;
            pos = empty != re;
            rc = postings_collect(ix, txn, x->name, NULL, x, pos ? re : !re, &cur);
        }
        if (rc)
            goto done;
        ids_sort(&cur);
        if (pos && !have_pos) {
            struct sindex_ids t = *out;
            *out = cur;
            cur = t;
            cur.n = 0;
            have_pos = 1;
        } else if (pos) {
            ids_merge(out, &cur, 0);
        } else {
            for (size_t j = 0; j < cur.n; j++)
                if ((rc = ids_push(&neg, cur.v[j])) != 0)
                    goto done;
        }
    }
    if (!have_pos && (rc = all_ids(ix, txn, out)) != 0)
        goto done;
    ids_sort(&neg);
    ids_merge(out, &neg, 1);
done:
    free(neg.v);
    free(cur.v);
    if (rc)
        out->n = 0;
    return rc;
}

/* ---- labels, names, values, counts -------------------------------------- */

int sindex_labels(const struct sindex *ix, MDB_txn *txn, uint64_t id, struct series_label **labels,
                  size_t *n)
{
    uint8_t k[8];
    size_t a, b, cnt = 0;
    put_be64(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, ix->ids, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? SERIES_ENOTFOUND : rc;
    const uint8_t *p = val.mv_data;
    size_t len = val.mv_size;
    for (size_t pos = 0; pos < len; pos += a + b + 2, cnt++)
        if (key_next(p, len, pos, &a, &b))
            return SERIES_ECORRUPT;
    struct series_label *l = malloc(cnt * sizeof *l + len);
    if (!l)
        return SERIES_ENOMEM;
    char *str = (char *)(l + cnt);
    memcpy(str, p, len);
    for (size_t i = 0, pos = 0; i < cnt; i++) {
        l[i].name = str + pos;
        pos += strlen(str + pos) + 1;
        l[i].value = str + pos;
        pos += strlen(str + pos) + 1;
    }
    *labels = l;
    *n = cnt;
    return 0;
}

struct strs {
    struct sref {
        const char *p;
        size_t len;
    } * v;
    size_t n, cap;
};

static int strs_push(struct strs *s, const void *p, size_t len)
{
    if (s->n == s->cap) {
        void *q = s->v;
        if (grow(&q, &s->cap, s->n + 1, sizeof *s->v))
            return SERIES_ENOMEM;
        s->v = q;
    }
    s->v[s->n++] = (struct sref){p, len};
    return 0;
}

static int sref_cmp(const void *a, const void *b)
{
    const struct sref *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts, drops repeats and copies into one block of n pointers + strings. */
static int strs_out(struct strs *s, char ***out, size_t *count)
{
    size_t n = 0, bytes = 0;
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, sref_cmp);
    for (size_t i = 0; i < s->n; i++)
        if (i == 0 || sref_cmp(&s->v[i], &s->v[n - 1])) {
            s->v[n++] = s->v[i];
            bytes += s->v[i].len + 1;
        }
    if (!n)
        return 0;
    char **o = malloc(n * sizeof *o + bytes);
    if (!o)
        return SERIES_ENOMEM;
    char *p = (char *)(o + n);
    for (size_t i = 0; i < n; i++) {
        o[i] = p;
        memcpy(p, s->v[i].p, s->v[i].len);
        p[s->v[i].len] = 0;
        p += s->v[i].len + 1;
    }
    *out = o;
    *count = n;
    return 0;
}

/* From the labels of the given series. */
static int strings_of(const struct sindex *ix, MDB_txn *txn, const char *name, const uint64_t *ids,
                      size_t nids, struct strs *st)
{
    size_t nl = name ? strlen(name) : 0, a, b;
    int rc = 0;
    for (size_t i = 0; i < nids && rc == 0; i++) {
        uint8_t k[8];
        put_be64(k, ids[i]);
        MDB_val key = {8, k}, val;
        if ((rc = mdb_get(txn, ix->ids, &key, &val)) != 0)
            return rc == MDB_NOTFOUND ? SERIES_ECORRUPT : rc;
        const uint8_t *p = val.mv_data;
        for (size_t pos = 0; pos < val.mv_size && rc == 0; pos += a + b + 2) {
            if ((rc = key_next(p, val.mv_size, pos, &a, &b)) != 0)
                break;
            if (!name)
                rc = strs_push(st, p + pos, a);
            else if (a == nl && !memcmp(p + pos, name, nl))
                rc = strs_push(st, p + pos + a + 1, b);
        }
    }
    return rc;
}

/* From the postings keys: values of one name, or each name once (after
 * name\0... the next name starts at or after name\1). */
static int strings_all(const struct sindex *ix, MDB_txn *txn, const char *name, struct strs *st)
{
    uint8_t k[SINDEX_KEY_MAX + 1];
    size_t nl = name ? strlen(name) : 0;
    MDB_cursor *c;
    MDB_val key, val;
    int rc;
    if (name && nl + 1 > ix->maxkey)
        return 0;
    if ((rc = mdb_cursor_open(txn, ix->postings, &c)) != 0)
        return rc;
    if (name) {
        memcpy(k, name, nl + 1);
        key.mv_size = nl + 1;
        key.mv_data = k;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
    } else {
        rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    }
    while (rc == 0) {
        const char *p = key.mv_data;
        size_t a = strnlen(p, key.mv_size);
        if (a == key.mv_size || a + 1 > sizeof k) {
            rc = SERIES_ECORRUPT;
            break;
        }
        if (name) {
            if (a != nl || memcmp(p, name, nl))
                break;
            if ((rc = strs_push(st, p + a + 1, key.mv_size - a - 1)) != 0)
                break;
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_NODUP);
        } else {
            if ((rc = strs_push(st, p, a)) != 0)
                break;
            memcpy(k, p, a);
            k[a] = 1;
            key.mv_size = a + 1;
            key.mv_data = k;
            rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int sindex_strings(const struct sindex *ix, MDB_txn *txn, const char *name, const uint64_t *ids,
                   size_t nids, char ***out, size_t *count)
{
    struct strs st = {0};
    int rc = ids ? strings_of(ix, txn, name, ids, nids, &st) : strings_all(ix, txn, name, &st);
    if (rc == 0)
        rc = strs_out(&st, out, count);
    free(st.v);
    return rc;
}

int sindex_count(const struct sindex *ix, MDB_txn *txn, const char *metric, uint64_t *count)
{
    uint8_t k[SINDEX_KEY_MAX + 1];
    MDB_cursor *c;
    MDB_val key, val;
    size_t ml = strlen(metric);
    *count = 0;
    if (9 + ml > ix->maxkey)
        return 0;
    memcpy(k, "__name__", 9); /* with its \0 */
    memcpy(k + 9, metric, ml);
    key.mv_size = 9 + ml;
    key.mv_data = k;
    int rc = mdb_cursor_open(txn, ix->postings, &c);
    if (rc)
        return rc;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY);
    if (rc == 0) {
        size_t n;
        if ((rc = mdb_cursor_count(c, &n)) == 0)
            *count = n;
    } else if (rc == MDB_NOTFOUND) {
        rc = 0;
    }
    mdb_cursor_close(c);
    return rc;
}

int sindex_metric_counts(const struct sindex *ix, MDB_txn *txn, struct series_metric_count **out,
                         size_t *n)
{
    char **names = NULL;
    size_t cnt = 0, bytes = 0;
    int rc = sindex_strings(ix, txn, "__name__", NULL, 0, &names, &cnt);
    if (rc || !cnt)
        return rc;
    for (size_t i = 0; i < cnt; i++)
        bytes += strlen(names[i]) + 1;
    struct series_metric_count *o = malloc(cnt * sizeof *o + bytes);
    if (!o) {
        free(names);
        return SERIES_ENOMEM;
    }
    char *p = (char *)(o + cnt);
    for (size_t i = 0; i < cnt && rc == 0; i++) {
        size_t l = strlen(names[i]) + 1;
        memcpy(p, names[i], l);
        o[i].name = p;
        p += l;
        rc = sindex_count(ix, txn, names[i], &o[i].series);
    }
    free(names);
    if (rc) {
        free(o);
        return rc;
    }
    *out = o;
    *n = cnt;
    return 0;
}
