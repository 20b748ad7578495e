// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/message.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace spdlog_sdnotify {

/**
 * Where notifications go, parsed from NOTIFY_SOCKET: "/path", "@abstract", "vsock:CID:PORT",
 * or "vsock-stream:", "vsock-dgram:", "vsock-seqpacket:" with CID:PORT.
 *
 *     std::error_code ec;
 *     auto addr = spdlog_sdnotify::notify_address::parse("@/org/example/notify", ec);
 */
struct SPDLOG_SDNOTIFY_API notify_address {
    enum class family_type : unsigned char { path, abstract, vsock };
    enum class vsock_type : unsigned char { any, stream, dgram, seqpacket };

    family_type family = family_type::path;
    std::string name;  // the path, or the abstract name without its '@'
    std::uint32_t cid = 0;
    std::uint32_t port = 0;
    vsock_type type =
        vsock_type::any;  // "vsock:": DGRAM, falling back as systemd's sd_notify() does

    /// Fills `ec` when `text` is not usable: errc::bad_address, address_too_long, or
    /// fd_number_address for a bare descriptor number (finit 4.4-4.12: "3").
    static std::optional<notify_address> parse(std::string_view text, std::error_code &ec);
    /// The address in NOTIFY_SOCKET form.
    std::string to_string() const;
};

/// What a send did, in sd_notify()'s three ways: sent (>0), no service manager (0), failed (<0).
class SPDLOG_SDNOTIFY_API notify_result {
public:
    enum class outcome_type : unsigned char { sent, no_manager, failed };

    static notify_result sent() noexcept { return notify_result(outcome_type::sent, {}); }
    static notify_result no_manager() noexcept {
        return notify_result(outcome_type::no_manager, {});
    }
    static notify_result failed(std::error_code ec) noexcept {
        return notify_result(outcome_type::failed, ec);
    }

    outcome_type outcome() const noexcept { return outcome_; }
    bool is_sent() const noexcept { return outcome_ == outcome_type::sent; }
    bool is_no_manager() const noexcept { return outcome_ == outcome_type::no_manager; }
    bool is_failed() const noexcept { return outcome_ == outcome_type::failed; }
    /// "Not under systemd" is not a failure.
    explicit operator bool() const noexcept { return outcome_ != outcome_type::failed; }
    std::error_code error() const noexcept { return error_; }
    /// sd_notify()'s convention: 1 sent, 0 no service manager, -errno (or -EINVAL) on failure.
    int code() const noexcept;

private:
    notify_result(outcome_type o, std::error_code ec) noexcept : outcome_(o), error_(ec) {}
    outcome_type outcome_;
    std::error_code error_;
};

struct notifier_options {
    /// Unset NOTIFY_SOCKET after reading it, so children do not inherit it. It changes the
    /// environment: do it before other threads start (setenv/getenv are not thread-safe).
    bool unset_environment = false;
    /// Whether a forked child may send. Off by default: a child (a worker, a helper that later
    /// execs) must not overwrite the service's status or state. When on, the child opens a
    /// socket of its own rather than sharing the parent's.
    bool allow_forked_child = false;
    /// vsock stream/seqpacket need a connect; this bounds how long a send may wait for it.
    std::chrono::milliseconds vsock_connect_timeout{100};
};

/**
 * The sd_notify protocol client: one non-blocking datagram socket, opened lazily, no systemd
 * library. Outside systemd every send is a no-op returning no_manager(). Sends never block and
 * never throw (a full receiver queue is EAGAIN). Thread-safe.
 *
 *     spdlog_sdnotify::notifier n;                        // reads NOTIFY_SOCKET once
 *     n.send(spdlog_sdnotify::message{}.ready().status("accepting connections"));
 *
 * Limitations: sends no file descriptors and no credentials (the kernel adds them for PID 1,
 * which sets SO_PASSCRED); vsock stream/seqpacket transports connect per message.
 */
class SPDLOG_SDNOTIFY_API notifier {
public:
    /// Reads NOTIFY_SOCKET once; an unusable value makes every send fail with address_error().
    explicit notifier(notifier_options options = {});
    /// An explicit address in NOTIFY_SOCKET form; an empty one means "no service manager".
    explicit notifier(std::string_view address, notifier_options options = {});
    ~notifier();
    notifier(const notifier &) = delete;
    notifier &operator=(const notifier &) = delete;

    /// An address is configured (perhaps invalid: address_error()).
    bool enabled() const noexcept { return configured_; }
    const std::optional<notify_address> &address() const noexcept { return address_; }
    std::error_code address_error() const noexcept { return address_error_; }
    /// NOTIFY_SOCKET's value as given, also when unusable.
    std::string_view address_text() const noexcept { return address_text_; }

    notify_result send(const message &msg) noexcept;
    /// Sends pre-built bytes as one datagram: at most max_datagram_size bytes, no NUL.
    notify_result send_raw(std::string_view datagram) noexcept;

    notify_result ready(std::string_view status_text = {}) noexcept;
    notify_result status(std::string_view text) noexcept;
    notify_result stopping(std::string_view status_text = {}) noexcept;
    notify_result reloading(std::string_view status_text = {}) noexcept;
    notify_result watchdog() noexcept;

    /**
     * BARRIER=1 with a pipe's write end, then waits up to `timeout` for the receiver to close
     * it, which PID 1 (systemd >= 246) does once every earlier message is processed, as
     * sd_notify_barrier() relies on. A receiver that never reads: timed_out. Not for vsock.
     *
     *     n.send(message{}.status("done")); n.barrier(std::chrono::milliseconds(250));
     */
    notify_result barrier(std::chrono::milliseconds timeout) noexcept;

    /// Opens the socket now (it is otherwise opened by the first send): a signal handler that
    /// uses send_signal_safe() needs it open beforehand.
    notify_result open() noexcept;

    /// Async-signal-safe send of prepared bytes on the socket open() opened (path and abstract
    /// addresses only). Returns 1 sent, 0 no service manager, -errno on failure.
    int send_signal_safe(const char *data, std::size_t size) const noexcept;

private:
    void init(std::string_view address);
    int socket_for_send(pid_t self, std::error_code &ec) noexcept;
    notify_result send_vsock(std::string_view datagram) noexcept;

    notifier_options options_;
    bool configured_ = false;
    std::optional<notify_address> address_;
    std::error_code address_error_;
    std::string address_text_;
    // Built once so that sends, including the signal-safe one, only call sendto().
    sockaddr_storage sockaddr_{};
    socklen_t sockaddr_len_ = 0;
    pid_t creator_pid_ = 0;
    // The open socket and the process that opened it, in one word so that a signal handler and
    // concurrent senders see a consistent pair without a lock: (pid << 32) | (uint32_t)fd.
    std::atomic<std::uint64_t> socket_{~std::uint64_t{0}};
};

/// The process-wide notifier (notify(), dispatcher::default_instance()), made on first use.
SPDLOG_SDNOTIFY_API notifier &default_notifier();

/**
 * The options default_notifier() will be made with: false (and a line on stderr) if it was made
 * already, so call it first in main(). Thread-safe.
 *
 *     spdlog_sdnotify::notifier_options options;
 *     options.unset_environment = true;
 *     spdlog_sdnotify::set_default_notifier_options(options);
 */
SPDLOG_SDNOTIFY_API bool set_default_notifier_options(notifier_options options);

/**
 * One call, like sd_notify(): sends `msg` through default_notifier().
 *
 *     spdlog_sdnotify::notify(spdlog_sdnotify::message{}.ready());
 */
SPDLOG_SDNOTIFY_API notify_result notify(const message &msg) noexcept;

/**
 * The watchdog interval systemd asked for (WATCHDOG_USEC), if it applies to this process
 * (WATCHDOG_PID unset or equal to getpid()), as sd_watchdog_enabled() decides.
 *
 *     if (auto interval = spdlog_sdnotify::watchdog_enabled()) ping every *interval / 2
 */
SPDLOG_SDNOTIFY_API std::optional<std::chrono::microseconds> watchdog_enabled(
    bool unset_environment = false);

/// True when the system was booted with systemd (/run/systemd/system/ exists), like sd_booted().
SPDLOG_SDNOTIFY_API bool booted() noexcept;

}  // namespace spdlog_sdnotify
