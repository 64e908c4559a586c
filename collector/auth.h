/*
 * auth.h — who may call the collector's HTTP API: bearer tokens and basic
 * auth users, each with a scope, from an auth file (setting `auth.file`).
 *
 * What it is for. Grafana's Prometheus datasource can send either an
 * `Authorization: Bearer …` header or basic auth; so can promtool
 * (--http.config.file) and any scraper of /metrics. Without `auth.file`
 * the API is open (it listens on loopback by default).
 *
 * The file (YAML; docs/collector.md, "Authentication and TLS"):
 *
 *   tokens:
 *     - token: "…"          # at least 16 characters
 *       scope: read         # read | write
 *   users:
 *     - username: grafana
 *       password: "…"       # at least 8 characters
 *       scope: read
 *
 * Scopes: `read` may use every reading endpoint (queries, series, labels,
 * exemplars, events, /metrics; queries sent as POST are reads); `write`
 * includes read and is what a state-changing endpoint requires (the
 * collector has none yet). /healthz and /readyz are always open.
 *
 * DESIGN
 * - The file holds secrets, so it must not be readable by group or others
 *   (refused otherwise, as ssh refuses a private key), and its content is
 *   never logged or printed.
 * - Credentials are compared in constant time, against every entry, so
 *   the time of a refusal says nothing about how close a guess was.
 * - 401 (with WWW-Authenticate) for missing or wrong credentials, 403 for
 *   a valid one whose scope is too small; each refusal is counted
 *   (llmtap_http_auth_failures_total).
 * - The loaded table is immutable: any HTTP thread may check against it.
 */
#ifndef LLMTAP_COLLECTOR_AUTH_H
#define LLMTAP_COLLECTOR_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "httpd.h"

enum auth_scope { AUTH_READ = 1, AUTH_WRITE = 2 };

struct auth;
struct metrics;

/* Loads the auth file at path. Returns 0 and *out, or -1 with err naming
 * the file and the problem (line numbers for YAML errors). */
int auth_load(const char *path, struct metrics *m, struct auth **out, char *err, size_t errlen);
void auth_free(struct auth *a); /* accepts NULL */
/* Entries loaded (tokens, users). */
void auth_counts(const struct auth *a, size_t *tokens, size_t *users);

/* True when req carries credentials with at least scope need; otherwise
 * fills resp with 401 or 403 and returns false. a == NULL allows all. */
bool auth_allow(struct auth *a, const struct httpd_req *req, enum auth_scope need,
                struct httpd_resp *resp);

#endif
