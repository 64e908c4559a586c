#!/usr/bin/env bash
# make demo: the whole pipeline on one machine with no Kafka installed.
# Starts llmtap-collector --dev (embedded Kafka-protocol broker), an
# llmtap-agent pointed at it, and llmtap-sim traffic; prints where to look;
# Ctrl-C stops everything cleanly: the children run in their own sessions
# (so the terminal's SIGINT reaches only this script), and each gets one
# SIGTERM, newest first, and is waited for.
set -euo pipefail
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
DATA=${LLMTAP_DEMO_DATA:-$PWD/demo-data}
CPORT=${LLMTAP_DEMO_COLLECTOR_PORT:-7310}
APORT=${LLMTAP_DEMO_AGENT_PORT:-7311}
RATE=${LLMTAP_DEMO_RATE:-20}

for p in "$CPORT" "$APORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "demo: port $p is in use; set LLMTAP_DEMO_COLLECTOR_PORT / LLMTAP_DEMO_AGENT_PORT" >&2
    exit 1
  fi
done

rm -rf "$DATA"   # the dev broker keeps nothing, so neither does the demo's store
mkdir -p "$DATA"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  # newest first, one at a time: the agent flushes to the broker the collector hosts
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "demo: stopped (logs in $DATA)"
}
trap stop INT TERM EXIT

setsid "$BIN/llmtap-collector" --dev --data-dir "$DATA/store" --listen "127.0.0.1:$CPORT" \
  >"$DATA/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  [ -s "$DATA/store/dev-broker.addr" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$DATA/collector.log" >&2; exit 1; }
  sleep 0.1
done
BROKER=$(cat "$DATA/store/dev-broker.addr")

setsid "$BIN/llmtap-agent" --kafka-brokers "$BROKER" --listen "127.0.0.1:$APORT" \
  >"$DATA/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$APORT/healthz" >/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$DATA/agent.log" >&2; exit 1; }
  sleep 0.1
done

setsid "$BIN/llmtap-sim" traffic --target "http://127.0.0.1:$APORT" --rate "$RATE" --duration 86400 \
  --seed "$RANDOM" --batch 5 >"$DATA/sim.log" 2>&1 &
pids+=($!)

cat <<MSG

llmtap demo is running
  dev broker        $BROKER            (embedded in the collector)
  llmtap-collector  http://127.0.0.1:$CPORT    store: $DATA/store, log: $DATA/collector.log
  llmtap-agent      http://127.0.0.1:$APORT    intake: POST /v1/events, log: $DATA/agent.log
  llmtap-sim        $RATE events/s to the agent     log: $DATA/sim.log

Look at the stored events:
  curl -s 'http://127.0.0.1:$CPORT/api/v1/events?limit=5'
  curl -s "http://127.0.0.1:$CPORT/api/v1/events/\$(curl -s 'http://127.0.0.1:$CPORT/api/v1/events?limit=1' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p' | head -1)"
Metrics: curl -s http://127.0.0.1:$APORT/metrics ; curl -s http://127.0.0.1:$CPORT/metrics

Press Ctrl-C to stop.
MSG
wait "${pids[2]}" || true
