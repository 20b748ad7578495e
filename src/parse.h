// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <charconv>
#include <string_view>

namespace spdlog_sdnotify {
namespace details {

// A whole string of decimal digits (no sign, no space, nothing after) that fits in T.
template <typename T>
bool parse_unsigned(std::string_view s, T &out) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace details
}  // namespace spdlog_sdnotify
