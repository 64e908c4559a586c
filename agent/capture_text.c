/*
 * capture_text.c — the capture's text cap (capture_opts.text_cap): the
 * slots that register every capped string, the max-min fair shares of the
 * cap, and the cuts at request time and at finish (see capture_text.h).
 * Internal to the capture module (capture.c and the provider files).
 *
 * DESIGN
 * - The text cap (capture_opts.text_cap) bounds prompt + context + response
 *   text together. Every such string is a `slot`. When the whole does not
 *   fit, the cap is shared max-min fairly: first between the three parts
 *   (prompt, context, response: none is cut below an equal share unless it
 *   needs less, unused share goes to the others), then within the prompt and
 *   the context between their strings the same way; the response keeps its
 *   text first, then tool-call arguments, then embedding vectors. The request
 *   is capped when it is parsed, with the whole cap shared by prompt and
 *   context (the response is not known yet), and again at finish with three
 *   parts; with max-min fairness the second cut gives exactly what one cut of
 *   the original strings would, so nothing above the cap is ever kept.
 *   Cuts fall on UTF-8 boundaries; any cut sets `truncated`.
 * - Ownership: the slots array and each slot's `owned` text belong to the
 *   capture (struct capture in capture_provider.h); cap_text_free_owned
 *   drops the owned texts once the request has been cut, capture_free the
 *   array.
 * - Malformed input never fails: an allocation failure sets c->oom and
 *   the text concerned is dropped.
 */
#include "capture_text.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */

size_t cap_text_sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* The longest prefix of s[0, len) that is at most max bytes and does not end
 * inside a UTF-8 sequence. */
size_t cap_text_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max, k = 0;
    while (n > 0 && k < 3 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
        k++;
    }
    if (((unsigned char)s[n] & 0xC0) == 0x80)
        n = max; /* not UTF-8 here anyway: cut at the byte */
    return n;
}

/* ------------------------------------------------------------------------ */
/* the text cap                                                             */

static size_t sum_min(const size_t *d, size_t n, size_t t)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = cap_text_sat_add(s, d[i] < t ? d[i] : t);
    return s;
}

/* Max-min fair shares of `cap` for demands d[0..n): a[i] = min(d[i], t) for
 * the highest level t that fits, the remainder handed out one byte each in
 * order. */
void cap_text_fair_shares(const size_t *d, size_t *a, size_t n, size_t cap)
{
    size_t total = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        total = cap_text_sat_add(total, d[i]);
        if (d[i] > hi)
            hi = d[i];
    }
    if (total <= cap) {
        memcpy(a, d, n * sizeof *d);
        return;
    }
    size_t lo = 0; /* sum_min(lo) <= cap < sum_min(hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (sum_min(d, n, mid) <= cap)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t rest = cap - sum_min(d, n, lo);
    for (size_t i = 0; i < n; i++) {
        a[i] = d[i] < lo ? d[i] : lo;
        if (d[i] > lo && rest) {
            a[i]++;
            rest--;
        }
    }
}

static size_t slot_len(const struct cap_slot *s)
{
    return s->src ? s->len : (s->node && s->node->valuestring ? strlen(s->node->valuestring) : 0);
}

/* Shares `cap` between the slots of `part`, and cuts them. At request time
 * (src set) the node gets its value here; later the value is cut in place. */
void cap_text_part_slots(struct capture *c, enum cap_part part, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nslots; i++)
        n += c->slots[i].part == part;
    if (n == 0)
        return;
    size_t *d = malloc(2 * n * sizeof *d);
    if (!d) {
        c->oom = true;
        return;
    }
    size_t *a = d + n;
    size_t k = 0;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].part == part)
            d[k++] = slot_len(&c->slots[i]);
    cap_text_fair_shares(d, a, n, cap);
    k = 0;
    for (size_t i = 0; i < c->nslots; i++) {
        struct cap_slot *s = &c->slots[i];
        if (s->part != part)
            continue;
        size_t want = d[k], give = a[k];
        k++;
        if (s->src) {
            size_t keep = cap_text_utf8_cut(s->src, want, give);
            if (keep < want)
                c->truncated = true;
            if (keep == 0 || !s->node)
                continue;
            char *tmp = malloc(keep + 1);
            if (!tmp) {
                c->oom = true;
                continue;
            }
            memcpy(tmp, s->src, keep);
            tmp[keep] = 0;
            if (!cJSON_SetValuestring(s->node, tmp))
                c->oom = true;
            free(tmp);
        } else if (s->node && s->node->valuestring) {
            size_t keep = cap_text_utf8_cut(s->node->valuestring, want, give);
            if (keep < want) {
                c->truncated = true;
                s->node->valuestring[keep] = 0;
            }
        }
    }
    free(d);
}

size_t cap_text_part_demand(const struct capture *c, enum cap_part part)
{
    size_t s = 0;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].part == part)
            s = cap_text_sat_add(s, slot_len(&c->slots[i]));
    return s;
}

/* ------------------------------------------------------------------------ */
/* the slots                                                                */

void cap_text_push_slot(struct capture *c, cJSON *node, const char *src, size_t len, char *owned,
                        enum cap_part part)
{
    if (c->nslots == c->slots_cap) {
        size_t cap = c->slots_cap ? c->slots_cap * 2 : 32;
        struct cap_slot *s = realloc(c->slots, cap * sizeof *s);
        if (!s) {
            c->oom = true;
            free(owned);
            return;
        }
        c->slots = s;
        c->slots_cap = cap;
    }
    c->slots[c->nslots++] = (struct cap_slot){node, src, len, owned, part};
}

static void add_text(struct capture *c, cJSON *obj, const char *name, const char *src, size_t len,
                     char *owned, enum cap_part part)
{
    cJSON *node = cJSON_CreateString("");
    if (!node) {
        c->oom = true;
        free(owned);
        return;
    }
    if (name)
        cJSON_AddItemToObject(obj, name, node);
    else
        cJSON_AddItemToArray(obj, node);
    cap_text_push_slot(c, node, src ? src : "", src ? len : 0, owned, part);
}

void cap_text(struct capture *c, cJSON *obj, const char *name, const char *src, size_t len,
              enum cap_part part)
{
    add_text(c, obj, name, src, len, NULL, part);
}

void cap_text_item(struct capture *c, cJSON *arr, const char *src, size_t len, enum cap_part part)
{
    add_text(c, arr, NULL, src, len, NULL, part);
}

void cap_text_owned(struct capture *c, cJSON *obj, const char *name, char *text, size_t len,
                    enum cap_part part)
{
    add_text(c, obj, name, text, len, text, part);
}

void cap_text_free_owned(struct capture *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        free(c->slots[i].owned);
        c->slots[i].owned = NULL;
        c->slots[i].src = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* the final cut                                                            */

/* The final cut of everything against the cap, in three parts. */
void cap_text_final(struct capture *c)
{
    size_t args = 0;
    for (size_t i = 0; i < c->ncalls; i++)
        args = cap_text_sat_add(args, c->calls[i].args.len);
    size_t d[3] = {cap_text_part_demand(c, CAP_PROMPT), cap_text_part_demand(c, CAP_CONTEXT),
                   cap_text_sat_add(cap_text_sat_add(c->text.len, args), c->vec_bytes)};
    size_t a[3];
    cap_text_fair_shares(d, a, 3, c->o.text_cap);
    cap_text_part_slots(c, CAP_PROMPT, a[0]);
    cap_text_part_slots(c, CAP_CONTEXT, a[1]);
    size_t left = a[2];
    size_t n = cap_text_utf8_cut(c->text.p ? c->text.p : "", c->text.len, left);
    if (n < c->text.len) {
        c->truncated = true;
        c->text.len = n;
        c->text.p[n] = 0;
    }
    left -= n;
    for (size_t i = 0; i < c->ncalls; i++) {
        struct buf *b = &c->calls[i].args;
        n = cap_text_utf8_cut(b->p ? b->p : "", b->len, left);
        if (n < b->len) {
            c->truncated = true;
            b->len = n;
            b->p[n] = 0;
        }
        left -= n;
    }
    /* Vectors: dropped from the end until they fit. */
    while (c->vec_bytes > left && cJSON_GetArraySize(c->vectors) > 0) {
        int last = cJSON_GetArraySize(c->vectors) - 1;
        size_t cost = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(c->vectors, last)) *
                          CAP_VECTOR_NUMBER_BYTES +
                      2;
        cJSON_DeleteItemFromArray(c->vectors, last);
        c->vec_bytes -= cost < c->vec_bytes ? cost : c->vec_bytes;
        c->truncated = true;
    }
}
