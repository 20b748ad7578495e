// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/dispatcher.h>

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

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
    // Reserved now so that logging threads never allocate to post a status.
    latest_.reserve(max_status_input);
    sticky_.reserve(max_status_input);
    thread_ = std::make_unique<std::thread>([this] { run(); });
}

dispatcher::~dispatcher() {
    if (!thread_) return;
    if (::getpid() != owner_pid_) {
        // A forked child: the thread exists only in the parent. Joining would wait forever.
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
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void dispatcher::post_status(std::string_view text, bool sticky,
                             std::chrono::system_clock::time_point when) noexcept {
    if (!enabled_) return;
    text = text.substr(0, max_status_input);
    bool wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        latest_.assign(text.data(), text.size());  // within the reserved capacity
        if (sticky) {
            sticky_.assign(text.data(), text.size());
            sticky_time_ = when;
            has_sticky_ = true;
        }
        ++seq_;
        ++stats_.posted;
        // Only an idle thread needs waking; one waiting for min_interval will look anyway.
        wake = idle_;
        if (wake) {
            idle_ = false;
            ++stats_.wakeups;
        }
    }
    if (wake) wake_.notify_one();
}

void dispatcher::post(message msg) noexcept {
    if (!enabled_) return;
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
    if (!options_.on_error || (last_report_ != clock::time_point{} &&
                               now - last_report_ < report_interval)) {
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
    return has_sticky_ && now < sticky_time_ + options_.sticky_for;
}

const std::string &dispatcher::display_locked(std::chrono::system_clock::time_point now) const {
    return sticky_active_locked(now) ? sticky_ : latest_;
}

bool dispatcher::status_pending_locked(std::chrono::system_clock::time_point now) const {
    if (seq_ == 0) return false;
    return !source_valid_ || display_locked(now) != delivered_source_;
}

// Sends the queued lifecycle messages in order; false if one must be retried later.
bool dispatcher::send_lifecycle_locked(std::unique_lock<std::mutex> &lock) {
    while (!lifecycle_.empty()) {
        message msg = std::move(lifecycle_.front());
        lifecycle_.pop_front();
        lock.unlock();
        const notify_result r = notifier_->send(msg);
        lock.lock();
        if (r.is_sent()) {
            ++stats_.lifecycle_sent;
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
        bool lifecycle_blocked = false;
        if (!lifecycle_.empty()) {
            lifecycle_blocked =
                clock::now() < lifecycle_retry_at_ || !send_lifecycle_locked(lock);
        }
        if (stop_) {
            // Last chance: a bounded retry for lifecycle messages, then the newest status.
            const auto give_up = clock::now() + final_delivery_budget;
            while (!send_lifecycle_locked(lock) && clock::now() < give_up) {
                lock.unlock();
                std::this_thread::sleep_for(lifecycle_retry);
                lock.lock();
            }
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

        // Sleep until the next thing that can become due. With nothing to wait for, go idle:
        // the next post_status() wakes us (that is the only wake-up a logging thread pays).
        auto deadline = clock::time_point::max();
        if (lifecycle_blocked) deadline = lifecycle_retry_at_;
        const auto sys_now = std::chrono::system_clock::now();
        if (status_pending_locked(sys_now)) {
            deadline = std::min(deadline, next_status_at_);
        } else if (sticky_active_locked(sys_now) && latest_ != sticky_) {
            // When the hold ends, the newest ordinary text takes over.
            const auto left = std::chrono::duration_cast<clock::duration>(
                sticky_time_ + options_.sticky_for - sys_now);
            deadline = std::min(deadline, clock::now() + left + std::chrono::milliseconds(1));
        }
        if (deadline == clock::time_point::max()) {
            idle_ = true;
            wake_.wait(lock, [&] { return !idle_ || stop_ || kick_; });
        } else {
            wake_.wait_until(lock, deadline, [&] { return stop_ || kick_; });
        }
        idle_ = false;
    }
}

}  // namespace spdlog_sdnotify
