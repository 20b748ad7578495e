// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// What broke on real daemons and set-ups (issue 20), each as an operator would see it: a reload
// that fails or never reports, a set-up that can never send READY, a production log level that
// hides the "listening on" line, the last line lost at exit(), warnings at the wrong priority,
// and an application that edits its loggers and handlers while the library runs.
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "fake_receiver.h"
#include "said_log.h"
#include "stderr_report.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::dispatcher;
using spdlog_sdnotify::lifecycle;
using spdlog_sdnotify::lifecycle_config;
using spdlog_sdnotify::rule;
using test::fake_receiver;

namespace {

struct reload_fixture {
    reload_fixture() {
        dispatch = test::dispatcher_to(rx, log.options());
        app = std::make_shared<spdlog::logger>("app",
                                               std::make_shared<spdlog::sinks::null_sink_mt>());
    }
    lifecycle_config config() {
        lifecycle_config c;
        c.dispatcher = dispatch;
        c.attach_to_all = false;
        c.ready_when = rule::contains("listening on");
        c.reloading_when = rule::contains("reloading configuration");
        c.reloaded_when = rule::contains("configuration reloaded");
        return c;
    }
    fake_receiver rx;
    test::said_log log;
    std::shared_ptr<dispatcher> dispatch;
    std::shared_ptr<spdlog::logger> app;
};

}  // namespace

// A reload that fails logs an error and keeps the old configuration: systemd must hear READY=1
// (so that `systemctl reload` returns) with the error as the status.
TEST_CASE("a_failed_reload_is_answered_by_ready_with_the_error", "[lifecycle][reload]") {
    reload_fixture f;
    auto c = f.config();
    const bool control = GENERATE(false, true);
    if (control) c.reload_failed_when.reset();  // the control: wait for the success line only
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("listening on :8080");
    f.app->info("reloading configuration");
    f.rx.drain(200ms);
    REQUIRE(std::string(f.rx.model.active_state()) == "reloading");
    f.app->error("reload failed: /etc/app.conf line 3: unknown key");
    f.rx.drain(300ms);
    if (control) {
        CHECK(std::string(f.rx.model.active_state()) == "reloading");  // hangs, as it did
        CHECK(f.rx.model.ready_count() == 1);
        return;
    }
    CHECK(std::string(f.rx.model.active_state()) == "active");
    CHECK(f.rx.model.ready_count() == 2);
    CHECK(f.rx.model.status_text() == "reload failed: /etc/app.conf line 3: unknown key");
    CHECK(life.current_state() == lifecycle::state::ready);
    f.app->info("reloading configuration");  // the next reload works as before
    f.app->info("configuration reloaded");
    f.rx.drain(300ms);
    CHECK(f.rx.model.ready_count() == 3);
    CHECK(f.rx.model.status_text() == "configuration reloaded");
}

// A reload that nothing ends (the success line never comes, no error either) is ended after
// reload_timeout, with a status and a diagnostic that say so.
TEST_CASE("a_reload_that_never_reports_ends_after_reload_timeout", "[lifecycle][reload]") {
    reload_fixture f;
    auto c = f.config();
    const bool control = GENERATE(false, true);
    c.reload_timeout = control ? 0ms : 500ms;  // the control: no bound
    lifecycle life(c);
    life.attach(f.app);
    f.app->info("listening on :8080");
    const auto began = std::chrono::steady_clock::now();
    f.app->info("reloading configuration");
    f.rx.drain(100ms);
    REQUIRE(std::string(f.rx.model.active_state()) == "reloading");
    while (std::string(f.rx.model.active_state()) == "reloading" &&
           std::chrono::steady_clock::now() - began < 3s)
        f.rx.next(100ms);
    const auto took = std::chrono::steady_clock::now() - began;
    if (control) {
        CHECK(std::string(f.rx.model.active_state()) == "reloading");
        CHECK(f.log.count("reload was not confirmed") == 0);
        return;
    }
    CHECK(std::string(f.rx.model.active_state()) == "active");
    CHECK(took >= 500ms);
    CHECK(took < 2s);  // the check runs about once a second
    CHECK(f.rx.model.status_text() == "reload not confirmed within 0.5 s (see the log)");
    CHECK(f.log.wait_for("a reload was not confirmed within reload_timeout (0.5 s)"));
    CHECK(f.log.count("reload was not confirmed") == 1);
}

TEST_CASE("a_lifecycle_that_can_never_send_ready_says_so_at_once", "[lifecycle][wiring]") {
    reload_fixture f;
    lifecycle_config c;
    c.dispatcher = f.dispatch;
    c.attach_to_all = false;
    const bool control = GENERATE(false, true);
    c.ready_by_call = control;  // the control: the application says it calls ready()
    lifecycle life(c);
    if (control) {
        CHECK_FALSE(f.log.wait_for("READY=1 will never be sent", 1500ms));
        return;
    }
    REQUIRE(f.log.wait_for("READY=1 will never be sent", 300ms));
    CHECK(f.log.count("Set ready_when") == 1);
    std::this_thread::sleep_for(1500ms);
    CHECK(f.log.count("READY=1 will never be sent") == 1);  // once
}

// A production configuration that sets the level to warn after the set-up hides the "listening
// on" line from every sink: READY never comes. Said once, naming the logger and its level.
TEST_CASE("a_logger_level_that_hides_the_ready_line_is_said", "[lifecycle][wiring]") {
    reload_fixture f;
    spdlog::register_logger(f.app);
    f.app->set_level(spdlog::level::info);
    auto c = f.config();
    lifecycle life(c);
    life.attach(f.app);
    CHECK_FALSE(f.log.wait_for("drops the", 1500ms));  // the control: info shows the line
    f.app->set_level(spdlog::level::warn);             // production's level, after set-up
    REQUIRE(
        f.log.wait_for("logger 'app' at warning drops the info records that ready_when needs: "
                       "READY=1 will not be sent"));
    f.app->info("listening on :8080");  // dropped by the logger
    f.rx.drain(200ms);
    CHECK(f.rx.model.ready_count() == 0);
    // Ten seconds on, the usual "no READY" diagnostic names the levels too.
    REQUIRE(f.log.wait_for("no record has matched ready_when for 10 s", 11s));
    CHECK(f.log.count("attached loggers: logger 'app' at warning") == 1);
    CHECK(f.log.count("drops the") == 1);  // said once
    spdlog::drop("app");
}

namespace {

// A service as main() would hold it, in a forked child that logs three lines within
// min_interval (so that the last two are still pending) and leaves in the way named.
int child_service_leaving_by(const std::string &address, const std::string &how) {
    setenv("NOTIFY_SOCKET", address.c_str(), 1);
    // The default logger, held by spdlog's registry only (spdlog::info() and the like).
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("app", std::make_shared<spdlog::sinks::null_sink_mt>()));
    // Without spdlog::shutdown(), main() often holds its logger too (auto log = spdlog::get()).
    std::shared_ptr<spdlog::logger> held;
    if (how == "exit" || how == "return") held = spdlog::default_logger();
    {
        spdlog_sdnotify::service_config c;
        c.lifecycle.ready_when = rule::contains("listening on");
        spdlog_sdnotify::service notify(c);
        spdlog::info("listening on :8080");
        std::this_thread::sleep_for(100ms);
        spdlog::info("line 2");
        spdlog::info("line 3, the last");
        if (how == "exit") std::exit(0);
        if (how == "shutdown-exit") {
            spdlog::shutdown();
            std::exit(0);
        }
        if (how == "shutdown-_exit") {
            spdlog::shutdown();
            _exit(0);
        }
    }
    std::exit(0);  // "return": the service went out of scope, then the program ends
}

}  // namespace

namespace {
// The child above, read while it runs (the barrier needs a receiver that reads); its status.
int leave_by(fake_receiver &rx, const std::string &how) {
    const pid_t pid = fork();
    if (pid == 0) child_service_leaving_by(rx.address(), how);
    rx.drain(1500ms);
    int status = 0;
    waitpid(pid, &status, 0);
    rx.drain(100ms);
    return status;
}
}  // namespace

TEST_CASE("the_last_line_arrives_at_exit_with_one_barrier", "[lifecycle][exit]") {
    const std::string how = GENERATE("exit", "shutdown-exit", "shutdown-_exit", "return");
    fake_receiver rx;
    const int status = leave_by(rx, how);
    INFO("left by " << how);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(rx.model.ready_count() == 1);
    CHECK(rx.model.status_text() == "line 3, the last");
    CHECK(rx.barriers == 1);
}

// A controls build switches each path off in turn: without it, that way out loses the line.
TEST_CASE("exit_delivers_the_last_line", "[lifecycle][exit]") {
    fake_receiver rx;
    leave_by(rx, "exit");
    CHECK(rx.model.status_text() == "line 3, the last");
}

TEST_CASE("spdlog_shutdown_delivers_the_last_line_before_exit", "[lifecycle][exit]") {
    fake_receiver rx;
    leave_by(rx, "shutdown-_exit");
    CHECK(rx.model.status_text() == "line 3, the last");
}

namespace {
// stderr, for the length of one call, into a file; returns what was written.
template <typename F>
std::string captured_stderr(F f, bool name_it_as_journal) {
    char path[] = "/tmp/sdn-stderr-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    struct stat st {};
    fstat(STDERR_FILENO, &st);
    // JOURNAL_STREAM as systemd sets it: stderr's device and inode (or another stream's).
    const std::string stream =
        std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + (name_it_as_journal ? 0 : 1));
    setenv("JOURNAL_STREAM", stream.c_str(), 1);
    f();
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    unsetenv("JOURNAL_STREAM");
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    unlink(path);
    return text.str();
}
}  // namespace

// journalctl -p warning shows a line only if it carries the priority: "<4>" for a warning,
// "<3>" for an error, read by the journal from a stream it took over (sd-daemon.h).
TEST_CASE("diagnostics_carry_the_journals_priority_when_stderr_is_the_journal", "[report]") {
    using spdlog_sdnotify::details::report_priority;
    using spdlog_sdnotify::details::write_to_stderr;
    CHECK(captured_stderr([] { write_to_stderr(report_priority::warning, "w"); }, true) ==
          "<4>spdlog_sdnotify: warning: w\n");
    CHECK(captured_stderr([] { write_to_stderr(report_priority::error, "e"); }, true) ==
          "<3>spdlog_sdnotify: error: e\n");
    // The control: stderr is not the stream JOURNAL_STREAM names (a terminal, a file).
    CHECK(captured_stderr([] { write_to_stderr(report_priority::warning, "w"); }, false) ==
          "spdlog_sdnotify: warning: w\n");
    // And a real diagnostic, from the dispatcher's thread, without on_error.
    fake_receiver rx;
    const std::string out = captured_stderr(
        [&] {
            auto d = test::dispatcher_to(rx);
            lifecycle_config c;
            c.dispatcher = d;
            c.attach_to_all = false;
            lifecycle life(c);  // no ready_when: said at once
            d->flush(200ms);
            std::this_thread::sleep_for(200ms);
        },
        true);
    CHECK(out.rfind("<4>spdlog_sdnotify: warning: lifecycle: no ready_when", 0) == 0);
}

// Hands off, under ThreadSanitizer in CI: the application edits its loggers' sinks, registers
// and drops loggers, changes levels and swaps its signal handlers while the wiring check runs
// on the dispatcher's thread. Nothing of that may race with us, and each mistake is said once.
TEST_CASE("an_application_that_edits_loggers_and_handlers_meanwhile_races_with_nothing",
          "[lifecycle][wiring][tsan]") {
    reload_fixture f;
    signal(SIGHUP, SIG_DFL);
    auto c = f.config();
    c.attach_to_all = true;
    c.reload_on_sighup = true;
    lifecycle life(c);
    std::atomic<bool> stop{false};
    std::vector<std::thread> app;
    // Its own logger: logs and edits its sinks, one thread (spdlog's rule), attached.
    app.emplace_back([&] {
        auto own = std::make_shared<spdlog::logger>(
            "editor", std::make_shared<spdlog::sinks::null_sink_mt>());
        spdlog::register_logger(own);
        life.attach(own);
        for (long i = 0; !stop; ++i) {
            own->sinks().push_back(std::make_shared<spdlog::sinks::null_sink_mt>());
            own->info("record {}", i);
            own->sinks().pop_back();
            own->set_level(i % 2 ? spdlog::level::info : spdlog::level::debug);
        }
        spdlog::drop("editor");
    });
    // Loggers made and dropped, some given to attach(), some not.
    app.emplace_back([&] {
        for (long i = 0; !stop; ++i) {
            auto l = std::make_shared<spdlog::logger>(
                "worker-" + std::to_string(i % 4), std::make_shared<spdlog::sinks::null_sink_mt>());
            if (i % 2 == 0) life.attach(l);
            spdlog::register_logger(l);
            l->info("listening on :{}", 8000 + i % 4);
            spdlog::drop(l->name());
            std::this_thread::sleep_for(1ms);
        }
    });
    // Handlers swapped: the application's own SIGHUP handler, then ours back by sigaction.
    app.emplace_back([&] {
        struct sigaction ours {};
        sigaction(SIGHUP, nullptr, &ours);
        for (long i = 0; !stop; ++i) {
            if (i % 2) {
                signal(SIGHUP, SIG_IGN);
            } else {
                sigaction(SIGHUP, &ours, nullptr);
            }
            std::this_thread::sleep_for(3ms);
        }
        sigaction(SIGHUP, &ours, nullptr);
    });
    auto late = std::make_shared<spdlog::logger>("late");  // never given to attach()
    spdlog::register_logger(late);
    std::this_thread::sleep_for(3500ms);  // three wiring checks or more
    stop = true;
    for (auto &t : app) t.join();
    CHECK(f.log.count("logger 'late' was made after the lifecycle") == 1);
    CHECK(f.log.count("the SIGHUP handler was replaced") <= 1);  // seen or not, said once
    CHECK(f.log.count("logger 'worker-1' was made after the lifecycle") <= 1);
    CHECK(f.log.count("logger 'editor'") == 0);  // attached: nothing to say
    spdlog::drop("late");
}
