// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/receiver.h>

#include <time.h>

#include <string>
#include <string_view>

#include "catch.h"

using namespace std::string_literals;
using spdlog_sdnotify::message;
using spdlog_sdnotify::parse_notification;

namespace {
// What StatusText becomes when PID 1 receives `m`.
std::string status_after(const message &m) {
    spdlog_sdnotify::service_model model;
    auto parsed = parse_notification(m.str());
    REQUIRE(parsed.accepted);
    REQUIRE(model.apply(parsed));
    return model.status_text();
}
}  // namespace

TEST_CASE("typed_assignments_exact_bytes", "[message]") {
    CHECK(message{}.ready().str() == "READY=1\n");
    CHECK(message{}.stopping().str() == "STOPPING=1\n");
    CHECK(message{}.watchdog().str() == "WATCHDOG=1\n");
    CHECK(message{}.watchdog_trigger().str() == "WATCHDOG=trigger\n");
    CHECK(message{}.errno_value(5).str() == "ERRNO=5\n");
    CHECK(message{}.bus_error("org.freedesktop.DBus.Error.TimedOut").str() ==
          "BUSERROR=org.freedesktop.DBus.Error.TimedOut\n");
    CHECK(message{}.exit_status(3).str() == "EXIT_STATUS=3\n");
    CHECK(message{}.main_pid(4242).str() == "MAINPID=4242\n");
    CHECK(message{}.watchdog_usec(std::chrono::seconds(2)).str() == "WATCHDOG_USEC=2000000\n");
    CHECK(message{}.extend_timeout(std::chrono::milliseconds(1500)).str() ==
          "EXTEND_TIMEOUT_USEC=1500000\n");
    CHECK(message{}.custom("X_PHASE", "warm-up").str() == "X_PHASE=warm-up\n");
    CHECK(message{}.raw("FDSTORE=1").str() == "FDSTORE=1\n");
    CHECK(message{}.reloading(std::chrono::microseconds(123)).str() ==
          "RELOADING=1\nMONOTONIC_USEC=123\n");
}

TEST_CASE("several_assignments_in_one_datagram_status_last", "[message]") {
    auto m = message{}.status("up").ready().watchdog().custom("X_A", "b");
    CHECK(m.str() == "READY=1\nWATCHDOG=1\nX_A=b\nSTATUS=up\n");
    auto parsed = parse_notification(m.str());
    CHECK(parsed.assignments.size() == 4);
    CHECK(parsed.find("READY") == "1");
}

TEST_CASE("same_key_twice_keeps_the_last_value", "[message]") {
    CHECK(message{}.status("a").status("b").str() == "STATUS=b\n");
    CHECK(message{}.errno_value(1).errno_value(2).str() == "ERRNO=2\n");
    CHECK(message{}.ready().ready().str() == "READY=1\n");
}

TEST_CASE("reloading_carries_monotonic_usec_from_clock_monotonic", "[message]") {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const long long before = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
    auto parsed = parse_notification(message{}.reloading().str());
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const long long after = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
    REQUIRE(parsed.find("RELOADING") == "1");
    const auto usec = parsed.find("MONOTONIC_USEC");
    REQUIRE(usec);
    const long long value = std::stoll(std::string(*usec));
    CHECK(value >= before);
    CHECK(value <= after);
}

TEST_CASE("keys_are_validated", "[message]") {
    using spdlog_sdnotify::errc;
    CHECK(message{}.custom("PHASE", "x").error() == errc::invalid_key);    // no X_ prefix
    CHECK(message{}.custom("X_lower", "x").error() == errc::invalid_key);  // not upper case
    CHECK(message{}.custom("X_A=B", "x").error() == errc::invalid_key);
    CHECK(message{}.custom("X_A\nSTOPPING", "1").error() == errc::invalid_key);
    CHECK(message{}.raw("no-equals-sign").error() == errc::invalid_key);
    CHECK(message{}.raw("=1").error() == errc::invalid_key);
    CHECK(message{}.raw("X_A=1\nSTOPPING=1").error() == errc::invalid_value);
    CHECK(message{}.raw("X_A=1\rSTOPPING=1").error() == errc::invalid_value);
    CHECK(message{}.raw("X_A=1\0"s + "x").error() == errc::invalid_value);
    std::string out = "junk";
    CHECK(message{}.ready().custom("bad", "x").build(out) == errc::invalid_key);
    CHECK(out.empty());  // nothing half-built to send
    CHECK(message{}.build(out) == errc::empty_message);
    CHECK(spdlog_sdnotify::valid_key("WATCHDOG_USEC"));
    CHECK_FALSE(spdlog_sdnotify::valid_key("1ABC"));
    CHECK_FALSE(spdlog_sdnotify::valid_key(""));
}

TEST_CASE("custom_values_are_sanitised", "[message]") {
    auto parsed = parse_notification(message{}.custom("X_A", "1\nSTOPPING=1").str());
    REQUIRE(parsed.accepted);
    CHECK(parsed.assignments.size() == 1);
    CHECK(parsed.find("X_A") == "1 STOPPING=1");
    CHECK_FALSE(parsed.find("STOPPING"));
}

// Every row of docs/protocol.md's table, as a text given to status(): what StatusText becomes.
TEST_CASE("status_text_sanitised_for_pid1", "[message][sanitize]") {
    CHECK(status_after(message{}.status("working 1/3")) == "working 1/3");
    CHECK(status_after(message{}.status("line1\nline2")) == "line1 line2");
    CHECK(status_after(message{}.status("line1\r\nline2")) == "line1  line2");
    CHECK(status_after(message{}.status("first\nSTATUS=second")) == "first STATUS=second");
    CHECK(status_after(message{}.status("C:\\tmp\\x20end")) == "C:\\tmp\\x20end");
    CHECK(status_after(message{}.status("C:\\\\tmp")) == "C:\\\\tmp");
    CHECK(status_after(message{}.status("abc\\")) == "abc\\");
    CHECK(status_after(message{}.status("bad\xff\xfe"
                                        "end")) == "bad\uFFFD\uFFFDend");
    CHECK(status_after(message{}.status("ab\0cd"s)) == "abcd");
    CHECK(status_after(message{}.status("a\tb")) == "a\tb");
    CHECK(status_after(message{}.status("esc\x1b[31mred\x07!")) == "esc [31mred !");
    CHECK(status_after(message{}.status("c1\xc2\x9b"
                                        "2J")) == "c1 2J");  // U+009B CSI
    CHECK(status_after(message{}.status("")) == "");
}

TEST_CASE("injected_stopping_never_stops", "[message][sanitize]") {
    spdlog_sdnotify::service_model model;
    model.apply(parse_notification(message{}.ready().str()));
    auto parsed = parse_notification(message{}.status("progress 50%\nSTOPPING=1").str());
    REQUIRE(model.apply(parsed));
    CHECK(model.status_text() == "progress 50% STOPPING=1");
    CHECK(model.current_state() == spdlog_sdnotify::service_model::state::active);
    CHECK_FALSE(parsed.find("STOPPING"));
}

TEST_CASE("utf8_as_strict_as_systemd", "[message][sanitize]") {
    using spdlog_sdnotify::sanitize_text;
    const std::string fffd = "\uFFFD";
    CHECK(sanitize_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80");
    CHECK(sanitize_text("\xc0\xaf") == fffd + fffd);                        // overlong '/'
    CHECK(sanitize_text("\xed\xa0\x80") == fffd + fffd + fffd);             // surrogate U+D800
    CHECK(sanitize_text("\xef\xbf\xbf") == fffd + fffd + fffd);             // noncharacter U+FFFF
    CHECK(sanitize_text("\xef\xb7\x90") == fffd + fffd + fffd);             // noncharacter U+FDD0
    CHECK(sanitize_text("\xf4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // > U+10FFFF
    CHECK(sanitize_text("\xe2\x82") == fffd + fffd);  // truncated sequence at the end
    CHECK(spdlog_sdnotify::systemd_utf8_valid(sanitize_text("\xff\xfe\xef\xbf\xbe\x80")));
}

TEST_CASE("long_status_is_cut_with_marker_within_4096", "[message][sanitize]") {
    const std::string text(10 * 1024, 'x');
    auto m = message{}.ready().status(text);
    const auto wire = m.str();
    CHECK(wire.size() <= spdlog_sdnotify::max_datagram_size);
    CHECK(wire.size() >= spdlog_sdnotify::max_datagram_size - 3);
    auto parsed = parse_notification(wire);
    REQUIRE(parsed.accepted);
    CHECK(parsed.find("READY") == "1");  // never pushed out by the long text
    const auto status = std::string(*parsed.find("STATUS"));
    CHECK(status.size() > 4000);
    CHECK(status.substr(status.size() - 3) == spdlog_sdnotify::truncation_marker);
    CHECK(status.substr(0, status.size() - 3) == std::string(status.size() - 3, 'x'));
}

TEST_CASE("cut_falls_on_a_code_point_boundary", "[message][sanitize]") {
    // Shift a run of 3-byte characters through every alignment against the cut.
    for (std::size_t pad = 0; pad < 3; ++pad) {
        std::string text(pad, 'a');
        for (int i = 0; i < 2000; ++i) text += "\xe2\x82\xac";  // €
        auto wire = message{}.stopping().status(text).str();
        REQUIRE(wire.size() <= spdlog_sdnotify::max_datagram_size);
        auto parsed = parse_notification(wire);
        REQUIRE(parsed.accepted);
        CHECK(parsed.find("STOPPING") == "1");
        const auto status = *parsed.find("STATUS");
        CHECK(spdlog_sdnotify::systemd_utf8_valid(status));
        CHECK(status.substr(status.size() - 3) == spdlog_sdnotify::truncation_marker);
    }
}

TEST_CASE("backslashes_count_against_the_budget_and_are_never_split", "[message][sanitize]") {
    const std::string text(5000, '\\');
    auto wire = message{}.status(text).str();
    CHECK(wire.size() <= spdlog_sdnotify::max_datagram_size);
    auto parsed = parse_notification(wire);
    REQUIRE(parsed.accepted);  // a split "\\" pair would leave a lone trailing backslash
    const auto status = *parsed.find("STATUS");
    CHECK(status.size() > 2000);
    CHECK(status.find_first_not_of('\\') == status.size() - 3);
}

TEST_CASE("fixed_assignments_too_large_is_an_error_not_a_truncation", "[message]") {
    auto m = message{}.ready().custom("X_BIG", std::string(5000, 'y'));
    std::string out;
    CHECK(m.build(out) == spdlog_sdnotify::errc::message_too_large);
    CHECK(out.empty());
}

TEST_CASE("status_without_room_for_its_marker_is_an_error", "[message]") {
    // A custom value that leaves the STATUS two bytes: it cannot be cut visibly.
    const std::string filler(4096 - 5 - 8 - 2, 'f');  // "X_F=" "\n", "STATUS=" "\n", 2 bytes
    auto m = message{}.custom("X_F", filler).status("hello");
    std::string out;
    CHECK(m.build(out) == spdlog_sdnotify::errc::message_too_large);
    CHECK(message{}.custom("X_F", filler).status("hi").build(out) == std::error_code{});
    CHECK(out.size() == 4096);
}

namespace {
// What the receivers that read only READY take for readiness (issue 15's table, from their
// source): runc — a datagram that starts with READY=; crun — READY=1 within its first 255
// bytes; finit ≥ 4.13 — an exact READY=1 line within the 31 bytes it reads.
bool runc_ready(std::string_view d) { return d.substr(0, 6) == "READY="; }
bool crun_ready(std::string_view d) { return d.substr(0, 255).find("READY=1") != d.npos; }
bool finit_ready(std::string_view d) {
    d = d.substr(0, 31);
    for (std::size_t at = 0; at < d.size();) {
        const auto end = d.find('\n', at);
        if (end == d.npos) return false;  // a line cut by the 31 bytes does not count
        if (d.substr(at, end - at) == "READY=1") return true;
        at = end + 1;
    }
    return false;
}
}  // namespace

TEST_CASE("ready_leads_its_datagram_for_receivers_that_read_only_ready", "[message][receivers]") {
    // Set last, after fields that would otherwise come first, with a long status.
    auto m = message{}
                 .main_pid(4242)
                 .custom("X_PHASE", std::string(300, 'p'))
                 .status(std::string(3000, 's'))
                 .ready();
    const std::string d = m.str();
    CHECK(d.rfind("READY=1\nMAINPID=4242\n", 0) == 0);
    CHECK(runc_ready(d));
    CHECK(crun_ready(d));
    CHECK(finit_ready(d));
    CHECK(parse_notification(d).find("READY") == "1");  // and PID 1 reads it as before
    // The models' control: READY after a long field is missed by all three.
    const std::string late = "X_PHASE=" + std::string(300, 'p') + "\nREADY=1\n";
    CHECK_FALSE(runc_ready(late));
    CHECK_FALSE(crun_ready(late));
    CHECK_FALSE(finit_ready(late));
}
