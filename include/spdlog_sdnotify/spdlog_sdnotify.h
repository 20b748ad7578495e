// Copyright (c) 2026 spdlog_sdnotify authors.
// Distributed under the MIT License (http://opensource.org/licenses/MIT)
#pragma once

// Everything a service uses, in one include:
//
//     #include <spdlog_sdnotify/spdlog_sdnotify.h>
//     spdlog_sdnotify::service notify(config);   // status sink + lifecycle on every logger
#include <spdlog_sdnotify/dispatcher.h>
#include <spdlog_sdnotify/error.h>
#include <spdlog_sdnotify/lifecycle.h>
#include <spdlog_sdnotify/message.h>
#include <spdlog_sdnotify/notifier.h>
#include <spdlog_sdnotify/service.h>
#include <spdlog_sdnotify/status_sink.h>
#include <spdlog_sdnotify/version.h>
