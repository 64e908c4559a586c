/*
 * test_config.c — the settings table: defaults, YAML, environment, flags,
 * precedence, value syntax and bounds, pass-through, --help and
 * --print-config (including a print → load round trip), and the
 * programming-error aborts.
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

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

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
    return config_load(&table, argc, argv, c, err, errlen);
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
    int rc = config_load(&table, argc, argv, &c, err, sizeof err);
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
    int rc = config_load(&table, argc, argv, &c, err, sizeof err);
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
    load_fails("--config", write_file("listen: x\nkafka:\n  topik: t\n"), NULL, ":3:",
               "kafka.topik: unknown setting", "did you mean kafka.topic?", NULL);
    load_fails("--config", write_file("kafak:\n  topic: t\n"), NULL, ":1:",
               "kafak: unknown setting", NULL);
    load_fails("--config", write_file("kafka:\n  topic:\n    x: 1\n"), NULL, ":2:",
               "kafka.topic: expected a single value, got a mapping", NULL);
    load_fails("--config", write_file("listen: [a, b]\n"), NULL, ":1:",
               "listen: expected a single value, got a list", NULL);
    load_fails("--config", write_file("kafka: 5\n"), NULL, ":1:", "kafka: expected a mapping",
               NULL);
    load_fails("--config", write_file("kafka:\n  - topic\n"), NULL, ":1:",
               "kafka: expected a mapping, got a list", NULL);
    load_fails("--config", write_file("listen: a\nlisten: b\n"), NULL, ":2:",
               "listen: given twice (first on line 1)", NULL);
    load_fails("--config", write_file("kafka:\n  topic: a\nkafka.topic: b\n"), NULL,
               "kafka.topic: given twice", NULL);
    load_fails("--config", write_file("note: &a 1\nlisten: *a\n"), NULL, "listen: aliases", NULL);
    load_fails("--config", write_file("listen: a\n---\nlisten: b\n"), NULL,
               "only one YAML document", NULL);
    load_fails("--config", write_file("- a\n- b\n"), NULL, "top level must be a mapping", NULL);
    load_fails("--config", write_file("listen: a\n  bad: [\n"), NULL, "bad YAML", NULL);
    load_fails("--config", write_file("http:\n  threads: 0\n"), NULL, ":2:",
               "http.threads: \"0\" is below the minimum 1", NULL);
    load_fails("--config", write_file("http:\n  threads:\n"), NULL, ":2:",
               "http.threads: missing value", NULL);
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
    load_fails(NULL, "http.threads: \"65\" is above the maximum 64",
               "LLMTAP_TEST_HTTP_THREADS", NULL);
    unsetenv("LLMTAP_TEST_HTTP_THREADS");

    setenv("LLMTAP_TEST_KAFKA_TOPIK", "x", 1);
    load_fails(NULL, "LLMTAP_TEST_KAFKA_TOPIK: unknown setting", "did you mean kafka.topic?",
               NULL);
}

static void test_flags(void **state)
{
    (void)state;
    struct config *c = load_ok("--kafka-brokers", "b1:9092", "--http-threads=12", "--dev",
                               "--flush-timeout", "250ms", "--sample-rate", "0.5", "--offset",
                               "-7", "--tls-cert=", "--a-b-c", "x y", NULL);
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
        {"0", 0},       {"42", 42},          {"250ms", 250},     {"5s", 5000},
        {"2m", 120000}, {"1h", 3600000},     {"7d", 604800000},  {"10 s", 10000},
        {"5S", 5000},   {"1000000ms", 1000000},
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
    struct config *c = load_ok("--config", f, "--librdkafka", "acks=all",
                               "--librdkafka=bootstrap.servers=b:9092", "--librdkafka",
                               "ssl.key.password=a=b", NULL);
    assert_string_equal(pt_value(c, "queue.buffering.max.ms"), "5");
    assert_string_equal(pt_value(c, "sasl.password"), "hunter2");
    assert_string_equal(pt_value(c, "linger.ms"), "10");
    assert_string_equal(pt_value(c, "client.id"), "from-env");
    assert_string_equal(pt_value(c, "acks"), "all");                  /* flag > env > file */
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
    int rc = load_capture(out, sizeof out, &c, "--print-config", "--kafka-topic", "t1",
                          "--librdkafka", "sasl.password=hunter2", "--librdkafka",
                          "ssl.key.password=sesame", "--librdkafka", "sasl.username=bob",
                          "--librdkafka", "client.secret.x=s3", "--librdkafka",
                          "SSL_KEY_PEM=pem", NULL);
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
        "plain",      "a: b",  "# hash",  "x #y",  "yes",    "null", "~",     "123",
        "1.5e3",      "",      " lead",   "trail ", "say \"hi\"", "back\\slash", "two\nlines",
        "tab\there",  "-",     "- x",     "[list]", "{map}",  "*star", "&amp", "!bang",
        "%pct",       "@at",   "`tick`",  "'single'", "|pipe", ">gt",   "ends:", "ünïcødé",
        "c:\\dir",    "?",     "key: value # c",
    };
    const size_t nstr = sizeof strings / sizeof *strings;
    static char out[16384];
    for (size_t i = 0; i < nstr; i++) {
        struct config *c = NULL;
        int rc = load_capture(out, sizeof out, &c, "--print-config", "--listen", strings[i],
                              "--http-threads", "7", "--dev", "--spool-max-size", "64MiB",
                              "--flush-timeout", "3s", "--sample-rate", "0.125", "--offset",
                              "-3", "--librdkafka", "bootstrap.servers=x:1", "--librdkafka",
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

static void undeclared_key(void) { (void)config_str(quiet_load(), "no.such.key"); }
static void wrong_type_str(void) { (void)config_str(quiet_load(), "http.threads"); }
static void wrong_type_int(void) { (void)config_int(quiet_load(), "listen"); }
static void wrong_type_bool(void) { (void)config_bool(quiet_load(), "sample.rate"); }
static void wrong_type_double(void) { (void)config_double(quiet_load(), "dev"); }

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
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
