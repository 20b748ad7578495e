// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// An existing request worker, made to report to systemd with set-up lines only (marked).
// It logs what it does; `systemctl status` shows the latest line, the unit turns active on
// "accepting requests", and SIGTERM is reported as STOPPING before the worker's own handling.
//
// Unit file: examples/request_worker.service
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace {
std::atomic<bool> running{true};  // lock-free: safe in a signal handler
}

int main() {
    signal(SIGTERM, [](int) { running = false; });

    // ---- spdlog_sdnotify set-up ----
    spdlog_sdnotify::service_config notify;  // every log line becomes the Status
    notify.lifecycle.ready_when = spdlog_sdnotify::rule::contains("accepting requests");
    notify.lifecycle.stop_on_signals = true;  // STOPPING=1, then the handler above
    spdlog_sdnotify::service service(notify);
    // ---- end of set-up ----

    spdlog::info("connecting to the queue");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    spdlog::info("accepting requests");
    std::mt19937 rng(42);
    long served = 0;
    while (running) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 50));
        if (++served % 10 == 0)
            spdlog::info("served {} requests, queue depth {}", served, rng() % 8);
    }
    spdlog::info("stopped after {} requests", served);
    return 0;
}
