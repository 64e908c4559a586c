/*
 * daemon.c — shared start-up and signal handling (see daemon.h).
 *
 * DESIGN: the only asynchronous signal handler is the one armed for the
 * second SIGINT; it writes a fixed message with write(2) and calls _exit,
 * both async-signal-safe. Everything else is synchronous (sigwaitinfo).
 */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "crash.h"
#include "log.h"

static char g_force_msg[160];

static void force_exit(int sig)
{
    ssize_t w = write(STDERR_FILENO, g_force_msg, strlen(g_force_msg));
    (void)w;
    _exit(130);
}

static void block_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGINT);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGHUP);
}

int daemon_start(const struct config_table *t, const char *program, int argc, char **argv,
                 struct config **cfg)
{
    char err[512];
    arena_install_cjson_hooks(); /* before any thread parses JSON */
    int rc = config_load(t, argc, argv, cfg, err, sizeof err);
    if (rc == CONFIG_EXIT)
        return 0;
    if (rc != CONFIG_OK) {
        fprintf(stderr, "%s: %s\n", program, err);
        return 2;
    }
    enum log_level lvl;
    const char *level = config_str(*cfg, "log.level");
    if (!level || log_level_parse(level, &lvl) != 0) {
        fprintf(stderr, "%s: log.level: \"%s\" is not debug, info, warn or error\n", program,
                level ? level : "");
        config_destroy(*cfg);
        *cfg = NULL;
        return 2;
    }
    log_set_level(lvl);
    snprintf(g_force_msg, sizeof g_force_msg, "%s: second SIGINT, exiting at once\n", program);
    crash_install(program);
    sigset_t s;
    block_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    signal(SIGPIPE, SIG_IGN);
    return -1;
}

int daemon_wait(const char *component, void (*on_hup)(void *ud), void *ud)
{
#ifdef LLMTAP_CRASH_TRIGGER
    /* Test-only builds: LLMTAP_CRASH_TEST=segv|abort|fpe crashes the fully
     * started process here, to prove the crash handler's report. */
    const char *crash = getenv("LLMTAP_CRASH_TEST");
    if (crash && *crash) {
        log_warn(component, "LLMTAP_CRASH_TEST=%s: crashing on purpose", crash);
        crash_trigger(crash);
    }
#endif
    sigset_t s;
    block_set(&s);
    int sig;
    for (;;) {
        siginfo_t si;
        sig = sigwaitinfo(&s, &si);
        if (sig == SIGHUP) {
            if (on_hup)
                on_hup(ud);
            else
                log_info(component, "SIGHUP: nothing to reload");
            continue;
        }
        if (sig == SIGINT || sig == SIGTERM)
            break;
    }
    log_info(component, "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    struct sigaction sa = {.sa_handler = force_exit};
    sigaction(SIGINT, &sa, NULL);
    sigset_t intr;
    sigemptyset(&intr);
    sigaddset(&intr, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &intr, NULL);
    return sig;
}
