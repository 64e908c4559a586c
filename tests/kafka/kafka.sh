#!/usr/bin/env bash
# tests/kafka/kafka.sh — a real, single-node Apache Kafka broker for llmtap's
# integration tests (CTest label `kafka`).
#
# usage: kafka.sh start|stop|restart|status|clean|fetch|run-class CLASS [ARG...]
#
# Why: the agent and the collector talk to Kafka through librdkafka, and the
# only honest test of that is a real broker. There is no Docker here and the
# machines reach package registries only (not the Apache download site), so
# the broker is assembled from the release's jars on Maven Central and run
# directly on the JDK (packaging/install-deps.sh installs the JDK and Maven).
#
# What it does:
#   * fetch: `mvn dependency:copy-dependencies` on tests/kafka/pom.xml (which
#     pins the Kafka version and a Log4j 2 binding) into the cache directory,
#     once; later runs find the jars there and never touch the network.
#   * start: a KRaft node that is broker and controller at once, listening on
#     127.0.0.1 only, on a free port (or $KAFKA_PORT). Its data directory is
#     formatted the first time; the port, cluster id, config, pid and the
#     broker log (kafka.log) live there, so a start after a stop resumes the
#     same broker, with its topics and offsets, on the same port. It returns
#     once the broker answers a Kafka ApiVersions request (polled, with a
#     timeout), and prints the bootstrap address 127.0.0.1:PORT as the last
#     line on stdout; progress and errors go to stderr. So:
#         BOOTSTRAP=$(tests/kafka/kafka.sh start)
#     Already running: prints the address again and exits 0.
#   * stop: SIGTERM, wait, SIGKILL after a timeout; keeps the data.
#   * restart: stop, then start.
#   * clean: stop if running, then remove the data directory.
#   * status: "running 127.0.0.1:PORT (pid N)" and exit 0, or "stopped" and 3.
#   * run-class CLASS [ARG...]: run a class from the Kafka jars, e.g.
#         kafka.sh run-class org.apache.kafka.tools.TopicCommand \
#             --bootstrap-server "$BOOTSTRAP" --create --topic t --partitions 3
#   * fetch: only fetch the jars (e.g. to warm the cache before going offline).
#
# Environment:
#   LLMTAP_KAFKA_CACHE   jar cache        (default: tests/kafka/.cache)
#   LLMTAP_KAFKA_DATA    broker state     (default: tests/kafka/.data)
#   KAFKA_PORT           client port for a new data dir (default: a free one)
#   KAFKA_CONTROLLER_PORT  KRaft controller port      (default: a free one)
#   KAFKA_START_TIMEOUT  seconds to wait for readiness (default: 120)
#   KAFKA_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default: 30)
#   KAFKA_HEAP_OPTS      broker heap (default: -Xms128m -Xmx512m)
#   JAVA_HOME / JAVA     the JDK (17 or newer) to run with
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
HOST=127.0.0.1
POM=$HERE/pom.xml
LOG4J_CONF=$HERE/log4j2.properties

abspath() { realpath -m -- "$1"; }
CACHE=$(abspath "${LLMTAP_KAFKA_CACHE:-$HERE/.cache}")
DATA=$(abspath "${LLMTAP_KAFKA_DATA:-$HERE/.data}")
START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}

# Files in the data directory.
MARKER=$DATA/.llmtap-kafka      # says "this directory is ours" (see clean)
PORT_FILE=$DATA/port
CPORT_FILE=$DATA/controller.port
CLUSTER_FILE=$DATA/cluster.id
PROPS=$DATA/server.properties
PID_FILE=$DATA/kafka.pid
LOG=$DATA/kafka.log
LOG_DIRS=$DATA/kraft            # Kafka's log.dirs: topic data and the metadata log

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [[ -n ${JAVA:-} ]]; then :
elif [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA=$JAVA_HOME/bin/java
else JAVA=java
fi

# ---------------------------------------------------------------- jars

kafka_version() { sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM"; }

# The jar directory for the current pom.xml: one per (Kafka version, pom hash),
# so editing the pom fetches afresh and never mixes two sets of jars.
lib_dir() {
    local hash
    hash=$(sha256sum "$POM" | cut -c1-12)
    printf '%s/kafka-%s-%s/lib' "$CACHE" "$(kafka_version)" "$hash"
}

ensure_jars() {
    LIB=$(lib_dir)
    [[ -f $LIB/.complete ]] && return 0
    command -v mvn >/dev/null || die "mvn not found (packaging/install-deps.sh installs maven)"
    mkdir -p "$CACHE"
    (
        flock 8
        [[ -f $LIB/.complete ]] && exit 0      # another run fetched it meanwhile
        say "fetching Apache Kafka $(kafka_version) jars with Maven into $(dirname "$LIB") (once)"
        local tmp
        tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
        # Work on a copy of the pom so that Maven leaves nothing in tests/kafka.
        cp "$POM" "$tmp/pom.xml"
        if ! (cd "$tmp" && mvn -B dependency:copy-dependencies \
                -DincludeScope=runtime -DoutputDirectory="$tmp/lib") >"$tmp/mvn.log" 2>&1; then
            tail -n 40 "$tmp/mvn.log" >&2
            rm -rf "$tmp"
            die "fetching the Kafka jars with Maven failed (see above)"
        fi
        ls "$tmp"/lib/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "Maven fetched no kafka_2.13 jar"; }
        touch "$tmp/lib/.complete"
        rm -rf "$(dirname "$LIB")"
        mkdir -p "$(dirname "$LIB")"
        mv "$tmp/lib" "$LIB"
        rm -rf "$tmp"
    ) 8>"$CACHE/.lock"
    [[ -f $LIB/.complete ]] || die "no jars in $LIB"
}

check_java() {
    command -v "$JAVA" >/dev/null || die "java not found (packaging/install-deps.sh installs default-jdk-headless)"
    local v
    v=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    [[ ${v%%.*} =~ ^[0-9]+$ && ${v%%.*} -ge 17 ]] || die "Kafka $(kafka_version) needs Java 17 or newer; $JAVA is ${v:-unknown}"
}

# java_cmd [JVM-OPTION...] -- CLASS [ARG...]: sets JAVA_CMD to the command line
java_cmd() {
    local -a opts=()
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    JAVA_CMD=("$JAVA" "${opts[@]}" -Djava.awt.headless=true
              "-Dlog4j2.configurationFile=$LOG4J_CONF" -cp "$LIB/*" "$@")
}

# ---------------------------------------------------------------- process

alive() {   # alive PID: a live (non-zombie) process
    local st
    [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
    st=$(sed -n 's/^[0-9]* (.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ $st != Z ]]
}

# The broker's pid if it is running (checked against its command line, so a
# stale pid file or a reused pid is not mistaken for it); else fails.
broker_pid() {
    local pid
    pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$PROPS" || return 1
    printf '%s\n' "$pid"
}

port_in_use() {
    if command -v ss >/dev/null; then
        [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
    fi
}

pick_port() {   # pick_port EXCLUDE: a free port below the usual ephemeral range
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        [[ $p != "$1" ]] && ! port_in_use "$p" && { echo "$p"; return 0; }
    done
    die "found no free port"
}

# A real Kafka round trip: ApiVersions v0 (api key 18, correlation id 42, null
# client id). Succeeds when the broker answers with correlation id 42 and
# error code 0, which it does only once it has started serving requests —
# the listening socket accepts TCP connections well before that.
probe() {
    local out
    # shellcheck disable=SC2016  # the inner script expands its own $0 and $1
    out=$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x2a\xff\xff" >&3
        head -c 10 <&3 | od -An -v -tx1 | tr -d " \n"' "$HOST" "$1" 2>/dev/null) || return 1
    [[ ${out:8:12} == 0000002a0000 ]]
}

log_tail() {
    [[ -f $LOG ]] || return 0
    say "last lines of $LOG:"
    tail -n "${1:-40}" "$LOG" >&2
}

address() { printf '%s:%s\n' "$HOST" "$(cat "$PORT_FILE")"; }

lock_data() { mkdir -p "$DATA"; exec 9>"$DATA/.lock"; flock 9; }

# ---------------------------------------------------------------- commands

cluster_id() {  # like Kafka's Uuid.randomUuid(): 16 random bytes, base64url, never starting with '-'
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        [[ $id != -* && ${#id} == 22 ]] && { echo "$id"; return; }
    done
}

write_props() {
    local port=$1 cport=$2
    cat >"$PROPS" <<EOF
# Written by tests/kafka/kafka.sh at every start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$cport
listeners=PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$cport
advertised.listeners=PLAINTEXT://$HOST:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$LOG_DIRS

# One node: every internal topic has one replica.
num.partitions=1
auto.create.topics.enable=true
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests should not wait 3 s for a consumer group's first rebalance, nor for
# 50 partitions of __consumer_offsets / __transaction_state to be created.
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1

# Small machine: the log cleaner's default 128 MiB buffer is a quarter of the heap.
log.cleaner.dedupe.buffer.size=33554432
EOF
}

cmd_start() {
    lock_data
    touch "$MARKER"
    local pid port cport
    if [[ -f $PORT_FILE && -n ${KAFKA_PORT:-} && $KAFKA_PORT != "$(cat "$PORT_FILE")" ]]; then
        die "KAFKA_PORT=$KAFKA_PORT, but the broker in $DATA was made on port $(cat "$PORT_FILE"); run '$0 clean' first to move it"
    fi
    if pid=$(broker_pid); then
        if ! probe "$(cat "$PORT_FILE")"; then
            say "broker (pid $pid) is running but not answering yet; waiting"
            wait_ready "$pid"
        fi
        say "already running (pid $pid)"
        address
        return 0
    fi
    rm -f "$PID_FILE"

    if [[ -f $PORT_FILE ]]; then
        port=$(cat "$PORT_FILE")
    else
        port=${KAFKA_PORT:-$(pick_port 0)}
    fi
    [[ $port =~ ^[0-9]+$ ]] || die "bad port '$port'"
    if [[ -f $CPORT_FILE ]]; then
        cport=$(cat "$CPORT_FILE")
    else
        cport=${KAFKA_CONTROLLER_PORT:-$(pick_port "$port")}
    fi
    [[ $cport =~ ^[0-9]+$ && $cport != "$port" ]] || die "bad controller port '$cport'"
    port_in_use "$port" && die "port $port on $HOST is in use by another process"
    port_in_use "$cport" && die "controller port $cport on $HOST is in use by another process"

    check_java
    ensure_jars
    echo "$port" >"$PORT_FILE"
    echo "$cport" >"$CPORT_FILE"
    write_props "$port" "$cport"

    [[ -f $LOG ]] && mv -f "$LOG" "$LOG.1"
    if [[ ! -f $LOG_DIRS/meta.properties ]]; then
        [[ -f $CLUSTER_FILE ]] || cluster_id >"$CLUSTER_FILE"
        say "formatting $LOG_DIRS (cluster id $(cat "$CLUSTER_FILE"))"
        java_cmd -Xmx256m -Dllmtap.kafka.log.level=WARN -- \
            kafka.tools.StorageTool format -t "$(cat "$CLUSTER_FILE")" -c "$PROPS"
        if ! "${JAVA_CMD[@]}" >>"$LOG" 2>&1 9>&-; then
            log_tail 20
            die "formatting the Kafka data directory failed"
        fi
    fi

    # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM options
    java_cmd $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -- kafka.Kafka "$PROPS"
    # Own session, no terminal, stdio to the log, lock fd closed: the broker
    # outlives this script and never holds the caller's pipes or our lock.
    say "starting Kafka $(kafka_version) on $HOST:$port (log: $LOG)"
    ( exec setsid "${JAVA_CMD[@]}" </dev/null >>"$LOG" 2>&1 9>&- ) &
    pid=$!
    echo "$pid" >"$PID_FILE"
    trap 'say "interrupted; stopping the broker"; kill -KILL '"$pid"' 2>/dev/null; exit 130' INT TERM
    wait_ready "$pid"
    trap - INT TERM
    address
}

wait_ready() {
    local pid=$1 port t0=$SECONDS
    port=$(cat "$PORT_FILE")
    while ! probe "$port"; do
        if ! alive "$pid"; then
            rm -f "$PID_FILE"
            log_tail
            die "the broker exited during startup"
        fi
        if ((SECONDS - t0 >= START_TIMEOUT)); then
            log_tail
            stop_pid "$pid"
            die "the broker did not answer on $HOST:$port within ${START_TIMEOUT}s"
        fi
        sleep 0.2
    done
    say "ready on $HOST:$port after $((SECONDS - t0))s (pid $pid)"
}

stop_pid() {
    local pid=$1 t0=$SECONDS
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid"; do
        if ((SECONDS - t0 >= STOP_TIMEOUT)); then
            say "no exit ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            while alive "$pid"; do sleep 0.1; done
            break
        fi
        sleep 0.1
    done
    rm -f "$PID_FILE"
}

cmd_stop() {
    [[ -d $DATA ]] || { say "not running (no $DATA)"; return 0; }
    lock_data
    local pid
    if pid=$(broker_pid); then
        say "stopping broker (pid $pid)"
        stop_pid "$pid"
        say "stopped; data kept in $DATA"
    else
        rm -f "$PID_FILE"
        say "not running"
    fi
}

cmd_clean() {
    if [[ -d $DATA ]]; then
        # Never remove a directory that kafka.sh did not make (LLMTAP_KAFKA_DATA
        # could point anywhere): it must be ours or empty.
        [[ -e $MARKER || -z $(ls -A "$DATA") ]] ||
            die "$DATA has no $(basename "$MARKER"); not removing it"
        [[ $DATA != / && $DATA != "$HOME" ]] || die "refusing to remove $DATA"
        cmd_stop
        rm -rf -- "$DATA"
        say "removed $DATA"
    else
        say "nothing to clean ($DATA does not exist)"
    fi
}

cmd_status() {
    local pid
    if [[ -d $DATA ]] && pid=$(broker_pid); then
        if probe "$(cat "$PORT_FILE")"; then
            echo "running $(address) (pid $pid)"
        else
            echo "starting $(address) (pid $pid)"
        fi
        return 0
    fi
    if [[ -f $PORT_FILE ]]; then echo "stopped (resumes on $(address))"; else echo "stopped"; fi
    return 3
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
}

case ${1:-} in
    start)  cmd_start ;;
    stop)   cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    clean)  cmd_clean ;;
    status) cmd_status ;;
    fetch)  ensure_jars; say "jars in $LIB" ;;
    run-class)
        shift
        [[ $# -ge 1 ]] || usage
        check_java
        ensure_jars
        java_cmd -Xmx256m -Dllmtap.kafka.log.level=WARN -Dllmtap.kafka.log.target=SYSTEM_ERR -- "$@"
        exec "${JAVA_CMD[@]}" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
