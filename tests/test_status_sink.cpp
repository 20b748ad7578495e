// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/async.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <regex>
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

struct fixture {
    explicit fixture(dispatcher_options options = quick())
        : dispatch(test::dispatcher_to(rx, std::move(options))) {}
    static dispatcher_options quick() {
        dispatcher_options o;
        o.min_interval = 100ms;
        return o;
    }
    status_sink_config config() const {
        status_sink_config c;
        c.dispatcher = dispatch;
        return c;
    }
    std::shared_ptr<spdlog::logger> logger(const std::string &name = "app") {
        auto l = std::make_shared<spdlog::logger>(name, std::make_shared<status_sink_mt>(config()));
        l->set_level(spdlog::level::trace);
        return l;
    }
    // What systemctl would show once everything pending has gone out.
    std::string status_now() {
        REQUIRE(dispatch->flush(2s));
        rx.drain(50ms);
        return rx.model.status_text();
    }

    fake_receiver rx;
    std::shared_ptr<dispatcher> dispatch;
};

// `writers` threads log texts of one repeated character (100 to 3100 bytes) while the sender
// copies cells as often as it can; every STATUS that arrives must be one character repeated (a
// torn copy would mix two). Returns how many texts were checked: 3000, or what 10 s allowed (a
// sanitizer's build is slow, and busy writers leave the sender little of two cores).
std::size_t check_no_torn_text(fixture &f, int writers, int yield_every) {
    auto log = f.logger();
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                const char c = static_cast<char>('a' + (t * 7 + i) % 26);
                log->info(std::string(static_cast<std::size_t>(100 + (i * 37) % 3000), c));
                if (i % yield_every == 0) std::this_thread::yield();
            }
        });
    std::size_t checked = 0;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (checked < 3000 && std::chrono::steady_clock::now() < until) {
        auto p = f.rx.next(100ms);
        if (!p) continue;
        const auto text = p->find("STATUS");
        if (!text || text->empty()) continue;
        ++checked;
        const bool one_char =
            std::all_of(text->begin(), text->end(), [&](char c) { return c == text->front(); });
        CHECK(one_char);
        if (!one_char) break;
    }
    stop = true;
    for (auto &t : threads) t.join();
    return checked;
}

}  // namespace

TEST_CASE("forwards_payload_at_info_by_default", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    log->info("listening on {}", ":8080");
    CHECK(f.status_now() == "listening on :8080");
    CHECK(f.rx.raw.back() == "STATUS=listening on :8080\n");
}

TEST_CASE("records_below_the_sink_level_are_not_forwarded", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    log->info("shown");
    REQUIRE(f.status_now() == "shown");
    log->debug("debug detail");
    log->trace("trace detail");
    CHECK(f.status_now() == "shown");
    CHECK(f.dispatch->stats().posted == 1);
    auto c = f.config();
    c.level = spdlog::level::warn;
    auto warn_only = std::make_shared<spdlog::logger>("w", std::make_shared<status_sink_mt>(c));
    warn_only->info("not this");
    warn_only->warn("disk 91% full");
    CHECK(f.status_now() == "disk 91% full");
}

TEST_CASE("predicate_selects_by_logger_and_text", "[status_sink]") {
    fixture f;
    auto c = f.config();
    c.filter = [](const spdlog::details::log_msg &m) {
        return m.logger_name == "jobs" &&
               std::string_view(m.payload.data(), m.payload.size()).rfind("progress", 0) == 0;
    };
    auto sink = std::make_shared<status_sink_mt>(c);
    spdlog::logger jobs("jobs", sink), http("http", sink);
    jobs.info("progress 10%");
    jobs.info("unrelated chatter");
    http.info("progress of something else");
    CHECK(f.status_now() == "progress 10%");
    CHECK(f.dispatch->stats().posted == 1);
}

TEST_CASE("pattern_formats_without_colour_or_newline", "[status_sink]") {
    fixture f;
    auto sink = std::make_shared<status_sink_mt>(f.config());
    sink->set_pattern("%^[%l]%$ %n: %v");
    spdlog::logger log("db", sink);
    log.warn("replica lagging");
    CHECK(f.status_now() == "[warning] db: replica lagging");
    log.set_pattern("%+");  // a logger-wide pattern is for the other sinks
    log.warn("still the sink's own pattern");
    CHECK(f.status_now() == "[warning] db: still the sink's own pattern");
    auto c = f.config();
    c.pattern = "%l| %v";
    spdlog::logger configured("cfg", std::make_shared<status_sink_mt>(c));
    configured.error("from the config");
    CHECK(f.status_now() == "error| from the config");
}

TEST_CASE("global_patterns_leave_the_status_raw", "[status_sink]") {
    fixture f;
    auto log = f.logger("registered_raw");
    spdlog::register_logger(log);
    spdlog::set_pattern("[%H:%M:%S] %v");
    log->info("raw payload");
    CHECK(f.status_now() == "raw payload");
    spdlog::shutdown();
}

// spdlog's convention, where asked: the logger's pattern reaches the sink through set_formatter().
TEST_CASE("set_formatter_applies_with_follow_logger_pattern", "[status_sink]") {
    fixture f;
    auto c = f.config();
    c.follow_logger_pattern = true;
    auto sink = std::make_shared<status_sink_mt>(c);
    auto log = std::make_shared<spdlog::logger>("follow", sink);
    log->set_pattern("<%n|%l> %v");
    log->info("formatted");
    CHECK(f.status_now() == "<follow|info> formatted");
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v!"));
    log->info("direct");
    CHECK(f.status_now() == "direct!");
    // Without the option (the default, as in global_patterns_leave_the_status_raw): ignored.
    auto raw_sink = std::make_shared<status_sink_mt>(f.config());
    auto raw = std::make_shared<spdlog::logger>("raw", raw_sink);
    raw->set_pattern("<%n|%l> %v");
    raw_sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v!"));
    raw->info("still raw");
    CHECK(f.status_now() == "still raw");
}

TEST_CASE("redaction_hook_runs_before_sending", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    o.redact = [](std::string_view text) {
        static const std::regex secret(R"(password=\S+)");
        return std::regex_replace(std::string(text), secret, "password=***");
    };
    fixture f(o);
    f.logger()->info("connecting with password=hunter2 to db");
    CHECK(f.status_now() == "connecting with password=*** to db");
    for (const auto &d : f.rx.raw) CHECK(d.find("hunter2") == std::string::npos);
}

TEST_CASE("failing_redaction_sends_nothing", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    o.redact = [](std::string_view) -> std::string { throw std::runtime_error("boom"); };
    std::atomic<int> errors{0};
    o.on_error = [&](std::error_code ec, std::string_view, std::uint64_t) {
        if (ec == spdlog_sdnotify::errc::callback_failed) ++errors;
    };
    fixture f(o);
    f.logger()->info("secret=1");
    f.dispatch->flush(1s);
    CHECK_FALSE(f.rx.next(200ms));
    CHECK(errors == 1);
}

TEST_CASE("burst_of_100000_is_coalesced_and_last_text_wins", "[status_sink]") {
    fixture f;  // min_interval 100 ms
    auto log = f.logger();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100000; ++i) log->info("processed {} of 100000", i + 1);
    const auto burst = std::chrono::steady_clock::now() - start;
    // No flush: the final text must arrive on its own, within min_interval.
    std::string last;
    while (auto p = f.rx.next(1s)) last = f.rx.model.status_text();
    CHECK(last == "processed 100000 of 100000");
    const auto datagrams = f.rx.raw.size();
    const auto allowed = static_cast<std::size_t>(burst / 100ms) + 2;
    INFO("burst took " << std::chrono::duration<double>(burst).count() << " s, " << datagrams
                       << " datagrams");
    CHECK(datagrams <= allowed);
    CHECK(f.dispatch->stats().posted == 100000);
    CHECK(f.dispatch->stats().wakeups <= allowed);
}

TEST_CASE("last_record_arrives_within_min_interval_without_followers", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    log->info("first");
    REQUIRE(f.rx.next(1s));
    log->info("second");  // inside min_interval of the first: held back, then sent
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(f.rx.next(1s));
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(f.rx.model.status_text() == "second");
    CHECK(waited < 1s);
}

TEST_CASE("unchanged_text_is_not_resent", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    for (int i = 0; i < 3; ++i) {
        log->info("steady");
        std::this_thread::sleep_for(150ms);  // past min_interval each time
    }
    f.dispatch->flush(1s);
    CHECK(f.rx.drain(300ms) == 1);
}

TEST_CASE("error_is_sticky_for_a_while", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    o.sticky_for = 600ms;
    fixture f(o);
    auto log = f.logger();
    log->error("upstream unreachable");
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "upstream unreachable");
    log->info("request 1 served");
    log->info("request 2 served");
    CHECK_FALSE(f.rx.next(300ms));  // the info lines do not hide the error
    CHECK(f.rx.model.status_text() == "upstream unreachable");
    REQUIRE(f.rx.next(1s));  // the hold ends: the newest info line takes over, unprompted
    CHECK(f.rx.model.status_text() == "request 2 served");
    log->critical("out of memory");
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "out of memory");
    log->error("newer error replaces it");
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "newer error replaces it");
}

TEST_CASE("async_logger_through_the_factory", "[status_sink]") {
    fixture f;
    spdlog::init_thread_pool(1024, 1);
    auto log = spdlog_sdnotify::status_logger_mt<spdlog::async_factory>("async_status", f.config());
    log->info("from the async logger");
    log->flush();
    std::this_thread::sleep_for(100ms);  // the async worker hands the record over
    CHECK(f.status_now() == "from the async logger");
    spdlog::drop("async_status");
    auto st = spdlog_sdnotify::status_logger_st("sync_status", f.config());
    st->info("from the _st logger");
    CHECK(f.status_now() == "from the _st logger");
    spdlog::shutdown();
}

TEST_CASE("one_sink_shared_by_several_loggers", "[status_sink]") {
    fixture f;
    auto sink = std::make_shared<status_sink_mt>(f.config());
    spdlog::logger a("a", sink), b("b", sink);
    a.info("from a");
    CHECK(f.status_now() == "from a");
    b.info("from b");
    CHECK(f.status_now() == "from b");
}

TEST_CASE("eight_threads_logging_at_once", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    std::vector<std::thread> threads;
    std::atomic<int> finished{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20000; ++i) log->info("thread {} record {}", t, i);
            ++finished;
        });
    // Read meanwhile, as PID 1 would: in a slow (sanitizer) build the loop outlasts the 10
    // datagrams an unread receiver queues, and the sender's backoff then outlasts the flush.
    while (finished < 8) f.rx.next(20ms);
    for (auto &t : threads) t.join();
    log->info("all done");
    CHECK(f.status_now() == "all done");
    CHECK(f.dispatch->stats().posted == 8 * 20000 + 1);
    for (const auto &d : f.rx.raw) {
        auto p = spdlog_sdnotify::parse_notification(d);
        CHECK(p.accepted);
        CHECK(p.assignments.size() == 1);
    }
}

// The sink takes no lock: each thread publishes into a cell of its own and the dispatcher's
// thread copies cells while they are rewritten. A copy torn by a writer must never be sent:
// every text is one character repeated, so a torn one would mix two characters.
TEST_CASE("lock_free_cells_never_send_a_torn_text", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 1ms;  // copy as often as possible, racing the writers
    fixture f(o);
    const std::size_t checked = check_no_torn_text(f, 4, 64);
    INFO(checked << " texts checked");
    CHECK(checked > 20);
    f.logger()->info("all done");
    CHECK(f.status_now() == "all done");
}

// More threads than a sink has cells: threads share cells, claimed one writer at a time; a
// torn text is never sent from those either.
TEST_CASE("shared_cells_never_send_a_torn_text", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 1ms;
    fixture f(o);
    const std::size_t checked = check_no_torn_text(f, 24, 16);  // 8 more threads than cells
    INFO(checked << " texts checked");
    CHECK(checked > 20);
}

// More threads than cells: threads share cells, claimed one writer at a time; the newest
// record still wins and every record is counted.
TEST_CASE("more_threads_than_cells_share_them", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    constexpr int n = 40;  // cells_per_sink is 16
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) log->info("thread {} record {}", t, i);
        });
    for (auto &t : threads) t.join();
    std::this_thread::sleep_for(5ms);  // a record time later than every thread's last one
    log->info("all done");
    CHECK(f.status_now() == "all done");
    CHECK(f.dispatch->stats().posted == n * 2000 + 1);
}

// Newest by record time across threads: an error logged on one thread stays sticky while
// another thread goes on logging infos.
TEST_CASE("an_error_on_one_thread_holds_against_infos_on_another", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    std::thread([&] { log->error("disk full"); }).join();
    std::atomic<bool> stop{false};
    std::thread chatter([&] {
        for (int i = 0; !stop; ++i) {
            log->info("request {}", i);
            std::this_thread::sleep_for(1ms);
        }
    });
    std::this_thread::sleep_for(400ms);
    stop = true;
    chatter.join();
    CHECK(f.status_now() == "disk full");
}

TEST_CASE("hostile_log_texts_never_inject", "[status_sink]") {
    fixture f;
    auto log = f.logger();
    f.rx.model.apply(spdlog_sdnotify::parse_notification("READY=1"));
    const std::string hostile[] = {"50%\nSTOPPING=1", "x\rREADY=0\rSTOPPING=1",
                                   "trail\\",         std::string("nul\0STOPPING=1", 14),
                                   "bad\xff utf8",    std::string(9000, '\n') + "STOPPING=1"};
    for (const auto &text : hostile) {
        log->info(text);
        f.status_now();
        CHECK(std::string(f.rx.model.active_state()) == "active");
        CHECK(f.rx.model.stopping_count() == 0);
    }
    for (const auto &d : f.rx.raw) {
        auto p = spdlog_sdnotify::parse_notification(d);
        CHECK(p.accepted);
        CHECK(p.assignments.size() == 1);
    }
}

TEST_CASE("lifecycle_messages_go_before_a_pending_status", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 2s;
    fixture f(o);
    auto log = f.logger();
    log->info("starting");
    REQUIRE(f.rx.next(1s));
    log->info("pending status");  // held for min_interval
    f.dispatch->post(spdlog_sdnotify::message{}.ready());
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.raw.back() == "READY=1\n");
    CHECK(f.rx.model.status_text() == "starting");
}

TEST_CASE("flush_delivers_the_pending_status_now", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 10s;
    fixture f(o);
    auto log = f.logger();
    log->info("one");
    REQUIRE(f.rx.next(1s));
    log->info("two");
    log->flush();                  // the sink's flush never waits...
    CHECK(f.dispatch->flush(1s));  // ...the dispatcher's does
    REQUIRE(f.rx.next(100ms));
    CHECK(f.rx.model.status_text() == "two");
}

TEST_CASE("dropping_the_logger_delivers_the_pending_status", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 10s;
    fixture f(o);
    auto log = f.logger();
    log->info("one");
    REQUIRE(f.rx.next(1s));
    log->info("last words");
    const auto t0 = std::chrono::steady_clock::now();
    log.reset();
    f.dispatch.reset();  // the last reference: the dispatcher delivers and stops
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "last words");
}

TEST_CASE("spdlog_shutdown_delivers_the_pending_status", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 10s;
    fixture f(o);
    auto log = f.logger("registered");
    spdlog::register_logger(log);
    log->info("one");
    REQUIRE(f.rx.next(1s));
    log->info("shutting down");
    log.reset();
    spdlog::shutdown();
    f.dispatch.reset();
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "shutting down");
}

TEST_CASE("attach_and_attach_all_add_one_sink", "[status_sink]") {
    fixture f;
    auto app =
        std::make_shared<spdlog::logger>("app", std::make_shared<spdlog::sinks::null_sink_mt>());
    spdlog::register_logger(app);
    auto sink = spdlog_sdnotify::attach_all(f.config());
    CHECK(app->sinks().size() == 2);
    CHECK(spdlog::default_logger()->sinks().back() == sink);
    spdlog_sdnotify::attach_all(f.config());  // a second call adds a second, distinct sink
    CHECK(app->sinks().size() == 3);
    app->info("through attach_all");
    CHECK(f.status_now() == "through attach_all");
    auto other = std::make_shared<spdlog::logger>("other");
    spdlog_sdnotify::attach(other, f.config());
    other->info("through attach");
    CHECK(f.status_now() == "through attach");
    spdlog::shutdown();
}

TEST_CASE("never_throws_into_spdlog_and_reports_rate_limited", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    std::atomic<int> calls{0};
    std::atomic<std::uint64_t> suppressed{0};
    o.on_error = [&](std::error_code, std::string_view, std::uint64_t s) {
        ++calls;
        suppressed += s;
    };
    fixture f(o);
    auto c = f.config();
    c.filter = [](const spdlog::details::log_msg &) -> bool { throw std::runtime_error("bad"); };
    spdlog::logger log("throwing", std::make_shared<status_sink_mt>(c));
    bool spdlog_error_handler_called = false;
    log.set_error_handler([&](const std::string &) { spdlog_error_handler_called = true; });
    for (int i = 0; i < 1000; ++i) CHECK_NOTHROW(log.info("x"));
    CHECK_FALSE(spdlog_error_handler_called);
    f.dispatch->flush(1s);  // reports are delivered by the dispatcher's thread
    CHECK(calls == 1);      // 1000 failures within a second: one report
    CHECK(f.dispatch->stats().failures == 1000);
}

TEST_CASE("receiver_gone_is_reported_not_thrown", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    std::atomic<int> calls{0};
    std::error_code last;
    std::mutex m;
    o.on_error = [&](std::error_code ec, std::string_view, std::uint64_t) {
        std::lock_guard<std::mutex> lock(m);
        last = ec;
        ++calls;
    };
    fixture f(o);
    f.rx.close();
    f.logger()->info("nobody listens");
    f.dispatch->flush(500ms);  // retried meanwhile, reported once (at most one call a second)
    std::lock_guard<std::mutex> lock(m);
    CHECK(calls == 1);
    CHECK((last == std::errc::no_such_file_or_directory || last == std::errc::connection_refused));
}

TEST_CASE("outside_systemd_the_sink_does_nothing", "[status_sink]") {
    unsetenv("NOTIFY_SOCKET");
    auto sink = std::make_shared<status_sink_mt>();
    CHECK_FALSE(sink->dispatcher()->enabled());
    spdlog::logger log("plain", sink);
    CHECK_NOTHROW(log.info("hello"));
    CHECK(sink->dispatcher()->stats().posted == 0);
    CHECK(sink->dispatcher()->flush(10ms));
}

TEST_CASE("two_sinks_on_one_dispatcher_newest_record_wins", "[status_sink]") {
    fixture f;
    auto a = f.logger("a");
    auto b = f.logger("b");  // a second status sink, same dispatcher
    a->info("from a");
    std::this_thread::sleep_for(2ms);
    b->info("from b");
    CHECK(f.status_now() == "from b");
    a->info("from a again");
    CHECK(f.status_now() == "from a again");
    CHECK(f.dispatch->stats().posted == 3);
    b.reset();  // a sink that goes away hands its text over first
    CHECK(f.dispatch->stats().posted == 3);
}

TEST_CASE("flush_on_info_keeps_the_rate_budget_and_never_waits", "[status_sink]") {
    fixture f;  // min_interval 100 ms
    auto log = f.logger();
    log->flush_on(spdlog::level::info);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; ++i) log->info("record {}", i);
    const auto took = std::chrono::steady_clock::now() - start;
    std::string last;
    while (f.rx.next(500ms)) last = f.rx.model.status_text();
    CHECK(last == "record 19999");
    INFO("20000 records with flush_on(info) took " << std::chrono::duration<double>(took).count()
                                                   << " s, " << f.rx.raw.size() << " datagrams");
    CHECK(f.rx.raw.size() <= static_cast<std::size_t>(took / 100ms) + 3);
    CHECK(took < 2s);  // a waiting flush would take 20000 round trips
}

// The logging thread claims its cell (a compare-and-swap), publishes, then reads the sender's
// idle flag; the sender, about to sleep, sets its idle flag and looks at the cells once more. A
// record published on its way to sleep must still wake it (or be seen). Here the sender goes idle
// after every send and bursts of records at random spacings race it, thousands of times; each
// burst's last record must arrive.
TEST_CASE("a_record_published_as_the_sender_goes_idle_is_never_missed", "[status_sink]") {
    dispatcher_options o;
    o.min_interval = 0ms;
    fixture f(o);
    auto log = f.logger();
    int rounds = 0, lost = 0;
    std::minstd_rand jitter(42);
    const auto end = std::chrono::steady_clock::now() + 8s;
    while (rounds < 5000 && std::chrono::steady_clock::now() < end) {
        std::string want;
        for (auto k = 1 + jitter() % 6; k > 0; --k) {
            want = "record " + std::to_string(rounds) + "." + std::to_string(k);
            log->info(want);
            for (volatile auto spin = jitter() % 8000; spin > 0; spin = spin - 1) {
            }
        }
        ++rounds;
        const auto deadline = std::chrono::steady_clock::now() + 1s;
        bool got = false;
        while (!got && std::chrono::steady_clock::now() < deadline) {
            const auto n = f.rx.next(0ms);
            got = n && n->find("STATUS") == std::string_view(want);
        }
        if (!got) ++lost;
        f.rx.raw.clear();
    }
    INFO(rounds << " rounds, " << f.dispatch->stats().wakeups << " wake-ups, "
                << f.dispatch->stats().status_sent << " sent");
    CHECK(rounds >= 200);
    CHECK(lost == 0);
}

// A service that logs the same line over and over ("health check ok") changes nothing to send.
// The sender must not go to sleep between those records and be woken by the next one (a
// syscall on the logging thread a few hundred records apart): it looks again after min_interval,
// so a new text still arrives within it.
TEST_CASE("repeated_records_do_not_wake_the_sender_each_time", "[status_sink]") {
    fixture f;  // min_interval 100 ms
    auto log = f.logger();
    log->info("health check ok");
    REQUIRE(f.rx.next(1s));
    REQUIRE(f.dispatch->flush(1s));  // its send counted
    const auto before = f.dispatch->stats();
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 1s) {
        for (int i = 0; i < 1000; ++i) log->info("health check ok");
        std::this_thread::sleep_for(100us);  // records keep coming, 1000 every ~0.1 ms
    }
    const auto after = f.dispatch->stats();
    INFO((after.wakeups - before.wakeups)
         << " wake-ups, " << (after.posted - before.posted) << " records");
    CHECK(after.posted - before.posted > 100000);
    // About one look per min_interval (10 in 1 s); the same records woke it thousands of times.
    CHECK(after.wakeups - before.wakeups <= 12);
    CHECK(after.status_sent == before.status_sent);  // the same text is not sent again
    // A different text among the repeats arrives within min_interval.
    const auto changed = std::chrono::steady_clock::now();
    log->info("health check failed");
    for (int i = 0; i < 1000; ++i) log->info("health check failed");
    REQUIRE(f.rx.next(1s));
    CHECK(f.rx.model.status_text() == "health check failed");
    CHECK(std::chrono::steady_clock::now() - changed < 100ms + 50ms);
}

TEST_CASE("the_dispatcher_says_which_records_are_sticky", "[status_sink][sticky]") {
    dispatcher_options o = fixture::quick();
    o.sticky_for = 600ms;
    o.sticky_level = spdlog::level::warn;
    fixture f(o);
    auto log = f.logger();
    log->warn("disk 90% full");
    REQUIRE(f.rx.next(1s));
    log->info("request served");
    CHECK_FALSE(f.rx.next(300ms));  // the warning holds
    CHECK(f.rx.model.status_text() == "disk 90% full");
    REQUIRE(f.rx.next(1s));  // until sticky_for ends
    CHECK(f.rx.model.status_text() == "request served");
    // Changed later, it applies to the next record.
    o.sticky_level = spdlog::level::off;
    f.dispatch->set_options(o);
    CHECK(f.dispatch->sticky_level() == spdlog::level::off);
    log->critical("not sticky now");
    REQUIRE(f.rx.next(1s));
    log->info("after the critical");
    REQUIRE(f.rx.next(300ms));  // not held for sticky_for
    CHECK(f.rx.model.status_text() == "after the critical");
}

TEST_CASE("configure_default_dispatcher_sets_the_default_instances_options", "[status_sink]") {
    dispatcher_options o;
    o.sticky_level = spdlog::level::critical;
    spdlog_sdnotify::configure_default_dispatcher(o);
    CHECK(dispatcher::default_instance()->sticky_level() == spdlog::level::critical);
}

// Issue 22, 1: the newest text is the one published last, whatever the records' clock says.
// The main thread logs, the clock steps back an hour, workers on two sinks log for a while:
// the status follows them (it stayed on the main thread's line for the hour, under 252 and
// 257 alike). Then forward: a record an hour ahead does not outrank the ones after it.
// Records carry the stepped clock through logger::log(time_point, ...).
TEST_CASE("the_newest_text_is_the_one_published_last_when_the_clock_steps", "[status_sink]") {
    fixture f;
    auto main_log = f.logger("main");
    auto other_sink = f.logger("other");  // a second sink on the same dispatcher
    const auto t0 = std::chrono::system_clock::now();
    auto at = [](const std::shared_ptr<spdlog::logger> &l, std::chrono::system_clock::time_point t,
                 spdlog::level::level_enum level,
                 const std::string &text) { l->log(t, spdlog::source_loc{}, level, text); };
    at(main_log, t0, spdlog::level::info, "listening on :8080");
    CHECK(f.status_now() == "listening on :8080");
    // Stepped back an hour, on two other threads and both sinks.
    std::thread a([&] {
        for (int i = 0; i < 50; ++i) at(main_log, t0 - 1h, spdlog::level::info, "worker a");
    });
    a.join();
    std::thread b([&] { at(other_sink, t0 - 1h + 1ms, spdlog::level::info, "worker b"); });
    b.join();
    CHECK(f.status_now() == "worker b");
    // Stepped forward an hour, then back to the present on another thread.
    std::thread([&] { at(other_sink, t0 + 1h, spdlog::level::info, "ahead"); }).join();
    at(main_log, t0, spdlog::level::info, "back in the present");
    CHECK(f.status_now() == "back in the present");
    // Errors too: the error published last is the one held.
    std::thread([&] { at(other_sink, t0 + 1h, spdlog::level::err, "first error"); }).join();
    at(main_log, t0 - 1h, spdlog::level::err, "second error");
    at(main_log, t0 + 2h, spdlog::level::info, "an info line");
    CHECK(f.status_now() == "second error");
}

// write(2)-family calls of the whole process so far (an eventfd wake-up is one).
long write_syscalls() {
    std::FILE *f = std::fopen("/proc/self/io", "r");
    if (f == nullptr) return 0;
    char line[128];
    long n = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::sscanf(line, "syscw: %ld", &n) == 1) break;
    std::fclose(f);
    return n;
}

// Issue 22, 3: a filter that throws for every record cost a lock and a wake-up (write(2))
// per record. Now the throw and a counter: at most one wake-up, said once with how often.
TEST_CASE("a_throwing_filter_is_counted_not_woken_for", "[status_sink]") {
    dispatcher_options o = fixture::quick();
    std::mutex m;
    std::vector<std::string> said;
    o.on_error = [&](std::error_code, std::string_view what, std::uint64_t) {
        std::lock_guard<std::mutex> lock(m);
        said.emplace_back(what);
    };
    fixture f(o);
    f.logger()->info("before");
    REQUIRE(f.dispatch->flush(1s));
    std::this_thread::sleep_for(300ms);  // the sender goes idle: a wake-up would be a syscall
    const auto woken_before = f.dispatch->stats().wakeups;
    auto c = f.config();
    c.filter = [](const spdlog::details::log_msg &) -> bool { throw std::runtime_error("bad"); };
    spdlog::logger log("throwing", std::make_shared<status_sink_mt>(c));
    const long writes_before = write_syscalls();
    for (int i = 0; i < 100000; ++i) log.info("x");
    const long writes = write_syscalls() - writes_before;  // every thread's, the sender's too
    REQUIRE(f.dispatch->flush(1s));
    const auto s = f.dispatch->stats();
    INFO(s.wakeups - woken_before << " wake-ups, " << writes
                                  << " write(2) calls for 100000 failures");
    CHECK(s.wakeups - woken_before <= 1);
    CHECK(writes < 100);
    CHECK(s.failures == 100000);
    std::this_thread::sleep_for(100ms);
    std::lock_guard<std::mutex> lock(m);
    REQUIRE(said.size() == 1);
    CHECK(said[0].find("the filter threw for") != std::string::npos);
}

// The summary under a real dispatcher: counts and the last error follow the newest line.
TEST_CASE("the_summary_follows_the_newest_line", "[status_sink][summary]") {
    fixture f;
    auto c = f.config();
    c.summary = true;
    auto log = std::make_shared<spdlog::logger>("app", std::make_shared<status_sink_mt>(c));
    log->info("listening on :8080");
    CHECK(f.status_now() == "listening on :8080");
    log->warn("slow request");
    log->error("db1 unreachable");
    log->error("db1 unreachable");
    CHECK(std::regex_match(f.status_now(),
                           std::regex("db1 unreachable \xC2\xB7 2 errors, 1 warning in 5 min, "
                                      "last error at \\d\\d:\\d\\d:\\d\\d")));
}
