// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// An ordinary worker service: it logs with spdlog, handles SIGTERM and SIGHUP itself, and
// knows whether it is healthy. The only lines added for systemd are in the marked set-up block;
// the rest of the program makes no call of ours.
//
//   worker_service [--start-delay MS] [--unhealthy-after MS] [--requests-every MS]
//
// Unit file: examples/worker_service.service (Type=notify, WatchdogSec=, ExecReload=).
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/spdlog.h>

#include <signal.h>

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
    worker(int start_delay_ms, int unhealthy_after_ms, int requests_every_ms)
        : start_delay_(start_delay_ms),
          unhealthy_after_(unhealthy_after_ms),
          requests_every_(requests_every_ms) {}

    bool healthy() const {
        return unhealthy_after_ < 0 || std::chrono::steady_clock::now() - started_ <
                                           std::chrono::milliseconds(unhealthy_after_);
    }

    int run() {
        spdlog::info("loading configuration");
        std::this_thread::sleep_for(std::chrono::milliseconds(start_delay_));
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
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // "handle a request"
            ++handled;
            if (std::chrono::steady_clock::now() >= next_report) {
                spdlog::info("handled {} requests", handled);
                next_report =
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(requests_every_);
            }
        }
        spdlog::info("draining {} connections", 3);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        spdlog::info("shut down cleanly after {} requests", handled);
        return 0;
    }

private:
    int start_delay_;
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
    worker app(option(argc, argv, "--start-delay", 200),
               option(argc, argv, "--unhealthy-after", -1),
               option(argc, argv, "--requests-every", 2000));

    // The application's own signal handling.
    struct sigaction sa {};
    sa.sa_handler = [](int) { stop_requested = true; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = [](int) { reload_requested = true; };
    sigaction(SIGHUP, &sa, nullptr);

    // ---- spdlog_sdnotify set-up: the only lines added for systemd ----
    spdlog_sdnotify::attach_all();  // log lines become `systemctl status`'s Status:
    spdlog_sdnotify::lifecycle_config notify;
    notify.ready_when = spdlog_sdnotify::rule::contains("listening on");
    notify.reloaded_when = spdlog_sdnotify::rule::contains("configuration reloaded");
    notify.reload_on_sighup = true;                     // RELOADING=1, then the app's handler
    notify.stop_on_signals = true;                      // STOPPING=1, then the app's handler
    notify.extend_timeout = std::chrono::seconds(3);    // slow start or stop is not killed
    notify.healthy = [&app] { return app.healthy(); };  // no watchdog ping when unhealthy
    spdlog_sdnotify::lifecycle lifecycle(notify);
    // ---- end of set-up ----

    return app.run();
}
