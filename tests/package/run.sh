#!/usr/bin/env bash
# Proves the three ways to use tofu: find_package against an install, add_subdirectory of the source
# tree, and a recipe file copied out and compiled on its own against the installed package; and that the
# installed programs (tofu-echo, tofucat) run, from a static and from a shared build.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

echo "--- install into $work/prefix"
cmake -S "$src" -B "$work/tofu" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTOFU_BUILD_TESTS=OFF \
      -DTOFU_BUILD_RECIPES=ON -DTOFU_BUILD_BENCH=OFF -DTOFU_INSTALL=ON -DTOFU_INSTALL_PROGRAMS=ON \
      -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/tofu" -j2 >/dev/null
cmake --install "$work/tofu" >/dev/null
(cd "$work/prefix" && find . -type f | sort)

# programs PREFIX: the installed tofu-echo and tofucat run (--help prints their usage, exit 0).
programs() {
    local p
    for p in tofu-echo tofucat; do
        [ -x "$1/bin/$p" ] || { echo "FAIL: $p not installed in $1/bin"; exit 1; }
        "$1/bin/$p" --help | grep -q "^usage" || { echo "FAIL: $1/bin/$p --help"; exit 1; }
    done
    echo "installed programs run: $1/bin/tofu-echo, $1/bin/tofucat"
}
echo "--- installed programs"
programs "$work/prefix"

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
echo "--- pkg-config, with the install tree moved after install (tofu.pc is relocatable)"
if command -v pkg-config >/dev/null; then
    cp -a "$work/prefix" "$work/moved"
    PKG_CONFIG_PATH="$work/moved/lib/pkgconfig:$work/moved/lib/x86_64-linux-gnu/pkgconfig" \
        bash -c 'pkg-config --cflags tofu | grep -q -- "-I$2" && c++ -std=c++20 "$0" -o "$1" $(pkg-config --cflags --libs tofu)' \
        "$src/tests/package/main.cpp" "$work/pc-consumer" "$work/moved"
    "$work/pc-consumer"
else
    echo "SKIP: pkg-config not installed"
fi

echo "--- shared library (BUILD_SHARED_LIBS=ON) into $work/shared"
cmake -S "$src" -B "$work/tofu-shared" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
      -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_RECIPES=ON -DTOFU_BUILD_BENCH=OFF -DTOFU_INSTALL=ON \
      -DTOFU_INSTALL_PROGRAMS=ON -DCMAKE_INSTALL_PREFIX="$work/shared" >/dev/null
cmake --build "$work/tofu-shared" -j2 >/dev/null
cmake --install "$work/tofu-shared" >/dev/null
lib="$(find "$work/shared" -name 'libtofu.so.*.*.*' | head -1)"
objdump -p "$lib" | grep SONAME
# Only the public API is exported: no engine internals (tofu::detail, Reactor::Impl).
if nm -DC --defined-only "$lib" | cut -d' ' -f3- | grep -E "^((typeinfo( name)?|vtable) for )?tofu::(detail|Reactor::Impl)"; then
    echo "FAIL: internal symbols exported"; exit 1
fi
echo "exported tofu symbols: $(nm -DC --defined-only "$lib" | grep -c 'tofu::')"
cmake -S "$src/tests/package" -B "$work/fps" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/shared" >/dev/null
cmake --build "$work/fps" >/dev/null
"$work/fps/consumer"
cp -a "$work/shared" "$work/shared-moved"  # the programs find libtofu.so relative to themselves
programs "$work/shared-moved"
echo "--- consumers OK"
