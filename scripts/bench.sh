#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# Builds (Release) and runs the benchmarks; prints the per-record ratios against the targets,
# then the load figures (latency percentiles with a live and a stalled receiver, burst size).
# Extra arguments go to Google Benchmark (e.g. --benchmark_repetitions=5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPDLOG_SDNOTIFY_BUILD_BENCH=ON \
      -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_status_sink bench_load bench_flat >/dev/null
"$build/bench/bench_status_sink" --benchmark_repetitions=5 \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true "$@"
"$build/bench/bench_load"
# Its own reporter prints the medians and takes the ratios round by round.
"$build/bench/bench_flat" --benchmark_repetitions=9 --benchmark_min_time=0.2 \
    --benchmark_enable_random_interleaving=true "$@"
