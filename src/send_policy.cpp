// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "send_policy.h"

#include <algorithm>

#include "controls.h"

namespace spdlog_sdnotify {
namespace details {
namespace {

// A ticket missing this long is taken as lost (a post that could not allocate): later messages
// must not wait for it forever. Tickets normally arrive within microseconds of each other.
constexpr auto gap_timeout = std::chrono::milliseconds(100);
// Retries after a transient failure (a full receiver queue) back off from 10 ms to 1 s: a
// receiver that stopped reading costs no busy CPU. At shutdown it stays at 10 ms.
constexpr auto first_backoff = std::chrono::milliseconds(10);
constexpr auto max_backoff = std::chrono::milliseconds(1000);

}  // namespace

void send_policy::set_keepalive(const keepalive_config &k, time_point now) {
    keepalive_ = k;
    schedule_keepalive(now);
}

void send_policy::schedule_keepalive(time_point now) {
    next_ping_at_ = time_point::max();
    if (phase_ == phase::running && keepalive_.watchdog_interval)
        next_ping_at_ = now + *keepalive_.watchdog_interval / 2;
    next_extend_at_ = time_point::max();
    if (phase_ != phase::running && keepalive_.extend.count() > 0) next_extend_at_ = now;
}

void send_policy::lifecycle(std::uint64_t ticket, message m, time_point now, std::uint64_t place) {
    if (ticket < next_ticket_) return;  // already delivered (or given up on): exactly once
    if (lifecycle_.empty() && ticket != next_ticket_) gap_since_ = now;
    if (m.status_text() != nullptr) places_[ticket] = place;
    lifecycle_.emplace(ticket, std::move(m));
}

void send_policy::delivered_elsewhere(std::uint64_t through, bool stopping_among_them,
                                      time_point now, std::uint64_t place) {
    if (stopping_among_them && !stopping_sent_) {
        stopping_sent_ = true;
        phase_ = phase::stopping;
        extended_ = std::chrono::microseconds(0);
        schedule_keepalive(now);
    }
    if (through < next_ticket_) return;
    // Every datagram a handler sends carries a STATUS: on screen now, and newer than any text
    // merged so far. Its text is not known here, so nothing is compared against it.
    if (!controls_off().lifecycle_text) {
        status_.lifecycle_unknown(place);
        sent_valid_ = false;
    }
    next_ticket_ = through + 1;
    lifecycle_.erase(lifecycle_.begin(), lifecycle_.upper_bound(through));
    places_.erase(places_.begin(), places_.upper_bound(through));
    gap_since_ = now;
}

void send_policy::failure(message m, std::uint64_t place) {
    failure_ = std::move(m);
    failure_place_ = place;
}

void send_policy::health(bool ok, time_point now) {
    health_asked_ = false;
    if (ok) {
        watchdog_pending_ = true;
    } else if (keepalive_.trigger_when_unhealthy && !triggered_) {
        trigger_pending_ = true;
    }
    (void)now;
}

bool send_policy::status_pending(time_point now) const {
    const std::string *shown = status_.wanted(now);
    if (shown == nullptr) return false;
    return !sent_valid_ || *shown != sent_text_;
}

// The front message may go: it is the next ticket, or the missing one is given up on.
bool send_policy::lifecycle_ready(time_point now) const {
    if (lifecycle_.empty()) return false;
    return lifecycle_.begin()->first == next_ticket_ || now >= gap_since_ + gap_timeout;
}

send_policy::item send_policy::next(time_point now, bool final) {
    item it;
    if (!final && now < retry_at_) return it;

    // Keep-alive bookkeeping first: it only marks things pending.
    if (phase_ == phase::running && now >= next_ping_at_ && keepalive_.watchdog_interval) {
        const auto interval = *keepalive_.watchdog_interval;
        next_ping_at_ = now + interval / 2;
        switch (keepalive_.proof) {
            case watchdog_proof::timer:
                watchdog_pending_ = true;
                break;
            case watchdog_proof::records:
                // Only if the application showed life within the last interval.
                if (last_alive_ != time_point{} && now - last_alive_ <= interval)
                    watchdog_pending_ = true;
                break;
            case watchdog_proof::healthy:
                if (!health_asked_) {
                    health_asked_ = true;
                    it.what = item_type::health_check;
                    return it;
                }
                break;
        }
    }
    if (phase_ != phase::running && now >= next_extend_at_ && keepalive_.extend.count() > 0) {
        next_extend_at_ = now + std::chrono::duration_cast<clock::duration>(keepalive_.extend) / 3;
        // Earned: only after progress since the previous extension, and within the limit.
        if (progress_since_extend_ && extended_ + keepalive_.extend <= keepalive_.extend_limit) {
            progress_since_extend_ = false;
            extended_ += keepalive_.extend;
            extend_pending_ = keepalive_.extend;
        }
    }

    if (lifecycle_ready(now)) {
        auto front = lifecycle_.begin();
        if (front->first != next_ticket_) next_ticket_ = front->first;  // a lost ticket
        if (stopping_sent_) {
            // STOPPING is terminal: PID 1 ignores a later READY, and a ping or a reload must
            // not suggest that the service is coming back.
            front->second.erase("READY")
                .erase("RELOADING")
                .erase("MONOTONIC_USEC")
                .erase("WATCHDOG");
            if (front->second.empty()) {
                lifecycle_.erase(front);
                ++next_ticket_;
                gap_since_ = now;
                return next(now, final);
            }
        }
        it.what = item_type::lifecycle;
        it.ticket = front->first;
        it.msg = &front->second;
        return it;
    }
    if (!lifecycle_.empty()) {
        // Waiting for an earlier ticket: nothing else may overtake it but keep-alive.
        if (extend_pending_) {
            it.what = item_type::extend;
            it.extend = *extend_pending_;
        }
        return it;
    }
    if (extend_pending_) {
        it.what = item_type::extend;
        it.extend = *extend_pending_;
        return it;
    }
    if ((watchdog_pending_ || trigger_pending_) && !stopping_sent_) {
        it.what = item_type::watchdog;
        it.trigger = trigger_pending_;
        return it;
    }
    if (failure_) {
        it.what = item_type::failure;
        it.msg = &*failure_;
        return it;
    }
    if (status_pending(now) && (final || now >= next_status_at_)) {
        it.what = item_type::status;
        it.text = status_.wanted(now);
        return it;
    }
    return it;
}

void send_policy::after_lifecycle_sent(const message &m, std::uint64_t place, time_point now) {
    if (m.has("STOPPING")) {
        stopping_sent_ = true;
        phase_ = phase::stopping;
        extended_ = std::chrono::microseconds(0);
        watchdog_pending_ = trigger_pending_ = false;
        schedule_keepalive(now);
    } else if (m.has("READY") && phase_ == phase::starting) {
        phase_ = phase::running;
        schedule_keepalive(now);
    }
    if (const std::string *text = m.status_text(); text != nullptr) {
        // On screen now: newer than every text merged so far (the display rule says what
        // follows it), and the status path need not send it again.
        if (controls_off().lifecycle_text) {
            const std::string *shown = status_.wanted(now);
            if (shown != nullptr && *text == *shown) {
                sent_text_ = *text;
                sent_valid_ = true;
            }
            return;
        }
        status_.lifecycle_text(*text, false, std::chrono::system_clock::now(), now, place);
        sent_text_ = *text;
        sent_valid_ = true;
    }
}

void send_policy::done(const item &it, outcome result, time_point now) {
    if (result == outcome::retry_later) {
        backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, max_backoff);
        if (controls_off().backoff) backoff_ = first_backoff;  // a try every 10 ms, for ever
        retry_at_ = now + backoff_;
        return;  // kept pending: lifecycle stays queued, the merged kinds stay set
    }
    if (result == outcome::sent) backoff_ = std::chrono::milliseconds(0);
    switch (it.what) {
        case item_type::lifecycle: {
            auto node = lifecycle_.extract(it.ticket);
            auto place = places_.extract(it.ticket);
            next_ticket_ = it.ticket + 1;
            gap_since_ = now;
            if (result == outcome::sent && node)
                after_lifecycle_sent(node.mapped(), place ? place.mapped() : 0, now);
            break;
        }
        case item_type::extend:
            extend_pending_.reset();
            break;
        case item_type::watchdog:
            watchdog_pending_ = false;
            if (it.trigger) {
                trigger_pending_ = false;
                triggered_ = true;
            }
            break;
        case item_type::health_check:
            break;
        case item_type::failure:
            if (result == outcome::sent && failure_ && failure_->status_text() != nullptr) {
                // The failure status: shown and held as an error.
                status_.lifecycle_text(*failure_->status_text(), true,
                                       std::chrono::system_clock::now(), now, failure_place_);
                sent_text_ = *failure_->status_text();
                sent_valid_ = true;
            }
            failure_.reset();
            break;
        case item_type::status:
            // Sent, or refused for good (a text that cannot be built): the next change goes.
            if (it.text != nullptr) sent_text_ = *it.text;
            sent_valid_ = true;
            next_status_at_ = now + options_.min_interval;
            break;
        case item_type::none:
            break;
    }
}

send_policy::time_point send_policy::wake_at(time_point now) const {
    time_point at = time_point::max();
    if (!lifecycle_.empty()) {
        at = lifecycle_.begin()->first == next_ticket_ ? now : gap_since_ + gap_timeout;
    }
    if (extend_pending_ || failure_ || ((watchdog_pending_ || trigger_pending_) && !stopping_sent_))
        at = now;
    if (status_pending(now)) {
        at = std::min(at, std::max(now, next_status_at_));
    } else {
        at = std::min(at, status_.changes_at(now));  // the hold's end: the newest line shows
    }
    if (phase_ == phase::running) at = std::min(at, next_ping_at_);
    if (phase_ != phase::running) at = std::min(at, next_extend_at_);
    if (at != time_point::max() && at < retry_at_) at = retry_at_;
    return at;
}

bool send_policy::idle(time_point now) const {
    return lifecycle_.empty() && !extend_pending_ && !failure_ &&
           !((watchdog_pending_ || trigger_pending_) && !stopping_sent_) && !status_pending(now);
}

}  // namespace details
}  // namespace spdlog_sdnotify
