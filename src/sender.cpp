// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "sender.h"

#include <algorithm>

#include "controls.h"
#include "quiet_thread.h"

namespace spdlog_sdnotify {
namespace details {
namespace {
constexpr auto urgent_retry = std::chrono::milliseconds(10);
}  // namespace

sender::sender(notifier &n, dispatcher_options options, std::atomic<bool> &idle,
               std::atomic<std::uint64_t> &state_word)
    : state_word_(state_word),
      owner_pid_(::getpid()),
      wakeup_(idle),
      handoff_(n, wakeup_),
      reporter_(n),
      options_(std::move(options)),
      delivery_(n, handoff_, reporter_) {
    merged_.reserve();
    scratch_.reserve();
    own_.reserve();
}

sender::~sender() {
    if (thread_.joinable()) thread_.detach();  // a forked child's copy: not its thread
}

void sender::start() {
    thread_ = start_quiet_thread([this] { run(); });
}

void sender::stop() {
    request([&] {
        stop_ = true;
        ++flush_requested_;
        flush_deadline_ = steady::now() + final_budget;
        flush_barrier_ = true;
    });
    if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------- any thread

void sender::post_status(std::string_view text, bool sticky,
                         std::chrono::system_clock::time_point when) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        own_.put(text, sticky, when, status_order().fetch_add(1) + 1);
    }
    wakeup_.wake_if_idle();
}

// Under mutex_: a lifecycle message with its place among the published texts (status_order()
// now), both or neither, so that intake() pairs them by index.
void sender::enqueue(std::uint64_t ticket, message msg) {
    inbox_places_.push_back(status_order().load());
    try {
        inbox_.emplace_back(ticket, std::move(msg));
    } catch (...) {
        inbox_places_.pop_back();
        throw;
    }
}
void sender::post(std::uint64_t ticket, message msg) {
    request([&] { enqueue(ticket, std::move(msg)); });
}
void sender::post(message msg) {
    request([&] { enqueue(next_ticket(), std::move(msg)); });
}
void sender::failure(message msg) {
    request([&] {
        inbox_failure_ = std::move(msg);
        inbox_failure_place_ = status_order().load();
    });
}
void sender::set_options(dispatcher_options o) {
    request([&] {
        options_ = std::move(o);
        options_changed_ = true;
    });
}
void sender::set_keepalive(const keepalive_config &k, std::function<bool()> healthy) {
    request([&] {
        keepalive_ = k;
        healthy_ = std::move(healthy);
        keepalive_changed_ = true;
    });
}
void sender::set_periodic(std::function<void()> check) {
    request([&] {
        periodic_ = std::move(check);
        periodic_changed_ = true;
    });
}
void sender::diagnose(std::string what) {
    reporter_.diagnose(std::move(what));
    wakeup_.wake();
}

void sender::report(std::error_code ec, std::string_view what) {
    if (controls_off().on_error_thread) {  // what 0.1.0 did: the callback on the caller
        error_handler f;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            f = options_.on_error;
        }
        if (f) f(ec, what, 0);
        return;
    }
    reporter_.report(ec, what);
    wakeup_.wake();
}

bool sender::flush(std::chrono::milliseconds timeout, bool with_barrier) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::uint64_t mine = ++flush_requested_;
    flush_deadline_ = std::max(flush_deadline_, steady::now() + timeout);
    flush_barrier_ = flush_barrier_ || with_barrier;
    lock.unlock();
    wakeup_.wake();
    lock.lock();
    // A little beyond the thread's own deadline, so that its answer is not missed.
    const bool answered = flushed_.wait_for(lock, timeout + std::chrono::milliseconds(20),
                                            [&] { return flush_answered_ >= mine; });
    return answered && flush_ok_;
}

void sender::add_source(status_source *s) {
    std::lock_guard<std::mutex> lock(sources_mutex_);
    sources_.push_back({s, 0, 0, 0, std::chrono::seconds(0)});
}

void sender::remove_source(status_source *s) {
    bool last = false;
    bool any_status = false;
    {
        std::lock_guard<std::mutex> lock(sources_mutex_);
        auto it = std::find_if(sources_.begin(), sources_.end(),
                               [&](const source_entry &e) { return e.source == s; });
        if (it == sources_.end()) return;
        if (s->pull(scratch_, it->seen)) {  // its text outlives it
            merge(scratch_);
            it->errors = scratch_.errors;
            it->warnings = scratch_.warnings;
        }
        removed_posted_ += s->posted();
        // Its counts too: the summary's totals only grow.
        removed_errors_ += it->errors;
        removed_warnings_ += it->warnings;
        sources_.erase(it);
        last = sources_.empty();
        any_status = merged_seq_ != 0;
    }
    wakeup_.wake();
    // spdlog::shutdown() or the last status logger going away: the status must be out
    // before the program goes on (it may _exit() next).
    if (last && any_status) flush(final_budget, true);
}

std::uint64_t sender::next_ticket() noexcept {
    std::uint64_t word = state_word_.load();
    while (!state_word_.compare_exchange_weak(word, word + 4)) {
    }
    return (word >> 2) + 1;
}

dispatcher::counters sender::stats() const {
    std::uint64_t from_sources = 0;
    {
        std::lock_guard<std::mutex> lock(sources_mutex_);
        for (const auto &e : sources_) from_sources += e.source->posted();
        from_sources += removed_posted_;
    }
    dispatcher::counters s;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.posted = from_sources + own_.seq;
        s.max_queued = max_queued_;
    }
    delivery_.add_counts(s);
    s.failures = reporter_.failures();
    s.wakeups = wakeup_.wakeups();
    return s;
}

// ---------------------------------------------------------------------- the thread

// Keeps the newest text and the newest error over every source: the ones published last
// (status_order()), whichever source or thread they came from. Which of them shows is the
// policy's display rule (src/status_merge.h).
void sender::merge(const status_slot &slot) {
    if (slot.seq == 0) return;
    const bool by_clock = controls_off().publication_order;  // what 0.1 did
    if (merged_.seq == 0 || (by_clock ? slot.latest_time >= merged_.latest_time
                                      : slot.latest_order > merged_.latest_order)) {
        merged_.latest.assign(slot.latest);
        merged_.latest_time = slot.latest_time;
        merged_.latest_order = slot.latest_order;
        merged_.seq = ++merged_seq_;
    }
    if (slot.has_sticky &&
        (!merged_.has_sticky || (by_clock ? slot.sticky_time >= merged_.sticky_time
                                          : slot.sticky_order > merged_.sticky_order))) {
        merged_.sticky.assign(slot.sticky);
        merged_.sticky_time = slot.sticky_time;
        merged_.sticky_order = slot.sticky_order;
        merged_.has_sticky = true;
        merged_.seq = ++merged_seq_;
    }
}

bool sender::collect(steady::time_point now) {
    // Callbacks that threw: said now, not next round, so that a flush() answered in this round
    // has it said before it returns.
    if (reporter_.count_callback_failures()) reporter_.deliver();
    std::lock_guard<std::mutex> lock(sources_mutex_);
    for (auto &e : sources_) {
        if (!e.source->pull(scratch_, e.seen)) continue;
        e.errors = scratch_.errors;
        e.warnings = scratch_.warnings;
        e.window = scratch_.summary_window;
        merge(scratch_);
    }
    {
        std::lock_guard<std::mutex> own_lock(mutex_);
        if (own_.seq != own_seen_) {
            own_seen_ = own_.seq;
            merge(own_);
        }
    }
    // Read under the lock: remove_source() merges a departing sink's text from another thread.
    if (merged_.seq == fed_seq_) return false;
    last_change_ = now;
    return true;
}

void sender::feed_status(steady::time_point now) {
    std::lock_guard<std::mutex> lock(sources_mutex_);
    if (merged_.seq == fed_seq_) return;
    // The summary's counts first, so that the texts are composed with them.
    std::chrono::seconds window{0};
    std::uint64_t errors = removed_errors_, warnings = removed_warnings_;
    for (const auto &e : sources_) {
        window = std::max(window, e.window);
        errors += e.errors;
        warnings += e.warnings;
    }
    policy_.status_summary(window);
    policy_.status_counts(errors, warnings, now);
    // Control publication_order: the record's clock as the order, as 0.1 compared.
    const bool by_clock = controls_off().publication_order;
    const auto order = [by_clock](std::uint64_t o, std::chrono::system_clock::time_point t) {
        return by_clock ? static_cast<std::uint64_t>(t.time_since_epoch().count()) : o;
    };
    const bool latest_is_error = merged_.has_sticky && merged_.sticky_order == merged_.latest_order;
    if (merged_.has_sticky && !latest_is_error)
        policy_.status(merged_.sticky, order(merged_.sticky_order, merged_.sticky_time), true, now,
                       merged_.sticky_time);
    policy_.status(merged_.latest, order(merged_.latest_order, merged_.latest_time),
                   latest_is_error, now, merged_.latest_time);
    fed_seq_ = merged_.seq;
}

void sender::intake(steady::time_point now) {
    std::vector<std::pair<std::uint64_t, message>> posted;
    std::vector<std::uint64_t> places;
    std::optional<message> failure;
    std::uint64_t failure_place = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        posted.swap(inbox_);
        places.swap(inbox_places_);
        failure.swap(inbox_failure_);
        failure_place = inbox_failure_place_;
        if (options_changed_) {
            options_changed_ = false;
            policy_.set_options({options_.min_interval, options_.sticky_for});
            thread_redacts_ = static_cast<bool>(options_.redact);
            delivery_.use(options_.redact);
            reporter_.use(options_.on_error, options_.errors_to_stderr);
            thread_min_interval_ = options_.min_interval;
        }
        if (periodic_changed_) {
            periodic_changed_ = false;
            thread_periodic_ = periodic_;
            next_periodic_ =
                thread_periodic_ ? now + std::chrono::seconds(1) : steady::time_point::max();
        }
        if (keepalive_changed_) {
            keepalive_changed_ = false;
            policy_.set_keepalive(keepalive_, now);
            thread_healthy_ = healthy_;
        }
    }
    handoff_.take(posted, places);
    if (const auto n = handoff_.take_out_of_order(); n != 0) {
        // A signal handler waited in vain for its kind's slot and sent by itself, possibly out
        // of order: say so rather than keep it to a counter nobody reads.
        reporter_.diagnose(std::to_string(n) +
                           " signal lifecycle message(s) found the hand-over slot of their kind "
                           "taken and were sent directly, possibly out of order");
    }
    // Sent by signal handlers themselves.
    policy_.delivered_elsewhere(handoff_.delivered_through(), handoff_.stopping_sent(), now,
                                status_order().load());
    for (std::size_t i = 0; i < posted.size(); ++i) {
        auto &p = posted[i];
        if (thread_redacts_ && p.second.status_text() != nullptr) {
            // Redaction must not hold the lifecycle message back: its text follows on its own.
            std::string text = *p.second.status_text();
            p.second.erase("STATUS");
            policy_.lifecycle_status(text, places[i], now);
            if (p.second.empty()) continue;
        }
        policy_.lifecycle(p.first, std::move(p.second), now, places[i]);
    }
    if (failure) policy_.failure(std::move(*failure), failure_place);
    if (progress_.exchange(false)) policy_.progress();
    if (alive_.exchange(false)) policy_.alive(now);
    std::lock_guard<std::mutex> lock(mutex_);
    max_queued_ = std::max<std::uint64_t>(max_queued_, policy_.queued());
}

// The thread: take what was asked, deliver what is due, then either answer a flush or sleep
// until the next thing is due.
void sender::run() {
    for (;;) {
        take_requests(steady::now());
        const flush_request flush = pending_flush();
        const bool urgent = handoff_.urgent();
        deliver(flush.active || urgent);
        const auto now = steady::now();
        if (urgent && policy_.queued() == 0) handoff_.calm();
        if (flush.active) {
            if (handle_flush(flush, now)) return;
            continue;
        }
        sleep_plan plan = plan_sleep(now, urgent);
        if (plan.idle && !go_idle(now)) continue;
        wakeup_.wait(plan.until);
        wakeup_.awake();
    }
}

// Posted messages, options, signal hand-overs and evidence into the policy; the periodic
// check when due; errors and diagnostics out to on_error or stderr.
void sender::take_requests(steady::time_point now) {
    intake(now);
    if (now >= next_periodic_) {
        next_periodic_ = now + std::chrono::seconds(1);
        try {
            thread_periodic_();
        } catch (...) {
        }
    }
    reporter_.deliver();
}

sender::flush_request sender::pending_flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_request f;
    f.stopping = stop_;
    f.requested = flush_requested_;
    f.active = f.stopping || f.requested > flush_answered_;
    f.deadline = flush_deadline_;
    f.with_barrier = flush_barrier_ || stop_;
    return f;
}

// The sinks' newest texts, then everything due (lifecycle first).
void sender::deliver(bool final) {
    const auto now = steady::now();
    if (collect(now)) feed_status(now);
    delivery_.send_due(policy_, final, thread_healthy_);
}

// Answers the flush once nothing is left (after the barrier it asked for) or its deadline
// passed; otherwise waits a little for the next try. Returns true when the thread is to end.
bool sender::handle_flush(const flush_request &f, steady::time_point now) {
    if (policy_.idle(now)) {
        if (f.with_barrier) delivery_.barrier(f.deadline);
        answer_flush(f.requested, true);
        return f.stopping;
    }
    if (now >= f.deadline) {
        answer_flush(f.requested, false);
        return f.stopping;
    }
    wakeup_.wait(std::min(f.deadline, now + urgent_retry));
    return false;
}

void sender::answer_flush(std::uint64_t requested, bool ok) {
    {
        // Only the requests made before this delivery started: a later one gets a look of its own.
        std::lock_guard<std::mutex> lock(mutex_);
        flush_answered_ = std::max(flush_answered_, requested);
        flush_ok_ = ok;
        if (flush_answered_ == flush_requested_) flush_barrier_ = false;
    }
    flushed_.notify_all();
}

sender::sleep_plan sender::plan_sleep(steady::time_point now, bool urgent) const {
    auto until = std::min(policy_.wake_at(now), next_periodic_);
    if (urgent) until = std::min(until, now + urgent_retry);
    // A text that arrives while min_interval or a retry pause runs could not go before that
    // ends: look then, and let no logging thread wake us meanwhile. Otherwise a new text
    // must wake us (the only syscall a logging thread ever makes for us), announced before
    // the last look at the sources, so that a text published after that look sees it.
    const auto ready_at = policy_.status_ready_at(now);
    if (ready_at > now) return {std::min(until, ready_at), false};
    // Records are still coming in, though they changed nothing (the same text again): look
    // again after min_interval rather than let the next of them wake us (a syscall on the
    // logging thread per record or so). A new text waits min_interval at most, as it would
    // after a send.
    if (now - last_change_ < thread_min_interval_ && !controls_off().quiet_interval)
        return {std::min(until, last_change_ + thread_min_interval_), false};
    return {until, until == steady::time_point::max() || until - now > thread_min_interval_};
}

// Announces the sleep and looks at the sources once more: false if a text arrived, which is
// delivered instead of sleeping. The order is the protocol (src/wakeup.h): the idle flag set,
// then the last look; a writer claims its cell, then reads the flag (all sequentially
// consistent), so either it sees the flag and wakes us or we see its record.
bool sender::go_idle(steady::time_point now) {
    wakeup_.going_idle();
    if (!controls_off().idle_recheck && collect(now)) {
        wakeup_.awake();
        feed_status(now);
        return false;
    }
    return true;
}

}  // namespace details
}  // namespace spdlog_sdnotify
