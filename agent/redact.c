/*
 * redact.c — secrets and personal data out of captured text (see redact.h
 * and docs/redaction.md).
 *
 * DESIGN
 * - One PCRE2 pattern (or a few) per type, JIT-compiled. Every hit of every
 *   pattern in the original text becomes a candidate (start, end, type,
 *   priority); candidates are sorted by start, then length (longest first),
 *   then priority, and taken greedily when they do not overlap one already
 *   taken; the output is then written in one pass.
 * - Gates: a C pre-pass over the text (one byte loop, a table lookup per
 *   byte) finds where each built-in type can possibly match, and PCRE2 runs
 *   only there: anchored at a trigger ("eyJ", "-----BEGIN", "AKIA", "sk-",
 *   "ghp_", "Bearer", two capitals before two digits for IBAN), anchored
 *   where a label can start in a word ending in "key"/"token" before ':' or
 *   '=', or inside a cluster (a run of digits and " .-()+" with enough
 *   digits, for CARD, SSN, PHONE, IPV4). EMAIL is driven by memchr('@'):
 *   the local part is walked back in C and the pattern runs anchored there.
 *   A gate never changes what a pattern finds, only where the engine looks
 *   (the argument is written at each one; test_redact checks it on random
 *   text against whole-text searches), with one bound: a phone or SSN label
 *   must begin within 32 bytes of its digits. Measured on a 64 KiB prompt
 *   (tests/bench/redact_bench.c, CPU time): ~110 us with gates, ~1 ms
 *   searching every pattern over all of the text, ~2 ms for one big
 *   alternation of all patterns (which would also take the first
 *   alternative that matches rather than the longest).
 * - Work per byte is bounded: every trigger is tried once, anchored, and
 *   patterns that could scan far from one (a Bearer token's digit check,
 *   a PEM body) stop at a fixed length or at the next trigger, so no input
 *   makes the search quadratic (test_adversarial).
 * - Validation runs inside the match as a PCRE2 callout ((?C1)…(?C3)):
 *   when Luhn, the IBAN check or the phone digit count fails, the callout
 *   makes the engine backtrack, so a shorter valid candidate at the same
 *   start (a card number followed by an expiry) is still found.
 * - Built-in patterns are compiled in byte mode and match ASCII only: a
 *   hit never starts or ends inside a multi-byte sequence, whatever the
 *   input. Custom patterns are compiled with PCRE2_UTF and are given valid
 *   UTF-8 only (with PCRE2_NO_UTF_CHECK): the input is checked once, and
 *   an invalid sequence splits it into pieces searched separately. Custom
 *   patterns have no gate: each one searches the whole text.
 * - Threads: the compiled patterns and the two match contexts (built-in
 *   with the callout, custom without, so a user's (?C1) does nothing) are
 *   read-only after redact_create. Match data, candidates, triggers and the
 *   output buffer live in a struct scan made per redact_text /
 *   redact_event call (a few allocations per event, reused for all of its
 *   strings).
 * - Limits: PCRE2's default match and heap limits apply. A pattern that
 *   hits one fails the string (REDACT_EMATCH; redact_event replaces the
 *   whole string). When the JIT stack (32 KiB default) is too small the
 *   match is retried by the interpreter, which uses the heap.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "redact.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "utf8.h"

/* ASCII classes (ctype's depend on the locale). */
static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_alnum(unsigned char c)
{
    return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}
static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ---- built-in patterns ---------------------------------------------------- */

/* Callout numbers: the validators. */
enum { CO_LUHN = 1, CO_IBAN = 2, CO_PHONE = 3 };

/* Triggers found by the pre-pass, by kind (see prepass()). */
enum trig_kind {
    K_PEM,    /* "-----BEGIN" */
    K_JWT,    /* "eyJ" */
    K_AWSID,  /* "AKIA", "ASIA" */
    K_TOKEN,  /* the prefix of a vendor token: "sk-", "sk_", "ghp_", "AIza", … */
    K_BEARER, /* "bearer", any case */
    K_ASSIGN, /* a word ending in "key" or "token" (so, where it starts) before a ':' or
                 '=' (eo) */
    K_IBAN,   /* two capitals then two digits */
    K_COUNT
};

/* How a pattern's search is narrowed (never what it finds). */
enum gate {
    G_ALL,     /* search the whole text */
    G_EMAIL,   /* anchored at the start of the local part before each '@' */
    G_TRIG,    /* anchored at each trigger of kind `kind` */
    G_WINDOW,  /* anchored at each place in a K_ASSIGN word where a label can start */
    G_CLUSTER, /* hits use only digits and " .-()+": searched inside each such run
                  (cluster) that holds at least `min` digits, `dots` dots and, with
                  `plus`, a '+', up to and including the byte after it */
    G_LABEL,   /* hits (after \K) are a run of at least `min` digits: searched from
                  `back` bytes before each cluster that holds one (the label), up to
                  and including the byte after it */
};

struct pdef {
    enum redact_type type;
    enum gate gate;
    enum trig_kind kind; /* G_TRIG */
    unsigned min, back;  /* G_CLUSTER, G_LABEL */
    unsigned dots;       /* G_CLUSTER */
    bool plus;           /* G_CLUSTER */
    const char *re;
};

#define LOCAL_CHARS "A-Za-z0-9._%+-"
#define OCTET       "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
#define TOKEN_CHARS "A-Za-z0-9._~+/-"
/* Inside a lookbehind for "not preceded by a word character": a character
 * that follows a backslash does not count, so the "n" of a JSON "\n" is a
 * boundary. */
#define NOT_ESC "(?<!\\\\)"

/* In priority order (an identical span goes to the earlier entry). */
static const struct pdef builtin[] = {
    {REDACT_PRIVATE_KEY, G_TRIG, K_PEM, 0, 0, 0, false,
     /* a whole PEM/PGP block (with no other BEGIN inside: that keeps the work
        per BEGIN to the text before the next one); without an END line (text
        cut short), the armour and base64 that follow */
     "-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
     "(?:(?:(?!-----BEGIN)[\\s\\S])*?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
     "|[A-Za-z0-9+/=\\s:,\\\\-]*)"},
    {REDACT_JWT, G_TRIG, K_JWT, 0, 0, 0, false,
     "(?<!" NOT_ESC "[A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"
     "(?:\\.[A-Za-z0-9_-]+){0,2}"},
    {REDACT_AWS_KEY, G_TRIG, K_AWSID, 0, 0, 0, false,
     "(?<!" NOT_ESC "[A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"},
    {REDACT_AWS_KEY, G_WINDOW, K_ASSIGN, 0, 0, 0, false,
     /* a secret access key only after a label: aws_secret_access_key = …,
        "SecretAccessKey": "…", AWS_SECRET_KEY=… */
     "(?i)(?<!" NOT_ESC "[a-z0-9])(?:aws[_-]?)?secret[_-]?(?:access[_-]?)?key[\"']?[ \\t]*"
     "(?::|=>?)[ \\t]*[\"']?\\K[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"},
    {REDACT_API_KEY, G_TRIG, K_TOKEN, 0, 0, 0, false,
     "(?<!" NOT_ESC "[A-Za-z0-9_-])(?:"
     "sk-(?=[a-z_-]*[A-Z0-9])[A-Za-z0-9_-]{20,}" /* OpenAI sk-, sk-proj-; Anthropic sk-ant- */
     "|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}" /* Stripe secret / restricted */
     "|whsec_[A-Za-z0-9+/=]{24,}"                /* Stripe webhook secret */
     "|gh[pousr]_[A-Za-z0-9]{36,}"               /* GitHub */
     "|github_pat_[A-Za-z0-9_]{40,}"             /* GitHub fine-grained */
     "|glpat-[A-Za-z0-9_-]{20,}"                 /* GitLab */
     "|xox[abposr]-[A-Za-z0-9-]{10,}"            /* Slack */
     "|AIza[A-Za-z0-9_-]{35}"                    /* Google */
     "|hf_[A-Za-z0-9]{30,}"                      /* Hugging Face */
     "|npm_[A-Za-z0-9]{36}"                      /* npm */
     ")(?![A-Za-z0-9_-])"},
    {REDACT_API_KEY, G_TRIG, K_BEARER, 0, 0, 0, false,
     /* the token after "Bearer", when it has a digit (in its first 256 bytes: a bound
        on the work per "Bearer") */
     "(?i)(?<!" NOT_ESC "[a-z])bearer[ \\t]+\\K(?=[" TOKEN_CHARS "]{0,255}[0-9])[" TOKEN_CHARS
     "]{20,}=*"},
    {REDACT_API_KEY, G_WINDOW, K_ASSIGN, 0, 0, 0, false,
     /* the value after an api-key / access-token label, when it has a digit (in its
        first 256 bytes) */
     "(?i)(?<!" NOT_ESC "[a-z0-9])(?:api[_-]?key|access[_-]?token|auth[_-]?token)[\"']?[ \\t]*"
     "[:=][ \\t]*[\"']?\\K(?=[" TOKEN_CHARS "]{0,255}[0-9])[" TOKEN_CHARS "]{16,}=*"},
    {REDACT_EMAIL, G_EMAIL, 0, 0, 0, 0, false,
     "[" LOCAL_CHARS "]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}"
     "[A-Za-z]{2,63}(?![A-Za-z0-9-])"},
    {REDACT_IBAN, G_TRIG, K_IBAN, 0, 0, 0, false,
     "(?<!" NOT_ESC "[A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
     "(?![A-Za-z0-9])(?C2)"},
    {REDACT_CARD, G_CLUSTER, 0, 13, 0, 0, false,
     /* contiguous, groups of four (4-4-4-4, 4-4-4-4-3, 4-4-4-1 …), or 4-6-5 / 4-6-4;
        the separator is one of space or dash, the same throughout */
     "(?<![0-9])(?<![0-9]{4}[ -])(?<![A-Z]{2}[0-9]{2} )"
     "(?:[2-6][0-9]{12,18}"
     "|[2-6][0-9]{3}([ -])[0-9]{4}(?:\\1[0-9]{4}){1,2}(?:\\1[0-9]{1,4})?"
     "|[2-6][0-9]{3}([ -])[0-9]{6}\\2[0-9]{4,5})"
     "(?![0-9])(?![ -][0-9]{4})(?C1)"},
    {REDACT_SSN, G_CLUSTER, 0, 9, 0, 0, false,
     "(?<![0-9])(?<![0-9]-)(?!000|666|9)[0-9]{3}([ -])(?!00)[0-9]{2}\\1(?!0000)[0-9]{4}"
     "(?![0-9])(?!-[0-9])"},
    {REDACT_SSN, G_LABEL, 0, 9, 32, 0, false,
     /* nine digits in a row only after a label */
     "(?i)(?<!" NOT_ESC "[a-z])(?:ssn|social[ \\t]+security(?:[ \\t]+(?:number|num|no\\.?))?)"
     "[ \\t]*[#:=]?[ \\t]*\\K(?!000|666|9)[0-9]{3}(?!00)[0-9]{2}(?!0000)[0-9]{4}(?![0-9])"},
    {REDACT_PHONE, G_CLUSTER, 0, 8, 0, 0, true,
     /* international: +CC then digit groups, 8–15 digits (callout) */
     "(?<!" NOT_ESC "[A-Za-z0-9_+])\\+[1-9][0-9]*+(?:[ -]?+(?:\\([0-9]{1,5}\\)|[0-9]++))*+(?C3)"},
    {REDACT_PHONE, G_CLUSTER, 0, 10, 0, 0, false,
     /* North American, formatted: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, +1 … */
     "(?<!" NOT_ESC "[A-Za-z0-9_+])(?<![0-9][.-])(?:\\+?1[ .-]?)?"
     "(?:\\([2-9][0-9]{2}\\)[ .-]?|[2-9][0-9]{2}([ .-]))[2-9][0-9]{2}(?(1)\\1|[ .-])[0-9]{4}"
     "(?![0-9])(?![.-][0-9])"},
    {REDACT_PHONE, G_LABEL, 0, 7, 32, 0, false,
     /* digits in a row only after a label */
     "(?i)(?<!" NOT_ESC "[a-z])(?:telephone|phone|tel|mobile|cell|fax)\\.?"
     "(?:[ \\t]*(?:number|num|no\\.?|#))?[ \\t]*[:=]?[ \\t]*\\K\\+?[0-9]{7,15}(?![0-9])"},
    {REDACT_IPV4, G_CLUSTER, 0, 4, 0, 3, false,
     "(?<!" NOT_ESC "[A-Za-z0-9_.])(?:" OCTET "\\.){3}" OCTET "(?![0-9])(?!\\.[0-9])"},
};
#define N_BUILTIN_PATTERNS (sizeof builtin / sizeof builtin[0])

static const char *const type_names[REDACT_BUILTIN_COUNT] = {
    "EMAIL", "PHONE", "CARD", "SSN", "IBAN", "IPV4", "AWS_KEY", "API_KEY", "JWT", "PRIVATE_KEY",
};

/* IBAN lengths by country (ISO 13616 registry). */
static const struct {
    char cc[3];
    unsigned char len;
} iban_len[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
    {"YE", 30},
};

/* ---- the redactor ----------------------------------------------------------- */

struct pat {
    pcre2_code *re;
    int type;               /* index into the counts */
    const struct pdef *def; /* built-in: its gate; NULL for a custom rule (UTF mode,
                               custom match context, searched everywhere) */
};

struct redactor {
    struct pat *pats; /* custom rules first, then the enabled built-ins: priority order */
    size_t npats;
    size_t ncustom;
    char names[REDACT_MAX_CUSTOM][REDACT_NAME_MAX + 1];
    pcre2_match_context *mctx_builtin, *mctx_custom;
    enum redact_policy prompt, context, response;
};

const char *redact_strerror(int err)
{
    switch (err) {
    case REDACT_OK: return "success";
    case REDACT_EINVAL: return "invalid redaction option";
    case REDACT_ENOMEM: return "out of memory";
    case REDACT_EMATCH: return "a redaction pattern could not finish on this text";
    default: return "unknown error";
    }
}

int redact_policy_parse(const char *s, enum redact_policy *out)
{
    static const char *const names[] = {"redact", "keep", "drop"};
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum redact_policy)i;
            return REDACT_OK;
        }
    return REDACT_EINVAL;
}

const char *redact_policy_name(enum redact_policy p)
{
    switch (p) {
    case REDACT_POLICY_REDACT: return "redact";
    case REDACT_POLICY_KEEP: return "keep";
    case REDACT_POLICY_DROP: return "drop";
    }
    return "?";
}

const char *redact_type_name(const struct redactor *r, int t)
{
    if (t >= 0 && t < REDACT_BUILTIN_COUNT)
        return type_names[t];
    if (t == REDACT_TYPE_ERROR)
        return "ERROR";
    if (r && t >= REDACT_BUILTIN_COUNT && (size_t)(t - REDACT_BUILTIN_COUNT) < r->ncustom)
        return r->names[t - REDACT_BUILTIN_COUNT];
    return NULL;
}

/* ---- validators (callouts) ---------------------------------------------------- */

static bool luhn_ok(const unsigned char *s, size_t n)
{
    int sum = 0, nd = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        if (s[i] < '0' || s[i] > '9')
            continue;
        int d = s[i] - '0';
        if (dbl && (d *= 2) > 9)
            d -= 9;
        sum += d;
        dbl = !dbl;
        nd++;
    }
    return nd >= 13 && nd <= 19 && sum % 10 == 0;
}

static bool iban_ok(const unsigned char *s, size_t n)
{
    char c[40];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ') {
            if (k == sizeof c)
                return false;
            c[k++] = (char)s[i];
        }
    size_t want = 0;
    for (size_t i = 0; i < sizeof iban_len / sizeof iban_len[0]; i++)
        if (c[0] == iban_len[i].cc[0] && c[1] == iban_len[i].cc[1]) {
            want = iban_len[i].len;
            break;
        }
    if (k != want)
        return false;
    unsigned r = 0;
    for (size_t j = 0; j < k; j++) {
        char ch = c[(j + 4) % k]; /* the first four characters move to the end */
        if (ch >= '0' && ch <= '9')
            r = (r * 10 + (unsigned)(ch - '0')) % 97;
        else
            r = (r * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return r == 1;
}

/* 8–15 digits, not counting a "(0)" trunk prefix. */
static bool phone_ok(const unsigned char *s, size_t n)
{
    int nd = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            nd++;
    for (size_t i = 0; i + 3 <= n; i++)
        if (s[i] == '(' && s[i + 1] == '0' && s[i + 2] == ')') {
            nd--;
            break;
        }
    return nd >= 8 && nd <= 15;
}

/* 0 = go on, 1 = fail here and backtrack. */
static int callout(pcre2_callout_block *cb, void *data)
{
    (void)data;
    const unsigned char *s = cb->subject + cb->start_match;
    size_t n = cb->current_position - cb->start_match;
    switch (cb->callout_number) {
    case CO_LUHN: return luhn_ok(s, n) ? 0 : 1;
    case CO_IBAN: return iban_ok(s, n) ? 0 : 1;
    case CO_PHONE: return phone_ok(s, n) ? 0 : 1;
    default: return 0;
    }
}

/* ---- create / destroy ------------------------------------------------------------ */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void list_types(char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int t = 0; t < REDACT_BUILTIN_COUNT && used < n; t++) {
        int w = snprintf(out + used, n - used, "%s%s", t ? ", " : "", type_names[t]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Parses the disable list into mask bits. */
static int parse_disable(const char *list, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *te = e;
        while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        size_t n = (size_t)(te - p);
        int found = -1;
        for (int t = 0; t < REDACT_BUILTIN_COUNT; t++)
            if (strlen(type_names[t]) == n && strncasecmp(type_names[t], p, n) == 0)
                found = t;
        if (found < 0) {
            char types[200];
            list_types(types, sizeof types);
            seterr(err, errlen, "redact.disable: unknown type \"%.*s\" (types: %s)",
                   (int)(n > 64 ? 64 : n), p, types);
            return REDACT_EINVAL;
        }
        *mask |= 1u << found;
        p = e;
    }
    return REDACT_OK;
}

static int check_name(const struct redactor *r, const char *name, char *err, size_t errlen)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n >= 1 && n <= REDACT_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_alnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-';
    if (!ok) {
        seterr(err, errlen,
               "redact_rule: rule name \"%.40s\" must be 1-%d characters of A-Z, a-z, 0-9, "
               "'_', '.', '-'",
               name ? name : "", REDACT_NAME_MAX);
        return REDACT_EINVAL;
    }
    bool clash = strcasecmp(name, "ERROR") == 0;
    for (int t = 0; !clash && t < REDACT_BUILTIN_COUNT; t++)
        clash = strcasecmp(name, type_names[t]) == 0;
    if (clash) {
        seterr(err, errlen, "redact_rule.%s: the name of a built-in type (choose another)", name);
        return REDACT_EINVAL;
    }
    for (size_t i = 0; i < r->ncustom; i++)
        if (strcasecmp(r->names[i], name) == 0) {
            seterr(err, errlen, "redact_rule.%s: defined twice", name);
            return REDACT_EINVAL;
        }
    return REDACT_OK;
}

static int compile(struct pat *p, const char *re, uint32_t opts, const char *what, char *err,
                   size_t errlen)
{
    int ec;
    PCRE2_SIZE eo;
    p->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!p->re) {
        if (ec == PCRE2_ERROR_NOMEMORY) {
            seterr(err, errlen, "%s: out of memory", what);
            return REDACT_ENOMEM;
        }
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        seterr(err, errlen, "%s: %s at offset %zu", what, (const char *)msg, (size_t)eo);
        return REDACT_EINVAL;
    }
    /* Without JIT (unsupported CPU, no executable memory) the interpreter
       gives the same results, slower. */
    (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
    return REDACT_OK;
}

int redact_create(const struct redact_opts *o, struct redactor **out, char *err, size_t errlen)
{
    int rc = REDACT_EINVAL;
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    struct redactor *r = calloc(1, sizeof *r);
    if (!r) {
        seterr(err, errlen, "out of memory");
        return REDACT_ENOMEM;
    }
    if (o->n_custom > REDACT_MAX_CUSTOM) {
        seterr(err, errlen, "redact_rule: %zu rules; at most %d", o->n_custom, REDACT_MAX_CUSTOM);
        goto fail;
    }
    if ((unsigned)o->prompt > REDACT_POLICY_DROP || (unsigned)o->context > REDACT_POLICY_DROP ||
        (unsigned)o->response > REDACT_POLICY_DROP) {
        seterr(err, errlen, "redact: policy must be redact, keep or drop");
        goto fail;
    }
    r->prompt = o->prompt;
    r->context = o->context;
    r->response = o->response;
    unsigned off;
    if ((rc = parse_disable(o->disable, &off, err, errlen)) != REDACT_OK)
        goto fail;
    rc = REDACT_ENOMEM;
    r->pats = calloc(o->n_custom + N_BUILTIN_PATTERNS, sizeof *r->pats);
    r->mctx_builtin = pcre2_match_context_create(NULL);
    r->mctx_custom = pcre2_match_context_create(NULL);
    if (!r->pats || !r->mctx_builtin || !r->mctx_custom) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    pcre2_set_callout(r->mctx_builtin, callout, NULL);
    for (size_t i = 0; i < o->n_custom; i++) {
        const struct redact_rule *c = &o->custom[i];
        if ((rc = check_name(r, c->name, err, errlen)) != REDACT_OK)
            goto fail;
        if (!c->pattern || !*c->pattern) {
            seterr(err, errlen, "redact_rule.%s: empty pattern", c->name);
            rc = REDACT_EINVAL;
            goto fail;
        }
        char what[64];
        snprintf(what, sizeof what, "redact_rule.%s", c->name);
        struct pat *p = &r->pats[r->npats];
        if ((rc = compile(p, c->pattern, PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C, what, err, errlen)))
            goto fail;
        r->npats++;
        p->type = REDACT_BUILTIN_COUNT + (int)i;
        snprintf(r->names[i], sizeof r->names[i], "%s", c->name);
        r->ncustom++;
    }
    for (size_t i = 0; i < N_BUILTIN_PATTERNS; i++) {
        const struct pdef *d = &builtin[i];
        if (off & (1u << d->type))
            continue;
        struct pat *p = &r->pats[r->npats];
        char what[64];
        snprintf(what, sizeof what, "built-in %s pattern", type_names[d->type]);
        /* Anchored at compile time: PCRE2's JIT does not take PCRE2_ANCHORED
           from pcre2_match (it would fall back to the interpreter). Without
           start optimizations: they would look for a required character
           (EMAIL's '.') as far as 5000 bytes ahead on every call. */
        uint32_t opts = d->gate == G_EMAIL || d->gate == G_TRIG || d->gate == G_WINDOW
                            ? PCRE2_ANCHORED | PCRE2_NO_START_OPTIMIZE
                            : 0;
        if ((rc = compile(p, d->re, opts, what, err, errlen)))
            goto fail;
        r->npats++;
        p->type = d->type;
        p->def = d;
    }
    *out = r;
    return REDACT_OK;
fail:
    redact_destroy(r);
    return rc;
}

void redact_destroy(struct redactor *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->pats && i < r->npats; i++)
        pcre2_code_free(r->pats[i].re);
    free(r->pats);
    pcre2_match_context_free(r->mctx_builtin);
    pcre2_match_context_free(r->mctx_custom);
    free(r);
}

/* ---- scanning ----------------------------------------------------------------------- */

struct cand {
    size_t so, eo;
    int type;
    int prio; /* index of the pattern: lower wins on an identical span */
};

/* A run of digits and " .-()+" holding at least 4 digits (fewer can match
 * nothing gated by clusters). */
struct cluster {
    size_t so, eo;
    unsigned digits, maxrun; /* digits in all; the longest run of them */
    unsigned dots;
    bool plus;
};

struct trig {
    size_t so, eo; /* eo: K_ASSIGN's ':' or '='; unused otherwise */
};

struct tvec {
    struct trig *v;
    size_t n, cap;
    bool unsorted;
};

struct scan {
    pcre2_match_data *md;
    struct cand *v;
    size_t n, cap;
    bool pre_done; /* the pre-pass ran on the current text */
    struct cluster *cl;
    size_t ncl, capcl;
    struct tvec tv[K_COUNT];
    struct buf out;
};

static int scan_init(struct scan *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->md = pcre2_match_data_create(1, NULL); /* only the whole match is read */
    return sc->md ? REDACT_OK : REDACT_ENOMEM;
}

static void scan_free(struct scan *sc)
{
    pcre2_match_data_free(sc->md);
    free(sc->v);
    free(sc->cl);
    for (int k = 0; k < K_COUNT; k++)
        free(sc->tv[k].v);
    buf_free(&sc->out);
}

static void *grow(void *v, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(v, c * size);
    if (p)
        *cap = c;
    return p;
}

static int add_cand(struct scan *sc, size_t so, size_t eo, int type, int prio)
{
    if (sc->n == sc->cap) {
        struct cand *v = grow(sc->v, &sc->cap, sizeof *v);
        if (!v)
            return REDACT_ENOMEM;
        sc->v = v;
    }
    sc->v[sc->n++] = (struct cand){so, eo, type, prio};
    return REDACT_OK;
}

static int add_trig(struct scan *sc, enum trig_kind k, size_t so, size_t eo)
{
    struct tvec *t = &sc->tv[k];
    if (t->n == t->cap) {
        struct trig *v = grow(t->v, &t->cap, sizeof *v);
        if (!v)
            return REDACT_ENOMEM;
        t->v = v;
    }
    if (t->n && so < t->v[t->n - 1].so)
        t->unsorted = true;
    t->v[t->n++] = (struct trig){so, eo};
    return REDACT_OK;
}

/* ---- the pre-pass ---- */

enum { C_DIGIT = 1, C_DASH, C_UNDER, C_COLON, C_I, C_J, C_KS, C_B };

/* The bytes that may start or end a trigger or a cluster (0: none). */
static const unsigned char pre_class[256] = {
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT, ['4'] = C_DIGIT,
    ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT, ['8'] = C_DIGIT, ['9'] = C_DIGIT,
    ['-'] = C_DASH,  ['_'] = C_UNDER, [':'] = C_COLON, ['='] = C_COLON, ['I'] = C_I,
    ['J'] = C_J,     ['K'] = C_KS,    ['S'] = C_KS,    ['b'] = C_B,     ['B'] = C_B,
};

/* The characters of clusters: 1 digit, 2 separator. */
static const unsigned char cl_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, [' '] = 2, ['.'] = 2, ['-'] = 2, ['('] = 2, [')'] = 2, ['+'] = 2,
};

static bool is_word(unsigned char c)
{
    return is_alnum(c) || c == '_' || c == '-';
}

/* s[i-n..i) equals lit (lit has n bytes). */
static bool before(const unsigned char *s, size_t i, const char *lit, size_t n)
{
    return i >= n && memcmp(s + i - n, lit, n) == 0;
}

/* The vendor-token prefix that ends with the '-' or '_' at i: its start,
 * or SIZE_MAX. Mirrors the alternatives of the API_KEY pattern. */
static size_t token_start(const unsigned char *s, size_t i)
{
    if (s[i] == '-') {
        if (before(s, i, "sk", 2))
            return i - 2;
        if (before(s, i, "glpat", 5))
            return i - 5;
        if (i >= 4 && before(s, i - 1, "xox", 3) && s[i - 1] && strchr("abposr", s[i - 1]))
            return i - 4;
        return SIZE_MAX;
    }
    if (before(s, i, "sk", 2) || before(s, i, "rk", 2) || before(s, i, "hf", 2))
        return i - 2;
    if (before(s, i, "npm", 3))
        return i - 3;
    if (i >= 3 && before(s, i - 1, "gh", 2) && s[i - 1] && strchr("pousr", s[i - 1]))
        return i - 3;
    if (before(s, i, "whsec", 5))
        return i - 5;
    if (before(s, i, "github", 6))
        return i - 6;
    return SIZE_MAX;
}

/* For the ':' or '=' at p: when the word before it (past blanks and one
 * quote) ends with "key" or "token" (any case), where that word starts (at
 * most 64 bytes back). Both labelled patterns (AWS secret, API key) match a
 * label that ends such a word, then blanks/quote/':'/'=', then the value. */
static bool assign_word(const unsigned char *s, size_t p, size_t *so)
{
    size_t e = p;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    if (e > 0 && (s[e - 1] == '"' || s[e - 1] == '\''))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 64 && is_word(s[b - 1]))
        b--;
    if (!((e - b >= 3 && strncasecmp((const char *)s + e - 3, "key", 3) == 0) ||
          (e - b >= 5 && strncasecmp((const char *)s + e - 5, "token", 5) == 0)))
        return false;
    *so = b;
    return true;
}

/* One pass over the text: clusters and triggers. Every trigger condition
 * is implied by the pattern it serves (the pattern's match must begin with
 * the trigger's text), so no match is lost. */
static int prepass(struct scan *sc, const unsigned char *s, size_t len)
{
    sc->ncl = 0;
    for (int k = 0; k < K_COUNT; k++) {
        sc->tv[k].n = 0;
        sc->tv[k].unsorted = false;
    }
    sc->pre_done = true;
    size_t prev_end = 0; /* end of the last cluster */
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        while (i < len && !pre_class[s[i]])
            i++;
        if (i == len)
            break;
        switch (pre_class[s[i]]) {
        case C_DIGIT: {
            if (i >= 2 && is_upper(s[i - 2]) && is_upper(s[i - 1]) && i + 1 < len &&
                is_digit(s[i + 1]))
                rc = add_trig(sc, K_IBAN, i - 2, 0);
            struct cluster cl = {.so = i};
            while (cl.so > prev_end && cl_class[s[cl.so - 1]] == 2) {
                cl.so--;
                cl.dots += s[cl.so] == '.';
                cl.plus |= s[cl.so] == '+';
            }
            unsigned run = 0;
            for (; i < len; i++) {
                unsigned char d = s[i];
                if (cl_class[d] == 1) {
                    cl.digits++;
                    if (++run > cl.maxrun)
                        cl.maxrun = run;
                } else if (cl_class[d] == 2) {
                    run = 0;
                    cl.dots += d == '.';
                    cl.plus |= d == '+';
                    if (d == '-' && len - i >= 10 && memcmp(s + i, "-----BEGIN", 10) == 0 && !rc)
                        rc = add_trig(sc, K_PEM, i, 0);
                } else {
                    break;
                }
            }
            cl.eo = prev_end = i;
            i--; /* the loop's i++ lands on the byte that ended the cluster */
            if (cl.digits >= 4 && !rc) {
                if (sc->ncl == sc->capcl) {
                    struct cluster *v = grow(sc->cl, &sc->capcl, sizeof *v);
                    if (!v)
                        return REDACT_ENOMEM;
                    sc->cl = v;
                }
                sc->cl[sc->ncl++] = cl;
            }
            break;
        }
        case C_DASH:
            if (len - i >= 10 && memcmp(s + i, "-----BEGIN", 10) == 0) {
                rc = add_trig(sc, K_PEM, i, 0);
                break;
            }
            /* fall through */
        case C_UNDER: {
            size_t t = token_start(s, i);
            if (t != SIZE_MAX)
                rc = add_trig(sc, K_TOKEN, t, 0);
            break;
        }
        case C_COLON: {
            size_t so;
            if (assign_word(s, i, &so))
                rc = add_trig(sc, K_ASSIGN, so, i);
            break;
        }
        case C_I:
            if (before(s, i, "A", 1) && len - i >= 3 && s[i + 1] == 'z' && s[i + 2] == 'a')
                rc = add_trig(sc, K_TOKEN, i - 1, 0);
            break;
        case C_J:
            if (before(s, i, "ey", 2))
                rc = add_trig(sc, K_JWT, i - 2, 0);
            break;
        case C_KS:
            if (before(s, i, "A", 1) && len - i >= 3 && s[i + 1] == 'I' && s[i + 2] == 'A')
                rc = add_trig(sc, K_AWSID, i - 1, 0);
            break;
        case C_B:
            if (len - i >= 7 && strncasecmp((const char *)s + i + 1, "earer", 5) == 0)
                rc = add_trig(sc, K_BEARER, i, 0);
            break;
        }
    }
    return rc;
}

static int trig_cmp(const void *x, const void *y)
{
    const struct trig *a = x, *b = y;
    return a->so < b->so ? -1 : a->so > b->so;
}

/* ---- running patterns ---- */

/* One pcre2_match; 1 = match (offsets in the ovector), 0 = none, else an
 * error. */
static int match1(const struct redactor *r, const struct pat *p, const unsigned char *s, size_t len,
                  size_t start, struct scan *sc)
{
    pcre2_match_context *mc = p->def ? r->mctx_builtin : r->mctx_custom;
    uint32_t opts = p->def ? 0 : PCRE2_NO_UTF_CHECK;
    int rc = pcre2_match(p->re, s, len, start, opts, sc->md, mc);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(p->re, s, len, start, opts | PCRE2_NO_JIT, sc->md, mc);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return rc == PCRE2_ERROR_NOMEMORY ? REDACT_ENOMEM : REDACT_EMATCH;
}

/* All hits of p in s[0..len) from offset start (len may cut the text
 * short: the caller vouches that nothing past it matters); base is added
 * to the offsets recorded. *last is set to the end of the last hit. */
static int run_scan(const struct redactor *r, const struct pat *p, int prio, const unsigned char *s,
                    size_t len, size_t base, size_t start, struct scan *sc, size_t *last)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
    size_t off = start;
    while (off <= len) {
        int m = match1(r, p, s, len, off, sc);
        if (m <= 0)
            return m;
        size_t so = ov[0], eo = ov[1];
        if (eo <= so) {
            /* An empty hit (a custom pattern, or \K at the end): nothing to
               replace; step over one character. */
            if (eo >= len)
                break;
            off = eo + 1;
            while (!p->def && off < len && (s[off] & 0xC0) == 0x80)
                off++;
            continue;
        }
        if (add_cand(sc, base + so, base + eo, p->type, prio))
            return REDACT_ENOMEM;
        if (last)
            *last = base + eo;
        off = eo;
    }
    return 0;
}

/* G_TRIG: anchored at each trigger. G_WINDOW: anchored at each place in
 * a K_ASSIGN word where a label can begin (the word's start, after each
 * '_' or '-', after the letter of an escape such as "\\n": the patterns'
 * lookbehind allows no other), first to last. A trigger inside the previous hit is
 * skipped, as a whole-text search would step over it. */
static int run_trig(const struct redactor *r, const struct pat *p, int prio, const unsigned char *s,
                    size_t len, struct scan *sc)
{
    bool window = p->def->gate == G_WINDOW;
    struct tvec *t = &sc->tv[window ? K_ASSIGN : p->def->kind];
    if (t->unsorted) {
        qsort(t->v, t->n, sizeof *t->v, trig_cmp);
        t->unsorted = false;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
    size_t last = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct trig *g = &t->v[i];
        size_t b = g->so, end = window ? g->eo : g->so + 1;
        for (; b < end; b++) {
            if (b < last)
                continue;
            if (window && b > g->so && s[b - 1] != '_' && s[b - 1] != '-' &&
                (b < 2 || s[b - 2] != '\\'))
                continue;
            int m = match1(r, p, s, len, b, sc);
            if (m < 0)
                return m;
            if (m == 1 && ov[1] > ov[0]) {
                if (add_cand(sc, ov[0], ov[1], p->type, prio))
                    return REDACT_ENOMEM;
                last = ov[1];
                break;
            }
        }
    }
    return 0;
}

/* G_CLUSTER and G_LABEL. A hit of a G_CLUSTER pattern is made of cluster
 * characters only, so it lies inside one cluster, and every lookahead of
 * those patterns stops at the first non-cluster byte: searching up to and
 * including the byte after the cluster finds what a whole-text search
 * finds there (lookbehinds see the real text before). A G_LABEL pattern
 * reports (after \K) a run of digits, which lies in a cluster; its label
 * must begin within `back` bytes before the cluster. */
static int run_clusters(const struct redactor *r, const struct pat *p, int prio,
                        const unsigned char *s, size_t len, struct scan *sc)
{
    const struct pdef *d = p->def;
    size_t floor = 0;
    for (size_t i = 0; i < sc->ncl; i++) {
        const struct cluster *c = &sc->cl[i];
        bool want = d->gate == G_LABEL
                        ? c->maxrun >= d->min
                        : c->digits >= d->min && c->dots >= d->dots && (c->plus || !d->plus);
        if (!want)
            continue;
        size_t from = c->so;
        if (d->gate == G_LABEL)
            from = c->so > floor + d->back ? c->so - d->back : floor;
        size_t to = c->eo < len ? c->eo + 1 : len;
        int rc = run_scan(r, p, prio, s, to, 0, from, sc, &floor);
        if (rc)
            return rc;
        if (floor < c->eo)
            floor = c->eo;
    }
    return 0;
}

static bool is_local(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* G_EMAIL: for each '@', the local part is walked back in C (1–64 bytes
 * of LOCAL_CHARS: the whole run, as the pattern's own boundary would have
 * it, less a JSON escape such as "\n" before it) and the anchored pattern
 * checks the rest. A start inside the previous hit is skipped, as a
 * whole-text search would step over it. */
static int run_email(const struct redactor *r, const struct pat *p, int prio,
                     const unsigned char *s, size_t len, struct scan *sc)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
    size_t off = 0, floor = 0;
    const unsigned char *at;
    while (off < len && (at = memchr(s + off, '@', len - off)) != NULL) {
        size_t a = (size_t)(at - s), b = a;
        off = a + 1;
        while (b > 0 && a - b <= 70 && is_local(s[b - 1]))
            b--;
        if (b > 0 && is_local(s[b - 1]))
            continue; /* a run longer than any local part */
        if (b > 0 && s[b - 1] == '\\' && b < a) {
            /* JSON text: the escape before the address is not part of it */
            if (s[b] == 'u' && is_hex(s[b + 1]) && is_hex(s[b + 2]) && is_hex(s[b + 3]) &&
                is_hex(s[b + 4]))
                b += 5;
            else if (strchr("nrtbf", s[b]))
                b++;
        }
        if (b >= a || a - b > 64 || b < floor)
            continue;
        int m = match1(r, p, s, len, b, sc);
        if (m < 0)
            return m;
        if (m == 1 && ov[1] > ov[0]) {
            if (add_cand(sc, ov[0], ov[1], p->type, prio))
                return REDACT_ENOMEM;
            off = floor = ov[1];
        }
    }
    return 0;
}

static bool utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(s + i, len - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static int run_custom(const struct redactor *r, const struct pat *p, int prio,
                      const unsigned char *s, size_t len, bool valid, struct scan *sc)
{
    if (valid)
        return run_scan(r, p, prio, s, len, 0, 0, sc, NULL);
    /* Maximal valid pieces between invalid bytes, each searched alone. */
    size_t i = 0;
    while (i < len) {
        size_t a = i;
        while (i < len) {
            size_t k = s[i] < 0x80 ? 1 : utf8_seq(s + i, len - i);
            if (!k)
                break;
            i += k;
        }
        if (i > a) {
            int rc = run_scan(r, p, prio, s + a, i - a, a, 0, sc, NULL);
            if (rc)
                return rc;
        }
        i++; /* the invalid byte */
    }
    return 0;
}

static int cand_cmp(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    if (a->so != b->so)
        return a->so < b->so ? -1 : 1;
    if (a->eo != b->eo)
        return a->eo > b->eo ? -1 : 1;
    return a->prio - b->prio;
}

/* Finds the replacements in text; when there are any, writes the redacted
 * text to sc->out. Returns their number or an error. */
static int scan_text(const struct redactor *r, struct scan *sc, const char *text, size_t len,
                     struct redact_counts *counts)
{
    const unsigned char *s = (const unsigned char *)text;
    sc->n = 0;
    sc->pre_done = false;
    int valid = -1; /* checked on first need */
    for (size_t i = 0; i < r->npats; i++) {
        const struct pat *p = &r->pats[i];
        int rc = 0;
        if (!p->def) {
            if (valid < 0)
                valid = utf8_valid(s, len);
            rc = run_custom(r, p, (int)i, s, len, valid, sc);
        } else if (p->def->gate == G_EMAIL) {
            rc = run_email(r, p, (int)i, s, len, sc);
        } else if (p->def->gate == G_ALL) {
            rc = run_scan(r, p, (int)i, s, len, 0, 0, sc, NULL);
        } else {
            if (!sc->pre_done && (rc = prepass(sc, s, len)) != 0)
                return rc;
            if (p->def->gate == G_TRIG || p->def->gate == G_WINDOW)
                rc = run_trig(r, p, (int)i, s, len, sc);
            else
                rc = run_clusters(r, p, (int)i, s, len, sc);
        }
        if (rc)
            return rc;
    }
    if (!sc->n)
        return 0;
    if (sc->n > 1)
        qsort(sc->v, sc->n, sizeof *sc->v, cand_cmp);
    /* Keep the non-overlapping ones, earliest then longest. */
    size_t kept = 0, end = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (kept == 0 || sc->v[i].so >= end) {
            sc->v[kept++] = sc->v[i];
            end = sc->v[i].eo;
        }
    buf_reset(&sc->out);
    size_t pos = 0;
    for (size_t i = 0; i < kept; i++) {
        const struct cand *c = &sc->v[i];
        buf_append(&sc->out, text + pos, c->so - pos);
        buf_puts(&sc->out, "[REDACTED:");
        buf_puts(&sc->out, redact_type_name(r, c->type));
        buf_puts(&sc->out, "]");
        pos = c->eo;
    }
    buf_append(&sc->out, text + pos, len - pos);
    if (sc->out.oom)
        return REDACT_ENOMEM;
    if (counts) {
        for (size_t i = 0; i < kept; i++)
            counts->by_type[sc->v[i].type]++;
        counts->total += kept;
    }
    return (int)(kept > INT32_MAX ? INT32_MAX : kept);
}

int redact_text(const struct redactor *r, const char *s, size_t len, char **out, size_t *out_len,
                struct redact_counts *counts)
{
    *out = NULL;
    if (out_len)
        *out_len = len;
    if (!len)
        return 0;
    struct scan sc;
    if (scan_init(&sc))
        return REDACT_ENOMEM;
    int n = scan_text(r, &sc, s, len, counts);
    if (n > 0) {
        size_t l;
        *out = buf_steal(&sc.out, &l);
        if (out_len)
            *out_len = l;
    }
    scan_free(&sc);
    return n;
}

/* ---- events --------------------------------------------------------------------------- */

struct evx {
    const struct redactor *r;
    struct scan sc;
    struct redact_counts counts;
    int err; /* REDACT_ENOMEM once anything failed */
};

#define DROPPED "[DROPPED]"
#define FAILED  "[REDACTED:ERROR]"

static void redact_string(struct evx *x, cJSON *item)
{
    const char *s = item->valuestring;
    if (!s || !*s || x->err)
        return;
    int n = scan_text(x->r, &x->sc, s, strlen(s), &x->counts);
    const char *repl = n > 0 ? x->sc.out.p : NULL;
    if (n == REDACT_EMATCH) {
        repl = FAILED;
        x->counts.by_type[REDACT_TYPE_ERROR]++;
        x->counts.total++;
    } else if (n < 0) {
        x->err = n;
        return;
    }
    if (repl && !cJSON_SetValuestring(item, repl))
        x->err = REDACT_ENOMEM;
}

/* Every string value under item (not the keys). */
static void redact_tree(struct evx *x, cJSON *item)
{
    if (cJSON_IsString(item)) {
        redact_string(x, item);
        return;
    }
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item))
        return;
    cJSON *c;
    cJSON_ArrayForEach(c, item)
    {
        redact_tree(x, c);
    }
}

/* Applies policy p to member `name` of obj (a string, or a tree of strings). */
static void apply(struct evx *x, cJSON *obj, const char *name, enum redact_policy p)
{
    cJSON *item = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    if (!item || p == REDACT_POLICY_KEEP || x->err)
        return;
    if (p == REDACT_POLICY_REDACT) {
        redact_tree(x, item);
        return;
    }
    if (cJSON_IsString(item)) {
        if (item->valuestring && *item->valuestring && !cJSON_SetValuestring(item, DROPPED))
            x->err = REDACT_ENOMEM;
    } else if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
        cJSON *d = cJSON_CreateString(DROPPED);
        if (!d || !cJSON_ReplaceItemInObjectCaseSensitive(obj, name, d)) {
            cJSON_Delete(d);
            x->err = REDACT_ENOMEM;
        }
    }
}

static void apply_tool_calls(struct evx *x, cJSON *calls, enum redact_policy p)
{
    cJSON *tc;
    if (!cJSON_IsArray(calls))
        return;
    cJSON_ArrayForEach(tc, calls)
    {
        apply(x, tc, "arguments", p);
        apply(x, tc, "input", p); /* Anthropic tool_use */
        apply(x, cJSON_GetObjectItemCaseSensitive(tc, "function"), "arguments", p);
    }
}

/* Sets ev.name to base + add, where base is a non-negative integer already
 * there (anything else is replaced). */
static int add_count(cJSON *obj, const char *name, double add)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);
    double base = 0;
    if (cJSON_IsNumber(old) && old->valuedouble >= 0 && old->valuedouble <= 9007199254740992.0 &&
        old->valuedouble == (double)(int64_t)old->valuedouble)
        base = old->valuedouble;
    cJSON *n = cJSON_CreateNumber(base + add);
    if (!n)
        return REDACT_ENOMEM;
    /* (cJSON_ReplaceItemViaPointer would not carry the member's name over) */
    if (old ? !cJSON_ReplaceItemInObjectCaseSensitive(obj, name, n)
            : !cJSON_AddItemToObject(obj, name, n)) {
        cJSON_Delete(n);
        return REDACT_ENOMEM;
    }
    return REDACT_OK;
}

static int record(const struct redactor *r, cJSON *ev, const struct redact_counts *c)
{
    if (add_count(ev, "redactions", (double)c->total))
        return REDACT_ENOMEM;
    cJSON *by = cJSON_GetObjectItemCaseSensitive(ev, "redactions_by_type");
    if (!cJSON_IsObject(by)) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return REDACT_ENOMEM;
        if (by ? !cJSON_ReplaceItemInObjectCaseSensitive(ev, "redactions_by_type", o)
               : !cJSON_AddItemToObject(ev, "redactions_by_type", o)) {
            cJSON_Delete(o);
            return REDACT_ENOMEM;
        }
        by = o;
    }
    for (int t = 0; t < REDACT_TYPE_COUNT; t++)
        if (c->by_type[t] && add_count(by, redact_type_name(r, t), (double)c->by_type[t]))
            return REDACT_ENOMEM;
    return REDACT_OK;
}

int redact_event(const struct redactor *r, cJSON *ev)
{
    if (!cJSON_IsObject(ev))
        return 0;
    struct evx x = {.r = r};
    if (scan_init(&x.sc))
        return REDACT_ENOMEM;

    /* prompt */
    cJSON *req = cJSON_GetObjectItemCaseSensitive(ev, "request");
    cJSON *msgs = cJSON_IsObject(req) ? cJSON_GetObjectItemCaseSensitive(req, "messages") : NULL;
    cJSON *m;
    if (cJSON_IsArray(msgs)) {
        cJSON_ArrayForEach(m, msgs)
        {
            apply(&x, m, "content", r->prompt);
            apply_tool_calls(&x, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"), r->prompt);
        }
    }
    apply(&x, req, "input", r->prompt);

    /* context */
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "context"), *d;
    if (cJSON_IsArray(ctx)) {
        cJSON_ArrayForEach(d, ctx)
        {
            apply(&x, d, "text", r->context);
        }
    }

    /* response */
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(ev, "response");
    apply(&x, resp, "text", r->response);
    if (cJSON_IsObject(resp))
        apply_tool_calls(&x, cJSON_GetObjectItemCaseSensitive(resp, "tool_calls"), r->response);
    apply(&x, cJSON_GetObjectItemCaseSensitive(ev, "error"), "message", r->response);

    scan_free(&x.sc);
    if (x.err)
        return x.err;
    if (record(r, ev, &x.counts))
        return REDACT_ENOMEM;
    return (int)(x.counts.total > INT32_MAX ? INT32_MAX : x.counts.total);
}
