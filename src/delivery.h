// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// Sending what the policy says is due, on the sender's thread: each text redacted once however
// often it is retried, the same STATUS not sent twice, the final barrier, what was sent counted.

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/notifier.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "reporter.h"
#include "send_policy.h"
#include "signal_handoff.h"

namespace spdlog_sdnotify {
namespace details {

class delivery {
public:
    delivery(notifier &n, signal_handoff &handoff, reporter &r) noexcept
        : notifier_(n), handoff_(handoff), reporter_(r) {}

    void use(std::function<std::string(std::string_view)> redact) { redact_ = std::move(redact); }
    // Sends what `policy` has due now (`final`: ignoring min_interval) until it has nothing
    // more or the receiver asks to wait; `healthy` answers the policy's health checks.
    void send_due(send_policy &policy, bool final, const std::function<bool()> &healthy);
    // A barrier, unless nothing was sent since the last one; by `deadline`.
    void barrier(std::chrono::steady_clock::time_point deadline);
    // Any thread.
    void add_counts(dispatcher::counters &c) const noexcept;

private:
    notify_result send_status(const std::string &text, send_policy::outcome &out);
    void count(send_policy::item_type what) noexcept;
    std::uint64_t sent() const noexcept;

    notifier &notifier_;
    signal_handoff &handoff_;
    reporter &reporter_;
    std::function<std::string(std::string_view)> redact_;
    std::string redact_source_, redact_result_;
    bool redact_cached_ = false;
    std::string last_status_datagram_;
    bool barrier_sent_ = false;
    std::uint64_t sent_at_barrier_ = 0;  // datagrams sent when the last barrier was
    std::atomic<std::uint64_t> status_sent_{0}, lifecycle_sent_{0}, watchdog_sent_{0},
        extend_sent_{0}, barriers_{0};
};

}  // namespace details
}  // namespace spdlog_sdnotify
