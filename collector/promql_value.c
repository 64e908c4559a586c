/*
 * promql_value.c — memory, interned label sets, maps, series and results
 * of the PromQL evaluator; the result's JSON.
 *
 * DESIGN (see promql_value.h for the model)
 * - Tracked heap: every block has a small header linking it into the
 *   context's list, so one call frees whatever an aborted evaluation left.
 * - Interning: open addressing on a 64-bit FNV-1a hash of the set; the
 *   canonical copy (header, labels and bytes in one arena block) is never
 *   freed before the result. Sets are small and few compared to samples.
 * - The pointer map (pair of pointers -> size_t) is open addressing too,
 *   sized to a power of two, load <= 1/2.
 * - JSON follows Prometheus's writer (web/api/v1/json_codec.go and
 *   util/jsonutil): timestamps as integer seconds plus exactly three
 *   decimals when not whole; values as quoted Go floats; strings escaped as
 *   jsoniter's standard-library-compatible configuration does.
 * - A range query's answer is mostly points, so they are written straight
 *   into the output buffer: room for a batch is reserved once (a point's
 *   worst case, which the formatters' stores past a text's end fit in),
 *   then no bound check or copy per point. A timestamp's whole seconds are
 *   the last ones' text plus the step, added in decimal (a regular step
 *   adds a few units to the last two digits), converted afresh only when
 *   the time goes back, jumps 100 s or more, or gains a digit.
 * - With a worker pool (promql_result_json_pool), a large matrix is cut
 *   into pieces of up to JSON_PIECE points (a piece never spans two
 *   series), each written into a buffer of its own by whichever thread
 *   takes it, then the pieces are appended in order: the same bytes as one
 *   thread writes, since a piece's text depends only on its points (the
 *   timestamp shortcut starts afresh in each piece and gives the same
 *   digits).
 */
#include "promql_value.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "promql_fmt.h"
#include "promql_lex.h"
#include "qpool.h"

/* --- tracked heap -------------------------------------------------------- */

struct pq_blk {
    struct pq_blk *prev, *next;
    _Alignas(16) unsigned char data[];
};

static struct pq_blk *blk_of(void *p)
{
    return (struct pq_blk *)((unsigned char *)p - offsetof(struct pq_blk, data));
}

void *pq_alloc(struct pq_heap *h, size_t n)
{
    return pq_realloc(h, NULL, n);
}

void *pq_realloc(struct pq_heap *h, void *p, size_t n)
{
    if (n > SIZE_MAX - sizeof(struct pq_blk))
        return NULL;
    struct pq_blk *old = p ? blk_of(p) : NULL;
    struct pq_blk *b = realloc(old, sizeof *b + n);
    if (!b)
        return NULL;
    if (!old) {
        b->prev = NULL;
        b->next = h->head;
        if (h->head)
            h->head->prev = b;
        h->head = b;
    } else if (b != old) {
        if (b->prev)
            b->prev->next = b;
        else
            h->head = b;
        if (b->next)
            b->next->prev = b;
    }
    return b->data;
}

void pq_free(struct pq_heap *h, void *p)
{
    if (!p)
        return;
    struct pq_blk *b = blk_of(p);
    if (b->prev)
        b->prev->next = b->next;
    else
        h->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    free(b);
}

void *pq_blk_new(size_t n)
{
    if (n > SIZE_MAX - sizeof(struct pq_blk))
        return NULL;
    struct pq_blk *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    b->prev = b->next = NULL;
    return b->data;
}

void pq_heap_adopt(struct pq_heap *h, void *p)
{
    struct pq_blk *b = blk_of(p);
    b->prev = NULL;
    b->next = h->head;
    if (h->head)
        h->head->prev = b;
    h->head = b;
}

void pq_blk_drop(void *p)
{
    if (p)
        free(blk_of(p));
}

void pq_heap_clear(struct pq_heap *h)
{
    for (struct pq_blk *b = h->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    h->head = NULL;
}

/* --- context ------------------------------------------------------------- */

int pq_fail(struct pq_ctx *c, enum promql_errtype t, const char *fmt, ...)
{
    if (c->err && c->err->type == PROMQL_ERR_NONE) {
        c->err->type = t;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
        va_end(ap);
    }
    return PROMQL_EEVAL;
}

int pq_oom(struct pq_ctx *c)
{
    if (c->err && c->err->type == PROMQL_ERR_NONE) {
        c->err->type = PROMQL_ERR_INTERNAL;
        snprintf(c->err->msg, sizeof c->err->msg, "out of memory");
    }
    return PROMQL_ENOMEM;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int pq_tick(struct pq_ctx *c)
{
    if ((c->ticks++ & 63) != 0)
        return 0;
    if (c->o.canceled && c->o.canceled(c->o.cancel_ud))
        return pq_fail(c, PROMQL_ERR_CANCELED, "query was canceled in expression evaluation");
    if (c->deadline_ns && now_ns() > c->deadline_ns)
        return pq_timeout(c);
    return 0;
}

int pq_timeout(struct pq_ctx *c)
{
    return pq_fail(c, PROMQL_ERR_TIMEOUT, "query timed out in expression evaluation");
}

int pq_hold_slow(struct pq_ctx *c, int64_t n)
{
    if (n < 0) {
        uint64_t m = (uint64_t)-n;
        c->samples = m > c->samples ? 0 : c->samples - m;
        return 0;
    }
    c->samples += (uint64_t)n;
    if (c->samples > c->o.max_samples)
        return pq_fail(c, PROMQL_ERR_TOO_MANY_SAMPLES,
                       "query processing would load too many samples into memory in query "
                       "execution");
    return 0;
}

void *pq_arena_alloc(struct pq_ctx *c, size_t n)
{
    return arena_alloc(c->arena, n ? n : 1);
}

/* --- label sets ---------------------------------------------------------- */

static const char METRIC_NAME[] = "__name__";

bool pq_streq(const struct promql_str *a, const char *s, size_t len)
{
    return a->len == len && memcmp(a->p, s, len) == 0;
}

static int strcmp_len(const char *a, size_t al, const char *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    if (r)
        return r;
    return al < bl ? -1 : al > bl;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t hash_labels(const struct promql_label *l, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    static const unsigned char sep = 0xff;
    for (size_t i = 0; i < n; i++) {
        if (l[i].value.len == 0)
            continue;
        h = fnv(h, l[i].name.p, l[i].name.len);
        h = fnv(h, &sep, 1);
        h = fnv(h, l[i].value.p, l[i].value.len);
        h = fnv(h, &sep, 1);
    }
    return h ^ (h >> 29);
}

static bool same_labels(const pq_labels *a, const struct promql_label *l, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].value.len == 0)
            continue;
        if (j >= a->n)
            return false;
        const struct promql_label *x = &a->l[j++];
        if (x->name.len != l[i].name.len || x->value.len != l[i].value.len ||
            memcmp(x->name.p, l[i].name.p, x->name.len) != 0 ||
            memcmp(x->value.p, l[i].value.p, x->value.len) != 0)
            return false;
    }
    return j == a->n;
}

static bool intern_grow(struct pq_ctx *c)
{
    struct pq_intern *t = &c->intern;
    size_t cap = t->cap ? t->cap * 2 : 256;
    const pq_labels **slot = pq_alloc(&c->heap, cap * sizeof *slot);
    if (!slot)
        return false;
    memset(slot, 0, cap * sizeof *slot);
    for (size_t i = 0; i < t->cap; i++) {
        const pq_labels *ls = t->slot[i];
        if (!ls)
            continue;
        size_t j = ls->hash & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = ls;
    }
    pq_free(&c->heap, t->slot);
    t->slot = slot;
    t->cap = cap;
    return true;
}

const pq_labels *pq_intern(struct pq_ctx *c, const struct promql_label *l, size_t n)
{
    struct pq_intern *t = &c->intern;
    if ((t->count + 1) * 2 > t->cap && !intern_grow(c))
        return NULL;
    uint64_t h = hash_labels(l, n);
    size_t j = h & (t->cap - 1);
    for (; t->slot[j]; j = (j + 1) & (t->cap - 1))
        if (t->slot[j]->hash == h && same_labels(t->slot[j], l, n))
            return t->slot[j];
    size_t cnt = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].value.len == 0)
            continue;
        cnt++;
        bytes += l[i].name.len + l[i].value.len + 2;
    }
    pq_labels *ls = pq_arena_alloc(c, sizeof *ls + cnt * sizeof(struct promql_label) + bytes);
    if (!ls)
        return NULL;
    ls->hash = h;
    ls->noname_ = NULL;
    ls->n = cnt;
    char *s = (char *)&ls->l[cnt];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].value.len == 0)
            continue;
        struct promql_label *d = &ls->l[k++];
        memcpy(s, l[i].name.p, l[i].name.len);
        s[l[i].name.len] = 0;
        d->name.p = s;
        d->name.len = l[i].name.len;
        s += l[i].name.len + 1;
        memcpy(s, l[i].value.p, l[i].value.len);
        s[l[i].value.len] = 0;
        d->value.p = s;
        d->value.len = l[i].value.len;
        s += l[i].value.len + 1;
    }
    t->slot[j] = ls;
    t->count++;
    return ls;
}

static bool is_reserved_meta(const struct promql_str *n)
{
    return pq_streq(n, METRIC_NAME, 8) || pq_streq(n, "__type__", 8) || pq_streq(n, "__unit__", 8);
}

/* A temporary label array, on the stack when small. */
struct lbuf {
    struct promql_label *l;
    struct promql_label small[16];
    size_t n;
};

static bool lbuf_init(struct pq_ctx *c, struct lbuf *b, size_t cap)
{
    b->n = 0;
    b->l = b->small;
    if (cap > 16 && !(b->l = pq_alloc(&c->heap, cap * sizeof *b->l)))
        return false;
    return true;
}

static void lbuf_done(struct pq_ctx *c, struct lbuf *b)
{
    if (b->l != b->small)
        pq_free(&c->heap, b->l);
}

const pq_labels *pq_drop_name(struct pq_ctx *c, const pq_labels *ls)
{
    if (ls->noname_)
        return ls->noname_;
    bool any = false;
    for (size_t i = 0; i < ls->n && !any; i++)
        any = is_reserved_meta(&ls->l[i].name);
    const pq_labels *r = ls;
    if (any) {
        struct lbuf b;
        if (!lbuf_init(c, &b, ls->n))
            return NULL;
        for (size_t i = 0; i < ls->n; i++)
            if (!is_reserved_meta(&ls->l[i].name))
                b.l[b.n++] = ls->l[i];
        r = pq_intern(c, b.l, b.n);
        lbuf_done(c, &b);
        if (!r)
            return NULL;
    }
    ((pq_labels *)ls)->noname_ = r;
    return r;
}

static bool in_names(const struct promql_str *n, const struct promql_str *names, size_t nn)
{
    for (size_t i = 0; i < nn; i++)
        if (names[i].len == n->len && memcmp(names[i].p, n->p, n->len) == 0)
            return true;
    return false;
}

const pq_labels *pq_project(struct pq_ctx *c, const pq_labels *ls, const struct promql_str *names,
                            size_t nn, bool keep, bool also_name)
{
    struct lbuf b;
    if (!lbuf_init(c, &b, ls->n))
        return NULL;
    for (size_t i = 0; i < ls->n; i++) {
        const struct promql_str *n = &ls->l[i].name;
        bool listed = in_names(n, names, nn);
        if (keep ? listed : (!listed && !(also_name && pq_streq(n, METRIC_NAME, 8))))
            b.l[b.n++] = ls->l[i];
    }
    const pq_labels *r = pq_intern(c, b.l, b.n);
    lbuf_done(c, &b);
    return r;
}

const pq_labels *pq_set(struct pq_ctx *c, const pq_labels *ls, const char *name, size_t nlen,
                        const char *value, size_t vlen)
{
    struct lbuf b;
    if (!lbuf_init(c, &b, ls->n + 1))
        return NULL;
    bool done = false;
    for (size_t i = 0; i < ls->n; i++) {
        int r = strcmp_len(ls->l[i].name.p, ls->l[i].name.len, name, nlen);
        if (r > 0 && !done) {
            b.l[b.n++] = (struct promql_label){{name, nlen}, {value, vlen}};
            done = true;
        }
        if (r == 0) {
            b.l[b.n++] = (struct promql_label){{name, nlen}, {value, vlen}};
            done = true;
            continue;
        }
        b.l[b.n++] = ls->l[i];
    }
    if (!done)
        b.l[b.n++] = (struct promql_label){{name, nlen}, {value, vlen}};
    const pq_labels *r = pq_intern(c, b.l, b.n);
    lbuf_done(c, &b);
    return r;
}

const char *pq_get(const pq_labels *ls, const char *name, size_t nlen, size_t *len)
{
    for (size_t i = 0; i < ls->n; i++)
        if (ls->l[i].name.len == nlen && memcmp(ls->l[i].name.p, name, nlen) == 0) {
            *len = ls->l[i].value.len;
            return ls->l[i].value.p;
        }
    *len = 0;
    return NULL;
}

int pq_labels_cmp(const pq_labels *a, const pq_labels *b)
{
    if (a == b)
        return 0;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        int r = strcmp_len(a->l[i].name.p, a->l[i].name.len, b->l[i].name.p, b->l[i].name.len);
        if (r)
            return r;
        r = strcmp_len(a->l[i].value.p, a->l[i].value.len, b->l[i].value.p, b->l[i].value.len);
        if (r)
            return r;
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

void pq_labels_str(struct buf *b, const pq_labels *ls)
{
    buf_puts(b, "{");
    for (size_t i = 0; i < ls->n; i++) {
        if (i)
            buf_puts(b, ", ");
        const struct promql_str *n = &ls->l[i].name;
        if (promql_is_legacy_name(n->p, n->len))
            buf_append(b, n->p, n->len);
        else
            promql_quote_msg(b, n->p, n->len);
        buf_puts(b, "=");
        promql_quote_msg(b, ls->l[i].value.p, ls->l[i].value.len);
    }
    buf_puts(b, "}");
}

/* --- pointer map --------------------------------------------------------- */

struct pq_map_ent {
    const void *a, *b;
    size_t v;
    bool used;
};

static size_t map_hash(const void *a, const void *b)
{
    uint64_t x = (uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ull;
    x ^= (uint64_t)(uintptr_t)b + 0x632BE59BD9B4E019ull + (x << 6) + (x >> 2);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (size_t)x;
}

static bool map_grow(struct pq_ctx *c, struct pq_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct pq_map_ent *e = pq_alloc(&c->heap, cap * sizeof *e);
    if (!e)
        return false;
    memset(e, 0, cap * sizeof *e);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].used)
            continue;
        size_t j = map_hash(m->e[i].a, m->e[i].b) & (cap - 1);
        while (e[j].used)
            j = (j + 1) & (cap - 1);
        e[j] = m->e[i];
    }
    pq_free(&c->heap, m->e);
    m->e = e;
    m->cap = cap;
    return true;
}

size_t *pq_map_get(struct pq_ctx *c, struct pq_map *m, const void *a, const void *b, bool create,
                   size_t v, bool *oom)
{
    if (create && (m->count + 1) * 2 > m->cap && !map_grow(c, m)) {
        *oom = true;
        return NULL;
    }
    if (!m->cap)
        return NULL;
    size_t j = map_hash(a, b) & (m->cap - 1);
    for (; m->e[j].used; j = (j + 1) & (m->cap - 1))
        if (m->e[j].a == a && m->e[j].b == b)
            return &m->e[j].v;
    if (!create)
        return NULL;
    m->e[j] = (struct pq_map_ent){a, b, v, true};
    m->count++;
    return &m->e[j].v;
}

void pq_map_free(struct pq_ctx *c, struct pq_map *m)
{
    pq_free(&c->heap, m->e);
    *m = (struct pq_map){0};
}

/* --- series, matrices, vectors ------------------------------------------- */

struct pq_series *pq_matrix_add(struct pq_ctx *c, struct pq_matrix *mx, const pq_labels *m)
{
    if (mx->n == mx->cap) {
        size_t cap = mx->cap ? mx->cap * 2 : 8;
        struct pq_series *s = pq_realloc(&c->heap, mx->s, cap * sizeof *s);
        if (!s)
            return NULL;
        mx->s = s;
        mx->cap = cap;
    }
    struct pq_series *s = &mx->s[mx->n++];
    *s = (struct pq_series){.m = m, .last_t = INT64_MIN};
    return s;
}

int pq_series_push_slow(struct pq_ctx *c, struct pq_series *s, int64_t t, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct promql_sample *p = pq_realloc(&c->heap, s->p, cap * sizeof *p);
        if (!p)
            return pq_oom(c);
        s->p = p;
        s->cap = cap;
    }
    s->p[s->n++] = (struct promql_sample){t, v};
    return pq_hold(c, 1);
}

int pq_series_reserve(struct pq_ctx *c, struct pq_series *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    if (n > SIZE_MAX / sizeof *s->p)
        return pq_oom(c);
    struct promql_sample *p = pq_realloc(&c->heap, s->p, n * sizeof *p);
    if (!p)
        return pq_oom(c);
    s->p = p;
    s->cap = n;
    return 0;
}

void pq_matrix_free(struct pq_ctx *c, struct pq_matrix *mx)
{
    uint64_t n = 0;
    for (size_t i = 0; i < mx->n; i++) {
        n += mx->s[i].n;
        pq_free(&c->heap, mx->s[i].p);
    }
    pq_hold(c, -(int64_t)n);
    pq_free(&c->heap, mx->s);
    *mx = (struct pq_matrix){0};
}

int pq_vector_push(struct pq_ctx *c, struct pq_vector *v, const pq_labels *m, double val, int64_t t,
                   uint32_t idx)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        struct pq_sample *s = pq_realloc(&c->heap, v->s, cap * sizeof *s);
        if (!s)
            return pq_oom(c);
        v->s = s;
        v->cap = cap;
    }
    v->s[v->n++] = (struct pq_sample){m, val, t, idx};
    return 0;
}

void pq_vector_free(struct pq_ctx *c, struct pq_vector *v)
{
    pq_free(&c->heap, v->s);
    *v = (struct pq_vector){0};
}

static void merge_sort_series(struct pq_series *a, struct pq_series *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort_series(a, tmp, h);
    merge_sort_series(a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = pq_labels_cmp(a[j].m, a[i].m) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

void pq_matrix_sort(struct pq_matrix *mx)
{
    if (mx->n < 2)
        return;
    bool sorted = true;
    for (size_t i = 1; i < mx->n && sorted; i++)
        sorted = pq_labels_cmp(mx->s[i - 1].m, mx->s[i].m) <= 0;
    if (sorted)
        return;
    struct pq_series *tmp = malloc(mx->n * sizeof *tmp);
    if (!tmp) { /* fall back to insertion sort: no memory needed */
        for (size_t i = 1; i < mx->n; i++) {
            struct pq_series x = mx->s[i];
            size_t j = i;
            for (; j > 0 && pq_labels_cmp(x.m, mx->s[j - 1].m) < 0; j--)
                mx->s[j] = mx->s[j - 1];
            mx->s[j] = x;
        }
        return;
    }
    merge_sort_series(mx->s, tmp, mx->n);
    free(tmp);
}

/* --- the step loop ------------------------------------------------------- */

void pq_rewind(struct pq_matrix *mx)
{
    for (size_t i = 0; i < mx->n; i++) {
        mx->s[i].cur = 0;
        mx->s[i].last_t = INT64_MIN;
    }
}

int pq_gather(struct pq_ctx *c, struct pq_matrix *mx, int64_t ts, struct pq_vector *out)
{
    out->n = 0;
    if (out->cap < mx->n) { /* room for a sample of every series, once */
        struct pq_sample *s = pq_realloc(&c->heap, out->s, mx->n * sizeof *s);
        if (!s)
            return pq_oom(c);
        out->s = s;
        out->cap = mx->n;
    }
    struct pq_sample *o = out->s;
    for (size_t i = 0; i < mx->n; i++) {
        struct pq_series *s = &mx->s[i];
        size_t cur = s->cur;
        while (cur < s->n && s->p[cur].t < ts)
            cur++;
        if (cur < s->n && s->p[cur].t == ts)
            *o++ = (struct pq_sample){s->m, s->p[cur++].v, ts, (uint32_t)i};
        s->cur = cur;
    }
    out->n = (size_t)(o - out->s);
    return 0;
}

void pq_collect_init(struct pq_collect *col, struct pq_matrix *out, bool instant)
{
    *col = (struct pq_collect){.out = out, .instant = instant};
}

static int same_labelset(struct pq_ctx *c)
{
    return pq_fail(c, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
}

int pq_collect(struct pq_ctx *c, struct pq_collect *col, const struct pq_vector *v, int64_t ts)
{
    bool oom = false;
    for (size_t i = 0; i < v->n; i++) {
        const struct pq_sample *x = &v->s[i];
        size_t *slot = pq_map_get(c, &col->map, x->m, NULL, true, col->out->n, &oom);
        if (!slot)
            return pq_oom(c);
        struct pq_series *s;
        if (*slot == col->out->n) {
            if (!(s = pq_matrix_add(c, col->out, x->m)))
                return pq_oom(c);
        } else {
            s = &col->out->s[*slot];
            if (s->last_t == ts)
                return same_labelset(c);
        }
        s->last_t = ts;
        int rc = pq_series_push(c, s, ts, x->v);
        if (rc)
            return rc;
    }
    return 0;
}

void pq_collect_done(struct pq_ctx *c, struct pq_collect *col)
{
    pq_map_free(c, &col->map);
    for (size_t i = 0; i < col->out->n; i++)
        col->out->s[i].last_t = INT64_MIN;
}

int pq_range_eval(struct pq_ctx *c, const struct pq_steps *st, struct pq_matrix *ops, size_t nops,
                  pq_step_fn fn, void *ud, struct pq_matrix *out)
{
    struct pq_vector small[4], *in = small, res = {0};
    int rc = 0;
    if (nops > 4 && !(in = pq_alloc(&c->heap, nops * sizeof *in)))
        return pq_oom(c);
    memset(in, 0, (nops > 4 ? nops : 4) * sizeof *in);
    for (size_t i = 0; i < nops; i++)
        pq_rewind(&ops[i]);
    struct pq_collect col;
    *out = (struct pq_matrix){0};
    pq_collect_init(&col, out, pq_instant(st));
    PQ_FOR_STEPS(st, ts)
    {
        if ((rc = pq_tick(c)))
            return rc;
        for (size_t i = 0; i < nops; i++)
            if ((rc = pq_gather(c, &ops[i], ts, &in[i])))
                return rc;
        res.n = 0;
        if ((rc = fn(c, ud, in, &res, ts)) || (rc = pq_collect(c, &col, &res, ts)))
            return rc;
    }
    pq_collect_done(c, &col);
    for (size_t i = 0; i < nops; i++) {
        pq_vector_free(c, &in[i]);
        pq_matrix_free(c, &ops[i]);
    }
    if (in != small)
        pq_free(&c->heap, in);
    pq_vector_free(c, &res);
    return 0;
}

/* --- results ------------------------------------------------------------- */

struct promql_result_mem {
    struct arena *arena;
    struct pq_heap heap;
};

struct promql_result *pq_result_new(struct pq_ctx *c, enum promql_type type, struct pq_matrix *mx)
{
    struct promql_result *r = calloc(1, sizeof *r);
    struct promql_result_mem *m = calloc(1, sizeof *m);
    struct promql_series *ser = NULL;
    if (mx->n && !(ser = pq_alloc(&c->heap, mx->n * sizeof *ser)))
        goto fail;
    if (!r || !m)
        goto fail;
    for (size_t i = 0; i < mx->n; i++)
        ser[i] = (struct promql_series){mx->s[i].m->l, mx->s[i].m->n, mx->s[i].p, mx->s[i].n};
    r->type = type;
    r->series = ser;
    r->nseries = mx->n;
    /* Free what the result does not need, then adopt the rest. */
    pq_free(&c->heap, mx->s);
    *mx = (struct pq_matrix){0};
    pq_free(&c->heap, c->intern.slot);
    c->intern = (struct pq_intern){0};
    m->arena = c->arena;
    m->heap = c->heap;
    c->arena = NULL;
    c->heap.head = NULL;
    r->mem_ = m;
    return r;
fail:
    pq_free(&c->heap, ser);
    free(m);
    free(r);
    return NULL;
}

void promql_result_free(struct promql_result *r)
{
    if (!r)
        return;
    if (r->mem_) {
        pq_heap_clear(&r->mem_->heap);
        arena_destroy(r->mem_->arena);
        free(r->mem_);
    }
    free(r);
}

/* --- formatting ---------------------------------------------------------- */

void pq_format_value(struct buf *b, double v)
{
    char t[PQ_FMT_MAX];
    buf_append(b, t, pq_fmt_value(t, v));
}

void pq_format_go_v(struct buf *b, double v)
{
    char t[PQ_FMT_MAX];
    if (!isfinite(v) || v == 0) {
        buf_append(b, t, pq_fmt_f(t, v));
        return;
    }
    char d[24];
    int nd, x;
    pq_fmt_shortest(v, d, &nd, &x);
    /* %v is strconv's 'g' with the shortest digits, which switches to an
     * exponent below 1e-4 and from 1e+06 up. */
    buf_append(b, t, x < -4 || x >= 6 ? pq_fmt_e(t, v) : pq_fmt_f(t, v));
}

static void put_uint(struct buf *b, uint64_t u)
{
    char t[24];
    size_t n = sizeof t;
    do
        t[--n] = (char)('0' + u % 10);
    while (u /= 10);
    buf_append(b, t + n, sizeof t - n);
}

void pq_json_time(struct buf *b, int64_t t)
{
    uint64_t u = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    if (t < 0)
        buf_puts(b, "-");
    put_uint(b, u / 1000);
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        char f[5] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                     (char)('0' + frac % 10), 0};
        buf_append(b, f, 4);
    }
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void json_str(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_puts(b, "\"");
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned c = p[i];
        const char *esc = NULL;
        char u[8];
        size_t adv = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(u, sizeof u, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            esc = u;
        } else if (c >= 0x80) {
            adv = utf8_seq(p + i, n - i);
            if (adv == 0) {
                esc = "\\ufffd";
                adv = 1;
            } else if (adv == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
                       (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                esc = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            }
        }
        if (esc) {
            buf_append(b, s + run, i - run);
            buf_puts(b, esc);
            i += adv;
            run = i;
        } else
            i += adv;
    }
    buf_append(b, s + run, n - run);
    buf_puts(b, "\"");
}

static void json_metric(struct buf *b, const struct promql_series *s)
{
    buf_puts(b, "{");
    for (size_t i = 0; i < s->nlabels; i++) {
        if (i)
            buf_puts(b, ",");
        json_str(b, s->labels[i].name.p, s->labels[i].name.len);
        buf_puts(b, ":");
        json_str(b, s->labels[i].value.p, s->labels[i].value.len);
    }
    buf_puts(b, "}");
}

/* The JSON of points is written straight into the output buffer: room
 * for a batch of points is reserved once (POINT_ROOM bytes each, more than
 * a point's text plus what the formatters may write past it), then the
 * points are written with no bound check or copy each. */
#define POINT_ROOM  (1 + 1 + 24 + 4 + 2 + PQ_FMT_VALUE_ROOM + 2 + 1 + 8)
#define POINT_BATCH 256

/* The whole seconds of the last timestamp written, as text: the next
 * timestamp of a range query is the last one plus the step, so its text is
 * this one with the step added in decimal, most often to the last two
 * digits only, instead of a new conversion. */
struct json_clock {
    uint64_t secs; /* the value of text, when len > 0 */
    size_t len;    /* 0: none yet */
    char text[24]; /* digits (len <= 20), then room for a fixed-size copy */
};

/* Adds d < 100 to the text (at least two digits); false when the sum has
 * one digit more (the text is then spoiled: convert afresh). */
static bool clock_add(struct json_clock *c, unsigned d)
{
    char *t = c->text + c->len;
    unsigned tail = (unsigned)(t[-2] - '0') * 10 + (unsigned)(t[-1] - '0') + d;
    if (tail >= 100) { /* carry into the digits before */
        tail -= 100;
        char *q = t - 3;
        while (q >= c->text && *q == '9')
            *q-- = '0';
        if (q < c->text)
            return false;
        ++*q;
    }
    t[-2] = (char)('0' + tail / 10);
    t[-1] = (char)('0' + tail % 10);
    return true;
}

/* Writes the whole seconds s at o (24 bytes of room); returns the length. */
static size_t put_secs(char *o, struct json_clock *c, uint64_t s)
{
    if (!(c->len >= 2 && s >= c->secs && s - c->secs < 100 &&
          clock_add(c, (unsigned)(s - c->secs))))
        c->len = pq_fmt_u64(c->text, s);
    c->secs = s;
    memcpy(o, c->text, sizeof c->text);
    return c->len;
}

/* [t,"v"] at o (POINT_ROOM bytes of room); returns the end. Timestamps as
 * pq_json_time writes them. */
static char *put_point(char *o, struct json_clock *c, const struct promql_sample *p)
{
    *o++ = '[';
    uint64_t u = (uint64_t)p->t;
    if (p->t < 0) {
        *o++ = '-';
        u = (uint64_t)0 - u;
    }
    uint64_t s = u / 1000;
    unsigned frac = (unsigned)(u - s * 1000);
    o += put_secs(o, c, s);
    if (frac) {
        o[0] = '.';
        o[1] = (char)('0' + frac / 100);
        o[2] = (char)('0' + frac / 10 % 10);
        o[3] = (char)('0' + frac % 10);
        o += 4;
    }
    memcpy(o, ",\"", 2);
    o += 2;
    o += pq_fmt_value(o, p->v);
    memcpy(o, "\"]", 2);
    return o + 2;
}

/* The points p[0..n), comma-separated, appended to b. Writes into the
 * buffer's reserved room directly and keeps its invariants (len, the
 * terminating NUL); on allocation failure b->oom is set and nothing more
 * is written. */
static void json_points(struct buf *b, struct json_clock *c, const struct promql_sample *p,
                        size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = n - i < POINT_BATCH ? n - i : POINT_BATCH;
        if (!buf_reserve(b, k * POINT_ROOM))
            return;
        char *o = b->p + b->len;
        for (size_t end = i + k; i < end; i++) {
            *o = ',';
            o += i > 0;
            o = put_point(o, c, &p[i]);
        }
        b->len = (size_t)(o - b->p);
        b->p[b->len] = 0;
    }
}

/* A run of one matrix series' points and, around them, whatever JSON
 * separates and frames them in the answer. */
struct json_piece {
    size_t series, from, to; /* points [from, to) of series */
    struct buf b;
};

#define JSON_PIECE   4096 /* points */
#define JSON_PAR_MIN (2 * JSON_PIECE)

struct json_par {
    const struct promql_result *r;
    struct json_piece *pc;
};

static void json_piece(void *ud, unsigned w, size_t k)
{
    struct json_par *jp = ud;
    struct json_piece *pc = &jp->pc[k];
    const struct promql_series *s = &jp->r->series[pc->series];
    struct json_clock clock = {0};
    (void)w;
    if (pc->from == 0) {
        if (pc->series)
            buf_puts(&pc->b, ",");
        buf_puts(&pc->b, "{\"metric\":");
        json_metric(&pc->b, s);
        if (s->n)
            buf_puts(&pc->b, ",\"values\":[");
    } else {
        buf_puts(&pc->b, ",");
    }
    json_points(&pc->b, &clock, s->samples + pc->from, pc->to - pc->from);
    if (pc->to == s->n)
        buf_puts(&pc->b, s->n ? "]}" : "}");
}

int promql_result_json_pool(const struct promql_result *r, struct buf *out, struct qpool *pool)
{
    size_t points = 0, npc = 0;
    if (pool && r->type == PROMQL_TYPE_MATRIX)
        for (size_t i = 0; i < r->nseries; i++) {
            points += r->series[i].n;
            npc += r->series[i].n ? (r->series[i].n + JSON_PIECE - 1) / JSON_PIECE : 1;
        }
    if (points < JSON_PAR_MIN)
        return promql_result_json(r, out);
    struct json_piece *pc = calloc(npc, sizeof *pc);
    if (!pc)
        return promql_result_json(r, out);
    size_t k = 0;
    for (size_t i = 0; i < r->nseries; i++) {
        size_t n = r->series[i].n, a = 0;
        do {
            size_t b = n - a < JSON_PIECE ? n : a + JSON_PIECE;
            pc[k++] = (struct json_piece){.series = i, .from = a, .to = b};
            a = b;
        } while (a < n);
    }
    struct json_par jp = {r, pc};
    (void)qpool_for(pool, &(struct qpool_loop){npc, json_piece, NULL, NULL, &jp, 0});
    size_t total = 0;
    bool oom = false;
    for (size_t j = 0; j < npc; j++) {
        total += pc[j].b.len;
        oom |= pc[j].b.oom;
    }
    buf_puts(out, "{\"resultType\":\"matrix\",\"result\":[");
    if (!oom && buf_reserve(out, total + 3))
        for (size_t j = 0; j < npc; j++)
            buf_append(out, pc[j].b.p, pc[j].b.len);
    else
        out->oom = true;
    buf_puts(out, "]}");
    for (size_t j = 0; j < npc; j++)
        buf_free(&pc[j].b);
    free(pc);
    return out->oom ? PROMQL_ENOMEM : PROMQL_OK;
}

int promql_result_json(const struct promql_result *r, struct buf *out)
{
    struct json_clock clock = {0};
    buf_puts(out, "{\"resultType\":\"");
    buf_puts(out, promql_type_name(r->type));
    buf_puts(out, "\",\"result\":");
    switch (r->type) {
    case PROMQL_TYPE_SCALAR: json_points(out, &clock, &r->scalar, 1); break;
    case PROMQL_TYPE_STRING:
        buf_puts(out, "[");
        pq_json_time(out, r->string_t);
        buf_puts(out, ",");
        json_str(out, r->string.p, r->string.len);
        buf_puts(out, "]");
        break;
    case PROMQL_TYPE_VECTOR:
    case PROMQL_TYPE_MATRIX:
        buf_puts(out, "[");
        for (size_t i = 0; i < r->nseries; i++) {
            const struct promql_series *s = &r->series[i];
            if (i)
                buf_puts(out, ",");
            buf_puts(out, "{\"metric\":");
            json_metric(out, s);
            if (r->type == PROMQL_TYPE_VECTOR) {
                buf_puts(out, ",\"value\":");
                if (s->n)
                    json_points(out, &clock, s->samples, 1);
            } else if (s->n) {
                buf_puts(out, ",\"values\":[");
                json_points(out, &clock, s->samples, s->n);
                buf_puts(out, "]");
            }
            buf_puts(out, "}");
        }
        buf_puts(out, "]");
        break;
    default: buf_puts(out, "null"); break;
    }
    buf_puts(out, "}");
    return out->oom ? PROMQL_ENOMEM : PROMQL_OK;
}
