// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "lifecycle_wiring.h"

#include <spdlog/common.h>
#include <spdlog/spdlog.h>

#include <signal.h>

#include <algorithm>
#include <optional>

#include "controls.h"
#include "lifecycle_signals.h"
#include "lifecycle_state.h"

namespace spdlog_sdnotify {
namespace details {

namespace {

const char *signal_name(int sig) {
    return sig == SIGHUP ? "SIGHUP" : sig == SIGINT ? "SIGINT" : "SIGTERM";
}

// "logger 'http' at warning", or "the default logger '' at warning".
std::string described(const std::string &name, bool is_default, spdlog::level::level_enum l) {
    const auto v = spdlog::level::to_string_view(l);
    return spdlog::fmt_lib::format("{} '{}' at {}", is_default ? "the default logger" : "logger",
                                   name, std::string_view(v.data(), v.size()));
}

std::string_view level_name(spdlog::level::level_enum l) {
    const auto v = spdlog::level::to_string_view(l);
    return {v.data(), v.size()};
}

// The lowest level a rule's records come at: the rule's own, or info for a rule without one
// (a line such as "listening on" is logged at info).
spdlog::level::level_enum needed_level(const rule &r) {
    return r.at_least() == spdlog::level::trace ? spdlog::level::info : r.at_least();
}

}  // namespace

lifecycle_wiring::lifecycle_wiring(lifecycle_state &s) : s_(s) {}

void lifecycle_wiring::say(std::string what) {
    lifecycle_link::diagnose(*s_.target, std::move(what));
}

bool lifecycle_wiring::once(std::vector<std::string> &said, const std::string &key) {
    if (std::find(said.begin(), said.end(), key) != said.end()) return false;
    said.push_back(key);
    return true;
}

void lifecycle_wiring::check() {
    if (s_.closed.load()) return;
    // A regex that PCRE2 could not test (match limit, no memory) silently never fires.
    const auto now = std::chrono::steady_clock::now();
    const lifecycle_config &c = s_.config();
    for (const auto *r : {&c.ready_when, &c.reloading_when, &c.reloaded_when, &c.reload_failed_when,
                          &c.stopping_when, &c.failure_when, &c.progress_when, &c.alive_when}) {
        if (const text_test *t = rule_access::text(*r)) {
            const std::string errors = t->take_errors(now);
            if (!errors.empty()) say(errors);
        }
    }
    check_reload();
    if (controls_off().wiring_check) return;
    if (s_.handles_signals) check_handlers();
    const auto loggers = look_at_loggers();
    if (c.attach_to_all) check_loggers(loggers);
    check_levels(loggers);
    check_no_ready(loggers);
}

// Under the registry's lock (which set_default_logger() and register_logger() take too): each
// logger's name (set at its construction) and level (atomic). No copy of a logger is kept.
std::vector<lifecycle_wiring::logger_seen> lifecycle_wiring::look_at_loggers() const {
    std::vector<logger_seen> seen;
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger> &l) {
        if (!l) return;
        seen.push_back(
            {l->name(), l->level(), s_.was_attached(l), l.get() == spdlog::default_logger_raw()});
    });
    return seen;
}

void lifecycle_wiring::check_handlers() {
    for (const int sig : replaced_signal_handlers()) {
        if (!once(said_, std::string("handler ") + signal_name(sig))) continue;
        const bool hup = sig == SIGHUP;
        say(spdlog::fmt_lib::format(
            "the {} handler was replaced after the lifecycle was set up; it is left as it is, so "
            "{} is sent only if that handler calls the one it replaced. Install signal handlers "
            "before the lifecycle (or service), or chain to the previous handler.",
            signal_name(sig), hup ? "RELOADING=1" : "STOPPING=1"));
    }
}

// Loggers that cannot reach the rules: made later and never given to attach(), or the default
// logger replaced (both only while attach_to_all promised every logger).
void lifecycle_wiring::check_loggers(const std::vector<logger_seen> &loggers) {
    for (const auto &l : loggers) {
        if (l.attached) continue;
        if (l.is_default) {
            if (once(said_, "default " + l.name))
                say("the default logger was replaced after the lifecycle attached to it "
                    "(spdlog::set_default_logger): records from spdlog::info() and the like no "
                    "longer reach its rules; call attach(spdlog::default_logger()) after "
                    "replacing it.");
        } else if (once(said_, "logger " + l.name)) {
            say("logger '" + l.name +
                "' was made after the lifecycle and not given to attach(): its records cannot "
                "trigger the lifecycle's rules; call attach(logger) once it exists.");
        }
    }
}

// A logger whose level drops the records a rule needs (a production level set after the
// set-up): the rule can never fire. Said once per logger and level, when it happens.
void lifecycle_wiring::check_levels(const std::vector<logger_seen> &loggers) {
    const lifecycle_config &c = s_.config();
    const auto state = s_.get();
    struct need {
        const std::optional<rule> &r;
        const char *name;
        const char *consequence;
        bool now;
    };
    const need needs[] = {
        {c.ready_when, "ready_when", "READY=1 will not be sent",
         state == lifecycle::state::starting},
        {c.reloaded_when, "reloaded_when",
         "a reload ends only after reload_timeout, as unconfirmed",
         s_.settings.reloads() &&
             (state == lifecycle::state::ready || state == lifecycle::state::reloading)},
        {c.alive_when, "alive_when", "the watchdog pings stop and systemd will restart the service",
         s_.keepalive.watchdog_on() && state != lifecycle::state::stopping},
        {c.stopping_when, "stopping_when", "STOPPING=1 will not be sent by that rule",
         state != lifecycle::state::stopping},
    };
    for (const auto &n : needs) {
        if (!n.r || !n.now) continue;
        const auto level = needed_level(*n.r);
        const auto &from = rule_access::logger(*n.r);
        std::string hiding;
        bool any_shows = false;
        for (const auto &l : loggers) {
            if (!l.attached || (from && *from != l.name)) continue;
            if (l.level <= level) {
                any_shows = true;
                break;
            }
            hiding += (hiding.empty() ? "" : ", ") + described(l.name, l.is_default, l.level);
        }
        if (any_shows || hiding.empty()) continue;
        if (!once(said_, spdlog::fmt_lib::format("level {} {}", n.name, hiding))) continue;
        say(spdlog::fmt_lib::format(
            "{} drops the {} records that {} needs: {}. Set the level to {} "
            "or lower (spdlog::set_level, logger->set_level), or give the rule a "
            "record that is still logged (rule.at_least(...)).",
            hiding, level_name(level), n.name, n.consequence, level_name(level)));
    }
}

void lifecycle_wiring::check_no_ready(const std::vector<logger_seen> &loggers) {
    if (!s_.config().ready_when || s_.get() != lifecycle::state::starting ||
        std::chrono::steady_clock::now() - created_ < std::chrono::seconds(10) ||
        !once(said_, "no ready"))
        return;
    std::string levels;
    for (const auto &l : loggers)
        if (l.attached)
            levels += (levels.empty() ? "" : ", ") + described(l.name, l.is_default, l.level);
    say("no record has matched ready_when for 10 s: the service still says 'activating'. Check "
        "the rule's text and logger, that the logger logging that line has the lifecycle's "
        "sink, and its level (attached loggers: " +
        (levels.empty() ? std::string("none registered") : levels) + ").");
}

// A reload that neither reloaded_when nor reload_failed_when ended: the unit must not stay
// "reloading" (systemctl reload would hang), so READY=1 goes with a STATUS that says so.
void lifecycle_wiring::check_reload() {
    const auto timeout = s_.config().reload_timeout;
    if (timeout.count() <= 0 || s_.get() != lifecycle::state::reloading) return;
    const std::int64_t waited_ms = (monotonic_now_ns() - s_.reload_began_ns.load()) / 1000000;
    if (waited_ms < timeout.count()) return;
    const auto seconds = static_cast<double>(timeout.count()) / 1000.0;
    if (!s_.to_ready(
            spdlog::fmt_lib::format("reload not confirmed within {:g} s (see the log)", seconds)))
        return;
    say(spdlog::fmt_lib::format(
        "a reload was not confirmed within reload_timeout ({:g} s): READY=1 was sent "
        "so that systemctl reload returns. Check that reloaded_when matches the line "
        "the reload logs, or that a failed reload logs an error "
        "(reload_failed_when).",
        seconds));
}

}  // namespace details
}  // namespace spdlog_sdnotify
