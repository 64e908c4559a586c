/*
 * promql_func.h — the arithmetic of PromQL's functions (internal to the
 * evaluator: promql_eval.c and promql_agg.c).
 *
 * What it is for: the evaluator walks the tree and moves series around;
 * this module computes values — of one series' window for the range-vector
 * functions (rate, *_over_time, ...), of one sample for the element-wise
 * ones (abs, round, hour, ...), quantiles, and classic-histogram quantiles
 * and fractions — with Prometheus 3's formulas, including its Kahan
 * summation and its handling of NaN, Inf and counter resets.
 *
 * Pure functions: no allocation (except where noted), no state; any thread.
 */
#ifndef LLMTAP_PROMQL_FUNC_H
#define LLMTAP_PROMQL_FUNC_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql_ast.h"
#include "promql_eval.h"

/* One series' samples for a range-vector function at one step. */
struct pq_window {
    const struct promql_sample *p; /* the samples with start < t <= end */
    size_t n;                      /* >= 1 */
    int64_t start, end;            /* the window (start excluded) */
    int64_t range_ms;              /* the selector's range */
    int64_t ts;                    /* the evaluation (step) time */
    /* exact counters (rate, increase): the last sample at or before start
     * within the lookback, or NULL */
    const struct promql_sample *pre;
    bool exact;
    /* exact counters, optional: resets[i] (i from -1 when pre is set, else
     * from 0, to n-1) is the number of resets (p[j].v < p[j-1].v) at the
     * series' samples up to p[i], counted from any fixed origin, so that
     * a window without resets costs O(1); no_resets says the whole series
     * has none. Both unset: the window is walked. */
    const uint32_t *resets;
    bool no_resets;
};

/* Computes range-vector function id over w, with the function's scalar
 * arguments (those other than the range vector, in order) in args.
 * Returns 1 with *out set, 0 when the function has no value for this
 * window (too few samples, ...), or -1 with a message in err (invalid
 * arguments). absent_over_time is the evaluator's business. */
int pq_fn_range(enum promql_func_id id, const struct pq_window *w, const double *args, double *out,
                char *err, size_t errlen);
/* rate() or increase() with exact counters over one series at every step
 * of a range evaluation at once (the evaluator's whole-range path): the
 * same windows, baselines and arithmetic as pq_fn_range() at each step,
 * bit for bit. */
struct pq_rate_steps {
    const struct promql_sample *p; /* the series, time ascending */
    size_t n;
    const uint32_t *resets; /* as pq_window's, for p[0, n); may be NULL */
    bool no_resets;
    /* > 0: the samples are on a grid, p[j].t == p[0].t + j * grid for
     * every j; the window's ends are then found by arithmetic instead of
     * a walk (same windows, same results) */
    int64_t grid;
    int64_t start, interval; /* step times: start + k * interval */
    size_t nsteps;
    int64_t off, range_ms, lookback_ms; /* window (ts-off-range, ts-off] */
    bool rate;
    /* samples that may still be held (the evaluation's limit less what
     * it holds): a window larger than what is left, or a result past it,
     * stops the walk with *over set */
    uint64_t budget;
};
/* Writes the steps that have a value to out (room for every step that can
 * have one) and returns how many. *peak (when not NULL): the most samples
 * the walk held at once (its results so far plus a window); *over is set
 * exactly when that exceeds the budget, so a walk with a larger budget
 * tells whether one with a smaller budget would stop. */
size_t pq_fn_exact_rate_steps(const struct pq_rate_steps *a, struct promql_sample *out, bool *over,
                              uint64_t *peak);
/* True for the functions pq_fn_range() computes. */
bool pq_fn_is_range(enum promql_func_id id);

/* The element-wise functions of one instant-vector argument (abs ... sgn,
 * round, clamp*, date functions of a value): the result for value v with
 * the scalar arguments args (round's to_nearest; clamp's bounds). */
double pq_fn_simple(enum promql_func_id id, double v, const double *args);
bool pq_fn_is_simple(enum promql_func_id id);

/* The date functions (minute ... year, day_of_year, days_in_month) of a
 * time in seconds since the epoch, as Go's time.Unix(int64(secs), 0).UTC(). */
double pq_fn_date(enum promql_func_id id, double secs);

/* Go's time.Duration.Seconds() of a duration in milliseconds. */
double pq_seconds(int64_t ms);

/* Kahan-Neumaier summation step: adds inc to (*sum, *c). */
static inline void pq_kahan_inc(double inc, double *sum, double *c)
{
    double t = *sum + inc;
    if (t > 1.7976931348623157e308 || t < -1.7976931348623157e308)
        *c = 0;
    else if (fabs(*sum) >= fabs(inc))
        *c += (*sum - t) + inc;
    else
        *c += (inc - t) + *sum;
    *sum = t;
}

/* The q-quantile of v[0, n) (sorted in place; NaN sorts first): NaN for
 * n == 0 or q NaN, -Inf for q < 0, +Inf for q > 1. */
double pq_quantile(double q, double *v, size_t n);

/* A classic histogram bucket: le and cumulative count. */
struct pq_bucket {
    double le, count;
};
/* histogram_quantile() of classic buckets b[0, n) (sorted by le unless
 * sorted says they already are, with distinct le, and coalesced in place;
 * n >= 1): monotonicity forced, tiny float errors ignored, NaN without a
 * +Inf bucket or observations. */
double pq_bucket_quantile(double q, struct pq_bucket *b, size_t n, bool sorted);
/* histogram_fraction() of classic buckets (sorted: as above). */
double pq_bucket_fraction(double lower, double upper, struct pq_bucket *b, size_t n, bool sorted);

/* facette/natsort's Compare (sort_by_label): runs of digits compare as
 * numbers, other runs bytewise. */
bool pq_natural_less(const char *a, size_t al, const char *b, size_t bl);

/* Parses a label value as Go's strconv.ParseFloat does (for le). */
bool pq_parse_float(const char *s, size_t len, double *out);

#endif
