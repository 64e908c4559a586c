/*
 * redact.h — finds secrets and personal data in captured text and replaces
 * them with [REDACTED:TYPE] before an event leaves the process.
 *
 * What it is for: every proxied LLM call becomes an llmtap.event/1 carrying
 * prompt, context and response text (capture.h). A redactor, built once
 * from the configuration, rewrites that text in place on the event
 * (redact_event) or in a single string (redact_text). docs/redaction.md is
 * the user's reference: what each type matches and deliberately does not.
 *
 * Matching rules
 * - Built-in types (enum redact_type) plus up to REDACT_MAX_CUSTOM custom
 *   rules, each a name and a PCRE2 pattern. Every type is searched in the
 *   original text; overlapping hits are resolved earliest start first, then
 *   longest; on an identical span a custom rule beats a built-in, an
 *   earlier custom rule a later one, and built-ins go in the order
 *   PRIVATE_KEY, JWT, AWS_KEY, API_KEY, EMAIL, IBAN, CARD, SSN, PHONE, IPV4
 *   (so "Bearer <a JWT>" counts as JWT). The replacement is a single pass:
 *   text that was put in is never searched again.
 * - Validated types are only replaced when their check passes: CARD (Luhn),
 *   IBAN (country length and mod-97), SSN (area/group/serial ranges).
 * - Built-in patterns match ASCII only, so they work on any bytes; custom
 *   patterns are compiled in UTF mode and only ever see valid UTF-8 (an
 *   invalid sequence in the input splits it into pieces that are searched
 *   on their own, so a custom match never spans one).
 *
 * Errors are the REDACT_E* codes below (redact_strerror names them).
 *
 * Threads: a redactor is immutable after redact_create; any number of
 * threads may call redact_text and redact_event on it at the same time
 * (compiled patterns are shared read-only; match state is per call).
 */
#ifndef LLMTAP_AGENT_REDACT_H
#define LLMTAP_AGENT_REDACT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The built-in types, in the order of the counts array. The names
 * (redact_type_name) are the enumerator without the prefix: "EMAIL", … */
enum redact_type {
    REDACT_EMAIL,
    REDACT_PHONE,
    REDACT_CARD,
    REDACT_SSN,
    REDACT_IBAN,
    REDACT_IPV4,
    REDACT_AWS_KEY,
    REDACT_API_KEY,
    REDACT_JWT,
    REDACT_PRIVATE_KEY,
    REDACT_BUILTIN_COUNT
};

#define REDACT_MAX_CUSTOM 64 /* custom rules per redactor */
#define REDACT_NAME_MAX   32 /* bytes of a custom rule's name */
/* Index of custom rule i in the counts: REDACT_BUILTIN_COUNT + i. The last
 * slot counts strings that could not be searched (REDACT_EMATCH in
 * redact_event: the whole string was replaced by [REDACTED:ERROR]). */
#define REDACT_TYPE_ERROR (REDACT_BUILTIN_COUNT + REDACT_MAX_CUSTOM)
#define REDACT_TYPE_COUNT (REDACT_TYPE_ERROR + 1)

enum {
    REDACT_OK = 0,
    REDACT_EINVAL = -31001, /* bad option: unknown type, bad rule name or pattern, bad policy */
    REDACT_ENOMEM = -31002,
    REDACT_EMATCH = -31003, /* a pattern could not finish on this input (PCRE2's match,
                               depth or heap limit) */
};

/* The English text of a REDACT_E* code (or "unknown error"). */
const char *redact_strerror(int err);

/* What happens to one family of fields in redact_event. */
enum redact_policy {
    REDACT_POLICY_REDACT, /* replace matches with [REDACTED:TYPE] (default) */
    REDACT_POLICY_KEEP,   /* leave the text as captured */
    REDACT_POLICY_DROP,   /* replace each whole field by the string "[DROPPED]" */
};

/* "redact" | "keep" | "drop" (exact, lower case) → *out. Returns REDACT_OK
 * or REDACT_EINVAL (*out unchanged). */
int redact_policy_parse(const char *s, enum redact_policy *out);
const char *redact_policy_name(enum redact_policy p);

/* A custom rule (config: the redact_rule pass-through, NAME=PATTERN). */
struct redact_rule {
    const char *name;    /* 1..REDACT_NAME_MAX of [A-Za-z0-9_.-]; not a built-in type's name
                            nor "ERROR" (any case); unique (any case) */
    const char *pattern; /* PCRE2 syntax, UTF mode; a match replaces the whole matched text
                            (use \K or lookarounds to keep a label) */
};

struct redact_opts {
    const struct redact_rule *custom; /* n_custom rules, may be NULL when 0 */
    size_t n_custom;
    const char *disable;         /* comma-separated built-in names to turn off (any case, spaces
                                    ignored), or NULL */
    enum redact_policy prompt;   /* request.messages[].content, their tool-call arguments,
                                    request.input */
    enum redact_policy context;  /* context[].text */
    enum redact_policy response; /* response.text, response.tool_calls[].arguments,
                                    error.message */
};

/* Replacements per type, indexed by enum redact_type, then custom rules,
 * then REDACT_TYPE_ERROR; total is their sum. */
struct redact_counts {
    size_t total;
    size_t by_type[REDACT_TYPE_COUNT];
};

struct redactor;

/* Compiles the built-in patterns (minus the disabled ones) and the custom
 * rules, JIT-compiled where PCRE2 supports it. The options are copied: o
 * and its strings need not outlive the call. Returns REDACT_OK and sets
 * *out, or an error with *out NULL and a message in err (errlen bytes,
 * may be NULL/0) naming the culprit, e.g.
 *   redact.disable: unknown type "EMAL" (types: EMAIL, PHONE, …)
 *   redact_rule.EMPLOYEE_ID: missing closing parenthesis at offset 13
 * REDACT_EINVAL for bad options, REDACT_ENOMEM. */
int redact_create(const struct redact_opts *o, struct redactor **out, char *err, size_t errlen);

/* Accepts NULL. */
void redact_destroy(struct redactor *r);

/* The name of type index t (a built-in, a custom rule of r, or
 * REDACT_TYPE_ERROR → "ERROR"); NULL when r has no such type. r may be NULL
 * for the built-ins. The string is owned by r (or static). */
const char *redact_type_name(const struct redactor *r, int t);

/* Redacts s[0..len) (any bytes; NULs allowed). Returns the number of
 * replacements (≥ 0) or an error. When it is > 0, *out is a new
 * NUL-terminated string (malloc'd, the caller frees it) of *out_len bytes;
 * when it is 0 or an error, *out is NULL and *out_len is len. counts, when
 * not NULL, is ADDED to (not reset), so one struct can sum several calls.
 * Errors: REDACT_ENOMEM; REDACT_EMATCH when a pattern could not finish on
 * this input (e.g. a custom pattern hit PCRE2's match limit) — the caller
 * must not use s unredacted. The policy options play no part here. */
int redact_text(const struct redactor *r, const char *s, size_t len, char **out, size_t *out_len,
                struct redact_counts *counts);

/* Applies the per-family policies to the event ev (a JSON object, modified
 * in place; missing or mistyped fields are skipped) and records the result:
 *   "redactions": integer, replacements made (added to a non-negative
 *                 integer already there, e.g. from an SDK that redacted)
 *   "redactions_by_type": {"EMAIL": 2, …} (merged the same way; types with
 *                 zero are left out; {} when none)
 * A string that a pattern cannot finish on (REDACT_EMATCH) is replaced as a
 * whole by "[REDACTED:ERROR]" and counted as type ERROR: the event fails
 * closed but is still sent. DROP replaces each field of the family (a
 * content string or array of parts, request.input, context text, response
 * text, tool-call arguments, error message) by the string "[DROPPED]" and
 * counts nothing. Returns the replacements made by this call (≥ 0), or
 * REDACT_ENOMEM: then ev may be partly redacted and must not be sent. */
int redact_event(const struct redactor *r, cJSON *ev);

#endif
