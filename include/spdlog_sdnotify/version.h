// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The one place the version is defined; CMakeLists.txt reads these three lines.
#define SPDLOG_SDNOTIFY_VER_MAJOR 0
#define SPDLOG_SDNOTIFY_VER_MINOR 2
#define SPDLOG_SDNOTIFY_VER_PATCH 0

#define SPDLOG_SDNOTIFY_TO_VERSION(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))
#define SPDLOG_SDNOTIFY_VERSION                                                      \
    SPDLOG_SDNOTIFY_TO_VERSION(SPDLOG_SDNOTIFY_VER_MAJOR, SPDLOG_SDNOTIFY_VER_MINOR, \
                               SPDLOG_SDNOTIFY_VER_PATCH)
