// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// What the lifecycle says: the READY, RELOADING, STOPPING and failure messages, and the
// datagrams its signal handlers send (prepared without allocating).

#include <spdlog_sdnotify/message.h>

#include <spdlog/details/log_msg.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace spdlog_sdnotify {
namespace details {

namespace lifecycle_messages {

inline message ready(std::string_view text, bool with_watchdog) {
    message m;
    m.ready();
    if (!text.empty()) m.status(text);
    if (with_watchdog) m.watchdog();  // the first ping goes with READY
    return m;
}

inline message reloading(std::string_view text) {
    message m;
    m.reloading();
    if (!text.empty()) m.status(text);
    return m;
}

inline message stopping(std::string_view text) {
    message m;
    m.stopping();
    if (!text.empty()) m.status(text);
    return m;
}

// The record's text as STATUS, with ERRNO when `errno_of` knows it.
inline message failure(const spdlog::details::log_msg &msg,
                       const std::function<int(const spdlog::details::log_msg &)> &errno_of) {
    message m;
    m.status(std::string_view(msg.payload.data(), msg.payload.size()));
    if (errno_of) {
        if (const int e = errno_of(msg); e > 0) m.errno_value(e);
    }
    return m;
}

}  // namespace lifecycle_messages

// The lifecycle messages a signal handler sends, prepared without allocating.
enum class signal_message : unsigned char { stop_term, stop_int, reloading, ready_after_hup };

// Writes the datagram for `kind` into `buf` (at least 128 bytes); returns its length.
// Async-signal-safe.
std::size_t build_signal_datagram(signal_message kind, std::uint64_t monotonic_usec,
                                  char *buf) noexcept;
// The same datagram as a message.
message make_signal_message(signal_message kind, std::uint64_t monotonic_usec);

}  // namespace details
}  // namespace spdlog_sdnotify
