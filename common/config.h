/*
 * config.h — declared settings: YAML file → defaults table → environment →
 * command-line flags, in that order of increasing precedence.
 *
 * What it is for: every llmtap binary declares its settings once, in a table
 * of struct config_setting (type, default, bounds, description). The same
 * table drives YAML parsing (libyaml), validation, environment overrides,
 * flag parsing, `--help` and `--print-config`.
 *
 * Keys are dotted paths into the YAML document ("kafka.topic" is
 *   kafka:
 *     topic: x
 * ), or flat (`kafka.topic: x`). The environment variable of a key is
 * LLMTAP_<COMPONENT>_<KEY>, upper case, with '.' and '-' as '_'
 * (LLMTAP_AGENT_KAFKA_TOPIC); an empty variable counts as unset, and any
 * other LLMTAP_<COMPONENT>_* variable that names no setting is an error (a
 * typo must not pass silently). The flag of a key is `--<flag>` (the
 * setting's `flag`, or the key with '.' and '_' replaced by '-'; only that spelling).
 * Flags take `--name value` or `--name=value`; a CONFIG_BOOL flag given alone
 * means true (`--dev`, `--dev=false` and `--dev false` all work). Positional
 * arguments are errors. `--config ""` reads no file even if
 * LLMTAP_<COMPONENT>_CONFIG names one.
 *
 * Pass-through: the table may name pass-through prefixes, a comma-separated
 * list without spaces ("kafka,upstream"). For each prefix, e.g. "kafka",
 * every YAML key under the `kafka:` mapping (nested mappings joined with '.',
 * or flat dotted names like `bootstrap.servers: x`), every
 * LLMTAP_<COMPONENT>_KAFKA_<NAME> variable (NAME lower-cased, '_' read as
 * '.'), and every `--kafka NAME=VALUE` flag (repeatable) is collected
 * unchanged as a (name, value) pair of that prefix instead of being validated
 * (for librdkafka's own properties, which librdkafka checks, or named
 * upstreams: `upstream: {vllm: {url: U}}` gives the pair ("vllm.url", U) of
 * "upstream"). Same precedence: file < environment < flags. Each prefix has
 * its own pairs: a name given under one never appears under another. A '_'
 * in a prefix is written '-' in its flag, as for keys: the flag of
 * "redact_rule" is --redact-rule (its mapping `redact_rule:`).
 *
 * Errors are precise and name the key: "kafka.topic: unknown setting",
 * "http.threads: \"0\" is below the minimum 1 (flag --http-threads)",
 * "config.yaml:12: kafka.topik: unknown setting (did you mean kafka.topic?)".
 *
 * A programming error in the table (a bad or missing default, a duplicate
 * key, flag or environment name, a key that is also a section; a bad or
 * duplicate pass-through prefix, two prefixes whose environment names
 * overlap, a setting whose key, flag or environment name falls under a
 * prefix) aborts with a message in config_load and config_help. Thread
 * safety: a loaded config is read-only and may be read from any number of
 * threads; config_set, config_pairs_add and config_passthrough_add must not
 * run concurrently with anything else.
 */
#ifndef LLMTAP_CONFIG_H
#define LLMTAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_type {
    CONFIG_STRING,
    CONFIG_INT,      /* int64; bounds min/max */
    CONFIG_DOUBLE,   /* bounds min/max */
    CONFIG_BOOL,     /* true/false/yes/no/on/off/1/0, any case */
    CONFIG_BYTES,    /* int64 bytes: a whole number with an optional suffix B, K/KB/KiB, M/MB/MiB,
                        G/GB/GiB, T/TB/TiB (all powers of 1024, any case): "64k", "512MiB" */
    CONFIG_DURATION, /* int64 milliseconds: a whole number with an optional unit ms, s, m, h, d:
                        "250ms", "5s", "2m", "1h", "7d"; a bare number is ms */
};

struct config_setting {
    const char *key;  /* dotted path, e.g. "listen", "kafka.topic" */
    const char *flag; /* flag name without "--"; NULL = key with '.' and '_' -> '-' */
    enum config_type type;
    const char *def;  /* default, as text in the type's syntax; NULL = unset (strings only) */
    double min, max;  /* numeric bounds, inclusive; ignored when min == max == 0; in bytes
                         for BYTES and ms for DURATION */
    const char *desc; /* one line for --help */
};

/* The table must outlive every config loaded from it (make it static). */
struct config_table {
    const char *component; /* "agent", "collector": env prefix LLMTAP_AGENT_ */
    const char *usage;     /* first line of --help, e.g. "llmtap-agent [flags]" */
    const struct config_setting *settings;
    size_t n;
    const char *passthrough; /* prefixes, e.g. "kafka" or "kafka,upstream"; or NULL */
};

struct config;

enum {
    CONFIG_OK = 0,
    CONFIG_EXIT = 1,   /* --help or --print-config was handled (printed to stdout): exit 0 */
    CONFIG_ERROR = -1, /* err holds the message: print it and exit 2 */
};

/* Loads the configuration: defaults, then the YAML file named by `--config
 * FILE` (or LLMTAP_<COMPONENT>_CONFIG), then the environment, then flags.
 * argv[0] is skipped. Unknown flags, unknown keys, bad values and values out
 * of bounds are errors. On CONFIG_OK *out is set (free with config_destroy).
 * On CONFIG_EXIT help (`-h`/`--help`, handled as soon as it is seen) or the
 * effective configuration (`--print-config`, after everything is loaded)
 * was printed to stdout; on CONFIG_EXIT and CONFIG_ERROR *out is NULL.
 * err may be NULL; a message longer than errlen is truncated. */
int config_load(const struct config_table *t, int argc, char **argv, struct config **out, char *err,
                size_t errlen);

/* Accessors. The key must be declared in the table with a matching type
 * (a programming error otherwise: aborts with a message). config_str returns
 * NULL for an unset string; the string is owned by the config and valid
 * until config_destroy or a config_set of the same key. */
const char *config_str(const struct config *c, const char *key);
int64_t config_int(const struct config *c, const char *key); /* INT, BYTES, DURATION */
double config_double(const struct config *c, const char *key);
bool config_bool(const struct config *c, const char *key);

/* Overrides a value at run time (e.g. a dev-mode broker address). Validated
 * like a flag; value NULL unsets a string setting. Returns CONFIG_OK, or
 * CONFIG_ERROR with err set (an undeclared key, a bad value) and the old
 * value kept. Strings returned earlier by config_str for this key become
 * invalid. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Pass-through pairs of prefix (one of the table's, e.g. "upstream"; an
 * undeclared or NULL prefix is a programming error: aborts with a message).
 * Names are unique per prefix: a later value for a name (file < environment
 * < flags) replaces the earlier one and keeps its place, so the pairs can be
 * applied in any order. The strings are owned by the config and valid until
 * config_destroy. i must be below the count (aborts otherwise). */
size_t config_pairs_count(const struct config *c, const char *prefix);
void config_pairs_get(const struct config *c, const char *prefix, size_t i, const char **name,
                      const char **value);
/* Adds a program default for a name of prefix: it is appended only when the
 * user did not set that name, so user values always win. Returns CONFIG_OK
 * (also when the user's value was kept), or CONFIG_ERROR for a NULL/empty
 * name, a NULL value or no memory; aborts on an undeclared prefix. */
int config_pairs_add(struct config *c, const char *prefix, const char *name, const char *value);

/* The same for the FIRST prefix of the table ("kafka" in "kafka,upstream"),
 * so code written for a single prefix keeps working. With no prefix
 * declared, the count is 0, any get aborts and add returns CONFIG_ERROR. */
size_t config_passthrough_count(const struct config *c);
void config_passthrough_get(const struct config *c, size_t i, const char **name,
                            const char **value);
int config_passthrough_add(struct config *c, const char *name, const char *value);

/* Writes the effective configuration as YAML, nested by dotted key, with
 * each prefix's pairs under its own mapping; values of pass-through names
 * containing "password", "secret" or "key" (any case) are shown as
 * <redacted>. An unset string prints as ~. The output is itself a valid
 * config file giving the same values (apart from redacted ones). */
void config_print(const struct config *c, FILE *out);
/* Writes --help text generated from the table: the usage line, then one
 * line per setting (`--flag TYPE  description (default: X, range A..B)
 * [env: LLMTAP_...]`), one `--<prefix> NAME=VALUE` line per pass-through
 * prefix, the built-in flags and the value syntax. */
void config_help(const struct config_table *t, FILE *out);

/* Accepts NULL. */
void config_destroy(struct config *c);

#endif
