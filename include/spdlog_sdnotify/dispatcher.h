// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/notifier.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace spdlog_sdnotify {

/// Called on the dispatcher's thread when a send fails (never for "not under systemd").
/// `suppressed` counts the failures not reported since the previous call (rate limit).
using error_handler =
    std::function<void(std::error_code error, std::string_view what, std::uint64_t suppressed)>;

struct dispatcher_options {
    /// At most one STATUS per min_interval. 500 ms keeps STATUS at 2 a second: `systemctl
    /// status` is read by people, each change costs PID 1 a D-Bus PropertiesChanged, and the
    /// 10 messages/s per cgroup limit proposed for PID 1 (systemd PR#40559) leaves room for
    /// READY/STOPPING/WATCHDOG. The newest text always arrives within min_interval.
    std::chrono::milliseconds min_interval{500};
    /// A record at the sink's sticky level (err by default) keeps the status this long, so the
    /// next info line does not hide the error from the operator. A newer error replaces it.
    std::chrono::milliseconds sticky_for{std::chrono::seconds(30)};
    /// Rewrites a text before it is sent (StatusText is readable by every local user). Runs on
    /// the dispatcher's thread, only for the texts actually sent, so it may be slow.
    std::function<std::string(std::string_view)> redact;
    /// Failures, at most one call per second.
    error_handler on_error;
};

/**
 * The newest status of one source: its latest text and its latest sticky (error) text, with
 * their record times. Capacity is reserved once, so that posting never allocates.
 */
struct status_slot {
    std::string latest;
    std::chrono::system_clock::time_point latest_time{};
    std::string sticky;
    std::chrono::system_clock::time_point sticky_time{};
    bool has_sticky = false;
    std::uint64_t seq = 0;  // bumped by every put()

    /// Longest text kept (longer ones are cut): PID 1 keeps at most 4096 bytes anyway.
    static constexpr std::size_t max_text = 2 * max_datagram_size;

    void reserve() {
        latest.reserve(max_text);
        sticky.reserve(max_text);
    }
    void put(std::string_view text, bool is_sticky, std::chrono::system_clock::time_point when) {
        text = text.substr(0, max_text);
        latest.assign(text.data(), text.size());  // within the reserved capacity
        latest_time = when;
        if (is_sticky) {
            sticky.assign(text.data(), text.size());
            sticky_time = when;
            has_sticky = true;
        }
        ++seq;
    }
};

/**
 * A producer of status texts that keeps its own status_slot under its own lock (a status_sink:
 * the lock spdlog already takes for the record), so the logging thread takes no other lock.
 * The dispatcher pulls from it.
 */
class status_source {
public:
    /// Under the source's lock: if its slot changed since `seen`, copy it into `into`, update
    /// `seen` and return true.
    virtual bool pull(status_slot &into, std::uint64_t &seen) = 0;
    /// Under the source's lock: how many texts it has posted.
    virtual std::uint64_t posted() = 0;

protected:
    ~status_source() = default;
};

/**
 * The one sender of a process: takes the latest status from sinks (a latest-wins slot, no
 * syscall and no allocation on the logging thread) and lifecycle messages from the lifecycle
 * helper, and sends them from its own thread: lifecycle first, STATUS coalesced and rate-limited.
 * Outside systemd it starts no thread and every call returns at once.
 *
 *     spdlog_sdnotify::configure(spdlog_sdnotify::dispatcher_options{std::chrono::seconds(1)});
 *     auto d = spdlog_sdnotify::dispatcher::default_instance();
 */
class dispatcher {
public:
    explicit dispatcher(std::shared_ptr<notifier> notifier, dispatcher_options options = {});
    /// Delivers what is pending (ignoring min_interval) and stops the thread.
    ~dispatcher();
    dispatcher(const dispatcher &) = delete;
    dispatcher &operator=(const dispatcher &) = delete;

    /// The process-wide dispatcher over default_notifier(), made on first use.
    static std::shared_ptr<dispatcher> default_instance();

    void set_options(dispatcher_options options);
    bool enabled() const noexcept { return enabled_; }
    const std::shared_ptr<notifier> &get_notifier() const noexcept { return notifier_; }

    /**
     * Makes `text` the latest status (for producers other than a sink; a status_sink writes
     * its own slot). Copies it (texts longer than status_slot::max_text are cut) and wakes the
     * thread only if it is idle. `sticky`: the text holds for sticky_for against later
     * non-sticky ones.
     */
    void post_status(std::string_view text, bool sticky,
                     std::chrono::system_clock::time_point when) noexcept;

    /// A source to pull from, until remove_source(). No-op when not enabled().
    void add_source(status_source *source);
    /// Takes the source's last text (so a pending status outlives it), then forgets it.
    void remove_source(status_source *source) noexcept;

    /**
     * Logging-thread side, after a source's slot changed (under its lock): one atomic load,
     * and a wake-up only when the thread is idle.
     */
    void source_changed() noexcept {
        if (idle_.load(std::memory_order_seq_cst)) wake_from_source();
    }

    /// Queues a lifecycle message (READY, STOPPING, ...): sent before any pending STATUS, never
    /// dropped for a STATUS, retried on EAGAIN. Once a STOPPING=1 has been sent (or
    /// mark_stopping() called), READY, RELOADING and WATCHDOG are left out of what follows:
    /// only status information (STATUS, ERRNO, EXIT_STATUS) and EXTEND_TIMEOUT_USEC go.
    void post(message msg) noexcept;

    /// Records that STOPPING=1 went out by another way (a signal handler). Async-signal-safe.
    void mark_stopping() noexcept { stopping_.store(true); }
    bool stopping() const noexcept { return stopping_.load(); }

    /**
     * Sends everything pending now, ignoring min_interval, and waits at most `timeout` for it.
     * Returns true if nothing was left pending.
     */
    bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(200)) noexcept;

    /// Reports a failure through on_error (rate-limited), from any thread.
    void report(std::error_code error, std::string_view what) noexcept;

    /// Counters for tests and diagnostics.
    struct stats {
        std::uint64_t posted = 0;          // post_status() calls
        std::uint64_t status_sent = 0;     // STATUS datagrams that went out
        std::uint64_t lifecycle_sent = 0;  // lifecycle datagrams that went out
        std::uint64_t failures = 0;        // failed sends
        std::uint64_t wakeups = 0;         // times a logging thread woke the dispatcher
    };
    stats get_stats() const;

private:
    using clock = std::chrono::steady_clock;
    void run();
    bool forked() const noexcept;
    void wake_from_source() noexcept;
    bool collect();  // pulls every source; true if anything new came
    void merge_locked(const status_slot &slot, const void *from);
    void deliver_status(std::unique_lock<std::mutex> &lock, bool final_delivery);
    bool sticky_active_locked(std::chrono::system_clock::time_point now) const;
    const std::string &display_locked(std::chrono::system_clock::time_point now) const;
    bool status_pending_locked(std::chrono::system_clock::time_point now) const;
    bool send_lifecycle_locked(std::unique_lock<std::mutex> &lock);
    void report_locked(std::unique_lock<std::mutex> &lock, std::error_code error,
                       std::string_view what);

    std::shared_ptr<notifier> notifier_;
    const bool enabled_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable delivered_;
    dispatcher_options options_;

    // The merged view of every source: the newest text and the newest sticky text.
    status_slot merged_;
    const void *latest_from_ = nullptr;  // the source of merged_.latest (this: post_status)
    std::uint64_t own_posted_ = 0;       // post_status() calls
    std::uint64_t removed_posted_ = 0;   // posts of sources since removed

    // Sources and what was last pulled from each. Lock order: sources_mutex_, then a source's
    // lock, then mutex_ (a logging thread holds its sink's lock when it wakes us).
    struct source_entry {
        status_source *source;
        std::uint64_t seen;
    };
    mutable std::mutex sources_mutex_;
    std::vector<source_entry> sources_;
    status_slot scratch_;  // under sources_mutex_

    std::deque<message> lifecycle_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> idle_{false};  // waiting with no deadline: a change must wake us
    bool wake_requested_ = false;
    bool kick_ = false;  // something other than a status arrived: look now
    bool flush_requested_ = false;
    bool stop_ = false;

    // Dispatcher-thread state (under mutex_ too, for get_stats() and flush()).
    std::string delivered_source_;  // the slot text last taken for sending
    bool source_valid_ = false;     // false: nothing taken yet, or the last send failed
    std::string last_datagram_;     // the last STATUS datagram that went out
    clock::time_point next_status_at_{};
    clock::time_point lifecycle_retry_at_{};
    stats stats_;

    // Error reporting rate limit.
    clock::time_point last_report_{};
    std::uint64_t suppressed_ = 0;

    pid_t owner_pid_;
    // A pointer, so that a forked child (which has no such thread) can leave it alone at exit.
    std::unique_ptr<std::thread> thread_;
};

/// Sets the options of the process-wide dispatcher (call once at setup).
void configure(dispatcher_options options);

}  // namespace spdlog_sdnotify
