// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

// What to send and when (internal, not installed): a plain class with no thread, no lock and no
// clock of its own (every call takes `now`), so that it is tested without sleeping. The
// dispatcher's thread feeds it, asks it for the next datagram, sends, and tells it how the send
// went.

#include <spdlog_sdnotify/message.h>

#include "status_merge.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog_sdnotify {
namespace details {

/// What earns a WATCHDOG=1 (lifecycle_keepalive picks it): the `healthy` callback's answer,
/// `alive_when` records, or else the timer alone.
enum class watchdog_proof : unsigned char { records, healthy, timer };

struct keepalive_config {
    /// WATCHDOG_USEC for this process; none: no pings.
    std::optional<std::chrono::microseconds> watchdog_interval;
    watchdog_proof proof = watchdog_proof::records;
    bool trigger_when_unhealthy = false;
    /// EXTEND_TIMEOUT_USEC value while starting or stopping; 0: never.
    std::chrono::microseconds extend{0};
    /// The most that all extensions of one start (or one stop) may add together.
    std::chrono::microseconds extend_limit{0};
};

class SPDLOG_SDNOTIFY_API send_policy {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    struct options {
        std::chrono::milliseconds min_interval{500};
        std::chrono::milliseconds sticky_for{std::chrono::seconds(30)};
    };

    /// One datagram to send, or a question to answer (health_check).
    /// What an item asks for: a datagram of one of these kinds, or an answer (health_check).
    enum class item_type : unsigned char {
        none,
        lifecycle,
        extend,
        watchdog,
        health_check,
        failure,
        status
    };
    struct item {
        item_type what = item_type::none;
        std::uint64_t ticket = 0;             // lifecycle
        const message *msg = nullptr;         // lifecycle, failure
        std::chrono::microseconds extend{0};  // extend
        bool trigger = false;                 // watchdog: WATCHDOG=trigger rather than =1
        const std::string *text = nullptr;    // status: the text before redaction
        explicit operator bool() const noexcept { return what != item_type::none; }
    };
    /// sent; retry_later: the receiver is full, away or not there yet (the item stays pending);
    /// failed: refused for good (cannot be built), dropped.
    enum class outcome : unsigned char { sent, retry_later, failed };

    send_policy() = default;
    explicit send_policy(options o) : options_(o) { status_.set_hold(o.sticky_for); }
    void set_options(options o) noexcept {
        options_ = o;
        status_.set_hold(o.sticky_for);
    }
    void set_keepalive(const keepalive_config &k, time_point now);

    // ------------------------------------------------------------------ inputs
    /// A lifecycle message with its place in the order the application caused (tickets from 1,
    /// no gaps unless one was lost). Sent exactly once, in ticket order.
    /// `place`: details::status_order() when it was posted; its STATUS is newer than the texts
    /// published before that, older than those after (the display rule, status_merge).
    void lifecycle(std::uint64_t ticket, message m, time_point now, std::uint64_t place = 0);
    /// Tickets up to `through` went out another way (a signal handler sent them itself);
    /// `place`: status_order() when this was learnt (their texts are not known here).
    void delivered_elsewhere(std::uint64_t through, bool stopping_among_them, time_point now,
                             std::uint64_t place = 0);
    /// A failure_when record's STATUS (+ERRNO): only the newest pending one is kept.
    void failure(message m, std::uint64_t place = 0);
    /// A status text published at `order` (details::status_order()); `sticky`: it also holds
    /// against later non-sticky texts for sticky_for, and replaces a held sticky text at once.
    /// Which text shows is status_merge's display rule.
    void status(std::string_view text, std::uint64_t order, bool sticky, time_point now,
                std::chrono::system_clock::time_point when = {}) {
        status_.published(text, order, sticky, when, now);
    }
    /// A lifecycle message's text that follows on its own (after redaction): the newest.
    void lifecycle_status(std::string_view text, std::uint64_t place, time_point now) {
        status_.lifecycle_text(text, false, {}, now, place);
    }
    /// The summary (0: none) and its counts so far.
    void status_summary(std::chrono::seconds window) { status_.set_summary(window); }
    void status_counts(std::uint64_t errors, std::uint64_t warnings, time_point now) {
        status_.counts(errors, warnings, now);
    }
    /// The application logged something that counts as progress (start-up, shutdown).
    void progress() noexcept { progress_since_extend_ = true; }
    /// The application logged something that proves its loop turns (watchdog_proof::records).
    void alive(time_point now) noexcept { last_alive_ = now; }
    /// The answer to a health_check item.
    void health(bool ok, time_point now);

    // ------------------------------------------------------------------ decisions
    /// What to send now; `final`: at shutdown, ignoring min_interval and backoff pauses.
    item next(time_point now, bool final = false);
    /// How the send of `it` (the last item next() returned) went.
    void done(const item &it, outcome result, time_point now);
    /// When next() may have something new without a new input; time_point::max() if never.
    time_point wake_at(time_point now) const;
    /// The earliest a text that arrives now could be sent (min_interval, a retry pause).
    time_point status_ready_at(time_point now) const noexcept {
        return std::max(now, std::max(next_status_at_, retry_at_));
    }
    /// Nothing is waiting to be sent (ignoring min_interval).
    bool idle(time_point now) const;

    std::size_t queued() const noexcept { return lifecycle_.size(); }
    /// Tickets up to this one are sent or given up.
    std::uint64_t delivered_through() const noexcept { return next_ticket_ - 1; }

private:
    enum class phase : unsigned char { starting, running, stopping };
    bool status_pending(time_point now) const;
    bool lifecycle_ready(time_point now) const;
    void after_lifecycle_sent(const message &m, std::uint64_t place, time_point now);
    void schedule_keepalive(time_point now);

    options options_;
    keepalive_config keepalive_;

    // Lifecycle messages in causal order.
    std::map<std::uint64_t, message> lifecycle_;
    std::map<std::uint64_t, std::uint64_t> places_;  // ticket → its place (status_order())
    std::uint64_t next_ticket_ = 1;
    time_point gap_since_{};  // when the front ticket was first seen missing
    std::optional<message> failure_;
    std::uint64_t failure_place_ = 0;
    bool stopping_sent_ = false;
    phase phase_ = phase::starting;

    // Keep-alive.
    time_point next_ping_at_ = time_point::max();
    time_point last_alive_{};
    bool watchdog_pending_ = false;
    bool trigger_pending_ = false;
    bool triggered_ = false;
    bool health_asked_ = false;
    time_point next_extend_at_ = time_point::max();
    bool progress_since_extend_ = false;
    std::chrono::microseconds extended_{0};
    std::optional<std::chrono::microseconds> extend_pending_;

    // STATUS: what shows is the merge's rule; what was last put on screen is known here.
    status_merge status_;
    std::string sent_text_;  // the text (before redaction) last sent or given up on
    bool sent_valid_ = false;
    time_point next_status_at_{};

    // Transient failures (a full receiver queue): nothing is sent before retry_at_.
    time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
};

}  // namespace details
}  // namespace spdlog_sdnotify
