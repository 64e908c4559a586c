/*
 * ulid.c — ULID generation (monotonic within a millisecond) and validation.
 *
 * DESIGN: one process-wide state under a mutex: the last millisecond and its
 * 80-bit random part. A new millisecond draws fresh bits from getrandom(2);
 * the same millisecond increments the previous bits (as the ULID spec's
 * monotonic mode does), so two ids never collide within a process.
 */
#include "ulid.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_last_ms;
static uint8_t g_rand[10];

static void fill_random(uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t r = getrandom(p + off, n - off, 0);
        if (r <= 0) { /* never expected; fall back to the clock */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            for (; off < n; off++)
                p[off] ^= (uint8_t)(ts.tv_nsec >> (off % 4 * 8)) ^ (uint8_t)off;
            return;
        }
        off += (size_t)r;
    }
}

void ulid_make(uint64_t ms, char out[ULID_LEN + 1])
{
    uint8_t b[16];
    pthread_mutex_lock(&g_mu);
    if (ms <= g_last_ms) {
        ms = g_last_ms; /* clock stepped back or same ms: stay monotonic */
        int i = 9;
        while (i >= 0 && ++g_rand[i] == 0)
            i--;
    } else {
        g_last_ms = ms;
        fill_random(g_rand, sizeof g_rand);
        g_rand[0] &= 0x7f; /* leave headroom for increments */
    }
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(b + 6, g_rand, 10);
    pthread_mutex_unlock(&g_mu);

    /* 128 bits -> 26 base32 digits, most significant first (first digit 3 bits). */
    int bit = -2; /* 130 bits of output cover 128 bits of input: 2 leading zero bits */
    for (int i = 0; i < ULID_LEN; i++) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++, bit++) {
            v <<= 1;
            if (bit >= 0)
                v |= (b[bit / 8] >> (7 - bit % 8)) & 1u;
        }
        out[i] = crockford[v];
    }
    out[ULID_LEN] = 0;
}

void ulid_new(char out[ULID_LEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ulid_make((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, out);
}

bool ulid_valid(const char *s, size_t len)
{
    if (len != ULID_LEN)
        return false;
    if (s[0] < '0' || s[0] > '7')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!strchr(crockford, c) || c == 0)
            return false;
    }
    return true;
}

bool uuid_valid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F'))) {
            return false;
        }
    }
    return true;
}

void event_id_canonical(char *s)
{
    size_t n = strlen(s);
    if (ulid_valid(s, n)) {
        for (size_t i = 0; i < n; i++)
            if (s[i] >= 'a' && s[i] <= 'z')
                s[i] = (char)(s[i] - 'a' + 'A');
    } else if (uuid_valid(s, n)) {
        for (size_t i = 0; i < n; i++)
            if (s[i] >= 'A' && s[i] <= 'F')
                s[i] = (char)(s[i] - 'A' + 'a');
    }
}
