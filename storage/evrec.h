/*
 * evrec.h — the value format of the store's `events` database (internal to
 * storage/; the byte layout is documented in docs/storage.md).
 *
 * A record is a fixed little-endian header, five length-prefixed strings and
 * a body (a zstd frame, or the JSON itself when compression did not help):
 *
 *   off  size  field
 *     0     1  record version (EVREC_VERSION)
 *     1     1  flags (EVREC_F_*)
 *     2     2  reserved, written 0, ignored on read
 *     4     4  dictionary id, u32 (0 = no dictionary)
 *     8     8  time_us, i64
 *    16     8  cost_usd, IEEE-754 binary64 (NaN = absent)
 *    24     8  latency_ms, binary64
 *    32     4  status, i32
 *    36     4  json_len, u32: length of the uncompressed JSON
 *    40     8  input_tokens, i64 (-1 = absent)
 *    48     8  output_tokens, i64 (-1 = absent)
 *    56        5 x (u16 length + bytes): id, service, model, provider, operation
 *     …        body, to the end of the value
 *
 * All multi-byte integers are little-endian and read/written byte by byte
 * (LMDB values have no alignment), so the format is the same on any host.
 *
 * evrec_parse() validates lengths only; it never reads outside the buffer
 * and never allocates. The parsed view points into the buffer it was given.
 */
#ifndef LLMTAP_EVREC_H
#define LLMTAP_EVREC_H

#include <stddef.h>
#include <stdint.h>

#define EVREC_VERSION 1
#define EVREC_FIXED   56     /* bytes before the strings */
#define EVREC_STR_MAX 65535u /* longest string a record can hold */

/* flags */
#define EVREC_F_RAW   0x01u /* body is the JSON itself, not a zstd frame */
#define EVREC_F_KNOWN EVREC_F_RAW

enum { EVREC_ID, EVREC_SERVICE, EVREC_MODEL, EVREC_PROVIDER, EVREC_OPERATION, EVREC_NSTR };

struct evrec {
    uint8_t version;
    uint8_t flags;
    uint32_t dict_id;
    int64_t time_us;
    double cost_usd;
    double latency_ms;
    int32_t status;
    uint32_t json_len;
    int64_t input_tokens;
    int64_t output_tokens;
    const char *str[EVREC_NSTR]; /* NOT NUL-terminated */
    uint16_t str_len[EVREC_NSTR];
    const uint8_t *body;
    size_t body_len;
};

/* Bytes taken by the fixed header plus the strings of r (str_len[] set). */
size_t evrec_head_size(const struct evrec *r);

/* Writes the fixed header and the strings of r at dst, which has room for
 * evrec_head_size(r) bytes. Returns the number of bytes written. The body is
 * the caller's to place after them. r->version is ignored (EVREC_VERSION is
 * written). */
size_t evrec_put_head(uint8_t *dst, const struct evrec *r);

/* Parses a record of len bytes. Returns 0, or -1 when the record is short,
 * of an unknown version, has unknown flags or inconsistent lengths. */
int evrec_parse(const void *buf, size_t len, struct evrec *r);

#endif
