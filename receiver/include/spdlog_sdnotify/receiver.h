// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The receiving side, parsed the way PID 1 parses it (systemd 252, src/core/manager.c and
// service.c; see docs/protocol.md). One parser for the test fixture and the development receiver,
// so both see exactly what systemd would see.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace spdlog_sdnotify {

/**
 * One datagram as PID 1 reads it: dropped whole (oversize, embedded NUL, a trailing lone
 * backslash) or split into assignments on LF and CR, with backslash escapes removed.
 *
 *     auto p = parse_notification("READY=1\nSTATUS=up\n");
 *     p.accepted && p.find("STATUS") == "up"
 */
struct parsed_notification {
    bool accepted = false;
    std::string drop_reason;               // what PID 1 logs when it drops the datagram
    std::vector<std::string> assignments;  // "KEY=value", after unescaping, in order
    std::vector<std::string> warnings;     // accepted, but not what the sender likely meant

    /// The value of the first assignment to `key` (PID 1 looks keys up first-match).
    std::optional<std::string_view> find(std::string_view key) const noexcept;
};

/// `truncated`: the kernel reported MSG_TRUNC (the datagram was larger than the buffer).
parsed_notification parse_notification(std::string_view datagram, bool truncated = false);

/// systemd's utf8_is_valid(): strict UTF-8 without surrogates or noncharacters.
bool systemd_utf8_valid(std::string_view text) noexcept;

/**
 * What PID 1 keeps for a Type=notify service, updated message by message: the state systemctl
 * shows, StatusText, StatusErrno, watchdog pings.
 */
class service_model {
public:
    enum class state { activating, active, reloading, deactivating };

    /// Applies one parsed datagram; returns false if PID 1 would have dropped it.
    bool apply(const parsed_notification &message);

    state current_state() const noexcept { return state_; }
    const char *active_state() const noexcept;  // systemctl's ActiveState= word
    const std::string &status_text() const noexcept { return status_text_; }
    int status_errno() const noexcept { return status_errno_; }
    std::uint64_t watchdog_pings() const noexcept { return watchdog_pings_; }
    bool watchdog_triggered() const noexcept { return watchdog_triggered_; }
    std::optional<std::uint64_t> extend_timeout_usec() const noexcept { return extend_timeout_; }
    std::optional<std::uint64_t> watchdog_usec_override() const noexcept { return watchdog_usec_; }
    std::uint64_t ready_count() const noexcept { return ready_count_; }
    std::uint64_t reloading_count() const noexcept { return reloading_count_; }
    std::uint64_t stopping_count() const noexcept { return stopping_count_; }
    /// Warnings about state changes (READY after STOPPING, RELOADING without MONOTONIC_USEC).
    const std::vector<std::string> &warnings() const noexcept { return warnings_; }

private:
    state state_ = state::activating;
    std::string status_text_;
    int status_errno_ = 0;
    std::uint64_t watchdog_pings_ = 0;
    bool watchdog_triggered_ = false;
    std::optional<std::uint64_t> extend_timeout_;
    std::optional<std::uint64_t> watchdog_usec_;
    std::uint64_t ready_count_ = 0;
    std::uint64_t reloading_count_ = 0;
    std::uint64_t stopping_count_ = 0;
    std::vector<std::string> warnings_;
};

/**
 * A notify socket to receive on, bound at "/path" or "@abstract" (the test fixture, the
 * development receiver). The path is unlinked on destruction.
 *
 *     std::error_code ec;
 *     spdlog_sdnotify::notify_receiver r("/tmp/x/notify", ec);
 *     if (auto d = r.receive(std::chrono::seconds(1))) parse_notification(d->bytes, d->truncated);
 */
class notify_receiver {
public:
    struct datagram {
        std::string bytes;
        bool truncated = false;
        pid_t sender_pid = 0;  // from SCM_CREDENTIALS, 0 if absent
    };

    notify_receiver(std::string address, std::error_code &ec);
    ~notify_receiver();
    notify_receiver(const notify_receiver &) = delete;
    notify_receiver &operator=(const notify_receiver &) = delete;

    const std::string &address() const noexcept { return address_; }
    int fd() const noexcept { return fd_; }
    /// Waits up to `timeout` for one datagram.
    std::optional<datagram> receive(std::chrono::milliseconds timeout);

private:
    std::string address_;
    int fd_ = -1;
};

}  // namespace spdlog_sdnotify
