// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The lifecycle's parts on their own (src/lifecycle_*.h): no dispatcher, no thread, no socket.

#include <spdlog_sdnotify/lifecycle.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "catch.h"
#include "lifecycle_keepalive.h"
#include "lifecycle_messages.h"
#include "lifecycle_rules.h"
#include "lifecycle_settings.h"
#include "text_test.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::lifecycle;
using spdlog_sdnotify::lifecycle_config;
using spdlog_sdnotify::rule;
using spdlog_sdnotify::details::lifecycle_keepalive;
using spdlog_sdnotify::details::lifecycle_rules;
using spdlog_sdnotify::details::lifecycle_settings;
using spdlog_sdnotify::details::text_test;
using spdlog_sdnotify::details::watchdog_proof;
namespace messages = spdlog_sdnotify::details::lifecycle_messages;

namespace {

spdlog::details::log_msg record(std::string_view text,
                                spdlog::level::level_enum level = spdlog::level::info) {
    return spdlog::details::log_msg("app", level, spdlog::string_view_t(text.data(), text.size()));
}

// What the rule set asked for, in order.
struct recorder {
    std::vector<std::string> calls;
    void progress() { calls.emplace_back("progress"); }
    void alive() { calls.emplace_back("alive"); }
    void ready(std::string_view t) { calls.push_back("ready:" + std::string(t)); }
    void reloading(std::string_view t) { calls.push_back("reloading:" + std::string(t)); }
    void stopping(std::string_view t) { calls.push_back("stopping:" + std::string(t)); }
    void failure(const spdlog::details::log_msg &m) {
        calls.push_back("failure:" + std::string(m.payload.data(), m.payload.size()));
    }
};

std::vector<std::string> apply(const lifecycle_rules &rules, std::string_view text,
                               lifecycle::state s,
                               spdlog::level::level_enum level = spdlog::level::info) {
    recorder r;
    rules.apply(record(text, level), s, r);
    return r.calls;
}

std::string bytes(const spdlog_sdnotify::message &m) {
    std::string d;
    REQUIRE_FALSE(m.build(d));
    return d;
}

}  // namespace

TEST_CASE("settings_refuse_an_endless_reload", "[lifecycle][parts]") {
    lifecycle_config c;
    c.reload_on_sighup = true;
    const lifecycle_settings s(c);
    CHECK_FALSE(s.reloads());  // nothing would end a reload
    CHECK(s.wants_signals_or_exit());

    c.reloaded_when = rule::contains("reloaded");
    const lifecycle_settings t(c);
    CHECK(t.reloads());
    CHECK_FALSE(lifecycle_settings(lifecycle_config{}).wants_signals_or_exit());
}

TEST_CASE("rules_of_each_state_ask_in_order", "[lifecycle][parts]") {
    lifecycle_config c;
    c.ready_when = rule::contains("listening");
    c.reloading_when = rule::contains("reloading");
    c.reloaded_when = rule::contains("reloaded");
    c.stopping_when = rule::contains("stop");
    c.failure_when = rule::any_at_least(spdlog::level::critical);
    c.alive_when = rule::contains("tick");
    const lifecycle_settings s(c);
    const lifecycle_rules rules(s);

    using v = std::vector<std::string>;
    // Every record during start-up and shutdown is progress.
    CHECK(apply(rules, "loading", lifecycle::state::starting) == v{"progress"});
    CHECK(apply(rules, "listening on :80", lifecycle::state::starting) ==
          v{"progress", "ready:listening on :80"});
    CHECK(apply(rules, "listening on :80", lifecycle::state::ready).empty());
    CHECK(apply(rules, "tick", lifecycle::state::ready) == v{"alive"});
    CHECK(apply(rules, "reloading config", lifecycle::state::ready) ==
          v{"reloading:reloading config"});
    CHECK(apply(rules, "config reloaded", lifecycle::state::reloading) ==
          v{"ready:config reloaded"});
    CHECK(apply(rules, "stop now", lifecycle::state::ready) == v{"stopping:stop now"});
    CHECK(apply(rules, "stop now", lifecycle::state::stopping) == v{"progress"});
    CHECK(apply(rules, "listening, stop", lifecycle::state::starting) ==
          v{"progress", "ready:listening, stop", "stopping:listening, stop"});
    CHECK(apply(rules, "disk gone", lifecycle::state::ready, spdlog::level::critical) ==
          v{"failure:disk gone"});
}

TEST_CASE("rules_leave_reloads_alone_when_refused_and_progress_to_its_rule", "[lifecycle][parts]") {
    lifecycle_config c;
    c.reloading_when = rule::contains("reloading");  // no way back to READY
    c.progress_when = rule::contains("step");
    const lifecycle_settings s(c);
    const lifecycle_rules rules(s);
    CHECK(apply(rules, "reloading", lifecycle::state::ready).empty());
    CHECK(apply(rules, "loading", lifecycle::state::starting).empty());
    CHECK(apply(rules, "step 2", lifecycle::state::starting) ==
          std::vector<std::string>{"progress"});
}

TEST_CASE("messages_of_the_lifecycle", "[lifecycle][parts]") {
    CHECK(bytes(messages::ready("up", true)) == "READY=1\nWATCHDOG=1\nSTATUS=up\n");
    CHECK(bytes(messages::ready("", false)) == "READY=1\n");
    const std::string reloading = bytes(messages::reloading("again"));  // with MONOTONIC_USEC
    CHECK(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
    CHECK(reloading.find("\nSTATUS=again\n") + 14 == reloading.size());
    CHECK(bytes(messages::stopping("")) == "STOPPING=1\n");
    const auto errno_of = [](const spdlog::details::log_msg &) { return 5; };
    CHECK(bytes(messages::failure(record("disk gone"), errno_of)) == "ERRNO=5\nSTATUS=disk gone\n");
    CHECK(bytes(messages::failure(record("disk gone"), {})) == "STATUS=disk gone\n");
}

TEST_CASE("keepalive_plan_follows_the_configuration", "[lifecycle][parts]") {
    lifecycle_config c;
    c.extend_timeout = 3s;
    const lifecycle_keepalive none(c, std::nullopt);
    CHECK_FALSE(none.watchdog_on());
    CHECK_FALSE(none.plan().watchdog_interval);
    CHECK(none.plan().extend == 3s);
    CHECK_FALSE(none.timer_only());

    const lifecycle_keepalive timer(c, 2s);
    CHECK(timer.watchdog_on());
    CHECK(timer.plan().proof == watchdog_proof::timer);
    CHECK(timer.timer_only());

    c.alive_when = rule::contains("tick");
    CHECK(lifecycle_keepalive(c, 2s).plan().proof == watchdog_proof::records);
    c.healthy = [] { return true; };
    CHECK(lifecycle_keepalive(c, 2s).plan().proof == watchdog_proof::healthy);
    c.watchdog = false;
    CHECK_FALSE(lifecycle_keepalive(c, 2s).watchdog_on());
    CHECK_FALSE(lifecycle_keepalive(c, 2s).plan().watchdog_interval);
}

// A literal rule finds exactly what std::string_view::find finds, over texts of a small
// alphabet (many near misses, overlaps, literals at both ends) and literals of 1 to 300 bytes.
TEST_CASE("a_literal_finds_exactly_what_find_finds", "[lifecycle][parts]") {
    std::mt19937 random(20261127);
    auto text_of = [&](std::size_t n) {
        std::string t;
        for (std::size_t i = 0; i < n; ++i) t += "ab c\0"[random() % 5];
        return t;
    };
    int found_some = 0, missed_some = 0;
    for (int round = 0; round < 3000; ++round) {
        const std::size_t n = round % 50 == 0 ? 250 + random() % 50 : 1 + random() % 6;
        const std::string literal = text_of(n);
        const auto test = text_test::literal(literal);
        for (int t = 0; t < 10; ++t) {
            std::string text = text_of(random() % 80);
            if (t == 0) text += literal;        // at the very end
            if (t == 1) text = literal + text;  // at the start
            if (round % 50 == 0 && t == 2) text = text_of(400) + literal + text_of(10);
            const bool expected = text.find(literal) != std::string::npos;
            const bool got = test->found_in(text);
            CHECK(got == expected);
            if (got != expected) FAIL_CHECK("text \"" << text << "\"");
            found_some += expected;
            missed_some += !expected;
        }
    }
    // Both outcomes were exercised plenty.
    CHECK(found_some > 5000);
    CHECK(missed_some > 5000);
}

// Each state's rules: the same literal in two rules, a logger-bound literal next to a plain one,
// a regex and a predicate in the same state, and a level that lets a record skip the texts.
TEST_CASE("a_state_plan_tests_every_rule_it_holds", "[lifecycle][parts]") {
    lifecycle_config c;
    c.ready_when = rule::contains("up").from("http");
    c.stopping_when = rule::contains("up");  // same literal, any logger
    c.failure_when = rule::regex("disk (gone|full)").at_least(spdlog::level::err);
    c.alive_when =
        rule::when([](const spdlog::details::log_msg &m) { return m.payload.size() == 4; });
    c.progress_when = rule::contains("step");
    const lifecycle_settings s(c);
    const lifecycle_rules rules(s);
    using v = std::vector<std::string>;
    CHECK(apply(rules, "up", lifecycle::state::starting) == v{"stopping:up"});  // logger "app"
    recorder r;
    rules.apply(spdlog::details::log_msg("http", spdlog::level::info, "up"),
                lifecycle::state::starting, r);
    CHECK(r.calls == v{"ready:up", "stopping:up"});
    CHECK(apply(rules, "step", lifecycle::state::starting) == v{"progress", "alive"});
    CHECK(apply(rules, "step 1, up", lifecycle::state::starting) ==
          v{"progress", "stopping:step 1, up"});
    CHECK(apply(rules, "disk full", lifecycle::state::ready, spdlog::level::err) ==
          v{"failure:disk full"});
    CHECK(apply(rules, "disk full", lifecycle::state::ready, spdlog::level::warn).empty());
    CHECK(apply(rules, "disk gone, up", lifecycle::state::stopping, spdlog::level::critical) ==
          v{"failure:disk gone, up"});
}
