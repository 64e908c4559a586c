/*
 * auth.c — bearer tokens and basic auth users with scopes (see auth.h).
 */
#include "auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "metrics.h"

#define TOKEN_MIN    16
#define PASSWORD_MIN 8

struct cred {
    char *user; /* NULL for a token */
    char *secret;
    enum auth_scope scope;
};

struct auth {
    struct cred *c;
    size_t n, ntokens, nusers;
    struct metric *missing, *wrong, *scope;
};

void auth_free(struct auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->c[i].user);
        if (a->c[i].secret) {
            volatile char *p = a->c[i].secret;
            while (*p)
                *p++ = 0;
        }
        free(a->c[i].secret);
    }
    free(a->c);
    free(a);
}

void auth_counts(const struct auth *a, size_t *tokens, size_t *users)
{
    *tokens = a ? a->ntokens : 0;
    *users = a ? a->nusers : 0;
}

/* ---- loading ------------------------------------------------------------ */

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int fail(char *err, size_t errlen, const char *path, yaml_node_t *n, const char *fmt,
                const char *a)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a);
    if (n)
        snprintf(err, errlen, "%s:%lu: %s", path, (unsigned long)n->start_mark.line + 1, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

/* One entry of `tokens` (is_user 0) or `users` (1). */
static int load_entry(struct auth *a, yaml_document_t *d, yaml_node_t *e, int is_user,
                      const char *path, char *err, size_t errlen)
{
    if (!e || e->type != YAML_MAPPING_NODE)
        return fail(err, errlen, path, e, "%s: each entry must be a mapping",
                    is_user ? "users" : "tokens");
    const char *user = NULL, *secret = NULL, *scope = NULL;
    for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(d, p->key);
        yaml_node_t *vn = yaml_document_get_node(d, p->value);
        const char *k = scalar(d, kn), *v = scalar(d, vn);
        if (!k)
            return fail(err, errlen, path, kn, "%s", "keys must be plain strings");
        if (!v)
            return fail(err, errlen, path, vn, "%s: must be a string", k);
        if (strcmp(k, "scope") == 0)
            scope = v;
        else if (is_user && strcmp(k, "username") == 0)
            user = v;
        else if (is_user && strcmp(k, "password") == 0)
            secret = v;
        else if (!is_user && strcmp(k, "token") == 0)
            secret = v;
        else
            return fail(err, errlen, path, kn, "unknown key \"%s\"", k);
    }
    if (is_user && (!user || !*user || strchr(user, ':')))
        return fail(err, errlen, path, e, "%s", "users: each needs a `username` (without ':')");
    if (!secret)
        return fail(err, errlen, path, e, "%s",
                    is_user ? "users: each needs a `password`" : "tokens: each needs a `token`");
    if (strlen(secret) < (is_user ? PASSWORD_MIN : TOKEN_MIN))
        return fail(err, errlen, path, e, "%s",
                    is_user ? "users: a password needs at least 8 characters"
                            : "tokens: a token needs at least 16 characters");
    enum auth_scope sc;
    if (scope && strcmp(scope, "read") == 0)
        sc = AUTH_READ;
    else if (scope && strcmp(scope, "write") == 0)
        sc = AUTH_WRITE;
    else
        return fail(err, errlen, path, e, "scope must be \"read\" or \"write\", not \"%s\"",
                    scope ? scope : "(missing)");
    struct cred *nc = realloc(a->c, (a->n + 1) * sizeof *nc);
    if (!nc)
        return fail(err, errlen, path, NULL, "%s", "out of memory");
    a->c = nc;
    struct cred *c = &a->c[a->n];
    *c = (struct cred){.user = user ? strdup(user) : NULL, .secret = strdup(secret), .scope = sc};
    if (!c->secret || (user && !c->user)) {
        free(c->user);
        free(c->secret);
        return fail(err, errlen, path, NULL, "%s", "out of memory");
    }
    a->n++;
    if (is_user)
        a->nusers++;
    else
        a->ntokens++;
    return 0;
}

static int load_doc(struct auth *a, yaml_document_t *d, const char *path, char *err, size_t errlen)
{
    yaml_node_t *root = yaml_document_get_root_node(d);
    if (!root)
        return fail(err, errlen, path, NULL, "%s", "empty: list `tokens` or `users`");
    if (root->type != YAML_MAPPING_NODE)
        return fail(err, errlen, path, root, "%s",
                    "must be a mapping with `tokens` and/or `users`");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(d, p->key);
        yaml_node_t *vn = yaml_document_get_node(d, p->value);
        const char *k = scalar(d, kn);
        int is_user;
        if (k && strcmp(k, "tokens") == 0)
            is_user = 0;
        else if (k && strcmp(k, "users") == 0)
            is_user = 1;
        else
            return fail(err, errlen, path, kn, "unknown key \"%s\" (tokens, users)", k ? k : "?");
        if (vn->type == YAML_SCALAR_NODE && scalar(d, vn)[0] == 0)
            continue; /* `tokens:` with nothing */
        if (vn->type != YAML_SEQUENCE_NODE)
            return fail(err, errlen, path, vn, "%s: must be a list", k);
        for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top;
             it++)
            if (load_entry(a, d, yaml_document_get_node(d, *it), is_user, path, err, errlen) != 0)
                return -1;
    }
    if (a->n == 0)
        return fail(err, errlen, path, NULL, "%s", "no tokens and no users: nobody could read");
    return 0;
}

int auth_load(const char *path, struct metrics *m, struct auth **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, path, NULL, "%s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || (sb.st_mode & 077)) {
        fclose(f);
        return fail(err, errlen, path, NULL, "%s",
                    "holds secrets, so it must not be readable or writable by group or others "
                    "(chmod 600)");
    }
    struct auth *a = calloc(1, sizeof *a);
    yaml_parser_t p;
    yaml_document_t d;
    int rc = -1;
    if (!a) {
        fclose(f);
        return fail(err, errlen, path, NULL, "%s", "out of memory");
    }
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    if (!yaml_parser_load(&p, &d)) {
        snprintf(err, errlen, "%s:%lu: YAML: %s", path, (unsigned long)p.problem_mark.line + 1,
                 p.problem ? p.problem : "cannot parse");
    } else {
        rc = load_doc(a, &d, path, err, errlen);
        yaml_document_delete(&d);
    }
    yaml_parser_delete(&p);
    fclose(f);
    if (rc != 0) {
        auth_free(a);
        return -1;
    }
    a->missing =
        metrics_counter(m, "llmtap_http_auth_failures_total",
                        "Requests refused by authentication, by reason.", "reason=\"missing\"");
    a->wrong =
        metrics_counter(m, "llmtap_http_auth_failures_total",
                        "Requests refused by authentication, by reason.", "reason=\"wrong\"");
    a->scope =
        metrics_counter(m, "llmtap_http_auth_failures_total",
                        "Requests refused by authentication, by reason.", "reason=\"scope\"");
    *out = a;
    return 0;
}

/* ---- checking ----------------------------------------------------------- */

/* Constant-time equality: the time depends on the lengths only. */
static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return d == 0;
}

bool auth_allow(struct auth *a, const struct httpd_req *req, enum auth_scope need,
                struct httpd_resp *resp)
{
    if (!a)
        return true;
    const char *h = httpd_header(req, "Authorization");
    int best = 0; /* the scope of the matching entry */
    bool presented = false;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        presented = true;
        const char *tok = h + 7;
        while (*tok == ' ')
            tok++;
        for (size_t i = 0; i < a->n; i++)
            if (!a->c[i].user && same(tok, a->c[i].secret) && (int)a->c[i].scope > best)
                best = (int)a->c[i].scope;
    } else if (h && strncasecmp(h, "Basic ", 6) == 0) {
        presented = true;
        char *u = NULL, *pw = NULL;
        if (httpd_basic_auth(req, &u, &pw)) {
            for (size_t i = 0; i < a->n; i++) {
                if (!a->c[i].user)
                    continue;
                bool ok = same(u, a->c[i].user) & same(pw, a->c[i].secret);
                if (ok && (int)a->c[i].scope > best)
                    best = (int)a->c[i].scope;
            }
            memset(pw, 0, strlen(pw));
        }
        free(u);
        free(pw);
    }
    if (best >= (int)need)
        return true;
    if (best) {
        metric_inc(a->scope);
        httpd_error(resp, 403, "forbidden: these credentials may only read");
        return false;
    }
    metric_inc(presented ? a->wrong : a->missing);
    httpd_error(resp, 401, "unauthorized: %s",
                presented ? "wrong credentials" : "send a bearer token or basic auth");
    resp->header = "WWW-Authenticate";
    snprintf(resp->header_value, sizeof resp->header_value,
             "Basic realm=\"llmtap\", charset=\"UTF-8\"");
    return false;
}
