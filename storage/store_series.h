/*
 * store_series.h — opens the time series databases (series.h) of a store
 * for readers, read-only stores included.
 *
 * What it is for. series_open() keeps its database handles only when the
 * transaction it ran in commits; the collector opens the series in a write
 * transaction, but a process that opened the store read-only (the `export`
 * subcommand, beside a live collector) cannot begin one, and
 * store_txn_done() aborts read transactions. store_series_open() runs
 * series_open() in a read transaction under the store's map lock and
 * commits it, so the handles live on in the environment.
 *
 * Thread rules: call it once, before any other thread uses the store's
 * transactions; afterwards the returned series_db is used with the
 * store's read transactions (store_txn_read) as series.h says for readers.
 * Writer calls on it fail (the store may be read-only).
 */
#ifndef LLMTAP_STORE_SERIES_H
#define LLMTAP_STORE_SERIES_H

struct store;
struct series_db;
struct series_opts;

/* Opens the existing series databases of st for reading (opts: NULL or
 * series.h's settings; the grid is read from the store). Returns 0, or
 * SERIES_ENOTFOUND when the store has no time series, another series.h
 * code, or an LMDB error. Free *out with series_close(). */
int store_series_open(struct store *st, const struct series_opts *opts, struct series_db **out);

#endif
