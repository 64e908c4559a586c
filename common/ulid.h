/*
 * ulid.h — ULID generation and event-id validation.
 *
 * A ULID is 48 bits of millisecond time and 80 random bits, written as 26
 * Crockford base32 characters, so ids sort by creation time. Ids made by
 * one thread strictly increase (within a millisecond the random part is
 * incremented; a clock that steps back keeps the thread's last time), so a
 * thread's ids are unique and ordered; ids of different threads are unique
 * by their random parts (80 bits from getrandom(2)) but not ordered within
 * a millisecond. Thread-safe and lock-free: the state is per thread.
 */
#ifndef LLMTAP_ULID_H
#define LLMTAP_ULID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ULID_LEN 26

/* Writes a new ULID for time `ms` (milliseconds since the epoch) and a NUL.
 * When `ms` is not later than the calling thread's previous id, the id
 * takes that id's time and follows it (monotonic within the thread). */
void ulid_make(uint64_t ms, char out[ULID_LEN + 1]);
/* A new ULID for now. */
void ulid_new(char out[ULID_LEN + 1]);

/* True for a 26-character Crockford base32 ULID (either case). */
bool ulid_valid(const char *s, size_t len);
/* True for an RFC 4122 textual UUID (8-4-4-4-12 hex digits). */
bool uuid_valid(const char *s, size_t len);

/* Rewrites an event id in place into its canonical case — ULIDs upper
 * case, UUIDs lower case — so the same id written in either case is one id
 * (the dedup and lookup key). Other strings are left alone. */
void event_id_canonical(char *s);

#endif
