// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// Negative controls. The tests build the library a second time with
// SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS defined (tests/CMakeLists.txt, control.* tests); there a
// protection named in the environment variable SPDLOG_SDNOTIFY_CONTROL_OFF is switched off, so
// that the test which claims it can be shown to fail without it. In the library itself every
// check is a constant false and compiles away.
#if defined(SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS)
#include <cstdlib>
#include <cstring>
#endif

namespace spdlog_sdnotify::details {

#if defined(SPDLOG_SDNOTIFY_NEGATIVE_CONTROLS)
inline bool control_off(const char *protection) noexcept {
    const char *off = std::getenv("SPDLOG_SDNOTIFY_CONTROL_OFF");
    return off != nullptr && std::strcmp(off, protection) == 0;
}
#else
constexpr bool control_off(const char *) noexcept { return false; }
#endif

}  // namespace spdlog_sdnotify::details
