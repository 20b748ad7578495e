// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// The PID-1-like parser itself, fed the raw datagrams of docs/protocol.md's table: it must say
// what a real systemd 252 did with each (the table was checked on one).
#include <spdlog_sdnotify/receiver.h>

#include <string>

#include "catch.h"

using namespace std::string_literals;
using spdlog_sdnotify::parse_notification;
using spdlog_sdnotify::service_model;

namespace {
struct outcome {
    bool accepted;
    std::string status_text;
    std::string state;
};
// READY=1 first, then `datagram`, as in the table.
outcome after_ready(const std::string &datagram, const std::string &previous = "prev") {
    service_model model;
    model.apply(parse_notification("READY=1\nSTATUS=" + previous));
    const bool accepted = model.apply(parse_notification(datagram));
    return {accepted, model.status_text(), model.active_state()};
}
}  // namespace

TEST_CASE("pid1_table_plain_status", "[receiver]") {
    auto o = after_ready("STATUS=working 1/3");
    CHECK(o.accepted);
    CHECK(o.status_text == "working 1/3");
    CHECK(o.state == "active");
}

TEST_CASE("pid1_table_lf_and_cr_split", "[receiver]") {
    CHECK(after_ready("STATUS=line1\nline2").status_text == "line1");
    CHECK(after_ready("STATUS=line1\rline2").status_text == "line1");
    auto p = parse_notification("\n\nSTATUS=a\r\n\r\nREADY=1\n\n");
    CHECK(p.assignments == std::vector<std::string>{"STATUS=a", "READY=1"});
}

TEST_CASE("pid1_table_injected_stopping_stops", "[receiver]") {
    auto o = after_ready("STATUS=progress 50%\nSTOPPING=1");
    CHECK(o.status_text == "progress 50%");
    CHECK(o.state == "deactivating");
}

TEST_CASE("pid1_table_first_status_wins", "[receiver]") {
    auto p = parse_notification("STATUS=first\nSTATUS=second");
    CHECK(p.find("STATUS") == "first");
    CHECK(after_ready("STATUS=first\nSTATUS=second").status_text == "first");
    CHECK_FALSE(p.warnings.empty());  // the development receiver warns about it
}

TEST_CASE("pid1_table_backslashes", "[receiver]") {
    CHECK(after_ready("STATUS=C:\\tmp\\x20end").status_text == "C:tmpx20end");
    CHECK(after_ready("STATUS=C:\\\\tmp\\\\x20end").status_text == "C:\\tmp\\x20end");
    CHECK_FALSE(parse_notification("STATUS=C:\\tmp").warnings.empty());
    CHECK(parse_notification("STATUS=C:\\\\tmp").warnings.empty());
    // "\<LF>" keeps the LF inside the assignment.
    CHECK(parse_notification("STATUS=a\\\nb").find("STATUS") == "a\nb");
}

TEST_CASE("pid1_table_trailing_backslash_drops_the_message", "[receiver]") {
    auto o = after_ready("STATUS=abc\\");
    CHECK_FALSE(o.accepted);
    CHECK(o.status_text == "prev");
    CHECK(parse_notification("STATUS=abc\\").drop_reason == "Out of memory.");
}

TEST_CASE("pid1_table_invalid_utf8_clears_status", "[receiver]") {
    auto o = after_ready(
        "STATUS=bad\xff\xfe"
        "end");
    CHECK(o.accepted);
    CHECK(o.status_text.empty());
    CHECK_FALSE(parse_notification("STATUS=bad\xff").warnings.empty());
    CHECK(after_ready("STATUS=\xef\xbf\xbf").status_text.empty());  // U+FFFF, refused by systemd
}

TEST_CASE("pid1_table_embedded_nul_drops_the_message", "[receiver]") {
    auto o = after_ready("STATUS=ab\0cd"s);
    CHECK_FALSE(o.accepted);
    CHECK(o.status_text == "prev");
    // One trailing NUL is tolerated.
    CHECK(after_ready("STATUS=ok\0"s).status_text == "ok");
}

TEST_CASE("pid1_table_oversize_drops_the_message", "[receiver]") {
    const std::string big = "STATUS=" + std::string(4097 - 7, 'x');
    REQUIRE(big.size() == 4097);
    auto o = after_ready(big);
    CHECK_FALSE(o.accepted);
    CHECK(o.status_text == "prev");
    CHECK(after_ready(big.substr(0, 4096)).accepted);            // exactly 4096 bytes pass
    CHECK_FALSE(parse_notification("STATUS=x", true).accepted);  // MSG_TRUNC
}

TEST_CASE("pid1_table_tab_esc_bel_kept", "[receiver]") {
    CHECK(after_ready("STATUS=a\tb\x1b[0m\x07").status_text == "a\tb\x1b[0m\x07");
}

TEST_CASE("model_state_machine", "[receiver]") {
    service_model m;
    CHECK(std::string(m.active_state()) == "activating");
    m.apply(parse_notification("READY=1"));
    CHECK(std::string(m.active_state()) == "active");
    m.apply(parse_notification("RELOADING=1\nMONOTONIC_USEC=1"));
    CHECK(std::string(m.active_state()) == "reloading");
    CHECK(m.warnings().empty());
    m.apply(parse_notification("READY=1"));
    CHECK(std::string(m.active_state()) == "active");
    m.apply(parse_notification("RELOADING=1"));
    CHECK(m.warnings().size() == 1);                     // no MONOTONIC_USEC
    m.apply(parse_notification("READY=1\nSTOPPING=1"));  // STOPPING wins
    CHECK(std::string(m.active_state()) == "deactivating");
    m.apply(parse_notification("READY=1"));
    CHECK(std::string(m.active_state()) == "deactivating");  // no resurrection
    m.apply(parse_notification("ERRNO=5\nWATCHDOG=1\nEXTEND_TIMEOUT_USEC=7"));
    CHECK(m.status_errno() == 5);
    CHECK(m.watchdog_pings() == 1);
    CHECK(m.extend_timeout_usec() == 7U);
    m.apply(parse_notification("WATCHDOG=trigger"));
    CHECK(m.watchdog_triggered());
    CHECK(m.ready_count() == 3);
    CHECK(m.stopping_count() == 1);
}
