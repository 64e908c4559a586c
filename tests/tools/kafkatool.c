/*
 * kafkatool.c — llmtap-kafkatool, a test-only Kafka client (librdkafka) for
 * the integration tests, which need to write raw, even hostile, bytes to a
 * topic and read messages back with their headers.
 *
 *   llmtap-kafkatool create-topic --brokers B --topic T [--partitions N]
 *   llmtap-kafkatool produce --brokers B --topic T [--key K]
 *       stdin: one message per line, base64-encoded (so any bytes can be sent)
 *   llmtap-kafkatool consume --brokers B --topic T --count N [--timeout S]
 *       stdout: one JSON object per message:
 *       {"partition":P,"offset":O,"key":"…","value_b64":"…","headers":{"h":"v"}}
 *   llmtap-kafkatool mock [--brokers-count N] [--topic T --partitions P]...
 *       runs a librdkafka mock cluster (N brokers; each --topic is created
 *       with the --partitions given before it, replication min(N, 3)),
 *       prints "mock: HOST:PORT,…" and then obeys commands on stdin, one per
 *       line, answering "ok" or "error: …" (fault injection for tests):
 *         errors API COUNT ERR     the next COUNT requests of API (Produce,
 *                                  Fetch, OffsetCommit, OffsetFetch,
 *                                  Metadata, FindCoordinator, JoinGroup,
 *                                  Heartbeat, SyncGroup, InitProducerId, or a
 *                                  number) fail with ERR (a librdkafka error
 *                                  name without RD_KAFKA_RESP_ERR_, or a number)
 *         down ID | up ID          take broker ID down / bring it back
 *         rtt ID MS                add MS of round-trip time to broker ID
 *         leader TOPIC PART ID     move a partition's leader
 *         quit
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kafkautil.h"

static const char *opt(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return dflt;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static size_t b64dec(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64val((unsigned char)in[i]);
        if (d < 0)
            continue;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return o;
}

static void b64enc(struct buf *b, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        buf_append(b, q, 4);
    }
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *group)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof err);
    rd_kafka_conf_set_log_cb(c, kafkautil_log_cb);
    if (group) {
        rd_kafka_conf_set(c, "group.id", group, err, sizeof err);
        rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof err);
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    } else {
        rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafkatool: %s\n", err);
        exit(1);
    }
    return rk;
}

static int create_topic(const char *brokers, const char *topic, int partitions)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, brokers, NULL);
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = 1;
    if (ev) {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(tr[0]) : rd_kafka_event_error(ev);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = 0;
        else
            fprintf(stderr, "kafkatool: create %s: %s\n", topic, rd_kafka_err2str(e));
        rd_kafka_event_destroy(ev);
    } else {
        fprintf(stderr, "kafkatool: create %s: timed out\n", topic);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

static int failures;
static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o)
{
    if (m->err) {
        failures++;
        fprintf(stderr, "kafkatool: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
}

static int produce(const char *brokers, const char *topic, const char *key)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof err);
    rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set_log_cb(c, kafkautil_log_cb);
    rd_kafka_conf_set_dr_msg_cb(c, dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int sent = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        unsigned char *val = malloc((size_t)n + 1);
        size_t vlen = b64dec(line, (size_t)n, val);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, vlen),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (e) {
            fprintf(stderr, "kafkatool: produce: %s\n", rd_kafka_err2str(e));
            free(val);
            failures++;
        }
        sent++;
    }
    free(line);
    rd_kafka_flush(rk, 30000);
    if (rd_kafka_outq_len(rk) > 0)
        failures++;
    rd_kafka_destroy(rk);
    fprintf(stderr, "kafkatool: produced %d messages, %d failures\n", sent, failures);
    return failures ? 1 : 0;
}

static int consume(const char *brokers, const char *topic, long count, int timeout_s)
{
    char group[64];
    snprintf(group, sizeof group, "llmtap-kafkatool-%ld", (long)time(NULL) ^ (long)getpid());
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, brokers, group);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    long got = 0;
    time_t end = time(NULL) + timeout_s;
    struct buf b = {0};
    while (got < count && time(NULL) < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        buf_reset(&b);
        buf_printf(&b, "{\"partition\":%d,\"offset\":%lld,\"key\":", m->partition,
                   (long long)m->offset);
        char *key = strndup(m->key ? m->key : "", m->key_len);
        buf_json_str(&b, key);
        free(key);
        buf_puts(&b, ",\"value_b64\":\"");
        b64enc(&b, m->payload, m->len);
        buf_puts(&b, "\",\"headers\":{");
        rd_kafka_headers_t *h = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *name;
            const void *val;
            size_t vlen;
            for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &vlen) == 0; i++) {
                char *v = strndup(val ? val : "", vlen);
                buf_puts(&b, i ? "," : "");
                buf_json_str(&b, name);
                buf_puts(&b, ":");
                buf_json_str(&b, v);
                free(v);
            }
        }
        buf_puts(&b, "}}\n");
        fwrite(b.p, 1, b.len, stdout);
        got++;
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    buf_free(&b);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got >= count ? 0 : 1;
}

static int api_key(const char *s)
{
    static const struct {
        const char *name;
        int key;
    } apis[] = {
        {"Produce", 0},      {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
        {"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
        {"Heartbeat", 12},   {"LeaveGroup", 13}, {"SyncGroup", 14},       {"InitProducerId", 22},
    };
    for (size_t i = 0; i < sizeof apis / sizeof *apis; i++)
        if (strcasecmp(s, apis[i].name) == 0)
            return apis[i].key;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || end == s ? -1 : (int)v;
}

static int err_code(const char *s)
{
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].name && strcasecmp(d[i].name, s) == 0)
            return d[i].code;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || end == s ? -10000 : (int)v;
}

static int mock(int argc, char **argv)
{
    int nb = atoi(opt(argc, argv, "--brokers-count", "3"));
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafkatool mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nb);
    if (!mc) {
        fprintf(stderr, "kafkatool mock: cannot create the mock cluster\n");
        return 1;
    }
    int partitions = 3;
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--partitions") == 0)
            partitions = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--topic") == 0 &&
            rd_kafka_mock_topic_create(mc, argv[i + 1], partitions, nb < 3 ? nb : 3)) {
            fprintf(stderr, "kafkatool mock: cannot create topic %s\n", argv[i + 1]);
            return 1;
        }
    }
    printf("mock: %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        char a[128] = "", b[128] = "", c[128] = "", d[128] = "";
        int n = sscanf(line, "%127s %127s %127s %127s", a, b, c, d);
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (n >= 1 && strcmp(a, "quit") == 0)
            break;
        if (n == 4 && strcmp(a, "errors") == 0) {
            int key = api_key(b), cnt = atoi(c), code = err_code(d);
            if (key < 0 || cnt <= 0 || cnt > 1000 || code == -10000) {
                printf("error: bad errors command\n");
                fflush(stdout);
                continue;
            }
            rd_kafka_resp_err_t errs[1000];
            for (int k = 0; k < cnt; k++)
                errs[k] = (rd_kafka_resp_err_t)code;
            rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, (size_t)cnt, errs);
        } else if (n == 2 && strcmp(a, "down") == 0) {
            e = rd_kafka_mock_broker_set_down(mc, atoi(b));
        } else if (n == 2 && strcmp(a, "up") == 0) {
            e = rd_kafka_mock_broker_set_up(mc, atoi(b));
        } else if (n == 3 && strcmp(a, "rtt") == 0) {
            e = rd_kafka_mock_broker_set_rtt(mc, atoi(b), atoi(c));
        } else if (n == 4 && strcmp(a, "leader") == 0) {
            e = rd_kafka_mock_partition_set_leader(mc, b, atoi(c), atoi(d));
        } else {
            printf("error: unknown command\n");
            fflush(stdout);
            continue;
        }
        if (e)
            printf("error: %s\n", rd_kafka_err2str(e));
        else
            printf("ok\n");
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: llmtap-kafkatool create-topic|produce|consume --brokers B --topic T ...\n");
        return 2;
    }
    const char *brokers = opt(argc, argv, "--brokers", "127.0.0.1:9092");
    const char *topic = opt(argc, argv, "--topic", "llmtap.events");
    if (strcmp(argv[1], "mock") == 0)
        return mock(argc, argv);
    if (strcmp(argv[1], "create-topic") == 0)
        return create_topic(brokers, topic, atoi(opt(argc, argv, "--partitions", "3")));
    if (strcmp(argv[1], "produce") == 0)
        return produce(brokers, topic, opt(argc, argv, "--key", "test"));
    if (strcmp(argv[1], "consume") == 0)
        return consume(brokers, topic, atol(opt(argc, argv, "--count", "1")),
                       atoi(opt(argc, argv, "--timeout", "30")));
    fprintf(stderr, "kafkatool: unknown command %s\n", argv[1]);
    return 2;
}
