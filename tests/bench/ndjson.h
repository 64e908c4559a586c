/*
 * ndjson.h — loads an NDJSON file into memory and indexes its lines, for the
 * benchmark tools (llmtap-bench-parse, llmtap-bench-kafka).
 *
 * The whole file is read into one buffer; each line is a (pointer, length)
 * pair into it, without its '\n' (a final line without '\n' counts; empty
 * lines are skipped). Each line is followed in the buffer by a byte that is
 * '\n' or the buffer's terminating NUL, never part of the line.
 */
#ifndef LLMTAP_BENCH_NDJSON_H
#define LLMTAP_BENCH_NDJSON_H

#include <stddef.h>

struct ndjson_line {
    const char *p;
    size_t len;
};

struct ndjson {
    char *data;  /* the file, NUL-terminated */
    size_t size; /* bytes in the file */
    struct ndjson_line *lines;
    size_t n;          /* number of non-empty lines */
    size_t json_bytes; /* sum of line lengths (newlines excluded) */
};

/* Reads `path` (or stdin for "-") into *out. Returns 0, or -1 with errno set
 * and *out zeroed. */
int ndjson_load(const char *path, struct ndjson *out);

/* Frees what ndjson_load allocated. Accepts a zeroed struct. */
void ndjson_free(struct ndjson *nd);

#endif
