// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/lifecycle.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <signal.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "catch.h"
#include "fake_receiver.h"
#include "said_log.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::dispatcher;
using spdlog_sdnotify::lifecycle;
using spdlog_sdnotify::lifecycle_config;
using spdlog_sdnotify::rule;
using test::fake_receiver;

namespace {

struct fixture {
    fixture() {
        dispatch = test::dispatcher_to(rx);
        app = std::make_shared<spdlog::logger>("app",
                                               std::make_shared<spdlog::sinks::null_sink_mt>());
        app->set_level(spdlog::level::trace);
    }
    lifecycle_config config() const {
        lifecycle_config c;
        c.dispatcher = dispatch;
        c.attach_to_all = false;
        c.ready_by_call = true;  // the tests that want READY from a record set ready_when
        return c;
    }
    // Every datagram that arrives within `quiet` of the previous one.
    std::vector<std::string> received(std::chrono::milliseconds quiet = 300ms) {
        const auto before = rx.raw.size();
        rx.drain(quiet);
        return {rx.raw.begin() + static_cast<long>(before), rx.raw.end()};
    }
    std::size_t count(const std::string &assignment) const {
        std::size_t n = 0;
        for (const auto &d : rx.raw) {
            auto p = spdlog_sdnotify::parse_notification(d);
            for (const auto &a : p.assignments) n += a == assignment ? 1U : 0U;
        }
        return n;
    }

    fake_receiver rx;
    std::shared_ptr<dispatcher> dispatch;
    std::shared_ptr<spdlog::logger> app;
};

}  // namespace

TEST_CASE("ready_when_a_record_matches_once_with_its_text", "[lifecycle]") {
    fixture f;
    auto c = f.config();
    c.ready_when = rule::contains("listening on");
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("loading configuration");
    CHECK(f.received().empty());
    CHECK(life.current_state() == lifecycle::state::starting);
    f.app->info("listening on :8080");
    auto got = f.received();
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "READY=1\nSTATUS=listening on :8080\n");
    CHECK(std::string(f.rx.model.active_state()) == "active");
    f.app->info("listening on :8081");  // READY is sent once
    CHECK(f.received().empty());
    CHECK(life.current_state() == lifecycle::state::ready);
}

TEST_CASE("rules_by_logger_regex_level_and_predicate", "[lifecycle]") {
    fixture f;
    auto http = std::make_shared<spdlog::logger>("http");
    SECTION("logger") {
        auto c = f.config();
        c.ready_when = rule::contains("up").from("http");
        lifecycle life(c);
        life.attach(f.app);
        life.attach(http);
        f.app->info("up");  // not the http logger
        CHECK(f.received().empty());
        http->info("up");
        f.received();
        CHECK(f.count("READY=1") == 1);
    }
    SECTION("regex") {
        auto c = f.config();
        c.ready_when = rule::regex(R"(accepting \d+ connections)");
        lifecycle life(c);
        life.attach(f.app);
        f.app->info("accepting many connections");
        CHECK(f.received().empty());
        f.app->info("now accepting 64 connections");
        f.received();
        CHECK(f.count("READY=1") == 1);
    }
    SECTION("level and predicate") {
        auto c = f.config();
        c.ready_when = rule::when([](const spdlog::details::log_msg &m) {
                           return m.payload.size() == 5;
                       }).at_least(spdlog::level::warn);
        lifecycle life(c);
        life.attach(f.app);
        f.app->info("12345");
        CHECK(f.received().empty());
        f.app->warn("12345");
        f.received();
        CHECK(f.count("READY=1") == 1);
    }
}

TEST_CASE("explicit_ready_for_those_who_want_it", "[lifecycle]") {
    fixture f;
    lifecycle life(f.config());
    CHECK(life.ready("warm"));
    CHECK(f.received() == std::vector<std::string>{"READY=1\nSTATUS=warm\n"});
    CHECK_FALSE(life.ready());  // already ready
}

TEST_CASE("reload_rules_send_reloading_then_ready", "[lifecycle]") {
    fixture f;
    auto c = f.config();
    c.ready_when = rule::contains("serving");
    c.reloading_when = rule::contains("reloading configuration");
    c.reloaded_when = rule::contains("configuration reloaded");
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("serving");
    f.app->info("configuration reloaded");  // not reloading: no READY
    f.app->info("reloading configuration");
    f.received();
    CHECK(std::string(f.rx.model.active_state()) == "reloading");
    CHECK(f.rx.model.warnings().empty());  // MONOTONIC_USEC was there
    f.app->info("configuration reloaded");
    f.received();
    CHECK(std::string(f.rx.model.active_state()) == "active");
    CHECK(f.rx.model.status_text() == "configuration reloaded");
    CHECK(f.count("READY=1") == 2);
    CHECK(f.count("RELOADING=1") == 1);
}

TEST_CASE("stopping_is_terminal", "[lifecycle]") {
    fixture f;
    auto c = f.config();
    c.ready_when = rule::contains("up");
    c.stopping_when = rule::contains("shutting down");
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("up");
    f.app->info("shutting down: draining");
    f.received();
    CHECK(std::string(f.rx.model.active_state()) == "deactivating");
    CHECK(f.rx.model.status_text() == "shutting down: draining");
    CHECK_FALSE(life.ready());
    CHECK_FALSE(life.reloading());
    f.app->info("shutting down again");
    // Even a READY queued by hand is stripped now; its STATUS still goes.
    f.dispatch->post(spdlog_sdnotify::message{}.ready().watchdog().status("still here"));
    f.received();
    CHECK(f.count("STOPPING=1") == 1);
    CHECK(f.count("READY=1") == 1);
    CHECK(f.count("WATCHDOG=1") == 0);
    CHECK(f.rx.model.status_text() == "still here");
    CHECK(f.rx.model.warnings().empty());  // the model saw no READY after STOPPING
}

TEST_CASE("fatal_rule_sends_status_and_errno", "[lifecycle]") {
    fixture f;
    auto c = f.config();
    c.failure_when = rule::any_at_least(spdlog::level::critical);
    c.failure_errno = [](const spdlog::details::log_msg &m) {
        return std::string_view(m.payload.data(), m.payload.size()).find("disk") !=
                       std::string_view::npos
                   ? EIO
                   : 0;
    };
    lifecycle life(c);
    life.attach(f.app);
    f.app->error("just an error");
    CHECK(f.received().empty());
    f.app->critical("disk failed");
    auto got = f.received();
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "ERRNO=5\nSTATUS=disk failed\n");
    CHECK(f.rx.model.status_errno() == EIO);
    f.app->critical("out of cheese");
    CHECK(f.received() == std::vector<std::string>{"STATUS=out of cheese\n"});
}

TEST_CASE("scope_exit_sends_stopping_only_when_asked", "[lifecycle]") {
    fixture f;
    {
        lifecycle life(f.config());  // the default: finishing is not stopping
        life.ready();
    }
    f.received();
    CHECK(f.count("STOPPING=1") == 0);
    CHECK(std::string(f.rx.model.active_state()) == "active");  // RemainAfterExit= keeps it so
    {
        auto c = f.config();
        c.stop_at_exit = true;
        lifecycle life(c);
    }
    f.received();
    CHECK(f.count("STOPPING=1") == 1);
    CHECK(std::string(f.rx.model.active_state()) == "deactivating");
}

TEST_CASE("watchdog_pings_every_half_interval_from_ready", "[lifecycle][watchdog]") {
    fixture f;
    setenv("WATCHDOG_USEC", "200000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    auto c = f.config();
    lifecycle life(c);
    REQUIRE(life.watchdog_interval() == std::chrono::microseconds(200000));
    std::this_thread::sleep_for(300ms);
    CHECK(f.received(50ms).empty());  // no pings before READY
    life.ready("up");
    auto first = f.rx.next(1s);
    REQUIRE(first);
    CHECK(first->find("WATCHDOG") == "1");  // the first ping goes with READY
    CHECK(first->find("READY") == "1");
    std::this_thread::sleep_for(1s);
    f.received(50ms);
    const auto pings = f.rx.model.watchdog_pings();
    INFO("pings in about 1 s at a 100 ms period: " << pings);
    CHECK(pings >= 8);
    CHECK(pings <= 14);
    life.stopping("bye");
    f.received(50ms);
    const auto after_stop = f.rx.model.watchdog_pings();
    std::this_thread::sleep_for(400ms);
    f.received(50ms);
    CHECK(f.rx.model.watchdog_pings() == after_stop);  // pings end at STOPPING
}

TEST_CASE("unhealthy_stops_pings_or_triggers", "[lifecycle][watchdog]") {
    fixture f;
    setenv("WATCHDOG_USEC", "100000", 1);
    unsetenv("WATCHDOG_PID");
    std::atomic<bool> healthy{true};
    SECTION("stop pinging") {
        auto c = f.config();
        c.healthy = [&] { return healthy.load(); };
        lifecycle life(c);
        life.ready();
        std::this_thread::sleep_for(300ms);
        healthy = false;
        std::this_thread::sleep_for(100ms);
        f.received(50ms);
        const auto pings = f.rx.model.watchdog_pings();
        CHECK(pings >= 3);
        std::this_thread::sleep_for(400ms);
        f.received(50ms);
        CHECK(f.rx.model.watchdog_pings() == pings);
        CHECK_FALSE(f.rx.model.watchdog_triggered());
    }
    SECTION("trigger") {
        auto c = f.config();
        c.healthy = [&] { return healthy.load(); };
        c.trigger_when_unhealthy = true;
        lifecycle life(c);
        life.ready();
        healthy = false;
        std::this_thread::sleep_for(400ms);
        f.received(50ms);
        CHECK(f.rx.model.watchdog_triggered());
        CHECK(f.count("WATCHDOG=trigger") == 1);  // once
    }
}

namespace {
// Logs a step every 50 ms for `how_long`.
void log_steps(spdlog::logger &log, std::chrono::milliseconds how_long) {
    const auto until = std::chrono::steady_clock::now() + how_long;
    for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
        log.info("step {}", i);
        std::this_thread::sleep_for(50ms);
    }
}
}  // namespace

TEST_CASE("extend_timeout_is_earned_by_progress", "[lifecycle]") {
    fixture f;
    unsetenv("WATCHDOG_USEC");
    auto c = f.config();
    c.extend_timeout = 300ms;  // looked at every 100 ms
    lifecycle life(c);
    life.attach(f.app);
    std::this_thread::sleep_for(450ms);  // a start that logs nothing earns nothing
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") == 0);
    log_steps(*f.app, 500ms);
    f.received(50ms);
    const auto during_start = f.count("EXTEND_TIMEOUT_USEC=300000");
    CHECK(during_start >= 3);  // one per 100 ms with progress
    CHECK(during_start <= 6);
    std::this_thread::sleep_for(400ms);  // hung after the last step: no more
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") == during_start);
    life.ready();
    log_steps(*f.app, 400ms);
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") == during_start);  // none while running
    life.stopping();
    log_steps(*f.app, 450ms);
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") >= during_start + 3);  // and again at shutdown
}

TEST_CASE("extend_timeout_stops_at_its_limit", "[lifecycle]") {
    fixture f;
    unsetenv("WATCHDOG_USEC");
    auto c = f.config();
    c.extend_timeout = 300ms;
    c.extend_timeout_limit = 900ms;  // three extensions, however much is logged
    lifecycle life(c);
    life.attach(f.app);
    log_steps(*f.app, 800ms);
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") == 3);
}

TEST_CASE("outside_systemd_nothing_happens", "[lifecycle]") {
    unsetenv("NOTIFY_SOCKET");
    struct sigaction before {};
    sigaction(SIGTERM, nullptr, &before);
    lifecycle_config c;
    c.stop_on_signals = true;
    c.ready_when = rule::contains("x");
    c.dispatcher = std::make_shared<dispatcher>(std::make_shared<spdlog_sdnotify::notifier>());
    lifecycle life(c);
    struct sigaction during {};
    sigaction(SIGTERM, nullptr, &during);
    CHECK(during.sa_handler == before.sa_handler);  // no handler installed
    CHECK(life.ready());                            // accepted, and a quiet no-op
}

namespace {
// The child process: a lifecycle handling signals, READY by rule. Returns its exit code.
int child_service(const std::string &address, bool own_handler, bool hup) {
    setenv("NOTIFY_SOCKET", address.c_str(), 1);
    static std::atomic<int> got_term{0};  // the handler may run on any thread
    // The test runner has handlers of its own for these: start from what a program gets.
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    if (own_handler) {
        struct sigaction sa {};
        sa.sa_handler = [](int) { got_term = 1; };
        sigaction(SIGTERM, &sa, nullptr);
    }
    lifecycle_config c;
    c.ready_when = rule::contains("ready to serve");
    c.stop_on_signals = true;
    c.reload_on_sighup = hup;
    c.ready_after_sighup_handler = hup;  // the test's handler does all of its reload at once
    auto log = spdlog::default_logger();
    spdlog::set_level(spdlog::level::off);  // keep the test output clean; rules still see it
    log->set_level(spdlog::level::info);
    log->sinks().clear();
    lifecycle life(c);
    log->info("ready to serve");
    for (int i = 0; i < 500 && !got_term; ++i) std::this_thread::sleep_for(10ms);
    return got_term ? 42 : 0;
}

int wait_child(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
}  // namespace

TEST_CASE("sigterm_sends_stopping_then_the_apps_handler_runs", "[lifecycle][signal]") {
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) _exit(child_service(rx.address(), true, false));
    auto ready = rx.next(3s);
    REQUIRE(ready);
    CHECK(ready->find("READY") == "1");
    kill(pid, SIGTERM);
    auto stop = rx.next(3s);
    REQUIRE(stop);
    CHECK(stop->find("STOPPING") == "1");
    CHECK(rx.model.status_text() == "stopping (SIGTERM)");
    CHECK(wait_child(pid) == 42);  // the app's own handler ran and it exited its own way
    rx.drain(100ms);
    CHECK(rx.model.stopping_count() == 1);
}

TEST_CASE("sigterm_with_default_action_still_terminates", "[lifecycle][signal]") {
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) _exit(child_service(rx.address(), false, false));
    REQUIRE(rx.next(3s));
    kill(pid, SIGTERM);
    auto stop = rx.next(3s);
    REQUIRE(stop);
    CHECK(stop->find("STOPPING") == "1");
    CHECK(wait_child(pid) == 1000 + SIGTERM);  // killed by the signal, as without us
}

TEST_CASE("sighup_sends_reloading_with_monotonic_usec_then_ready", "[lifecycle][signal]") {
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) _exit(child_service(rx.address(), true, true));
    REQUIRE(rx.next(3s));
    kill(pid, SIGHUP);
    auto reloading = rx.next(3s);
    REQUIRE(reloading);
    CHECK(reloading->find("RELOADING") == "1");
    CHECK(reloading->find("MONOTONIC_USEC"));
    CHECK(std::string(rx.model.active_state()) == "reloading");
    auto ready = rx.next(3s);
    REQUIRE(ready);
    CHECK(ready->find("READY") == "1");
    CHECK(std::string(rx.model.active_state()) == "active");
    kill(pid, SIGTERM);
    CHECK(wait_child(pid) == 42);  // SIGHUP did not kill it (no handler of its own for it)
}

TEST_CASE("exit_sends_stopping_while_the_lifecycle_lives", "[lifecycle][signal]") {
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", rx.address().c_str(), 1);
        lifecycle_config c;
        c.stop_at_exit = true;
        auto *life = new lifecycle(c);  // never destroyed: exit() must still say STOPPING
        life->ready("up");
        std::exit(3);
    }
    CHECK(wait_child(pid) == 3);
    rx.drain(200ms);
    CHECK(rx.model.ready_count() == 1);
    CHECK(rx.model.stopping_count() == 1);
    CHECK(std::string(rx.model.active_state()) == "deactivating");
}

TEST_CASE("library_threads_never_take_the_applications_signals", "[lifecycle][signal]") {
    // An application that waits for its signals with sigwait() blocks them in its own threads;
    // a thread of ours that left them unblocked would take them instead.
    fixture f;
    setenv("WATCHDOG_USEC", "100000", 1);
    unsetenv("WATCHDOG_PID");
    auto c = f.config();
    lifecycle life(c);  // a timer thread, besides the dispatcher's
    life.ready();
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    REQUIRE(pthread_sigmask(SIG_BLOCK, &usr1, nullptr) == 0);
    struct sigaction sa {};
    static std::atomic<int> delivered{0};
    sa.sa_handler = [](int) { ++delivered; };
    sigaction(SIGUSR1, &sa, nullptr);
    kill(getpid(), SIGUSR1);
    std::this_thread::sleep_for(200ms);  // time for any thread with it unblocked to take it
    CHECK(delivered == 0);
    sigset_t pending;
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGUSR1) == 1);  // still waiting for the application
    timespec wait_for{2, 0};
    CHECK(sigtimedwait(&usr1, nullptr, &wait_for) == SIGUSR1);
}

TEST_CASE("redaction_applies_to_the_text_sent_with_ready", "[lifecycle]") {
    fake_receiver rx;
    spdlog_sdnotify::dispatcher_options o;
    o.redact = [](std::string_view t) {
        std::string s(t);
        const auto at = s.find("token=");
        if (at != std::string::npos) s.replace(at + 6, std::string::npos, "***");
        return s;
    };
    auto c = lifecycle_config{};
    c.dispatcher = test::dispatcher_to(rx, o);
    c.attach_to_all = false;
    c.ready_when = rule::contains("listening");
    lifecycle life(c);
    spdlog::logger app("app");
    life.attach(std::shared_ptr<spdlog::logger>(&app, [](spdlog::logger *) {}));
    app.info("listening with token=s3cr3t");
    auto got = rx.next(2s);
    REQUIRE(got);
    CHECK(got->find("READY") == "1");
    // With a redactor the text follows in a STATUS of its own, so that a slow redactor never
    // holds READY back.
    CHECK(!got->find("STATUS"));
    REQUIRE(rx.next(2s));
    CHECK(rx.model.status_text() == "listening with token=***");
    CHECK(rx.raw.front().find("s3cr3t") == std::string::npos);
    CHECK(rx.raw.back().find("s3cr3t") == std::string::npos);
}

namespace {
// A child with a lifecycle whose SIGTERM disposition was set before it; sends SIGTERM to itself
// and reports what happened.
int child_with_disposition(const std::string &address, void (*disposition)(int), int flags) {
    setenv("NOTIFY_SOCKET", address.c_str(), 1);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
    struct sigaction sa {};
    sa.sa_handler = disposition;
    sa.sa_flags = flags;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    lifecycle_config c;
    c.stop_on_signals = true;
    c.attach_to_all = false;
    lifecycle life(c);
    life.ready("up");
    raise(SIGTERM);  // ignored: nothing happens
    raise(SIGINT);
    std::this_thread::sleep_for(100ms);
    return 7;
}
std::atomic<int> g_ints{0};
}  // namespace

TEST_CASE("an_ignored_sigterm_sends_no_stopping", "[lifecycle][signal]") {
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) _exit(child_with_disposition(rx.address(), SIG_IGN, 0));
    CHECK(wait_child(pid) == 7);  // SIG_IGN still means ignored
    rx.drain(200ms);
    CHECK(rx.model.ready_count() == 1);
    CHECK(rx.model.stopping_count() == 0);  // nothing will stop, so nothing says it does
    CHECK(std::string(rx.model.active_state()) == "active");
}

TEST_CASE("ctrl_c_twice_still_forces_the_quit", "[lifecycle][signal]") {
    // SA_RESETHAND: the first SIGINT runs the app's handler, the second one the default action.
    fake_receiver rx;
    const pid_t pid = fork();
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", rx.address().c_str(), 1);
        for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
        struct sigaction sa {};
        sa.sa_handler = [](int) { ++g_ints; };
        sa.sa_flags = static_cast<int>(SA_RESETHAND);
        sigaction(SIGINT, &sa, nullptr);
        lifecycle_config c;
        c.stop_on_signals = true;
        c.attach_to_all = false;
        lifecycle life(c);
        life.ready("up");
        spdlog_sdnotify::dispatcher::default_instance()->flush(2s);
        raise(SIGINT);  // "shutting down gracefully..."
        if (g_ints != 1) _exit(1);
        // A person presses Ctrl-C again a moment later (a sanitizer may delay the first send).
        spdlog_sdnotify::dispatcher::default_instance()->flush(2s);
        raise(SIGINT);  // impatient: the default action now
        _exit(2);
    }
    CHECK(wait_child(pid) == 1000 + SIGINT);
    rx.drain(200ms);
    CHECK(rx.model.stopping_count() == 1);
    CHECK(rx.model.status_text() == "stopping (SIGINT)");
}

TEST_CASE("reload_without_a_way_back_to_ready_is_refused", "[lifecycle]") {
    fixture f;
    std::atomic<int> reports{0};
    std::string what;
    spdlog_sdnotify::dispatcher_options o;
    o.on_error = [&](std::error_code ec, std::string_view w, std::uint64_t) {
        if (ec == spdlog_sdnotify::errc::wiring) what = std::string(w);
        ++reports;
    };
    f.dispatch->set_options(o);
    auto c = f.config();
    c.ready_when = rule::contains("listening");
    c.reloading_when = rule::contains("reloading");  // and no reloaded_when
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("listening");
    f.app->info("reloading configuration");
    f.received(200ms);
    CHECK(f.count("RELOADING=1") == 0);  // never stuck in "reloading"
    CHECK(std::string(f.rx.model.active_state()) == "active");
    REQUIRE(reports >= 1);
    CHECK(what.find("reloaded_when") != std::string::npos);
}

TEST_CASE("progress_rule_decides_what_earns_an_extension", "[lifecycle]") {
    fixture f;
    unsetenv("WATCHDOG_USEC");
    auto c = f.config();
    c.extend_timeout = 300ms;
    c.progress_when = rule::contains("migrated");
    lifecycle life(c);
    life.attach(f.app);
    for (int i = 0; i < 8; ++i) {  // chatter that is not progress
        f.app->info("still waiting for the database");
        std::this_thread::sleep_for(50ms);
    }
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") == 0);
    for (int i = 0; i < 8; ++i) {
        f.app->info("migrated table {}", i);
        std::this_thread::sleep_for(50ms);
    }
    f.received(50ms);
    CHECK(f.count("EXTEND_TIMEOUT_USEC=300000") >= 2);
}

namespace {
// The blocked-signal mask (SigBlk) of every thread of this process.
std::vector<unsigned long long> thread_masks() {
    std::vector<unsigned long long> masks;
    DIR *dir = opendir("/proc/self/task");
    if (dir == nullptr) return masks;
    while (dirent *e = readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream status(std::string("/proc/self/task/") + e->d_name + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("SigBlk:", 0) == 0)
                masks.push_back(std::stoull(line.substr(7), nullptr, 16));
    }
    closedir(dir);
    return masks;
}
}  // namespace

TEST_CASE("library_threads_leave_synchronous_signals_deliverable", "[lifecycle][signal]") {
    fake_receiver rx;
    auto d = test::dispatcher_to(rx);
    // While glibc starts a thread it blocks everything for a moment: read the mask once ours
    // waits for work.
    REQUIRE(d->flush(1s));
    std::this_thread::sleep_for(50ms);
    // Ours is the thread that blocks SIGTERM (the test's own threads block nothing).
    unsigned long long mask = 0;
    for (const auto m : thread_masks())
        if (m & (1ULL << (SIGTERM - 1))) mask = m;
    REQUIRE(mask != 0);
    CHECK((mask & (1ULL << (SIGHUP - 1))) != 0);
    CHECK((mask & (1ULL << (SIGINT - 1))) != 0);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP}) {
        INFO("signal " << sig);
        CHECK((mask & (1ULL << (sig - 1))) == 0);  // a crash reporter still gets them
    }
}

namespace {
std::atomic<int> g_app_term{0};
}  // namespace

// Hands off: a handler the application installs after the set-up is its own. It is reported
// once, never replaced; one that chains to the handler it replaced (ours) still gets STOPPING
// first and then runs its own shutdown, without our default action killing the process.
TEST_CASE("a_signal_handler_installed_later_is_reported_and_left_alone", "[lifecycle][wiring]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    signal(SIGTERM, SIG_DFL);  // Catch2 has a handler of its own
    auto c = f.config();
    c.stop_on_signals = true;
    c.ready_when = rule::contains("up");
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("up");
    CHECK_FALSE(w.wait_for("handler was replaced", 1500ms));  // nothing to say yet
    g_app_term = 0;
    signal(SIGTERM, [](int) { g_app_term = 1; });  // later in main(), not chaining
    REQUIRE(w.wait_for("the SIGTERM handler was replaced after the lifecycle was set up"));
    struct sigaction current {};
    sigaction(SIGTERM, nullptr, &current);
    CHECK_FALSE((current.sa_flags & SA_SIGINFO));  // still the application's, not ours again
    std::this_thread::sleep_for(1500ms);           // more checks: still not replaced
    sigaction(SIGTERM, nullptr, &current);
    CHECK_FALSE((current.sa_flags & SA_SIGINFO));
    raise(SIGTERM);
    CHECK(g_app_term == 1);  // the application's handler runs
    f.received(300ms);
    CHECK(f.rx.model.stopping_count() == 0);  // and it did not chain, so no STOPPING
    CHECK(w.size() == 1);                     // said once
    signal(SIGTERM, SIG_DFL);
}

namespace {
struct sigaction g_replaced {};
void chaining_handler(int sig, siginfo_t *info, void *context) {
    g_app_term = g_app_term + 1;
    // The usual "save the old action, call it after mine".
    if (g_replaced.sa_flags & SA_SIGINFO)
        g_replaced.sa_sigaction(sig, info, context);
    else if (g_replaced.sa_handler != SIG_DFL && g_replaced.sa_handler != SIG_IGN)
        g_replaced.sa_handler(sig);
}
}  // namespace

TEST_CASE("a_handler_that_chains_to_ours_gets_stopping_and_its_own_shutdown",
          "[lifecycle][signal]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    signal(SIGTERM, SIG_DFL);
    auto c = f.config();
    c.stop_on_signals = true;
    lifecycle life(c);
    life.attach(f.app);
    life.ready();
    g_app_term = 0;
    struct sigaction mine {};
    mine.sa_sigaction = chaining_handler;
    mine.sa_flags = SA_SIGINFO;
    sigemptyset(&mine.sa_mask);
    sigaction(SIGTERM, &mine, &g_replaced);  // after the set-up, saving ours
    for (int i = 0; i < 3; ++i) {            // 3 SIGTERMs: no loop, no death, one STOPPING
        raise(SIGTERM);
        std::this_thread::sleep_for(1200ms);  // a wiring check each time
    }
    CHECK(g_app_term == 3);  // its handler ran each time, once (no mutual recursion)
    f.received(300ms);
    CHECK(f.rx.model.stopping_count() == 1);
    struct sigaction current {};
    sigaction(SIGTERM, nullptr, &current);
    CHECK(current.sa_sigaction == chaining_handler);  // never put back behind ours
    CHECK(w.wait_for("the SIGTERM handler was replaced", 100ms));
    sigaction(SIGTERM, &g_replaced, nullptr);
    signal(SIGTERM, SIG_DFL);
}

TEST_CASE("a_replaced_default_logger_is_reported", "[lifecycle][wiring]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    auto c = f.config();
    c.attach_to_all = true;
    c.ready_when = rule::contains("listening");
    lifecycle life(c);
    std::this_thread::sleep_for(1500ms);
    CHECK(w.size() == 0);  // the control: nothing to say while the wiring is right
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "replacement", std::make_shared<spdlog::sinks::null_sink_mt>()));
    REQUIRE(w.wait_for("default logger was replaced"));
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(""));
}

TEST_CASE("a_logger_made_after_the_lifecycle_is_reported", "[lifecycle][wiring]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    auto c = f.config();
    c.attach_to_all = true;
    c.ready_when = rule::contains("listening");
    lifecycle life(c);
    auto attached_in_time = std::make_shared<spdlog::logger>("in-time");
    spdlog::register_logger(attached_in_time);
    life.attach(attached_in_time);  // the fix the diagnostic names: no report for this one
    auto late = std::make_shared<spdlog::logger>("http");
    spdlog::register_logger(late);
    REQUIRE(w.wait_for("logger 'http' was made after the lifecycle and not given to attach()"));
    CHECK_FALSE(w.wait_for("'in-time'", 100ms));
    spdlog::drop_all();
}

namespace {
spdlog::details::log_msg record(std::string_view text,
                                spdlog::level::level_enum level = spdlog::level::info) {
    return spdlog::details::log_msg("app", level, spdlog::string_view_t(text.data(), text.size()));
}
}  // namespace

// Rules are tested on the logging thread for every record: literals with a precomputed
// Boyer-Moore-Horspool table, regexes by PCRE2 (JIT where allowed).
TEST_CASE("rules_match_literals_and_pcre2_regexes", "[lifecycle][rule]") {
    CHECK(rule::contains("shutting down").matches(record("server shutting down now")));
    CHECK_FALSE(rule::contains("shutting down").matches(record("shutting dow")));
    CHECK_FALSE(rule::contains("shutting down").matches(record("")));
    CHECK(rule::contains("").matches(record("anything")));
    const auto r = rule::regex(R"(^listening on (\S+):(\d+)$)");
    CHECK(r.matches(record("listening on 0.0.0.0:8080")));
    CHECK_FALSE(r.matches(record("listening on 0.0.0.0:http")));
    CHECK_FALSE(r.matches(record("not listening on 0.0.0.0:8080")));
    // Perl syntax: alternation, lookahead, case-insensitive flag.
    CHECK(rule::regex("shutting down|terminating").matches(record("terminating (SIGTERM)")));
    CHECK(rule::regex(R"(ready(?! soon))").matches(record("ready now")));
    CHECK_FALSE(rule::regex(R"(ready(?! soon))").matches(record("ready soon")));
    CHECK(rule::regex("(?i)READY").matches(record("service ready")));
    // Bytes, not UTF-8: a line that is not valid UTF-8 is still searched.
    CHECK(rule::regex("ready").matches(record("\xff\xfe ready \xc3")));
    // Level and logger first: a rule that cannot fire never looks at the text.
    CHECK_FALSE(rule::regex("ready").at_least(spdlog::level::warn).matches(record("ready")));
    CHECK_FALSE(rule::contains("ready").from("http").matches(record("ready")));
    // A copy shares the compiled pattern.
    const rule copy = r;
    CHECK(copy.matches(record("listening on [::]:443")));
}

TEST_CASE("a_regex_that_does_not_compile_is_refused_at_set_up", "[lifecycle][rule]") {
    try {
        (void)rule::regex("unclosed (group");
        FAIL("no exception");
    } catch (const std::invalid_argument &e) {
        const std::string what = e.what();
        CHECK(what.find("unclosed (group") != std::string::npos);
        CHECK(what.find("offset") != std::string::npos);
    }
}

TEST_CASE("a_watchdog_fed_by_the_timer_alone_is_said_once", "[lifecycle][wiring]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    setenv("WATCHDOG_USEC", "2000000", 1);
    unsetenv("WATCHDOG_PID");
    {
        auto c = f.config();
        c.alive_when = rule::contains("tick");
        lifecycle life(c);  // the control: a watchdog that the main loop feeds says nothing
        CHECK_FALSE(w.wait_for("WatchdogSec= is set", 300ms));
    }
    auto c = f.config();
    lifecycle life(c);
    REQUIRE(w.wait_for("the watchdog pings come from a timer"));
    CHECK(w.size() == 1);
    unsetenv("WATCHDOG_USEC");
}

TEST_CASE("at_least_sets_and_reads_the_lowest_level", "[lifecycle][rule]") {
    auto r = rule::contains("x");
    CHECK(r.at_least() == spdlog::level::trace);
    r.at_least(spdlog::level::warn);
    CHECK(r.at_least() == spdlog::level::warn);
    CHECK(rule::any_at_least(spdlog::level::err).at_least() == spdlog::level::err);
    CHECK(rule::any_at_least(spdlog::level::err).matches(record("anything")) == false);
}

// A regex that PCRE2 gives up on (its match limit: nested repeats backtracking on a line that
// almost matches) silently never fires. The operator hears of it once, with the pattern, the
// count and the reason; then nothing for a minute, however many records fail meanwhile.
TEST_CASE("a_regex_that_cannot_be_tested_is_reported_once", "[lifecycle][wiring]") {
    fixture f;
    test::said_log w(true);  // the wiring diagnostics
    w.install(*f.dispatch);
    auto c = f.config();
    c.attach_to_all = false;
    c.ready_when = rule::regex("^(a+)+$");
    lifecycle life(c);
    auto log = std::make_shared<spdlog::logger>("app", life.sink());
    const std::string almost(40, 'a');
    log->info(almost + "b");  // 2^40 ways to fail: past PCRE2's match limit
    REQUIRE(w.wait_for("could not test 1 record"));
    CHECK(w.wait_for("^(a+)+$"));
    CHECK(w.wait_for("match limit"));
    CHECK(life.current_state() == lifecycle::state::starting);
    log->info(almost + "b");
    std::this_thread::sleep_for(1500ms);  // a check ran: nothing new said within the minute
    CHECK(w.size() == 1);
}
