// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/notifier.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

#include "controls.h"
#include "parse.h"

namespace spdlog_sdnotify {
namespace {

constexpr char notify_socket_env[] = "NOTIFY_SOCKET";
constexpr char watchdog_usec_env[] = "WATCHDOG_USEC";
constexpr char watchdog_pid_env[] = "WATCHDOG_PID";

constexpr std::uint64_t pack(pid_t pid, int fd) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
           static_cast<std::uint32_t>(fd);
}
constexpr pid_t packed_pid(std::uint64_t v) noexcept {
    return static_cast<pid_t>(static_cast<std::uint32_t>(v >> 32));
}
constexpr int packed_fd(std::uint64_t v) noexcept {
    return static_cast<int>(static_cast<std::uint32_t>(v & 0xFFFFFFFFU));
}

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

}  // namespace

// ---------------------------------------------------------------------------- notify_result

int notify_result::code() const noexcept {
    switch (outcome_) {
        case outcome_type::sent:
            return 1;
        case outcome_type::no_manager:
            return 0;
        case outcome_type::failed:
            break;
    }
    if (error_.category() == std::system_category() || error_.category() == std::generic_category())
        return -error_.value();
    switch (static_cast<errc>(error_.value())) {
        case errc::address_too_long:
        case errc::message_too_large:
            return -EMSGSIZE;
        case errc::bad_address:
            return -EPROTO;
        case errc::fd_number_address:
            return -EAFNOSUPPORT;
        case errc::forked_child:
            return -EPERM;
        case errc::short_write:
            return -EIO;
        default:
            return -EINVAL;
    }
}

// ---------------------------------------------------------------------------- notifier

notifier::notifier(notifier_options options) : options_(options) {
    const char *env = getenv(notify_socket_env);
    const std::string address = env ? env : "";
    if (options_.unset_environment) unsetenv(notify_socket_env);
    init(address);
}

notifier::notifier(std::string_view address, notifier_options options) : options_(options) {
    init(address);
}

notifier::~notifier() {
    const int fd = packed_fd(socket_.load());
    if (fd >= 0) ::close(fd);
}

void notifier::init(std::string_view address) {
    creator_pid_ = ::getpid();
    if (address.empty()) return;  // no service manager: every send is a quiet no-op
    configured_ = true;
    address_text_ = std::string(address);
    address_ = notify_address::parse(address, address_error_);
    if (!address_) return;
    if (address_->family == notify_address::family_type::vsock) {
        sockaddr_vm vm{};
        vm.svm_family = AF_VSOCK;
        vm.svm_cid = address_->cid;
        vm.svm_port = address_->port;
        memcpy(&sockaddr_, &vm, sizeof vm);
        sockaddr_len_ = sizeof vm;
        return;
    }
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    const bool abstract = address_->family == notify_address::family_type::abstract;
    // An abstract name is exactly its bytes after a leading NUL: the length must not include
    // padding, or the kernel looks up a different name.
    memcpy(un.sun_path + (abstract ? 1 : 0), address_->name.data(), address_->name.size());
    sockaddr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_->name.size() +
                                           1);  // the NUL, leading (abstract) or trailing (path)
    memcpy(&sockaddr_, &un, sizeof un);
}

int notifier::socket_for_send(pid_t self, std::error_code &ec) noexcept {
    std::uint64_t current = socket_.load(std::memory_order_acquire);
    if (packed_fd(current) >= 0 && packed_pid(current) == self) return packed_fd(current);
    // None yet, or the one we have was inherited from the parent: a child gets its own.
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        ec = last_error();
        return -1;
    }
    const std::uint64_t mine = pack(self, fd);
    while (!socket_.compare_exchange_weak(current, mine, std::memory_order_acq_rel)) {
        if (packed_fd(current) >= 0 && packed_pid(current) == self) {  // another thread won
            ::close(fd);
            return packed_fd(current);
        }
    }
    // Only our copy of the parent's descriptor is closed here; the parent keeps its own.
    if (packed_fd(current) >= 0) ::close(packed_fd(current));
    return fd;
}

notify_result notifier::open() noexcept {
    if (!configured_) return notify_result::no_manager();
    if (address_error_) return notify_result::failed(address_error_);
    if (address_->family == notify_address::family_type::vsock) return notify_result::sent();
    const pid_t self = ::getpid();
    if (self != creator_pid_ && !options_.allow_forked_child)
        return notify_result::failed(errc::forked_child);
    std::error_code ec;
    if (socket_for_send(self, ec) < 0) return notify_result::failed(ec);
    return notify_result::sent();
}

notify_result notifier::send(const message &msg) noexcept {
    if (!configured_) return notify_result::no_manager();
    try {
        std::string datagram;
        datagram.reserve(max_datagram_size);
        if (auto ec = msg.build(datagram)) return notify_result::failed(ec);
        return send_raw(datagram);
    } catch (const std::bad_alloc &) {
        return notify_result::failed(std::make_error_code(std::errc::not_enough_memory));
    }
}

notify_result notifier::send_raw(std::string_view datagram) noexcept {
    if (!configured_) return notify_result::no_manager();
    if (address_error_) return notify_result::failed(address_error_);
    if (datagram.empty()) return notify_result::failed(errc::empty_message);
    if (datagram.size() > max_datagram_size) return notify_result::failed(errc::message_too_large);
    if (memchr(datagram.data(), 0, datagram.size()) != nullptr)
        return notify_result::failed(errc::invalid_value);
    const pid_t self = ::getpid();
    if (self != creator_pid_ && !options_.allow_forked_child)
        return notify_result::failed(errc::forked_child);
    if (address_->family == notify_address::family_type::vsock) return send_vsock(datagram);

    std::error_code ec;
    const int fd = socket_for_send(self, ec);
    if (fd < 0) return notify_result::failed(ec);
    ssize_t n;
    // EINTR is not the receiver being slow, so trying again cannot block.
    do {
        n = ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr *>(&sockaddr_), sockaddr_len_);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return notify_result::failed(last_error());
    if (static_cast<std::size_t>(n) != datagram.size())
        return notify_result::failed(errc::short_write);
    return notify_result::sent();
}

notify_result notifier::barrier(std::chrono::milliseconds timeout) noexcept {
    if (!configured_) return notify_result::no_manager();
    if (address_error_) return notify_result::failed(address_error_);
    if (address_->family == notify_address::family_type::vsock)
        return notify_result::failed(std::make_error_code(std::errc::not_supported));
    const pid_t self = ::getpid();
    if (self != creator_pid_ && !options_.allow_forked_child)
        return notify_result::failed(errc::forked_child);
    std::error_code ec;
    const int fd = socket_for_send(self, ec);
    if (fd < 0) return notify_result::failed(ec);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return notify_result::failed(last_error());
    static const char text[] = "BARRIER=1\n";
    iovec iov{const_cast<char *>(text), sizeof text - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_name = &sockaddr_;
    mh.msg_namelen = sockaddr_len_;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pipe_fds[1], sizeof(int));
    ssize_t n;
    do {
        n = ::sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    const std::error_code send_error = n < 0 ? last_error() : std::error_code{};
    ::close(pipe_fds[1]);  // the receiver holds the only other copy now
    if (n < 0) {
        ::close(pipe_fds[0]);
        return notify_result::failed(send_error);
    }
    // POLLHUP once every write end is closed.
    pollfd p{pipe_fds[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int rc;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        rc = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
        if (rc < 0 && errno == EINTR) continue;
        break;
    }
    ::close(pipe_fds[0]);
    if (rc > 0) return notify_result::sent();
    if (rc == 0) return notify_result::failed(std::make_error_code(std::errc::timed_out));
    return notify_result::failed(last_error());
}

int notifier::send_signal_safe(const char *data, std::size_t size) const noexcept {
    if (!configured_) return 0;
    if (address_error_) return -EINVAL;
    const int saved_errno = errno;  // a signal handler must leave errno as it found it
    const std::uint64_t current = socket_.load(std::memory_order_acquire);
    const int fd = packed_fd(current);
    int result = 1;
    if (fd < 0 || packed_pid(current) != ::getpid()) {
        result = -EBADF;
    } else {
        ssize_t n;
        do {
            n = ::sendto(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT,
                         reinterpret_cast<const sockaddr *>(&sockaddr_), sockaddr_len_);
        } while (n < 0 && errno == EINTR);
        if (n < 0) result = -errno;
    }
    errno = saved_errno;
    return result;
}

notify_result notifier::send_vsock(std::string_view datagram) noexcept {
    using vt = notify_address::vsock_type;
    const vt wanted = address_->type;
    const int order[] = {SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    std::error_code last;
    for (const int type : order) {
        if (wanted == vt::dgram && type != SOCK_DGRAM) continue;
        if (wanted == vt::seqpacket && type != SOCK_SEQPACKET) continue;
        if (wanted == vt::stream && type != SOCK_STREAM) continue;
        const int fd = ::socket(AF_VSOCK, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last = last_error();
            // As systemd's sd_notify() does: a transport without this socket type falls back to the
            // next.
            if (wanted == vt::any && (errno == ENODEV || errno == EPROTONOSUPPORT ||
                                      errno == ESOCKTNOSUPPORT || errno == EOPNOTSUPP))
                continue;
            return notify_result::failed(last);
        }
        // The host trusts a privileged source port as coming from root; sd_notify() binds one too.
        if (::geteuid() == 0) {
            for (unsigned port = 1023; port >= 512; --port) {
                sockaddr_vm local{};
                local.svm_family = AF_VSOCK;
                local.svm_cid = VMADDR_CID_ANY;
                local.svm_port = port;
                if (::bind(fd, reinterpret_cast<const sockaddr *>(&local), sizeof local) == 0 ||
                    errno != EADDRINUSE)
                    break;
            }
        }
        const auto *addr = reinterpret_cast<const sockaddr *>(&sockaddr_);
        ssize_t n = -1;
        if (type == SOCK_DGRAM) {
            n = ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL | MSG_DONTWAIT, addr,
                         sockaddr_len_);
        } else {
            int rc = ::connect(fd, addr, sockaddr_len_);
            if (rc < 0 && errno == EINPROGRESS) {
                pollfd p{fd, POLLOUT, 0};
                rc = ::poll(&p, 1, static_cast<int>(options_.vsock_connect_timeout.count()));
                int so_error = 0;
                socklen_t len = sizeof so_error;
                if (rc == 0) {
                    errno = ETIMEDOUT;
                    rc = -1;
                } else if (rc > 0) {
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
                    if (so_error != 0) {
                        errno = so_error;
                        rc = -1;
                    } else {
                        rc = 0;
                    }
                }
            }
            if (rc == 0) {
                n = ::send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n >= 0) ::shutdown(fd, SHUT_WR);
            }
        }
        if (n < 0) last = last_error();
        ::close(fd);
        if (n < 0) {
            if (wanted == vt::any && type == SOCK_DGRAM &&
                (last.value() == ENODEV || last.value() == EOPNOTSUPP))
                continue;
            return notify_result::failed(last);
        }
        if (static_cast<std::size_t>(n) != datagram.size())
            return notify_result::failed(errc::short_write);
        return notify_result::sent();
    }
    return notify_result::failed(last ? last : std::make_error_code(std::errc::not_supported));
}

namespace {
template <typename Build>
notify_result send_built(notifier &n, Build &&build) noexcept {
    if (!n.enabled()) return notify_result::no_manager();  // skip building outside systemd
    try {
        message m;
        build(m);
        return n.send(m);
    } catch (const std::bad_alloc &) {
        return notify_result::failed(std::make_error_code(std::errc::not_enough_memory));
    }
}
void with_status(message &m, std::string_view status_text) {
    if (!status_text.empty()) m.status(status_text);
}
}  // namespace

notify_result notifier::ready(std::string_view status_text) noexcept {
    return send_built(*this, [&](message &m) { with_status(m.ready(), status_text); });
}

notify_result notifier::status(std::string_view text) noexcept {
    return send_built(*this, [&](message &m) { m.status(text); });
}

notify_result notifier::stopping(std::string_view status_text) noexcept {
    return send_built(*this, [&](message &m) { with_status(m.stopping(), status_text); });
}

notify_result notifier::reloading(std::string_view status_text) noexcept {
    return send_built(*this, [&](message &m) { with_status(m.reloading(), status_text); });
}

notify_result notifier::watchdog() noexcept {
    return send_built(*this, [](message &m) { m.watchdog(); });
}

namespace {
// The default notifier, made once under the mutex with the options set before (if any).
struct default_notifier_state {
    std::mutex mutex;
    std::atomic<notifier *> instance{nullptr};
    notifier_options options;
};
default_notifier_state &default_state() {
    // Never destroyed: a dispatcher thread or a signal handler may still use it during exit.
    static auto *state = new default_notifier_state();
    return *state;
}
}  // namespace

notifier &default_notifier() {
    auto &s = default_state();
    if (notifier *n = s.instance.load(std::memory_order_acquire)) return *n;
    std::lock_guard<std::mutex> lock(s.mutex);
    notifier *n = s.instance.load(std::memory_order_relaxed);
    if (n == nullptr) {
        n = new notifier(s.options);  // never destroyed, as above
        s.instance.store(n, std::memory_order_release);
    }
    return *n;
}

bool set_default_notifier_options(notifier_options options) {
    auto &s = default_state();
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.instance.load(std::memory_order_relaxed) == nullptr) {
            s.options = options;
            return true;
        }
    }
    static constexpr char line[] =
        "spdlog_sdnotify: error: set_default_notifier_options() called after the default "
        "notifier was made; call it first in main()\n";
    std::fputs(line, stderr);
    return false;
}

notify_result notify(const message &msg) noexcept { return default_notifier().send(msg); }

std::optional<std::chrono::microseconds> watchdog_enabled(bool unset_environment) {
    const char *usec_env = getenv(watchdog_usec_env);
    const char *pid_env = getenv(watchdog_pid_env);
    std::optional<std::chrono::microseconds> result;
    if (usec_env != nullptr) {
        std::uint64_t usec = 0;
        // 0 and "infinity" (UINT64_MAX) mean no watchdog, as in sd_watchdog_enabled().
        const bool usable = details::parse_unsigned(usec_env, usec) && usec > 0 &&
                            usec < static_cast<std::uint64_t>(INT64_MAX);
        bool ours = true;
        if (pid_env != nullptr) {
            std::uint32_t pid = 0;
            ours = details::parse_unsigned(pid_env, pid) && static_cast<pid_t>(pid) == ::getpid();
        }
        if (usable && ours) result = std::chrono::microseconds(static_cast<std::int64_t>(usec));
    }
    if (unset_environment) {
        unsetenv(watchdog_usec_env);
        unsetenv(watchdog_pid_env);
    }
    return result;
}

bool booted() noexcept { return ::access("/run/systemd/system/", F_OK) == 0; }

}  // namespace spdlog_sdnotify
