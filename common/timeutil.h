/*
 * timeutil.h — wall-clock time in microseconds and RFC 3339 text.
 *
 * Times are int64 microseconds since the Unix epoch, UTC. Parsing accepts
 * RFC 3339 date-times (`2026-11-23T10:15:02.123456Z`, any fraction length,
 * `Z` or a numeric offset, `T`/`t`); fractions beyond microseconds are
 * truncated. Formatting always writes UTC with six fraction digits and `Z`.
 */
#ifndef LLMTAP_TIMEUTIL_H
#define LLMTAP_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIMEUTIL_RFC3339_LEN 32 /* buffer size for timeutil_format_rfc3339 */

int64_t timeutil_now_us(void);
/* Monotonic clock in microseconds (for durations). */
int64_t timeutil_mono_us(void);

/* Parses exactly `len` bytes. Returns 0, or -1 when the text is not a valid
 * RFC 3339 date-time (bad syntax, out-of-range field, year outside 1–9999). */
int timeutil_parse_rfc3339(const char *s, size_t len, int64_t *us_out);

/* Parses a time given as RFC 3339 or as Unix seconds with an optional
 * fraction ("1795000000.5"), as the HTTP APIs take it, into units of
 * 1/per_second s (1000: ms, 1000000: µs). RFC 3339 is cut toward zero to
 * the unit, seconds are rounded to it. Returns 0, or -1 (also for NULL or
 * ""). */
int timeutil_parse_time(const char *s, int64_t per_second, int64_t *out);

/* Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` and a NUL; returns the length (27). */
size_t timeutil_format_rfc3339(int64_t us, char out[TIMEUTIL_RFC3339_LEN]);

/* Parses a Prometheus-style or plain duration: "250ms", "5s", "2m", "1h",
 * "1d"; returns 0 or -1. */
int timeutil_parse_duration_ms(const char *s, int64_t *ms_out);

#endif
