// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "delivery.h"

#include <utility>

#include "controls.h"

namespace spdlog_sdnotify {
namespace details {
namespace {

using steady = std::chrono::steady_clock;

send_policy::outcome outcome_of(const notify_result &r) noexcept {
    if (!r.is_failed()) return send_policy::outcome::sent;  // sent, or nobody to tell
    return retryable(r.error()) ? send_policy::outcome::retry_later : send_policy::outcome::failed;
}

}  // namespace

notify_result delivery::send_status(const std::string &text, send_policy::outcome &out) {
    std::string datagram;
    std::error_code ec;
    try {
        if (redact_) {
            // Each text is redacted once, however often its send is retried.
            if (!redact_cached_ || redact_source_ != text || controls_off().redact_once) {
                redact_cached_ = false;
                redact_result_ = redact_(text);
                redact_source_ = text;
                redact_cached_ = true;
            }
            ec = message{}.status(redact_result_).build(datagram);
        } else {
            ec = message{}.status(text).build(datagram);
        }
    } catch (...) {
        // A redactor that failed must not let the unredacted text out: send nothing.
        ec = errc::callback_failed;
    }
    if (ec) {
        out = send_policy::outcome::failed;
        return notify_result::failed(ec);
    }
    if (datagram == last_status_datagram_) {  // the same text is not sent again
        out = send_policy::outcome::sent;
        return notify_result::no_manager();
    }
    const notify_result r = notifier_.send_raw(datagram);
    out = outcome_of(r);
    if (r.is_sent()) last_status_datagram_ = std::move(datagram);
    return r;
}

void delivery::send_due(send_policy &policy, bool final, const std::function<bool()> &healthy) {
    using item_type = send_policy::item_type;
    for (int guard = 0; guard < 256; ++guard) {
        const auto it = policy.next(steady::now(), final);
        if (!it) return;
        if (it.what == item_type::health_check) {
            bool ok = false;
            try {
                ok = !healthy || healthy();
            } catch (...) {
                ok = false;  // a health check that throws is not a healthy answer
            }
            policy.health(ok, steady::now());
            continue;
        }
        notify_result r = notify_result::no_manager();
        send_policy::outcome out = send_policy::outcome::sent;
        const char *what = "sending";
        switch (it.what) {
            case item_type::lifecycle:
            case item_type::failure:
                r = notifier_.send(*it.msg);
                what = it.what == item_type::lifecycle ? "sending a lifecycle message"
                                                       : "sending a failure status";
                if (r.is_sent()) {
                    if (const std::string *t = it.msg->status_text()) {
                        // Shown now: the status path need not send it again.
                        std::string d;
                        if (!message{}.status(*t).build(d)) last_status_datagram_ = std::move(d);
                    }
                }
                break;
            case item_type::extend:
                r = notifier_.send(message{}.extend_timeout(it.extend));
                what = "sending EXTEND_TIMEOUT_USEC";
                break;
            case item_type::watchdog:
                r = notifier_.send(it.trigger ? message{}.watchdog_trigger()
                                              : message{}.watchdog());
                what = "sending WATCHDOG";
                break;
            case item_type::status:
                r = send_status(*it.text, out);
                what = "sending STATUS";
                break;
            case item_type::health_check:
            case item_type::none:
                break;
        }
        if (it.what != item_type::status) out = outcome_of(r);
        if (r.is_sent()) count(it.what);
        const bool stops = it.what == item_type::lifecycle && it.msg->has("STOPPING");
        policy.done(it, out, steady::now());  // `it` points into the policy: read it before
        if (it.what == item_type::lifecycle && out != send_policy::outcome::retry_later)
            handoff_.delivered(policy.delivered_through(), stops && r.is_sent());
        if (r.is_sent()) reporter_.got_through();
        if (r.is_failed()) reporter_.failed(r.error(), what);
        if (out == send_policy::outcome::retry_later) return;
    }
}

void delivery::count(send_policy::item_type what) noexcept {
    switch (what) {
        case send_policy::item_type::lifecycle:
        case send_policy::item_type::failure:
            ++lifecycle_sent_;
            break;
        case send_policy::item_type::extend:
            ++extend_sent_;
            break;
        case send_policy::item_type::watchdog:
            ++watchdog_sent_;
            break;
        case send_policy::item_type::status:
            ++status_sent_;
            break;
        default:
            break;
    }
}

std::uint64_t delivery::sent() const noexcept {
    return handoff_.sent_by_handlers() + status_sent_ + lifecycle_sent_ + watchdog_sent_ +
           extend_sent_;
}

void delivery::barrier(steady::time_point deadline) {
    const std::uint64_t sent_now = sent();
    // One barrier after the last datagram says it all: a second final delivery with nothing
    // new (exit() after spdlog::shutdown(), static destruction after main) sends none.
    if (barrier_sent_ && sent_now == sent_at_barrier_ && !controls_off().barrier_once) return;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return;
    if (notifier_.barrier(left).is_sent()) {
        barrier_sent_ = true;
        sent_at_barrier_ = sent_now;
        ++barriers_;
    }
}

void delivery::add_counts(dispatcher::counters &c) const noexcept {
    c.status_sent += status_sent_;
    c.lifecycle_sent += lifecycle_sent_ + handoff_.sent_by_handlers();
    c.watchdog_sent += watchdog_sent_;
    c.extend_sent += extend_sent_;
    c.barriers += barriers_;
}

}  // namespace details
}  // namespace spdlog_sdnotify
