// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// An ordinary worker service: it logs with spdlog, handles SIGTERM and SIGHUP itself, re-reads
// its configuration file on SIGHUP, and knows whether its main loop still turns. The only lines
// added for systemd are in the marked set-up block; the rest of the program makes no call of ours.
//
//   worker_service [CONFIG_FILE]
//
// systemd sees: READY=1 on "listening on", RELOADING=1 on SIGHUP and READY=1 again on
// "configuration reloaded" (or, when the file cannot be read, on the error logged instead: the
// reload is answered and the error stays shown as the Status), STOPPING=1 on SIGTERM, and a
// watchdog ping only while the main loop turns.
// Unit file: examples/worker_service.service (Type=notify, WatchdogSec=, ExecReload=).
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

namespace {

// Lock-free atomics are safe in a signal handler, and visible to every thread.
std::atomic<bool> stop_requested{false};
std::atomic<bool> reload_requested{false};

class worker {
public:
    explicit worker(std::string config_file) : config_file_(std::move(config_file)) {}

    // Asked from another thread: has the main loop turned in the last two seconds?
    bool healthy() const {
        return std::chrono::steady_clock::now().time_since_epoch().count() - last_turn_.load() <
               std::chrono::steady_clock::duration(std::chrono::seconds(2)).count();
    }

    int run() {
        spdlog::info("loading configuration");
        if (!load_configuration()) return 1;
        spdlog::info("listening on :8080");
        long handled = 0;
        auto next_report = std::chrono::steady_clock::now();
        while (!stop_requested) {
            last_turn_ = std::chrono::steady_clock::now().time_since_epoch().count();
            if (reload_requested.exchange(false)) {
                spdlog::info("reloading configuration");
                if (load_configuration()) spdlog::info("configuration reloaded");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // "handle a request"
            ++handled;
            if (std::chrono::steady_clock::now() >= next_report) {
                spdlog::info("handled {} requests", handled);
                next_report = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            }
        }
        spdlog::info("draining {} connections", 3);
        spdlog::info("shut down cleanly after {} requests", handled);
        return 0;
    }

private:
    // Keeps the current configuration when the file cannot be read, and says so at error level.
    bool load_configuration() {
        if (config_file_.empty()) return true;  // the built-in defaults
        std::ifstream in(config_file_);
        if (!in) {
            spdlog::error("cannot read {}: keeping the current configuration", config_file_);
            return false;
        }
        configuration_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        return true;
    }

    std::string config_file_;
    std::string configuration_;
    std::atomic<std::chrono::steady_clock::rep> last_turn_{
        std::chrono::steady_clock::now().time_since_epoch().count()};
};

}  // namespace

int main(int argc, char **argv) {
    worker app(argc > 1 ? argv[1] : "");

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
    notify.lifecycle.healthy = [&app] { return app.healthy(); };  // no ping when the loop hangs
    spdlog_sdnotify::service service(notify);  // one sink on every logger, for both
    // ---- end of set-up ----

    return app.run();
}
