#!/usr/bin/env bash
# tests/bench/proxy.sh — the proxy benchmark (`make bench-proxy`, `make bench`).
#
# usage: tests/bench/proxy.sh BIN_DIR        (e.g. build/bin)
#
# Posts the same 4 KB OpenAI chat request with wrk (1) straight to
# `llmtap-sim upstream`, (2) through nginx proxy_pass and (3) through
# llmtap-agent with capture and Kafka on (the broker is the embedded one of
# `llmtap-collector --dev`), and prints the latency each proxy adds, the
# added time to first token and between stream chunks, the agent's memory
# (idle and under load) and CPU per request, and whether it captured every
# call, next to the targets. The work is done by tests/bench/proxy.py (its
# docstring lists every BENCH_* variable); this wrapper only checks that the
# tools and binaries it needs are there. It builds nothing.
#
# Exit status: 0 unless something broke; figures below target do not fail it.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
[[ $# -eq 1 ]] || { echo "usage: $0 BIN_DIR" >&2; exit 2; }
BIN=$(cd -- "$1" && pwd -P) || { echo "proxy.sh: no such directory: $1" >&2; exit 2; }

missing=()
command -v wrk >/dev/null || missing+=("wrk (Debian package 'wrk')")
# nginx lives in /usr/sbin, which is not on every user's PATH
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=("nginx (Debian package 'nginx')")
command -v python3 >/dev/null || missing+=("python3 (Debian package 'python3')")
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "proxy.sh: missing: ${missing[*]}" >&2
    echo "proxy.sh: install them with packaging/install-deps.sh (or: apt-get install wrk nginx python3)" >&2
    exit 1
fi

for exe in llmtap-sim llmtap-collector llmtap-agent; do
    [[ -x $BIN/$exe ]] || { echo "proxy.sh: $BIN/$exe missing (build first: make build)" >&2; exit 1; }
done

exec python3 "$HERE/proxy.py" "$BIN"
