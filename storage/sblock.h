/*
 * sblock.h — the sample block codec of the series store (storage/series.c).
 *
 * What it is for: packing the samples of ONE series over ONE block span into
 * a few bits each. A sample is (u, v): u is the sample's time as an offset
 * from the block's start in units of the block's resolution (0..65535), v a
 * binary64. The block's key (series.c) carries the series, the resolution
 * and the start, so a block holds no absolute time and no series id.
 *
 * Format (docs/storage.md, "Series blocks", is the reference):
 *
 *   byte 0     codec: 1 = INT (every value an integer of at most 2^53 in
 *              magnitude: values as deltas), 2 = FLOAT (values XORed with
 *              the previous one, as Gorilla does)
 *   varint     n, the number of samples (>= 1)
 *   varint     u of the first sample
 *   value 0    INT: zigzag varint; FLOAT: 8 bytes, little-endian binary64
 *   bits       samples 1..n-1, most significant bit first, zero-padded to
 *              a byte: for each, a time code then a value code
 *
 *   time code: dod = (u_i - u_{i-1}) - (u_{i-1} - u_{i-2}), with the delta
 *   before the second sample taken as 1 (so a dense run costs 1 bit):
 *     0                      dod == 0
 *     10   + 3 bits  z-1     1 <= z <= 8        (z = zigzag(dod))
 *     110  + 7 bits  z-1     z <= 128
 *     1110 + 12 bits z-1     z <= 4096
 *     1111 + 32 bits z-1
 *   INT value code: z = zigzag(v_i - v_{i-1}), L = bit length of z:
 *     0                      z == 0 (value unchanged)
 *     10   + L-1 bits        L equal to the L of the last nonzero z
 *     11   + 6 bits L + L-1 bits
 *     (the top bit of z is always 1 and is not written)
 *   FLOAT value code: x = bits(v_i) XOR bits(v_{i-1}):
 *     0                      x == 0
 *     10   + m bits          x fits in the window (leading, m) of the last
 *                            "11" code: its m meaningful bits
 *     11   + 5 bits leading zeros (at most 31) + 6 bits m-1 + m bits
 *
 * DESIGN. An encoder is append-only (samples in increasing u), so the open
 * block of a series grows sample by sample without re-encoding; its state
 * can be rebuilt from its bytes (sblock_enc_load), which is how it survives
 * a restart. A block starts as INT when its first value is an integer and
 * is converted once to FLOAT (re-encoded from its own bits) the first time
 * a value is not. Decoding checks every length against the buffer and
 * every u against the caller's bound: a damaged block is SBLOCK_ECORRUPT,
 * never a read past the end.
 *
 * Threads: an encoder or decoder belongs to one thread at a time; nothing
 * here is shared. Errors: 0, or the negative SBLOCK_E* codes below.
 */
#ifndef LLMTAP_SBLOCK_H
#define LLMTAP_SBLOCK_H

#include <stddef.h>
#include <stdint.h>

enum {
    SBLOCK_ECORRUPT = -1, /* bytes that are not a valid block */
    SBLOCK_ENOMEM = -2,
    SBLOCK_EINVAL = -3, /* u not increasing, or beyond SBLOCK_U_MAX */
};

enum { SBLOCK_INT = 1, SBLOCK_FLOAT = 2 };

#define SBLOCK_U_MAX 65535u

/* Append-only encoder. Zero-initialize (or sblock_enc_reset) before use. */
struct sblock_enc {
    uint8_t codec; /* 0 while empty, then SBLOCK_INT or SBLOCK_FLOAT */
    uint32_t n;    /* samples */
    uint32_t u0, ulast, dlast;
    double v0;
    int64_t ilast;     /* INT: last value */
    uint8_t zlen;      /* INT: bit length of the last nonzero zigzag delta */
    uint64_t xlast;    /* FLOAT: bits of the last value */
    uint8_t lead, sig; /* FLOAT: window of the last "11" code (sig 0 = none) */
    uint8_t *bits;     /* the bit stream after the header; owned */
    size_t cap;        /* bytes allocated at bits */
    uint64_t nbits;
};

/* Appends (u, v): u must exceed the last u (any u <= SBLOCK_U_MAX for the
 * first sample). NaN and infinities are stored exactly (FLOAT codec).
 * SBLOCK_EINVAL, SBLOCK_ENOMEM; on error the encoder is unchanged. */
int sblock_enc_append(struct sblock_enc *e, uint32_t u, double v);
/* Size in bytes of the serialized block; 0 when empty. */
size_t sblock_enc_size(const struct sblock_enc *e);
/* Writes the serialized block (sblock_enc_size bytes) to out. */
void sblock_enc_write(const struct sblock_enc *e, uint8_t *out);
/* Forgets every sample, keeps the allocation. */
void sblock_enc_reset(struct sblock_enc *e);
/* Frees the allocation and resets. */
void sblock_enc_free(struct sblock_enc *e);
/* Resets e and loads the block p[0, len) into it so that appending
 * continues it; the codec is kept. u_max bounds the offsets (as in
 * sblock_dec_init). SBLOCK_ECORRUPT, SBLOCK_ENOMEM. */
int sblock_enc_load(struct sblock_enc *e, const uint8_t *p, size_t len, uint32_t u_max);

/* Decoder over a serialized block. Points into the caller's bytes, which
 * must stay valid (and unchanged) while it is used. */
struct sblock_dec {
    const uint8_t *p;
    size_t len;
    uint64_t bitpos, nbits;
    uint32_t n, i, u_max;
    uint8_t codec, zlen, lead, sig;
    uint32_t ulast, dlast;
    int64_t ilast;
    uint64_t xlast;
};

/* Reads the header; SBLOCK_ECORRUPT when it is invalid or any offset would
 * exceed u_max. */
int sblock_dec_init(struct sblock_dec *d, const uint8_t *p, size_t len, uint32_t u_max);
/* The next sample: 1 and (u, v), 0 at the end, SBLOCK_ECORRUPT. */
int sblock_dec_next(struct sblock_dec *d, uint32_t *u, double *v);
/* Up to max next samples into u[] and v[] (the same as that many calls of
 * sblock_dec_next, faster): their number (less than max only at the end, 0
 * there), or SBLOCK_ECORRUPT when damage is found within them (what was
 * decoded before it is not returned). max must fit an int. */
int sblock_dec_bulk(struct sblock_dec *d, uint32_t *u, double *v, size_t max);
/* The sample count from the header alone (cheap); SBLOCK_ECORRUPT. */
int sblock_count(const uint8_t *p, size_t len, uint32_t *n);

#endif
