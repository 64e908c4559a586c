/*
 * crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)
 * (see crc32c.h). The spool's record and segment checksums.
 *
 * DESIGN
 * - Two implementations of the same function, chosen once per process:
 *   - hardware: on x86-64 CPUs with SSE4.2, the `crc32` instruction (which
 *     computes exactly CRC-32C), 8 bytes a step on 8-byte-aligned loads,
 *     the unaligned head and the tail a byte at a time;
 *   - software: slicing-by-8 tables (eight 256-entry tables), the tail
 *     byte by byte; every other CPU, and the reference in the tests.
 *   Both give the same value for every input (tests/unit/test_crc32c.c
 *   compares them on random buffers of every length and alignment up to a
 *   few KiB), so which one ran never shows in the spool's files.
 * - The choice and the tables are made once, on first use (pthread_once;
 *   the CPU is asked with __builtin_cpu_supports), then only read: safe
 *   from any thread. LLMTAP_CRC32C_SOFTWARE=1 in the environment forces the
 *   software path (to compare, or to rule the instruction out).
 */
#include "crc32c.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CRC32C_HAVE_HW 1
#else
#define CRC32C_HAVE_HW 0
#endif

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static uint32_t (*crc_impl)(uint32_t crc, const unsigned char *p, size_t len);

/* Software: slicing-by-8. crc is the running (inverted) register. */
static uint32_t crc_sw(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        uint32_t hi =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = crc_tab[7][lo & 0xFF] ^ crc_tab[6][(lo >> 8) & 0xFF] ^ crc_tab[5][(lo >> 16) & 0xFF] ^
              crc_tab[4][lo >> 24] ^ crc_tab[3][hi & 0xFF] ^ crc_tab[2][(hi >> 8) & 0xFF] ^
              crc_tab[1][(hi >> 16) & 0xFF] ^ crc_tab[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_tab[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if CRC32C_HAVE_HW
/* Hardware: SSE4.2's crc32 instruction. Only called when the CPU has it. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
                                                         size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        crc = _mm_crc32_u8(crc, *p++);
        len--;
    }
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8); /* aligned here; memcpy keeps it well-defined */
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    crc = (uint32_t)c;
    while (len--)
        crc = _mm_crc32_u8(crc, *p++);
    return crc;
}
#endif

static bool crc_hw_usable(void)
{
#if CRC32C_HAVE_HW
    const char *force = getenv("LLMTAP_CRC32C_SOFTWARE");
    if (force && *force && strcmp(force, "0") != 0)
        return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
    crc_impl = crc_sw;
#if CRC32C_HAVE_HW
    if (crc_hw_usable())
        crc_impl = crc_hw;
#endif
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    return ~crc_impl(~crc, buf, len);
}

bool crc32c_hardware(void)
{
    pthread_once(&crc_once, crc_init);
    return crc_impl != crc_sw;
}
