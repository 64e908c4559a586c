/*
 * upstream.c — named LLM upstreams and request routing (see upstream.h).
 *
 * DESIGN
 * - A small array (a handful of upstreams in practice), so routing is a
 *   linear scan over prefixes, longest prefix first; no allocation per
 *   request.
 * - Properties come from the config's `upstream` pass-through pairs, which
 *   the config module keeps unique by name with the usual precedence (file <
 *   environment < flags). Every pair is validated here, so a typo in a
 *   property name is a start-up error, never silently ignored.
 */
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "timeutil.h"

#define UPSTREAMS_MAX 32

struct upstreams {
    struct upstream u[UPSTREAMS_MAX];
    size_t n;
};

static struct upstream *find(struct upstreams *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->u[i].name) == len && strncmp(s->u[i].name, name, len) == 0)
            return &s->u[i];
    return NULL;
}

static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return false;
    }
    return true;
}

static struct upstream *add(struct upstreams *s, const char *name, size_t len, const char *url,
                            enum capture_format f, int64_t cto, int64_t to)
{
    if (s->n == UPSTREAMS_MAX)
        return NULL;
    struct upstream *u = &s->u[s->n++];
    u->name = strndup(name, len);
    u->url = strdup(url);
    u->format = f;
    u->provider = strndup(name, len);
    size_t pl = len + 2;
    u->prefix = malloc(pl);
    if (u->prefix)
        snprintf(u->prefix, pl, "/%.*s", (int)len, name);
    u->connect_timeout_ms = cto;
    u->timeout_ms = to;
    u->tls_verify = true;
    if (!u->name || !u->url || !u->provider || !u->prefix)
        return NULL;
    return u;
}

static int replace(char **slot, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -1;
    free(*slot);
    *slot = d;
    return 0;
}

static void trim_slash(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        s[--n] = 0;
}

static int set_prop(struct upstream *u, const char *key, const char *v, char *why, size_t wl)
{
    int64_t ms;
    if (strcmp(key, "url") == 0) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
            snprintf(why, wl, "\"%s\" is not an http:// or https:// URL", v);
            return -1;
        }
        return replace(&u->url, v);
    }
    if (strcmp(key, "format") == 0) {
        if (strcmp(v, "openai") == 0)
            u->format = CAPTURE_OPENAI;
        else if (strcmp(v, "anthropic") == 0)
            u->format = CAPTURE_ANTHROPIC;
        else {
            snprintf(why, wl, "must be openai or anthropic, got \"%s\"", v);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "provider") == 0)
        return replace(&u->provider, v);
    if (strcmp(key, "prefix") == 0) {
        if (v[0] != '/' || v[1] == 0) {
            snprintf(why, wl, "must start with '/' and name something, got \"%s\"", v);
            return -1;
        }
        return replace(&u->prefix, v);
    }
    if (strcmp(key, "connect_timeout") == 0 || strcmp(key, "timeout") == 0) {
        if (timeutil_parse_duration_ms(v, &ms) != 0 || ms <= 0) {
            snprintf(why, wl, "\"%s\" is not a positive duration (e.g. 10s, 5m)", v);
            return -1;
        }
        if (key[0] == 'c')
            u->connect_timeout_ms = ms;
        else
            u->timeout_ms = ms;
        return 0;
    }
    if (strcmp(key, "tls_verify") == 0) {
        if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
            !strcmp(v, "1"))
            u->tls_verify = true;
        else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
                 !strcmp(v, "0"))
            u->tls_verify = false;
        else {
            snprintf(why, wl, "must be true or false, got \"%s\"", v);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "ca_file") == 0)
        return replace(&u->ca_file, v);
    snprintf(why, wl,
             "unknown property (url, format, provider, prefix, connect_timeout, timeout, "
             "tls_verify, ca_file)");
    return -1;
}

int upstreams_create(const struct config *c, int64_t cto, int64_t to, struct upstreams **out,
                     char *err, size_t errlen)
{
    struct upstreams *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!add(s, "openai", 6, "https://api.openai.com", CAPTURE_OPENAI, cto, to) ||
        !add(s, "anthropic", 9, "https://api.anthropic.com", CAPTURE_ANTHROPIC, cto, to)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t n = c ? config_pairs_count(c, "upstream") : 0;
    /* Two passes: names first (so `vllm.format` before `vllm.url` works). */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const char *name, *value;
            config_pairs_get(c, "upstream", i, &name, &value);
            const char *dot = strchr(name, '.');
            size_t nl = dot ? (size_t)(dot - name) : strlen(name);
            if (!name_ok(name, nl)) {
                snprintf(err, errlen,
                         "upstream.%s: an upstream name is 1-64 letters, digits and '-'", name);
                goto fail;
            }
            struct upstream *u = find(s, name, nl);
            if (pass == 0) {
                if (!u && !add(s, name, nl, "", CAPTURE_OPENAI, cto, to)) {
                    snprintf(err, errlen, "upstream.%.*s: too many upstreams (at most %d)", (int)nl,
                             name, UPSTREAMS_MAX);
                    goto fail;
                }
                continue;
            }
            char why[256];
            if (set_prop(u, dot ? dot + 1 : "url", value, why, sizeof why) != 0) {
                snprintf(err, errlen, "upstream.%s: %s", name, why);
                goto fail;
            }
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        if (!s->u[i].url[0]) {
            snprintf(err, errlen, "upstream.%s: no url", s->u[i].name);
            goto fail;
        }
        trim_slash(s->u[i].url);
        trim_slash(s->u[i].prefix);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->u[i].prefix, s->u[j].prefix) == 0) {
                snprintf(err, errlen, "upstream.%s: prefix %s is also upstream %s's", s->u[i].name,
                         s->u[i].prefix, s->u[j].name);
                goto fail;
            }
    }
    *out = s;
    return 0;
fail:
    upstreams_destroy(s);
    return -1;
}

void upstreams_destroy(struct upstreams *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->u[i].name);
        free(s->u[i].url);
        free(s->u[i].provider);
        free(s->u[i].prefix);
        free(s->u[i].ca_file);
    }
    free(s);
}

size_t upstreams_count(const struct upstreams *s)
{
    return s->n;
}

const struct upstream *upstreams_get(const struct upstreams *s, size_t i)
{
    return i < s->n ? &s->u[i] : NULL;
}

static bool under(const char *path, const char *prefix, size_t pl)
{
    return strncmp(path, prefix, pl) == 0 && (path[pl] == '/' || path[pl] == 0);
}

const struct upstream *upstream_route(const struct upstreams *s, const char *path,
                                      const char **rest)
{
    const struct upstream *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t pl = strlen(s->u[i].prefix);
        if (pl > best_len && under(path, s->u[i].prefix, pl)) {
            best = &s->u[i];
            best_len = pl;
        }
    }
    if (best) {
        *rest = path + best_len;
        return best;
    }
    if (!under(path, "/v1", 3))
        return NULL;
    const char *want = under(path, "/v1/messages", 12) ? "anthropic" : "openai";
    *rest = path;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->u[i].name, want) == 0)
            return &s->u[i];
    return NULL;
}

int upstream_url(const struct upstream *up, const char *rest, const char *query, char *out,
                 size_t outlen)
{
    /* Do not repeat the base URL's last segment (…/v1 + /v1/chat/…). */
    const char *last = strrchr(up->url, '/');
    if (last && last > strstr(up->url, "://") + 2 && rest[0] == '/') {
        size_t sl = strlen(last);
        if (strncmp(rest, last, sl) == 0 && (rest[sl] == '/' || rest[sl] == 0))
            rest += sl;
    }
    int n = snprintf(out, outlen, "%s%s%s%s", up->url, rest, query && *query ? "?" : "",
                     query ? query : "");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}
