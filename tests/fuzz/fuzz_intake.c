/*
 * fuzz_intake.c — fuzz target for the agent's POST /v1/events body handling
 * (agent/intake.c), linked with test doubles for its two outside calls.
 *
 * Input layout: byte 0 shapes the request, the rest is the body.
 *   bits 0-1  Content-Type: 0 application/json, 1 application/x-ndjson,
 *             2 no header, 3 text/plain
 *   bit 2     which intake: 0 = default service "fuzz-svc", default limits,
 *             max body 1 MiB; 1 = no default service, small limits (event
 *             2048 bytes, depth 8, body 16384 bytes) so that the size and
 *             depth paths are reachable with short inputs
 *   bits 3-6  failure pattern: the n-th producer_send of a request (from 0)
 *             fails when bit n % 4 of this field is set (0 = never,
 *             15 = always)
 *   bit 7     how it fails: 0 = PRODUCER_EFULL (the spool is full), 1 =
 *             PRODUCER_EFAILED (the spool failed)
 *
 * DESIGN
 * - Doubles: producer_send() checks that every event handed to Kafka is
 *   valid event JSON under the intake's limits, with the Kafka key equal to
 *   its service, then frees it (or refuses it, keeping the caller's
 *   ownership, per producer.h). httpd_header() returns the Content-Type
 *   chosen by byte 0. The real httpd_header (common/httpd.c) would need a
 *   libmicrohttpd connection, and httpd.c also holds httpd_error(), which
 *   intake.c needs; so this target is compiled with
 *   -Dhttpd_header=fuzz_httpd_header (see CMakeLists.txt): the double below
 *   is written as httpd_header but links as fuzz_httpd_header, and the real
 *   httpd_error comes from the common library.
 * - A body over the intake's max_body is delivered as httpd.c does: body
 *   NULL, body_len 0, body_too_large set.
 * - Invariants on the response (abort() on a violation):
 *   status is one of 202, 400, 413, 415, 503; content type JSON; the body is
 *   valid UTF-8 JSON (checked with event_parse_json, which also refuses raw
 *   control characters) of exactly resp.len bytes. Status 413/415/400 for an
 *   empty body are predicted from the request alone. A body with counts has
 *   accepted + rejected = the number of items (counted here independently:
 *   non-blank lines for NDJSON, 1 for an object, the array's size),
 *   accepted = the producer_send calls that succeeded, one error entry per
 *   rejection up to 100 with increasing indexes below the item count, and
 *   the status the counts imply (202 when something was accepted or there
 *   were no items; else 503 when some item failed in the producer — queue
 *   full or another Kafka error, worth a retry; else 400).
 * - Nothing is lost or changed on the way to Kafka: when the error list is
 *   complete (at most 100 rejections), the producer_send calls map in order
 *   onto the items, each accepted item was sent, and each sent event is its
 *   item with only the defaults filled in (schema, id, time, service): every
 *   non-null member kept with an identical value, nothing else added. The
 *   double parses each sent event back, so this also checks event_encode.
 * - Two intakes are created on the first call and kept (as the agent keeps
 *   one for its lifetime); they never hold per-request state.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "httpd.h"
#include "intake.h"
#include "metrics.h"
#include "producer.h"

#define FUZZ_NAME "fuzz_intake"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { CT_JSON, CT_NDJSON, CT_NONE, CT_TEXT };
enum { MAX_SENT = 4096 }; /* more items than this per body are checked by count only */
static const char *const content_types[] = {"application/json", "application/x-ndjson", NULL,
                                            "text/plain"};

struct fuzz_intake {
    struct intake_opts o;
    struct intake *in;
};
static struct fuzz_intake intakes[2] = {
    {.o = {.default_service = "fuzz-svc", .limits = {0, 0}, .max_body = 1024 * 1024}},
    {.o = {.default_service = NULL, .limits = {2048, 8}, .max_body = 16384}},
};

/* State of the request being handled (one at a time: libFuzzer is single-threaded). */
static struct {
    const struct fuzz_intake *fi;
    const char *content_type;
    unsigned fail_mask;            /* bit n % 4 set: the n-th producer_send fails */
    int fail_code;                 /* with this producer error */
    int sends, successes, refused; /* producer_send calls: all, succeeded, failed */
    struct sent {
        cJSON *ev;    /* the event as parsed back from what producer_send got */
        bool refused; /* answered with an error */
    } sent[MAX_SENT];
} cur;

/* ---- test doubles ------------------------------------------------------- */

int producer_send(struct producer *p, const char *key, char *json, size_t len)
{
    FUZZ_ASSERT(json != NULL, "producer_send: json is NULL");
    FUZZ_ASSERT(strlen(json) == len, "producer_send: len %zu but strlen %zu", len, strlen(json));
    size_t max = cur.fi->o.limits.max_bytes ? cur.fi->o.limits.max_bytes : EVENT_MAX_BYTES_DEFAULT;
    FUZZ_ASSERT(len <= max, "producer_send: %zu bytes, over the event limit %zu", len, max);
    struct event_error err;
    memset(&err, 0, sizeof err);
    cJSON *ev = event_parse_json(json, len, &cur.fi->o.limits, 0, &err);
    FUZZ_ASSERT(ev != NULL, "producer_send: not event JSON: %s\n  json: %.2000s", err.msg, json);
    FUZZ_ASSERT(event_validate(ev, &err) == EVENT_OK,
                "producer_send: invalid event: %s\n  json: %.2000s", err.msg, json);
    struct event_fields f;
    event_fields_get(ev, &f);
    FUZZ_ASSERT(key && f.service && strcmp(key, f.service) == 0,
                "producer_send: key \"%s\" is not the service \"%s\"", key ? key : "(null)",
                f.service ? f.service : "(null)");

    int n = cur.sends++;
    bool refuse = cur.fail_mask & (1u << (n % 4));
    if (n < MAX_SENT)
        cur.sent[n] = (struct sent){.ev = ev, .refused = refuse};
    else
        cJSON_Delete(ev);
    if (refuse) { /* the caller keeps json */
        cur.refused++;
        return cur.fail_code;
    }
    free(json);
    cur.successes++;
    return 0;
}

const char *producer_strerror(int e)
{
    return e == PRODUCER_EFULL ? "spool full" : "spool failed";
}

const char *httpd_header(const struct httpd_req *r, const char *name)
{
    return strcasecmp(name, "Content-Type") == 0 ? cur.content_type : NULL;
}

/* ---- the oracle ---------------------------------------------------------- */

/* The items intake should see in a body it did not refuse whole, parsed
 * here with plain cJSON (NULL for an NDJSON line cJSON cannot parse). Sets
 * *n; the caller frees with free_items(). */
static cJSON **split_items(const char *body, size_t len, bool ndjson, int *n)
{
    cJSON **items = NULL;
    int cap = 0;
    *n = 0;
    if (ndjson) {
        size_t ls = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && body[i] != '\n')
                continue;
            size_t a = ls, e = i;
            ls = i + 1;
            while (a < e && (body[a] == ' ' || body[a] == '\t' || body[a] == '\r'))
                a++;
            while (e > a && (body[e - 1] == ' ' || body[e - 1] == '\t' || body[e - 1] == '\r'))
                e--;
            if (a == e)
                continue; /* blank */
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                items = realloc(items, (size_t)cap * sizeof *items);
                FUZZ_ASSERT(items, "out of memory");
            }
            items[(*n)++] = cJSON_ParseWithLength(body + a, e - a);
        }
        return items;
    }
    cJSON *root = cJSON_ParseWithLength(body, len);
    FUZZ_ASSERT(root && (cJSON_IsObject(root) || cJSON_IsArray(root)),
                "intake answered with counts for a body that is not a JSON object or array");
    if (cJSON_IsObject(root)) {
        items = malloc(sizeof *items);
        FUZZ_ASSERT(items, "out of memory");
        items[0] = root;
        *n = 1;
        return items;
    }
    cap = cJSON_GetArraySize(root);
    items = calloc(cap ? (size_t)cap : 1, sizeof *items);
    FUZZ_ASSERT(items, "out of memory");
    cJSON *it;
    while ((it = cJSON_DetachItemFromArray(root, 0)) != NULL)
        items[(*n)++] = it;
    cJSON_Delete(root);
    return items;
}

static void free_items(cJSON **items, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(items[i]);
    free(items);
}

/* True when obj has a member equal (key and value) to m. */
static bool has_member(const cJSON *obj, const cJSON *m)
{
    for (const cJSON *c = obj->child; c; c = c->next)
        if (same_tree(c, m))
            return true;
    return false;
}

static bool is_fill_key(const char *k)
{
    return strcmp(k, "schema") == 0 || strcmp(k, "id") == 0 || strcmp(k, "time") == 0 ||
           strcmp(k, "service") == 0;
}

/* True when `sent` is `item` with only intake's defaults filled in: every
 * non-null member of the item is kept unchanged, and every other member of
 * `sent` is a filled key (schema, id, time, service). */
static bool is_filled_item(const cJSON *item, const cJSON *sent)
{
    if (!item || !cJSON_IsObject(item))
        return false;
    for (const cJSON *m = item->child; m; m = m->next)
        if (!cJSON_IsNull(m) && !has_member(sent, m))
            return false;
    for (const cJSON *m = sent->child; m; m = m->next)
        if (!is_fill_key(m->string) && !has_member(item, m))
            return false;
    return true;
}

/* Maps producer_send calls to items: an item without an error entry was
 * accepted and must be the next send (not refused); an item with one was
 * either rejected before sending or is the next send, refused. Needs the
 * complete error list (at most 100 rejections). */
static void check_sends(cJSON **items, int nitems, const cJSON *errors)
{
    int s = 0;
    const cJSON *e = errors->child;
    for (int i = 0; i < nitems; i++) {
        bool has_err = e && cJSON_GetObjectItemCaseSensitive(e, "index")->valueint == i;
        if (has_err)
            e = e->next;
        struct sent *snd = s < cur.sends ? &cur.sent[s] : NULL;
        if (!has_err) {
            FUZZ_ASSERT(snd && !snd->refused, "item %d counted accepted but not sent", i);
            char *got = cJSON_PrintUnformatted(snd->ev);
            FUZZ_ASSERT(is_filled_item(items[i], snd->ev),
                        "item %d was sent changed (beyond filled defaults):\n  sent: %.2000s", i,
                        got ? got : "?");
            free(got);
            s++;
        } else if (snd && snd->refused && is_filled_item(items[i], snd->ev)) {
            s++;
        }
    }
    FUZZ_ASSERT(s == cur.sends, "%d producer_send calls but only %d match items", cur.sends, s);
}

static bool all_blank(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
            return false;
    return true;
}

static void check_response(const struct httpd_req *req, int ct, const struct httpd_resp *resp)
{
    int st = resp->status;
    FUZZ_ASSERT(st == 202 || st == 400 || st == 413 || st == 415 || st == 503, "status %d", st);
    FUZZ_ASSERT(resp->body != NULL, "status %d without a body", st);
    FUZZ_ASSERT(resp->content_type && strcmp(resp->content_type, "application/json") == 0,
                "content type %s", resp->content_type ? resp->content_type : "(null)");
    FUZZ_ASSERT(strlen(resp->body) == resp->len, "resp.len %zu but strlen %zu", resp->len,
                strlen(resp->body));

    struct event_limits lim = {.max_bytes = resp->len + 1};
    struct event_error err;
    memset(&err, 0, sizeof err);
    cJSON *rj = event_parse_json(resp->body, resp->len, &lim, 0, &err);
    FUZZ_ASSERT(rj && cJSON_IsObject(rj), "response body is not a JSON object: %s\n  body: %.2000s",
                err.msg, resp->body);

    if (req->body_too_large)
        FUZZ_ASSERT(st == 413, "a body over max_body got %d", st);
    else if (ct == CT_TEXT)
        FUZZ_ASSERT(st == 415, "text/plain got %d", st);
    else if (all_blank(req->body ? req->body : "", req->body_len))
        FUZZ_ASSERT(st == 400, "an empty body got %d", st);

    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(rj, "accepted");
    const cJSON *rej = cJSON_GetObjectItemCaseSensitive(rj, "rejected");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(rj, "errors");
    if (!acc) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(rj, "error");
        FUZZ_ASSERT(st == 400 || st == 413 || st == 415, "status %d without counts", st);
        FUZZ_ASSERT(cJSON_IsString(e) && e->valuestring[0],
                    "error response without a message: %.2000s", resp->body);
        FUZZ_ASSERT(cur.sends == 0, "a body refused whole still sent %d events", cur.sends);
        cJSON_Delete(rj);
        return;
    }
    FUZZ_ASSERT(cJSON_IsNumber(acc) && cJSON_IsNumber(rej) && cJSON_IsArray(errors),
                "malformed counts: %.2000s", resp->body);
    int accepted = acc->valueint, rejected = rej->valueint;
    int items = 0;
    cJSON **item = split_items(req->body ? req->body : "", req->body_len, ct == CT_NDJSON, &items);
    FUZZ_ASSERT(accepted >= 0 && rejected >= 0 && accepted + rejected == items,
                "accepted %d + rejected %d != %d items\n  body: %.2000s", accepted, rejected, items,
                resp->body);
    FUZZ_ASSERT(accepted == cur.successes, "accepted %d but producer_send succeeded %d times",
                accepted, cur.successes);
    int want = accepted > 0 || items == 0 ? 202 : cur.refused > 0 ? 503 : 400;
    FUZZ_ASSERT(st == want, "status %d, expected %d (accepted %d rejected %d producer errors %d)",
                st, want, accepted, rejected, cur.refused);
    int nerr = cJSON_GetArraySize(errors);
    FUZZ_ASSERT(nerr == (rejected < 100 ? rejected : 100), "%d error entries for %d rejections",
                nerr, rejected);
    int last = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(e, "index");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "error");
        FUZZ_ASSERT(cJSON_IsNumber(idx) && idx->valueint > last && idx->valueint < items,
                    "bad error index in %.2000s", resp->body);
        FUZZ_ASSERT(cJSON_IsString(msg) && msg->valuestring[0], "bad error message in %.2000s",
                    resp->body);
        last = idx->valueint;
    }
    if (rejected <= 100 && cur.sends <= MAX_SENT)
        check_sends(item, items, errors);
    free_items(item, items);
    cJSON_Delete(rj);
}

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct metrics *metrics;
    if (!metrics) {
        metrics = metrics_create();
        FUZZ_ASSERT(metrics, "metrics_create failed");
        for (size_t i = 0; i < sizeof intakes / sizeof intakes[0]; i++) {
            intakes[i].in = intake_create(&intakes[i].o, NULL, metrics);
            FUZZ_ASSERT(intakes[i].in, "intake_create failed");
        }
    }
    if (size < 1)
        return 0;
    uint8_t shape = data[0];
    int ct = shape & 3;
    cur.sends = cur.successes = cur.refused = 0;
    cur.fi = &intakes[(shape >> 2) & 1];
    cur.content_type = content_types[ct];
    cur.fail_mask = (shape >> 3) & 15;
    cur.fail_code = shape & 0x80 ? PRODUCER_EFAILED : PRODUCER_EFULL;

    struct httpd_req req = {
        .method = "POST",
        .path = "/v1/events",
        .body = size > 1 ? (const char *)data + 1 : NULL,
        .body_len = size - 1,
    };
    if (req.body_len > cur.fi->o.max_body) {
        req.body = NULL;
        req.body_len = 0;
        req.body_too_large = true;
    }
    struct httpd_resp resp = {.status = 200};
    intake_handle(cur.fi->in, &req, &resp);
    check_response(&req, ct, &resp);
    free(resp.body);
    for (int i = 0; i < cur.sends && i < MAX_SENT; i++)
        cJSON_Delete(cur.sent[i].ev);
    return 0;
}
