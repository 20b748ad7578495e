// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The lifecycle's signal handlers and its exit() hook: SIGTERM/SIGINT send STOPPING=1, SIGHUP
// RELOADING=1, then the handler the application had set runs. Installed once, at set-up, in
// front of the application's handlers; after that, hands off: a handler the application
// installs later is never replaced or reordered (the wiring check reports it instead).

#include <vector>

namespace spdlog_sdnotify {
namespace details {

struct lifecycle_state;

// Takes the signals `s` asks for and the exit() hook. False if another lifecycle has them.
bool take_signals(lifecycle_state &s);
// At the lifecycle's end: each handler that is still ours goes back to the one it was put in
// front of; a handler the application installed since stays.
void give_back_signals(lifecycle_state &s);
// The signals whose handler is no longer ours (the application installed its own after the
// set-up). Only reads the handlers (sigaction with no new action).
std::vector<int> replaced_signal_handlers();

}  // namespace details
}  // namespace spdlog_sdnotify
