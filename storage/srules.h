/*
 * srules.h — the sample rules of the series store (storage/series.c): how
 * the open buckets of a counter become samples, how base samples become
 * downsampled points, and the head record that carries open buckets across
 * transactions and restarts. Pure functions: no LMDB, no I/O, no state
 * beyond what the caller passes, so the writer (sealing) and the readers
 * (reading open buckets, downsampling on the fly) apply the very same code.
 *
 * Terms (docs/storage.md, "Series"): R is the base resolution; bucket b
 * holds the events with t in [bR, (b+1)R) and its sample is at sigma b+1
 * (sigma = time / R); block k holds the samples with sigma in [kN, (k+1)N]
 * where N = block span / R.
 *
 * DESIGN
 *
 * The baseline rule (srules_walk): buckets are visited in order; each adds
 * its sum to the running value and yields a sample at its end; when the
 * sample before (at sigma b) does not exist, a baseline holding the value
 * before the bucket is yielded first, at sigma b. So every increment is
 * visible to rate()/increase() as a difference of two samples, the very
 * first one of a series included (its baseline is 0), and a quiet
 * stretch costs nothing. Both samples go to the block of bucket b.
 *
 * The downsampling rule (struct srules_ds): a point at T (a multiple of DS)
 * is the last base sample in (T - DS, T]. When the DS before T holds no
 * base sample, a baseline point at T - DS with the first base value in
 * (T - DS, T] comes first: that first value is itself a base baseline
 * (nothing happened in between), so it is the value held at T - DS. A
 * baseline is not emitted before the ds span of the base block it is
 * derived from, and a point the previous ds span already ends with (same
 * T) is not emitted twice; with the state a ds span is started from (did
 * the previous span end with a point at its start?) the points are the
 * same whether the base samples are pushed span by span or in one stream.
 *
 * Threads: none of its own; the functions are reentrant.
 */
#ifndef LLMTAP_SRULES_H
#define LLMTAP_SRULES_H

#include <stddef.h>
#include <stdint.h>

#include "sblock.h"

#define SRULES_NONE  INT64_MIN          /* "no such time / bucket / block" */
#define SRULES_T_MAX ((int64_t)1 << 52) /* latest time the store accepts, ms */

/* An open bucket: its index and the sum of the deltas added to it. */
struct srules_pend {
    int64_t b;
    double d;
};

/* A head: the last sealed sample, the open block, the open buckets. As
 * parsed from a record, pend is malloc'd (free it with srules_head_free)
 * and open_p points into the record's bytes. */
struct srules_head {
    int64_t first_s, last_s;  /* sigma of the first / last sealed sample; NONE */
    double last_v;            /* value of the last sealed sample (0 when none) */
    struct srules_pend *pend; /* ascending b, all >= last_s */
    uint32_t npend;
    int64_t open_k; /* block of the open block; NONE */
    const uint8_t *open_p;
    size_t open_len;
};

/* Parses a head record: SERIES_ECORRUPT, SERIES_ENOMEM (series.h codes). */
int srules_head_parse(const uint8_t *p, size_t len, struct srules_head *h);
void srules_head_free(struct srules_head *h);
/* Bytes srules_head_write needs at most. */
size_t srules_head_size(uint32_t npend, const struct sblock_enc *open);
/* Writes the record of h, with the open block taken from the encoder
 * `open` (h->open_p is ignored; no open block when open is empty or
 * h->open_k is NONE). Returns its length. */
size_t srules_head_write(uint8_t *out, const struct srules_head *h, const struct sblock_enc *open);
/* First and last sample sigma of a head, open buckets included; NONE. */
void srules_head_bounds(const struct srules_head *h, int64_t *first, int64_t *last);

/* fn(ud, k, sigma, v): one sample of block k. Nonzero stops the walk. */
typedef int (*srules_emit_fn)(void *ud, int64_t k, int64_t sigma, double v);

/* The baseline rule: walks p[0..n) while p[i].b < lim, from the sample
 * (*last_s, *last_v) (*last_s NONE: a new series, value 0), calling fn for
 * each sample; advances *last_s and *last_v; *used (may be NULL) = buckets
 * walked. N = samples per block. Returns fn's nonzero code, else 0. */
int srules_walk(int64_t N, const struct srules_pend *p, uint32_t n, int64_t lim, int64_t *last_s,
                double *last_v, srules_emit_fn fn, void *ud, uint32_t *used);

/* The downsampling state machine. */
struct srules_ds {
    int64_t DS;
    int64_t last_g; /* index (T / DS) of the last point emitted, or found before; NONE */
    int64_t cur_g, cur_day;
    double first_v, last_v;
    int have;
    int (*emit)(void *ud, int64_t g, double v); /* a point at g * DS */
    void *ud;
};

/* Starts a stream. last_g: g of a point the previous ds span ended with at
 * this span's start (start / DS), else NONE. */
void srules_ds_init(struct srules_ds *m, int64_t DS, int64_t last_g,
                    int (*emit)(void *ud, int64_t g, double v), void *ud);
/* One base sample (ascending t), from a block of the ds span starting at day. */
int srules_ds_push(struct srules_ds *m, int64_t t, double v, int64_t day);
/* Emits what is pending. */
int srules_ds_finish(struct srules_ds *m);

int64_t srules_floor_div(int64_t a, int64_t b);
int64_t srules_ceil_div(int64_t a, int64_t b);

#endif
