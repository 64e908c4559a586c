/*
 * promql_fmt.h — numbers as Go's strconv.FormatFloat(v, 'f' | 'e', -1, 64)
 * writes them: the shortest decimal that reads back to the same double.
 *
 * What it is for: the JSON of a range query carries one such number per
 * point (tens of thousands per answer), so the digits must be cheap. The
 * evaluator's writers (promql_value.c: pq_format_value, the JSON) use it.
 *
 * The digits are the shortest of the correctly rounded 15-, 16- and
 * 17-significant-digit decimals of v that reads back to v (glibc's printf
 * and strtod decide that in pq_fmt_shortest_slow; subnormals are searched
 * from 1 digit). pq_fmt_shortest gives exactly the same digits: for
 * 2^-16 <= |v| < 2^53 it computes them with exact integer arithmetic (one
 * 128-bit product, the rest in 64 bits; no rounding anywhere, see
 * promql_fmt.c), and falls back to the slow path elsewhere.
 *
 * Pure functions; any thread.
 */
#ifndef LLMTAP_PROMQL_FMT_H
#define LLMTAP_PROMQL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest text pq_fmt_f / pq_fmt_e / pq_fmt_value write: 'f' of the
 * largest double is 309 digits, of the smallest subnormal "0." and 324
 * digits; pq_fmt_value never writes more than PQ_FMT_VALUE_ROOM bytes. */
#define PQ_FMT_MAX 352

/* The shortest decimal digits of |v| that read back to v (v finite and
 * nonzero): digits[0..*nd), no trailing zeros (*nd <= 17), and the decimal
 * exponent of the first digit: |v| ~ 0.d1d2... * 10^(*exp10 + 1). digits
 * must hold 17 bytes (they are not NUL-terminated). */
void pq_fmt_shortest(double v, char *digits, int *nd, int *exp10);

/* The same through printf("%.*e") and strtod (the reference). */
void pq_fmt_shortest_slow(double v, char *digits, int *nd, int *exp10);

/* The exact fast path alone: true when it decided (2^-16 <= |v| < 2^53,
 * finite, normal), with the same result as pq_fmt_shortest_slow; false
 * (nothing written) otherwise. For tests. */
bool pq_fmt_shortest_fast(double v, char *digits, int *nd, int *exp10);

/* Go's 'f' / 'e' format with precision -1 into out (at least PQ_FMT_MAX
 * bytes; not NUL-terminated); returns the length. Bytes of out past the
 * length may be overwritten (the digits are stored in fixed-size words).
 * 'f' writes NaN, +Inf, -Inf as Prometheus does. */
size_t pq_fmt_f(char *out, double v);
size_t pq_fmt_e(char *out, double v);

/* The decimal digits of u (no sign, no leading zeros); returns the
 * length (at most 20). out must have room for 20 bytes: the digits are
 * stored eight at a time, so up to 8 bytes are written even for fewer
 * digits. */
size_t pq_fmt_u64(char *out, uint64_t u);

/* What Prometheus's JSON writes for a sample value: 'e' for finite
 * nonzero |v| < 1e-6 or >= 1e21, else 'f'. Returns the length (at most
 * 25); writes nothing at or past out + PQ_FMT_VALUE_ROOM, so out needs
 * only that much room. */
#define PQ_FMT_VALUE_ROOM 32
size_t pq_fmt_value(char *out, double v);

#endif
