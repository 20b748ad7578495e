// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/receiver.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>

#include "parse.h"
#include "utf8.h"

namespace spdlog_sdnotify {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool systemd_utf8_valid(std::string_view text) noexcept {
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const std::size_t len = details::decode_utf8(p + i, text.size() - i, cp);
        if (len == 0 || cp == 0) return false;
        i += len;
    }
    return true;
}

std::optional<std::string_view> parsed_notification::find(std::string_view key) const noexcept {
    for (const auto &a : assignments) {
        if (a.size() > key.size() && a[key.size()] == '=' && starts_with(a, key))
            return std::string_view(a).substr(key.size() + 1);
    }
    return std::nullopt;
}

parsed_notification parse_notification(std::string_view datagram, bool truncated) {
    parsed_notification p;
    // manager_dispatch_notify_fd(): the buffer is NOTIFY_BUFFER_MAX + 1, so 4096 bytes pass.
    if (truncated || datagram.size() > max_datagram_size) {
        p.drop_reason = "Received notify message exceeded maximum size. Ignoring.";
        return p;
    }
    if (!datagram.empty() && datagram.back() == '\0') datagram.remove_suffix(1);
    if (datagram.find('\0') != std::string_view::npos) {
        p.drop_reason = "Received notify message with embedded NUL bytes. Ignoring.";
        return p;
    }
    // strv_split_newlines_full(flags=0) -> extract_first_word(separators "\n\r", flags 0):
    // separators end a word and runs of them are skipped; a backslash keeps the next byte
    // whatever it is (so "\x" gives "x"); a backslash at the very end fails the whole split.
    std::string word;
    bool in_word = false;
    bool escape_warned = false;
    for (std::size_t i = 0; i < datagram.size(); ++i) {
        const char c = datagram[i];
        if (c == '\\') {
            if (i + 1 == datagram.size()) {
                p.assignments.clear();
                p.drop_reason = "Out of memory.";  // systemd 252 logs -EINVAL this way
                return p;
            }
            const char next = datagram[++i];
            if (next != '\\' && !escape_warned) {
                p.warnings.push_back(std::string("backslash before '") + next +
                                     "' is removed by PID 1 (double every backslash)");
                escape_warned = true;
            }
            word.push_back(next);
            in_word = true;
        } else if (c == '\n' || c == '\r') {
            if (in_word) p.assignments.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) p.assignments.push_back(std::move(word));
    p.accepted = true;

    int statuses = 0;
    for (const auto &a : p.assignments) {
        if (starts_with(a, "STATUS=")) ++statuses;
    }
    if (statuses > 1)
        p.warnings.emplace_back("several STATUS= in one datagram: only the first counts");
    if (const auto status = p.find("STATUS")) {
        if (!systemd_utf8_valid(*status))
            p.warnings.emplace_back(
                "Status message in notification message is not UTF-8 clean, ignoring.");
    }
    return p;
}

const char *service_model::active_state() const noexcept {
    switch (state_) {
        case state::activating:
            return "activating";
        case state::active:
            return "active";
        case state::reloading:
            return "reloading";
        case state::deactivating:
            return "deactivating";
    }
    return "unknown";
}

bool service_model::apply(const parsed_notification &message) {
    if (!message.accepted) return false;
    auto value = [&](std::string_view key) { return message.find(key); };
    // service_notify_message(): STOPPING wins over READY and RELOADING in the same message, and
    // nothing brings a stopping service back.
    if (value("STOPPING") == std::string_view("1")) {
        ++stopping_count_;
        state_ = state::deactivating;
    } else if (value("RELOADING") == std::string_view("1")) {
        ++reloading_count_;
        if (!value("MONOTONIC_USEC"))
            warnings_.emplace_back("RELOADING=1 without MONOTONIC_USEC=: Type=notify-reload hangs");
        if (state_ == state::active) state_ = state::reloading;
    } else if (value("READY") == std::string_view("1")) {
        ++ready_count_;
        if (state_ == state::deactivating)
            warnings_.emplace_back("READY=1 after STOPPING=1 is ignored");
        else
            state_ = state::active;
    }
    if (auto status = value("STATUS")) {
        // An invalid text clears the stored status (systemd 252, checked on a real PID 1).
        status_text_ = systemd_utf8_valid(*status) ? std::string(*status) : std::string();
    }
    if (auto e = value("ERRNO")) {
        std::uint64_t v = 0;
        if (details::parse_unsigned(*e, v) && v <= 4095) status_errno_ = static_cast<int>(v);
    }
    if (auto w = value("WATCHDOG")) {
        if (*w == "1") ++watchdog_pings_;
        if (*w == "trigger") watchdog_triggered_ = true;
    }
    if (auto w = value("WATCHDOG_USEC")) {
        std::uint64_t v = 0;
        if (details::parse_unsigned(*w, v)) watchdog_usec_ = v;
    }
    if (auto x = value("EXTEND_TIMEOUT_USEC")) {
        std::uint64_t v = 0;
        if (details::parse_unsigned(*x, v)) extend_timeout_ = v;
    }
    return true;
}

notify_receiver::notify_receiver(std::string address, std::error_code &ec)
    : address_(std::move(address)) {
    ec.clear();
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    const bool abstract = !address_.empty() && address_.front() == '@';
    if (address_.empty() || address_.size() >= sizeof un.sun_path) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return;
    }
    memcpy(un.sun_path, address_.data(), address_.size());
    if (abstract) un.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                            (abstract ? 0 : 1));
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
        ec = {errno, std::system_category()};
        return;
    }
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    if (!abstract) ::unlink(address_.c_str());
    if (::bind(fd_, reinterpret_cast<const sockaddr *>(&un), len) < 0) {
        ec = {errno, std::system_category()};
        ::close(fd_);
        fd_ = -1;
    }
}

notify_receiver::~notify_receiver() {
    if (fd_ < 0) return;
    ::close(fd_);
    if (address_.front() != '@') ::unlink(address_.c_str());
}

std::optional<notify_receiver::datagram> notify_receiver::receive(
    std::chrono::milliseconds timeout) {
    if (fd_ < 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) return std::nullopt;

    char buffer[max_datagram_size + 1];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{buffer, sizeof buffer};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) return std::nullopt;
    datagram d;
    d.truncated =
        (mh.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) > max_datagram_size;
    d.bytes.assign(buffer, std::min(static_cast<std::size_t>(n), sizeof buffer));
    for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            ucred cred{};
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            d.sender_pid = cred.pid;
        }
    }
    return d;
}

}  // namespace spdlog_sdnotify
