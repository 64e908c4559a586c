/*
 * price.c — load a LiteLLM-format price table, index it, price events.
 *
 * DESIGN
 * - Loading: the whole file is parsed with cJSON, then each model entry is
 *   copied into a flat array of struct price_entry (strings and tiers in one
 *   arena owned by the table) and the cJSON tree is dropped. Only the five
 *   token prices, their `_above_<N>k_tokens` tiers, litellm_provider and mode
 *   are read; every other field is ignored whatever its type, so the
 *   upstream file (thousands of entries, new fields every week) loads as is.
 *   A field we do read with the wrong type is an error naming the key.
 * - Index: two open-addressing hash tables (FNV-1a 64) built at load.
 *   `exact` maps a lower-cased key to its entry; `norm` maps a normalised
 *   name (price_normalize) to a run of the `byname` array, which lists the
 *   priced entries sorted by normalised name, then file order. A lookup
 *   lower-cases/normalises the name into a stack buffer: no allocation, a
 *   handful of string compares per event.
 * - Immutability: after price_parse() returns, nothing in a table changes
 *   except `refs`, so any number of threads read it without locks.
 * - Registry: a mutex guards only the `cur` pointer. A reader takes a
 *   reference (atomic increment under the mutex), prices without the lock and
 *   drops the reference; reload builds the new table with no lock held, swaps
 *   the pointer under the mutex and drops the registry's reference on the old
 *   table, which the last reader frees.
 */
#include "price.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "log.h"

#define FILE_MAX   ((size_t)64 << 20)
#define MAX_TIERS  16
#define KEY_IN_MSG 80 /* bytes of a key quoted in an error message */

static const char *const kind_field[PRICE_KIND_COUNT] = {
    [PRICE_INPUT] = "input_cost_per_token",
    [PRICE_OUTPUT] = "output_cost_per_token",
    [PRICE_CACHE_READ] = "cache_read_input_token_cost",
    [PRICE_CACHE_WRITE] = "cache_creation_input_token_cost",
    [PRICE_REASONING] = "output_cost_per_reasoning_token",
};

/* What the lookup needs besides the public entry. */
struct slot {
    const char *lkey; /* the key, lower case */
    const char *norm; /* its normalised form ("" when empty) */
    uint64_t lhash, nhash;
    uint8_t rank; /* 2: no prefix was dropped, +1: no suffix was dropped */
    bool live;    /* not replaced by a later key equal to it */
};

struct price_table {
    struct arena *arena;
    struct price_entry *e;
    struct slot *s;
    size_t n, live;
    uint32_t *exact; /* entry index + 1; 0 = empty */
    size_t exact_mask;
    uint32_t *byname; /* priced live entries by (norm, index) */
    size_t nbyname;
    uint32_t *norm; /* position in byname + 1 of a run's first entry; 0 = empty */
    size_t norm_mask;
    atomic_int refs; /* registry references */
};

const char *price_strerror(int rc)
{
    switch (rc) {
    case PRICE_OK: return "ok";
    case PRICE_NO_USAGE: return "no token usage";
    case PRICE_UNKNOWN_MODEL: return "unknown model";
    default: return "unknown price error";
    }
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A key for an error message: at most KEY_IN_MSG bytes, cut on a UTF-8
 * boundary, with "..." when cut. */
static void msg_key(const char *key, char out[KEY_IN_MSG + 4])
{
    size_t n = strlen(key);
    if (n <= KEY_IN_MSG) {
        memcpy(out, key, n + 1);
        return;
    }
    n = KEY_IN_MSG;
    while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, key, n);
    memcpy(out + n, "...", 4);
}

/* ---- names ------------------------------------------------------------- */

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static bool in_list(const char *p, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(p, list[i], n) == 0)
            return true;
    return false;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return false;
    return true;
}

static int digits_val(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static bool date_ok(int y, int m, int d)
{
    return y >= 2000 && y <= 2099 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

enum { NORM_PREFIX = 1, NORM_SUFFIX = 2 };

static const char *const regions[] = {"us", "eu", "apac", "au", "jp", "ca", "global", "us-gov"};
static const char *const vendors[] = {
    "anthropic", "amazon", "meta",       "mistral", "cohere", "ai21",   "deepseek", "openai",
    "qwen",      "writer", "moonshotai", "xai",     "nvidia", "google", "zai",      "minimax"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The rule of price_normalize() (in price.h), but for case: the normalised
 * name is model[*from, *to) lower-cased. Returns NORM_* flags. */
static unsigned norm_range(const char *model, size_t *from, size_t *to)
{
    const char *s = model, *e = model + strlen(model);
    unsigned f = 0;

    /* 2. what follows the last '/' */
    for (const char *p = e; p > s; p--)
        if (p[-1] == '/') {
            s = p;
            f |= NORM_PREFIX;
            break;
        }

    /* 3. Bedrock: "-v1:0" / ":0" suffix, region and vendor prefixes */
    const char *p = e;
    while (p > s && is_digit(p[-1]))
        p--;
    if (p < e && p - 1 > s && p[-1] == ':') {
        e = p - 1;
        f |= NORM_SUFFIX;
        const char *q = e;
        while (q > s && is_digit(q[-1]))
            q--;
        if (q < e && q - s > 2 && lower(q[-1]) == 'v' && q[-2] == '-')
            e = q - 2;
    }
    const char *dot = memchr(s, '.', (size_t)(e - s));
    if (dot && in_list(s, (size_t)(dot - s), regions, COUNT(regions))) {
        const char *v = dot + 1;
        const char *dot2 = memchr(v, '.', (size_t)(e - v));
        if (dot2 && dot2 + 1 < e && in_list(v, (size_t)(dot2 - v), vendors, COUNT(vendors))) {
            s = dot2 + 1;
            f |= NORM_PREFIX;
        }
    } else if (dot && dot + 1 < e && in_list(s, (size_t)(dot - s), vendors, COUNT(vendors))) {
        s = dot + 1;
        f |= NORM_PREFIX;
    }

    /* 4. Vertex "@version" */
    const char *at = memchr(s, '@', (size_t)(e - s));
    if (at && at > s) {
        e = at;
        f |= NORM_SUFFIX;
    }

    /* 5. one version suffix */
    size_t n = (size_t)(e - s);
    if (n > 7 && strncasecmp(e - 7, "-latest", 7) == 0) {
        e -= 7;
        f |= NORM_SUFFIX;
    } else if (n > 11 && e[-11] == '-' && all_digits(e - 10, 4) && e[-6] == '-' &&
               all_digits(e - 5, 2) && e[-3] == '-' && all_digits(e - 2, 2) &&
               date_ok(digits_val(e - 10, 4), digits_val(e - 5, 2), digits_val(e - 2, 2))) {
        e -= 11;
        f |= NORM_SUFFIX;
    } else if (n > 9 && e[-9] == '-' && all_digits(e - 8, 8) &&
               date_ok(digits_val(e - 8, 4), digits_val(e - 4, 2), digits_val(e - 2, 2))) {
        e -= 9;
        f |= NORM_SUFFIX;
    }
    *from = (size_t)(s - model);
    *to = (size_t)(e - model);
    return f;
}

size_t price_normalize(const char *model, char *out, size_t outlen)
{
    size_t from = 0, to = 0;
    if (model)
        norm_range(model, &from, &to);
    size_t n = to - from;
    if (outlen) {
        size_t k = n < outlen - 1 ? n : outlen - 1;
        for (size_t i = 0; i < k; i++)
            out[i] = lower(model[from + i]);
        out[k] = 0;
    }
    return n;
}

/* Lower-cases src into dst (cap bytes); returns strlen(src). The copy is
 * complete (and NUL-terminated) only when the result is < cap. */
static size_t lower_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap) {
        for (size_t i = 0; i < n; i++)
            dst[i] = lower(src[i]);
        dst[n] = 0;
    }
    return n;
}

/* ---- parsing ----------------------------------------------------------- */

/* 0: absent or null; 1: *v set; -1: not a finite non-negative number. */
static int read_price(const cJSON *item, double *v)
{
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0)
        return -1;
    *v = item->valuedouble;
    return 1;
}

/* For a field named "<kind field>_above_<N>k_tokens": sets *kind and *above
 * (N * 1000) and returns true. */
static bool tier_field(const char *name, enum price_kind *kind, int64_t *above)
{
    for (int k = 0; k < PRICE_KIND_COUNT; k++) {
        size_t L = strlen(kind_field[k]);
        if (strncmp(name, kind_field[k], L) != 0 || strncmp(name + L, "_above_", 7) != 0)
            continue;
        const char *p = name + L + 7;
        size_t nd = 0;
        while (is_digit(p[nd]))
            nd++;
        if (nd == 0 || nd > 9 || strcmp(p + nd, "k_tokens") != 0)
            return false;
        *kind = (enum price_kind)k;
        *above = (int64_t)digits_val(p, nd) * 1000;
        return true;
    }
    return false;
}

static char *arena_str(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static int cmp_tier(const void *a, const void *b)
{
    const struct price_tier *x = a, *y = b;
    return (x->above > y->above) - (x->above < y->above);
}

/* Fills entry i from the JSON object `obj` under `key`. Returns 0, or -1
 * with err set. */
static int load_entry(struct price_table *t, size_t i, const char *key, const cJSON *obj, char *err,
                      size_t errlen)
{
    struct price_entry *e = &t->e[i];
    struct slot *s = &t->s[i];
    char qk[KEY_IN_MSG + 4];
    size_t klen = strlen(key);
    if (klen == 0) {
        seterr(err, errlen, "a model name is empty");
        return -1;
    }
    if (klen > PRICE_NAME_MAX) {
        msg_key(key, qk);
        seterr(err, errlen, "\"%s\": model name longer than %d bytes", qk, PRICE_NAME_MAX);
        return -1;
    }
    if (!cJSON_IsObject(obj)) {
        msg_key(key, qk);
        seterr(err, errlen, "\"%s\": an entry must be a JSON object", qk);
        return -1;
    }

    const char *str[2] = {"", ""};
    static const char *const str_field[2] = {"litellm_provider", "mode"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, str_field[k]);
        if (v && !cJSON_IsNull(v)) {
            if (!cJSON_IsString(v)) {
                msg_key(key, qk);
                seterr(err, errlen, "\"%s\": %s: must be a string", qk, str_field[k]);
                return -1;
            }
            str[k] = v->valuestring;
        }
    }

    for (int k = 0; k < PRICE_KIND_COUNT; k++) {
        e->usd[k] = PRICE_ABSENT;
        if (read_price(cJSON_GetObjectItemCaseSensitive(obj, kind_field[k]), &e->usd[k]) < 0) {
            msg_key(key, qk);
            seterr(err, errlen, "\"%s\": %s: must be a non-negative number", qk, kind_field[k]);
            return -1;
        }
    }

    struct price_tier tiers[MAX_TIERS];
    size_t ntiers = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        enum price_kind kind;
        int64_t above;
        if (!m->string || !tier_field(m->string, &kind, &above))
            continue;
        double v;
        int r = read_price(m, &v);
        if (r < 0) {
            msg_key(key, qk);
            seterr(err, errlen, "\"%s\": %s: must be a non-negative number", qk, m->string);
            return -1;
        }
        if (r == 0)
            continue;
        size_t j = 0;
        while (j < ntiers && tiers[j].above != above)
            j++;
        if (j == ntiers) {
            if (ntiers == MAX_TIERS) {
                msg_key(key, qk);
                seterr(err, errlen, "\"%s\": more than %d price tiers", qk, MAX_TIERS);
                return -1;
            }
            tiers[j].above = above;
            for (int k = 0; k < PRICE_KIND_COUNT; k++)
                tiers[j].usd[k] = PRICE_ABSENT;
            ntiers++;
        }
        if (tiers[j].usd[kind] < 0) /* the first of duplicate fields wins, as for the base */
            tiers[j].usd[kind] = v;
    }

    char lk[PRICE_NAME_MAX + 1], nk[PRICE_NAME_MAX + 1];
    lower_copy(lk, sizeof lk, key);
    size_t from, to;
    unsigned f = norm_range(key, &from, &to);
    size_t nlen = price_normalize(key, nk, sizeof nk);

    e->key = arena_str(t->arena, key, klen);
    e->provider = arena_str(t->arena, str[0], strlen(str[0]));
    e->mode = arena_str(t->arena, str[1], strlen(str[1]));
    s->lkey = arena_str(t->arena, lk, klen);
    s->norm = arena_str(t->arena, nk, nlen);
    if (!e->key || !e->provider || !e->mode || !s->lkey || !s->norm)
        goto nomem;
    if (ntiers) {
        qsort(tiers, ntiers, sizeof tiers[0], cmp_tier);
        struct price_tier *tp = arena_alloc(t->arena, ntiers * sizeof *tp);
        if (!tp)
            goto nomem;
        memcpy(tp, tiers, ntiers * sizeof *tp);
        e->tiers = tp;
        e->ntiers = ntiers;
    }
    e->embedding = strcmp(e->mode, "embedding") == 0;
    double in = e->usd[PRICE_INPUT], out = e->usd[PRICE_OUTPUT];
    if (e->embedding)
        e->priced = in > 0;
    else
        e->priced = in >= 0 && out >= 0 && (in > 0 || out > 0);
    s->lhash = fnv(lk, klen);
    s->nhash = fnv(nk, nlen);
    s->rank = (uint8_t)((f & NORM_PREFIX ? 0 : 2) + (f & NORM_SUFFIX ? 0 : 1));
    s->live = true;
    return 0;
nomem:
    seterr(err, errlen, "out of memory");
    return -1;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 8;
    while (p < n)
        p <<= 1;
    return p;
}

struct byname_item {
    const char *norm;
    uint32_t idx;
};

static int cmp_byname(const void *a, const void *b)
{
    const struct byname_item *x = a, *y = b;
    int c = strcmp(x->norm, y->norm);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Builds the two hash indexes. Returns 0 or -1 (out of memory). */
static int build_index(struct price_table *t)
{
    struct byname_item *items = NULL;
    size_t cap = pow2_at_least(2 * t->n + 1);
    t->exact = calloc(cap, sizeof *t->exact);
    if (!t->exact)
        goto fail;
    t->exact_mask = cap - 1;
    for (size_t i = 0; i < t->n; i++) {
        size_t slot = t->s[i].lhash & t->exact_mask;
        for (; t->exact[slot]; slot = (slot + 1) & t->exact_mask) {
            struct slot *o = &t->s[t->exact[slot] - 1];
            if (o->lhash == t->s[i].lhash && strcmp(o->lkey, t->s[i].lkey) == 0)
                break;
        }
        if (t->exact[slot]) /* a later equal key replaces the earlier one */
            t->s[t->exact[slot] - 1].live = false;
        else
            t->live++;
        t->exact[slot] = (uint32_t)(i + 1);
    }

    items = malloc((t->n ? t->n : 1) * sizeof *items);
    t->byname = malloc((t->n ? t->n : 1) * sizeof *t->byname);
    t->norm = calloc(cap, sizeof *t->norm);
    if (!items || !t->byname || !t->norm)
        goto fail;
    t->norm_mask = cap - 1;
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i].live && t->e[i].priced && t->s[i].norm[0])
            items[m++] = (struct byname_item){t->s[i].norm, (uint32_t)i};
    qsort(items, m, sizeof *items, cmp_byname);
    for (size_t g = 0; g < m; g++) {
        t->byname[g] = items[g].idx;
        if (g > 0 && strcmp(items[g].norm, items[g - 1].norm) == 0)
            continue;
        size_t slot = t->s[items[g].idx].nhash & t->norm_mask;
        while (t->norm[slot])
            slot = (slot + 1) & t->norm_mask;
        t->norm[slot] = (uint32_t)(g + 1);
    }
    t->nbyname = m;
    free(items);
    return 0;
fail:
    free(items);
    return -1;
}

static bool only_space(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

static void json_error(const char *json, const char *at, char *err, size_t errlen)
{
    int line = 1, col = 1;
    for (const char *p = json; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    seterr(err, errlen, "invalid JSON at line %d, column %d", line, col);
}

int price_parse(const char *json, size_t len, struct price_table **out, char *err, size_t errlen)
{
    struct price_table *t = NULL;
    cJSON *root = NULL;
    *out = NULL;
    if (!json) {
        seterr(err, errlen, "no input");
        return -1;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        if (!end || end < json || end > json + len)
            end = json;
        json_error(json, end, err, errlen);
        goto fail;
    }
    if (end && !only_space(end, json + len)) {
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
            end++;
        json_error(json, end, err, errlen);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        seterr(err, errlen, "the price table must be a JSON object keyed by model name");
        goto fail;
    }

    size_t n = 0;
    for (const cJSON *c = root->child; c; c = c->next)
        n++;
    if (n >= UINT32_MAX / 4) {
        seterr(err, errlen, "too many entries");
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t || !(t->arena = arena_create(64 * 1024)) || !(t->e = calloc(n ? n : 1, sizeof *t->e)) ||
        !(t->s = calloc(n ? n : 1, sizeof *t->s))) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    atomic_init(&t->refs, 0);
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        if (strcmp(key, "sample_spec") == 0 || strcmp(key, "fallback_generalizations") == 0)
            continue;
        if (load_entry(t, t->n, key, c, err, errlen) != 0)
            goto fail;
        t->n++;
    }
    if (build_index(t) != 0) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    cJSON_Delete(root);
    *out = t;
    return 0;
fail:
    cJSON_Delete(root);
    price_free(t);
    return -1;
}

int price_load(const char *path, struct price_table **out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char perr[256];
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= FILE_MAX) {
                seterr(err, errlen, "%s: larger than %zu MiB", path, FILE_MAX >> 20);
                goto fail;
            }
            size_t ncap = cap ? cap * 2 : 256 * 1024;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                seterr(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) {
                seterr(err, errlen, "%s: read error: %s", path, strerror(errno));
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    f = NULL;
    if (price_parse(buf, len, out, perr, sizeof perr) != 0) {
        seterr(err, errlen, "%s: %s", path, perr);
        goto fail;
    }
    free(buf);
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return -1;
}

void price_free(struct price_table *t)
{
    if (!t)
        return;
    free(t->exact);
    free(t->byname);
    free(t->norm);
    free(t->e);
    free(t->s);
    arena_destroy(t->arena);
    free(t);
}

size_t price_count(const struct price_table *t)
{
    return t ? t->live : 0;
}

/* ---- lookup ------------------------------------------------------------ */

static const struct price_entry *find_exact(const struct price_table *t, const char *lname,
                                            size_t n)
{
    uint64_t h = fnv(lname, n);
    for (size_t slot = h & t->exact_mask; t->exact[slot]; slot = (slot + 1) & t->exact_mask) {
        uint32_t j = t->exact[slot] - 1;
        if (t->s[j].lhash == h && strcmp(t->s[j].lkey, lname) == 0)
            return &t->e[j];
    }
    return NULL;
}

/* litellm_provider `lp` starts with `p` (n bytes) followed by its end, '_'
 * or '-'. */
static bool provider_prefix(const char *lp, const char *p, size_t n)
{
    return strncasecmp(lp, p, n) == 0 && (lp[n] == 0 || lp[n] == '_' || lp[n] == '-');
}

static bool provider_matches(const char *lp, const char *p)
{
    static const struct {
        const char *from, *to;
    } alias[] = {{"vllm", "hosted_vllm"},
                 {"google", "gemini"},
                 {"google", "vertex_ai"},
                 {"vertex", "vertex_ai"}};
    if (!p || !*p || !*lp)
        return false;
    if (provider_prefix(lp, p, strlen(p)))
        return true;
    for (size_t i = 0; i < COUNT(alias); i++)
        if (strcasecmp(p, alias[i].from) == 0 &&
            provider_prefix(lp, alias[i].to, strlen(alias[i].to)))
            return true;
    return false;
}

const struct price_entry *price_find(const struct price_table *t, const char *provider,
                                     const char *model)
{
    if (!t || !model || !*model)
        return NULL;
    char buf[2 * PRICE_NAME_MAX + 2];
    const struct price_entry *e;

    if (provider && *provider) {
        size_t pl = lower_copy(buf, PRICE_NAME_MAX + 1, provider);
        if (pl < PRICE_NAME_MAX) {
            buf[pl] = '/';
            size_t ml = lower_copy(buf + pl + 1, sizeof buf - pl - 1, model);
            if (pl + 1 + ml <= PRICE_NAME_MAX && (e = find_exact(t, buf, pl + 1 + ml)))
                return e;
        }
    }
    size_t ml = lower_copy(buf, PRICE_NAME_MAX + 1, model);
    if (ml <= PRICE_NAME_MAX && (e = find_exact(t, buf, ml)))
        return e;

    size_t nl = price_normalize(model, buf, PRICE_NAME_MAX + 1);
    if (nl == 0 || nl > PRICE_NAME_MAX)
        return NULL;
    uint64_t h = fnv(buf, nl);
    for (size_t slot = h & t->norm_mask; t->norm[slot]; slot = (slot + 1) & t->norm_mask) {
        size_t g = t->norm[slot] - 1;
        const struct slot *s = &t->s[t->byname[g]];
        if (s->nhash != h || strcmp(s->norm, buf) != 0)
            continue;
        const struct price_entry *best = NULL;
        int best_score = -1;
        for (; g < t->nbyname && strcmp(t->s[t->byname[g]].norm, buf) == 0; g++) {
            uint32_t j = t->byname[g];
            int score = t->s[j].rank + (provider_matches(t->e[j].provider, provider) ? 4 : 0);
            if (score > best_score) {
                best_score = score;
                best = &t->e[j];
            }
        }
        return best;
    }
    return NULL;
}

/* ---- cost -------------------------------------------------------------- */

static double kind_price(const struct price_entry *e, enum price_kind k, int64_t in)
{
    for (size_t i = e->ntiers; i-- > 0;)
        if (in > e->tiers[i].above && e->tiers[i].usd[k] >= 0)
            return e->tiers[i].usd[k];
    return e->usd[k];
}

static int64_t clamp0(int64_t v)
{
    return v < 0 ? 0 : v;
}

int price_entry_cost(const struct price_entry *e, const struct price_usage *u, double *cost)
{
    if (!e || !e->priced)
        return PRICE_UNKNOWN_MODEL;
    int64_t in = clamp0(u->input), out = clamp0(u->output);
    double p_in = kind_price(e, PRICE_INPUT, in);
    if (e->embedding) {
        *cost = (double)in * p_in;
        return PRICE_OK;
    }
    int64_t cached = clamp0(u->cached), write = clamp0(u->cache_write);
    int64_t reasoning = clamp0(u->reasoning);
    if (cached > in)
        cached = in;
    if (write > in - cached)
        write = in - cached;
    if (reasoning > out)
        reasoning = out;
    double p_out = kind_price(e, PRICE_OUTPUT, in);
    double p_read = kind_price(e, PRICE_CACHE_READ, in);
    double p_write = kind_price(e, PRICE_CACHE_WRITE, in);
    double p_reason = kind_price(e, PRICE_REASONING, in);
    if (p_read < 0)
        p_read = p_in;
    if (p_write < 0)
        p_write = p_in;
    if (p_reason < 0)
        p_reason = p_out;
    *cost = (double)(in - cached - write) * p_in + (double)cached * p_read +
            (double)write * p_write + (double)(out - reasoning) * p_out +
            (double)reasoning * p_reason;
    return PRICE_OK;
}

/* A usage member that is a non-negative number, as an integer (clamped to
 * 2^53). */
static bool read_count(const cJSON *usage, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return false;
    double d = v->valuedouble;
    *out = d > 9007199254740992.0 ? INT64_C(9007199254740992) : (int64_t)d;
    return true;
}

static int usage_of(const cJSON *usage, struct price_usage *u)
{
    memset(u, 0, sizeof *u);
    if (!cJSON_IsObject(usage))
        return PRICE_NO_USAGE;
    bool has_in = read_count(usage, "input_tokens", &u->input);
    bool has_out = read_count(usage, "output_tokens", &u->output);
    if (!has_in && !has_out)
        return PRICE_NO_USAGE;
    read_count(usage, "cached_input_tokens", &u->cached);
    read_count(usage, "cache_write_tokens", &u->cache_write);
    read_count(usage, "reasoning_tokens", &u->reasoning);
    return PRICE_OK;
}

int price_event_usage(const cJSON *ev, struct price_usage *u)
{
    return usage_of(cJSON_GetObjectItemCaseSensitive(ev, "usage"), u);
}

static const char *nonempty(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int price_event_cost(const struct price_table *t, const cJSON *ev, double *cost)
{
    /* one walk over the event's members (it has dozens) instead of four */
    const cJSON *usage = NULL, *provider = NULL, *resp = NULL, *req = NULL;
    for (const cJSON *m = ev ? ev->child : NULL; m; m = m->next) {
        if (!m->string)
            continue;
        const cJSON **slot = strcmp(m->string, "usage") == 0            ? &usage
                             : strcmp(m->string, "provider") == 0       ? &provider
                             : strcmp(m->string, "response_model") == 0 ? &resp
                             : strcmp(m->string, "request_model") == 0  ? &req
                                                                        : NULL;
        if (slot && !*slot) /* the first of duplicate members, as cJSON's lookup */
            *slot = m;
    }
    struct price_usage u;
    if (usage_of(usage, &u) != PRICE_OK)
        return PRICE_NO_USAGE;
    const char *p = nonempty(provider), *rs = nonempty(resp), *rq = nonempty(req);
    int rc = PRICE_UNKNOWN_MODEL;
    if (rs)
        rc = price_entry_cost(price_find(t, p, rs), &u, cost);
    if (rc != PRICE_OK && rq && (!rs || strcmp(rq, rs) != 0))
        rc = price_entry_cost(price_find(t, p, rq), &u, cost);
    return rc;
}

/* ---- registry ---------------------------------------------------------- */

struct price_registry {
    pthread_mutex_t mu;
    struct price_table *cur; /* holds one reference */
    char *path;
    bool mu_ok;
};

static struct price_table *acquire(struct price_registry *r)
{
    pthread_mutex_lock(&r->mu);
    struct price_table *t = r->cur;
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&r->mu);
    return t;
}

static void release(struct price_table *t)
{
    if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        price_free(t);
}

int price_registry_create(const char *path, struct price_registry **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path) {
        seterr(err, errlen, "no price file given");
        return -1;
    }
    struct price_registry *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        seterr(err, errlen, "cannot create a mutex");
        goto fail;
    }
    r->mu_ok = true;
    if (price_load(path, &r->cur, err, errlen) != 0)
        goto fail;
    atomic_store(&r->cur->refs, 1);
    *out = r;
    return 0;
fail:
    price_registry_destroy(r);
    return -1;
}

int price_registry_reload(struct price_registry *r, char *err, size_t errlen)
{
    char e[512];
    struct price_table *t;
    if (price_load(r->path, &t, e, sizeof e) != 0) {
        log_warn("agent:price", "price table not reloaded, keeping the %zu models loaded: %s",
                 price_registry_count(r), e);
        seterr(err, errlen, "%s", e);
        return -1;
    }
    atomic_store(&t->refs, 1);
    pthread_mutex_lock(&r->mu);
    struct price_table *old = r->cur;
    r->cur = t;
    pthread_mutex_unlock(&r->mu);
    release(old);
    log_info("agent:price", "price table %s reloaded: %zu models", r->path, price_count(t));
    return 0;
}

int price_registry_cost(struct price_registry *r, const cJSON *ev, double *cost)
{
    struct price_table *t = acquire(r);
    int rc = price_event_cost(t, ev, cost);
    release(t);
    return rc;
}

size_t price_registry_count(struct price_registry *r)
{
    struct price_table *t = acquire(r);
    size_t n = price_count(t);
    release(t);
    return n;
}

void price_registry_destroy(struct price_registry *r)
{
    if (!r)
        return;
    release(r->cur);
    if (r->mu_ok)
        pthread_mutex_destroy(&r->mu);
    free(r->path);
    free(r);
}
