// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The one-include set-up as a C++20 program writes it, with designated initialisers (the
// packaging test builds it with CMAKE_CXX_STANDARD 20 and runs it outside systemd).
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <cstdio>

int main() {
    using spdlog_sdnotify::rule;
    spdlog_sdnotify::service notify({
        .status = {.level = spdlog::level::info, .pattern = "[%l] %v"},
        .lifecycle = {.ready_when = rule::contains("listening on"),
                      .stopping_when = rule::contains("shutting down"),
                      .failure_when = rule::any_at_least(spdlog::level::critical),
                      .stop_on_signals = true},
    });
    spdlog::info("listening on :8080");
    const bool ok =
        notify.lifecycle().current_state() == spdlog_sdnotify::lifecycle::state::starting &&
        notify.status_sink() != nullptr;  // outside systemd: nothing happens
    std::printf("consumer_cxx20: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
