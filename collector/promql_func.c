/*
 * promql_func.c — the arithmetic of PromQL's functions: range-vector
 * functions over one window, element-wise functions, date functions,
 * quantiles and classic-histogram quantiles.
 *
 * DESIGN
 * - Every formula follows Prometheus 3 (promql/functions.go, quantile.go):
 *   the same order of floating-point operations and the same Kahan-Neumaier
 *   compensation, so results agree to the last bit where the C library's
 *   exp/log/pow agree with Go's (see docs/query.md).
 * - rate/increase/delta extrapolate as Prometheus does, unless the window
 *   is marked exact (llmtap's exact counters), where rate and increase are
 *   the plain difference from the baseline sample with resets handled.
 * - Nothing here allocates except pq_quantile's callers' buffers; errors
 *   (double_exponential_smoothing's argument checks) come back as text.
 */
#include "promql_func.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

double pq_seconds(int64_t ms)
{
    /* Go: float64(d / Second) + float64(d % Second) / 1e9, with d in ns. */
    int64_t sec = ms / 1000, nsec = (ms % 1000) * 1000000;
    return (double)sec + (double)nsec / 1e9;
}

/* Go's math.Max and math.Min: NaN wins, and they order -0 below +0 (C's
 * fmax/fmin return the other operand for NaN). */
static double go_max(double x, double y)
{
    if ((isinf(x) && x > 0) || (isinf(y) && y > 0))
        return INFINITY;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && x == y)
        return signbit(x) ? y : x;
    return x > y ? x : y;
}

static double go_min(double x, double y)
{
    if ((isinf(x) && x < 0) || (isinf(y) && y < 0))
        return -INFINITY;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && x == y)
        return signbit(x) ? x : y;
    return x < y ? x : y;
}

/* --- rate, increase, delta ----------------------------------------------- */

static int extrapolated_rate(const struct pq_window *w, bool counter, bool rate, double *out)
{
    const struct promql_sample *p = w->p;
    size_t n = w->n;
    if (n < 2)
        return 0;
    double result = p[n - 1].v - p[0].v;
    if (counter)
        for (size_t i = 1; i < n; i++)
            if (p[i].v < p[i - 1].v)
                result += p[i - 1].v;
    double to_start = (double)(p[0].t - w->start) / 1000;
    double to_end = (double)(w->end - p[n - 1].t) / 1000;
    double sampled = (double)(p[n - 1].t - p[0].t) / 1000;
    double avg = sampled / (double)(n - 1);
    double threshold = avg * 1.1;
    if (to_start >= threshold)
        to_start = avg / 2;
    if (counter) {
        double to_zero = to_start;
        if (result > 0 && p[0].v >= 0)
            to_zero = sampled * (p[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    if (to_end >= threshold)
        to_end = avg / 2;
    double factor = 1.0;
    if (sampled != 0)
        factor = (sampled + to_start + to_end) / sampled;
    if (rate)
        factor /= pq_seconds(w->range_ms);
    *out = result * factor;
    return 1;
}

/* llmtap's exact counters: the counter's change between the window's
 * edges — the last sample in the window minus the baseline (the last
 * sample at or before the window's start, else the first in the window),
 * plus the value before each reset. O(1) when the window has no reset and
 * the caller counted them (w->resets, w->no_resets). */
static int exact_rate(const struct pq_window *w, bool rate, double *out)
{
    const struct promql_sample *p = w->p;
    size_t n = w->n, i = 0;
    double base, prev;
    if (w->pre) {
        base = prev = w->pre->v;
    } else {
        if (n < 2)
            return 0;
        base = prev = p[0].v;
        i = 1;
    }
    double result = p[n - 1].v - base;
    /* Resets add the value before them, in order; without any in the
     * window the walk would add nothing. */
    if (w->no_resets || (w->resets && w->resets[n - 1] == w->resets[(ptrdiff_t)i - 1]))
        i = n;
    for (; i < n; i++) {
        if (p[i].v < prev)
            result += prev;
        prev = p[i].v;
    }
    if (rate)
        result /= pq_seconds(w->range_ms);
    *out = result;
    return 1;
}

/* A position on a grid of samples (p[j].t == p[0].t + j * grid): for
 * the window's end (h) and start (l), the index of the last sample at or
 * before it, floor((x - p[0].t) / grid) (-1 before the first, n - 1 or
 * more after the last), and the remainder in [0, grid). */
struct gpos {
    int64_t qh, rh, ql, rl;
};

static inline int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* The next step's position: both ends move by interval, iq * grid + ir. */
static inline void gpos_next(struct gpos *g, int64_t iq, int64_t ir, int64_t grid)
{
    g->qh += iq;
    g->rh += ir;
    int64_t wh = g->rh >= grid;
    g->qh += wh;
    g->rh -= wh * grid;
    g->ql += iq;
    g->rl += ir;
    int64_t wl = g->rl >= grid;
    g->ql += wl;
    g->rl -= wl * grid;
}

size_t pq_fn_exact_rate_steps(const struct pq_rate_steps *a, struct promql_sample *out, bool *over,
                              uint64_t *peak)
{
    /* a's fields in locals: the stores to out (int64_t and double members)
     * could alias them, which made the compiler reload each one every step
     * (about a third of the walk) */
    const struct promql_sample *p = a->p;
    const uint32_t *resets = a->resets;
    const size_t n = a->n, nsteps = a->nsteps;
    const int64_t interval = a->interval, off = a->off, range = a->range_ms;
    const int64_t lookback = a->lookback_ms;
    const uint64_t budget = a->budget;
    const bool no_resets = a->no_resets, rate = a->rate;
    size_t lo = 0, hi = 0, k = 0;
    uint64_t pk = 0;
    bool stopped = false;
    double secs = pq_seconds(range);
    int64_t ts = a->start;
    /* On a grid, the window's ends are found by arithmetic (struct gpos),
     * with no load in the chain from one step to the next (a walk's next
     * step waits for the load of the sample it stopped at). Inside the
     * samples — a sample at or before the window's start, within the
     * lookback, and one at or before its end — with no reset between
     * them, a step is the two samples' difference: those steps run in a
     * loop of their own (the run below), which does what the general step
     * does for them, when the budget cannot stop it (it holds at most a
     * result per step and a window of range / grid + 1 samples). */
    const int64_t grid = n ? a->grid : 0;
    struct gpos g = {0};
    int64_t iq = 0, ir = 0;
    bool run = false;
    if (grid > 0) {
        int64_t e = ts - off - p[0].t;
        g.qh = floor_div(e, grid);
        g.rh = e - g.qh * grid;
        g.ql = floor_div(e - range, grid);
        g.rl = e - range - g.ql * grid;
        iq = interval / grid;
        ir = interval % grid;
        run = range >= grid && lookback >= grid && (no_resets || resets) &&
              budget > (uint64_t)nsteps + (uint64_t)(range / grid) + 1;
    }
    for (size_t step = 0; step < nsteps; step++, ts += interval) {
        if (run && g.ql >= 0 && g.qh < (int64_t)n) {
            /* ql >= 0 from here on; the loop ends past the last sample, at
             * a window with a reset, or at the last step */
            size_t s0 = step;
            while (step < nsteps && g.qh < (int64_t)n &&
                   (no_resets || resets[g.qh] == resets[g.ql])) {
                double result = p[g.qh].v - p[g.ql].v;
                if (rate)
                    result /= secs;
                uint64_t held = (uint64_t)k + (uint64_t)(g.qh - g.ql);
                pk = held > pk ? held : pk;
                out[k++] = (struct promql_sample){ts, result};
                gpos_next(&g, iq, ir, grid);
                step++;
                ts += interval;
            }
            if (step == nsteps)
                break;
            if (step > s0) { /* the general step for this one */
                step--;
                ts -= interval;
                continue;
            }
        }
        int64_t ref = ts - off, from = ref - range;
        if (grid > 0) {
            int64_t h = g.qh + 1, l = g.ql + 1;
            hi = h < 0 ? 0 : h > (int64_t)n ? n : (size_t)h;
            lo = l < 0 ? 0 : l > (int64_t)hi ? hi : (size_t)l;
            gpos_next(&g, iq, ir, grid);
        } else {
            /* the window's ends move by a sample or two a step on dense
             * data: two steps without a branch to mispredict (both
             * samples loaded at once, so a step waits for one load, not
             * two in a row), then the loop for any further ones */
            if (hi + 2 <= n) {
                size_t c1 = p[hi].t <= ref, c2 = p[hi + 1].t <= ref;
                hi += c1 + (c1 & c2);
            }
            while (hi < n && p[hi].t <= ref)
                hi++;
            if (lo + 2 <= hi) {
                size_t c1 = p[lo].t <= from, c2 = p[lo + 1].t <= from;
                lo += c1 + (c1 & c2);
            }
            while (lo < hi && p[lo].t <= from)
                lo++;
        }
        if (lo >= hi)
            continue;
        uint64_t held = (uint64_t)k + (hi - lo);
        pk = held > pk ? held : pk;
        if (hi - lo > budget - k) { /* the window would not fit */
            stopped = true;
            break;
        }
        double base, prev;
        size_t i;
        if (lo > 0 && p[lo - 1].t > from - lookback) {
            base = prev = p[lo - 1].v;
            i = lo;
        } else {
            if (hi - lo < 2)
                continue;
            base = prev = p[lo].v;
            i = lo + 1;
        }
        double result = p[hi - 1].v - base;
        if (no_resets || (resets && resets[hi - 1] == resets[i - 1]))
            i = hi;
        for (; i < hi; i++) {
            if (p[i].v < prev)
                result += prev;
            prev = p[i].v;
        }
        if (rate)
            result /= secs;
        if (k >= budget) {
            pk = (uint64_t)k + 1 > pk ? (uint64_t)k + 1 : pk;
            stopped = true;
            break;
        }
        out[k++] = (struct promql_sample){ts, result};
    }
    *over = stopped;
    if (peak)
        *peak = pk;
    return k;
}

static int instant_value(const struct pq_window *w, bool rate, double *out)
{
    if (w->n < 2)
        return 0;
    const struct promql_sample *a = &w->p[w->n - 2], *b = &w->p[w->n - 1];
    int64_t interval = b->t - a->t;
    if (interval == 0)
        return 0;
    double r = b->v;
    if (!rate || !(b->v < a->v))
        r = b->v - a->v;
    if (rate)
        r /= (double)interval / 1000;
    *out = r;
    return 1;
}

/* Least squares over the samples, x in seconds relative to t0. */
static void linear_regression(const struct promql_sample *p, size_t n, int64_t t0, double *slope,
                              double *intercept)
{
    double cnt = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
    double y0 = p[0].v;
    bool const_y = true;
    for (size_t i = 0; i < n; i++) {
        if (const_y && i > 0 && p[i].v != y0)
            const_y = false;
        cnt += 1.0;
        double x = (double)(p[i].t - t0) / 1e3;
        pq_kahan_inc(x, &sx, &cx);
        pq_kahan_inc(p[i].v, &sy, &cy);
        pq_kahan_inc(x * p[i].v, &sxy, &cxy);
        pq_kahan_inc(x * x, &sx2, &cx2);
    }
    if (const_y) {
        if (isinf(y0)) {
            *slope = *intercept = NAN;
            return;
        }
        *slope = 0;
        *intercept = y0;
        return;
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    double cov = sxy - sx * sy / cnt;
    double var = sx2 - sx * sx / cnt;
    *slope = cov / var;
    *intercept = sy / cnt - *slope * sx / cnt;
}

/* --- *_over_time --------------------------------------------------------- */

static double avg_over_time(const struct promql_sample *p, size_t n)
{
    double sum = p[0].v, count = 1, mean = 0, c = 0;
    bool incremental = false;
    for (size_t i = 1; i < n; i++) {
        count = (double)(i + 1);
        if (!incremental) {
            double ns = sum, nc = c;
            pq_kahan_inc(p[i].v, &ns, &nc);
            if (!isinf(ns)) {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1);
            c /= count - 1;
        }
        double q = (count - 1) / count;
        double m = q * mean, mc = q * c;
        pq_kahan_inc(p[i].v / count, &m, &mc);
        mean = m;
        c = mc;
    }
    if (incremental)
        return mean + c;
    return sum / count + c / count;
}

static double sum_over_time(const struct promql_sample *p, size_t n)
{
    double sum = 0, c = 0;
    for (size_t i = 0; i < n; i++)
        pq_kahan_inc(p[i].v, &sum, &c);
    if (isinf(sum))
        return sum;
    return sum + c;
}

static double variance_over_time(const struct promql_sample *p, size_t n)
{
    double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
    for (size_t i = 0; i < n; i++) {
        count++;
        double delta = p[i].v - (mean + cmean);
        pq_kahan_inc(delta / count, &mean, &cmean);
        pq_kahan_inc(delta * (p[i].v - (mean + cmean)), &aux, &caux);
    }
    return (aux + caux) / count;
}

/* min/max_over_time (ts: the timestamp of the extreme instead). */
static double extreme_over_time(const struct promql_sample *p, size_t n, bool max, bool or_equal,
                                bool ts)
{
    double best = p[0].v;
    int64_t at = p[0].t;
    for (size_t i = 0; i < n; i++) {
        double cur = p[i].v;
        bool better =
            max ? (or_equal ? cur >= best : cur > best) : (or_equal ? cur <= best : cur < best);
        if (better || isnan(best)) {
            best = cur;
            at = p[i].t;
        }
    }
    return ts ? (double)at / 1000 : best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x))
        return isnan(y) ? 0 : -1;
    if (isnan(y))
        return 1;
    return x < y ? -1 : x > y;
}

double pq_quantile(double q, double *v, size_t n)
{
    if (n == 0 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(v, n, sizeof *v, cmp_double);
    double cnt = (double)n;
    double rank = q * (cnt - 1);
    double lo = go_max(0, floor(rank));
    double hi = go_min(cnt - 1, lo + 1);
    double weight = rank - floor(rank);
    return v[(size_t)lo] * (1 - weight) + v[(size_t)hi] * weight;
}

/* quantile_over_time and mad_over_time work on a copy of the values. */
static int values_quantile(const struct pq_window *w, double q, bool mad, double *out)
{
    double small[64];
    double *v = w->n <= 64 ? small : malloc(w->n * sizeof *v);
    if (!v)
        return -2;
    for (size_t i = 0; i < w->n; i++) {
        v[i] = w->p[i].v;
        if (mad && isnan(v[i])) {
            if (v != small)
                free(v);
            *out = NAN;
            return 1;
        }
    }
    double r = pq_quantile(q, v, w->n);
    if (mad) {
        for (size_t i = 0; i < w->n; i++)
            v[i] = fabs(v[i] - r);
        r = pq_quantile(0.5, v, w->n);
    }
    if (v != small)
        free(v);
    *out = r;
    return 1;
}

static int double_exponential_smoothing(const struct pq_window *w, double sf, double tf,
                                        double *out, char *err, size_t errlen)
{
    if (sf <= 0 || sf >= 1) {
        snprintf(err, errlen, "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf);
        return -1;
    }
    if (tf <= 0 || tf >= 1) {
        snprintf(err, errlen, "invalid trend factor. Expected: 0 < tf < 1, got: %f", tf);
        return -1;
    }
    const struct promql_sample *p = w->p;
    if (w->n < 2)
        return 0;
    double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
    for (size_t i = 1; i < w->n; i++) {
        double x = sf * p[i].v;
        if (i - 1 != 0)
            b = tf * (s1 - s0) + (1 - tf) * b;
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    *out = s1;
    return 1;
}

bool pq_fn_is_range(enum promql_func_id id)
{
    switch (id) {
    case PROMQL_FN_RATE:
    case PROMQL_FN_INCREASE:
    case PROMQL_FN_DELTA:
    case PROMQL_FN_IRATE:
    case PROMQL_FN_IDELTA:
    case PROMQL_FN_DERIV:
    case PROMQL_FN_PREDICT_LINEAR:
    case PROMQL_FN_CHANGES:
    case PROMQL_FN_RESETS:
    case PROMQL_FN_AVG_OVER_TIME:
    case PROMQL_FN_SUM_OVER_TIME:
    case PROMQL_FN_COUNT_OVER_TIME:
    case PROMQL_FN_MIN_OVER_TIME:
    case PROMQL_FN_MAX_OVER_TIME:
    case PROMQL_FN_LAST_OVER_TIME:
    case PROMQL_FN_FIRST_OVER_TIME:
    case PROMQL_FN_QUANTILE_OVER_TIME:
    case PROMQL_FN_STDDEV_OVER_TIME:
    case PROMQL_FN_STDVAR_OVER_TIME:
    case PROMQL_FN_PRESENT_OVER_TIME:
    case PROMQL_FN_MAD_OVER_TIME:
    case PROMQL_FN_TS_OF_MAX_OVER_TIME:
    case PROMQL_FN_TS_OF_MIN_OVER_TIME:
    case PROMQL_FN_TS_OF_FIRST_OVER_TIME:
    case PROMQL_FN_TS_OF_LAST_OVER_TIME:
    case PROMQL_FN_DOUBLE_EXPONENTIAL_SMOOTHING: return true;
    default: return false;
    }
}

int pq_fn_range(enum promql_func_id id, const struct pq_window *w, const double *args, double *out,
                char *err, size_t errlen)
{
    const struct promql_sample *p = w->p;
    size_t n = w->n;
    double slope, icpt;
    switch (id) {
    case PROMQL_FN_RATE:
        return w->exact ? exact_rate(w, true, out) : extrapolated_rate(w, true, true, out);
    case PROMQL_FN_INCREASE:
        return w->exact ? exact_rate(w, false, out) : extrapolated_rate(w, true, false, out);
    case PROMQL_FN_DELTA: return extrapolated_rate(w, false, false, out);
    case PROMQL_FN_IRATE: return instant_value(w, true, out);
    case PROMQL_FN_IDELTA: return instant_value(w, false, out);
    case PROMQL_FN_DERIV:
        if (n < 2)
            return 0;
        linear_regression(p, n, p[0].t, &slope, &icpt);
        *out = slope;
        return 1;
    case PROMQL_FN_PREDICT_LINEAR:
        if (n < 2)
            return 0;
        linear_regression(p, n, w->ts, &slope, &icpt);
        *out = slope * args[0] + icpt;
        return 1;
    case PROMQL_FN_CHANGES: {
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (p[i].v != p[i - 1].v && !(isnan(p[i].v) && isnan(p[i - 1].v)))
                k++;
        *out = (double)k;
        return 1;
    }
    case PROMQL_FN_RESETS: {
        size_t k = 0;
        for (size_t i = 1; i < n; i++)
            if (p[i].v < p[i - 1].v)
                k++;
        *out = (double)k;
        return 1;
    }
    case PROMQL_FN_AVG_OVER_TIME: *out = avg_over_time(p, n); return 1;
    case PROMQL_FN_SUM_OVER_TIME: *out = sum_over_time(p, n); return 1;
    case PROMQL_FN_COUNT_OVER_TIME: *out = (double)n; return 1;
    case PROMQL_FN_MIN_OVER_TIME: *out = extreme_over_time(p, n, false, false, false); return 1;
    case PROMQL_FN_MAX_OVER_TIME: *out = extreme_over_time(p, n, true, false, false); return 1;
    case PROMQL_FN_TS_OF_MIN_OVER_TIME: *out = extreme_over_time(p, n, false, true, true); return 1;
    case PROMQL_FN_TS_OF_MAX_OVER_TIME: *out = extreme_over_time(p, n, true, true, true); return 1;
    case PROMQL_FN_LAST_OVER_TIME: *out = p[n - 1].v; return 1;
    case PROMQL_FN_FIRST_OVER_TIME: *out = p[0].v; return 1;
    case PROMQL_FN_TS_OF_FIRST_OVER_TIME: *out = (double)p[0].t / 1000; return 1;
    case PROMQL_FN_TS_OF_LAST_OVER_TIME: *out = (double)p[n - 1].t / 1000; return 1;
    case PROMQL_FN_QUANTILE_OVER_TIME: return values_quantile(w, args[0], false, out);
    case PROMQL_FN_MAD_OVER_TIME: return values_quantile(w, 0.5, true, out);
    case PROMQL_FN_STDVAR_OVER_TIME: *out = variance_over_time(p, n); return 1;
    case PROMQL_FN_STDDEV_OVER_TIME: *out = sqrt(variance_over_time(p, n)); return 1;
    case PROMQL_FN_PRESENT_OVER_TIME: *out = 1; return 1;
    case PROMQL_FN_DOUBLE_EXPONENTIAL_SMOOTHING:
        return double_exponential_smoothing(w, args[0], args[1], out, err, errlen);
    default: snprintf(err, errlen, "unsupported function"); return -1;
    }
}

/* --- element-wise functions ---------------------------------------------- */

bool pq_fn_is_simple(enum promql_func_id id)
{
    switch (id) {
    case PROMQL_FN_ABS:
    case PROMQL_FN_CEIL:
    case PROMQL_FN_FLOOR:
    case PROMQL_FN_EXP:
    case PROMQL_FN_SQRT:
    case PROMQL_FN_LN:
    case PROMQL_FN_LOG2:
    case PROMQL_FN_LOG10:
    case PROMQL_FN_SIN:
    case PROMQL_FN_COS:
    case PROMQL_FN_TAN:
    case PROMQL_FN_ASIN:
    case PROMQL_FN_ACOS:
    case PROMQL_FN_ATAN:
    case PROMQL_FN_SINH:
    case PROMQL_FN_COSH:
    case PROMQL_FN_TANH:
    case PROMQL_FN_ASINH:
    case PROMQL_FN_ACOSH:
    case PROMQL_FN_ATANH:
    case PROMQL_FN_RAD:
    case PROMQL_FN_DEG:
    case PROMQL_FN_SGN:
    case PROMQL_FN_ROUND:
    case PROMQL_FN_CLAMP:
    case PROMQL_FN_CLAMP_MIN:
    case PROMQL_FN_CLAMP_MAX:
    case PROMQL_FN_MINUTE:
    case PROMQL_FN_HOUR:
    case PROMQL_FN_DAY_OF_MONTH:
    case PROMQL_FN_DAY_OF_WEEK:
    case PROMQL_FN_DAY_OF_YEAR:
    case PROMQL_FN_DAYS_IN_MONTH:
    case PROMQL_FN_MONTH:
    case PROMQL_FN_YEAR: return true;
    default: return false;
    }
}

double pq_fn_simple(enum promql_func_id id, double v, const double *args)
{
    switch (id) {
    case PROMQL_FN_ABS: return fabs(v);
    case PROMQL_FN_CEIL: return ceil(v);
    case PROMQL_FN_FLOOR: return floor(v);
    case PROMQL_FN_EXP: return exp(v);
    case PROMQL_FN_SQRT: return sqrt(v);
    case PROMQL_FN_LN: return log(v);
    case PROMQL_FN_LOG2: {
        /* As Go: exact for powers of two, else via the natural log. */
        int e;
        double frac = frexp(v, &e);
        if (frac == 0.5)
            return (double)(e - 1);
        return log(frac) * (1 / M_LN2) + (double)e;
    }
    case PROMQL_FN_LOG10: return log(v) * (1 / M_LN10);
    case PROMQL_FN_SIN: return sin(v);
    case PROMQL_FN_COS: return cos(v);
    case PROMQL_FN_TAN: return tan(v);
    case PROMQL_FN_ASIN: return asin(v);
    case PROMQL_FN_ACOS: return acos(v);
    case PROMQL_FN_ATAN: return atan(v);
    case PROMQL_FN_SINH: return sinh(v);
    case PROMQL_FN_COSH: return cosh(v);
    case PROMQL_FN_TANH: return tanh(v);
    case PROMQL_FN_ASINH: return asinh(v);
    case PROMQL_FN_ACOSH: return acosh(v);
    case PROMQL_FN_ATANH: return atanh(v);
    case PROMQL_FN_RAD: return v * M_PI / 180;
    case PROMQL_FN_DEG: return v * 180 / M_PI;
    case PROMQL_FN_SGN: return v < 0 ? -1 : v > 0 ? 1 : v;
    case PROMQL_FN_ROUND: {
        /* Ties round up; the inverse causes fewer precision problems. */
        double inv = 1.0 / args[0];
        return floor(v * inv + 0.5) / inv;
    }
    case PROMQL_FN_CLAMP: return go_max(args[0], go_min(args[1], v));
    case PROMQL_FN_CLAMP_MIN: return go_max(args[0], go_min(INFINITY, v));
    case PROMQL_FN_CLAMP_MAX: return go_max(-INFINITY, go_min(args[0], v));
    default: return pq_fn_date(id, v);
    }
}

/* --- dates --------------------------------------------------------------- */

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian; the
 * well-known era/day-of-era decomposition). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned char len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : len[m - 1];
}

double pq_fn_date(enum promql_func_id id, double secs)
{
    /* Go's int64(NaN), int64(±Inf) and out-of-range conversions give
     * math.MinInt64 on amd64, whose date (after Go's wrap-around) is
     * Sunday, 292277026596-12-04 15:30 UTC, day 339 of the year. */
    if (!(secs >= -9223372036854775808.0 && secs < 9223372036854775808.0)) {
        switch (id) {
        case PROMQL_FN_MINUTE: return 30;
        case PROMQL_FN_HOUR: return 15;
        case PROMQL_FN_DAY_OF_MONTH: return 4;
        case PROMQL_FN_DAY_OF_WEEK: return 0;
        case PROMQL_FN_DAY_OF_YEAR: return 339;
        case PROMQL_FN_DAYS_IN_MONTH: return 31;
        case PROMQL_FN_MONTH: return 12;
        case PROMQL_FN_YEAR: return 292277026596.0;
        default: return NAN;
        }
    }
    int64_t s = (int64_t)secs;
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    switch (id) {
    case PROMQL_FN_MINUTE: return (double)(rem / 60 % 60);
    case PROMQL_FN_HOUR: return (double)(rem / 3600);
    case PROMQL_FN_DAY_OF_MONTH: return d;
    case PROMQL_FN_DAY_OF_WEEK: {
        int64_t wd = (days + 4) % 7;
        return (double)(wd < 0 ? wd + 7 : wd);
    }
    case PROMQL_FN_DAY_OF_YEAR: {
        unsigned yd = d;
        for (unsigned i = 1; i < m; i++)
            yd += month_days(y, i);
        return yd;
    }
    case PROMQL_FN_DAYS_IN_MONTH: return month_days(y, m);
    case PROMQL_FN_MONTH: return m;
    case PROMQL_FN_YEAR: return (double)y;
    default: return NAN;
    }
}

/* --- classic histograms -------------------------------------------------- */

static int cmp_bucket(const void *a, const void *b)
{
    double x = ((const struct pq_bucket *)a)->le, y = ((const struct pq_bucket *)b)->le;
    return x < y ? -1 : x > y;
}

static size_t coalesce(struct pq_bucket *b, size_t n)
{
    struct pq_bucket last = b[0];
    size_t i = 0;
    for (size_t j = 1; j < n; j++) {
        if (b[j].le == last.le) {
            last.count += b[j].count;
        } else {
            b[i++] = last;
            last = b[j];
        }
    }
    b[i] = last;
    return i + 1;
}

/* Prometheus's util/almost.Equal. */
static bool almost_equal(double a, double b, double eps)
{
    if (isnan(a) && isnan(b))
        return true;
    if (a == b)
        return true;
    const double min_normal = DBL_MIN;
    double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < min_normal)
        return diff < eps * min_normal;
    return diff / go_min(abs_sum, DBL_MAX) < eps;
}

static void ensure_monotonic(struct pq_bucket *b, size_t n)
{
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double cur = b[i].count;
        if (cur == prev)
            continue;
        if (almost_equal(prev, cur, 1e-12)) {
            b[i].count = prev;
            continue;
        }
        if (cur < prev) {
            b[i].count = prev;
            continue;
        }
        prev = cur;
    }
}

double pq_bucket_quantile(double q, struct pq_bucket *b, size_t n, bool sorted)
{
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    if (!sorted)
        qsort(b, n, sizeof *b, cmp_bucket);
    if (!(isinf(b[n - 1].le) && b[n - 1].le > 0))
        return NAN;
    if (!sorted) /* sorted: distinct le, nothing to merge */
        n = coalesce(b, n);
    ensure_monotonic(b, n);
    if (n < 2)
        return NAN;
    double observations = b[n - 1].count;
    if (observations == 0)
        return NAN;
    double rank = q * observations;
    size_t i = 0; /* the first bucket with count >= rank, searching [0, n-1) */
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].count >= rank)
            hi = mid;
        else
            lo = mid + 1;
    }
    i = lo;
    if (i == n - 1)
        return b[n - 2].le;
    if (i == 0 && b[0].le <= 0)
        return b[0].le;
    double start = 0, end = b[i].le, count = b[i].count;
    if (i > 0) {
        start = b[i - 1].le;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

double pq_bucket_fraction(double lower, double upper, struct pq_bucket *b, size_t n, bool sorted)
{
    if (!sorted)
        qsort(b, n, sizeof *b, cmp_bucket);
    if (!(isinf(b[n - 1].le) && b[n - 1].le > 0))
        return NAN;
    n = coalesce(b, n);
    double count = b[n - 1].count;
    if (count == 0 || isnan(lower) || isnan(upper))
        return NAN;
    if (lower >= upper)
        return 0;
    double rank = 0, lower_rank = 0, upper_rank = 0;
    bool lower_set = false, upper_set = false;
    double lower_bound = b[0].le <= 0 ? -INFINITY : 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lower_bound = b[i - 1].le;
        double upper_bound = b[i].le;
        if (!lower_set && lower_bound >= lower) {
            lower_rank = rank;
            lower_set = true;
        }
        if (!upper_set && lower_bound >= upper) {
            upper_rank = rank;
            upper_set = true;
        }
        if (lower_set && upper_set)
            break;
        if (!lower_set && lower_bound < lower && upper_bound > lower) {
            lower_rank = isinf(lower_bound) && lower_bound < 0
                             ? b[i].count
                             : rank + (b[i].count - rank) * (lower - lower_bound) /
                                          (upper_bound - lower_bound);
            lower_set = true;
        }
        if (!upper_set && lower_bound < upper && upper_bound > upper) {
            upper_rank = isinf(lower_bound) && lower_bound < 0
                             ? b[i].count
                             : rank + (b[i].count - rank) * (upper - lower_bound) /
                                          (upper_bound - lower_bound);
            upper_set = true;
        }
        if (lower_set && upper_set)
            break;
        rank = b[i].count;
    }
    if (!lower_set || lower_rank > count)
        lower_rank = count;
    if (!upper_set || upper_rank > count)
        upper_rank = count;
    return (upper_rank - lower_rank) / count;
}

bool pq_parse_float(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    const char *p = tmp + (tmp[0] == '+' || tmp[0] == '-');
    if (*p == 'n' || *p == 'N') { /* only a bare "nan", any case */
        if (p != tmp || len != 3 || strcasecmp(tmp, "nan") != 0)
            return false;
        *out = NAN;
        return true;
    }
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'i' || *p == 'I'))
        return false;
    bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex && !strpbrk(tmp, "pP"))
        return false;
    char *end;
    double v = strtod(tmp, &end);
    if (*end)
        return false;
    *out = v;
    return true;
}

/* --- natural order (sort_by_label) --------------------------------------- */

/* The next run of digits or of non-digits in s[*i, n). */
static void chunk(const char *s, size_t n, size_t *i, const char **c, size_t *cl)
{
    size_t j = *i;
    bool digit = s[j] >= '0' && s[j] <= '9';
    while (j < n && (s[j] >= '0' && s[j] <= '9') == digit)
        j++;
    *c = s + *i;
    *cl = j - *i;
    *i = j;
}

/* A chunk of digits as an int64 (false when it does not fit, as Go's
 * strconv.Atoi fails). */
static bool chunk_int(const char *c, size_t n, long long *v)
{
    if (n == 0 || c[0] < '0' || c[0] > '9')
        return false;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (x > (9223372036854775807ull - (unsigned)(c[i] - '0')) / 10)
            return false;
        x = x * 10 + (unsigned)(c[i] - '0');
    }
    *v = (long long)x;
    return true;
}

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int r = memcmp(a, b, al < bl ? al : bl);
    return r ? r : (al < bl ? -1 : al > bl);
}

bool pq_natural_less(const char *a, size_t al, const char *b, size_t bl)
{
    size_t i = 0, j = 0;
    while (i < al) {
        if (j >= bl)
            return false;
        const char *ca, *cb;
        size_t na, nb;
        chunk(a, al, &i, &ca, &na);
        chunk(b, bl, &j, &cb, &nb);
        long long x, y;
        bool same;
        if (chunk_int(ca, na, &x) && chunk_int(cb, nb, &y)) {
            if (x != y)
                return x < y;
            same = true;
        } else {
            int r = bytes_cmp(ca, na, cb, nb);
            if (r)
                return r < 0;
            same = true;
        }
        if (same) {
            if (i >= al)
                return true;
            if (j >= bl)
                return false;
        }
    }
    return false;
}
