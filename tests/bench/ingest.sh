#!/usr/bin/env bash
# tests/bench/ingest.sh — the ingest benchmark (`make bench-ingest`, `make bench`).
#
# usage: tests/bench/ingest.sh BIN_DIR        (e.g. build/bin)
#
# Generates BENCH_EVENTS (default 100000) events, pre-loads them into a fresh
# topic on the real Kafka broker (tests/kafka/kafka.sh; started if needed and
# then stopped again), times llmtap-collector consuming them into LMDB (wall
# and CPU), compares with a cJSON parse-only yardstick and with zstd of the
# same JSONL, and prints a table against the targets. The work is done by
# tests/bench/ingest.py (its docstring lists every BENCH_* variable); this
# wrapper only makes sure the benchmark's own tools are built.
#
# Exit status: 0 unless something broke; figures below target do not fail it.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd -- "$HERE/../.." && pwd -P)
[[ $# -eq 1 ]] || { echo "usage: $0 BIN_DIR" >&2; exit 2; }
BIN=$(cd -- "$1" && pwd -P) || { echo "ingest.sh: no such directory: $1" >&2; exit 2; }

# A build directory configured before tests/bench/ existed has no targets for
# the benchmark's tools: configure it again, then build just those.
if [[ ! -x $BIN/llmtap-bench-parse || ! -x $BIN/llmtap-bench-kafka ]]; then
    BUILD=$(dirname -- "$BIN")
    [[ -f $BUILD/CMakeCache.txt ]] || { echo "ingest.sh: $BIN is not in a CMake build directory; run make build" >&2; exit 1; }
    echo "ingest.sh: building the benchmark tools in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" >/dev/null
    cmake --build "$BUILD" --target llmtap-bench-parse llmtap-bench-kafka >/dev/null
fi

command -v python3 >/dev/null || { echo "ingest.sh: python3 not found" >&2; exit 1; }
exec python3 "$HERE/ingest.py" "$BIN"
