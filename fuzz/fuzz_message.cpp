// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// libFuzzer target: the sanitiser and message builder. The first byte picks what to build
// (READY, STOPPING, a custom value); the rest is the STATUS text. Every datagram must pass
// PID 1's parser with nothing injected and the text intact (or cut with the marker).
#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/receiver.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool clean_value(std::string_view v) {
    return v.find_first_of(std::string_view("\n\r\0", 3)) == std::string_view::npos &&
           spdlog_sdnotify::systemd_utf8_valid(v);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    const bool ready = flags & 1, stopping = flags & 2, custom = flags & 4, reloading = flags & 8;

    spdlog_sdnotify::message m;
    if (ready) m.ready();
    if (stopping) m.stopping();
    if (reloading) m.reloading(std::chrono::microseconds(42));
    if (custom) m.custom("X_FUZZ", text.substr(0, text.size() / 2));
    m.status(text);
    std::string datagram;
    if (const auto ec = m.build(datagram)) {
        // Only a custom value can be too large: STATUS is shortened, never refused.
        check(custom && ec == spdlog_sdnotify::errc::message_too_large, "any STATUS builds");
        check(datagram.empty(), "nothing half-built");
        return 0;
    }
    check(datagram.size() <= spdlog_sdnotify::max_datagram_size, "datagram <= 4096 bytes");

    const auto parsed = spdlog_sdnotify::parse_notification(datagram);
    check(parsed.accepted, "PID 1 accepts every datagram");
    check(parsed.find("READY").has_value() == ready, "READY present exactly when asked");
    check(parsed.find("STOPPING").has_value() == stopping, "STOPPING present exactly when asked");
    check(parsed.find("RELOADING").has_value() == reloading, "RELOADING exactly when asked");
    std::size_t expected =
        1 + (ready ? 1 : 0) + (stopping ? 1 : 0) + (custom ? 1 : 0) + (reloading ? 2 : 0);
    check(parsed.assignments.size() == expected, "nothing injected: one line per assignment");

    const auto status = parsed.find("STATUS");
    check(status.has_value(), "STATUS present");
    check(clean_value(*status), "STATUS is valid UTF-8 without LF, CR or NUL");
    const std::string sanitized = spdlog_sdnotify::sanitize_text(text);
    if (*status != sanitized) {
        const auto marker = spdlog_sdnotify::truncation_marker;
        check(status->size() >= marker.size() &&
                  status->substr(status->size() - marker.size()) == marker,
              "a STATUS that differs from the sanitised text was cut and marked");
        const auto kept = status->substr(0, status->size() - marker.size());
        check(std::string_view(sanitized).substr(0, kept.size()) == kept,
              "a cut STATUS is a prefix of the sanitised text");
    }
    if (custom) {
        const auto value = parsed.find("X_FUZZ");
        check(value && clean_value(*value), "custom value clean");
        check(*value == spdlog_sdnotify::sanitize_text(text.substr(0, text.size() / 2)) ||
                  text.size() / 2 > 4000,
              "custom value round-trips");
    }
    spdlog_sdnotify::service_model model;
    model.apply(parsed);
    check(model.status_text() == *status, "StatusText is the parsed STATUS");
    check(model.stopping_count() == (stopping ? 1U : 0U), "no injected STOPPING");
    return 0;
}
