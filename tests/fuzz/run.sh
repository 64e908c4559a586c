#!/bin/sh
# run.sh — runs every libFuzzer binary for a while and reports.
#
# Usage: tests/fuzz/run.sh BIN_DIR [NAME...]
#   BIN_DIR  where fuzz_<name> binaries are (build-fuzz/bin after `make fuzz`)
#   NAME     targets to run (default: every corpus/<name>/ with a binary)
#
# Environment:
#   FUZZ_SECONDS     seconds per target (default 60)
#   FUZZ_WORK        scratch directory for new inputs, artifacts and logs
#                    (default: a new mktemp -d; kept afterwards)
#   FUZZ_KEEP_GOING  1 = fork mode that keeps fuzzing after a crash and
#                    collects every distinct one (-fork=1 -ignore_crashes=1)
#   FUZZ_ARGS        extra libFuzzer flags
#
# The checked-in corpus (tests/fuzz/corpus/<name>/) is read, never written:
# libFuzzer writes new inputs to $FUZZ_WORK/<name>/corpus. Crash, timeout,
# OOM and leak inputs land in $FUZZ_WORK/<name>/artifacts/.
#
# Exit status: 0 when no target crashed (or timed out, ran out of memory,
# leaked); 1 otherwise; 2 on a usage error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 BIN_DIR [NAME...]" >&2
    exit 2
fi
bin_dir=$(cd "$1" && pwd)
shift
seconds=${FUZZ_SECONDS:-60}
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/llmtap-fuzz.XXXXXX")}
mkdir -p "$work"

if [ $# -eq 0 ]; then
    for d in "$here"/corpus/*/; do
        name=$(basename "$d")
        [ -x "$bin_dir/fuzz_$name" ] && set -- "$@" "$name"
    done
fi
if [ $# -eq 0 ]; then
    echo "run.sh: no fuzz_* binaries in $bin_dir (build them: cmake --build BUILD --target fuzz-targets)" >&2
    exit 2
fi

mode=""
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    mode="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
fi
dict=""
[ -f "$here/json.dict" ] && dict="-dict=$here/json.dict"

failed=0
summary=""
for name in "$@"; do
    bin="$bin_dir/fuzz_$name"
    corpus="$here/corpus/$name"
    if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then
        echo "run.sh: $name: missing $bin or $corpus" >&2
        failed=1
        continue
    fi
    out="$work/$name"
    mkdir -p "$out/corpus" "$out/artifacts"
    log="$out/fuzz.log"
    echo "== fuzz_$name: ${seconds}s, new inputs in $out/corpus, log $log"
    start=$(date +%s)
    # shellcheck disable=SC2086  # mode, dict and FUZZ_ARGS are word lists
    "$bin" -max_len=65536 -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/" $mode $dict ${FUZZ_ARGS:-} \
        "$out/corpus" "$corpus" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    # The last status line: "#N DONE cov: C ft: F corp: ..." (or "#N: cov: ..." in fork mode).
    last=$(grep -E '^#[0-9]+:? +(DONE|INITED|NEW|REDUCE|pulse|RELOAD)? *:? *cov:' "$log" | tail -n 1)
    [ -n "$last" ] || last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    new=$(find "$out/corpus" -type f | wc -l)
    artifacts=$(find "$out/artifacts" -type f | sort)
    status=ok
    if [ $rc -ne 0 ] || [ -n "$artifacts" ]; then
        status=FAILED
        failed=1
    fi
    line="fuzz_$name: $status  time=${elapsed}s execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus_out=$new peak_rss_mb=${rss:-?} exit=$rc"
    echo "$line"
    summary="$summary$line
"
    if [ -n "$artifacts" ]; then
        echo "  artifacts (reproduce: $bin FILE; keep one: copy it to $corpus/repro-<what>):"
        # Re-run each (the first 20) to show what it breaks: the first
        # invariant or sanitizer line.
        printf '%s\n' "$artifacts" | head -n 20 | while read -r a; do
            why=$("$bin" "$a" 2>&1 | grep -a -m 1 -E 'invariant failed|ERROR: [A-Za-z]+Sanitizer|runtime error|ERROR: libFuzzer' |
                sed 's/^ *//')
            echo "    $a"
            echo "      ${why:-(did not crash again)}"
        done
        count=$(printf '%s\n' "$artifacts" | wc -l)
        [ "$count" -gt 20 ] && echo "    ... and $((count - 20)) more in $out/artifacts"
    elif [ $rc -ne 0 ]; then
        echo "  exit status $rc; the end of $log:"
        tail -n 20 "$log" | sed 's/^/    /'
    fi
done

echo "== summary (work dir $work)"
printf '%s' "$summary"
exit $failed
