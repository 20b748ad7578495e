// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// Faults: a receiver that stalls, vanishes and comes back, NOTIFY_SOCKET pointing at the wrong
// thing, no file descriptors left, forked children. Nothing lost, nothing injected, nothing
// blocked.
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "fake_receiver.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::dispatcher;
using spdlog_sdnotify::dispatcher_options;
using spdlog_sdnotify::status_sink_config;
using spdlog_sdnotify::status_sink_mt;
using test::fake_receiver;

namespace {

struct error_log {
    std::mutex m;
    std::vector<std::error_code> errors;
    spdlog_sdnotify::error_handler handler() {
        return [this](std::error_code ec, std::string_view, std::uint64_t) {
            std::lock_guard<std::mutex> lock(m);
            errors.push_back(ec);
        };
    }
    std::size_t size() {
        std::lock_guard<std::mutex> lock(m);
        return errors.size();
    }
};

std::shared_ptr<spdlog::logger> status_logger(const std::shared_ptr<dispatcher> &d,
                                              const std::string &name = "app") {
    status_sink_config c;
    c.dispatcher = d;
    return std::make_shared<spdlog::logger>(name, std::make_shared<status_sink_mt>(c));
}

}  // namespace

TEST_CASE("stalled_receiver_blocks_no_caller_and_loses_nothing_that_counts", "[faults]") {
    fake_receiver rx;
    dispatcher_options o;
    o.min_interval = 100ms;
    auto d = test::dispatcher_to(rx, o);
    auto log = status_logger(d);
    // The receiver reads nothing for 5 s while 8 threads log as fast as they can.
    std::atomic<long long> worst_ns{0};
    std::atomic<long> records{0};
    const auto until = std::chrono::steady_clock::now() + 5s;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            long i = 0;
            while (std::chrono::steady_clock::now() < until) {
                const auto t0 = std::chrono::steady_clock::now();
                log->info("thread {} record {}", t, ++i);
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - t0)
                                    .count();
                long long seen = worst_ns.load();
                while (ns > seen && !worst_ns.compare_exchange_weak(seen, ns)) {
                }
            }
            records += i;
        });
    std::this_thread::sleep_for(2s);
    d->post(spdlog_sdnotify::message{}.stopping().status("stopping during the stall"));
    for (auto &t : threads) t.join();
    log->info("the last word");
    INFO(records.load() << " records; the slowest call took " << worst_ns.load() / 1000 << " us");
    CHECK(worst_ns.load() < std::chrono::nanoseconds(1s).count());  // a blocked call takes 5 s
    CHECK(d->stats().failures > 0);                                 // the queue really was full
    // While a retry pause runs, a new text could not go anyway: no logging thread wakes the
    // sender for it (a wake-up per record would be a syscall per record, and a busy sender).
    INFO(d->stats().wakeups << " wake-ups");
    CHECK(d->stats().wakeups < 100);
    // The receiver reads again: STOPPING and the newest status arrive, with the sender's next
    // retry (its pause is up to 1 s, so a reader that gives up after a 1 s gap races it).
    std::string last;
    const auto read_until = std::chrono::steady_clock::now() + 5s;
    while ((rx.model.stopping_count() == 0 || last != "the last word") &&
           std::chrono::steady_clock::now() < read_until) {
        if (rx.next(500ms)) last = rx.model.status_text();
    }
    CHECK(rx.model.stopping_count() == 1);
    CHECK(std::string(rx.model.active_state()) == "deactivating");
    CHECK(last == "the last word");
}

TEST_CASE("socket_deleted_and_recreated_while_running", "[faults]") {
    fake_receiver rx;
    error_log errors;
    dispatcher_options o;
    o.min_interval = 100ms;
    o.on_error = errors.handler();
    auto d = test::dispatcher_to(rx, o);
    auto log = status_logger(d);
    log->info("before");
    REQUIRE(rx.next(1s));
    rx.close();  // the socket file is gone
    log->info("while it was gone");
    std::this_thread::sleep_for(300ms);
    CHECK(errors.size() >= 1);
    rx.open();  // re-created at the same path: the failed text is retried, unprompted
    REQUIRE(rx.next(2s));
    CHECK(rx.model.status_text() == "while it was gone");
    log->info("after");
    REQUIRE(rx.next(1s));
    CHECK(rx.model.status_text() == "after");
}

TEST_CASE("notify_socket_pointing_at_the_wrong_thing", "[faults]") {
    char tmpl[] = "/tmp/sdnotify-fault-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    std::ofstream(dir + "/plain") << "not a socket";
    const std::string cases[] = {dir + "/plain", dir, "/" + std::string(200, 'p'),
                                 "tcp:127.0.0.1:9", dir + "/missing"};
    for (const auto &address : cases) {
        INFO("NOTIFY_SOCKET=" << address.substr(0, 60));
        setenv("NOTIFY_SOCKET", address.c_str(), 1);
        auto n = std::make_shared<spdlog_sdnotify::notifier>();
        auto r = n->ready("x");
        CHECK(r.is_failed());
        CHECK(r.code() < 0);
        error_log errors;
        dispatcher_options o;
        o.on_error = errors.handler();
        auto d = std::make_shared<dispatcher>(n, o);
        auto log = status_logger(d);
        CHECK_NOTHROW(log->info("status nobody receives"));
        spdlog_sdnotify::lifecycle_config lc;
        lc.dispatcher = d;
        lc.attach_to_all = false;
        lc.ready_when = spdlog_sdnotify::rule::contains("nobody");
        spdlog_sdnotify::lifecycle life(lc);
        life.attach(log);
        CHECK_NOTHROW(log->info("nobody receives this either"));
        d->flush(300ms);
        CHECK(errors.size() >= 1);  // reported, rate-limited, never thrown
    }
    unlink((dir + "/plain").c_str());
    rmdir(dir.c_str());
}

namespace {
// The set-up of an application under finit 4.4-4.12 (NOTIFY_SOCKET=3): a status logger and a
// lifecycle that announces READY, on a dispatcher of their own; logs for `span`.
std::shared_ptr<dispatcher> log_under_fd_number(dispatcher_options o,
                                                std::chrono::milliseconds span) {
    setenv("NOTIFY_SOCKET", "3", 1);
    o.min_interval = 10ms;
    auto d = std::make_shared<dispatcher>(std::make_shared<spdlog_sdnotify::notifier>(), o);
    auto log = status_logger(d);
    const auto life = test::ready_on_listening(d, log);
    log->info("listening");
    const auto until = std::chrono::steady_clock::now() + span;
    for (long i = 0; std::chrono::steady_clock::now() < until; ++i) {
        log->info("request {}", i);
        std::this_thread::sleep_for(1ms);
    }
    d->flush(300ms);
    return d;
}
}  // namespace

TEST_CASE("a_bare_fd_number_in_notify_socket_is_said_once_on_stderr", "[faults][address]") {
    test::stderr_capture err;
    auto d = log_under_fd_number({}, 500ms);  // errors_to_stderr, the default
    const std::string text = err.text();
    INFO("stderr:\n" << text << d->stats().failures << " failed sends");
    CHECK(d->stats().failures >= 2);  // READY and many statuses were refused
    CHECK(d->stats().lifecycle_sent == 0);
    CHECK(err.count("spdlog_sdnotify: error:") == 1);
    CHECK(err.count("NOTIFY_SOCKET=3: NOTIFY_SOCKET is a file descriptor number (finit 4.4-4.12), "
                    "not a socket address: unsupported") == 1);
}

// on_error may be called once a second; an unusable address is still said only once.
TEST_CASE("a_bare_fd_number_in_notify_socket_is_said_once_to_on_error", "[faults][address]") {
    error_log errors;
    dispatcher_options o;
    o.on_error = errors.handler();
    auto d = log_under_fd_number(o, 2500ms);
    std::lock_guard<std::mutex> lock(errors.m);
    INFO(errors.errors.size() << " reports, " << d->stats().failures << " failed sends");
    CHECK(d->stats().failures >= 3);
    REQUIRE(errors.errors.size() == 1);
    CHECK(errors.errors.front() == spdlog_sdnotify::errc::fd_number_address);
}

TEST_CASE("no_file_descriptors_left", "[faults]") {
    fake_receiver rx;
    error_log errors;
    dispatcher_options o;
    o.min_interval = 50ms;
    o.on_error = errors.handler();
    auto d = test::dispatcher_to(rx, o);
    auto log = status_logger(d);
    rlimit old{};
    getrlimit(RLIMIT_NOFILE, &old);
    rlimit none = old;
    none.rlim_cur = 0;  // the socket is opened lazily, so its first open fails
    // No test macro runs while the limit is down: sanitizer runtimes need descriptors too.
    const int rc = setrlimit(RLIMIT_NOFILE, &none);
    log->info("needs a socket");
    std::this_thread::sleep_for(200ms);
    setrlimit(RLIMIT_NOFILE, &old);
    REQUIRE(rc == 0);
    {
        std::lock_guard<std::mutex> lock(errors.m);
        REQUIRE_FALSE(errors.errors.empty());
        CHECK(errors.errors.front() == std::errc::too_many_files_open);
    }
    REQUIRE(rx.next(2s));  // retried once descriptors are back
    CHECK(rx.model.status_text() == "needs a socket");
}

namespace {
// The process-wide dispatcher, as an application has it (each test case runs in its own
// process, so the default notifier reads this receiver's address).
std::shared_ptr<spdlog::logger> app_logger(fake_receiver &rx) {
    rx.export_env();
    auto log =
        std::make_shared<spdlog::logger>("app", std::make_shared<spdlog::sinks::null_sink_mt>());
    spdlog_sdnotify::attach(log);
    log->info("parent running");
    REQUIRE(rx.next(2s));
    return log;
}

void parent_still_reports(fake_receiver &rx, spdlog::logger &log) {
    log.info("parent still reporting");
    REQUIRE(rx.next(2s));
    CHECK(rx.model.status_text() == "parent still reporting");
    CHECK(std::all_of(rx.senders.begin(), rx.senders.end(), [](pid_t p) { return p == getpid(); }));
}
}  // namespace

TEST_CASE("forked_child_logs_and_exits_without_sending_or_hanging", "[faults][fork]") {
    fake_receiver rx;
    auto log = app_logger(rx);
    const pid_t pid = fork();
    if (pid == 0) {
        alarm(10);  // a hang at exit would end in SIGALRM
        for (int i = 0; i < 1000; ++i) log->info("child record {}", i);
        std::exit(0);  // static destructors run, the dispatcher's among them
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_FALSE(rx.next(500ms));  // nothing from the child
    CHECK(rx.model.status_text() == "parent running");
    parent_still_reports(rx, *log);
}

TEST_CASE("fork_and_exec_inherit_nothing", "[faults][fork]") {
    fake_receiver rx;
    auto log = app_logger(rx);
    const pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exit 0", nullptr);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(rx.next(300ms));
    parent_still_reports(rx, *log);
}

TEST_CASE("a_forked_child_never_touches_the_dispatcher", "[faults][fork]") {
    fake_receiver rx;
    dispatcher_options o;
    o.min_interval = 50ms;
    auto d = test::dispatcher_to(rx, o);
    auto log = status_logger(d);
    log->info("parent");
    REQUIRE(rx.next(2s));
    std::this_thread::sleep_for(100ms);  // the dispatcher goes idle: the next post would wake it
    const pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        log->info("from the child");  // would wake a thread that does not exist here
        d->post(spdlog_sdnotify::message{}.ready());
        const auto t0 = std::chrono::steady_clock::now();
        const bool flushed = d->flush(5s);  // no thread to wait for: returns at once, false
        const bool quick = std::chrono::steady_clock::now() - t0 < 1s;
        _exit(!flushed && quick ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(rx.next(300ms));
    log->info("parent again");
    REQUIRE(rx.next(2s));
    CHECK(rx.model.status_text() == "parent again");
}
