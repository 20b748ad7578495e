// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The program the system tests run as a Type=notify unit under a real systemd. Its arguments
// are a script of notifications, in order:
//   ready[:TEXT] status:TEXT stopping[:TEXT] reloading[:TEXT] watchdog watchdog-trigger
//   errno:N extend:USEC status-fill:C:N raw:DATAGRAM sleep:MS on-hup forever
//   log-burst:MS  log "progress N" through a spdlog logger with a status sink, as fast as it
//                 can for MS milliseconds, then "progress N (last)"; prints that last line
// TEXT takes C escapes (\n \r \t \e \\ \0 \xHH) so that hostile bytes fit in ExecStart=.
// on-hup: SIGHUP sends RELOADING=1, then READY=1 half a second later (a reload).
// A send that does not come back "sent" exits 3: under the unit, every send must reach PID 1.
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/notifier.h>
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> hup_pending{false};  // lock-free: safe in a signal handler

void on_hup(int) { hup_pending = true; }

// The probe's logger ("app", registered, with a status sink), made on first use.
std::shared_ptr<spdlog::logger> app_logger() {
    auto logger = spdlog::get("app");
    if (!logger) {
        logger = std::make_shared<spdlog::logger>("app",
                                                  std::make_shared<spdlog::sinks::null_sink_mt>());
        spdlog_sdnotify::attach(logger);
        spdlog::register_logger(logger);
    }
    return logger;
}

// Lives until exit (static destruction), as a lifecycle in main() would.
std::unique_ptr<spdlog_sdnotify::lifecycle> g_lifecycle;

// A sink that takes a lock per record (spdlog's base_sink, as the status sink did in 0.1.0), in
// front of the status sink: fork-children-locking, the negative control of fork-children.
class locking_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit locking_sink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override { inner_->log(msg); }
    void flush_() override {}

private:
    spdlog::sink_ptr inner_;
};

// Forks `n` children at random moments while three threads log, each through a logger of its
// own that shares the app logger's status sink (what attach_all() does); each child logs and
// returns through exit(). Prints how many did not end within a second. `locking`: the shared
// sink takes a lock first.
void fork_children(int n, bool locking) {
    auto log = app_logger();
    spdlog::sink_ptr status;
    for (auto &sink : log->sinks()) {
        if (!std::dynamic_pointer_cast<spdlog_sdnotify::status_sink_mt>(sink)) continue;
        if (locking) sink = std::make_shared<locking_sink>(sink);  // before any thread logs
        status = sink;
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> busy;
    for (int t = 0; t < 3; ++t)
        busy.emplace_back([&, t] {
            auto own = std::make_shared<spdlog::logger>(
                "busy" + std::to_string(t),
                spdlog::sinks_init_list{std::make_shared<spdlog::sinks::null_sink_mt>(), status});
            if (g_lifecycle) g_lifecycle->attach(own);
            for (long i = 0; !stop; ++i) own->info("busy {} record {}", t, i);
        });
    std::mt19937 random(7);
    int hung = 0, failed = 0;
    for (int i = 0; i < n; ++i) {
        std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
        const pid_t pid = fork();
        if (pid == 0) {
            for (int k = 0; k < 20; ++k) log->info("child record {}", k);
            std::exit(0);
        }
        int status = 0;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > until) {
                ++hung;
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    stop = true;
    for (auto &b : busy) b.join();
    std::printf("probe: fork-children: %d children, %d hung, %d failed\n", n, hung, failed);
    std::fflush(stdout);
    log->info("forked {} children", n);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string unescape(const std::string &in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 == in.size()) {
            out += in[i];
            continue;
        }
        const char c = in[++i];
        switch (c) {
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'e':
                out += '\x1b';
                break;
            case '0':
                out += '\0';
                break;
            case 'x':
                if (i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 && hex_digit(in[i + 2]) >= 0) {
                    out += static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
                    i += 2;
                } else {
                    out += "\\x";
                }
                break;
            default:
                out += c;
        }
    }
    return out;
}

void check(const char *what, const spdlog_sdnotify::notify_result &r) {
    std::printf("probe: %s -> %s\n", what,
                r.is_sent()         ? "sent"
                : r.is_no_manager() ? "no manager"
                                    : r.error().message().c_str());
    std::fflush(stdout);
    if (!r.is_sent()) std::exit(3);
}

}  // namespace

int main(int argc, char **argv) {
    spdlog_sdnotify::notifier n;
    bool handle_hup = false;
    int reloads = 0;
    auto serve_hup = [&] {
        if (!hup_pending) return;
        hup_pending = false;
        check("reloading", n.reloading("reloading configuration"));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        check("ready after reload", n.ready("reloaded " + std::to_string(++reloads)));
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto colon = arg.find(':');
        const std::string verb = arg.substr(0, colon);
        const std::string text = colon == std::string::npos ? "" : unescape(arg.substr(colon + 1));
        using spdlog_sdnotify::message;
        if (verb == "ready") {
            check("ready", n.ready(text));
        } else if (verb == "status") {
            check("status", n.status(text));
        } else if (verb == "stopping") {
            check("stopping", n.stopping(text));
        } else if (verb == "reloading") {
            check("reloading", n.reloading(text));
        } else if (verb == "watchdog") {
            check("watchdog", n.watchdog());
        } else if (verb == "watchdog-trigger") {
            check("watchdog-trigger", n.send(message{}.watchdog_trigger()));
        } else if (verb == "errno") {
            check("errno", n.send(message{}.errno_value(std::stoi(text))));
        } else if (verb == "extend") {
            check("extend",
                  n.send(message{}.extend_timeout(std::chrono::microseconds(std::stoll(text)))));
        } else if (verb == "raw") {
            check("raw", n.send_raw(text));
        } else if (verb == "status-fill") {
            const auto sep = text.find(':');
            check("status-fill", n.status(std::string(std::stoul(text.substr(sep + 1)), text[0])));
        } else if (verb == "sleep") {
            const auto until =
                std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(text));
            while (std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                if (handle_hup) serve_hup();
            }
        } else if (verb == "log-burst") {
            auto logger = std::make_shared<spdlog::logger>(
                "app", std::make_shared<spdlog::sinks::null_sink_mt>());
            spdlog_sdnotify::attach(logger);
            const auto until =
                std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stoi(text));
            long count = 0;
            while (std::chrono::steady_clock::now() < until) logger->info("progress {}", ++count);
            logger->info("progress {} (last)", count);
            std::printf("probe: last status line: progress %ld (last)\n", count);
            std::fflush(stdout);
            auto dispatcher = spdlog_sdnotify::dispatcher::default_instance();
            // No flush: the last record must go out on its own within min_interval (500 ms).
            std::this_thread::sleep_for(std::chrono::milliseconds(700));
            std::printf("probe: dispatcher sent %llu STATUS for %llu records\n",
                        static_cast<unsigned long long>(dispatcher->stats().status_sent),
                        static_cast<unsigned long long>(dispatcher->stats().posted));
            std::fflush(stdout);
        } else if (verb == "log" || verb == "log-error") {
            // Through a registered logger with a status sink, as an application logs.
            if (verb == "log") {
                app_logger()->info(text);
            } else {
                app_logger()->error(text);
            }
        } else if (verb == "lifecycle" || verb == "lifecycle-stop-at-exit" ||
                   verb == "lifecycle-signals") {
            // READY when a record contains `text`; stop_at_exit / stop_on_signals as named.
            spdlog_sdnotify::lifecycle_config c;
            c.ready_when = spdlog_sdnotify::rule::contains(text);
            c.stop_at_exit = verb == "lifecycle-stop-at-exit";
            c.stop_on_signals = verb == "lifecycle-signals";
            c.attach_to_all = false;
            g_lifecycle = std::make_unique<spdlog_sdnotify::lifecycle>(c);
            g_lifecycle->attach(app_logger());
        } else if (verb == "ignore-term") {
            signal(SIGTERM, SIG_IGN);
        } else if (verb == "fork-children" || verb == "fork-children-locking") {
            fork_children(std::stoi(text), verb == "fork-children-locking");
        } else if (verb == "shutdown-exit") {
            // A pre-fork server's way out: logging shut down, then _exit() (no destructors).
            spdlog::shutdown();
            _exit(0);
        } else if (verb == "exit-now") {
            _exit(0);  // the control: no shutdown, so a pending status may be lost
        } else if (verb == "on-hup") {
            handle_hup = true;
            struct sigaction sa {};
            sa.sa_handler = on_hup;
            sigaction(SIGHUP, &sa, nullptr);
        } else if (verb == "forever") {
            for (;;) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                if (handle_hup) serve_hup();
            }
        } else {
            std::fprintf(stderr, "probe: unknown action %s\n", arg.c_str());
            return 2;
        }
    }
    return 0;
}
