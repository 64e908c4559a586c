/*
 * capture_text.h — the capture's text cap (internal to the capture module:
 * capture.c and the provider files; the public API is capture.h).
 *
 * What it is for: capture_opts.text_cap bounds prompt + context + response
 * text together. Every capped string of the request is a slot (struct
 * cap_slot in capture_provider.h), registered by cap_text, cap_text_item,
 * cap_text_owned (declared there) or cap_text_push_slot. capture.c cuts the
 * request's slots once the request is parsed (cap_text_part_demand,
 * cap_text_fair_shares, cap_text_part_slots) and everything once more at
 * finish (cap_text_final); capture_text.c says how the cap is shared.
 *
 * Not thread-safe beyond its capture (see capture.h).
 */
#ifndef LLMTAP_AGENT_CAPTURE_TEXT_H
#define LLMTAP_AGENT_CAPTURE_TEXT_H

#include <stddef.h>

#include "capture_provider.h"

#define CAP_VECTOR_NUMBER_BYTES 24 /* budgeted per vector element (a double written back) */

/* a + b, or SIZE_MAX when it would overflow. */
size_t cap_text_sat_add(size_t a, size_t b);
/* The longest prefix of s[0, len) that is at most max bytes and does not end
 * inside a UTF-8 sequence. */
size_t cap_text_utf8_cut(const char *s, size_t len, size_t max);

/* Max-min fair shares of `cap` for demands d[0..n) into a[0..n). */
void cap_text_fair_shares(const size_t *d, size_t *a, size_t n, size_t cap);
/* Shares `cap` between the slots of `part`, and cuts them (sets c->truncated
 * on a cut, c->oom when out of memory). */
void cap_text_part_slots(struct capture *c, enum cap_part part, size_t cap);
/* The total length of the slots of `part` (saturating). */
size_t cap_text_part_demand(const struct capture *c, enum cap_part part);

/* Registers node as a slot of `part` with the text src[0, len); owned (may be
 * NULL) is freed with the slots' owned texts. On failure sets c->oom and frees
 * owned. */
void cap_text_push_slot(struct capture *c, cJSON *node, const char *src, size_t len, char *owned,
                        enum cap_part part);
/* Frees the slots' owned texts and forgets their request-time sources (after
 * the request's cut). */
void cap_text_free_owned(struct capture *c);

/* The final cut of everything against the cap, in three parts: prompt,
 * context, response (text, then tool-call arguments, then vectors). */
void cap_text_final(struct capture *c);

#endif
