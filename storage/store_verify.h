/*
 * store_verify.h — a full consistency check of an llmtap store
 * (`llmtap-collector verify`, docs/collector.md).
 *
 * What it checks, in ONE read transaction (a consistent snapshot: it can run
 * against a live store, opened read_only from another process):
 *   meta       format_version present and readable (1 or 2); every other key that
 *              starts with "offset/" is `offset/<topic>/<BE u32>` with a
 *              valid topic name and an 8-byte offset in 0..INT64_MAX;
 *   events     keys of 9..72 bytes; a value of 8 bytes numbers an existing
 *              `records` entry (else it is the record itself: format 1);
 *              the record decodes (evrec_parse); its
 *              time and id equal the key's; event_ids[id] names this key;
 *              its dictionary exists; the body decompresses (or is raw) to
 *              exactly json_len bytes; the JSON passes opts->check_json;
 *   event_ids  values of 8 bytes naming an existing events key;
 *   dicts      4-byte ids from 1, values that are zstd dictionaries;
 *   counts     entries of events == entries of event_ids; entries of
 *              records == events values that number one (no record is
 *              orphaned: with every number resolving, a number named twice
 *              would also leave one record unnamed).
 * storage/ does not parse JSON (it depends on nothing of the project): the
 * caller supplies check_json (the collector parses with cJSON and compares
 * the "id" member).
 */
#ifndef LLMTAP_STORE_VERIFY_H
#define LLMTAP_STORE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_verify_opts {
    /* Checks one event's JSON (len bytes, NUL-terminated; id = the store's
     * key id, NUL-terminated). Returns 0 when good, else non-zero with a
     * reason in msg. NULL: not checked. */
    int (*check_json)(void *ud, const char *json, size_t len, const char *id, char *msg,
                      size_t msglen);
    /* Called once per problem, in the order found, with a one-line
     * description naming the database and the event id. NULL: counted only. */
    void (*problem)(void *ud, const char *what);
    /* Called for each well-formed stored offset (topic, partition, next
     * offset to consume), in key order. NULL: not reported. */
    void (*offset)(void *ud, const char *topic, int32_t partition, int64_t next);
    void *ud;
};

struct store_verify_result {
    uint64_t events, event_ids, dicts, offsets;
    uint64_t numbered;     /* events whose record is in `records` (the rest: inline, format 1) */
    uint64_t records;      /* entries of `records` */
    uint64_t raw_records;  /* records whose body is stored uncompressed */
    uint64_t json_bytes;   /* total uncompressed JSON */
    uint64_t record_bytes; /* total size of the records */
    int64_t oldest_us, newest_us; /* event times; 0 when there are none */
    uint64_t problems;            /* 0: the store is consistent */
};

/* Walks the whole store. Returns 0 when the walk completed (res->problems
 * says whether anything is wrong), or the error that stopped it (LMDB codes,
 * STORE_ENOMEM). Holds one read transaction for the whole walk: on a live
 * store the writer cannot reuse pages freed meanwhile, so the file may grow. */
int store_verify(struct store *st, const struct store_verify_opts *opts,
                 struct store_verify_result *res);

#endif
