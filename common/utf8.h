/*
 * utf8.h — UTF-8 checks shared by the event scanner and the JSON writer.
 *
 * Valid means RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF.
 */
#ifndef LLMTAP_UTF8_H
#define LLMTAP_UTF8_H

#include <stddef.h>

/* Length (1–4) of the valid UTF-8 sequence at p, or 0 when it is invalid or
 * runs past avail bytes. */
size_t utf8_seq(const unsigned char *p, size_t avail);

/* Cuts, in place, a sequence left incomplete at the end of the NUL-terminated
 * string s (after truncation to a buffer size). */
void utf8_trim_tail(char *s);

#endif
