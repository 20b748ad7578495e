// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// sdnotify-watch: run a program the way a Type=notify unit runs it, without systemd.
//
//   sdnotify-watch [--watchdog-usec N] [--all] -- ./my_service args...
//
// It makes a notify socket, starts the program with NOTIFY_SOCKET (and WATCHDOG_USEC and
// WATCHDOG_PID when asked), and prints what systemd would show, parsed exactly as PID 1 parses
// it: the state (activating, active, reloading, deactivating), the Status line, and warnings for
// messages PID 1 would drop or mangle. Signals it gets are passed on to the program, and it exits
// with the program's status.
#include <spdlog_sdnotify/receiver.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

std::atomic<int> forward_signal{0};  // lock-free: safe in a signal handler
void on_signal(int sig) { forward_signal = sig; }

using clock_type = std::chrono::steady_clock;

int usage() {
    std::fprintf(stderr,
                 "usage: sdnotify-watch [--watchdog-usec N] [--all] -- COMMAND [ARGS...]\n"
                 "  --watchdog-usec N  give the program WATCHDOG_USEC=N and report missed pings\n"
                 "  --all              accept messages from any process (NotifyAccess=all);\n"
                 "                     by default only the program itself counts (main)\n");
    return 2;
}

}  // namespace

int main(int argc, char **argv) {
    long long watchdog_usec = 0;
    bool notify_all = false;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        } else if (arg == "--watchdog-usec" && i + 1 < argc) {
            const std::string_view v = argv[++i];
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), watchdog_usec);
            if (ec != std::errc{} || end != v.data() + v.size() || watchdog_usec <= 0) {
                std::fprintf(stderr,
                             "sdnotify-watch: --watchdog-usec wants a positive number of "
                             "microseconds, not '%s'\n",
                             argv[i]);
                return 2;
            }
        } else if (arg == "--all") {
            notify_all = true;
        } else if (arg == "-h" || arg == "--help") {
            return usage();
        } else {
            break;
        }
    }
    if (i >= argc) return usage();

    char dir_template[] = "/tmp/sdnotify-watch-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
        std::perror("sdnotify-watch: mkdtemp");
        return 1;
    }
    const std::string dir = dir_template;
    std::error_code ec;
    spdlog_sdnotify::notify_receiver receiver(dir + "/notify", ec);
    if (ec) {
        std::fprintf(stderr, "sdnotify-watch: cannot bind %s/notify: %s\n", dir.c_str(),
                     ec.message().c_str());
        return 1;
    }

    const auto start = clock_type::now();
    const pid_t child = fork();
    if (child < 0) {
        std::perror("sdnotify-watch: fork");
        return 1;
    }
    if (child == 0) {
        setenv("NOTIFY_SOCKET", receiver.address().c_str(), 1);
        if (watchdog_usec > 0) {
            setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
            setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
        }
        execvp(argv[i], argv + i);
        std::fprintf(stderr, "sdnotify-watch: cannot run %s: %s\n", argv[i], std::strerror(errno));
        _exit(127);
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);

    auto stamp = [&] { return std::chrono::duration<double>(clock_type::now() - start).count(); };
    // On a terminal the status line is redrawn in place; piped, every change is a line of its own.
    const bool tty = isatty(STDOUT_FILENO) == 1;
    bool live_line = false;  // a redrawable line is on screen (tty)
    auto permanent = [&](const char *fmt, auto... args) {
        if (live_line) std::printf("\r\033[2K");
        live_line = false;
        std::printf("[%8.3f] ", stamp());
        std::printf(fmt, args...);
        std::printf("\n");
    };
    spdlog_sdnotify::service_model model;
    std::size_t model_warnings_seen = 0;
    auto last_ping = clock_type::now();
    bool watchdog_late = false;
    permanent("state=%s (started pid %d, NOTIFY_SOCKET=%s%s)", model.active_state(),
              static_cast<int>(child), receiver.address().c_str(),
              watchdog_usec > 0 ? ", WATCHDOG_USEC set" : "");
    std::fflush(stdout);

    std::string shown_state = model.active_state(), shown_status;
    int shown_errno = 0;
    int status = 0;
    bool exited = false;
    while (true) {
        if (forward_signal != 0) {
            kill(child, forward_signal);
            forward_signal = 0;
        }
        if (!exited && waitpid(child, &status, WNOHANG) == child) exited = true;
        auto d = receiver.receive(std::chrono::milliseconds(exited ? 0 : 50));
        if (!d) {
            if (exited) break;
            // A WATCHDOG_USEC= from the service changes the interval, as it does for PID 1.
            const long long interval = static_cast<long long>(
                model.watchdog_usec_override().value_or(static_cast<std::uint64_t>(watchdog_usec)));
            if (interval > 0 && model.current_state() != decltype(model)::state::activating &&
                model.current_state() != decltype(model)::state::deactivating && !watchdog_late &&
                clock_type::now() - last_ping > std::chrono::microseconds(interval)) {
                permanent(
                    "warning: watchdog: no WATCHDOG=1 for %lld us; systemd would run the "
                    "watchdog action now",
                    interval);
                watchdog_late = true;
            }
            std::fflush(stdout);
            continue;
        }
        if (!notify_all && d->sender_pid != 0 && d->sender_pid != child) {
            permanent(
                "ignored: message from pid %d, but only the main pid %d may send "
                "(NotifyAccess=main)",
                static_cast<int>(d->sender_pid), static_cast<int>(child));
            continue;
        }
        const auto parsed = spdlog_sdnotify::parse_notification(d->bytes, d->truncated);
        if (!parsed.accepted) {
            permanent("DROPPED by PID 1: %s", parsed.drop_reason.c_str());
            continue;
        }
        for (const auto &w : parsed.warnings) permanent("warning: %s", w.c_str());
        const std::uint64_t pings_before = model.watchdog_pings();
        // READY=1 again while active, no RELOADING=1 since: two parties announce readiness (an
        // application that kept its own sd_notify calls next to the library's).
        const auto has = [&](const char *a) {
            for (const auto &x : parsed.assignments)
                if (x == a) return true;
            return false;
        };
        if (model.current_state() == decltype(model)::state::active && has("READY=1") &&
            !has("RELOADING=1"))
            permanent(
                "warning: a second READY=1 with no RELOADING=1 between: is something else "
                "(the application's own sd_notify call?) announcing readiness too?");
        model.apply(parsed);
        for (; model_warnings_seen < model.warnings().size(); ++model_warnings_seen)
            permanent("warning: %s", model.warnings()[model_warnings_seen].c_str());
        if (model.watchdog_pings() != pings_before) {
            last_ping = clock_type::now();
            watchdog_late = false;
        }
        // What else the message said (READY=1, EXTEND_TIMEOUT_USEC=...), pings aside.
        std::string extras;
        for (const auto &a : parsed.assignments) {
            if (a.rfind("STATUS=", 0) == 0 || a == "WATCHDOG=1") continue;
            extras += (extras.empty() ? "" : " ") + a;
        }
        const bool state_changed = shown_state != model.active_state();
        const bool changed = state_changed || shown_status != model.status_text() ||
                             shown_errno != model.status_errno() || !extras.empty();
        shown_state = model.active_state();
        shown_status = model.status_text();
        shown_errno = model.status_errno();
        if (tty && !state_changed && extras.empty()) {
            // Status churn and pings: redraw one line in place.
            std::printf("\r\033[2K[%8.3f] state=%s status=\"%s\" (pings %llu)", stamp(),
                        model.active_state(), model.status_text().c_str(),
                        static_cast<unsigned long long>(model.watchdog_pings()));
            live_line = true;
        } else if (changed) {
            std::string line = "state=";
            line.append(shown_state).append(" status=\"").append(shown_status).append("\"");
            if (shown_errno != 0) line += " errno=" + std::to_string(shown_errno);
            if (!extras.empty()) line += " (" + extras + ")";
            permanent("%s", line.c_str());
        }
        std::fflush(stdout);
    }
    if (live_line) std::printf("\n");
    unlink(receiver.address().c_str());
    rmdir(dir.c_str());
    if (WIFSIGNALED(status)) {
        permanent("exited: killed by signal %d", WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    permanent("exited: status %d", WEXITSTATUS(status));
    return WEXITSTATUS(status);
}
