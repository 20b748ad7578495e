// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// Negative controls, the one test-only seam. tests/CMakeLists.txt builds the library a second
// time with SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS defined and runs each control.* test with
// SPDLOG_SDNOTIFY_CONTROL_OFF=<name>: that one protection is off, and the test case that claims
// it must fail. In the library itself controls_off() is a constant with every field false, and
// each check compiles away.
#if defined(SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS)
#include <cstdlib>
#include <cstring>
#endif

namespace spdlog_sdnotify::details {

// One field per protection; true: switched off.
struct controls {
    bool seqlock = false;            // a torn copy of a status cell is not read again
    bool idle_recheck = false;       // the sender sleeps without a last look at the cells
    bool quiet_interval = false;     // the sender sleeps between records that change nothing
    bool child_leak = false;         // a forked child destroys the dispatcher's state
    bool redact_once = false;        // each retry of a text redacts it again
    bool on_error_thread = false;    // on_error runs on the thread that reported
    bool outage_once = false;        // a lasting outage is said again every interval
    bool address_once = false;       // an unusable NOTIFY_SOCKET is said again every interval
    bool backoff = false;            // a full receiver is retried every 10 ms, for ever
    bool fd_number_address = false;  // a bare fd number in NOTIFY_SOCKET is taken as a path
    bool match_errors = false;       // regex rules that could not test a record are not said
    bool wiring_check = false;       // the lifecycle's periodic wiring check does nothing
    bool chained_signal = false;     // our handler, called by a later one, runs the default action
    bool exit_delivery = false;      // exit() delivers nothing that a sink still holds
    bool attachment = false;         // the last logger letting go of the lifecycle delivers nothing
    bool barrier_once = false;       // every final delivery ends with a barrier, sent or not
    bool publication_order = false;  // the newest text is picked by the record's clock
    bool lifecycle_text = false;     // a lifecycle text on screen is not the newest line
    bool callback_count = false;     // a throwing callback is reported (lock, wake) each time
    bool summary_fit = false;        // the summary is appended even if it cuts the newest line
};

#if defined(SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS)
inline const controls &controls_off() noexcept {
    static const controls c = [] {
        controls off;
        const char *name = std::getenv("SPDLOG_SDNOTIFY_CONTROL_OFF");
        if (name == nullptr) return off;
        const auto is = [name](const char *n) { return std::strcmp(name, n) == 0; };
        off.seqlock = is("seqlock");
        off.idle_recheck = is("idle_recheck");
        off.quiet_interval = is("quiet_interval");
        off.child_leak = is("child_leak");
        off.redact_once = is("redact_once");
        off.on_error_thread = is("on_error_thread");
        off.outage_once = is("outage_once");
        off.address_once = is("address_once");
        off.backoff = is("backoff");
        off.fd_number_address = is("fd_number_address");
        off.match_errors = is("match_errors");
        off.wiring_check = is("wiring_check");
        off.chained_signal = is("chained_signal");
        off.exit_delivery = is("exit_delivery");
        off.attachment = is("attachment");
        off.barrier_once = is("barrier_once");
        off.publication_order = is("publication_order");
        off.lifecycle_text = is("lifecycle_text");
        off.callback_count = is("callback_count");
        off.summary_fit = is("summary_fit");
        return off;
    }();
    return c;
}
#else
constexpr controls controls_off() noexcept { return {}; }
#endif

}  // namespace spdlog_sdnotify::details
