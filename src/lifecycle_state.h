// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The lifecycle, composed of its parts: the validated settings, the rule set, the message
// builder and the keep-alive plan. What it adds is the wiring: a match moves the state word
// (link::transition) and posts the message with the ticket that move returned.

#include <spdlog_sdnotify/lifecycle.h>

#include <spdlog/logger.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "lifecycle_keepalive.h"
#include "lifecycle_link.h"
#include "lifecycle_messages.h"
#include "lifecycle_rules.h"
#include "lifecycle_settings.h"

namespace spdlog_sdnotify {
namespace details {

constexpr unsigned state_bits(std::initializer_list<lifecycle::state> states) noexcept {
    unsigned mask = 0;
    for (auto s : states) mask |= state_bit(s);
    return mask;
}

// CLOCK_MONOTONIC in nanoseconds (async-signal-safe): when a reload began.
std::int64_t monotonic_now_ns() noexcept;

struct lifecycle_state {
    using link = lifecycle_link;

    explicit lifecycle_state(lifecycle_config c) : settings(std::move(c)), rules(settings) {}

    // The shared half of a state change: the compare-and-swap, then the message in its place.
    template <typename Build>
    bool change(unsigned from_mask, lifecycle::state to, Build build) {
        const auto ticket = link::transition(*target, from_mask, to);
        if (ticket == 0) return false;
        link::post(*target, ticket, build());
        return true;
    }
    bool to_ready(std::string_view text) {
        return change(state_bits({lifecycle::state::starting, lifecycle::state::reloading}),
                      lifecycle::state::ready,
                      [&] { return lifecycle_messages::ready(text, keepalive.watchdog_on()); });
    }
    bool to_reloading(std::string_view text) {
        reload_began_ns.store(monotonic_now_ns());  // before the state says "reloading"
        return change(state_bits({lifecycle::state::ready}), lifecycle::state::reloading,
                      [&] { return lifecycle_messages::reloading(text); });
    }
    bool to_stopping(std::string_view text) {
        return change(state_bits({lifecycle::state::starting, lifecycle::state::ready,
                                  lifecycle::state::reloading}),
                      lifecycle::state::stopping,
                      [&] { return lifecycle_messages::stopping(text); });
    }

    // What the rule set asks for, done (lifecycle_rules::apply's `Actions`). The rare ones are
    // kept out of line: inlined, their message building weighs on every record's rule test.
    struct actions {
        lifecycle_state &self;
        void progress() noexcept { link::progress(*self.target); }
        void alive() noexcept { link::alive(*self.target); }
        [[gnu::noinline]] void ready(std::string_view text) { self.to_ready(text); }
        [[gnu::noinline]] void reloading(std::string_view text) { self.to_reloading(text); }
        [[gnu::noinline]] void stopping(std::string_view text) { self.to_stopping(text); }
        [[gnu::noinline]] void failure(const spdlog::details::log_msg &msg) {
            link::failure(*self.target,
                          lifecycle_messages::failure(msg, self.settings.config().failure_errno));
        }
    };
    void on_record(const spdlog::details::log_msg &msg) {
        if (closed.load(std::memory_order_relaxed)) return;
        actions act{*this};
        rules.apply(msg, link::state(*state_word), act);
    }

    lifecycle::state get() const noexcept { return link::state(*target); }
    const lifecycle_config &config() const noexcept { return settings.config(); }

    // The loggers given to attach() (on the application's threads). The wiring check reads
    // this list, the registry's names and the loggers' levels, never a logger's sinks (which
    // spdlog does not guard: reading them from our thread would race with the application).
    void remember(const std::shared_ptr<spdlog::logger> &logger) {
        std::lock_guard<std::mutex> lock(attached_mutex);
        attached.erase(std::remove_if(attached.begin(), attached.end(),
                                      [](const auto &w) { return w.expired(); }),
                       attached.end());
        if (!was_attached_locked(logger)) attached.push_back(logger);
    }
    bool was_attached(const std::shared_ptr<spdlog::logger> &logger) const {
        std::lock_guard<std::mutex> lock(attached_mutex);
        return was_attached_locked(logger);
    }

    const lifecycle_settings settings;
    const lifecycle_rules rules;
    lifecycle_keepalive keepalive;  // set once at construction, under systemd only
    std::shared_ptr<dispatcher> target;
    const std::atomic<std::uint64_t> *state_word = nullptr;  // target's, one load per record
    std::optional<std::chrono::microseconds> watchdog_interval;
    std::atomic<bool> closed{false};
    bool handles_signals = false;
    // When the current (or last) reload began, CLOCK_MONOTONIC ns; set by the rule's path and
    // by the SIGHUP handler, before the state word changes.
    std::atomic<std::int64_t> reload_began_ns{0};

private:
    bool was_attached_locked(const std::shared_ptr<spdlog::logger> &logger) const {
        for (const auto &w : attached)
            if (!w.owner_before(logger) && !logger.owner_before(w)) return true;
        return false;
    }
    mutable std::mutex attached_mutex;
    std::vector<std::weak_ptr<spdlog::logger>> attached;
};

}  // namespace details
}  // namespace spdlog_sdnotify
