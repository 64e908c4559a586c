/* Unit tests for agent/otlp_gzip.c: round trips (one and several members,
 * empty, incompressible), the inflated-size limit (exactly at it, one byte
 * over, a bomb), and corrupt input (not gzip, a flipped byte, a bad CRC,
 * truncation, trailing garbage). Inputs are made with zlib here; the random
 * one prints its seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <cmocka.h>

#include "otlp_gzip.h"

/* gzip of in[0, n) (caller frees). */
static unsigned char *gz(const void *in, size_t n, size_t *out_n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static enum otlp_gunzip_result run(const void *in, size_t n, size_t max, char **out, size_t *len,
                                   char *err)
{
    return otlp_gunzip(in, n, max, out, len, err, 160);
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    srand(seed);
    size_t n = 300000;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i % 7 == 0 ? rand() : 'a' + (int)(i % 26));
    size_t zn;
    unsigned char *z = gz(data, n, &zn);
    char *out, err[160];
    size_t len;
    assert_int_equal(run(z, zn, 1 << 20, &out, &len, err), OTLP_GUNZIP_OK);
    assert_int_equal(len, n);
    assert_memory_equal(out, data, n);
    assert_int_equal(out[len], 0);
    free(out);
    /* exactly at the limit, and one byte over */
    assert_int_equal(run(z, zn, n, &out, &len, err), OTLP_GUNZIP_OK);
    free(out);
    assert_int_equal(run(z, zn, n - 1, &out, &len, err), OTLP_GUNZIP_TOO_LARGE);
    assert_null(out);
    assert_non_null(strstr(err, "limit"));
    /* two members */
    size_t zn2;
    unsigned char *z2 = gz("tail", 4, &zn2);
    unsigned char *cat = malloc(zn + zn2);
    memcpy(cat, z, zn);
    memcpy(cat + zn, z2, zn2);
    assert_int_equal(run(cat, zn + zn2, 1 << 20, &out, &len, err), OTLP_GUNZIP_OK);
    assert_int_equal(len, n + 4);
    assert_memory_equal(out + n, "tail", 4);
    free(out);
    /* trailing garbage after a member */
    memcpy(cat + zn, "garbage", 7);
    assert_int_equal(run(cat, zn + 7, 1 << 20, &out, &len, err), OTLP_GUNZIP_CORRUPT);
    free(cat);
    free(z2);
    /* an empty body compressed */
    z2 = gz("", 0, &zn2);
    assert_int_equal(run(z2, zn2, 10, &out, &len, err), OTLP_GUNZIP_OK);
    assert_int_equal(len, 0);
    free(out);
    free(z2);
    free(z);
    free(data);
}

static void test_bomb(void **state)
{
    (void)state;
    size_t n = 64u << 20;
    char *zeros = calloc(1, n);
    size_t zn;
    unsigned char *z = gz(zeros, n, &zn);
    free(zeros);
    print_message("64 MiB of zeros: %zu bytes of gzip\n", zn);
    char *out, err[160];
    size_t len;
    assert_int_equal(run(z, zn, 1 << 20, &out, &len, err), OTLP_GUNZIP_TOO_LARGE);
    assert_null(out);
    assert_string_equal(err, "gzip: inflated body over the 1048576-byte limit");
    free(z);
}

static void test_corrupt(void **state)
{
    (void)state;
    const char text[] = "{\"resourceSpans\":[]} and some more text to compress, more text";
    size_t zn;
    unsigned char *z = gz(text, sizeof text, &zn);
    char *out, err[160];
    size_t len;
    assert_int_equal(run("plain text", 10, 100, &out, &len, err), OTLP_GUNZIP_CORRUPT);
    assert_non_null(strstr(err, "gzip: "));
    assert_int_equal(run("", 0, 100, &out, &len, err), OTLP_GUNZIP_CORRUPT);
    for (size_t cut = 1; cut < zn; cut++) { /* truncated anywhere */
        assert_int_equal(run(z, cut, 1000, &out, &len, err), OTLP_GUNZIP_CORRUPT);
        assert_null(out);
    }
    z[zn - 6] ^= 1; /* the CRC-32 */
    assert_int_equal(run(z, zn, 1000, &out, &len, err), OTLP_GUNZIP_CORRUPT);
    assert_non_null(strstr(err, "check"));
    z[zn - 6] ^= 1;
    z[0] ^= 0xFF; /* the magic */
    assert_int_equal(run(z, zn, 1000, &out, &len, err), OTLP_GUNZIP_CORRUPT);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
