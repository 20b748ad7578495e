// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/dispatcher.h>

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "quiet_thread.h"

namespace spdlog_sdnotify {
namespace {

bool transient(std::error_code ec) noexcept {
    return ec == std::errc::resource_unavailable_try_again || ec == std::errc::no_buffer_space ||
           ec == std::errc::interrupted;
}

constexpr auto lifecycle_retry = std::chrono::milliseconds(10);
constexpr auto report_interval = std::chrono::seconds(1);
// At exit, how long transient failures (a full receiver queue) are retried before giving up.
constexpr auto final_delivery_budget = std::chrono::milliseconds(200);

}  // namespace

dispatcher::dispatcher(std::shared_ptr<notifier> n, dispatcher_options options)
    : notifier_(std::move(n)),
      enabled_(notifier_ != nullptr && notifier_->enabled()),
      options_(std::move(options)),
      owner_pid_(::getpid()) {
    if (!enabled_) return;  // outside systemd: no thread, every call returns at once
    // Reserved now so that posting and merging never allocate.
    merged_.reserve();
    scratch_.reserve();
    thread_ = std::make_unique<std::thread>(details::start_quiet_thread([this] { run(); }));
}

// A forked child has no dispatcher thread, and a lock that thread held at the fork stays held
// forever in the child: the child must not touch any of them. (Children do not send anyway.)
bool dispatcher::forked() const noexcept { return ::getpid() != owner_pid_; }

dispatcher::~dispatcher() {
    if (!thread_) return;
    if (forked()) {
        // The thread exists only in the parent: joining would wait forever.
        (void)thread_.release();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_->join();
}

std::shared_ptr<dispatcher> dispatcher::default_instance() {
    static const std::shared_ptr<dispatcher> instance = std::make_shared<dispatcher>(
        std::shared_ptr<notifier>(&default_notifier(), [](notifier *) {}));
    return instance;
}

void configure(dispatcher_options options) {
    dispatcher::default_instance()->set_options(std::move(options));
}

void dispatcher::set_options(dispatcher_options options) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        options_ = std::move(options);
        kick_ = true;
    }
    wake_.notify_one();
}

dispatcher::stats dispatcher::get_stats() const {
    std::uint64_t from_sources = 0;
    {
        std::lock_guard<std::mutex> sources_lock(sources_mutex_);
        for (const auto &e : sources_) from_sources += e.source->posted();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stats s = stats_;
    s.posted = own_posted_ + removed_posted_ + from_sources;
    return s;
}

void dispatcher::add_source(status_source *source) {
    if (!enabled_ || forked()) return;
    std::lock_guard<std::mutex> sources_lock(sources_mutex_);
    sources_.push_back({source, 0});
}

void dispatcher::remove_source(status_source *source) noexcept {
    if (!enabled_ || forked()) return;
    std::lock_guard<std::mutex> sources_lock(sources_mutex_);
    auto it = std::find_if(sources_.begin(), sources_.end(),
                           [&](const source_entry &e) { return e.source == source; });
    if (it == sources_.end()) return;
    const bool changed = source->pull(scratch_, it->seen);
    const std::uint64_t posted = source->posted();
    sources_.erase(it);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        removed_posted_ += posted;
        if (changed) merge_locked(scratch_, source);
        kick_ = true;
        idle_.store(false);
    }
    wake_.notify_one();
}

void dispatcher::wake_from_source() noexcept {
    if (forked()) return;  // rare: only when the thread went idle
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!idle_.load()) return;
        idle_.store(false);
        wake_requested_ = true;
        ++stats_.wakeups;
    }
    wake_.notify_one();
}

void dispatcher::merge_locked(const status_slot &slot, const void *from) {
    if (slot.seq == 0) return;
    // Across sources the record time decides; a source's own newer text always wins, so a
    // clock stepped backwards cannot freeze the status of a single sink.
    if (merged_.seq == 0 || from == latest_from_ || slot.latest_time >= merged_.latest_time) {
        merged_.latest.assign(slot.latest);
        merged_.latest_time = slot.latest_time;
        latest_from_ = from;
    }
    if (slot.has_sticky && (!merged_.has_sticky || slot.sticky_time >= merged_.sticky_time)) {
        merged_.sticky.assign(slot.sticky);
        merged_.sticky_time = slot.sticky_time;
        merged_.has_sticky = true;
    }
    ++merged_.seq;
}

bool dispatcher::collect() {
    bool any = false;
    std::lock_guard<std::mutex> sources_lock(sources_mutex_);
    for (auto &e : sources_) {
        if (!e.source->pull(scratch_, e.seen)) continue;  // the source's lock only
        std::lock_guard<std::mutex> lock(mutex_);
        merge_locked(scratch_, e.source);
        any = true;
    }
    return any;
}

void dispatcher::post_status(std::string_view text, bool sticky,
                             std::chrono::system_clock::time_point when) noexcept {
    if (!enabled_ || forked()) return;
    bool wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        merged_.put(text, sticky, when);
        latest_from_ = this;
        ++own_posted_;
        // Only an idle thread needs waking; one waiting for min_interval will look anyway.
        wake = idle_.load();
        if (wake) {
            idle_.store(false);
            wake_requested_ = true;
            ++stats_.wakeups;
        }
    }
    if (wake) wake_.notify_one();
}

void dispatcher::post(message msg) noexcept {
    if (!enabled_ || forked()) return;
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        lifecycle_.push_back(std::move(msg));
        kick_ = true;
    } catch (const std::bad_alloc &) {
        report(std::make_error_code(std::errc::not_enough_memory), "queueing a lifecycle message");
        return;
    }
    wake_.notify_one();
}

bool dispatcher::flush(std::chrono::milliseconds timeout) noexcept {
    if (!enabled_) return true;
    if (forked()) return false;
    std::unique_lock<std::mutex> lock(mutex_);
    flush_requested_ = true;
    kick_ = true;
    wake_.notify_one();
    return delivered_.wait_for(lock, timeout, [&] {
        return !flush_requested_ && lifecycle_.empty() &&
               !status_pending_locked(std::chrono::system_clock::now());
    });
}

void dispatcher::report(std::error_code error, std::string_view what) noexcept {
    std::unique_lock<std::mutex> lock(mutex_);
    report_locked(lock, error, what);
}

void dispatcher::report_locked(std::unique_lock<std::mutex> &lock, std::error_code error,
                               std::string_view what) {
    ++stats_.failures;
    const auto now = clock::now();
    if (!options_.on_error ||
        (last_report_ != clock::time_point{} && now - last_report_ < report_interval)) {
        ++suppressed_;
        return;
    }
    last_report_ = now;
    const std::uint64_t suppressed = std::exchange(suppressed_, 0);
    auto handler = options_.on_error;
    // Called unlocked: a handler that logs through a logger with our sink must not deadlock.
    lock.unlock();
    try {
        handler(error, what, suppressed);
    } catch (...) {
    }
    lock.lock();
}

bool dispatcher::sticky_active_locked(std::chrono::system_clock::time_point now) const {
    return merged_.has_sticky && now < merged_.sticky_time + options_.sticky_for;
}

const std::string &dispatcher::display_locked(std::chrono::system_clock::time_point now) const {
    return sticky_active_locked(now) ? merged_.sticky : merged_.latest;
}

bool dispatcher::status_pending_locked(std::chrono::system_clock::time_point now) const {
    if (merged_.seq == 0) return false;
    return !source_valid_ || display_locked(now) != delivered_source_;
}

// Sends the queued lifecycle messages in order; false if one must be retried later.
bool dispatcher::send_lifecycle_locked(std::unique_lock<std::mutex> &lock) {
    while (!lifecycle_.empty()) {
        message msg = std::move(lifecycle_.front());
        lifecycle_.pop_front();
        if (stopping_.load()) {
            // STOPPING is terminal: PID 1 would ignore a READY after it anyway, and a ping or a
            // reload must not suggest the service is coming back.
            msg.erase("READY").erase("RELOADING").erase("MONOTONIC_USEC").erase("WATCHDOG");
            if (msg.empty()) continue;
        }
        const bool stops = msg.has("STOPPING");
        auto redact = options_.redact;
        lock.unlock();
        bool redact_failed = false;
        if (redact && msg.status_text() != nullptr) {
            // A READY or fatal message carries a record's text too: the same rule applies.
            try {
                msg.status(redact(*msg.status_text()));
            } catch (...) {
                msg.erase("STATUS");  // never the unredacted text
                redact_failed = true;
            }
        }
        const notify_result r = notifier_->send(msg);
        lock.lock();
        if (redact_failed)
            report_locked(lock, errc::callback_failed, "redacting a lifecycle STATUS");
        if (stops && !r.is_failed()) stopping_.store(true);
        if (r.is_sent()) {
            ++stats_.lifecycle_sent;
            if (const std::string *text = msg.status_text()) {
                // The text is shown now: the status path need not send it again.
                message{}.status(*text).build(last_datagram_);
            }
        } else if (r.is_failed() && transient(r.error())) {
            lifecycle_.push_front(std::move(msg));  // never dropped for a full queue
            lifecycle_retry_at_ = clock::now() + lifecycle_retry;
            return false;
        } else if (r.is_failed()) {
            report_locked(lock, r.error(), "sending a lifecycle message");
        }
    }
    return true;
}

void dispatcher::deliver_status(std::unique_lock<std::mutex> &lock, bool final_delivery) {
    const auto now = std::chrono::system_clock::now();
    std::string text = display_locked(now);
    delivered_source_ = text;
    source_valid_ = true;
    auto redact = options_.redact;
    const auto min_interval = options_.min_interval;
    lock.unlock();

    std::string datagram;
    std::error_code build_error;
    try {
        if (redact) text = redact(text);
        build_error = message{}.status(text).build(datagram);
    } catch (...) {
        // A redactor that failed must not let the unredacted text out: send nothing.
        build_error = errc::callback_failed;
    }
    notify_result r = notify_result::no_manager();
    const bool unchanged = !build_error && datagram == last_datagram_;
    if (!build_error && !unchanged) {
        r = notifier_->send_raw(datagram);
        const auto give_up = clock::now() + final_delivery_budget;
        while (final_delivery && r.is_failed() && transient(r.error()) && clock::now() < give_up) {
            std::this_thread::sleep_for(lifecycle_retry);
            r = notifier_->send_raw(datagram);
        }
    }
    lock.lock();
    if (build_error) {
        report_locked(lock, build_error, "building a STATUS message");
        return;
    }
    if (unchanged) return;  // the same text is not sent again
    next_status_at_ = clock::now() + min_interval;
    if (r.is_sent()) {
        ++stats_.status_sent;
        last_datagram_ = std::move(datagram);
    } else if (r.is_failed()) {
        source_valid_ = false;  // try again at the next slot (with whatever is newest then)
        report_locked(lock, r.error(), "sending STATUS");
    }
}

void dispatcher::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        kick_ = false;
        lock.unlock();
        collect();
        lock.lock();
        bool lifecycle_blocked = false;
        if (!lifecycle_.empty()) {
            lifecycle_blocked = clock::now() < lifecycle_retry_at_ || !send_lifecycle_locked(lock);
        }
        if (stop_) {
            // Last chance: a bounded retry for lifecycle messages, then the newest status.
            const auto give_up = clock::now() + final_delivery_budget;
            while (!send_lifecycle_locked(lock) && clock::now() < give_up) {
                lock.unlock();
                std::this_thread::sleep_for(lifecycle_retry);
                lock.lock();
            }
            lock.unlock();
            collect();
            lock.lock();
            if (status_pending_locked(std::chrono::system_clock::now())) deliver_status(lock, true);
            flush_requested_ = false;
            delivered_.notify_all();
            return;
        }
        // A flush request is consumed by the delivery that starts after it, which takes the
        // newest text; a delivery already under way when it came does not count.
        if (status_pending_locked(std::chrono::system_clock::now())) {
            if (flush_requested_ || clock::now() >= next_status_at_) {
                flush_requested_ = false;
                deliver_status(lock, false);
            }
        } else if (lifecycle_.empty()) {
            flush_requested_ = false;
        }
        delivered_.notify_all();  // flush() re-checks what is still pending

        // Sleep until the next thing that can become due.
        auto deadline = clock::time_point::max();
        if (lifecycle_blocked) deadline = lifecycle_retry_at_;
        const auto sys_now = std::chrono::system_clock::now();
        if (status_pending_locked(sys_now)) {
            deadline = std::min(deadline, next_status_at_);
        } else if (sticky_active_locked(sys_now) && merged_.latest != merged_.sticky) {
            // When the hold ends, the newest ordinary text takes over.
            const auto left = std::chrono::duration_cast<clock::duration>(
                merged_.sticky_time + options_.sticky_for - sys_now);
            deadline = std::min(deadline, clock::now() + left + std::chrono::milliseconds(1));
        }
        if (deadline != clock::time_point::max()) {
            wake_.wait_until(lock, deadline, [&] { return stop_ || kick_; });
            continue;
        }
        // Nothing to wait for: go idle, and let the next change wake us (the only wake-up a
        // logging thread ever pays). Idle is announced before the last look at the sources, so
        // a change made after that look sees it and wakes us.
        idle_.store(true);
        wake_requested_ = false;
        lock.unlock();
        const bool changed = collect();
        lock.lock();
        if (!changed) {
            wake_.wait(lock, [&] { return wake_requested_ || stop_ || kick_; });
        }
        idle_.store(false);
        wake_requested_ = false;
    }
}

}  // namespace spdlog_sdnotify
