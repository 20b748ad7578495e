// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// The library is compiled with hidden visibility (-fvisibility=hidden): what a program may call
// is marked with SPDLOG_SDNOTIFY_API, as spdlog marks its own with SPDLOG_API. A static build
// ignores it.
#define SPDLOG_SDNOTIFY_API __attribute__((visibility("default")))
