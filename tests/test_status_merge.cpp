// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The display rule alone (src/status_merge.h), on an injected clock: no thread, no sleeping.
// One test per transition: an error, a newer ordinary line, a newer error, a lifecycle text,
// the hold's end; then the publication order against the records' clock, and the summary.
#include <regex>
#include <string>

#include "catch.h"
#include "status_merge.h"

using namespace std::chrono_literals;
using spdlog_sdnotify::details::status_merge;

namespace {

struct merge_harness {
    merge_harness() { m.set_hold(30s); }
    status_merge m;
    status_merge::time_point now{std::chrono::seconds(1000)};
    status_merge::wall_time wall{std::chrono::hours(24 * 365 * 50)};
    std::uint64_t order = 0;

    // Published now, the next in the publication order.
    void line(const std::string &text) { m.published(text, ++order, false, wall, now); }
    void error(const std::string &text) { m.published(text, ++order, true, wall, now); }
    // A lifecycle message posted now and sent.
    void lifecycle(const std::string &text) { m.lifecycle_text(text, false, wall, now, order); }
    std::string shown() const {
        const std::string *s = m.wanted(now);
        return s == nullptr ? "(nothing)" : *s;
    }
};

}  // namespace

TEST_CASE("merge_an_error_shows_at_once_and_holds_against_newer_lines", "[merge]") {
    merge_harness h;
    h.line("listening on :8080");
    CHECK(h.shown() == "listening on :8080");
    h.error("db1 unreachable");
    CHECK(h.shown() == "db1 unreachable");
    h.now += 1s;
    h.line("request 1");
    CHECK(h.shown() == "db1 unreachable");
    CHECK(h.m.changes_at(h.now) == h.now + 29s);
}

TEST_CASE("merge_a_newer_error_replaces_the_held_one_and_holds_anew", "[merge]") {
    merge_harness h;
    h.error("E1");
    h.now += 20s;
    h.error("E2");
    CHECK(h.shown() == "E2");
    h.now += 20s;  // 40 s after E1, 20 s after E2
    h.line("request");
    CHECK(h.shown() == "E2");
}

TEST_CASE("merge_the_holds_end_shows_the_newest_line", "[merge]") {
    merge_harness h;
    h.error("disk full");
    h.line("request 1");
    h.line("request 2");
    const auto end = h.m.changes_at(h.now);
    REQUIRE(end == h.now + 30s);
    h.now = end;
    CHECK(h.shown() == "request 2");
    CHECK(h.m.changes_at(h.now) == status_merge::time_point::max());
}

// Issue 22, 2: after an error, a READY or RELOADING text replaced it on screen while the hold
// went on blocking newer lines, so the screen stayed on "ready" for the rest of the hold.
TEST_CASE("merge_a_lifecycle_text_ends_the_hold_and_newer_lines_show", "[merge]") {
    merge_harness h;
    h.error("db1 unreachable");
    h.now += 1s;
    h.lifecycle("configuration reloaded");
    CHECK(h.shown() == "configuration reloaded");
    h.now += 1s;
    h.line("cache warm");
    CHECK(h.shown() == "cache warm");
    h.error("db2 unreachable");  // a newer error holds again
    h.line("request");
    CHECK(h.shown() == "db2 unreachable");
}

// A failed reload answers RELOADING with READY and the error as its text: still the error.
TEST_CASE("merge_a_lifecycle_text_that_is_the_held_error_keeps_it_held", "[merge]") {
    merge_harness h;
    h.error("bad config line 3");
    h.lifecycle("bad config line 3");
    h.line("request");
    CHECK(h.shown() == "bad config line 3");
}

// A lifecycle message sent late (a full receiver) is older than the lines published after it
// was posted: they show after it, and the errors published after it stay held.
TEST_CASE("merge_a_lifecycle_text_sits_where_it_was_posted", "[merge]") {
    merge_harness h;
    h.line("starting");
    const std::uint64_t posted_at = h.order;
    h.error("late error");
    h.line("the last word");
    h.m.lifecycle_text("stopping", false, h.wall, h.now, posted_at);  // sent only now
    CHECK(h.shown() == "late error");
    h.now += 31s;
    CHECK(h.shown() == "the last word");
}

TEST_CASE("merge_a_handlers_lifecycle_text_is_kept_until_a_newer_line", "[merge]") {
    merge_harness h;
    h.error("E");
    h.m.lifecycle_unknown(h.order);       // "stopping (SIGTERM)", sent by the handler
    CHECK(h.m.wanted(h.now) == nullptr);  // nothing to send: it is on screen
    h.line("after stop");
    CHECK(h.shown() == "after stop");
}

// Issue 22, 1: the order of publication decides, never the records' clock.
TEST_CASE("merge_the_newest_text_is_the_one_published_last", "[merge]") {
    merge_harness h;
    h.m.published("listening on :8080", 5, false, h.wall, h.now);
    // Published later, with a clock stepped back an hour: still the newer.
    h.m.published("worker tick", 6, false, h.wall - 1h, h.now);
    CHECK(h.shown() == "worker tick");
    // Merged late (a cell busy at the last look) but published earlier: older.
    h.m.published("stale", 4, false, h.wall + 1h, h.now);
    CHECK(h.shown() == "worker tick");
    h.m.published("old error", 3, true, h.wall, h.now);
    h.m.published("new error", 7, true, h.wall - 2h, h.now);
    h.m.published("older error", 2, true, h.wall + 2h, h.now);
    CHECK(h.shown() == "new error");
}

TEST_CASE("merge_summary_follows_the_newest_line_and_names_the_last_error", "[merge][summary]") {
    merge_harness h;
    h.m.set_summary(std::chrono::minutes(5));
    h.line("listening on :8080");
    h.m.counts(0, 0, h.now);
    CHECK(h.shown() == "listening on :8080");  // nothing to add
    h.error("db1 unreachable");
    h.m.counts(1, 2, h.now);
    CHECK(std::regex_match(h.shown(), std::regex("db1 unreachable \xC2\xB7 1 error, 2 warnings in "
                                                 "5 min, last error at \\d\\d:\\d\\d:\\d\\d")));
    h.now += 31s;  // the hold ended
    h.line("handled request 330");
    h.m.counts(2, 2, h.now);
    CHECK(std::regex_match(h.shown(),
                           std::regex("handled request 330 \xC2\xB7 2 errors, 2 warnings in 5 "
                                      "min, last error at \\d\\d:\\d\\d:\\d\\d: db1 unreachable")));
    // Time passing changes nothing by itself (every change is a D-Bus signal)...
    const std::string before = h.shown();
    h.now += 1h;
    CHECK(h.shown() == before);
    CHECK(h.m.changes_at(h.now) == status_merge::time_point::max());
    // ...a new record recounts the window: the errors are older than 5 minutes now.
    h.line("handled request 331");
    h.m.counts(2, 2, h.now);
    CHECK(std::regex_match(h.shown(), std::regex("handled request 331 \xC2\xB7 last error at "
                                                 "\\d\\d:\\d\\d:\\d\\d: db1 unreachable")));
}

// Within PID 1's 4096 bytes: the summary gives way, the newest line is never cut for it.
TEST_CASE("merge_summary_never_pushes_the_newest_line_out", "[merge][summary]") {
    merge_harness h;
    h.m.set_summary(std::chrono::minutes(5));
    h.error(std::string(3000, 'e'));
    h.now += 31s;
    h.m.counts(1, 0, h.now);
    const std::string head(3000, 'x');
    h.line(head);
    // The error's 3000 bytes do not fit after it: left out, its time and the counts stay.
    CHECK(std::regex_match(h.shown(), std::regex(head + " \xC2\xB7 1 error in 5 min, last error "
                                                        "at \\d\\d:\\d\\d:\\d\\d")));
    const std::string full(4088, 'y');
    h.line(full);
    CHECK(h.shown() == full);  // no room at all: the line alone
}

// An error published before a lifecycle text but merged after it (its cell was busy at the
// sender's look) is older than the text: it does not start a hold.
TEST_CASE("merge_an_error_merged_late_does_not_hold_past_a_newer_lifecycle_text", "[merge]") {
    merge_harness h;
    h.line("starting");
    h.m.lifecycle_text("ready", false, h.wall, h.now, 5);  // posted after order 5
    h.m.published("early error", 4, true, h.wall, h.now);
    CHECK(h.shown() == "ready");
    h.m.published("request", 6, false, h.wall, h.now);
    CHECK(h.shown() == "request");
}
