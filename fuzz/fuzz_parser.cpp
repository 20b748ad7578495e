// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)

// libFuzzer target: the PID-1-like parser and service model (shared by the tests and
// sdnotify-watch) on arbitrary datagrams: no crash, and its verdicts follow PID 1's rules.
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/receiver.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {
void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view d(reinterpret_cast<const char *>(data), size);
    const auto p = spdlog_sdnotify::parse_notification(d);
    std::string_view body = d;
    if (!body.empty() && body.back() == '\0') body.remove_suffix(1);
    if (size > spdlog_sdnotify::max_datagram_size) check(!p.accepted, "oversize is dropped");
    if (body.find('\0') != std::string_view::npos) check(!p.accepted, "embedded NUL is dropped");
    if (p.accepted) {
        check(p.drop_reason.empty(), "accepted without a drop reason");
        std::size_t bytes = 0;
        for (const auto &a : p.assignments) {
            check(!a.empty(), "no empty assignment");
            bytes += a.size();
        }
        check(bytes <= size, "unescaping never grows the text");
    } else {
        check(!p.drop_reason.empty(), "a dropped datagram says why");
    }
    spdlog_sdnotify::service_model model;
    check(model.apply(p) == p.accepted, "the model applies exactly what was accepted");
    if (p.accepted && p.find("STATUS")) {
        const bool valid = spdlog_sdnotify::systemd_utf8_valid(*p.find("STATUS"));
        check(model.status_text() == (valid ? *p.find("STATUS") : std::string_view()),
              "invalid UTF-8 clears StatusText");
    }
    return 0;
}
