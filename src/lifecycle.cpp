// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/lifecycle.h>

#include <spdlog/spdlog.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <thread>

#include "quiet_thread.h"

namespace spdlog_sdnotify {

// ---------------------------------------------------------------------------- rule

rule rule::contains(std::string text) {
    rule r;
    r.contains_ = std::move(text);
    return r;
}

rule rule::matches(const std::string &regex) {
    rule r;
    r.regex_ = std::make_shared<const std::regex>(regex, std::regex::ECMAScript);
    return r;
}

rule rule::level(spdlog::level::level_enum at_least) {
    rule r;
    r.min_level_ = at_least;
    return r;
}

rule rule::when(std::function<bool(const spdlog::details::log_msg &)> predicate) {
    rule r;
    r.predicate_ = std::move(predicate);
    return r;
}

rule &rule::from(std::string logger_name) {
    logger_ = std::move(logger_name);
    return *this;
}

rule &rule::at_least(spdlog::level::level_enum level) {
    min_level_ = level;
    return *this;
}

bool rule::matches(const spdlog::details::log_msg &msg) const {
    if (msg.level < min_level_) return false;
    if (logger_ && std::string_view(msg.logger_name.data(), msg.logger_name.size()) != *logger_)
        return false;
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (!contains_.empty() && text.find(contains_) == std::string_view::npos) return false;
    if (regex_ && !std::regex_search(text.begin(), text.end(), *regex_)) return false;
    if (predicate_ && !predicate_(msg)) return false;
    return true;
}

// ---------------------------------------------------------------------------- state

namespace details {

using state = lifecycle::state;

struct lifecycle_state {
    lifecycle_config config;
    std::shared_ptr<dispatcher> target;
    std::optional<std::chrono::microseconds> watchdog_interval;
    std::atomic<int> current{static_cast<int>(state::starting)};
    std::atomic<bool> closed{false};
    bool handles_signals = false;

    // The timer thread (watchdog pings, EXTEND_TIMEOUT_USEC).
    std::mutex mutex;
    std::condition_variable wake;
    bool stop_thread = false;
    bool kicked = false;
    std::chrono::steady_clock::time_point next_ping{};
    std::thread timer;

    state get() const noexcept { return static_cast<state>(current.load()); }

    // Moves from one of `from` to `to`; false if the state was none of them.
    bool transition(std::initializer_list<state> from, state to) noexcept {
        int expected = current.load();
        for (;;) {
            if (std::find(from.begin(), from.end(), static_cast<state>(expected)) == from.end())
                return false;
            if (current.compare_exchange_weak(expected, static_cast<int>(to))) return true;
        }
    }

    bool watchdog_on() const noexcept { return config.watchdog && watchdog_interval.has_value(); }

    void kick() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            kicked = true;
        }
        wake.notify_one();
    }

    bool to_ready(std::string_view text) {
        if (!transition({state::starting, state::reloading}, state::ready)) return false;
        message m;
        m.ready();
        if (!text.empty()) m.status(text);
        if (watchdog_on()) {
            m.watchdog();  // the first ping goes with READY
            std::lock_guard<std::mutex> lock(mutex);
            next_ping = std::chrono::steady_clock::now() + *watchdog_interval / 2;
        }
        target->post(std::move(m));
        kick();
        return true;
    }

    bool to_reloading(std::string_view text) {
        if (!transition({state::ready}, state::reloading)) return false;
        message m;
        m.reloading();
        if (!text.empty()) m.status(text);
        target->post(std::move(m));
        return true;
    }

    bool to_stopping(std::string_view text) {
        if (!transition({state::starting, state::ready, state::reloading}, state::stopping))
            return false;
        message m;
        m.stopping();
        if (!text.empty()) m.status(text);
        target->post(std::move(m));
        kick();  // the extend timer may now run for the shutdown
        return true;
    }

    void fatal(const spdlog::details::log_msg &msg) {
        message m;
        m.status(std::string_view(msg.payload.data(), msg.payload.size()));
        if (config.fatal_errno) {
            if (const int e = config.fatal_errno(msg); e > 0) m.errno_value(e);
        }
        target->post(std::move(m));
    }

    void on_record(const spdlog::details::log_msg &msg) {
        if (closed.load(std::memory_order_relaxed)) return;
        const std::string_view text(msg.payload.data(), msg.payload.size());
        switch (get()) {
            case state::starting:
                if (config.ready_when && config.ready_when->matches(msg)) to_ready(text);
                break;
            case state::ready:
                if (config.reloading_when && config.reloading_when->matches(msg))
                    to_reloading(text);
                break;
            case state::reloading:
                if (config.reloaded_when && config.reloaded_when->matches(msg)) to_ready(text);
                break;
            case state::stopping:
                break;
        }
        if (config.stopping_when && get() != state::stopping && config.stopping_when->matches(msg))
            to_stopping(text);
        if (config.fatal_when && config.fatal_when->matches(msg)) fatal(msg);
    }

    void run_timer();
};

void lifecycle_state::run_timer() {
    using clock = std::chrono::steady_clock;
    const auto extend = config.extend_timeout;
    const auto extend_every = std::chrono::duration_cast<clock::duration>(extend / 3);
    clock::time_point next_extend{};
    bool triggered = false;
    std::unique_lock<std::mutex> lock(mutex);
    while (!stop_thread) {
        kicked = false;
        const auto now = clock::now();
        const state s = get();
        auto deadline = clock::time_point::max();
        if (watchdog_on() && (s == state::ready || s == state::reloading)) {
            if (now >= next_ping) {
                bool ok = true;
                if (config.healthy) {
                    lock.unlock();
                    try {
                        ok = config.healthy();
                    } catch (...) {
                        ok = false;  // a health check that throws is not a healthy answer
                    }
                    lock.lock();
                }
                if (ok) {
                    target->post(message{}.watchdog());
                } else if (config.trigger_when_unhealthy && !triggered) {
                    target->post(message{}.watchdog_trigger());
                    triggered = true;
                }
                next_ping = now + *watchdog_interval / 2;
            }
            deadline = next_ping;
        }
        if (extend.count() > 0 && (s == state::starting || s == state::stopping)) {
            if (now >= next_extend) {
                target->post(message{}.extend_timeout(extend));
                next_extend = now + extend_every;
            }
            deadline = std::min(deadline, next_extend);
        }
        if (extend.count() > 0) {
            // A signal handler cannot wake us: look at the state often enough to start
            // extending the stop timeout soon after a SIGTERM.
            deadline = std::min(deadline, now + std::chrono::milliseconds(250));
        }
        if (deadline == clock::time_point::max()) {
            wake.wait(lock, [&] { return stop_thread || kicked; });
        } else {
            wake.wait_until(lock, deadline, [&] { return stop_thread || kicked; });
        }
    }
}

}  // namespace details

// ---------------------------------------------------------------------------- signals

namespace {

using details::lifecycle_state;

// What the signal handler needs, set up beforehand: it may not allocate, lock or look anything
// up. Only one lifecycle owns it at a time.
struct signal_setup {
    std::atomic<lifecycle_state *> owner{nullptr};
    const notifier *sender = nullptr;
    dispatcher *target = nullptr;
    struct sigaction previous_term {};
    struct sigaction previous_int {};
    struct sigaction previous_hup {};
    bool term_installed = false;
    bool hup_installed = false;
    bool ready_after_hup = false;
    char stop_term[64] = {};
    char stop_int[64] = {};
};
signal_setup g_signals;

// Datagrams are sent by length, so nothing here is NUL-terminated.
std::size_t append(char *buf, std::size_t at, const char *text) noexcept {
    while (*text != '\0') buf[at++] = *text++;
    return at;
}

std::size_t append_u64(char *buf, std::size_t at, std::uint64_t v) noexcept {
    char digits[21];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) buf[at++] = digits[--n];
    return at;
}

void run_previous(const struct sigaction &previous, int sig, siginfo_t *info, void *context,
                  bool default_terminates) {
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler == SIG_IGN) {
        // ignored before us: stays ignored
    } else if (previous.sa_handler == SIG_DFL) {
        if (default_terminates) {
            // What would have happened without us: the default action (termination).
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            sigemptyset(&dfl.sa_mask);
            sigaction(sig, &dfl, nullptr);
            raise(sig);
        }
    } else {
        previous.sa_handler(sig);
    }
}

void on_signal(int sig, siginfo_t *info, void *context) {
    lifecycle_state *self = g_signals.owner.load();
    if (sig == SIGHUP) {
        if (self != nullptr &&
            self->transition({lifecycle::state::ready}, lifecycle::state::reloading)) {
            // RELOADING=1 with MONOTONIC_USEC from now, in one datagram, as notify-reload needs.
            timespec ts{};
            clock_gettime(CLOCK_MONOTONIC, &ts);
            char buf[96];
            std::size_t n = append(buf, 0, "RELOADING=1\nMONOTONIC_USEC=");
            n = append_u64(buf, n,
                           static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
                               static_cast<std::uint64_t>(ts.tv_nsec) / 1000U);
            n = append(buf, n, "\nSTATUS=reloading (SIGHUP)\n");
            g_signals.sender->send_signal_safe(buf, n);
        }
        run_previous(g_signals.previous_hup, sig, info, context, false);
        if (self != nullptr && g_signals.ready_after_hup &&
            self->transition({lifecycle::state::reloading}, lifecycle::state::ready)) {
            static const char ready[] = "READY=1\nSTATUS=reloaded\n";
            g_signals.sender->send_signal_safe(ready, sizeof ready - 1);
        }
        return;
    }
    if (self != nullptr && self->transition({lifecycle::state::starting, lifecycle::state::ready,
                                             lifecycle::state::reloading},
                                            lifecycle::state::stopping)) {
        g_signals.target->mark_stopping();
        const char *datagram = sig == SIGINT ? g_signals.stop_int : g_signals.stop_term;
        g_signals.sender->send_signal_safe(datagram, strlen(datagram));
    }
    run_previous(sig == SIGINT ? g_signals.previous_int : g_signals.previous_term, sig, info,
                 context, true);
}

void install(int sig, struct sigaction &previous) {
    struct sigaction sa {};
    sigaction(sig, nullptr, &previous);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | (previous.sa_flags & SA_RESTART);
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
}

void at_exit_hook() {
    lifecycle_state *self = g_signals.owner.load();
    if (self == nullptr || !self->config.stop_at_exit) return;
    if (self->to_stopping("")) self->target->flush(std::chrono::milliseconds(500));
}

}  // namespace

// ---------------------------------------------------------------------------- lifecycle

lifecycle::lifecycle(lifecycle_config config)
    : state_(std::make_shared<details::lifecycle_state>()) {
    auto &s = *state_;
    s.config = std::move(config);
    s.target = s.config.target ? s.config.target : dispatcher::default_instance();
    sink_ = std::make_shared<lifecycle_sink_mt>(state_);
    if (!s.target->enabled()) {
        s.closed = true;  // not under systemd: nothing to do, ever
        return;
    }
    s.watchdog_interval = watchdog_enabled();
    if (s.config.attach_to_all) attach_all();

    if (s.config.stop_on_signals || s.config.reload_on_sighup || s.config.stop_at_exit) {
        lifecycle_state *expected = nullptr;
        if (g_signals.owner.compare_exchange_strong(expected, &s)) {
            s.handles_signals = true;
            g_signals.sender = s.target->get_notifier().get();
            g_signals.target = s.target.get();
            g_signals.ready_after_hup = !s.config.reloaded_when.has_value();
            snprintf(g_signals.stop_term, sizeof g_signals.stop_term,
                     "STOPPING=1\nSTATUS=stopping (SIGTERM)\n");
            snprintf(g_signals.stop_int, sizeof g_signals.stop_int,
                     "STOPPING=1\nSTATUS=stopping (SIGINT)\n");
            // The handler may only send on a socket that is already open.
            if (s.config.stop_on_signals || s.config.reload_on_sighup)
                (void)s.target->get_notifier()->open();
            if (s.config.stop_on_signals) {
                install(SIGTERM, g_signals.previous_term);
                install(SIGINT, g_signals.previous_int);
                g_signals.term_installed = true;
            }
            if (s.config.reload_on_sighup) {
                install(SIGHUP, g_signals.previous_hup);
                g_signals.hup_installed = true;
            }
            static std::once_flag registered;
            std::call_once(registered, [] { std::atexit(at_exit_hook); });
        } else {
            s.target->report(std::make_error_code(std::errc::device_or_resource_busy),
                             "another lifecycle already handles signals and exit");
        }
    }
    if (s.watchdog_on() || s.config.extend_timeout.count() > 0) {
        s.timer = details::start_quiet_thread([&s] { s.run_timer(); });
    }
}

lifecycle::~lifecycle() {
    auto &s = *state_;
    if (s.closed.load() && !s.timer.joinable() && !s.handles_signals) return;
    if (s.config.stop_at_exit && s.to_stopping("")) s.target->flush(std::chrono::milliseconds(500));
    if (s.timer.joinable()) {
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            s.stop_thread = true;
        }
        s.wake.notify_one();
        s.timer.join();
    }
    if (s.handles_signals) {
        if (g_signals.term_installed) {
            sigaction(SIGTERM, &g_signals.previous_term, nullptr);
            sigaction(SIGINT, &g_signals.previous_int, nullptr);
            g_signals.term_installed = false;
        }
        if (g_signals.hup_installed) {
            sigaction(SIGHUP, &g_signals.previous_hup, nullptr);
            g_signals.hup_installed = false;
        }
        g_signals.owner.store(nullptr);
    }
    s.closed = true;  // sinks left in loggers do nothing from now on
}

spdlog::sink_ptr lifecycle::sink() const { return sink_; }

void lifecycle::attach(const std::shared_ptr<spdlog::logger> &logger) const {
    if (!logger) return;
    auto &sinks = logger->sinks();
    if (std::find(sinks.begin(), sinks.end(), sink_) == sinks.end()) sinks.push_back(sink_);
}

void lifecycle::attach_all() const {
    spdlog::apply_all([this](const std::shared_ptr<spdlog::logger> &l) { attach(l); });
    attach(spdlog::default_logger());
}

bool lifecycle::ready(std::string_view status) {
    if (!state_->to_ready(status)) return false;
    state_->target->flush();
    return true;
}

bool lifecycle::reloading(std::string_view status) {
    if (!state_->to_reloading(status)) return false;
    state_->target->flush();
    return true;
}

bool lifecycle::stopping(std::string_view status) {
    if (!state_->to_stopping(status)) return false;
    state_->target->flush();
    return true;
}

lifecycle::state lifecycle::current_state() const noexcept { return state_->get(); }

std::optional<std::chrono::microseconds> lifecycle::watchdog_interval() const noexcept {
    return state_->watchdog_interval;
}

// ---------------------------------------------------------------------------- lifecycle_sink

template <typename Mutex>
lifecycle_sink<Mutex>::lifecycle_sink(std::shared_ptr<details::lifecycle_state> state)
    : state_(std::move(state)) {}

template <typename Mutex>
void lifecycle_sink<Mutex>::sink_it_(const spdlog::details::log_msg &msg) {
    try {
        state_->on_record(msg);
    } catch (...) {
        state_->target->report(errc::callback_failed, "lifecycle: a rule threw");
    }
}

template class lifecycle_sink<std::mutex>;
template class lifecycle_sink<spdlog::details::null_mutex>;

}  // namespace spdlog_sdnotify
