/*
 * crash.h — a last word before dying: on SIGSEGV, SIGBUS, SIGFPE, SIGILL and
 * SIGABRT, write what happened and a symbolised backtrace to stderr, then die
 * by the same signal.
 *
 * The report is plain text, one write(2) per line, for example:
 *
 *   llmtap: llmtap-agent crashed: signal 11 (SIGSEGV), address not mapped, fault address 0x0, pid
 * 4242, thread 4250 "kafka" llmtap: backtrace: #0  0x000055d4c3a1b2c3 producer_flush+0x1a #1
 * 0x000055d4c3a1a010 main+0x3f0 #2  0x00007f1e9c02324a __libc_start_call_main+0x7a llmtap: end of
 * backtrace; re-raising signal 11
 *
 * On x86_64, frame #0 is the function that was running when the signal
 * arrived (unwinding starts from the signal's saved context); on other
 * architectures the handler's own frames come first. Names come from libunwind, which reads
 * the ELF symbol tables: link with -rdynamic and keep symbols (do not strip)
 * for useful names; an unknown function prints as "??".
 *
 * After the report the signal's default action is restored and the signal is
 * raised again, so the process ends exactly as it would have without the
 * handler: the wait status shows the signal, and a core dump is written when
 * the core limit allows.
 */
#ifndef LLMTAP_CRASH_H
#define LLMTAP_CRASH_H

/* Installs the handlers (sigaction, SA_SIGINFO | SA_ONSTACK | SA_RESETHAND)
 * for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, and gives the calling
 * thread an alternate signal stack (crash_thread_init), so that a stack
 * overflow can still be reported. program_name (copied; NULL = "llmtap")
 * names the program in the report.
 *
 * Call it once from the main thread early in main(), before other threads
 * start. Calling it again only replaces the program name. Returns 0, or -1
 * with errno set when the alternate stack or a handler could not be set up
 * (the handlers that were installed stay installed). */
int crash_install(const char *program_name);

/* Gives the calling thread its own alternate signal stack (64 KiB, with a
 * guard page), released automatically when the thread exits. An alternate
 * stack is per thread and not inherited by pthread_create: a thread that
 * never calls this still gets a report for most crashes, but a stack
 * overflow in it dies silently (the handler has no stack to run on). Call
 * it first thing in every long-lived thread. Idempotent per thread. If
 * the stack cannot be allocated the thread simply goes without one. */
void crash_thread_init(void);

#ifdef LLMTAP_CRASH_TRIGGER
/* Test-only (built with LLMTAP_CRASH_TRIGGER): crashes the calling process
 * on purpose. kind is "segv" (write through a NULL pointer), "abort"
 * (abort()) or "fpe" (integer division by zero, or raise(SIGFPE) where the
 * CPU does not trap). Returns only for an unknown kind. */
void crash_trigger(const char *kind);
#endif

#endif
