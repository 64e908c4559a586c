/*
 * crash.c — report fatal signals with a backtrace, then die by them.
 *
 * DESIGN
 * - The handler runs in the worst possible state (a corrupt heap, a held
 *   malloc or stdio lock, an exhausted stack), so it uses no stdio and no
 *   malloc: lines are formatted by hand into a stack buffer and written with
 *   write(2). libunwind is the one exception to strict async-signal safety:
 *   unw_get_proc_name reads ELF symbol tables (mmap, dl_iterate_phdr). That
 *   is the accepted price of a symbolised backtrace; a fault inside it only
 *   loses the rest of the report (see the next point). On x86_64 the unwind
 *   starts from the ucontext the kernel hands the handler
 *   (unw_init_local2 with UNW_INIT_SIGNAL_FRAME), so frame #0 is the faulting
 *   function; elsewhere from unw_getcontext inside the handler.
 * - SA_RESETHAND: the handler runs once per signal number; a second fault of
 *   the same kind (including one inside the handler) takes the default
 *   action at once. SA_ONSTACK with a per-thread alternate stack (64 KiB
 *   plus a PROT_NONE guard page below it) lets a stack overflow be reported.
 * - One report per process: the first crashing thread claims `g_crashing`
 *   with its thread id. Another thread crashing meanwhile waits (a bounded
 *   nanosleep loop) for the first to finish and kill the process; the same
 *   thread faulting again inside the handler gives up and dies at once.
 * - Dying: restore SIG_DFL, unblock the signal (it is blocked while its
 *   handler runs) and raise it again, so the wait status shows the original
 *   signal and the kernel writes a core dump when allowed. _exit(128+sig) is
 *   a fallback that should never run.
 * - Per-thread stacks are mmap'ed by crash_thread_init and released by a
 *   pthread key destructor when the thread exits (the main thread's stack
 *   lives until the process ends).
 */
#include "crash.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define ALTSTACK_MIN  (64 * 1024)
#define MAX_FRAMES    64
#define WAIT_OTHER_MS 5000 /* how long a second crashing thread waits for the first */

static const int g_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static char g_name[64] = "llmtap";
static atomic_long g_crashing; /* 0, or the thread id writing the report */

static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static bool g_key_ok;
static _Thread_local bool t_has_stack;

/* ------------------------------------------------------------------------ */
/* alternate signal stacks                                                   */

struct altstack {
    void *map; /* the whole mapping: guard page + stack */
    size_t maplen;
};

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static size_t stack_size(void)
{
    size_t sz = ALTSTACK_MIN;
#ifdef _SC_SIGSTKSZ
    long s = sysconf(_SC_SIGSTKSZ);
    if (s > 0 && (size_t)s * 4 > sz)
        sz = (size_t)s * 4;
#endif
    size_t pg = page_size();
    return (sz + pg - 1) / pg * pg;
}

static void altstack_release(void *p)
{
    struct altstack *as = p;
    stack_t off = {.ss_flags = SS_DISABLE};
    stack_t cur;
    /* Only disable it if it is still ours (someone may have replaced it). */
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == (char *)as->map + page_size())
        sigaltstack(&off, NULL);
    munmap(as->map, as->maplen);
}

static void key_init(void)
{
    g_key_ok = pthread_key_create(&g_key, altstack_release) == 0;
}

static int altstack_setup(void)
{
    if (t_has_stack)
        return 0;
    size_t pg = page_size(), sz = stack_size();
    size_t maplen = pg + sz + pg; /* guard, stack, and a page for the bookkeeping */
    char *map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    if (mprotect(map, pg, PROT_NONE) != 0) { /* stacks grow down: guard the bottom */
        int e = errno;
        munmap(map, maplen);
        errno = e;
        return -1;
    }
    stack_t ss = {.ss_sp = map + pg, .ss_size = sz, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        int e = errno;
        munmap(map, maplen);
        errno = e;
        return -1;
    }
    struct altstack *as = (struct altstack *)(map + pg + sz);
    as->map = map;
    as->maplen = maplen;
    pthread_once(&g_key_once, key_init);
    if (g_key_ok)
        pthread_setspecific(g_key, as);
    t_has_stack = true;
    return 0;
}

void crash_thread_init(void)
{
    (void)altstack_setup();
}

/* ------------------------------------------------------------------------ */
/* async-signal-safe line formatting                                         */

struct line {
    char buf[512];
    size_t n;
};

static void l_str(struct line *l, const char *s)
{
    while (*s && l->n < sizeof l->buf - 1)
        l->buf[l->n++] = *s++;
}

static void l_chr(struct line *l, char ch)
{
    if (l->n < sizeof l->buf - 1)
        l->buf[l->n++] = ch;
}

static void l_dec(struct line *l, long long v)
{
    char tmp[24];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        l_chr(l, '-');
    while (k)
        l_chr(l, tmp[--k]);
}

/* 0x-prefixed hex, zero-padded to at least `width` digits. */
static void l_hex(struct line *l, uintptr_t v, int width)
{
    char tmp[2 * sizeof v];
    int k = 0;
    do {
        tmp[k++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v);
    l_str(l, "0x");
    for (int pad = width - k; pad > 0; pad--)
        l_chr(l, '0');
    while (k)
        l_chr(l, tmp[--k]);
}

/* Writes the line and a newline, then empties it. */
static void l_flush(struct line *l)
{
    l->buf[l->n++] = '\n';
    size_t off = 0;
    while (off < l->n) {
        ssize_t w = write(STDERR_FILENO, l->buf + off, l->n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    l->n = 0;
}

/* ------------------------------------------------------------------------ */
/* the report                                                                */

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "?";
    }
}

/* What si_code says for a fault raised by the CPU (si_code > 0). */
static const char *fault_kind(int sig, int code)
{
    switch (sig) {
    case SIGSEGV:
        return code == SEGV_MAPERR   ? "address not mapped"
               : code == SEGV_ACCERR ? "invalid permissions"
                                     : NULL;
    case SIGBUS:
        return code == BUS_ADRALN   ? "invalid address alignment"
               : code == BUS_ADRERR ? "nonexistent physical address"
               : code == BUS_OBJERR ? "object-specific hardware error"
                                    : NULL;
    case SIGFPE:
        return code == FPE_INTDIV   ? "integer divide by zero"
               : code == FPE_INTOVF ? "integer overflow"
               : code == FPE_FLTDIV ? "floating-point divide by zero"
               : code == FPE_FLTOVF ? "floating-point overflow"
               : code == FPE_FLTINV ? "invalid floating-point operation"
                                    : NULL;
    case SIGILL:
        return code == ILL_ILLOPC   ? "illegal opcode"
               : code == ILL_ILLOPN ? "illegal operand"
               : code == ILL_PRVOPC ? "privileged opcode"
                                    : NULL;
    default: return NULL;
    }
}

static void report_header(int sig, const siginfo_t *si, long tid)
{
    struct line l = {.n = 0};
    l_str(&l, "llmtap: ");
    l_str(&l, g_name);
    l_str(&l, " crashed: signal ");
    l_dec(&l, sig);
    l_str(&l, " (");
    l_str(&l, sig_name(sig));
    l_str(&l, ")");
    if (si && si->si_code > 0) {
        const char *kind = fault_kind(sig, si->si_code);
        if (kind) {
            l_str(&l, ", ");
            l_str(&l, kind);
        }
        if (sig != SIGABRT) {
            l_str(&l, ", fault address ");
            l_hex(&l, (uintptr_t)si->si_addr, 1);
        }
    } else if (si) {
        pid_t self = getpid();
        if (si->si_pid == self) {
            l_str(&l, ", raised by the process itself (abort, raise or kill)");
        } else {
            l_str(&l, ", sent by pid ");
            l_dec(&l, si->si_pid);
        }
    }
    l_str(&l, ", pid ");
    l_dec(&l, getpid());
    l_str(&l, ", thread ");
    l_dec(&l, tid);
    char tname[17] = {0};
    if (prctl(PR_GET_NAME, tname, 0, 0, 0) == 0 && tname[0]) {
        l_str(&l, " \"");
        l_str(&l, tname);
        l_chr(&l, '"');
    }
    l_flush(&l);
}

static void report_backtrace(void *uctx)
{
    struct line l = {.n = 0};
    unw_context_t ctx;
    unw_cursor_t cur;
    bool ok = false;
#if defined(__x86_64__)
    /* Start at the interrupted code itself: on x86_64 the ucontext_t the
     * kernel passes the handler is an unw_context_t, and libunwind unwinds
     * from it as a signal frame. Frame #0 is then the faulting function. */
    ok = uctx && unw_init_local2(&cur, (unw_context_t *)uctx, UNW_INIT_SIGNAL_FRAME) == 0;
#else
    (void)uctx;
#endif
    /* Elsewhere (or if that fails), unwind from here: the first frames are
     * then the handler's own. */
    if (!ok)
        ok = unw_getcontext(&ctx) == 0 && unw_init_local(&cur, &ctx) == 0;
    if (!ok) {
        l_str(&l, "llmtap: backtrace unavailable");
        l_flush(&l);
        return;
    }
    l_str(&l, "llmtap: backtrace:");
    l_flush(&l);
    int frame = 0;
    for (;; frame++) {
        if (frame == MAX_FRAMES) {
            l_str(&l, "  ... (more frames not shown)");
            l_flush(&l);
            break;
        }
        unw_word_t ip = 0, off = 0;
        char name[256];
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        l_str(&l, "  #");
        l_dec(&l, frame);
        l_str(&l, frame < 10 ? "  " : " ");
        l_hex(&l, (uintptr_t)ip, 16);
        l_chr(&l, ' ');
        int rc = unw_get_proc_name(&cur, name, sizeof name, &off);
        if (rc == 0 || rc == -UNW_ENOMEM) { /* ENOMEM: the name was truncated */
            name[sizeof name - 1] = '\0';
            l_str(&l, name);
            l_str(&l, "+");
            l_hex(&l, (uintptr_t)off, 1);
        } else {
            l_str(&l, "??");
        }
        l_flush(&l);
        if (unw_step(&cur) <= 0)
            break;
    }
}

static long my_tid(void)
{
    return (long)syscall(SYS_gettid);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

__attribute__((noreturn)) static void die(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached: the default action of every handled signal kills */
}

static void crash_handler(int sig, siginfo_t *si, void *uctx)
{
    long tid = my_tid();
    long expected = 0;
    if (!atomic_compare_exchange_strong(&g_crashing, &expected, tid)) {
        struct line l = {.n = 0};
        if (expected == tid) {
            l_str(&l, "llmtap: crashed again inside the crash handler: signal ");
            l_dec(&l, sig);
            l_str(&l, " (");
            l_str(&l, sig_name(sig));
            l_chr(&l, ')');
            l_flush(&l);
        } else {
            /* Another thread is reporting; it will kill the process. */
            for (long waited = 0; waited < WAIT_OTHER_MS; waited += 10)
                sleep_ms(10);
        }
        die(sig);
    }
    int saved_errno = errno;
    report_header(sig, si, tid);
    report_backtrace(uctx);
    struct line l = {.n = 0};
    l_str(&l, "llmtap: end of backtrace; re-raising signal ");
    l_dec(&l, sig);
    l_flush(&l);
    errno = saved_errno;
    die(sig);
}

int crash_install(const char *program_name)
{
    const char *nm = program_name ? program_name : "llmtap";
    size_t n = strlen(nm);
    if (n >= sizeof g_name)
        n = sizeof g_name - 1;
    memcpy(g_name, nm, n);
    g_name[n] = '\0';

    int rc = altstack_setup();
    int err = errno;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    /* A report to a closed pipe must not end the process by SIGPIPE. */
    sigaddset(&sa.sa_mask, SIGPIPE);
    for (size_t i = 0; i < sizeof g_signals / sizeof *g_signals; i++) {
        if (sigaction(g_signals[i], &sa, NULL) != 0) {
            rc = -1;
            err = errno;
        }
    }
    errno = err;
    return rc;
}

#ifdef LLMTAP_CRASH_TRIGGER
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define CRASH_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef CRASH_NO_SANITIZE
#define CRASH_NO_SANITIZE
#endif

/* Not static and not inlined, so it shows by name in the backtrace. */
CRASH_NO_SANITIZE __attribute__((noinline)) void crash_trigger(const char *kind)
{
    if (strcmp(kind, "segv") == 0) {
        volatile int *volatile p = NULL;
        *p = 1;
    } else if (strcmp(kind, "abort") == 0) {
        void (*volatile f)(void) = abort; /* a call, not a tail call: keeps this frame */
        f();
    } else if (strcmp(kind, "fpe") == 0) {
        volatile int a = 1, b = 0;
        volatile int r = a / b;
        (void)r;
        raise(SIGFPE); /* where integer division by zero does not trap */
    }
    __asm__ volatile("" ::: "memory");
}
#endif
