#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# The unit tests (and sdnotify-watch's) under AddressSanitizer + UndefinedBehaviorSanitizer,
# then under ThreadSanitizer, from the CMake presets "asan" and "tsan" (CMakePresets.json).
#   scripts/sanitize.sh [asan] [tsan]      (both by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
presets=("$@"); [[ ${#presets[@]} -gt 0 ]] || presets=(asan tsan)
cd "$root"
for preset in "${presets[@]}"; do
  echo "== $preset"
  rm -rf "build-$preset"
  cmake --preset "$preset" >/dev/null
  cmake --build "build-$preset" -j"$(nproc)"
  # halt_on_error: the first report fails the test that caused it.
  (cd "build-$preset" &&
   ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
   ctest -R '^(unit|tool)\.' -j2 --output-on-failure)
done
