// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "signal_handoff.h"

#include <spdlog_sdnotify/details/status_cells.h>

#include <errno.h>
#include <time.h>

namespace spdlog_sdnotify {
namespace details {
namespace {

void sleep_briefly(long nanoseconds) noexcept {
    timespec ts{0, nanoseconds};
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void signal_handoff::from_signal(std::uint64_t ticket, signal_message kind, std::uint64_t usec,
                                 bool wait) noexcept {
    const bool stops = kind == signal_message::stop_term || kind == signal_message::stop_int;
    char buf[128];
    const std::size_t n = build_signal_datagram(kind, usec, buf);
    // Nothing ahead of it: send now (a default action may kill the process next).
    if (delivered_through_.load() == ticket - 1 && send_now(buf, n, ticket, stops)) return;
    slot &e = slots_[stops ? 0 : kind == signal_message::reloading ? 1 : 2];
    const std::int64_t give_up = monotonic_ns() + std::chrono::nanoseconds(final_budget).count();
    // A message of the same kind not taken yet (SIGHUP twice before the sender ran): wait for
    // the sender to take it, bounded; then better out of order than lost.
    for (int expected = slot::free; !e.state.compare_exchange_strong(expected, slot::filling);
         expected = slot::free) {
        if (monotonic_ns() >= give_up) {
            (void)notifier_.send_signal_safe(buf, n);
            out_of_order_.fetch_add(1);
            wakeup_.wake();
            return;
        }
        wakeup_.wake();
        sleep_briefly(1000000);
    }
    e.kind = kind;
    e.monotonic_usec = usec;
    e.ticket = ticket;
    e.place = status_order().load();  // its text is newer than what was published so far
    e.state.store(slot::pending);
    if (wait) urgent_.store(true);
    wakeup_.wake();
    if (!wait) return;
    // The default action follows: give the sender a bounded time to send it in order (a stop
    // is sent once: its slot is not filled again meanwhile).
    while (monotonic_ns() < give_up) {
        if (delivered_through_.load() >= ticket) return;
        sleep_briefly(2000000);
    }
    int expected = slot::pending;
    if (e.state.compare_exchange_strong(expected, slot::free)) {
        // The sender never took it (it may be stuck behind the lock this thread holds).
        for (int i = 0; i < 5; ++i) {
            if (notifier_.send_signal_safe(buf, n) == 1) break;
            sleep_briefly(10000000);
        }
    }
}

bool signal_handoff::send_now(const char *buf, std::size_t n, std::uint64_t ticket,
                              bool stops) noexcept {
    if (notifier_.send_signal_safe(buf, n) != 1) return false;
    std::uint64_t expected = ticket - 1;
    delivered_through_.compare_exchange_strong(expected, ticket);
    if (stops) stopping_sent_.store(true);
    sent_by_handlers_.fetch_add(1);
    wakeup_.wake();
    return true;
}

void signal_handoff::take(std::vector<std::pair<std::uint64_t, message>> &into,
                          std::vector<std::uint64_t> &places) {
    for (auto &e : slots_) {
        int expected = slot::pending;
        if (!e.state.compare_exchange_strong(expected, slot::claimed)) continue;
        into.emplace_back(e.ticket, make_signal_message(e.kind, e.monotonic_usec));
        places.push_back(e.place);
        e.state.store(slot::free);
    }
}

void signal_handoff::delivered(std::uint64_t ticket, bool stopped) noexcept {
    std::uint64_t d = delivered_through_.load();
    while (d < ticket && !delivered_through_.compare_exchange_weak(d, ticket)) {
    }
    if (stopped) stopping_sent_.store(true);
}

}  // namespace details
}  // namespace spdlog_sdnotify
