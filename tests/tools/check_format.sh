#!/usr/bin/env bash
# tests/tools/check_format.sh SRC_DIR — the style check (CTest style.clang_format):
# every C source and header of the project is as .clang-format lays it out
# (CONVENTIONS.md: ".clang-format checked in and applied"). Prints each file
# that differs and how to fix it (`make format`); exit status 1 if any does.
# clang-format comes from packaging/install-deps.sh (Debian's clang-format).
set -euo pipefail
SRC=${1:?usage: check_format.sh SRC_DIR}
CF=$(command -v clang-format || command -v clang-format-14 || true)
if [[ -z $CF ]]; then
    echo "check_format: clang-format not found: install the Debian package clang-format (packaging/install-deps.sh)" >&2
    exit 1
fi
cd "$SRC"
bad=0
while IFS= read -r -d '' f; do
    if ! "$CF" --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "check_format: $f is not laid out as .clang-format says (make format)"
        bad=1
    fi
done < <(find common agent collector storage tests -name '*.[ch]' -not -path '*/.*' -print0 | sort -z)
[[ $bad == 0 ]] && echo "check_format: all C files formatted ($("$CF" --version | head -1))"
exit $bad
