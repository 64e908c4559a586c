/*
 * promql_label.c — label_replace() and label_join(): the functions that
 * rewrite a label of every series of their first argument.
 *
 * DESIGN
 * - As Prometheus's: label_replace matches the source label's value (""
 *   when absent) against a fully anchored regular expression (PCRE2 in
 *   UTF mode, invalid UTF-8 not matching) and writes Go's regexp.Expand
 *   of the replacement ($1, ${name}, $$); label_join joins the source
 *   labels' values with the separator. An empty result removes the label
 *   (pq_set).
 * - The arguments are checked (the regular expression, the label names)
 *   before the first one is evaluated, in Prometheus's order, so the same
 *   query gives the same error.
 * - The evaluator evaluates the series argument through the callback it
 *   passes, and afterwards merges series whose label sets became equal
 *   (an error, as in Prometheus); this module only rewrites labels.
 */
#include "promql_label.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "buf.h"
#include "promql_lex.h"

static bool valid_label_name(const struct promql_str *s)
{
    return s->len > 0 && promql_utf8_valid(s->p, s->len);
}

static const struct promql_str *str_arg(const struct promql_expr *e)
{
    while (e->kind == PROMQL_PAREN)
        e = e->paren.expr;
    return &e->string;
}

/* Go's regexp.Expand of template tpl for a match of re in src. */
static void expand(struct buf *b, const struct promql_str *tpl, pcre2_code *re, const char *src,
                   const PCRE2_SIZE *ov, int nmatch)
{
    const char *t = tpl->p, *end = tpl->p + tpl->len;
    while (t < end) {
        const char *d = memchr(t, '$', (size_t)(end - t));
        if (!d) {
            buf_append(b, t, (size_t)(end - t));
            return;
        }
        buf_append(b, t, (size_t)(d - t));
        t = d + 1;
        if (t < end && *t == '$') {
            buf_puts(b, "$");
            t++;
            continue;
        }
        bool brace = t < end && *t == '{';
        const char *n = t + brace, *p = n;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9') || *p == '_'))
            p++;
        if (p == n || (brace && (p >= end || *p != '}'))) {
            buf_puts(b, "$"); /* malformed: the $ is literal */
            continue;
        }
        size_t nl = (size_t)(p - n);
        t = p + brace;
        long num = 0;
        for (size_t i = 0; i < nl; i++) {
            if (n[i] < '0' || n[i] > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (n[i] - '0');
        }
        if (n[0] == '0' && nl > 1)
            num = -1;
        if (num < 0) {
            char name[256];
            if (nl >= sizeof name)
                continue;
            memcpy(name, n, nl);
            name[nl] = 0;
            int k = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
            if (k < 0)
                continue;
            num = k;
        }
        if (num < nmatch && ov[2 * num] != PCRE2_UNSET)
            buf_append(b, src + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
    }
}

int pq_label_replace(struct pq_ctx *c, const struct promql_expr *e, pq_eval_arg_fn eval_arg,
                     void *ud, struct pq_matrix *out)
{
    const struct promql_str *dst = str_arg(e->call.args[1]), *repl = str_arg(e->call.args[2]),
                            *src = str_arg(e->call.args[3]), *rx = str_arg(e->call.args[4]);
    int code;
    PCRE2_SIZE eoff;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)rx->p, rx->len,
                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
                          PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_BACKSLASH_C,
                      &code, &eoff, NULL);
    if (!re)
        return pq_fail(c, PROMQL_ERR_EXECUTION, "invalid regular expression in label_replace(): %s",
                       rx->p);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    struct buf b = {0};
    int rc = 0;
    if (!md) {
        rc = pq_oom(c);
        goto done;
    }
    if (!valid_label_name(dst)) {
        rc = pq_fail(c, PROMQL_ERR_EXECUTION,
                     "invalid destination label name in label_replace(): %s", dst->p);
        goto done;
    }
    if ((rc = eval_arg(ud, e->call.args[0], out)))
        goto done;
    for (size_t i = 0; i < out->n; i++) {
        size_t sl;
        const char *sv = pq_get(out->s[i].m, src->p, src->len, &sl);
        if (!sv)
            sv = "";
        int m = pcre2_match(re, (PCRE2_SPTR)sv, sl, 0, 0, md, NULL);
        if (m < 0)
            continue;
        buf_reset(&b);
        expand(&b, repl, re, sv, pcre2_get_ovector_pointer(md), m);
        if (b.oom) {
            rc = pq_oom(c);
            goto done;
        }
        const pq_labels *nm = pq_set(c, out->s[i].m, dst->p, dst->len, b.p ? b.p : "", b.len);
        if (!nm) {
            rc = pq_oom(c);
            goto done;
        }
        out->s[i].m = nm;
    }
done:
    buf_free(&b);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

int pq_label_join(struct pq_ctx *c, const struct promql_expr *e, pq_eval_arg_fn eval_arg, void *ud,
                  struct pq_matrix *out)
{
    const struct promql_str *dst = str_arg(e->call.args[1]), *sep = str_arg(e->call.args[2]);
    for (size_t i = 3; i < e->call.nargs; i++)
        if (!valid_label_name(str_arg(e->call.args[i])))
            return pq_fail(c, PROMQL_ERR_EXECUTION, "invalid source label name in label_join(): %s",
                           str_arg(e->call.args[i])->p);
    if (!valid_label_name(dst))
        return pq_fail(c, PROMQL_ERR_EXECUTION,
                       "invalid destination label name in label_join(): %s", dst->p);
    int rc = eval_arg(ud, e->call.args[0], out);
    if (rc)
        return rc;
    struct buf b = {0};
    for (size_t i = 0; i < out->n; i++) {
        buf_reset(&b);
        for (size_t k = 3; k < e->call.nargs; k++) {
            const struct promql_str *s = str_arg(e->call.args[k]);
            size_t vl;
            const char *v = pq_get(out->s[i].m, s->p, s->len, &vl);
            if (k > 3)
                buf_append(&b, sep->p, sep->len);
            if (v)
                buf_append(&b, v, vl);
        }
        const pq_labels *nm =
            b.oom ? NULL : pq_set(c, out->s[i].m, dst->p, dst->len, b.p ? b.p : "", b.len);
        if (!nm) {
            buf_free(&b);
            return pq_oom(c);
        }
        out->s[i].m = nm;
    }
    buf_free(&b);
    return 0;
}
