// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/error.h>

#include <string>

namespace spdlog_sdnotify {
namespace {

// The text of each errc, in the order of its declaration in error.h.
const char *message_of(errc e) noexcept {
    switch (e) {
        case errc::bad_address:
            return "notify socket address is not /path, @abstract or vsock:CID:PORT";
        case errc::address_too_long:
            return "notify socket path is longer than sockaddr_un allows";
        case errc::forked_child:
            return "sending from a forked child is disabled";
        case errc::message_too_large:
            return "notify message exceeds 4096 bytes";
        case errc::invalid_key:
            return "invalid notify assignment key";
        case errc::invalid_value:
            return "raw notify value contains LF, CR or NUL";
        case errc::empty_message:
            return "empty notify message";
        case errc::short_write:
            return "notify datagram was sent short";
        case errc::callback_failed:
            return "a user callback threw an exception";
        case errc::wiring:
            return "the lifecycle's wiring does not do what it was set up for";
        case errc::fd_number_address:
            return "NOTIFY_SOCKET is a file descriptor number (finit 4.4-4.12), not a socket "
                   "address: unsupported";
    }
    return "unknown spdlog_sdnotify error";
}

class error_category_impl final : public std::error_category {
public:
    const char *name() const noexcept override { return "spdlog_sdnotify"; }
    std::string message(int value) const override { return message_of(static_cast<errc>(value)); }
};

}  // namespace

const std::error_category &error_category() noexcept {
    static const error_category_impl category;
    return category;
}

}  // namespace spdlog_sdnotify
