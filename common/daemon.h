/*
 * daemon.h — the start-up and signal plumbing every llmtap binary shares.
 *
 * daemon_start(): loads the configuration (handling --help/--print-config),
 * applies `log.level`, installs the crash handler, ignores SIGPIPE, and
 * blocks SIGINT, SIGTERM and SIGHUP in the calling thread — so every thread
 * created afterwards inherits the mask and signals are handled as ordinary
 * code by daemon_wait(), never in an asynchronous handler.
 *
 * daemon_wait(): blocks until SIGINT or SIGTERM (calling on_hup for each
 * SIGHUP), then arms the "second SIGINT exits at once" rule (status 130)
 * for the rest of the shutdown. SIGTERM stays blocked: a process manager
 * that repeats it does not cut a graceful shutdown short.
 *
 * The table must declare a CONFIG_STRING setting "log.level".
 */
#ifndef LLMTAP_DAEMON_H
#define LLMTAP_DAEMON_H

#include "config.h"

/* Returns -1 to go on (with *cfg set), or an exit status: 0 after --help or
 * --print-config, 2 for a configuration error (already printed). */
int daemon_start(const struct config_table *t, const char *program, int argc, char **argv,
                 struct config **cfg);

/* Returns the signal that started the shutdown. */
int daemon_wait(const char *component, void (*on_hup)(void *ud), void *ud);

#endif
