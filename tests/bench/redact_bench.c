/*
 * redact_bench.c — throughput of agent/redact.c on a realistic prompt.
 *
 * Not registered with CMake (a benchmark prints figures; it does not pass
 * or fail). Build it against the module's source, which it includes to reach
 * the pattern table:
 *
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Iagent -Icommon tests/bench/redact_bench.c \
 *       common/buf.c common/utf8.c -lpcre2-8 -lcjson -lm -o /tmp/redact_bench
 *   /tmp/redact_bench [KiB] [seed]
 *
 * It builds a prompt of KiB (default 64) of English prose, numbers, code
 * and JSON with six PII items, then prints MB/s (CPU time of the thread,
 * best of 5 rounds, so a busy machine distorts it less) for:
 *   redact_text      the module as shipped (gated per-type patterns)
 *   no gates         the same patterns, each searched over the whole text
 *   one alternation  all built-in patterns joined into one regex
 *                    ((?<p0>…)|(?<p1>…)|…), searched once
 * then the cost of the pre-pass and of each pattern after it.
 */
#include "../../agent/redact.c"

#include <time.h>

/* CPU time of this thread: the figures hold on a busy machine too. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const words[] = {
    "the",      "model",   "should",    "answer", "customer", "question", "about",     "billing",
    "refund",   "policy",  "account",   "within", "days",     "please",   "summarize", "following",
    "context",  "and",     "include",   "a",      "short",    "list",     "of",        "steps",
    "version",  "release", "notes",     "for",    "Settings", "Security", "password",  "reset",
    "order",    "shipped", "warehouse", "to",     "from",     "is",       "was",       "with",
    "function", "returns", "value",     "error",  "timeout",  "retry",    "user",      "said",
};

struct rng {
    uint64_t s;
};
static uint32_t rnd(struct rng *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

/* Prose with numbers, dates, versions, prices; code and JSON snippets;
 * a few PII items spread through it. */
static char *make_prompt(size_t size, uint64_t seed)
{
    struct buf b = {0};
    struct rng r = {seed};
    static const char *const pii[] = {
        "Contact me at jane.doe@example.com please.",
        "My card is 4111 1111 1111 1111, exp 12/27.",
        "Call +44 20 7946 0958 or (415) 555-2671.",
        "Server 10.20.30.40 returned 502.",
        "export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "IBAN DE89 3704 0044 0532 0130 00 for the refund.",
    };
    size_t next_pii = size / 8, npii = 0;
    while (b.len < size) {
        uint32_t k = rnd(&r) % 100;
        if (k < 70) {
            buf_puts(&b, words[rnd(&r) % (sizeof words / sizeof words[0])]);
            buf_puts(&b, rnd(&r) % 12 ? " " : ". ");
        } else if (k < 78) {
            buf_printf(&b, "%u ", rnd(&r) % 10000);
        } else if (k < 82) {
            buf_printf(&b, "2024-%02u-%02u ", 1 + rnd(&r) % 12, 1 + rnd(&r) % 28);
        } else if (k < 85) {
            buf_printf(&b, "v%u.%u.%u ", rnd(&r) % 5, rnd(&r) % 20, rnd(&r) % 100);
        } else if (k < 88) {
            buf_printf(&b, "$%u.%02u ", rnd(&r) % 500, rnd(&r) % 100);
        } else if (k < 92) {
            buf_printf(&b, "{\"id\": %u, \"status\": \"ok\", \"items\": [%u, %u]} ", rnd(&r),
                       rnd(&r) % 100, rnd(&r) % 100);
        } else if (k < 95) {
            buf_puts(&b, "\nfor (int i = 0; i < n; i++) { total += x[i] * 2; }\n");
        } else if (k < 97) {
            buf_puts(&b, "\n\n");
        } else {
            buf_puts(&b, "Kundennummer für Zürich: größer als 100 — ok. ");
        }
        if (b.len >= next_pii && npii < sizeof pii / sizeof pii[0]) {
            buf_puts(&b, pii[npii++]);
            buf_puts(&b, " ");
            next_pii += size / 7;
        }
    }
    b.len = size;
    b.p[size] = 0;
    return b.p;
}

/* What one timed iteration does. */
struct job {
    const struct redactor *r;
    const char *text;
    size_t len;
    struct scan *sc;
    struct pat *pats; /* nofilter: the patterns without gates */
    pcre2_code *big;  /* alternation */
    int hits;
};

/* Best (smallest) CPU seconds per call of fn over 5 rounds of iters. */
static double best_of(void (*fn)(struct job *), struct job *j, int iters)
{
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now_s();
        for (int i = 0; i < iters; i++)
            fn(j);
        double t = (now_s() - t0) / iters;
        if (t < best)
            best = t;
    }
    return best;
}

static void do_redact_text(struct job *j)
{
    char *out;
    size_t ol;
    j->hits = redact_text(j->r, j->text, j->len, &out, &ol, NULL);
    free(out);
}

/* The module with every gate off: each pattern searched over the whole
 * text, unanchored (EMAIL with its boundary as a lookbehind). */
static void do_nofilter(struct job *j)
{
    j->sc->n = 0;
    for (size_t i = 0; i < j->r->npats; i++)
        run_scan(j->r, &j->pats[i], (int)i, (const unsigned char *)j->text, j->len, 0, 0, j->sc,
                 NULL);
    j->hits = (int)j->sc->n;
}

static void do_alternation(struct job *j)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(j->sc->md);
    size_t off = 0;
    j->hits = 0;
    while (off < j->len && pcre2_match(j->big, (PCRE2_SPTR)j->text, j->len, off, 0, j->sc->md,
                                       j->r->mctx_builtin) >= 0) {
        off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        j->hits++;
    }
}

static void do_prepass(struct job *j)
{
    prepass(j->sc, (const unsigned char *)j->text, j->len);
}

static void do_one_pattern(struct job *j)
{
    /* j->r has one pattern; the pre-pass is done already */
    const struct pat *p = &j->r->pats[0];
    const unsigned char *s = (const unsigned char *)j->text;
    j->sc->n = 0;
    switch (p->def->gate) {
    case G_EMAIL: run_email(j->r, p, 0, s, j->len, j->sc); break;
    case G_TRIG:
    case G_WINDOW: run_trig(j->r, p, 0, s, j->len, j->sc); break;
    case G_CLUSTER:
    case G_LABEL: run_clusters(j->r, p, 0, s, j->len, j->sc); break;
    default: run_scan(j->r, p, 0, s, j->len, 0, 0, j->sc, NULL); break;
    }
    j->hits = (int)j->sc->n;
}

int main(int argc, char **argv)
{
    size_t kib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    size_t len = kib * 1024;
    char *text = make_prompt(len, seed);
    printf("prompt: %zu KiB, seed %llu (CPU time, best of 5 rounds)\n", kib,
           (unsigned long long)seed);

    struct redact_opts o = {0};
    struct redactor *r;
    char err[256];
    if (redact_create(&o, &r, err, sizeof err)) {
        fprintf(stderr, "redact_create: %s\n", err);
        return 1;
    }
    int iters = (int)(100 * 64 / (kib ? kib : 1));
    if (iters < 3)
        iters = 3;
    struct scan sc;
    scan_init(&sc);
    struct job j = {.r = r, .text = text, .len = len, .sc = &sc};

    double t = best_of(do_redact_text, &j, iters);
    printf("redact_text          %8.1f MB/s  %7.1f us  (%d redactions)\n", len / t / 1e6, t * 1e6,
           j.hits);

    /* the same patterns without gates */
    j.pats = calloc(r->npats, sizeof *j.pats);
    for (size_t i = 0; i < r->npats; i++) {
        j.pats[i] = r->pats[i];
        enum gate g = builtin[i].gate;
        if (g == G_EMAIL || g == G_TRIG || g == G_WINDOW) {
            int ec;
            PCRE2_SIZE eo;
            char re[1024];
            snprintf(re, sizeof re, "%s%s", g == G_EMAIL ? "(?<![" LOCAL_CHARS "])" : "",
                     builtin[i].re);
            j.pats[i].re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
            pcre2_jit_compile(j.pats[i].re, PCRE2_JIT_COMPLETE);
        }
    }
    t = best_of(do_nofilter, &j, iters);
    printf("no gates             %8.1f MB/s  %7.1f us  (%d candidates)\n", len / t / 1e6, t * 1e6,
           j.hits);

    /* one alternation of every built-in pattern */
    struct buf all = {0};
    for (size_t i = 0; i < N_BUILTIN_PATTERNS; i++) {
        if (i)
            buf_puts(&all, "|");
        buf_printf(&all, "(?<p%zu>", i);
        if (builtin[i].gate == G_EMAIL)
            buf_puts(&all, "(?<![" LOCAL_CHARS "])");
        const char *re = builtin[i].re; /* (?i) must stay local to its branch */
        if (strncmp(re, "(?i)", 4) == 0)
            buf_printf(&all, "(?i:%s)", re + 4);
        else
            buf_puts(&all, re);
        buf_puts(&all, ")");
    }
    int ec;
    PCRE2_SIZE eo;
    /* Backreferences (\1, \2) are renumbered by the join: this measures
       the speed of the approach, not its exact results. */
    j.big = pcre2_compile((PCRE2_SPTR)all.p, all.len, 0, &ec, &eo, NULL);
    buf_free(&all);
    if (j.big) {
        pcre2_jit_compile(j.big, PCRE2_JIT_COMPLETE);
        t = best_of(do_alternation, &j, iters);
        printf("one alternation      %8.1f MB/s  %7.1f us  (%d hits)\n", len / t / 1e6, t * 1e6,
               j.hits);
        pcre2_code_free(j.big);
    }

    /* the parts of redact_text */
    t = best_of(do_prepass, &j, iters);
    printf("parts: pre-pass      %8.1f MB/s  %7.1f us  (%zu clusters)\n", len / t / 1e6, t * 1e6,
           sc.ncl);
    for (size_t i = 0; i < r->npats; i++) {
        struct redactor one = *r;
        one.pats = &r->pats[i];
        one.npats = 1;
        j.r = &one;
        t = best_of(do_one_pattern, &j, iters);
        printf("  %-2zu %-12s %-9s %7.1f us\n", i, type_names[r->pats[i].type],
               (const char *[]){"all", "email", "trigger", "window", "cluster",
                                "label"}[builtin[i].gate],
               t * 1e6);
    }
    j.r = r;
    for (size_t i = 0; i < r->npats; i++)
        if (j.pats[i].re != r->pats[i].re)
            pcre2_code_free(j.pats[i].re);
    free(j.pats);
    scan_free(&sc);
    redact_destroy(r);
    free(text);
    return 0;
}
