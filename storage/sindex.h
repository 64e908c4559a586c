/*
 * sindex.h — the label index of the series store (storage/series.c):
 * label set <-> series id, and label=value -> ids (postings), in three LMDB
 * databases. Knows nothing of samples or time.
 *
 *   series           label set key -> id (BE u64)           interning
 *   series_ids       id (BE u64) -> label set key           labels of an id
 *   series_postings  name \0 value -> ids (BE u64, sorted)   DUPSORT|DUPFIXED
 *
 * A label set key is its labels sorted by name (bytewise), each written as
 * name \0 value \0: canonical (one key per set, whatever the order given),
 * and the same bytes serve as the stored labels of the id.
 *
 * DESIGN
 *
 * Selection follows Prometheus: a label a series lacks has the value "".
 * Each matcher becomes either a set of ids (positive: = "v", != "", and
 * regex matchers that do not match "") or the complement of one (negative:
 * = "", != "v", and regex matchers that match ""); the result is the
 * intersection of the positive sets minus the union of the negative ones,
 * and only a selection without any positive set walks every id. A regex
 * matcher is decided by the caller's callback on each distinct value of
 * its label (one walk over that name's keys), never per series. Postings
 * are read a page at a time (MDB_GET_MULTIPLE).
 *
 * Threads: functions only read or write through the transaction given;
 * struct sindex is immutable after sindex_open. Errors: series.h's codes
 * and LMDB's.
 */
#ifndef LLMTAP_SINDEX_H
#define LLMTAP_SINDEX_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "series.h"

#define SINDEX_KEY_MAX 511 /* LMDB's default key size limit */

struct sindex {
    MDB_dbi series, ids, postings;
    size_t maxkey; /* the environment's key size limit, at most SINDEX_KEY_MAX */
};

/* A growable sorted (or to-be-sorted) array of ids. */
struct sindex_ids {
    uint64_t *v;
    size_t n, cap;
};

/* Opens (creating when create) the three databases in txn. */
int sindex_open(struct sindex *ix, MDB_txn *txn, int create);

/* Validates labels (see series_label) and writes the canonical key into
 * key (SINDEX_KEY_MAX bytes). SERIES_EINVAL, SERIES_ETOOBIG. */
int sindex_key(const struct sindex *ix, const struct series_label *l, size_t n, uint8_t *key,
               size_t *klen);
/* The id of a key; SERIES_ENOTFOUND. */
int sindex_get(const struct sindex *ix, MDB_txn *txn, const uint8_t *key, size_t klen,
               uint64_t *id);
/* Adds a new series: key -> id, id -> key, and its postings. id must be
 * greater than every id stored so far. */
int sindex_put(const struct sindex *ix, MDB_txn *txn, const uint8_t *key, size_t klen, uint64_t id);
/* Removes series id from all three databases. SERIES_ECORRUPT if any part
 * is missing. */
int sindex_del(const struct sindex *ix, MDB_txn *txn, uint64_t id);

/* The ids matching every matcher, ascending, into out (emptied first). */
int sindex_select(const struct sindex *ix, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                  struct sindex_ids *out);
void sindex_ids_free(struct sindex_ids *s);

/* As series_labels. */
int sindex_labels(const struct sindex *ix, MDB_txn *txn, uint64_t id, struct series_label **labels,
                  size_t *n);
/* Distinct names (name NULL) or values of `name`, sorted, over the series
 * ids[0..nids) or, when ids is NULL, over all series; one malloc'd block. */
int sindex_strings(const struct sindex *ix, MDB_txn *txn, const char *name, const uint64_t *ids,
                   size_t nids, char ***out, size_t *count);
/* As series_count and series_metric_counts. */
int sindex_count(const struct sindex *ix, MDB_txn *txn, const char *metric, uint64_t *count);
int sindex_metric_counts(const struct sindex *ix, MDB_txn *txn, struct series_metric_count **out,
                         size_t *n);

#endif
