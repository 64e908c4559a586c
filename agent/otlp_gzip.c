/*
 * otlp_gzip.c — bounded gzip inflation of OTLP request bodies (see
 * otlp_gzip.h).
 *
 * DESIGN
 * - zlib's inflate with windowBits 16 + MAX_WBITS accepts the gzip format
 *   only (no raw deflate, no zlib wrapper: those are other Content-Encodings)
 *   and checks the CRC-32 and length of every member.
 * - Output grows by doubling from a guess (4 x the input, at least 64 KiB),
 *   but never past max + 1 bytes: when inflate wants to write byte max + 1
 *   the body is too large and inflation stops there. Memory is therefore at
 *   most max + 1 bytes whatever the compression ratio.
 * - After a member ends, further input must be another member (RFC 1952
 *   allows several); anything else is refused as trailing garbage.
 */
#include "otlp_gzip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static enum otlp_gunzip_result gz_fail(enum otlp_gunzip_result r, char *err, size_t errlen,
                                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum otlp_gunzip_result gz_fail(enum otlp_gunzip_result r, char *err, size_t errlen,
                                       const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return r;
}

enum otlp_gunzip_result otlp_gunzip(const void *in, size_t len, size_t max, char **out,
                                    size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return gz_fail(OTLP_GUNZIP_NOMEM, err, errlen, "gzip: out of memory");
    size_t limit = max + 1 > max ? max + 1 : max; /* one byte more tells "over" */
    size_t cap = len < limit / 4 ? 4 * len + 65536 : limit;
    if (cap > limit)
        cap = limit;
    char *buf = malloc(cap + 1);
    enum otlp_gunzip_result rc = OTLP_GUNZIP_OK;
    if (!buf) {
        rc = gz_fail(OTLP_GUNZIP_NOMEM, err, errlen, "gzip: out of memory");
        goto done;
    }
    const unsigned char *p = in;
    size_t left = len, used = 0;
    for (;;) {
        if (used == cap) {
            if (cap >= limit) {
                rc = gz_fail(OTLP_GUNZIP_TOO_LARGE, err, errlen,
                             "gzip: inflated body over the %zu-byte limit", max);
                goto done;
            }
            size_t ncap = cap > limit / 2 ? limit : 2 * cap;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = gz_fail(OTLP_GUNZIP_NOMEM, err, errlen, "gzip: out of memory");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed and drain at most 1 GiB at a time */
        uInt in_chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        uInt out_chunk = cap - used > (1u << 30) ? (1u << 30) : (uInt)(cap - used);
        z.next_in = (Bytef *)p;
        z.avail_in = in_chunk;
        z.next_out = (Bytef *)buf + used;
        z.avail_out = out_chunk;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t consumed = in_chunk - z.avail_in, produced = out_chunk - z.avail_out;
        p += consumed;
        left -= consumed;
        used += produced;
        if (zr == Z_STREAM_END) {
            if (!left)
                break;
            if (inflateReset(&z) != Z_OK) { /* another member follows */
                rc = gz_fail(OTLP_GUNZIP_CORRUPT, err, errlen, "gzip: cannot restart");
                goto done;
            }
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && z.avail_out == 0)
            continue; /* output full: grow */
        if (zr == Z_BUF_ERROR && !left) {
            rc = gz_fail(OTLP_GUNZIP_CORRUPT, err, errlen, "gzip: truncated stream");
            goto done;
        }
        if (zr == Z_MEM_ERROR) {
            rc = gz_fail(OTLP_GUNZIP_NOMEM, err, errlen, "gzip: out of memory");
            goto done;
        }
        rc =
            gz_fail(OTLP_GUNZIP_CORRUPT, err, errlen, "gzip: %s", z.msg ? z.msg : "corrupt stream");
        goto done;
    }
    if (used > max) {
        rc = gz_fail(OTLP_GUNZIP_TOO_LARGE, err, errlen,
                     "gzip: inflated body over the %zu-byte limit", max);
        goto done;
    }
    buf[used] = 0;
    *out = buf;
    *out_len = used;
    buf = NULL;
done:
    inflateEnd(&z);
    free(buf);
    return rc;
}
