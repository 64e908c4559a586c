/*
 * json_print.h — compact JSON text of a cJSON tree, into a reusable buffer.
 *
 * What it is for: the proxy writes one event per relayed call. cJSON's own
 * printer (cJSON_PrintUnformatted) allocates a fresh buffer per call, grows
 * it by reallocation, and formats every number with sprintf and checks it
 * with sscanf. This printer appends to a caller-owned struct buf (kept and
 * reused across events, so no allocation once it is warm), writes integers
 * with a digit loop, and uses snprintf/strtod only for non-integral numbers.
 *
 * Output: byte for byte what cJSON_PrintUnformatted (cJSON 1.7) writes for
 * the same tree — the same escapes ("\"", "\\", \b \f \n \r \t, other
 * control bytes as \u00xx; every other byte as it is), numbers as cJSON
 * prints them (NaN and infinities as null, else 15 significant digits, or
 * 17 when 15 do not read back the same value), raw items verbatim. tests/unit/test_json_print.c
 * checks this against cJSON on random trees.
 *
 * Threads: no state; the buffer is the caller's.
 */
#ifndef LLMTAP_AGENT_JSON_PRINT_H
#define LLMTAP_AGENT_JSON_PRINT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"

/* Appends the JSON text of v to b (no terminating NUL is counted in b->len,
 * but one is written after the text). Returns false when b ran out of
 * memory (b->oom) or v is NULL; b's contents are then unspecified. */
bool json_print(struct buf *b, const cJSON *v);

#endif
