// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/details/status_cells.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "controls.h"
#include "lifecycle_link.h"
#include "quiet_thread.h"
#include "stderr_report.h"

namespace spdlog_sdnotify {
namespace details {
class sender;
namespace {

using steady = std::chrono::steady_clock;
constexpr auto report_interval = std::chrono::seconds(1);
// How long a final delivery (destruction, a sink removed at shutdown) and a signal handler that
// is about to let the default action kill the process may take.
constexpr auto final_budget = std::chrono::milliseconds(250);
constexpr auto urgent_retry = std::chrono::milliseconds(10);

// Failures that waiting can cure: the receiver's queue is full, or it is away (restarting,
// not bound yet). Anything else (a message that cannot be built, a forked child) is final.
bool retryable(std::error_code ec) noexcept {
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
        case EAGAIN:
        case ENOBUFS:
        case ENOMEM:
        case EINTR:
        case ECONNREFUSED:
        case ECONNRESET:
        case ENOTCONN:
        case ENOENT:
        case EPIPE:
        case ETIMEDOUT:
        case EMFILE:
        case ENFILE:
            return true;
        default:
            return false;
    }
}

send_policy::outcome outcome_of(const notify_result &r) noexcept {
    if (!r.is_failed()) return send_policy::outcome::sent;  // sent, or nobody to tell
    return retryable(r.error()) ? send_policy::outcome::retry_later : send_policy::outcome::failed;
}

// fork(): a child never takes a lock that a thread of its parent may have held. The logging
// path takes none (the status sink's cells and the lifecycle's state are lock-free), and every
// entry point of the dispatcher returns at once in a child (forked()), which also leaks the
// dispatcher rather than destroy mutexes and condition variables that the parent's threads may
// have been using at fork time. This is the only place that knows about fork.

void write_eventfd(int fd) noexcept {
    if (fd < 0) return;
    const int saved = errno;
    const std::uint64_t one = 1;
    ssize_t n;
    do {
        n = ::write(fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    errno = saved;
}

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

// A lifecycle message a signal handler could not send itself, handed to the thread: one slot
// per kind (a stop, a RELOADING, the READY after SIGHUP), its ticket giving its place in the
// order. The handler fills a free slot; the thread claims it, copies it and frees it.
struct signal_slot {
    enum : int { free, filling, pending, claimed };
    std::atomic<int> state{free};
    std::uint64_t ticket = 0;  // written while filling, read once claimed
    signal_message kind{};
    std::uint64_t monotonic_usec = 0;
    std::uint64_t place = 0;  // status_order() when the handler ran
};

// Members are grouped by who touches them (any thread, the thread only), not by size: one per
// process.
class sender {  // NOLINT(clang-analyzer-optin.performance.Padding)
public:
    sender(dispatcher &owner, notifier &n, dispatcher_options options)
        : owner_(owner), notifier_(n), options_(std::move(options)), owner_pid_(::getpid()) {
        merged_.reserve();
        scratch_.reserve();
        own_.reserve();
        policy_.set_options({options_.min_interval, options_.sticky_for});
        efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    ~sender() {
        if (thread_.joinable()) thread_.detach();  // a forked child's copy: not its thread
        if (efd_ >= 0) ::close(efd_);
    }

    void start() {
        thread_ = start_quiet_thread([this] { run(); });
    }
    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            ++flush_requested_;
            flush_deadline_ = steady::now() + final_budget;
            flush_barrier_ = true;
        }
        wake();
        if (thread_.joinable()) thread_.join();
    }
    bool forked() const noexcept { return ::getpid() != owner_pid_; }
    void wake() noexcept { write_eventfd(efd_); }

    // ------------------------------------------------------------------ any thread
    void post_status(std::string_view text, bool sticky,
                     std::chrono::system_clock::time_point when) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            own_.put(text, sticky, when, status_order().fetch_add(1) + 1);
        }
        if (owner_.idle_.exchange(false)) {
            wakeups_.fetch_add(1, std::memory_order_relaxed);
            wake();
        }
    }

    void post(std::uint64_t ticket, message msg) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            inbox_.emplace_back(ticket, std::move(msg));
            inbox_places_.push_back(status_order().load());
        }
        wake();
    }
    // A lifecycle message of no state change: its ticket only orders it.
    void post(message msg) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            inbox_.emplace_back(next_ticket(), std::move(msg));
            inbox_places_.push_back(status_order().load());
        }
        wake();
    }
    void failure(message msg) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            inbox_failure_ = std::move(msg);
            inbox_failure_place_ = status_order().load();
        }
        wake();
    }

    void set_options(dispatcher_options o) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            options_ = std::move(o);
            options_changed_ = true;
        }
        wake();
    }
    void set_keepalive(const keepalive_config &k, std::function<bool()> healthy) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            keepalive_ = k;
            healthy_ = std::move(healthy);
            keepalive_changed_ = true;
        }
        wake();
    }

    void diagnose(std::string what, std::error_code ec = errc::wiring) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            diagnostics_.push_back({ec, std::move(what)});
        }
        wake();
    }
    void set_periodic(std::function<void()> check) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            periodic_ = std::move(check);
            periodic_changed_ = true;
        }
        wake();
    }

    void report(std::error_code ec, std::string_view what) {
        if (controls_off().on_error_thread) {  // what 0.1.0 did: the callback on the caller
            std::function<void(std::error_code, std::string_view, std::uint64_t)> f;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                f = options_.on_error;
            }
            if (f) f(ec, what, 0);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++stats_.failures;
            ++reports_waiting_;
            report_error_ = ec;
            report_what_.assign(what.data(), std::min<std::size_t>(what.size(), 200));
        }
        wake();
    }

    // `with_barrier`: the final delivery, which ends with a barrier so that the receiver is
    // known to have processed it.
    bool flush(std::chrono::milliseconds timeout, bool with_barrier) {
        std::unique_lock<std::mutex> lock(mutex_);
        const std::uint64_t mine = ++flush_requested_;
        flush_deadline_ = std::max(flush_deadline_, steady::now() + timeout);
        flush_barrier_ = flush_barrier_ || with_barrier;
        lock.unlock();
        wake();
        lock.lock();
        // A little beyond the thread's own deadline, so that its answer is not missed.
        const bool answered = flushed_.wait_for(lock, timeout + std::chrono::milliseconds(20),
                                                [&] { return flush_answered_ >= mine; });
        return answered && flush_ok_;
    }

    // ------------------------------------------------------------------ sources
    void add_source(status_source *s) {
        std::lock_guard<std::mutex> lock(sources_mutex_);
        sources_.push_back({s, 0, 0, 0, std::chrono::seconds(0)});
    }
    void remove_source(status_source *s) {
        bool last = false;
        bool any_status = false;
        {
            std::lock_guard<std::mutex> lock(sources_mutex_);
            auto it = std::find_if(sources_.begin(), sources_.end(),
                                   [&](const source_entry &e) { return e.source == s; });
            if (it == sources_.end()) return;
            if (s->pull(scratch_, it->seen)) {  // its text outlives it
                merge(scratch_, s);
                it->errors = scratch_.errors;
                it->warnings = scratch_.warnings;
            }
            removed_posted_ += s->posted();
            // Its counts too: the summary's totals only grow.
            removed_errors_ += it->errors;
            removed_warnings_ += it->warnings;
            sources_.erase(it);
            last = sources_.empty();
            any_status = merged_seq_ != 0;
        }
        wake();
        // spdlog::shutdown() or the last status logger going away: the status must be out
        // before the program goes on (it may _exit() next).
        if (last && any_status) flush(final_budget, true);
    }

    // ------------------------------------------------------------------ signal handlers
    std::uint64_t next_ticket() noexcept {
        auto &state_word_ = owner_.state_word_;
        std::uint64_t word = state_word_.load();
        while (!state_word_.compare_exchange_weak(word, word + 4)) {
        }
        return (word >> 2) + 1;
    }
    void from_signal(std::uint64_t ticket, signal_message kind, std::uint64_t usec,
                     bool wait) noexcept {
        if (forked()) return;  // a child inherited the handler: it does not speak for the service
        const bool stops = kind == signal_message::stop_term || kind == signal_message::stop_int;
        char buf[128];
        const std::size_t n = build_signal_datagram(kind, usec, buf);
        // Nothing ahead of it: send now (a default action may kill the process next).
        if (delivered_through_.load() == ticket - 1 && send_from_handler(buf, n, ticket, stops))
            return;
        signal_slot &e = slots_[stops ? 0 : kind == signal_message::reloading ? 1 : 2];
        const std::int64_t give_up =
            monotonic_ns() + std::chrono::nanoseconds(final_budget).count();
        // A message of the same kind not taken yet (SIGHUP twice before the thread ran): wait
        // for the thread to take it, bounded; then better out of order than lost.
        for (int expected = signal_slot::free;
             !e.state.compare_exchange_strong(expected, signal_slot::filling);
             expected = signal_slot::free) {
            if (monotonic_ns() >= give_up) {
                (void)notifier_.send_signal_safe(buf, n);
                out_of_order_.fetch_add(1);
                wake();
                return;
            }
            wake();
            sleep_briefly(1000000);
        }
        e.kind = kind;
        e.monotonic_usec = usec;
        e.ticket = ticket;
        e.place = status_order().load();  // its text is newer than what was published so far
        e.state.store(signal_slot::pending);
        if (wait) urgent_.store(true);
        wake();
        if (!wait) return;
        // The default action follows: give the thread a bounded time to send it in order (a
        // stop is sent once: its slot is not filled again meanwhile).
        while (monotonic_ns() < give_up) {
            if (delivered_through_.load() >= ticket) return;
            sleep_briefly(2000000);
        }
        int expected = signal_slot::pending;
        if (e.state.compare_exchange_strong(expected, signal_slot::free)) {
            // The thread never took it (it may be stuck behind the lock this thread holds).
            for (int i = 0; i < 5; ++i) {
                if (notifier_.send_signal_safe(buf, n) == 1) break;
                sleep_briefly(10000000);
            }
        }
    }

    bool send_from_handler(const char *buf, std::size_t n, std::uint64_t ticket,
                           bool stops) noexcept {
        if (notifier_.send_signal_safe(buf, n) != 1) return false;
        std::uint64_t expected = ticket - 1;
        delivered_through_.compare_exchange_strong(expected, ticket);
        if (stops) stopping_sent_.store(true);
        sent_by_handlers_.fetch_add(1);
        wake();
        return true;
    }

    // ------------------------------------------------------------------ state for the thread
    dispatcher &owner_;
    notifier &notifier_;
    mutable std::mutex mutex_;
    std::condition_variable flushed_;
    dispatcher_options options_;
    bool options_changed_ = false;
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
    std::uint64_t reports_waiting_ = 0;
    // Said once each, never rate-limited away (their callers say each once).
    struct diagnostic {
        std::error_code ec;
        std::string what;
    };
    std::vector<diagnostic> diagnostics_;
    std::function<void()> periodic_;
    bool periodic_changed_ = false;
    std::error_code report_error_;
    std::string report_what_;
    std::uint64_t flush_requested_ = 0;
    std::uint64_t flush_answered_ = 0;
    bool flush_ok_ = false;
    steady::time_point flush_deadline_{};
    bool flush_barrier_ = false;
    bool stop_ = false;
    dispatcher::counters stats_;

    std::atomic<std::uint64_t> delivered_through_{0};
    std::atomic<bool> stopping_sent_{false};
    std::atomic<bool> urgent_{false};
    std::atomic<bool> progress_{false};
    std::atomic<bool> alive_{false};
    std::atomic<std::uint64_t> sent_by_handlers_{0};
    std::atomic<std::uint64_t> out_of_order_{0};
    std::atomic<std::uint64_t> wakeups_{0};
    signal_slot slots_[3];  // stop, reloading, ready after SIGHUP
    int efd_ = -1;
    const pid_t owner_pid_;

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
    // Failures of the application's callbacks on the logging thread (callback_failed()).
    std::atomic<std::uint64_t> callback_failures_[3] = {};
    std::uint64_t own_seen_ = 0;

private:
    // ------------------------------------------------------------------ the thread
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
    void run();
    void take_requests(steady::time_point now);
    flush_request pending_flush();
    void deliver(bool final);
    bool handle_flush(const flush_request &f, steady::time_point now);
    sleep_plan plan_sleep(steady::time_point now, bool urgent) const;
    bool go_idle(steady::time_point now);
    void intake(steady::time_point now);
    bool collect(steady::time_point now);
    void count_callback_failures();
    void merge(const status_slot &slot, const void *from);
    void feed_status(steady::time_point now);
    void send_due(bool final);
    notify_result send_status(const std::string &text, send_policy::outcome &out);
    void answer_flush(std::uint64_t requested, bool ok);
    void deliver_reports();
    void failed(std::error_code ec, const char *what);
    bool emit(std::error_code ec, std::string_view what);
    void barrier(steady::time_point deadline);
    void wait(steady::time_point until);

    send_policy policy_;
    std::function<bool()> thread_healthy_;
    std::function<std::string(std::string_view)> thread_redact_;
    error_handler thread_on_error_;
    bool thread_to_stderr_ = true;
    std::function<void()> thread_periodic_;
    steady::time_point next_periodic_ = steady::time_point::max();
    steady::time_point last_change_{};  // when collect() last found a record published
    bool barrier_sent_ = false;
    std::uint64_t sent_at_barrier_ = 0;  // datagrams sent when the last barrier was
    std::chrono::milliseconds thread_min_interval_{500};
    std::uint64_t fed_seq_ = 0;
    std::uint64_t callback_counted_[3] = {};  // callback_failures_ as last seen
    std::string redact_source_, redact_result_;
    bool redact_cached_ = false;
    std::string last_status_datagram_;
    steady::time_point last_report_{};
    std::error_code outage_;  // said once and failing since (cleared by a send that got through)
    std::uint64_t suppressed_ = 0;
    std::thread thread_;
};

// Keeps the newest text and the newest error over every source: the ones published last
// (status_order()), whichever source or thread they came from. Which of them shows is the
// policy's display rule (src/status_merge.h).
void sender::merge(const status_slot &slot, const void *from) {
    (void)from;
    if (slot.seq == 0) return;
    const bool by_clock = controls_off().publication_order;  // what 0.1 did
    if (merged_.seq == 0 || (by_clock ? slot.latest_time >= merged_.latest_time
                                      : slot.latest_order > merged_.latest_order)) {
        merged_.latest.assign(slot.latest);
        merged_.latest_time = slot.latest_time;
        merged_.latest_order = slot.latest_order;
        merged_.seq = ++merged_seq_;
    }
    if (slot.has_sticky &&
        (!merged_.has_sticky || (by_clock ? slot.sticky_time >= merged_.sticky_time
                                          : slot.sticky_order > merged_.sticky_order))) {
        merged_.sticky.assign(slot.sticky);
        merged_.sticky_time = slot.sticky_time;
        merged_.sticky_order = slot.sticky_order;
        merged_.has_sticky = true;
        merged_.seq = ++merged_seq_;
    }
}

bool sender::collect(steady::time_point now) {
    count_callback_failures();
    std::lock_guard<std::mutex> lock(sources_mutex_);
    for (auto &e : sources_) {
        if (!e.source->pull(scratch_, e.seen)) continue;
        e.errors = scratch_.errors;
        e.warnings = scratch_.warnings;
        e.window = scratch_.summary_window;
        merge(scratch_, e.source);
    }
    {
        std::lock_guard<std::mutex> own_lock(mutex_);
        if (own_.seq != own_seen_) {
            own_seen_ = own_.seq;
            merge(own_, this);
        }
    }
    // Read under the lock: remove_source() merges a departing sink's text from another thread.
    if (merged_.seq == fed_seq_) return false;
    last_change_ = now;
    return true;
}

void sender::feed_status(steady::time_point now) {
    std::lock_guard<std::mutex> lock(sources_mutex_);
    if (merged_.seq == fed_seq_) return;
    // The summary's counts first, so that the texts are composed with them.
    std::chrono::seconds window{0};
    std::uint64_t errors = removed_errors_, warnings = removed_warnings_;
    for (const auto &e : sources_) {
        window = std::max(window, e.window);
        errors += e.errors;
        warnings += e.warnings;
    }
    policy_.status_summary(window);
    policy_.status_counts(errors, warnings, now);
    // Control publication_order: the record's clock as the order, as 0.1 compared.
    const bool by_clock = controls_off().publication_order;
    const auto order = [by_clock](std::uint64_t o, std::chrono::system_clock::time_point t) {
        return by_clock ? static_cast<std::uint64_t>(t.time_since_epoch().count()) : o;
    };
    const bool latest_is_error = merged_.has_sticky && merged_.sticky_order == merged_.latest_order;
    if (merged_.has_sticky && !latest_is_error)
        policy_.status(merged_.sticky, order(merged_.sticky_order, merged_.sticky_time), true, now,
                       merged_.sticky_time);
    policy_.status(merged_.latest, order(merged_.latest_order, merged_.latest_time),
                   latest_is_error, now, merged_.latest_time);
    fed_seq_ = merged_.seq;
}

// The application's callbacks that threw on the logging thread: counted there, said here once
// per kind, with how often so far (dispatcher::stats::failures keeps counting).
void sender::count_callback_failures() {
    static constexpr const char *what[] = {"status_sink: the filter threw",
                                           "status_sink: the formatter threw",
                                           "lifecycle: a rule threw"};
    bool said = false;
    for (int i = 0; i < 3; ++i) {
        const std::uint64_t n = callback_failures_[i].load(std::memory_order_relaxed);
        if (n == callback_counted_[i]) continue;
        const bool first = callback_counted_[i] == 0;
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.failures += n - callback_counted_[i];
        callback_counted_[i] = n;
        if (!first) continue;
        said = true;
        diagnostics_.push_back(
            {errc::callback_failed, std::string(what[i]) + " for " + std::to_string(n) +
                                        " record(s) so far (each one is counted in "
                                        "dispatcher::stats().failures, not said again)"});
    }
    // Now, not next round: a flush() answered in this round has it said before it returns.
    if (said) deliver_reports();
}

void sender::intake(steady::time_point now) {
    std::vector<std::pair<std::uint64_t, message>> posted;
    std::vector<std::uint64_t> places;
    std::optional<message> failure;
    std::uint64_t failure_place = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        posted.swap(inbox_);
        places.swap(inbox_places_);
        failure.swap(inbox_failure_);
        failure_place = inbox_failure_place_;
        if (options_changed_) {
            options_changed_ = false;
            policy_.set_options({options_.min_interval, options_.sticky_for});
        }
        thread_redact_ = options_.redact;
        thread_on_error_ = options_.on_error;
        thread_to_stderr_ = options_.errors_to_stderr;
        thread_min_interval_ = options_.min_interval;
        if (periodic_changed_) {
            periodic_changed_ = false;
            thread_periodic_ = periodic_;
            next_periodic_ =
                thread_periodic_ ? now + std::chrono::seconds(1) : steady::time_point::max();
        }
        if (keepalive_changed_) {
            keepalive_changed_ = false;
            policy_.set_keepalive(keepalive_, now);
            thread_healthy_ = healthy_;
        }
    }
    // Handed over by signal handlers.
    for (auto &e : slots_) {
        int expected = signal_slot::pending;
        if (!e.state.compare_exchange_strong(expected, signal_slot::claimed)) continue;
        posted.emplace_back(e.ticket, make_signal_message(e.kind, e.monotonic_usec));
        places.push_back(e.place);
        e.state.store(signal_slot::free);
    }
    if (const auto n = out_of_order_.exchange(0); n != 0) {
        // A signal handler waited in vain for its kind's slot and sent by itself, possibly out
        // of order: say so rather than keep it to a counter nobody reads.
        std::lock_guard<std::mutex> lock(mutex_);
        diagnostics_.push_back({errc::wiring, std::to_string(n) +
                                                  " signal lifecycle message(s) found the "
                                                  "hand-over slot of their kind taken and were "
                                                  "sent directly, possibly out of order"});
    }
    // Sent by signal handlers themselves.
    policy_.delivered_elsewhere(delivered_through_.load(), stopping_sent_.load(), now,
                                status_order().load());
    for (std::size_t i = 0; i < posted.size(); ++i) {
        auto &p = posted[i];
        if (thread_redact_ && p.second.status_text() != nullptr) {
            // Redaction must not hold the lifecycle message back: its text follows on its own.
            std::string text = *p.second.status_text();
            p.second.erase("STATUS");
            policy_.lifecycle_status(text, places[i], now);
            if (p.second.empty()) continue;
        }
        policy_.lifecycle(p.first, std::move(p.second), now, places[i]);
    }
    if (failure) policy_.failure(std::move(*failure), failure_place);
    if (progress_.exchange(false)) policy_.progress();
    if (alive_.exchange(false)) policy_.alive(now);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.max_queued = std::max<std::uint64_t>(stats_.max_queued, policy_.queued());
}

void sender::failed(std::error_code ec, const char *what) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.failures;
    }
    // Said once, not once a minute (once a second to on_error) for as long as it lasts: an
    // unusable NOTIFY_SOCKET (a bare fd number from finit 4.4-4.12, a relative path), which
    // never gets better, and a receiver that stopped reading (runc, crun, finit after READY) or
    // went away (OpenRC unlinks its socket), which may stay so for the process's life. The
    // failures meanwhile are counted into the next report's `suppressed`; a different error,
    // or the same one after a send got through, is said again.
    const bool address = ec && ec == notifier_.address_error();
    const bool once =
        address ? !controls_off().address_once : retryable(ec) && !controls_off().outage_once;
    if (once && ec == outage_) {
        ++suppressed_;
        return;
    }
    bool said = false;
    if (address) {
        try {
            said = emit(ec, "sending to NOTIFY_SOCKET=" +
                                std::string(notifier_.address_text().substr(0, 200)));
        } catch (...) {
        }
    } else {
        said = emit(ec, what);
    }
    if (once && said) outage_ = ec;
}

void sender::deliver_reports() {
    std::uint64_t waiting;
    std::error_code ec;
    std::string what;
    std::vector<diagnostic> diagnostics;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        waiting = std::exchange(reports_waiting_, 0);
        ec = report_error_;
        what = report_what_;
        diagnostics.swap(diagnostics_);
    }
    for (const auto &d : diagnostics) {
        if (thread_on_error_) {
            try {
                thread_on_error_(d.ec, d.what, 0);
            } catch (...) {
            }
        } else if (thread_to_stderr_) {
            write_to_stderr(report_priority::warning, d.what);
        }
    }
    if (waiting == 0) return;
    suppressed_ += waiting - 1;
    emit(ec, what);
}

// To on_error at most once a second; without one, to stderr (where the journal keeps it) at
// most once a minute, so that a receiver gone for good does not fill the journal.
bool sender::emit(std::error_code ec, std::string_view what) {
    const auto now = steady::now();
    const auto interval = thread_on_error_ ? std::chrono::seconds(1) : std::chrono::seconds(60);
    if ((!thread_on_error_ && !thread_to_stderr_) ||
        (last_report_ != steady::time_point{} && now - last_report_ < interval)) {
        ++suppressed_;
        return false;
    }
    last_report_ = now;
    const std::uint64_t suppressed = std::exchange(suppressed_, 0);
    if (thread_on_error_) {
        try {
            thread_on_error_(ec, what, suppressed);
        } catch (...) {
        }
        return true;
    }
    try {
        write_to_stderr(report_priority::error, std::string(what) + ": " + ec.message() + " (" +
                                                    std::to_string(suppressed) +
                                                    " more since the last report)");
    } catch (...) {
    }
    return true;
}

notify_result sender::send_status(const std::string &text, send_policy::outcome &out) {
    std::string datagram;
    std::error_code ec;
    try {
        if (thread_redact_) {
            // Each text is redacted once, however often its send is retried.
            if (!redact_cached_ || redact_source_ != text || controls_off().redact_once) {
                redact_cached_ = false;
                redact_result_ = thread_redact_(text);
                redact_source_ = text;
                redact_cached_ = true;
            }
            ec = message{}.status(redact_result_).build(datagram);
        } else {
            ec = message{}.status(text).build(datagram);
        }
    } catch (...) {
        // A redactor that failed must not let the unredacted text out: send nothing.
        ec = errc::callback_failed;
    }
    if (ec) {
        out = send_policy::outcome::failed;
        return notify_result::failed(ec);
    }
    if (datagram == last_status_datagram_) {  // the same text is not sent again
        out = send_policy::outcome::sent;
        return notify_result::no_manager();
    }
    const notify_result r = notifier_.send_raw(datagram);
    out = outcome_of(r);
    if (r.is_sent()) last_status_datagram_ = std::move(datagram);
    return r;
}

void sender::send_due(bool final) {
    using item_type = send_policy::item_type;
    for (int guard = 0; guard < 256; ++guard) {
        const auto now = steady::now();
        const auto it = policy_.next(now, final);
        if (!it) return;
        if (it.what == item_type::health_check) {
            bool ok = false;
            try {
                ok = !thread_healthy_ || thread_healthy_();
            } catch (...) {
                ok = false;  // a health check that throws is not a healthy answer
            }
            policy_.health(ok, steady::now());
            continue;
        }
        notify_result r = notify_result::no_manager();
        send_policy::outcome out = send_policy::outcome::sent;
        const char *what = "sending";
        switch (it.what) {
            case item_type::lifecycle:
            case item_type::failure:
                r = notifier_.send(*it.msg);
                out = outcome_of(r);
                what = it.what == item_type::lifecycle ? "sending a lifecycle message"
                                                       : "sending a failure status";
                if (r.is_sent()) {
                    if (const std::string *t = it.msg->status_text()) {
                        // Shown now: the status path need not send it again.
                        std::string d;
                        if (!message{}.status(*t).build(d)) last_status_datagram_ = std::move(d);
                    }
                }
                break;
            case item_type::extend:
                r = notifier_.send(message{}.extend_timeout(it.extend));
                out = outcome_of(r);
                what = "sending EXTEND_TIMEOUT_USEC";
                break;
            case item_type::watchdog:
                r = notifier_.send(it.trigger ? message{}.watchdog_trigger()
                                              : message{}.watchdog());
                out = outcome_of(r);
                what = "sending WATCHDOG";
                break;
            case item_type::status:
                r = send_status(*it.text, out);
                what = "sending STATUS";
                break;
            case item_type::health_check:
            case item_type::none:
                break;
        }
        const bool stops = it.what == item_type::lifecycle && it.msg->has("STOPPING");
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (r.is_sent()) {
                switch (it.what) {
                    case item_type::lifecycle:
                    case item_type::failure:
                        ++stats_.lifecycle_sent;
                        break;
                    case item_type::extend:
                        ++stats_.extend_sent;
                        break;
                    case item_type::watchdog:
                        ++stats_.watchdog_sent;
                        break;
                    case item_type::status:
                        ++stats_.status_sent;
                        break;
                    default:
                        break;
                }
            }
        }
        policy_.done(it, out, steady::now());
        if (it.what == item_type::lifecycle && out != send_policy::outcome::retry_later) {
            // Handlers may send by themselves again once nothing is ahead of them.
            std::uint64_t d = delivered_through_.load();
            const std::uint64_t through = policy_.delivered_through();
            while (d < through && !delivered_through_.compare_exchange_weak(d, through)) {
            }
            if (stops && r.is_sent()) stopping_sent_.store(true);
        }
        if (r.is_sent()) outage_ = {};
        if (r.is_failed()) failed(r.error(), what);
        if (out == send_policy::outcome::retry_later) return;
    }
}

void sender::barrier(steady::time_point deadline) {
    std::uint64_t sent = sent_by_handlers_.load();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        sent +=
            stats_.status_sent + stats_.lifecycle_sent + stats_.watchdog_sent + stats_.extend_sent;
    }
    // One barrier after the last datagram says it all: a second final delivery with nothing
    // new (exit() after spdlog::shutdown(), static destruction after main) sends none.
    if (barrier_sent_ && sent == sent_at_barrier_ && !controls_off().barrier_once) return;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return;
    const notify_result r = notifier_.barrier(left);
    if (r.is_sent()) {
        barrier_sent_ = true;
        sent_at_barrier_ = sent;
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.barriers;
    }
}

void sender::answer_flush(std::uint64_t requested, bool ok) {
    {
        // Only the requests made before this delivery started: a later one gets a look of its own.
        std::lock_guard<std::mutex> lock(mutex_);
        flush_answered_ = std::max(flush_answered_, requested);
        flush_ok_ = ok;
        if (flush_answered_ == flush_requested_) flush_barrier_ = false;
    }
    flushed_.notify_all();
}

void sender::wait(steady::time_point until) {
    int timeout = -1;
    if (until != steady::time_point::max()) {
        const auto left = until - steady::now();
        timeout =
            left.count() <= 0
                ? 0
                : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    pollfd p{efd_, POLLIN, 0};
    if (::poll(&p, 1, timeout) > 0) {
        std::uint64_t count;
        while (::read(efd_, &count, sizeof count) > 0) {
        }
    }
}

// The thread: take what was asked, deliver what is due, then either answer a flush or sleep
// until the next thing is due.
void sender::run() {
    for (;;) {
        take_requests(steady::now());
        const flush_request flush = pending_flush();
        const bool urgent = urgent_.load();
        deliver(flush.active || urgent);
        const auto now = steady::now();
        if (urgent && policy_.queued() == 0) urgent_.store(false);
        if (flush.active) {
            if (handle_flush(flush, now)) return;
            continue;
        }
        sleep_plan plan = plan_sleep(now, urgent);
        if (plan.idle && !go_idle(now)) continue;
        wait(plan.until);
        owner_.idle_.store(false);
    }
}

// Posted messages, options, signal hand-overs and evidence into the policy; the periodic
// check when due; errors and diagnostics out to on_error or stderr.
void sender::take_requests(steady::time_point now) {
    intake(now);
    if (now >= next_periodic_) {
        next_periodic_ = now + std::chrono::seconds(1);
        try {
            thread_periodic_();
        } catch (...) {
        }
    }
    deliver_reports();
}

sender::flush_request sender::pending_flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_request f;
    f.stopping = stop_;
    f.requested = flush_requested_;
    f.active = f.stopping || f.requested > flush_answered_;
    f.deadline = flush_deadline_;
    f.with_barrier = flush_barrier_ || stop_;
    return f;
}

// The sinks' newest texts, then everything due (lifecycle first).
void sender::deliver(bool final) {
    const auto now = steady::now();
    if (collect(now)) feed_status(now);
    send_due(final);
}

// Answers the flush once nothing is left (after the barrier it asked for) or its deadline
// passed; otherwise waits a little for the next try. Returns true when the thread is to end.
bool sender::handle_flush(const flush_request &f, steady::time_point now) {
    if (policy_.idle(now)) {
        if (f.with_barrier) barrier(f.deadline);
        answer_flush(f.requested, true);
        return f.stopping;
    }
    if (now >= f.deadline) {
        answer_flush(f.requested, false);
        return f.stopping;
    }
    wait(std::min(f.deadline, now + urgent_retry));
    return false;
}

sender::sleep_plan sender::plan_sleep(steady::time_point now, bool urgent) const {
    auto until = std::min(policy_.wake_at(now), next_periodic_);
    if (urgent) until = std::min(until, now + urgent_retry);
    // A text that arrives while min_interval or a retry pause runs could not go before that
    // ends: look then, and let no logging thread wake us meanwhile. Otherwise a new text
    // must wake us (the only syscall a logging thread ever makes for us), announced before
    // the last look at the sources, so that a text published after that look sees it.
    const auto ready_at = policy_.status_ready_at(now);
    if (ready_at > now) return {std::min(until, ready_at), false};
    // Records are still coming in, though they changed nothing (the same text again): look
    // again after min_interval rather than let the next of them wake us (a syscall on the
    // logging thread per record or so). A new text waits
    // min_interval at most, as it would after a send.
    if (now - last_change_ < thread_min_interval_ && !controls_off().quiet_interval)
        return {std::min(until, last_change_ + thread_min_interval_), false};
    return {until, until == steady::time_point::max() || until - now > thread_min_interval_};
}

// Announces the sleep (idle_) and looks at the sources once more: false if a text arrived,
// which is delivered instead of sleeping. The order is the protocol (docs/design.md, "No lost
// wake-up"): idle_ set, then the last look; a writer claims its cell, then reads idle_ (all
// sequentially consistent), so either it sees idle_ and wakes us or we see its record.
bool sender::go_idle(steady::time_point now) {
    owner_.idle_.store(true);  // sequentially consistent, as the cells' first look in pull()
    if (!controls_off().idle_recheck && collect(now)) {
        owner_.idle_.store(false);
        feed_status(now);
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------- lifecycle_link

std::uint64_t lifecycle_link::transition(dispatcher &d, unsigned from_mask,
                                         service_state to) noexcept {
    // Also outside systemd: the lifecycle's state machine works, nothing is sent.
    std::uint64_t word = d.state_word_.load();
    for (;;) {
        const auto current = static_cast<service_state>(word & 3U);
        if ((from_mask & state_bit(current)) == 0) return 0;
        const std::uint64_t ticket = (word >> 2) + 1;
        if (d.state_word_.compare_exchange_weak(word, (ticket << 2) | static_cast<unsigned>(to)))
            return ticket;
    }
}
void lifecycle_link::post(dispatcher &d, std::uint64_t ticket, message m) noexcept {
    if (!d.impl_ || d.impl_->forked()) return;
    try {
        d.impl_->post(ticket, std::move(m));
    } catch (...) {
        // The ticket stays missing (later messages wait for it ≤ 100 ms): not silently.
        d.report(std::make_error_code(std::errc::not_enough_memory),
                 "queueing a lifecycle message (it is lost)");
    }
}
bool lifecycle_link::final_delivery(dispatcher &d) noexcept {
    if (!d.impl_ || d.impl_->forked()) return true;
    try {
        return d.impl_->flush(final_budget, true);
    } catch (...) {
        return false;
    }
}
void lifecycle_link::from_signal(dispatcher &d, std::uint64_t ticket, signal_message kind,
                                 std::uint64_t usec, bool wait) noexcept {
    if (d.impl_) d.impl_->from_signal(ticket, kind, usec, wait);
}
void lifecycle_link::failure(dispatcher &d, message m) noexcept {
    if (!d.impl_ || d.impl_->forked()) return;
    try {
        d.impl_->failure(std::move(m));
    } catch (...) {
        d.report(std::make_error_code(std::errc::not_enough_memory),
                 "queueing the failure status (it is lost)");
    }
}
void lifecycle_link::set_keepalive(dispatcher &d, const keepalive_config &k,
                                   std::function<bool()> healthy) {
    if (d.impl_ && !d.impl_->forked()) d.impl_->set_keepalive(k, std::move(healthy));
}
void lifecycle_link::progress(dispatcher &d) noexcept {
    if (d.impl_ && !d.impl_->progress_.load(std::memory_order_relaxed))
        d.impl_->progress_.store(true, std::memory_order_relaxed);
}
void lifecycle_link::alive(dispatcher &d) noexcept {
    if (d.impl_ && !d.impl_->alive_.load(std::memory_order_relaxed))
        d.impl_->alive_.store(true, std::memory_order_relaxed);
}
void lifecycle_link::diagnose(dispatcher &d, std::string what) noexcept {
    if (!d.impl_ || d.impl_->forked()) return;
    try {
        d.impl_->diagnose(std::move(what));
    } catch (...) {
        d.report(std::make_error_code(std::errc::not_enough_memory), "queueing a diagnostic");
    }
}
void lifecycle_link::set_periodic(dispatcher &d, std::function<void()> check) {
    if (d.impl_ && !d.impl_->forked()) d.impl_->set_periodic(std::move(check));
}
bool lifecycle_link::forked(const dispatcher &d) noexcept { return d.impl_ && d.impl_->forked(); }

void dispatcher_access::add_source(dispatcher &d, status_source *source) {
    if (d.impl_ && !d.impl_->forked()) d.impl_->add_source(source);
}
void dispatcher_access::callback_failed(dispatcher &d, callback which) noexcept {
    if (!d.impl_ || d.impl_->forked()) return;
    // What 0.1 did: a lock and a wake-up each time (and on_error on this thread, its control).
    if (controls_off().callback_count || controls_off().on_error_thread) {
        d.report(errc::callback_failed, "status_sink: filter or formatter threw");
        return;
    }
    // The first failure of its kind wakes an idle sender (once); the rest only count.
    if (d.impl_->callback_failures_[static_cast<int>(which)].fetch_add(
            1, std::memory_order_relaxed) == 0)
        d.wake();
}
void dispatcher_access::remove_source(dispatcher &d, status_source *source) noexcept {
    if (!d.impl_ || d.impl_->forked()) return;
    try {
        d.impl_->remove_source(source);
    } catch (...) {
        d.report(std::make_error_code(std::errc::not_enough_memory),
                 "delivering the status of a sink that goes away");
    }
}

}  // namespace details

// ---------------------------------------------------------------------------- dispatcher

namespace {

// The dispatchers with a thread. At exit() each delivers what its sinks hold: a sink may
// outlive main() (a `service` on main's stack, exit() called deep inside the program), so its
// own destruction would come too late or never.
struct live_dispatchers {
    const pid_t pid = ::getpid();  // a forked child takes no lock of the parent's
    std::mutex mutex;
    std::vector<dispatcher *> all;
};
live_dispatchers &live() {
    static auto *const instance = new live_dispatchers;  // never destroyed: exit() reads it
    return *instance;
}
void deliver_at_exit() {
    auto &l = live();
    if (::getpid() != l.pid || details::controls_off().exit_delivery) return;
    std::lock_guard<std::mutex> lock(l.mutex);
    for (dispatcher *d : l.all) details::lifecycle_link::final_delivery(*d);
}

}  // namespace

dispatcher::dispatcher(std::shared_ptr<spdlog_sdnotify::notifier> n, dispatcher_options options)
    : notifier_(std::move(n)),
      enabled_(notifier_ != nullptr && notifier_->enabled()),
      sticky_level_(options.sticky_level) {
    if (!enabled_) return;  // outside systemd: no thread, every call returns at once
    impl_ = std::make_unique<details::sender>(*this, *notifier_, std::move(options));
    impl_->start();
    static std::once_flag registered;
    std::call_once(registered, [] { std::atexit(deliver_at_exit); });
    std::lock_guard<std::mutex> lock(live().mutex);
    live().all.push_back(this);
}

dispatcher::~dispatcher() {
    if (!impl_) return;
    if (impl_->forked()) {
        // The thread, and whatever locks it held, exist only in the parent: leave them alone.
        if (!details::controls_off().child_leak) (void)impl_.release();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(live().mutex);
        auto &all = live().all;
        all.erase(std::remove(all.begin(), all.end(), this), all.end());
    }
    impl_->stop();
}

std::shared_ptr<dispatcher> dispatcher::default_instance() {
    static const std::shared_ptr<dispatcher> instance =
        std::make_shared<dispatcher>(std::shared_ptr<spdlog_sdnotify::notifier>(
            &default_notifier(), [](spdlog_sdnotify::notifier *) {}));
    return instance;
}

void configure_default_dispatcher(dispatcher_options options) {
    dispatcher::default_instance()->set_options(std::move(options));
}

void dispatcher::set_options(dispatcher_options options) {
    sticky_level_.store(options.sticky_level, std::memory_order_relaxed);
    if (impl_ && !impl_->forked()) impl_->set_options(std::move(options));
}

void dispatcher::wake() noexcept {
    if (!impl_ || impl_->forked()) return;
    if (idle_.exchange(false)) {
        impl_->wakeups_.fetch_add(1, std::memory_order_relaxed);
        impl_->wake();
    }
}

void dispatcher::post_status(std::string_view text, bool sticky,
                             std::chrono::system_clock::time_point when) noexcept {
    if (!impl_ || impl_->forked()) return;
    impl_->post_status(text, sticky, when);
}

void dispatcher::post(message msg) noexcept {
    if (!impl_ || impl_->forked()) return;
    try {
        impl_->post(std::move(msg));
    } catch (const std::bad_alloc &) {
        report(std::make_error_code(std::errc::not_enough_memory), "queueing a lifecycle message");
    }
}

bool dispatcher::flush(std::chrono::milliseconds timeout) noexcept {
    if (!impl_) return true;
    if (impl_->forked()) return false;
    try {
        return impl_->flush(timeout, false);
    } catch (...) {
        return false;
    }
}

void dispatcher::report(std::error_code error, std::string_view what) noexcept {
    if (!impl_ || impl_->forked()) return;
    try {
        impl_->report(error, what);
    } catch (...) {
    }
}

bool dispatcher::stopping() const noexcept { return impl_ && impl_->stopping_sent_.load(); }

dispatcher::counters dispatcher::stats() const {
    if (!impl_ || impl_->forked()) return {};
    std::uint64_t from_sources = 0;
    {
        std::lock_guard<std::mutex> lock(impl_->sources_mutex_);
        for (const auto &e : impl_->sources_) from_sources += e.source->posted();
        from_sources += impl_->removed_posted_;
    }
    std::lock_guard<std::mutex> lock(impl_->mutex_);
    counters s = impl_->stats_;
    s.posted = from_sources + impl_->own_.seq;
    s.lifecycle_sent += impl_->sent_by_handlers_.load();
    s.wakeups = impl_->wakeups_.load();
    return s;
}

}  // namespace spdlog_sdnotify
