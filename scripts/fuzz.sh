#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# Builds the libFuzzer targets (clang, with ASan and UBSan) and runs each for SECONDS
# (default 20) on a copy of the seed corpus in fuzz/corpus/. Exit status non-zero if a target
# finds a crash or a broken invariant (the reproducer is left in the build folder).
#   scripts/fuzz.sh [SECONDS] [-jobs=N ...extra libFuzzer flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${1:-20}; shift || true
"$root/scripts/install-deps.sh"
mkdir -p "$build"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I"$root/receiver/include" -I"$root/src")
lib=("$root/src/message.cpp" "$root/receiver/receiver.cpp" "$root/src/notifier.cpp"
     "$root/src/notify_address.cpp"
     "$root/src/error.cpp")
status=0
for target in fuzz_message fuzz_parser; do
  clang++ "${flags[@]}" "${lib[@]}" "$root/fuzz/$target.cpp" -o "$build/$target"
  corpus=$build/corpus-${target#fuzz_}
  mkdir -p "$corpus"
  cp -n "$root/fuzz/corpus/${target#fuzz_}/"* "$corpus/" 2>/dev/null || true
  echo "== $target for ${seconds}s"
  if ! (cd "$build" && "./$target" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
          "$@" "$corpus" 2>&1 | tee "$build/$target.log" | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|invariant)'); then
    :
  fi
  if grep -qE 'ERROR: libFuzzer|invariant broken|SUMMARY: (Address|Undefined)' "$build/$target.log"; then
    echo "FAIL: $target (see $build/$target.log)"; status=1
  else
    echo "ok: $target"
  fi
done
exit $status
