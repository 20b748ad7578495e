// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/lifecycle.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "controls.h"
#include "lifecycle_signals.h"
#include "lifecycle_state.h"
#include "lifecycle_wiring.h"
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

// ---------------------------------------------------------------------------- lifecycle

namespace details {

// The sink behind lifecycle::sink(): it matches the current state's rules and hands the record
// on to the status sink, if there is one. One class for any number of threads: it takes no lock
// (the rules are immutable, the state is atomic), and a match queues a message (no syscall).
class lifecycle_sink final : public spdlog::sinks::sink {
public:
    lifecycle_sink(std::shared_ptr<lifecycle_state> state, std::shared_ptr<status_sink_mt> status)
        : state_(std::move(state)), status_(std::move(status)) {}

    void log(const spdlog::details::log_msg &msg) override {
        try {
            state_->on_record(msg);
        } catch (...) {
            // Counted, said once by the dispatcher's thread: no lock or syscall per record.
            dispatcher_access::callback_failed(*state_->target, callback::rule);
        }
        // The lifecycle first (a READY record carries its own text), then the status text.
        if (status_ && status_->accepts(msg.level)) status_->log(msg);
    }
    void flush() override {}
    void set_pattern(const std::string &) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

private:
    std::shared_ptr<lifecycle_state> state_;
    std::shared_ptr<status_sink_mt> status_;  // records go on to it (one sink for both)
};

// What loggers hold of the lifecycle's sink. When the last of them lets go (spdlog::shutdown(),
// drop_all(), static destruction), the status goes out before the program goes on: it may
// _exit() next. The lifecycle itself keeps only a weak reference to this.
struct lifecycle_attachment {
    lifecycle_attachment(spdlog::sink_ptr s, std::shared_ptr<dispatcher> t)
        : sink(std::move(s)), target(std::move(t)) {}
    lifecycle_attachment(const lifecycle_attachment &) = delete;
    lifecycle_attachment &operator=(const lifecycle_attachment &) = delete;
    spdlog::sink_ptr sink;
    std::shared_ptr<dispatcher> target;
    ~lifecycle_attachment() {
        if (!controls_off().attachment) lifecycle_link::final_delivery(*target);
    }
};

}  // namespace details

lifecycle::lifecycle(lifecycle_config config, std::shared_ptr<status_sink_mt> status)
    : state_(std::make_shared<details::lifecycle_state>(std::move(config))) {
    auto &s = *state_;
    const lifecycle_config &c = s.config();
    s.target = c.dispatcher ? c.dispatcher : dispatcher::default_instance();
    s.state_word = &details::lifecycle_link::state_word(*s.target);
    sink_ = std::make_shared<details::lifecycle_sink>(state_, std::move(status));
    if (!s.target->enabled()) {
        s.closed = true;  // not under systemd: nothing to do, ever
        return;
    }
    using link = details::lifecycle_link;
    s.watchdog_interval = watchdog_enabled();
    s.keepalive = details::lifecycle_keepalive(c, s.watchdog_interval);
    if (c.attach_to_all) attach_all();
    if (!c.ready_when && !c.ready_by_call) {
        // A Type=notify unit would stay "activating" until TimeoutStartSec= kills it.
        link::diagnose(*s.target,
                       "lifecycle: no ready_when and not ready_by_call: READY=1 will never be "
                       "sent, so a Type=notify unit stays 'activating' until it times out. Set "
                       "ready_when to the line that says the service is up (e.g. "
                       "rule::contains(\"listening on\")), or call ready() and set "
                       "ready_by_call.");
    }
    if (!s.settings.reloads()) {
        // A reload that nothing ends would leave the unit "reloading" for good.
        link::diagnose(
            *s.target,
            "lifecycle: reload_on_sighup/reloading_when without reloaded_when (or "
            "ready_after_sighup_handler): nothing would end a reload, so reloads are not reported; "
            "set one of them.");
    }
    if (s.settings.wants_signals_or_exit() && !details::take_signals(s))
        s.target->report(std::make_error_code(std::errc::device_or_resource_busy),
                         "another lifecycle already handles signals and exit");
    link::set_keepalive(*s.target, s.keepalive.plan(), c.healthy);
    if (s.keepalive.timer_only()) {
        // Allowed (a quiet service must not be killed by a default), but not silently: the
        // operator who set WatchdogSec= learns that it catches less than they think.
        link::diagnose(
            *s.target,
            "WatchdogSec= is set, but neither alive_when nor healthy is: the watchdog pings come "
            "from a timer and prove only that the process is scheduled, not that it works (set "
            "lifecycle_config::alive_when to a record the main loop logs, or healthy)");
    }
    // Wiring mistakes and unfinished reloads surface within a second or so, on the
    // dispatcher's thread.
    auto wiring = std::make_shared<details::lifecycle_wiring>(s);
    std::weak_ptr<details::lifecycle_state> weak = state_;
    link::set_periodic(*s.target, [weak, wiring] {
        if (auto state = weak.lock()) wiring->check();
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
    details::give_back_signals(s);
    s.closed = true;  // sinks left in loggers do nothing from now on
}

spdlog::sink_ptr lifecycle::sink() const {
    if (state_->closed.load()) return sink_;
    std::lock_guard<std::mutex> lock(attachment_mutex_);
    auto held = attachment_.lock();
    if (!held) {
        held = std::make_shared<details::lifecycle_attachment>(sink_, state_->target);
        attachment_ = held;
    }
    return spdlog::sink_ptr(held, held->sink.get());
}

void lifecycle::attach(const std::shared_ptr<spdlog::logger> &logger) const {
    if (!logger) return;
    auto &sinks = logger->sinks();
    if (std::none_of(sinks.begin(), sinks.end(),
                     [&](const spdlog::sink_ptr &p) { return p.get() == sink_.get(); }))
        sinks.push_back(sink());
    state_->remember(logger);
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

}  // namespace spdlog_sdnotify
