#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# A/B of a mechanism: bench_flat built (Release) at two revisions, run alternately in one
# session, so that both see the same machine. Each run prints its ratios (round by round
# against the base in the same process); this prints, per row, the median of those ratios over
# the runs of A and of B.
#   scripts/bench_ab.sh REV_A REV_B [RUNS] [extra bench_flat arguments, e.g. --benchmark_filter=...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a=${1:?REV_A}; b=${2:?REV_B}; runs=${3:-6}; shift $(( $# < 3 ? $# : 3 ))
work=${AB_DIR:-/tmp/spdlog_sdnotify-ab}
build() {  # rev -> path of its bench_flat
    local rev=$1 dir
    dir=$work/$(git -C "$root" rev-parse --short "$rev")
    if [[ ! -x $dir/build/bench/bench_flat ]]; then
        rm -rf "$dir"; mkdir -p "$dir/src"
        git -C "$root" archive "$rev" | tar -x -C "$dir/src"
        cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release \
              -DSPDLOG_SDNOTIFY_BUILD_BENCH=ON -DSPDLOG_SDNOTIFY_BUILD_TESTS=OFF \
              -DSPDLOG_SDNOTIFY_BUILD_EXAMPLES=OFF -DSPDLOG_SDNOTIFY_BUILD_TOOLS=OFF >/dev/null
        cmake --build "$dir/build" -j2 --target bench_flat >/dev/null
    fi
    echo "$dir/build/bench/bench_flat"
}
bin_a=$(build "$a"); bin_b=$(build "$b")
out=$(mktemp -d)
for ((i = 0; i < runs; ++i)); do
    # Alternate which goes first.
    if ((i % 2 == 0)); then order=(a b); else order=(b a); fi
    for v in "${order[@]}"; do
        bin=bin_$v
        "${!bin}" --benchmark_repetitions=5 --benchmark_min_time=0.1 \
            --benchmark_enable_random_interleaving=true "$@" >"$out/$v.$i" 2>/dev/null
    done
done
python3 - "$out" "$runs" "$a" "$b" <<'EOF'
import re, statistics, sys
out, runs, ra, rb = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
row = re.compile(r'^(.*?) +([0-9.]+) +([0-9.]+) +([0-9.]+) +(ok|MISSED)$')
table = {}
for v in 'ab':
    for i in range(runs):
        for line in open(f'{out}/{v}.{i}'):
            m = row.match(line.rstrip('\n'))
            if m: table.setdefault(m.group(1).strip(), {}).setdefault(v, []).append(float(m.group(3)))
print(f'{"row (median of the round-by-round ratios over %d runs each)" % runs:<62} {ra:>10} {rb:>10}')
for name, r in table.items():
    fa = statistics.median(r['a']) if 'a' in r else float('nan')
    fb = statistics.median(r['b']) if 'b' in r else float('nan')
    print(f'{name:<62} {fa:>10.3f} {fb:>10.3f}   A {r.get("a")}  B {r.get("b")}')
EOF
rm -rf "$out"
