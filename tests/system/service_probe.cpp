// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// A small daemon as users write them: `service` on main's stack, spdlog's default logger (to
// stdout, so the journal), its own signal handlers. The system tests run it as a unit to see
// what systemd is told when the application owns its handlers, its reload fails, its level is
// production's, and it ends in the ways programs end.
//   --handlers before|after|chainedthe app's SIGTERM handler: set before the service, after it
//                                  (replacing ours), or after it calling the one it replaced
//   --reload ok|fail|silent        what the app's SIGHUP reload does (its handler sets a flag)
//   --reload-timeout MS            lifecycle_config::reload_timeout
//   --level LEVEL                  spdlog::set_level(LEVEL) after the set-up
//   --job N --leave HOW            a job: logs "listening on", then N steps within min_interval,
//                                  then leaves by exit, shutdown-exit, shutdown-_exit or return
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/spdlog.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_term{false};
std::atomic<bool> g_hup{false};
bool g_chain = false;
struct sigaction g_replaced {};

void app_term(int sig, siginfo_t *info, void *context) {
    g_term = true;
    if (!g_chain) return;
    // The usual "save the old action, call it after mine".
    if (g_replaced.sa_flags & SA_SIGINFO) {
        if (g_replaced.sa_sigaction != nullptr) g_replaced.sa_sigaction(sig, info, context);
    } else if (g_replaced.sa_handler != SIG_DFL && g_replaced.sa_handler != SIG_IGN) {
        g_replaced.sa_handler(sig);
    }
}

void app_hup(int) { g_hup = true; }

void install_term(bool chain) {
    g_chain = chain;
    struct sigaction sa {};
    sa.sa_sigaction = app_term;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &g_replaced);
}

std::string arg(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

}  // namespace

int main(int argc, char **argv) {
    const std::string handlers = arg(argc, argv, "--handlers", "before");
    const std::string reload = arg(argc, argv, "--reload", "ok");
    const std::string level = arg(argc, argv, "--level", "");
    const int job = std::atoi(arg(argc, argv, "--job", "0").c_str());
    const std::string leave = arg(argc, argv, "--leave", "return");

    signal(SIGHUP, app_hup);  // the app reloads on SIGHUP: before the service, as it should
    if (handlers == "before") install_term(false);
    spdlog_sdnotify::service_config c;
    c.lifecycle.ready_when = spdlog_sdnotify::rule::contains("listening on");
    c.lifecycle.stopping_when = spdlog_sdnotify::rule::contains("shutting down");
    c.lifecycle.stop_on_signals = true;
    c.lifecycle.reload_on_sighup = true;
    c.lifecycle.reloaded_when = spdlog_sdnotify::rule::contains("configuration reloaded");
    c.lifecycle.reload_timeout =
        std::chrono::milliseconds(std::atoi(arg(argc, argv, "--reload-timeout", "10000").c_str()));
    spdlog_sdnotify::service notify(c);
    if (handlers == "after" || handlers == "chained") install_term(handlers == "chained");
    if (!level.empty()) spdlog::set_level(spdlog::level::from_str(level));

    spdlog::info("listening on :8080");
    if (job > 0) {
        for (int i = 1; i <= job; ++i) spdlog::info("step {}{}", i, i == job ? " (last)" : "");
        if (leave == "exit") std::exit(0);
        if (leave == "shutdown-exit") {
            spdlog::shutdown();
            std::exit(0);
        }
        if (leave == "shutdown-_exit") {
            spdlog::shutdown();
            _exit(0);
        }
        return 0;
    }
    while (!g_term) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!g_hup.exchange(false)) continue;
        spdlog::info("reloading /etc/probe.conf");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        if (reload == "ok") spdlog::info("configuration reloaded");
        if (reload == "fail") spdlog::error("reload failed: /etc/probe.conf line 3: unknown key");
    }
    spdlog::info("shutting down cleanly");
    return 0;
}
