#!/usr/bin/env bash
# clang-tidy (the repository's .clang-tidy) over the library's sources, two files at a time; fails on any
# finding but cognitive complexity, which stays a warning.
# Usage: tests/tidy.sh [BUILD_DIR]   (default build/dev; it needs compile_commands.json, which every preset
# exports). CLANG_TIDY picks the binary (default clang-tidy, version 14 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/dev}"
tidy="${CLANG_TIDY:-clang-tidy}"
db="$build/compile_commands.json"
if [ ! -f "$db" ]; then
    echo "tidy.sh: no $db (configure first: cmake --preset dev)" >&2
    exit 2
fi

# Only the sources this build compiles (the kqueue backend is not built on Linux, for one).
mapfile -t files < <(python3 - "$db" <<'PY'
import json, os, sys
built = {os.path.realpath(e["file"]) for e in json.load(open(sys.argv[1]))}
root = os.getcwd()
for d in ("src", "src/poller", "src/platform"):
    for f in sorted(os.listdir(d)):
        p = os.path.realpath(os.path.join(root, d, f))
        if f.endswith(".cpp") and p in built:
            print(os.path.join(d, f))
PY
)
echo "clang-tidy: ${#files[@]} files, $($tidy --version | grep -o 'version [0-9.]*')"
# The compile commands are GCC's: clang does not know every warning option they may carry.
printf '%s\n' "${files[@]}" |
    xargs -P2 -n1 "$tidy" -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option \
        --warnings-as-errors='*,-readability-function-cognitive-complexity'
echo "clang-tidy: clean"
