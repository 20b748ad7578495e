#!/usr/bin/env bash
# Copyright (c) 2026 spdlog_sdnotify authors.
# Distributed under the MIT License (http://opensource.org/licenses/MIT)
#
# The demo: installs the dependencies, builds, and runs the worker example under sdnotify-watch,
# which shows what systemd would show (state and Status line), no systemd needed. After 2 s it
# sends SIGHUP (a reload), after 4 s SIGTERM (a stop), as `systemctl reload` and `stop` would.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-demo}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target sdnotify-watch worker_service >/dev/null
"$build/tools/sdnotify-watch" --watchdog-usec 2000000 -- \
    "$build/examples/worker_service" 2>/dev/null &
watch=$!
sleep 2; kill -HUP "$watch"
sleep 2; kill -TERM "$watch"
wait "$watch"
