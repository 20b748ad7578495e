// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <spdlog_sdnotify/export.h>

#include <string>
#include <system_error>

namespace spdlog_sdnotify {

/**
 * Failures of our own, beside the errno values (std::system_category) a send can report.
 *
 *     if (r.error() == spdlog_sdnotify::errc::forked_child) { ... }
 */
enum class errc {
    bad_address = 1,   // NOTIFY_SOCKET (or the given address) is not /path, @name or vsock:CID:PORT
    address_too_long,  // the path does not fit in sockaddr_un::sun_path
    forked_child,      // a forked child tried to send and allow_forked_child is off
    message_too_large,  // the assignments other than STATUS alone exceed 4096 bytes
    invalid_key,        // a key is not [A-Z][A-Z0-9_]* (custom keys must also start with X_)
    invalid_value,      // a raw assignment holds LF, CR or NUL and would inject assignments
    empty_message,      // nothing to send
    short_write,        // the kernel accepted fewer bytes than the datagram holds
    callback_failed,    // a user callback (filter, formatter, redaction) threw
    wiring,             // the set-up does not do what it says (a replaced handler, a logger
                        // without the lifecycle's sink, a rule that never matched)
    fd_number_address,  // NOTIFY_SOCKET is a bare file descriptor number (finit 4.4-4.12 put
                        // e.g. "3" there): not a socket address, unsupported
};

/** The category of errc values; its message() is a readable sentence for logs (src/error.cpp,
 * one per enumerator above). */
SPDLOG_SDNOTIFY_API const std::error_category &error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

}  // namespace spdlog_sdnotify

namespace std {
template <>
struct is_error_code_enum<spdlog_sdnotify::errc> : true_type {};
}  // namespace std
