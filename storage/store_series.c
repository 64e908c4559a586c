/*
 * store_series.c — opens the series databases of a (possibly read-only)
 * store for readers; see store_series.h.
 *
 * DESIGN
 * - The transaction is a read transaction taken under the store's map lock,
 *   shared, like every transaction of the process (store_int.h), and it is
 *   committed rather than aborted: LMDB keeps database handles opened in a
 *   read-only transaction only when it commits.
 * - MDB_MAP_RESIZED (the live writer in another process grew the map): a
 *   store_txn_read() adopts the new size as the store does everywhere, then
 *   the open is tried again.
 */
#include "store_series.h"

#include <lmdb.h>
#include <pthread.h>

#include "series.h"
#include "store_int.h"

int store_series_open(struct store *st, const struct series_opts *opts, struct series_db **out)
{
    if (!out)
        return SERIES_EINVAL;
    *out = NULL;
    if (!st)
        return SERIES_EINVAL;
    for (int attempt = 0;; attempt++) {
        MDB_txn *txn;
        pthread_rwlock_rdlock(&st->maplock);
        int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
        if (rc == MDB_MAP_RESIZED && attempt < 3) {
            pthread_rwlock_unlock(&st->maplock);
            if ((rc = store_txn_read(st, &txn)) != 0) /* adopts the new map size */
                return rc;
            store_txn_done(st, txn);
            continue;
        }
        if (rc == 0) {
            rc = series_open(txn, opts, out); /* closes what it opened on failure */
            if (rc == 0) {
                rc = mdb_txn_commit(txn); /* keeps the handles */
                if (rc) {
                    series_close(*out);
                    *out = NULL;
                }
            } else {
                mdb_txn_abort(txn);
            }
        }
        pthread_rwlock_unlock(&st->maplock);
        return rc;
    }
}
