/*
 * ulid.c — ULID generation (monotonic within a thread) and validation.
 *
 * DESIGN
 * - State per thread, no lock: the last millisecond that thread used and
 *   its 80-bit random part. A new millisecond takes 80 fresh bits; the same
 *   millisecond (or a clock that stepped back) increments the previous
 *   bits, as the ULID spec's monotonic mode does, so a thread's ids strictly
 *   increase and never repeat.
 * - Across threads ids are unique because their random parts are: each is
 *   80 bits from the kernel's CSPRNG (a collision needs ~2^40 ids in one
 *   millisecond). A thread's first id also starts from fresh bits, whatever
 *   the millisecond. Ids of different threads in the same millisecond are
 *   not ordered among themselves (nothing relies on that: ids are keys).
 * - The random bits come from getrandom(2) RANDOM_POOL bytes at a time into
 *   a per-thread pool, so a thread makes one system call per ~50 new
 *   milliseconds instead of one per id, and the bits are still the
 *   kernel's, not a userspace generator's (ids must not be predictable
 *   from earlier ones: the collector deduplicates on them).
 * - fork: the child must not reuse the parent's pool (its ids would repeat
 *   the parent's), so a pthread_atfork child handler bumps a generation
 *   that makes every thread's state start over.
 */
#include "ulid.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define RANDOM_POOL 512

struct ulid_state {
    unsigned gen; /* fork generation the state belongs to (0: never used) */
    uint64_t last_ms;
    uint8_t rand[10];
    size_t pool_off; /* next unused byte of pool */
    uint8_t pool[RANDOM_POOL];
};

static _Thread_local struct ulid_state t_state;
static atomic_uint g_gen = 1;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add(&g_gen, 1);
}
static void install_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

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

/* n (<= RANDOM_POOL) fresh random bytes from the thread's pool. */
static void take_random(struct ulid_state *st, uint8_t *out, size_t n)
{
    if (st->pool_off + n > RANDOM_POOL) {
        fill_random(st->pool, RANDOM_POOL);
        st->pool_off = 0;
    }
    memcpy(out, st->pool + st->pool_off, n);
    memset(st->pool + st->pool_off, 0, n); /* a byte is never handed out twice */
    st->pool_off += n;
}

void ulid_make(uint64_t ms, char out[ULID_LEN + 1])
{
    uint8_t b[16];
    struct ulid_state *st = &t_state;
    unsigned gen = atomic_load_explicit(&g_gen, memory_order_relaxed);
    bool first = st->gen != gen; /* the thread's first id, or its first after a fork */
    if (first) {
        pthread_once(&g_atfork_once, install_atfork);
        st->gen = gen;
        st->pool_off = RANDOM_POOL; /* refill before use */
    }
    if (!first && ms <= st->last_ms) {
        ms = st->last_ms; /* clock stepped back or same ms: stay monotonic */
        int i = 9;
        while (i >= 0 && ++st->rand[i] == 0)
            i--;
    } else {
        st->last_ms = ms;
        take_random(st, st->rand, sizeof st->rand);
        st->rand[0] &= 0x7f; /* leave headroom for increments */
    }
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    memcpy(b + 6, st->rand, 10);

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
