// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/message.h>

#include <time.h>

#include <cstdint>

#include "utf8.h"

#include <algorithm>

namespace spdlog_sdnotify {
namespace {

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

// Calls emit(std::string_view piece_on_the_wire, std::string_view piece_as_stored) for each code
// point of `text` after sanitising; `escape` doubles backslashes in the wire piece.
template <typename Emit>
void for_each_sanitized(std::string_view text, Emit &&emit) {
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        char32_t cp = 0;
        const std::size_t len = details::decode_utf8(p + i, n - i, cp);
        if (len == 0) {
            if (!emit(replacement_char, replacement_char)) return;
            ++i;
            continue;
        }
        bool more;
        if (cp == 0) {
            more = true;  // NUL: PID 1 drops a whole datagram holding one, so drop the byte
        } else if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) {
            // LF and CR end an assignment in PID 1's parser; the other C0/C1 controls would
            // reach the operator's terminal through `systemctl status`.
            more = emit(" ", " ");
        } else if (cp == '\\') {
            more = emit("\\\\", "\\");
        } else {
            const std::string_view piece(text.data() + i, len);
            more = emit(piece, piece);
        }
        if (!more) return;
        i += len;
    }
}

std::uint64_t monotonic_usec() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

}  // namespace

std::string sanitize_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_sanitized(text, [&](std::string_view, std::string_view stored) {
        out.append(stored);
        return true;
    });
    return out;
}

namespace details {
// Appends `text`, sanitised as sanitize_text() does and with every backslash doubled (PID 1
// unescapes), using at most `max_bytes` bytes of `out`. A text that does not fit is cut on a
// code point boundary and ends with truncation_marker. Returns false when the text was cut.
bool append_escaped(std::string &out, std::string_view text, std::size_t max_bytes) {
    const std::size_t limit = out.size() + max_bytes;
    // The last code point boundary that still leaves room for the marker.
    std::size_t marker_cut = out.size();
    bool cut = false;
    for_each_sanitized(text, [&](std::string_view wire, std::string_view) {
        if (out.size() + wire.size() > limit) {
            cut = true;
            return false;
        }
        out.append(wire);
        if (out.size() + truncation_marker.size() <= limit) marker_cut = out.size();
        return true;
    });
    if (!cut) return true;
    out.resize(marker_cut);
    if (out.size() + truncation_marker.size() <= limit) out.append(truncation_marker);
    return false;
}
}  // namespace details

bool valid_key(std::string_view key) noexcept {
    if (key.empty() || key.front() < 'A' || key.front() > 'Z') return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

message &message::set(std::string_view key, std::string value) {
    for (auto &field : fields_) {
        if (field.first == key) {
            field.second = std::move(value);
            return *this;
        }
    }
    fields_.emplace_back(std::string(key), std::move(value));
    return *this;
}

void message::fail(std::error_code ec) noexcept {
    if (!error_) error_ = ec;
}

message &message::ready() { return set("READY", "1"); }

message &message::reloading() {
    return reloading(std::chrono::microseconds(static_cast<std::int64_t>(monotonic_usec())));
}

message &message::reloading(std::chrono::microseconds monotonic) {
    set("RELOADING", "1");
    return set("MONOTONIC_USEC", std::to_string(monotonic.count()));
}

message &message::stopping() { return set("STOPPING", "1"); }

message &message::status(std::string_view text) {
    status_.assign(text.data(), text.size());
    has_status_ = true;
    return *this;
}

message &message::errno_value(int error_number) {
    return set("ERRNO", std::to_string(error_number));
}

message &message::bus_error(std::string_view name) {
    std::string value;
    details::append_escaped(value, name, max_datagram_size);
    return set("BUSERROR", std::move(value));
}

message &message::exit_status(int status) { return set("EXIT_STATUS", std::to_string(status)); }

message &message::main_pid(pid_t pid) { return set("MAINPID", std::to_string(pid)); }

message &message::watchdog() { return set("WATCHDOG", "1"); }

message &message::watchdog_trigger() { return set("WATCHDOG", "trigger"); }

message &message::watchdog_usec(std::chrono::microseconds interval) {
    return set("WATCHDOG_USEC", std::to_string(interval.count()));
}

message &message::extend_timeout(std::chrono::microseconds extra) {
    return set("EXTEND_TIMEOUT_USEC", std::to_string(extra.count()));
}

message &message::custom(std::string_view key, std::string_view value) {
    if (!valid_key(key) || key.substr(0, 2) != "X_") {
        fail(errc::invalid_key);
        return *this;
    }
    std::string escaped;
    details::append_escaped(escaped, value, max_datagram_size);
    return set(key, std::move(escaped));
}

message &message::raw(std::string_view assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string_view::npos || !valid_key(assignment.substr(0, eq))) {
        fail(errc::invalid_key);
        return *this;
    }
    const auto value = assignment.substr(eq + 1);
    if (value.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos) {
        fail(errc::invalid_value);
        return *this;
    }
    return set(assignment.substr(0, eq), std::string(value));
}

message &message::erase(std::string_view key) {
    if (key == "STATUS") {
        has_status_ = false;
        status_.clear();
        return *this;
    }
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const auto &field) { return field.first == key; }),
                  fields_.end());
    return *this;
}

bool message::has(std::string_view key) const noexcept {
    if (key == "STATUS") return has_status_;
    return std::any_of(fields_.begin(), fields_.end(),
                       [&](const auto &field) { return field.first == key; });
}

std::error_code message::build(std::string &out) const {
    out.clear();
    if (error_) return error_;
    if (empty()) return errc::empty_message;
    // READY first: runc counts a datagram as ready only if it starts with READY=, finit reads
    // 31 bytes, crun 255; PID 1 does not mind the order.
    for (const auto &field : fields_) {
        if (field.first == "READY")
            out.append(field.first).append(1, '=').append(field.second).append(1, '\n');
    }
    for (const auto &field : fields_) {
        if (field.first != "READY")
            out.append(field.first).append(1, '=').append(field.second).append(1, '\n');
    }
    constexpr std::string_view status_key = "STATUS=";
    if (has_status_) {
        // STATUS goes last and takes what is left, so it can never crowd out READY/STOPPING.
        if (out.size() + status_key.size() + 1 > max_datagram_size) {
            out.clear();
            return errc::message_too_large;
        }
        out.append(status_key);
        const std::size_t budget = max_datagram_size - out.size() - 1;
        if (!details::append_escaped(out, status_, budget) && budget < truncation_marker.size()) {
            // No room even for the marker: a silently emptied STATUS would mislead.
            out.clear();
            return errc::message_too_large;
        }
        out.append(1, '\n');
    }
    if (out.size() > max_datagram_size) {
        out.clear();
        return errc::message_too_large;
    }
    return {};
}

std::string message::str() const {
    std::string out;
    build(out);
    return out;
}

}  // namespace spdlog_sdnotify
