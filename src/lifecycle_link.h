// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// What the lifecycle helper (and its signal handlers) needs from the dispatcher: the service
// state and the order of lifecycle messages live in one atomic word there, so that a message's
// place in the order is fixed by the same compare-and-swap that changes the state.

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/lifecycle.h>

#include <cstdint>
#include <functional>

#include "lifecycle_messages.h"
#include "send_policy.h"

namespace spdlog_sdnotify {
namespace details {

constexpr unsigned state_bit(lifecycle::state s) noexcept { return 1U << static_cast<unsigned>(s); }

struct lifecycle_link {
    // Moves the service state from one of the states in `from_mask` to `to`. Returns the new
    // message's ticket (its place in the order), or 0 if the state was none of them.
    // Async-signal-safe.
    static std::uint64_t transition(dispatcher &d, unsigned from_mask,
                                    lifecycle::state to) noexcept;
    // The word that holds the state (read for every record: the lifecycle keeps its address).
    static const std::atomic<std::uint64_t> &state_word(const dispatcher &d) noexcept {
        return d.state_word_;
    }
    static lifecycle::state state(const std::atomic<std::uint64_t> &word) noexcept {
        return static_cast<lifecycle::state>(word.load() & 3U);
    }
    static lifecycle::state state(const dispatcher &d) noexcept { return state(state_word(d)); }
    // A lifecycle message whose ticket came from transition().
    static void post(dispatcher &d, std::uint64_t ticket, message m) noexcept;
    // From a signal handler (async-signal-safe): sends at once if nothing is ahead in the order,
    // otherwise hands the message to the dispatcher's thread. `wait`: the process is about to
    // die (the default action follows), so wait for the message to leave, about 250 ms at most.
    static void from_signal(dispatcher &d, std::uint64_t ticket, signal_message kind,
                            std::uint64_t monotonic_usec, bool wait) noexcept;
    static void failure(dispatcher &d, message m) noexcept;
    static void set_keepalive(dispatcher &d, const keepalive_config &k,
                              std::function<bool()> healthy);
    // Evidence from the application's records, lock-free: the thread reads and clears them.
    static void progress(dispatcher &d) noexcept;
    static void alive(dispatcher &d) noexcept;
    // A wiring mistake: reported once, on the dispatcher's thread, to on_error or stderr (never
    // rate-limited away: each is said once by its caller).
    static void diagnose(dispatcher &d, std::string what) noexcept;
    // `check` runs on the dispatcher's thread about once a second (null: none).
    static void set_periodic(dispatcher &d, std::function<void()> check);
    // Everything pending out now, ending with a barrier (about 250 ms at most): the program
    // may end next. At once in a forked child.
    static bool final_delivery(dispatcher &d) noexcept;
    // The process that made the dispatcher (a forked child must not send).
    static bool forked(const dispatcher &d) noexcept;
};

}  // namespace details
}  // namespace spdlog_sdnotify
