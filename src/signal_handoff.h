// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The signal handlers' side of the sender: a handler sends at once on the pre-opened socket
// when nothing is ahead of its message in the ticket order; otherwise it hands the message over
// in its kind's slot (a stop, a RELOADING, the READY after SIGHUP) for the sender to take.
// Everything a handler touches is an atomic, the socket or the eventfd.

#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/notifier.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "lifecycle_messages.h"
#include "wakeup.h"

namespace spdlog_sdnotify {
namespace details {

// How long a final delivery, and a handler about to let the default action kill the process,
// may take.
constexpr auto final_budget = std::chrono::milliseconds(250);

class signal_handoff {
public:
    signal_handoff(notifier &n, wakeup &w) noexcept : notifier_(n), wakeup_(w) {}

    // In the handler (async-signal-safe). `wait`: the process is about to die, so wait for
    // the message to leave, final_budget at most.
    void from_signal(std::uint64_t ticket, signal_message kind, std::uint64_t monotonic_usec,
                     bool wait) noexcept;

    // The sender's side. The messages handed over, appended to `into` with their tickets, and
    // their places in the publication order (status_order() when the handler ran) to `places`.
    void take(std::vector<std::pair<std::uint64_t, message>> &into,
              std::vector<std::uint64_t> &places);
    // Messages sent out of order since the last call (their slot stayed taken).
    std::uint64_t take_out_of_order() noexcept { return out_of_order_.exchange(0); }
    // The lifecycle messages are delivered through `ticket`, STOPPING among them if `stopped`:
    // handlers may send by themselves again once nothing is ahead of them.
    void delivered(std::uint64_t ticket, bool stopped) noexcept;
    std::uint64_t delivered_through() const noexcept { return delivered_through_.load(); }
    bool stopping_sent() const noexcept { return stopping_sent_.load(); }
    std::uint64_t sent_by_handlers() const noexcept { return sent_by_handlers_.load(); }
    // A waiting handler's message is in a slot: deliver without min_interval, retry soon.
    bool urgent() const noexcept { return urgent_.load(); }
    void calm() noexcept { urgent_.store(false); }

private:
    // One per kind. The handler fills a free slot; the sender claims it, copies it, frees it.
    struct slot {
        enum : int { free, filling, pending, claimed };
        std::atomic<int> state{free};
        std::uint64_t ticket = 0;  // written while filling, read once claimed
        signal_message kind{};
        std::uint64_t monotonic_usec = 0;
        std::uint64_t place = 0;  // status_order() when the handler ran
    };
    bool send_now(const char *buf, std::size_t n, std::uint64_t ticket, bool stops) noexcept;

    notifier &notifier_;
    wakeup &wakeup_;
    slot slots_[3];  // stop, reloading, ready after SIGHUP
    std::atomic<std::uint64_t> delivered_through_{0};
    std::atomic<bool> stopping_sent_{false};
    std::atomic<bool> urgent_{false};
    std::atomic<std::uint64_t> sent_by_handlers_{0};
    std::atomic<std::uint64_t> out_of_order_{0};
};

}  // namespace details
}  // namespace spdlog_sdnotify
