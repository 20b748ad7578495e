// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The system tests' worker ($WORKER in tests/system/run_case.sh): an ordinary worker service, as
// examples/worker_service.cpp was until 0.2.0, with the switches the cases use to make it slow,
// hung, unhealthy or watched by records. The example itself carries no test switches.
//
//   worker_probe [--start-delay MS] [--stop-delay MS] [--start-hang 1] [--stop-hang 1]
//                [--unhealthy-after MS] [--requests-every MS] [--hang-after MS]
//                [--watchdog-by-records 1 | --watchdog-by-timer 1]
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace {

// Lock-free atomics are safe in a signal handler, and visible to every thread.
std::atomic<bool> stop_requested{false};
std::atomic<bool> reload_requested{false};

class worker {
public:
    worker(int unhealthy_after_ms, int requests_every_ms)
        : unhealthy_after_(unhealthy_after_ms), requests_every_(requests_every_ms) {}

    bool healthy() const {
        return unhealthy_after_ < 0 || std::chrono::steady_clock::now() - started_ <
                                           std::chrono::milliseconds(unhealthy_after_);
    }

    int run() {
        spdlog::info("loading configuration");
        if (hang_at_start_) hang();
        steps("loading", start_delay_);
        spdlog::info("listening on :8080");
        started_ = std::chrono::steady_clock::now();
        long handled = 0;
        auto next_report = std::chrono::steady_clock::now();
        while (!stop_requested) {
            if (reload_requested) {
                reload_requested = false;
                spdlog::info("reloading configuration");
                std::this_thread::sleep_for(std::chrono::milliseconds(500));
                spdlog::info("configuration reloaded");
            }
            if (hang_after_ >= 0 && std::chrono::steady_clock::now() - started_ >
                                        std::chrono::milliseconds(hang_after_))
                hang();                                                  // a deadlocked main loop
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // "handle a request"
            ++handled;
            if (std::chrono::steady_clock::now() >= next_report) {
                spdlog::info("handled {} requests", handled);
                next_report =
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(requests_every_);
            }
        }
        spdlog::info("draining {} connections", 3);
        if (hang_at_stop_) hang();
        steps("draining", stop_delay_);
        spdlog::info("shut down cleanly after {} requests", handled);
        return 0;
    }

    int start_delay_ = 200;
    int stop_delay_ = 300;
    bool hang_at_start_ = false;  // a deadlock: no more log lines, no progress
    bool hang_at_stop_ = false;
    int hang_after_ = -1;

private:
    // A long start or stop that logs a step each second, as real ones do.
    static void steps(const char *what, int ms) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        for (int step = 1;; ++step) {
            const auto left = until - std::chrono::steady_clock::now();
            if (left <= std::chrono::seconds(0)) break;
            std::this_thread::sleep_for(
                std::min<std::chrono::steady_clock::duration>(left, std::chrono::seconds(1)));
            if (std::chrono::steady_clock::now() < until) spdlog::info("{}: step {}", what, step);
        }
    }
    [[noreturn]] static void hang() {
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }

    int unhealthy_after_;
    int requests_every_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

int option(int argc, char **argv, const char *name, int fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::stoi(argv[i + 1]);
    return fallback;
}

}  // namespace

int main(int argc, char **argv) {
    worker app(option(argc, argv, "--unhealthy-after", -1),
               option(argc, argv, "--requests-every", 2000));
    app.start_delay_ = option(argc, argv, "--start-delay", 200);
    app.stop_delay_ = option(argc, argv, "--stop-delay", 300);
    app.hang_at_start_ = option(argc, argv, "--start-hang", 0) != 0;
    app.hang_at_stop_ = option(argc, argv, "--stop-hang", 0) != 0;
    app.hang_after_ = option(argc, argv, "--hang-after", -1);

    // The application's own signal handling.
    struct sigaction sa {};
    sa.sa_handler = [](int) { stop_requested = true; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = [](int) { reload_requested = true; };
    sigaction(SIGHUP, &sa, nullptr);

    // ---- spdlog_sdnotify set-up: the only lines added for systemd ----
    spdlog_sdnotify::service_config notify;  // log lines become `systemctl status`'s Status:
    notify.lifecycle.ready_when = spdlog_sdnotify::rule::contains("listening on");
    notify.lifecycle.reloaded_when = spdlog_sdnotify::rule::contains("configuration reloaded");
    notify.lifecycle.reload_on_sighup = true;  // RELOADING=1, then the app's handler
    notify.lifecycle.stop_on_signals = true;   // STOPPING=1, then the app's handler
    notify.lifecycle.extend_timeout = std::chrono::seconds(3);    // a start or stop that logs
    notify.lifecycle.healthy = [&app] { return app.healthy(); };  // no ping when unhealthy
    if (option(argc, argv, "--watchdog-by-records", 0) != 0) {
        notify.lifecycle.healthy = nullptr;  // pings only while the main loop logs
        notify.lifecycle.alive_when = spdlog_sdnotify::rule::contains("handled");
    } else if (option(argc, argv, "--watchdog-by-timer", 0) != 0) {
        notify.lifecycle.healthy =
            nullptr;  // pings from our thread alone: proves only that it runs
    }
    spdlog_sdnotify::service service(notify);  // one sink on every logger, for both
    // ---- end of set-up ----

    return app.run();
}
