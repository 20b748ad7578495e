// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

// Which text the status shows (internal, not installed): a plain class with no thread, no lock
// and no clock of its own, tested like send_policy (tests/test_status_merge.cpp).
//
// The display rule (docs/design.md, "The status line"):
//   - the newest text is the one published last: status_order(), never the record's clock;
//   - an error (a record at or above sticky_level) shows at once and is held for sticky_for:
//     ordinary lines published meanwhile wait; a newer error replaces it at once;
//   - a lifecycle text (READY, RELOADING, STOPPING, sent with its message) is newer than
//     everything merged before it; it ends the hold, unless it is the held error's own text (a
//     failed reload, the failure status), which stays held;
//   - the hold's end shows the newest line; a final delivery shows what the rule says then.
// So the status is always the newest line or the held error, never a stale text.
//
// The summary (status_sink_config::summary) follows the shown text: counts over a window and
// the last error's time of day and text. It is composed only when an input arrives, never on
// a timer: a STATUS change is a D-Bus signal to every listener, so no age that ticks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace spdlog_sdnotify {
namespace details {

class SPDLOG_SDNOTIFY_API status_merge {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using wall_time = std::chrono::system_clock::time_point;

    void set_hold(std::chrono::milliseconds sticky_for) noexcept { sticky_for_ = sticky_for; }
    /// The summary's window; 0: no summary.
    void set_summary(std::chrono::seconds window);

    /// A text a sink (or post_status()) published: `order` is its place in status_order(),
    /// `error` whether it is at or above sticky_level, `when` the record's time (shown, never
    /// compared). A text older than one already merged changes nothing.
    void published(std::string_view text, std::uint64_t order, bool error, wall_time when,
                   time_point now);
    /// A lifecycle message's text, on screen from now on (or about to be, its STATUS following
    /// on its own); `error`: the failure status. `place`: status_order() when the message was
    /// posted: newer than the texts published before, older than those after (which then
    /// show after it).
    void lifecycle_text(std::string_view text, bool error, wall_time when, time_point now,
                        std::uint64_t place);
    /// A lifecycle message a signal handler sent itself: its text is on screen, unknown here.
    void lifecycle_unknown(std::uint64_t place);
    /// The summary's counts so far (cumulative over every source).
    void counts(std::uint64_t errors, std::uint64_t warnings, time_point now);

    /// What the status should show now; null: nothing (no text yet, or the newest is a
    /// handler's lifecycle text, already on screen).
    const std::string *wanted(time_point now) const noexcept;
    /// When wanted() changes without a new input (the hold's end); time_point::max() if never.
    time_point changes_at(time_point now) const noexcept;

private:
    // Lexicographic: a lifecycle text sits after the order it was merged behind.
    struct place {
        std::uint64_t order = 0;
        std::uint32_t after = 0;
        bool operator<(const place &o) const noexcept {
            return order != o.order ? order < o.order : after < o.after;
        }
        bool operator==(const place &o) const noexcept {
            return order == o.order && after == o.after;
        }
    };
    struct entry {
        std::string text;
        place at;
        wall_time when{};
        bool known = true;
    };
    bool held(time_point now) const noexcept { return holding_ && has_error_ && now < held_until_; }
    // Lifecycle texts sit after the order they were posted at, in the order they came.
    place lifecycle_place(std::uint64_t order) noexcept { return {order, ++lifecycle_count_}; }
    void hold(time_point now) noexcept {
        holding_ = true;
        held_until_ = now + sticky_for_;
    }
    // A lifecycle text at `p` ends the hold of every error published before it.
    void end_holds(place p) noexcept {
        if (hold_ended_at_ < p) hold_ended_at_ = p;
        if (has_error_ && error_.at < p) holding_ = false;
    }
    // `text` becomes the newest if it stands after it; true if it did.
    bool take_newest(std::string_view text, place p, wall_time when);
    void compose();
    std::string suffix(bool head_is_error) const;

    std::chrono::milliseconds sticky_for_{std::chrono::seconds(30)};
    entry newest_;
    bool has_newest_ = false;
    entry error_;  // the newest error, held or not (the summary names it)
    bool has_error_ = false;
    bool holding_ = false;
    time_point held_until_{};
    place hold_ended_at_;  // errors published before it hold no more
    std::uint32_t lifecycle_count_ = 0;
    // What wanted() returns: the newest line and the held error, each with the summary.
    std::string line_shown_, error_shown_;

    // Summary.
    std::chrono::seconds window_{0};
    struct sample {
        time_point at;
        std::uint64_t errors, warnings;
    };
    std::deque<sample> samples_;  // cumulative counts, one per window/32 at most
    std::uint64_t errors_in_window_ = 0, warnings_in_window_ = 0;
};

}  // namespace details
}  // namespace spdlog_sdnotify
