#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# clang-format (the .clang-format style: any difference fails) and clang-tidy (.clang-tidy:
# bug-prone and performance checks, warnings are errors) over the library, tools and examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-lint}
"$root/scripts/install-deps.sh"
cd "$root"
mapfile -t sources < <(git ls-files '*.cpp' '*.h')
echo "== clang-format --dry-run on ${#sources[@]} files"
clang-format --dry-run --Werror "${sources[@]}"
cmake -S "$root" -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DSPDLOG_SDNOTIFY_SYSTEM_TESTS=OFF \
      -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF >/dev/null
mapfile -t tidy < <(git ls-files 'src/*.cpp' 'tools/*.cpp' 'examples/*.cpp')
echo "== clang-tidy on ${#tidy[@]} files"
# g++ 12 defaults to C++17, so CMake passes no -std; clang-tidy (clang 14) needs it said.
# Its stderr is only "N warnings generated" counts (mostly system headers): shown on failure.
if ! clang-tidy -p "$build" --quiet --extra-arg=-std=c++17 "${tidy[@]}" 2>"$build/tidy.stderr"; then
  cat "$build/tidy.stderr" >&2
  exit 1
fi
echo "lint: clean"
