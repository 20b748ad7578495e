#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# The demo: installs the dependencies, builds, and runs the hello example under sdnotify-watch,
# which shows what systemd would show for it (state and Status line), no systemd needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-demo}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target sdnotify-watch notify_hello >/dev/null
exec "$build/tools/sdnotify-watch" -- "$build/examples/notify_hello" 3
