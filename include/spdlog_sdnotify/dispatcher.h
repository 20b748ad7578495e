// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <spdlog_sdnotify/details/status_source.h>
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/notifier.h>

#include <spdlog/common.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace spdlog_sdnotify {

/// Called on the dispatcher's thread when a send fails (never for "not under systemd"), never
/// under a sink's lock. `suppressed` counts the failures not reported since the previous call.
using error_handler =
    std::function<void(std::error_code error, std::string_view what, std::uint64_t suppressed)>;

struct dispatcher_options {
    /// At most one STATUS per min_interval; the newest text always arrives within it. 500 ms:
    /// people read it, each change costs PID 1 a D-Bus signal, and a 10 messages/s limit is
    /// proposed for PID 1 (systemd PR#40559).
    std::chrono::milliseconds min_interval{500};
    /// A record at or above sticky_level keeps the status this long, so the next info line
    /// does not hide the error from the operator. A newer error replaces it at once.
    std::chrono::milliseconds sticky_for{std::chrono::seconds(30)};
    /// Which records are sticky, for every status sink of this dispatcher; off: none.
    spdlog::level::level_enum sticky_level = spdlog::level::err;
    /// Rewrites a text before it is sent (StatusText is readable by every local user), once per
    /// text, on the dispatcher's thread. A lifecycle message does not wait for it: its text
    /// follows as a STATUS of its own.
    std::function<std::string(std::string_view)> redact;
    /// Failures, at most one call per second, on the dispatcher's thread. A receiver that is
    /// full or away is reported once per outage (the failures meanwhile come as `suppressed`
    /// with the next call); an unusable NOTIFY_SOCKET (errc::fd_number_address, ...) only once.
    error_handler on_error;
    /// Without on_error, the same reports go to stderr (the journal, for a service), at most one
    /// line a minute: "spdlog_sdnotify: error: sending STATUS: Connection refused (3 more ...)".
    bool errors_to_stderr = true;
};

namespace details {
class sender;
struct lifecycle_link;
}  // namespace details

/**
 * The one sender of a process. Every datagram leaves through its thread: lifecycle messages
 * exactly once, in the order the application caused them, then WATCHDOG / EXTEND_TIMEOUT_USEC,
 * then STATUS coalesced and rate-limited. Outside systemd it starts no thread and every call
 * returns at once.
 *
 *     spdlog_sdnotify::dispatcher_options options;
 *     options.min_interval = std::chrono::seconds(1);
 *     spdlog_sdnotify::configure_default_dispatcher(options);
 *     auto d = spdlog_sdnotify::dispatcher::default_instance();
 */
class SPDLOG_SDNOTIFY_API dispatcher {
public:
    explicit dispatcher(std::shared_ptr<spdlog_sdnotify::notifier> notifier,
                        dispatcher_options options = {});
    /// Delivers what is pending (ignoring min_interval, at most about 250 ms, ending with a
    /// barrier) and stops the thread.
    ~dispatcher();
    dispatcher(const dispatcher &) = delete;
    dispatcher &operator=(const dispatcher &) = delete;

    /// The process-wide dispatcher over default_notifier(), made on first use.
    static std::shared_ptr<dispatcher> default_instance();

    void set_options(dispatcher_options options);
    /// dispatcher_options::sticky_level as last set.
    spdlog::level::level_enum sticky_level() const noexcept {
        return sticky_level_.load(std::memory_order_relaxed);
    }
    bool enabled() const noexcept { return enabled_; }
    const std::shared_ptr<spdlog_sdnotify::notifier> &notifier() const noexcept {
        return notifier_;
    }

    /// Makes `text` the latest status, for producers other than a sink. `sticky`: it holds for
    /// sticky_for against later non-sticky texts.
    void post_status(std::string_view text, bool sticky,
                     std::chrono::system_clock::time_point when) noexcept;

    /// Queues a message: sent after every lifecycle message queued before it, retried while the
    /// receiver is full or away. After STOPPING=1, READY, RELOADING and WATCHDOG are left out.
    void post(message msg) noexcept;

    /// Sends everything pending now, ignoring min_interval; waits at most `timeout`. True if
    /// nothing was left pending. Returns at once in a forked child.
    bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(250)) noexcept;

    /// Reports a failure through on_error (rate-limited, on the dispatcher's thread).
    void report(std::error_code error, std::string_view what) noexcept;

    /// True once a STOPPING=1 has been sent (by any path).
    bool stopping() const noexcept;

    /// Counters for tests and diagnostics.
    struct counters {
        std::uint64_t posted = 0;          // texts posted by sinks and post_status()
        std::uint64_t status_sent = 0;     // STATUS datagrams that went out
        std::uint64_t lifecycle_sent = 0;  // lifecycle datagrams that went out (any path)
        std::uint64_t watchdog_sent = 0;   // WATCHDOG=1 / trigger datagrams
        std::uint64_t extend_sent = 0;     // EXTEND_TIMEOUT_USEC datagrams
        std::uint64_t failures = 0;        // failed sends and reported errors
        std::uint64_t wakeups = 0;         // times a logging thread woke the dispatcher
        std::uint64_t max_queued = 0;      // the most lifecycle messages ever waiting at once
        std::uint64_t barriers = 0;        // barriers the receiver answered
    };
    counters stats() const;

private:
    friend struct details::dispatcher_access;
    friend struct details::lifecycle_link;
    void wake() noexcept;
    // The sender, unless there is none or this is a forked child (which must not send).
    details::sender *live() const noexcept;

    std::shared_ptr<spdlog_sdnotify::notifier> notifier_;
    const bool enabled_;
    // Set while the thread waits longer than min_interval: a new text must wake it.
    std::atomic<bool> idle_{false};
    std::atomic<spdlog::level::level_enum> sticky_level_{spdlog::level::err};
    // (ticket << 2) | state: one compare-and-swap (also in a signal handler) does both.
    std::atomic<std::uint64_t> state_word_{0};
    // On the heap: a forked child leaks it rather than destroy locks its parent's threads held.
    std::unique_ptr<details::sender> impl_;
};

/// Sets the options of dispatcher::default_instance() (once, at set-up).
SPDLOG_SDNOTIFY_API void configure_default_dispatcher(dispatcher_options options);

namespace details {
inline void dispatcher_access::source_changed(dispatcher &d) noexcept {
    // The cell was claimed by a sequentially consistent compare-and-swap, so this load cannot
    // read "not idle" from before the sender's last look at the cells (Dekker).
    if (d.idle_.load(std::memory_order_seq_cst)) d.wake();
}
inline const std::atomic<spdlog::level::level_enum> &dispatcher_access::sticky_level(
    const dispatcher &d) noexcept {
    return d.sticky_level_;
}
}  // namespace details

}  // namespace spdlog_sdnotify
