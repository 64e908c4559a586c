/*
 * timeutil.c — RFC 3339 parse/format and clocks.
 *
 * DESIGN: calendar arithmetic uses Howard Hinnant's days-from-civil method,
 * so no call depends on the process time zone (no mktime/timegm), and parse
 * and format are exact inverses for UTC microsecond times.
 */
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t timeutil_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t timeutil_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int timeutil_parse_rfc3339(const char *s, size_t len, int64_t *us_out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int Y, M, D, h, mi, sec;
    if (len < 20)
        return -1;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (Y < 1 || M < 1 || M > 12 || D < 1 || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (D > mdays[M - 1] + (M == 2 && is_leap(Y)))
        return -1;
    if (sec == 60)
        sec = 59; /* a leap second is read as the last second of its minute */
    size_t i = 19;
    int64_t frac_us = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && isdigit((unsigned char)s[i])) {
            frac_us += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return -1;
    }
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (len - i < 6 || digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;
    int64_t days = days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *us_out = secs * 1000000 + frac_us;
    return 0;
}

size_t timeutil_format_rfc3339(int64_t us, char out[TIMEUTIL_RFC3339_LEN])
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n =
        snprintf(out, TIMEUTIL_RFC3339_LEN, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y,
                 m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (long long)frac);
    return n > 0 ? (size_t)n : 0;
}

int timeutil_parse_time(const char *s, int64_t per_second, int64_t *out)
{
    int64_t us;
    if (!s || !*s || per_second <= 0 || per_second > 1000000)
        return -1;
    if (timeutil_parse_rfc3339(s, strlen(s), &us) == 0) {
        *out = us / (1000000 / per_second);
        return 0;
    }
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || fabs(v) > 9.2e12)
        return -1;
    *out = (int64_t)llround(v * (double)per_second);
    return 0;
}

int timeutil_parse_duration_ms(const char *s, int64_t *ms_out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || v != v)
        return -1;
    double mult;
    if (*end == 0 || (end[0] == 'm' && end[1] == 's' && end[2] == 0))
        mult = 1;
    else if (end[0] == 's' && end[1] == 0)
        mult = 1e3;
    else if (end[0] == 'm' && end[1] == 0)
        mult = 60e3;
    else if (end[0] == 'h' && end[1] == 0)
        mult = 3600e3;
    else if (end[0] == 'd' && end[1] == 0)
        mult = 86400e3;
    else
        return -1;
    double ms = v * mult;
    if (ms > 9.2e18)
        return -1;
    *ms_out = (int64_t)ms;
    return 0;
}
