/* Unit tests for agent/redact.c: every built-in type (positive and negative
 * cases), overlaps, custom rules, policies on whole events, counts, limits,
 * and a randomized check that the pre-pass gates never change what the
 * patterns find (seed printed; LLMTAP_TEST_SEED repeats a run).
 *
 * The module's source is included (not linked) to reach its pattern table
 * for the gate check. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "event.h"
#include "redact.c"

static struct redactor *R; /* all built-ins, default policies */

static int setup(void **state)
{
    struct redact_opts o = {0};
    char err[256];
    if (redact_create(&o, &R, err, sizeof err) != REDACT_OK) {
        fprintf(stderr, "redact_create: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    redact_destroy(R);
    return 0;
}

/* Redacts in with r; fails unless the result is want (NULL: unchanged). */
static void check_with(const struct redactor *r, const char *in, const char *want)
{
    char *out = NULL;
    size_t ol = 0;
    int n = redact_text(r, in, strlen(in), &out, &ol, NULL);
    if (n < 0)
        fail_msg("\"%s\": error %s", in, redact_strerror(n));
    if (!want && n != 0)
        fail_msg("\"%s\": want it unchanged, got \"%s\"", in, out);
    if (want && (n == 0 || strcmp(out, want) != 0))
        fail_msg("\"%s\":\n  want \"%s\"\n  got  \"%s\"", in, want, out ? out : "(unchanged)");
    if (out)
        assert_int_equal(ol, strlen(out));
    free(out);
}

static void check(const char *in, const char *want)
{
    check_with(R, in, want);
}

/* in must be redacted as a whole to [REDACTED:type]. */
static void whole(const char *in, const char *type)
{
    char want[64];
    snprintf(want, sizeof want, "[REDACTED:%s]", type);
    check(in, want);
}

/* ---- types ------------------------------------------------------------------- */

static void test_email(void **state)
{
    whole("john.doe@example.com", "EMAIL");
    whole("a+tag_1%x@sub.mail.example.co.uk", "EMAIL");
    check("Contact: jane@example.org.", "Contact: [REDACTED:EMAIL].");
    check("<jane@example.org>, (bob@x.io)", "<[REDACTED:EMAIL]>, ([REDACTED:EMAIL])");
    check("mailto:jane@example.org?subject=x", "mailto:[REDACTED:EMAIL]?subject=x");
    /* not addresses */
    check("user@localhost", NULL);
    check("follow @handle on x", NULL);
    check("a@b", NULL);
    check("x@y.c", NULL); /* one-letter TLD */
    check("@example.com", NULL);
    /* a local part longer than 64 bytes is not an address */
    char longlocal[128];
    memset(longlocal, 'a', 65);
    strcpy(longlocal + 65, "@example.com");
    check(longlocal, NULL);
}

static void test_phone(void **state)
{
    whole("+44 20 7946 0958", "PHONE");
    whole("+1 (415) 555-2671", "PHONE");
    whole("+14155552671", "PHONE");
    whole("+33 1 23 45 67 89", "PHONE");
    whole("+44 (0)20 7946 0958", "PHONE");
    whole("(415) 555-2671", "PHONE");
    whole("415-555-2671", "PHONE");
    whole("415.555.2671", "PHONE");
    whole("1-800-555-2671", "PHONE");
    check("phone: 4155552671", "phone: [REDACTED:PHONE]");
    check("Tel. 0201234567!", "Tel. [REDACTED:PHONE]!");
    check("Mobile number 07700900123", "Mobile number [REDACTED:PHONE]");
    check("call 415-555-2671, ext 12", "call [REDACTED:PHONE], ext 12");
    /* numbers that are not phones */
    check("on 2023-10-12 at 12:30:45", NULL);
    check("order 1234567890 shipped", NULL); /* bare digits, no label */
    check("pi is 3.14159265358979", NULL);
    check("+5 points, +12.5%", NULL);
    check("$1,234,567.89", NULL);
    check("release v10.2.3 and 4.5.6", NULL);
    check("123-456-7890", NULL);      /* area code cannot start with 1 */
    check("415-155-2671", NULL);      /* nor the exchange */
    check("415-555-267", NULL);       /* too short */
    check("415-555-2671-9", NULL);    /* part of a longer number */
    check("+1 23", NULL);             /* too few digits */
    check("x+12345678901", NULL);     /* '+' inside a word */
    check("+1234567890123456", NULL); /* 16 digits: beyond E.164 */
}

static void test_card(void **state)
{
    whole("4111111111111111", "CARD");
    whole("4111 1111 1111 1111", "CARD");
    whole("4111-1111-1111-1111", "CARD");
    whole("5555555555554444", "CARD");
    whole("378282246310005", "CARD");   /* Amex */
    whole("3782 822463 10005", "CARD"); /* Amex grouping */
    whole("6011 1111 1111 1117", "CARD");
    whole("4222222222222", "CARD"); /* 13 digits */
    check("card 4111 1111 1111 1111 exp 12/27", "card [REDACTED:CARD] exp 12/27");
    check("card:4111111111111111;", "card:[REDACTED:CARD];");
    /* Luhn-invalid */
    check("4111 1111 1111 1112", NULL);
    check("4111111111111112", NULL);
    check("5555555555554445", NULL);
    /* not card-shaped */
    check("4111 1111 1111 1111 1111", NULL); /* 20 digits */
    check("41111 11111 11111 1", NULL);      /* odd grouping */
    check("4111 1111-1111 1111", NULL);      /* mixed separators */
    check("1700000000000", NULL);            /* a millisecond timestamp (starts with 1) */
    check("0000 0000 0000 0000", NULL);
    check("94111111111111111", NULL); /* starts with 9 */
}

static void test_ssn(void **state)
{
    whole("123-45-6789", "SSN");
    whole("123 45 6789", "SSN");
    check("SSN: 123456789.", "SSN: [REDACTED:SSN].");
    check("social security number 078051120", "social security number [REDACTED:SSN]");
    check("my ssn is 123-45-6789!", "my ssn is [REDACTED:SSN]!");
    /* invalid ranges */
    check("999-12-3456", NULL);
    check("900-12-3456", NULL);
    check("000-12-3456", NULL);
    check("666-12-3456", NULL);
    check("123-00-4567", NULL);
    check("123-45-0000", NULL);
    check("SSN: 999123456", NULL);
    /* shapes */
    check("123456789", NULL);    /* nine digits without a label */
    check("123-45 6789", NULL);  /* mixed separators */
    check("1123-45-6789", NULL); /* longer */
    check("123-45-67890", NULL);
    check("12-123-45-6789", NULL);
}

static void test_iban(void **state)
{
    whole("DE89 3704 0044 0532 0130 00", "IBAN");
    whole("DE89370400440532013000", "IBAN");
    whole("GB82 WEST 1234 5698 7654 32", "IBAN");
    whole("FR14 2004 1010 0505 0001 3M02 606", "IBAN");
    whole("NO93 8601 1117 947", "IBAN"); /* shortest */
    whole("MT84 MALT 0110 0001 2345 MTLC AST0 01S", "IBAN");
    check("IBAN: DE89 3704 0044 0532 0130 00, thanks", "IBAN: [REDACTED:IBAN], thanks");
    /* wrong check digits, unknown country, wrong length, not IBAN-shaped */
    check("DE88 3704 0044 0532 0130 00", NULL);
    check("DE89 3704 0044 0532 0130 01", NULL);
    check("XX89 3704 0044 0532 0130 00", NULL);
    check("DE89 3704 0044 0532 0130", NULL);
    check("DE89 3704 0044 0532 0130 000", NULL);
    check("ISO 9001 2015 AB12 CDEF GHIJ", NULL);
    check("de89 3704 0044 0532 0130 00", NULL); /* lower case */
}

static void test_ipv4(void **state)
{
    whole("10.0.0.1", "IPV4");
    whole("255.255.255.255", "IPV4");
    check("server (192.168.1.254) is down.", "server ([REDACTED:IPV4]) is down.");
    check("ip=8.8.8.8,port=53", "ip=[REDACTED:IPV4],port=53");
    check("256.1.1.1", NULL);
    check("1.2.3.256", NULL);
    check("1.2.3.4.5", NULL); /* version strings */
    check("v1.2.3.4", NULL);
    check("10.0.0", NULL);
    check("01.02.03.04", NULL);
    check("a1.2.3.4", NULL);
}

static void test_aws(void **state)
{
    whole("AKIAIOSFODNN7EXAMPLE", "AWS_KEY");
    whole("ASIAIOSFODNN7EXAMPLE", "AWS_KEY");
    check("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "aws_secret_access_key = [REDACTED:AWS_KEY]");
    check("{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
          "{\"SecretAccessKey\": \"[REDACTED:AWS_KEY]\"}");
    check("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
          "AWS_SECRET_ACCESS_KEY=[REDACTED:AWS_KEY]\n");
    check("AKIAIOSFODNN7EXAMPL", NULL);                      /* short */
    check("XAKIAIOSFODNN7EXAMPLE", NULL);                    /* inside a word */
    check("AKIAIOSFODNN7EXAMPLE1", NULL);                    /* longer */
    check("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL); /* a secret needs its label */
    check("secret_key = short", NULL);
}

static void test_api_key(void **state)
{
    whole("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "API_KEY");
    whole("sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAA", "API_KEY");
    whole("sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9k", "API_KEY");
    whole("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "API_KEY");
    whole("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "API_KEY");
    whole("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123", "API_KEY");
    whole("glpat-abcdefghij1234567890", "API_KEY");
    whole("xoxb-1234567890-abcdefghij", "API_KEY");
    whole("AIzaSyA1234567890abcdefghijklmnopqrstuv", "API_KEY");
    whole("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "API_KEY");
    check("export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
          "export OPENAI_API_KEY=[REDACTED:API_KEY]");
    check("Authorization: Bearer abcdef1234567890abcdef1234",
          "Authorization: Bearer [REDACTED:API_KEY]");
    check("\"x-api-key\": \"abcd1234efgh5678ijkl\"", "\"x-api-key\": \"[REDACTED:API_KEY]\"");
    check("api_key=abc123def456ghi789", "api_key=[REDACTED:API_KEY]");
    check("access_token: 'ya29.a0AfH6SMBx1234567890abcdef'", "access_token: '[REDACTED:API_KEY]'");
    /* not keys */
    check("sk-learn-is-a-python-library-name", NULL); /* no digit or capital */
    check("task-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", NULL);
    check("sk-short1", NULL);
    check("the bearer of good news said hello1234567890abcdefghij", NULL);
    check("Bearer token", NULL);
    check("api_key: <your key here>", NULL);
    check("api_key = abcdefghijklmnopqrstuvwxyz", NULL); /* no digit */
    check("ghp_tooshort123", NULL);
}

static void test_jwt(void **state)
{
    const char *jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6"
                      "IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_"
                      "adQssw5c";
    whole(jwt, "JWT");
    char buf[512];
    snprintf(buf, sizeof buf, "token=%s; path=/", jwt);
    check(buf, "token=[REDACTED:JWT]; path=/");
    /* "Bearer <jwt>": the same span as the API_KEY bearer rule; JWT is listed first */
    snprintf(buf, sizeof buf, "Authorization: Bearer %s", jwt);
    check(buf, "Authorization: Bearer [REDACTED:JWT]");
    check("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", NULL); /* one segment */
    check("eyJhbGc.eyJzdWIi.abc", NULL);                 /* header too short */
    check("keyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIi.abc", NULL);
}

static void test_private_key(void **state)
{
    check("key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7V+abc/def=\n"
          "-----END RSA PRIVATE KEY-----\nthanks",
          "key:\n[REDACTED:PRIVATE_KEY]\nthanks");
    whole("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "PRIVATE_KEY");
    whole("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
          "-----END OPENSSH PRIVATE KEY-----",
          "PRIVATE_KEY");
    whole("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----",
          "PRIVATE_KEY");
    whole("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----",
          "PRIVATE_KEY");
    /* JSON-escaped newlines (a key pasted inside a JSON string) */
    whole("-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----",
          "PRIVATE_KEY");
    /* cut short (no END line): the armour and the base64 that follows go */
    check("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIEpAIBAAK\nCQEA7V+a/b=",
          "[REDACTED:PRIVATE_KEY]");
    /* public material is left alone */
    check("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----", NULL);
    check("-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+g\n-----END CERTIFICATE-----", NULL);
}

/* ---- combinations -------------------------------------------------------------- */

static void test_many_in_one(void **state)
{
    const char *in =
        "Hi, I'm jane.doe@example.com (phone +44 20 7946 0958). Card "
        "4111 1111 1111 1111, SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, "
        "from 10.1.2.3 with AKIAIOSFODNN7EXAMPLE and sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t. "
        "Also bob@example.org.";
    const char *want = "Hi, I'm [REDACTED:EMAIL] (phone [REDACTED:PHONE]). Card "
                       "[REDACTED:CARD], SSN [REDACTED:SSN], IBAN [REDACTED:IBAN], "
                       "from [REDACTED:IPV4] with [REDACTED:AWS_KEY] and [REDACTED:API_KEY]. "
                       "Also [REDACTED:EMAIL].";
    struct redact_counts c = {0};
    char *out;
    size_t ol;
    int n = redact_text(R, in, strlen(in), &out, &ol, &c);
    assert_int_equal(n, 9);
    assert_string_equal(out, want);
    assert_int_equal(c.total, 9);
    assert_int_equal(c.by_type[REDACT_EMAIL], 2);
    assert_int_equal(c.by_type[REDACT_PHONE], 1);
    assert_int_equal(c.by_type[REDACT_CARD], 1);
    assert_int_equal(c.by_type[REDACT_SSN], 1);
    assert_int_equal(c.by_type[REDACT_IBAN], 1);
    assert_int_equal(c.by_type[REDACT_IPV4], 1);
    assert_int_equal(c.by_type[REDACT_AWS_KEY], 1);
    assert_int_equal(c.by_type[REDACT_API_KEY], 1);
    assert_int_equal(c.by_type[REDACT_JWT], 0);
    free(out);
    /* counts add up across calls */
    n = redact_text(R, "a@example.com", 13, &out, &ol, &c);
    assert_int_equal(n, 1);
    free(out);
    assert_int_equal(c.total, 10);
    assert_int_equal(c.by_type[REDACT_EMAIL], 3);
}

static void test_unicode_and_punctuation(void **state)
{
    check("Grüße an jane@example.com—danke!", "Grüße an [REDACTED:EMAIL]—danke!");
    check("電話: +81 3 1234 5678。メール: 太郎@例え.jp / taro@example.jp",
          "電話: [REDACTED:PHONE]。メール: 太郎@例え.jp / [REDACTED:EMAIL]");
    check("«4111 1111 1111 1111»", "«[REDACTED:CARD]»");
    check("🙂10.0.0.1🙂", "🙂[REDACTED:IPV4]🙂");
    check("é123-45-6789é", "é[REDACTED:SSN]é");
    check("\"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\",", "\"[REDACTED:API_KEY]\",");
    /* JSON text (tool-call arguments): an escape before the item is a boundary */
    check("{\"note\":\"line\\njohn@example.com\\tsk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\"}",
          "{\"note\":\"line\\n[REDACTED:EMAIL]\\t[REDACTED:API_KEY]\"}");
    check("{\"t\":\"caf\\u00e9jane@example.com\"}", "{\"t\":\"caf\\u00e9[REDACTED:EMAIL]\"}");
}

static void test_overlaps(void **state)
{
    struct redact_rule rules[] = {
        {"CORP_MAIL", "[a-z]+@corp\\.example"}, /* the same span as EMAIL: custom wins */
        {"THREE", "\\b[0-9]{3}\\b"},            /* shorter than SSN at the same start */
        {"EARLY", "ref:[0-9]{3}"},              /* starts before an SSN and overlaps it */
    };
    struct redact_opts o = {.custom = rules, .n_custom = 3};
    struct redactor *r;
    char err[256];
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_OK);
    check_with(r, "bob@corp.example", "[REDACTED:CORP_MAIL]");
    check_with(r, "bob@corp.example.com", "[REDACTED:EMAIL]"); /* longer */
    check_with(r, "id 123-45-6789", "id [REDACTED:SSN]");
    check_with(r, "ref:123-45-6789", "[REDACTED:EARLY]-45-6789");
    check_with(r, "x 999 y", "x [REDACTED:THREE] y");
    assert_string_equal(redact_type_name(r, REDACT_BUILTIN_COUNT + 1), "THREE");
    assert_null(redact_type_name(r, REDACT_BUILTIN_COUNT + 3));
    redact_destroy(r);
}

/* ---- options --------------------------------------------------------------------- */

static void test_custom_rules(void **state)
{
    struct redact_rule ok[] = {
        {"EMPLOYEE_ID", "\\bEMP-[0-9]{6}\\b"},
        {"project", "(?i)project\\s+\\Kblue\\w*"}, /* \K keeps the label */
        {"MUELLER", "Müller"},
        {"employee.id-2", "E2-[0-9]+"}, /* as names come from the environment */
    };
    struct redact_opts o = {.custom = ok, .n_custom = 4};
    struct redactor *r;
    char err[256];
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_OK);
    check_with(r, "EMP-123456 and EMP-1234567", "[REDACTED:EMPLOYEE_ID] and EMP-1234567");
    check_with(r, "Project Bluebird is late", "Project [REDACTED:project] is late");
    check_with(r, "Frau Müller, a@example.com", "Frau [REDACTED:MUELLER], [REDACTED:EMAIL]");
    check_with(r, "id E2-77", "id [REDACTED:employee.id-2]");
    redact_destroy(r);

    struct {
        struct redact_rule rule;
        const char *msg;
    } bad[] = {
        {{"BROKEN", "EMP-([0-9]{6}"},
         "redact_rule.BROKEN: missing closing parenthesis at offset 13"},
        {{"BAD_REP", "a{2,1}"},
         "redact_rule.BAD_REP: numbers out of order in {} quantifier at "
         "offset 5"},
        {{"", "x"}, "redact_rule: rule name \"\" must be"},
        {{"has space", "x"}, "redact_rule: rule name \"has space\" must be"},
        {{"a/b", "x"}, "redact_rule: rule name \"a/b\" must be"},
        {{"email", "x"}, "redact_rule.email: the name of a built-in type"},
        {{"ERROR", "x"}, "redact_rule.ERROR: the name of a built-in type"},
        {{"EMPTY", ""}, "redact_rule.EMPTY: empty pattern"},
        {{"NULLRE", NULL}, "redact_rule.NULLRE: empty pattern"},
        {{"UTF", "\xff"}, "redact_rule.UTF: UTF-8 error"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = (struct redact_opts){.custom = &bad[i].rule, .n_custom = 1};
        r = (struct redactor *)1;
        int rc = redact_create(&o, &r, err, sizeof err);
        assert_int_equal(rc, REDACT_EINVAL);
        assert_null(r);
        if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
            fail_msg("rule %zu: got \"%s\", want \"%s…\"", i, err, bad[i].msg);
    }
    /* the same name twice (any case) */
    struct redact_rule twice[] = {{"DUP", "a"}, {"dup", "b"}};
    o = (struct redact_opts){.custom = twice, .n_custom = 2};
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_EINVAL);
    assert_string_equal(err, "redact_rule.dup: defined twice");
    /* too many */
    struct redact_rule many[REDACT_MAX_CUSTOM + 1];
    char names[REDACT_MAX_CUSTOM + 1][8];
    for (int i = 0; i <= REDACT_MAX_CUSTOM; i++) {
        snprintf(names[i], sizeof names[i], "R%d", i);
        many[i] = (struct redact_rule){names[i], "x"};
    }
    o = (struct redact_opts){.custom = many, .n_custom = REDACT_MAX_CUSTOM + 1};
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_EINVAL);
    o.n_custom = REDACT_MAX_CUSTOM;
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_OK);
    assert_string_equal(redact_type_name(r, REDACT_BUILTIN_COUNT + REDACT_MAX_CUSTOM - 1), "R63");
    redact_destroy(r);
    redact_destroy(NULL);
}

static void test_disable(void **state)
{
    struct redact_opts o = {.disable = " email , Phone,,IPV4 "};
    struct redactor *r;
    char err[256];
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_OK);
    check_with(r, "a@example.com +44 20 7946 0958 10.0.0.1 123-45-6789",
               "a@example.com +44 20 7946 0958 10.0.0.1 [REDACTED:SSN]");
    redact_destroy(r);
    o.disable = "EMAIL,EMAL";
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_EINVAL);
    assert_null(r);
    assert_string_equal(err, "redact.disable: unknown type \"EMAL\" (types: EMAIL, PHONE, CARD, "
                             "SSN, IBAN, IPV4, AWS_KEY, API_KEY, JWT, PRIVATE_KEY)");
    o.disable = "EMAIL,PHONE,CARD,SSN,IBAN,IPV4,AWS_KEY,API_KEY,JWT,PRIVATE_KEY";
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_OK);
    check_with(r, "a@example.com 4111111111111111", NULL);
    redact_destroy(r);
    o = (struct redact_opts){.prompt = (enum redact_policy)7};
    assert_int_equal(redact_create(&o, &r, err, sizeof err), REDACT_EINVAL);
    assert_int_equal(redact_create(&o, &r, NULL, 0), REDACT_EINVAL); /* err may be NULL */
}

static void test_policy_parse(void **state)
{
    enum redact_policy p = REDACT_POLICY_KEEP;
    assert_int_equal(redact_policy_parse("redact", &p), REDACT_OK);
    assert_int_equal(p, REDACT_POLICY_REDACT);
    assert_int_equal(redact_policy_parse("drop", &p), REDACT_OK);
    assert_int_equal(p, REDACT_POLICY_DROP);
    assert_int_equal(redact_policy_parse("keep", &p), REDACT_OK);
    assert_int_equal(p, REDACT_POLICY_KEEP);
    assert_int_equal(redact_policy_parse("Drop", &p), REDACT_EINVAL);
    assert_int_equal(redact_policy_parse("", &p), REDACT_EINVAL);
    assert_int_equal(redact_policy_parse(NULL, &p), REDACT_EINVAL);
    assert_int_equal(p, REDACT_POLICY_KEEP);
    assert_string_equal(redact_policy_name(REDACT_POLICY_DROP), "drop");
    assert_string_equal(redact_strerror(REDACT_EMATCH),
                        "a redaction pattern could not finish on this text");
    assert_string_equal(redact_type_name(NULL, REDACT_IPV4), "IPV4");
    assert_string_equal(redact_type_name(NULL, REDACT_TYPE_ERROR), "ERROR");
    assert_null(redact_type_name(NULL, REDACT_BUILTIN_COUNT));
    assert_null(redact_type_name(NULL, -1));
}

/* ---- edges ------------------------------------------------------------------------- */

static void test_empty_and_plain(void **state)
{
    char *out = (char *)1;
    size_t ol = 99;
    assert_int_equal(redact_text(R, "", 0, &out, &ol, NULL), 0);
    assert_null(out);
    assert_int_equal(ol, 0);
    check("just words, no secrets: 12 apples, 3.5 kg, 2024-01-01.", NULL);
    check("a", NULL);
    check("@", NULL);
    check("-----BEGIN", NULL);
    check("4", NULL);
}

/* Bytes that are not UTF-8 and NULs: built-ins still work, custom (UTF)
 * rules run on the valid pieces, everything else is kept byte for byte. */
static void test_invalid_utf8_and_nul(void **state)
{
    struct redact_rule rules[] = {{"WORD", "secret\\w*"}};
    struct redact_opts o = {.custom = rules, .n_custom = 1};
    struct redactor *r;
    assert_int_equal(redact_create(&o, &r, NULL, 0), REDACT_OK);
    const char in[] = "\xff secretsauce \xc3( a@example.com\0 secretx \xe2\x82";
    const char want[] = "\xff [REDACTED:WORD] \xc3( [REDACTED:EMAIL]\0 [REDACTED:WORD] \xe2\x82";
    char *out;
    size_t ol;
    int n = redact_text(r, in, sizeof in - 1, &out, &ol, NULL);
    assert_int_equal(n, 3);
    assert_int_equal(ol, sizeof want - 1);
    assert_memory_equal(out, want, ol);
    assert_int_equal(out[ol], 0);
    free(out);
    redact_destroy(r);
}

/* A custom pattern that cannot finish: REDACT_EMATCH, never the input. */
static void test_match_limit(void **state)
{
    struct redact_rule rules[] = {{"SLOW", "(*LIMIT_MATCH=1000)(a+)+$"}};
    struct redact_opts o = {.custom = rules, .n_custom = 1};
    struct redactor *r;
    assert_int_equal(redact_create(&o, &r, NULL, 0), REDACT_OK);
    char *out = (char *)1;
    const char *in = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
    assert_int_equal(redact_text(r, in, strlen(in), &out, NULL, NULL), REDACT_EMATCH);
    assert_null(out);
    /* in an event, the string is replaced as a whole and counted as ERROR */
    cJSON *ev = cJSON_Parse("{\"response\":{\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"},"
                            "\"context\":[{\"text\":\"a@example.com\"}]}");
    assert_int_equal(redact_event(r, ev), 2);
    char *s = cJSON_PrintUnformatted(ev);
    assert_string_equal(s, "{\"response\":{\"text\":\"[REDACTED:ERROR]\"},\"context\":[{\"text\":"
                           "\"[REDACTED:EMAIL]\"}],\"redactions\":2,\"redactions_by_type\":{"
                           "\"EMAIL\":1,\"ERROR\":1}}");
    free(s);
    cJSON_Delete(ev);
    redact_destroy(r);
}

/* 256 KiB of text: items at the start, the middle and the end are found;
 * a long run of digits and one of '@' stay cheap and are not redacted. */
static void test_large(void **state)
{
    size_t len = 256 * 1024;
    char *in = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        in[i] = "lorem ipsum dolor sit amet 12 34, "[i % 34];
    memcpy(in, "a@example.com ", 14);
    memcpy(in + len / 2, " 4111 1111 1111 1111 ", 21);
    memcpy(in + len - 12, " 10.0.0.1", 9);
    in[len - 3] = ' ';
    in[len] = 0;
    struct redact_counts c = {0};
    char *out;
    size_t ol;
    int n = redact_text(R, in, len, &out, &ol, &c);
    assert_int_equal(n, 3);
    assert_int_equal(c.by_type[REDACT_EMAIL], 1);
    assert_int_equal(c.by_type[REDACT_CARD], 1);
    assert_int_equal(c.by_type[REDACT_IPV4], 1);
    assert_int_equal(ol, strlen(out));
    assert_true(strncmp(out, "[REDACTED:EMAIL] ", 17) == 0);
    assert_non_null(strstr(out, " [REDACTED:CARD] "));
    assert_non_null(strstr(out, " [REDACTED:IPV4]"));
    free(out);

    memset(in, '7', len); /* one huge number */
    assert_int_equal(redact_text(R, in, len, &out, &ol, NULL), 0);
    memset(in, '@', len);
    assert_int_equal(redact_text(R, in, len, &out, &ol, NULL), 0);
    for (size_t i = 0; i < len; i++) /* "1 2 3 4 …": one cluster of 128K digits */
        in[i] = i % 2 ? ' ' : (char)('0' + i % 10);
    assert_int_equal(redact_text(R, in, len, &out, &ol, NULL), 0);
    free(in);
}

/* Inputs built to make a careless gate or pattern quadratic: 256 KiB of
 * one short piece repeated, alone and after an unterminated BEGIN line.
 * (The guard is CTest's time limit: each takes milliseconds.) */
static void test_adversarial(void **state)
{
    static const char *const reps[] = {
        "key=",  "api_key=a", "Bearer ", "-----BEGIN PRIVATE KEY-----.",
        "sk-a",  "@a",        "ghp_",    "eyJaaaaaaaaaaaaaaaaa.",
        "1 ",    "+1 ",       "phone ",  "DE89 ",
        "4111 ", "SSN 1",     "a.",      "-----END PRIVATE KEY-----",
        "\\n",   "x:",
    };
    size_t len = 256 * 1024;
    char *in = malloc(len + 1);
    for (size_t c = 0; c < sizeof reps / sizeof reps[0]; c++) {
        for (int pem = 0; pem < 2; pem++) {
            size_t k = strlen(reps[c]), i = 0;
            if (pem) {
                strcpy(in, "-----BEGIN PRIVATE KEY-----\n");
                i = strlen(in);
            }
            for (; i < len; i++)
                in[i] = reps[c][i % k];
            in[len] = 0;
            char *out;
            size_t ol;
            int n = redact_text(R, in, len, &out, &ol, NULL);
            if (n < 0)
                fail_msg("\"%s\" x %zu: %s", reps[c], len / k, redact_strerror(n));
            if (pem && (n < 1 || strncmp(out, "[REDACTED:PRIVATE_KEY]", 22) != 0))
                fail_msg("\"%s\" after BEGIN: the key was not redacted", reps[c]);
            free(out);
        }
    }
    free(in);
}

/* ---- events ------------------------------------------------------------------------ */

#define EVENT_JSON                                                                                 \
    "{\"schema\":\"llmtap.event/1\",\"id\":\"01JDQ6Z8V6M9T3K2W4X5Y6Z7A8\","                        \
    "\"time\":\"2026-11-23T10:15:02Z\",\"service\":\"bot\",\"provider\":\"openai\","               \
    "\"operation\":\"chat\",\"request_model\":\"gpt-4o\",\"latency_ms\":1,"                        \
    "\"user\":\"u1@example.com\","                                                                 \
    "\"request\":{\"messages\":["                                                                  \
    "{\"role\":\"system\",\"content\":\"You help a@example.com\"},"                                \
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"card 4111111111111111\"},"      \
    "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/10.0.0.1.png\"}}]},"               \
    "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"name\":\"f\","      \
    "\"arguments\":\"{\\\"to\\\":\\\"b@example.com\\\"}\"},"                                       \
    "{\"id\":\"c2\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"ip\\\":\\\"10.0.0.2\\\"}\"}" \
    "}]}],"                                                                                        \
    "\"input\":[\"c@example.com\",\"plain\"],\"params\":{\"temperature\":0.2}},"                   \
    "\"context\":[{\"id\":\"kb-1\",\"text\":\"SSN 123-45-6789\"},{\"id\":\"kb-2\"}],"              \
    "\"response\":{\"text\":\"Call +44 20 7946 0958\",\"finish_reason\":\"stop\","                 \
    "\"tool_calls\":[{\"id\":\"t1\",\"name\":\"h\",\"arguments\":\"{\\\"k\\\":"                    \
    "\\\"AKIAIOSFODNN7EXAMPLE\\\"}\"}]},"                                                          \
    "\"error\":{\"type\":\"x\",\"message\":\"bad key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\"},"         \
    "\"redactions\":2,\"redactions_by_type\":{\"EMAIL\":1,\"NAME\":1}}"

static cJSON *event(void)
{
    cJSON *ev = cJSON_Parse(EVENT_JSON);
    assert_non_null(ev);
    return ev;
}

static const char *str_at(cJSON *ev, const char *path)
{
    /* dotted path; [n] is an array index */
    cJSON *cur = ev;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
        char *br = strchr(tok, '[');
        int idx = -1;
        if (br) {
            idx = atoi(br + 1);
            *br = 0;
        }
        if (*tok)
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (cur && idx >= 0)
            cur = cJSON_GetArrayItem(cur, idx);
    }
    if (cJSON_IsString(cur))
        return cur->valuestring;
    return cur ? "(not a string)" : "(absent)";
}

static double num_at(cJSON *ev, const char *a, const char *b)
{
    cJSON *x = cJSON_GetObjectItemCaseSensitive(ev, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

static struct redactor *with_policies(enum redact_policy p, enum redact_policy c,
                                      enum redact_policy rs)
{
    struct redact_opts o = {.prompt = p, .context = c, .response = rs};
    struct redactor *r;
    assert_int_equal(redact_create(&o, &r, NULL, 0), REDACT_OK);
    return r;
}

static void assert_valid(cJSON *ev)
{
    char *s = cJSON_PrintUnformatted(ev);
    struct event_error err = {0};
    cJSON *back = event_parse_json(s, strlen(s), NULL, 0, &err);
    if (!back)
        fail_msg("redacted event does not parse: %s", err.msg);
    if (event_validate(back, &err) != EVENT_OK)
        fail_msg("redacted event is invalid: %s", err.msg);
    cJSON_Delete(back);
    free(s);
}

static void test_event_redact(void **state)
{
    cJSON *ev = event();
    assert_int_equal(redact_event(R, ev), 10);
    assert_string_equal(str_at(ev, "request.messages[0].content"), "You help [REDACTED:EMAIL]");
    assert_string_equal(str_at(ev, "request.messages[1].content[0].text"), "card [REDACTED:CARD]");
    assert_string_equal(str_at(ev, "request.messages[1].content[1].image_url.url"),
                        "https://x/[REDACTED:IPV4].png");
    assert_string_equal(str_at(ev, "request.messages[1].content[0].type"), "text");
    assert_string_equal(str_at(ev, "request.messages[2].tool_calls[0].arguments"),
                        "{\"to\":\"[REDACTED:EMAIL]\"}");
    assert_string_equal(str_at(ev, "request.messages[2].tool_calls[1].function.arguments"),
                        "{\"ip\":\"[REDACTED:IPV4]\"}");
    assert_string_equal(str_at(ev, "request.input[0]"), "[REDACTED:EMAIL]");
    assert_string_equal(str_at(ev, "request.input[1]"), "plain");
    assert_string_equal(str_at(ev, "context[0].text"), "SSN [REDACTED:SSN]");
    assert_string_equal(str_at(ev, "response.text"), "Call [REDACTED:PHONE]");
    assert_string_equal(str_at(ev, "response.tool_calls[0].arguments"),
                        "{\"k\":\"[REDACTED:AWS_KEY]\"}");
    assert_string_equal(str_at(ev, "error.message"), "bad key [REDACTED:API_KEY]");
    /* identifiers and other fields are not text: left alone */
    assert_string_equal(str_at(ev, "user"), "u1@example.com");
    assert_string_equal(str_at(ev, "request.messages[1].role"), "user");
    /* counts: added to what the event carried */
    assert_true(num_at(ev, "redactions", NULL) == 12);
    assert_true(num_at(ev, "redactions_by_type", "EMAIL") == 4);
    assert_true(num_at(ev, "redactions_by_type", "NAME") == 1);
    assert_true(num_at(ev, "redactions_by_type", "IPV4") == 2);
    assert_true(num_at(ev, "redactions_by_type", "CARD") == 1);
    assert_true(num_at(ev, "redactions_by_type", "SSN") == 1);
    assert_true(num_at(ev, "redactions_by_type", "PHONE") == 1);
    assert_true(num_at(ev, "redactions_by_type", "AWS_KEY") == 1);
    assert_true(num_at(ev, "redactions_by_type", "API_KEY") == 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev, "redactions_by_type"), "JWT"));
    assert_valid(ev);
    /* a second pass finds nothing new */
    assert_int_equal(redact_event(R, ev), 0);
    assert_true(num_at(ev, "redactions", NULL) == 12);
    cJSON_Delete(ev);
}

static void test_event_keep_and_drop(void **state)
{
    /* keep everything: text untouched, counts still written */
    struct redactor *r = with_policies(REDACT_POLICY_KEEP, REDACT_POLICY_KEEP, REDACT_POLICY_KEEP);
    cJSON *ev = event();
    char *before = cJSON_PrintUnformatted(ev);
    assert_int_equal(redact_event(r, ev), 0);
    cJSON_DeleteItemFromObject(ev, "redactions");
    cJSON_DeleteItemFromObject(ev, "redactions_by_type");
    cJSON *orig = cJSON_Parse(before);
    cJSON_DeleteItemFromObject(orig, "redactions");
    cJSON_DeleteItemFromObject(orig, "redactions_by_type");
    assert_true(cJSON_Compare(ev, orig, 1));
    cJSON_Delete(orig);
    free(before);
    cJSON_Delete(ev);
    redact_destroy(r);

    /* drop the prompt, keep the context, redact the response */
    r = with_policies(REDACT_POLICY_DROP, REDACT_POLICY_KEEP, REDACT_POLICY_REDACT);
    ev = event();
    assert_int_equal(redact_event(r, ev), 3);
    assert_string_equal(str_at(ev, "request.messages[0].content"), "[DROPPED]");
    assert_string_equal(str_at(ev, "request.messages[1].content"), "[DROPPED]");
    assert_string_equal(str_at(ev, "request.messages[1].role"), "user");
    assert_string_equal(str_at(ev, "request.messages[2].content"), ""); /* nothing to drop */
    assert_string_equal(str_at(ev, "request.messages[2].tool_calls[0].arguments"), "[DROPPED]");
    assert_string_equal(str_at(ev, "request.messages[2].tool_calls[0].name"), "f");
    assert_string_equal(str_at(ev, "request.messages[2].tool_calls[1].function.arguments"),
                        "[DROPPED]");
    assert_string_equal(str_at(ev, "request.input"), "[DROPPED]");
    assert_string_equal(str_at(ev, "context[0].text"), "SSN 123-45-6789");
    assert_string_equal(str_at(ev, "response.text"), "Call [REDACTED:PHONE]");
    assert_true(num_at(ev, "redactions", NULL) == 5);
    assert_valid(ev);
    cJSON_Delete(ev);
    redact_destroy(r);

    /* drop the context and the response */
    r = with_policies(REDACT_POLICY_REDACT, REDACT_POLICY_DROP, REDACT_POLICY_DROP);
    ev = event();
    assert_int_equal(redact_event(r, ev), 6);
    assert_string_equal(str_at(ev, "context[0].text"), "[DROPPED]");
    assert_string_equal(str_at(ev, "context[0].id"), "kb-1");
    assert_string_equal(str_at(ev, "context[1].text"), "(absent)");
    assert_string_equal(str_at(ev, "response.text"), "[DROPPED]");
    assert_string_equal(str_at(ev, "response.finish_reason"), "stop");
    assert_string_equal(str_at(ev, "response.tool_calls[0].arguments"), "[DROPPED]");
    assert_string_equal(str_at(ev, "error.message"), "[DROPPED]");
    assert_string_equal(str_at(ev, "error.type"), "x");
    assert_valid(ev);
    cJSON_Delete(ev);
    redact_destroy(r);
}

static void test_event_shapes(void **state)
{
    /* no text at all; odd types where text is expected; existing counts of the wrong type */
    const char *cases[][2] = {
        {"{}", "{\"redactions\":0,\"redactions_by_type\":{}}"},
        {"{\"request\":{\"messages\":[{\"role\":\"user\",\"content\":null}],\"input\":[1,2]},"
         "\"context\":[5,{\"text\":7}],\"response\":[],\"error\":null,\"redactions\":\"x\","
         "\"redactions_by_type\":[]}",
         "{\"request\":{\"messages\":[{\"role\":\"user\",\"content\":null}],\"input\":[1,2]},"
         "\"context\":[5,{\"text\":7}],\"response\":[],\"error\":null,\"redactions\":0,"
         "\"redactions_by_type\":{}}"},
        {"{\"response\":{\"text\":\"\"},\"redactions\":-3,\"redactions_by_type\":{\"EMAIL\":\"2\"}"
         "}",
         "{\"response\":{\"text\":\"\"},\"redactions\":0,\"redactions_by_type\":{\"EMAIL\":\"2\"}"
         "}"},
        {"{\"response\":{\"text\":\"x@example.com\"},\"redactions_by_type\":{\"EMAIL\":\"2\"}}",
         "{\"response\":{\"text\":\"[REDACTED:EMAIL]\"},\"redactions_by_type\":{\"EMAIL\":1},"
         "\"redactions\":1}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *ev = cJSON_Parse(cases[i][0]);
        assert_true(redact_event(R, ev) >= 0);
        char *s = cJSON_PrintUnformatted(ev);
        if (strcmp(s, cases[i][1]) != 0)
            fail_msg("case %zu:\n  want %s\n  got  %s", i, cases[i][1], s);
        free(s);
        cJSON_Delete(ev);
    }
    cJSON *arr = cJSON_Parse("[1]");
    assert_int_equal(redact_event(R, arr), 0); /* not an object: untouched */
    cJSON_Delete(arr);
}

/* One redactor, several threads at once (the module's thread rule). */
static void *thread_main(void *arg)
{
    const char *in = "mail a@example.com, card 4111 1111 1111 1111, ip 10.0.0.1, "
                     "key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t";
    const char *want = "mail [REDACTED:EMAIL], card [REDACTED:CARD], ip [REDACTED:IPV4], "
                       "key [REDACTED:API_KEY]";
    long bad = 0;
    for (int i = 0; i < 2000; i++) {
        char *out;
        size_t ol;
        if (redact_text(R, in, strlen(in), &out, &ol, NULL) != 4 || strcmp(out, want) != 0)
            bad++;
        free(out);
    }
    (void)arg;
    return (void *)bad;
}

static void test_threads(void **state)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_null(bad);
    }
}

/* ---- the gates are exact ----------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

/* Pieces that make hits, near-hits and boundaries likely when joined. */
static const char *const pieces[] = {
    "4111 1111 1111 1111",
    "4111111111111111",
    "4111-1111-1111-1111",
    "378282246310005",
    "12/27",
    "123-45-6789",
    "123 45 6789",
    "999-12-3456",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "GB82 WEST 1234 5698 7654 32",
    "10.0.0.1",
    "256.1.1.1",
    "1.2.3.4.5",
    "192.168.1.254",
    "+44 20 7946 0958",
    "+1 (415) 555-2671",
    "(415) 555-2671",
    "415.555.2671",
    "415-555-2671",
    "+33 1 23 45 67 89",
    "phone:",
    "Tel.",
    "Phone number",
    "ssn",
    "Social Security",
    "4155552671",
    "123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIA",
    "AKIA",
    "aws_secret_access_key",
    "SecretAccessKey",
    "=",
    ":",
    "\"",
    "'",
    "=>",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "sk-",
    "sk_live_",
    "ghp_",
    "github_pat_",
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "AIza",
    "xoxb-",
    "hf_",
    "npm_",
    "glpat-",
    "whsec_",
    "Bearer",
    "bearer",
    "api_key",
    "x-api-key",
    "access_token",
    "eyJhbGciOiJIUzI1NiJ9",
    ".",
    "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN",
    "MIIEpAIBAAKCAQEA",
    "-----END RSA PRIVATE KEY-----",
    "john.doe@example.com",
    "@",
    "example.com",
    "a",
    "Z",
    "0",
    "7",
    "42",
    "-",
    "_",
    "+",
    "(",
    ")",
    "\n",
    "\\n",
    "é",
    "2024-03-15",
    "v1.2.3",
    "$12.50",
    "(0)",
    "00",
    "9",
    "x",
    "KEY",
    "token",
    "IBAN",
    "/",
    "1234",
    "56789",
    "\\u00e9",
    "\\",
    "\xff",
    "\xf0\x9f\x98\x80",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "glpat-abcdefghij1234567890",
    "secret",
    "aws",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123",
    "Key",
    "  ",
    "------BEGIN",
    "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "#",
    "1",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "555",
    "2671",
    "45",
    "6789",
    "DE",
};

static void random_text(struct buf *b)
{
    int n = 1 + (int)(rnd() % 24);
    for (int i = 0; i < n; i++) {
        if (rnd() % 3 == 0) {
            static const char *const joins[] = {" ", "", "-", ".", ", ", "\t"};
            buf_puts(b, joins[rnd() % 6]);
        }
        buf_puts(b, pieces[rnd() % (sizeof pieces / sizeof pieces[0])]);
    }
}

/* Every built-in pattern, searched over the whole text without a gate
 * (unanchored; EMAIL with its local-part boundary as a lookbehind), must
 * find exactly what the gated search finds, and the outputs must match. */
static void test_gates_exact(void **state)
{
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_gates_exact: seed %llu (LLMTAP_TEST_SEED to repeat)\n", (unsigned long long)seed);
    rng_state = seed | 1;

    struct redactor ref = *R;
    struct pdef defs[N_BUILTIN_PATTERNS];
    struct pat pats[N_BUILTIN_PATTERNS];
    assert_int_equal(R->npats, N_BUILTIN_PATTERNS);
    for (size_t i = 0; i < N_BUILTIN_PATTERNS; i++) {
        defs[i] = builtin[i];
        defs[i].gate = G_ALL;
        char re[1024];
        /* the walk-back in C stops at a backslash escape; say the same */
        snprintf(re, sizeof re, "%s%s",
                 builtin[i].gate == G_EMAIL ? "(?:(?<![\\\\" LOCAL_CHARS
                                              "])|(?<=\\\\[nrtbf])|(?<=\\\\u[0-9A-Fa-f]{4})"
                                              "|(?<=\\\\)(?![nrtbf])(?!u[0-9A-Fa-f]{4}))"
                                            : "",
                 builtin[i].re);
        int ec;
        PCRE2_SIZE eo;
        pats[i] = (struct pat){.type = builtin[i].type, .def = &defs[i]};
        pats[i].re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
        assert_non_null(pats[i].re);
        pcre2_jit_compile(pats[i].re, PCRE2_JIT_COMPLETE);
    }
    ref.pats = pats;

    struct scan a, b;
    assert_int_equal(scan_init(&a), 0);
    assert_int_equal(scan_init(&b), 0);
    struct buf t = {0};
    int hits = 0;
    for (int iter = 0; iter < 20000; iter++) {
        buf_reset(&t);
        random_text(&t);
        for (size_t i = 0; i < N_BUILTIN_PATTERNS; i++) {
            struct redactor one = *R, one_ref = ref;
            one.pats = &R->pats[i];
            one_ref.pats = &pats[i];
            one.npats = one_ref.npats = 1;
            int na = scan_text(&one, &a, t.p, t.len, NULL);
            int nb = scan_text(&one_ref, &b, t.p, t.len, NULL);
            bool same = na == nb && a.n == b.n;
            for (size_t k = 0; same && k < a.n; k++)
                same = a.v[k].so == b.v[k].so && a.v[k].eo == b.v[k].eo;
            if (!same)
                fail_msg("seed %llu, iteration %d, pattern %zu (%s): gated %d hits, whole-text "
                         "%d, in \"%s\"",
                         (unsigned long long)seed, iter, i, type_names[builtin[i].type], na, nb,
                         t.p);
            hits += na;
        }
        int na = scan_text(R, &a, t.p, t.len, NULL);
        char *ga = na > 0 ? strdup(a.out.p) : NULL;
        int nb = scan_text(&ref, &b, t.p, t.len, NULL);
        if (na != nb || (na > 0 && strcmp(ga, b.out.p) != 0))
            fail_msg("seed %llu, iteration %d: outputs differ for \"%s\"", (unsigned long long)seed,
                     iter, t.p);
        free(ga);
    }
    printf("test_gates_exact: %d hits compared\n", hits);
    assert_true(hits > 1000);
    buf_free(&t);
    scan_free(&a);
    scan_free(&b);
    for (size_t i = 0; i < N_BUILTIN_PATTERNS; i++)
        pcre2_code_free(pats[i].re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_card),
        cmocka_unit_test(test_ssn),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_aws),
        cmocka_unit_test(test_api_key),
        cmocka_unit_test(test_jwt),
        cmocka_unit_test(test_private_key),
        cmocka_unit_test(test_many_in_one),
        cmocka_unit_test(test_unicode_and_punctuation),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_custom_rules),
        cmocka_unit_test(test_disable),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_empty_and_plain),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_adversarial),
        cmocka_unit_test(test_event_redact),
        cmocka_unit_test(test_event_keep_and_drop),
        cmocka_unit_test(test_event_shapes),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_gates_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
