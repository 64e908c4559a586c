/*
 * log.h — the one logger of every llmtap binary.
 *
 * Lines go to stderr as `2026-11-23T10:15:02.123Z WARN [agent:kafka] text`.
 * Levels: debug < info < warn < error. A component tag names the module.
 * Repeats are rate-limited per call site format: after 10 lines in one
 * second from the same format, further lines are counted and a single
 * "(N similar lines suppressed)" note follows once the second is over.
 * Thread-safe: one write(2) per line.
 */
#ifndef LLMTAP_LOG_H
#define LLMTAP_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Sets the minimum level printed (default info). */
void log_set_level(enum log_level lvl);
/* Parses "debug", "info", "warn", "error"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lvl, const char *component, const char *fmt, va_list ap);

#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)

#endif
