/*
 * config.c — one settings table drives the YAML file, the environment, the
 * flags, validation, --help and --print-config.
 *
 * DESIGN
 * - Layers, lowest to highest: the table's defaults, the YAML file
 *   (`--config FILE` or LLMTAP_<COMPONENT>_CONFIG), the environment
 *   (LLMTAP_<COMPONENT>_<KEY>), the flags. config_load applies them in that
 *   order onto one array of values, so "last write wins" is the precedence.
 *   Flags are scanned first (to find --config and --help and to report
 *   syntax errors early) but applied last.
 * - Every value is kept as the text it was given in (for --print-config and
 *   round trips) plus its parsed form (for the accessors). A value is parsed
 *   and bounds-checked before it replaces the old one, so a failed write
 *   leaves the previous value in place.
 * - The YAML file is read with libyaml's event parser, not its document
 *   loader: a recursive walk over mappings that builds dotted paths and
 *   decides, per path, whether it is a setting, a section (a proper prefix
 *   of settings), a pass-through mapping, or unknown. Every error carries
 *   file:line. Scalars are taken as text: the YAML "type" of a plain scalar
 *   does not matter, the setting's type does. A plain empty/~/null scalar
 *   unsets a string setting and is an error for the other types.
 * - Pass-through prefixes: t->passthrough is a comma-separated list
 *   ("kafka,upstream"; pt_at gives item k). The config keeps one struct
 *   pairs per item, in order (config_passthrough_* use item 0), each kept
 *   unique by name: a later value replaces the earlier one in place. They
 *   come from the file (nested or flat-dotted under the prefix mapping),
 *   the environment (LLMTAP_<COMPONENT>_<PREFIX>_<NAME>, '_' read as '.')
 *   and `--<prefix> NAME=VALUE` flags ('_' written '-'), in that order;
 *   config_pairs_add only fills names nobody set.
 * - The table is checked on every config_load/config_help: a bad default,
 *   a duplicate key, flag or environment name, a bad, duplicate or
 *   overlapping pass-through prefix is a programming error and aborts with a
 *   message naming the setting or prefix.
 * - Ownership: struct config owns every string in it; it points at the
 *   caller's table, which must outlive it (tables are static in practice).
 *   A loaded config is read-only and may be read from any thread;
 *   config_set and config_pairs_add need external serialisation.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

extern char **environ;

#define NAME_MAX_LEN   128 /* keys, flags, component, prefix: checked in table_check */
#define ENV_MAX_LEN    300 /* "LLMTAP_" + component + "_" + key */
#define YAML_MAX_DEPTH 32  /* nesting of mappings in the file */

enum source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG, SRC_RUNTIME };

union cv {
    int64_t i; /* INT, BYTES (bytes), DURATION (ms) */
    double d;
    bool b;
};

struct value {
    char *text; /* as given; NULL = unset (STRING only) */
    union cv v;
    enum source src;
    int line; /* SRC_FILE: line in the file */
};

struct pair {
    char *name, *value;
    enum source src;
};

struct pairs { /* the pairs of one pass-through prefix */
    char prefix[NAME_MAX_LEN];
    struct pair *v;
    size_t n, cap;
};

struct config {
    const struct config_table *t;
    struct value *vals; /* t->n entries */
    struct pairs *pts;  /* one per pass-through prefix, in the table's order */
    size_t npts;
    char *file; /* the config file read, or NULL */
};

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CONFIG_ERROR;
}

__attribute__((format(printf, 2, 3), noreturn)) static void bug(const struct config_table *t,
                                                                const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "config: programming error in the settings table of \"%s\": ",
            t && t->component ? t->component : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static const char *const type_names[] = {"string", "int", "double", "bool", "bytes", "duration"};

static const char *type_name(enum config_type ty)
{
    return (unsigned)ty < sizeof type_names / sizeof *type_names ? type_names[ty] : "?";
}

/* The flag name of setting s, without "--". */
static void flag_name(const struct config_setting *s, char *buf, size_t cap)
{
    if (s->flag) {
        snprintf(buf, cap, "%s", s->flag);
        return;
    }
    snprintf(buf, cap, "%s", s->key);
    for (char *p = buf; *p; p++)
        if (*p == '.' || *p == '_')
            *p = '-';
}

/* Appends `s` upper-cased, with '.' and '-' as '_'. */
static void env_append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    for (; *s && n + 1 < cap; s++)
        buf[n++] = (*s == '.' || *s == '-') ? '_' : (char)toupper((unsigned char)*s);
    buf[n] = '\0';
}

/* LLMTAP_<COMPONENT>_<suffix>; suffix NULL gives "LLMTAP_<COMPONENT>_". */
static void env_name(const struct config_table *t, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "LLMTAP_");
    env_append(buf, cap, t->component);
    env_append(buf, cap, "_");
    if (suffix)
        env_append(buf, cap, suffix);
}

/* "LLMTAP_<COMPONENT>_<PREFIX>_": the start of a pass-through variable. */
static void pt_env(const struct config_table *t, const char *prefix, char *buf, size_t cap)
{
    env_name(t, prefix, buf, cap);
    env_append(buf, cap, "_");
}

/* Copies prefix k (item k of t->passthrough) into buf, as_flag: with '_'
 * written '-' like a key's flag; false past the last. An item too long for
 * buf comes out empty, which table_check rejects. */
static bool pt_at(const struct config_table *t, size_t k, char buf[NAME_MAX_LEN], bool as_flag)
{
    const char *s = t->passthrough;
    for (; s && k; k--)
        if ((s = strchr(s, ',')))
            s++;
    if (!s)
        return false;
    size_t n = strcspn(s, ",");
    n = n < NAME_MAX_LEN ? n : 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = as_flag && s[i] == '_' ? '-' : s[i];
    buf[n] = '\0';
    return true;
}

/* The index of the prefix (as_flag: whose flag) is name[0..len), or -1. */
static int pt_find(const struct config_table *t, const char *name, size_t len, bool as_flag)
{
    char p[NAME_MAX_LEN];
    for (size_t k = 0; pt_at(t, k, p, as_flag); k++)
        if (strlen(p) == len && memcmp(p, name, len) == 0)
            return (int)k;
    return -1;
}

static int find_key(const struct config_table *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->settings[i].key, key) == 0)
            return (int)i;
    return -1;
}

static int find_flag(const struct config_table *t, const char *name, size_t len)
{
    char f[NAME_MAX_LEN + 8];
    for (size_t i = 0; i < t->n; i++) {
        flag_name(&t->settings[i], f, sizeof f);
        if (strlen(f) == len && memcmp(f, name, len) == 0)
            return (int)i;
    }
    return -1;
}

/* True when some key starts with path + ".". */
static bool is_section(const struct config_table *t, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->settings[i].key;
        if (strncmp(k, path, n) == 0 && k[n] == '.')
            return true;
    }
    return false;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
        return (size_t)-1;
    size_t row[NAME_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Writes " (did you mean X?)" into buf for the closest key (as_flag: the
 * closest flag, written with "--"), or "" when nothing is close. */
static void suggest(const struct config_table *t, const char *got, bool as_flag, char *buf,
                    size_t cap)
{
    size_t best = (size_t)-1;
    char bestname[NAME_MAX_LEN + 8] = "";
    for (size_t i = 0; i < t->n; i++) {
        char f[NAME_MAX_LEN + 8];
        if (as_flag)
            flag_name(&t->settings[i], f, sizeof f);
        else
            snprintf(f, sizeof f, "%s", t->settings[i].key);
        size_t d = edit_distance(got, f);
        if (d < best) {
            best = d;
            snprintf(bestname, sizeof bestname, "%s", f);
        }
    }
    size_t len = strlen(got);
    if (best == 0 || best > 2 || best * 3 > len) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, cap, " (did you mean %s%s?)", as_flag ? "--" : "", bestname);
}

/* ------------------------------------------------------------------------ */
/* value syntax                                                              */

/* Reads a non-negative decimal integer at *p; -1 if none, -2 on overflow. */
static int parse_digits(const char **p, int64_t *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        int dgt = *s - '0';
        if (v > (INT64_MAX - dgt) / 10)
            return -2;
        v = v * 10 + dgt;
    }
    *p = s;
    *out = v;
    return 0;
}

struct unit {
    const char *name;
    int64_t mult;
};

static const struct unit byte_units[] = {
    {"", 1},           {"b", 1},           {"k", 1LL << 10},
    {"kb", 1LL << 10}, {"kib", 1LL << 10}, {"m", 1LL << 20},
    {"mb", 1LL << 20}, {"mib", 1LL << 20}, {"g", 1LL << 30},
    {"gb", 1LL << 30}, {"gib", 1LL << 30}, {"t", 1LL << 40},
    {"tb", 1LL << 40}, {"tib", 1LL << 40}, {NULL, 0},
};

static const struct unit duration_units[] = {
    {"", 1},          {"ms", 1},          {"s", 1000},
    {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000},
    {NULL, 0},
};

/* "<digits>[ ]<unit>": 0, -1 on bad syntax, -2 on overflow. */
static int parse_with_unit(const char *s, const struct unit *units, int64_t *out)
{
    int64_t n;
    int rc = parse_digits(&s, &n);
    if (rc)
        return rc;
    while (*s == ' ')
        s++;
    for (const struct unit *u = units; u->name; u++) {
        if (strcasecmp(s, u->name) != 0)
            continue;
        if (n > INT64_MAX / u->mult)
            return -2;
        *out = n * u->mult;
        return 0;
    }
    return -1;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Writes a number for messages: bounds in the type's own units when exact. */
static void format_bound(enum config_type ty, double v, char *buf, size_t cap)
{
    const struct unit *units = ty == CONFIG_BYTES      ? byte_units
                               : ty == CONFIG_DURATION ? duration_units
                                                       : NULL;
    if (units && v > 0 && v < 9.2e18 && v == (double)(int64_t)v) {
        int64_t n = (int64_t)v;
        const struct unit *best = NULL;
        for (const struct unit *u = units; u->name; u++)
            if (u->name[0] && n % u->mult == 0 && (!best || u->mult > best->mult))
                best = u;
        if (best) {
            /* byte units print in their binary spelling ("MiB"), durations as-is */
            const char *nm = best->name;
            if (ty == CONFIG_BYTES)
                nm = best->mult == 1             ? ""
                     : best->mult == (1LL << 10) ? "KiB"
                     : best->mult == (1LL << 20) ? "MiB"
                     : best->mult == (1LL << 30) ? "GiB"
                                                 : "TiB";
            snprintf(buf, cap, "%lld%s", (long long)(n / best->mult), nm);
            return;
        }
    }
    snprintf(buf, cap, "%.15g", v);
}

/* Parses text as s's type and checks bounds. On failure writes the reason
 * (without the key) into why and returns -1. */
static int parse_value(const struct config_setting *s, const char *text, union cv *v, char *why,
                       size_t cap)
{
    double num = 0;
    switch (s->type) {
    case CONFIG_STRING: return 0;
    case CONFIG_BOOL:
        if (parse_bool(text, &v->b)) {
            snprintf(why, cap, "\"%s\" is not a boolean (use true/false, yes/no, on/off, 1/0)",
                     text);
            return -1;
        }
        return 0;
    case CONFIG_INT: {
        char *end;
        if (!*text || isspace((unsigned char)*text)) {
            snprintf(why, cap, "\"%s\" is not an integer", text);
            return -1;
        }
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (*end) {
            snprintf(why, cap, "\"%s\" is not an integer", text);
            return -1;
        }
        if (errno == ERANGE) {
            snprintf(why, cap, "\"%s\" is out of range for a 64-bit integer", text);
            return -1;
        }
        v->i = n;
        num = (double)n;
        break;
    }
    case CONFIG_DOUBLE: {
        char *end;
        if (!*text || isspace((unsigned char)*text)) {
            snprintf(why, cap, "\"%s\" is not a number", text);
            return -1;
        }
        double d = strtod(text, &end);
        if (*end) {
            snprintf(why, cap, "\"%s\" is not a number", text);
            return -1;
        }
        if (!isfinite(d)) {
            snprintf(why, cap, "\"%s\" is not a finite number", text);
            return -1;
        }
        v->d = d;
        num = d;
        break;
    }
    case CONFIG_BYTES:
    case CONFIG_DURATION: {
        bool bytes = s->type == CONFIG_BYTES;
        int rc = parse_with_unit(text, bytes ? byte_units : duration_units, &v->i);
        if (rc == -2) {
            snprintf(why, cap, "\"%s\" is too large", text);
            return -1;
        }
        if (rc) {
            snprintf(why, cap,
                     bytes ? "\"%s\" is not a size (use e.g. 4096, 64k, 512MiB, 1G)"
                           : "\"%s\" is not a duration (use e.g. 250ms, 5s, 2m, 1h, 7d)",
                     text);
            return -1;
        }
        num = (double)v->i;
        break;
    }
    default: snprintf(why, cap, "unknown type %d", (int)s->type); return -1;
    }
    if (s->min == 0 && s->max == 0)
        return 0;
    char b[64];
    if (num < s->min) {
        format_bound(s->type, s->min, b, sizeof b);
        snprintf(why, cap, "\"%s\" is below the minimum %s", text, b);
        return -1;
    }
    if (num > s->max) {
        format_bound(s->type, s->max, b, sizeof b);
        snprintf(why, cap, "\"%s\" is above the maximum %s", text, b);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the settings table                                                        */

static bool name_ok(const char *s, const char *extra)
{
    if (!s || !*s || strlen(s) >= NAME_MAX_LEN)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && !strchr(extra, *s))
            return false;
    return true;
}

static bool key_ok(const char *k)
{
    if (!name_ok(k, ".") || k[0] == '.' || k[strlen(k) - 1] == '.' || strstr(k, ".."))
        return false;
    return true;
}

/* Aborts on a programming error in the table. */
static void table_check(const struct config_table *t)
{
    if (!t)
        bug(t, "NULL table");
    if (!name_ok(t->component, ""))
        bug(t, "component must be a non-empty name of letters, digits, '_' and '-'");
    if (t->n && !t->settings)
        bug(t, "n is %zu but settings is NULL", t->n);
    static const char *const builtin[] = {"config", "help", "print-config", "h"};
    char p[NAME_MAX_LEN], q[NAME_MAX_LEN], pe[ENV_MAX_LEN], qe[ENV_MAX_LEN];
    for (size_t k = 0; pt_at(t, k, p, false); k++) {
        if (!key_ok(p) || strchr(p, '.'))
            bug(t, "bad pass-through prefix \"%s\" in \"%s\"", p, t->passthrough);
        pt_at(t, k, q, true);
        for (size_t b = 0; b < sizeof builtin / sizeof *builtin; b++)
            if (strcmp(q, builtin[b]) == 0)
                bug(t, "pass-through prefix \"%s\": flag --%s is reserved", p, q);
        pt_env(t, p, pe, sizeof pe);
        for (size_t j = 0; j < k; j++) { /* also catches a repeat, and two with one flag */
            pt_at(t, j, q, false);
            pt_env(t, q, qe, sizeof qe);
            if (strncmp(pe, qe, strlen(pe) < strlen(qe) ? strlen(pe) : strlen(qe)) == 0)
                bug(t, "pass-through prefix \"%s\" repeats or overlaps \"%s\" (environment %s, %s)",
                    p, q, pe, qe);
        }
    }
    char env_cfg[ENV_MAX_LEN];
    env_name(t, "config", env_cfg, sizeof env_cfg);
    for (size_t i = 0; i < t->n; i++) {
        const struct config_setting *s = &t->settings[i];
        if (!key_ok(s->key))
            bug(t, "setting %zu: bad key \"%s\" (letters, digits, '_', '-', dots between)", i,
                s->key ? s->key : "(null)");
        if (s->flag && (!name_ok(s->flag, ".") || s->flag[0] == '-'))
            bug(t, "%s: bad flag \"%s\" (give it without \"--\")", s->key, s->flag);
        if ((unsigned)s->type > CONFIG_DURATION)
            bug(t, "%s: unknown type %d", s->key, (int)s->type);
        if (!(s->min == 0 && s->max == 0) && !(s->min <= s->max))
            bug(t, "%s: min %g is above max %g", s->key, s->min, s->max);
        if (!s->def && s->type != CONFIG_STRING)
            bug(t, "%s: a %s setting needs a default", s->key, type_name(s->type));
        if (s->def) {
            union cv v;
            char why[256];
            if (parse_value(s, s->def, &v, why, sizeof why))
                bug(t, "%s: bad default: %s", s->key, why);
        }
        char f[NAME_MAX_LEN + 8], e[ENV_MAX_LEN];
        flag_name(s, f, sizeof f);
        env_name(t, s->key, e, sizeof e);
        for (size_t b = 0; b < sizeof builtin / sizeof *builtin; b++)
            if (strcmp(f, builtin[b]) == 0)
                bug(t, "%s: flag --%s is reserved", s->key, f);
        if (strcmp(e, env_cfg) == 0)
            bug(t, "%s: environment name %s is reserved for the config file", s->key, e);
        for (size_t k = 0; pt_at(t, k, p, false); k++) {
            pt_at(t, k, q, true);
            pt_env(t, p, pe, sizeof pe);
            size_t pl = strlen(p);
            if (strcmp(f, q) == 0)
                bug(t, "%s: flag --%s is a pass-through flag", s->key, f);
            if (strncmp(s->key, p, pl) == 0 && (s->key[pl] == '\0' || s->key[pl] == '.'))
                bug(t, "%s: key is under the pass-through prefix \"%s\"", s->key, p);
            if (strncmp(e, pe, strlen(pe)) == 0)
                bug(t, "%s: environment name %s is under the pass-through prefix %s", s->key, e,
                    pe);
        }
        if (is_section(t, s->key))
            bug(t, "%s: key is both a setting and a section of other settings", s->key);
        for (size_t j = 0; j < i; j++) {
            const struct config_setting *o = &t->settings[j];
            char of[NAME_MAX_LEN + 8], oe[ENV_MAX_LEN];
            flag_name(o, of, sizeof of);
            env_name(t, o->key, oe, sizeof oe);
            if (strcmp(o->key, s->key) == 0)
                bug(t, "%s: key declared twice", s->key);
            if (strcmp(of, f) == 0)
                bug(t, "%s and %s: both use flag --%s", o->key, s->key, f);
            if (strcmp(oe, e) == 0)
                bug(t, "%s and %s: both use environment name %s", o->key, s->key, e);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* values and pairs                                                          */

/* Sets setting i from text (NULL = unset, strings only). On a bad value
 * writes the reason into why and leaves the old value. */
static int value_set(struct config *c, size_t i, const char *text, enum source src, int line,
                     char *why, size_t cap)
{
    const struct config_setting *s = &c->t->settings[i];
    union cv v = {0};
    char *copy = NULL;
    if (!text) {
        if (s->type != CONFIG_STRING) {
            snprintf(why, cap, "missing value");
            return -1;
        }
    } else {
        if (parse_value(s, text, &v, why, cap))
            return -1;
        if (!(copy = strdup(text))) {
            snprintf(why, cap, "out of memory");
            return -1;
        }
    }
    free(c->vals[i].text);
    c->vals[i].text = copy;
    c->vals[i].v = v;
    c->vals[i].src = src;
    c->vals[i].line = line;
    return 0;
}

static struct pair *pair_find(const struct pairs *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].name, name) == 0)
            return &ps->v[i];
    return NULL;
}

/* Sets name=value, replacing an existing value of that name in place. */
static int pair_set(struct pairs *ps, const char *name, const char *value, enum source src)
{
    char *v = strdup(value);
    if (!v)
        return -1;
    struct pair *p = pair_find(ps, name);
    if (p) {
        free(p->value);
        p->value = v;
        p->src = src;
        return 0;
    }
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        struct pair *np = realloc(ps->v, cap * sizeof *np);
        if (!np) {
            free(v);
            return -1;
        }
        ps->v = np;
        ps->cap = cap;
    }
    char *n = strdup(name);
    if (!n) {
        free(v);
        return -1;
    }
    ps->v[ps->n++] = (struct pair){.name = n, .value = v, .src = src};
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the YAML file                                                             */

struct yload {
    yaml_parser_t parser;
    struct config *c;
    const char *file;
    char *err;
    size_t errlen;
    int depth;
};

static int y_next(struct yload *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->parser, ev))
        return 0;
    const yaml_parser_t *p = &y->parser;
    return fail(y->err, y->errlen, "%s:%zu:%zu: bad YAML: %s%s%s", y->file,
                p->problem_mark.line + 1, p->problem_mark.column + 1,
                p->problem ? p->problem : "syntax error", p->context ? " " : "",
                p->context ? p->context : "");
}

static bool y_is_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)ev->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *y_kind(yaml_event_type_t type)
{
    return type == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping";
}

static int y_mapping(struct yload *y, const char *path);

/* Handles the value event of path `full` (key on `line`); consumes it. */
static int y_value(struct yload *y, const char *full, int line, yaml_event_t *ev)
{
    const struct config_table *t = y->c->t;
    size_t ptl = strcspn(full, "."); /* a prefix is the first component */
    int pt = pt_find(t, full, ptl, false);
    bool is_pt = pt >= 0 && full[ptl] == '\0';
    bool under_pt = pt >= 0 && full[ptl] == '.';
    int idx = find_key(t, full);
    bool section = idx < 0 && !is_pt && !under_pt && is_section(t, full);
    int rc = 0;
    char hint[NAME_MAX_LEN + 32];

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        rc = fail(y->err, y->errlen, "%s:%d: %s: aliases (*name) are not supported", y->file, line,
                  full);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (ev->type == YAML_MAPPING_START_EVENT && (is_pt || under_pt || section)) {
            if (++y->depth > YAML_MAX_DEPTH)
                rc = fail(y->err, y->errlen, "%s:%d: %s: mappings nested too deeply", y->file, line,
                          full);
            else
                rc = y_mapping(y, full);
            y->depth--;
        } else if (idx >= 0 || under_pt) {
            rc = fail(y->err, y->errlen, "%s:%d: %s: expected a single value, got %s", y->file,
                      line, full, y_kind(ev->type));
        } else if (is_pt || section) {
            rc = fail(y->err, y->errlen, "%s:%d: %s: expected a mapping, got a list", y->file, line,
                      full);
        } else {
            suggest(t, full, false, hint, sizeof hint);
            rc = fail(y->err, y->errlen, "%s:%d: %s: unknown setting%s", y->file, line, full, hint);
        }
        break;
    case YAML_SCALAR_EVENT: {
        const char *text = (const char *)ev->data.scalar.value;
        bool null = y_is_null(ev);
        char why[512];
        if (strlen(text) != ev->data.scalar.length) {
            rc = fail(y->err, y->errlen, "%s:%d: %s: value contains a NUL character", y->file, line,
                      full);
        } else if (under_pt) {
            const char *name = full + ptl + 1;
            struct pairs *ps = &y->c->pts[pt];
            struct pair *p = pair_find(ps, name);
            if (null)
                rc = fail(y->err, y->errlen, "%s:%d: %s: missing value", y->file, line, full);
            else if (p && p->src == SRC_FILE)
                rc = fail(y->err, y->errlen, "%s:%d: %s: given twice", y->file, line, full);
            else if (pair_set(ps, name, text, SRC_FILE))
                rc = fail(y->err, y->errlen, "out of memory");
        } else if (is_pt || section) {
            if (!null)
                rc = fail(y->err, y->errlen, "%s:%d: %s: expected a mapping, got \"%s\"", y->file,
                          line, full, text);
        } else if (idx >= 0) {
            const struct value *old = &y->c->vals[idx];
            if (old->src == SRC_FILE)
                rc = fail(y->err, y->errlen, "%s:%d: %s: given twice (first on line %d)", y->file,
                          line, full, old->line);
            else if (value_set(y->c, (size_t)idx, null ? NULL : text, SRC_FILE, line, why,
                               sizeof why))
                rc = fail(y->err, y->errlen, "%s:%d: %s: %s", y->file, line, full, why);
        } else {
            suggest(t, full, false, hint, sizeof hint);
            rc = fail(y->err, y->errlen, "%s:%d: %s: unknown setting%s", y->file, line, full, hint);
        }
        break;
    }
    default:
        rc = fail(y->err, y->errlen, "%s:%d: %s: unexpected YAML event", y->file, line, full);
        break;
    }
    yaml_event_delete(ev);
    return rc;
}

/* Reads the entries of a mapping whose MAPPING_START was consumed, up to
 * and including its MAPPING_END. path is NULL at the top level. */
static int y_mapping(struct yload *y, const char *path)
{
    for (;;) {
        yaml_event_t k, v;
        if (y_next(y, &k))
            return CONFIG_ERROR;
        if (k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return 0;
        }
        int line = (int)k.start_mark.line + 1;
        if (k.type != YAML_SCALAR_EVENT || !*(const char *)k.data.scalar.value) {
            yaml_event_delete(&k);
            return fail(y->err, y->errlen, "%s:%d: %s%skeys must be non-empty text", y->file, line,
                        path ? path : "", path ? ": " : "");
        }
        const char *key = (const char *)k.data.scalar.value;
        size_t n = (path ? strlen(path) + 1 : 0) + strlen(key) + 1;
        char *full = malloc(n);
        if (!full) {
            yaml_event_delete(&k);
            return fail(y->err, y->errlen, "out of memory");
        }
        snprintf(full, n, "%s%s%s", path ? path : "", path ? "." : "", key);
        yaml_event_delete(&k);
        int rc = y_next(y, &v);
        if (rc == 0)
            rc = y_value(y, full, line, &v);
        free(full);
        if (rc)
            return CONFIG_ERROR;
    }
}

static int y_expect(struct yload *y, yaml_event_type_t type, yaml_event_t *ev)
{
    if (y_next(y, ev))
        return CONFIG_ERROR;
    if (ev->type == type)
        return 0;
    int line = (int)ev->start_mark.line + 1;
    yaml_event_delete(ev);
    return fail(y->err, y->errlen, "%s:%d: unexpected YAML structure", y->file, line);
}

static int load_file(struct config *c, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return fail(err, errlen, "%s: %s", file, strerror(errno));
    struct yload y = {.c = c, .file = file, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&y.parser)) {
        fclose(f);
        return fail(err, errlen, "%s: out of memory", file);
    }
    yaml_parser_set_input_file(&y.parser, f);

    int rc = CONFIG_ERROR;
    yaml_event_t ev;
    if (y_expect(&y, YAML_STREAM_START_EVENT, &ev))
        goto fail;
    yaml_event_delete(&ev);
    if (y_next(&y, &ev))
        goto fail;
    if (ev.type == YAML_STREAM_END_EVENT) { /* empty file */
        yaml_event_delete(&ev);
        rc = CONFIG_OK;
        goto fail;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START: the parser guarantees it */
    if (y_next(&y, &ev))
        goto fail;
    if (ev.type == YAML_MAPPING_START_EVENT) {
        yaml_event_delete(&ev);
        if (y_mapping(&y, NULL))
            goto fail;
    } else {
        bool empty = ev.type == YAML_SCALAR_EVENT && y_is_null(&ev);
        int line = (int)ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        if (!empty) {
            fail(err, errlen, "%s:%d: the top level must be a mapping of settings", file, line);
            goto fail;
        }
    }
    if (y_expect(&y, YAML_DOCUMENT_END_EVENT, &ev))
        goto fail;
    yaml_event_delete(&ev);
    if (y_next(&y, &ev))
        goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        fail(err, errlen, "%s:%zu: only one YAML document is allowed", file,
             ev.start_mark.line + 1);
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    rc = CONFIG_OK;
fail:
    yaml_parser_delete(&y.parser);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the environment                                                           */

static int load_env(struct config *c, char *err, size_t errlen)
{
    const struct config_table *t = c->t;
    char prefix[ENV_MAX_LEN], ptprefix[ENV_MAX_LEN], cfg[ENV_MAX_LEN], e[ENV_MAX_LEN];
    char why[512];
    env_name(t, NULL, prefix, sizeof prefix);
    env_name(t, "config", cfg, sizeof cfg);

    /* Declared settings, in table order. An empty variable counts as unset. */
    for (size_t i = 0; i < t->n; i++) {
        env_name(t, t->settings[i].key, e, sizeof e);
        const char *v = getenv(e);
        if (!v || !*v)
            continue;
        if (value_set(c, i, v, SRC_ENV, 0, why, sizeof why))
            return fail(err, errlen, "%s: %s (environment %s)", t->settings[i].key, why, e);
    }

    /* Anything else with our prefix is a typo or pass-through. */
    size_t pl = strlen(prefix);
    for (char **ep = environ; ep && *ep; ep++) {
        const char *kv = *ep, *eq = strchr(kv, '=');
        size_t nl = eq ? (size_t)(eq - kv) : strlen(kv);
        if (!eq || nl <= pl || strncmp(kv, prefix, pl) != 0 || nl >= sizeof e)
            continue;
        memcpy(e, kv, nl);
        e[nl] = '\0';
        if (strcmp(e, cfg) == 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < t->n && !known; i++) {
            char se[ENV_MAX_LEN];
            env_name(t, t->settings[i].key, se, sizeof se);
            known = strcmp(se, e) == 0;
        }
        /* table_check made the prefixes' variables disjoint: at most one matches */
        struct pairs *ps = NULL;
        size_t ptl = 0;
        for (size_t j = 0; j < c->npts && !ps; j++) {
            pt_env(t, c->pts[j].prefix, ptprefix, sizeof ptprefix);
            ptl = strlen(ptprefix);
            if (nl > ptl && strncmp(e, ptprefix, ptl) == 0)
                ps = &c->pts[j];
        }
        if (known || (ps && !eq[1]))
            continue;
        char name[ENV_MAX_LEN]; /* the pair's name or the key meant: '_' read as '.' */
        size_t k = 0;
        for (const char *p = e + (ps ? ptl : pl); *p; p++)
            name[k++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        name[k] = '\0';
        if (ps && pair_set(ps, name, eq + 1, SRC_ENV))
            return fail(err, errlen, "out of memory");
        if (ps)
            continue;
        char hint[NAME_MAX_LEN + 32];
        suggest(t, name, false, hint, sizeof hint);
        return fail(err, errlen, "%s: unknown setting in the environment%s", e, hint);
    }
    return CONFIG_OK;
}

/* ------------------------------------------------------------------------ */
/* flags                                                                     */

struct flag_action {
    int idx, pt;       /* setting; or idx -1 and prefix pt for a pass-through NAME=VALUE */
    const char *value; /* points into argv */
    const char *arg;   /* the flag as given, for messages */
};

static bool is_flag_like(const char *a)
{
    return a[0] == '-' && a[1] == '-';
}

/* Applies pass-through flag f ("--upstream NAME=VALUE") to the pairs ps. */
static int apply_pt_flag(struct pairs *ps, const struct flag_action *f, char *err, size_t errlen)
{
    const char *nv = f->value, *eq = strchr(nv, '=');
    if (!eq || eq == nv)
        return fail(err, errlen, "%.*s: expected NAME=VALUE, got \"%s\"", (int)strcspn(f->arg, "="),
                    f->arg, nv);
    size_t nl = (size_t)(eq - nv);
    char *name = strndup(nv, nl);
    if (!name)
        return fail(err, errlen, "out of memory");
    int rc = pair_set(ps, name, eq + 1, SRC_FLAG);
    free(name);
    return rc ? fail(err, errlen, "out of memory") : CONFIG_OK;
}

/* ------------------------------------------------------------------------ */
/* public API                                                                */

static struct config *config_new(const struct config_table *t)
{
    struct config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    char p[NAME_MAX_LEN];
    while (pt_at(t, c->npts, p, false))
        c->npts++;
    if ((t->n && !(c->vals = calloc(t->n, sizeof *c->vals))) ||
        (c->npts && !(c->pts = calloc(c->npts, sizeof *c->pts)))) {
        free(c->vals);
        free(c);
        return NULL;
    }
    for (size_t k = 0; k < c->npts; k++)
        pt_at(t, k, c->pts[k].prefix, false);
    char why[256];
    for (size_t i = 0; i < t->n; i++)
        if (value_set(c, i, t->settings[i].def, SRC_DEFAULT, 0, why, sizeof why)) {
            config_destroy(c); /* out of memory: table_check validated the defaults */
            return NULL;
        }
    return c;
}

int config_load(const struct config_table *t, int argc, char **argv, struct config **out, char *err,
                size_t errlen)
{
    char ebuf[512];
    if (!err || !errlen) {
        err = ebuf;
        errlen = sizeof ebuf;
    }
    err[0] = '\0';
    *out = NULL;
    table_check(t);

    struct flag_action *acts = NULL;
    struct config *c = NULL;
    const char *file = NULL; /* from --config; "" = no file at all */
    bool print = false;
    size_t nacts = 0;
    int rc = CONFIG_ERROR;

    if (argc > 1 && !(acts = calloc((size_t)argc, sizeof *acts))) {
        fail(err, errlen, "out of memory");
        goto fail;
    }
    /* Scan the flags: syntax, --help, --config; values are applied later. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            config_help(t, stdout);
            fflush(stdout);
            rc = CONFIG_EXIT;
            goto fail;
        }
        if (!is_flag_like(a) || a[2] == '\0') {
            if (a[0] == '-' && a[1] && a[1] != '-')
                fail(err, errlen, "%s: unknown flag (flags are written --name)", a);
            else
                fail(err, errlen, "%s: unexpected argument (only --flags are accepted)", a);
            goto fail;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
#define FLAG_IS(s) (nl == strlen(s) && strncmp(name, (s), nl) == 0)
        if ((FLAG_IS("print-config") || FLAG_IS("help")) && value) {
            fail(err, errlen, "--%.*s: takes no value", (int)nl, name);
            goto fail;
        }
        if (FLAG_IS("print-config")) {
            print = true;
            continue;
        }
        int idx = -1, pt = pt_find(t, name, nl, true);
        bool is_config = FLAG_IS("config");
#undef FLAG_IS
        if (!is_config && pt < 0) {
            idx = find_flag(t, name, nl);
            if (idx < 0) {
                char got[NAME_MAX_LEN + 8], hint[NAME_MAX_LEN + 32] = "";
                snprintf(got, sizeof got, "%.*s", (int)nl, name);
                suggest(t, got, true, hint, sizeof hint);
                fail(err, errlen, "--%.*s: unknown flag%s", (int)nl, name, hint);
                goto fail;
            }
        }
        if (!value && idx >= 0 && t->settings[idx].type == CONFIG_BOOL) {
            bool b;
            if (i + 1 < argc && parse_bool(argv[i + 1], &b) == 0)
                value = argv[++i]; /* "--dev false" */
            else
                value = "true"; /* "--dev" */
        }
        if (!value) {
            if (i + 1 >= argc || is_flag_like(argv[i + 1])) {
                fail(err, errlen, "%s: missing value", a);
                goto fail;
            }
            value = argv[++i];
        }
        if (is_config)
            file = value;
        else
            acts[nacts++] = (struct flag_action){.idx = idx, .pt = pt, .value = value, .arg = a};
    }

    if (!(c = config_new(t))) {
        fail(err, errlen, "out of memory");
        goto fail;
    }
    if (!file) {
        char e[ENV_MAX_LEN];
        env_name(t, "config", e, sizeof e);
        file = getenv(e);
    }
    if (file && *file) {
        if (!(c->file = strdup(file))) {
            fail(err, errlen, "out of memory");
            goto fail;
        }
        if (load_file(c, file, err, errlen))
            goto fail;
    }
    if (load_env(c, err, errlen))
        goto fail;
    for (size_t i = 0; i < nacts; i++) {
        const struct flag_action *f = &acts[i];
        if (f->idx < 0) {
            if (apply_pt_flag(&c->pts[f->pt], f, err, errlen))
                goto fail;
            continue;
        }
        char why[512], fl[NAME_MAX_LEN + 8];
        if (value_set(c, (size_t)f->idx, f->value, SRC_FLAG, 0, why, sizeof why)) {
            flag_name(&t->settings[f->idx], fl, sizeof fl);
            fail(err, errlen, "%s: %s (flag --%s)", t->settings[f->idx].key, why, fl);
            goto fail;
        }
    }
    if (print) {
        config_print(c, stdout);
        fflush(stdout);
        rc = CONFIG_EXIT;
        goto fail;
    }
    *out = c;
    c = NULL;
    rc = CONFIG_OK;
fail:
    config_destroy(c);
    free(acts);
    return rc;
}

/* The index of key, or abort: asking for an undeclared key is a bug. */
static size_t lookup(const struct config *c, const char *key, const char *fn, bool (*ok)(int))
{
    if (!c || !key) {
        fprintf(stderr, "%s: NULL %s\n", fn, c ? "key" : "config");
        abort();
    }
    int i = find_key(c->t, key);
    if (i < 0) {
        fprintf(stderr, "%s(\"%s\"): no such setting in the table of \"%s\"\n", fn, key,
                c->t->component);
        abort();
    }
    if (!ok((int)c->t->settings[i].type)) {
        fprintf(stderr, "%s(\"%s\"): the setting is of type %s\n", fn, key,
                type_name(c->t->settings[i].type));
        abort();
    }
    return (size_t)i;
}

static bool is_string(int ty)
{
    return ty == CONFIG_STRING;
}
static bool is_int(int ty)
{
    return ty == CONFIG_INT || ty == CONFIG_BYTES || ty == CONFIG_DURATION;
}
static bool is_double(int ty)
{
    return ty == CONFIG_DOUBLE;
}
static bool is_bool(int ty)
{
    return ty == CONFIG_BOOL;
}

const char *config_str(const struct config *c, const char *key)
{
    return c->vals[lookup(c, key, "config_str", is_string)].text;
}

int64_t config_int(const struct config *c, const char *key)
{
    return c->vals[lookup(c, key, "config_int", is_int)].v.i;
}

double config_double(const struct config *c, const char *key)
{
    return c->vals[lookup(c, key, "config_double", is_double)].v.d;
}

bool config_bool(const struct config *c, const char *key)
{
    return c->vals[lookup(c, key, "config_bool", is_bool)].v.b;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
    int i = find_key(c->t, key);
    if (i < 0) {
        char hint[NAME_MAX_LEN + 32];
        suggest(c->t, key, false, hint, sizeof hint);
        return fail(err, errlen, "%s: unknown setting%s", key, hint);
    }
    char why[512];
    if (value_set(c, (size_t)i, value, SRC_RUNTIME, 0, why, sizeof why))
        return fail(err, errlen, "%s: %s", key, why);
    return CONFIG_OK;
}

/* The pairs of prefix, or abort: asking for an undeclared prefix is a bug. */
static struct pairs *pairs_of(const struct config *c, const char *prefix, const char *fn)
{
    int k = c && prefix ? pt_find(c->t, prefix, strlen(prefix), false) : -1;
    if (k < 0) {
        fprintf(stderr, "%s(\"%s\"): no such pass-through prefix in the table of \"%s\"\n", fn,
                prefix ? prefix : "NULL", c ? c->t->component : "NULL config");
        abort();
    }
    return &c->pts[k];
}

size_t config_pairs_count(const struct config *c, const char *prefix)
{
    return pairs_of(c, prefix, "config_pairs_count")->n;
}

void config_pairs_get(const struct config *c, const char *prefix, size_t i, const char **name,
                      const char **value)
{
    const struct pairs *ps = pairs_of(c, prefix, "config_pairs_get");
    if (i >= ps->n) {
        fprintf(stderr, "config_pairs_get(\"%s\"): index %zu out of %zu\n", prefix, i, ps->n);
        abort();
    }
    *name = ps->v[i].name;
    *value = ps->v[i].value;
}

int config_pairs_add(struct config *c, const char *prefix, const char *name, const char *value)
{
    struct pairs *ps = pairs_of(c, prefix, "config_pairs_add");
    if (!name || !*name || !value)
        return CONFIG_ERROR;
    if (pair_find(ps, name))
        return CONFIG_OK; /* the user's value stands */
    return pair_set(ps, name, value, SRC_DEFAULT) ? CONFIG_ERROR : CONFIG_OK;
}

/* The config_passthrough_* functions address the first prefix. */
size_t config_passthrough_count(const struct config *c)
{
    return c->npts ? c->pts[0].n : 0;
}

void config_passthrough_get(const struct config *c, size_t i, const char **name, const char **value)
{
    config_pairs_get(c, c->npts ? c->pts[0].prefix : NULL, i, name, value);
}

int config_passthrough_add(struct config *c, const char *name, const char *value)
{
    return c->npts ? config_pairs_add(c, c->pts[0].prefix, name, value) : CONFIG_ERROR;
}

/* ------------------------------------------------------------------------ */
/* --print-config and --help                                                 */

static bool yaml_special_word(const char *s)
{
    static const char *const words[] = {"~",   "null", "true", "false", "yes",  "no",    "on",
                                        "off", "y",    "n",    ".nan",  ".inf", "-.inf", "+.inf"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

/* True when s cannot be written as a plain YAML scalar that reads back as
 * the same text; as_string also quotes what a YAML reader would take for a
 * number or a boolean. */
static bool needs_quotes(const char *s, bool as_string)
{
    if (!*s)
        return true;
    if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]) || s[0] == ' ' || s[0] == '\t')
        return true;
    if (s[0] == '-' && (s[1] == '\0' || s[1] == ' '))
        return true;
    size_t n = strlen(s);
    if (s[n - 1] == ' ' || s[n - 1] == ':' || s[n - 1] == '\t')
        return true;
    if (strstr(s, ": ") || strstr(s, " #") || strstr(s, ":\t") || strstr(s, "\t#"))
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    if (as_string) {
        if (yaml_special_word(s))
            return true;
        char *end;
        (void)strtod(s, &end);
        if (!*end)
            return true; /* looks like a number */
    }
    return false;
}

static void print_scalar(FILE *out, const char *s, bool as_string)
{
    if (!needs_quotes(s, as_string)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static bool is_secret(const char *name)
{
    return strcasestr(name, "password") || strcasestr(name, "secret") || strcasestr(name, "key");
}

/* Entry i of the printed tree: settings, then the pass-through prefixes. */
static const char *entry_key(const struct config *c, size_t i)
{
    return i < c->t->n ? c->t->settings[i].key : c->pts[i - c->t->n].prefix;
}

static void print_pairs(const struct pairs *ps, FILE *out, int depth)
{
    if (!ps->n) {
        fputs(" {}\n", out);
        return;
    }
    fputc('\n', out);
    for (size_t i = 0; i < ps->n; i++) {
        fprintf(out, "%*s", 2 * depth, "");
        print_scalar(out, ps->v[i].name, true);
        fputs(": ", out);
        print_scalar(out, is_secret(ps->v[i].name) ? "<redacted>" : ps->v[i].value, true);
        fputc('\n', out);
    }
}

/* Prints the entries whose keys start with prefix (plen bytes), grouping
 * them by their next path component, in first-appearance order. */
static void print_level(const struct config *c, FILE *out, const char *prefix, size_t plen,
                        int depth)
{
    size_t n = c->t->n + c->npts;
    for (size_t i = 0; i < n; i++) {
        const char *key = entry_key(c, i);
        if (strncmp(key, prefix, plen) != 0)
            continue;
        const char *rest = key + plen;
        size_t cl = strcspn(rest, ".");
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *o = entry_key(c, j);
            seen = strncmp(o, prefix, plen) == 0 && strncmp(o + plen, rest, cl) == 0 &&
                   (o[plen + cl] == '.' || o[plen + cl] == '\0');
        }
        if (seen)
            continue;
        fprintf(out, "%*s%.*s:", 2 * depth, "", (int)cl, rest);
        if (rest[cl] == '.') { /* a section */
            fputc('\n', out);
            print_level(c, out, key, plen + cl + 1, depth + 1);
        } else if (i >= c->t->n) {
            print_pairs(&c->pts[i - c->t->n], out, depth + 1);
        } else {
            const struct config_setting *s = &c->t->settings[i];
            const struct value *v = &c->vals[i];
            fputc(' ', out);
            if (!v->text)
                fputs("~", out);
            else if (s->type == CONFIG_BOOL)
                fputs(v->v.b ? "true" : "false", out);
            else
                print_scalar(out, v->text, s->type == CONFIG_STRING);
            fputc('\n', out);
        }
    }
}

void config_print(const struct config *c, FILE *out)
{
    fprintf(out, "# effective configuration of %s (defaults < file < environment < flags)\n",
            c->t->component);
    if (c->file)
        fprintf(out, "# config file: %s\n", c->file);
    print_level(c, out, "", 0, 0);
}

static const char *metavar(enum config_type ty)
{
    switch (ty) {
    case CONFIG_INT: return "INT";
    case CONFIG_DOUBLE: return "NUMBER";
    case CONFIG_BOOL: return "[=BOOL]";
    case CONFIG_BYTES: return "SIZE";
    case CONFIG_DURATION: return "DURATION";
    default: return "VALUE";
    }
}

static void help_line(FILE *out, const char *left, const char *desc)
{
    enum { COL = 34 };
    size_t n = strlen(left);
    fprintf(out, "  %s", left);
    if (n + 2 < COL)
        fprintf(out, "%*s", (int)(COL - n), "");
    else
        fputs("  ", out);
    fprintf(out, "%s\n", desc);
}

void config_help(const struct config_table *t, FILE *out)
{
    table_check(t);
    char left[NAME_MAX_LEN + 32], desc[1024], e[ENV_MAX_LEN], f[NAME_MAX_LEN + 8];
    char p[NAME_MAX_LEN], pf[NAME_MAX_LEN], lo[64], hi[64];
    fprintf(out, "usage: %s\n\nSettings (flag, description, default, environment variable):\n",
            t->usage ? t->usage : t->component);
    for (size_t i = 0; i < t->n; i++) {
        const struct config_setting *s = &t->settings[i];
        flag_name(s, f, sizeof f);
        env_name(t, s->key, e, sizeof e);
        snprintf(left, sizeof left, "--%s%s%s", f, s->type == CONFIG_BOOL ? "" : " ",
                 metavar(s->type));
        char range[160] = "";
        if (!(s->min == 0 && s->max == 0)) {
            format_bound(s->type, s->min, lo, sizeof lo);
            format_bound(s->type, s->max, hi, sizeof hi);
            snprintf(range, sizeof range, ", range %s..%s", lo, hi);
        }
        snprintf(desc, sizeof desc, "%s (default: %s%s) [env: %s]", s->desc ? s->desc : "",
                 s->def ? (*s->def ? s->def : "\"\"") : "none", range, e);
        help_line(out, left, desc);
    }
    fputs("\nOther flags:\n", out);
    env_name(t, "config", e, sizeof e);
    snprintf(desc, sizeof desc, "read settings from a YAML file [env: %s]", e);
    help_line(out, "--config FILE", desc);
    for (size_t k = 0; pt_at(t, k, p, false) && pt_at(t, k, pf, true); k++) {
        snprintf(left, sizeof left, "--%s NAME=VALUE", pf);
        pt_env(t, p, e, sizeof e);
        snprintf(desc, sizeof desc,
                 "pass %s.NAME through unchanged; repeatable "
                 "[env: %s<NAME>, '.' written '_'] [file: %s: mapping]",
                 p, e, p);
        help_line(out, left, desc);
    }
    help_line(out, "--print-config", "print the effective configuration as YAML and exit");
    help_line(out, "-h, --help", "print this help and exit");
    fputs("\nPrecedence: defaults < config file < environment < flags. Flags take --name VALUE\n"
          "or --name=VALUE. Sizes: 4096, 64k, 512MiB, 1G (powers of 1024). Durations:\n"
          "250ms, 5s, 2m, 1h, 7d (a bare number is milliseconds). Booleans: true/false,\n"
          "yes/no, on/off, 1/0.\n",
          out);
}

void config_destroy(struct config *c)
{
    if (!c)
        return;
    if (c->vals)
        for (size_t i = 0; i < c->t->n; i++)
            free(c->vals[i].text);
    free(c->vals);
    for (size_t k = 0; k < c->npts; k++) {
        for (size_t i = 0; i < c->pts[k].n; i++) {
            free(c->pts[k].v[i].name);
            free(c->pts[k].v[i].value);
        }
        free(c->pts[k].v);
    }
    free(c->pts);
    free(c->file);
    free(c);
}
