"""The binaries' command line: --help, --print-config, and bad configuration.

Every configuration error is reported naming what is wrong, with exit
status 2 (1 for a runtime failure such as a port in use), before anything
starts.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile

from llmtap_it import BIN, log, main


CWD = tempfile.mkdtemp(prefix="llmtap-cli-")  # where an agent's default ./llmtap-spool goes


def run(*args, env=None):
    r = subprocess.run([*args], capture_output=True, text=True, timeout=30, cwd=CWD,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout + r.stderr


def test():
    agent, collector = f"{BIN}/llmtap-agent", f"{BIN}/llmtap-collector"
    for b in (agent, collector):
        rc, out = run(b, "--help")
        assert rc == 0 and "--listen" in out and "--kafka-brokers" in out and "--kafka NAME=VALUE" in out, out
    rc, out = run(collector, "--help")
    assert "--data-dir" in out and "--ingest-max-event" in out and "--dev" in out, out

    # Pass-through properties are printed; secrets are not.
    rc, out = run(agent, "--kafka", "sasl.password=hunter2", "--kafka", "linger.ms=20",
                  "--service", "svc", "--print-config")
    log(out)
    assert rc == 0, out
    assert "hunter2" not in out and "<redacted>" in out, out
    assert "linger.ms: 20" in out or 'linger.ms: "20"' in out, out

    cases = [
        ((agent, "--listne", "x"), 2, "--listne: unknown flag"),
        ((agent, "--intake-max-depth", "1000"), 2, "intake.max_depth"),
        ((agent, "--shutdown-grace", "soon"), 2, "shutdown.grace"),
        ((agent, "--log-level", "loud"), 2, "log.level"),
        ((agent, "--kafka", "linger.ms=abc", "--kafka-brokers", "127.0.0.1:1"), 1, "linger.ms"),
        ((agent, "--kafka", "no.such.property=1", "--kafka-brokers", "127.0.0.1:1"), 1,
         "no.such.property"),
        ((collector, "--store-map-size", "10"), 2, "store.map_size"),
        ((collector, "stray-positional"), 2, "stray-positional"),
        ((collector, "--series-labels", "service,team"), 2, 'unknown label "team"'),
        ((collector, "--series-resolution", "7s"), 2, "dividing 30m"),
        ((collector, "--series-resolution", "10s", "--series-ds-resolution", "15s"), 2,
         "larger multiple"),
        ((collector, "--tls-cert-file", "/nonexistent.pem"), 2, "tls.key_file go together"),
        ((collector, "--tls-cert-file", "/nonexistent.pem", "--tls-key-file", "/x.pem"), 2,
         "/nonexistent.pem: No such file"),
        ((collector, "--auth-file", "/nonexistent-auth.yaml"), 2, "No such file"),
    ]
    for args, want_rc, want in cases:
        rc, out = run(*args)
        log(f"{' '.join(os.path.basename(a) for a in args)} -> {rc}: {out.strip()[:150]}")
        assert rc == want_rc and want in out, (args, rc, out)

    # The environment overrides the default; a flag overrides the environment.
    rc, out = run(agent, "--print-config", env={"LLMTAP_AGENT_TOPIC": "from-env"})
    assert rc == 0 and "topic: from-env" in out, out
    rc, out = run(agent, "--print-config", "--topic", "from-flag",
                  env={"LLMTAP_AGENT_TOPIC": "from-env"})
    assert "topic: from-flag" in out, out

    # A YAML file, with an unknown key.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("listen: 127.0.0.1:9\nintake:\n  max_body: 2MiB\nkafka:\n  linger.ms: 7\n")
    rc, out = run(agent, "--config", f.name, "--print-config")
    assert rc == 0 and "max_body: 2MiB" in out and 'linger.ms: "7"' in out, out
    with open(f.name, "a") as g:
        g.write("intake_typo: 1\n")
    rc, out = run(agent, "--config", f.name)
    assert rc == 2 and "intake_typo" in out, out
    os.unlink(f.name)

    # A port in use is a clear start-up failure.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out = run(agent, "--listen", f"127.0.0.1:{port}", "--kafka-brokers", "127.0.0.1:1")
        log(f"port in use -> {rc}: {out.strip()[-150:]}")
        assert rc == 1 and "cannot listen" in out, out

    # The series grid is fixed once the series exist: another one is refused,
    # 0 (the default) takes the store's.
    data = os.path.join(CWD, "grid-data")
    for args, want_rc, want in (
            (("--series-resolution", "5s", "--series-ds-resolution", "1m"), 0, "stopped"),
            (("--series-resolution", "10s",), 1, "cannot change once the series exist"),
            ((), 0, "stopped")):
        p = subprocess.Popen([collector, "--dev", "--listen", "127.0.0.1:0", "--data-dir", data,
                              *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             cwd=CWD)
        if want_rc == 0:
            import time
            deadline = time.time() + 20
            while time.time() < deadline and not os.path.exists(os.path.join(data, "dev-broker.addr")):
                time.sleep(0.05)
            time.sleep(0.5)
            p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=30)[0]
        log(f"collector {' '.join(args)} on an existing grid -> {p.returncode}: {out.strip()[-160:]}")
        assert p.returncode == want_rc and want in out, (args, p.returncode, out)
        os.unlink(os.path.join(data, "dev-broker.addr")) if os.path.exists(
            os.path.join(data, "dev-broker.addr")) else None

    # A spool directory that cannot be created is a clear start-up failure.
    rc, out = run(agent, "--spool-dir", "/proc/llmtap-no-such-dir", "--kafka-brokers", "127.0.0.1:1")
    log(f"spool not creatable -> {rc}: {out.strip()[-150:]}")
    assert rc == 1 and "spool" in out, out
    shutil.rmtree(CWD, ignore_errors=True)


if __name__ == "__main__":
    main(test)
