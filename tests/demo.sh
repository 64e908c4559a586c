#!/usr/bin/env bash
# make demo: the whole pipeline on one machine with no Kafka installed.
# Starts llmtap-collector --dev (embedded Kafka-protocol broker), a fake LLM
# provider (llmtap-sim upstream), an llmtap-agent pointed at both (its proxy
# relays OpenAI, Anthropic and vLLM-style calls to the fake provider), and
# two traffic sources: llmtap-sim traffic (ready-made events to the intake)
# and llmtap-sim calls (LLM API calls through the proxy); prints where to
# look. Ctrl-C stops everything cleanly: the children run in their own
# sessions (so the terminal's SIGINT reaches only this script), and each gets
# one SIGTERM, newest first, and is waited for.
set -euo pipefail
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
DATA=${LLMTAP_DEMO_DATA:-$PWD/demo-data}
CPORT=${LLMTAP_DEMO_COLLECTOR_PORT:-7310}
APORT=${LLMTAP_DEMO_AGENT_PORT:-7311}
RATE=${LLMTAP_DEMO_RATE:-20}
CALL_RATE=${LLMTAP_DEMO_CALL_RATE:-10}

for p in "$CPORT" "$APORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "demo: port $p is in use; set LLMTAP_DEMO_COLLECTOR_PORT / LLMTAP_DEMO_AGENT_PORT" >&2
    exit 1
  fi
done

rm -rf "$DATA"   # the dev broker keeps nothing, so neither does the demo's store
mkdir -p "$DATA"
pids=() names=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  # newest first, one at a time: the agent flushes to the broker the collector hosts
  # (and relays to the upstream simulator until the proxy traffic has stopped)
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    rc=0
    wait "${pids[i]}" 2>/dev/null || rc=$?
    # 127: already reaped by the wait below (a traffic source that exited on its own)
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]; then
      echo "demo: ${names[i]} exited with status $rc"
    fi
  done
  echo "demo: stopped (logs in $DATA)"
}
trap stop INT TERM EXIT

setsid "$BIN/llmtap-collector" --dev --data-dir "$DATA/store" --listen "127.0.0.1:$CPORT" \
  >"$DATA/collector.log" 2>&1 &
pids+=($!) names+=("collector")
for _ in $(seq 1 300); do
  [ -s "$DATA/store/dev-broker.addr" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$DATA/collector.log" >&2; exit 1; }
  sleep 0.1
done
BROKER=$(cat "$DATA/store/dev-broker.addr")

# The fake provider: any free port, read back from its port file.
setsid "$BIN/llmtap-sim" upstream --listen 127.0.0.1:0 --port-file "$DATA/upstream.port" \
  >"$DATA/upstream.log" 2>&1 &
pids+=($!) names+=("upstream simulator")
for _ in $(seq 1 300); do
  [ -s "$DATA/upstream.port" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$DATA/upstream.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$DATA/upstream.port" ] || { echo "demo: llmtap-sim upstream did not start" >&2; exit 1; }
UPSTREAM=127.0.0.1:$(cat "$DATA/upstream.port")

setsid "$BIN/llmtap-agent" --kafka-brokers "$BROKER" --listen "127.0.0.1:$APORT" \
  --spool-dir "$DATA/spool" --upstream "openai=http://$UPSTREAM" \
  --upstream "anthropic=http://$UPSTREAM" --upstream "vllm=http://$UPSTREAM" \
  >"$DATA/agent.log" 2>&1 &
pids+=($!) names+=("agent")
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$APORT/healthz" >/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$DATA/agent.log" >&2; exit 1; }
  sleep 0.1
done

setsid "$BIN/llmtap-sim" traffic --target "http://127.0.0.1:$APORT" --rate "$RATE" --duration 86400 \
  --seed "$RANDOM" --batch 5 >"$DATA/sim.log" 2>&1 &
pids+=($!) names+=("intake traffic")
setsid "$BIN/llmtap-sim" calls --target "http://127.0.0.1:$APORT" --rate "$CALL_RATE" --duration 86400 \
  --seed "$RANDOM" --vllm-prefix /vllm >"$DATA/calls.log" 2>&1 &
pids+=($!) names+=("proxy traffic")

cat <<MSG

llmtap demo is running
  dev broker        $BROKER            (embedded in the collector)
  llmtap-collector  http://127.0.0.1:$CPORT    store: $DATA/store, log: $DATA/collector.log
  llmtap-agent      http://127.0.0.1:$APORT    intake: POST /v1/events; LLM proxy: /v1/... (OpenAI,
                    Anthropic), /vllm/v1/... — all relayed to the upstream simulator; log: $DATA/agent.log
  upstream sim      http://$UPSTREAM    llmtap-sim upstream: fake OpenAI/Anthropic API   log: $DATA/upstream.log
  intake traffic    $RATE events/s posted to the agent (llmtap-sim traffic)   log: $DATA/sim.log
  proxy traffic     $CALL_RATE LLM calls/s through the proxy (llmtap-sim calls: chat, Responses,
                    embeddings, Anthropic messages; streamed or not)       log: $DATA/calls.log

Point a real SDK at the agent (here it answers from the simulator; any key works):
  from openai import OpenAI
  client = OpenAI(base_url="http://127.0.0.1:$APORT/v1", api_key="sk-demo")
or call through the proxy with curl:
  curl -s http://127.0.0.1:$APORT/v1/chat/completions -H 'Authorization: Bearer sk-demo' \\
    -H 'Content-Type: application/json' -H 'x-llmtap-service: my-service' \\
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'

Look at the stored events (proxied calls carry "source":"agent-proxy"):
  curl -s 'http://127.0.0.1:$CPORT/api/v1/events?limit=5'
  curl -s 'http://127.0.0.1:$CPORT/api/v1/events?service=my-service&limit=5'
  curl -s "http://127.0.0.1:$CPORT/api/v1/events/\$(curl -s 'http://127.0.0.1:$CPORT/api/v1/events?limit=1' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p' | head -1)"
Query the time series with PromQL (the Prometheus HTTP API; in Grafana, add
http://127.0.0.1:$CPORT as a Prometheus data source):
  curl -s 'http://127.0.0.1:$CPORT/api/v1/query' --data-urlencode 'query=sum by (model) (rate(llm_requests_total[5m]))'
  curl -s 'http://127.0.0.1:$CPORT/api/v1/query' --data-urlencode 'query=histogram_quantile(0.95, sum by (le, service) (rate(llm_request_duration_seconds_bucket[5m])))'
  promtool query instant http://127.0.0.1:$CPORT 'sum by (service) (increase(llm_cost_usd_total[1h]))'
Send OpenTelemetry GenAI spans: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$APORT (OTLP/HTTP)
Metrics: curl -s http://127.0.0.1:$APORT/metrics ; curl -s http://127.0.0.1:$CPORT/metrics

Press Ctrl-C to stop.
MSG
# Runs until Ctrl-C, or until one of the traffic sources exits (then see its log).
wait -n "${pids[-2]}" "${pids[-1]}" || true
