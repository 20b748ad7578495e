// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The one-include, one-object set-up: a status sink and a lifecycle sharing one sink.
#include <spdlog_sdnotify/spdlog_sdnotify.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "catch.h"
#include "fake_receiver.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::rule;
using test::fake_receiver;

TEST_CASE("service_puts_one_sink_on_each_logger_for_status_and_lifecycle", "[service]") {
    fake_receiver rx;
    std::mutex m;
    std::vector<std::string> said;
    spdlog_sdnotify::dispatcher_options o;
    o.min_interval = 50ms;
    o.on_error = [&](std::error_code, std::string_view what, std::uint64_t) {
        std::lock_guard<std::mutex> lock(m);
        said.emplace_back(what);
    };
    auto app =
        std::make_shared<spdlog::logger>("app", std::make_shared<spdlog::sinks::null_sink_mt>());
    spdlog::register_logger(app);
    {
        spdlog_sdnotify::service_config c;
        c.status.dispatcher = test::dispatcher_to(rx, o);
        c.lifecycle.ready_when = rule::contains("listening on");
        c.lifecycle.stopping_when = rule::contains("shutting down");
        spdlog_sdnotify::service notify(c);
        REQUIRE(app->sinks().size() == 2);  // its own and ours: one for both
        CHECK(notify.lifecycle().sink() == app->sinks().back());
        app->info("loading");
        app->info("listening on :8080");
        rx.drain(300ms);
        CHECK(rx.model.ready_count() == 1);
        CHECK(std::string(rx.model.active_state()) == "active");
        CHECK(rx.model.status_text() == "listening on :8080");
        app->warn("cache 90% full");
        rx.drain(300ms);
        CHECK(rx.model.status_text() == "cache 90% full");
        std::this_thread::sleep_for(1500ms);  // the wiring check runs: nothing to say
        {
            std::lock_guard<std::mutex> lock(m);
            CHECK(said.empty());
        }
        app->info("shutting down");
        rx.drain(300ms);
        CHECK(rx.model.stopping_count() == 1);
        CHECK(rx.model.status_text() == "shutting down");
    }
    spdlog::drop("app");
}

TEST_CASE("service_applies_notifier_options_first", "[service]") {
    fake_receiver rx;
    setenv("NOTIFY_SOCKET", rx.address().c_str(), 1);
    spdlog_sdnotify::service_config c;
    c.notifier = spdlog_sdnotify::notifier_options{};
    c.notifier->unset_environment = true;
    c.lifecycle.attach_to_all = false;
    spdlog_sdnotify::service notify(c);         // makes the default dispatcher and notifier
    CHECK(getenv("NOTIFY_SOCKET") == nullptr);  // the options applied
    CHECK(notify.status_sink()->dispatcher() == spdlog_sdnotify::dispatcher::default_instance());
    CHECK(spdlog_sdnotify::default_notifier().enabled());
}
