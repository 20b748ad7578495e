// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace spdlog_sdnotify {

/// PID 1 drops a whole datagram larger than this (NOTIFY_BUFFER_MAX, src/basic/constants.h).
inline constexpr std::size_t max_datagram_size = 4096;

/// Appended to a STATUS that had to be shortened, so an operator sees that text is missing.
inline constexpr std::string_view truncation_marker = "\xE2\x80\xA6";  // U+2026 "…"

/**
 * The text PID 1 will store for `text` once sanitised: one line (control characters but TAB
 * become a space, NUL is dropped), UTF-8 as strict as systemd's utf8_is_valid() (noncharacters
 * too; anything else becomes U+FFFD).
 *
 *     sanitize_text("50%\nSTOPPING=1") == "50% STOPPING=1"
 */
SPDLOG_SDNOTIFY_API std::string sanitize_text(std::string_view text);

/**
 * One notify datagram, built from typed assignments. Values are sanitised so that nothing in
 * them can become an assignment of its own; STATUS goes last and is the only value ever
 * shortened, so a long text cannot push READY=1 out. The same key twice keeps the last value.
 *
 *     auto m = spdlog_sdnotify::message{}.ready().status("listening on :8080");
 *     notifier.send(m);
 */
class SPDLOG_SDNOTIFY_API message {
public:
    message &ready();
    /// RELOADING=1 with MONOTONIC_USEC= now (CLOCK_MONOTONIC), which Type=notify-reload requires.
    message &reloading();
    /// RELOADING=1 with an explicit MONOTONIC_USEC= (for tests and replays).
    message &reloading(std::chrono::microseconds monotonic);
    message &stopping();
    /// STATUS=: any text; it is sanitised, and shortened with a marker if the datagram is full.
    message &status(std::string_view text);
    /// ERRNO=: the errno value the service failed with (shown as StatusErrno).
    message &errno_value(int error_number);
    /// BUSERROR=: a D-Bus error name such as "org.freedesktop.DBus.Error.TimedOut".
    message &bus_error(std::string_view name);
    message &exit_status(int status);
    message &main_pid(pid_t pid);
    /// WATCHDOG=1: the keep-alive ping.
    message &watchdog();
    /// WATCHDOG=trigger: ask PID 1 to run the watchdog action now.
    message &watchdog_trigger();
    message &watchdog_usec(std::chrono::microseconds interval);
    message &extend_timeout(std::chrono::microseconds extra);
    /// A private X_... assignment; the value is sanitised. A key without X_ is refused.
    message &custom(std::string_view key, std::string_view value);
    /// The escape hatch: KEY=VALUE sent verbatim (no escaping). LF, CR and NUL are refused.
    message &raw(std::string_view assignment);

    /// Removes an assignment ("STATUS" included), if there.
    message &erase(std::string_view key);

    bool empty() const noexcept { return fields_.empty() && !has_status_; }
    /// The STATUS text as given (before sanitising), or null if there is none.
    const std::string *status_text() const noexcept { return has_status_ ? &status_ : nullptr; }
    /// The first problem met while building (invalid key, raw value with a newline, ...).
    std::error_code error() const noexcept { return error_; }
    bool has(std::string_view key) const noexcept;

    /// Writes the datagram into `out` (replacing it), at most max_datagram_size bytes; fails
    /// with errc::message_too_large if the assignments other than STATUS do not fit.
    std::error_code build(std::string &out) const;
    /// build() into a new string; empty if build() fails.
    std::string str() const;

private:
    message &set(std::string_view key, std::string value);
    void fail(std::error_code ec) noexcept;

    // Few keys per message: a flat vector keeps their order and is cheap to search.
    std::vector<std::pair<std::string, std::string>> fields_;  // key, wire-ready value
    std::string status_;
    bool has_status_ = false;
    std::error_code error_;
};

/// True for a syntactically valid assignment key: [A-Z][A-Z0-9_]*.
SPDLOG_SDNOTIFY_API bool valid_key(std::string_view key) noexcept;

}  // namespace spdlog_sdnotify
