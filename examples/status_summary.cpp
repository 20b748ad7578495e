// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The status summary: `systemctl status` shows the newest line, then how many errors and
// warnings the last 5 minutes held and the last error's time and text, e.g.
//   Status: "handled request 40 · 2 errors, 3 warnings in 5 min, last error at 14:02:11: db1
//   unreachable"
// Run it under sdnotify-watch (sdnotify-watch -- ./status_summary) or as a Type=notify unit;
// elsewhere it just logs. Argument: how long to stay up after the work, in seconds (default 0).
#include <spdlog_sdnotify/service.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

int main(int argc, char **argv) {
    const int linger = argc > 1 ? std::stoi(argv[1]) : 0;
    spdlog_sdnotify::service_config config;
    config.status.summary = true;  // the newest line, then the counts and the last error
    config.lifecycle.ready_when = spdlog_sdnotify::rule::contains("listening on");
    config.lifecycle.stop_on_signals = true;
    spdlog_sdnotify::service notify(config);

    auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); };
    spdlog::info("listening on :8080");
    for (int i = 1; i <= 40; ++i) {
        if (i == 10 || i == 25) spdlog::error("db1 unreachable");
        if (i % 12 == 0) spdlog::warn("slow request {} (2.1 s)", i);
        spdlog::info("handled request {}", i);
        if (i % 10 == 0) pause();
    }
    pause();
    for (int s = 0; s < linger; ++s) std::this_thread::sleep_for(std::chrono::seconds(1));
    return 0;
}
