// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The sender's diagnostics and failures: each said once, to on_error (at most once a second) or
// to stderr (once a minute), always from the sender's thread. A lasting outage and an unusable
// NOTIFY_SOCKET are said once, not once an interval.

#include <spdlog_sdnotify/details/status_source.h>
#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/notifier.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace spdlog_sdnotify {
namespace details {

// Failures that waiting can cure: the receiver's queue is full, or it is away (restarting, not
// bound yet). Anything else (a message that cannot be built, a forked child) is final.
bool retryable(std::error_code ec) noexcept;

class reporter {
public:
    explicit reporter(const notifier &n) noexcept : notifier_(n) {}

    // Any thread: queued for the sender's thread, which the caller wakes.
    void report(std::error_code ec, std::string_view what);
    // A wiring mistake, said once by its caller: never rate-limited away.
    void diagnose(std::string what, std::error_code ec = errc::wiring);
    std::uint64_t failures() const;
    // A callback of the application threw on the logging thread: one relaxed add, no lock.
    // True for the first failure of its kind (the caller wakes an idle sender, once).
    bool callback_failed(callback which) noexcept {
        return callback_failures_[static_cast<int>(which)].fetch_add(
                   1, std::memory_order_relaxed) == 0;
    }

    // The sender's thread.
    void use(error_handler on_error, bool to_stderr);
    void deliver();
    void failed(std::error_code ec, const char *what);
    void got_through() noexcept { outage_ = {}; }
    // The callbacks' new failures into failures(); the first of each kind queued to be said,
    // with how often so far. True if one was queued (deliver() says it).
    bool count_callback_failures();

private:
    bool emit(std::error_code ec, std::string_view what);

    const notifier &notifier_;
    mutable std::mutex mutex_;  // the fields up to the next comment
    std::uint64_t failures_ = 0;
    std::uint64_t reports_waiting_ = 0;
    std::error_code report_error_;
    std::string report_what_;
    struct diagnostic {
        std::error_code ec;
        std::string what;
    };
    std::vector<diagnostic> diagnostics_;
    // The sender's thread only.
    error_handler on_error_;
    bool to_stderr_ = true;
    std::chrono::steady_clock::time_point last_report_{};
    std::error_code outage_;  // said once and failing since (cleared by a send that got through)
    std::uint64_t suppressed_ = 0;
    std::atomic<std::uint64_t> callback_failures_[3] = {};  // by callback, any thread
    std::uint64_t callback_counted_[3] = {};                // callback_failures_ as last seen
};

}  // namespace details
}  // namespace spdlog_sdnotify
