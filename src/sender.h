// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The dispatcher's thread: it waits on one fd and the next deadline, takes what was asked
// (messages, options, signal hand-overs, the sinks' texts) into the policy, delivers what is
// due, and answers flush() and stop(). Its parts each own their state: wakeup, signal_handoff,
// reporter, delivery, send_policy.

#include <spdlog_sdnotify/details/status_cells.h>
#include <spdlog_sdnotify/details/status_source.h>
#include <spdlog_sdnotify/dispatcher.h>

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "delivery.h"
#include "lifecycle_messages.h"
#include "reporter.h"
#include "send_policy.h"
#include "signal_handoff.h"
#include "wakeup.h"

namespace spdlog_sdnotify {
namespace details {

// Members are grouped by who touches them (any thread, the thread only), not by size: one per
// process.
class sender {  // NOLINT(clang-analyzer-optin.performance.Padding)
public:
    // `idle` and `state_word` live in the dispatcher (read inline by sinks and the lifecycle).
    sender(notifier &n, dispatcher_options options, std::atomic<bool> &idle,
           std::atomic<std::uint64_t> &state_word);
    ~sender();

    void start();
    void stop();
    // fork(): a child never takes a lock that a thread of its parent may have held. Every
    // entry point returns at once in a child, which also leaks the sender rather than destroy
    // mutexes and condition variables the parent's threads may have been using at fork time.
    bool forked() const noexcept { return ::getpid() != owner_pid_; }

    // Any thread.
    void post_status(std::string_view text, bool sticky,
                     std::chrono::system_clock::time_point when);
    void post(std::uint64_t ticket, message msg);
    void post(message msg);  // of no state change: its ticket only orders it
    void failure(message msg);
    void set_options(dispatcher_options o);
    void set_keepalive(const keepalive_config &k, std::function<bool()> healthy);
    void diagnose(std::string what);
    void set_periodic(std::function<void()> check);
    void report(std::error_code ec, std::string_view what);
    // `with_barrier`: the final delivery, which ends with a barrier so that the receiver is
    // known to have processed it.
    bool flush(std::chrono::milliseconds timeout, bool with_barrier);
    void add_source(status_source *s);
    void remove_source(status_source *s);
    // A callback of the application threw on the logging thread: counted, said once per kind
    // by the thread (reporter::callback_failed()).
    void callback_failed(callback which) noexcept {
        if (reporter_.callback_failed(which)) wakeup_.wake_if_idle();
    }
    void progress() noexcept { set_once(progress_); }
    void alive() noexcept { set_once(alive_); }
    dispatcher::counters stats() const;

    wakeup &wakeups() noexcept { return wakeup_; }
    signal_handoff &signals() noexcept { return handoff_; }

private:
    using steady = std::chrono::steady_clock;
    // A flush() or stop() in progress, as the thread saw it at the top of a round.
    struct flush_request {
        bool active = false;  // something waits for the delivery
        bool stopping = false;
        bool with_barrier = false;
        std::uint64_t requested = 0;
        steady::time_point deadline{};
    };
    // How long to sleep, and whether a logging thread must wake us before that (idle).
    struct sleep_plan {
        steady::time_point until;
        bool idle;
    };
    // A flag read and cleared by the thread; set with no write while it is already set.
    static void set_once(std::atomic<bool> &flag) noexcept {
        if (!flag.load(std::memory_order_relaxed)) flag.store(true, std::memory_order_relaxed);
    }
    template <typename F>
    void request(F &&change) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            change();
        }
        wakeup_.wake();
    }
    std::uint64_t next_ticket() noexcept;
    void enqueue(std::uint64_t ticket, message msg);
    void run();
    void take_requests(steady::time_point now);
    flush_request pending_flush();
    void deliver(bool final);
    bool handle_flush(const flush_request &f, steady::time_point now);
    sleep_plan plan_sleep(steady::time_point now, bool urgent) const;
    bool go_idle(steady::time_point now);
    void intake(steady::time_point now);
    bool collect(steady::time_point now);
    void merge(const status_slot &slot);
    void feed_status(steady::time_point now);
    void answer_flush(std::uint64_t requested, bool ok);

    // ------------------------------------------------------------------ any thread
    std::atomic<std::uint64_t> &state_word_;
    const pid_t owner_pid_;
    wakeup wakeup_;
    signal_handoff handoff_;
    reporter reporter_;
    mutable std::mutex mutex_;  // the requests below, up to the atomics
    std::condition_variable flushed_;
    dispatcher_options options_;
    bool options_changed_ = true;
    std::vector<std::pair<std::uint64_t, message>> inbox_;
    std::optional<message> inbox_failure_;
    // Where each lifecycle text sits among the published status texts: status_order() when it
    // was posted (the display rule compares them: src/status_merge.h).
    std::vector<std::uint64_t> inbox_places_;
    std::uint64_t inbox_failure_place_ = 0;
    keepalive_config keepalive_;
    std::function<bool()> healthy_;
    bool keepalive_changed_ = false;
    status_slot own_;  // post_status()
    std::function<void()> periodic_;
    bool periodic_changed_ = false;
    std::uint64_t flush_requested_ = 0;
    std::uint64_t flush_answered_ = 0;
    bool flush_ok_ = false;
    steady::time_point flush_deadline_{};
    bool flush_barrier_ = false;
    bool stop_ = false;
    std::uint64_t max_queued_ = 0;
    std::atomic<bool> progress_{false};
    std::atomic<bool> alive_{false};

    struct source_entry {
        status_source *source;
        std::uint64_t seen;
        std::uint64_t errors = 0, warnings = 0;  // the summary's counts, as last pulled
        std::chrono::seconds window{0};
    };
    mutable std::mutex sources_mutex_;  // lock order: sources_mutex_, mutex_
    std::vector<source_entry> sources_;
    status_slot scratch_;
    std::uint64_t removed_posted_ = 0;
    std::uint64_t removed_errors_ = 0, removed_warnings_ = 0;
    // The merged view of every source (under sources_mutex_).
    status_slot merged_;
    std::uint64_t merged_seq_ = 0;
    std::uint64_t own_seen_ = 0;

    // ------------------------------------------------------------------ the thread only
    send_policy policy_;
    delivery delivery_;
    std::function<bool()> thread_healthy_;
    std::function<void()> thread_periodic_;
    steady::time_point next_periodic_ = steady::time_point::max();
    steady::time_point last_change_{};  // when collect() last found a record published
    std::chrono::milliseconds thread_min_interval_{500};
    bool thread_redacts_ = false;
    std::uint64_t fed_seq_ = 0;
    std::thread thread_;
};

}  // namespace details
}  // namespace spdlog_sdnotify
