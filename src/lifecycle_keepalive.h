// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The timers the lifecycle asks for: WATCHDOG=1 (interval and what proves the service alive)
// and EXTEND_TIMEOUT_USEC (step and cap). The timers themselves run in send_policy, on the
// dispatcher's thread; this only says how they are set.

#include <spdlog_sdnotify/lifecycle.h>

#include <chrono>
#include <optional>

#include "send_policy.h"

namespace spdlog_sdnotify {
namespace details {

class lifecycle_keepalive {
public:
    lifecycle_keepalive() = default;  // not under systemd: no timers
    // `watchdog_interval`: WATCHDOG_USEC, if it applies to this process.
    lifecycle_keepalive(const lifecycle_config &c,
                        std::optional<std::chrono::microseconds> watchdog_interval) noexcept
        : watchdog_on_(c.watchdog && watchdog_interval.has_value()) {
        if (watchdog_on_) plan_.watchdog_interval = watchdog_interval;
        plan_.proof = c.healthy      ? watchdog_proof::healthy
                      : c.alive_when ? watchdog_proof::records
                                     : watchdog_proof::timer;
        plan_.trigger_when_unhealthy = c.trigger_when_unhealthy;
        plan_.extend = c.extend_timeout;
        plan_.extend_limit = c.extend_timeout_limit;
    }

    const keepalive_config &plan() const noexcept { return plan_; }
    bool watchdog_on() const noexcept { return watchdog_on_; }
    // Pings that prove only that the process is scheduled: allowed (a quiet service must not
    // be killed by a default), but said.
    bool timer_only() const noexcept {
        return plan_.watchdog_interval && plan_.proof == watchdog_proof::timer;
    }

private:
    keepalive_config plan_;
    bool watchdog_on_ = false;
};

}  // namespace details
}  // namespace spdlog_sdnotify
