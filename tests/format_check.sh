#!/usr/bin/env bash
# clang-format (the repository's .clang-format) in check mode over every tracked C++ file: lists the files
# it would change and fails when there is one. Fix them with: clang-format -i FILE...
# CLANG_FORMAT picks the binary (default clang-format; the style is kept with version 14).
set -euo pipefail
cd "$(dirname "$0")/.."
format="${CLANG_FORMAT:-clang-format}"

mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.h' '*.cc' ':!:build/**' ':!:**/build/**')
echo "clang-format: ${#files[@]} files, $($format --version | grep -o 'version [0-9.]*')"
bad=()
for f in "${files[@]}"; do
    if ! "$format" --dry-run -Werror --style=file "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ "${#bad[@]}" -ne 0 ]; then
    printf 'clang-format: not formatted: %s\n' "${bad[@]}" >&2
    "$format" --dry-run -Werror --style=file "${bad[@]}" 2>&1 | head -n 40 >&2
    exit 1
fi
echo "clang-format: clean"
