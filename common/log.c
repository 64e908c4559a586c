/*
 * log.c — leveled, tagged, rate-limited logging to stderr.
 *
 * DESIGN
 * - Each line is formatted into a stack buffer and written with one write(2),
 *   so lines from several threads never interleave.
 * - Rate limiting is keyed by the format string pointer, component and level
 *   (one call site, or a few sharing a format: the librdkafka bridge logs
 *   every line with one format, so its errors never share a budget with its
 *   chatter). A small fixed table of slots, protected by a
 *   mutex, holds per-key counts for the current second. A key that finds no
 *   free slot is never limited (fail open: never lose a first occurrence).
 */
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_BURST 10
#define LOG_SLOTS 64

static _Atomic int g_level = LOG_INFO;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

struct rate_slot {
    const char *fmt;
    enum log_level lvl;
    const char *component;
    time_t second;
    unsigned count;
    unsigned suppressed;
};
static struct rate_slot g_slots[LOG_SLOTS];

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level lvl)
{
    atomic_store(&g_level, (int)lvl);
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

static size_t format_prefix(char *buf, size_t cap, enum log_level lvl, const char *component)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%s] ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[lvl], component ? component : "-");
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

static void write_line(char *buf, size_t len, size_t cap)
{
    if (len >= cap - 1)
        len = cap - 2;
    buf[len++] = '\n';
    ssize_t off = 0;
    while ((size_t)off < len) {
        ssize_t w = write(STDERR_FILENO, buf + off, len - (size_t)off);
        if (w <= 0)
            break;
        off += w;
    }
}

/* Returns 1 to print, 0 to suppress; *flushed gets the count of lines
 * suppressed in an earlier second for this key (to report now). */
static int rate_check(const char *fmt, const char *component, enum log_level lvl, unsigned *flushed)
{
    time_t now = time(NULL);
    int print = 1;
    *flushed = 0;
    pthread_mutex_lock(&g_mu);
    struct rate_slot *free_slot = NULL, *slot = NULL;
    for (int i = 0; i < LOG_SLOTS; i++) {
        if (g_slots[i].fmt == fmt && g_slots[i].component == component && g_slots[i].lvl == lvl) {
            slot = &g_slots[i];
            break;
        }
        if (!free_slot && (g_slots[i].fmt == NULL || g_slots[i].second < now - 60))
            free_slot = &g_slots[i];
    }
    if (!slot && free_slot) {
        slot = free_slot;
        memset(slot, 0, sizeof *slot);
        slot->fmt = fmt;
        slot->component = component;
        slot->lvl = lvl;
        slot->second = now;
    }
    if (slot) {
        if (slot->second != now) {
            *flushed = slot->suppressed;
            slot->second = now;
            slot->count = 0;
            slot->suppressed = 0;
        }
        if (++slot->count > LOG_BURST) {
            slot->suppressed++;
            print = 0;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return print;
}

void log_vmsg(enum log_level lvl, const char *component, const char *fmt, va_list ap)
{
    if ((int)lvl < atomic_load(&g_level))
        return;
    unsigned flushed;
    int print = rate_check(fmt, component, lvl, &flushed);
    char buf[4096];
    if (flushed) {
        size_t n = format_prefix(buf, sizeof buf, lvl, component);
        int m = snprintf(buf + n, sizeof buf - n, "(%u similar lines suppressed)", flushed);
        write_line(buf, n + (m > 0 ? (size_t)m : 0), sizeof buf);
    }
    if (!print)
        return;
    size_t n = format_prefix(buf, sizeof buf, lvl, component);
    int m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    size_t len = n + (m > 0 ? (size_t)m : 0);
    if (len >= sizeof buf - 1)
        len = sizeof buf - 2;
    /* One line per record: embedded newlines become spaces. */
    for (size_t i = n; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    write_line(buf, len, sizeof buf);
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, component, fmt, ap);
    va_end(ap);
}
