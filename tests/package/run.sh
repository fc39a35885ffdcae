#!/usr/bin/env bash
# Proves the three ways to use tofu: find_package against an install, add_subdirectory of the source
# tree, and a recipe file copied out and compiled on its own against the installed package.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

echo "--- install into $work/prefix"
cmake -S "$src" -B "$work/tofu" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTOFU_BUILD_TESTS=OFF \
      -DTOFU_BUILD_RECIPES=OFF -DTOFU_BUILD_BENCH=OFF -DTOFU_INSTALL=ON -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/tofu" -j2 >/dev/null
cmake --install "$work/tofu" >/dev/null
(cd "$work/prefix" && find . -type f | sort)

echo "--- find_package"
cmake -S "$src/tests/package" -B "$work/fp" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/fp" >/dev/null
"$work/fp/consumer"

echo "--- add_subdirectory"
cmake -S "$src/tests/package" -B "$work/as" "${gen[@]}" -DTOFU_CONSUMER_MODE=add_subdirectory \
      -DTOFU_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/as" >/dev/null
"$work/as/consumer"

echo "--- a recipe copied out of the tree"
mkdir -p "$work/copy"
cp "$src/recipes/demo.cpp" "$work/copy/main.cpp"
cat > "$work/copy/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(copied LANGUAGES CXX)
find_package(tofu 0.1 CONFIG REQUIRED)
add_executable(copied main.cpp)
target_link_libraries(copied PRIVATE tofu::tofu)
CM
cmake -S "$work/copy" -B "$work/copy/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/copy/build" >/dev/null
"$work/copy/build/copied" | tail -1
echo "--- consumers OK"
