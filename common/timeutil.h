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

/* Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` and a NUL; returns the length (27). */
size_t timeutil_format_rfc3339(int64_t us, char out[TIMEUTIL_RFC3339_LEN]);

/* Parses a Prometheus-style or plain duration: "250ms", "5s", "2m", "1h",
 * "1d"; returns 0 or -1. */
int timeutil_parse_duration_ms(const char *s, int64_t *ms_out);

#endif
