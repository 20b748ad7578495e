#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# The test command: installs the dependencies, builds from scratch with warnings as errors, and
# runs every test with ctest: the unit tests and, as root, the tests against a real systemd
# (Debian 12's 252 and Debian 13's 257, booted in systemd-nspawn). Without root the system tests
# are skipped, each with the reason printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-tests}
"$root/scripts/install-deps.sh"
rm -rf "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPDLOG_SDNOTIFY_BUILD_WARNINGS=ON
cmake --build "$build" -j"$(nproc)"
cd "$build"
if [[ $(id -u) != 0 ]]; then
  echo "note: not root, so the tests against a real systemd (system.*) are skipped: booting" \
       "systemd in systemd-nspawn needs root. Run this script as root to include them."
fi
ctest --output-on-failure -j2 "$@"
