// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// How a logging thread wakes a sleeping sender, and nothing is missed (docs/design.md, "No lost
// wake-up"): the sender announces its sleep in the idle flag, then looks at the sources once
// more; a writer publishes, then reads the flag and writes the eventfd only if it was set.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace spdlog_sdnotify {
namespace details {

class wakeup {
public:
    // `idle` lives in the dispatcher, where a sink's per-record check reads it inline.
    explicit wakeup(std::atomic<bool> &idle) noexcept;
    ~wakeup();
    wakeup(const wakeup &) = delete;
    wakeup &operator=(const wakeup &) = delete;

    // Any thread, a signal handler too (async-signal-safe).
    void wake() noexcept;
    // After a publication: the only syscall a logging thread makes for us, and only while we
    // sleep.
    void wake_if_idle() noexcept {
        if (idle_.exchange(false)) {
            wakeups_.fetch_add(1, std::memory_order_relaxed);
            wake();
        }
    }
    // The sender's side: announced (sequentially consistent) before its last look.
    void going_idle() noexcept { idle_.store(true); }
    void awake() noexcept { idle_.store(false); }
    // Until woken or `until` (max: no deadline).
    void wait(std::chrono::steady_clock::time_point until) noexcept;
    std::uint64_t wakeups() const noexcept { return wakeups_.load(); }

private:
    std::atomic<bool> &idle_;
    std::atomic<std::uint64_t> wakeups_{0};
    int efd_ = -1;
};

}  // namespace details
}  // namespace spdlog_sdnotify
