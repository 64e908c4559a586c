/*
 * test_crash.c — the crash handler reports and dies by the original signal.
 *
 * Each case forks a child that installs the handler (stderr redirected into
 * a pipe) and crashes inside a named, non-inlined function of this file. The
 * parent reads the report to EOF, waits for the child, and checks: killed by
 * the expected signal, the header line, and the function's name in the
 * backtrace. The binary must be linked with -rdynamic (the build does) so
 * that the names are in the dynamic symbol table even when stripped.
 *
 * Sanitizers: ASan and UBSan would catch a NULL store or a division by zero
 * themselves, so the crashing functions are built without instrumentation
 * (no_sanitize). crash_install replaces ASan's SIGSEGV/SIGBUS/SIGFPE handler
 * (ASan's allow_user_segv_handler is on by default), so every case runs
 * unchanged with and without -fsanitize=address,undefined. Should an ASan
 * configuration ever keep its own handler, the SIGSEGV cases would report
 * ASan's text instead: run with ASAN_OPTIONS=allow_user_segv_handler=1.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash.h"

#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef NO_SANITIZE
#define NO_SANITIZE
#endif

/* The crashing functions: global and not inlined, so the backtrace names
 * them. Declared here to keep -Wmissing-prototypes quiet if it is enabled. */
void llmtap_test_crash_here(void);
void llmtap_test_abort_here(void);
void llmtap_test_fpe_here(void);
int llmtap_test_recurse(int depth);

NO_SANITIZE __attribute__((noinline)) void llmtap_test_crash_here(void)
{
    volatile int *volatile p = NULL;
    *p = 42;
}

__attribute__((noinline)) void llmtap_test_abort_here(void)
{
    /* Through a volatile pointer so the call is not a tail call to a
     * noreturn function: the return address stays inside this function. */
    void (*volatile f)(void) = abort;
    f();
    __asm__ volatile("" ::: "memory"); /* no sibling call: keep this frame */
}

NO_SANITIZE __attribute__((noinline)) void llmtap_test_fpe_here(void)
{
    volatile int a = 7, b = 0;
    volatile int r = a / b;
    (void)r;
    raise(SIGFPE); /* CPUs that do not trap on division by zero */
    __asm__ volatile("" ::: "memory");
}

static volatile int g_recurse_limit = 1 << 30; /* never reached: the stack ends first */

NO_SANITIZE __attribute__((noinline)) int llmtap_test_recurse(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    if (depth >= g_recurse_limit)
        return pad[0];
    return llmtap_test_recurse(depth + 1) + pad[0];
}

struct child_result {
    int status;
    char text[16384];
};

/* Runs fn in a child with the handler installed; collects stderr and the
 * wait status. */
static void run_child(void (*fn)(void), struct child_result *r)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        struct rlimit nocore = {0, 0};
        setrlimit(RLIMIT_CORE, &nocore); /* no core files from the test */
        alarm(60);                       /* a hung handler fails as SIGALRM */
        if (crash_install("test_crash") != 0)
            _exit(98);
        fn();
        _exit(99); /* should have died */
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) { /* to EOF, keeping the first sizeof text - 1 bytes */
        char scratch[512];
        bool full = n == sizeof r->text - 1;
        ssize_t got = full ? read(fds[0], scratch, sizeof scratch)
                           : read(fds[0], r->text + n, sizeof r->text - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (!full)
            n += (size_t)got;
    }
    r->text[n] = '\0';
    close(fds[0]);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR) {
    }
}

static void expect_crash(const struct child_result *r, int sig, const char *signame,
                         const char *function)
{
    char header[128];
    snprintf(header, sizeof header, "llmtap: test_crash crashed: signal %d (%s)", sig, signame);
    if (!WIFSIGNALED(r->status) || WTERMSIG(r->status) != sig || !strstr(r->text, header) ||
        !strstr(r->text, function) || !strstr(r->text, "llmtap: backtrace:"))
        print_error("child status %#x (signaled %d, signal %d), stderr:\n%s\n", r->status,
                    WIFSIGNALED(r->status), WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0,
                    r->text);
    assert_true(WIFSIGNALED(r->status));
    assert_int_equal(WTERMSIG(r->status), sig);
    assert_non_null(strstr(r->text, header));
    assert_non_null(strstr(r->text, "llmtap: backtrace:"));
    assert_non_null(strstr(r->text, function));
    assert_non_null(strstr(r->text, "re-raising signal"));
}

static void test_segv(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(llmtap_test_crash_here, &r);
    expect_crash(&r, SIGSEGV, "SIGSEGV", "llmtap_test_crash_here");
    assert_non_null(strstr(r.text, "fault address 0x0"));
    /* Frame #0 is the crashing function: the handler's frames are skipped. */
    const char *f0 = strstr(r.text, "#0 ");
    assert_non_null(f0);
    const char *eol = strchr(f0, '\n');
    assert_non_null(eol);
    assert_true(strstr(f0, "llmtap_test_crash_here") < eol);
}

static void test_abort(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(llmtap_test_abort_here, &r);
    expect_crash(&r, SIGABRT, "SIGABRT", "llmtap_test_abort_here");
    assert_non_null(strstr(r.text, "raised by the process itself"));
}

static void test_fpe(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(llmtap_test_fpe_here, &r);
    expect_crash(&r, SIGFPE, "SIGFPE", "llmtap_test_fpe_here");
}

static void overflow_stack(void)
{
    (void)llmtap_test_recurse(0);
}

static void test_stack_overflow(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(overflow_stack, &r);
    expect_crash(&r, SIGSEGV, "SIGSEGV", "llmtap_test_recurse");
    assert_non_null(strstr(r.text, "more frames not shown"));
}

static void *thread_main(void *arg)
{
    (void)arg;
    crash_thread_init();
    crash_thread_init(); /* idempotent */
    llmtap_test_abort_here();
    return NULL;
}

static void abort_in_thread_child(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0)
        _exit(97);
    pthread_join(th, NULL);
}

static void test_abort_in_thread(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(abort_in_thread_child, &r);
    expect_crash(&r, SIGABRT, "SIGABRT", "llmtap_test_abort_here");
    assert_non_null(strstr(r.text, "thread_main"));
}

static void *init_and_exit(void *arg)
{
    (void)arg;
    crash_thread_init();
    return NULL;
}

static void test_thread_init_then_exit(void **state)
{
    (void)state;
    /* A thread with its own alternate stack exits cleanly (the stack is
     * released by the key destructor), many times over. */
    for (int i = 0; i < 50; i++) {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, init_and_exit, NULL), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
    }
}

#ifdef LLMTAP_CRASH_TRIGGER
static void trigger_segv(void)
{
    crash_trigger("segv");
}
static void trigger_fpe(void)
{
    crash_trigger("fpe");
}

static void test_trigger(void **state)
{
    (void)state;
    static struct child_result r;
    run_child(trigger_segv, &r);
    expect_crash(&r, SIGSEGV, "SIGSEGV", "crash_trigger");
    run_child(trigger_fpe, &r);
    expect_crash(&r, SIGFPE, "SIGFPE", "crash_trigger");
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segv),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_fpe),
        cmocka_unit_test(test_stack_overflow),
        cmocka_unit_test(test_abort_in_thread),
        cmocka_unit_test(test_thread_init_then_exit),
#ifdef LLMTAP_CRASH_TRIGGER
        cmocka_unit_test(test_trigger),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
