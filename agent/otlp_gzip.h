/*
 * otlp_gzip.h — inflating gzip request bodies (Content-Encoding: gzip) for
 * the OTLP intake, bounded.
 *
 * What it is for: most OTLP/HTTP exporters compress their bodies with gzip
 * by default. otlp_gunzip inflates one body incrementally and stops as soon
 * as the output would pass a limit, so a small body that inflates to
 * gigabytes (a "zip bomb") costs at most the limit in memory and the time
 * to inflate that much.
 *
 * Threads: no shared state.
 */
#ifndef LLMTAP_AGENT_OTLP_GZIP_H
#define LLMTAP_AGENT_OTLP_GZIP_H

#include <stddef.h>

enum otlp_gunzip_result {
    OTLP_GUNZIP_OK = 0,
    OTLP_GUNZIP_CORRUPT = -1,   /* not gzip, a bad header, a bad CRC or length, truncated,
                                   trailing garbage */
    OTLP_GUNZIP_TOO_LARGE = -2, /* the inflated body would be over max bytes */
    OTLP_GUNZIP_NOMEM = -3,
};

/* Inflates in[0, len), one or more concatenated gzip members (RFC 1952).
 * On OTLP_GUNZIP_OK *out is a malloc'd buffer (caller frees; a NUL follows
 * the data) of *out_len <= max bytes. On any other result *out is NULL and
 * err holds a one-line reason, e.g. "gzip: invalid block type" or
 * "gzip: inflated body over the 16777216-byte limit". */
enum otlp_gunzip_result otlp_gunzip(const void *in, size_t len, size_t max, char **out,
                                    size_t *out_len, char *err, size_t errlen);

#endif
