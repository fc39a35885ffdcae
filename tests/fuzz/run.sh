#!/usr/bin/env bash
# Builds the fuzzers with clang (ASan+UBSan+libFuzzer) and runs each for SECONDS (default 30).
# Long run: tests/fuzz/run.sh 3600
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-30}"
build="$src/build/fuzz"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
      -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_RECIPES=OFF -DTOFU_BUILD_BENCH=OFF -DTOFU_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j2 >/dev/null
status=0
for f in fuzz_text_headers fuzz_check_and_prepare fuzz_frame_decoder; do
    corpus="$build/corpus-$f"
    mkdir -p "$corpus"
    cp "$src/tests/fuzz/corpus/$f"/* "$corpus/" 2>/dev/null || true
    echo "--- $f for ${secs}s"
    if ! (cd "$build" && "$build/tests/fuzz/$f" -max_total_time="$secs" -print_final_stats=1 "$corpus" > "$build/$f.log" 2>&1); then
        status=1
        grep -E "ERROR|SUMMARY|Test unit written" "$build/$f.log" || tail -20 "$build/$f.log"
    fi
    grep -E "stat::number_of_executed_units" "$build/$f.log" || true
done
exit $status
