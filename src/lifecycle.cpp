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
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "controls.h"
#include "lifecycle_link.h"
#include "lifecycle_keepalive.h"
#include "lifecycle_messages.h"
#include "lifecycle_rules.h"
#include "lifecycle_settings.h"
#include "text_test.h"

namespace spdlog_sdnotify {

// ---------------------------------------------------------------------------- rule

rule rule::contains(std::string text) {
    rule r;
    if (!text.empty()) r.text_ = details::text_test::literal(std::move(text));
    return r;
}

rule rule::regex(std::string pattern) {
    rule r;
    r.text_ = details::text_test::regex(std::move(pattern));
    return r;
}

rule rule::any_at_least(spdlog::level::level_enum level) {
    rule r;
    r.min_level_ = level;
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
    return details::rule_passes(
        msg, min_level_, logger_ ? &*logger_ : nullptr, predicate_ ? &predicate_ : nullptr, [&] {
            return !text_ ||
                   text_->found_in(std::string_view(msg.payload.data(), msg.payload.size()));
        });
}

// ---------------------------------------------------------------------------- state

namespace details {

using state = lifecycle::state;
using link = lifecycle_link;

constexpr unsigned bits(std::initializer_list<service_state> states) noexcept {
    unsigned mask = 0;
    for (auto s : states) mask |= state_bit(s);
    return mask;
}

// The lifecycle, composed of its parts: the validated settings, the rule set, the message
// builder and the keep-alive plan. What it adds is the wiring: a match moves the state word
// (link::transition) and posts the message with the ticket that move returned.
struct lifecycle_state {
    explicit lifecycle_state(lifecycle_config c) : settings(std::move(c)), rules(settings) {}

    // The shared half of a state change: the compare-and-swap, then the message in its place.
    template <typename Build>
    bool change(unsigned from_mask, service_state to, Build build) {
        const auto ticket = link::transition(*target, from_mask, to);
        if (ticket == 0) return false;
        link::post(*target, ticket, build());
        return true;
    }
    bool to_ready(std::string_view text) {
        return change(bits({service_state::starting, service_state::reloading}),
                      service_state::ready,
                      [&] { return lifecycle_messages::ready(text, keepalive.watchdog_on()); });
    }
    bool to_reloading(std::string_view text) {
        return change(bits({service_state::ready}), service_state::reloading,
                      [&] { return lifecycle_messages::reloading(text); });
    }
    bool to_stopping(std::string_view text) {
        return change(
            bits({service_state::starting, service_state::ready, service_state::reloading}),
            service_state::stopping, [&] { return lifecycle_messages::stopping(text); });
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

    state get() const noexcept { return static_cast<state>(link::state(*target)); }
    const lifecycle_config &config() const noexcept { return settings.config(); }

    const lifecycle_settings settings;
    const lifecycle_rules rules;
    lifecycle_keepalive keepalive;  // set once at construction, under systemd only
    std::shared_ptr<dispatcher> target;
    const std::atomic<std::uint64_t> *state_word = nullptr;  // target's, one load per record
    std::optional<std::chrono::microseconds> watchdog_interval;
    std::atomic<bool> closed{false};
    bool handles_signals = false;

    // Wiring checks (the dispatcher's thread only).
    struct wiring_state {
        spdlog::sinks::sink *sink = nullptr;       // the lifecycle's own rule sink
        spdlog::logger *default_logger = nullptr;  // the default logger attach_all() reached
        std::vector<std::string> reported_loggers;
        std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
        bool reported_no_ready = false;
    } wiring;
    void check_wiring();
    void report_match_errors();
};

}  // namespace details

// ---------------------------------------------------------------------------- signals

namespace {

using details::lifecycle_state;
using details::service_state;
using details::signal_message;

// What the signal handler needs, set up beforehand: it may not allocate, lock or look anything
// up. Only one lifecycle owns it at a time.
struct signal_setup {
    std::atomic<lifecycle_state *> owner{nullptr};
    dispatcher *target = nullptr;
    struct sigaction previous_term {};
    struct sigaction previous_int {};
    struct sigaction previous_hup {};
    bool term_installed = false;
    bool int_installed = false;
    bool hup_installed = false;
    bool ready_after_hup = false;
};
signal_setup g_signals;

bool default_terminates(const struct sigaction &previous) noexcept {
    return !(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_DFL;
}

void run_previous(const struct sigaction &previous, int sig, siginfo_t *info, void *context,
                  bool default_is_fatal) {
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction != nullptr) previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler == SIG_IGN) {
        // ignored before us: stays ignored
    } else if (previous.sa_handler == SIG_DFL) {
        if (default_is_fatal) {
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
    dispatcher *d = g_signals.target;
    if (sig == SIGHUP) {
        if (self != nullptr) {
            const auto ticket = details::lifecycle_link::transition(
                *d, details::state_bit(service_state::ready), service_state::reloading);
            if (ticket != 0) {
                timespec ts{};
                clock_gettime(CLOCK_MONOTONIC, &ts);
                const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
                                  static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
                details::lifecycle_link::from_signal(*d, ticket, signal_message::reloading, usec,
                                                     false);
            }
        }
        run_previous(g_signals.previous_hup, sig, info, context, false);
        if (self != nullptr && g_signals.ready_after_hup) {
            const auto ticket = details::lifecycle_link::transition(
                *d, details::state_bit(service_state::reloading), service_state::ready);
            if (ticket != 0)
                details::lifecycle_link::from_signal(*d, ticket, signal_message::ready_after_hup, 0,
                                                     false);
        }
        return;
    }
    const struct sigaction &previous =
        sig == SIGINT ? g_signals.previous_int : g_signals.previous_term;
    if (self != nullptr) {
        const auto ticket = details::lifecycle_link::transition(
            *d,
            details::state_bit(service_state::starting) | details::state_bit(service_state::ready) |
                details::state_bit(service_state::reloading),
            service_state::stopping);
        if (ticket != 0) {
            // With the default action next, this is the last chance: wait for it (bounded).
            details::lifecycle_link::from_signal(
                *d, ticket, sig == SIGINT ? signal_message::stop_int : signal_message::stop_term, 0,
                default_terminates(previous));
        }
    }
    run_previous(previous, sig, info, context, true);
}

// Installs our handler in front of the application's, with its flags and mask, so that
// SA_RESETHAND ("Ctrl-C twice"), SA_NODEFER and SA_ONSTACK still mean what they meant. A
// signal the application ignores stays ignored: nothing to report, since nothing will stop.
bool install(int sig, struct sigaction &previous) {
    sigaction(sig, nullptr, &previous);
    if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler == SIG_IGN) return false;
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = previous.sa_flags | SA_SIGINFO;
    sa.sa_mask = previous.sa_mask;
    return sigaction(sig, &sa, nullptr) == 0;
}

// A handler that is no longer ours was installed after the lifecycle (signal() later in main):
// put ours back in front of it, so that STOPPING still goes and then that handler runs.
void check_handler(int sig, struct sigaction &previous, const char *name) {
    struct sigaction current {};
    if (sigaction(sig, nullptr, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_signal) return;
    // SA_RESETHAND: the kernel reset it after a delivery, as the application asked.
    if ((static_cast<unsigned>(previous.sa_flags) & SA_RESETHAND) &&
        !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL)
        return;
    lifecycle_state *self = g_signals.owner.load();
    if (self == nullptr) return;
    previous = current;
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = current.sa_flags | SA_SIGINFO;
    sa.sa_mask = current.sa_mask;
    sigaction(sig, &sa, nullptr);
    details::lifecycle_link::diagnose(
        *self->target,
        std::string(name) +
            " handler was replaced after the lifecycle was created: re-installed ours in front "
            "of it (STOPPING/RELOADING is sent, then the new handler runs). Install signal "
            "handlers before creating the lifecycle to avoid this.");
}

void at_exit_hook() {
    lifecycle_state *self = g_signals.owner.load();
    if (self == nullptr || !self->config().stop_at_exit) return;
    if (details::lifecycle_link::forked(*self->target)) return;  // the parent's service, not ours
    if (self->to_stopping("")) self->target->flush(std::chrono::milliseconds(500));
}

}  // namespace

// A regex that PCRE2 could not test (match limit, no memory) silently never fires: say so.
void details::lifecycle_state::report_match_errors() {
    const auto now = std::chrono::steady_clock::now();
    const lifecycle_config &config = settings.config();
    for (const auto *r :
         {&config.ready_when, &config.reloading_when, &config.reloaded_when, &config.stopping_when,
          &config.failure_when, &config.progress_when, &config.alive_when}) {
        if (const text_test *t = rule_access::text(*r)) {
            const std::string errors = t->take_errors(now);
            if (!errors.empty()) link::diagnose(*target, errors);
        }
    }
}

void details::lifecycle_state::check_wiring() {
    if (closed.load()) return;
    report_match_errors();
    if (controls_off().wiring_check) return;
    if (handles_signals) {
        if (g_signals.term_installed) check_handler(SIGTERM, g_signals.previous_term, "SIGTERM");
        if (g_signals.int_installed) check_handler(SIGINT, g_signals.previous_int, "SIGINT");
        if (g_signals.hup_installed) check_handler(SIGHUP, g_signals.previous_hup, "SIGHUP");
    }
    auto has_sink = [this](const spdlog::logger &l) {
        for (const auto &s : l.sinks())
            if (s.get() == wiring.sink) return true;
        return false;
    };
    if (config().attach_to_all) {
        // Loggers that cannot reach the rules: made later, or the default logger replaced.
        // Looked at under the registry's lock (apply_all), which set_default_logger() takes
        // too; no copy of a logger is kept.
        std::vector<std::string> missing;
        bool default_replaced = false;
        spdlog::apply_all([&](const std::shared_ptr<spdlog::logger> &l) {
            if (!l || has_sink(*l)) return;
            if (l.get() == spdlog::default_logger_raw()) {
                if (l.get() != wiring.default_logger) {
                    wiring.default_logger = l.get();
                    default_replaced = true;
                    wiring.reported_loggers.push_back(l->name());
                }
                return;
            }
            missing.push_back(l->name());
        });
        if (default_replaced)
            link::diagnose(*target,
                           "the default logger was replaced after the lifecycle attached to it "
                           "(spdlog::set_default_logger): records from spdlog::info() and the "
                           "like no longer reach its rules; call lifecycle.attach(spdlog::"
                           "default_logger()) after replacing it.");
        for (const auto &name : missing) {
            if (std::find(wiring.reported_loggers.begin(), wiring.reported_loggers.end(), name) !=
                wiring.reported_loggers.end())
                continue;
            wiring.reported_loggers.push_back(name);
            link::diagnose(*target, "logger '" + name +
                                        "' has no lifecycle sink (made after the lifecycle?): "
                                        "its records cannot trigger the lifecycle's rules; call "
                                        "lifecycle.attach(logger) once it exists.");
        }
    }
    if (config().ready_when && !wiring.reported_no_ready && get() == state::starting &&
        std::chrono::steady_clock::now() - wiring.created > std::chrono::seconds(10)) {
        wiring.reported_no_ready = true;
        link::diagnose(*target,
                       "no record has matched ready_when for 10 s: the service still says "
                       "'activating'. Check the rule's text and logger, and that the logger "
                       "logging that line has the lifecycle's sink.");
    }
}

// ---------------------------------------------------------------------------- lifecycle

lifecycle::lifecycle(lifecycle_config config, std::shared_ptr<status_sink_mt> status)
    : state_(std::make_shared<details::lifecycle_state>(std::move(config))) {
    auto &s = *state_;
    const lifecycle_config &c = s.config();
    s.target = c.dispatcher ? c.dispatcher : dispatcher::default_instance();
    s.state_word = &details::lifecycle_link::state_word(*s.target);
    sink_ = std::make_shared<lifecycle_sink_mt>(state_, std::move(status));
    if (!s.target->enabled()) {
        s.closed = true;  // not under systemd: nothing to do, ever
        return;
    }
    s.watchdog_interval = watchdog_enabled();
    s.keepalive = details::lifecycle_keepalive(c, s.watchdog_interval);
    s.wiring.sink = sink_.get();
    if (c.attach_to_all) {
        attach_all();
        s.wiring.default_logger = spdlog::default_logger_raw();
    }
    if (!s.settings.reloads()) {
        // A reload that nothing ends would leave the unit "reloading" for good.
        details::lifecycle_link::diagnose(
            *s.target,
            "lifecycle: reload_on_sighup/reloading_when without reloaded_when (or "
            "ready_after_sighup_handler): nothing would end a reload, so reloads are not reported; "
            "set one of them.");
    }

    if (s.settings.wants_signals_or_exit()) {
        lifecycle_state *expected = nullptr;
        if (g_signals.owner.compare_exchange_strong(expected, &s)) {
            s.handles_signals = true;
            g_signals.target = s.target.get();
            g_signals.ready_after_hup = c.ready_after_sighup_handler;
            // The handler may only send on a socket that is already open.
            if (c.stop_on_signals || c.reload_on_sighup) (void)s.target->notifier()->open();
            if (c.stop_on_signals) {
                g_signals.term_installed = install(SIGTERM, g_signals.previous_term);
                g_signals.int_installed = install(SIGINT, g_signals.previous_int);
            }
            if (c.reload_on_sighup && s.settings.reloads())
                g_signals.hup_installed = install(SIGHUP, g_signals.previous_hup);
            static std::once_flag registered;
            std::call_once(registered, [] { std::atexit(at_exit_hook); });
        } else {
            s.target->report(std::make_error_code(std::errc::device_or_resource_busy),
                             "another lifecycle already handles signals and exit");
        }
    }
    details::lifecycle_link::set_keepalive(*s.target, s.keepalive.plan(), c.healthy);
    if (s.keepalive.timer_only()) {
        // Allowed (a quiet service must not be killed by a default), but not silently: the
        // operator who set WatchdogSec= learns that it catches less than they think.
        details::lifecycle_link::diagnose(
            *s.target,
            "WatchdogSec= is set, but neither alive_when nor healthy is: the watchdog pings come "
            "from a timer and prove only that the process is scheduled, not that it works (set "
            "lifecycle_config::alive_when to a record the main loop logs, or healthy)");
    }
    // Wiring mistakes surface within a second or so, on the dispatcher's thread.
    std::weak_ptr<details::lifecycle_state> weak = state_;
    details::lifecycle_link::set_periodic(*s.target, [weak] {
        if (auto state = weak.lock()) state->check_wiring();
    });
}

lifecycle::~lifecycle() {
    auto &s = *state_;
    if (s.closed.load()) return;
    if (!details::lifecycle_link::forked(*s.target)) {
        if (s.config().stop_at_exit && s.to_stopping(""))
            s.target->flush(std::chrono::milliseconds(500));
        details::lifecycle_link::set_keepalive(*s.target, {}, {});  // no pings without us
        details::lifecycle_link::set_periodic(*s.target, nullptr);
    }
    if (s.handles_signals) {
        if (g_signals.term_installed) {
            sigaction(SIGTERM, &g_signals.previous_term, nullptr);
            g_signals.term_installed = false;
        }
        if (g_signals.int_installed) {
            sigaction(SIGINT, &g_signals.previous_int, nullptr);
            g_signals.int_installed = false;
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
lifecycle_sink<Mutex>::lifecycle_sink(std::shared_ptr<details::lifecycle_state> state,
                                      std::shared_ptr<status_sink_mt> status)
    : state_(std::move(state)), status_(std::move(status)) {}

template <typename Mutex>
void lifecycle_sink<Mutex>::log(const spdlog::details::log_msg &msg) {
    try {
        state_->on_record(msg);
    } catch (...) {
        state_->target->report(errc::callback_failed, "lifecycle: a rule threw");
    }
    // The lifecycle first (a READY record carries its own text), then the status text.
    if (status_ && status_->accepts(msg.level)) status_->log(msg);
}

template class lifecycle_sink<std::mutex>;
template class lifecycle_sink<spdlog::details::null_mutex>;

}  // namespace spdlog_sdnotify
