// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "wakeup.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace spdlog_sdnotify {
namespace details {

wakeup::wakeup(std::atomic<bool> &idle) noexcept
    : idle_(idle), efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

wakeup::~wakeup() {
    if (efd_ >= 0) ::close(efd_);
}

void wakeup::wake() noexcept {
    if (efd_ < 0) return;
    const int saved = errno;
    const std::uint64_t one = 1;
    ssize_t n;
    do {
        n = ::write(efd_, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    errno = saved;
}

void wakeup::wait(std::chrono::steady_clock::time_point until) noexcept {
    int timeout = -1;
    if (until != std::chrono::steady_clock::time_point::max()) {
        const auto left = until - std::chrono::steady_clock::now();
        timeout =
            left.count() <= 0
                ? 0
                : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    pollfd p{efd_, POLLIN, 0};
    if (::poll(&p, 1, timeout) > 0) {
        std::uint64_t count;
        while (::read(efd_, &count, sizeof count) > 0) {
        }
    }
}

}  // namespace details
}  // namespace spdlog_sdnotify
