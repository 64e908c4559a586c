/*
 * ndjson.c — see ndjson.h. Read the file in one go, then index its lines.
 */
#include "ndjson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ndjson_load(const char *path, struct ndjson *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20, len = 0, nlines = 0, lcap = 0;
    char *data = malloc(cap + 1);
    struct ndjson_line *lines = NULL;
    int saved;
    if (!data)
        goto fail;
    for (;;) {
        if (len == cap) {
            char *p = realloc(data, cap * 2 + 1);
            if (!p)
                goto fail;
            data = p;
            cap *= 2;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                goto fail;
            break;
        }
    }
    data[len] = '\0';
    size_t json_bytes = 0;
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        if (stop > p) {
            if (nlines == lcap) {
                lcap = lcap ? lcap * 2 : 4096;
                struct ndjson_line *l = realloc(lines, lcap * sizeof *l);
                if (!l)
                    goto fail;
                lines = l;
            }
            lines[nlines++] = (struct ndjson_line){p, (size_t)(stop - p)};
            json_bytes += (size_t)(stop - p);
        }
        p = stop + 1;
    }
    if (f != stdin)
        fclose(f);
    *out = (struct ndjson){data, len, lines, nlines, json_bytes};
    return 0;
fail:
    saved = errno ? errno : ENOMEM;
    if (f != stdin)
        fclose(f);
    free(data);
    free(lines);
    errno = saved;
    return -1;
}

void ndjson_free(struct ndjson *nd)
{
    free(nd->data);
    free(nd->lines);
    memset(nd, 0, sizeof *nd);
}
