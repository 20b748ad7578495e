// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/notifier.h>

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "controls.h"
#include "parse.h"

namespace spdlog_sdnotify {

// What NOTIFY_SOCKET names, as systemd reads it.

std::optional<notify_address> notify_address::parse(std::string_view text, std::error_code &ec) {
    ec.clear();
    notify_address a;
    constexpr std::size_t sun_path_size = sizeof(sockaddr_un::sun_path);
    if (text.find('\0') != std::string_view::npos) {
        ec = errc::bad_address;
        return std::nullopt;
    }
    // finit 4.4-4.12 passed the notify socket as an inherited descriptor and put its number in
    // NOTIFY_SOCKET ("3"), and counted any message ending in LF as READY. We do not write to an
    // inherited descriptor: say so distinctly, rather than the generic bad_address, so that the
    // operator sees why nothing arrives. (The control treats the number as a relative path, as
    // a client that takes "anything but @" for a path would, and sends to ./3.)
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
        if (details::controls_off().fd_number_address) {
            a.family = family_type::path;
            a.name = std::string(text);
            return a;
        }
        ec = errc::fd_number_address;
        return std::nullopt;
    }
    if (!text.empty() && text.front() == '/') {
        // A path needs its terminating NUL inside sun_path.
        if (text.size() >= sun_path_size) {
            ec = errc::address_too_long;
            return std::nullopt;
        }
        a.family = family_type::path;
        a.name = std::string(text);
        return a;
    }
    if (!text.empty() && text.front() == '@') {
        if (text.size() == 1) {
            ec = errc::bad_address;
            return std::nullopt;
        }
        if (text.size() > sun_path_size) {  // the leading NUL takes the '@''s place
            ec = errc::address_too_long;
            return std::nullopt;
        }
        a.family = family_type::abstract;
        a.name = std::string(text.substr(1));
        return a;
    }
    struct prefix {
        std::string_view text;
        vsock_type type;
    };
    constexpr prefix prefixes[] = {{"vsock:", vsock_type::any},
                                   {"vsock-stream:", vsock_type::stream},
                                   {"vsock-dgram:", vsock_type::dgram},
                                   {"vsock-seqpacket:", vsock_type::seqpacket}};
    for (const auto &p : prefixes) {
        if (text.substr(0, p.text.size()) != p.text) continue;
        const auto rest = text.substr(p.text.size());
        const auto colon = rest.find(':');
        // The CID is mandatory: systemd's sd_notify() refuses VMADDR_CID_ANY for sd_notify.
        if (colon == std::string_view::npos ||
            !details::parse_unsigned(rest.substr(0, colon), a.cid) ||
            !details::parse_unsigned(rest.substr(colon + 1), a.port) || a.cid == VMADDR_CID_ANY) {
            ec = errc::bad_address;
            return std::nullopt;
        }
        a.family = family_type::vsock;
        a.type = p.type;
        return a;
    }
    ec = errc::bad_address;
    return std::nullopt;
}

std::string notify_address::to_string() const {
    switch (family) {
        case family_type::path:
            return name;
        case family_type::abstract:
            return "@" + name;
        case family_type::vsock:
            break;
    }
    const char *scheme = type == vsock_type::stream      ? "vsock-stream:"
                         : type == vsock_type::dgram     ? "vsock-dgram:"
                         : type == vsock_type::seqpacket ? "vsock-seqpacket:"
                                                         : "vsock:";
    return scheme + std::to_string(cid) + ":" + std::to_string(port);
}

}  // namespace spdlog_sdnotify
