/*
 * fuzz_util.h — what the fuzz drivers share: the invariant assertion (it
 * names the driver, FUZZ_NAME, which each driver defines before including
 * this) and an exact, order-preserving comparison of JSON trees.
 */
#ifndef LLMTAP_FUZZ_UTIL_H
#define LLMTAP_FUZZ_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, FUZZ_NAME ": invariant failed: %s (%s:%d)\n  ", #cond, __FILE__,       \
                    __LINE__);                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Order-preserving, exact structural equality (numbers compared with ==). */
static inline bool same_tree(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    if ((a->string == NULL) != (b->string == NULL))
        return false;
    if (a->string && strcmp(a->string, b->string) != 0)
        return false;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) || cJSON_IsRaw(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!same_tree(x, y))
                return false;
        return x == NULL && y == NULL;
    }
    return true;
}

#endif
