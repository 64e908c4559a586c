#!/usr/bin/env bash
# tests/bench/query.sh — the query benchmark (`make bench-query`, `make bench`).
#
# usage: tests/bench/query.sh BIN_DIR        (e.g. build/bin)
#
# Fills a fresh store with 24 h of 10-second data for 100 series
# (llmtap-bench-fill), serves it with llmtap-collector, exports it
# (llmtap-collector export --format openmetrics) into a Prometheus server
# (promtool tsdb create-blocks-from openmetrics; Debian's prometheus), then
# times the same 24-hour range queries against both and prints a table
# against the targets. The work is done by tests/bench/query.py (its
# docstring lists every BENCH_* variable); this wrapper only makes sure the
# benchmark's own tool is built.
#
# Exit status: 0 unless something broke; figures below target do not fail it.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd -- "$HERE/../.." && pwd -P)
[[ $# -eq 1 ]] || { echo "usage: $0 BIN_DIR" >&2; exit 2; }
BIN=$(cd -- "$1" && pwd -P) || { echo "query.sh: no such directory: $1" >&2; exit 2; }

# A build directory configured before llmtap-bench-fill existed has no target
# for it: configure it again, then build just that.
if [[ ! -x $BIN/llmtap-bench-fill ]]; then
    BUILD=$(dirname -- "$BIN")
    [[ -f $BUILD/CMakeCache.txt ]] || { echo "query.sh: $BIN is not in a CMake build directory; run make build" >&2; exit 1; }
    echo "query.sh: building the benchmark tool in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" >/dev/null
    cmake --build "$BUILD" --target llmtap-bench-fill >/dev/null
fi

command -v python3 >/dev/null || { echo "query.sh: python3 not found" >&2; exit 1; }
for tool in prometheus promtool; do
    command -v $tool >/dev/null || { echo "query.sh: $tool not found: install the Debian package prometheus (packaging/install-deps.sh)" >&2; exit 1; }
done
exec python3 "$HERE/query.py" "$BIN"
