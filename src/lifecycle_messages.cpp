// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include "lifecycle_messages.h"

#include <charconv>
#include <chrono>
#include <cstring>

namespace spdlog_sdnotify {
namespace details {

std::size_t build_signal_datagram(signal_message kind, std::uint64_t monotonic_usec,
                                  char *buf) noexcept {
    // Datagrams are sent by length: nothing here is NUL-terminated.
    auto put = [&buf](std::size_t at, std::string_view text) {
        std::memcpy(buf + at, text.data(), text.size());
        return at + text.size();
    };
    switch (kind) {
        case signal_message::stop_term:
            return put(0, "STOPPING=1\nSTATUS=stopping (SIGTERM)\n");
        case signal_message::stop_int:
            return put(0, "STOPPING=1\nSTATUS=stopping (SIGINT)\n");
        case signal_message::ready_after_hup:
            return put(0, "READY=1\nSTATUS=reloaded\n");
        case signal_message::reloading: {
            // RELOADING=1 with MONOTONIC_USEC in one datagram, as Type=notify-reload needs.
            std::size_t n = put(0, "RELOADING=1\nMONOTONIC_USEC=");
            n = static_cast<std::size_t>(std::to_chars(buf + n, buf + n + 24, monotonic_usec).ptr -
                                         buf);
            return put(n, "\nSTATUS=reloading (SIGHUP)\n");
        }
    }
    return 0;
}

message make_signal_message(signal_message kind, std::uint64_t monotonic_usec) {
    message m;
    switch (kind) {
        case signal_message::stop_term:
            m.stopping().status("stopping (SIGTERM)");
            break;
        case signal_message::stop_int:
            m.stopping().status("stopping (SIGINT)");
            break;
        case signal_message::ready_after_hup:
            m.ready().status("reloaded");
            break;
        case signal_message::reloading:
            m.reloading(std::chrono::microseconds(monotonic_usec)).status("reloading (SIGHUP)");
            break;
    }
    return m;
}

}  // namespace details
}  // namespace spdlog_sdnotify
