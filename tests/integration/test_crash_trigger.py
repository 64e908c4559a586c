"""Crash reports: each daemon, built with LLMTAP_CRASH_TRIGGER (a test-only
build option, off in release builds), crashes on purpose when
LLMTAP_CRASH_TEST names a kind. The process must die by that signal, and
its stderr must hold the crash handler's report: the signal's name and a
symbolised backtrace with the project's own function names.
"""
import os
import signal
import subprocess
import tempfile

from llmtap_it import BIN, free_port, log, main

KINDS = {"segv": signal.SIGSEGV, "abort": signal.SIGABRT, "fpe": signal.SIGFPE}


def test():
    tmp = tempfile.mkdtemp(prefix="llmtap-crash-")
    env = {**os.environ,
           # Under ASan the project's handler must run, not ASan's own report.
           "ASAN_OPTIONS": "allow_user_segv_handler=1:handle_segv=0:handle_abort=0:"
                           "handle_sigfpe=0:detect_leaks=0"}
    for binary in ("llmtap-agent", "llmtap-collector"):
        for kind, sig in KINDS.items():
            args = [f"{BIN}/{binary}", "--listen", f"127.0.0.1:{free_port()}"]
            if binary == "llmtap-agent":
                args += ["--kafka-brokers", "127.0.0.1:1", "--spool-dir",
                         os.path.join(tmp, f"spool-{kind}")]
            else:
                args += ["--dev", "--data-dir", os.path.join(tmp, f"data-{kind}")]
            r = subprocess.run(args, env={**env, "LLMTAP_CRASH_TEST": kind}, capture_output=True,
                               text=True, timeout=60)
            err = r.stderr
            name = signal.Signals(sig).name
            log(f"{binary} {kind}: exit {r.returncode}; report lines "
                f"{sum(1 for l in err.splitlines() if '#' in l)}")
            assert r.returncode == -sig, f"{binary} {kind}: exit {r.returncode}\n{err[-3000:]}"
            assert name in err, f"{binary} {kind}: no {name} in the report\n{err[-3000:]}"
            for fn in ("crash_trigger", "daemon_wait", "main"):
                assert fn in err, f"{binary} {kind}: backtrace lacks {fn}\n{err[-3000:]}"


if __name__ == "__main__":
    main(test)
