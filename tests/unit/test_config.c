/*
 * test_config.c — the settings table: defaults, YAML, environment, flags,
 * precedence, value syntax and bounds, pass-through (one prefix, and two
 * prefixes side by side), --help and --print-config (including a print →
 * load round trip), and the programming-error aborts.
 *
 * Every test starts from a clean environment (setup removes all
 * LLMTAP_TEST_* variables) and removes the files it wrote, so the tests are
 * independent of each other and of their order.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

extern char **environ;

static const struct config_setting settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:8080", 0, 0, "address to listen on"},
    {"kafka.brokers", "kafka-brokers", CONFIG_STRING, "localhost:9092", 0, 0, "Kafka brokers"},
    {"kafka.topic", NULL, CONFIG_STRING, "llmtap.events", 0, 0, "topic"},
    {"http.threads", NULL, CONFIG_INT, "4", 1, 64, "HTTP worker threads"},
    {"sample.rate", NULL, CONFIG_DOUBLE, "1.0", 0, 1, "fraction of requests kept"},
    {"dev", NULL, CONFIG_BOOL, "false", 0, 0, "development mode"},
    {"spool.max_size", NULL, CONFIG_BYTES, "1GiB", 1024, 1099511627776.0, "spool size cap"},
    {"kafka.flush_timeout", "flush-timeout", CONFIG_DURATION, "5s", 0, 0, "flush timeout"},
    {"tls.cert", NULL, CONFIG_STRING, NULL, 0, 0, "certificate file"},
    {"offset", NULL, CONFIG_INT, "0", -100, 100, "an offset"},
    {"big", NULL, CONFIG_INT, "0", 0, 0, "unbounded int"},
    {"a.b.c", NULL, CONFIG_STRING, "deep", 0, 0, "a deeply nested key"},
    {"a.b.d", NULL, CONFIG_BYTES, "0", 0, 0, "unbounded size"},
    {"note", NULL, CONFIG_STRING, "", 0, 0, "free text"},
};

static const struct config_table table = {
    .component = "test",
    .usage = "test [flags]",
    .settings = settings,
    .n = sizeof settings / sizeof *settings,
    .passthrough = "librdkafka",
};

/* A table with two pass-through prefixes; "kafkaesque" and "upstreams.max"
 * start with a prefix's text but are under neither. */
static const struct config_setting pt_settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:7311", 0, 0, "address to listen on"},
    {"kafkaesque", NULL, CONFIG_BOOL, "false", 0, 0, "not a pass-through name"},
    {"upstreams.max", NULL, CONFIG_INT, "4", 1, 16, "not a pass-through name either"},
};

static const struct config_table pt_table = {
    .component = "test_pt",
    .usage = "test-pt [flags]",
    .settings = pt_settings,
    .n = sizeof pt_settings / sizeof *pt_settings,
    .passthrough = "kafka,upstream",
};

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

static const struct config_table *g_table = &table; /* what the load helpers load */
static char g_files[32][64];
static int g_nfiles;

static void clean_env(void)
{
    for (;;) {
        char name[256] = "";
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "LLMTAP_TEST_", 12) == 0) {
                size_t n = strcspn(*e, "=");
                snprintf(name, sizeof name, "%.*s", (int)n, *e);
                break;
            }
        }
        if (!name[0])
            return;
        unsetenv(name);
    }
}

static int setup(void **state)
{
    (void)state;
    clean_env();
    g_nfiles = 0;
    g_table = &table;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < g_nfiles; i++)
        unlink(g_files[i]);
    g_nfiles = 0;
    clean_env();
    return 0;
}

/* Writes text to a new temporary .yaml file; returns its path. */
static const char *write_file(const char *text)
{
    assert_true(g_nfiles < 32);
    char *path = g_files[g_nfiles++];
    snprintf(path, 64, "/tmp/llmtap-test-config-XXXXXX.yaml");
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* config_load with argv = {"test", args..., NULL}. */
static int vload(struct config **c, char *err, size_t errlen, va_list ap)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "test";
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(argc < 63);
        argv[argc++] = (char *)a;
    }
    argv[argc] = NULL;
    return config_load(g_table, argc, argv, c, err, errlen);
}

/* Loads and expects success. */
static struct config *load_ok(const char *first, ...)
{
    struct config *c = NULL;
    char err[512] = "";
    char *argv[64];
    int argc = 0;
    argv[argc++] = "test";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 63);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    int rc = config_load(g_table, argc, argv, &c, err, sizeof err);
    if (rc != CONFIG_OK)
        print_error("config_load: %s\n", err);
    assert_int_equal(rc, CONFIG_OK);
    assert_non_null(c);
    return c;
}

/* Loads and expects CONFIG_ERROR with every given fragment in the message.
 * Arguments: argv words, NULL, then fragments, NULL. */
static void load_fails(const char *first, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "test";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    struct config *c = (struct config *)&argc; /* must be reset to NULL */
    char err[512] = "";
    int rc = config_load(g_table, argc, argv, &c, err, sizeof err);
    if (rc != CONFIG_ERROR)
        print_error("expected an error, got %d\n", rc);
    assert_int_equal(rc, CONFIG_ERROR);
    assert_null(c);
    for (const char *frag = va_arg(ap, const char *); frag; frag = va_arg(ap, const char *)) {
        if (!strstr(err, frag))
            print_error("error \"%s\" lacks \"%s\"\n", err, frag);
        assert_non_null(strstr(err, frag));
    }
    va_end(ap);
}

/* Expects config_set(key, value) to fail with fragment in the message. */
static void set_fails(struct config *c, const char *key, const char *value, const char *frag)
{
    char err[512] = "";
    int rc = config_set(c, key, value, err, sizeof err);
    if (rc != CONFIG_ERROR || !strstr(err, frag))
        print_error("config_set(%s, %s): rc %d, \"%s\", wanted \"%s\"\n", key,
                    value ? value : "NULL", rc, err, frag);
    assert_int_equal(rc, CONFIG_ERROR);
    assert_non_null(strstr(err, frag));
    assert_non_null(strstr(err, key));
}

static void set_ok(struct config *c, const char *key, const char *value)
{
    char err[512] = "";
    int rc = config_set(c, key, value, err, sizeof err);
    if (rc != CONFIG_OK)
        print_error("config_set(%s, %s): %s\n", key, value ? value : "NULL", err);
    assert_int_equal(rc, CONFIG_OK);
}

/* Runs config_load with stdout captured into buf. */
static int load_capture(char *buf, size_t cap, struct config **c, ...)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDOUT_FILENO);
    char err[512] = "";
    va_list ap;
    va_start(ap, c);
    int rc = vload(c, err, sizeof err, ap);
    va_end(ap);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    if (rc == CONFIG_ERROR)
        print_error("config_load: %s\n", err);
    return rc;
}

static const char *pt_value(const struct config *c, const char *name)
{
    for (size_t i = 0; i < config_passthrough_count(c); i++) {
        const char *n, *v;
        config_passthrough_get(c, i, &n, &v);
        if (strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

/* The value of name under prefix, or NULL. */
static const char *pair_value(const struct config *c, const char *prefix, const char *name)
{
    for (size_t i = 0; i < config_pairs_count(c, prefix); i++) {
        const char *n, *v;
        config_pairs_get(c, prefix, i, &n, &v);
        if (strcmp(n, name) == 0)
            return v;
    }
    return NULL;
}

/* Expects pair i of prefix to be name=value. */
static void pair_is(const struct config *c, const char *prefix, size_t i, const char *name,
                    const char *value)
{
    const char *n, *v;
    config_pairs_get(c, prefix, i, &n, &v);
    assert_string_equal(n, name);
    assert_string_equal(v, value);
}

/* ------------------------------------------------------------------------ */
/* layers                                                                    */

static void test_defaults(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    assert_string_equal(config_str(c, "listen"), "127.0.0.1:8080");
    assert_string_equal(config_str(c, "kafka.brokers"), "localhost:9092");
    assert_string_equal(config_str(c, "kafka.topic"), "llmtap.events");
    assert_int_equal(config_int(c, "http.threads"), 4);
    assert_true(config_double(c, "sample.rate") == 1.0);
    assert_false(config_bool(c, "dev"));
    assert_int_equal(config_int(c, "spool.max_size"), 1LL << 30);
    assert_int_equal(config_int(c, "kafka.flush_timeout"), 5000);
    assert_null(config_str(c, "tls.cert"));
    assert_string_equal(config_str(c, "note"), "");
    assert_int_equal(config_passthrough_count(c), 0);
    config_destroy(c);
    config_destroy(NULL);
}

static void test_yaml_nesting(void **state)
{
    (void)state;
    const char *f = write_file("# a comment\n"
                               "listen: \"0.0.0.0:9000\"\n"
                               "kafka:\n"
                               "  brokers: k1:9092,k2:9092\n"
                               "  topic: events\n"
                               "  flush_timeout: 2m\n"
                               "http:\n"
                               "  threads: 8\n"
                               "sample.rate: 0.25\n" /* flat dotted key */
                               "dev: yes\n"
                               "spool:\n"
                               "  max_size: 512MiB\n"
                               "tls:\n"
                               "  cert: /etc/llmtap/cert.pem\n"
                               "a:\n"
                               "  b:\n"
                               "    c: 'quoted # not a comment'\n"
                               "    d: 64k\n");
    struct config *c = load_ok("--config", f, NULL);
    assert_string_equal(config_str(c, "listen"), "0.0.0.0:9000");
    assert_string_equal(config_str(c, "kafka.brokers"), "k1:9092,k2:9092");
    assert_string_equal(config_str(c, "kafka.topic"), "events");
    assert_int_equal(config_int(c, "kafka.flush_timeout"), 120000);
    assert_int_equal(config_int(c, "http.threads"), 8);
    assert_true(config_double(c, "sample.rate") == 0.25);
    assert_true(config_bool(c, "dev"));
    assert_int_equal(config_int(c, "spool.max_size"), 512LL << 20);
    assert_string_equal(config_str(c, "tls.cert"), "/etc/llmtap/cert.pem");
    assert_string_equal(config_str(c, "a.b.c"), "quoted # not a comment");
    assert_int_equal(config_int(c, "a.b.d"), 65536);
    config_destroy(c);
}

static void test_yaml_nulls_and_empty(void **state)
{
    (void)state;
    /* An empty file, a null document, empty sections, and ~ unsetting a string. */
    struct config *c = load_ok("--config", write_file(""), NULL);
    config_destroy(c);
    c = load_ok("--config", write_file("---\n...\n"), NULL);
    config_destroy(c);
    c = load_ok("--config", write_file("~\n"), NULL);
    config_destroy(c);
    c = load_ok("--config", write_file("kafka:\nlisten: ~\nnote: \"\"\nlibrdkafka:\n"), NULL);
    assert_null(config_str(c, "listen"));
    assert_string_equal(config_str(c, "note"), "");
    assert_string_equal(config_str(c, "kafka.topic"), "llmtap.events");
    config_destroy(c);
    /* A quoted "null" is the text null. */
    c = load_ok("--config", write_file("listen: \"null\"\n"), NULL);
    assert_string_equal(config_str(c, "listen"), "null");
    config_destroy(c);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    load_fails("--config", write_file("listen: x\nkafka:\n  topik: t\n"), NULL,
               ":3:", "kafka.topik: unknown setting", "did you mean kafka.topic?", NULL);
    load_fails("--config", write_file("kafak:\n  topic: t\n"), NULL,
               ":1:", "kafak: unknown setting", NULL);
    load_fails("--config", write_file("kafka:\n  topic:\n    x: 1\n"), NULL,
               ":2:", "kafka.topic: expected a single value, got a mapping", NULL);
    load_fails("--config", write_file("listen: [a, b]\n"), NULL,
               ":1:", "listen: expected a single value, got a list", NULL);
    load_fails("--config", write_file("kafka: 5\n"), NULL, ":1:", "kafka: expected a mapping",
               NULL);
    load_fails("--config", write_file("kafka:\n  - topic\n"), NULL,
               ":1:", "kafka: expected a mapping, got a list", NULL);
    load_fails("--config", write_file("listen: a\nlisten: b\n"), NULL,
               ":2:", "listen: given twice (first on line 1)", NULL);
    load_fails("--config", write_file("kafka:\n  topic: a\nkafka.topic: b\n"), NULL,
               "kafka.topic: given twice", NULL);
    load_fails("--config", write_file("note: &a 1\nlisten: *a\n"), NULL, "listen: aliases", NULL);
    load_fails("--config", write_file("listen: a\n---\nlisten: b\n"), NULL,
               "only one YAML document", NULL);
    load_fails("--config", write_file("- a\n- b\n"), NULL, "top level must be a mapping", NULL);
    load_fails("--config", write_file("listen: a\n  bad: [\n"), NULL, "bad YAML", NULL);
    load_fails("--config", write_file("http:\n  threads: 0\n"), NULL,
               ":2:", "http.threads: \"0\" is below the minimum 1", NULL);
    load_fails("--config", write_file("http:\n  threads:\n"), NULL,
               ":2:", "http.threads: missing value", NULL);
    load_fails("--config", write_file("[a]: 1\n"), NULL, "keys must be non-empty text", NULL);
    load_fails("--config", "/nonexistent/llmtap.yaml", NULL, "/nonexistent/llmtap.yaml",
               strerror(ENOENT), NULL);
}

static void test_env_override(void **state)
{
    (void)state;
    setenv("LLMTAP_TEST_KAFKA_TOPIC", "from-env", 1);
    setenv("LLMTAP_TEST_HTTP_THREADS", "16", 1);
    setenv("LLMTAP_TEST_KAFKA_BROKERS", "envbroker:1", 1); /* by key, not by flag */
    setenv("LLMTAP_TEST_KAFKA_FLUSH_TIMEOUT", "1h", 1);
    setenv("LLMTAP_TEST_DEV", "on", 1);
    setenv("LLMTAP_TEST_LISTEN", "", 1); /* empty: ignored */
    struct config *c = load_ok(NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-env");
    assert_int_equal(config_int(c, "http.threads"), 16);
    assert_string_equal(config_str(c, "kafka.brokers"), "envbroker:1");
    assert_int_equal(config_int(c, "kafka.flush_timeout"), 3600000);
    assert_true(config_bool(c, "dev"));
    assert_string_equal(config_str(c, "listen"), "127.0.0.1:8080");
    config_destroy(c);

    setenv("LLMTAP_TEST_HTTP_THREADS", "65", 1);
    load_fails(NULL, "http.threads: \"65\" is above the maximum 64", "LLMTAP_TEST_HTTP_THREADS",
               NULL);
    unsetenv("LLMTAP_TEST_HTTP_THREADS");

    setenv("LLMTAP_TEST_KAFKA_TOPIK", "x", 1);
    load_fails(NULL, "LLMTAP_TEST_KAFKA_TOPIK: unknown setting", "did you mean kafka.topic?", NULL);
}

static void test_flags(void **state)
{
    (void)state;
    struct config *c = load_ok("--kafka-brokers", "b1:9092", "--http-threads=12", "--dev",
                               "--flush-timeout", "250ms", "--sample-rate", "0.5", "--offset", "-7",
                               "--tls-cert=", "--a-b-c", "x y", NULL);
    assert_string_equal(config_str(c, "kafka.brokers"), "b1:9092");
    assert_int_equal(config_int(c, "http.threads"), 12);
    assert_true(config_bool(c, "dev"));
    assert_int_equal(config_int(c, "kafka.flush_timeout"), 250);
    assert_true(config_double(c, "sample.rate") == 0.5);
    assert_int_equal(config_int(c, "offset"), -7);
    assert_string_equal(config_str(c, "tls.cert"), "");
    assert_string_equal(config_str(c, "a.b.c"), "x y");
    config_destroy(c);

    /* Bool forms; a later flag beats an earlier one. */
    c = load_ok("--dev", "--dev=false", NULL);
    assert_false(config_bool(c, "dev"));
    config_destroy(c);
    c = load_ok("--dev", "false", "--listen", "l", NULL);
    assert_false(config_bool(c, "dev"));
    assert_string_equal(config_str(c, "listen"), "l");
    config_destroy(c);
    c = load_ok("--dev", "--listen", "l", NULL);
    assert_true(config_bool(c, "dev"));
    config_destroy(c);
    c = load_ok("--listen", "a", "--listen", "b", NULL);
    assert_string_equal(config_str(c, "listen"), "b");
    config_destroy(c);
}

static void test_flag_errors(void **state)
{
    (void)state;
    load_fails("--listne", "x", NULL, "--listne: unknown flag", "did you mean --listen?", NULL);
    load_fails("--kafka-topik=x", NULL, "--kafka-topik: unknown flag", NULL);
    /* The flag of kafka.brokers is --kafka-brokers; the key is not a flag. */
    load_fails("--kafka.brokers", "x", NULL, "--kafka.brokers: unknown flag", NULL);
    load_fails("--listen", NULL, "--listen: missing value", NULL);
    load_fails("--listen", "--dev", NULL, "--listen: missing value", NULL);
    load_fails("--config", NULL, "--config: missing value", NULL);
    load_fails("stray", NULL, "stray: unexpected argument", NULL);
    load_fails("--dev", "stray", NULL, "stray: unexpected argument", NULL);
    load_fails("-x", NULL, "-x: unknown flag", NULL);
    load_fails("--", NULL, "--: unexpected argument", NULL);
    load_fails("--print-config=yes", NULL, "--print-config: takes no value", NULL);
    load_fails("--help=yes", NULL, "--help: takes no value", NULL);
    load_fails("--http-threads", "0", NULL, "http.threads: \"0\" is below the minimum 1",
               "--http-threads", NULL);
    load_fails("--dev=maybe", NULL, "dev: \"maybe\" is not a boolean", NULL);
    load_fails("--librdkafka", "acks", NULL, "--librdkafka: expected NAME=VALUE", NULL);
    load_fails("--librdkafka", "=x", NULL, "--librdkafka: expected NAME=VALUE", NULL);
}

static void test_precedence(void **state)
{
    (void)state;
    const char *f = write_file("kafka:\n  topic: from-file\n  brokers: file:1\nlisten: file\n");
    const char *f2 = write_file("kafka:\n  topic: from-file2\n");

    struct config *c = load_ok("--config", f, NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-file");
    config_destroy(c);

    setenv("LLMTAP_TEST_KAFKA_TOPIC", "from-env", 1);
    c = load_ok("--config", f, NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-env"); /* env > file */
    assert_string_equal(config_str(c, "kafka.brokers"), "file:1"); /* file > default */
    config_destroy(c);

    c = load_ok("--config", f, "--kafka-topic", "from-flag", NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-flag"); /* flag > env */
    assert_string_equal(config_str(c, "listen"), "file");
    config_destroy(c);

    /* The file named by the environment, and --config over it. */
    unsetenv("LLMTAP_TEST_KAFKA_TOPIC");
    setenv("LLMTAP_TEST_CONFIG", f, 1);
    c = load_ok(NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-file");
    config_destroy(c);
    c = load_ok("--config", f2, NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "from-file2");
    assert_string_equal(config_str(c, "listen"), "127.0.0.1:8080"); /* f was not read */
    config_destroy(c);
    /* An empty --config reads no file, even the one the environment names. */
    c = load_ok("--config=", NULL);
    assert_string_equal(config_str(c, "kafka.topic"), "llmtap.events");
    config_destroy(c);
}

/* ------------------------------------------------------------------------ */
/* value syntax                                                              */

static void test_int_syntax(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    set_ok(c, "big", "9223372036854775807");
    assert_true(config_int(c, "big") == INT64_MAX);
    set_ok(c, "big", "-9223372036854775808");
    assert_true(config_int(c, "big") == INT64_MIN);
    set_ok(c, "big", "+42");
    assert_int_equal(config_int(c, "big"), 42);
    set_fails(c, "big", "12x", "\"12x\" is not an integer");
    set_fails(c, "big", "1.5", "\"1.5\" is not an integer");
    set_fails(c, "big", "", "is not an integer");
    set_fails(c, "big", " 5", "is not an integer");
    set_fails(c, "big", "0x10", "is not an integer");
    set_fails(c, "big", "9223372036854775808", "out of range");
    set_fails(c, "big", NULL, "missing value");
    set_fails(c, "offset", "-101", "\"-101\" is below the minimum -100");
    set_fails(c, "offset", "101", "\"101\" is above the maximum 100");
    set_ok(c, "offset", "-100"); /* bounds are inclusive */
    set_ok(c, "offset", "100");
    assert_int_equal(config_int(c, "offset"), 100);
    assert_int_equal(config_int(c, "big"), 42); /* failed sets left the value alone */
    config_destroy(c);
}

static void test_double_syntax(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    set_ok(c, "sample.rate", "2.5e-1");
    assert_true(config_double(c, "sample.rate") == 0.25);
    set_ok(c, "sample.rate", "0");
    set_ok(c, "sample.rate", "1");
    set_fails(c, "sample.rate", "abc", "\"abc\" is not a number");
    set_fails(c, "sample.rate", "0.5x", "is not a number");
    set_fails(c, "sample.rate", "nan", "is not a finite number");
    set_fails(c, "sample.rate", "inf", "is not a finite number");
    set_fails(c, "sample.rate", "1e400", "is not a finite number");
    set_fails(c, "sample.rate", "1.5", "\"1.5\" is above the maximum 1");
    set_fails(c, "sample.rate", "-0.1", "is below the minimum 0");
    config_destroy(c);
}

static void test_bool_syntax(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    const char *yes[] = {"true", "TRUE", "yes", "on", "1", "Yes"};
    const char *no[] = {"false", "False", "no", "off", "0", "OFF"};
    for (size_t i = 0; i < 6; i++) {
        set_ok(c, "dev", yes[i]);
        assert_true(config_bool(c, "dev"));
        set_ok(c, "dev", no[i]);
        assert_false(config_bool(c, "dev"));
    }
    set_fails(c, "dev", "maybe", "\"maybe\" is not a boolean");
    set_fails(c, "dev", "", "is not a boolean");
    set_fails(c, "dev", "2", "is not a boolean");
    config_destroy(c);
}

static void test_bytes_syntax(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    static const struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"0", 0},
        {"100", 100},
        {"100b", 100},
        {"64k", 64LL << 10},
        {"64K", 64LL << 10},
        {"64KB", 64LL << 10},
        {"64KiB", 64LL << 10},
        {"512MiB", 512LL << 20},
        {"512m", 512LL << 20},
        {"1G", 1LL << 30},
        {"1gb", 1LL << 30},
        {"2 GiB", 2LL << 30},
        {"3T", 3LL << 40},
        {"8388607TiB", 8388607LL << 40},
        {"9223372036854775807", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        set_ok(c, "a.b.d", ok[i].text);
        assert_true(config_int(c, "a.b.d") == ok[i].want);
    }
    set_fails(c, "a.b.d", "12x", "\"12x\" is not a size");
    set_fails(c, "a.b.d", "-1", "is not a size");
    set_fails(c, "a.b.d", "1.5G", "is not a size");
    set_fails(c, "a.b.d", "G", "is not a size");
    set_fails(c, "a.b.d", "", "is not a size");
    set_fails(c, "a.b.d", "8388608T", "\"8388608T\" is too large");
    set_fails(c, "a.b.d", "99999999999999999999", "is too large");
    set_fails(c, "spool.max_size", "1023", "\"1023\" is below the minimum 1KiB");
    set_fails(c, "spool.max_size", "2T", "\"2T\" is above the maximum 1TiB");
    set_ok(c, "spool.max_size", "1T");
    config_destroy(c);
}

static void test_duration_syntax(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    static const struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"0", 0},        {"42", 42},        {"250ms", 250},  {"5s", 5000}, {"2m", 120000},
        {"1h", 3600000}, {"7d", 604800000}, {"10 s", 10000}, {"5S", 5000}, {"1000000ms", 1000000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        set_ok(c, "kafka.flush_timeout", ok[i].text);
        assert_true(config_int(c, "kafka.flush_timeout") == ok[i].want);
    }
    set_fails(c, "kafka.flush_timeout", "5y", "\"5y\" is not a duration");
    set_fails(c, "kafka.flush_timeout", "1.5s", "is not a duration");
    set_fails(c, "kafka.flush_timeout", "-1s", "is not a duration");
    set_fails(c, "kafka.flush_timeout", "s", "is not a duration");
    set_fails(c, "kafka.flush_timeout", "999999999999999999d", "is too large");
    config_destroy(c);
}

static void test_config_set(void **state)
{
    (void)state;
    struct config *c = load_ok(NULL);
    set_ok(c, "kafka.brokers", "dev:9092");
    assert_string_equal(config_str(c, "kafka.brokers"), "dev:9092");
    set_ok(c, "tls.cert", NULL);
    assert_null(config_str(c, "tls.cert"));
    set_fails(c, "kafka.topik", "x", "kafka.topik: unknown setting");
    config_destroy(c);
}

/* ------------------------------------------------------------------------ */
/* pass-through                                                              */

static void test_passthrough(void **state)
{
    (void)state;
    const char *f = write_file("librdkafka:\n"
                               "  bootstrap.servers: a:9092\n"
                               "  queue:\n"
                               "    buffering:\n"
                               "      max.ms: 5\n"
                               "  sasl:\n"
                               "    password: hunter2\n"
                               "  acks: 1\n"
                               "librdkafka.linger.ms: 10\n");
    setenv("LLMTAP_TEST_LIBRDKAFKA_CLIENT_ID", "from-env", 1);
    setenv("LLMTAP_TEST_LIBRDKAFKA_ACKS", "2", 1);
    struct config *c =
        load_ok("--config", f, "--librdkafka", "acks=all", "--librdkafka=bootstrap.servers=b:9092",
                "--librdkafka", "ssl.key.password=a=b", NULL);
    assert_string_equal(pt_value(c, "queue.buffering.max.ms"), "5");
    assert_string_equal(pt_value(c, "sasl.password"), "hunter2");
    assert_string_equal(pt_value(c, "linger.ms"), "10");
    assert_string_equal(pt_value(c, "client.id"), "from-env");
    assert_string_equal(pt_value(c, "acks"), "all");                 /* flag > env > file */
    assert_string_equal(pt_value(c, "bootstrap.servers"), "b:9092"); /* flag > file */
    assert_string_equal(pt_value(c, "ssl.key.password"), "a=b");     /* split at the first '=' */
    assert_int_equal(config_passthrough_count(c), 7);                /* names are unique */
    /* File order first: a replaced value keeps its place. */
    const char *n, *v;
    config_passthrough_get(c, 0, &n, &v);
    assert_string_equal(n, "bootstrap.servers");
    assert_string_equal(v, "b:9092");

    /* Program defaults never override a user's value. */
    assert_int_equal(config_passthrough_add(c, "acks", "0"), CONFIG_OK);
    assert_string_equal(pt_value(c, "acks"), "all");
    assert_int_equal(config_passthrough_add(c, "enable.idempotence", "true"), CONFIG_OK);
    assert_string_equal(pt_value(c, "enable.idempotence"), "true");
    assert_int_equal(config_passthrough_count(c), 8);
    config_destroy(c);

    unsetenv("LLMTAP_TEST_LIBRDKAFKA_CLIENT_ID");
    unsetenv("LLMTAP_TEST_LIBRDKAFKA_ACKS");
    load_fails("--config", write_file("librdkafka:\n  acks: [1]\n"), NULL,
               "librdkafka.acks: expected a single value, got a list", NULL);
    load_fails("--config", write_file("librdkafka: 5\n"), NULL, "librdkafka: expected a mapping",
               NULL);
    load_fails("--config", write_file("librdkafka:\n  acks:\n"), NULL,
               "librdkafka.acks: missing value", NULL);
    load_fails("--config", write_file("librdkafka:\n  acks: 1\nlibrdkafka.acks: 2\n"), NULL,
               "librdkafka.acks: given twice", NULL);
}

/* ------------------------------------------------------------------------ */
/* several pass-through prefixes                                             */

static void test_multi_yaml(void **state)
{
    (void)state;
    g_table = &pt_table;
    const char *f = write_file("kafka:\n"
                               "  bootstrap.servers: a:9092\n"
                               "  sasl:\n"
                               "    username: bob\n"
                               "  timeout: 5\n"
                               "upstream:\n"
                               "  openai: https://api.openai.com/v1\n"
                               "  vllm:\n"
                               "    url: http://gpu-box:8000/v1\n"
                               "    format: openai\n"
                               "  timeout: 120s\n"
                               "kafka.linger.ms: 10\n"
                               "upstream.anthropic.url: https://api.anthropic.com\n"
                               "kafkaesque: true\n"
                               "upstreams:\n"
                               "  max: 8\n");
    struct config *c = load_ok("--config", f, NULL);
    assert_int_equal(config_pairs_count(c, "kafka"), 4);
    pair_is(c, "kafka", 0, "bootstrap.servers", "a:9092");
    pair_is(c, "kafka", 1, "sasl.username", "bob");
    pair_is(c, "kafka", 2, "timeout", "5");
    pair_is(c, "kafka", 3, "linger.ms", "10");
    assert_int_equal(config_pairs_count(c, "upstream"), 5);
    pair_is(c, "upstream", 0, "openai", "https://api.openai.com/v1");
    pair_is(c, "upstream", 1, "vllm.url", "http://gpu-box:8000/v1");
    pair_is(c, "upstream", 2, "vllm.format", "openai");
    pair_is(c, "upstream", 3, "timeout", "120s"); /* the same name, its own value */
    pair_is(c, "upstream", 4, "anthropic.url", "https://api.anthropic.com");
    /* A name under one prefix is not under the other. */
    assert_null(pair_value(c, "kafka", "openai"));
    assert_null(pair_value(c, "kafka", "vllm.url"));
    assert_null(pair_value(c, "upstream", "bootstrap.servers"));
    assert_null(pair_value(c, "upstream", "linger.ms"));
    /* The config_passthrough_* functions are the first prefix's. */
    assert_int_equal(config_passthrough_count(c), 4);
    assert_string_equal(pt_value(c, "linger.ms"), "10");
    assert_null(pt_value(c, "openai"));
    /* Settings that only look like a prefix are settings. */
    assert_true(config_bool(c, "kafkaesque"));
    assert_int_equal(config_int(c, "upstreams.max"), 8);
    config_destroy(c);

    /* Empty mappings; no pairs at all. */
    c = load_ok("--config", write_file("kafka:\nupstream: {}\n"), NULL);
    assert_int_equal(config_pairs_count(c, "kafka"), 0);
    assert_int_equal(config_pairs_count(c, "upstream"), 0);
    config_destroy(c);

    /* The same name under both prefixes in one file is not "given twice". */
    c = load_ok("--config", write_file("kafka:\n  x: 1\nupstream:\n  x: 2\n"), NULL);
    assert_string_equal(pair_value(c, "kafka", "x"), "1");
    assert_string_equal(pair_value(c, "upstream", "x"), "2");
    config_destroy(c);

    /* Errors name the prefix the key was under. */
    load_fails("--config", write_file("upstream:\n  vllm: [a]\n"), NULL,
               ":2:", "upstream.vllm: expected a single value, got a list", NULL);
    load_fails("--config", write_file("upstream: 5\n"), NULL, "upstream: expected a mapping", NULL);
    load_fails("--config", write_file("upstream:\n  - openai\n"), NULL,
               "upstream: expected a mapping, got a list", NULL);
    load_fails("--config", write_file("upstream:\n  vllm:\n    url:\n"), NULL,
               ":3:", "upstream.vllm.url: missing value", NULL);
    load_fails("--config", write_file("upstream:\n  vllm:\n    url: a\nupstream.vllm.url: b\n"),
               NULL, ":4:", "upstream.vllm.url: given twice", NULL);
    load_fails("--config", write_file("kafka:\n  acks: 1\nkafka.acks: 2\n"), NULL,
               "kafka.acks: given twice", NULL);
    load_fails("--config", write_file("upstreams:\n  min: 1\n"), NULL,
               "upstreams.min: unknown setting", NULL);
}

static void test_multi_env(void **state)
{
    (void)state;
    g_table = &pt_table;
    setenv("LLMTAP_TEST_PT_UPSTREAM_VLLM_URL", "http://env:8000/v1", 1);
    setenv("LLMTAP_TEST_PT_UPSTREAM_OPENAI", "https://env.openai/v1", 1);
    setenv("LLMTAP_TEST_PT_UPSTREAM_EMPTY", "", 1); /* empty: ignored */
    setenv("LLMTAP_TEST_PT_KAFKA_CLIENT_ID", "from-env", 1);
    setenv("LLMTAP_TEST_PT_KAFKAESQUE", "yes", 1);
    struct config *c = load_ok(NULL);
    assert_int_equal(config_pairs_count(c, "upstream"), 2);
    assert_string_equal(pair_value(c, "upstream", "vllm.url"), "http://env:8000/v1");
    assert_string_equal(pair_value(c, "upstream", "openai"), "https://env.openai/v1");
    assert_int_equal(config_pairs_count(c, "kafka"), 1);
    assert_string_equal(pair_value(c, "kafka", "client.id"), "from-env");
    assert_null(pair_value(c, "kafka", "vllm.url"));
    assert_null(pair_value(c, "upstream", "client.id"));
    assert_true(config_bool(c, "kafkaesque"));
    config_destroy(c);

    /* The prefix alone, or a misspelt one, is an unknown setting. */
    setenv("LLMTAP_TEST_PT_UPSTREAM", "x", 1);
    load_fails(NULL, "LLMTAP_TEST_PT_UPSTREAM: unknown setting in the environment", NULL);
    unsetenv("LLMTAP_TEST_PT_UPSTREAM");
    setenv("LLMTAP_TEST_PT_UPSTREAMS_X", "x", 1);
    load_fails(NULL, "LLMTAP_TEST_PT_UPSTREAMS_X: unknown setting in the environment", NULL);
}

static void test_multi_flags_and_precedence(void **state)
{
    (void)state;
    g_table = &pt_table;
    const char *f = write_file("kafka:\n  acks: 1\n  linger.ms: 5\n"
                               "upstream:\n  openai: file-url\n  vllm:\n    url: file-vllm\n"
                               "    timeout: 30s\n  acks: up-file\n");
    setenv("LLMTAP_TEST_PT_KAFKA_ACKS", "2", 1);
    setenv("LLMTAP_TEST_PT_UPSTREAM_VLLM_URL", "env-vllm", 1);
    setenv("LLMTAP_TEST_PT_UPSTREAM_OPENAI", "env-url", 1);
    struct config *c = load_ok("--config", f, "--upstream", "openai=flag-url", "--kafka",
                               "acks=all", "--upstream=vllm.timeout=120s", "--upstream",
                               "local=http://127.0.0.1:1/v1?a=b", "--kafkaesque", NULL);
    /* kafka: flag > env > file; untouched names keep the file's value */
    assert_int_equal(config_pairs_count(c, "kafka"), 2);
    pair_is(c, "kafka", 0, "acks", "all");
    pair_is(c, "kafka", 1, "linger.ms", "5");
    /* upstream: the same rule, on its own pairs; replaced values keep their place */
    assert_int_equal(config_pairs_count(c, "upstream"), 5);
    pair_is(c, "upstream", 0, "openai", "flag-url");   /* flag > env > file */
    pair_is(c, "upstream", 1, "vllm.url", "env-vllm"); /* env > file */
    pair_is(c, "upstream", 2, "vllm.timeout", "120s"); /* flag > file */
    pair_is(c, "upstream", 3, "acks", "up-file");      /* kafka's acks did not touch it */
    pair_is(c, "upstream", 4, "local", "http://127.0.0.1:1/v1?a=b"); /* split at the first '=' */
    assert_true(config_bool(c, "kafkaesque"));

    /* Program defaults fill only names nobody set, under their own prefix. */
    assert_int_equal(config_pairs_add(c, "upstream", "openai", "default"), CONFIG_OK);
    assert_string_equal(pair_value(c, "upstream", "openai"), "flag-url");
    assert_int_equal(config_pairs_add(c, "upstream", "linger.ms", "7"), CONFIG_OK);
    assert_string_equal(pair_value(c, "upstream", "linger.ms"), "7");
    assert_string_equal(pair_value(c, "kafka", "linger.ms"), "5");
    assert_int_equal(config_passthrough_add(c, "enable.idempotence", "true"), CONFIG_OK);
    assert_string_equal(pair_value(c, "kafka", "enable.idempotence"), "true");
    assert_null(pair_value(c, "upstream", "enable.idempotence"));
    assert_int_equal(config_pairs_add(c, "kafka", "client.id", "x"), CONFIG_OK);
    assert_int_equal(config_pairs_count(c, "kafka"), 4);
    assert_int_equal(config_pairs_count(c, "upstream"), 6);
    assert_int_equal(config_pairs_add(c, "upstream", "", "x"), CONFIG_ERROR);
    assert_int_equal(config_pairs_add(c, "upstream", NULL, "x"), CONFIG_ERROR);
    assert_int_equal(config_pairs_add(c, "upstream", "y", NULL), CONFIG_ERROR);
    config_destroy(c);

    /* Flag errors name the flag that was used. */
    clean_env();
    load_fails("--upstream", "x", NULL, "--upstream: expected NAME=VALUE, got \"x\"", NULL);
    load_fails("--upstream=x", NULL, "--upstream: expected NAME=VALUE, got \"x\"", NULL);
    load_fails("--kafka", "=1", NULL, "--kafka: expected NAME=VALUE, got \"=1\"", NULL);
    load_fails("--kafka", "a=1", "--upstream", NULL, "--upstream: missing value", NULL);
    load_fails("--upstreams", "a=1", NULL, "--upstreams: unknown flag", NULL);
}

static void test_multi_no_prefix(void **state)
{
    (void)state;
    static const struct config_setting s[] = {{"n", NULL, CONFIG_INT, "1", 0, 0, "n"}};
    static const struct config_table t = {.component = "test_np", .settings = s, .n = 1};
    g_table = &t;
    struct config *c = load_ok(NULL);
    assert_int_equal(config_passthrough_count(c), 0);
    assert_int_equal(config_passthrough_add(c, "a", "b"), CONFIG_ERROR);
    config_destroy(c);
    load_fails("--kafka", "a=b", NULL, "--kafka: unknown flag", NULL);
    load_fails("--config", write_file("kafka:\n  a: b\n"), NULL, ":1:", "kafka: unknown setting",
               NULL);
}

/* A '_' in a prefix is written '-' in its flag, as in a key's flag. */
static void test_multi_flag_spelling(void **state)
{
    (void)state;
    static const struct config_setting s[] = {
        {"redact.prompt", NULL, CONFIG_STRING, "x", 0, 0, ""}};
    static const struct config_table t = {
        .component = "test_fs", .settings = s, .n = 1, .passthrough = "kafka,redact_rule"};
    g_table = &t;
    setenv("LLMTAP_TEST_FS_REDACT_RULE_TOKEN", "tok-[0-9]+", 1);
    struct config *c = load_ok("--config", write_file("redact_rule:\n  email: '[a-z]+@[a-z]+'\n"),
                               "--redact-rule", "ssn=[0-9]{3}-[0-9]{2}", NULL);
    assert_int_equal(config_pairs_count(c, "redact_rule"), 3);
    pair_is(c, "redact_rule", 0, "email", "[a-z]+@[a-z]+");
    pair_is(c, "redact_rule", 1, "token", "tok-[0-9]+");
    pair_is(c, "redact_rule", 2, "ssn", "[0-9]{3}-[0-9]{2}");
    assert_int_equal(config_pairs_count(c, "kafka"), 0);
    config_destroy(c);
    clean_env();
    load_fails("--redact_rule", "a=b", NULL, "--redact_rule: unknown flag", NULL);
    load_fails("--redact-rule", "ab", NULL, "--redact-rule: expected NAME=VALUE, got \"ab\"", NULL);
    load_fails("--redact-rule=ab", NULL, "--redact-rule: expected NAME=VALUE, got \"ab\"", NULL);
    static char out[16384];
    c = (struct config *)out;
    assert_int_equal(load_capture(out, sizeof out, &c, "--help", NULL), CONFIG_EXIT);
    assert_non_null(strstr(out, "--redact-rule NAME=VALUE"));
    assert_non_null(strstr(out, "[env: LLMTAP_TEST_FS_REDACT_RULE_<NAME>"));
    assert_non_null(strstr(out, "[file: redact_rule: mapping]"));
}

static void test_multi_help_and_print(void **state)
{
    (void)state;
    g_table = &pt_table;
    static char out[16384];
    struct config *c = (struct config *)out;
    assert_int_equal(load_capture(out, sizeof out, &c, "--help", NULL), CONFIG_EXIT);
    assert_non_null(strstr(out, "usage: test-pt [flags]"));
    assert_non_null(strstr(out, "--kafka NAME=VALUE"));
    assert_non_null(strstr(out, "[env: LLMTAP_TEST_PT_KAFKA_<NAME>"));
    assert_non_null(strstr(out, "[file: kafka: mapping]"));
    assert_non_null(strstr(out, "--upstream NAME=VALUE"));
    assert_non_null(strstr(out, "[env: LLMTAP_TEST_PT_UPSTREAM_<NAME>"));
    assert_non_null(strstr(out, "[file: upstream: mapping]"));
    assert_true(strstr(out, "--kafka NAME=VALUE") < strstr(out, "--upstream NAME=VALUE"));

    /* No pairs: two empty mappings. */
    assert_int_equal(load_capture(out, sizeof out, &c, "--print-config", NULL), CONFIG_EXIT);
    assert_non_null(strstr(out, "\nkafka: {}\nupstream: {}\n"));

    /* Secrets are redacted under every prefix. */
    assert_int_equal(load_capture(out, sizeof out, &c, "--print-config", "--upstream",
                                  "openai.api_key=sk-123", "--upstream", "vllm.url=http://v:1",
                                  "--kafka", "sasl.password=hunter2", NULL),
                     CONFIG_EXIT);
    assert_non_null(strstr(out, "\nkafka:\n  sasl.password: <redacted>\nupstream:\n"
                                "  openai.api_key: <redacted>\n  vllm.url: http://v:1\n"));
    assert_null(strstr(out, "sk-123"));
    assert_null(strstr(out, "hunter2"));

    /* Round trip: the printed YAML loads back to the same pairs, per prefix. */
    static const char *const up[][2] = {
        {"openai", "https://api.openai.com/v1"},
        {"vllm.url", "http://gpu-box:8000/v1"},
        {"vllm.format", "openai"},
        {"vllm.timeout", "120s"},
        {"odd", "yes"},
        {"odder", "a: b # c"},
        {"acks", "1"},
    };
    static const char *const kf[][2] = {{"acks", "all"}, {"linger.ms", "5"}, {"empty", ""}};
    char args[10][256];
    char *a[12];
    size_t na = 0;
    for (size_t i = 0; i < sizeof up / sizeof *up; i++) {
        snprintf(args[na], sizeof args[na], "%s=%s", up[i][0], up[i][1]);
        a[na] = args[na];
        na++;
    }
    for (size_t i = 0; i < sizeof kf / sizeof *kf; i++) {
        snprintf(args[na], sizeof args[na], "%s=%s", kf[i][0], kf[i][1]);
        a[na] = args[na];
        na++;
    }
    int rc = load_capture(out, sizeof out, &c, "--print-config", "--upstream", a[0], "--upstream",
                          a[1], "--upstream", a[2], "--upstream", a[3], "--kafka", a[7],
                          "--upstream", a[4], "--upstream", a[5], "--kafka", a[8], "--upstream",
                          a[6], "--kafka", a[9], "--kafkaesque", NULL);
    assert_int_equal(rc, CONFIG_EXIT);
    c = load_ok("--config", write_file(out), NULL);
    assert_int_equal(config_pairs_count(c, "upstream"), sizeof up / sizeof *up);
    for (size_t i = 0; i < sizeof up / sizeof *up; i++)
        pair_is(c, "upstream", i, up[i][0], up[i][1]);
    assert_int_equal(config_pairs_count(c, "kafka"), sizeof kf / sizeof *kf);
    for (size_t i = 0; i < sizeof kf / sizeof *kf; i++)
        pair_is(c, "kafka", i, kf[i][0], kf[i][1]);
    assert_true(config_bool(c, "kafkaesque"));
    config_destroy(c);
}

/* ------------------------------------------------------------------------ */
/* --help and --print-config                                                 */

static void test_help(void **state)
{
    (void)state;
    static char out[16384];
    struct config *c = (struct config *)out;
    assert_int_equal(load_capture(out, sizeof out, &c, "--help", NULL), CONFIG_EXIT);
    assert_null(c);
    assert_non_null(strstr(out, "usage: test [flags]"));
    assert_non_null(strstr(out, "--kafka-brokers VALUE"));
    assert_non_null(strstr(out, "Kafka brokers (default: localhost:9092) [env: "
                                "LLMTAP_TEST_KAFKA_BROKERS]"));
    assert_non_null(strstr(out, "--http-threads INT"));
    assert_non_null(strstr(out, "(default: 4, range 1..64)"));
    assert_non_null(strstr(out, "--dev[=BOOL]"));
    assert_non_null(strstr(out, "--spool-max-size SIZE"));
    assert_non_null(strstr(out, "range 1KiB..1TiB"));
    assert_non_null(strstr(out, "--flush-timeout DURATION"));
    assert_non_null(strstr(out, "(default: none)"));
    assert_non_null(strstr(out, "--librdkafka NAME=VALUE"));
    assert_non_null(strstr(out, "--config FILE"));
    assert_non_null(strstr(out, "--print-config"));
    /* -h works too, and wins over later bad flags */
    assert_int_equal(load_capture(out, sizeof out, &c, "-h", "--bogus", NULL), CONFIG_EXIT);
    assert_non_null(strstr(out, "usage: test [flags]"));
}

static void test_print_config(void **state)
{
    (void)state;
    static char out[16384];
    struct config *c = (struct config *)out;
    int rc =
        load_capture(out, sizeof out, &c, "--print-config", "--kafka-topic", "t1", "--librdkafka",
                     "sasl.password=hunter2", "--librdkafka", "ssl.key.password=sesame",
                     "--librdkafka", "sasl.username=bob", "--librdkafka", "client.secret.x=s3",
                     "--librdkafka", "SSL_KEY_PEM=pem", NULL);
    assert_int_equal(rc, CONFIG_EXIT);
    assert_null(c);
    assert_non_null(strstr(out, "kafka:\n  brokers: "));
    assert_non_null(strstr(out, "\n  topic: t1\n"));
    assert_non_null(strstr(out, "http:\n  threads: 4\n"));
    assert_non_null(strstr(out, "a:\n  b:\n    c: deep\n    d: 0\n"));
    assert_non_null(strstr(out, "tls:\n  cert: ~\n"));
    assert_non_null(strstr(out, "librdkafka:\n"));
    assert_non_null(strstr(out, "  sasl.username: bob\n"));
    assert_non_null(strstr(out, "  sasl.password: <redacted>\n"));
    assert_non_null(strstr(out, "  ssl.key.password: <redacted>\n"));
    assert_non_null(strstr(out, "  client.secret.x: <redacted>\n"));
    assert_non_null(strstr(out, "  SSL_KEY_PEM: <redacted>\n"));
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "sesame"));
    assert_null(strstr(out, "s3\n"));

    /* Without pass-through pairs, an empty mapping. */
    assert_int_equal(load_capture(out, sizeof out, &c, "--print-config", NULL), CONFIG_EXIT);
    assert_non_null(strstr(out, "librdkafka: {}\n"));
}

static void test_print_round_trip(void **state)
{
    (void)state;
    static const char *const strings[] = {
        "plain",      "a: b",      "# hash",  "x #y",    "yes",    "null",           "~",
        "123",        "1.5e3",     "",        " lead",   "trail ", "say \"hi\"",     "back\\slash",
        "two\nlines", "tab\there", "-",       "- x",     "[list]", "{map}",          "*star",
        "&amp",       "!bang",     "%pct",    "@at",     "`tick`", "'single'",       "|pipe",
        ">gt",        "ends:",     "ünïcødé", "c:\\dir", "?",      "key: value # c",
    };
    const size_t nstr = sizeof strings / sizeof *strings;
    static char out[16384];
    for (size_t i = 0; i < nstr; i++) {
        struct config *c = NULL;
        int rc = load_capture(out, sizeof out, &c, "--print-config", "--listen", strings[i],
                              "--http-threads", "7", "--dev", "--spool-max-size", "64MiB",
                              "--flush-timeout", "3s", "--sample-rate", "0.125", "--offset", "-3",
                              "--librdkafka", "bootstrap.servers=x:1", "--librdkafka",
                              strings[i][0] ? "client.id=placeholder" : "linger.ms=5", NULL);
        assert_int_equal(rc, CONFIG_EXIT);
        char path[64];
        snprintf(path, sizeof path, "%s", write_file(out));
        c = load_ok("--config", path, NULL);
        if (strcmp(config_str(c, "listen"), strings[i]) != 0)
            print_error("round trip of [%s] gave [%s]; printed:\n%s\n", strings[i],
                        config_str(c, "listen"), out);
        assert_string_equal(config_str(c, "listen"), strings[i]);
        assert_int_equal(config_int(c, "http.threads"), 7);
        assert_true(config_bool(c, "dev"));
        assert_int_equal(config_int(c, "spool.max_size"), 64LL << 20);
        assert_int_equal(config_int(c, "kafka.flush_timeout"), 3000);
        assert_true(config_double(c, "sample.rate") == 0.125);
        assert_int_equal(config_int(c, "offset"), -3);
        assert_null(config_str(c, "tls.cert"));
        assert_string_equal(config_str(c, "note"), "");
        assert_string_equal(config_str(c, "a.b.c"), "deep");
        assert_string_equal(pt_value(c, "bootstrap.servers"), "x:1");
        assert_int_equal(config_passthrough_count(c), 2);
        config_destroy(c);
        /* keep the file list short */
        unlink(g_files[--g_nfiles]);
    }
}

/* ------------------------------------------------------------------------ */
/* programming errors abort                                                  */

/* Runs fn in a child (stderr to /dev/null) and expects it to abort. */
static void expect_abort(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static struct config *quiet_load(void)
{
    struct config *c = NULL;
    char err[256];
    char *argv[] = {"test", NULL};
    if (config_load(&table, 1, argv, &c, err, sizeof err) != CONFIG_OK)
        _exit(3);
    return c;
}

static void undeclared_key(void)
{
    (void)config_str(quiet_load(), "no.such.key");
}
static void wrong_type_str(void)
{
    (void)config_str(quiet_load(), "http.threads");
}
static void wrong_type_int(void)
{
    (void)config_int(quiet_load(), "listen");
}
static void wrong_type_bool(void)
{
    (void)config_bool(quiet_load(), "sample.rate");
}
static void wrong_type_double(void)
{
    (void)config_double(quiet_load(), "dev");
}

static void load_table(const struct config_setting *s, size_t n, const char *pt)
{
    const struct config_table t = {.component = "bad", .settings = s, .n = n, .passthrough = pt};
    struct config *c = NULL;
    char err[256];
    char *argv[] = {"test", NULL};
    (void)config_load(&t, 1, argv, &c, err, sizeof err);
}

static void bad_default(void)
{
    static const struct config_setting s[] = {{"n", NULL, CONFIG_INT, "12x", 0, 0, ""}};
    load_table(s, 1, NULL);
}
static void default_out_of_bounds(void)
{
    static const struct config_setting s[] = {{"n", NULL, CONFIG_INT, "0", 1, 10, ""}};
    load_table(s, 1, NULL);
}
static void missing_default(void)
{
    static const struct config_setting s[] = {{"n", NULL, CONFIG_DURATION, NULL, 0, 0, ""}};
    load_table(s, 1, NULL);
}
static void duplicate_flag(void)
{
    static const struct config_setting s[] = {{"a.b", NULL, CONFIG_STRING, "", 0, 0, ""},
                                              {"c", "a-b", CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 2, NULL);
}
static void duplicate_env(void)
{
    static const struct config_setting s[] = {{"a.b", "x", CONFIG_STRING, "", 0, 0, ""},
                                              {"a_b", "y", CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 2, NULL);
}
static void key_and_section(void)
{
    static const struct config_setting s[] = {{"a", NULL, CONFIG_STRING, "", 0, 0, ""},
                                              {"a.b", NULL, CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 2, NULL);
}
static void under_passthrough(void)
{
    static const struct config_setting s[] = {
        {"librdkafka.acks", NULL, CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, "librdkafka");
}
static void reserved_flag(void)
{
    static const struct config_setting s[] = {{"config", NULL, CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, NULL);
}

/* Two prefixes: each one is checked like a single one. */
static const struct config_setting one_setting[] = {{"n", NULL, CONFIG_STRING, "", 0, 0, ""}};
static void pt_duplicate(void)
{
    load_table(one_setting, 1, "kafka,upstream,kafka");
}
static void pt_env_overlap(void)
{
    load_table(one_setting, 1, "kafka,kafka_x");
}
static void pt_env_overlap_spelling(void)
{
    load_table(one_setting, 1, "up-stream,up_stream");
}
static void pt_empty_item(void)
{
    load_table(one_setting, 1, "kafka,");
}
static void pt_empty_first(void)
{
    load_table(one_setting, 1, ",kafka");
}
static void pt_space(void)
{
    load_table(one_setting, 1, "kafka, upstream");
}
static void pt_dotted(void)
{
    load_table(one_setting, 1, "kafka,up.stream");
}
static void pt_reserved(void)
{
    load_table(one_setting, 1, "kafka,config");
}
static void pt_reserved_spelling(void)
{
    load_table(one_setting, 1, "kafka,print_config");
}
static void pt_too_long(void)
{
    static char pt[300];
    memset(pt, 'a', sizeof pt - 1);
    memcpy(pt, "kafka,", 6);
    load_table(one_setting, 1, pt);
}
static void under_second_prefix(void)
{
    static const struct config_setting s[] = {
        {"listen", NULL, CONFIG_STRING, "", 0, 0, ""},
        {"upstream.openai", NULL, CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 2, "kafka,upstream");
}
static void is_second_prefix(void)
{
    static const struct config_setting s[] = {{"upstream", NULL, CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, "kafka,upstream");
}
static void flag_is_second_prefix(void)
{
    static const struct config_setting s[] = {{"up", "upstream", CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, "kafka,upstream");
}
static void flag_is_second_prefix_spelling(void)
{
    static const struct config_setting s[] = {{"rr", "redact-rule", CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, "kafka,redact_rule");
}
static void env_under_second_prefix(void)
{
    static const struct config_setting s[] = {{"upstream_x", "ux", CONFIG_STRING, "", 0, 0, ""}};
    load_table(s, 1, "kafka,upstream");
}
static void help_checks_prefixes(void)
{
    const struct config_table t = {.component = "bad", .passthrough = "kafka,kafka"};
    FILE *null = fopen("/dev/null", "w");
    config_help(&t, null);
}
static struct config *pt_quiet_load(void)
{
    struct config *c = NULL;
    char err[256];
    char *argv[] = {"test", NULL};
    if (config_load(&pt_table, 1, argv, &c, err, sizeof err) != CONFIG_OK)
        _exit(3);
    return c;
}
static void pairs_undeclared_count(void)
{
    (void)config_pairs_count(pt_quiet_load(), "kafkas");
}
static void pairs_undeclared_add(void)
{
    (void)config_pairs_add(pt_quiet_load(), "k", "a", "b");
}
static void pairs_null_prefix(void)
{
    (void)config_pairs_count(pt_quiet_load(), NULL);
}
static void pairs_undeclared_get(void)
{
    const char *n, *v;
    config_pairs_get(pt_quiet_load(), "librdkafka", 0, &n, &v);
}
static void pairs_bad_index(void)
{
    struct config *c = pt_quiet_load();
    const char *n, *v;
    if (config_pairs_add(c, "upstream", "a", "b") != CONFIG_OK)
        _exit(4);
    config_pairs_get(c, "upstream", 0, &n, &v); /* fine */
    config_pairs_get(c, "upstream", 1, &n, &v); /* out of range */
}
static void passthrough_bad_index(void)
{
    struct config *c = pt_quiet_load();
    const char *n, *v;
    if (config_pairs_add(c, "upstream", "a", "b") != CONFIG_OK)
        _exit(4);
    config_passthrough_get(c, 0, &n, &v); /* kafka has none */
}

static void test_programming_errors_abort(void **state)
{
    (void)state;
    expect_abort(undeclared_key);
    expect_abort(wrong_type_str);
    expect_abort(wrong_type_int);
    expect_abort(wrong_type_bool);
    expect_abort(wrong_type_double);
    expect_abort(bad_default);
    expect_abort(default_out_of_bounds);
    expect_abort(missing_default);
    expect_abort(duplicate_flag);
    expect_abort(duplicate_env);
    expect_abort(key_and_section);
    expect_abort(under_passthrough);
    expect_abort(reserved_flag);
}

static void test_multi_programming_errors_abort(void **state)
{
    (void)state;
    expect_abort(pt_duplicate);
    expect_abort(pt_env_overlap);
    expect_abort(pt_env_overlap_spelling);
    expect_abort(pt_empty_item);
    expect_abort(pt_empty_first);
    expect_abort(pt_space);
    expect_abort(pt_dotted);
    expect_abort(pt_reserved);
    expect_abort(pt_reserved_spelling);
    expect_abort(pt_too_long);
    expect_abort(under_second_prefix);
    expect_abort(is_second_prefix);
    expect_abort(flag_is_second_prefix);
    expect_abort(flag_is_second_prefix_spelling);
    expect_abort(env_under_second_prefix);
    expect_abort(help_checks_prefixes);
    expect_abort(pairs_undeclared_count);
    expect_abort(pairs_undeclared_add);
    expect_abort(pairs_null_prefix);
    expect_abort(pairs_undeclared_get);
    expect_abort(pairs_bad_index);
    expect_abort(passthrough_bad_index);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_yaml_nesting),
        T(test_yaml_nulls_and_empty),
        T(test_yaml_errors),
        T(test_env_override),
        T(test_flags),
        T(test_flag_errors),
        T(test_precedence),
        T(test_int_syntax),
        T(test_double_syntax),
        T(test_bool_syntax),
        T(test_bytes_syntax),
        T(test_duration_syntax),
        T(test_config_set),
        T(test_passthrough),
        T(test_help),
        T(test_print_config),
        T(test_print_round_trip),
        T(test_programming_errors_abort),
        T(test_multi_yaml),
        T(test_multi_env),
        T(test_multi_flags_and_precedence),
        T(test_multi_no_prefix),
        T(test_multi_flag_spelling),
        T(test_multi_help_and_print),
        T(test_multi_programming_errors_abort),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
