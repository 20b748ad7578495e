// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The send policy alone, on an injected clock: no thread, no socket, no sleeping.
#include <string>
#include <vector>

#include "catch.h"
#include "send_policy.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::message;
using spdlog_sdnotify::details::keepalive_config;
using spdlog_sdnotify::details::send_policy;
using spdlog_sdnotify::details::watchdog_proof;
using item_type = send_policy::item_type;
using outcome = send_policy::outcome;

namespace {

struct harness {
    send_policy policy{send_policy::options{500ms, 30s}};
    send_policy::time_point now{std::chrono::seconds(1000)};
    std::vector<std::string> sent;  // what went out, as "STATUS=x", "READY=1 STATUS=x", ...

    static std::string describe(const send_policy::item &it) {
        switch (it.what) {
            case item_type::lifecycle:
            case item_type::failure: {
                std::string s = it.msg->str();
                for (auto &c : s) c = c == '\n' ? ' ' : c;
                return s.substr(0, s.size() - 1);
            }
            case item_type::status:
                return "STATUS=" + *it.text;
            case item_type::watchdog:
                return it.trigger ? "WATCHDOG=trigger" : "WATCHDOG=1";
            case item_type::extend:
                return "EXTEND_TIMEOUT_USEC=" + std::to_string(it.extend.count());
            default:
                return "?";
        }
    }
    // Sends everything due now with the given outcome; returns what was attempted.
    std::vector<std::string> run(outcome result = outcome::sent) {
        std::vector<std::string> attempted;
        while (auto it = policy.next(now)) {
            if (it.what == item_type::health_check) {
                policy.health(healthy, now);
                continue;
            }
            attempted.push_back(describe(it));
            if (result == outcome::sent) sent.push_back(attempted.back());
            policy.done(it, result, now);
            if (result == outcome::retry_later) break;
        }
        return attempted;
    }
    // Advances the clock to each wake-up the policy asks for, up to `span`, sending all.
    void advance(std::chrono::milliseconds span) {
        const auto end = now + span;
        for (int i = 0; i < 100000; ++i) {
            run();
            const auto at = policy.wake_at(now);
            if (at > end) break;
            now = std::max(at, now + 1ms);
        }
        now = end;
        run();
    }
    // A text published now (the next place in the publication order).
    void status(const std::string &text, bool error) { policy.status(text, ++order, error, now); }
    bool healthy = true;
    std::uint64_t order = 0;
};

}  // namespace

TEST_CASE("policy_a_newer_error_replaces_a_held_one_within_min_interval", "[policy]") {
    harness h;
    h.status("E1", true);
    CHECK(h.run() == std::vector<std::string>{"STATUS=E1"});
    h.now += 1s;
    h.status("E2", true);
    // Not 30 s later when the hold ends: now (min_interval has passed since E1).
    CHECK(h.run() == std::vector<std::string>{"STATUS=E2"});
}

TEST_CASE("policy_two_errors_close_together_the_second_within_min_interval", "[policy]") {
    harness h;
    h.status("E1", true);
    h.run();
    h.now += 100ms;
    h.status("E2", true);
    CHECK(h.run().empty());  // within min_interval of E1
    CHECK(h.policy.wake_at(h.now) == h.now + 400ms);
    h.now += 400ms;
    CHECK(h.run() == std::vector<std::string>{"STATUS=E2"});
}

TEST_CASE("policy_an_error_holds_against_later_infos_until_its_hold_ends", "[policy]") {
    harness h;
    h.status("disk full", true);
    h.run();
    h.now += 1s;
    h.status("request 1", false);
    h.status("request 2", false);
    CHECK(h.run().empty());
    CHECK(h.policy.wake_at(h.now) == h.now - 1s + 30s);  // when the hold ends
    h.now += 29s;
    CHECK(h.run() == std::vector<std::string>{"STATUS=request 2"});
}

TEST_CASE("policy_a_burst_sends_the_newest_text_once_per_min_interval", "[policy]") {
    harness h;
    for (int i = 0; i < 10000; ++i) {
        h.status("record " + std::to_string(i), false);
        h.run();
        h.now += 100us;  // 10 000 records in 1 s
    }
    h.advance(1s);
    REQUIRE(!h.sent.empty());
    CHECK(h.sent.back() == "STATUS=record 9999");
    CHECK(h.sent.size() <= 1 + 2 + 1);  // the first, one per 500 ms, the last
    CHECK(h.policy.idle(h.now));
}

TEST_CASE("policy_unchanged_text_is_not_sent_again", "[policy]") {
    harness h;
    h.status("same", false);
    h.run();
    h.now += 1s;
    h.status("same", false);
    CHECK(h.run().empty());
}

TEST_CASE("policy_lifecycle_goes_first_and_is_retried_in_order_after_eagain", "[policy]") {
    harness h;
    h.status("working", false);
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.policy.lifecycle(2, message{}.reloading(1us), h.now);
    // The receiver's queue is full: READY is tried, nothing else overtakes it.
    CHECK(h.run(outcome::retry_later) == std::vector<std::string>{"READY=1"});
    CHECK(h.run(outcome::retry_later).empty());  // backing off
    const auto retry = h.policy.wake_at(h.now);
    CHECK(retry == h.now + 10ms);
    h.now = retry;
    CHECK(h.run(outcome::retry_later) == std::vector<std::string>{"READY=1"});
    CHECK(h.policy.wake_at(h.now) == h.now + 20ms);  // backs off: no busy retrying
    h.now += 20ms;
    CHECK(h.run() ==
          std::vector<std::string>{"READY=1", "RELOADING=1 MONOTONIC_USEC=1", "STATUS=working"});
}

TEST_CASE("policy_backoff_is_capped_at_one_second", "[policy]") {
    harness h;
    h.policy.lifecycle(1, message{}.ready(), h.now);
    for (int i = 0; i < 20; ++i) {
        h.run(outcome::retry_later);
        h.now = h.policy.wake_at(h.now);
    }
    h.run(outcome::retry_later);
    CHECK(h.policy.wake_at(h.now) == h.now + 1s);
    CHECK(h.policy.queued() == 1);
}

TEST_CASE("policy_tickets_are_sent_in_order_even_when_they_arrive_out_of_order", "[policy]") {
    harness h;
    h.policy.lifecycle(2, message{}.ready().status("reloaded"), h.now);
    CHECK(h.run().empty());  // ticket 1 (a RELOADING from a signal handler) is not here yet
    h.policy.lifecycle(1, message{}.reloading(5us), h.now);
    CHECK(h.run() ==
          std::vector<std::string>{"RELOADING=1 MONOTONIC_USEC=5", "READY=1 STATUS=reloaded"});
    h.policy.lifecycle(2, message{}.ready(), h.now);  // a duplicate ticket: exactly once
    CHECK(h.run().empty());
}

TEST_CASE("policy_a_lost_ticket_holds_later_ones_only_briefly", "[policy]") {
    harness h;
    h.policy.lifecycle(2, message{}.stopping(), h.now);
    CHECK(h.run().empty());
    h.now += 100ms;
    CHECK(h.run() == std::vector<std::string>{"STOPPING=1"});
}

TEST_CASE("policy_tickets_sent_by_a_signal_handler_are_skipped", "[policy]") {
    harness h;
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.run();
    h.policy.lifecycle(3, message{}.status("after"), h.now);
    h.policy.delivered_elsewhere(2, true, h.now);  // the handler sent STOPPING (ticket 2)
    CHECK(h.run() == std::vector<std::string>{"STATUS=after"});
    h.policy.lifecycle(4, message{}.ready(), h.now);  // left out: STOPPING went
    CHECK(h.run().empty());
}

TEST_CASE("policy_after_stopping_ready_reloading_and_watchdog_are_left_out", "[policy]") {
    harness h;
    keepalive_config k;
    k.watchdog_interval = 1s;
    k.proof = watchdog_proof::timer;
    h.policy.set_keepalive(k, h.now);
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.policy.lifecycle(2, message{}.stopping(), h.now);
    h.policy.lifecycle(3, message{}.ready().status("back?"), h.now);
    h.run();
    h.advance(3s);
    CHECK(h.sent == std::vector<std::string>{"READY=1", "STOPPING=1", "STATUS=back?"});
}

TEST_CASE("policy_watchdog_pings_are_merged_while_the_receiver_is_stuck", "[policy]") {
    harness h;
    keepalive_config k;
    k.watchdog_interval = 200ms;
    k.proof = watchdog_proof::timer;
    h.policy.set_keepalive(k, h.now);
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.run();
    // 5 s of EAGAIN: 25 pings come due, one is pending.
    const auto end = h.now + 5s;
    int attempts = 0;
    while (h.now < end) {
        attempts += static_cast<int>(h.run(outcome::retry_later).size());
        h.now = std::max(h.policy.wake_at(h.now), h.now + 1ms);
    }
    CHECK(attempts <= 15);  // backing off to 1 s: no busy CPU
    h.run();
    CHECK(h.sent == std::vector<std::string>{"READY=1", "WATCHDOG=1"});
}

TEST_CASE("policy_watchdog_by_records_pings_only_while_the_loop_logs", "[policy]") {
    harness h;
    keepalive_config k;
    k.watchdog_interval = 1s;
    k.proof = watchdog_proof::records;
    h.policy.set_keepalive(k, h.now);
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.run();
    for (int i = 0; i < 4; ++i) {  // 2 s of a turning loop
        h.policy.alive(h.now);
        h.advance(500ms);
    }
    const auto pings = std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1");
    CHECK(pings >= 3);
    h.advance(3s);  // the loop stopped turning
    CHECK(std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1") <= pings + 2);
    const auto after = std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1");
    h.advance(3s);
    CHECK(std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1") == after);
}

TEST_CASE("policy_unhealthy_stops_pings_or_triggers_once", "[policy]") {
    harness h;
    keepalive_config k;
    k.watchdog_interval = 1s;
    k.proof = watchdog_proof::healthy;
    k.trigger_when_unhealthy = true;
    h.policy.set_keepalive(k, h.now);
    h.policy.lifecycle(1, message{}.ready(), h.now);
    h.advance(1100ms);
    CHECK(std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1") == 2);
    h.healthy = false;
    h.advance(3s);
    CHECK(std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=1") == 2);
    CHECK(std::count(h.sent.begin(), h.sent.end(), "WATCHDOG=trigger") == 1);
}

TEST_CASE("policy_extensions_need_progress_and_stop_at_the_limit", "[policy]") {
    harness h;
    keepalive_config k;
    k.extend = 3s;
    k.extend_limit = 9s;
    h.policy.set_keepalive(k, h.now);
    h.advance(5s);  // no record: nothing earned
    CHECK(h.sent.empty());
    for (int i = 0; i < 20; ++i) {  // a step every second for 20 s
        h.policy.progress();
        h.advance(1s);
    }
    CHECK(h.sent == std::vector<std::string>(3, "EXTEND_TIMEOUT_USEC=3000000"));
}

// Issue 22, 2, through the policy: READY's text replaced a held error on screen, and newer
// warnings then waited for the rest of the hold behind "ready" (control lifecycle_text).
TEST_CASE("policy_a_lifecycle_text_ends_the_hold_and_newer_lines_show", "[policy][merge]") {
    harness h;
    h.status("db1 unreachable", true);
    CHECK(h.run() == std::vector<std::string>{"STATUS=db1 unreachable"});
    h.now += 1s;
    h.policy.lifecycle(1, message{}.ready().status("ready"), h.now, h.order);
    CHECK(h.run() == std::vector<std::string>{"READY=1 STATUS=ready"});
    h.now += 1s;
    h.status("cache warm", false);
    CHECK(h.run() == std::vector<std::string>{"STATUS=cache warm"});
}

// A handler sent "reloading (SIGHUP)" itself: the policy does not know the text, but it is on
// screen, newer than the held error; the next line shows, even one equal to the last sent.
TEST_CASE("policy_a_handlers_lifecycle_text_ends_the_hold", "[policy][merge]") {
    harness h;
    h.status("working", false);
    h.run();
    h.now += 1s;
    h.status("db1 unreachable", true);
    h.run();
    h.policy.delivered_elsewhere(1, false, h.now, h.order);
    CHECK(h.run().empty());  // on screen already
    h.now += 1s;
    h.status("db1 unreachable", false);
    CHECK(h.run() == std::vector<std::string>{"STATUS=db1 unreachable"});
}

// The final delivery shows what the rule says then, without waiting for min_interval: the held
// error while it is held, the newest line after.
TEST_CASE("policy_the_final_delivery_shows_what_the_rule_says", "[policy][merge]") {
    harness h;
    h.status("E", true);
    h.run();
    h.now += 100ms;
    h.status("exiting", false);
    auto it = h.policy.next(h.now, true);
    CHECK(!it);  // the error is held: nothing else to show
    h.now += 30s;
    h.status("exited", false);
    it = h.policy.next(h.now, true);
    REQUIRE(it.what == item_type::status);
    CHECK(*it.text == "exited");
}
