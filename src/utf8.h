// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

#include <cstddef>

namespace spdlog_sdnotify {
namespace details {

// Mirrors systemd's unichar_is_valid() (src/basic/utf8.c): utf8_is_valid() refuses these too.
inline bool systemd_valid_code_point(char32_t cp) noexcept {
    if (cp >= 0x110000) return false;
    if ((cp & 0xFFFFF800U) == 0xD800) return false;  // UTF-16 surrogates
    if (cp >= 0xFDD0 && cp <= 0xFDEF) return false;  // noncharacters
    if ((cp & 0xFFFEU) == 0xFFFE) return false;      // U+xFFFE, U+xFFFF
    return true;
}

// Length of the valid UTF-8 sequence at p (and its code point), or 0 if the byte at p does not
// start one. Overlong forms are invalid, as in systemd's utf8_encoded_valid_unichar().
inline std::size_t decode_utf8(const unsigned char *p, std::size_t n, char32_t &cp) noexcept {
    const unsigned char b = p[0];
    std::size_t len;
    if (b < 0x80) {
        cp = b;
        return 1;
    } else if ((b & 0xE0) == 0xC0) {
        len = 2;
        cp = b & 0x1FU;
    } else if ((b & 0xF0) == 0xE0) {
        len = 3;
        cp = b & 0x0FU;
    } else if ((b & 0xF8) == 0xF0) {
        len = 4;
        cp = b & 0x07U;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (std::size_t i = 1; i < len; ++i) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3FU);
    }
    const std::size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (shortest != len || !systemd_valid_code_point(cp)) return 0;
    return len;
}

}  // namespace details
}  // namespace spdlog_sdnotify
