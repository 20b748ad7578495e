// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/status_sink.h>

#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog_sdnotify {

namespace details {
class text_test;
struct rule_access;
}  // namespace details

/**
 * Which log records an event is recognised by: a text, a regex or a predicate, optionally only
 * from one logger and at or above a level.
 *
 *     rule::contains("listening on").from("http")
 *     rule::any_at_least(spdlog::level::critical)
 */
class SPDLOG_SDNOTIFY_API rule {
public:
    /// The payload contains `text`.
    static rule contains(std::string text);
    /// The payload matches `pattern` (PCRE2 syntax, compiled once here, JIT where allowed).
    /// Throws std::invalid_argument, naming the error, for a pattern that does not compile.
    static rule regex(std::string pattern);
    /// Any record at or above `level`.
    static rule any_at_least(spdlog::level::level_enum level);
    /// A predicate of your own, on the logging thread.
    static rule when(std::function<bool(const spdlog::details::log_msg &)> predicate);

    /// Only from the logger named `logger_name`.
    rule &from(std::string logger_name);
    /// Only records at or above `level` (set); the lowest level it accepts (get).
    rule &at_least(spdlog::level::level_enum level);
    spdlog::level::level_enum at_least() const noexcept { return min_level_; }

    /// Whether `msg` passes every test of this rule.
    bool matches(const spdlog::details::log_msg &msg) const;

private:
    friend struct details::rule_access;
    std::optional<std::string> logger_;
    spdlog::level::level_enum min_level_ = spdlog::level::trace;
    // Prepared once, shared by copies of the rule.
    std::shared_ptr<const details::text_test> text_;
    std::function<bool(const spdlog::details::log_msg &)> predicate_;
};

struct lifecycle_config {
    /// READY=1, once, when a record matches; the record's text goes as STATUS with it.
    std::optional<rule> ready_when;
    /// RELOADING=1 (with MONOTONIC_USEC) when a record matches, while ready.
    std::optional<rule> reloading_when;
    /// READY=1 again when a record matches, while reloading.
    std::optional<rule> reloaded_when;
    /// While reloading, a record that says the reload failed: READY=1 with the record's text as
    /// STATUS (the service goes on with its old configuration, so `systemctl reload` returns and
    /// shows why). By default any record at err or above; unset it to wait for reloaded_when.
    std::optional<rule> reload_failed_when = rule::any_at_least(spdlog::level::err);
    /// A reload that neither reloaded_when nor reload_failed_when ends within this time is
    /// ended with READY=1 and a STATUS that says so, plus a diagnostic: the unit is never left
    /// "reloading". Zero: no bound (systemd's own reload timeout applies).
    std::chrono::milliseconds reload_timeout{std::chrono::seconds(10)};
    /// STOPPING=1 when a record matches.
    std::optional<rule> stopping_when;
    /// STATUS (and ERRNO) when a record matches, e.g.
    /// rule::any_at_least(spdlog::level::critical). It changes no state.
    std::optional<rule> failure_when;
    /// The errno behind a failure record, 0 if unknown.
    std::function<int(const spdlog::details::log_msg &)> failure_errno;
    /// The application calls lifecycle::ready() itself. Without it and without ready_when,
    /// READY=1 would never be sent, which the lifecycle says at set-up.
    bool ready_by_call = false;

    /// SIGHUP sends RELOADING=1 (as Type=notify-reload expects), then your handler runs. The
    /// reload ends on reloaded_when or lifecycle::ready(); without either, reloads stay off
    /// (with a diagnostic), since nothing would end one.
    bool reload_on_sighup = false;
    /// Opt-in: READY=1 when your SIGHUP handler returns. Only for handlers that reload before
    /// returning: one that sets a flag would announce the reload done before it starts.
    bool ready_after_sighup_handler = false;
    /// SIGTERM and SIGINT send STOPPING=1, then your handler (or the default action) runs. An
    /// ignored signal is left alone; your handler's flags and mask are kept.
    bool stop_on_signals = false;
    /// Opt-in: STOPPING=1 when this object is destroyed, or at exit() while it lives. Off by
    /// default: a program that finishes its work is not "stopping" (RemainAfterExit=yes).
    bool stop_at_exit = false;
    /// What counts as progress for extend_timeout; unset: every record.
    std::optional<rule> progress_when;
    /// Non-zero: during start-up and shutdown, EXTEND_TIMEOUT_USEC= this value, at most every
    /// third of it and only after progress since the previous one: a start that hangs stops
    /// logging, so TimeoutStartSec= (TimeoutStopSec=) still catches it.
    std::chrono::microseconds extend_timeout{0};
    /// The most that extensions may add to one start-up (or shutdown): 15 minutes, longer than
    /// any sane start, short enough that a service looping on "still waiting" fails that morning.
    std::chrono::microseconds extend_timeout_limit{std::chrono::minutes(15)};
    /// Ping WATCHDOG=1 every half interval when systemd set WATCHDOG_USEC for this process.
    bool watchdog = true;
    /// A ping only if a record matching this rule arrived within the last interval: a main loop
    /// that stops turning gets the service restarted.
    std::optional<rule> alive_when;
    /// Asked before every ping (on the dispatcher's thread); false means unhealthy.
    std::function<bool()> healthy;
    /// When unhealthy: send WATCHDOG=trigger (immediate watchdog action) instead of only
    /// stopping the pings.
    bool trigger_when_unhealthy = false;
    /// Add the rule sink to every registered logger and the default one at construction.
    bool attach_to_all = true;
    /// Where to send; null means dispatcher::default_instance().
    std::shared_ptr<spdlog_sdnotify::dispatcher> dispatcher;
};

namespace details {
struct lifecycle_state;
struct lifecycle_attachment;
}  // namespace details

/**
 * Maps what the application already does (log records, signals, scope exit) to READY=1,
 * RELOADING=1, STOPPING=1, and keeps the watchdog fed. Outside systemd it does nothing.
 *
 *     spdlog_sdnotify::lifecycle_config c;
 *     c.ready_when = spdlog_sdnotify::rule::contains("listening on");
 *     c.stop_on_signals = true;
 *     spdlog_sdnotify::lifecycle life(c);   // lives as long as main()
 *
 * STOPPING is terminal: after it only status information and EXTEND_TIMEOUT_USEC are sent.
 * Only one lifecycle per process handles signals and exit().
 */
class SPDLOG_SDNOTIFY_API lifecycle {
public:
    /// Where the service is; the values are also the bits of the dispatcher's state word.
    enum class state : unsigned { starting = 0, ready = 1, reloading = 2, stopping = 3 };

    /// `status`: a status sink that this lifecycle's sink hands every record on to, so that one
    /// sink on each logger does both (what `service` does); give it the same dispatcher.
    explicit lifecycle(lifecycle_config config = {},
                       std::shared_ptr<status_sink_mt> status = nullptr);
    /// Sends STOPPING=1 if stop_at_exit (and waits for it to leave, briefly), stops the
    /// watchdog, and restores the signal handlers it replaced.
    ~lifecycle();
    lifecycle(const lifecycle &) = delete;
    lifecycle &operator=(const lifecycle &) = delete;

    /// The sink that sees records for the rules; attach it to loggers made later.
    spdlog::sink_ptr sink() const;
    void attach(const std::shared_ptr<spdlog::logger> &logger) const;
    void attach_all() const;

    /// For those who want explicit calls. Each returns false if the state does not allow it
    /// (READY after STOPPING, ...); otherwise the message is on its way (waited for briefly).
    bool ready(std::string_view status = {});
    bool reloading(std::string_view status = {});
    bool stopping(std::string_view status = {});

    state current_state() const noexcept;
    /// The watchdog interval systemd asked for, if it applies to this process.
    std::optional<std::chrono::microseconds> watchdog_interval() const noexcept;

private:
    std::shared_ptr<details::lifecycle_state> state_;
    spdlog::sink_ptr sink_;
    // What loggers hold (sink()): the status goes out when the last of them lets go.
    mutable std::mutex attachment_mutex_;
    mutable std::weak_ptr<details::lifecycle_attachment> attachment_;
};

}  // namespace spdlog_sdnotify
